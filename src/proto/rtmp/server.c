/* RTMP server: listener driver, connection lifetime, handshake and the
 * message loop. Commands, ingest and playback live in their own files. */
#include "proto/rtmp/rtmp-t.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "proto/listen.h"

static void conn_closed(uv_handle_t *h)
{
	struct rtmp_conn *c = h->data;
	if (--c->open_handles)
		return;
	rtmp_chunk_reader_free(&c->rd);
	bytes_free(&c->in);
	for (int i = 0; i < 2; i++)
		track_clear(&c->ptracks[i]);
	free(c);
}

void rtmp_close(struct rtmp_conn *c, const char *why)
{
	if (c->state == RS_CLOSING)
		return;
	if (why)
		LOGF(LOG_INFO, c->info.stream[0] ? c->info.stream : NULL,
		     "RTMP connection from %s closed: %s", c->info.host, why);
	c->state = RS_CLOSING;
	rtmp_publish_stop(c);
	rtmp_play_stop(c);
	netout_detach(&c->out);
	conn_unregister(&c->info);
	uv_close((uv_handle_t *)&c->timer, conn_closed);
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void write_done(struct netout *o, int status)
{
	struct rtmp_conn *c = o->arg;
	c->info.down_bytes = o->total;
	if (status < 0) {
		rtmp_close(c, uv_strerror(status));
		return;
	}
	if (c->close_after_write && !o->queued) {
		rtmp_close(c, NULL);
		return;
	}
	if (c->reader && o->queued < RTMP_OUT_BUDGET / 2)
		rtmp_play_pump(c);
}

int rtmp_send_bytes(struct rtmp_conn *c, struct bytes *b)
{
	if (c->state == RS_CLOSING || !b->len)
		return 0;
	int rc = netout_write_copy(&c->out, b->data, b->len);
	c->info.down_bytes = c->out.total;
	return rc;
}

int rtmp_send_amf(struct rtmp_conn *c, uint8_t type, uint32_t csid, uint32_t msid,
		  const struct bytes *body)
{
	struct bytes out = {0};
	struct iovec iov = {.iov_base = body->data, .iov_len = body->len};
	int rc = rtmp_chunk_write(&c->wr, csid, type, msid, 0, &iov, 1, &out);
	if (!rc)
		rc = rtmp_send_bytes(c, &out);
	bytes_free(&out);
	return rc;
}

static int send_ack_if_due(struct rtmp_conn *c)
{
	if (!c->peer_window_ack || c->rd.bytes_in - c->acked_bytes < c->peer_window_ack)
		return 0;
	struct bytes b = {0};
	c->acked_bytes = c->rd.bytes_in;
	int rc = rtmp_put_ack(&c->wr, &b, (uint32_t)c->rd.bytes_in);
	if (!rc)
		rc = rtmp_send_bytes(c, &b);
	bytes_free(&b);
	return rc;
}

static int on_user_control(struct rtmp_conn *c, const struct rtmp_msg *m)
{
	if (m->len < 6)
		return 0;
	uint16_t ev = rd_be16(m->payload);
	if (ev != RTMP_UC_PING_REQUEST)
		return 0;
	struct bytes b = {0};
	int rc = rtmp_put_user_control(&c->wr, &b, RTMP_UC_PING_RESPONSE, rd_be32(m->payload + 2));
	if (!rc)
		rc = rtmp_send_bytes(c, &b);
	bytes_free(&b);
	return rc;
}

static int on_message(void *ctx, const struct rtmp_msg *m)
{
	struct rtmp_conn *c = ctx;
	if (c->state == RS_CLOSING || c->close_after_write)
		return -ECANCELED;
	switch (m->type) {
	case RTMP_MSG_WINDOW_ACK_SIZE:
		if (m->len >= 4)
			c->peer_window_ack = rd_be32(m->payload);
		return 0;
	case RTMP_MSG_USER_CONTROL:
		return on_user_control(c, m);
	case RTMP_MSG_COMMAND_AMF0:
	case RTMP_MSG_DATA_AMF0:
	case RTMP_MSG_COMMAND_AMF3:
	case RTMP_MSG_DATA_AMF3:
		return rtmp_on_command(c, m);
	case RTMP_MSG_AUDIO:
	case RTMP_MSG_VIDEO:
		return rtmp_on_media(c, m);
	default: /* chunk size, abort, ack, peer bw, aggregate: nothing to do */
		return 0;
	}
}

static int do_handshake(struct rtmp_conn *c)
{
	if (c->state == RS_HANDSHAKE_C0C1) {
		if (c->in.len < 1 + RTMP_SIG_SIZE)
			return 0;
		uint8_t *s = malloc(1 + 2 * RTMP_SIG_SIZE);
		if (!s)
			return -ENOMEM;
		bool digest = false;
		int rc = rtmp_handshake_server(c->in.data, s, &digest);
		if (rc) {
			free(s);
			return rc;
		}
		uv_buf_t b = uv_buf_init((char *)s, 1 + 2 * RTMP_SIG_SIZE);
		rc = netout_write(&c->out, &b, 1, NULL, 0, s);
		if (rc)
			return rc;
		bytes_consume(&c->in, 1 + RTMP_SIG_SIZE);
		c->state = RS_HANDSHAKE_C2;
		LOGF(LOG_HIGH, NULL, "RTMP %s handshake with %s", digest ? "digest" : "simple",
		     c->info.host);
	}
	if (c->state == RS_HANDSHAKE_C2) {
		if (c->in.len < RTMP_SIG_SIZE)
			return 0;
		bytes_consume(&c->in, RTMP_SIG_SIZE); /* C2 is not checked: clients vary */
		c->state = RS_READY;
	}
	return 0;
}

/* One read buffer for every connection (loop thread only; no callback
 * reads synchronously). A connection keeps input bytes of its own only
 * while a handshake or message is incomplete, so a playing viewer holds no
 * input memory. */
static uint8_t shared_in[65536];

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct rtmp_conn *c = h->data;
	if (!c->in.len) {
		*buf = uv_buf_init((char *)shared_in, sizeof(shared_in));
		return;
	}
	if (bytes_reserve(&c->in, 65536)) {
		*buf = uv_buf_init(NULL, 0);
		return;
	}
	*buf = uv_buf_init((char *)c->in.data + c->in.len, (unsigned)(c->in.cap - c->in.len - 1));
}

static const char *err_text(int rc)
{
	switch (rc) {
	case -EPROTO:
		return "protocol error";
	case -EMSGSIZE:
		return "message too large";
	case -ENOTSUP:
		return "unsupported handshake (encrypted RTMP)";
	case -ENOMEM:
		return "out of memory";
	default:
		return strerror(-rc);
	}
}

/* Parses n bytes in shared_in; an incomplete tail is kept in c->in. */
static int feed_direct(struct rtmp_conn *c, size_t n)
{
	int rc = rtmp_chunk_feed(&c->rd, shared_in, n, on_message, c);
	if (rc >= 0 && (size_t)rc < n && c->state != RS_CLOSING)
		rc = bytes_append(&c->in, shared_in + rc, n - (size_t)rc);
	return rc < 0 ? rc : send_ack_if_due(c);
}

/* Parses what c->in holds. */
static int feed_own(struct rtmp_conn *c)
{
	if (!c->in.len)
		return 0;
	int rc = rtmp_chunk_feed(&c->rd, c->in.data, c->in.len, on_message, c);
	if (rc > 0)
		bytes_consume(&c->in, (size_t)rc);
	return rc < 0 ? rc : send_ack_if_due(c);
}

static void read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct rtmp_conn *c = st->data;
	if (c->state == RS_CLOSING)
		return;
	if (n < 0) {
		rtmp_close(c, n == UV_EOF || n == UV_ECONNRESET
				  ? (c->state == RS_READY ? NULL : "closed during handshake")
				  : uv_strerror((int)n));
		return;
	}
	c->info.up_bytes += (uint64_t)n;
	c->last_input_ms = uv_now(st->loop);
	/* direct: the bytes are in shared_in and c->in is empty */
	bool direct = buf->base == (char *)shared_in;
	int rc = 0;
	if (!direct)
		c->in.len += (size_t)n;
	else if (c->state < RS_READY) {
		rc = bytes_append(&c->in, shared_in, (size_t)n);
		direct = false;
	}
	if (!rc && c->state < RS_READY)
		rc = do_handshake(c);
	if (!rc && c->state == RS_READY)
		rc = direct ? feed_direct(c, (size_t)n) : feed_own(c);
	if (!c->in.len && !c->pub)
		bytes_free(&c->in);
	if (rc < 0 && rc != -ECANCELED && c->state != RS_CLOSING)
		rtmp_close(c, err_text(rc));
}

static void timer_cb(uv_timer_t *t)
{
	struct rtmp_conn *c = t->data;
	uint64_t now = uv_now(t->loop);
	bool idle_matters = c->state < RS_READY || c->pub || !c->reader;
	if (idle_matters && !c->play_wait && now - c->last_input_ms > RTMP_IDLE_MS)
		rtmp_close(c, "no data received for 30 s");
	else if (c->out.queued && now - c->out.last_progress_ms > RTMP_STALL_MS)
		rtmp_close(c, "viewer stopped reading");
}

static void kill_conn(struct conn_info *ci)
{
	rtmp_close((struct rtmp_conn *)((char *)ci - offsetof(struct rtmp_conn, info)), NULL);
}

static void accept_cb(uv_stream_t *ls, int status)
{
	struct rtmp_listener *l = ls->data;
	if (status < 0)
		return;
	struct rtmp_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->hub = l->env.hub;
	uv_tcp_init(ls->loop, &c->tcp);
	uv_timer_init(ls->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open_handles = 2;
	c->info.protocol = "RTMP";
	c->info.kill = kill_conn;
	c->next_stream_id = 1;
	rtmp_chunk_reader_init(&c->rd);
	rtmp_chunk_writer_init(&c->wr);
	netout_init(&c->out, (uv_stream_t *)&c->tcp, write_done, c);
	conn_register(&c->info);
	if (uv_accept(ls, (uv_stream_t *)&c->tcp)) {
		rtmp_close(c, "accept failed");
		return;
	}
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	if (!uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len))
		conn_set_host(&c->info, &ss);
	uv_tcp_nodelay(&c->tcp, 1);
	c->last_input_ms = uv_now(ls->loop);
	uv_timer_start(&c->timer, timer_cb, 1000, 1000);
	uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

static void listener_closed(uv_handle_t *h)
{
	free(h->data);
}

static int rtmp_listen(const struct server_env *env, const json_t *cfg, void **state, char *err,
		       size_t errlen)
{
	struct rtmp_listener *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->env = *env;
	json_t *p = json_object_get(cfg, "port");
	l->port = json_is_integer(p) ? (int)json_integer_value(p) : 1935;
	const char *iface = json_string_value(json_object_get(cfg, "interface"));
	if (!iface || !*iface)
		iface = "0.0.0.0";
	uv_tcp_init(env->loop, &l->tcp);
	l->tcp.data = l;
	int rc = net_listen_tcp(&l->tcp, iface, l->port, 511, accept_cb, err, errlen);
	if (rc) {
		uv_close((uv_handle_t *)&l->tcp, listener_closed);
		return rc;
	}
	listener_note_port("RTMP", l->port);
	LOGF(LOG_INFO, NULL, "RTMP listening on %s:%d", iface, l->port);
	*state = l;
	return 0;
}

static void rtmp_unlisten(void *state)
{
	struct rtmp_listener *l = state;
	if (!l)
		return;
	listener_note_port("RTMP", 0);
	uv_close((uv_handle_t *)&l->tcp, listener_closed);
}

static const char *const rtmp_patterns[] = {"rtmp://*", NULL};
static const char *const rtmp_codecs[] = {"H264", "HEVC", "AV1", "VP9", "AAC", "MP3", NULL};

const struct driver rtmp_driver = {
    .name = "RTMP",
    .desc = "Real Time Messaging Protocol: publish (FLV and Enhanced RTMP codecs) and play",
    .kind = DRIVER_LISTENER,
    .patterns = rtmp_patterns,
    .codecs = rtmp_codecs,
    .default_port = 1935,
    .transport = "tcp",
    .listen = rtmp_listen,
    .unlisten = rtmp_unlisten,
    .source_type = "flash/10",
    .source_priority = 7,
    .source_url = "rtmp://%H:%P/play/%S",
};
