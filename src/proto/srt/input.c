/* The srt:// input (stream sources): "srt://host:port" calls a sender,
 * "srt://:port" listens for one; ?mode= overrides; every other query key
 * is an SRT option. The stream is published (req.internal) when the
 * first bytes arrive. A caller reconnects after a lost or failed
 * connection, a listener waits for the next sender; without any data for
 * WSRT_INPUT_NODATA_MS the input ends with an error (the manager
 * restarts always_on streams). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "proto/srt/srt-t.h"
#include "proto/srt/srtlib.h"

#define WSRT_INPUT_NODATA_MS 20000
#define WSRT_INPUT_RETRY_MS  1000

struct wsrt_input {
	uv_loop_t *loop;
	struct hub *hub;
	char stream[128];
	char source[1024];
	driver_ended_fn ended;
	void *arg;
	struct wsrt_url url;
	uv_timer_t timer;
	struct srtio_sock *lsock;  /* listener mode */
	struct wsrt_session *sess; /* the sender */
	struct wsrt_resolve *resolving;
	uint64_t seen_bytes; /* of sess, at the last tick */
	int64_t last_data_ms;
	int64_t retry_at_ms; /* caller: next attempt; 0 = none due */
	bool done;           /* ended was called, or stopped */
};

static int64_t now_ms(struct wsrt_input *in)
{
	return (int64_t)uv_now(in->loop);
}

/* Ends the input once (the manager then calls input_stop). */
static void finish(struct wsrt_input *in, int err, const char *why)
{
	if (in->done)
		return;
	in->done = true;
	LOGF(err ? LOG_WARN : LOG_INFO, in->stream, "SRT input %s ended: %s", in->source, why);
	in->ended(in->arg, err, why);
}

static void sess_ended(struct wsrt_session *s, int err, const char *why, void *arg)
{
	struct wsrt_input *in = arg;
	in->sess = NULL;
	/* refused by the hub: retrying cannot help */
	if (err == -EACCES || err == -ENOENT || err == -EBUSY || err == -ESHUTDOWN ||
	    err == -ECANCELED) {
		finish(in, err, why);
		return;
	}
	LOGF(LOG_MEDIUM, in->stream, "SRT input %s: %s", in->source, why);
	if (in->url.mode != WSRT_LISTENER)
		in->retry_at_ms = now_ms(in) + WSRT_INPUT_RETRY_MS;
}

static void start_session(struct wsrt_input *in, struct srtio_sock *sock)
{
	in->sess = wsrt_session_new(in->loop, in->hub, sock, sess_ended, in);
	if (!in->sess) {
		srtio_close(sock);
		finish(in, -ENOMEM, "out of memory");
		return;
	}
	struct wsrt_pub_spec spec = {.internal = true};
	snprintf(spec.name, sizeof(spec.name), "%s", in->stream);
	wsrt_session_publish_lazily(in->sess, &spec);
	in->seen_bytes = 0;
}

static void connect_to(struct wsrt_input *in, const struct sockaddr *sa)
{
	char err[256] = "";
	struct srtio_sock *sock;
	int rc = srtio_connect(sa, &in->url.opts, NULL, NULL, &sock, err, sizeof(err));
	if (rc < 0) {
		finish(in, rc, err);
		return;
	}
	start_session(in, sock);
}

static void on_resolved(void *arg, int status, const struct sockaddr *sa)
{
	struct wsrt_input *in = arg;
	in->resolving = NULL;
	if (status < 0) {
		LOGF(LOG_MEDIUM, in->stream, "SRT input: cannot resolve %s: %s", in->url.host,
		     uv_strerror(status));
		in->retry_at_ms = now_ms(in) + WSRT_INPUT_RETRY_MS;
		return;
	}
	connect_to(in, sa);
}

static void try_connect(struct wsrt_input *in)
{
	struct sockaddr_storage ss;
	bool now = false;
	in->retry_at_ms = 0;
	int rc = wsrt_target(in->loop, &in->url, &ss, &now, on_resolved, in, &in->resolving);
	if (rc < 0)
		finish(in, rc, "cannot resolve the SRT host");
	else if (now)
		connect_to(in, (struct sockaddr *)&ss);
}

/* Listener mode: one sender at a time. */
static int decide(void *arg, struct srtio_sock *ns, const char *streamid,
		  const struct sockaddr *peer)
{
	struct wsrt_input *in = arg;
	if (in->done)
		return SRT_REJX_DOWN;
	if (in->sess) {
		struct conn_info who = {0};
		conn_set_host(&who, peer);
		LOGF(LOG_WARN, in->stream, "SRT input %s: refused %s: already receiving from %s",
		     in->source, who.host, in->sess->info.host);
		return SRT_REJX_CONFLICT;
	}
	start_session(in, ns);
	return in->sess ? 0 : SRT_REJX_ISE;
}

static void on_tick(uv_timer_t *t)
{
	struct wsrt_input *in = t->data;
	if (in->done)
		return;
	int64_t now = now_ms(in);
	if (in->sess && in->sess->info.up_bytes != in->seen_bytes) {
		in->seen_bytes = in->sess->info.up_bytes;
		in->last_data_ms = now;
	}
	if (now - in->last_data_ms >= WSRT_INPUT_NODATA_MS) {
		char why[160];
		snprintf(why, sizeof(why), "no SRT data for %d s", WSRT_INPUT_NODATA_MS / 1000);
		finish(in, -ETIMEDOUT, why);
		return;
	}
	if (!in->sess && !in->resolving && in->retry_at_ms && now >= in->retry_at_ms)
		try_connect(in);
}

static int open_listener(struct wsrt_input *in, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	if (wsrt_sockaddr(in->url.host, in->url.port, &ss) < 0) {
		snprintf(err, errlen, "SRT listener address \"%s\" is not numeric", in->url.host);
		return -EINVAL;
	}
	int rc = srtio_listen((struct sockaddr *)&ss, &in->url.opts, 4, decide, in, &in->lsock, err,
			      errlen);
	if (rc < 0 && !in->url.host[0]) {
		wsrt_sockaddr("0.0.0.0", in->url.port, &ss);
		rc = srtio_listen((struct sockaddr *)&ss, &in->url.opts, 4, decide, in, &in->lsock,
				  err, errlen);
	}
	return rc;
}

static void input_freed(uv_handle_t *h)
{
	struct wsrt_input *in = h->data;
	wsrt_url_free(&in->url);
	free(in);
}

static int srt_input_start(const struct input_env *env, void **state, char *err, size_t errlen)
{
	struct wsrt_input *in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	int rc = wsrt_url_parse(env->source, NULL, &in->url, err, errlen);
	if (!rc && in->url.mode == WSRT_RENDEZVOUS) {
		snprintf(err, errlen, "SRT rendezvous mode is not supported for inputs");
		rc = -ENOTSUP;
	}
	if (!rc && (rc = srtio_init(env->loop)) < 0)
		snprintf(err, errlen, "cannot start the SRT I/O thread");
	in->loop = env->loop;
	in->hub = env->hub;
	in->ended = env->ended;
	in->arg = env->arg;
	snprintf(in->stream, sizeof(in->stream), "%s", env->stream);
	snprintf(in->source, sizeof(in->source), "%s", env->source);
	if (!rc && in->url.mode == WSRT_LISTENER)
		rc = open_listener(in, err, errlen);
	if (rc < 0) {
		wsrt_url_free(&in->url);
		free(in);
		return rc;
	}
	in->last_data_ms = now_ms(in);
	uv_timer_init(in->loop, &in->timer);
	in->timer.data = in;
	uv_timer_start(&in->timer, on_tick, 250, 250);
	if (in->url.mode == WSRT_CALLER)
		in->retry_at_ms = now_ms(in); /* first attempt on the first tick */
	LOGF(LOG_INFO, in->stream, "SRT input %s (%s)", in->source, wsrt_mode_name(in->url.mode));
	*state = in;
	return 0;
}

static void srt_input_stop(void *state)
{
	struct wsrt_input *in = state;
	if (!in)
		return;
	in->done = true;
	wsrt_resolve_cancel(in->resolving);
	if (in->sess) {
		in->sess->on_end = NULL;
		wsrt_session_close(in->sess, NULL);
	}
	srtio_close(in->lsock);
	uv_close((uv_handle_t *)&in->timer, input_freed);
}

static const char *const srt_patterns[] = {"srt://*", NULL};
static const char *const srt_codecs[] = {"H264", "HEVC", "AAC", "MP3", NULL};

const struct driver srt_input_driver = {
    .name = "SRT",
    .desc = "MPEG-TS over SRT: srt://host:port calls a sender, srt://:port listens for "
	    "one; other ?keys are SRT options",
    .kind = DRIVER_INPUT,
    .patterns = srt_patterns,
    .codecs = srt_codecs,
    .priority = 9,
    .input_start = srt_input_start,
    .input_stop = srt_input_stop,
};
