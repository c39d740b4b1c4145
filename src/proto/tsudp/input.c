/* Inputs tsudp://[host]:port[/iface] and tsrtp://[host]:port[/iface]:
 * MPEG-TS in UDP datagrams (tsrtp: in RTP packets, with SMPTE 2022-1 FEC
 * on port + 2 and port + 4 when the sender has it), unicast on a bound
 * address or multicast (host is a group, joined on iface). RTP packets
 * are reordered and lost ones rebuilt from FEC before demuxing; raw TS
 * arriving on a tsrtp port is taken as it is.
 *
 * A sender that goes quiet is waited for: after 2 s the demuxer is
 * flushed and the input keeps listening; when packets return (the same
 * sender, or a restarted one) the stream continues. Stopping an idle
 * input is the manager's decision (inputtimeout). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "format/fec.h"
#include "format/rtp_ts.h"
#include "proto/registry.h"
#include "proto/tsudp/tsin.h"
#include "proto/tsudp/udpio.h"

#define TICK_MS        50
#define IDLE_MS        2000
#define STATS_MS       10000
#define FEC_MAX_WAIT   1000
#define RX_CHUNKS      8 /* datagrams per recvmmsg (64 KiB of buffer each) */
#define RX_CHUNK_BYTES (64 * 1024)

struct tsinput;

struct rxsock {
	uv_udp_t h;
	struct tsinput *in;
	int kind; /* -1 media, else enum fec_kind */
	uint8_t *buf;
};

struct tsinput {
	uv_loop_t *loop;
	struct hub *hub;
	char stream[128];
	const char *proto;
	bool rtp;
	driver_ended_fn ended;
	void *arg;
	struct udpio_addr addr;
	struct rxsock sock[3];
	unsigned nsock;
	uv_timer_t timer;
	unsigned open_handles;
	bool stopping, reported, idle, got_data;
	uint64_t last_rx_ms, last_stats_ms;
	struct tsin *tin;
	struct fec_dec *fec;
	struct fec_dec_stats logged;
	char peer[64];
};

static void report(struct tsinput *in, int err, const char *why)
{
	if (in->reported || in->stopping)
		return;
	in->reported = true;
	LOGF(err ? LOG_WARN : LOG_INFO, in->stream, "%s input on port %d ended: %s", in->proto,
	     in->addr.port, why);
	in->ended(in->arg, err, why);
}

static void on_kick(void *arg)
{
	report(arg, 0, "stream stopped by the server");
}

static void feed_ts(struct tsinput *in, const uint8_t *p, size_t len)
{
	if (tsin_feed(in->tin, p, len, in->peer) == -EPIPE)
		report(in, 0, "stream stopped by the server");
}

/* Reordered (and rebuilt) RTP packets from the FEC decoder. */
static int fec_out(void *arg, const uint8_t *rtp, size_t len, bool recovered)
{
	struct tsinput *in = arg;
	struct rtp_pkt r;
	if (rtp_parse(rtp, len, &r) == 0 && r.payload_len)
		feed_ts(in, r.payload, r.payload_len);
	return 0;
}

/* Logs the FEC counters when they changed (every STATS_MS at most), or
 * at the end when anything was received. */
static void log_fec(struct tsinput *in, bool final)
{
	if (!in->fec)
		return;
	struct fec_dec_stats st;
	fec_dec_get_stats(in->fec, &st);
	if (final ? !st.media : st.recovered == in->logged.recovered && st.lost == in->logged.lost)
		return;
	LOGF(LOG_INFO, in->stream,
	     "%s: %llu media packets, FEC %llu column + %llu row (%ux%u): %llu recovered, "
	     "%llu unrecoverable, %llu late, %llu duplicate",
	     in->proto, (unsigned long long)st.media, (unsigned long long)st.fec[FEC_COL],
	     (unsigned long long)st.fec[FEC_ROW], st.l, st.d, (unsigned long long)st.recovered,
	     (unsigned long long)st.lost, (unsigned long long)st.late,
	     (unsigned long long)st.duplicates);
	in->logged = st;
}

static void on_packet(struct rxsock *s, const uint8_t *p, size_t len, const struct sockaddr *from)
{
	struct tsinput *in = s->in;
	uint64_t now = uv_now(in->loop);
	in->last_rx_ms = now;
	if (in->idle || !in->got_data) {
		if (from)
			udpio_host_str(from, in->peer, sizeof(in->peer));
		LOGF(LOG_INFO, in->stream, "%s: %s from %s", in->proto,
		     in->got_data ? "data flowing again" : "receiving", in->peer);
		in->idle = false;
		in->got_data = true;
	}
	if (!in->rtp || (s->kind < 0 && len && p[0] == 0x47)) {
		feed_ts(in, p, len);
		return;
	}
	int rc = s->kind < 0 ? fec_dec_media(in->fec, p, len, (int64_t)now)
			     : fec_dec_fec(in->fec, p, len, (int64_t)now);
	if (rc < 0)
		report(in, rc, "out of memory");
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct rxsock *s = h->data;
	*buf = uv_buf_init((char *)s->buf, RX_CHUNKS * RX_CHUNK_BYTES);
}

static void recv_cb(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
		    unsigned flags)
{
	struct rxsock *s = h->data;
	if (s->in->stopping || s->in->reported || n <= 0 || !addr)
		return; /* n 0: nothing more for now; errors are transient on UDP */
	on_packet(s, (const uint8_t *)buf->base, (size_t)n, addr);
}

static void tick(uv_timer_t *t)
{
	struct tsinput *in = t->data;
	uint64_t now = uv_now(t->loop);
	if (in->fec && fec_dec_tick(in->fec, (int64_t)now) < 0)
		report(in, -ENOMEM, "out of memory");
	if (in->got_data && !in->idle && now - in->last_rx_ms >= IDLE_MS) {
		in->idle = true;
		LOGF(LOG_INFO, in->stream, "%s: no data for %d s; waiting for the sender",
		     in->proto, IDLE_MS / 1000);
		if (in->fec)
			fec_dec_flush(in->fec);
		if (!in->reported)
			tsin_pause(in->tin);
	}
	if (in->fec && in->tin) {
		struct fec_dec_stats st;
		fec_dec_get_stats(in->fec, &st);
		tsin_conn(in->tin)->pkt_lost = st.lost; /* after FEC repair */
	}
	if (now - in->last_stats_ms >= STATS_MS) {
		in->last_stats_ms = now;
		log_fec(in, false);
	}
}

static void release(struct tsinput *in)
{
	if (--in->open_handles)
		return;
	for (unsigned i = 0; i < 3; i++)
		free(in->sock[i].buf);
	free(in);
}

static void sock_closed(uv_handle_t *h)
{
	release(((struct rxsock *)h->data)->in);
}

static void timer_closed(uv_handle_t *h)
{
	release(h->data);
}

static void input_stop(void *state)
{
	struct tsinput *in = state;
	if (!in)
		return;
	in->stopping = true;
	if (in->fec) {
		fec_dec_flush(in->fec);
		log_fec(in, true);
	}
	tsin_free(in->tin);
	in->tin = NULL;
	fec_dec_free(in->fec);
	in->fec = NULL;
	uv_close((uv_handle_t *)&in->timer, timer_closed);
	for (unsigned i = 0; i < in->nsock; i++)
		uv_close((uv_handle_t *)&in->sock[i].h, sock_closed);
}

/* Opens socket i (media, column FEC, row FEC) on port. */
static int open_sock(struct tsinput *in, unsigned i, int kind, int port, char *err, size_t errlen)
{
	struct rxsock *s = &in->sock[i];
	s->in = in;
	s->kind = kind;
	if (!(s->buf = malloc(RX_CHUNKS * RX_CHUNK_BYTES))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = udpio_bind(in->loop, &s->h, &in->addr, port, err, errlen);
	s->h.data = s;
	in->nsock++;
	in->open_handles++;
	if (!rc)
		rc = uv_udp_recv_start(&s->h, alloc_cb, recv_cb);
	if (rc && !*err)
		snprintf(err, errlen, "cannot receive on port %d: %s", port, uv_strerror(rc));
	return rc;
}

static int open_input(struct tsinput *in, const struct input_env *env, char *err, size_t errlen)
{
	int rc = udpio_parse(env->source, false, &in->addr, err, errlen);
	if (!rc && !in->addr.numeric) {
		snprintf(err, errlen, "the host must be an IP address (or empty) in %s",
			 env->source);
		rc = -EINVAL;
	}
	if (!rc && in->rtp && in->addr.port + FEC_PORT_ROW > 65535) {
		snprintf(err, errlen, "tsrtp needs ports %d..%d", in->addr.port,
			 in->addr.port + FEC_PORT_ROW);
		rc = -EINVAL;
	}
	if (!rc && in->rtp && !(in->fec = fec_dec_new(fec_out, in, FEC_MAX_WAIT)))
		rc = -ENOMEM;
	if (!rc)
		rc = tsin_new(env->hub, env->stream, in->proto, on_kick, in, &in->tin, err, errlen);
	if (!rc)
		rc = open_sock(in, 0, -1, in->addr.port, err, errlen);
	if (!rc && in->rtp)
		rc = open_sock(in, 1, FEC_COL, in->addr.port + FEC_PORT_COL, err, errlen);
	if (!rc && in->rtp)
		rc = open_sock(in, 2, FEC_ROW, in->addr.port + FEC_PORT_ROW, err, errlen);
	return rc;
}

static int start_common(const struct input_env *env, bool rtp, void **state, char *err,
			size_t errlen)
{
	*err = 0;
	struct tsinput *in = calloc(1, sizeof(*in));
	if (!in) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	in->loop = env->loop;
	in->hub = env->hub;
	in->ended = env->ended;
	in->arg = env->arg;
	in->rtp = rtp;
	in->proto = rtp ? "TSRTP" : "TSUDP";
	snprintf(in->stream, sizeof(in->stream), "%s", env->stream);
	uv_timer_init(in->loop, &in->timer);
	in->timer.data = in;
	in->open_handles = 1;
	in->last_stats_ms = uv_now(in->loop);
	int rc = open_input(in, env, err, errlen);
	if (rc) {
		if (!*err)
			snprintf(err, errlen, "%s",
				 rc == -ENOMEM ? "out of memory" : strerror(-rc));
		input_stop(in);
		*state = NULL;
		return rc;
	}
	uv_timer_start(&in->timer, tick, TICK_MS, TICK_MS);
	LOGF(LOG_INFO, in->stream, "%s input listening on %s%s:%d%s%s", in->proto,
	     in->addr.multicast ? "group " : "", *in->addr.host ? in->addr.host : "*",
	     in->addr.port, *in->addr.iface ? " via " : "", in->addr.iface);
	*state = in;
	return 0;
}

static int tsudp_input_start(const struct input_env *env, void **state, char *err, size_t errlen)
{
	return start_common(env, false, state, err, errlen);
}

static int tsrtp_input_start(const struct input_env *env, void **state, char *err, size_t errlen)
{
	return start_common(env, true, state, err, errlen);
}

static const char *const tsudp_patterns[] = {"tsudp://*", NULL};
static const char *const tsrtp_patterns[] = {"tsrtp://*", NULL};
static const char *const ts_codecs[] = {"H264", "HEVC", "AAC", "MP3", "opus", NULL};

const struct driver tsudp_input_driver = {
    .name = "TSUDP",
    .desc = "MPEG-TS over UDP, unicast or multicast (tsudp://[host]:port[/iface])",
    .kind = DRIVER_INPUT,
    .patterns = tsudp_patterns,
    .codecs = ts_codecs,
    .priority = 9,
    .input_start = tsudp_input_start,
    .input_stop = input_stop,
};

const struct driver tsrtp_input_driver = {
    .name = "TSRTP",
    .desc = "MPEG-TS over RTP with SMPTE 2022-1 FEC recovery (tsrtp://[host]:port[/iface])",
    .kind = DRIVER_INPUT,
    .patterns = tsrtp_patterns,
    .codecs = ts_codecs,
    .priority = 9,
    .input_start = tsrtp_input_start,
    .input_stop = input_stop,
};
