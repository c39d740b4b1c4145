/* HTTP/1.1 server: accept, read, parse, route; connection lifetime. */
#include "proto/http/server-t.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "proto/listen.h"

struct http_server *http_server_new(uv_loop_t *loop, const char *protocol_name)
{
	struct http_server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->loop = loop;
	s->protocol = protocol_name;
	s->max_body = 1 << 20;
	uv_tcp_init(loop, &s->listener);
	s->listener.data = s;
	return s;
}

void http_server_set_max_body(struct http_server *s, size_t max)
{
	s->max_body = max;
}

int http_server_route(struct http_server *s, const char *pattern, http_handler_fn fn, void *arg)
{
	if (s->nroutes == HTTP_MAX_ROUTES)
		return -ENOSPC;
	struct http_route *r = &s->routes[s->nroutes];
	const char *star = strchr(pattern, '*');
	if (star) {
		r->prefix = strndup(pattern, (size_t)(star - pattern));
		r->suffix = strdup(star + 1);
	} else {
		r->prefix = strdup(pattern);
		r->suffix = strdup("");
		r->exact = true;
	}
	if (!r->prefix || !r->suffix) {
		free(r->prefix);
		free(r->suffix);
		return -ENOMEM;
	}
	r->fn = fn;
	r->arg = arg;
	s->nroutes++;
	return 0;
}

static const struct http_route *route_find(const struct http_server *s, const char *path)
{
	size_t len = strlen(path);
	for (unsigned i = 0; i < s->nroutes; i++) {
		const struct http_route *r = &s->routes[i];
		size_t pl = strlen(r->prefix), sl = strlen(r->suffix);
		if (r->exact) {
			if (!strcmp(path, r->prefix))
				return r;
			continue;
		}
		if (len < pl + sl || strncmp(path, r->prefix, pl) ||
		    strcmp(path + len - sl, r->suffix))
			continue;
		return r;
	}
	return NULL;
}

static uint64_t now_ms(const struct http_conn *c)
{
	return uv_now(c->srv->loop);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct http_conn *c = h->data;
	if (bytes_reserve(&c->in, 16384)) {
		buf->base = NULL;
		buf->len = 0;
		return;
	}
	buf->base = (char *)c->in.data + c->in.len;
	buf->len = c->in.cap - c->in.len - 1;
}

static void process(struct http_conn *c);

/* Raw mode (after http_upgrade): hands everything buffered to on_data.
 * on_data may end or close the connection; c stays allocated until the
 * handles' close callbacks, so resetting the buffer afterwards is safe. */
static void raw_deliver(struct http_conn *c)
{
	if (!c->in.len || !c->on_data || c->state != HC_STREAMING)
		return;
	size_t n = c->in.len;
	c->in.len = 0;
	c->on_data(c->cb_arg, c->in.data, n);
}

static void read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct http_conn *c = st->data;
	if (n < 0) {
		/* A peer going away is normal; only odd errors are worth a line. */
		http_conn_close(c, n == UV_EOF || n == UV_ECONNRESET ? NULL : uv_strerror((int)n));
		return;
	}
	if (n == 0)
		return;
	c->in.len += (size_t)n;
	c->in.data[c->in.len] = 0;
	c->info.up_bytes += (uint64_t)n;
	c->last_activity_ms = now_ms(c);
	if (c->close_after_write) {
		c->in.len = 0; /* answered already; ignore the rest */
		return;
	}
	if (c->on_data) {
		raw_deliver(c);
		return;
	}
	if (c->state == HC_STREAMING || c->state == HC_DEFERRED) {
		/* Pipelined data while streaming: keep a little, refuse floods. */
		if (c->in.len > HTTP_MAX_INPUT_STREAMING)
			http_conn_close(c, "too much input while streaming");
		return;
	}
	process(c);
}

static void timer_cb(uv_timer_t *t)
{
	struct http_conn *c = t->data;
	uint64_t now = now_ms(c);
	if (c->state == HC_READING && !c->out.queued && now - c->last_activity_ms > HTTP_IDLE_MS)
		http_conn_close(c, c->info.up_bytes ? NULL : "no request received");
	else if (c->out.queued && now - c->out.last_progress_ms > HTTP_STALL_MS)
		http_conn_close(c, "peer stopped reading");
}

static void note_local(struct http_conn *c)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	if (uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&ss, &len))
		return;
	struct conn_info tmp = {0};
	conn_set_host(&tmp, &ss);
	snprintf(c->local_host, sizeof(c->local_host), "%s", tmp.host);
	c->local_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void kill_conn(struct conn_info *ci)
{
	http_conn_close((struct http_conn *)((char *)ci - offsetof(struct http_conn, info)), NULL);
}

static void accept_cb(uv_stream_t *ls, int status)
{
	struct http_server *s = ls->data;
	if (status < 0)
		return;
	struct http_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->srv = s;
	uv_tcp_init(s->loop, &c->tcp);
	uv_timer_init(s->loop, &c->timer);
	c->open_handles = 2;
	c->tcp.data = c->timer.data = c;
	c->info.protocol = s->protocol;
	c->info.kill = kill_conn;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	if (uv_accept(ls, (uv_stream_t *)&c->tcp)) {
		http_conn_close(c, "accept failed");
		return;
	}
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	if (!uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len))
		conn_set_host(&c->info, &ss);
	note_local(c);
	uv_tcp_nodelay(&c->tcp, 1);
	conn_register(&c->info);
	c->last_activity_ms = now_ms(c);
	netout_init(&c->out, (uv_stream_t *)&c->tcp, http_conn_write_done, c);
	uv_timer_start(&c->timer, timer_cb, 1000, 1000);
	uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
	c->reading = true;
}

int http_server_listen(struct http_server *s, const char *iface, int port)
{
	int rc = net_listen_tcp(&s->listener, iface, port, 511, accept_cb, NULL, 0);
	if (rc)
		return rc;
	s->listening = true;
	return 0;
}

static void conn_closed(uv_handle_t *h)
{
	struct http_conn *c = h->data;
	if (--c->open_handles)
		return;
	struct http_server *s = c->srv;
	bytes_free(&c->in);
	free(c);
	s->nconns--;
	if (s->closing && s->nconns == 0 && !s->listening)
		free(s);
}

void http_conn_close(struct http_conn *c, const char *why)
{
	if (c->state == HC_CLOSING)
		return;
	if (why)
		LOGF(LOG_INFO, c->info.stream[0] ? c->info.stream : NULL,
		     "%s connection from %s closed: %s", c->srv->protocol, c->info.host, why);
	c->state = HC_CLOSING;
	netout_detach(&c->out);
	struct http_server *s = c->srv;
	if (c->prev)
		c->prev->next = c->next;
	else if (s->conns == c)
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	conn_unregister(&c->info);
	c->on_data = NULL;
	if (c->on_close) {
		void (*cb)(void *) = c->on_close;
		c->on_close = NULL;
		c->on_drain = NULL;
		cb(c->cb_arg);
	}
	uv_close((uv_handle_t *)&c->timer, conn_closed);
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void listener_closed(uv_handle_t *h)
{
	struct http_server *s = h->data;
	s->listening = false;
	if (s->nconns == 0)
		free(s);
}

void http_server_close(struct http_server *s)
{
	if (!s)
		return;
	s->closing = true;
	for (unsigned i = 0; i < s->nroutes; i++) {
		free(s->routes[i].prefix);
		free(s->routes[i].suffix);
	}
	s->nroutes = 0;
	while (s->conns)
		http_conn_close(s->conns, NULL);
	s->listening = true; /* until listener_closed */
	uv_close((uv_handle_t *)&s->listener, listener_closed);
}

static void finish_request(struct http_conn *c)
{
	bytes_consume(&c->in, c->cur_req_len);
	c->cur_req_len = 0;
}

/* Answers an error for a request we could not parse and closes. */
static void fail_request(struct http_conn *c, int status, const char *why)
{
	c->keep_alive = false;
	c->head_only = false;
	c->close_after_write = true;
	uv_read_stop((uv_stream_t *)&c->tcp);
	LOGF(LOG_INFO, NULL, "%s request from %s refused (%d): %s", c->srv->protocol, c->info.host,
	     status, why);
	http_respond_error(c, status, why);
	c->in.len = 0;
	c->cur_req_len = 0;
}

static int dispatch(struct http_conn *c, struct http_request *req)
{
	if (!strcmp(req->method, "OPTIONS"))
		return http_respond_ex(c, 204, NULL,
				       "Access-Control-Allow-Methods: GET, POST, HEAD, OPTIONS, "
				       "PATCH, DELETE\r\nAccess-Control-Allow-Headers: *\r\n"
				       "Access-Control-Max-Age: 600\r\n",
				       NULL, 0);
	const struct http_route *r = route_find(c->srv, req->path);
	if (!r)
		return http_respond_error(c, 404, NULL);
	return r->fn(c, req, r->arg);
}

/* Parses the head from a copy of the buffered bytes: the parser writes
 * into what it parses, and the buffer must stay intact (and may move)
 * while a body is still arriving. *copy is freed by the caller. */
static int parse_head(struct http_conn *c, struct http_request *req, char **copy)
{
	size_t n = c->in.len < HTTP_MAX_HEAD + 1 ? c->in.len : HTTP_MAX_HEAD + 1;
	*copy = malloc(n + 1);
	if (!*copy)
		return -ENOMEM;
	memcpy(*copy, c->in.data, n);
	(*copy)[n] = 0;
	return http_parse_request(*copy, n, HTTP_MAX_HEAD, req);
}

static void refuse(struct http_conn *c, int err)
{
	switch (err) {
	case -E2BIG:
		fail_request(c, 431, "request head too large");
		break;
	case -ENOTSUP:
		fail_request(c, 505, "HTTP version not supported");
		break;
	case -ENAMETOOLONG:
		fail_request(c, 414, "request path too long");
		break;
	case -ENOMEM:
		http_conn_close(c, "out of memory");
		break;
	default:
		fail_request(c, 400, "malformed request");
	}
}

/* Parses and answers as many buffered requests as possible. */
static void process(struct http_conn *c)
{
	while (c->state == HC_READING && !c->close_after_write && c->in.len) {
		struct http_request req;
		char *copy = NULL;
		int hl = parse_head(c, &req, &copy);
		if (hl <= 0) {
			free(copy);
			if (hl < 0)
				refuse(c, hl);
			return;
		}
		size_t body = req.content_length > 0 ? (size_t)req.content_length : 0;
		const char *bad = req.chunked ? "chunked request bodies are not supported"
				  : body > c->srv->max_body ? "request body too large"
							    : NULL;
		if (bad || c->in.len < (size_t)hl + body) {
			free(copy);
			if (bad)
				fail_request(c, req.chunked ? 411 : 413, bad);
			else if (bytes_reserve(&c->in, (size_t)hl + body - c->in.len))
				http_conn_close(c, "out of memory");
			return; /* parsed again once the body is complete */
		}
		req.body = (const char *)c->in.data + hl;
		req.body_len = body;
		c->cur_req_len = (size_t)hl + body;
		c->keep_alive = req.keep_alive;
		c->head_only = !strcmp(req.method, "HEAD");
		int rc = dispatch(c, &req);
		free(copy);
		if (rc < 0 && c->state == HC_READING && !c->out.queued)
			http_respond_error(c, 500, NULL);
		if (c->state != HC_READING) {
			if (c->on_data) { /* upgraded: the rest is the new protocol's */
				finish_request(c);
				raw_deliver(c);
			}
			return; /* streaming, deferred, upgraded or closing */
		}
		finish_request(c);
		if (!c->keep_alive)
			c->close_after_write = true;
	}
}

/* Called by response.c when a streaming response ended on a keep-alive
 * connection: continue with the next request. */
void http_conn_resume(struct http_conn *c)
{
	c->state = HC_READING;
	finish_request(c);
	c->on_drain = c->on_close = NULL;
	c->on_data = NULL;
	c->last_activity_ms = now_ms(c);
	process(c);
}

int http_upgrade(struct http_conn *c, const char *extra_headers,
		 void (*on_data)(void *arg, const uint8_t *p, size_t len), void *arg)
{
	if (c->state != HC_READING || c->head_only || c->close_after_write || !on_data)
		return -EINVAL;
	struct bytes h = {0};
	if (bytes_printf(
		&h, "HTTP/1.1 101 Switching Protocols\r\nServer: weir/" WEIR_VERSION "\r\n%s\r\n",
		extra_headers ? extra_headers : "")) {
		bytes_free(&h);
		return -ENOMEM;
	}
	uv_buf_t b = uv_buf_init((char *)h.data, (unsigned)h.len);
	int rc = netout_write(&c->out, &b, 1, NULL, 0, h.data); /* takes h.data */
	if (rc)
		return rc;
	c->info.down_bytes = c->out.total;
	c->state = HC_STREAMING;
	c->chunked_out = false;
	c->keep_alive = false;
	c->on_data = on_data;
	c->cb_arg = arg;
	return 0;
}

struct conn_info *http_conn_info(struct http_conn *c)
{
	return &c->info;
}
const char *http_conn_peer(const struct http_conn *c)
{
	return c->info.host;
}
int http_conn_local_port(const struct http_conn *c)
{
	return c->local_port;
}
uv_loop_t *http_conn_loop(const struct http_conn *c)
{
	return c->srv->loop;
}
void **http_conn_userdata(struct http_conn *c)
{
	return &c->userdata;
}

const char *http_conn_host(const struct http_conn *c, const struct http_request *req, char *buf,
			   size_t len)
{
	const char *h = req ? http_header(req, "Host") : NULL;
	if (!h || !*h || strlen(h) >= len) {
		snprintf(buf, len, "%s", c->local_host[0] ? c->local_host : "127.0.0.1");
		return buf;
	}
	snprintf(buf, len, "%s", h);
	/* strip the port, keeping IPv6 brackets */
	char *end = buf[0] == '[' ? strchr(buf, ']') : buf;
	char *colon = end ? strchr(end, ':') : NULL;
	if (colon)
		*colon = 0;
	return buf;
}
