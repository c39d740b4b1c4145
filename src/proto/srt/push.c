/* The srt:// push target: "srt://host:port" calls a receiver and sends
 * the stream to it (giving up after WSRT_PUSH_CONNECT_MS without a
 * connection); "srt://:port" listens, and every receiver that connects
 * gets the stream from its live point. ?video=/audio=/subtitle= select
 * tracks; every other query key is an SRT option. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "proto/srt/srt-t.h"
#include "proto/srt/srtlib.h"

#define WSRT_PUSH_CONNECT_MS 10000
#define WSRT_PUSH_RETRY_MS   1000
#define WSRT_PUSH_OFFLINE_MS 10000 /* listener: stream gone this long ends the push */
#define WSRT_PUSH_VIEWERS    64

static const char *const selector_keys[] = {"video", "audio", "subtitle", NULL};

struct wsrt_push {
	uv_loop_t *loop;
	struct hub *hub;
	char stream[128];
	char target[1024];
	driver_ended_fn ended;
	void *arg;
	struct wsrt_url url;
	uv_timer_t timer;
	bool done;
	/* caller */
	struct wsrt_session *sess;
	struct wsrt_resolve *resolving;
	int64_t give_up_ms;  /* no connection by then: end */
	int64_t retry_at_ms; /* 0 = none due */
	/* listener */
	struct srtio_sock *lsock;
	struct wsrt_session *viewers[WSRT_PUSH_VIEWERS];
	unsigned nviewers;
	int64_t offline_since_ms;
};

static int64_t now_ms(struct wsrt_push *p)
{
	return (int64_t)uv_now(p->loop);
}

static void finish(struct wsrt_push *p, int err, const char *why)
{
	if (p->done)
		return;
	p->done = true;
	LOGF(err ? LOG_WARN : LOG_INFO, p->stream, "SRT push to %s ended: %s", p->target, why);
	p->ended(p->arg, err, why);
}

/* ---- caller ---- */

static void caller_connected(struct wsrt_session *s, void *arg)
{
	struct wsrt_push *p = arg;
	LOGF(LOG_INFO, p->stream, "SRT push connected to %s", p->target);
	if (wsrt_session_play(s, p->stream, p->url.extra) < 0)
		wsrt_session_end(s, -ENOMEM, "out of memory");
}

static void caller_ended(struct wsrt_session *s, int err, const char *why, void *arg)
{
	struct wsrt_push *p = arg;
	p->sess = NULL;
	if (s->connected || now_ms(p) >= p->give_up_ms) {
		char msg[300];
		snprintf(msg, sizeof(msg), "%s%s", s->connected ? "" : "no connection: ", why);
		finish(p, err, msg);
		return;
	}
	LOGF(LOG_MEDIUM, p->stream, "SRT push to %s: %s; retrying", p->target, why);
	p->retry_at_ms = now_ms(p) + WSRT_PUSH_RETRY_MS;
}

static void connect_to(struct wsrt_push *p, const struct sockaddr *sa)
{
	char err[256] = "";
	struct srtio_sock *sock;
	int rc = srtio_connect(sa, &p->url.opts, NULL, NULL, &sock, err, sizeof(err));
	if (rc < 0) {
		finish(p, rc, err);
		return;
	}
	p->sess = wsrt_session_new(p->loop, p->hub, sock, caller_ended, p);
	if (!p->sess) {
		srtio_close(sock);
		finish(p, -ENOMEM, "out of memory");
		return;
	}
	p->sess->on_connected = caller_connected;
	p->sess->info.role = CONN_VIEWER;
	snprintf(p->sess->info.stream, sizeof(p->sess->info.stream), "%s", p->stream);
}

static void on_resolved(void *arg, int status, const struct sockaddr *sa)
{
	struct wsrt_push *p = arg;
	p->resolving = NULL;
	if (status < 0) {
		LOGF(LOG_MEDIUM, p->stream, "SRT push: cannot resolve %s: %s", p->url.host,
		     uv_strerror(status));
		p->retry_at_ms = now_ms(p) + WSRT_PUSH_RETRY_MS;
		return;
	}
	connect_to(p, sa);
}

static void try_connect(struct wsrt_push *p)
{
	struct sockaddr_storage ss;
	bool now = false;
	p->retry_at_ms = 0;
	int rc = wsrt_target(p->loop, &p->url, &ss, &now, on_resolved, p, &p->resolving);
	if (rc < 0)
		finish(p, rc, "cannot resolve the SRT host");
	else if (now)
		connect_to(p, (struct sockaddr *)&ss);
}

/* ---- listener ---- */

static void viewer_ended(struct wsrt_session *s, int err, const char *why, void *arg)
{
	struct wsrt_push *p = arg;
	for (unsigned i = 0; i < p->nviewers; i++) {
		if (p->viewers[i] == s) {
			p->viewers[i] = p->viewers[--p->nviewers];
			break;
		}
	}
}

static int decide(void *arg, struct srtio_sock *ns, const char *streamid,
		  const struct sockaddr *peer)
{
	struct wsrt_push *p = arg;
	if (p->done)
		return SRT_REJX_DOWN;
	if (p->nviewers == WSRT_PUSH_VIEWERS)
		return SRT_REJX_OVERLOAD;
	struct wsrt_session *s = wsrt_session_new(p->loop, p->hub, ns, viewer_ended, p);
	if (!s)
		return SRT_REJX_ISE;
	p->viewers[p->nviewers++] = s;
	if (wsrt_session_play(s, p->stream, p->url.extra) < 0) {
		wsrt_session_end(s, -ENOMEM, "out of memory");
		return SRT_REJX_ISE;
	}
	return 0;
}

static int open_listener(struct wsrt_push *p, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	if (wsrt_sockaddr(p->url.host, p->url.port, &ss) < 0) {
		snprintf(err, errlen, "SRT listener address \"%s\" is not numeric", p->url.host);
		return -EINVAL;
	}
	int rc = srtio_listen((struct sockaddr *)&ss, &p->url.opts, 16, decide, p, &p->lsock, err,
			      errlen);
	if (rc < 0 && !p->url.host[0]) {
		wsrt_sockaddr("0.0.0.0", p->url.port, &ss);
		rc = srtio_listen((struct sockaddr *)&ss, &p->url.opts, 16, decide, p, &p->lsock,
				  err, errlen);
	}
	return rc;
}

/* ---- both ---- */

static void on_tick(uv_timer_t *t)
{
	struct wsrt_push *p = t->data;
	if (p->done)
		return;
	int64_t now = now_ms(p);
	if (p->url.mode == WSRT_LISTENER) {
		struct hub_stream *st = hub_find(p->hub, p->stream);
		if (st && hub_stream_state(st) == STREAM_READY)
			p->offline_since_ms = 0;
		else if (!p->offline_since_ms)
			p->offline_since_ms = now;
		else if (now - p->offline_since_ms >= WSRT_PUSH_OFFLINE_MS)
			finish(p, 0, "stream offline");
		return;
	}
	if (!p->sess && !p->resolving && p->retry_at_ms && now >= p->retry_at_ms) {
		if (now >= p->give_up_ms)
			finish(p, -ETIMEDOUT, "no SRT connection within 10 s");
		else
			try_connect(p);
	}
}

static void push_freed(uv_handle_t *h)
{
	struct wsrt_push *p = h->data;
	wsrt_url_free(&p->url);
	free(p);
}

static int setup(struct wsrt_push *p, const struct push_env *env, char *err, size_t errlen)
{
	p->loop = env->loop;
	p->hub = env->hub;
	p->ended = env->ended;
	p->arg = env->arg;
	snprintf(p->stream, sizeof(p->stream), "%s", env->stream);
	snprintf(p->target, sizeof(p->target), "%s", env->target);
	int rc = wsrt_url_parse(env->target, selector_keys, &p->url, err, errlen);
	if (!rc && p->url.mode == WSRT_RENDEZVOUS) {
		snprintf(err, errlen, "SRT rendezvous mode is not supported for pushes");
		rc = -ENOTSUP;
	}
	if (!rc && (rc = srtio_init(env->loop)) < 0)
		snprintf(err, errlen, "cannot start the SRT I/O thread");
	if (!rc && p->url.mode == WSRT_LISTENER)
		rc = open_listener(p, err, errlen);
	return rc;
}

static int srt_push_start(const struct push_env *env, void **state, char *err, size_t errlen)
{
	struct wsrt_push *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	int rc = setup(p, env, err, errlen);
	if (rc < 0) {
		wsrt_url_free(&p->url);
		free(p);
		return rc;
	}
	p->give_up_ms = now_ms(p) + WSRT_PUSH_CONNECT_MS;
	uv_timer_init(p->loop, &p->timer);
	p->timer.data = p;
	uv_timer_start(&p->timer, on_tick, 250, 250);
	if (p->url.mode != WSRT_LISTENER)
		p->retry_at_ms = now_ms(p);
	LOGF(LOG_INFO, p->stream, "SRT push to %s (%s)", p->target, wsrt_mode_name(p->url.mode));
	*state = p;
	return 0;
}

static void srt_push_stop(void *state)
{
	struct wsrt_push *p = state;
	if (!p)
		return;
	p->done = true;
	wsrt_resolve_cancel(p->resolving);
	if (p->sess)
		wsrt_session_close(p->sess, NULL);
	while (p->nviewers)
		wsrt_session_close(p->viewers[--p->nviewers], "push stopped");
	srtio_close(p->lsock);
	uv_close((uv_handle_t *)&p->timer, push_freed);
}

static const char *const srt_patterns[] = {"srt://*", NULL};
static const char *const srt_codecs[] = {"H264", "HEVC", "AAC", "MP3", NULL};

const struct driver srt_push_driver = {
    .name = "SRT",
    .desc = "MPEG-TS over SRT: srt://host:port calls a receiver, srt://:port lets "
	    "receivers connect (live point)",
    .kind = DRIVER_OUTPUT,
    .patterns = srt_patterns,
    .codecs = srt_codecs,
    .input_start = NULL,
    .push_start = srt_push_start,
    .push_stop = srt_push_stop,
};
