/* libFuzzer target: the SMPTE 2022-1 FEC decoder (and encoder).
 *
 * First byte even: the rest is a list of packets, each [kind][len][len
 * bytes] (kind % 3: 0 media RTP, 1 FEC RTP, 2 a clock tick of len ms),
 * fed to one decoder; every packet it emits must parse as RTP and fit.
 * First byte odd: the rest are media payloads ([len][bytes], at most 64
 * packets) sent through an L x D encoder (from the first byte) and back
 * through a decoder with some packets dropped (a bitmask from the data):
 * every emitted packet must equal the one sent with that sequence number,
 * in order, none twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "format/fec.h"
#include "format/rtp_ts.h"

#define MAX_PKTS 64

struct pkt {
	uint8_t b[RTP_HDR_LEN + FEC_HDR_LEN + RTP_MAX_BYTES];
	size_t len;
	int kind; /* -1 media, else enum fec_kind */
};

struct ctx {
	struct pkt sent[MAX_PKTS * 3];
	unsigned nsent;
	unsigned nmedia;
	int last_seq;
	unsigned emitted;
};

static int check_out(void *arg, const uint8_t *rtp, size_t len, bool recovered)
{
	struct rtp_pkt r;
	if (len > RTP_MAX_BYTES || rtp_parse(rtp, len, &r) < 0)
		abort();
	return 0;
}

static void run_decoder(const uint8_t *p, size_t n)
{
	struct fec_dec *d = fec_dec_new(check_out, NULL, 100);
	int64_t now = 0;
	while (n >= 2) {
		uint8_t kind = p[0] % 3;
		size_t len = p[1];
		p += 2;
		n -= 2;
		if (len > n)
			len = n;
		if (kind == 0)
			fec_dec_media(d, p, len, now);
		else if (kind == 1)
			fec_dec_fec(d, p, len, now);
		else
			fec_dec_tick(d, now += (int64_t)len);
		p += len;
		n -= len;
	}
	fec_dec_flush(d);
	fec_dec_free(d);
}

static int keep(void *arg, enum fec_kind kind, const uint8_t *pkt, size_t len)
{
	struct ctx *c = arg;
	if (c->nsent == sizeof(c->sent) / sizeof(*c->sent) || len > sizeof(c->sent[0].b))
		abort();
	memcpy(c->sent[c->nsent].b, pkt, len);
	c->sent[c->nsent].len = len;
	c->sent[c->nsent++].kind = (int)kind;
	return 0;
}

static int compare_out(void *arg, const uint8_t *rtp, size_t len, bool recovered)
{
	struct ctx *c = arg;
	int seq = rd_be16(rtp + 2);
	if (seq <= c->last_seq)
		abort(); /* out of order or twice (no wrap: seqs start at 0) */
	c->last_seq = seq;
	c->emitted++;
	for (unsigned i = 0; i < c->nsent; i++)
		if (c->sent[i].kind < 0 && rd_be16(c->sent[i].b + 2) == seq) {
			if (c->sent[i].len != len || memcmp(c->sent[i].b, rtp, len))
				abort();
			return 0;
		}
	abort(); /* a packet that was never sent */
}

static void run_roundtrip(uint8_t shape, const uint8_t *p, size_t n)
{
	static struct ctx c;
	memset(&c, 0, sizeof(c));
	c.last_seq = -1;
	unsigned l = 1 + (shape >> 1) % 8, dd = 1 + (shape >> 4) % 8;
	uint64_t drop = 0;
	for (unsigned i = 0; i < 8 && n; i++, p++, n--)
		drop = drop << 8 | *p;
	struct fec_enc *e = fec_enc_new(l, dd, 0, 0);
	if (!e)
		abort();
	while (n && c.nmedia < MAX_PKTS) {
		/* at least one byte: an empty payload is recovered as one of the
		 * parity's length (what ffmpeg's constant length recovery needs) */
		size_t len = 1 + *p++ % (RTP_MAX_BYTES - RTP_HDR_LEN - 1);
		n--;
		if (len > n)
			break;
		struct pkt *m = &c.sent[c.nsent++];
		rtp_write_header(m->b, RTP_TS_PT, (uint16_t)c.nmedia++, 0, 1);
		memcpy(m->b + RTP_HDR_LEN, p, len);
		m->len = RTP_HDR_LEN + len;
		m->kind = -1;
		if (fec_enc_feed(e, m->b, m->len, keep, &c))
			abort();
		p += len;
		n -= len;
	}
	fec_enc_free(e);
	struct fec_dec *d = fec_dec_new(compare_out, &c, 1000);
	unsigned media = 0;
	for (unsigned i = 0; i < c.nsent; i++) {
		const struct pkt *k = &c.sent[i];
		if (k->kind < 0 && media++ && (drop >> (media % 64) & 1))
			continue; /* never the first: the decoder starts there */
		if (k->kind < 0)
			fec_dec_media(d, k->b, k->len, 0);
		else
			fec_dec_fec(d, k->b, k->len, 0);
	}
	fec_dec_flush(d);
	struct fec_dec_stats st;
	fec_dec_get_stats(d, &st);
	if (c.emitted + st.lost > c.nmedia || (!drop && c.emitted != c.nmedia))
		abort(); /* losses at the very end are unknown to the decoder */
	fec_dec_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		run_roundtrip(data[0], data + 1, size - 1);
	else
		run_decoder(data + 1, size - 1);
	return 0;
}
