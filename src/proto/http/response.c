/* HTTP responses: one-shot answers and streaming bodies, written with
 * gathered writes that hold frame references until the kernel has them. */
#include "proto/http/server-t.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/buf.h"
#include "media/frame.h"
#include "proto/netout.h"

/* Completion of a write on a connection (netout callback). */
void http_conn_write_done(struct netout *o, int status)
{
	struct http_conn *c = o->arg;
	if (c->state == HC_CLOSING)
		return;
	if (status < 0) {
		http_conn_close(c, uv_strerror(status));
		return;
	}
	if (c->close_after_write && !o->queued) {
		http_conn_close(c, NULL);
		return;
	}
	if (c->on_drain && o->queued < HTTP_LOW_WATER)
		c->on_drain(c->cb_arg);
}

static void release(struct frame **refs, unsigned nrefs)
{
	for (unsigned i = 0; i < nrefs; i++)
		frame_unref(refs[i]);
}

/* Queues bufs for writing (now: netout_write_now, bufs may be modified);
 * takes over refs and owned (freed on error too). */
static int submit_any(struct http_conn *c, const uv_buf_t *bufs, unsigned nbufs,
		      struct frame **refs, unsigned nrefs, void *owned, void *owned2, bool now)
{
	if (c->state == HC_CLOSING) {
		release(refs, nrefs);
		free(owned);
		free(owned2);
		return -EPIPE;
	}
	int rc =
	    now ? netout_write_now(&c->out, (uv_buf_t *)bufs, nbufs, refs, nrefs, owned, owned2)
		: netout_write2(&c->out, bufs, nbufs, refs, nrefs, owned, owned2);
	if (rc) {
		http_conn_close(c, "write failed");
		return rc;
	}
	c->info.down_bytes = c->out.total;
	return 0;
}

static int submit2(struct http_conn *c, const uv_buf_t *bufs, unsigned nbufs, struct frame **refs,
		   unsigned nrefs, void *owned, void *owned2)
{
	return submit_any(c, bufs, nbufs, refs, nrefs, owned, owned2, false);
}

static int submit(struct http_conn *c, const uv_buf_t *bufs, unsigned nbufs, struct frame **refs,
		  unsigned nrefs, char *owned)
{
	return submit2(c, bufs, nbufs, refs, nrefs, owned, NULL);
}

/* A deferred request got its answer: continue with the next request. */
static void answered(struct http_conn *c)
{
	if (c->state != HC_DEFERRED)
		return;
	c->on_close = NULL;
	c->cb_arg = NULL;
	if (c->keep_alive) {
		http_conn_resume(c);
	} else {
		c->state = HC_READING;
		c->close_after_write = true;
		if (!c->out.queued)
			http_conn_close(c, NULL);
	}
}

static int head_common(struct http_conn *c, struct bytes *h, int status, const char *ctype)
{
	int rc = bytes_printf(h,
			      "HTTP/1.1 %d %s\r\nServer: weir/" WEIR_VERSION "\r\n"
			      "Access-Control-Allow-Origin: *\r\n"
			      "Access-Control-Expose-Headers: *\r\n",
			      status, http_reason(status));
	if (!rc && ctype)
		rc = bytes_printf(h, "Content-Type: %s\r\n", ctype);
	return rc;
}

int http_respond_ex(struct http_conn *c, int status, const char *content_type,
		    const char *extra_headers, const void *body, size_t len)
{
	struct bytes h = {0};
	int rc = head_common(c, &h, status, content_type);
	if (!rc && extra_headers)
		rc = bytes_append(&h, extra_headers, strlen(extra_headers));
	if (!rc)
		rc = bytes_printf(&h, "Content-Length: %zu\r\nConnection: %s\r\n\r\n", len,
				  c->keep_alive ? "keep-alive" : "close");
	if (!rc && !c->head_only && len)
		rc = bytes_append(&h, body, len);
	if (rc) {
		bytes_free(&h);
		http_conn_close(c, "out of memory");
		return -ENOMEM;
	}
	uv_buf_t b = uv_buf_init((char *)h.data, (unsigned)h.len);
	rc = submit(c, &b, 1, NULL, 0, (char *)h.data);
	answered(c);
	return rc;
}

int http_respond_wbuf(struct http_conn *c, int status, const char *content_type,
		      const char *extra_headers, struct wbuf *body)
{
	struct bytes h = {0};
	size_t len = body ? body->len : 0;
	int rc = head_common(c, &h, status, content_type);
	if (!rc && extra_headers)
		rc = bytes_append(&h, extra_headers, strlen(extra_headers));
	if (!rc)
		rc = bytes_printf(&h, "Content-Length: %zu\r\nConnection: %s\r\n\r\n", len,
				  c->keep_alive ? "keep-alive" : "close");
	if (rc || c->state == HC_CLOSING) {
		bytes_free(&h);
		wbuf_unref(body);
		if (rc)
			http_conn_close(c, "out of memory");
		return rc ? -ENOMEM : -EPIPE;
	}
	uv_buf_t b[2] = {uv_buf_init((char *)h.data, (unsigned)h.len),
			 uv_buf_init(body ? (char *)body->data : NULL, (unsigned)len)};
	if (c->head_only || !len) {
		wbuf_unref(body);
		body = NULL;
	}
	rc = netout_write_ex(&c->out, b, body ? 2 : 1, NULL, 0, h.data, NULL, body);
	if (rc)
		http_conn_close(c, "write failed");
	c->info.down_bytes = c->out.total;
	answered(c);
	return rc;
}

void http_defer(struct http_conn *c, void (*on_close)(void *arg), void *arg)
{
	c->state = HC_DEFERRED;
	c->on_close = on_close;
	c->on_drain = NULL;
	c->cb_arg = arg;
}

int http_respond(struct http_conn *c, int status, const char *content_type, const void *body,
		 size_t len)
{
	return http_respond_ex(c, status, content_type, NULL, body, len);
}

int http_respond_error(struct http_conn *c, int status, const char *msg)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, msg ? msg : http_reason(status));
	if (n < 0 || (size_t)n >= sizeof(body))
		n = (int)strlen(body);
	return http_respond(c, status, "text/plain", body, (size_t)n);
}

int http_stream_begin(struct http_conn *c, int status, const char *content_type, bool raw)
{
	struct bytes h = {0};
	c->chunked_out = !raw && c->keep_alive;
	if (raw)
		c->keep_alive = false;
	int rc = head_common(c, &h, status, content_type);
	if (!rc)
		rc = bytes_printf(&h, "Cache-Control: no-cache\r\n%sConnection: %s\r\n\r\n",
				  c->chunked_out ? "Transfer-Encoding: chunked\r\n" : "",
				  c->keep_alive ? "keep-alive" : "close");
	if (rc) {
		bytes_free(&h);
		return -ENOMEM;
	}
	uv_buf_t b = uv_buf_init((char *)h.data, (unsigned)h.len);
	rc = submit(c, &b, 1, NULL, 0, (char *)h.data);
	if (rc)
		return rc;
	if (c->head_only)
		return 1;
	c->state = HC_STREAMING;
	return 0;
}

static int stream_write(struct http_conn *c, const uv_buf_t *bufs, unsigned nbufs,
			struct frame **refs, unsigned nrefs, void *owned, bool now)
{
	size_t total = 0;
	for (unsigned i = 0; i < nbufs; i++)
		total += bufs[i].len;
	if (c->state != HC_STREAMING || !total) {
		release(refs, nrefs);
		free(owned);
		return c->state == HC_STREAMING ? 0 : -EPIPE;
	}
	if (!c->chunked_out)
		return submit_any(c, bufs, nbufs, refs, nrefs, owned, NULL, now);
	/* Chunked: one size line before and CRLF after the gathered data. */
	uv_buf_t *v = malloc((nbufs + 2) * sizeof(*v));
	char *line = malloc(24);
	if (!v || !line) {
		free(v);
		free(line);
		release(refs, nrefs);
		free(owned);
		return -ENOMEM;
	}
	int n = snprintf(line, 24, "%zx\r\n", total);
	memcpy(line + n, "\r\n", 2);
	v[0] = uv_buf_init(line, (unsigned)n);
	memcpy(v + 1, bufs, nbufs * sizeof(*v));
	v[nbufs + 1] = uv_buf_init(line + n, 2);
	int rc = submit_any(c, v, nbufs + 2, refs, nrefs, line, owned, now);
	free(v);
	return rc;
}

int http_stream_write(struct http_conn *c, const uv_buf_t *bufs, unsigned nbufs,
		      struct frame **refs, unsigned nrefs, void *owned)
{
	return stream_write(c, bufs, nbufs, refs, nrefs, owned, false);
}

int http_stream_write_now(struct http_conn *c, uv_buf_t *bufs, unsigned nbufs, struct frame **refs,
			  unsigned nrefs, void *owned)
{
	return stream_write(c, bufs, nbufs, refs, nrefs, owned, true);
}

int http_stream_write_wbuf(struct http_conn *c, struct wbuf *wb, size_t off, size_t len)
{
	if (c->state != HC_STREAMING || !len || off > wb->len || len > wb->len - off) {
		wbuf_unref(wb);
		if (c->state != HC_STREAMING)
			return -EPIPE;
		return len ? -EINVAL : 0;
	}
	uv_buf_t v[3];
	unsigned nv = 0;
	char *line = NULL;
	int n = 0;
	if (c->chunked_out) {
		if (!(line = malloc(24))) {
			wbuf_unref(wb);
			return -ENOMEM;
		}
		n = snprintf(line, 24, "%zx\r\n", len);
		memcpy(line + n, "\r\n", 2);
		v[nv++] = uv_buf_init(line, (unsigned)n);
	}
	v[nv++] = uv_buf_init((char *)wb->data + off, (unsigned)len);
	if (line)
		v[nv++] = uv_buf_init(line + n, 2);
	int rc = netout_write_ex(&c->out, v, nv, NULL, 0, line, NULL, wb);
	if (rc) {
		http_conn_close(c, "write failed");
		return rc;
	}
	c->info.down_bytes = c->out.total;
	return 0;
}

size_t http_stream_queued(const struct http_conn *c)
{
	return c->out.queued;
}

void http_stream_set_callbacks(struct http_conn *c, void (*on_drain)(void *arg),
			       void (*on_close)(void *arg), void *arg)
{
	c->on_drain = on_drain;
	c->on_close = on_close;
	c->cb_arg = arg;
}

void http_stream_end(struct http_conn *c)
{
	if (c->state != HC_STREAMING)
		return;
	c->on_drain = c->on_close = NULL;
	if (c->chunked_out && c->keep_alive) {
		char *last = strdup("0\r\n\r\n");
		if (last) {
			uv_buf_t b = uv_buf_init(last, 5);
			submit(c, &b, 1, NULL, 0, last);
		}
		http_conn_resume(c);
		return;
	}
	c->close_after_write = true;
	c->state = HC_READING;
	if (!c->out.queued)
		http_conn_close(c, NULL);
}
