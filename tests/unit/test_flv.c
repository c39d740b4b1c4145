/* FLV tag bodies: golden classic and Enhanced RTMP (v1 spec layouts)
 * bodies, parse -> mux round trips, headers, onMetaData, track configs, and
 * two real files written by ffmpeg 5.1:
 *   flv_h264_aac_640x360.flv: -f lavfi -i testsrc2=size=640x360:rate=25
 *     -f lavfi -i sine -t 1 -c:v libx264 -crf 36 -c:a aac -b:a 48k -f flv
 *   flv_mp3_22050_mono.flv: -f lavfi -i sine -t 0.2 -ar 22050
 *     -c:a libmp3lame -b:a 32k -f flv */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format/amf0.h"
#include "format/flv.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

/* AVC sequence header body of flv_h264_aac_640x360.flv (its first video tag). */
static const uint8_t avc_seq[] = {
    0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x1e, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00,
    0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00,
    0x03, 0x00, 0x32, 0x0f, 0x16, 0x2d, 0x96, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe0, 0xa4, 0xb2, 0x2c,
};

/* hvcC from libx265 1920x1080 (VPS, SPS, PPS arrays; SEI array dropped). */
static const uint8_t hvcc_1080[] = {
    0x01,
    0x01,
    0x60,
    0x00,
    0x00,
    0x00,
    0x90,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x78,
    0xf0,
    0x00,
    0xfc,
    0xfd,
    0xf8,
    0xf8,
    0x00,
    0x00,
    0x0f,
    0x03,
    /* VPS */
    0xa0,
    0x00,
    0x01,
    0x00,
    0x18,
    0x40,
    0x01,
    0x0c,
    0x01,
    0xff,
    0xff,
    0x01,
    0x60,
    0x00,
    0x00,
    0x03,
    0x00,
    0x90,
    0x00,
    0x00,
    0x03,
    0x00,
    0x00,
    0x03,
    0x00,
    0x78,
    0x95,
    0x98,
    0x09,
    /* SPS */
    0xa1,
    0x00,
    0x01,
    0x00,
    0x2a,
    0x42,
    0x01,
    0x01,
    0x01,
    0x60,
    0x00,
    0x00,
    0x03,
    0x00,
    0x90,
    0x00,
    0x00,
    0x03,
    0x00,
    0x00,
    0x03,
    0x00,
    0x78,
    0xa0,
    0x03,
    0xc0,
    0x80,
    0x10,
    0xe5,
    0x96,
    0x56,
    0x69,
    0x24,
    0xca,
    0xf0,
    0x16,
    0x80,
    0x80,
    0x00,
    0x00,
    0x03,
    0x00,
    0x80,
    0x00,
    0x00,
    0x0f,
    0x04,
    /* PPS */
    0xa2,
    0x00,
    0x01,
    0x00,
    0x07,
    0x44,
    0x01,
    0xc1,
    0x72,
    0xb4,
    0x62,
    0x40,
};

static const uint8_t asc_ffmpeg[] = {0x12, 0x08, 0x56, 0xe5, 0x00};

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

static void set_config(struct track *t, enum codec c, const uint8_t *cfg, size_t len)
{
	memset(t, 0, sizeof(*t));
	t->type = codec_type(c);
	t->codec = c;
	t->config = cfg ? wbuf_from(cfg, len) : NULL;
}

static void test_avc_classic(void **state)
{
	(void)state;
	struct flv_body b;
	assert_int_equal(flv_parse_video(avc_seq, sizeof(avc_seq), &b), 0);
	assert_int_equal(b.kind, FLV_BODY_CONFIG);
	assert_int_equal(b.type, TRACK_VIDEO);
	assert_int_equal(b.codec, CODEC_H264);
	assert_true(b.key);
	assert_ptr_equal(b.data, avc_seq + 5);
	assert_int_equal(b.len, sizeof(avc_seq) - 5);

	struct track t = {0};
	assert_int_equal(flv_track_from_config(&t, b.codec, b.data, b.len), 0);
	assert_int_equal(t.type, TRACK_VIDEO);
	assert_int_equal(t.width, 640);
	assert_int_equal(t.height, 360);
	assert_int_equal(t.profile, 100);
	assert_int_equal(t.level, 30);
	assert_int_equal(t.fps_milli, 25000);
	assert_true(t.has_bframes);
	assert_int_equal(t.config->len, b.len);
	struct bytes out = {0};
	assert_int_equal(flv_config_body(&t, &out), 0);
	assert_int_equal(out.len, sizeof(avc_seq));
	assert_memory_equal(out.data, avc_seq, sizeof(avc_seq));
	bytes_free(&out);

	/* NALU, inter frame, CTS +40 ms; and a negative CTS */
	const uint8_t nalu[] = {0x27, 0x01, 0x00, 0x00, 0x28, 0, 0, 0, 2, 0x01, 0x9e};
	assert_int_equal(flv_parse_video(nalu, sizeof(nalu), &b), 0);
	assert_int_equal(b.kind, FLV_BODY_FRAME);
	assert_false(b.key);
	assert_int_equal(b.cts_ms, 40);
	assert_int_equal(b.len, 6);
	const uint8_t neg[] = {0x17, 0x01, 0xff, 0xff, 0xd8, 0xaa};
	assert_int_equal(flv_parse_video(neg, sizeof(neg), &b), 0);
	assert_true(b.key);
	assert_int_equal(b.cts_ms, -40);
	const uint8_t end[] = {0x17, 0x02, 0x00, 0x00, 0x00};
	assert_int_equal(flv_parse_video(end, sizeof(end), &b), 0);
	assert_int_equal(b.kind, FLV_BODY_END);
	assert_int_equal(flv_parse_video(end, 2, &b), 0); /* short form */
	assert_int_equal(b.kind, FLV_BODY_END);

	/* mux: key frame, pts - dts = 40 ms */
	struct frame f = {.flags = FRAME_KEY, .dts_us = 1000000, .pts_us = 1040000};
	uint8_t pre[FLV_MAX_PREFIX];
	assert_int_equal(flv_body_prefix(&t, &f, pre), 5);
	const uint8_t want[] = {0x17, 0x01, 0x00, 0x00, 0x28};
	assert_memory_equal(pre, want, 5);
	f.flags = 0;
	f.pts_us = f.dts_us - 40000;
	assert_int_equal(flv_body_prefix(&t, &f, pre), 5);
	const uint8_t want_neg[] = {0x27, 0x01, 0xff, 0xff, 0xd8};
	assert_memory_equal(pre, want_neg, 5);
	track_clear(&t);
}

static void test_cts_rounding(void **state)
{
	(void)state;
	struct track t = {.type = TRACK_VIDEO, .codec = CODEC_H264};
	const struct {
		int64_t d_us;
		int32_t ms;
	} cases[] = {{33366, 33},
		     {33500, 34},
		     {499, 0},
		     {-499, 0},
		     {-1500, -2},
		     {-33366, -33},
		     {1LL << 40, 0x7fffff},
		     {-(1LL << 40), -0x800000}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame f = {.dts_us = 5000000, .pts_us = 5000000 + cases[i].d_us};
		uint8_t pre[FLV_MAX_PREFIX];
		struct flv_body b;
		int n = flv_body_prefix(&t, &f, pre);
		assert_int_equal(n, 5);
		assert_int_equal(flv_parse_video(pre, (size_t)n, &b), 0);
		assert_int_equal(b.cts_ms, cases[i].ms);
	}
}

static void test_ertmp_hvc1(void **state)
{
	(void)state;
	struct flv_body b;
	/* SequenceStart: [1|001|0000] 'hvc1' hvcC */
	uint8_t seq[5 + sizeof(hvcc_1080)] = {0x90, 'h', 'v', 'c', '1'};
	memcpy(seq + 5, hvcc_1080, sizeof(hvcc_1080));
	assert_int_equal(flv_parse_video(seq, sizeof(seq), &b), 0);
	assert_int_equal(b.kind, FLV_BODY_CONFIG);
	assert_int_equal(b.codec, CODEC_H265);
	assert_true(b.key);
	assert_ptr_equal(b.data, seq + 5);
	struct track t = {0};
	assert_int_equal(flv_track_from_config(&t, CODEC_H265, b.data, b.len), 0);
	assert_int_equal(t.width, 1920);
	assert_int_equal(t.height, 1080);
	assert_int_equal(t.profile, 1);
	assert_int_equal(t.level, 120);
	struct bytes out = {0};
	assert_int_equal(flv_config_body(&t, &out), 0);
	assert_int_equal(out.len, sizeof(seq));
	assert_memory_equal(out.data, seq, sizeof(seq));
	bytes_free(&out);

	/* CodedFrames, key, SI24 CTS 80 ms, then a 4-byte-length NAL */
	const uint8_t coded[] = {0x91, 'h', 'v', 'c', '1', 0x00, 0x00, 0x50, 0, 0, 0, 1, 0x26};
	assert_int_equal(flv_parse_video(coded, sizeof(coded), &b), 0);
	assert_int_equal(b.kind, FLV_BODY_FRAME);
	assert_true(b.key);
	assert_int_equal(b.cts_ms, 80);
	assert_ptr_equal(b.data, coded + 8);
	assert_int_equal(b.len, 5);
	/* CodedFramesX, inter: no CTS on the wire */
	const uint8_t codedx[] = {0xa3, 'h', 'v', 'c', '1', 0, 0, 0, 1, 0x02};
	assert_int_equal(flv_parse_video(codedx, sizeof(codedx), &b), 0);
	assert_int_equal(b.kind, FLV_BODY_FRAME);
	assert_false(b.key);
	assert_int_equal(b.cts_ms, 0);
	assert_ptr_equal(b.data, codedx + 5);

	/* mux both forms */
	uint8_t pre[FLV_MAX_PREFIX];
	struct frame f = {.flags = FRAME_KEY, .dts_us = 0, .pts_us = 80000};
	assert_int_equal(flv_body_prefix(&t, &f, pre), 8);
	assert_memory_equal(pre, coded, 8);
	f.flags = 0;
	f.pts_us = 0;
	assert_int_equal(flv_body_prefix(&t, &f, pre), 5);
	assert_memory_equal(pre, codedx, 5);
	track_clear(&t);

	const uint8_t end[] = {0x92, 'h', 'v', 'c', '1'};
	assert_int_equal(flv_parse_video(end, sizeof(end), &b), 0);
	assert_int_equal(b.kind, FLV_BODY_END);
	/* Metadata (FrameType ignored) and command frames carry no video. */
	const uint8_t meta[] = {0x84, 'h', 'v', 'c', '1', 0x02, 0,   9,   'c',
				'o',  'l', 'o', 'r', 'I', 'n',  'f', 'o', 0x06};
	assert_int_equal(flv_parse_video(meta, sizeof(meta), &b), 0);
	assert_int_equal(b.kind, FLV_BODY_IGNORE);
	const uint8_t cmd[] = {0xd1, 'h', 'v', 'c', '1', 0x00};
	assert_int_equal(flv_parse_video(cmd, sizeof(cmd), &b), 0);
	assert_int_equal(b.kind, FLV_BODY_IGNORE);
	const uint8_t ts_start[] = {0x95, 'a', 'v', '0', '1', 0x80};
	assert_int_equal(flv_parse_video(ts_start, sizeof(ts_start), &b), 0);
	assert_int_equal(b.kind, FLV_BODY_IGNORE);
	/* avc1 under the extended header also carries a CTS */
	const uint8_t avc1[] = {0x91, 'a', 'v', 'c', '1', 0xff, 0xff, 0xf6, 0xab};
	assert_int_equal(flv_parse_video(avc1, sizeof(avc1), &b), 0);
	assert_int_equal(b.codec, CODEC_H264);
	assert_int_equal(b.cts_ms, -10);
	assert_int_equal(b.len, 1);
}

static void test_ertmp_av1_vp9(void **state)
{
	(void)state;
	struct flv_body b;
	/* av01 CodedFrames: OBUs straight after the FourCC (no CTS) */
	const uint8_t av1[] = {0x91, 'a', 'v', '0', '1', 0x12, 0x00, 0x32, 0x01, 0xaa};
	assert_int_equal(flv_parse_video(av1, sizeof(av1), &b), 0);
	assert_int_equal(b.kind, FLV_BODY_FRAME);
	assert_int_equal(b.codec, CODEC_AV1);
	assert_true(b.key);
	assert_int_equal(b.cts_ms, 0);
	assert_ptr_equal(b.data, av1 + 5);
	assert_int_equal(b.len, 5);
	const uint8_t vp9[] = {0xa1, 'v', 'p', '0', '9', 0x86, 0x00};
	assert_int_equal(flv_parse_video(vp9, sizeof(vp9), &b), 0);
	assert_int_equal(b.codec, CODEC_VP9);
	assert_false(b.key);
	assert_int_equal(b.len, 2);

	struct track t;
	uint8_t pre[FLV_MAX_PREFIX];
	struct frame key = {.flags = FRAME_KEY, .dts_us = 10, .pts_us = 40010};
	struct frame inter = {.dts_us = 10, .pts_us = 10};
	set_config(&t, CODEC_AV1, NULL, 0);
	assert_int_equal(flv_body_prefix(&t, &key, pre), 5);
	assert_memory_equal(pre, av1, 5);
	t.codec = CODEC_VP9;
	assert_int_equal(flv_body_prefix(&t, &inter, pre), 5);
	assert_memory_equal(pre, vp9, 5);
	struct bytes out = {0};
	assert_int_equal(flv_config_body(&t, &out), -ENOENT); /* VP9 without vpcC */
	const uint8_t av1c[] = {0x81, 0x08, 0x0c, 0x00};
	set_config(&t, CODEC_AV1, av1c, sizeof(av1c));
	assert_int_equal(flv_config_body(&t, &out), 0);
	const uint8_t want[] = {0x90, 'a', 'v', '0', '1', 0x81, 0x08, 0x0c, 0x00};
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.data, want, sizeof(want));
	assert_int_equal(flv_parse_video(out.data, out.len, &b), 0);
	assert_int_equal(b.kind, FLV_BODY_CONFIG);
	assert_int_equal(b.codec, CODEC_AV1);
	assert_int_equal(flv_track_from_config(&t, CODEC_AV1, b.data, b.len), 0);
	assert_int_equal(t.config->len, 4);
	bytes_free(&out);
	track_clear(&t);
}

static void test_video_malformed(void **state)
{
	(void)state;
	struct flv_body b;
	assert_int_equal(flv_parse_video(NULL, 0, &b), -EPROTO);
	const uint8_t h263[] = {0x12, 0x00, 0x00};
	assert_int_equal(flv_parse_video(h263, sizeof(h263), &b), -ENOTSUP);
	const uint8_t avc_short[] = {0x17, 0x01, 0x00, 0x00};
	assert_int_equal(flv_parse_video(avc_short, sizeof(avc_short), &b), -EPROTO);
	const uint8_t avc_type3[] = {0x17, 0x03, 0x00, 0x00, 0x00};
	assert_int_equal(flv_parse_video(avc_type3, sizeof(avc_type3), &b), -EPROTO);
	const uint8_t ex_short[] = {0x91, 'h', 'v', 'c'};
	assert_int_equal(flv_parse_video(ex_short, sizeof(ex_short), &b), -EPROTO);
	const uint8_t cts_short[] = {0x91, 'h', 'v', 'c', '1', 0x00, 0x00};
	assert_int_equal(flv_parse_video(cts_short, sizeof(cts_short), &b), -EPROTO);
	const uint8_t unknown4cc[] = {0x91, 'a', 'b', 'c', 'd', 0x00};
	assert_int_equal(flv_parse_video(unknown4cc, sizeof(unknown4cc), &b), -ENOTSUP);
	const uint8_t multitrack[] = {0x96, 'h', 'v', 'c', '1', 0x00};
	assert_int_equal(flv_parse_video(multitrack, sizeof(multitrack), &b), -ENOTSUP);
	assert_null(b.data);
	srand(5);
	uint8_t buf[16];
	for (int i = 0; i < 100000; i++) {
		size_t n = (size_t)(rand() % (int)sizeof(buf));
		for (size_t j = 0; j < n; j++)
			buf[j] = (uint8_t)rand();
		int rc = flv_parse_video(buf, n, &b);
		if (rc == 0)
			assert_true(b.data >= buf && b.data + b.len == buf + n);
		rc = flv_parse_audio(buf, n, &b);
		if (rc == 0)
			assert_true(b.data >= buf && b.data + b.len == buf + n);
	}
}

static void test_audio(void **state)
{
	(void)state;
	struct flv_body b;
	uint8_t seq[2 + sizeof(asc_ffmpeg)] = {0xaf, 0x00};
	memcpy(seq + 2, asc_ffmpeg, sizeof(asc_ffmpeg));
	assert_int_equal(flv_parse_audio(seq, sizeof(seq), &b), 0);
	assert_int_equal(b.kind, FLV_BODY_CONFIG);
	assert_int_equal(b.type, TRACK_AUDIO);
	assert_int_equal(b.codec, CODEC_AAC);
	assert_int_equal(b.rate, 44100);
	assert_int_equal(b.channels, 2); /* the classic header always says so */
	assert_int_equal(b.bits, 16);
	assert_int_equal(b.len, sizeof(asc_ffmpeg));
	struct track t = {0};
	assert_int_equal(flv_track_from_config(&t, CODEC_AAC, b.data, b.len), 0);
	assert_int_equal(t.type, TRACK_AUDIO);
	assert_int_equal(t.rate, 44100);
	assert_int_equal(t.channels, 1);
	struct bytes out = {0};
	assert_int_equal(flv_config_body(&t, &out), 0);
	assert_memory_equal(out.data, seq, sizeof(seq));
	bytes_free(&out);
	const uint8_t raw[] = {0xaf, 0x01, 0x21, 0x10};
	assert_int_equal(flv_parse_audio(raw, sizeof(raw), &b), 0);
	assert_int_equal(b.kind, FLV_BODY_FRAME);
	assert_int_equal(b.len, 2);
	struct frame f = {0};
	uint8_t pre[FLV_MAX_PREFIX];
	assert_int_equal(flv_body_prefix(&t, &f, pre), 2);
	assert_memory_equal(pre, raw, 2);
	track_clear(&t);

	/* MP3: classic header says 44 kHz stereo; the frame header says
	 * MPEG-1 layer III 48 kHz mono, and wins. */
	const uint8_t mp3[] = {0x2f, 0xff, 0xfb, 0x94, 0xc4, 0x00};
	assert_int_equal(flv_parse_audio(mp3, sizeof(mp3), &b), 0);
	assert_int_equal(b.codec, CODEC_MP3);
	assert_int_equal(b.kind, FLV_BODY_FRAME);
	assert_int_equal(b.rate, 48000);
	assert_int_equal(b.channels, 1);
	assert_ptr_equal(b.data, mp3 + 1);
	const uint8_t mp3_nohdr[] = {0x2a, 0x00};
	assert_int_equal(flv_parse_audio(mp3_nohdr, sizeof(mp3_nohdr), &b), 0);
	assert_int_equal(b.rate, 22050);
	assert_int_equal(b.channels, 1);
	assert_int_equal(b.bits, 16);
	const uint8_t mp3_8k[] = {0xe2};
	assert_int_equal(flv_parse_audio(mp3_8k, 1, &b), 0);
	assert_int_equal(b.codec, CODEC_MP3);
	assert_int_equal(b.rate, 8000);

	set_config(&t, CODEC_MP3, NULL, 0);
	assert_int_equal(flv_config_body(&t, &out), -ENOENT);
	t.rate = 44100;
	t.channels = 2;
	assert_int_equal(flv_body_prefix(&t, &f, pre), 1);
	assert_int_equal(pre[0], 0x2f);
	t.rate = 22050;
	t.channels = 1;
	assert_int_equal(flv_body_prefix(&t, &f, pre), 1);
	assert_int_equal(pre[0], 0x2a);

	const uint8_t speex[] = {0xb6, 0x00};
	assert_int_equal(flv_parse_audio(speex, sizeof(speex), &b), -ENOTSUP);
	const uint8_t aac_short[] = {0xaf};
	assert_int_equal(flv_parse_audio(aac_short, 1, &b), -EPROTO);
	const uint8_t aac_bad[] = {0xaf, 0x02, 0x00};
	assert_int_equal(flv_parse_audio(aac_bad, 3, &b), -EPROTO);
	assert_int_equal(flv_parse_audio(NULL, 0, &b), -EPROTO);
	t.codec = CODEC_OPUS;
	assert_int_equal(flv_body_prefix(&t, &f, pre), -ENOTSUP);
	assert_int_equal(flv_config_body(&t, &out), -ENOTSUP);
	t.codec = CODEC_VP8;
	assert_int_equal(flv_body_prefix(&t, &f, pre), -ENOTSUP);
}

static void test_headers(void **state)
{
	(void)state;
	uint8_t h[FLV_TAG_HEADER_LEN];
	flv_tag_header(h, FLV_TAG_VIDEO, 0x123456, 0x89abcdef);
	const uint8_t want[] = {0x09, 0x12, 0x34, 0x56, 0xab, 0xcd, 0xef, 0x89, 0, 0, 0};
	assert_memory_equal(h, want, sizeof(want));
	struct bytes b = {0};
	assert_int_equal(flv_file_header(&b, true, true), 0);
	assert_int_equal(flv_file_header(&b, false, true), 0);
	assert_int_equal(flv_file_header(&b, true, false), 0);
	const uint8_t fh[] = {'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0,
			      'F', 'L', 'V', 1, 4, 0, 0, 0, 9, 0, 0, 0, 0,
			      'F', 'L', 'V', 1, 1, 0, 0, 0, 9, 0, 0, 0, 0};
	assert_int_equal(b.len, sizeof(fh));
	assert_memory_equal(b.data, fh, sizeof(fh));
	bytes_free(&b);
}

static void test_metadata(void **state)
{
	(void)state;
	struct track v = {.type = TRACK_VIDEO,
			  .codec = CODEC_H264,
			  .width = 640,
			  .height = 360,
			  .fps_milli = 29970};
	struct track a = {
	    .type = TRACK_AUDIO, .codec = CODEC_AAC, .rate = 44100, .channels = 2, .bits = 16};
	struct bytes b = {0};
	assert_int_equal(flv_metadata_body(&b, &v, &a), 0);
	struct amf0_value val[3];
	assert_int_equal(amf0_decode_all(b.data, b.len, val, 3), 2);
	assert_string_equal(val[0].str, "onMetaData");
	assert_int_equal(val[1].type, AMF0_ECMA_ARRAY);
	/* The ECMA count written matches the properties. */
	uint32_t count =
	    (uint32_t)b.data[14] << 24 | b.data[15] << 16 | b.data[16] << 8 | b.data[17];
	assert_int_equal(count, val[1].nprops);
	const struct amf0_value *m = &val[1];
	assert_true(amf0_get_num(m, "duration", -1) == 0);
	assert_true(amf0_get_num(m, "width", 0) == 640);
	assert_true(amf0_get_num(m, "height", 0) == 360);
	assert_true(amf0_get_num(m, "framerate", 0) == 29.97);
	assert_true(amf0_get_num(m, "videocodecid", 0) == 7);
	assert_true(amf0_get_num(m, "audiocodecid", 0) == 10);
	assert_true(amf0_get_num(m, "audiosamplerate", 0) == 44100);
	assert_true(amf0_get_num(m, "audiosamplesize", 0) == 16);
	assert_true(amf0_get(m, "stereo")->boolean);
	assert_string_equal(amf0_get_str(m, "encoder"), "weir");
	amf0_free_all(val, 2);
	bytes_reset(&b);

	/* Enhanced codecs: videocodecid is the FourCC ('hvc1' = 1752589105). */
	v.codec = CODEC_H265;
	a.codec = CODEC_MP3;
	a.channels = 1;
	assert_int_equal(flv_metadata_body(&b, &v, &a), 0);
	assert_int_equal(amf0_decode_all(b.data, b.len, val, 3), 2);
	assert_true(amf0_get_num(&val[1], "videocodecid", 0) == 1752589105.0);
	assert_true(amf0_get_num(&val[1], "audiocodecid", 0) == 2);
	assert_false(amf0_get(&val[1], "stereo")->boolean);
	amf0_free_all(val, 2);
	bytes_reset(&b);
	v.codec = CODEC_AV1;
	assert_int_equal(flv_metadata_body(&b, &v, NULL), 0);
	assert_int_equal(amf0_decode_all(b.data, b.len, val, 3), 2);
	assert_true(amf0_get_num(&val[1], "videocodecid", 0) == 1635135537.0); /* spec example */
	assert_null(amf0_get(&val[1], "audiocodecid"));
	amf0_free_all(val, 2);
	bytes_free(&b);
}

static void test_track_from_config(void **state)
{
	(void)state;
	struct track t = {.rate = 1, .lang = "eng"};
	/* MP3: rate and channels from the frame header; no config */
	const uint8_t mp3[] = {0xff, 0xf3, 0x40, 0xc4};
	assert_int_equal(flv_track_from_config(&t, CODEC_MP3, mp3, sizeof(mp3)), 0);
	assert_int_equal(t.codec, CODEC_MP3);
	assert_int_equal(t.type, TRACK_AUDIO);
	assert_int_equal(t.rate, 22050);
	assert_int_equal(t.channels, 1);
	assert_null(t.config);
	assert_string_equal(t.lang, "eng"); /* untouched */
	/* A bad config leaves the track as it was. */
	assert_int_equal(flv_track_from_config(&t, CODEC_H264, avc_seq, 4), -EPROTO);
	assert_int_equal(t.codec, CODEC_MP3);
	assert_int_equal(flv_track_from_config(&t, CODEC_AAC, mp3, 1), -EPROTO);
	assert_int_equal(flv_track_from_config(&t, CODEC_AAC, NULL, 0), -EPROTO);
	assert_int_equal(flv_track_from_config(&t, CODEC_NONE, mp3, 4), -EINVAL);
	/* Config replacement drops the old reference (LeakSanitizer checks). */
	assert_int_equal(flv_track_from_config(&t, CODEC_H264, avc_seq + 5, sizeof(avc_seq) - 5),
			 0);
	struct wbuf *old = wbuf_ref(t.config);
	assert_int_equal(flv_track_from_config(&t, CODEC_H265, hvcc_1080, sizeof(hvcc_1080)), 0);
	assert_ptr_not_equal(t.config, old);
	assert_int_equal(t.width, 1920);
	assert_int_equal(t.codec, CODEC_H265);
	wbuf_unref(old);
	track_clear(&t);
}

/* Walks a real FLV file tag by tag. */
struct walk {
	int video_tags, audio_tags, script_tags, frames_with_cts, video_frames, audio_frames;
	struct track video, audio;
	bool first_video_frame_key, meta_ok;
};

static void check_roundtrip(const struct track *t, const struct flv_body *b, uint32_t ts_ms,
			    const uint8_t *body, size_t len)
{
	struct frame f = {.flags = b->key ? FRAME_KEY : 0,
			  .dts_us = (int64_t)ts_ms * 1000,
			  .pts_us = ((int64_t)ts_ms + b->cts_ms) * 1000};
	uint8_t pre[FLV_MAX_PREFIX];
	int n = flv_body_prefix(t, &f, pre);
	assert_true(n > 0);
	assert_int_equal((size_t)n + b->len, len);
	assert_memory_equal(pre, body, (size_t)n);
}

static void walk_tag(struct walk *w, unsigned type, uint32_t ts, const uint8_t *body, size_t n)
{
	struct flv_body b;
	if (type == FLV_TAG_SCRIPT) {
		struct amf0_value v[2];
		assert_int_equal(amf0_decode_all(body, n, v, 2), 2);
		w->meta_ok = !strcmp(v[0].str, "onMetaData") &&
			     amf0_get_num(&v[1], "width", 0) == 640 &&
			     amf0_get_num(&v[1], "videocodecid", 0) == 7;
		amf0_free_all(v, 2);
		w->script_tags++;
		return;
	}
	struct track *t = type == FLV_TAG_VIDEO ? &w->video : &w->audio;
	int rc =
	    type == FLV_TAG_VIDEO ? flv_parse_video(body, n, &b) : flv_parse_audio(body, n, &b);
	assert_int_equal(rc, 0);
	if (type == FLV_TAG_VIDEO && w->video_tags++ == 0)
		assert_int_equal(b.kind, FLV_BODY_CONFIG);
	if (type == FLV_TAG_AUDIO && w->audio_tags++ == 0 && b.codec == CODEC_AAC)
		assert_int_equal(b.kind, FLV_BODY_CONFIG);
	if (b.kind == FLV_BODY_CONFIG) {
		assert_int_equal(flv_track_from_config(t, b.codec, b.data, b.len), 0);
		struct bytes cfg = {0};
		assert_int_equal(flv_config_body(t, &cfg), 0);
		assert_int_equal(cfg.len, n);
		assert_memory_equal(cfg.data, body, n);
		bytes_free(&cfg);
		return;
	}
	if (b.kind != FLV_BODY_FRAME)
		return;
	if (b.codec == CODEC_MP3 && t->codec == CODEC_NONE)
		assert_int_equal(flv_track_from_config(t, CODEC_MP3, b.data, b.len), 0);
	if (type == FLV_TAG_VIDEO) {
		if (w->video_frames++ == 0)
			w->first_video_frame_key = b.key;
		w->frames_with_cts += b.cts_ms > 0;
		assert_true(b.cts_ms >= 0);
	} else {
		w->audio_frames++;
	}
	check_roundtrip(t, &b, ts, body, n);
}

static void walk_file(const char *name, struct walk *w)
{
	size_t len;
	uint8_t *p = load(name, &len);
	memset(w, 0, sizeof(*w));
	assert_true(len >= 13);
	assert_memory_equal(p, "FLV\x01", 4);
	size_t pos = rd_be32(p + 5) + 4; /* DataOffset + PreviousTagSize0 */
	while (pos < len) {
		assert_true(len - pos >= FLV_TAG_HEADER_LEN + 4);
		const uint8_t *h = p + pos;
		uint32_t n = rd_be24(h + 1), ts = rd_be24(h + 4) | (uint32_t)h[7] << 24;
		assert_true(len - pos - FLV_TAG_HEADER_LEN - 4 >= n);
		uint8_t mine[FLV_TAG_HEADER_LEN];
		flv_tag_header(mine, h[0], n, ts);
		assert_memory_equal(mine, h, FLV_TAG_HEADER_LEN);
		walk_tag(w, h[0], ts, h + FLV_TAG_HEADER_LEN, n);
		assert_int_equal(rd_be32(h + FLV_TAG_HEADER_LEN + n), FLV_TAG_HEADER_LEN + n);
		pos += FLV_TAG_HEADER_LEN + n + 4;
	}
	assert_int_equal(pos, len);
	free(p);
}

static void test_real_h264_aac(void **state)
{
	(void)state;
	struct walk w;
	walk_file("flv_h264_aac_640x360.flv", &w);
	assert_int_equal(w.script_tags, 1);
	assert_true(w.meta_ok);
	assert_int_equal(w.video.codec, CODEC_H264);
	assert_int_equal(w.video.width, 640);
	assert_int_equal(w.video.height, 360);
	assert_int_equal(w.video.fps_milli, 25000);
	assert_int_equal(w.audio.codec, CODEC_AAC);
	assert_int_equal(w.audio.rate, 44100);
	assert_int_equal(w.audio.channels, 1);
	assert_true(w.first_video_frame_key);
	assert_int_equal(w.video_frames, 25);
	assert_true(w.frames_with_cts > 10); /* B-frames */
	assert_true(w.audio_frames >= 43 && w.audio_frames <= 45);
	track_clear(&w.video);
	track_clear(&w.audio);
}

static void test_real_mp3(void **state)
{
	(void)state;
	struct walk w;
	walk_file("flv_mp3_22050_mono.flv", &w);
	assert_int_equal(w.audio.codec, CODEC_MP3);
	assert_int_equal(w.audio.rate, 22050);
	assert_int_equal(w.audio.channels, 1);
	assert_int_equal(w.video_tags, 0);
	assert_true(w.audio_frames >= 7);
	track_clear(&w.audio);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_avc_classic),       cmocka_unit_test(test_cts_rounding),
	    cmocka_unit_test(test_ertmp_hvc1),        cmocka_unit_test(test_ertmp_av1_vp9),
	    cmocka_unit_test(test_video_malformed),   cmocka_unit_test(test_audio),
	    cmocka_unit_test(test_headers),           cmocka_unit_test(test_metadata),
	    cmocka_unit_test(test_track_from_config), cmocka_unit_test(test_real_h264_aac),
	    cmocka_unit_test(test_real_mp3),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
