/* Raw MPEG-TS over TCP, both ways a server offers it:
 *
 *  - listener "TS" (MistServer's connector name, default port 8888): a
 *    client that connects gets the stream named by the listener's
 *    "streamname" option (MistServer's key; "stream" is accepted too) as
 *    an endless TS byte stream, starting at the newest keyframe. Whatever
 *    the client sends is ignored. One port serves one stream, as in
 *    MistServer; add the connector again on another port for another.
 *  - push target tstcp://host:port: connects and sends the stream.
 *
 * Frames muxed in one loop iteration go out in one write; a viewer that
 * stops reading is paused at 1 MiB queued and dropped after 20 s without
 * progress. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/listen.h"
#include "core/bytes.h"
#include "core/conn.h"
#include "core/log.h"
#include "core/streamname.h"
#include "core/url.h"
#include "proto/netout.h"
#include "proto/registry.h"
#include "proto/tsudp/tsout.h"

#define OUT_BUDGET     (1024 * 1024)
#define STALL_MS       20000
#define CONNECT_MS     10000
#define VIEWER_WAIT_MS 10000
#define DEFAULT_PORT   8888

struct tsconn;

/* What the owner of a connection (listener or push) hears. */
struct tsconn_owner {
	/* The connection ended (err 0: the stream ended and all was sent). */
	void (*ended)(struct tsconn *c, int err, const char *why);
};

struct tsconn {
	uv_loop_t *loop;
	struct hub *hub;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_check_t flush;
	uv_connect_t connect;
	struct netout out;
	struct tsout *ts;
	struct bytes pending; /* muxed, not yet handed to a write */
	struct conn_info info;
	const struct tsconn_owner *owner;
	void *owner_arg;
	char stream[128];
	char *query;
	unsigned open_handles;
	bool closing, connected, ended, stream_done;
	uint64_t started_ms;
};

static void conn_closed(uv_handle_t *h)
{
	struct tsconn *c = h->data;
	if (--c->open_handles)
		return;
	bytes_free(&c->pending);
	free(c->query);
	free(c);
}

/* Closes everything; the owner hears nothing more. */
static void tsconn_close(struct tsconn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	tsout_free(c->ts);
	c->ts = NULL;
	netout_detach(&c->out);
	conn_unregister(&c->info);
	uv_close((uv_handle_t *)&c->timer, conn_closed);
	uv_close((uv_handle_t *)&c->flush, conn_closed);
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

/* Tells the owner once. */
static void tsconn_end(struct tsconn *c, int err, const char *why)
{
	if (c->ended || c->closing)
		return;
	c->ended = true;
	c->owner->ended(c, err, why);
}

static void flush_cb(uv_check_t *h)
{
	struct tsconn *c = h->data;
	uv_check_stop(h);
	if (c->closing || !c->pending.len)
		return;
	uv_buf_t b = uv_buf_init((char *)c->pending.data, (unsigned)c->pending.len);
	void *owned = c->pending.data;
	memset(&c->pending, 0, sizeof(c->pending));
	int rc = netout_write(&c->out, &b, 1, NULL, 0, owned);
	c->info.down_bytes = c->out.total;
	if (rc < 0)
		tsconn_end(c, -EPIPE, "write failed");
}

static int on_data(void *arg, const uint8_t *ts, size_t len, int64_t dts_us)
{
	struct tsconn *c = arg;
	if (bytes_append(&c->pending, ts, len))
		return -ENOMEM;
	if (!uv_is_active((uv_handle_t *)&c->flush))
		uv_check_start(&c->flush, flush_cb);
	return c->out.queued + c->pending.len > OUT_BUDGET ? 1 : 0;
}

static void on_stream_end(void *arg, int err, const char *why)
{
	struct tsconn *c = arg;
	if (err) {
		tsconn_end(c, err, why);
		return;
	}
	c->stream_done = true; /* finish the writes first */
	if (!c->out.queued && !c->pending.len)
		tsconn_end(c, 0, why);
}

static void write_done(struct netout *o, int status)
{
	struct tsconn *c = o->arg;
	c->info.down_bytes = o->total;
	if (status < 0) {
		tsconn_end(c, -EPIPE, uv_strerror(status));
		return;
	}
	if (c->stream_done && !o->queued && !c->pending.len)
		tsconn_end(c, 0, "stream ended");
	else if (c->ts && o->queued < OUT_BUDGET / 2)
		tsout_resume(c->ts);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char sink[4096]; /* what clients send is read and dropped */
	*buf = uv_buf_init(sink, sizeof(sink));
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct tsconn *c = s->data;
	if (n > 0)
		c->info.up_bytes += (uint64_t)n;
	else if (n < 0)
		tsconn_end(c, n == UV_EOF ? -ECONNRESET : (int)n,
			   n == UV_EOF ? "closed by the peer" : uv_strerror((int)n));
}

static void timer_cb(uv_timer_t *t)
{
	struct tsconn *c = t->data;
	uint64_t now = uv_now(t->loop);
	if (!c->connected && now - c->started_ms >= CONNECT_MS)
		tsconn_end(c, -ETIMEDOUT, "could not connect within 10 s");
	else if (c->out.queued && now - c->out.last_progress_ms >= STALL_MS)
		tsconn_end(c, -ETIMEDOUT, "peer stopped reading");
}

static void kill_conn(struct conn_info *ci)
{
	tsconn_end((struct tsconn *)((char *)ci - offsetof(struct tsconn, info)), -ECANCELED,
		   "stopped");
}

/* A connection object with its handles set up (not yet connected). */
static struct tsconn *tsconn_new(uv_loop_t *loop, struct hub *hub, const char *stream,
				 const char *query, const struct tsconn_owner *owner, void *arg)
{
	struct tsconn *c = calloc(1, sizeof(*c));
	if (!c || (query && !(c->query = strdup(query)))) {
		free(c);
		return NULL;
	}
	c->loop = loop;
	c->hub = hub;
	c->owner = owner;
	c->owner_arg = arg;
	snprintf(c->stream, sizeof(c->stream), "%s", stream);
	snprintf(c->info.stream, sizeof(c->info.stream), "%s", stream);
	c->info.protocol = "TS";
	c->info.role = CONN_VIEWER;
	c->info.kill = kill_conn;
	uv_tcp_init(loop, &c->tcp);
	uv_timer_init(loop, &c->timer);
	uv_check_init(loop, &c->flush);
	c->tcp.data = c->timer.data = c->flush.data = c->connect.data = c;
	c->open_handles = 3;
	c->started_ms = uv_now(loop);
	netout_init(&c->out, (uv_stream_t *)&c->tcp, write_done, c);
	uv_timer_start(&c->timer, timer_cb, 1000, 1000);
	return c;
}

/* The peer is there: start reading the stream for it. */
static int tsconn_run(struct tsconn *c, int64_t wait_ms, const char *log_name)
{
	c->connected = true;
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	if (!uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len))
		conn_set_host(&c->info, &ss);
	conn_register(&c->info);
	uv_tcp_nodelay(&c->tcp, 1);
	uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
	struct tsout_opts o = {.query = c->query, .wait_ms = wait_ms, .log_name = log_name};
	struct tsout_cb cb = {.arg = c, .data = on_data, .ended = on_stream_end};
	return tsout_new(c->loop, c->hub, c->stream, &o, &cb, &c->ts);
}

/* ---------------- listener "TS" ---------------- */

struct tslistener {
	struct server_env env;
	uv_tcp_t tcp;
	int port;
	char stream[STREAMNAME_MAX + 1];
	char *query; /* track selectors from the "streamname" value, or NULL */
};

static void viewer_ended(struct tsconn *c, int err, const char *why)
{
	LOGF(LOG_INFO, c->stream, "TS viewer %s left: %s", c->info.host, why);
	tsconn_close(c);
}

static const struct tsconn_owner viewer_owner = {.ended = viewer_ended};

static void accept_cb(uv_stream_t *ls, int status)
{
	struct tslistener *l = ls->data;
	if (status < 0)
		return;
	struct tsconn *c = tsconn_new(ls->loop, l->env.hub, l->stream, l->query, &viewer_owner, l);
	if (!c)
		return;
	if (uv_accept(ls, (uv_stream_t *)&c->tcp)) {
		tsconn_close(c);
		return;
	}
	if (tsconn_run(c, VIEWER_WAIT_MS, "TS viewer") < 0) {
		tsconn_close(c);
		return;
	}
	LOGF(LOG_INFO, c->stream, "TS viewer %s", c->info.host);
}

static void listener_closed(uv_handle_t *h)
{
	struct tslistener *l = h->data;
	free(l->query);
	free(l);
}

/* The stream option: "streamname" (MistServer) or "stream", with optional
 * ?video=&audio= selectors after the name. */
static int listener_stream(struct tslistener *l, const json_t *cfg, char *err, size_t errlen)
{
	const char *v = json_string_value(json_object_get(cfg, "streamname"));
	if (!v)
		v = json_string_value(json_object_get(cfg, "stream"));
	if (!v || !*v) {
		snprintf(err, errlen,
			 "TS: option \"streamname\" (the stream to serve) is required");
		return -EINVAL;
	}
	if (streamname_sanitize(v, l->stream, sizeof(l->stream)) < 0) {
		snprintf(err, errlen, "TS: invalid streamname \"%.100s\"", v);
		return -EINVAL;
	}
	const char *q = strchr(v, '?');
	if (q && !(l->query = strdup(q + 1)))
		return -ENOMEM;
	return 0;
}

static int ts_listen(const struct server_env *env, const json_t *cfg, void **state, char *err,
		     size_t errlen)
{
	struct tslistener *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->env = *env;
	int rc = listener_stream(l, cfg, err, errlen);
	if (rc) {
		free(l->query);
		free(l);
		return rc;
	}
	json_t *p = json_object_get(cfg, "port");
	l->port = json_is_integer(p) ? (int)json_integer_value(p) : DEFAULT_PORT;
	const char *iface = json_string_value(json_object_get(cfg, "interface"));
	if (!iface || !*iface)
		iface = "0.0.0.0";
	uv_tcp_init(env->loop, &l->tcp);
	l->tcp.data = l;
	rc = net_listen_tcp(&l->tcp, iface, l->port, 128, accept_cb, err, errlen);
	if (rc) {
		uv_close((uv_handle_t *)&l->tcp, listener_closed);
		return rc;
	}
	listener_note_port("TS", l->port);
	LOGF(LOG_INFO, NULL, "TS listening on %s:%d for stream %s", iface, l->port, l->stream);
	*state = l;
	return 0;
}

static void ts_unlisten(void *state)
{
	struct tslistener *l = state;
	if (!l)
		return;
	listener_note_port("TS", 0);
	uv_close((uv_handle_t *)&l->tcp, listener_closed);
}

/* ---------------- push tstcp:// ---------------- */

struct tcppush {
	struct tsconn *c;
	driver_ended_fn ended;
	void *arg;
	char host[256];
	int port;
	uv_getaddrinfo_t gai;
	bool resolving, stopped;
};

static void push_conn_ended(struct tsconn *c, int err, const char *why)
{
	struct tcppush *p = c->owner_arg;
	LOGF(err ? LOG_WARN : LOG_INFO, c->stream, "TS push to %s:%d ended: %s", p->host, p->port,
	     why);
	p->ended(p->arg, err, why);
}

static const struct tsconn_owner push_owner = {.ended = push_conn_ended};

static void connected(uv_connect_t *req, int status)
{
	struct tsconn *c = req->data;
	if (c->closing)
		return;
	struct tcppush *p = c->owner_arg;
	if (status < 0) {
		char why[128];
		snprintf(why, sizeof(why), "cannot connect: %s", uv_strerror(status));
		tsconn_end(c, status, why);
		return;
	}
	if (tsconn_run(c, 0, "TS push") < 0) {
		tsconn_end(c, -ENOMEM, "out of memory");
		return;
	}
	LOGF(LOG_INFO, c->stream, "TS push connected to %s:%d", p->host, p->port);
}

static int push_connect(struct tcppush *p, const struct sockaddr *sa)
{
	return uv_tcp_connect(&p->c->connect, &p->c->tcp, sa, connected);
}

static void resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct tcppush *p = req->data;
	p->resolving = false;
	if (p->stopped) {
		uv_freeaddrinfo(res);
		free(p);
		return;
	}
	int rc = status < 0 || !res ? -EHOSTUNREACH : 0;
	if (!rc) {
		struct sockaddr_storage ss;
		memcpy(&ss, res->ai_addr, res->ai_addrlen);
		if (ss.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)p->port);
		else
			((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)p->port);
		rc = push_connect(p, (struct sockaddr *)&ss);
	}
	uv_freeaddrinfo(res);
	if (rc)
		tsconn_end(p->c, rc, "cannot resolve or connect to the target host");
}

static void tcp_push_stop(void *state)
{
	struct tcppush *p = state;
	if (!p)
		return;
	tsconn_close(p->c);
	p->stopped = true;
	if (p->resolving)
		uv_cancel((uv_req_t *)&p->gai); /* resolved() frees */
	else
		free(p);
}

static int tcp_push_start(const struct push_env *env, void **state, char *err, size_t errlen)
{
	struct url u;
	if (url_parse(env->target, &u) < 0 || !u.host[0] || u.port <= 0) {
		snprintf(err, errlen, "bad target (expected tstcp://host:port)");
		return -EINVAL;
	}
	struct tcppush *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ended = env->ended;
	p->arg = env->arg;
	p->port = u.port;
	p->gai.data = p;
	snprintf(p->host, sizeof(p->host), "%s", u.host);
	p->c = tsconn_new(env->loop, env->hub, env->stream, u.query[0] ? u.query : NULL,
			  &push_owner, p);
	if (!p->c) {
		free(p);
		return -ENOMEM;
	}
	struct sockaddr_storage ss;
	int rc;
	if (!uv_ip4_addr(u.host, u.port, (struct sockaddr_in *)&ss) ||
	    !uv_ip6_addr(u.host, u.port, (struct sockaddr_in6 *)&ss)) {
		rc = push_connect(p, (struct sockaddr *)&ss);
	} else {
		struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
		rc = uv_getaddrinfo(env->loop, &p->gai, resolved, u.host, NULL, &hints);
		p->resolving = !rc;
	}
	if (rc) {
		snprintf(err, errlen, "cannot connect to %s:%d: %s", u.host, u.port,
			 uv_strerror(rc));
		tcp_push_stop(p);
		return rc;
	}
	snprintf(p->c->info.host, sizeof(p->c->info.host), "%.63s", u.host);
	*state = p;
	return 0;
}

static const char *const tstcp_patterns[] = {"tstcp://*", NULL};
static const char *const ts_codecs[] = {"H264", "HEVC", "AAC", "MP3", "opus", NULL};

const struct driver ts_listener_driver = {
    .name = "TS",
    .desc = "Raw MPEG-TS over TCP: a client connecting gets the configured stream",
    .kind = DRIVER_LISTENER,
    .codecs = ts_codecs,
    .default_port = DEFAULT_PORT,
    .transport = "tcp",
    .listen = ts_listen,
    .unlisten = ts_unlisten,
};

const struct driver tstcp_push_driver = {
    .name = "TSTCP",
    .desc = "Raw MPEG-TS over TCP to a listening receiver",
    .kind = DRIVER_OUTPUT,
    .patterns = tstcp_patterns,
    .codecs = ts_codecs,
    .push_start = tcp_push_start,
    .push_stop = tcp_push_stop,
};
