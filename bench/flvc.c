/* HTTP-FLV client: one GET, then a streaming FLV tag parser that never
 * buffers a tag body. Of each video body it keeps the first two bytes
 * (frame type, packet type) and the last 32 (the latency key). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define HTTP_HEADER_MAX (16 * 1024)
#define TAG_HEADER      11
#define TAIL            32

enum { F_HTTP, F_FILE_HEADER, F_TAG_HEADER, F_BODY, F_SKIP };

struct flvc {
	struct bconn conn;
	struct viewer *v;
	const struct target *t;
	int state;
	uint32_t skip;     /* F_SKIP: bytes still to drop, then a tag header */
	uint8_t type;      /* current tag */
	uint32_t body_len; /* current tag body length, bytes */
	uint32_t body_got;
	uint32_t ts_ms;
	uint8_t head[2];
	uint8_t tail[TAIL];
	uint32_t tail_len;
};

static int check_response(const uint8_t *p, size_t hlen)
{
	char h[HTTP_HEADER_MAX + 1];
	memcpy(h, p, hlen);
	h[hlen] = 0;
	if (strncmp(h, "HTTP/1.", 7) || strncmp(h + 8, " 200", 4))
		return -ENOENT;
	if (strcasestr(h, "\ntransfer-encoding: chunked"))
		return -ENOTSUP; /* weir and friends stream raw FLV */
	return 0;
}

static long parse_http(struct flvc *f, const uint8_t *p, size_t len)
{
	const uint8_t *end = memmem(p, len, "\r\n\r\n", 4);
	if (!end)
		return len > HTTP_HEADER_MAX ? -EPROTO : 0;
	size_t hlen = (size_t)(end - p) + 4;
	if (hlen > HTTP_HEADER_MAX)
		return -EPROTO;
	int rc = check_response(p, hlen);
	if (rc < 0) {
		bconn_fail(&f->conn, rc == -ENOTSUP ? "chunked response" : "HTTP error status");
		return rc;
	}
	f->state = F_FILE_HEADER;
	return (long)hlen;
}

/* Keeps the last TAIL bytes of the body seen so far. */
static void keep_tail(struct flvc *f, const uint8_t *p, size_t n)
{
	if (n >= TAIL) {
		memcpy(f->tail, p + n - TAIL, TAIL);
		f->tail_len = TAIL;
		return;
	}
	size_t keep = f->tail_len + n > TAIL ? TAIL - n : f->tail_len;
	memmove(f->tail, f->tail + f->tail_len - keep, keep);
	memcpy(f->tail + keep, p, n);
	f->tail_len = (uint32_t)(keep + n);
}

static void tag_done(struct flvc *f)
{
	struct viewer *v = f->v;
	if (f->type == 9 && f->body_len >= 2)
		viewer_on_video(v, f->conn.rx_ns, f->ts_ms, f->head, f->body_len, f->tail,
				f->tail_len);
	else if (f->type == 8)
		v->aframes++;
	f->state = F_SKIP;
	f->skip = 4; /* PreviousTagSize */
}

static size_t body_bytes(struct flvc *f, const uint8_t *p, size_t len)
{
	size_t n = f->body_len - f->body_got;
	if (n > len)
		n = len;
	for (size_t i = 0; f->body_got + i < 2 && i < n; i++)
		f->head[f->body_got + i] = p[i];
	keep_tail(f, p, n);
	f->body_got += (uint32_t)n;
	if (f->body_got == f->body_len)
		tag_done(f);
	return n;
}

static void tag_header(struct flvc *f, const uint8_t *p)
{
	f->type = p[0] & 0x1f;
	f->body_len = rd_be24(p + 1);
	f->ts_ms = rd_be24(p + 4) | (uint32_t)p[7] << 24;
	f->body_got = f->tail_len = 0;
	f->state = F_BODY;
	if (!f->body_len)
		tag_done(f);
}

static long on_data(struct bconn *c, const uint8_t *p, size_t len)
{
	struct flvc *f = container_of(c, struct flvc, conn);
	size_t pos = 0;
	while (pos < len && !c->ended) {
		size_t left = len - pos, n;
		switch (f->state) {
		case F_HTTP: {
			long used = parse_http(f, p + pos, left);
			if (used <= 0)
				return used;
			n = (size_t)used;
			break;
		}
		case F_FILE_HEADER: /* 9 bytes (or the declared size), then tag size 0 */
			if (left < 9)
				return (long)pos;
			if (memcmp(p + pos, "FLV", 3))
				return -EPROTO;
			f->state = F_SKIP;
			f->skip = rd_be32(p + pos + 5) + 4;
			n = 0;
			break;
		case F_SKIP:
			n = left < f->skip ? left : f->skip;
			f->skip -= (uint32_t)n;
			if (!f->skip)
				f->state = F_TAG_HEADER;
			break;
		case F_TAG_HEADER:
			if (left < TAG_HEADER)
				return (long)pos;
			tag_header(f, p + pos);
			n = TAG_HEADER;
			break;
		default:
			n = body_bytes(f, p + pos, left);
			break;
		}
		pos += n;
	}
	return c->ended ? -ECANCELED : (long)pos;
}

static int on_connected(struct bconn *c)
{
	struct flvc *f = container_of(c, struct flvc, conn);
	char req[1400];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: weir-bench\r\n"
			 "Accept: */*\r\n\r\n",
			 f->t->path, f->t->host, f->t->port);
	if (n < 0 || (size_t)n >= sizeof(req))
		return -ENAMETOOLONG;
	return bconn_write(c, req, (size_t)n);
}

static void on_ended(struct bconn *c, const char *why)
{
	struct flvc *f = container_of(c, struct flvc, conn);
	viewer_flv_ended(f->v, why);
}

static void on_closed(struct bconn *c)
{
	struct flvc *f = container_of(c, struct flvc, conn);
	struct viewer *v = f->v;
	free(f);
	viewer_flv_closed(v);
}

static const struct bconn_ops flvc_ops = {
    .connected = on_connected,
    .data = on_data,
    .ended = on_ended,
    .closed = on_closed,
};

struct flvc *flvc_start(struct viewer *v, uv_loop_t *loop, const struct target *t)
{
	struct flvc *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->v = v;
	f->t = t;
	f->state = F_HTTP;
	if (bconn_connect(&f->conn, loop, &flvc_ops, t->host, t->port) < 0) {
		free(f);
		return NULL;
	}
	return f;
}

void flvc_close(struct flvc *f)
{
	bconn_fail(&f->conn, "bench end");
}
