/* RTP header parsing/writing for MPEG-TS over RTP, and TS PCR access. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format/rtp_ts.h"

static void test_write_parse(void **state)
{
	uint8_t p[RTP_HDR_LEN + 4] = {0};
	rtp_write_header(p, RTP_TS_PT, 0xfffe, 0x12345678, 0xdeadbeef);
	static const uint8_t want[RTP_HDR_LEN] = {0x80, 0x21, 0xff, 0xfe, 0x12, 0x34,
						  0x56, 0x78, 0xde, 0xad, 0xbe, 0xef};
	assert_memory_equal(p, want, RTP_HDR_LEN);
	memcpy(p + RTP_HDR_LEN, "abcd", 4);
	struct rtp_pkt r;
	assert_int_equal(rtp_parse(p, sizeof(p), &r), 0);
	assert_int_equal(r.pt, 33);
	assert_int_equal(r.seq, 0xfffe);
	assert_int_equal(r.ts, 0x12345678);
	assert_int_equal(r.ssrc, 0xdeadbeef);
	assert_false(r.marker);
	assert_int_equal(r.payload_len, 4);
	assert_memory_equal(r.payload, "abcd", 4);
}

/* CSRCs, a header extension and padding are skipped. */
static void test_parse_options(void **state)
{
	uint8_t p[64] = {0};
	rtp_write_header(p, 96, 7, 8, 9);
	p[0] = 0x80 | 0x20 | 0x10 | 2; /* P, X, CC=2 */
	p[1] |= 0x80;
	size_t off = RTP_HDR_LEN + 8;
	p[off + 2] = 0;
	p[off + 3] = 1; /* one extension word */
	off += 8;
	memcpy(p + off, "payload", 7);
	off += 7;
	p[off] = 0;
	p[off + 1] = 0;
	p[off + 2] = 3; /* 3 bytes of padding */
	off += 3;
	struct rtp_pkt r;
	assert_int_equal(rtp_parse(p, off, &r), 0);
	assert_true(r.marker && r.padding && r.extension);
	assert_int_equal(r.cc, 2);
	assert_int_equal(r.pt, 96);
	assert_int_equal(r.payload_len, 7);
	assert_memory_equal(r.payload, "payload", 7);
	/* truncated variants */
	assert_int_equal(rtp_parse(p, RTP_HDR_LEN + 4, &r), -EPROTO);  /* CSRCs cut */
	assert_int_equal(rtp_parse(p, RTP_HDR_LEN + 10, &r), -EPROTO); /* extension cut */
	p[off - 1] = 200;                                              /* padding too long */
	assert_int_equal(rtp_parse(p, off, &r), -EPROTO);
	p[off - 1] = 0; /* zero padding count */
	assert_int_equal(rtp_parse(p, off, &r), -EPROTO);
	p[0] = 0x40; /* version 1 */
	assert_int_equal(rtp_parse(p, off, &r), -EPROTO);
	assert_int_equal(rtp_parse(p, 11, &r), -EPROTO);
}

static void test_seq_diff(void **state)
{
	assert_int_equal(rtp_seq_diff(10, 11), 1);
	assert_int_equal(rtp_seq_diff(11, 10), -1);
	assert_int_equal(rtp_seq_diff(65535, 0), 1);
	assert_int_equal(rtp_seq_diff(0, 65535), -1);
	assert_int_equal(rtp_seq_diff(65000, 200), 736);
}

/* A TS packet with an adaptation field carrying a PCR (golden bytes:
 * base 0x1_2345_6789, extension 0x123). */
static void make_pcr_packet(uint8_t *pkt)
{
	memset(pkt, 0xff, 188);
	static const uint8_t head[12] = {0x47, 0x41, 0x00, 0x30, 0x07, 0x10,
					 0x91, 0xa2, 0xb3, 0xc4, 0xff, 0x23};
	memcpy(pkt, head, sizeof(head));
}

static void test_pcr(void **state)
{
	uint8_t pkt[188];
	make_pcr_packet(pkt);
	uint64_t pcr;
	assert_true(rtp_ts_pcr_read(pkt, &pcr));
	assert_int_equal(pcr, 0x123456789ull * 300 + 0x123);
	assert_true(rtp_ts_pcr_write(pkt, 0x123456789ull * 300 + 0x123));
	uint8_t again[188];
	make_pcr_packet(again);
	assert_memory_equal(pkt, again, 188);
	/* round trip of other values, and the 33-bit wrap */
	uint64_t vals[] = {0, 1, 299, 300, TS_PCR_WRAP - 1, 27000000ull * 3600};
	for (size_t i = 0; i < sizeof(vals) / sizeof(*vals); i++) {
		assert_true(rtp_ts_pcr_write(pkt, vals[i]));
		assert_true(rtp_ts_pcr_read(pkt, &pcr));
		assert_int_equal(pcr, vals[i]);
		assert_int_equal(pkt[10] & 0x7e, 0x7e); /* reserved bits stay set */
	}
	assert_true(rtp_ts_pcr_write(pkt, TS_PCR_WRAP + 5));
	assert_true(rtp_ts_pcr_read(pkt, &pcr));
	assert_int_equal(pcr, 5);
	/* no PCR: payload only, adaptation field without the flag, bad sync */
	pkt[3] = 0x10;
	assert_false(rtp_ts_pcr_read(pkt, &pcr));
	assert_false(rtp_ts_pcr_write(pkt, 1));
	make_pcr_packet(pkt);
	pkt[5] = 0x40;
	assert_false(rtp_ts_pcr_read(pkt, &pcr));
	make_pcr_packet(pkt);
	pkt[4] = 1;
	assert_false(rtp_ts_pcr_read(pkt, &pcr));
	make_pcr_packet(pkt);
	pkt[0] = 0;
	assert_false(rtp_ts_pcr_read(pkt, &pcr));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_write_parse),
	    cmocka_unit_test(test_parse_options),
	    cmocka_unit_test(test_seq_diff),
	    cmocka_unit_test(test_pcr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
