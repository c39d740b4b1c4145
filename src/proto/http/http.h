/* HTTP/1.1 server: keep-alive, chunked responses, HEAD, CORS, routing by
 * path pattern. Used for the outputs port (8080) and the API port (4242).
 *
 * A handler answers at once with http_respond*(), or takes over the
 * connection for a streaming response (http_stream_begin + http_write...)
 * until it calls http_stream_end() or the peer goes away (on_close). */
#ifndef WEIR_PROTO_HTTP_HTTP_H
#define WEIR_PROTO_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/conn.h"
#include "proto/http/parse.h"

struct http_server;
struct http_conn;
struct frame;
struct wbuf;

/* Return 0 when the request was answered or taken over, negative errno on
 * failure (the server answers 500 and closes). */
typedef int (*http_handler_fn)(struct http_conn *c, struct http_request *req, void *arg);

struct http_server *http_server_new(uv_loop_t *loop, const char *protocol_name);
/* Binds and listens. iface NULL or "" = all interfaces. 0 or -errno. */
int http_server_listen(struct http_server *s, const char *iface, int port);
/* Routes are tried in the order added. Pattern forms: "/api" (exact),
 * "/hls/<star>" (prefix), "<star>.flv" (suffix), "/json_<star>.js" (prefix and
 * suffix), where <star> is a literal asterisk. */
int http_server_route(struct http_server *s, const char *pattern, http_handler_fn fn, void *arg);
/* Largest accepted request body (default 1 MiB; larger gets 413). */
void http_server_set_max_body(struct http_server *s, size_t max);
/* Stops listening and closes every connection; frees when all are closed. */
void http_server_close(struct http_server *s);

/* ---- one-shot answers (Content-Length, keep-alive, CORS; HEAD sends no body) ---- */
int http_respond(struct http_conn *c, int status, const char *content_type, const void *body,
		 size_t len);
/* Extra header lines ("Name: value\r\n"...) may be NULL. */
int http_respond_ex(struct http_conn *c, int status, const char *content_type,
		    const char *extra_headers, const void *body, size_t len);
/* Like http_respond_ex, the body being a shared buffer sent by reference
 * (the call takes over the reference; NULL = empty body). */
int http_respond_wbuf(struct http_conn *c, int status, const char *content_type,
		      const char *extra_headers, struct wbuf *body);
/* Short text/plain body "<status> <reason>\n" (or msg). */
int http_respond_error(struct http_conn *c, int status, const char *msg);

/* ---- deferred answers ---- */
/* The handler answers later (a blocking playlist reload, a part not yet
 * produced): it returns 0 after this call, and later answers with one of
 * the http_respond* calls, after which keep-alive processing resumes.
 * on_close(arg) is called, once, if the connection goes away first. */
void http_defer(struct http_conn *c, void (*on_close)(void *arg), void *arg);

/* ---- streaming answers ---- */
/* Sends the head of an unbounded response (chunked on HTTP/1.1 unless
 * raw = true, which sends no length and closes at the end, as HTTP-FLV
 * players expect). After a HEAD request this completes the response and
 * returns 1: the handler must not write. */
int http_stream_begin(struct http_conn *c, int status, const char *content_type, bool raw);
/* Gathered write of bufs. refs (may be NULL) are frame references held
 * until the kernel took the bytes, owned (may be NULL) a malloc'd block the
 * bufs point into; the call takes both over, also on error. 0 or -errno. */
int http_stream_write(struct http_conn *c, const uv_buf_t *bufs, unsigned nbufs,
		      struct frame **refs, unsigned nrefs, void *owned);
/* Like http_stream_write, but the bytes are written at once when nothing
 * is queued (netout_write_now): when the kernel takes them all, no drain
 * callback follows, so a caller that stopped at its budget goes on by
 * itself. bufs may be modified. */
int http_stream_write_now(struct http_conn *c, uv_buf_t *bufs, unsigned nbufs, struct frame **refs,
			  unsigned nrefs, void *owned);
/* Like http_stream_write for the bytes wb->data[off, off + len) of a
 * shared buffer, sent by reference (the call takes over the reference to
 * wb, also on error). 0 or -errno. */
int http_stream_write_wbuf(struct http_conn *c, struct wbuf *wb, size_t off, size_t len);
/* Bytes queued but not yet written to the socket. */
size_t http_stream_queued(const struct http_conn *c);
/* Ends the streaming response (final chunk or close). */
void http_stream_end(struct http_conn *c);
/* Callbacks for a taken-over connection: on_drain when queued bytes fell
 * under the low-water mark (64 KiB); on_close once when the connection goes
 * away (after which c must not be used). */
void http_stream_set_callbacks(struct http_conn *c, void (*on_drain)(void *arg),
			       void (*on_close)(void *arg), void *arg);

/* ---- protocol upgrade (WebSocket) ---- */
/* Answers the current request with "101 Switching Protocols" plus
 * extra_headers (complete "Name: value\r\n" lines: Upgrade, Connection,
 * Sec-WebSocket-Accept, ...; may be NULL) and switches the connection to
 * raw mode for good: nothing more is parsed as HTTP, and every byte the
 * peer sends goes to on_data(arg, p, len) (p valid during the call only).
 * Bytes that followed the request head are delivered first, right after
 * the handler returns. The connection is then a streaming response
 * without chunking: write with http_stream_write, finish with
 * http_stream_end (closes once the queued bytes are out), and set
 * on_drain/on_close with http_stream_set_callbacks using the same arg
 * (the connection keeps one). on_data may call http_stream_end. The idle
 * timeout no longer applies; a peer that stops reading is closed after the
 * stall timeout. Only from a handler, not for HEAD. 0, or -EINVAL (wrong
 * state, HEAD), -ENOMEM, -EPIPE (nothing was switched then). */
int http_upgrade(struct http_conn *c, const char *extra_headers,
		 void (*on_data)(void *arg, const uint8_t *p, size_t len), void *arg);

/* ---- about the connection ---- */
struct conn_info *http_conn_info(struct http_conn *c);
const char *http_conn_peer(const struct http_conn *c); /* address, no port */
/* Host header's host part (or the local address) for building URLs. */
const char *http_conn_host(const struct http_conn *c, const struct http_request *req, char *buf,
			   size_t len);
int http_conn_local_port(const struct http_conn *c);
uv_loop_t *http_conn_loop(const struct http_conn *c);
/* Per-connection opaque slot for handlers (e.g. API auth state). */
void **http_conn_userdata(struct http_conn *c);

#endif
