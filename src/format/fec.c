/* SMPTE 2022-1 / Pro-MPEG CoP3 FEC: header parsing, encoder, decoder
 * (see fec.h for the packet layout). */
#include "format/fec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "format/rtp_ts.h"

/* Parity of a set of packets: the XOR of everything recovery needs. */
struct fec_acc {
	bool used;
	uint16_t snbase;
	uint32_t ts_first; /* timestamp of the SNBase packet (the FEC packet's own) */
	uint8_t b0, b1;    /* XOR of RTP header bytes 0 and 1 */
	uint16_t len_rec;
	uint32_t ts_rec;
	size_t len; /* longest protected payload */
	uint8_t data[RTP_MAX_BYTES];
};

static void xor_bytes(uint8_t *dst, const uint8_t *src, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t a, b;
		memcpy(&a, dst + i, 8);
		memcpy(&b, src + i, 8);
		a ^= b;
		memcpy(dst + i, &a, 8);
	}
	for (; i < n; i++)
		dst[i] ^= src[i];
}

/* Adds one RTP packet (len >= RTP_HDR_LEN) to a parity accumulator. */
static void acc_add(struct fec_acc *a, const uint8_t *p, size_t len)
{
	size_t plen = len - RTP_HDR_LEN;
	if (!a->used) {
		a->used = true;
		a->snbase = rd_be16(p + 2);
		a->ts_first = rd_be32(p + 4);
		a->b0 = a->b1 = 0;
		a->len_rec = 0;
		a->ts_rec = 0;
		a->len = 0;
	}
	a->b0 ^= p[0];
	a->b1 ^= p[1];
	a->len_rec ^= (uint16_t)plen;
	a->ts_rec ^= rd_be32(p + 4);
	if (plen > a->len) {
		memset(a->data + a->len, 0, plen - a->len);
		a->len = plen;
	}
	xor_bytes(a->data, p + RTP_HDR_LEN, plen);
}

int fec_parse(const uint8_t *rtp, size_t len, struct fec_hdr *out)
{
	struct rtp_pkt r;
	if (rtp_parse(rtp, len, &r) < 0 || r.payload_len < FEC_HDR_LEN)
		return -EPROTO;
	const uint8_t *h = r.payload;
	if (!(h[4] & 0x80) || h[5] || h[6] || h[7]) /* E must be 1, mask 0 */
		return -EPROTO;
	if ((h[12] & 0x38) || !h[13] || !h[14]) /* XOR type, offset and NA set */
		return -EPROTO;
	out->snbase = rd_be16(h);
	out->len_rec = rd_be16(h + 2);
	out->pt_rec = h[4] & 0x7f;
	out->ts_rec = rd_be32(h + 8);
	out->kind = (h[12] & 0x40) ? FEC_ROW : FEC_COL;
	out->offset = h[13];
	out->na = h[14];
	out->payload = h + FEC_HDR_LEN;
	out->payload_len = r.payload_len - FEC_HDR_LEN;
	return 0;
}

bool fec_dims_valid(unsigned l, unsigned d)
{
	return l >= 1 && l <= FEC_MAX_L && d >= 1 && d <= FEC_MAX_D && l * d <= FEC_MAX_LxD;
}

/* ---------------- encoder ---------------- */

struct fec_enc {
	unsigned l, d;
	unsigned idx; /* position of the next packet in the matrix */
	uint16_t seq[2];
	struct fec_acc row;
	struct fec_acc *col;  /* l columns of the matrix being filled */
	struct fec_acc *done; /* l finished columns, sent during the next matrix */
	uint8_t out[RTP_HDR_LEN + FEC_HDR_LEN + RTP_MAX_BYTES];
};

struct fec_enc *fec_enc_new(unsigned l, unsigned d, uint16_t col_seq, uint16_t row_seq)
{
	if (!fec_dims_valid(l, d))
		return NULL;
	struct fec_enc *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->l = l;
	e->d = d;
	e->seq[FEC_COL] = col_seq;
	e->seq[FEC_ROW] = row_seq;
	e->col = calloc(l, sizeof(*e->col));
	e->done = calloc(l, sizeof(*e->done));
	if (!e->col || !e->done) {
		fec_enc_free(e);
		return NULL;
	}
	return e;
}

void fec_enc_free(struct fec_enc *e)
{
	if (!e)
		return;
	free(e->col);
	free(e->done);
	free(e);
}

/* Writes the FEC packet of accumulator a and hands it to emit. */
static int enc_emit(struct fec_enc *e, enum fec_kind kind, struct fec_acc *a, fec_emit_fn emit,
		    void *arg)
{
	uint8_t *p = e->out;
	rtp_write_header(p, FEC_RTP_PT, e->seq[kind]++, a->ts_first, 0);
	p[0] = 0x80 | (a->b0 & 0x3f);
	p[1] = (a->b1 & 0x80) | FEC_RTP_PT;
	uint8_t *h = p + RTP_HDR_LEN;
	wr_be16(h, a->snbase);
	wr_be16(h + 2, a->len_rec);
	h[4] = 0x80 | (a->b1 & 0x7f);
	h[5] = h[6] = h[7] = 0;
	wr_be32(h + 8, a->ts_rec);
	h[12] = kind == FEC_ROW ? 0x40 : 0x00;
	h[13] = (uint8_t)(kind == FEC_ROW ? 1 : e->l);
	h[14] = (uint8_t)(kind == FEC_ROW ? e->l : e->d);
	h[15] = 0;
	memcpy(h + FEC_HDR_LEN, a->data, a->len);
	a->used = false;
	return emit(arg, kind, p, RTP_HDR_LEN + FEC_HDR_LEN + a->len);
}

int fec_enc_feed(struct fec_enc *e, const uint8_t *rtp, size_t len, fec_emit_fn emit, void *arg)
{
	if (len < RTP_HDR_LEN || len > RTP_MAX_BYTES || (rtp[0] >> 6) != 2)
		return -EINVAL;
	unsigned c = e->idx % e->l;
	acc_add(&e->row, rtp, len);
	acc_add(&e->col[c], rtp, len);
	int rc = 0;
	if (c == e->l - 1)
		rc = enc_emit(e, FEC_ROW, &e->row, emit, arg);
	/* The previous matrix's column c goes out after packet c * D. */
	if (!rc && e->idx % e->d == 0 && e->done[e->idx / e->d].used)
		rc = enc_emit(e, FEC_COL, &e->done[e->idx / e->d], emit, arg);
	if (++e->idx == e->l * e->d) {
		struct fec_acc *t = e->done;
		e->done = e->col;
		e->col = t;
		e->idx = 0;
	}
	return rc;
}

unsigned fec_enc_fill(const struct fec_enc *e)
{
	return e->idx ? e->l * e->d - e->idx : 0;
}

unsigned fec_enc_pending(const struct fec_enc *e)
{
	unsigned n = 0;
	for (unsigned c = 0; c < e->l; c++)
		n += e->done[c].used;
	return n;
}

int fec_enc_flush(struct fec_enc *e, fec_emit_fn emit, void *arg)
{
	int rc = 0;
	for (unsigned c = 0; c < e->l && !rc; c++)
		if (e->done[c].used)
			rc = enc_emit(e, FEC_COL, &e->done[c], emit, arg);
	return rc;
}

/* ---------------- decoder ---------------- */

#define DEC_CAP        2048 /* ring slots (power of two) */
#define DEC_MIN_WINDOW 32
#define DEC_MAX_FEC    512
#define DEC_OLD_RESET  16 /* consecutive too-old packets meaning a restart */

struct dec_slot {
	uint8_t *pkt; /* whole RTP packet, NULL while missing */
	uint16_t len;
	bool recovered;
	int64_t arrival_ms;
};

struct dec_fec {
	int64_t base; /* extended SNBase */
	unsigned offset, na;
	uint8_t b0, b1; /* the FEC packet's RTP bytes 0 and 1 (P/X/CC, M) */
	uint16_t len_rec;
	uint8_t pt_rec;
	uint32_t ts_rec;
	uint16_t len;
	uint8_t *data;
};

/* Sequence numbers are extended to int64. Slots [tail, base) were
 * emitted and are kept for recovering their neighbours; base is the next
 * to emit; top the highest present (top >= base - 1). */
struct fec_dec {
	fec_out_fn out;
	void *arg;
	int64_t max_wait_ms;
	bool started;
	int64_t tail, base, top;
	unsigned window;
	unsigned old_run;
	uint32_t ssrc; /* of the last media packet: SSRCs are not protected */
	struct dec_fec *fec;
	size_t nfec;
	struct fec_dec_stats st;
	struct dec_slot slots[DEC_CAP];
	uint8_t tmp[RTP_MAX_BYTES];
};

static struct dec_slot *slot_of(struct fec_dec *d, int64_t s)
{
	return &d->slots[(uint64_t)s & (DEC_CAP - 1)];
}

static void slot_clear(struct dec_slot *sl)
{
	free(sl->pkt);
	memset(sl, 0, sizeof(*sl));
}

struct fec_dec *fec_dec_new(fec_out_fn out, void *arg, int64_t max_wait_ms)
{
	struct fec_dec *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->fec = calloc(DEC_MAX_FEC, sizeof(*d->fec));
	if (!d->fec) {
		free(d);
		return NULL;
	}
	d->out = out;
	d->arg = arg;
	d->max_wait_ms = max_wait_ms > 0 ? max_wait_ms : 1000;
	d->window = DEC_MIN_WINDOW;
	return d;
}

static void fec_remove(struct fec_dec *d, size_t i)
{
	free(d->fec[i].data);
	d->fec[i] = d->fec[--d->nfec];
}

/* Forgets every packet and FEC packet (sequence restart or free). */
static void dec_clear(struct fec_dec *d)
{
	if (d->started)
		for (int64_t s = d->tail; s <= d->top; s++)
			slot_clear(slot_of(d, s));
	while (d->nfec)
		fec_remove(d, d->nfec - 1);
	d->started = false;
	d->old_run = 0;
}

void fec_dec_free(struct fec_dec *d)
{
	if (!d)
		return;
	dec_clear(d);
	free(d->fec);
	free(d);
}

void fec_dec_get_stats(const struct fec_dec *d, struct fec_dec_stats *out)
{
	*out = d->st;
}

static int64_t ext_seq(const struct fec_dec *d, uint16_t seq)
{
	return d->top + rtp_seq_diff((uint16_t)d->top, seq);
}

/* Frees emitted slots older than the retention window and FEC packets
 * that only protect freed slots. */
static void dec_trim(struct fec_dec *d)
{
	while (d->tail < d->base - (int64_t)d->window) {
		slot_clear(slot_of(d, d->tail));
		d->tail++;
	}
	for (size_t i = d->nfec; i-- > 0;) {
		const struct dec_fec *f = &d->fec[i];
		if (f->base + (int64_t)f->offset * (f->na - 1) < d->tail)
			fec_remove(d, i);
	}
}

/* Emits slot base (or counts it lost) and moves on. */
static int dec_advance(struct fec_dec *d)
{
	struct dec_slot *sl = slot_of(d, d->base++);
	if (!sl->pkt) {
		d->st.lost++;
		return 0;
	}
	return d->out(d->arg, sl->pkt, sl->len, sl->recovered);
}

/* True when the gap at base has waited long enough. */
static bool gap_expired(struct fec_dec *d, int64_t now_ms)
{
	if (d->top - d->base >= (int64_t)d->window)
		return true;
	for (int64_t s = d->base + 1; s <= d->top; s++) {
		const struct dec_slot *sl = slot_of(d, s);
		if (sl->pkt)
			return now_ms - sl->arrival_ms >= d->max_wait_ms;
	}
	return false;
}

static int dec_drain(struct fec_dec *d, int64_t now_ms, bool force)
{
	int rc = 0;
	while (d->started && !rc && d->base <= d->top) {
		if (!slot_of(d, d->base)->pkt && !force && !gap_expired(d, now_ms))
			break;
		rc = dec_advance(d);
	}
	if (d->started)
		dec_trim(d);
	return rc;
}

/* Makes room in the ring for sequence number s > top. */
static int dec_make_room(struct fec_dec *d, int64_t s)
{
	int rc = 0;
	while (!rc && s - d->tail >= DEC_CAP) {
		if (d->tail < d->base)
			slot_clear(slot_of(d, d->tail++));
		else
			rc = dec_advance(d);
	}
	return rc;
}

/* Stores a copy of pkt at s (present slots are kept). 1 stored, 0
 * duplicate, -ENOMEM. */
static int dec_store(struct fec_dec *d, int64_t s, const uint8_t *pkt, size_t len, bool recovered,
		     int64_t now_ms)
{
	struct dec_slot *sl = slot_of(d, s);
	if (sl->pkt)
		return 0;
	if (!(sl->pkt = malloc(len)))
		return -ENOMEM;
	memcpy(sl->pkt, pkt, len);
	sl->len = (uint16_t)len;
	sl->recovered = recovered;
	sl->arrival_ms = now_ms;
	if (s > d->top)
		d->top = s;
	return 1;
}

/* Rebuilds packet `missing` from FEC packet f and the other protected
 * packets (all present). */
static int dec_rebuild(struct fec_dec *d, const struct dec_fec *f, int64_t missing, int64_t now_ms)
{
	uint16_t len = f->len_rec;
	uint8_t b0 = f->b0, b1 = f->b1 & 0x80, pt = f->pt_rec;
	uint32_t ts = f->ts_rec, ssrc = d->ssrc;
	memcpy(d->tmp + RTP_HDR_LEN, f->data, f->len);
	for (unsigned k = 0; k < f->na; k++) {
		int64_t s = f->base + (int64_t)k * f->offset;
		if (s == missing)
			continue;
		const struct dec_slot *sl = slot_of(d, s);
		size_t plen = sl->len - RTP_HDR_LEN;
		len ^= (uint16_t)plen;
		b0 ^= sl->pkt[0];
		b1 ^= sl->pkt[1] & 0x80;
		pt ^= sl->pkt[1] & 0x7f;
		ts ^= rd_be32(sl->pkt + 4);
		ssrc = rd_be32(sl->pkt + 8);
		xor_bytes(d->tmp + RTP_HDR_LEN, sl->pkt + RTP_HDR_LEN,
			  plen < f->len ? plen : f->len);
	}
	/* Some senders (ffmpeg) put the packet length itself, not an XOR,
	 * in length recovery: then the parity length is the answer. */
	if (!len || len > f->len)
		len = f->len;
	rtp_write_header(d->tmp, pt, (uint16_t)missing, ts, ssrc);
	d->tmp[0] = 0x80 | (b0 & 0x3f);
	d->tmp[1] |= b1;
	struct rtp_pkt check;
	if (rtp_parse(d->tmp, RTP_HDR_LEN + (size_t)len, &check) < 0) {
		d->st.bad++; /* inconsistent parity (a corrupt FEC stream) */
		return 0;
	}
	int rc = dec_store(d, missing, d->tmp, RTP_HDR_LEN + (size_t)len, true, now_ms);
	if (rc > 0)
		d->st.recovered++;
	return rc < 0 ? rc : 0;
}

/* One FEC packet: 1 when it rebuilt a packet (*err set on ENOMEM), 0
 * when it must wait for more, -1 when it is of no further use. */
static int dec_try(struct fec_dec *d, const struct dec_fec *f, int64_t now_ms, int *err)
{
	int nmiss = 0;
	int64_t missing = -1;
	for (unsigned k = 0; k < f->na; k++) {
		int64_t s = f->base + (int64_t)k * f->offset;
		if (s < d->tail)
			return -1; /* a protected packet is gone: no use */
		if (s > d->top || !slot_of(d, s)->pkt) {
			nmiss++;
			missing = s;
		}
	}
	if (nmiss != 1)
		return nmiss ? 0 : -1;
	if (missing < d->base || missing - d->tail >= DEC_CAP)
		return -1;
	*err = dec_rebuild(d, f, missing, now_ms);
	return 1;
}

/* Runs every stored FEC packet until none rebuilds anything more (a row
 * repair can make a column repairable and the other way round). */
static int dec_recover(struct fec_dec *d, int64_t now_ms)
{
	bool progress = true;
	while (progress) {
		progress = false;
		for (size_t i = d->nfec; i-- > 0;) {
			int err = 0;
			int r = dec_try(d, &d->fec[i], now_ms, &err);
			if (err)
				return err;
			if (r)
				fec_remove(d, i);
			if (r > 0)
				progress = true;
		}
	}
	return 0;
}

static void dec_start(struct fec_dec *d, int64_t s)
{
	d->started = true;
	d->tail = d->base = s;
	d->top = s - 1;
}

/* Places media sequence number seq: the extended number, or INT64_MIN
 * when the packet is to be dropped. Handles sender restarts. */
static int dec_place(struct fec_dec *d, uint16_t seq, int64_t *out)
{
	*out = INT64_MIN;
	if (!d->started) {
		dec_start(d, seq + ((int64_t)1 << 32));
		*out = d->base;
		return 0;
	}
	int64_t s = ext_seq(d, seq);
	bool jump = s - d->top > DEC_CAP / 2;
	if (s < d->tail && ++d->old_run >= DEC_OLD_RESET)
		jump = true;
	if (jump) {
		int rc = dec_drain(d, 0, true);
		dec_clear(d);
		d->st.resets++;
		if (rc)
			return rc;
		dec_start(d, seq + ((int64_t)1 << 32));
		*out = d->base;
		return 0;
	}
	if (s < d->tail) {
		d->st.late++;
		return 0;
	}
	d->old_run = 0;
	*out = s;
	return s > d->top ? dec_make_room(d, s) : 0;
}

int fec_dec_media(struct fec_dec *d, const uint8_t *rtp, size_t len, int64_t now_ms)
{
	struct rtp_pkt r;
	if (len > RTP_MAX_BYTES || rtp_parse(rtp, len, &r) < 0) {
		d->st.bad++;
		return 0;
	}
	int64_t s;
	d->ssrc = r.ssrc;
	int rc = dec_place(d, r.seq, &s);
	if (rc || s == INT64_MIN)
		return rc;
	rc = dec_store(d, s, rtp, len, false, now_ms);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		d->st.duplicates++;
		return 0;
	}
	d->st.media++;
	if (s < d->base)
		d->st.late++; /* kept only to help recover its neighbours */
	rc = dec_recover(d, now_ms);
	return rc ? rc : dec_drain(d, now_ms, false);
}

/* Learns the matrix from an FEC header and sizes the reorder window:
 * column FEC of a matrix may come during the whole next matrix. */
static void dec_learn(struct fec_dec *d, const struct fec_hdr *h)
{
	if (h->kind == FEC_ROW)
		d->st.l = h->na;
	else {
		d->st.l = h->offset;
		d->st.d = h->na;
	}
	unsigned l = d->st.l ? d->st.l : 1, dd = d->st.d ? d->st.d : 1;
	unsigned w = 2 * l * dd + 2 * l;
	if (w > DEC_CAP / 4)
		w = DEC_CAP / 4;
	d->window = w > DEC_MIN_WINDOW ? w : DEC_MIN_WINDOW;
}

int fec_dec_fec(struct fec_dec *d, const uint8_t *rtp, size_t len, int64_t now_ms)
{
	struct fec_hdr h;
	if (len > RTP_HDR_LEN + FEC_HDR_LEN + RTP_MAX_BYTES || fec_parse(rtp, len, &h) < 0 ||
	    (h.kind == FEC_ROW && h.offset != 1) || h.payload_len > RTP_MAX_BYTES - RTP_HDR_LEN) {
		d->st.bad++;
		return 0;
	}
	d->st.fec[h.kind]++;
	dec_learn(d, &h);
	if (!d->started)
		return 0;
	int64_t base = ext_seq(d, h.snbase);
	if (base + (int64_t)h.offset * (h.na - 1) < d->tail ||
	    base + (int64_t)h.offset * (h.na - 1) - d->tail >= DEC_CAP)
		return 0;
	if (d->nfec == DEC_MAX_FEC)
		fec_remove(d, 0);
	struct dec_fec *f = &d->fec[d->nfec];
	if (!(f->data = malloc(h.payload_len ? h.payload_len : 1)))
		return -ENOMEM;
	memcpy(f->data, h.payload, h.payload_len);
	f->len = (uint16_t)h.payload_len;
	f->base = base;
	f->offset = h.offset;
	f->na = h.na;
	f->b0 = rtp[0];
	f->b1 = rtp[1];
	f->len_rec = h.len_rec;
	f->pt_rec = h.pt_rec;
	f->ts_rec = h.ts_rec;
	d->nfec++;
	int rc = dec_recover(d, now_ms);
	return rc ? rc : dec_drain(d, now_ms, false);
}

int fec_dec_tick(struct fec_dec *d, int64_t now_ms)
{
	return dec_drain(d, now_ms, false);
}

int fec_dec_flush(struct fec_dec *d)
{
	return dec_drain(d, 0, true);
}
