/* Push targets tsudp://host:port and tsrtp://host:port: the stream as
 * MPEG-TS in UDP datagrams of 7 packets (tsrtp: each in an RTP packet,
 * PT 33, 90 kHz timestamps on the PCR clock), paced by media time
 * (pacer.h) and sent in sendmmsg batches from a 2 ms timer.
 *
 * Options (query): pkts=1..7 TS packets per datagram, smooth=ms pacing
 * window (default 1000), ttl=N multicast TTL (default 1), iface=name or
 * address for multicast; tsrtp also fec=L,D (or fec=prompeg&l=L&d=D):
 * SMPTE 2022-1 column FEC on port + 2 and row FEC on port + 4. Track
 * selectors (?video=&audio=) pick what is sent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/conn.h"
#include "core/log.h"
#include "core/url.h"
#include "format/fec.h"
#include "format/rtp_ts.h"
#include "format/ts.h"
#include "proto/registry.h"
#include "proto/tsudp/pacer.h"
#include "proto/tsudp/tsout.h"
#include "proto/tsudp/udpio.h"

#define TICK_MS         2
#define BATCH           64 /* media datagrams per sendmmsg */
#define MAX_MSGS        (BATCH * 3)
#define AHEAD_PAUSE_US  2000000
#define AHEAD_RESUME_US 1000000
#define STREAM_WAIT_MS  30000
#define DGRAM_MAX       (RTP_HDR_LEN + FEC_HDR_LEN + RTP_MAX_BYTES)
#define FEC_IDLE_MS     300

struct tspush {
	uv_loop_t *loop;
	struct hub *hub;
	char stream[128];
	char *query;
	const char *proto; /* "TSUDP" or "TSRTP" */
	bool rtp;
	driver_ended_fn ended;
	void *arg;
	struct udpio_addr addr;
	struct sockaddr_storage dst[3]; /* media, column FEC, row FEC */
	uv_udp_t udp;
	uv_timer_t timer;
	uv_getaddrinfo_t gai;
	unsigned open_handles;
	bool resolving, stopping, reported, timer_on, udp_open;
	bool draining; /* the stream ended: send what is queued, then report */
	struct tsout *out;
	struct pacer *pacer;
	struct pacer_opts popts;
	struct fec_enc *fec;
	unsigned fec_l, fec_d;
	uint16_t seq;
	uint32_t ssrc;
	uint64_t dropped;
	struct conn_info info;
	/* one batch */
	struct mmsghdr msgs[MAX_MSGS];
	struct iovec iov[MAX_MSGS][2];
	size_t bytes[MAX_MSGS];
	unsigned nmsg;
	uint8_t arena[MAX_MSGS][DGRAM_MAX];
};

static void report(struct tspush *p, int err, const char *why)
{
	if (p->reported || p->stopping)
		return;
	p->reported = true;
	if (err)
		LOGF(LOG_WARN, p->stream, "%s push to %s:%d ended: %s", p->proto, p->addr.host,
		     p->addr.port, why);
	else
		LOGF(LOG_INFO, p->stream, "%s push to %s:%d ended: %s", p->proto, p->addr.host,
		     p->addr.port, why);
	p->ended(p->arg, err, why);
}

/* Appends one datagram to the batch: hdr (copied to the arena) then data,
 * copied too when copy is set, else referenced (it must stay valid until
 * flush_batch: pacer datagrams do, until pacer_consume). */
static void batch_add(struct tspush *p, const struct sockaddr_storage *dst, const uint8_t *hdr,
		      size_t hlen, const uint8_t *data, size_t len, bool copy)
{
	if (p->nmsg == MAX_MSGS) {
		p->dropped++;
		return;
	}
	uint8_t *a = p->arena[p->nmsg];
	struct iovec *iov = p->iov[p->nmsg];
	size_t niov = 0;
	if (hlen)
		memcpy(a, hdr, hlen);
	if (copy && len)
		memcpy(a + hlen, data, len);
	if (copy || hlen)
		iov[niov++] = (struct iovec){.iov_base = a, .iov_len = hlen + (copy ? len : 0)};
	if (!copy && len)
		iov[niov++] = (struct iovec){.iov_base = (void *)data, .iov_len = len};
	struct mmsghdr *m = &p->msgs[p->nmsg];
	memset(m, 0, sizeof(*m));
	m->msg_hdr.msg_name = (void *)dst;
	m->msg_hdr.msg_namelen = p->addr.sslen;
	m->msg_hdr.msg_iov = iov;
	m->msg_hdr.msg_iovlen = niov;
	p->bytes[p->nmsg] = hlen + len;
	p->nmsg++;
}

static int fec_out(void *arg, enum fec_kind kind, const uint8_t *pkt, size_t len)
{
	struct tspush *p = arg;
	batch_add(p, &p->dst[kind == FEC_COL ? 1 : 2], pkt, len, NULL, 0, false);
	return 0;
}

/* Wraps a TS datagram in RTP (and feeds the FEC encoder). */
static void add_rtp(struct tspush *p, const uint8_t *d, size_t len, uint32_t ts90k)
{
	uint8_t hdr[RTP_HDR_LEN];
	rtp_write_header(hdr, RTP_TS_PT, p->seq++, ts90k, p->ssrc);
	unsigned at = p->nmsg;
	batch_add(p, &p->dst[0], hdr, sizeof(hdr), d, len, true); /* FEC needs it whole */
	if (p->fec && at < p->nmsg)
		fec_enc_feed(p->fec, p->arena[at], RTP_HDR_LEN + len, fec_out, p);
}

static void flush_batch(struct tspush *p)
{
	if (!p->nmsg)
		return;
	int rc = udpio_sendmmsg(&p->udp, p->msgs, p->nmsg);
	if (rc < 0) {
		LOGF(LOG_HIGH, p->stream, "%s push: send failed: %s", p->proto, strerror(-rc));
		rc = 0;
	}
	for (int i = 0; i < rc; i++)
		p->info.down_bytes += p->bytes[i];
	p->info.pkt_sent += (uint64_t)rc;
	p->dropped += p->nmsg - (unsigned)rc; /* a full socket buffer is loss, as on the wire */
	p->info.pkt_lost = p->dropped;
	p->nmsg = 0;
}

/* End of stream with FEC: null TS packets complete the last matrix and
 * the columns held back go out, so the last media packets are protected. */
static void finish_fec(struct tspush *p, uint32_t ts90k)
{
	uint8_t null_dg[RTP_TS_PKTS * TS_PACKET];
	for (unsigned i = 0; i < RTP_TS_PKTS; i++) {
		uint8_t *pkt = null_dg + i * TS_PACKET;
		memset(pkt, 0xff, TS_PACKET);
		pkt[0] = 0x47;
		pkt[1] = 0x1f;
		pkt[2] = 0xff;
		pkt[3] = 0x10;
	}
	for (unsigned n = fec_enc_fill(p->fec); n > 0; n--) {
		add_rtp(p, null_dg, sizeof(null_dg), ts90k);
		if (p->nmsg + 3 > MAX_MSGS)
			flush_batch(p);
	}
	fec_enc_flush(p->fec, fec_out, p);
	flush_batch(p);
}

/* The stream ended and everything queued went out. */
static void end_ok(struct tspush *p)
{
	if (p->fec && !p->reported) {
		int64_t now_us = (int64_t)(uv_hrtime() / 1000);
		finish_fec(p, (uint32_t)(pacer_clock_us(p->pacer, now_us) * 9 / 100));
	}
	report(p, 0, "stream ended");
}

/* Nothing was sent for FEC_IDLE_MS: complete the matrix now rather than
 * leave the last packets unprotected until the stream goes on. */
static void idle_fec(uv_timer_t *t)
{
	struct tspush *p = t->data;
	if (p->stopping || p->timer_on || pacer_queued(p->pacer) || !p->fec)
		return;
	if (!fec_enc_fill(p->fec) && !fec_enc_pending(p->fec))
		return;
	int64_t now_us = (int64_t)(uv_hrtime() / 1000);
	finish_fec(p, (uint32_t)(pacer_clock_us(p->pacer, now_us) * 9 / 100));
}

static void tick(uv_timer_t *t)
{
	struct tspush *p = t->data;
	int64_t now_us = (int64_t)(uv_hrtime() / 1000);
	uint8_t *dg[BATCH];
	size_t len[BATCH];
	unsigned n;
	while ((n = pacer_due(p->pacer, now_us, dg, len, BATCH)) > 0) {
		uint32_t ts90k = (uint32_t)(pacer_clock_us(p->pacer, now_us) * 9 / 100);
		for (unsigned i = 0; i < n; i++) {
			if (p->rtp)
				add_rtp(p, dg[i], len[i], ts90k);
			else
				batch_add(p, &p->dst[0], NULL, 0, dg[i], len[i], false);
		}
		flush_batch(p);
		pacer_consume(p->pacer, n);
	}
	if (p->out && pacer_ahead_us(p->pacer, now_us) < AHEAD_RESUME_US)
		tsout_resume(p->out); /* may end the push (and stop it) */
	if (p->stopping || pacer_queued(p->pacer))
		return;
	if (p->timer_on) {
		uv_timer_stop(&p->timer);
		p->timer_on = false;
		/* nothing to send: with FEC, protect the tail if it stays so */
		if (p->fec && !p->draining)
			uv_timer_start(&p->timer, idle_fec, FEC_IDLE_MS, 0);
	}
	if (p->draining)
		end_ok(p);
}

static int on_data(void *arg, const uint8_t *ts, size_t len, int64_t dts_us, int64_t arrival_us)
{
	struct tspush *p = arg;
	int64_t now_us = (int64_t)(uv_hrtime() / 1000);
	int rc = pacer_push(p->pacer, ts, len, dts_us, arrival_us, now_us);
	if (rc)
		return rc;
	if (!p->timer_on) {
		p->timer_on = true;
		uv_timer_start(&p->timer, tick, 0, TICK_MS);
	}
	return pacer_ahead_us(p->pacer, now_us) > AHEAD_PAUSE_US ? 1 : 0;
}

/* A stream that ended normally leaves with its queue sent. */
static void on_end(void *arg, int err, const char *why)
{
	struct tspush *p = arg;
	if (err)
		report(p, err, why);
	else if (!pacer_queued(p->pacer))
		end_ok(p);
	else
		p->draining = true;
}

static int start_output(struct tspush *p, char *err, size_t errlen)
{
	int rc = udpio_sender(p->loop, &p->udp, &p->addr, err, errlen);
	p->open_handles++;
	p->udp_open = true;
	if (rc)
		return rc;
	udpio_with_port(&p->addr, p->addr.port, &p->dst[0]);
	udpio_with_port(&p->addr, p->addr.port + FEC_PORT_COL, &p->dst[1]);
	udpio_with_port(&p->addr, p->addr.port + FEC_PORT_ROW, &p->dst[2]);
	snprintf(p->info.host, sizeof(p->info.host), "%.63s", p->addr.host);
	conn_register(&p->info);
	struct tsout_opts o = {.query = p->query, .wait_ms = STREAM_WAIT_MS, .log_name = p->proto};
	struct tsout_cb cb = {.arg = p, .data_at = on_data, .ended = on_end};
	rc = tsout_new(p->loop, p->hub, p->stream, &o, &cb, &p->out);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	LOGF(LOG_INFO, p->stream, "%s push to %s:%d%s", p->proto, p->addr.host, p->addr.port,
	     p->fec ? " with FEC" : "");
	return 0;
}

static void resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct tspush *p = req->data;
	p->resolving = false;
	p->open_handles--;
	if (p->stopping) {
		uv_freeaddrinfo(res);
		if (!p->open_handles)
			free(p);
		return;
	}
	if (status || !res) {
		uv_freeaddrinfo(res);
		report(p, -EHOSTUNREACH, "cannot resolve the target host");
		return;
	}
	udpio_set_resolved(&p->addr, res->ai_addr);
	uv_freeaddrinfo(res);
	char err[256];
	if (start_output(p, err, sizeof(err)) < 0)
		report(p, -EIO, err);
}

/* fec=L,D or fec=prompeg&l=L&d=D (ffmpeg's names). 0 when absent, 1 set,
 * -EINVAL. */
static int parse_fec(const char *query, unsigned *l, unsigned *d)
{
	char v[32], n[16];
	if (query_get(query, "fec", v, sizeof(v)) <= 0)
		return 0;
	if (!strcmp(v, "prompeg") || !strcmp(v, "1")) {
		*l = *d = 5;
		if (query_get(query, "l", n, sizeof(n)) > 0)
			*l = (unsigned)atoi(n);
		if (query_get(query, "d", n, sizeof(n)) > 0)
			*d = (unsigned)atoi(n);
	} else if (sscanf(v, "%u,%u", l, d) != 2) {
		return -EINVAL;
	}
	return fec_dims_valid(*l, *d) ? 1 : -EINVAL;
}

static int parse_opts(struct tspush *p, const char *query, char *err, size_t errlen)
{
	char v[32];
	if (query_get(query, "pkts", v, sizeof(v)) > 0) {
		int n = atoi(v);
		if (n < 1 || n > RTP_TS_PKTS) {
			snprintf(err, errlen, "pkts must be 1..7");
			return -EINVAL;
		}
		p->popts.pkts = (unsigned)n;
	}
	if (query_get(query, "smooth", v, sizeof(v)) > 0) {
		p->popts.smooth_ms = atoi(v);
		if (p->popts.smooth_ms < 10 || p->popts.smooth_ms > 10000) {
			snprintf(err, errlen, "smooth must be 10..10000 ms");
			return -EINVAL;
		}
	}
	p->popts.restamp_pcr = true;
	if (!p->rtp)
		return 0;
	int rc = parse_fec(query, &p->fec_l, &p->fec_d);
	if (rc < 0) {
		snprintf(err, errlen, "fec must be L,D with L, D in 1..20 and L*D <= 100");
		return rc;
	}
	if (rc > 0 && (p->addr.port + FEC_PORT_ROW > 65535)) {
		snprintf(err, errlen, "FEC needs ports %d..%d", p->addr.port,
			 p->addr.port + FEC_PORT_ROW);
		return -EINVAL;
	}
	uint16_t seeds[3];
	if (getrandom(seeds, sizeof(seeds), GRND_NONBLOCK) != sizeof(seeds))
		memset(seeds, 0x5a, sizeof(seeds));
	p->seq = seeds[0];
	p->ssrc = (uint32_t)seeds[1] << 16 | seeds[2];
	if (rc > 0 && !(p->fec = fec_enc_new(p->fec_l, p->fec_d, seeds[1], seeds[2]))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void handle_closed(uv_handle_t *h)
{
	struct tspush *p = h->data;
	if (--p->open_handles == 0)
		free(p);
}

static void push_stop(void *state)
{
	struct tspush *p = state;
	if (!p)
		return;
	p->stopping = true;
	tsout_free(p->out);
	p->out = NULL;
	conn_unregister(&p->info);
	if (p->dropped)
		LOGF(LOG_WARN, p->stream, "%s push to %s:%d: %llu datagrams dropped (socket full)",
		     p->proto, p->addr.host, p->addr.port, (unsigned long long)p->dropped);
	pacer_free(p->pacer);
	p->pacer = NULL;
	fec_enc_free(p->fec);
	p->fec = NULL;
	free(p->query);
	p->query = NULL;
	if (p->resolving)
		uv_cancel((uv_req_t *)&p->gai);
	uv_close((uv_handle_t *)&p->timer, handle_closed);
	if (p->udp_open)
		uv_close((uv_handle_t *)&p->udp, handle_closed);
}

static void kill_conn(struct conn_info *c)
{
	struct tspush *p = (struct tspush *)((char *)c - offsetof(struct tspush, info));
	report(p, -ECANCELED, "stopped");
}

static int push_start_common(const struct push_env *env, bool rtp, void **state, char *err,
			     size_t errlen)
{
	*err = 0;
	struct tspush *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->loop = env->loop;
	p->hub = env->hub;
	p->ended = env->ended;
	p->arg = env->arg;
	p->rtp = rtp;
	p->proto = rtp ? "TSRTP" : "TSUDP";
	p->info.protocol = p->proto;
	p->info.role = CONN_VIEWER;
	p->info.kill = kill_conn;
	snprintf(p->stream, sizeof(p->stream), "%s", env->stream);
	snprintf(p->info.stream, sizeof(p->info.stream), "%s", env->stream);
	uv_timer_init(p->loop, &p->timer);
	p->timer.data = p->udp.data = p->gai.data = p;
	p->open_handles = 1;
	const char *q = strchr(env->target, '?');
	int rc = udpio_parse(env->target, true, &p->addr, err, errlen);
	if (!rc)
		rc = parse_opts(p, q ? q + 1 : "", err, errlen);
	if (!rc && q && !(p->query = strdup(q + 1)))
		rc = -ENOMEM;
	if (!rc && !(p->pacer = pacer_new(&p->popts)))
		rc = -ENOMEM;
	if (!rc && p->addr.numeric) {
		rc = start_output(p, err, errlen);
	} else if (!rc) {
		struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
		rc = uv_getaddrinfo(p->loop, &p->gai, resolved, p->addr.host, NULL, &hints);
		if (!rc) {
			p->resolving = true;
			p->open_handles++;
		} else {
			snprintf(err, errlen, "cannot resolve %s: %s", p->addr.host,
				 uv_strerror(rc));
		}
	}
	if (rc == -ENOMEM && !*err)
		snprintf(err, errlen, "out of memory");
	if (rc) {
		push_stop(p);
		p = NULL;
	}
	*state = p;
	return rc;
}

static int tsudp_push_start(const struct push_env *env, void **state, char *err, size_t errlen)
{
	return push_start_common(env, false, state, err, errlen);
}

static int tsrtp_push_start(const struct push_env *env, void **state, char *err, size_t errlen)
{
	return push_start_common(env, true, state, err, errlen);
}

static const char *const tsudp_patterns[] = {"tsudp://*", NULL};
static const char *const tsrtp_patterns[] = {"tsrtp://*", NULL};
static const char *const ts_codecs[] = {"H264", "HEVC", "AAC", "MP3", "opus", NULL};

const struct driver tsudp_push_driver = {
    .name = "TSUDP",
    .desc = "MPEG-TS over UDP (unicast or multicast), paced by media time",
    .kind = DRIVER_OUTPUT,
    .patterns = tsudp_patterns,
    .codecs = ts_codecs,
    .push_start = tsudp_push_start,
    .push_stop = push_stop,
};

const struct driver tsrtp_push_driver = {
    .name = "TSRTP",
    .desc = "MPEG-TS over RTP with optional SMPTE 2022-1 (Pro-MPEG) FEC",
    .kind = DRIVER_OUTPUT,
    .patterns = tsrtp_patterns,
    .codecs = ts_codecs,
    .push_start = tsrtp_push_start,
    .push_stop = push_stop,
};
