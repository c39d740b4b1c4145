/* One SRT connection on the loop: lifetime, socket events, statistics,
 * and the publishing side (MPEG-TS in -> demuxer -> hub). Playing is in
 * session_play.c. */
#include "proto/srt/srt-t.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/streamname.h"
#include "proto/tsudp/tsgate.h"

/* ---- lifetime ---- */

static void session_freed(uv_handle_t *h)
{
	struct wsrt_session *s = h->data;
	bytes_free(&s->in);
	bytes_free(&s->obuf);
	free(s);
}

static void publish_stop(struct wsrt_session *s)
{
	if (s->demux) {
		if (s->pub)
			ts_demux_flush(s->demux);
		ts_demux_free(s->demux);
		s->demux = NULL;
	}
	tsgate_free(s->gate);
	s->gate = NULL;
	if (s->pub) {
		LOGF(LOG_INFO, s->info.stream, "SRT publisher %s left", s->info.host);
		hub_publish_end(s->pub);
		s->pub = NULL;
	}
}

static void copy_stats(struct wsrt_session *s)
{
	struct srtio_stats st;
	srtio_get_stats(s->sock, &st);
	s->info.pkt_sent = st.pkt_sent;
	s->info.pkt_lost = st.pkt_lost;
	s->info.pkt_retrans = st.pkt_retrans;
}

void wsrt_session_close(struct wsrt_session *s, const char *why)
{
	if (s->closing)
		return;
	s->closing = true;
	if (why)
		LOGF(LOG_INFO, s->info.stream[0] ? s->info.stream : NULL,
		     "SRT connection with %s closed: %s", s->info.host, why);
	copy_stats(s);
	publish_stop(s);
	wsrt_play_stop(s);
	conn_unregister(&s->info);
	srtio_close(s->sock);
	s->sock = NULL;
	uv_close((uv_handle_t *)&s->timer, session_freed);
}

void wsrt_session_end(struct wsrt_session *s, int err, const char *why)
{
	if (s->closing)
		return;
	wsrt_end_fn fn = s->on_end;
	s->on_end = NULL;
	char reason[256];
	snprintf(reason, sizeof(reason), "%s", why ? why : "");
	if (!s->connected && reason[0] && !fn) /* never connected; no owner reports it */
		LOGF(LOG_WARN, s->info.stream[0] ? s->info.stream : NULL,
		     "SRT connection with %s failed: %s", s->info.host, reason);
	wsrt_session_close(s, s->connected && reason[0] ? reason : NULL);
	if (fn)
		fn(s, err, reason, s->arg); /* s is closing: only its fields are read */
}

static void kill_conn(struct conn_info *c)
{
	wsrt_session_end((struct wsrt_session *)c, -ECANCELED, "closed by the server");
}

/* ---- publishing ---- */

static int on_track(void *ctx, unsigned idx, const struct track *t)
{
	struct wsrt_session *s = ctx;
	return s->pub && s->gate ? tsgate_track(s->gate, idx, t) : 0;
}

static int on_frame(void *ctx, struct frame *f)
{
	struct wsrt_session *s = ctx;
	if (!s->pub || !s->gate) {
		frame_unref(f);
		return 0;
	}
	int rc = tsgate_frame(s->gate, ts_demux_track_mask(s->demux), f);
	return rc == -EPIPE ? 0 : rc;
}

static void on_kick(void *arg)
{
	struct wsrt_session *s = arg;
	publish_stop(s);
	wsrt_session_end(s, -ECANCELED, "publishing stopped by the server");
}

static int start_demux(struct wsrt_session *s)
{
	struct ts_demux_cb cb = {.ctx = s, .on_track = on_track, .on_frame = on_frame};
	s->demux = ts_demux_new(&cb);
	s->gate = s->demux ? tsgate_new(s->pub) : NULL;
	if (s->gate)
		return 0;
	ts_demux_free(s->demux);
	s->demux = NULL;
	return -ENOMEM;
}

int wsrt_session_publish(struct wsrt_session *s, const struct hub_publish_req *req, char *why,
			 size_t why_len)
{
	struct hub_publish_req r = *req;
	r.connector = "SRT";
	r.host = s->info.host;
	int rc = hub_publish_begin(s->hub, &r, on_kick, s, &s->pub, why, why_len);
	if (rc < 0)
		return rc;
	if (start_demux(s) < 0) {
		hub_publish_end(s->pub);
		s->pub = NULL;
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	s->role = WSRT_ROLE_PUBLISH;
	s->info.role = CONN_INPUT;
	snprintf(s->info.stream, sizeof(s->info.stream), "%s", hub_stream_name(s->pub));
	s->deadline_ms = (int64_t)uv_now(s->loop) + WSRT_PUB_IDLE_MS;
	return 0;
}

void wsrt_session_publish_lazily(struct wsrt_session *s, const struct wsrt_pub_spec *spec)
{
	s->spec = *spec;
	s->lazy_publish = true;
	s->info.role = CONN_INPUT;
	snprintf(s->info.stream, sizeof(s->info.stream), "%s", spec->name);
}

/* The first bytes of a lazily publishing session. */
static int publish_now(struct wsrt_session *s)
{
	char why[256] = "";
	struct hub_publish_req req = {.name = s->spec.name,
				      .password = s->spec.password[0] ? s->spec.password : NULL,
				      .internal = s->spec.internal};
	s->lazy_publish = false;
	int rc = wsrt_session_publish(s, &req, why, sizeof(why));
	if (rc < 0) {
		LOGF(LOG_WARN, s->spec.name, "SRT input from %s refused: %s", s->info.host, why);
		wsrt_session_end(s, rc, why);
		return rc;
	}
	LOGF(LOG_INFO, s->info.stream, "SRT input from %s", s->info.host);
	return 0;
}

void wsrt_session_undecided(struct wsrt_session *s, const char *name)
{
	snprintf(s->play_name, sizeof(s->play_name), "%s", name);
	s->role = WSRT_ROLE_UNDECIDED;
	s->deadline_ms = (int64_t)uv_now(s->loop) + WSRT_UNDECIDED_MS;
}

/* Silence for WSRT_UNDECIDED_MS: the peer wants to receive. */
static void undecided_to_play(struct wsrt_session *s)
{
	char name[128];
	snprintf(name, sizeof(name), "%s", s->play_name);
	LOGF(LOG_MEDIUM, s->info.stream, "SRT %s sent nothing for %d ms: sending to it",
	     s->info.host, WSRT_UNDECIDED_MS);
	publish_stop(s);
	if (wsrt_session_play(s, name, NULL) < 0)
		wsrt_session_end(s, -ENOMEM, "out of memory");
}

static void on_data(struct wsrt_session *s)
{
	uint64_t dropped = s->in_dropped;
	size_t n = srtio_read(s->sock, &s->in, &s->in_dropped);
	if (s->in_dropped != dropped)
		LOGF(LOG_WARN, s->info.stream[0] ? s->info.stream : NULL,
		     "SRT from %s: the server fell behind, %llu bytes dropped so far", s->info.host,
		     (unsigned long long)s->in_dropped);
	if (!n)
		return;
	s->info.up_bytes += n;
	s->last_data_ms = (int64_t)uv_now(s->loop);
	if (s->lazy_publish && publish_now(s) < 0)
		return;
	if (s->role == WSRT_ROLE_UNDECIDED) {
		s->role = WSRT_ROLE_PUBLISH;
		LOGF(LOG_INFO, s->info.stream, "SRT publish from %s", s->info.host);
	}
	if (s->role == WSRT_ROLE_PUBLISH && s->demux) {
		s->deadline_ms = s->last_data_ms + WSRT_PUB_IDLE_MS;
		int rc = ts_demux_feed(s->demux, s->in.data, s->in.len);
		if (rc < 0 && !s->closing)
			wsrt_session_end(s, rc, "bad input data");
	}
	bytes_reset(&s->in);
	if (s->role == WSRT_ROLE_PLAY && !s->closing) /* a publisher sent where it may not */
		wsrt_session_end(s, -EPROTO,
				 "the peer sends data on a connection that receives the stream "
				 "(to publish, use a streamid with m=publish)");
}

/* ---- events and ticks ---- */

static void on_sock_event(struct srtio_sock *sock, unsigned ev, void *arg)
{
	struct wsrt_session *s = arg;
	if (s->closing)
		return;
	if (ev & SRTIO_EV_CONNECTED) {
		s->connected = true;
		if (s->on_connected)
			s->on_connected(s, s->arg);
	}
	if (!s->closing && (ev & SRTIO_EV_DATA))
		on_data(s);
	if (!s->closing && (ev & (SRTIO_EV_DRAINED | SRTIO_EV_CONNECTED)) && s->reader)
		wsrt_play_pump(s);
	if (!s->closing && (ev & SRTIO_EV_CLOSED)) {
		char why[200];
		snprintf(why, sizeof(why), "%s", srtio_error(sock));
		on_data(s); /* whatever arrived before the end */
		if (!s->closing)
			wsrt_session_end(s, s->connected ? 0 : -ECONNREFUSED, why);
	}
}

static void on_tick(uv_timer_t *t)
{
	struct wsrt_session *s = t->data;
	copy_stats(s);
	int64_t now = (int64_t)uv_now(s->loop);
	if (s->role == WSRT_ROLE_PLAY && !s->reader) {
		int rc = wsrt_play_attach(s); /* waiting for the stream to be live */
		if (rc == -EAGAIN && now >= s->deadline_ms)
			wsrt_session_end(s, -ENOENT, "stream not available");
		else if (rc < 0 && rc != -EAGAIN)
			wsrt_session_end(s, rc, "cannot play");
		return;
	}
	if (!s->deadline_ms || now < s->deadline_ms)
		return;
	if (s->role == WSRT_ROLE_UNDECIDED)
		undecided_to_play(s);
	else if (s->role == WSRT_ROLE_PUBLISH)
		wsrt_session_end(s, -ETIMEDOUT, "no data from the publisher");
}

struct wsrt_session *wsrt_session_new(uv_loop_t *loop, struct hub *hub, struct srtio_sock *sock,
				      wsrt_end_fn on_end, void *arg)
{
	struct wsrt_session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->loop = loop;
	s->hub = hub;
	s->sock = sock;
	s->on_end = on_end;
	s->arg = arg;
	s->last_data_ms = (int64_t)uv_now(loop);
	s->info.protocol = "SRT";
	s->info.kill = kill_conn;
	conn_set_host(&s->info, srtio_peer(sock));
	uv_timer_init(loop, &s->timer);
	s->timer.data = s;
	uv_timer_start(&s->timer, on_tick, WSRT_TICK_MS, WSRT_TICK_MS);
	srtio_set_handler(sock, on_sock_event, s);
	conn_register(&s->info);
	return s;
}
