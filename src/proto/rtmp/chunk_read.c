/* RTMP chunk reader: chunk headers in, whole messages out.
 *
 * Header compression follows the Adobe RTMP 1.0 spec (5.3.1) as FFmpeg and
 * librtmp implement it:
 *  - type 0 carries an absolute timestamp, type 1/2 a delta; a type 3 chunk
 *    that starts a new message adds the delta of the previous header (after
 *    a type 0, its timestamp), so a type 0 then type 3 doubles the time;
 *  - a 0xFFFFFF timestamp field means 4 extra bytes follow, on type 3 chunks
 *    too (continuation chunks included) while the last type 0/1/2 header of
 *    that chunk stream had 0xFFFFFF.
 *
 * Chunk bodies are consumed as they arrive (a chunk in progress is resumed
 * by the next feed); only an incomplete chunk header is left unconsumed, so
 * the caller never needs to hold more than 18 bytes, whatever chunk size the
 * peer picked. Reassembly buffers grow with the bytes actually received, so
 * a declared length costs nothing until its bytes arrive. */
#include "proto/rtmp/chunk.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define EXT_TS_MARK    0xFFFFFFu
#define INITIAL_CHUNK  128u
#define MAX_CHUNK_SIZE 0x7FFFFFFFu
#define KEEP_BUF_MAX   (256u << 10) /* larger reassembly buffers are freed after use */

struct rtmp_chunk_state {
	uint32_t timestamp;  /* absolute time of the current/last message, ms */
	uint32_t delta;      /* what a type 3 new message adds to timestamp */
	uint32_t ts_field;   /* raw 24-bit field of the last type 0/1/2 header */
	uint32_t len;        /* current message length, bytes */
	uint32_t stream_id;  /* message stream id */
	uint8_t type;        /* message type id */
	uint32_t got;        /* payload bytes received of the current message */
	uint32_t chunk_left; /* payload bytes still due in the chunk in progress */
	uint8_t *buf;        /* reassembly buffer, cap bytes */
	size_t cap;
};

/* One parsed (not yet applied) chunk header. */
struct chunk_hdr {
	uint32_t csid;
	unsigned fmt;
	int idx;           /* index of the chunk stream's state, -1 when new */
	uint32_t ts_field; /* the 24-bit field (inherited for type 3) */
	uint32_t ts;       /* the extended timestamp when present, else ts_field */
	bool ext;          /* extended timestamp present */
	uint32_t len, stream_id;
	uint8_t type;
};

static const uint8_t msg_hdr_size[4] = {11, 7, 3, 0};

void rtmp_chunk_reader_init(struct rtmp_chunk_reader *r)
{
	memset(r, 0, sizeof(*r));
	r->chunk_size = INITIAL_CHUNK;
	r->max_msg_len = RTMP_DEFAULT_MAX_MSG;
}

void rtmp_chunk_reader_free(struct rtmp_chunk_reader *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->ncs && i < RTMP_MAX_CSIDS; i++) {
		if (r->cs[i])
			free(r->cs[i]->buf);
		free(r->cs[i]);
		r->cs[i] = NULL;
	}
	r->ncs = 0;
}

static int find_cs(const struct rtmp_chunk_reader *r, uint32_t csid)
{
	for (unsigned i = 0; i < r->ncs; i++)
		if (r->cs_id[i] == csid)
			return (int)i;
	return -1;
}

/* The chunk stream whose chunk body is partly received, or -1. */
static int find_in_progress(const struct rtmp_chunk_reader *r)
{
	for (unsigned i = 0; i < r->ncs; i++)
		if (r->cs[i]->chunk_left)
			return (int)i;
	return -1;
}

/* Basic header: returns its size (1..3), or 0 when p[0..n) is too short. */
static int parse_basic(const uint8_t *p, size_t n, struct chunk_hdr *h)
{
	if (n < 1)
		return 0;
	h->fmt = p[0] >> 6;
	switch (p[0] & 0x3f) {
	case 0:
		if (n < 2)
			return 0;
		h->csid = 64u + p[1];
		return 2;
	case 1:
		if (n < 3)
			return 0;
		h->csid = 64u + p[1] + ((uint32_t)p[2] << 8);
		return 3;
	default:
		h->csid = p[0] & 0x3fu;
		return 1;
	}
}

/* Parses one chunk header from p[0..n) without changing r. Returns its
 * size, 0 when incomplete, or -EPROTO. */
static int parse_header(const struct rtmp_chunk_reader *r, const uint8_t *p, size_t n,
			struct chunk_hdr *h)
{
	int bl = parse_basic(p, n, h);
	if (bl <= 0)
		return bl;
	h->idx = find_cs(r, h->csid);
	const struct rtmp_chunk_state *st = h->idx >= 0 ? r->cs[h->idx] : NULL;
	if (!st && (h->fmt != 0 || r->ncs >= RTMP_MAX_CSIDS))
		return -EPROTO;

	size_t need = (size_t)bl + msg_hdr_size[h->fmt];
	if (n < need)
		return 0;
	const uint8_t *m = p + bl;
	h->ts_field = h->fmt < 3 ? rd_be24(m) : st->ts_field;
	if (h->fmt <= 1) {
		h->len = rd_be24(m + 3);
		h->type = m[6];
	}
	if (h->fmt == 0)
		h->stream_id = rd_le32(m + 7);
	h->ext = h->ts_field == EXT_TS_MARK;
	h->ts = h->ts_field;
	if (h->ext) {
		if (n < need + 4)
			return 0;
		h->ts = rd_be32(p + need);
		need += 4;
	}
	return (int)need;
}

/* Applies the message-header part of h to a chunk stream starting a new
 * message. A partial message still pending there is dropped: only type 3
 * may continue one. */
static void start_message(struct rtmp_chunk_state *st, const struct chunk_hdr *h)
{
	st->got = 0;
	switch (h->fmt) {
	case 0:
		st->timestamp = h->ts;
		st->delta = h->ts;
		st->stream_id = h->stream_id;
		st->len = h->len;
		st->type = h->type;
		break;
	case 1:
		st->len = h->len;
		st->type = h->type;
		/* fall through */
	case 2:
		st->delta = h->ts;
		st->timestamp += h->ts;
		break;
	default:
		if (h->ext)
			st->delta = h->ts;
		st->timestamp += st->delta;
		break;
	}
	if (h->fmt < 3)
		st->ts_field = h->ts_field;
}

/* Applies a parsed header. Returns the chunk stream's index, or -ENOMEM,
 * -EMSGSIZE. */
static int apply_header(struct rtmp_chunk_reader *r, const struct chunk_hdr *h)
{
	int idx = h->idx;
	if (idx < 0) {
		struct rtmp_chunk_state *st = calloc(1, sizeof(*st));
		if (!st)
			return -ENOMEM;
		idx = (int)r->ncs++;
		r->cs[idx] = st;
		r->cs_id[idx] = h->csid;
	}
	struct rtmp_chunk_state *st = r->cs[idx];
	if (h->fmt != 3 || st->got == 0) {
		start_message(st, h);
		if (st->len > r->max_msg_len)
			return -EMSGSIZE;
	}
	uint32_t left = st->len - st->got;
	st->chunk_left = left < r->chunk_size ? left : r->chunk_size;
	return idx;
}

/* Grows st->buf to hold need bytes (need <= st->len). 0 or -ENOMEM. */
static int cs_reserve(struct rtmp_chunk_state *st, size_t need)
{
	if (need <= st->cap)
		return 0;
	size_t cap = st->cap ? st->cap : 256;
	while (cap < need)
		cap *= 2;
	if (cap > st->len)
		cap = st->len;
	uint8_t *b = realloc(st->buf, cap);
	if (!b)
		return -ENOMEM;
	st->buf = b;
	st->cap = cap;
	return 0;
}

/* Protocol control messages the reader acts on itself. 0 or -EPROTO. */
static int apply_control(struct rtmp_chunk_reader *r, const struct rtmp_msg *m)
{
	if (m->type == RTMP_MSG_SET_CHUNK_SIZE) {
		if (m->len < 4)
			return -EPROTO;
		uint32_t size = rd_be32(m->payload);
		if (size == 0 || size > MAX_CHUNK_SIZE)
			return -EPROTO;
		r->chunk_size = size;
	} else if (m->type == RTMP_MSG_ABORT) {
		if (m->len < 4)
			return -EPROTO;
		int i = find_cs(r, rd_be32(m->payload));
		if (i >= 0)
			r->cs[i]->got = 0;
	}
	return 0;
}

/* Hands the completed message of chunk stream idx to cb. */
static int deliver(struct rtmp_chunk_reader *r, int idx, rtmp_msg_cb cb, void *ctx)
{
	static const uint8_t empty[1];
	struct rtmp_chunk_state *st = r->cs[idx];
	struct rtmp_msg m = {
	    .csid = r->cs_id[idx],
	    .type = st->type,
	    .stream_id = st->stream_id,
	    .timestamp = st->timestamp,
	    .len = st->len,
	    .payload = st->len ? st->buf : empty,
	};
	st->got = 0;
	int rc = apply_control(r, &m);
	if (rc == 0 && cb)
		rc = cb(ctx, &m);
	if (st->cap > KEEP_BUF_MAX) {
		free(st->buf);
		st->buf = NULL;
		st->cap = 0;
	}
	return rc;
}

/* Copies up to n body bytes of the chunk in progress on idx; delivers the
 * message when it completes. Sets *used. 0 or negative errno. */
static int take_body(struct rtmp_chunk_reader *r, int idx, const uint8_t *p, size_t n, size_t *used,
		     rtmp_msg_cb cb, void *ctx)
{
	struct rtmp_chunk_state *st = r->cs[idx];
	size_t k = n < st->chunk_left ? n : st->chunk_left;
	*used = 0;
	if (k) {
		int rc = cs_reserve(st, (size_t)st->got + k);
		if (rc)
			return rc;
		memcpy(st->buf + st->got, p, k);
		st->got += (uint32_t)k;
		st->chunk_left -= (uint32_t)k;
	}
	*used = k;
	r->bytes_in += k;
	if (st->chunk_left == 0 && st->got == st->len)
		return deliver(r, idx, cb, ctx);
	return 0;
}

int rtmp_chunk_feed(struct rtmp_chunk_reader *r, const uint8_t *p, size_t len, rtmp_msg_cb cb,
		    void *ctx)
{
	if (!p || !len)
		return 0; /* a chunk in progress needs bytes; empty messages never wait */
	if (len > INT_MAX)
		len = INT_MAX;
	size_t off = 0;
	int cur = find_in_progress(r);
	for (;;) {
		if (cur >= 0) {
			size_t used;
			int rc = take_body(r, cur, p + off, len - off, &used, cb, ctx);
			if (rc < 0)
				return rc;
			off += used;
			if (r->cs[cur]->chunk_left)
				break; /* out of input mid-chunk */
			cur = -1;
			continue;
		}
		if (off == len)
			break;
		struct chunk_hdr h;
		int hl = parse_header(r, p + off, len - off, &h);
		if (hl < 0)
			return hl;
		if (hl == 0)
			break;
		cur = apply_header(r, &h);
		if (cur < 0)
			return cur;
		off += (size_t)hl;
		r->bytes_in += (size_t)hl;
	}
	return (int)off;
}
