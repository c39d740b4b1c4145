/* RFC 6381 codec strings from real codec configuration records.
 *
 * Every "real" record below was written by ffmpeg 5.1 into an MP4 (the
 * avcC/hvcC/av1C/vpcC box payloads, the HEVC ones cut after the 23-byte
 * fixed header) from -f lavfi testsrc with the encoder named; the expected
 * strings were cross-checked once against mp4box.js 0.5.2 getCodec() (which
 * writes the HEVC hex in lowercase: "hvc1.4.10.L60.9e.8") and, for avc1/
 * av01/vp09/mp4a, against ffmpeg's own DASH muxer. The H.264 and AAC ones
 * are also read from tests/data/flv_h264_aac_640x360.flv, which ffprobe
 * reports as High@3.0 (avc1.64001e) and AAC LC. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/bytes.h"
#include "media/codecstr.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

/* codec_string() of a track with the given config (NULL = none). */
static void check_cfg(enum codec codec, const uint8_t *cfg, size_t len, uint32_t profile,
		      uint32_t level, const char *want)
{
	struct track t = {.type = codec_type(codec), .codec = codec};
	t.profile = profile;
	t.level = level;
	if (cfg)
		assert_non_null(t.config = wbuf_from(cfg, len));
	char out[64];
	memset(out, 'x', sizeof(out));
	int n = codec_string(&t, out, sizeof(out));
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(out, want);
	wbuf_unref(t.config);
}

static void check(enum codec codec, const uint8_t *cfg, size_t len, const char *want)
{
	check_cfg(codec, cfg, len, 0, 0, want);
}

/* Returns the body of the first tag of the given type whose packet type
 * byte (body[1]) is 0: the sequence header / AudioSpecificConfig. */
static size_t flv_config_tag(const uint8_t *f, size_t len, uint8_t type, const uint8_t **body)
{
	size_t o = rd_be32(f + 5) + 4; /* header, PreviousTagSize0 */
	while (o + 11 <= len) {
		size_t size = rd_be24(f + o + 1);
		if (o + 11 + size > len)
			break;
		const uint8_t *b = f + o + 11;
		if (f[o] == type && size > 2 && b[1] == 0) {
			*body = b;
			return size;
		}
		o += 11 + size + 4;
	}
	return 0;
}

static void test_flv_file(void **state)
{
	(void)state;
	FILE *fp = fopen(TEST_DATA_DIR "/flv_h264_aac_640x360.flv", "rb");
	assert_non_null(fp);
	static uint8_t file[1 << 20];
	size_t len = fread(file, 1, sizeof(file), fp);
	fclose(fp);
	assert_true(len > 13 && len < sizeof(file));
	const uint8_t *body;
	size_t n = flv_config_tag(file, len, 9, &body);
	assert_true(n > 5);
	assert_int_equal(body[0], 0x17); /* keyframe, AVC */
	check(CODEC_H264, body + 5, n - 5, "avc1.64001e");
	n = flv_config_tag(file, len, 8, &body);
	assert_true(n > 2);
	assert_int_equal(body[0] >> 4, 10); /* AAC */
	check(CODEC_AAC, body + 2, n - 2, "mp4a.40.2");
}

static void test_h264(void **state)
{
	(void)state;
	/* libx264 -profile:v main 1280x720 / baseline 320x240 (avcC heads) */
	const uint8_t main_[] = {0x01, 0x4d, 0x40, 0x1f, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x4d};
	const uint8_t base[] = {0x01, 0x42, 0xc0, 0x0d, 0xff, 0xe1, 0x00, 0x18, 0x67, 0x42};
	/* libx264 on RGB input: High 4:4:4 Predictive */
	const uint8_t hi444[] = {0x01, 0xf4, 0x00, 0x0d, 0xff, 0xe1};
	check(CODEC_H264, main_, sizeof(main_), "avc1.4d401f");
	check(CODEC_H264, base, sizeof(base), "avc1.42c00d");
	check(CODEC_H264, hi444, sizeof(hi444), "avc1.f4000d");
	/* the config wins over the track fields */
	check_cfg(CODEC_H264, base, sizeof(base), 100, 40, "avc1.42c00d");
	/* fields, then defaults */
	check_cfg(CODEC_H264, NULL, 0, 77, 40, "avc1.4d0028");
	check_cfg(CODEC_H264, NULL, 0, 66, 0, "avc1.42001f");
	check(CODEC_H264, NULL, 0, "avc1.64001f");
	/* unusable records: too short, wrong configurationVersion */
	check_cfg(CODEC_H264, main_, 3, 100, 30, "avc1.64001e");
	const uint8_t v0[] = {0x00, 0x4d, 0x40, 0x1f};
	check_cfg(CODEC_H264, v0, sizeof(v0), 100, 30, "avc1.64001e");
}

static void test_h265(void **state)
{
	(void)state;
	/* libx265 yuv420p 640x360: Main, level 2.1 */
	const uint8_t main_[] = {0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00,
				 0x00, 0x00, 0x00, 0x00, 0x3f, 0xf0, 0x00, 0xfc,
				 0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x04};
	/* libx265 -profile:v main10 1920x1080: level 4 */
	const uint8_t main10[] = {0x01, 0x02, 0x20, 0x00, 0x00, 0x00, 0x90, 0x00,
				  0x00, 0x00, 0x00, 0x00, 0x78, 0xf0, 0x00, 0xfc,
				  0xfd, 0xfa, 0xfa, 0x00, 0x00, 0x0f, 0x04};
	/* libx265 on RGB input: RExt 4:4:4 with two constraint bytes */
	const uint8_t rext[] = {0x01, 0x04, 0x08, 0x00, 0x00, 0x00, 0x9e, 0x08,
				0x00, 0x00, 0x00, 0x00, 0x3c, 0xf0, 0x00, 0xfc,
				0xff, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x04};
	check(CODEC_H265, main_, sizeof(main_), "hvc1.1.6.L63.90");
	check(CODEC_H265, main10, sizeof(main10), "hvc1.2.4.L120.90");
	check(CODEC_H265, rext, sizeof(rext), "hvc1.4.10.L60.9E.8");
	/* The ISO 14496-15 Annex E example: Main, compat Main+Main10,
	 * level 3.1, progressive/non-packed/frame-only. */
	const uint8_t annex_e[13] = {0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0xb0, 0, 0, 0, 0, 0, 93};
	check(CODEC_H265, annex_e, sizeof(annex_e), "hvc1.1.6.L93.B0");
	check(CODEC_H265, annex_e, 12, "hvc1.1.6.L93.B0"); /* short: fields/defaults */
	/* profile space B, high tier, inner zero bytes kept, trailing ones not */
	const uint8_t odd[13] = {0x01, 0xa2, 0x60, 0x00, 0x00, 0x00, 0xb0, 0, 0, 0, 0x01, 0, 153};
	check(CODEC_H265, odd, sizeof(odd), "hvc1.B2.6.H153.B0.0.0.0.1");
	/* space A and C, all compatibility flags, all six bytes, none at all */
	const uint8_t all[13] = {0x01, 0x41, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 0xff, 186};
	check(CODEC_H265, all, sizeof(all), "hvc1.A1.FFFFFFFF.L186.1.2.3.4.5.FF");
	const uint8_t none[13] = {0x01, 0xc3, 0x10, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 30};
	check(CODEC_H265, none, sizeof(none), "hvc1.C3.8.L30");
	/* fields, then defaults */
	check_cfg(CODEC_H265, NULL, 0, 2, 150, "hvc1.2.4.L150.B0");
	check_cfg(CODEC_H265, NULL, 0, 4, 0, "hvc1.4.10.L93.B0");
	check(CODEC_H265, NULL, 0, "hvc1.1.6.L93.B0");
}

static void test_av1(void **state)
{
	(void)state;
	/* libaom-av1: yuv420p, yuv420p10le, and RGB input (profile 1) */
	const uint8_t main8[] = {0x81, 0x00, 0x0c, 0x00, 0x0a, 0x0b, 0x00, 0x00, 0x00, 0x04};
	const uint8_t main10[] = {0x81, 0x00, 0x4c, 0x00, 0x0a, 0x0b, 0x00, 0x00, 0x00, 0x04};
	const uint8_t high[] = {0x81, 0x20, 0x00, 0x00, 0x0a, 0x0d, 0x20, 0x00, 0x00, 0x04};
	check(CODEC_AV1, main8, sizeof(main8), "av01.0.00M.08");
	check(CODEC_AV1, main10, sizeof(main10), "av01.0.00M.10");
	check(CODEC_AV1, high, sizeof(high), "av01.1.00M.08");
	/* profile 2 (professional): 12 bit needs twelve_bit; high tier; level 13 */
	const uint8_t pro12[4] = {0x81, 0x4d, 0xe0, 0x00};
	const uint8_t pro10[4] = {0x81, 0x4d, 0xc0, 0x00};
	/* twelve_bit outside profile 2 is meaningless: 10 bit */
	const uint8_t main_tw[4] = {0x81, 0x08, 0x60, 0x00};
	check(CODEC_AV1, pro12, 4, "av01.2.13H.12");
	check(CODEC_AV1, pro10, 4, "av01.2.13H.10");
	check(CODEC_AV1, main_tw, 4, "av01.0.08M.10");
	/* unusable: wrong marker/version, too short */
	const uint8_t bad[4] = {0x01, 0x4d, 0xe0, 0x00};
	check(CODEC_AV1, bad, 4, "av01.0.04M.08");
	check(CODEC_AV1, pro12, 3, "av01.0.04M.08");
	check_cfg(CODEC_AV1, NULL, 0, 1, 9, "av01.1.09M.08");
}

static void test_vp9(void **state)
{
	(void)state;
	/* libvpx-vp9: vpcC box payloads (version 1 + flags, then the record) */
	const uint8_t p0[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x14,
			      0x82, 0x02, 0x02, 0x02, 0x00, 0x00};
	const uint8_t p1[] = {0x01, 0x00, 0x00, 0x00, 0x01, 0x14,
			      0x87, 0x02, 0x02, 0x00, 0x00, 0x00};
	check(CODEC_VP9, p0, sizeof(p0), "vp09.00.20.08");
	check(CODEC_VP9, p1, sizeof(p1), "vp09.01.20.08");
	/* the bare record (no FullBox header) */
	check(CODEC_VP9, p0 + 4, sizeof(p0) - 4, "vp09.00.20.08");
	/* profile 2, 10 bit, level 3.1 */
	const uint8_t p2[] = {0x02, 0x1f, 0xa2, 0x09, 0x10, 0x09, 0x00, 0x00};
	check(CODEC_VP9, p2, sizeof(p2), "vp09.02.31.10");
	/* level 0 (not signalled): the track's, else 1 */
	const uint8_t nolevel[] = {0x00, 0x00, 0x82, 0x02, 0x02, 0x02, 0x00, 0x00};
	check(CODEC_VP9, nolevel, sizeof(nolevel), "vp09.00.10.08");
	check_cfg(CODEC_VP9, nolevel, sizeof(nolevel), 0, 41, "vp09.00.41.08");
	/* no or unusable vpcC */
	check(CODEC_VP9, NULL, 0, "vp09.00.10.08");
	const uint8_t junk[] = {0x00, 0x14, 0x72}; /* bit depth 7 */
	check(CODEC_VP9, junk, sizeof(junk), "vp09.00.10.08");
	check_cfg(CODEC_VP9, NULL, 0, 2, 0, "vp09.02.10.10");
	check_cfg(CODEC_VP9, NULL, 0, 1, 52, "vp09.01.52.08");
}

static void test_audio(void **state)
{
	(void)state;
	const uint8_t lc[] = {0x12, 0x08, 0x56, 0xe5, 0x00};    /* ffmpeg aac, 44.1k mono */
	const uint8_t he[] = {0x2b, 0x92, 0x08, 0x00};          /* explicit SBR */
	const uint8_t hev2[] = {0xeb, 0x09, 0x88, 0x00};        /* explicit PS */
	const uint8_t he_bc[] = {0x13, 0x10, 0x56, 0xe5, 0x98}; /* LC + 0x2b7 SBR */
	const uint8_t hev2_bc[] = {0x13, 0x10, 0x56, 0xe5, 0x9d, 0x48, 0x80}; /* + 0x548 PS */
	const uint8_t usac[] = {0xf9, 0x46, 0x40};                            /* escaped AOT 42 */
	check(CODEC_AAC, lc, sizeof(lc), "mp4a.40.2");
	check(CODEC_AAC, he, sizeof(he), "mp4a.40.5");
	check(CODEC_AAC, hev2, sizeof(hev2), "mp4a.40.29");
	check(CODEC_AAC, he_bc, sizeof(he_bc), "mp4a.40.5");
	check(CODEC_AAC, hev2_bc, sizeof(hev2_bc), "mp4a.40.29");
	check(CODEC_AAC, usac, sizeof(usac), "mp4a.40.42");
	check(CODEC_AAC, NULL, 0, "mp4a.40.2");
	check(CODEC_AAC, he, 1, "mp4a.40.2"); /* unparsable: LC */
	check(CODEC_MP3, NULL, 0, "mp4a.40.34");
	/* Opus: the dOps of ffmpeg's libopus MP4 (OpusHead contents) */
	const uint8_t dops[] = {0x00, 0x01, 0x01, 0x38, 0x00, 0x00, 0xbb, 0x80, 0x00, 0x00, 0x00};
	check(CODEC_OPUS, dops, sizeof(dops), "opus");
	check(CODEC_VP8, NULL, 0, "vp8");
}

static void test_errors(void **state)
{
	(void)state;
	struct track t = {.type = TRACK_AUDIO, .codec = CODEC_OPUS};
	char out[8];
	memset(out, 'x', sizeof(out));
	assert_int_equal(codec_string(&t, out, 5), 4);
	assert_string_equal(out, "opus");
	memset(out, 'x', sizeof(out));
	assert_int_equal(codec_string(&t, out, 4), -ENOSPC); /* no room for the NUL */
	assert_int_equal(out[0], 'x');
	assert_int_equal(codec_string(&t, NULL, 0), -ENOSPC);
	assert_int_equal(codec_string(NULL, out, sizeof(out)), -EINVAL);
	t.codec = CODEC_NONE;
	assert_int_equal(codec_string(&t, out, sizeof(out)), -ENOTSUP);
	t.codec = CODEC_COUNT;
	assert_int_equal(codec_string(&t, out, sizeof(out)), -ENOTSUP);
	t.codec = (enum codec) - 1;
	assert_int_equal(codec_string(&t, out, sizeof(out)), -ENOTSUP);
	/* the longest possible HEVC string fits the caller's 64 bytes */
	const uint8_t big[13] = {1,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				 0xff, 0xff, 0xff, 0xff, 0xff, 255};
	struct track h = {.type = TRACK_VIDEO, .codec = CODEC_H265};
	assert_non_null(h.config = wbuf_from(big, sizeof(big)));
	char s[64];
	const char *want = "hvc1.C31.FFFFFFFF.H255.FF.FF.FF.FF.FF.FF";
	assert_int_equal(codec_string(&h, s, sizeof(s)), (int)strlen(want));
	assert_string_equal(s, want);
	assert_int_equal(codec_string(&h, s, strlen(want)), -ENOSPC);
	assert_int_equal(codec_string(&h, s, strlen(want) + 1), (int)strlen(want));
	wbuf_unref(h.config);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flv_file), cmocka_unit_test(test_h264),
	    cmocka_unit_test(test_h265),     cmocka_unit_test(test_av1),
	    cmocka_unit_test(test_vp9),      cmocka_unit_test(test_audio),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
