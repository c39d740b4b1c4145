/* RIST (librist) input and push output of MPEG-TS.
 *
 *   input  rist://@[host]:port   listener: a RIST sender connects to us
 *          rist://host:port      caller: we connect to a RIST sender
 *   push   rist://host:port      caller: we connect to a RIST receiver
 *          rist://@[host]:port   listener: RIST receivers connect to us
 *
 * ?profile=simple|main (default main); every other option goes to librist
 * (buffer=, secret=, aes-type=, cname=, bandwidth=, ...). The push is
 * paced by media time (see tsudp/pacer.h) in 7-packet payloads, each
 * frame spread over smooth= ms (default 5: well below one frame, so
 * that the push adds less than a frame to the RIST buffer's latency; the
 * receiver's buffer absorbs the rest of the burstiness). A caller
 * push that reaches nobody within 10 s gives up; the manager may retry.
 * An input waits for its sender (see tsin.h for quiet senders). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conn.h"
#include "core/log.h"
#include "core/url.h"
#include "proto/registry.h"
#include "proto/rist/bridge.h"
#include "proto/tsudp/pacer.h"
#include "proto/tsudp/tsin.h"
#include "proto/tsudp/tsout.h"

#define URL_MAX         1024
#define TICK_MS         2
#define IDLE_MS         2000
#define CONNECT_MS      10000
#define STREAM_WAIT_MS  30000
#define AHEAD_PAUSE_US  2000000
#define AHEAD_RESUME_US 1000000
#define BATCH           64
#define SMOOTH_MS       5

struct rist_io {
	uv_loop_t *loop;
	struct hub *hub;
	char stream[128];
	char url[URL_MAX];
	driver_ended_fn ended;
	void *arg;
	bool listener, stopping, reported, peer_up, ever_up, idle, got_data;
	uint64_t start_ms, last_rx_ms;
	struct rist_bridge *br;
	uv_timer_t timer;
	bool timer_fast; /* push: 2 ms pacing ticks, else 250 ms housekeeping */
	/* input */
	struct tsin *tin;
	/* push */
	char query[URL_MAX]; /* of the target as given: track selectors */
	struct tsout *out;
	struct pacer *pacer;
	bool draining;
	struct conn_info info;
};

static void report(struct rist_io *r, int err, const char *why)
{
	if (r->reported || r->stopping)
		return;
	r->reported = true;
	LOGF(err ? LOG_WARN : LOG_INFO, r->stream, "RIST %s %s ended: %s",
	     r->tin ? "input" : "push", r->url, why);
	r->ended(r->arg, err, why);
}

static struct conn_info *conn_of(struct rist_io *r)
{
	return r->tin ? tsin_conn(r->tin) : &r->info;
}

/* Statistics into the connection entry. */
static void update_stats(struct rist_io *r)
{
	struct rist_bridge_stats st;
	rist_bridge_stats(r->br, &st);
	if (!st.have)
		return;
	struct conn_info *ci = conn_of(r);
	ci->pkt_sent = st.sent;
	ci->pkt_lost = st.lost;
	ci->pkt_retrans = r->tin ? st.recovered : st.retransmitted;
}

static void on_failed(void *arg, int err, const char *why)
{
	report(arg, err, why);
}

static void on_peer(void *arg, bool up)
{
	struct rist_io *r = arg;
	if (up != r->peer_up)
		LOGF(LOG_INFO, r->stream, "RIST %s: peer %s", r->url,
		     up ? "connected" : "timed out");
	r->peer_up = up;
	r->ever_up |= up;
}

static void timer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void io_free(struct rist_io *r)
{
	r->stopping = true;
	rist_bridge_free(r->br);
	r->br = NULL;
	tsout_free(r->out);
	r->out = NULL;
	pacer_free(r->pacer);
	r->pacer = NULL;
	tsin_free(r->tin);
	r->tin = NULL;
	conn_unregister(&r->info);
	uv_close((uv_handle_t *)&r->timer, timer_closed);
}

static struct rist_io *io_new(uv_loop_t *loop, struct hub *hub, const char *stream,
			      driver_ended_fn ended, void *arg)
{
	struct rist_io *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->loop = loop;
	r->hub = hub;
	r->ended = ended;
	r->arg = arg;
	r->start_ms = uv_now(loop);
	snprintf(r->stream, sizeof(r->stream), "%s", stream);
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	return r;
}

/* The host of a RIST URL for the connection list ("*" for listeners on
 * any address). */
static void peer_host(const char *url, char *out, size_t len)
{
	struct url u;
	const char *h = url_parse(url, &u) == 0 && u.host[0] ? u.host : "*";
	snprintf(out, len, "%.63s", h);
}

/* ---------------- input ---------------- */

static void on_rx(void *arg, const uint8_t *p, size_t len)
{
	struct rist_io *r = arg;
	r->last_rx_ms = uv_now(r->loop);
	if (r->idle || !r->got_data)
		LOGF(LOG_INFO, r->stream, "RIST: %s",
		     r->got_data ? "data flowing again" : "receiving");
	r->idle = false;
	r->got_data = true;
	if (tsin_feed(r->tin, p, len, NULL) == -EPIPE)
		report(r, 0, "stream stopped by the server");
}

static void input_tick(uv_timer_t *t)
{
	struct rist_io *r = t->data;
	update_stats(r);
	if (r->got_data && !r->idle && uv_now(t->loop) - r->last_rx_ms >= IDLE_MS) {
		r->idle = true;
		LOGF(LOG_INFO, r->stream, "RIST: no data for %d s; waiting for the sender",
		     IDLE_MS / 1000);
		tsin_pause(r->tin);
	}
}

static void input_kicked(void *arg)
{
	report(arg, 0, "stream stopped by the server");
}

static void rist_input_stop(void *state)
{
	if (state)
		io_free(state);
}

static int rist_input_start(const struct input_env *env, void **state, char *err, size_t errlen)
{
	int profile;
	bool listener;
	char url[URL_MAX];
	int rc = rist_bridge_url(env->source, url, sizeof(url), &profile, &listener, err, errlen);
	if (rc)
		return rc;
	struct rist_io *r = io_new(env->loop, env->hub, env->stream, env->ended, env->arg);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(r->url, sizeof(r->url), "%s", url);
	r->listener = listener;
	rc = tsin_new(env->hub, env->stream, "RIST", input_kicked, r, &r->tin, err, errlen);
	struct rist_bridge_cb cb = {.arg = r, .data = on_rx, .peer = on_peer, .failed = on_failed};
	if (!rc && !(r->br = rist_bridge_new(env->loop, false, url, profile, env->stream, &cb))) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	}
	if (rc) {
		io_free(r);
		return rc;
	}
	peer_host(url, tsin_conn(r->tin)->host, sizeof(tsin_conn(r->tin)->host));
	uv_timer_start(&r->timer, input_tick, 250, 250);
	LOGF(LOG_INFO, r->stream, "RIST input %s (%s, %s profile)", url,
	     listener ? "listener" : "caller", profile ? "main" : "simple");
	*state = r;
	return 0;
}

/* ---------------- push ---------------- */

static void push_tick(uv_timer_t *t)
{
	struct rist_io *r = t->data;
	int64_t now_us = (int64_t)(uv_hrtime() / 1000);
	uint8_t *dg[BATCH];
	size_t len[BATCH];
	unsigned n;
	while ((n = pacer_due(r->pacer, now_us, dg, len, BATCH)) > 0) {
		for (unsigned i = 0; i < n; i++)
			if (rist_bridge_write(r->br, dg[i], len[i]) == 0)
				r->info.down_bytes += len[i];
		pacer_consume(r->pacer, n);
	}
	if (r->out && pacer_ahead_us(r->pacer, now_us) < AHEAD_RESUME_US)
		tsout_resume(r->out); /* may end the push */
	if (r->stopping || pacer_queued(r->pacer))
		return;
	if (r->draining)
		report(r, 0, "stream ended");
}

/* Housekeeping while nothing is queued: statistics, the connect timeout. */
static void push_slow_tick(uv_timer_t *t)
{
	struct rist_io *r = t->data;
	update_stats(r);
	if (!r->listener && !r->ever_up && uv_now(t->loop) - r->start_ms >= CONNECT_MS)
		report(r, -ETIMEDOUT, "no RIST receiver answered within 10 s");
}

static void set_fast(struct rist_io *r, bool fast)
{
	if (r->timer_fast == fast || r->stopping)
		return;
	r->timer_fast = fast;
	if (fast)
		uv_timer_start(&r->timer, push_tick, 0, TICK_MS);
	else
		uv_timer_start(&r->timer, push_slow_tick, 250, 250);
}

static int on_ts(void *arg, const uint8_t *ts, size_t len, int64_t dts_us, int64_t arrival_us)
{
	struct rist_io *r = arg;
	int64_t now_us = (int64_t)(uv_hrtime() / 1000);
	int rc = pacer_push(r->pacer, ts, len, dts_us, arrival_us, now_us);
	if (rc)
		return rc;
	set_fast(r, true);
	return pacer_ahead_us(r->pacer, now_us) > AHEAD_PAUSE_US ? 1 : 0;
}

static void on_ts_end(void *arg, int err, const char *why)
{
	struct rist_io *r = arg;
	if (err || !pacer_queued(r->pacer))
		report(r, err, why);
	else
		r->draining = true;
}

/* The session is up: start reading the stream. */
static void push_started(void *arg)
{
	struct rist_io *r = arg;
	struct tsout_opts o = {.wait_ms = STREAM_WAIT_MS, .log_name = "RIST push"};
	o.query = r->query;
	struct tsout_cb cb = {.arg = r, .data_at = on_ts, .ended = on_ts_end};
	if (tsout_new(r->loop, r->hub, r->stream, &o, &cb, &r->out) < 0)
		report(r, -ENOMEM, "out of memory");
}

static void rist_push_stop(void *state)
{
	if (state)
		io_free(state);
}

static void kill_push(struct conn_info *c)
{
	report((struct rist_io *)((char *)c - offsetof(struct rist_io, info)), -ECANCELED,
	       "stopped");
}

static int rist_push_start(const struct push_env *env, void **state, char *err, size_t errlen)
{
	int profile;
	bool listener;
	char url[URL_MAX];
	int rc = rist_bridge_url(env->target, url, sizeof(url), &profile, &listener, err, errlen);
	if (rc)
		return rc;
	struct rist_io *r = io_new(env->loop, env->hub, env->stream, env->ended, env->arg);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(r->url, sizeof(r->url), "%s", url);
	const char *q = strchr(env->target, '?');
	snprintf(r->query, sizeof(r->query), "%s", q ? q + 1 : "");
	r->listener = listener;
	r->info.protocol = "RIST";
	r->info.role = CONN_VIEWER;
	r->info.kill = kill_push;
	snprintf(r->info.stream, sizeof(r->info.stream), "%s", env->stream);
	peer_host(url, r->info.host, sizeof(r->info.host));
	struct rist_bridge_cb cb = {
	    .arg = r, .started = push_started, .peer = on_peer, .failed = on_failed};
	struct pacer_opts po = {.restamp_pcr = true, .smooth_ms = SMOOTH_MS};
	char v[16];
	if (query_get(r->query, "smooth", v, sizeof(v)) > 0) {
		po.smooth_ms = atoi(v);
		if (po.smooth_ms < 1 || po.smooth_ms > 10000) {
			snprintf(err, errlen, "smooth must be 1..10000 ms");
			io_free(r);
			return -EINVAL;
		}
	}
	r->pacer = pacer_new(&po);
	if (r->pacer)
		r->br = rist_bridge_new(env->loop, true, url, profile, env->stream, &cb);
	if (!r->br) {
		snprintf(err, errlen, "out of memory");
		io_free(r);
		return -ENOMEM;
	}
	conn_register(&r->info);
	r->timer_fast = true; /* so that set_fast(false) starts the slow timer */
	set_fast(r, false);
	LOGF(LOG_INFO, r->stream, "RIST push to %s (%s, %s profile)", url,
	     listener ? "listener" : "caller", profile ? "main" : "simple");
	*state = r;
	return 0;
}

static const char *const rist_patterns[] = {"rist://*", NULL};
static const char *const ts_codecs[] = {"H264", "HEVC", "AAC", "MP3", "opus", NULL};

const struct driver rist_input_driver = {
    .name = "RIST",
    .desc = "RIST (librist) MPEG-TS input, caller or listener, simple or main profile",
    .kind = DRIVER_INPUT,
    .patterns = rist_patterns,
    .codecs = ts_codecs,
    .priority = 9,
    .input_start = rist_input_start,
    .input_stop = rist_input_stop,
};

const struct driver rist_push_driver = {
    .name = "RIST",
    .desc = "RIST (librist) MPEG-TS push, caller or listener, simple or main profile",
    .kind = DRIVER_OUTPUT,
    .patterns = rist_patterns,
    .codecs = ts_codecs,
    .push_start = rist_push_start,
    .push_stop = rist_push_stop,
};
