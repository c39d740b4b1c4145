/* H.265 SPS and hvcC parsing: real libx265 parameter sets (captured once
 * with ffmpeg -f lavfi -i testsrc2=... -c:v libx265 -frames:v 1 -f hevc),
 * an SPS with sub-layer profile/level built from the syntax of 7.3.3, and
 * malformed input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "media/h265.h"

/* 1280x720 Main, level 3.1 (93) */
static const uint8_t sps_1280x720[] = {
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
    0x03, 0x00, 0x5d, 0xa0, 0x02, 0x80, 0x80, 0x2d, 0x16, 0x59, 0x59, 0xa4, 0x93, 0x2b, 0xc0,
    0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x10,
};
/* 1920x1080 Main, level 4 (120) */
static const uint8_t sps_1920x1080[] = {
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00,
    0x00, 0x03, 0x00, 0x78, 0xa0, 0x03, 0xc0, 0x80, 0x10, 0xe5, 0x96, 0x56, 0x69, 0x24,
    0xca, 0xf0, 0x16, 0x80, 0x80, 0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x0f, 0x04,
};
/* 854x480 yuv420p10le: Main 10, coded 856 wide with a conformance window */
static const uint8_t sps_854[] = {
    0x42, 0x01, 0x01, 0x02, 0x20, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
    0x03, 0x00, 0x5a, 0xa0, 0x06, 0xb2, 0x01, 0xe1, 0xd6, 0xd9, 0x65, 0x66, 0x92, 0x4c, 0xaf,
    0x01, 0x68, 0x08, 0x00, 0x00, 0x03, 0x00, 0x08, 0x00, 0x00, 0x03, 0x00, 0xc8, 0x40,
};
/* 640x360 temporal-layers=1: sps_max_sub_layers_minus1 = 1 */
static const uint8_t sps_tl[] = {
    0x42, 0x01, 0x02, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03,
    0x00, 0x3f, 0x00, 0x00, 0xa0, 0x05, 0x02, 0x01, 0x69, 0x65, 0x95, 0x98, 0xac, 0xd2, 0x49, 0x95,
    0xe0, 0x2d, 0x01, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x19, 0x08,
};
static const uint8_t vps_1080[] = {0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60,
				   0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03,
				   0x00, 0x00, 0x03, 0x00, 0x78, 0x95, 0x98, 0x09};
static const uint8_t pps_x265[] = {0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40};
/* First 23 bytes of the hvcC libx265 + ffmpeg's mp4 muxer wrote for the
 * 1080p stream, with numOfArrays reduced from 4 to 3 (its SEI dropped). */
static const uint8_t hvcc_head[23] = {0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00,
				      0x00, 0x00, 0x00, 0x00, 0x78, 0xf0, 0x00, 0xfc,
				      0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x03};

static void check(const uint8_t *nal, size_t len, unsigned profile, unsigned level, unsigned depth,
		  unsigned w, unsigned h)
{
	struct h265_sps_info s;
	assert_int_equal(h265_parse_sps(nal, len, &s), 0);
	assert_int_equal(s.profile_idc, profile);
	assert_int_equal(s.tier_flag, 0);
	assert_int_equal(s.level_idc, level);
	assert_int_equal(s.chroma_format_idc, 1);
	assert_int_equal(s.bit_depth, depth);
	assert_int_equal(s.width, w);
	assert_int_equal(s.height, h);
}

static void test_sps_x265(void **state)
{
	(void)state;
	check(sps_1280x720, sizeof(sps_1280x720), 1, 93, 8, 1280, 720);
	check(sps_1920x1080, sizeof(sps_1920x1080), 1, 120, 8, 1920, 1080);
	check(sps_854, sizeof(sps_854), 2, 90, 10, 854, 480);
	check(sps_tl, sizeof(sps_tl), 1, 63, 8, 640, 360);
}

struct bw {
	uint8_t buf[256];
	size_t bits;
};

static void put(struct bw *w, uint64_t v, unsigned n)
{
	while (n--) {
		if ((v >> n) & 1)
			w->buf[w->bits >> 3] |= 0x80 >> (w->bits & 7);
		w->bits++;
	}
}

static void put_ue(struct bw *w, uint32_t v)
{
	uint64_t x = (uint64_t)v + 1;
	unsigned n = 0;
	while ((x >> n) > 1)
		n++;
	put(w, 0, n);
	put(w, x, n + 1);
}

/* SPS with 3 sub-layers, the first with profile and level, the second with
 * level only; High tier, 4:2:2, 12 bit, conformance window. */
static size_t build_sps(uint8_t *nal)
{
	struct bw w = {0};
	put(&w, 0x4201, 16); /* nal header: type 33 */
	put(&w, 0, 4);       /* vps id */
	put(&w, 2, 3);       /* max_sub_layers_minus1 */
	put(&w, 1, 1);
	put(&w, 0, 2); /* general_profile_space */
	put(&w, 1, 1); /* tier */
	put(&w, 4, 5); /* RExt */
	put(&w, 0x08000000, 32);
	put(&w, 0xbfffffffffffULL, 48);
	put(&w, 153, 8);                /* level 5.1 */
	put(&w, 1, 1);                  /* sub 0: profile present */
	put(&w, 1, 1);                  /* sub 0: level present */
	put(&w, 0, 1);                  /* sub 1: profile absent */
	put(&w, 1, 1);                  /* sub 1: level present */
	put(&w, 0x2aaa, 12);            /* 6 x reserved_zero_2bits (any value here) */
	put(&w, 0x555555555555ULL, 48); /* sub 0 profile: 88 bits */
	put(&w, 0xffffffffffULL, 40);
	put(&w, 0x77, 8); /* sub 0 level */
	put(&w, 0x66, 8); /* sub 1 level */
	put_ue(&w, 5);    /* sps id */
	put_ue(&w, 2);    /* 4:2:2 */
	put_ue(&w, 3840);
	put_ue(&w, 2176);
	put(&w, 1, 1); /* conformance_window_flag */
	put_ue(&w, 1); /* left: 2 luma px for 4:2:2 */
	put_ue(&w, 2); /* right: 4 */
	put_ue(&w, 3); /* top: 3 (SubHeightC 1) */
	put_ue(&w, 5); /* bottom: 5 */
	put_ue(&w, 4); /* luma 12 bit */
	put_ue(&w, 4);
	put(&w, 1, 1);
	/* Escape: 00 00 0x (x <= 3) becomes 00 00 03 0x. */
	size_t n = (w.bits + 7) / 8, o = 0, zeros = 0;
	for (size_t i = 0; i < n; i++) {
		if (zeros >= 2 && w.buf[i] <= 3) {
			nal[o++] = 3;
			zeros = 0;
		}
		zeros = w.buf[i] ? 0 : zeros + 1;
		nal[o++] = w.buf[i];
	}
	return o;
}

static void test_sps_sub_layers(void **state)
{
	(void)state;
	uint8_t nal[64];
	size_t n = build_sps(nal);
	assert_true(memmem(nal, n, "\0\0\3", 3) != NULL); /* escaping exercised */
	struct h265_sps_info s;
	assert_int_equal(h265_parse_sps(nal, n, &s), 0);
	assert_int_equal(s.profile_idc, 4);
	assert_int_equal(s.tier_flag, 1);
	assert_int_equal(s.level_idc, 153);
	assert_int_equal(s.chroma_format_idc, 2);
	assert_int_equal(s.bit_depth, 12);
	assert_int_equal(s.width, 3840 - 6);
	assert_int_equal(s.height, 2176 - 8);
}

static size_t add_array(uint8_t *out, unsigned type, const uint8_t *nal, size_t len)
{
	out[0] = 0x80 | type;
	out[1] = 0;
	out[2] = 1;
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
	memcpy(out + 5, nal, len);
	return 5 + len;
}

static size_t make_hvcc(uint8_t *out)
{
	size_t o = sizeof(hvcc_head);
	memcpy(out, hvcc_head, o);
	o += add_array(out + o, 32, vps_1080, sizeof(vps_1080));
	o += add_array(out + o, 33, sps_1920x1080, sizeof(sps_1920x1080));
	o += add_array(out + o, 34, pps_x265, sizeof(pps_x265));
	return o;
}

static void test_hvcc(void **state)
{
	(void)state;
	uint8_t rec[160];
	size_t n = make_hvcc(rec);
	struct h265_sps_info s;
	unsigned nls = 0;
	assert_int_equal(h265_parse_hvcc(rec, n, &s, &nls), 0);
	assert_int_equal(nls, 4);
	assert_int_equal(s.width, 1920);
	assert_int_equal(s.height, 1080);
	assert_int_equal(s.level_idc, 120);
	/* Truncations: errors until the SPS is complete, then fine (the PPS
	 * after it is not needed). */
	size_t sps_end = sizeof(hvcc_head) + 5 + sizeof(vps_1080) + 5 + sizeof(sps_1920x1080);
	for (size_t k = 0; k < n; k++) {
		int rc = h265_parse_hvcc(rec, k, &s, &nls);
		assert_int_equal(rc, k < sps_end ? -EPROTO : 0);
	}
	/* No SPS at all. */
	uint8_t only_vps[64];
	memcpy(only_vps, hvcc_head, sizeof(hvcc_head));
	only_vps[22] = 1;
	size_t m = sizeof(hvcc_head) + add_array(only_vps + 23, 32, vps_1080, sizeof(vps_1080));
	assert_int_equal(h265_parse_hvcc(only_vps, m, &s, &nls), -ENOENT);
	only_vps[22] = 0;
	assert_int_equal(h265_parse_hvcc(only_vps, 23, &s, &nls), -ENOENT);
	/* NAL length size 2 and the forbidden 3 */
	rec[21] = 0xfd;
	assert_int_equal(h265_parse_hvcc(rec, n, &s, &nls), 0);
	assert_int_equal(nls, 2);
	rec[21] = 0xfe;
	assert_int_equal(h265_parse_hvcc(rec, n, &s, &nls), -EPROTO);
}

static void test_sps_malformed(void **state)
{
	(void)state;
	struct h265_sps_info s;
	assert_int_equal(h265_parse_sps(NULL, 5, &s), -EPROTO);
	assert_int_equal(h265_parse_sps(vps_1080, sizeof(vps_1080), &s), -EPROTO);
	for (size_t k = 0; k < 22; k++) /* size not yet known */
		assert_int_equal(h265_parse_sps(sps_1280x720, k, &s), -EPROTO);
	for (size_t k = 0; k <= sizeof(sps_854); k++) {
		int rc = h265_parse_sps(sps_854, k, &s);
		if (rc == 0)
			assert_true(s.width == 854 && s.height == 480 && s.bit_depth == 10);
		else
			assert_int_equal(s.width, 0);
	}
	srand(99);
	uint8_t buf[48];
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(rand() % (int)sizeof(buf));
		for (size_t j = 0; j < n; j++)
			buf[j] = (uint8_t)rand();
		if (n > 1) {
			buf[0] = 0x42;
			buf[1] = 0x01;
		}
		int rc = h265_parse_sps(buf, n, &s);
		assert_true(rc == 0 || rc == -EPROTO);
		unsigned nls;
		rc = h265_parse_hvcc(buf, n, &s, &nls);
		assert_true(rc == 0 || rc == -EPROTO || rc == -ENOENT);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sps_x265),
	    cmocka_unit_test(test_sps_sub_layers),
	    cmocka_unit_test(test_hvcc),
	    cmocka_unit_test(test_sps_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
