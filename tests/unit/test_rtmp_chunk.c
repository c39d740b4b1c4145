/* RTMP chunk reader/writer: golden bytes for every header form, chunk size
 * changes, interleaving, extended timestamps, aborts, limits, malformed
 * input, and writer -> reader round trips fed in arbitrary pieces. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/rtmp/chunk.h"

/* ---- helpers ---- */

static uint32_t rng_state;

static uint32_t rnd(void)
{
	uint32_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

struct rmsg {
	uint32_t csid, stream_id, timestamp, len;
	uint8_t type;
	uint8_t *p;
};

struct sink {
	struct rmsg *v;
	size_t n, cap;
	int fail_rc; /* returned by the callback when non-zero */
};

static int collect(void *ctx, const struct rtmp_msg *m)
{
	struct sink *s = ctx;
	if (s->fail_rc)
		return s->fail_rc;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		assert_non_null(s->v);
	}
	assert_non_null(m->payload);
	struct rmsg *r = &s->v[s->n++];
	r->csid = m->csid;
	r->stream_id = m->stream_id;
	r->timestamp = m->timestamp;
	r->len = m->len;
	r->type = m->type;
	r->p = malloc(m->len + 1);
	assert_non_null(r->p);
	memcpy(r->p, m->payload, m->len);
	return 0;
}

static void sink_free(struct sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].p);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Feeds d[0..len) in pieces of `step` bytes (0: random 1..97) the way a
 * connection would: unconsumed bytes are kept and fed again with the next
 * piece. Returns a negative errno, or the bytes left unconsumed at the end. */
static long feed_pieces(struct rtmp_chunk_reader *r, const uint8_t *d, size_t len, size_t step,
			struct sink *s)
{
	struct bytes pend = {0};
	size_t off = 0;
	long rc = 0;
	while (off < len) {
		size_t n = step ? step : 1 + rnd() % 97;
		if (n > len - off)
			n = len - off;
		assert_int_equal(bytes_append(&pend, d + off, n), 0);
		off += n;
		int k = rtmp_chunk_feed(r, pend.data, pend.len, collect, s);
		if (k < 0) {
			rc = k;
			break;
		}
		assert_true((size_t)k <= pend.len);
		bytes_consume(&pend, (size_t)k);
		/* Bodies are consumed as they come: only a header may be left. */
		assert_true(pend.len < 18);
	}
	if (rc == 0)
		rc = (long)pend.len;
	bytes_free(&pend);
	return rc;
}

static void expect_msg(const struct rmsg *m, uint32_t csid, uint8_t type, uint32_t sid, uint32_t ts,
		       const void *p, uint32_t len)
{
	assert_int_equal(m->csid, csid);
	assert_int_equal(m->type, type);
	assert_int_equal(m->stream_id, sid);
	assert_int_equal(m->timestamp, ts);
	assert_int_equal(m->len, len);
	if (len)
		assert_memory_equal(m->p, p, len);
}

static void fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

static int write1(struct rtmp_chunk_writer *w, uint32_t csid, uint8_t type, uint32_t sid,
		  uint32_t ts, const void *p, size_t n, struct bytes *out)
{
	struct iovec v = {.iov_base = (void *)p, .iov_len = n};
	return rtmp_chunk_write(w, csid, type, sid, ts, &v, 1, out);
}

/* ---- reader: golden headers ---- */

static void test_type0_golden(void **state)
{
	static const uint8_t in[] = {0x03, 0x00, 0x00, 0x64, 0x00, 0x00, 0x05, 0x14, 0x01,
				     0x00, 0x00, 0x00, 'h',  'e',  'l',  'l',  'o'};
	struct rtmp_chunk_reader r;
	struct sink s = {0};
	rtmp_chunk_reader_init(&r);
	assert_int_equal(rtmp_chunk_feed(&r, in, sizeof(in), collect, &s), (int)sizeof(in));
	assert_int_equal(s.n, 1);
	expect_msg(&s.v[0], 3, RTMP_MSG_COMMAND_AMF0, 1, 100, "hello", 5);
	assert_int_equal(r.bytes_in, sizeof(in));

	/* The writer produces exactly these bytes for a first message. */
	struct rtmp_chunk_writer w;
	struct bytes out = {0};
	rtmp_chunk_writer_init(&w);
	assert_int_equal(write1(&w, 3, RTMP_MSG_COMMAND_AMF0, 1, 100, "hello", 5, &out), 0);
	assert_int_equal(out.len, sizeof(in));
	assert_memory_equal(out.data, in, sizeof(in));
	bytes_free(&out);
	sink_free(&s);
	rtmp_chunk_reader_free(&r);
}

static void test_all_header_types(void **state)
{
	static const uint8_t in[] = {
	    /* type 0: ts 1000, len 3, audio, stream 1 */
	    0x04, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x03, 0x08, 0x01, 0x00, 0x00, 0x00, 'a', 'b', 'c',
	    /* type 2: delta 20 -> 1020 */
	    0x84, 0x00, 0x00, 0x14, 'd', 'e', 'f',
	    /* type 3 new message: delta 20 again -> 1040 */
	    0xc4, 'g', 'h', 'i',
	    /* type 1: delta 10 -> 1050, len 2, video */
	    0x44, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02, 0x09, 'x', 'y',
	    /* type 3: delta 10 -> 1060, len 2, video */
	    0xc4, 'z', 'w',
	    /* type 0 at 500 (backwards), then type 3: the delta after a type 0
	     * is its timestamp, so the next message is at 1000 */
	    0x04, 0x00, 0x01, 0xf4, 0x00, 0x00, 0x01, 0x12, 0x02, 0x00, 0x00, 0x00, 'm', 0xc4, 'n'};
	struct rtmp_chunk_reader r;
	struct sink s = {0};
	rtmp_chunk_reader_init(&r);
	assert_int_equal(rtmp_chunk_feed(&r, in, sizeof(in), collect, &s), (int)sizeof(in));
	assert_int_equal(s.n, 7);
	expect_msg(&s.v[0], 4, 8, 1, 1000, "abc", 3);
	expect_msg(&s.v[1], 4, 8, 1, 1020, "def", 3);
	expect_msg(&s.v[2], 4, 8, 1, 1040, "ghi", 3);
	expect_msg(&s.v[3], 4, 9, 1, 1050, "xy", 2);
	expect_msg(&s.v[4], 4, 9, 1, 1060, "zw", 2);
	expect_msg(&s.v[5], 4, 18, 2, 500, "m", 1);
	expect_msg(&s.v[6], 4, 18, 2, 1000, "n", 1);
	sink_free(&s);
	rtmp_chunk_reader_free(&r);
}

static void test_csid_forms(void **state)
{
	static const uint8_t in[] = {/* 2-byte form: csid 64 */
				     0x00, 0x00, 0, 0, 1, 0, 0, 1, 8, 0, 0, 0, 0, 'a',
				     /* 2-byte form: csid 319 */
				     0x00, 0xff, 0, 0, 2, 0, 0, 1, 8, 0, 0, 0, 0, 'b',
				     /* 3-byte form: csid 320 = 64 + 0x0100 (little-endian) */
				     0x01, 0x00, 0x01, 0, 0, 3, 0, 0, 1, 8, 0, 0, 0, 0, 'c',
				     /* 3-byte form: csid 65599 */
				     0x01, 0xff, 0xff, 0, 0, 4, 0, 0, 1, 8, 0, 0, 0, 0, 'd',
				     /* 3-byte form for a small id (64) continues the same stream */
				     0xc1, 0x00, 0x00, 'e',
				     /* 1-byte form: csid 63 */
				     0x3f, 0, 0, 5, 0, 0, 1, 8, 0, 0, 0, 0, 'f'};
	struct rtmp_chunk_reader r;
	struct sink s = {0};
	rtmp_chunk_reader_init(&r);
	assert_int_equal(rtmp_chunk_feed(&r, in, sizeof(in), collect, &s), (int)sizeof(in));
	assert_int_equal(s.n, 6);
	expect_msg(&s.v[0], 64, 8, 0, 1, "a", 1);
	expect_msg(&s.v[1], 319, 8, 0, 2, "b", 1);
	expect_msg(&s.v[2], 320, 8, 0, 3, "c", 1);
	expect_msg(&s.v[3], 65599, 8, 0, 4, "d", 1);
	expect_msg(&s.v[4], 64, 8, 0, 2, "e", 1);
	expect_msg(&s.v[5], 63, 8, 0, 5, "f", 1);
	sink_free(&s);

	/* The writer picks the shortest form: same basic headers. */
	struct rtmp_chunk_writer w;
	struct bytes out = {0};
	rtmp_chunk_writer_init(&w);
	assert_int_equal(write1(&w, 64, 8, 0, 1, "a", 1, &out), 0);
	assert_int_equal(write1(&w, 319, 8, 0, 2, "b", 1, &out), 0);
	assert_int_equal(write1(&w, 320, 8, 0, 3, "c", 1, &out), 0);
	assert_int_equal(write1(&w, 65599, 8, 0, 4, "d", 1, &out), 0);
	assert_int_equal(out.len, 14 + 14 + 15 + 15);
	assert_memory_equal(out.data, in, out.len);
	bytes_free(&out);
	rtmp_chunk_reader_free(&r);
}

/* ---- reader: extended timestamps ---- */

static void test_extended_timestamp(void **state)
{
	uint8_t body[300];
	fill_pattern(body, sizeof(body), 1);
	struct bytes in = {0};
	/* type 0, ts 0x01000000, 300 bytes at chunk size 128: 128 + 128 + 44,
	 * the extended timestamp repeated on both type 3 continuations. */
	static const uint8_t h0[] = {0x06, 0xff, 0xff, 0xff, 0x00, 0x01, 0x2c, 0x09,
				     0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00};
	static const uint8_t h3[] = {0xc6, 0x01, 0x00, 0x00, 0x00};
	bytes_append(&in, h0, sizeof(h0));
	bytes_append(&in, body, 128);
	bytes_append(&in, h3, sizeof(h3));
	bytes_append(&in, body + 128, 128);
	bytes_append(&in, h3, sizeof(h3));
	bytes_append(&in, body + 256, 44);
	/* type 2 with an extended delta of 0x01000001 -> 0x02000001; its
	 * continuations repeat that delta */
	static const uint8_t h2[] = {0x86, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x01};
	static const uint8_t h3b[] = {0xc6, 0x01, 0x00, 0x00, 0x01};
	bytes_append(&in, h2, sizeof(h2));
	bytes_append(&in, body, 128);
	bytes_append(&in, h3b, sizeof(h3b));
	bytes_append(&in, body + 128, 128);
	bytes_append(&in, h3b, sizeof(h3b));
	bytes_append(&in, body + 256, 44);
	/* type 3 new message: extended delta present again -> 0x03000002 */
	bytes_append(&in, h3b, sizeof(h3b));
	bytes_append(&in, body, 128);
	bytes_append(&in, h3b, sizeof(h3b));
	bytes_append(&in, body + 128, 128);
	bytes_append(&in, h3b, sizeof(h3b));
	bytes_append(&in, body + 256, 44);

	for (size_t step = 0; step <= 1; step++) {
		struct rtmp_chunk_reader r;
		struct sink s = {0};
		rtmp_chunk_reader_init(&r);
		rng_state = 7;
		assert_int_equal(feed_pieces(&r, in.data, in.len, step, &s), 0);
		assert_int_equal(s.n, 3);
		expect_msg(&s.v[0], 6, 9, 1, 0x01000000, body, 300);
		expect_msg(&s.v[1], 6, 9, 1, 0x02000001, body, 300);
		expect_msg(&s.v[2], 6, 9, 1, 0x03000002, body, 300);
		assert_int_equal(r.bytes_in, in.len);
		sink_free(&s);
		rtmp_chunk_reader_free(&r);
	}

	/* The writer picks the same header types and produces the same bytes. */
	struct rtmp_chunk_writer w;
	struct bytes out = {0};
	rtmp_chunk_writer_init(&w);
	assert_int_equal(write1(&w, 6, 9, 1, 0x01000000, body, 300, &out), 0);
	assert_int_equal(write1(&w, 6, 9, 1, 0x02000001, body, 300, &out), 0);
	assert_int_equal(write1(&w, 6, 9, 1, 0x03000002, body, 300, &out), 0);
	assert_int_equal(out.len, in.len);
	assert_memory_equal(out.data, in.data, in.len);
	bytes_free(&out);
	bytes_free(&in);
}

/* ---- reader: chunk size changes, interleaving, abort ---- */

static void test_chunk_size_change_midstream(void **state)
{
	uint8_t big[5000];
	fill_pattern(big, sizeof(big), 3);
	struct bytes in = {0};
	/* A 300-byte message at the default 128 ... */
	static const uint8_t h0[] = {0x04, 0, 0, 0, 0x00, 0x01, 0x2c, 0x08, 1, 0, 0, 0};
	bytes_append(&in, h0, sizeof(h0));
	bytes_append(&in, big, 128);
	bytes_put_u8(&in, 0xc4);
	bytes_append(&in, big + 128, 128);
	bytes_put_u8(&in, 0xc4);
	bytes_append(&in, big + 256, 44);
	/* ... SET_CHUNK_SIZE 4096 on csid 2, applied to the very next chunk ... */
	static const uint8_t scs[] = {0x02, 0, 0, 0, 0, 0, 4, 0x01, 0, 0, 0, 0, 0, 0, 0x10, 0x00};
	bytes_append(&in, scs, sizeof(scs));
	/* ... a 5000-byte message in 4096 + 904 ... */
	static const uint8_t h1[] = {0x44, 0, 0, 40, 0x00, 0x13, 0x88, 0x09};
	bytes_append(&in, h1, sizeof(h1));
	bytes_append(&in, big, 4096);
	bytes_put_u8(&in, 0xc4);
	bytes_append(&in, big + 4096, 904);
	/* ... then chunk size 100 and 250 bytes in 100 + 100 + 50. */
	static const uint8_t scs2[] = {0x42, 0, 0, 0, 0, 0, 4, 0x01, 0, 0, 0, 100};
	bytes_append(&in, scs2, sizeof(scs2));
	static const uint8_t h2[] = {0x44, 0, 0, 1, 0x00, 0x00, 0xfa, 0x09};
	bytes_append(&in, h2, sizeof(h2));
	bytes_append(&in, big, 100);
	bytes_put_u8(&in, 0xc4);
	bytes_append(&in, big + 100, 100);
	bytes_put_u8(&in, 0xc4);
	bytes_append(&in, big + 200, 50);

	size_t steps[] = {0, 1, 7, 4096, in.len};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct rtmp_chunk_reader r;
		struct sink s = {0};
		rtmp_chunk_reader_init(&r);
		rng_state = 99 + (uint32_t)i;
		assert_int_equal(feed_pieces(&r, in.data, in.len, steps[i], &s), 0);
		assert_int_equal(s.n, 5);
		expect_msg(&s.v[0], 4, 8, 1, 0, big, 300);
		expect_msg(&s.v[1], 2, RTMP_MSG_SET_CHUNK_SIZE, 0, 0, "\0\0\x10\0", 4);
		expect_msg(&s.v[2], 4, 9, 1, 40, big, 5000);
		expect_msg(&s.v[4], 4, 9, 1, 41, big, 250);
		assert_int_equal(r.chunk_size, 100);
		sink_free(&s);
		rtmp_chunk_reader_free(&r);
	}
	bytes_free(&in);
}

/* Appends one chunk: basic header fmt/csid, optional message header bytes,
 * then a body slice. */
static void put_chunk(struct bytes *b, uint8_t first, const uint8_t *mh, size_t mhn,
		      const uint8_t *body, size_t n)
{
	bytes_put_u8(b, first);
	bytes_append(b, mh, mhn);
	bytes_append(b, body, n);
}

static void test_interleaved_streams(void **state)
{
	uint8_t a[300], v[500];
	fill_pattern(a, sizeof(a), 11);
	fill_pattern(v, sizeof(v), 77);
	static const uint8_t ah[] = {0, 0, 10, 0x00, 0x01, 0x2c, 0x08, 1, 0, 0, 0};
	static const uint8_t vh[] = {0, 0, 12, 0x00, 0x01, 0xf4, 0x09, 1, 0, 0, 0};
	struct bytes in = {0};
	put_chunk(&in, 0x04, ah, sizeof(ah), a, 128);
	put_chunk(&in, 0x06, vh, sizeof(vh), v, 128);
	put_chunk(&in, 0xc4, NULL, 0, a + 128, 128);
	put_chunk(&in, 0xc6, NULL, 0, v + 128, 128);
	put_chunk(&in, 0xc6, NULL, 0, v + 256, 128);
	put_chunk(&in, 0xc4, NULL, 0, a + 256, 44); /* audio completes first */
	put_chunk(&in, 0xc6, NULL, 0, v + 384, 116);

	for (size_t step = 0; step <= 3; step++) {
		struct rtmp_chunk_reader r;
		struct sink s = {0};
		rtmp_chunk_reader_init(&r);
		rng_state = 5 + (uint32_t)step;
		assert_int_equal(feed_pieces(&r, in.data, in.len, step, &s), 0);
		assert_int_equal(s.n, 2);
		expect_msg(&s.v[0], 4, 8, 1, 10, a, 300);
		expect_msg(&s.v[1], 6, 9, 1, 12, v, 500);
		sink_free(&s);
		rtmp_chunk_reader_free(&r);
	}
	bytes_free(&in);
}

static void test_abort_drops_partial(void **state)
{
	uint8_t v[300], v2[300];
	fill_pattern(v, sizeof(v), 5);
	fill_pattern(v2, sizeof(v2), 200);
	static const uint8_t vh[] = {0, 0, 1, 0x00, 0x01, 0x2c, 0x09, 1, 0, 0, 0};
	static const uint8_t abort6[] = {0x02, 0, 0, 0, 0, 0, 4, 0x02, 0, 0, 0, 0, 0, 0, 0, 6};
	struct bytes in = {0};
	put_chunk(&in, 0x06, vh, sizeof(vh), v, 128);
	bytes_append(&in, abort6, sizeof(abort6));
	/* Without the abort these type 3 chunks would continue the old message
	 * (and its last 84 bytes would be read as a header); now they start a
	 * new one, one delta (1 ms) later. */
	put_chunk(&in, 0xc6, NULL, 0, v2, 128);
	put_chunk(&in, 0xc6, NULL, 0, v2 + 128, 128);
	put_chunk(&in, 0xc6, NULL, 0, v2 + 256, 44);

	struct rtmp_chunk_reader r;
	struct sink s = {0};
	rtmp_chunk_reader_init(&r);
	assert_int_equal(rtmp_chunk_feed(&r, in.data, in.len, collect, &s), (int)in.len);
	assert_int_equal(s.n, 2);
	expect_msg(&s.v[0], 2, RTMP_MSG_ABORT, 0, 0, "\0\0\0\6", 4);
	expect_msg(&s.v[1], 6, 9, 1, 2, v2, 300);
	sink_free(&s);
	rtmp_chunk_reader_free(&r);
	bytes_free(&in);
}

static void test_header_mid_message_restarts(void **state)
{
	/* A type 0 on a chunk stream with a partial message drops the partial
	 * one (only type 3 continues a message). */
	uint8_t v[200];
	fill_pattern(v, sizeof(v), 9);
	static const uint8_t vh[] = {0, 0, 1, 0x00, 0x00, 0xc8, 0x09, 1, 0, 0, 0};
	static const uint8_t vh2[] = {0, 0, 7, 0x00, 0x00, 0x02, 0x08, 1, 0, 0, 0};
	struct bytes in = {0};
	put_chunk(&in, 0x06, vh, sizeof(vh), v, 128);
	put_chunk(&in, 0x06, vh2, sizeof(vh2), (const uint8_t *)"ok", 2);
	struct rtmp_chunk_reader r;
	struct sink s = {0};
	rtmp_chunk_reader_init(&r);
	assert_int_equal(rtmp_chunk_feed(&r, in.data, in.len, collect, &s), (int)in.len);
	assert_int_equal(s.n, 1);
	expect_msg(&s.v[0], 6, 8, 1, 7, "ok", 2);
	sink_free(&s);
	rtmp_chunk_reader_free(&r);
	bytes_free(&in);
}

static void test_partial_and_empty(void **state)
{
	/* Header split anywhere: nothing consumed until it is whole. */
	static const uint8_t in[] = {0x03, 0x00, 0x00, 0x64, 0x00, 0x00, 0x05, 0x14, 0x01,
				     0x00, 0x00, 0x00, 'h',  'e',  'l',  'l',  'o'};
	struct rtmp_chunk_reader r;
	struct sink s = {0};
	rtmp_chunk_reader_init(&r);
	for (size_t n = 0; n < 12; n++)
		assert_int_equal(rtmp_chunk_feed(&r, in, n, collect, &s), 0);
	assert_int_equal(r.bytes_in, 0);
	/* Header plus part of the body: the body bytes are consumed. */
	assert_int_equal(rtmp_chunk_feed(&r, in, 14, collect, &s), 14);
	assert_int_equal(s.n, 0);
	assert_int_equal(rtmp_chunk_feed(&r, in + 14, 3, collect, &s), 3);
	assert_int_equal(s.n, 1);
	expect_msg(&s.v[0], 3, 20, 1, 100, "hello", 5);
	assert_int_equal(rtmp_chunk_feed(&r, NULL, 0, collect, &s), 0);

	/* A zero-length message is delivered at once. */
	static const uint8_t empty[] = {0x05, 0, 0, 9, 0, 0, 0, 0x12, 1, 0, 0, 0};
	assert_int_equal(rtmp_chunk_feed(&r, empty, sizeof(empty), collect, &s), 12);
	assert_int_equal(s.n, 2);
	expect_msg(&s.v[1], 5, 18, 1, 9, NULL, 0);
	assert_int_equal(r.bytes_in, 17 + 12);
	sink_free(&s);
	rtmp_chunk_reader_free(&r);
}

static void test_callback_error_stops(void **state)
{
	static const uint8_t in[] = {0x03, 0, 0, 0, 0, 0, 1, 0x14, 0, 0, 0, 0, 'x', 0xc3, 'y'};
	struct rtmp_chunk_reader r;
	struct sink s = {.fail_rc = -ECANCELED};
	rtmp_chunk_reader_init(&r);
	assert_int_equal(rtmp_chunk_feed(&r, in, sizeof(in), collect, &s), -ECANCELED);
	sink_free(&s);
	rtmp_chunk_reader_free(&r);
	rtmp_chunk_reader_free(NULL);
}

/* ---- reader: malformed input ---- */

static int feed_once(const uint8_t *p, size_t n)
{
	struct rtmp_chunk_reader r;
	struct sink s = {0};
	rtmp_chunk_reader_init(&r);
	int rc = rtmp_chunk_feed(&r, p, n, collect, &s);
	sink_free(&s);
	rtmp_chunk_reader_free(&r);
	return rc;
}

static void test_malformed(void **state)
{
	/* type 1, 2, 3 headers for a chunk stream never opened by a type 0 */
	static const uint8_t t1[] = {0x43, 0, 0, 1, 0, 0, 1, 8, 'x'};
	static const uint8_t t2[] = {0x83, 0, 0, 1, 'x'};
	static const uint8_t t3[] = {0xc3, 'x'};
	assert_int_equal(feed_once(t1, sizeof(t1)), -EPROTO);
	assert_int_equal(feed_once(t2, sizeof(t2)), -EPROTO);
	assert_int_equal(feed_once(t3, sizeof(t3)), -EPROTO);
	/* also when only the basic header has arrived */
	assert_int_equal(feed_once(t3, 1), -EPROTO);

	/* chunk size 0, high bit set, and a too short SET_CHUNK_SIZE */
	static const uint8_t cs0[] = {0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t csh[] = {0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0x80, 0, 0, 1};
	static const uint8_t cs3[] = {0x02, 0, 0, 0, 0, 0, 3, 1, 0, 0, 0, 0, 0, 1, 0};
	assert_int_equal(feed_once(cs0, sizeof(cs0)), -EPROTO);
	assert_int_equal(feed_once(csh, sizeof(csh)), -EPROTO);
	assert_int_equal(feed_once(cs3, sizeof(cs3)), -EPROTO);
	static const uint8_t ab3[] = {0x02, 0, 0, 0, 0, 0, 3, 2, 0, 0, 0, 0, 0, 0, 6};
	assert_int_equal(feed_once(ab3, sizeof(ab3)), -EPROTO);
	/* the largest legal chunk size is accepted */
	static const uint8_t csmax[] = {0x02, 0, 0, 0, 0,    0,    4,    1,
					0,    0, 0, 0, 0x7f, 0xff, 0xff, 0xff};
	assert_int_equal(feed_once(csmax, sizeof(csmax)), (int)sizeof(csmax));
}

static void test_oversize_message(void **state)
{
	static const uint8_t in[] = {0x04, 0, 0, 0, 0x00, 0x03, 0xe9, 8, 0, 0, 0, 0};
	struct rtmp_chunk_reader r;
	rtmp_chunk_reader_init(&r);
	r.max_msg_len = 1000; /* header says 1001 */
	assert_int_equal(rtmp_chunk_feed(&r, in, sizeof(in), collect, NULL), -EMSGSIZE);
	rtmp_chunk_reader_free(&r);

	/* exactly the limit is fine; a later type 1 growing past it is not */
	static const uint8_t ok[] = {0x04, 0, 0, 0, 0x00, 0x00, 0x02, 8, 0, 0, 0, 0, 'a', 'b'};
	static const uint8_t grow[] = {0x44, 0, 0, 0, 0x00, 0x00, 0x03, 8};
	struct sink s = {0};
	rtmp_chunk_reader_init(&r);
	r.max_msg_len = 2;
	assert_int_equal(rtmp_chunk_feed(&r, ok, sizeof(ok), collect, &s), (int)sizeof(ok));
	assert_int_equal(s.n, 1);
	assert_int_equal(rtmp_chunk_feed(&r, grow, sizeof(grow), collect, &s), -EMSGSIZE);
	sink_free(&s);
	rtmp_chunk_reader_free(&r);
}

static void test_too_many_csids(void **state)
{
	struct rtmp_chunk_reader r;
	struct sink s = {0};
	rtmp_chunk_reader_init(&r);
	uint8_t c[15] = {0x00, 0, 0, 0, 0, 0, 0, 1, 8, 0, 0, 0, 0, 'x'};
	for (unsigned i = 0; i < RTMP_MAX_CSIDS; i++) {
		c[1] = (uint8_t)i; /* csid 64 + i */
		assert_int_equal(rtmp_chunk_feed(&r, c, 14, collect, &s), 14);
	}
	assert_int_equal(s.n, RTMP_MAX_CSIDS);
	/* known ids still work, a new one is refused */
	c[1] = 5;
	assert_int_equal(rtmp_chunk_feed(&r, c, 14, collect, &s), 14);
	c[1] = RTMP_MAX_CSIDS;
	assert_int_equal(rtmp_chunk_feed(&r, c, 14, collect, &s), -EPROTO);
	sink_free(&s);
	rtmp_chunk_reader_free(&r);
}

static void test_garbage(void **state)
{
	/* Random bytes: an error or a safe consumption, never a crash or an
	 * out-of-bounds access (ASan watches). Some inputs biased to valid
	 * first bytes to get past the first header. */
	uint8_t buf[2048];
	unsigned errors = 0;
	for (uint32_t seed = 1; seed <= 3000; seed++) {
		rng_state = seed * 2654435761u;
		size_t n = 1 + rnd() % sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)rnd();
		if (seed & 1)
			buf[0] &= 0x3f; /* type 0 */
		struct rtmp_chunk_reader r;
		struct sink s = {0};
		rtmp_chunk_reader_init(&r);
		long rc = feed_pieces(&r, buf, n, seed % 5, &s);
		if (rc < 0) {
			errors++;
			assert_true(rc == -EPROTO || rc == -EMSGSIZE);
		} else {
			assert_true(rc < 18);
		}
		sink_free(&s);
		rtmp_chunk_reader_free(&r);
	}
	assert_true(errors > 0);
}

/* ---- writer ---- */

static void test_writer_header_selection(void **state)
{
	struct rtmp_chunk_writer w;
	struct bytes out = {0};
	rtmp_chunk_writer_init(&w);
	/* first use: type 0 */
	assert_int_equal(write1(&w, 4, 8, 1, 1000, "ab", 2, &out), 0);
	static const uint8_t e0[] = {0x04, 0, 0x03, 0xe8, 0, 0, 2, 8, 1, 0, 0, 0, 'a', 'b'};
	assert_int_equal(out.len, sizeof(e0));
	assert_memory_equal(out.data, e0, sizeof(e0));
	/* same length/type, new delta: type 2 */
	bytes_reset(&out);
	assert_int_equal(write1(&w, 4, 8, 1, 1020, "cd", 2, &out), 0);
	static const uint8_t e2[] = {0x84, 0, 0, 20, 'c', 'd'};
	assert_int_equal(out.len, sizeof(e2));
	assert_memory_equal(out.data, e2, sizeof(e2));
	/* same delta: type 3 */
	bytes_reset(&out);
	assert_int_equal(write1(&w, 4, 8, 1, 1040, "ef", 2, &out), 0);
	static const uint8_t e3[] = {0xc4, 'e', 'f'};
	assert_int_equal(out.len, sizeof(e3));
	assert_memory_equal(out.data, e3, sizeof(e3));
	/* length changed: type 1 */
	bytes_reset(&out);
	assert_int_equal(write1(&w, 4, 8, 1, 1045, "g", 1, &out), 0);
	static const uint8_t e1[] = {0x44, 0, 0, 5, 0, 0, 1, 8, 'g'};
	assert_int_equal(out.len, sizeof(e1));
	assert_memory_equal(out.data, e1, sizeof(e1));
	/* type changed: type 1 */
	bytes_reset(&out);
	assert_int_equal(write1(&w, 4, 9, 1, 1050, "h", 1, &out), 0);
	static const uint8_t e1b[] = {0x44, 0, 0, 5, 0, 0, 1, 9, 'h'};
	assert_memory_equal(out.data, e1b, sizeof(e1b));
	/* time backwards: type 0 */
	bytes_reset(&out);
	assert_int_equal(write1(&w, 4, 9, 1, 10, "i", 1, &out), 0);
	assert_int_equal(out.data[0], 0x04);
	assert_int_equal(out.len, 13);
	/* stream id changed: type 0 */
	bytes_reset(&out);
	assert_int_equal(write1(&w, 4, 9, 2, 20, "j", 1, &out), 0);
	static const uint8_t e0b[] = {0x04, 0, 0, 20, 0, 0, 1, 9, 2, 0, 0, 0, 'j'};
	assert_memory_equal(out.data, e0b, sizeof(e0b));
	/* after a type 0 at 20 the implied delta is 20: 40 is a type 3 */
	bytes_reset(&out);
	assert_int_equal(write1(&w, 4, 9, 2, 40, "k", 1, &out), 0);
	assert_int_equal(out.len, 2);
	assert_int_equal(out.data[0], 0xc4);
	/* other chunk streams are independent; csid >= 64 is always type 0 */
	bytes_reset(&out);
	assert_int_equal(write1(&w, 100, 9, 2, 40, "k", 1, &out), 0);
	assert_int_equal(write1(&w, 100, 9, 2, 40, "k", 1, &out), 0);
	assert_int_equal(out.len, 2 * 14);
	assert_int_equal(out.data[0], 0x00);
	assert_int_equal(out.data[14], 0x00);
	/* multi-chunk: 300 bytes -> continuation headers 0xc4 */
	uint8_t big[300];
	fill_pattern(big, sizeof(big), 0);
	bytes_reset(&out);
	assert_int_equal(write1(&w, 4, 9, 2, 60, big, 300, &out), 0);
	assert_int_equal(out.len, 8 + 300 + 2);
	assert_int_equal(out.data[0], 0x44);
	assert_int_equal(out.data[8 + 128], 0xc4);
	assert_int_equal(out.data[8 + 128 + 1 + 128], 0xc4);
	bytes_free(&out);
}

static void test_writer_invalid(void **state)
{
	struct rtmp_chunk_writer w;
	struct bytes out = {0};
	rtmp_chunk_writer_init(&w);
	assert_int_equal(write1(&w, 1, 8, 0, 0, "x", 1, &out), -EINVAL);
	assert_int_equal(write1(&w, 0, 8, 0, 0, "x", 1, &out), -EINVAL);
	assert_int_equal(write1(&w, 65600, 8, 0, 0, "x", 1, &out), -EINVAL);
	assert_int_equal(write1(&w, 65599, 8, 0, 0, "x", 1, &out), 0);
	assert_int_equal(write1(&w, 2, 8, 0, 0, NULL, 0x1000000, &out), -EINVAL);
	assert_int_equal(rtmp_put_set_chunk_size(&w, &out, 0), -EINVAL);
	assert_int_equal(rtmp_put_set_chunk_size(&w, &out, 0x80000000u), -EINVAL);
	assert_int_equal(w.chunk_size, 128);
	bytes_free(&out);
}

static void test_control_builders(void **state)
{
	struct rtmp_chunk_writer w;
	struct bytes out = {0};
	rtmp_chunk_writer_init(&w);
	assert_int_equal(rtmp_put_set_chunk_size(&w, &out, 4096), 0);
	assert_int_equal(w.chunk_size, 4096);
	assert_int_equal(rtmp_put_window_ack_size(&w, &out, 2500000), 0);
	assert_int_equal(rtmp_put_set_peer_bw(&w, &out, 2500000, 2), 0);
	assert_int_equal(rtmp_put_ack(&w, &out, 0x01020304), 0);
	assert_int_equal(rtmp_put_user_control(&w, &out, RTMP_UC_STREAM_BEGIN, 1), 0);
	assert_int_equal(rtmp_put_user_control(&w, &out, RTMP_UC_PING_REQUEST, 77), 0);
	static const uint8_t exp[] = {
	    0x02, 0, 0, 0, 0, 0, 4, 1, 0,    0,    0,    0,    0, 0, 0x10, 0x00, /* chunk size */
	    0x42, 0, 0, 0, 0, 0, 4, 5, 0x00, 0x26, 0x25, 0xa0,                   /* win ack */
	    0x42, 0, 0, 0, 0, 0, 5, 6, 0x00, 0x26, 0x25, 0xa0, 2,                /* peer bw */
	    0x42, 0, 0, 0, 0, 0, 4, 3, 1,    2,    3,    4,                      /* ack */
	    0x42, 0, 0, 0, 0, 0, 6, 4, 0,    0,    0,    0,    0, 1,             /* begin */
	    0xc2, 0, 6, 0, 0, 0, 77};                                            /* ping */
	assert_int_equal(out.len, sizeof(exp));
	assert_memory_equal(out.data, exp, sizeof(exp));

	/* A reader decodes them all and follows the chunk size. */
	struct rtmp_chunk_reader r;
	struct sink s = {0};
	rtmp_chunk_reader_init(&r);
	assert_int_equal(rtmp_chunk_feed(&r, out.data, out.len, collect, &s), (int)out.len);
	assert_int_equal(s.n, 6);
	assert_int_equal(r.chunk_size, 4096);
	expect_msg(&s.v[5], 2, RTMP_MSG_USER_CONTROL, 0, 0, "\0\6\0\0\0\x4d", 6);
	sink_free(&s);
	rtmp_chunk_reader_free(&r);
	bytes_free(&out);
}

/* Concatenates iovecs into one buffer. */
static void gather(const struct iovec *iov, int n, struct bytes *b)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(bytes_append(b, iov[i].iov_base, iov[i].iov_len), 0);
}

static void test_writer_iov(void **state)
{
	uint8_t big[1000];
	fill_pattern(big, sizeof(big), 42);
	/* body in three uneven pieces so chunks straddle iovecs */
	struct iovec body[3] = {{big, 100}, {big + 100, 0}, {big + 100, 900}};
	struct rtmp_chunk_writer wc, wi;
	rtmp_chunk_writer_init(&wc);
	rtmp_chunk_writer_init(&wi);
	struct bytes copy = {0}, zc = {0};
	uint8_t hdr[64];
	struct iovec iov[32];
	size_t hdr_used = 0;

	uint32_t ts[] = {0, 33, 66, 0x1000000, 0x2000000, 5};
	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		bytes_reset(&copy);
		bytes_reset(&zc);
		assert_int_equal(rtmp_chunk_write(&wc, 6, 9, 1, ts[i], body, 3, &copy), 0);
		/* too few iovecs / header bytes: -ENOSPC, state untouched */
		assert_int_equal(rtmp_chunk_write_iov(&wi, 6, 9, 1, ts[i], body, 3, hdr,
						      sizeof(hdr), &hdr_used, iov, 5),
				 -ENOSPC);
		assert_int_equal(
		    rtmp_chunk_write_iov(&wi, 6, 9, 1, ts[i], body, 3, hdr, 1, &hdr_used, iov, 32),
		    -ENOSPC);
		int n = rtmp_chunk_write_iov(&wi, 6, 9, 1, ts[i], body, 3, hdr, sizeof(hdr),
					     &hdr_used, iov, 32);
		/* 8 chunks, the first straddling two body iovecs: 8 + 9 */
		assert_int_equal(n, 17);
		assert_true(hdr_used <= 18 + 7);
		gather(iov, n, &zc);
		assert_int_equal(zc.len, copy.len);
		assert_memory_equal(zc.data, copy.data, copy.len);
		/* bodies point into the caller's buffer (zero copy) */
		assert_ptr_equal(iov[1].iov_base, big);
	}
	assert_memory_equal(&wc, &wi, sizeof(wc));
	bytes_free(&copy);
	bytes_free(&zc);
}

/* ---- round trip ---- */

struct sent {
	uint32_t csid, sid, ts, len;
	uint8_t type;
	size_t off; /* into the payload pool */
};

static void test_roundtrip_random(void **state)
{
	enum { NMSG = 1500 };
	static const uint32_t csids[] = {2, 3, 4, 5, 6, 8, 63, 64, 200, 319, 320, 4000, 65599};
	struct sent *sent = calloc(NMSG, sizeof(*sent));
	uint8_t *pool = malloc(NMSG * 4096);
	assert_non_null(sent);
	assert_non_null(pool);
	rng_state = 0xC0FFEE;
	for (size_t i = 0; i < (size_t)NMSG * 4096; i++)
		pool[i] = (uint8_t)rnd();

	struct rtmp_chunk_writer w;
	struct bytes out = {0};
	rtmp_chunk_writer_init(&w);
	uint32_t clock[sizeof(csids) / sizeof(csids[0])] = {0};
	size_t nsent = 0, nctrl = 0;
	uint8_t hdr[64];
	struct iovec iov[256];
	for (size_t i = 0; i < NMSG; i++) {
		if (rnd() % 50 == 0) {
			uint32_t cs = rnd() % 3 == 0 ? 1 + rnd() % 200 : 64 + rnd() % 8000;
			assert_int_equal(rtmp_put_set_chunk_size(&w, &out, cs), 0);
			nctrl++;
		}
		unsigned k = rnd() % (sizeof(csids) / sizeof(csids[0]));
		struct sent *m = &sent[nsent++];
		m->csid = csids[k];
		m->sid = rnd() % 4 == 0 ? rnd() % 3 : 1;
		m->type = rnd() % 3 == 0 ? 8 : (rnd() % 2 ? 9 : 18);
		m->len = rnd() % 8 == 0 ? rnd() % 4096 : (rnd() % 2 ? 100 : rnd() % 300);
		uint32_t r = rnd() % 20;
		clock[k] = r == 0   ? clock[k] - rnd() % 1000                /* backwards */
			   : r == 1 ? 0xFFFFF0 + rnd() % 64                  /* around 2^24 */
			   : r == 2 ? 0xFFFFFFFF - rnd() % 100               /* near wrap */
				    : clock[k] + (r < 10 ? 23 : rnd() % 50); /* steady */
		m->ts = clock[k];
		m->off = i * 4096;
		/* body split into up to three iovecs */
		uint32_t a = m->len ? rnd() % (m->len + 1) : 0, b = a + rnd() % (m->len - a + 1);
		struct iovec body[3] = {{pool + m->off, a},
					{pool + m->off + a, b - a},
					{pool + m->off + b, m->len - b}};
		if (rnd() % 2) {
			assert_int_equal(
			    rtmp_chunk_write(&w, m->csid, m->type, m->sid, m->ts, body, 3, &out),
			    0);
		} else {
			size_t used;
			int n = rtmp_chunk_write_iov(&w, m->csid, m->type, m->sid, m->ts, body, 3,
						     hdr, sizeof(hdr), &used, iov, 256);
			if (n == -ENOSPC) { /* tiny chunk size: fall back */
				assert_int_equal(rtmp_chunk_write(&w, m->csid, m->type, m->sid,
								  m->ts, body, 3, &out),
						 0);
			} else {
				assert_true(n > 0);
				gather(iov, n, &out);
			}
		}
	}

	size_t steps[] = {0, 1, 13, out.len};
	for (size_t t = 0; t < sizeof(steps) / sizeof(steps[0]); t++) {
		struct rtmp_chunk_reader r;
		struct sink s = {0};
		rtmp_chunk_reader_init(&r);
		rng_state = 1234 + (uint32_t)t;
		assert_int_equal(feed_pieces(&r, out.data, out.len, steps[t], &s), 0);
		assert_int_equal(s.n, nsent + nctrl);
		assert_int_equal(r.bytes_in, out.len);
		size_t j = 0;
		for (size_t i = 0; i < s.n; i++) {
			if (s.v[i].type == RTMP_MSG_SET_CHUNK_SIZE && s.v[i].csid == 2)
				continue;
			const struct sent *m = &sent[j++];
			expect_msg(&s.v[i], m->csid, m->type, m->sid, m->ts, pool + m->off, m->len);
		}
		assert_int_equal(j, nsent);
		sink_free(&s);
		rtmp_chunk_reader_free(&r);
	}
	bytes_free(&out);
	free(pool);
	free(sent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_type0_golden),
	    cmocka_unit_test(test_all_header_types),
	    cmocka_unit_test(test_csid_forms),
	    cmocka_unit_test(test_extended_timestamp),
	    cmocka_unit_test(test_chunk_size_change_midstream),
	    cmocka_unit_test(test_interleaved_streams),
	    cmocka_unit_test(test_abort_drops_partial),
	    cmocka_unit_test(test_header_mid_message_restarts),
	    cmocka_unit_test(test_partial_and_empty),
	    cmocka_unit_test(test_callback_error_stops),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_oversize_message),
	    cmocka_unit_test(test_too_many_csids),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_writer_header_selection),
	    cmocka_unit_test(test_writer_invalid),
	    cmocka_unit_test(test_control_builders),
	    cmocka_unit_test(test_writer_iov),
	    cmocka_unit_test(test_roundtrip_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
