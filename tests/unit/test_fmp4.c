/* fMP4/CMAF: init segment box trees and golden boxes (ftyp, mdhd, esds,
 * dOps, vpcC), fragments (trun counts, durations, flags, signed composition
 * offsets, data_offset landing on the first sample byte), audio frame
 * durations, the box reader on malformed input, and a real H.264 + AAC
 * stream (tests/data/flv_h264_aac_640x360.flv) muxed to fMP4 whose size and
 * checksum were pinned after `ffprobe -count_frames` read it back as
 * h264 High 640x360, 25 frames, 1.000000 s, and aac LC 44100 Hz mono, 45
 * frames, 1.044898 s, both decoding to the same MD5 as the FLV source. Set
 * FMP4_DUMP=/path to write that file again for such a check. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format/flv.h"
#include "format/fmp4.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

/* avcC of flv_h264_aac_640x360.flv (High 3.0, 640x360). */
static const uint8_t avcc[] = {
    0x01, 0x64, 0x00, 0x1e, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40,
    0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32,
    0x0f, 0x16, 0x2d, 0x96, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe0, 0xa4, 0xb2, 0x2c,
};
/* AudioSpecificConfig of the same file: AAC-LC 44100 Hz mono. */
static const uint8_t asc_lc[] = {0x12, 0x08, 0x56, 0xe5, 0x00};

/* ---- helpers ---- */

static void make_track(struct track *t, enum codec c, const void *cfg, size_t len)
{
	memset(t, 0, sizeof(*t));
	t->type = codec_type(c);
	t->codec = c;
	t->config = cfg ? wbuf_from(cfg, len) : NULL;
}

/* The idx-th box of `type` among the boxes in p[0..len). */
static struct mp4_box nth(const uint8_t *p, size_t len, uint32_t type, unsigned idx)
{
	struct mp4_box b;
	while (len) {
		assert_int_equal(mp4_box_read(p, len, &b), 0);
		if (b.type == type && idx-- == 0)
			return b;
		p += b.size;
		len -= (size_t)b.size;
	}
	fail_msg("box %08x not found", type);
	return b;
}

static struct mp4_box find(const struct mp4_box *in, const char *path)
{
	struct mp4_box b;
	assert_int_equal(mp4_box_find(in->payload, in->payload_len, path, &b), 0);
	return b;
}

static struct mp4_box find_top(const struct bytes *b, const char *path)
{
	struct mp4_box r;
	assert_int_equal(mp4_box_find(b->data, b->len, path, &r), 0);
	return r;
}

static uint64_t fnv1a(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* A traf read back, sample fields resolved through the tfhd defaults. */
struct traf_info {
	uint32_t tfhd_flags, track_id, trun_flags;
	unsigned trun_version;
	uint64_t base;
	uint32_t count;
	int32_t data_offset;
	uint32_t dur[64], size[64], flags[64];
	int32_t cto[64];
};

static void parse_traf(const struct mp4_box *traf, struct traf_info *ti)
{
	memset(ti, 0, sizeof(*ti));
	struct mp4_box tfhd = find(traf, "tfhd"), tfdt = find(traf, "tfdt"),
		       trun = find(traf, "trun");
	const uint8_t *p = tfhd.payload;
	ti->tfhd_flags = rd_be24(p + 1);
	ti->track_id = rd_be32(p + 4);
	uint32_t def_flags = 0;
	assert_int_equal(ti->tfhd_flags & ~0x020020u, 0); /* only what we write */
	if (ti->tfhd_flags & 0x20) {
		assert_int_equal(tfhd.payload_len, 12);
		def_flags = rd_be32(p + 8);
	} else {
		assert_int_equal(tfhd.payload_len, 8);
	}
	assert_int_equal(tfdt.payload[0], 1);
	assert_int_equal(tfdt.payload_len, 12);
	ti->base = (uint64_t)rd_be32(tfdt.payload + 4) << 32 | rd_be32(tfdt.payload + 8);
	p = trun.payload;
	ti->trun_version = p[0];
	ti->trun_flags = rd_be24(p + 1);
	ti->count = rd_be32(p + 4);
	assert_true(ti->count <= 64);
	size_t pos = 8;
	assert_true(ti->trun_flags & 1);
	ti->data_offset = (int32_t)rd_be32(p + pos);
	pos += 4;
	uint32_t first = def_flags;
	if (ti->trun_flags & 4) {
		first = rd_be32(p + pos);
		pos += 4;
	}
	for (uint32_t i = 0; i < ti->count; i++) {
		assert_true(ti->trun_flags & 0x100 && ti->trun_flags & 0x200);
		ti->dur[i] = rd_be32(p + pos);
		ti->size[i] = rd_be32(p + pos + 4);
		pos += 8;
		ti->flags[i] = i == 0 ? first : def_flags;
		if (ti->trun_flags & 0x400) {
			ti->flags[i] = rd_be32(p + pos);
			pos += 4;
		}
		if (ti->trun_flags & 0x800) {
			ti->cto[i] = (int32_t)rd_be32(p + pos);
			pos += 4;
		}
	}
	assert_int_equal(pos, trun.payload_len);
}

/* Parses a whole fragment (moof + mdat) at p and checks that every sample
 * lies at data_offset + the sizes before it inside the mdat. */
static size_t parse_fragment(const uint8_t *p, size_t len, uint32_t *seq, struct traf_info *ti,
			     const struct fmp4_sample *in)
{
	struct mp4_box moof, mdat;
	assert_int_equal(mp4_box_read(p, len, &moof), 0);
	assert_int_equal(moof.type, FOURCC('m', 'o', 'o', 'f'));
	assert_int_equal(mp4_box_read(p + moof.size, len - moof.size, &mdat), 0);
	assert_int_equal(mdat.type, FOURCC('m', 'd', 'a', 't'));
	struct mp4_box mfhd = find(&moof, "mfhd"), traf = find(&moof, "traf");
	*seq = rd_be32(mfhd.payload + 4);
	parse_traf(&traf, ti);
	assert_int_equal(ti->data_offset, moof.size + mdat.header);
	size_t off = (size_t)ti->data_offset, total = 0;
	for (uint32_t i = 0; i < ti->count; i++) {
		if (in) {
			assert_int_equal(ti->size[i], in[i].f->len);
			assert_memory_equal(p + off, in[i].f->data, in[i].f->len);
		}
		off += ti->size[i];
		total += ti->size[i];
	}
	assert_int_equal(total, mdat.payload_len);
	return (size_t)(moof.size + mdat.size);
}

/* ---- tests ---- */

static void test_timescale(void **state)
{
	(void)state;
	struct track t;
	make_track(&t, CODEC_H264, NULL, 0);
	assert_int_equal(fmp4_timescale(&t), 90000);
	make_track(&t, CODEC_AAC, NULL, 0);
	t.rate = 44100;
	assert_int_equal(fmp4_timescale(&t), 44100);
	make_track(&t, CODEC_OPUS, NULL, 0);
	t.rate = 44100; /* the input rate of OpusHead: Opus always runs at 48k */
	assert_int_equal(fmp4_timescale(&t), 48000);
}

static void check_trak_common(const struct mp4_box *trak, unsigned id, uint32_t timescale,
			      const char *lang, uint32_t handler)
{
	struct mp4_box tkhd = find(trak, "tkhd"), mdhd = find(trak, "mdia/mdhd");
	assert_int_equal(rd_be24(tkhd.payload + 1), 3); /* enabled | in_movie */
	assert_int_equal(rd_be32(tkhd.payload + 12), id);
	assert_int_equal(rd_be32(mdhd.payload + 12), timescale);
	uint16_t l = rd_be16(mdhd.payload + 20);
	char got[4] = {(char)((l >> 10 & 31) + 0x60), (char)((l >> 5 & 31) + 0x60),
		       (char)((l & 31) + 0x60), 0};
	assert_string_equal(got, lang);
	struct mp4_box hdlr = find(trak, "mdia/hdlr");
	assert_int_equal(rd_be32(hdlr.payload + 8), handler);
	struct mp4_box url = find(trak, "mdia/minf/dinf/dref/url ");
	assert_int_equal(rd_be32(url.payload), 1); /* self-contained */
	static const char *const empty[] = {"mdia/minf/stbl/stts", "mdia/minf/stbl/stsc",
					    "mdia/minf/stbl/stco"};
	for (int i = 0; i < 3; i++)
		assert_int_equal(rd_be32(find(trak, empty[i]).payload + 4), 0);
	struct mp4_box stsz = find(trak, "mdia/minf/stbl/stsz");
	assert_int_equal(stsz.payload_len, 12);
	assert_int_equal(rd_be32(find(trak, "mdia/minf/stbl/stsd").payload + 4), 1);
}

static void test_init_avc_aac(void **state)
{
	(void)state;
	struct track v, a;
	make_track(&v, CODEC_H264, avcc, sizeof(avcc)); /* size from the SPS */
	make_track(&a, CODEC_AAC, asc_lc, sizeof(asc_lc));
	a.rate = 44100;
	a.channels = 1;
	a.bitrate_bps = 48000;
	memcpy(a.lang, "eng", 4);
	const struct track *tr[2] = {&v, &a};
	struct bytes b = {0};
	bytes_append(&b, "x", 1); /* fmp4_init appends */
	assert_int_equal(fmp4_init(tr, 2, &b), 0);
	static const uint8_t ftyp[] = {0,   0,   0,   0x1c, 'f', 't', 'y', 'p', 'i', 's',
				       'o', '6', 0,   0,    0,   0,   'i', 's', 'o', '6',
				       'c', 'm', 'f', 'c',  'm', 'p', '4', '1'};
	assert_memory_equal(b.data + 1, ftyp, sizeof(ftyp));
	struct bytes seg = {.data = b.data + 1, .len = b.len - 1};
	struct mp4_box moov = nth(seg.data, seg.len, FOURCC('m', 'o', 'o', 'v'), 0);
	assert_int_equal(sizeof(ftyp) + moov.size, seg.len);
	struct mp4_box mvhd = find(&moov, "mvhd");
	assert_int_equal(rd_be32(mvhd.payload + 12), 1000);
	assert_int_equal(rd_be32(mvhd.payload + 16), 0);
	assert_int_equal(rd_be32(mvhd.payload + 96), 3); /* next_track_ID */

	struct mp4_box vt = nth(moov.payload, moov.payload_len, FOURCC('t', 'r', 'a', 'k'), 0);
	check_trak_common(&vt, 1, 90000, "und", FOURCC('v', 'i', 'd', 'e'));
	struct mp4_box tkhd = find(&vt, "tkhd");
	assert_int_equal(rd_be16(tkhd.payload + 36), 0); /* volume */
	assert_int_equal(rd_be32(tkhd.payload + 76), 640 << 16);
	assert_int_equal(rd_be32(tkhd.payload + 80), 360 << 16);
	find(&vt, "mdia/minf/vmhd");
	struct mp4_box avc1 = find_top(&seg, "moov/trak/mdia/minf/stbl/stsd/avc1");
	assert_int_equal(avc1.payload_len, 78 + 8 + sizeof(avcc));
	assert_int_equal(rd_be16(avc1.payload + 6), 1); /* data_reference_index */
	assert_int_equal(rd_be16(avc1.payload + 24), 640);
	assert_int_equal(rd_be16(avc1.payload + 26), 360);
	struct mp4_box cfg = find_top(&seg, "moov/trak/mdia/minf/stbl/stsd/avc1/avcC");
	assert_int_equal(cfg.payload_len, sizeof(avcc));
	assert_memory_equal(cfg.payload, avcc, sizeof(avcc));

	struct mp4_box at = nth(moov.payload, moov.payload_len, FOURCC('t', 'r', 'a', 'k'), 1);
	check_trak_common(&at, 2, 44100, "eng", FOURCC('s', 'o', 'u', 'n'));
	assert_int_equal(rd_be16(find(&at, "tkhd").payload + 36), 0x0100);
	find(&at, "mdia/minf/smhd");
	/* The depth-first search skips the video trak that has no smhd. */
	find_top(&seg, "moov/trak/mdia/minf/smhd");
	struct mp4_box mp4a = find(&at, "mdia/minf/stbl/stsd/mp4a");
	assert_int_equal(rd_be16(mp4a.payload + 16), 1);  /* channelcount */
	assert_int_equal(rd_be16(mp4a.payload + 18), 16); /* samplesize */
	assert_int_equal(rd_be32(mp4a.payload + 24), 44100u << 16);
	struct mp4_box esds = find(&at, "mdia/minf/stbl/stsd/mp4a/esds");
	static const uint8_t esds_golden[] = {
	    0,    0,    0,    0,                      /* version, flags */
	    0x03, 0x1c, 0x00, 0x00, 0x00,             /* ES_Descriptor, ES_ID 0 */
	    0x04, 0x14, 0x40, 0x15,                   /* DecoderConfig: AAC, audio stream */
	    0x00, 0x00, 0x00,                         /* bufferSizeDB */
	    0x00, 0x00, 0xbb, 0x80,                   /* maxBitrate */
	    0x00, 0x00, 0xbb, 0x80,                   /* avgBitrate */
	    0x05, 0x05, 0x12, 0x08, 0x56, 0xe5, 0x00, /* DecSpecificInfo = ASC */
	    0x06, 0x01, 0x02,                         /* SLConfig predefined 2 */
	};
	assert_int_equal(esds.payload_len, sizeof(esds_golden));
	assert_memory_equal(esds.payload, esds_golden, sizeof(esds_golden));

	for (unsigned i = 0; i < 2; i++) {
		struct mp4_box mvex = find(&moov, "mvex");
		struct mp4_box trex =
		    nth(mvex.payload, mvex.payload_len, FOURCC('t', 'r', 'e', 'x'), i);
		assert_int_equal(trex.payload_len, 24);
		assert_int_equal(rd_be32(trex.payload + 4), i + 1);
		assert_int_equal(rd_be32(trex.payload + 8), 1);
	}
	bytes_free(&b);
	track_clear(&v);
	track_clear(&a);
}

/* The codec config box of a single-track init segment for t. */
static struct mp4_box entry_config(const struct track *t, struct bytes *b, const char *path)
{
	bytes_reset(b);
	assert_int_equal(fmp4_init(&t, 1, b), 0);
	return find_top(b, path);
}

static void test_init_video_entries(void **state)
{
	(void)state;
	struct bytes b = {0};
	struct track t;
	const uint8_t hvcc[] = {0x01, 0x01, 0x60, 0,    0,    0,    0x90, 0, 0, 0,    0, 0,
				0x5d, 0xf0, 0,    0xfc, 0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 0};
	make_track(&t, CODEC_H265, hvcc, sizeof(hvcc));
	t.width = 1920;
	t.height = 1080;
	struct mp4_box c = entry_config(&t, &b, "moov/trak/mdia/minf/stbl/stsd/hvc1/hvcC");
	assert_memory_equal(c.payload, hvcc, sizeof(hvcc));
	assert_int_equal(rd_be16(find_top(&b, "moov/trak/mdia/minf/stbl/stsd/hvc1").payload + 24),
			 1920);
	track_clear(&t);

	const uint8_t av1c[] = {0x81, 0x08, 0x0c, 0x00};
	make_track(&t, CODEC_AV1, av1c, sizeof(av1c));
	c = entry_config(&t, &b, "moov/trak/mdia/minf/stbl/stsd/av01/av1C");
	assert_int_equal(c.payload_len, 4);
	assert_memory_equal(c.payload, av1c, 4);
	track_clear(&t);
	make_track(&t, CODEC_AV1, NULL, 0); /* RTMP AV1 without sequence start */
	t.level = 8;
	c = entry_config(&t, &b, "moov/trak/mdia/minf/stbl/stsd/av01/av1C");
	assert_memory_equal(c.payload, av1c, 4);
	track_clear(&t);

	/* vpcC v1: record as-is, record with version/flags, made up. */
	const uint8_t rec[] = {0x00, 0x1f, 0x82, 0x01, 0x01, 0x01, 0x00, 0x00};
	const uint8_t with_vf[] = {1, 0, 0, 0, 0x00, 0x1f, 0x82, 0x01, 0x01, 0x01, 0x00, 0x00};
	const uint8_t *cfgs[2] = {rec, with_vf};
	size_t lens[2] = {sizeof(rec), sizeof(with_vf)};
	for (int i = 0; i < 2; i++) {
		make_track(&t, CODEC_VP9, cfgs[i], lens[i]);
		c = entry_config(&t, &b, "moov/trak/mdia/minf/stbl/stsd/vp09/vpcC");
		assert_int_equal(c.payload_len, 4 + sizeof(rec));
		assert_memory_equal(c.payload, with_vf, sizeof(with_vf));
		track_clear(&t);
	}
	make_track(&t, CODEC_VP9, NULL, 0);
	t.width = 1280;
	t.height = 720;
	c = entry_config(&t, &b, "moov/trak/mdia/minf/stbl/stsd/vp09/vpcC");
	const uint8_t made[] = {1, 0, 0, 0, 0, 31, 0x82, 2, 2, 2, 0, 0};
	assert_int_equal(c.payload_len, sizeof(made));
	assert_memory_equal(c.payload, made, sizeof(made));
	t.profile = 2; /* 10-bit */
	t.width = 3840;
	t.height = 2160;
	c = entry_config(&t, &b, "moov/trak/mdia/minf/stbl/stsd/vp09/vpcC");
	assert_int_equal(c.payload[4], 2);
	assert_int_equal(c.payload[5], 50);
	assert_int_equal(c.payload[6], 0xa2);
	track_clear(&t);
	bytes_free(&b);
}

static void test_init_audio_entries(void **state)
{
	(void)state;
	struct bytes b = {0};
	struct track t;
	const uint8_t head[] = {'O',  'p',  'u',  's',  'H', 'e', 'a',  'd',  1, 2,
				0x38, 0x01, 0x80, 0xbb, 0,   0,   0xfe, 0xff, 0};
	make_track(&t, CODEC_OPUS, head, sizeof(head));
	struct mp4_box c = entry_config(&t, &b, "moov/trak/mdia/minf/stbl/stsd/Opus/dOps");
	const uint8_t dops[] = {0, 2, 0x01, 0x38, 0, 0, 0xbb, 0x80, 0xff, 0xfe, 0};
	assert_int_equal(c.payload_len, sizeof(dops));
	assert_memory_equal(c.payload, dops, sizeof(dops));
	struct mp4_box opus = find_top(&b, "moov/trak/mdia/minf/stbl/stsd/Opus");
	assert_int_equal(rd_be16(opus.payload + 16), 2);
	assert_int_equal(rd_be32(opus.payload + 24), 48000u << 16);
	track_clear(&t);
	/* Mapping family 1, 3 channels: stream/coupled counts and mapping. */
	const uint8_t head3[] = {'O',  'p',  'u', 's', 'H', 'e', 'a', 'd', 1, 3, 0, 0,
				 0x80, 0xbb, 0,   0,   0,   0,   1,   2,   1, 0, 2, 1};
	make_track(&t, CODEC_OPUS, head3, sizeof(head3));
	c = entry_config(&t, &b, "moov/trak/mdia/minf/stbl/stsd/Opus/dOps");
	const uint8_t dops3[] = {0, 3, 0, 0, 0, 0, 0xbb, 0x80, 0, 0, 1, 2, 1, 0, 2, 1};
	assert_int_equal(c.payload_len, sizeof(dops3));
	assert_memory_equal(c.payload, dops3, sizeof(dops3));
	track_clear(&t);
	make_track(&t, CODEC_OPUS, head3, sizeof(head3) - 1); /* mapping cut short */
	const struct track *tp = &t;
	assert_int_equal(fmp4_init(&tp, 1, &b), -EINVAL);
	track_clear(&t);

	/* MP3: mp4a with OTI 0x6B and no DecSpecificInfo. */
	make_track(&t, CODEC_MP3, NULL, 0);
	t.rate = 22050;
	t.channels = 1;
	c = entry_config(&t, &b, "moov/trak/mdia/minf/stbl/stsd/mp4a/esds");
	const uint8_t esds[] = {
	    0,    0,    0,    0,                                     /* version, flags */
	    0x03, 0x15, 0,    0,    0,                               /* ES_Descriptor */
	    0x04, 0x0d, 0x6b, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* MPEG-1 audio */
	    0x06, 0x01, 0x02,
	};
	assert_int_equal(c.payload_len, sizeof(esds));
	assert_memory_equal(c.payload, esds, sizeof(esds));
	struct mp4_box mp4a = find_top(&b, "moov/trak/mdia/minf/stbl/stsd/mp4a");
	assert_int_equal(rd_be32(mp4a.payload + 24), 22050u << 16);
	assert_int_equal(rd_be32(find_top(&b, "moov/trak/mdia/mdhd").payload + 12), 22050);
	track_clear(&t);

	/* AAC without config: an LC ASC made from rate and channels. */
	make_track(&t, CODEC_AAC, NULL, 0);
	t.rate = 48000;
	t.channels = 2;
	c = entry_config(&t, &b, "moov/trak/mdia/minf/stbl/stsd/mp4a/esds");
	assert_int_equal(c.payload[c.payload_len - 5], 0x11);
	assert_int_equal(c.payload[c.payload_len - 4], 0x90);
	track_clear(&t);

	/* A long ASC needs a two-byte descriptor size. */
	uint8_t big[200];
	memset(big, 0, sizeof(big));
	memcpy(big, asc_lc, 2);
	make_track(&t, CODEC_AAC, big, sizeof(big));
	c = entry_config(&t, &b, "moov/trak/mdia/minf/stbl/stsd/mp4a/esds");
	assert_memory_equal(c.payload + 4, "\x03\x81\x61", 3);  /* 3+3+216+3 = 225 */
	assert_memory_equal(c.payload + 10, "\x04\x81\x58", 3); /* 13+3+200 = 216 */
	assert_memory_equal(c.payload + 26, "\x05\x81\x48", 3); /* 200 */
	track_clear(&t);
	bytes_free(&b);
}

static void test_init_errors(void **state)
{
	(void)state;
	struct bytes b = {0};
	struct track v, a;
	make_track(&v, CODEC_VP8, NULL, 0);
	make_track(&a, CODEC_AAC, asc_lc, sizeof(asc_lc));
	const struct track *tr[2] = {&a, &v};
	bytes_append(&b, "keep", 4);
	assert_int_equal(fmp4_init(tr, 2, &b), -ENOTSUP);
	assert_int_equal(b.len, 4); /* nothing appended on failure */
	assert_string_equal((char *)b.data, "keep");
	track_clear(&v);
	make_track(&v, CODEC_H264, NULL, 0); /* no SPS/PPS anywhere */
	assert_int_equal(fmp4_init(tr, 2, &b), -EINVAL);
	tr[1] = NULL;
	assert_int_equal(fmp4_init(tr, 2, &b), -EINVAL);
	assert_int_equal(fmp4_init(tr, 0, &b), -EINVAL);
	make_track(&v, CODEC_NONE, NULL, 0);
	tr[1] = &v;
	assert_int_equal(fmp4_init(tr, 2, &b), -ENOTSUP);
	assert_int_equal(b.len, 4);
	track_clear(&a);
	bytes_free(&b);
}

static struct frame *vframe(int64_t dts_ms, int64_t pts_ms, unsigned flags, size_t len,
			    uint8_t fill)
{
	struct frame *f = frame_new(0, dts_ms * 1000, pts_ms * 1000, flags, NULL, len);
	assert_non_null(f);
	memset(f->data, fill, len);
	return f;
}

static void test_fragment_gop(void **state)
{
	(void)state;
	struct fmp4_sample s[4];
	for (unsigned i = 0; i < 4; i++) {
		s[i].f = vframe(40 * i, 40 * i, i == 0 ? FRAME_KEY : 0, 100 + i, (uint8_t)(i + 1));
		s[i].duration = 3600 + i; /* odd durations: the sum must still add up */
	}
	struct bytes b = {0};
	bytes_append(&b, "abc", 3);
	assert_int_equal(fmp4_fragment(7, 1, 123456789012ull, s, 4, &b), 0);
	uint32_t seq;
	struct traf_info ti;
	size_t used = parse_fragment(b.data + 3, b.len - 3, &seq, &ti, s);
	assert_int_equal(used, b.len - 3);
	assert_int_equal(seq, 7);
	assert_int_equal(ti.track_id, 1);
	assert_int_equal(ti.tfhd_flags, 0x020020);
	assert_int_equal(ti.base, 123456789012ull);
	assert_int_equal(ti.count, 4);
	assert_int_equal(ti.trun_version, 0); /* no composition offsets */
	assert_int_equal(ti.trun_flags, 0x000305);
	uint32_t sum = 0;
	for (unsigned i = 0; i < 4; i++)
		sum += ti.dur[i];
	assert_int_equal(sum, 4 * 3600 + 6);
	assert_int_equal(ti.flags[0], 0x02000000);
	for (unsigned i = 1; i < 4; i++)
		assert_int_equal(ti.flags[i], 0x01010000);
	/* moof(8) mfhd(16) traf(8) tfhd(20) tfdt(20) trun(12+4+4+4+4*8) = 128. */
	assert_int_equal(ti.data_offset, 128 + 8);
	assert_int_equal(b.data[3 + ti.data_offset], 1); /* first byte of sample 0 */
	for (unsigned i = 0; i < 4; i++)
		frame_unref((struct frame *)s[i].f);
	bytes_free(&b);
}

static void test_fragment_bframes(void **state)
{
	(void)state;
	/* Decode order I P B B, with pts shifted so the first sample has a
	 * negative offset, and a discardable B: per-sample flags. */
	const int64_t dts[5] = {0, 40, 80, 120, 160}, pts[5] = {-40, 120, 40, 80, 200};
	const unsigned fl[5] = {FRAME_KEY, 0, FRAME_DISCARDABLE, 0, FRAME_KEY};
	const int32_t want_cto[5] = {-3600, 7200, -3600, -3600, 3600};
	const uint32_t want_flags[5] = {0x02000000, 0x01010000, 0x01810000, 0x01010000, 0x02000000};
	struct fmp4_sample s[5];
	for (unsigned i = 0; i < 5; i++) {
		s[i].f = vframe(dts[i], pts[i], fl[i], 10 * (i + 1), (uint8_t)(0xa0 + i));
		s[i].duration = 3600;
	}
	struct bytes b = {0};
	assert_int_equal(fmp4_fragment(1, 3, 0, s, 5, &b), 0);
	uint32_t seq;
	struct traf_info ti;
	assert_int_equal(parse_fragment(b.data, b.len, &seq, &ti, s), b.len);
	assert_int_equal(ti.trun_version, 1);
	assert_int_equal(ti.trun_flags, 0x000f01);
	assert_int_equal(ti.tfhd_flags, 0x020000);
	assert_int_equal(ti.track_id, 3);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(ti.cto[i], want_cto[i]);
		assert_int_equal(ti.flags[i], want_flags[i]);
	}
	/* Sub-tick offsets round to the nearest 90 kHz tick. */
	for (unsigned i = 0; i < 5; i++)
		frame_unref((struct frame *)s[i].f);
	s[0].f = frame_new(0, 1000, 1000 + 33367, FRAME_KEY, "x", 1);
	s[1].f = frame_new(0, 1000, 1000 - 33367, 0, "y", 1);
	bytes_reset(&b);
	assert_int_equal(fmp4_fragment(2, 1, 0, s, 2, &b), 0);
	parse_fragment(b.data, b.len, &seq, &ti, s);
	assert_int_equal(ti.cto[0], 3003);
	assert_int_equal(ti.cto[1], -3003);
	frame_unref((struct frame *)s[0].f);
	frame_unref((struct frame *)s[1].f);
	bytes_free(&b);
}

static void test_fragment_audio(void **state)
{
	(void)state;
	struct track t;
	make_track(&t, CODEC_AAC, asc_lc, sizeof(asc_lc));
	t.rate = 44100;
	struct fmp4_sample s[10];
	uint64_t sum_in = 0;
	for (unsigned i = 0; i < 10; i++) {
		/* Timestamps in ms jitter; durations come from sample counts. */
		int64_t ms = (int64_t)i * 1024 * 1000 / 44100;
		s[i].f = frame_new(1, ms * 1000, ms * 1000, FRAME_KEY, NULL, 200 + i);
		memset(((struct frame *)s[i].f)->data, (int)i, 200 + i);
		s[i].duration = fmp4_audio_frame_samples(&t, s[i].f);
		sum_in += s[i].duration;
	}
	struct bytes b = {0};
	assert_int_equal(fmp4_fragment(9, 2, 44100, s, 10, &b), 0);
	uint32_t seq;
	struct traf_info ti;
	parse_fragment(b.data, b.len, &seq, &ti, s);
	uint64_t sum = 0;
	for (unsigned i = 0; i < ti.count; i++) {
		sum += ti.dur[i];
		assert_int_equal(ti.flags[i], 0x02000000);
	}
	assert_int_equal(sum, 10240);
	assert_int_equal(sum, sum_in);
	assert_int_equal(ti.tfhd_flags, 0x020020); /* all sync: one default */
	assert_int_equal(ti.trun_flags, 0x000301);
	assert_int_equal(ti.base, 44100);
	for (unsigned i = 0; i < 10; i++)
		frame_unref((struct frame *)s[i].f);
	bytes_free(&b);
	track_clear(&t);
}

static void test_fragment_errors(void **state)
{
	(void)state;
	struct bytes b = {0};
	struct fmp4_sample s[2] = {{.f = frame_new(0, 0, 0, FRAME_KEY, "a", 1), .duration = 1},
				   {.f = NULL, .duration = 1}};
	assert_int_equal(fmp4_fragment(1, 1, 0, s, 0, &b), -EINVAL);
	assert_int_equal(fmp4_fragment(1, 0, 0, s, 1, &b), -EINVAL);
	assert_int_equal(fmp4_fragment(1, 1, 0, s, 2, &b), -EINVAL);
	assert_int_equal(fmp4_fragment(1, 1, 0, NULL, 1, &b), -EINVAL);
	assert_int_equal(b.len, 0);
	/* Extreme timestamps clamp instead of overflowing. */
	struct frame *f = frame_new(0, INT64_MIN, INT64_MAX, 0, "b", 1);
	s[1].f = f;
	assert_int_equal(fmp4_fragment(1, 1, 0, s, 2, &b), 0);
	uint32_t seq;
	struct traf_info ti;
	parse_fragment(b.data, b.len, &seq, &ti, s);
	assert_int_equal(ti.cto[1], INT32_MAX);
	frame_unref((struct frame *)s[0].f);
	frame_unref(f);
	bytes_free(&b);
}

static uint32_t samples_of(const struct track *t, const void *data, size_t len)
{
	struct frame *f = frame_new(0, 0, 0, 0, data, len);
	uint32_t n = fmp4_audio_frame_samples(t, f);
	frame_unref(f);
	return n;
}

static void test_audio_frame_samples(void **state)
{
	(void)state;
	struct track t;
	make_track(&t, CODEC_AAC, NULL, 0);
	assert_int_equal(samples_of(&t, "x", 1), 1024);
	track_clear(&t);
	const uint8_t asc960[] = {0x12, 0x0c}; /* frameLengthFlag set */
	make_track(&t, CODEC_AAC, asc960, 2);
	assert_int_equal(samples_of(&t, "x", 1), 960);
	track_clear(&t);
	make_track(&t, CODEC_AAC, "\x00", 1); /* AOT 0: not derivable */
	assert_int_equal(samples_of(&t, "x", 1), 0);
	track_clear(&t);

	make_track(&t, CODEC_MP3, NULL, 0);
	assert_int_equal(samples_of(&t, "\xff\xfb\x90\x64", 4), 1152); /* MPEG-1 L3 */
	assert_int_equal(samples_of(&t, "\xff\xf3\x48\xc4", 4), 576);  /* MPEG-2 L3 */
	assert_int_equal(samples_of(&t, "\xff\xff\x90\x00", 4), 384);  /* MPEG-1 L1 */
	assert_int_equal(samples_of(&t, "\x00\x00\x00\x00", 4), 0);
	assert_int_equal(fmp4_audio_frame_samples(&t, NULL), 0);

	/* Opus TOC (RFC 6716 3.1): config << 3 | s << 2 | code. */
	make_track(&t, CODEC_OPUS, NULL, 0);
	static const struct {
		uint8_t toc[2];
		size_t len;
		uint32_t samples;
	} opus[] = {
	    {{0 << 3}, 1, 480},          {{1 << 3}, 1, 960},
	    {{2 << 3}, 1, 1920},         {{3 << 3}, 1, 2880},
	    {{11 << 3}, 1, 2880},        {{12 << 3}, 1, 480},
	    {{13 << 3}, 1, 960},         {{15 << 3}, 1, 960},
	    {{16 << 3}, 1, 120},         {{17 << 3}, 1, 240},
	    {{18 << 3}, 1, 480},         {{31 << 3 | 4}, 1, 960},
	    {{31 << 3 | 1}, 1, 1920},    {{16 << 3 | 2}, 1, 240},
	    {{19 << 3 | 3, 3}, 2, 2880}, {{3 << 3 | 3, 2}, 2, 5760},
	    {{3 << 3 | 3, 3}, 2, 0},     {{19 << 3 | 3, 0}, 2, 0},
	    {{19 << 3 | 3}, 1, 0},       {{19 << 3 | 3, 0x83}, 2, 2880},
	};
	for (size_t i = 0; i < sizeof(opus) / sizeof(opus[0]); i++)
		assert_int_equal(samples_of(&t, opus[i].toc, opus[i].len), opus[i].samples);
	assert_int_equal(samples_of(&t, NULL, 0), 0);
	make_track(&t, CODEC_VP9, NULL, 0);
	assert_int_equal(samples_of(&t, "x", 1), 0);
}

static void test_box_reader(void **state)
{
	(void)state;
	struct mp4_box b;
	const uint8_t small[] = {0, 0, 0, 7, 'f', 'r', 'e', 'e'};
	assert_int_equal(mp4_box_read(small, 8, &b), -EPROTO); /* size < header */
	const uint8_t trunc[] = {0, 0, 0, 9, 'f', 'r', 'e', 'e'};
	assert_int_equal(mp4_box_read(trunc, 8, &b), -EPROTO);
	assert_int_equal(mp4_box_read(trunc, 7, &b), -EPROTO);
	assert_int_equal(mp4_box_read(NULL, 0, &b), -EPROTO);
	const uint8_t large[] = {0, 0, 0, 1, 'm', 'd', 'a', 't',  0,
				 0, 0, 0, 0, 0,   0,   18,  0xaa, 0xbb};
	assert_int_equal(mp4_box_read(large, sizeof(large), &b), 0);
	assert_int_equal(b.type, FOURCC('m', 'd', 'a', 't'));
	assert_int_equal(b.header, 16);
	assert_int_equal(b.size, 18);
	assert_int_equal(b.payload_len, 2);
	assert_int_equal(b.payload[0], 0xaa);
	assert_int_equal(mp4_box_read(large, 15, &b), -EPROTO);
	const uint8_t huge[] = {0, 0, 0, 1, 'm', 'd', 'a', 't', 0xff, 0, 0, 0, 0, 0, 0, 0};
	assert_int_equal(mp4_box_read(huge, sizeof(huge), &b), -EPROTO);
	const uint8_t to_end[] = {0, 0, 0, 0, 'm', 'd', 'a', 't', 1, 2, 3};
	assert_int_equal(mp4_box_read(to_end, sizeof(to_end), &b), 0);
	assert_int_equal(b.size, 11);
	assert_int_equal(b.payload_len, 3);

	/* moov { trak { junk } , trak { mdia } } and broken trees. */
	const uint8_t tree[] = {0,   0,   0, 40, 'm', 'o', 'o', 'v', 0, 0,  0,   12,  't', 'r',
				'a', 'k', 1, 2,  3,   4,   0,   0,   0, 20, 't', 'r', 'a', 'k',
				0,   0,   0, 12, 'm', 'd', 'i', 'a', 9, 9,  9,   9};
	assert_int_equal(mp4_box_find(tree, sizeof(tree), "moov/trak/mdia", &b), 0);
	assert_int_equal(b.payload[0], 9);
	assert_int_equal(mp4_box_find(tree, sizeof(tree), "moov/trak/minf", &b), -EPROTO);
	assert_int_equal(mp4_box_find(tree, sizeof(tree), "moov/mvhd", &b), -ENOENT);
	assert_int_equal(mp4_box_find(tree, sizeof(tree), "moov", &b), 0);
	assert_int_equal(b.size, 40);
	assert_int_equal(mp4_box_find(tree, sizeof(tree), "moov/", &b), -ENOENT);
	assert_int_equal(mp4_box_find(tree, sizeof(tree), "moo", &b), -ENOENT);
	assert_int_equal(mp4_box_find(tree, sizeof(tree), "", &b), -ENOENT);
	assert_int_equal(mp4_box_find(tree, sizeof(tree), NULL, &b), -ENOENT);
	assert_int_equal(mp4_box_find(tree, sizeof(tree) - 1, "moov", &b), -EPROTO);
	/* A stsd too short for its entry count, a sample entry too short. */
	const uint8_t stsd[] = {0, 0, 0, 12, 's', 't', 's', 'd', 0, 0, 0, 0};
	assert_int_equal(mp4_box_find(stsd, sizeof(stsd), "stsd/avc1", &b), -EPROTO);
	const uint8_t mp4a[] = {0, 0, 0, 16, 'm', 'p', '4', 'a', 0, 0, 0, 0, 0, 0, 0, 1};
	assert_int_equal(mp4_box_find(mp4a, sizeof(mp4a), "mp4a/esds", &b), -EPROTO);
}

/* ---- real stream ---- */

struct stream {
	struct track video, audio;
	struct frame *vf[64], *af[64];
	unsigned nv, na;
};

static uint8_t *load(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", TEST_DATA_DIR, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *p = malloc((size_t)n);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void add_tag(struct stream *st, unsigned type, uint32_t ts_ms, const uint8_t *p, size_t n)
{
	struct flv_body b;
	if (type != FLV_TAG_VIDEO && type != FLV_TAG_AUDIO)
		return;
	bool video = type == FLV_TAG_VIDEO;
	assert_int_equal(video ? flv_parse_video(p, n, &b) : flv_parse_audio(p, n, &b), 0);
	struct track *t = video ? &st->video : &st->audio;
	if (b.kind == FLV_BODY_CONFIG)
		assert_int_equal(flv_track_from_config(t, b.codec, b.data, b.len), 0);
	if (b.kind != FLV_BODY_FRAME)
		return;
	int64_t dts = (int64_t)ts_ms * 1000, pts = dts + (int64_t)b.cts_ms * 1000;
	struct frame *f =
	    frame_new(video ? 0 : 1, dts, pts, (!video || b.key) ? FRAME_KEY : 0, b.data, b.len);
	if (video) {
		assert_true(st->nv < 64);
		st->vf[st->nv++] = f;
	} else {
		assert_true(st->na < 64);
		st->af[st->na++] = f;
	}
}

static void load_stream(struct stream *st)
{
	size_t len;
	uint8_t *p = load("flv_h264_aac_640x360.flv", &len);
	memset(st, 0, sizeof(*st));
	size_t pos = rd_be32(p + 5) + 4;
	while (pos + FLV_TAG_HEADER_LEN + 4 <= len) {
		const uint8_t *h = p + pos;
		uint32_t n = rd_be24(h + 1), ts = rd_be24(h + 4) | (uint32_t)h[7] << 24;
		assert_true(len - pos - FLV_TAG_HEADER_LEN - 4 >= n);
		add_tag(st, h[0], ts, h + FLV_TAG_HEADER_LEN, n);
		pos += FLV_TAG_HEADER_LEN + n + 4;
	}
	free(p);
}

/* Appends fragments of up to `per` frames; video durations from dts
 * differences (90 kHz), audio durations from sample counts. */
static void mux_chunk(struct bytes *out, const struct track *t, struct frame **fr, unsigned from,
		      unsigned n, unsigned total, uint32_t seq, uint64_t *audio_time)
{
	struct fmp4_sample s[32];
	uint64_t base = audio_time ? *audio_time : (uint64_t)(fr[from]->dts_us * 9 / 100);
	for (unsigned i = 0; i < n; i++) {
		unsigned k = from + i;
		s[i].f = fr[k];
		if (audio_time) {
			s[i].duration = fmp4_audio_frame_samples(t, fr[k]);
			*audio_time += s[i].duration;
		} else {
			unsigned a = k + 1 < total ? k : k - 1; /* last: repeat the previous */
			s[i].duration = (uint32_t)((fr[a + 1]->dts_us - fr[a]->dts_us) * 9 / 100);
		}
	}
	assert_int_equal(fmp4_fragment(seq, audio_time ? 2 : 1, base, s, n, out), 0);
}

static void test_real_stream(void **state)
{
	(void)state;
	struct stream st;
	load_stream(&st);
	assert_int_equal(st.nv, 25);
	assert_int_equal(st.na, 45);
	const struct track *tr[2] = {&st.video, &st.audio};
	struct bytes out = {0};
	assert_int_equal(fmp4_init(tr, 2, &out), 0);
	size_t init_len = out.len;
	uint64_t audio_time = 0;
	uint32_t seq = 1;
	for (unsigned v = 0, a = 0; v < st.nv || a < st.na;) {
		unsigned nv = st.nv - v < 10 ? st.nv - v : 10, na = st.na - a < 16 ? st.na - a : 16;
		if (nv)
			mux_chunk(&out, &st.video, st.vf, v, nv, st.nv, seq++, NULL);
		if (na)
			mux_chunk(&out, &st.audio, st.af, a, na, st.na, seq++, &audio_time);
		v += nv;
		a += na;
	}
	const char *dump = getenv("FMP4_DUMP");
	if (dump) {
		FILE *f = fopen(dump, "wb");
		assert_non_null(f);
		fwrite(out.data, 1, out.len, f);
		fclose(f);
	}
	/* Read every fragment back: counts and durations per track. */
	unsigned frames[3] = {0}, frag = 0;
	uint64_t dur[3] = {0};
	for (size_t pos = init_len; pos < out.len; frag++) {
		uint32_t s;
		struct traf_info ti;
		pos += parse_fragment(out.data + pos, out.len - pos, &s, &ti, NULL);
		assert_int_equal(s, frag + 1);
		assert_true(ti.track_id == 1 || ti.track_id == 2);
		assert_int_equal(ti.base, dur[ti.track_id]);
		frames[ti.track_id] += ti.count;
		for (unsigned i = 0; i < ti.count; i++)
			dur[ti.track_id] += ti.dur[i];
		if (ti.track_id == 1 && frag == 0)
			assert_int_equal(ti.flags[0], 0x02000000);
	}
	assert_int_equal(frag, 6);
	assert_int_equal(frames[1], 25);
	assert_int_equal(frames[2], 45);
	assert_int_equal(dur[1], 90000);     /* 1.000 s at 90 kHz */
	assert_int_equal(dur[2], 45 * 1024); /* 1.0449 s at 44.1 kHz */
	/* Pinned after ffprobe -count_frames read this output back (see top). */
	assert_int_equal(init_len, 1113);
	assert_int_equal(out.len, 32604);
	assert_int_equal(fnv1a(out.data, out.len), 0xaa75cec5db09bd6bull);
	for (unsigned i = 0; i < st.nv; i++)
		frame_unref(st.vf[i]);
	for (unsigned i = 0; i < st.na; i++)
		frame_unref(st.af[i]);
	track_clear(&st.video);
	track_clear(&st.audio);
	bytes_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timescale),          cmocka_unit_test(test_init_avc_aac),
	    cmocka_unit_test(test_init_video_entries), cmocka_unit_test(test_init_audio_entries),
	    cmocka_unit_test(test_init_errors),        cmocka_unit_test(test_fragment_gop),
	    cmocka_unit_test(test_fragment_bframes),   cmocka_unit_test(test_fragment_audio),
	    cmocka_unit_test(test_fragment_errors),    cmocka_unit_test(test_audio_frame_samples),
	    cmocka_unit_test(test_box_reader),         cmocka_unit_test(test_real_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
