/* RTMP chunk writer: messages in, chunk headers + bodies out.
 *
 * Header type per chunk stream (csid < RTMP_WR_CSIDS; larger ids always
 * use type 0):
 *   type 0 on first use, stream id change, or time going backwards;
 *   type 1 when length or message type changed;
 *   type 2 when only the delta changed;
 *   type 3 when the delta equals the one the reader will add.
 * After a type 0 the reader's implied delta is the type 0 timestamp (see
 * chunk_read.c), so that is what "last delta" stores. A field >= 0xFFFFFF is
 * sent as 0xFFFFFF plus a 4-byte extended value, repeated on every
 * continuation chunk (FFmpeg/librtmp behaviour). */
#include "proto/rtmp/chunk.h"

#include <errno.h>
#include <string.h>

#define EXT_TS_MARK    0xFFFFFFu
#define INITIAL_CHUNK  128u
#define MAX_CHUNK_SIZE 0x7FFFFFFFu
#define MAX_MSG_LEN    0xFFFFFFu /* 24-bit length field */
#define CSID_MIN       2u
#define CSID_MAX       65599u
#define CTRL_CSID      2u

/* Headers of one message: the first chunk's and the (identical) one of
 * every continuation chunk. */
struct chunk_plan {
	uint8_t first[18];
	size_t first_len;
	uint8_t cont[7];
	size_t cont_len;
	uint32_t field; /* timestamp (type 0) or delta, becomes last.delta */
	uint32_t total; /* message length, bytes */
};

void rtmp_chunk_writer_init(struct rtmp_chunk_writer *w)
{
	memset(w, 0, sizeof(*w));
	w->chunk_size = INITIAL_CHUNK;
}

/* Basic header for fmt/csid into p (3 bytes room). Returns its size. */
static size_t put_basic(uint8_t *p, unsigned fmt, uint32_t csid)
{
	uint8_t f = (uint8_t)(fmt << 6);
	if (csid < 64) {
		p[0] = f | (uint8_t)csid;
		return 1;
	}
	if (csid < 320) {
		p[0] = f;
		p[1] = (uint8_t)(csid - 64);
		return 2;
	}
	p[0] = f | 1;
	p[1] = (uint8_t)((csid - 64) & 0xff);
	p[2] = (uint8_t)((csid - 64) >> 8);
	return 3;
}

/* Total body length; -EINVAL past the 24-bit message length. */
static int body_total(const struct iovec *body, unsigned nbody, uint32_t *total)
{
	size_t t = 0;
	for (unsigned i = 0; i < nbody; i++) {
		if (body[i].iov_len > MAX_MSG_LEN || t + body[i].iov_len > MAX_MSG_LEN)
			return -EINVAL;
		t += body[i].iov_len;
	}
	*total = (uint32_t)t;
	return 0;
}

static unsigned pick_fmt(const struct rtmp_chunk_writer *w, uint32_t csid, uint8_t type,
			 uint32_t stream_id, uint32_t timestamp, uint32_t len, uint32_t *field)
{
	*field = timestamp;
	if (csid >= RTMP_WR_CSIDS || !w->last[csid].used)
		return 0;
	if (w->last[csid].stream_id != stream_id || timestamp < w->last[csid].timestamp)
		return 0;
	*field = timestamp - w->last[csid].timestamp;
	if (len != w->last[csid].len || type != w->last[csid].type)
		return 1;
	return *field != w->last[csid].delta ? 2 : 3;
}

/* Builds both headers. 0 or -EINVAL. */
static int plan_message(const struct rtmp_chunk_writer *w, uint32_t csid, uint8_t type,
			uint32_t stream_id, uint32_t timestamp, const struct iovec *body,
			unsigned nbody, struct chunk_plan *pl)
{
	if (csid < CSID_MIN || csid > CSID_MAX || w->chunk_size == 0 ||
	    w->chunk_size > MAX_CHUNK_SIZE || (nbody && !body))
		return -EINVAL;
	int rc = body_total(body, nbody, &pl->total);
	if (rc)
		return rc;
	unsigned fmt = pick_fmt(w, csid, type, stream_id, timestamp, pl->total, &pl->field);
	bool ext = pl->field >= EXT_TS_MARK;
	uint8_t *p = pl->first;
	size_t n = put_basic(p, fmt, csid);
	if (fmt < 3) {
		wr_be24(p + n, ext ? EXT_TS_MARK : pl->field);
		n += 3;
	}
	if (fmt < 2) {
		wr_be24(p + n, pl->total);
		p[n + 3] = type;
		n += 4;
	}
	if (fmt == 0) {
		wr_le32(p + n, stream_id);
		n += 4;
	}
	if (ext) {
		wr_be32(p + n, pl->field);
		n += 4;
	}
	pl->first_len = n;
	pl->cont_len = put_basic(pl->cont, 3, csid);
	if (ext) {
		wr_be32(pl->cont + pl->cont_len, pl->field);
		pl->cont_len += 4;
	}
	return 0;
}

static void commit(struct rtmp_chunk_writer *w, uint32_t csid, uint8_t type, uint32_t stream_id,
		   uint32_t timestamp, const struct chunk_plan *pl)
{
	if (csid >= RTMP_WR_CSIDS)
		return;
	w->last[csid].used = true;
	w->last[csid].stream_id = stream_id;
	w->last[csid].len = pl->total;
	w->last[csid].timestamp = timestamp;
	w->last[csid].delta = pl->field;
	w->last[csid].type = type;
}

/* Receives the output pieces in order; is_hdr tells header from body. */
typedef int (*emit_fn)(void *ctx, const uint8_t *p, size_t n, bool is_hdr);

/* Walks the chunks of a planned message, emitting headers and body slices
 * (a chunk's body may span several body iovecs). 0 or emit's error. */
static int walk_chunks(const struct chunk_plan *pl, uint32_t chunk_size, const struct iovec *body,
		       unsigned nbody, emit_fn emit, void *ctx)
{
	int rc = emit(ctx, pl->first, pl->first_len, true);
	unsigned bi = 0;
	size_t boff = 0;
	uint32_t done = 0;
	while (rc == 0 && done < pl->total) {
		if (done > 0)
			rc = emit(ctx, pl->cont, pl->cont_len, true);
		uint32_t want = pl->total - done < chunk_size ? pl->total - done : chunk_size;
		while (rc == 0 && want > 0) {
			if (boff == body[bi].iov_len) {
				bi++;
				boff = 0;
				continue;
			}
			size_t k = body[bi].iov_len - boff;
			if (k > want)
				k = want;
			rc = emit(ctx, (const uint8_t *)body[bi].iov_base + boff, k, false);
			boff += k;
			want -= (uint32_t)k;
			done += (uint32_t)k;
		}
	}
	return rc;
}

static int emit_bytes(void *ctx, const uint8_t *p, size_t n, bool is_hdr)
{
	return bytes_append(ctx, p, n);
}

int rtmp_chunk_write(struct rtmp_chunk_writer *w, uint32_t csid, uint8_t type, uint32_t stream_id,
		     uint32_t timestamp, const struct iovec *body, unsigned nbody,
		     struct bytes *out)
{
	struct chunk_plan pl;
	int rc = plan_message(w, csid, type, stream_id, timestamp, body, nbody, &pl);
	if (rc)
		return rc;
	uint32_t nchunks = pl.total ? (pl.total - 1) / w->chunk_size + 1 : 1;
	size_t need = pl.first_len + pl.total + (size_t)(nchunks - 1) * pl.cont_len;
	size_t old_len = out->len;
	if (bytes_reserve(out, need))
		return -ENOMEM;
	rc = walk_chunks(&pl, w->chunk_size, body, nbody, emit_bytes, out);
	if (rc) {
		out->len = old_len;
		out->data[old_len] = 0;
		return rc;
	}
	commit(w, csid, type, stream_id, timestamp, &pl);
	return 0;
}

struct iov_sink {
	struct iovec *iov;
	unsigned cap, used;
	const uint8_t *first, *cont; /* the headers' copies in the caller's hdr */
	bool first_done;
};

/* Header slices point into hdr: the first header, then the one copy of the
 * continuation header shared by every continuation chunk. */
static int emit_iov(void *ctx, const uint8_t *p, size_t n, bool is_hdr)
{
	struct iov_sink *s = ctx;
	if (s->used == s->cap)
		return -ENOSPC;
	if (is_hdr) {
		p = s->first_done ? s->cont : s->first;
		s->first_done = true;
	}
	s->iov[s->used].iov_base = (void *)p;
	s->iov[s->used].iov_len = n;
	s->used++;
	return 0;
}

int rtmp_chunk_write_iov(struct rtmp_chunk_writer *w, uint32_t csid, uint8_t type,
			 uint32_t stream_id, uint32_t timestamp, const struct iovec *body,
			 unsigned nbody, uint8_t *hdr, size_t hdr_cap, size_t *hdr_used,
			 struct iovec *iov, unsigned iov_cap)
{
	struct chunk_plan pl;
	int rc = plan_message(w, csid, type, stream_id, timestamp, body, nbody, &pl);
	if (rc)
		return rc;
	bool has_cont = pl.total > w->chunk_size;
	size_t need = pl.first_len + (has_cont ? pl.cont_len : 0);
	if (!hdr || hdr_cap < need || !iov)
		return -ENOSPC;
	memcpy(hdr, pl.first, pl.first_len);
	if (has_cont)
		memcpy(hdr + pl.first_len, pl.cont, pl.cont_len);
	struct iov_sink s = {.iov = iov, .cap = iov_cap, .first = hdr, .cont = hdr + pl.first_len};
	rc = walk_chunks(&pl, w->chunk_size, body, nbody, emit_iov, &s);
	if (rc)
		return rc;
	if (hdr_used)
		*hdr_used = need;
	commit(w, csid, type, stream_id, timestamp, &pl);
	return (int)s.used;
}

/* Appends one protocol control message (csid 2, stream 0, time 0). */
static int put_control(struct rtmp_chunk_writer *w, struct bytes *out, uint8_t type,
		       const uint8_t *p, size_t n)
{
	struct iovec v = {.iov_base = (void *)p, .iov_len = n};
	return rtmp_chunk_write(w, CTRL_CSID, type, 0, 0, &v, 1, out);
}

/* Also switches w to the new size: every later chunk must use it.
 * -EINVAL for 0 or a size with the high bit set. */
int rtmp_put_set_chunk_size(struct rtmp_chunk_writer *w, struct bytes *out, uint32_t size)
{
	if (size == 0 || size > MAX_CHUNK_SIZE)
		return -EINVAL;
	uint8_t p[4];
	wr_be32(p, size);
	int rc = put_control(w, out, RTMP_MSG_SET_CHUNK_SIZE, p, sizeof(p));
	if (rc == 0)
		w->chunk_size = size;
	return rc;
}

int rtmp_put_window_ack_size(struct rtmp_chunk_writer *w, struct bytes *out, uint32_t size)
{
	uint8_t p[4];
	wr_be32(p, size);
	return put_control(w, out, RTMP_MSG_WINDOW_ACK_SIZE, p, sizeof(p));
}

int rtmp_put_set_peer_bw(struct rtmp_chunk_writer *w, struct bytes *out, uint32_t size,
			 uint8_t limit_type)
{
	uint8_t p[5];
	wr_be32(p, size);
	p[4] = limit_type;
	return put_control(w, out, RTMP_MSG_SET_PEER_BW, p, sizeof(p));
}

int rtmp_put_ack(struct rtmp_chunk_writer *w, struct bytes *out, uint32_t seq)
{
	uint8_t p[4];
	wr_be32(p, seq);
	return put_control(w, out, RTMP_MSG_ACK, p, sizeof(p));
}

int rtmp_put_user_control(struct rtmp_chunk_writer *w, struct bytes *out, uint16_t event,
			  uint32_t value)
{
	uint8_t p[6];
	wr_be16(p, event);
	wr_be32(p + 2, value);
	return put_control(w, out, RTMP_MSG_USER_CONTROL, p, sizeof(p));
}
