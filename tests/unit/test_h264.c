/* H.264 SPS and avcC parsing: real x264 parameter sets (captured once with
 * ffmpeg -f lavfi -i testsrc2=... -c:v libx264 -frames:v 1 -f h264), SPS
 * built bit by bit from the spec syntax, and malformed input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "media/bitreader.h"
#include "media/h264.h"

/* testsrc2=size=1280x720:rate=30, High@3.1 */
static const uint8_t sps_1280x720[] = {
    0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10, 0x00,
    0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83, 0x19, 0x60,
};
/* testsrc2=size=640x360:rate=30, High@3.0 */
static const uint8_t sps_640x360[] = {
    0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00,
    0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x0f, 0x16, 0x2d, 0x96,
};
/* testsrc2=size=1920x1080:rate=30, High@4.0, coded 1088 cropped to 1080 */
static const uint8_t sps_1920x1080[] = {
    0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0xc0, 0x44, 0x00,
    0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc6, 0x58,
};
/* 352x288 yuv444p rate=25: High 4:4:4 Predictive (chroma_format_idc 3) */
static const uint8_t sps_444[] = {
    0x67, 0xf4, 0x00, 0x0d, 0x91, 0x9b, 0x28, 0x2c, 0x12, 0xd8, 0x08, 0x80,
    0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x19, 0x07, 0x8a, 0x14, 0xcb,
};
/* 720x576 interlaced=1 rate=25: frame_mbs_only_flag 0 */
static const uint8_t sps_il[] = {
    0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xb4, 0x24, 0xd8, 0x08, 0x80,
    0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x19, 0x0f, 0x8a, 0x14, 0xcb,
};
/* 854x480 yuv422p10le rate=24000/1001: High 4:2:2, 10 bit, cropped width */
static const uint8_t sps_422[] = {
    0x67, 0x7a, 0x00, 0x1e, 0xb6, 0xcd, 0x94, 0x0d, 0x83, 0xde, 0x6f, 0x01, 0x10,
    0x00, 0x00, 0x3e, 0x90, 0x00, 0x0b, 0xb8, 0x00, 0xf1, 0x62, 0xd9, 0x60,
};
static const uint8_t pps_x264[] = {0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};

static void check_sps(const uint8_t *nal, size_t len, unsigned profile, unsigned level,
		      unsigned chroma, unsigned depth, unsigned w, unsigned h, unsigned fps_num,
		      unsigned fps_den, bool progressive)
{
	struct h264_sps_info s;
	assert_int_equal(h264_parse_sps(nal, len, &s), 0);
	assert_int_equal(s.profile_idc, profile);
	assert_int_equal(s.level_idc, level);
	assert_int_equal(s.chroma_format_idc, chroma);
	assert_int_equal(s.bit_depth, depth);
	assert_int_equal(s.width, w);
	assert_int_equal(s.height, h);
	assert_int_equal(s.fps_num, fps_num);
	assert_int_equal(s.fps_den, fps_den);
	assert_int_equal(s.frame_mbs_only, progressive);
	assert_int_equal(s.max_num_reorder, 2); /* x264 default b-pyramid */
	assert_int_equal(s.constraint_flags, 0);
}

static void test_sps_x264(void **state)
{
	(void)state;
	check_sps(sps_1280x720, sizeof(sps_1280x720), 100, 31, 1, 8, 1280, 720, 30, 1, true);
	check_sps(sps_640x360, sizeof(sps_640x360), 100, 30, 1, 8, 640, 360, 30, 1, true);
	check_sps(sps_1920x1080, sizeof(sps_1920x1080), 100, 40, 1, 8, 1920, 1080, 30, 1, true);
	check_sps(sps_444, sizeof(sps_444), 244, 13, 3, 8, 352, 288, 25, 1, true);
	check_sps(sps_il, sizeof(sps_il), 100, 30, 1, 8, 720, 576, 25, 1, false);
	check_sps(sps_422, sizeof(sps_422), 122, 30, 2, 10, 854, 480, 24000, 1001, true);
}

/* ---- SPS built from the syntax of 7.3.2.1.1 ---- */

struct bw {
	uint8_t buf[512];
	size_t bits;
};

static void put(struct bw *w, uint32_t v, unsigned n)
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
	put(w, (uint32_t)x, n + 1);
}

static void put_se(struct bw *w, int32_t v)
{
	put_ue(w, v > 0 ? 2 * v - 1 : -2 * v);
}

/* Finishes the RBSP and escapes it into a NAL with header 0x67. */
static size_t finish_nal(struct bw *w, uint8_t *nal)
{
	put(w, 1, 1); /* rbsp_stop_one_bit */
	size_t n = (w->bits + 7) / 8, o = 0, zeros = 0;
	nal[o++] = 0x67;
	for (size_t i = 0; i < n; i++) {
		if (zeros >= 2 && w->buf[i] <= 3) {
			nal[o++] = 3;
			zeros = 0;
		}
		zeros = w->buf[i] ? 0 : zeros + 1;
		nal[o++] = w->buf[i];
	}
	return o;
}

/* High profile SPS with scaling lists, POC type 1, cropping and VUI with
 * timing, HRD and bitstream restriction. */
static size_t build_sps(uint8_t *nal, bool with_vui)
{
	struct bw w = {0};
	put(&w, 100, 8);
	put(&w, 0x0c, 8); /* constraint_set4/5 */
	put(&w, 42, 8);
	put_ue(&w, 3); /* seq_parameter_set_id */
	put_ue(&w, 1); /* chroma_format_idc */
	put_ue(&w, 0); /* bit depths */
	put_ue(&w, 0);
	put(&w, 0, 1); /* qpprime */
	put(&w, 1, 1); /* seq_scaling_matrix_present_flag */
	for (int i = 0; i < 8; i++) {
		bool present = i == 0 || i == 6 || i == 7;
		put(&w, present, 1);
		if (i == 0) /* 16 explicit deltas */
			for (int j = 0; j < 16; j++)
				put_se(&w, j % 2 ? 5 : -3);
		if (i == 6) { /* 64-entry list cut short by nextScale 0 */
			put_se(&w, 10);
			put_se(&w, -18); /* 18 + (-18) = 0 */
		}
		if (i == 7)
			for (int j = 0; j < 64; j++)
				put_se(&w, j ? 1 : -7);
	}
	put_ue(&w, 2); /* log2_max_frame_num_minus4 */
	put_ue(&w, 1); /* pic_order_cnt_type */
	put(&w, 0, 1);
	put_se(&w, -2);
	put_se(&w, 1);
	put_ue(&w, 3); /* num_ref_frames_in_pic_order_cnt_cycle */
	put_se(&w, 2);
	put_se(&w, 2);
	put_se(&w, -4);
	put_ue(&w, 4);   /* max_num_ref_frames */
	put(&w, 0, 1);   /* gaps */
	put_ue(&w, 119); /* 1920 */
	put_ue(&w, 67);  /* 1088 */
	put(&w, 1, 1);   /* frame_mbs_only */
	put(&w, 1, 1);   /* direct_8x8 */
	put(&w, 1, 1);   /* frame_cropping_flag */
	put_ue(&w, 2);   /* left: 4 px */
	put_ue(&w, 3);   /* right: 6 px */
	put_ue(&w, 1);   /* top: 2 px */
	put_ue(&w, 3);   /* bottom: 6 px */
	put(&w, with_vui, 1);
	if (with_vui) {
		put(&w, 1, 1); /* aspect_ratio_info_present */
		put(&w, 255, 8);
		put(&w, 4, 16);
		put(&w, 3, 16);
		put(&w, 0, 1); /* overscan */
		put(&w, 1, 1); /* video_signal_type */
		put(&w, 5, 3);
		put(&w, 0, 1);
		put(&w, 1, 1);
		put(&w, 0x010101, 24);
		put(&w, 1, 1); /* chroma_loc */
		put_ue(&w, 1);
		put_ue(&w, 1);
		put(&w, 1, 1); /* timing */
		put(&w, 1001, 32);
		put(&w, 120000, 32); /* 59.94 fields -> 60000/1001 frames */
		put(&w, 1, 1);
		put(&w, 1, 1); /* nal_hrd */
		put_ue(&w, 1); /* cpb_cnt_minus1 */
		put(&w, 0x34, 8);
		for (int i = 0; i < 2; i++) {
			put_ue(&w, 1000 + i);
			put_ue(&w, 5000 + i);
			put(&w, i, 1);
		}
		put(&w, 0xfffff, 20);
		put(&w, 0, 1); /* vcl_hrd */
		put(&w, 0, 1); /* low_delay */
		put(&w, 0, 1); /* pic_struct_present */
		put(&w, 1, 1); /* bitstream_restriction */
		put(&w, 1, 1);
		put_ue(&w, 2);
		put_ue(&w, 1);
		put_ue(&w, 16);
		put_ue(&w, 16);
		put_ue(&w, 3); /* max_num_reorder_frames */
		put_ue(&w, 4);
	}
	return finish_nal(&w, nal);
}

static void test_sps_built(void **state)
{
	(void)state;
	uint8_t nal[600];
	size_t n = build_sps(nal, true);
	struct h264_sps_info s;
	assert_int_equal(h264_parse_sps(nal, n, &s), 0);
	assert_int_equal(s.profile_idc, 100);
	assert_int_equal(s.constraint_flags, 0x0c);
	assert_int_equal(s.level_idc, 42);
	assert_int_equal(s.width, 1920 - 10);
	assert_int_equal(s.height, 1088 - 8);
	assert_int_equal(s.fps_num, 60000);
	assert_int_equal(s.fps_den, 1001);
	assert_int_equal(s.max_num_reorder, 3);

	n = build_sps(nal, false);
	assert_int_equal(h264_parse_sps(nal, n, &s), 0);
	assert_int_equal(s.width, 1910);
	assert_int_equal(s.fps_num, 0);
	assert_int_equal(s.fps_den, 0);
	assert_int_equal(s.max_num_reorder, 0);
}

static void test_sps_malformed(void **state)
{
	(void)state;
	struct h264_sps_info s;
	/* wrong NAL type, forbidden bit, too short, NULL */
	uint8_t bad[sizeof(sps_1280x720)];
	memcpy(bad, sps_1280x720, sizeof(bad));
	bad[0] = 0x68;
	assert_int_equal(h264_parse_sps(bad, sizeof(bad), &s), -EPROTO);
	bad[0] = 0xe7;
	assert_int_equal(h264_parse_sps(bad, sizeof(bad), &s), -EPROTO);
	assert_int_equal(h264_parse_sps(sps_1280x720, 3, &s), -EPROTO);
	assert_int_equal(h264_parse_sps(NULL, 10, &s), -EPROTO);
	/* Truncated before the frame size is known: must fail, not guess. */
	for (size_t n = 0; n < 9; n++)
		assert_int_equal(h264_parse_sps(sps_1280x720, n, &s), -EPROTO);
	/* Any prefix: either correct size or an error. */
	for (size_t n = 0; n <= sizeof(sps_1920x1080); n++) {
		int rc = h264_parse_sps(sps_1920x1080, n, &s);
		if (rc == 0) {
			assert_int_equal(s.width, 1920);
			assert_int_equal(s.height, 1080);
		} else {
			assert_int_equal(rc, -EPROTO);
			assert_int_equal(s.width, 0);
		}
	}
	/* Cropping larger than the picture. */
	struct bw w = {0};
	uint8_t nal[64];
	put(&w, 66, 8);
	put(&w, 0, 8);
	put(&w, 30, 8);
	put_ue(&w, 0);
	put_ue(&w, 0);
	put_ue(&w, 0); /* poc type 0 */
	put_ue(&w, 0);
	put_ue(&w, 1);
	put(&w, 0, 1);
	put_ue(&w, 0); /* 16 px wide */
	put_ue(&w, 0);
	put(&w, 1, 1);
	put(&w, 1, 1);
	put(&w, 1, 1);
	put_ue(&w, 4); /* 8 px */
	put_ue(&w, 4); /* 8 px: nothing left */
	put_ue(&w, 0);
	put_ue(&w, 0);
	put(&w, 0, 1);
	size_t n = finish_nal(&w, nal);
	assert_int_equal(h264_parse_sps(nal, n, &s), -EPROTO);
	/* Exp-Golomb longer than 32 bits. */
	uint8_t zeros[] = {0x67, 0x42, 0x00, 0x1e, 0, 0, 3, 0, 0, 3, 0, 0, 3, 0, 0, 0x80};
	assert_int_equal(h264_parse_sps(zeros, sizeof(zeros), &s), -EPROTO);
}

static void test_sps_random(void **state)
{
	(void)state;
	srand(1234);
	uint8_t buf[64];
	struct h264_sps_info s;
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(rand() % (int)sizeof(buf));
		for (size_t j = 0; j < n; j++)
			buf[j] = (uint8_t)rand();
		if (n)
			buf[0] = 0x67;
		int rc = h264_parse_sps(buf, n, &s);
		assert_true(rc == 0 || rc == -EPROTO);
		if (rc == 0)
			assert_true(s.width > 0 && s.height > 0 && s.width <= 65536);
	}
}

static size_t make_avcc(uint8_t *out)
{
	size_t o = 0;
	const uint8_t head[] = {0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, sizeof(sps_1280x720)};
	memcpy(out, head, sizeof(head));
	o += sizeof(head);
	memcpy(out + o, sps_1280x720, sizeof(sps_1280x720));
	o += sizeof(sps_1280x720);
	out[o++] = 1;
	out[o++] = 0;
	out[o++] = sizeof(pps_x264);
	memcpy(out + o, pps_x264, sizeof(pps_x264));
	return o + sizeof(pps_x264);
}

static void test_avcc(void **state)
{
	(void)state;
	uint8_t rec[64];
	size_t n = make_avcc(rec);
	struct h264_avcc a;
	assert_int_equal(h264_parse_avcc(rec, n, &a), 0);
	assert_int_equal(a.profile, 100);
	assert_int_equal(a.compat, 0);
	assert_int_equal(a.level, 31);
	assert_int_equal(a.nal_length_size, 4);
	assert_int_equal(a.nsps, 1);
	assert_int_equal(a.npps, 1);
	assert_ptr_equal(a.sps[0], rec + 8);
	assert_int_equal(a.sps_len[0], sizeof(sps_1280x720));
	assert_memory_equal(a.pps[0], pps_x264, sizeof(pps_x264));
	assert_int_equal(a.pps_len[0], sizeof(pps_x264));

	/* Every truncation fails except the one right after the SPS list. */
	size_t after_sps = 8 + sizeof(sps_1280x720);
	for (size_t k = 0; k < n; k++) {
		int rc = h264_parse_avcc(rec, k, &a);
		if (k == after_sps) {
			assert_int_equal(rc, 0);
			assert_int_equal(a.npps, 0);
		} else {
			assert_int_equal(rc, -EPROTO);
			assert_int_equal(a.nsps, 0);
		}
	}
	rec[4] = 0xfe; /* lengthSizeMinusOne = 2 is not allowed */
	assert_int_equal(h264_parse_avcc(rec, n, &a), -EPROTO);
	rec[4] = 0xfd;
	assert_int_equal(h264_parse_avcc(rec, n, &a), 0);
	assert_int_equal(a.nal_length_size, 2);
	rec[0] = 0; /* configurationVersion */
	assert_int_equal(h264_parse_avcc(rec, n, &a), -EPROTO);
	rec[0] = 1;
	rec[5] = 0xe3; /* claims 3 SPS */
	assert_int_equal(h264_parse_avcc(rec, n, &a), -EPROTO);
}

static void test_unescape(void **state)
{
	(void)state;
	const uint8_t in[] = {0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03,
			      0x00, 0x00, 0x03, 0x03, 0x00, 0x03};
	const uint8_t want[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x03};
	uint8_t out[sizeof(in)];
	size_t n = br_unescape(out, in, sizeof(in));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));

	/* Exp-Golomb reader on known codes: 1 -> 0, 010 -> 1, 011 -> 2, 00100 -> 3 */
	const uint8_t codes[] = {0xa6, 0x44, 0x00};
	struct bitreader br;
	br_init(&br, codes, sizeof(codes));
	assert_int_equal(br_ue(&br), 0);
	assert_int_equal(br_ue(&br), 1);
	assert_int_equal(br_ue(&br), 2);
	assert_int_equal(br_ue(&br), 3);
	assert_int_equal(br_se(&br), 1); /* 010 */
	assert_false(br_error(&br));
	assert_int_equal(br_u(&br, 9), 0);
	assert_false(br_error(&br));
	assert_int_equal(br_left(&br), 0);
	assert_int_equal(br_u1(&br), 0);
	assert_true(br_error(&br));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sps_x264),      cmocka_unit_test(test_sps_built),
	    cmocka_unit_test(test_sps_malformed), cmocka_unit_test(test_sps_random),
	    cmocka_unit_test(test_avcc),          cmocka_unit_test(test_unescape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
