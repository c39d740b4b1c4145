/* SMPTE 2022-1 / Pro-MPEG FEC encoder and decoder.
 *
 * Golden parity packets were computed independently (a few lines of
 * Python following the header layout in fec.h) for a 3 x 2 matrix. The
 * decoder is checked exhaustively against a reference "peeling" solver
 * (repair any row or column with a single hole until nothing changes) for
 * every loss pattern of a 4 x 3 matrix, then for FEC loss, reordering,
 * sequence wrap, sender restarts and time-outs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/bytes.h"
#include "format/fec.h"
#include "format/rtp_ts.h"

static const uint8_t golden_row0[] = {
    0x80, 0x60, 0x01, 0xf4, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, 0x00, 0x04,
    0xa1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe6, 0x40, 0x01, 0x03, 0x00, 0x03, 0x06, 0xa3, 0xff,
};
static const uint8_t golden_col1[] = {
    0x80, 0xe0, 0x00, 0x07, 0x00, 0x00, 0x03, 0xf2, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x65, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x07, 0xe2, 0x00, 0x03, 0x02, 0x00, 0x05, 0x0a, 0x05, 0x00, 0x55,
};

/* ---------------- helpers ---------------- */

#define MAXPKT 512

struct pkt {
	uint8_t b[RTP_MAX_BYTES];
	size_t len;
	int kind; /* -1 media, else enum fec_kind */
};

struct capture {
	struct pkt p[MAXPKT];
	unsigned n;
};

static int capture_emit(void *arg, enum fec_kind kind, const uint8_t *p, size_t len)
{
	struct capture *c = arg;
	assert_true(c->n < MAXPKT);
	memcpy(c->p[c->n].b, p, len);
	c->p[c->n].len = len;
	c->p[c->n].kind = (int)kind;
	c->n++;
	return 0;
}

/* Golden-test media: 4-byte payloads, packet 4 has 5 bytes and the marker. */
static size_t golden_media(unsigned i, uint8_t *out)
{
	rtp_write_header(out, RTP_TS_PT, (uint16_t)(100 + i), 1000 + i * 10, 0x11223344);
	if (i == 4)
		out[1] |= 0x80;
	uint8_t pl[5] = {(uint8_t)i, (uint8_t)(i * 2), (uint8_t)(0xa0 + i), 0xff, 0x55};
	memcpy(out + RTP_HDR_LEN, pl, i == 4 ? 5 : 4);
	return RTP_HDR_LEN + (i == 4 ? 5 : 4);
}

/* Test media: a payload whose bytes depend on seq (len varies a little). */
static size_t make_media(uint16_t seq, uint8_t *out, size_t payload_len)
{
	rtp_write_header(out, RTP_TS_PT, seq, 90u * seq, 0xabcdef01);
	if (seq % 7 == 3)
		out[1] |= 0x80;
	for (size_t i = 0; i < payload_len; i++)
		out[RTP_HDR_LEN + i] = (uint8_t)(seq * 31 + i * 7 + (i >> 8));
	return RTP_HDR_LEN + payload_len;
}

/* The stream an encoder produces: media interleaved with FEC as emitted. */
static void encode_stream(unsigned l, unsigned d, uint16_t first_seq, unsigned n,
			  size_t payload_len, bool vary, struct capture *c)
{
	struct fec_enc *e = fec_enc_new(l, d, 1000, 2000);
	assert_non_null(e);
	c->n = 0;
	for (unsigned i = 0; i < n; i++) {
		struct pkt *m = &c->p[c->n++];
		m->kind = -1;
		size_t pl = payload_len - (vary && (first_seq + i) % 5 == 1 ? 3 : 0);
		m->len = make_media((uint16_t)(first_seq + i), m->b, pl);
		assert_int_equal(fec_enc_feed(e, m->b, m->len, capture_emit, c), 0);
	}
	fec_enc_free(e);
}

struct outlog {
	uint16_t seq[MAXPKT];
	bool recovered[MAXPKT];
	struct pkt p[MAXPKT];
	unsigned n;
};

static int log_out(void *arg, const uint8_t *rtp, size_t len, bool recovered)
{
	struct outlog *o = arg;
	assert_true(o->n < MAXPKT);
	o->seq[o->n] = rd_be16(rtp + 2);
	o->recovered[o->n] = recovered;
	memcpy(o->p[o->n].b, rtp, len);
	o->p[o->n].len = len;
	o->n++;
	return 0;
}

static void feed(struct fec_dec *d, const struct pkt *p, int64_t now_ms)
{
	int rc = p->kind < 0 ? fec_dec_media(d, p->b, p->len, now_ms)
			     : fec_dec_fec(d, p->b, p->len, now_ms);
	assert_int_equal(rc, 0);
}

/* Every emitted packet equals the original with that sequence number. */
static void check_output(const struct outlog *o, const struct capture *c)
{
	for (unsigned i = 0; i < o->n; i++) {
		if (i)
			assert_int_equal(rtp_seq_diff(o->seq[i - 1], o->seq[i]) > 0, 1);
		bool found = false;
		for (unsigned k = 0; k < c->n && !found; k++) {
			if (c->p[k].kind >= 0 || rd_be16(c->p[k].b + 2) != o->seq[i])
				continue;
			found = true;
			assert_int_equal(o->p[i].len, c->p[k].len);
			assert_memory_equal(o->p[i].b, c->p[k].b, c->p[k].len);
		}
		assert_true(found);
	}
}

/* ---------------- encoder ---------------- */

static void test_golden(void **state)
{
	struct fec_enc *e = fec_enc_new(3, 2, 6, 500);
	struct capture c = {0};
	uint8_t m[64];
	for (unsigned i = 0; i < 12; i++) {
		size_t len = golden_media(i, m);
		assert_int_equal(fec_enc_feed(e, m, len, capture_emit, &c), 0);
	}
	fec_enc_free(e);
	/* rows after packets 2, 5, 8, 11; columns 0, 1, 2 of the first matrix
	 * after packets 6, 8, 10 */
	assert_int_equal(c.n, 7);
	int order[7] = {FEC_ROW, FEC_ROW, FEC_COL, FEC_ROW, FEC_COL, FEC_COL, FEC_ROW};
	for (unsigned i = 0; i < 7; i++)
		assert_int_equal(c.p[i].kind, order[i]);
	assert_int_equal(c.p[0].len, sizeof(golden_row0));
	assert_memory_equal(c.p[0].b, golden_row0, sizeof(golden_row0));
	assert_int_equal(c.p[4].len, sizeof(golden_col1));
	assert_memory_equal(c.p[4].b, golden_col1, sizeof(golden_col1));
	struct fec_hdr h;
	assert_int_equal(fec_parse(c.p[4].b, c.p[4].len, &h), 0);
	assert_int_equal(h.kind, FEC_COL);
	assert_int_equal(h.snbase, 101);
	assert_int_equal(h.offset, 3);
	assert_int_equal(h.na, 2);
	assert_int_equal(h.payload_len, 5);
}

/* A sender that stops pads the matrix and flushes the held columns: then
 * every media packet is covered by its row and its column. */
static void test_enc_fill_flush(void **state)
{
	struct fec_enc *e = fec_enc_new(3, 2, 0, 0);
	struct capture c = {0};
	uint8_t m[64];
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(fec_enc_feed(e, m, golden_media(i, m), capture_emit, &c), 0);
	assert_int_equal(fec_enc_fill(e), 4);
	for (unsigned i = 8; i < 12; i++)
		assert_int_equal(fec_enc_feed(e, m, golden_media(i, m), capture_emit, &c), 0);
	assert_int_equal(fec_enc_fill(e), 0);
	unsigned before = c.n;
	assert_int_equal(fec_enc_pending(e), 3);
	assert_int_equal(fec_enc_flush(e, capture_emit, &c), 0);
	assert_int_equal(fec_enc_pending(e), 0);
	assert_int_equal(c.n, before + 3);
	unsigned cols = 0;
	for (unsigned i = 0; i < c.n; i++)
		cols += c.p[i].kind == FEC_COL;
	assert_int_equal(cols, 6);
	assert_int_equal(fec_enc_flush(e, capture_emit, &c), 0); /* nothing left */
	assert_int_equal(c.n, before + 3);
	fec_enc_free(e);
}

static void test_enc_invalid(void **state)
{
	assert_null(fec_enc_new(0, 5, 0, 0));
	assert_null(fec_enc_new(21, 4, 0, 0));
	assert_null(fec_enc_new(20, 6, 0, 0)); /* 120 > 100 */
	assert_true(fec_dims_valid(10, 10));
	struct fec_enc *e = fec_enc_new(5, 5, 0, 0);
	struct capture c = {0};
	uint8_t junk[20] = {0x40};
	assert_int_equal(fec_enc_feed(e, junk, sizeof(junk), capture_emit, &c), -EINVAL);
	assert_int_equal(fec_enc_feed(e, junk, 8, capture_emit, &c), -EINVAL);
	fec_enc_free(e);
}

static void test_parse_rejects(void **state)
{
	struct fec_hdr h;
	uint8_t p[sizeof(golden_row0)];
	memcpy(p, golden_row0, sizeof(p));
	assert_int_equal(fec_parse(p, sizeof(p), &h), 0);
	assert_int_equal(h.kind, FEC_ROW);
	assert_int_equal(fec_parse(p, RTP_HDR_LEN + 10, &h), -EPROTO);
	p[RTP_HDR_LEN + 4] &= 0x7f; /* E = 0 */
	assert_int_equal(fec_parse(p, sizeof(p), &h), -EPROTO);
	memcpy(p, golden_row0, sizeof(p));
	p[RTP_HDR_LEN + 6] = 1; /* mask */
	assert_int_equal(fec_parse(p, sizeof(p), &h), -EPROTO);
	memcpy(p, golden_row0, sizeof(p));
	p[RTP_HDR_LEN + 14] = 0; /* NA */
	assert_int_equal(fec_parse(p, sizeof(p), &h), -EPROTO);
	memcpy(p, golden_row0, sizeof(p));
	p[RTP_HDR_LEN + 12] |= 0x08; /* type 1 */
	assert_int_equal(fec_parse(p, sizeof(p), &h), -EPROTO);
}

/* ---------------- decoder ---------------- */

/* Reference: which of the lost cells of an l x d matrix peel out. */
static unsigned peel(unsigned l, unsigned d, uint32_t lost)
{
	bool progress = true;
	while (progress) {
		progress = false;
		for (unsigned r = 0; r < d; r++) {
			uint32_t row = lost & (((1u << l) - 1) << (r * l));
			if (row && !(row & (row - 1))) {
				lost &= ~row;
				progress = true;
			}
		}
		for (unsigned c = 0; c < l; c++) {
			uint32_t col = 0;
			for (unsigned r = 0; r < d; r++)
				col |= lost & (1u << (r * l + c));
			if (col && !(col & (col - 1))) {
				lost &= ~col;
				progress = true;
			}
		}
	}
	return (unsigned)__builtin_popcount(lost);
}

static void test_exhaustive_4x3(void **state)
{
	enum { L = 4, D = 3, M = L * D };
	static struct capture c;
	static struct outlog o;
	encode_stream(L, D, 65000, 4 * M, 40, true, &c);
	for (uint32_t lost = 0; lost < (1u << M); lost++) {
		o.n = 0;
		struct fec_dec *d = fec_dec_new(log_out, &o, 1000);
		for (unsigned k = 0; k < c.n; k++) {
			uint16_t seq = rd_be16(c.p[k].b + 2);
			int idx = rtp_seq_diff(65000 + M, seq); /* matrix 1 */
			if (c.p[k].kind < 0 && idx >= 0 && idx < M && (lost & (1u << idx)))
				continue;
			feed(d, &c.p[k], 0);
		}
		assert_int_equal(fec_dec_flush(d), 0);
		struct fec_dec_stats st;
		fec_dec_get_stats(d, &st);
		unsigned unrec = peel(L, D, lost);
		assert_int_equal(st.lost, unrec);
		assert_int_equal(st.recovered, (unsigned)__builtin_popcount(lost) - unrec);
		assert_int_equal(o.n, 4 * M - unrec);
		assert_int_equal(st.l, L);
		assert_int_equal(st.d, D);
		check_output(&o, &c);
		fec_dec_free(d);
	}
}

/* Every single loss anywhere, in a 5 x 5 stream across the seq wrap. */
static void test_single_losses_5x5(void **state)
{
	static struct capture c;
	static struct outlog o;
	encode_stream(5, 5, 65500, 100, 1316, true, &c);
	for (unsigned drop = 1; drop < 100; drop++) { /* 0: before the start */
		o.n = 0;
		struct fec_dec *d = fec_dec_new(log_out, &o, 1000);
		unsigned media = 0;
		for (unsigned k = 0; k < c.n; k++)
			if (c.p[k].kind >= 0 || media++ != drop)
				feed(d, &c.p[k], 0);
		assert_int_equal(fec_dec_flush(d), 0);
		struct fec_dec_stats st;
		fec_dec_get_stats(d, &st);
		assert_int_equal(st.recovered, 1);
		assert_int_equal(st.lost, 0);
		assert_int_equal(o.n, 100);
		check_output(&o, &c);
		fec_dec_free(d);
	}
}

/* Lost FEC packets: a row hole is repaired by its column and the other
 * way round; without either, the loss is reported. */
static void test_fec_loss(void **state)
{
	static struct capture c;
	static struct outlog o;
	encode_stream(4, 4, 10, 48, 100, true, &c);
	for (int variant = 0; variant < 3; variant++) {
		o.n = 0;
		struct fec_dec *d = fec_dec_new(log_out, &o, 1000);
		for (unsigned k = 0; k < c.n; k++) {
			const struct pkt *p = &c.p[k];
			if (p->kind < 0 && rd_be16(p->b + 2) == 10 + 5)
				continue; /* media 5: row 1, column 1 */
			if (p->kind >= 0) {
				struct fec_hdr h;
				assert_int_equal(fec_parse(p->b, p->len, &h), 0);
				bool row1 = h.kind == FEC_ROW && h.snbase == 14;
				bool col1 = h.kind == FEC_COL && h.snbase == 11;
				if ((variant != 1 && row1) || (variant != 0 && col1))
					continue;
			}
			feed(d, p, 0);
		}
		assert_int_equal(fec_dec_flush(d), 0);
		struct fec_dec_stats st;
		fec_dec_get_stats(d, &st);
		assert_int_equal(st.recovered, variant < 2 ? 1 : 0);
		assert_int_equal(st.lost, variant < 2 ? 0 : 1);
		check_output(&o, &c);
		fec_dec_free(d);
	}
}

/* Media reordered within a few packets comes out in order, nothing lost
 * (a row FEC overtaking its last packet may rebuild it early; the real one
 * is then a duplicate). */
static void test_reorder(void **state)
{
	static struct capture c;
	static struct outlog o;
	encode_stream(5, 5, 300, 60, 64, true, &c);
	o.n = 0;
	struct fec_dec *d = fec_dec_new(log_out, &o, 1000);
	/* swap neighbouring media packets pairwise */
	unsigned idx[MAXPKT], n = 0;
	for (unsigned k = 0; k < c.n; k++)
		if (c.p[k].kind < 0)
			idx[n++] = k;
	for (unsigned i = 1; i + 1 < n; i += 2) {
		struct pkt t = c.p[idx[i]];
		c.p[idx[i]] = c.p[idx[i + 1]];
		c.p[idx[i + 1]] = t;
	}
	for (unsigned k = 0; k < c.n; k++)
		feed(d, &c.p[k], 0);
	assert_int_equal(fec_dec_flush(d), 0);
	struct fec_dec_stats st;
	fec_dec_get_stats(d, &st);
	assert_int_equal(o.n, 60);
	assert_int_equal(st.lost, 0);
	check_output(&o, &c);
	fec_dec_free(d);
}

/* Without FEC a gap is given up after max_wait_ms (or a full window). */
static void test_timeout(void **state)
{
	static struct outlog o;
	o.n = 0;
	struct fec_dec *d = fec_dec_new(log_out, &o, 200);
	uint8_t b[128];
	for (uint16_t s = 0; s < 5; s++)
		if (s != 2)
			assert_int_equal(fec_dec_media(d, b, make_media(s, b, 50), 1000 + s), 0);
	assert_int_equal(o.n, 2);
	assert_int_equal(fec_dec_tick(d, 1100), 0);
	assert_int_equal(o.n, 2);
	assert_int_equal(fec_dec_tick(d, 1203), 0);
	assert_int_equal(o.n, 4);
	/* a late arrival is counted, not emitted */
	assert_int_equal(fec_dec_media(d, b, make_media(2, b, 50), 1300), 0);
	assert_int_equal(o.n, 4);
	/* a window of 32 packets also ends a wait */
	for (uint16_t s = 6; s < 6 + 33; s++)
		assert_int_equal(fec_dec_media(d, b, make_media(s, b, 50), 1400), 0);
	assert_int_equal(o.n, 4 + 33);
	struct fec_dec_stats st;
	fec_dec_get_stats(d, &st);
	assert_int_equal(st.lost, 2);
	assert_int_equal(st.late, 1);
	/* duplicates and junk */
	assert_int_equal(fec_dec_media(d, b, make_media(38, b, 50), 1400), 0);
	assert_int_equal(fec_dec_media(d, (const uint8_t *)"junk", 4, 1400), 0);
	fec_dec_get_stats(d, &st);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.bad, 1);
	fec_dec_free(d);
}

/* A sender restart (sequence jump) flushes and starts over. */
static void test_restart(void **state)
{
	static struct outlog o;
	o.n = 0;
	struct fec_dec *d = fec_dec_new(log_out, &o, 200);
	uint8_t b[128];
	for (uint16_t s = 100; s < 110; s++)
		assert_int_equal(fec_dec_media(d, b, make_media(s, b, 20), 0), 0);
	for (uint16_t s = 20000; s < 20010; s++)
		assert_int_equal(fec_dec_media(d, b, make_media(s, b, 20), 0), 0);
	/* back to an older range: late until it is clearly a restart */
	for (uint16_t s = 19000; s < 19040; s++)
		assert_int_equal(fec_dec_media(d, b, make_media(s, b, 20), 0), 0);
	assert_int_equal(fec_dec_flush(d), 0);
	struct fec_dec_stats st;
	fec_dec_get_stats(d, &st);
	assert_int_equal(st.resets, 2);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.late, 15);
	assert_int_equal(o.n, 10 + 10 + 25);
	fec_dec_free(d);
}

/* ffmpeg writes the packet length itself as length recovery; with an
 * even NA the XOR rule gives 0 and the parity length must be used. */
static void test_constant_length_recovery(void **state)
{
	static struct capture c;
	static struct outlog o;
	encode_stream(4, 4, 0, 32, 1316, false, &c);
	o.n = 0;
	struct fec_dec *d = fec_dec_new(log_out, &o, 1000);
	for (unsigned k = 0; k < c.n; k++) {
		struct pkt p = c.p[k];
		if (p.kind < 0 && rd_be16(p.b + 2) == 1)
			continue;
		if (p.kind >= 0)
			wr_be16(p.b + RTP_HDR_LEN + 2, 1316);
		feed(d, &p, 0);
	}
	assert_int_equal(fec_dec_flush(d), 0);
	struct fec_dec_stats st;
	fec_dec_get_stats(d, &st);
	assert_int_equal(st.recovered, 1);
	assert_int_equal(o.p[1].len, RTP_HDR_LEN + 1316);
	check_output(&o, &c);
	fec_dec_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),
	    cmocka_unit_test(test_enc_fill_flush),
	    cmocka_unit_test(test_enc_invalid),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_exhaustive_4x3),
	    cmocka_unit_test(test_single_losses_5x5),
	    cmocka_unit_test(test_fec_loss),
	    cmocka_unit_test(test_reorder),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_restart),
	    cmocka_unit_test(test_constant_length_recovery),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
