/* MPEG-TS muxer/demuxer and ADTS headers.
 *
 * Golden files (ffmpeg 5.1, 1 s each, no ffmpeg at test time):
 *   ts_h264_aac.ts: -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine -t 1
 *                   -c:v libx264 -g 25 -c:a aac -f mpegts
 *   ts_h265_aac.ts: the same with -c:v libx265
 *   ts_mp3.ts:      -f lavfi -i sine -t 1 -c:a libmp3lame -b:a 64k -f mpegts
 *   ts_aac_latm.ts: -f lavfi -i sine -t 1 -c:a aac -mpegts_flags +latm -f mpegts
 *   ts_opus.ts:     -f lavfi -i sine -t 1 -c:a libopus -f mpegts
 * Frame counts are those ffprobe -count_packets reports for the files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format/adts.h"
#include "format/ts.h"
#include "media/annexb.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

/* avcC/hvcC ffmpeg writes for the golden files' video (see test_annexb.c). */
static const uint8_t ff_avcc[] = {
    0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x41,
    0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0x99,
    0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
};

static const uint8_t ff_hvcc[] = {
    0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3c, 0xf0, 0x00, 0xfc,
    0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x03, 0xa0, 0x00, 0x01, 0x00, 0x18, 0x40, 0x01, 0x0c, 0x01,
    0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00,
    0x3c, 0x95, 0x98, 0x09, 0xa1, 0x00, 0x01, 0x00, 0x2a, 0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00,
    0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3c, 0xa0, 0x0a, 0x08, 0x0f, 0x16,
    0x59, 0x59, 0xa4, 0x93, 0x2b, 0xc0, 0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03,
    0x00, 0x32, 0x10, 0xa2, 0x00, 0x01, 0x00, 0x07, 0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40,
};

/* AAC-LC 44.1 kHz mono (ffmpeg's "aac" on the sine source). */
static const uint8_t asc_44k_mono[] = {0x12, 0x08};
/* AAC-LC 48 kHz stereo. */
static const uint8_t asc_48k_stereo[] = {0x11, 0x90};
/* OpusHead, mono, family 0, pre-skip 0 (what a TS stream can say). */
static const uint8_t opus_head_mono[] = {'O', 'p', 'u',  's',  'H', 'e', 'a', 'd', 1, 1,
					 0,   0,   0x80, 0xbb, 0,   0,   0,   0,   0};
/* 5.1: family 1, 4 streams, 2 coupled, Vorbis order. */
static const uint8_t opus_head_51[] = {'O', 'p', 'u', 's',  'H',  'e', 'a', 'd', 1,
				       6,   0,   0,   0x80, 0xbb, 0,   0,   0,   0,
				       1,   4,   2,   0,    4,    1,   2,   3,   5};

/* ---------------- helpers ---------------- */

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

static void track_init(struct track *t, enum codec c, const uint8_t *cfg, size_t len)
{
	memset(t, 0, sizeof(*t));
	t->codec = c;
	t->type = codec_type(c);
	t->config = cfg ? wbuf_from(cfg, len) : NULL;
	if (t->type == TRACK_AUDIO) {
		t->rate = c == CODEC_OPUS ? 48000 : 44100;
		t->channels = 1;
	}
}

/* What a demux run produced. */
struct sink {
	struct track tracks[TS_MAX_TRACKS];
	unsigned track_calls[TS_MAX_TRACKS];
	struct frame **frames;
	size_t n, cap;
	int stop_rc; /* returned by on_frame when set */
};

static int sink_track(void *ctx, unsigned idx, const struct track *t)
{
	struct sink *s = ctx;
	assert_true(idx < TS_MAX_TRACKS);
	track_clear(&s->tracks[idx]);
	track_copy(&s->tracks[idx], t);
	s->track_calls[idx]++;
	return 0;
}

static int sink_frame(void *ctx, struct frame *f)
{
	struct sink *s = ctx;
	assert_true(f->track < TS_MAX_TRACKS);
	assert_true(s->track_calls[f->track] > 0); /* announced first */
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->frames = realloc(s->frames, s->cap * sizeof(*s->frames));
		assert_non_null(s->frames);
	}
	s->frames[s->n++] = f;
	return s->stop_rc;
}

static void sink_free(struct sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		frame_unref(s->frames[i]);
	free(s->frames);
	for (int i = 0; i < TS_MAX_TRACKS; i++)
		track_clear(&s->tracks[i]);
	memset(s, 0, sizeof(*s));
}

/* Demuxes p[0..len) fed in chunks of `chunk` bytes, then flushes. */
static void demux(struct sink *s, const uint8_t *p, size_t len, size_t chunk,
		  struct ts_demux_stats *st)
{
	struct ts_demux_cb cb = {.ctx = s, .on_track = sink_track, .on_frame = sink_frame};
	struct ts_demux *d = ts_demux_new(&cb);
	assert_non_null(d);
	for (size_t i = 0; i < len; i += chunk)
		assert_int_equal(ts_demux_feed(d, p + i, len - i < chunk ? len - i : chunk), 0);
	assert_int_equal(ts_demux_flush(d), 0);
	if (st)
		ts_demux_get_stats(d, st);
	ts_demux_free(d);
}

static size_t count_track(const struct sink *s, unsigned track)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += s->frames[i]->track == track;
	return n;
}

static uint16_t pkt_pid(const uint8_t *p)
{
	return (uint16_t)((p[1] & 0x1f) << 8 | p[2]);
}

/* MPEG-2 CRC-32 computed here independently: a section sums to 0. */
static uint32_t crc_mpeg2(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffff;
	while (len--) {
		c ^= (uint32_t)*p++ << 24;
		for (int k = 0; k < 8; k++)
			c = c & 0x80000000 ? c << 1 ^ 0x04c11db7 : c << 1;
	}
	return c;
}

/* A length-prefixed NAL unit with a deterministic body free of zero bytes
 * (so no start code can appear in it). */
static void put_nal(struct bytes *b, uint8_t header, size_t body, unsigned seed)
{
	bytes_put_be32(b, (uint32_t)(body + 1));
	bytes_put_u8(b, header);
	for (size_t i = 0; i < body; i++)
		bytes_put_u8(b, (uint8_t)((seed * 31 + i * 7) % 251 + 1));
}

static int64_t ticks_us(int64_t ticks)
{
	return (ticks * 100 + 4) / 9; /* exact for our 90 kHz values */
}

/* Synthetic stream: 50 H.264 frames at 25 fps with B-frame-like PTS
 * (keyframe every 25), AAC 48 kHz frames every 1920 ticks, interleaved by
 * DTS; sizes cover 1 packet, exact packet fills and many packets. */
static size_t make_frames(struct frame **out, size_t max, int64_t base_ticks)
{
	size_t n = 0;
	int64_t a = 0;
	for (int v = 0; v < 50; v++) {
		int64_t dts = base_ticks + v * 3600;
		while (base_ticks + a * 1920 <= dts && n < max) {
			uint8_t au[300];
			size_t len = 100 + (size_t)(a * 37 % 200);
			for (size_t i = 0; i < len; i++)
				au[i] = (uint8_t)(a + i);
			int64_t t = ticks_us(base_ticks + a * 1920);
			out[n++] = frame_new(1, t, t, FRAME_KEY, au, len);
			a++;
		}
		struct bytes b = {0};
		bool key = v % 25 == 0;
		put_nal(&b, 0x06, 20, (unsigned)v); /* SEI */
		put_nal(&b, key ? 0x65 : 0x41, (size_t)(key ? 3000 : 150 + v * 97), (unsigned)v);
		int64_t pts = dts + (v % 3 == 0 ? 7200 : 3600);
		assert_true(n < max);
		out[n++] =
		    frame_new(0, ticks_us(dts), ticks_us(pts), key ? FRAME_KEY : 0, b.data, b.len);
		bytes_free(&b);
	}
	return n;
}

static struct ts_mux *mux_h264_aac(struct track t[2])
{
	track_init(&t[0], CODEC_H264, ff_avcc, sizeof(ff_avcc));
	track_init(&t[1], CODEC_AAC, asc_48k_stereo, sizeof(asc_48k_stereo));
	t[1].rate = 48000;
	t[1].channels = 2;
	const struct track *tp[2] = {&t[0], &t[1]};
	struct ts_mux *m = ts_mux_new(tp, 2, NULL);
	assert_non_null(m);
	return m;
}

/* ---------------- CRC, ADTS ---------------- */

static void test_crc_check_value(void **state)
{
	/* CRC-32/MPEG-2 check value of "123456789". */
	assert_int_equal(crc_mpeg2((const uint8_t *)"123456789", 9), 0x0376e6e7);
}

static void test_adts_golden(void **state)
{
	/* The header ffmpeg wrote before the first AU of ts_h264_aac.ts:
	 * LC, 44.1 kHz, mono, 265 bytes, fullness 0x7FF, one block. */
	static const uint8_t ff[] = {0xff, 0xf1, 0x50, 0x40, 0x21, 0x3f, 0xfc};
	struct aac_asc asc;
	assert_int_equal(aac_parse_asc(asc_44k_mono, 2, &asc), 0);
	uint8_t h[ADTS_HEADER_LEN];
	assert_int_equal(adts_write(h, &asc, 258), 0);
	assert_memory_equal(h, ff, sizeof(ff));
	struct adts_header a;
	assert_int_equal(adts_parse(ff, sizeof(ff), &a), 0);
	assert_int_equal(a.object_type, 2);
	assert_int_equal(a.sample_rate, 44100);
	assert_int_equal(a.channel_config, 1);
	assert_int_equal(a.frame_len, 265);
	assert_int_equal(a.header_len, 7);
	assert_int_equal(a.raw_blocks, 1);
	uint8_t back[2];
	assert_int_equal(adts_make_asc(&a, back), 2);
	assert_memory_equal(back, asc_44k_mono, 2);
	/* HE-AAC (explicit SBR ASC, 24 kHz core) is written as its LC core */
	static const uint8_t he[] = {0x2b, 0x09, 0x88, 0x00}; /* aot 5, 24k, ch 1, ext 48k, LC */
	assert_int_equal(aac_parse_asc(he, sizeof(he), &asc), 0);
	assert_int_equal(adts_write(h, &asc, 10), 0);
	assert_int_equal(adts_parse(h, 7, &a), 0);
	assert_int_equal(a.object_type, 2);
	assert_int_equal(a.sample_rate, 24000);
	assert_int_equal(adts_freq_index(7350), 12);
	assert_int_equal(adts_freq_index(44000), -EINVAL);
}

static void test_adts_malformed(void **state)
{
	struct adts_header a;
	struct aac_asc asc;
	uint8_t h[ADTS_HEADER_LEN];
	static const uint8_t ok[] = {0xff, 0xf1, 0x50, 0x40, 0x21, 0x3f, 0xfc};
	uint8_t b[7];
	assert_int_equal(adts_parse(ok, 6, &a), -EAGAIN);
	memcpy(b, ok, 7);
	b[1] = 0xf3; /* layer 1 */
	assert_int_equal(adts_parse(b, 7, &a), -EPROTO);
	memcpy(b, ok, 7);
	b[0] = 0xfe;
	assert_int_equal(adts_parse(b, 7, &a), -EPROTO);
	memcpy(b, ok, 7);
	b[2] = 0x50 | 13 << 2; /* reserved frequency index */
	assert_int_equal(adts_parse(b, 7, &a), -EPROTO);
	memcpy(b, ok, 7);
	b[3] = 0x40;
	b[4] = 0;
	b[5] = 0xdf; /* frame_len 6 < header */
	assert_int_equal(adts_parse(b, 7, &a), -EPROTO);
	memcpy(b, ok, 7);
	b[1] = 0xf0; /* CRC present: header 9, frame_len 265 still fine */
	assert_int_equal(adts_parse(b, 7, &a), 0);
	assert_int_equal(a.header_len, 9);
	/* too long for 13 bits; object type without ADTS form */
	assert_int_equal(aac_parse_asc(asc_44k_mono, 2, &asc), 0);
	assert_int_equal(adts_write(h, &asc, ADTS_MAX_FRAME - 6), -EINVAL);
	assert_int_equal(adts_write(h, &asc, ADTS_MAX_FRAME - 7), 0);
	asc.object_type = 23;
	assert_int_equal(adts_write(h, &asc, 10), -EINVAL);
}

/* ---------------- muxer: PSI ---------------- */

/* First packet of pid in a TS file. */
static const uint8_t *find_packet(const uint8_t *p, size_t len, uint16_t pid)
{
	for (size_t i = 0; i + 188 <= len; i += 188)
		if (pkt_pid(p + i) == pid)
			return p + i;
	return NULL;
}

static void psi_like_ffmpeg(const char *file, const struct track *tracks, unsigned n)
{
	const struct track *tp[4];
	for (unsigned i = 0; i < n; i++)
		tp[i] = &tracks[i];
	struct ts_mux *m = ts_mux_new(tp, n, NULL);
	assert_non_null(m);
	struct bytes out = {0};
	assert_int_equal(ts_mux_psi(m, &out), 0);
	assert_int_equal(out.len, 2 * 188);
	size_t len;
	uint8_t *ff = load(file, &len);
	const uint8_t *pat = find_packet(ff, len, 0), *pmt = find_packet(ff, len, 0x1000);
	assert_non_null(pat);
	assert_non_null(pmt);
	assert_memory_equal(out.data, pat, 188);
	assert_memory_equal(out.data + 188, pmt, 188);
	/* sections sum to 0 under our independent CRC */
	assert_int_equal(crc_mpeg2(out.data + 5, 3 + 13), 0);
	free(ff);
	bytes_free(&out);
	ts_mux_free(m);
}

static void test_mux_psi_matches_ffmpeg(void **state)
{
	struct track t[2];
	track_init(&t[0], CODEC_H264, ff_avcc, sizeof(ff_avcc));
	track_init(&t[1], CODEC_AAC, asc_44k_mono, 2);
	psi_like_ffmpeg("ts_h264_aac.ts", t, 2);
	track_clear(&t[0]);
	track_init(&t[0], CODEC_H265, ff_hvcc, sizeof(ff_hvcc));
	psi_like_ffmpeg("ts_h265_aac.ts", t, 2);
	track_clear(&t[0]);
	track_clear(&t[1]);
	track_init(&t[0], CODEC_MP3, NULL, 0);
	psi_like_ffmpeg("ts_mp3.ts", t, 1);
	track_clear(&t[0]);
	track_init(&t[0], CODEC_OPUS, opus_head_mono, sizeof(opus_head_mono));
	psi_like_ffmpeg("ts_opus.ts", t, 1);
	track_clear(&t[0]);
}

/* Section of a PSI packet written by ts_mux_psi (pointer_field 0). */
static const uint8_t *section(const uint8_t *pkt, size_t *len)
{
	assert_int_equal(pkt[4], 0);
	*len = 3 + (size_t)((pkt[6] & 0x0f) << 8 | pkt[7]);
	assert_true(*len <= 183);
	assert_int_equal(crc_mpeg2(pkt + 5, *len), 0);
	return pkt + 5;
}

static void test_mux_psi_update(void **state)
{
	struct track t[3];
	track_init(&t[0], CODEC_H264, ff_avcc, sizeof(ff_avcc));
	track_init(&t[1], CODEC_AAC, asc_44k_mono, 2);
	track_init(&t[2], CODEC_VP9, NULL, 0); /* no TS mapping: left out */
	const struct track *tp[3] = {&t[0], NULL, &t[2]};
	struct ts_mux_opts o = {.pmt_pid = 0x200, .first_pid = 0x300, .program = 7};
	struct ts_mux *m = ts_mux_new(tp, 3, &o);
	struct bytes out = {0};
	assert_int_equal(ts_mux_psi(m, &out), 0);
	assert_int_equal(ts_mux_psi(m, &out), 0);
	assert_int_equal(out.len, 4 * 188);
	size_t len;
	const uint8_t *s = section(out.data + 188, &len);
	assert_int_equal(pkt_pid(out.data + 188), 0x200);
	assert_int_equal(out.data[3] & 15, 0);           /* PAT cc */
	assert_int_equal(out.data[2 * 188 + 3] & 15, 1); /* PAT cc, second time */
	assert_int_equal(out.data[3 * 188 + 3] & 15, 1); /* PMT cc */
	/* program 7, version 0, PCR on 0x300, only the H.264 stream */
	static const uint8_t pmt0[] = {0x02, 0xb0, 0x12, 0x00, 0x07, 0xc1, 0x00, 0x00, 0xe3,
				       0x00, 0xf0, 0x00, 0x1b, 0xe3, 0x00, 0xf0, 0x00};
	assert_int_equal(len, sizeof(pmt0) + 4);
	assert_memory_equal(s, pmt0, sizeof(pmt0));
	/* AAC appears with a language: version 1, stream 0x301 */
	memcpy(t[1].lang, "swe", 4);
	assert_int_equal(ts_mux_update_track(m, 1, &t[1]), 0);
	bytes_reset(&out);
	assert_int_equal(ts_mux_psi(m, &out), 0);
	s = section(out.data + 188, &len);
	static const uint8_t pmt1[] = {0x02, 0xb0, 0x1d, 0x00, 0x07, 0xc3, 0x00, 0x00, 0xe3, 0x00,
				       0xf0, 0x00, 0x1b, 0xe3, 0x00, 0xf0, 0x00, 0x0f, 0xe3, 0x01,
				       0xf0, 0x06, 0x0a, 0x04, 's',  'w',  'e',  0x00};
	assert_int_equal(len, sizeof(pmt1) + 4);
	assert_memory_equal(s, pmt1, sizeof(pmt1));
	/* same description again: no new version */
	assert_int_equal(ts_mux_update_track(m, 1, &t[1]), 0);
	bytes_reset(&out);
	assert_int_equal(ts_mux_psi(m, &out), 0);
	assert_int_equal(out.data[188 + 10], 0xc3);
	assert_int_equal(ts_mux_update_track(m, 9, &t[1]), -EINVAL);
	/* a frame of a track not in the mux is ignored */
	struct frame *f = frame_new(2, 0, 0, FRAME_KEY, "x", 1);
	bytes_reset(&out);
	assert_int_equal(ts_mux_frame(m, f, &out), 0);
	f->track = 5;
	assert_int_equal(ts_mux_frame(m, f, &out), 0);
	assert_int_equal(out.len, 0);
	frame_unref(f);
	bytes_free(&out);
	ts_mux_free(m);
	for (int i = 0; i < 3; i++)
		track_clear(&t[i]);
	ts_mux_free(NULL);
}

static void test_mux_mp3_types(void **state)
{
	struct track t;
	track_init(&t, CODEC_MP3, NULL, 0);
	t.rate = 22050;
	const struct track *tp[1] = {&t};
	struct ts_mux *m = ts_mux_new(tp, 1, NULL);
	struct bytes out = {0};
	assert_int_equal(ts_mux_psi(m, &out), 0);
	size_t len;
	const uint8_t *s = section(out.data + 188, &len);
	assert_int_equal(s[12], 0x04); /* MPEG-2 audio */
	bytes_free(&out);
	ts_mux_free(m);
	track_clear(&t);
}

/* ---------------- muxer: packets ---------------- */

/* One PES start seen while walking muxer output. */
struct pes_info {
	uint16_t pid;
	bool pcr, rai;
	uint64_t pcr_base; /* when pcr */
	uint64_t pts, dts;
	unsigned pes_len;
	const uint8_t *es; /* ES bytes in the first packet */
	size_t es_len;
};

struct walk {
	struct pes_info pes[512];
	size_t npes;
	size_t pcrs;
	uint64_t max_pcr_gap;
};

static uint64_t rd_ts(const uint8_t *p)
{
	/* marker bits must be set */
	assert_true((p[0] & 1) && (p[2] & 1) && (p[4] & 1));
	return (uint64_t)(p[0] & 0x0e) << 29 | (uint64_t)p[1] << 22 | (uint64_t)(p[2] >> 1) << 15 |
	       (uint64_t)p[3] << 7 | p[4] >> 1;
}

/* Checks the transport-level invariants of muxer output and records the
 * PES starts: 188-byte packets with sync bytes, continuity counters per
 * PID (+1 with payload, repeated without), PCR monotonic and never past
 * the DTS of a PES that follows, PES headers well formed. */
static void walk_packets(const uint8_t *p, size_t len, struct walk *w)
{
	int cc[8192];
	bool have_pcr = false;
	uint64_t last_pcr = 0;
	memset(w, 0, sizeof(*w));
	for (int i = 0; i < 8192; i++)
		cc[i] = -1;
	assert_int_equal(len % 188, 0);
	for (size_t off = 0; off < len; off += 188) {
		const uint8_t *k = p + off;
		uint16_t pid = pkt_pid(k);
		unsigned afc = (k[3] >> 4) & 3, c = k[3] & 15;
		assert_int_equal(k[0], 0x47);
		assert_int_equal(k[1] & 0x80, 0);
		assert_true(afc != 0);
		if (cc[pid] >= 0)
			assert_int_equal(c, (afc & 1) ? (unsigned)(cc[pid] + 1) % 16
						      : (unsigned)cc[pid]);
		cc[pid] = (int)c;
		size_t pl = 4;
		bool pcr = false, rai = false;
		if (afc & 2) {
			assert_true(k[4] <= 183);
			assert_true(afc == 3 || k[4] == 183);
			if (k[4]) {
				rai = k[5] & 0x40;
				pcr = k[5] & 0x10;
			}
			if (pcr) {
				/* 33-bit base, 6 reserved 1 bits, 9-bit extension 0 */
				uint64_t base = (uint64_t)rd_be32(k + 6) << 1 | k[10] >> 7;
				assert_int_equal(k[10] & 0x7f, 0x7e);
				assert_int_equal(k[11], 0);
				if (have_pcr) {
					assert_true(base >= last_pcr);
					if (base - last_pcr > w->max_pcr_gap)
						w->max_pcr_gap = base - last_pcr;
				}
				have_pcr = true;
				last_pcr = base;
				w->pcrs++;
			}
			pl = 5 + k[4];
		}
		if (!(afc & 1) || !(k[1] & 0x40) || pid == 0 || pid == 0x1000)
			continue;
		const uint8_t *h = k + pl;
		assert_true(188 - pl >= 14);
		assert_int_equal(rd_be24(h), 1);
		assert_int_equal(h[6], 0x84);
		assert_true(w->npes < 512);
		struct pes_info *e = &w->pes[w->npes++];
		e->pid = pid;
		e->pcr = pcr;
		e->pcr_base = pcr ? last_pcr : 0;
		e->rai = rai;
		e->pes_len = rd_be16(h + 4);
		assert_true(h[7] == 0x80 || h[7] == 0xc0);
		assert_int_equal(h[8], h[7] == 0xc0 ? 10 : 5);
		assert_int_equal(h[9] >> 4, h[7] == 0xc0 ? 3 : 2);
		e->pts = rd_ts(h + 9);
		e->dts = e->pts;
		if (h[7] == 0xc0) {
			assert_int_equal(h[14] >> 4, 1);
			e->dts = rd_ts(h + 14);
		}
		e->es = h + 9 + h[8];
		e->es_len = 188 - pl - 9 - h[8];
		if (have_pcr)
			assert_true(e->dts >= last_pcr);
	}
}

static void test_mux_packets(void **state)
{
	struct track t[2];
	struct ts_mux *m = mux_h264_aac(t);
	struct frame *f[256];
	size_t n = make_frames(f, 256, 900000);
	struct bytes out = {0};
	assert_int_equal(ts_mux_psi(m, &out), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ts_mux_frame(m, f[i], &out), 0);
	struct walk *w = calloc(1, sizeof(*w));
	walk_packets(out.data, out.len, w);
	assert_int_equal(w->npes, n);
	size_t v = 0;
	for (size_t i = 0; i < n; i++) {
		struct pes_info *e = &w->pes[i];
		/* frames' µs came from ticks: rounding brings them back */
		uint64_t pts = (uint64_t)((f[i]->pts_us * 9 + 50) / 100);
		uint64_t dts = (uint64_t)((f[i]->dts_us * 9 + 50) / 100);
		assert_int_equal(e->pts, pts);
		assert_int_equal(e->dts, dts);
		if (f[i]->track == 0) {
			assert_int_equal(e->pid, 0x100);
			assert_true(e->pcr); /* PCR on every video PES start, 100 ms behind */
			assert_int_equal(e->pcr_base, dts - 9000);
			assert_int_equal(e->rai, !!(f[i]->flags & FRAME_KEY));
			assert_int_equal(e->pes_len, 0);
			/* AUD first; SPS of the config right after it on keyframes */
			static const uint8_t aud[] = {0, 0, 0, 1, 0x09, 0xf0};
			assert_memory_equal(e->es, aud, sizeof(aud));
			static const uint8_t sps[] = {0, 0, 0, 1, 0x67, 0x64, 0x00, 0x0d};
			assert_int_equal(!memcmp(e->es + 6, sps, sizeof(sps)),
					 !!(f[i]->flags & FRAME_KEY));
			v++;
		} else {
			assert_int_equal(e->pid, 0x101);
			assert_false(e->pcr);
			assert_true(e->rai);
			/* PES length: 3 + 5 header bytes + ADTS + AU */
			assert_int_equal(e->pes_len, 8 + 7 + f[i]->len);
			assert_int_equal(e->es[0], 0xff);
		}
	}
	assert_int_equal(v, 50);
	/* every video PES, plus a PCR-only packet for the audio frame that
	 * came before the first video frame */
	assert_int_equal(w->pcrs, 51);
	assert_int_equal(rd_be16(out.data + 2 * 188 + 1) & 0x1fff, 0x100);
	assert_int_equal(out.data[2 * 188 + 3] & 0x30, 0x20);
	assert_int_equal(w->max_pcr_gap, 3600); /* 40 ms */
	free(w);
	for (size_t i = 0; i < n; i++)
		frame_unref(f[i]);
	bytes_free(&out);
	ts_mux_free(m);
	track_clear(&t[0]);
	track_clear(&t[1]);
}

/* Video at 5 fps: PCR-only packets on the video PID ride on the audio
 * frames in between; audio only: PCR on the audio PID. */
static void test_mux_pcr_interval(void **state)
{
	struct track t[2];
	struct ts_mux *m = mux_h264_aac(t);
	struct bytes out = {0};
	for (int i = 0; i < 100; i++) {
		int64_t ticks = i * 1920;
		struct frame *f = frame_new(1, ticks_us(ticks), ticks_us(ticks), 0, "abc", 3);
		assert_int_equal(ts_mux_frame(m, f, &out), 0);
		frame_unref(f);
		if (i % 9 == 0) {
			struct bytes b = {0};
			put_nal(&b, 0x41, 10, 1);
			f = frame_new(0, ticks_us(ticks), ticks_us(ticks), 0, b.data, b.len);
			assert_int_equal(ts_mux_frame(m, f, &out), 0);
			frame_unref(f);
			bytes_free(&b);
		}
	}
	struct walk *w = calloc(1, sizeof(*w));
	walk_packets(out.data, out.len, w);
	assert_true(w->pcrs > 12 + 30);
	assert_true(w->max_pcr_gap <= 3600 + 1920); /* interval + one audio frame */
	ts_mux_free(m);
	/* audio only */
	const struct track *tp[1] = {&t[1]};
	m = ts_mux_new(tp, 1, NULL);
	bytes_reset(&out);
	for (int i = 0; i < 10; i++) {
		struct frame *f = frame_new(0, ticks_us(i * 1920), ticks_us(i * 1920), 0, "abc", 3);
		assert_int_equal(ts_mux_frame(m, f, &out), 0);
		frame_unref(f);
	}
	walk_packets(out.data, out.len, w);
	assert_int_equal(w->pcrs, 10);
	assert_int_equal(w->pes[0].pid, 0x100);
	assert_true(w->pes[0].pcr);
	assert_int_equal(w->max_pcr_gap, 1920);
	free(w);
	bytes_free(&out);
	ts_mux_free(m);
	track_clear(&t[0]);
	track_clear(&t[1]);
}

static size_t count_pattern(const uint8_t *p, size_t len, const uint8_t *pat, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i + n <= len; i++)
		c += !memcmp(p + i, pat, n);
	return c;
}

/* A keyframe with its own SPS/PPS gets no second copy from the config. */
static void test_mux_inband_params(void **state)
{
	struct track t[2];
	struct ts_mux *m = mux_h264_aac(t);
	struct annexb_ps ps;
	assert_int_equal(annexb_ps_from_config(CODEC_H264, ff_avcc, sizeof(ff_avcc), &ps, NULL), 0);
	struct bytes b = {0}, out = {0};
	bytes_put_be32(&b, (uint32_t)ps.sps_len[0]);
	bytes_append(&b, ps.sps[0], ps.sps_len[0]);
	bytes_put_be32(&b, (uint32_t)ps.pps_len[0]);
	bytes_append(&b, ps.pps[0], ps.pps_len[0]);
	put_nal(&b, 0x09, 1, 0); /* an AUD of its own: replaced by ours */
	put_nal(&b, 0x65, 40, 0);
	static const uint8_t sps_sc[] = {0, 0, 0, 1, 0x67}, aud_sc[] = {0, 0, 0, 1, 0x09};
	struct frame *f = frame_new(0, 0, 0, FRAME_KEY, b.data, b.len);
	assert_int_equal(ts_mux_frame(m, f, &out), 0);
	assert_int_equal(out.len, 188);
	assert_int_equal(count_pattern(out.data, out.len, sps_sc, 5), 1);
	assert_int_equal(count_pattern(out.data, out.len, aud_sc, 5), 1);
	frame_unref(f);
	/* a keyframe without them gets the config's; other frames none */
	bytes_reset(&out);
	bytes_reset(&b);
	put_nal(&b, 0x65, 40, 0);
	f = frame_new(0, 40000, 40000, FRAME_KEY, b.data, b.len);
	assert_int_equal(ts_mux_frame(m, f, &out), 0);
	assert_int_equal(count_pattern(out.data, out.len, sps_sc, 5), 1);
	f->flags = 0;
	bytes_reset(&out);
	assert_int_equal(ts_mux_frame(m, f, &out), 0);
	assert_int_equal(count_pattern(out.data, out.len, sps_sc, 5), 0);
	frame_unref(f);
	/* malformed length prefix: refused, nothing written */
	static const uint8_t bad[] = {0, 0, 0, 9, 0x65, 1};
	f = frame_new(0, 0, 0, 0, bad, sizeof(bad));
	bytes_reset(&out);
	assert_int_equal(ts_mux_frame(m, f, &out), -EPROTO);
	assert_int_equal(out.len, 0);
	frame_unref(f);
	bytes_free(&b);
	bytes_free(&out);
	ts_mux_free(m);
	track_clear(&t[0]);
	track_clear(&t[1]);
}

/* ---------------- mux -> demux ---------------- */

/* The frames of one track in a sink, in order, equal the given ones. */
static void expect_track_frames(const struct sink *s, unsigned track, struct frame *const *want,
				size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct frame *g = s->frames[i];
		if (g->track != track)
			continue;
		while (k < n && want[k]->track != track)
			k++;
		assert_true(k < n);
		assert_int_equal(g->dts_us, want[k]->dts_us);
		assert_int_equal(g->pts_us, want[k]->pts_us);
		assert_int_equal(g->flags, want[k]->flags);
		assert_int_equal(g->len, want[k]->len);
		assert_memory_equal(g->data, want[k]->data, g->len);
		k++;
	}
	while (k < n && want[k]->track != track)
		k++;
	assert_int_equal(k, n); /* none missing */
}

static void roundtrip_h264_aac(int64_t base_ticks)
{
	struct track t[2];
	struct ts_mux *m = mux_h264_aac(t);
	struct frame *f[256];
	size_t n = make_frames(f, 256, base_ticks);
	struct bytes out = {0};
	assert_int_equal(ts_mux_psi(m, &out), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ts_mux_frame(m, f[i], &out), 0);
	struct sink s = {0};
	struct ts_demux_stats st;
	demux(&s, out.data, out.len, 1000, &st);
	assert_int_equal(st.packets, out.len / 188);
	assert_int_equal(st.cc_errors + st.resyncs + st.damaged, 0);
	assert_int_equal(s.track_calls[0], 1);
	assert_int_equal(s.track_calls[1], 1);
	assert_int_equal(s.tracks[0].codec, CODEC_H264);
	assert_int_equal(s.tracks[0].width, 320);
	assert_int_equal(s.tracks[0].height, 240);
	assert_true(wbuf_equal(s.tracks[0].config, t[0].config));
	assert_int_equal(s.tracks[1].codec, CODEC_AAC);
	assert_int_equal(s.tracks[1].rate, 48000);
	assert_int_equal(s.tracks[1].channels, 2);
	assert_true(wbuf_equal(s.tracks[1].config, t[1].config));
	assert_int_equal(s.n, n);
	/* Expected timestamps are the unwrapped ones make_frames chose. */
	expect_track_frames(&s, 0, f, n);
	expect_track_frames(&s, 1, f, n);
	sink_free(&s);
	for (size_t i = 0; i < n; i++)
		frame_unref(f[i]);
	bytes_free(&out);
	ts_mux_free(m);
	track_clear(&t[0]);
	track_clear(&t[1]);
}

static void test_roundtrip_h264_aac(void **state)
{
	roundtrip_h264_aac(900000);
}

/* 33-bit PTS/DTS wrap in the middle of the stream: timestamps keep
 * growing past 2^33 ticks. */
static void test_roundtrip_pts_wrap(void **state)
{
	roundtrip_h264_aac((INT64_C(1) << 33) - 25 * 3600 - 1234);
}

/* H.265 + Opus (5.1, sizes needing multi-byte au_size) + MP3. */
static void test_roundtrip_hevc_opus_mp3(void **state)
{
	struct track t[3];
	track_init(&t[0], CODEC_H265, ff_hvcc, sizeof(ff_hvcc));
	track_init(&t[1], CODEC_OPUS, opus_head_51, sizeof(opus_head_51));
	track_init(&t[2], CODEC_MP3, NULL, 0);
	const struct track *tp[3] = {&t[0], &t[1], &t[2]};
	struct ts_mux *m = ts_mux_new(tp, 3, NULL);
	struct frame *f[64];
	size_t n = 0;
	for (int i = 0; i < 20; i++) {
		struct bytes b = {0};
		int64_t t20 = ticks_us(i * 1800); /* 20 ms */
		put_nal(&b, i % 10 ? 0x02 : 0x26, 50 + (size_t)i * 40,
			(unsigned)i); /* TRAIL_R / IDR */
		f[n++] = frame_new(0, t20, t20 + 20000, i % 10 ? 0 : FRAME_KEY, b.data, b.len);
		bytes_reset(&b);
		bytes_put_u8(&b, 0xfc); /* TOC: CELT FB 20 ms, one frame */
		for (int k = 0; k < i * 40; k++)
			bytes_put_u8(&b, (uint8_t)(k ^ i));
		f[n++] = frame_new(1, t20, t20, FRAME_KEY, b.data, b.len);
		bytes_free(&b);
		if (i % 2 == 0) {
			/* MPEG-1 layer III, 128 kbps, 44.1 kHz, mono: 417 bytes */
			uint8_t mp3[417] = {0xff, 0xfb, 0x90, 0xc4};
			for (size_t k = 4; k < sizeof(mp3); k++)
				mp3[k] = (uint8_t)(k * 3 + (size_t)i);
			f[n++] = frame_new(2, t20, t20, FRAME_KEY, mp3, sizeof(mp3));
		}
	}
	struct bytes out = {0};
	assert_int_equal(ts_mux_psi(m, &out), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ts_mux_frame(m, f[i], &out), 0);
	struct sink s = {0};
	struct ts_demux_stats st;
	demux(&s, out.data, out.len, 188, &st);
	assert_int_equal(st.cc_errors + st.damaged, 0);
	assert_int_equal(s.tracks[0].codec, CODEC_H265);
	assert_int_equal(s.tracks[0].width, 320);
	assert_true(wbuf_equal(s.tracks[0].config, t[0].config));
	assert_int_equal(s.tracks[1].codec, CODEC_OPUS);
	assert_int_equal(s.tracks[1].channels, 6);
	assert_true(wbuf_equal(s.tracks[1].config, t[1].config));
	assert_int_equal(s.tracks[2].codec, CODEC_MP3);
	assert_int_equal(s.tracks[2].rate, 44100);
	assert_int_equal(s.tracks[2].channels, 1);
	assert_null(s.tracks[2].config);
	assert_int_equal(s.n, n);
	for (unsigned k = 0; k < 3; k++)
		expect_track_frames(&s, k, f, n);
	sink_free(&s);
	for (size_t i = 0; i < n; i++)
		frame_unref(f[i]);
	bytes_free(&out);
	ts_mux_free(m);
	for (int i = 0; i < 3; i++)
		track_clear(&t[i]);
}

/* Program changes: a track appears (new PMT version) and the video
 * config changes at a keyframe; indices stay, on_track reports both. */
static void test_roundtrip_changes(void **state)
{
	/* avcC of a 640x360 x264 stream (no high-profile extension) */
	static const uint8_t avcc_360[] = {0x01, 0x64, 0x00, 0x1e, 0xff, 0xe1, 0x00, 0x1a, 0x67,
					   0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f, 0xf9,
					   0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00,
					   0x03, 0x00, 0x32, 0x0f, 0x16, 0x2d, 0x96, 0x01, 0x00,
					   0x06, 0x68, 0xeb, 0xe0, 0xa4, 0xb2, 0x2c};
	struct track t[2];
	track_init(&t[0], CODEC_H264, ff_avcc, sizeof(ff_avcc));
	track_init(&t[1], CODEC_AAC, asc_44k_mono, 2);
	const struct track *tp[2] = {&t[0], NULL};
	struct ts_mux *m = ts_mux_new(tp, 2, NULL);
	struct bytes out = {0}, b = {0};
	put_nal(&b, 0x65, 500, 3);
	assert_int_equal(ts_mux_psi(m, &out), 0);
	for (int i = 0; i < 30; i++) {
		if (i == 10) {
			assert_int_equal(ts_mux_update_track(m, 1, &t[1]), 0);
			assert_int_equal(ts_mux_psi(m, &out), 0);
		}
		if (i == 20) {
			track_clear(&t[0]);
			track_init(&t[0], CODEC_H264, avcc_360, sizeof(avcc_360));
			assert_int_equal(ts_mux_update_track(m, 0, &t[0]), 0);
		}
		int64_t ts = i * 40000;
		struct frame *f = frame_new(0, ts, ts, i % 10 ? 0 : FRAME_KEY, b.data, b.len);
		assert_int_equal(ts_mux_frame(m, f, &out), 0);
		frame_unref(f);
		f = frame_new(1, ts, ts, 0, "aac", 3);
		assert_int_equal(ts_mux_frame(m, f, &out), 0);
		frame_unref(f);
	}
	struct sink s = {0};
	demux(&s, out.data, out.len, 4096, NULL);
	assert_int_equal(s.track_calls[0], 2);
	assert_int_equal(s.track_calls[1], 1);
	assert_int_equal(s.tracks[0].width, 640);
	assert_int_equal(s.tracks[0].height, 360);
	struct annexb_ps got, want;
	assert_int_equal(annexb_ps_from_config(CODEC_H264, s.tracks[0].config->data,
					       s.tracks[0].config->len, &got, NULL),
			 0);
	assert_int_equal(annexb_ps_from_config(CODEC_H264, avcc_360, sizeof(avcc_360), &want, NULL),
			 0);
	assert_int_equal(got.sps_len[0], want.sps_len[0]);
	assert_memory_equal(got.sps[0], want.sps[0], want.sps_len[0]);
	assert_int_equal(count_track(&s, 0), 30);
	assert_int_equal(count_track(&s, 1), 20);
	assert_int_equal(s.tracks[1].codec, CODEC_AAC);
	sink_free(&s);
	bytes_free(&b);
	bytes_free(&out);
	ts_mux_free(m);
	track_clear(&t[0]);
	track_clear(&t[1]);
}

/* ---------------- demuxer: ffmpeg files ---------------- */

static void expect_monotonic(const struct sink *s, unsigned track, int64_t step_us)
{
	int64_t last = INT64_MIN;
	for (size_t i = 0; i < s->n; i++) {
		const struct frame *f = s->frames[i];
		if (f->track != track)
			continue;
		assert_true(f->pts_us >= f->dts_us);
		if (last != INT64_MIN) {
			assert_true(f->dts_us > last);
			if (step_us) /* audio: within a 90 kHz tick */
				assert_true(llabs(f->dts_us - last - step_us) <= 12);
		}
		last = f->dts_us;
		assert_int_equal(f->flags & FRAME_DAMAGED, 0);
		if (step_us)
			assert_true(f->flags & FRAME_KEY); /* audio: every frame */
	}
}

static void check_video_file(const char *file, enum codec c, const uint8_t *cfg, size_t cfg_len,
			     size_t chunk)
{
	size_t len;
	uint8_t *p = load(file, &len);
	struct sink s = {0};
	struct ts_demux_stats st;
	demux(&s, p, len, chunk, &st);
	assert_int_equal(st.packets, len / 188);
	assert_int_equal(st.cc_errors + st.resyncs + st.damaged, 0);
	assert_int_equal(s.tracks[0].codec, c);
	assert_int_equal(s.tracks[0].type, TRACK_VIDEO);
	assert_int_equal(s.tracks[0].width, 320);
	assert_int_equal(s.tracks[0].height, 240);
	assert_non_null(s.tracks[0].config);
	assert_int_equal(s.tracks[0].config->len, cfg_len);
	assert_memory_equal(s.tracks[0].config->data, cfg, cfg_len);
	assert_int_equal(s.tracks[1].codec, CODEC_AAC);
	assert_int_equal(s.tracks[1].rate, 44100);
	assert_int_equal(s.tracks[1].channels, 1);
	assert_int_equal(s.tracks[1].config->len, 2);
	assert_memory_equal(s.tracks[1].config->data, asc_44k_mono, 2);
	assert_int_equal(s.track_calls[0], 1);
	assert_int_equal(s.track_calls[1], 1);
	assert_int_equal(count_track(&s, 0), 25);
	assert_int_equal(count_track(&s, 1), 45);
	size_t keys = 0;
	const struct frame *first = NULL;
	for (size_t i = 0; i < s.n; i++) {
		const struct frame *f = s.frames[i];
		if (f->track != 0)
			continue;
		if (!first)
			first = f;
		keys += f->flags & FRAME_KEY;
		/* length-prefixed NALs, none of them AUD/parameter sets */
		for (size_t pos = 0; pos < f->len;) {
			assert_true(f->len - pos >= 5);
			size_t n = rd_be32(f->data + pos);
			assert_true(n && n <= f->len - pos - 4);
			int type = annexb_nal_type(c, f->data + pos + 4, n);
			if (c == CODEC_H264)
				assert_true(type != 7 && type != 8 && type != 9);
			else
				assert_true(type < 32 || type > 35);
			pos += 4 + n;
		}
	}
	assert_true(first->flags & FRAME_KEY);
	assert_int_equal(first->dts_us, 1400000); /* ffmpeg's 1.4 s start */
	assert_int_equal(first->pts_us, 1480000);
	assert_int_equal(keys, 1);
	expect_monotonic(&s, 0, 0);
	expect_monotonic(&s, 1, 23220); /* 1024 / 44100 s */
	sink_free(&s);
	free(p);
}

static void test_demux_ffmpeg_h264_aac(void **state)
{
	check_video_file("ts_h264_aac.ts", CODEC_H264, ff_avcc, sizeof(ff_avcc), 1 << 20);
	check_video_file("ts_h264_aac.ts", CODEC_H264, ff_avcc, sizeof(ff_avcc), 1);
	check_video_file("ts_h264_aac.ts", CODEC_H264, ff_avcc, sizeof(ff_avcc), 333);
}

static void test_demux_ffmpeg_h265_aac(void **state)
{
	check_video_file("ts_h265_aac.ts", CODEC_H265, ff_hvcc, sizeof(ff_hvcc), 1 << 20);
	check_video_file("ts_h265_aac.ts", CODEC_H265, ff_hvcc, sizeof(ff_hvcc), 189);
}

static void test_demux_ffmpeg_audio(void **state)
{
	size_t len;
	uint8_t *p = load("ts_mp3.ts", &len);
	struct sink s = {0};
	demux(&s, p, len, 4096, NULL);
	assert_int_equal(s.tracks[0].codec, CODEC_MP3);
	assert_int_equal(s.tracks[0].rate, 44100);
	assert_int_equal(s.tracks[0].channels, 1);
	assert_int_equal(s.n, 40);
	for (size_t i = 0; i < s.n; i++) {
		struct mp3_header h;
		assert_int_equal(mp3_parse_header(s.frames[i]->data, s.frames[i]->len, &h), 0);
		assert_int_equal(h.frame_len, s.frames[i]->len);
	}
	expect_monotonic(&s, 0, 26122); /* 1152 / 44100 s */
	sink_free(&s);
	free(p);

	p = load("ts_opus.ts", &len);
	demux(&s, p, len, 4096, NULL);
	assert_int_equal(s.tracks[0].codec, CODEC_OPUS);
	assert_int_equal(s.tracks[0].channels, 1);
	assert_int_equal(s.tracks[0].rate, 48000);
	assert_int_equal(s.tracks[0].config->len, sizeof(opus_head_mono));
	assert_memory_equal(s.tracks[0].config->data, opus_head_mono, sizeof(opus_head_mono));
	assert_int_equal(s.n, 51);
	expect_monotonic(&s, 0, 20000);
	sink_free(&s);
	free(p);
}

/* LATM: the same encoder on the same input as the ADTS file, so the AUs
 * must be byte for byte those of ts_h264_aac.ts's audio. */
static void test_demux_ffmpeg_latm(void **state)
{
	size_t len, len2;
	uint8_t *p = load("ts_aac_latm.ts", &len), *q = load("ts_h264_aac.ts", &len2);
	struct sink s = {0}, ref = {0};
	demux(&s, p, len, 4096, NULL);
	demux(&ref, q, len2, 4096, NULL);
	assert_int_equal(s.tracks[0].codec, CODEC_AAC);
	assert_true(wbuf_equal(s.tracks[0].config, ref.tracks[1].config));
	assert_int_equal(s.n, 45);
	size_t k = 0;
	for (size_t i = 0; i < ref.n; i++) {
		if (ref.frames[i]->track != 1)
			continue;
		assert_int_equal(s.frames[k]->len, ref.frames[i]->len);
		assert_memory_equal(s.frames[k]->data, ref.frames[i]->data, ref.frames[i]->len);
		k++;
	}
	assert_int_equal(k, 45);
	expect_monotonic(&s, 0, 23220);
	sink_free(&s);
	sink_free(&ref);
	free(p);
	free(q);
}

/* ---------------- demuxer: damage and garbage ---------------- */

/* Compares two demux results frame by frame. */
static void expect_same(const struct sink *a, const struct sink *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->frames[i]->track, b->frames[i]->track);
		assert_int_equal(a->frames[i]->dts_us, b->frames[i]->dts_us);
		assert_int_equal(a->frames[i]->len, b->frames[i]->len);
		assert_memory_equal(a->frames[i]->data, b->frames[i]->data, a->frames[i]->len);
	}
}

/* Drops one packet from the middle of a video PES: one CC error, the
 * frame being assembled is flagged, everything after comes clean. */
static void test_demux_cc_gap(void **state)
{
	size_t len;
	uint8_t *p = load("ts_h264_aac.ts", &len);
	size_t drop = 0, seen = 0;
	for (size_t i = 0; i < len; i += 188) {
		const uint8_t *k = p + i;
		if (pkt_pid(k) == 0x100 && !(k[1] & 0x40) && (k[3] & 0x10) && ++seen == 40) {
			drop = i;
			break;
		}
	}
	assert_true(drop > 0);
	memmove(p + drop, p + drop + 188, len - drop - 188);
	len -= 188;
	struct sink s = {0};
	struct ts_demux_stats st;
	demux(&s, p, len, 1000, &st);
	assert_int_equal(st.cc_errors, 1);
	assert_int_equal(st.damaged, 1);
	assert_int_equal(count_track(&s, 0), 25);
	assert_int_equal(count_track(&s, 1), 45);
	size_t damaged_at = SIZE_MAX;
	for (size_t i = 0; i < s.n; i++) {
		if (s.frames[i]->flags & FRAME_DAMAGED) {
			assert_int_equal(s.frames[i]->track, 0);
			damaged_at = i;
		}
	}
	assert_true(damaged_at < s.n - 10); /* and frames kept coming */
	sink_free(&s);
	free(p);
}

/* A repeated packet (same CC, allowed once by ISO 13818-1) is dropped
 * without an error. */
static void test_demux_duplicate_packet(void **state)
{
	size_t len;
	uint8_t *p = load("ts_h264_aac.ts", &len);
	struct sink clean = {0}, s = {0};
	demux(&clean, p, len, len, NULL);
	uint8_t *q = malloc(len + 188);
	size_t at = 30 * 188;
	assert_int_equal(pkt_pid(p + at), 0x100);
	memcpy(q, p, at + 188);
	memcpy(q + at + 188, p + at, len - at);
	struct ts_demux_stats st;
	demux(&s, q, len + 188, 500, &st);
	assert_int_equal(st.packets, len / 188 + 1);
	assert_int_equal(st.cc_errors + st.damaged, 0);
	expect_same(&clean, &s);
	sink_free(&s);
	sink_free(&clean);
	free(q);
	free(p);
}

/* Garbage before, between and after packets (including a stray sync
 * byte): resync, and the same frames as from the clean file. */
static void test_demux_resync(void **state)
{
	size_t len;
	uint8_t *p = load("ts_h264_aac.ts", &len);
	struct sink clean = {0}, s = {0};
	demux(&clean, p, len, len, NULL);
	uint8_t *g = malloc(len + 400);
	uint8_t junk[37];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 13 + 5);
	junk[20] = 0x47;
	size_t n = 0;
	memcpy(g + n, junk, sizeof(junk)); /* leading garbage */
	n += sizeof(junk);
	for (size_t i = 0; i < len; i += 188) {
		memcpy(g + n, p + i, 188);
		n += 188;
		if (i == 50 * 188 || i == 150 * 188) {
			memcpy(g + n, junk, sizeof(junk));
			n += sizeof(junk);
		}
	}
	memcpy(g + n, junk, 30); /* trailing partial junk */
	n += 30;
	struct ts_demux_stats st;
	size_t chunks[] = {1, 200, 1000, 100000};
	for (size_t c = 0; c < 4; c++) {
		demux(&s, g, n, chunks[c], &st);
		assert_int_equal(st.resyncs, 3);
		assert_int_equal(st.packets, len / 188);
		assert_int_equal(st.cc_errors + st.damaged, 0);
		expect_same(&clean, &s);
		sink_free(&s);
	}
	sink_free(&clean);
	free(g);
	free(p);
}

/* Mutated and random input: never an error, never a crash (ASan/UBSan
 * in the sanitizer build), frames only for announced tracks. */
static void test_demux_malformed(void **state)
{
	size_t len;
	uint8_t *p = load("ts_h264_aac.ts", &len);
	uint8_t *m = malloc(len);
	uint32_t seed = 99;
	for (int iter = 0; iter < 60; iter++) {
		memcpy(m, p, len);
		for (int k = 0; k < 1 + iter * 3; k++) {
			seed = seed * 1103515245 + 12345;
			size_t at = (seed >> 8) % len;
			seed = seed * 1103515245 + 12345;
			m[at] = (uint8_t)(seed >> 16);
		}
		struct sink s = {0};
		demux(&s, m, len - (size_t)iter * 7, (size_t)iter * 97 + 1, NULL);
		sink_free(&s);
	}
	/* all sync bytes; all zeros; tiny packets of each PID kind */
	memset(m, 0x47, 4096);
	struct sink s = {0};
	demux(&s, m, 4096, 4096, NULL);
	assert_int_equal(s.n, 0);
	memset(m, 0, 4096);
	demux(&s, m, 4096, 4096, NULL);
	assert_int_equal(s.n, 0);
	free(m);
	free(p);
}

static void test_demux_callback_stop(void **state)
{
	size_t len;
	uint8_t *p = load("ts_mp3.ts", &len);
	struct sink s = {.stop_rc = -ECANCELED};
	struct ts_demux_cb cb = {.ctx = &s, .on_track = sink_track, .on_frame = sink_frame};
	struct ts_demux *d = ts_demux_new(&cb);
	assert_int_equal(ts_demux_feed(d, p, len), -ECANCELED);
	assert_int_equal(s.n, 1);
	assert_int_equal(ts_demux_feed(d, p, len), -ECANCELED);
	assert_int_equal(ts_demux_flush(d), -ECANCELED);
	assert_int_equal(s.n, 1);
	ts_demux_free(d);
	ts_demux_free(NULL);
	/* no callbacks at all is fine */
	d = ts_demux_new(NULL);
	assert_int_equal(ts_demux_feed(d, p, len), 0);
	assert_int_equal(ts_demux_flush(d), 0);
	ts_demux_free(d);
	sink_free(&s);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc_check_value),
	    cmocka_unit_test(test_adts_golden),
	    cmocka_unit_test(test_adts_malformed),
	    cmocka_unit_test(test_mux_psi_matches_ffmpeg),
	    cmocka_unit_test(test_mux_psi_update),
	    cmocka_unit_test(test_mux_mp3_types),
	    cmocka_unit_test(test_mux_packets),
	    cmocka_unit_test(test_mux_pcr_interval),
	    cmocka_unit_test(test_mux_inband_params),
	    cmocka_unit_test(test_roundtrip_h264_aac),
	    cmocka_unit_test(test_roundtrip_pts_wrap),
	    cmocka_unit_test(test_roundtrip_hevc_opus_mp3),
	    cmocka_unit_test(test_roundtrip_changes),
	    cmocka_unit_test(test_demux_ffmpeg_h264_aac),
	    cmocka_unit_test(test_demux_ffmpeg_h265_aac),
	    cmocka_unit_test(test_demux_ffmpeg_audio),
	    cmocka_unit_test(test_demux_ffmpeg_latm),
	    cmocka_unit_test(test_demux_cc_gap),
	    cmocka_unit_test(test_demux_duplicate_packet),
	    cmocka_unit_test(test_demux_resync),
	    cmocka_unit_test(test_demux_malformed),
	    cmocka_unit_test(test_demux_callback_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
