/* Annex B <-> length-prefixed NAL units and avcC/hvcC records built from
 * parameter sets. Golden records: the avcC/hvcC ffmpeg 5.1 writes to MP4
 * (-c copy) for tests/data/ts_h264_aac.ts (libx264 High 320x240) and
 * ts_h265_aac.ts (libx265 Main 320x240). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "media/annexb.h"

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

/* Collects annexb_next() results as "offset:len" pairs. */
static unsigned split(const uint8_t *p, size_t len, size_t *off, size_t *n, unsigned max)
{
	size_t pos = 0, l;
	const uint8_t *nal;
	unsigned k = 0;
	while (annexb_next(p, len, &pos, &nal, &l)) {
		assert_true(k < max);
		assert_true(nal >= p && nal + l <= p + len);
		off[k] = (size_t)(nal - p);
		n[k++] = l;
	}
	assert_int_equal(pos, len);
	return k;
}

static void test_next_start_codes(void **state)
{
	/* garbage, 4-byte code, NAL, 3-byte code, NAL with trailing zeros,
	 * empty NAL, NAL, lone start code at the end */
	static const uint8_t s[] = {0xaa, 0x00, 0x00, 0x00, 0x01, 0x09, 0xf0, 0x00, 0x00,
				    0x01, 0x67, 0x42, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
				    0x00, 0x01, 0x68, 0xce, 0x00, 0x00, 0x01};
	size_t off[8], n[8];
	assert_int_equal(split(s, sizeof(s), off, n, 8), 3);
	assert_int_equal(off[0], 5);
	assert_int_equal(n[0], 2);
	assert_int_equal(off[1], 10);
	assert_int_equal(n[1], 2); /* 67 42, zeros belong to the next code */
	assert_int_equal(off[2], 20);
	assert_int_equal(n[2], 2);
	/* no start code at all, short buffers */
	static const uint8_t none[] = {0x00, 0x00, 0x02, 0x01, 0x00};
	assert_int_equal(split(none, sizeof(none), off, n, 8), 0);
	assert_int_equal(split(none, 0, off, n, 8), 0);
	assert_int_equal(split(s + 1, 3, off, n, 8), 0);
	/* 00 00 01 directly followed by 00 00 01: empty NAL skipped */
	static const uint8_t two[] = {0, 0, 1, 0, 0, 1, 0x41, 0x9a};
	assert_int_equal(split(two, sizeof(two), off, n, 8), 1);
	assert_int_equal(off[0], 6);
	assert_int_equal(n[0], 2);
}

static void test_to_lp_golden(void **state)
{
	static const uint8_t in[] = {0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00};
	static const uint8_t want[] = {0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 3, 0x65, 0x88, 0x84};
	struct bytes out = {0};
	assert_int_equal(annexb_to_lp(in, sizeof(in), &out), 0);
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.data, want, sizeof(want));
	/* and back: 4-byte start codes */
	struct bytes back = {0};
	assert_int_equal(annexb_from_lp(out.data, out.len, 4, &back), 0);
	static const uint8_t ab[] = {0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x65, 0x88, 0x84};
	assert_int_equal(back.len, sizeof(ab));
	assert_memory_equal(back.data, ab, sizeof(ab));
	bytes_free(&out);
	bytes_free(&back);
}

static void test_from_lp_sizes(void **state)
{
	static const uint8_t l1[] = {2, 0x09, 0xf0, 0, 1, 0x41};
	static const uint8_t l2[] = {0, 2, 0x09, 0xf0, 0, 1, 0x41};
	static const uint8_t want[] = {0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x41};
	struct bytes out = {0};
	assert_int_equal(annexb_from_lp(l1, sizeof(l1), 1, &out), 0);
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.data, want, sizeof(want));
	bytes_reset(&out);
	assert_int_equal(annexb_from_lp(l2, sizeof(l2), 2, &out), 0);
	assert_memory_equal(out.data, want, sizeof(want));
	/* bad size, overrunning length, truncated length: nothing appended */
	bytes_reset(&out);
	assert_int_equal(annexb_from_lp(l2, sizeof(l2), 3, &out), -EINVAL);
	static const uint8_t over[] = {0, 0, 0, 9, 0x41, 0x9a};
	assert_int_equal(annexb_from_lp(over, sizeof(over), 4, &out), -EPROTO);
	static const uint8_t trunc[] = {0, 0, 0, 1, 0x41, 0, 0};
	assert_int_equal(annexb_from_lp(trunc, sizeof(trunc), 4, &out), -EPROTO);
	assert_int_equal(out.len, 0);
	bytes_free(&out);
}

static void test_ps_add(void **state)
{
	struct annexb_ps ps = {0};
	static const uint8_t sps[] = {0x67, 0x42}, pps[] = {0x68, 0xce}, idr[] = {0x65, 0x88};
	assert_int_equal(annexb_ps_add(&ps, CODEC_H264, sps, 2), 1);
	assert_int_equal(annexb_ps_add(&ps, CODEC_H264, sps, 2), 1); /* repeat: kept once */
	assert_int_equal(annexb_ps_add(&ps, CODEC_H264, pps, 2), 1);
	assert_int_equal(annexb_ps_add(&ps, CODEC_H264, idr, 2), 0);
	assert_int_equal(annexb_ps_add(&ps, CODEC_H264, idr, 0), 0);
	assert_int_equal(ps.nsps, 1);
	assert_int_equal(ps.npps, 1);
	uint8_t many[ANNEXB_MAX_PS + 1][2];
	for (int i = 0; i <= ANNEXB_MAX_PS; i++) {
		many[i][0] = 0x68;
		many[i][1] = (uint8_t)i;
	}
	for (int i = 1; i < ANNEXB_MAX_PS; i++)
		assert_int_equal(annexb_ps_add(&ps, CODEC_H264, many[i], 2), 1);
	assert_int_equal(annexb_ps_add(&ps, CODEC_H264, many[ANNEXB_MAX_PS], 2), -ENOSPC);
	/* H.265 types; a 1-byte NAL is not even a header */
	static const uint8_t vps[] = {0x40, 0x01}, aud[] = {0x46, 0x01};
	struct annexb_ps h = {0};
	assert_int_equal(annexb_ps_add(&h, CODEC_H265, vps, 2), 1);
	assert_int_equal(annexb_ps_add(&h, CODEC_H265, aud, 2), 0);
	assert_int_equal(annexb_ps_add(&h, CODEC_H265, vps, 1), 0);
	assert_int_equal(h.nvps, 1);
	assert_int_equal(annexb_nal_type(CODEC_H265, aud, 2), ANNEXB_H265_AUD);
	assert_int_equal(annexb_nal_type(CODEC_AAC, aud, 2), -1);
}

static void rebuild(enum codec c, const uint8_t *rec, size_t len)
{
	struct annexb_ps ps;
	unsigned nls = 0;
	assert_int_equal(annexb_ps_from_config(c, rec, len, &ps, &nls), 0);
	assert_int_equal(nls, 4);
	assert_int_equal(ps.nsps, 1);
	assert_int_equal(ps.npps, 1);
	assert_int_equal(ps.nvps, c == CODEC_H265 ? 1 : 0);
	/* Through Annex B and back into a set: the same record. */
	struct bytes ab = {0}, out = {0};
	assert_int_equal(annexb_ps_write(&ps, &ab), 0);
	struct annexb_ps again = {0};
	size_t pos = 0, n;
	const uint8_t *nal;
	while (annexb_next(ab.data, ab.len, &pos, &nal, &n))
		assert_int_equal(annexb_ps_add(&again, c, nal, n), 1);
	assert_int_equal(annexb_make_config(c, &again, &out), 0);
	assert_int_equal(out.len, len);
	assert_memory_equal(out.data, rec, len);
	bytes_free(&ab);
	bytes_free(&out);
}

static void test_make_config_matches_ffmpeg(void **state)
{
	rebuild(CODEC_H264, ff_avcc, sizeof(ff_avcc));
	rebuild(CODEC_H265, ff_hvcc, sizeof(ff_hvcc));
}

static void test_make_config_errors(void **state)
{
	struct annexb_ps ps;
	struct bytes out = {0};
	assert_int_equal(annexb_ps_from_config(CODEC_H264, ff_avcc, sizeof(ff_avcc), &ps, NULL), 0);
	bytes_put_u8(&out, 0xee); /* existing content stays as is on failure */
	ps.npps = 0;
	assert_int_equal(annexb_make_config(CODEC_H264, &ps, &out), -ENOENT);
	assert_int_equal(annexb_make_config(CODEC_AAC, &ps, &out), -EINVAL);
	assert_int_equal(annexb_ps_from_config(CODEC_H265, ff_hvcc, sizeof(ff_hvcc), &ps, NULL), 0);
	ps.nvps = 0;
	assert_int_equal(annexb_make_config(CODEC_H265, &ps, &out), -ENOENT);
	/* an SPS cut short is unreadable */
	assert_int_equal(annexb_ps_from_config(CODEC_H265, ff_hvcc, sizeof(ff_hvcc), &ps, NULL), 0);
	ps.sps_len[0] = 8;
	assert_int_equal(annexb_make_config(CODEC_H265, &ps, &out), -EPROTO);
	assert_int_equal(out.len, 1);
	/* truncated and foreign records */
	assert_int_equal(annexb_ps_from_config(CODEC_H264, ff_avcc, 10, &ps, NULL), -EPROTO);
	assert_int_equal(annexb_ps_from_config(CODEC_H265, ff_hvcc, 40, &ps, NULL), -EPROTO);
	assert_int_equal(annexb_ps_from_config(CODEC_H265, ff_hvcc, 22, &ps, NULL), -EPROTO);
	assert_int_equal(annexb_ps_from_config(CODEC_AAC, ff_hvcc, 22, &ps, NULL), -EINVAL);
	bytes_free(&out);
}

/* Arbitrary bytes: splitting stays inside the buffer, and converting to
 * length-prefixed and back gives the same NAL units. */
static void test_random_roundtrip(void **state)
{
	uint32_t seed = 12345;
	uint8_t buf[512];
	for (int iter = 0; iter < 2000; iter++) {
		size_t len = (size_t)(iter % 97) * 5;
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			unsigned r = (seed >> 16) & 0xff;
			buf[i] = r < 90 ? 0 : r < 120 ? 1 : (uint8_t)r;
		}
		struct bytes lp = {0}, ab = {0}, lp2 = {0};
		assert_int_equal(annexb_to_lp(buf, len, &lp), 0);
		assert_int_equal(annexb_from_lp(lp.data, lp.len, 4, &ab), 0);
		assert_int_equal(annexb_to_lp(ab.data, ab.len, &lp2), 0);
		assert_int_equal(lp.len, lp2.len);
		if (lp.len)
			assert_memory_equal(lp.data, lp2.data, lp.len);
		struct annexb_ps ps;
		(void)annexb_ps_from_config(CODEC_H265, buf, len, &ps, NULL);
		(void)annexb_ps_from_config(CODEC_H264, buf, len, &ps, NULL);
		bytes_free(&lp);
		bytes_free(&ab);
		bytes_free(&lp2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_next_start_codes),
	    cmocka_unit_test(test_to_lp_golden),
	    cmocka_unit_test(test_from_lp_sizes),
	    cmocka_unit_test(test_ps_add),
	    cmocka_unit_test(test_make_config_matches_ffmpeg),
	    cmocka_unit_test(test_make_config_errors),
	    cmocka_unit_test(test_random_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
