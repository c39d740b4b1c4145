/* srt-play viewers: SRT callers (libsrt, live mode, streamid request) that
 * read MPEG-TS. libsrt sockets cannot live on the libuv loop, so one
 * thread waits on libsrt's epoll, reads every ready socket and appends
 * records (viewer, receive time, bytes) to a queue under a mutex; the
 * loop swaps the queue out in a uv_async callback and feeds the viewers'
 * tsview, so every viewer's state, the send log and the histograms stay
 * loop-only. Receive times are taken in the thread, right after
 * srt_recvmsg, so the hand-over does not count as latency. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <syslog.h>
#include <srt/srt.h>

#include "bench.h"

#define EP_BATCH  64
#define MSG_MAX   1500
#define QUEUE_MAX (64u << 20) /* bytes the loop has not taken: beyond, dropped */
#define WAIT_MS   50

enum { R_DATA, R_CONNECTED, R_ENDED };

struct rec {
	uint32_t vidx;
	uint16_t type, len;
	uint64_t rx_ns;
};

struct srtc {
	struct bench *b;
	pthread_t thread;
	bool thread_on;
	atomic_bool stop;
	int eid;
	struct sockaddr_in sa;
	char streamid[512];
	uv_async_t async;
	pthread_mutex_t mu; /* guards q, dropped, map */
	uint8_t *q;
	size_t q_len, q_cap;
	uint64_t dropped;
	/* SRTSOCKET -> viewer index + 1 (open addressing, power of two) */
	int *map_sock;
	uint32_t *map_v;
	size_t map_cap;
	/* thread only: a batch of records before it is queued */
	uint8_t *stage;
	size_t stage_len, stage_cap;
};

/* ---- URL: srt://127.0.0.1:port?streamid=NAME ---- */

static int parse_url(struct srtc *c, const char *url)
{
	char host[64];
	int port = 0, n = 0;
	if (sscanf(url, "srt://%63[0-9.]:%d%n", host, &port, &n) != 2 || port <= 0 ||
	    port > 65535 || strncmp(host, "127.", 4))
		return -EINVAL;
	const char *sid = strstr(url + n, "streamid=");
	if (!sid)
		return -EINVAL;
	sid += 9;
	size_t len = strcspn(sid, "&");
	if (!len || len >= sizeof(c->streamid))
		return -EINVAL;
	memcpy(c->streamid, sid, len);
	c->streamid[len] = 0;
	c->sa.sin_family = AF_INET;
	c->sa.sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &c->sa.sin_addr) == 1 ? 0 : -EINVAL;
}

/* ---- socket map (mu held) ---- */

static size_t map_slot(const struct srtc *c, int sock)
{
	size_t i = (size_t)sock * 2654435761u & (c->map_cap - 1);
	while (c->map_sock[i] != -1 && c->map_sock[i] != sock)
		i = (i + 1) & (c->map_cap - 1);
	return i;
}

static void map_put(struct srtc *c, int sock, uint32_t vidx)
{
	size_t i = map_slot(c, sock);
	c->map_sock[i] = sock;
	c->map_v[i] = vidx + 1;
}

static uint32_t map_get(struct srtc *c, int sock)
{
	pthread_mutex_lock(&c->mu);
	size_t i = map_slot(c, sock);
	uint32_t v = c->map_sock[i] == sock ? c->map_v[i] : 0;
	pthread_mutex_unlock(&c->mu);
	return v;
}

/* ---- the thread ---- */

static uint8_t *stage_rec(struct srtc *c, uint32_t vidx, uint16_t type, size_t len, uint64_t rx_ns)
{
	size_t need = c->stage_len + sizeof(struct rec) + len;
	if (need > c->stage_cap) {
		size_t cap = c->stage_cap ? c->stage_cap * 2 : 256 * 1024;
		while (cap < need)
			cap *= 2;
		uint8_t *p = realloc(c->stage, cap);
		if (!p)
			return NULL;
		c->stage = p;
		c->stage_cap = cap;
	}
	struct rec r = {.vidx = vidx, .type = type, .len = (uint16_t)len, .rx_ns = rx_ns};
	memcpy(c->stage + c->stage_len, &r, sizeof(r));
	uint8_t *data = c->stage + c->stage_len + sizeof(r);
	c->stage_len = need;
	return data;
}

static void stage_flush(struct srtc *c)
{
	if (!c->stage_len)
		return;
	pthread_mutex_lock(&c->mu);
	if (c->q_len + c->stage_len > QUEUE_MAX) {
		c->dropped += c->stage_len;
	} else {
		if (c->q_len + c->stage_len > c->q_cap) {
			size_t cap = c->q_cap ? c->q_cap : 1u << 20;
			while (cap < c->q_len + c->stage_len)
				cap *= 2;
			uint8_t *p = realloc(c->q, cap);
			if (p) {
				c->q = p;
				c->q_cap = cap;
			}
		}
		if (c->q_len + c->stage_len <= c->q_cap) {
			memcpy(c->q + c->q_len, c->stage, c->stage_len);
			c->q_len += c->stage_len;
		}
	}
	pthread_mutex_unlock(&c->mu);
	c->stage_len = 0;
	uv_async_send(&c->async);
}

static void read_sock(struct srtc *c, SRTSOCKET s, uint32_t vidx)
{
	char buf[MSG_MAX];
	for (;;) {
		int n = srt_recvmsg(s, buf, sizeof(buf));
		if (n <= 0)
			return;
		uint8_t *d = stage_rec(c, vidx, R_DATA, (size_t)n, uv_hrtime());
		if (d)
			memcpy(d, buf, (size_t)n);
	}
}

static void on_event(struct srtc *c, SRTSOCKET s, int events)
{
	uint32_t v = map_get(c, s);
	if (!v)
		return;
	SRT_SOCKSTATUS st = srt_getsockstate(s);
	if ((events & SRT_EPOLL_OUT) && st == SRTS_CONNECTED) {
		int want = SRT_EPOLL_IN | SRT_EPOLL_ERR;
		srt_epoll_update_usock(c->eid, s, &want);
		stage_rec(c, v - 1, R_CONNECTED, 0, uv_hrtime());
	}
	if (events & SRT_EPOLL_IN)
		read_sock(c, s, v - 1);
	if ((events & SRT_EPOLL_ERR) || st >= SRTS_BROKEN) {
		srt_epoll_remove_usock(c->eid, s);
		uint8_t *d = stage_rec(c, v - 1, R_ENDED, 1, uv_hrtime());
		if (d)
			d[0] = (uint8_t)(st >= SRTS_BROKEN &&
					 srt_getrejectreason(s) == SRT_REJ_UNKNOWN);
	}
}

static void *thread_main(void *arg)
{
	struct srtc *c = arg;
	SRT_EPOLL_EVENT ev[EP_BATCH];
	while (!atomic_load(&c->stop)) {
		int n = srt_epoll_uwait(c->eid, ev, EP_BATCH, WAIT_MS);
		for (int i = 0; i < n && i < EP_BATCH; i++)
			on_event(c, ev[i].fd, ev[i].events);
		stage_flush(c);
	}
	return NULL;
}

/* ---- the loop side ---- */

static void on_record(struct srtc *c, const struct rec *r, const uint8_t *data)
{
	struct bench *b = c->b;
	if (r->vidx >= b->nstarted)
		return;
	struct viewer *v = &b->v[r->vidx];
	if (r->type == R_DATA) {
		bconn_total_rx += r->len;
		if (v->ts && !b->stopping)
			tsview_feed(v->ts, data, r->len, r->rx_ns);
	} else if (r->type == R_ENDED && v->end == VE_NONE) {
		/* SRT says "broken" for a peer that closed after connecting */
		viewer_flv_ended(v, v->vframes ? "closed by server" : "connect failed");
	}
}

static void on_async(uv_async_t *a)
{
	struct srtc *c = a->data;
	pthread_mutex_lock(&c->mu);
	uint8_t *q = c->q;
	size_t len = c->q_len;
	c->q = NULL;
	c->q_len = c->q_cap = 0;
	pthread_mutex_unlock(&c->mu);
	for (size_t pos = 0; pos + sizeof(struct rec) <= len;) {
		struct rec r;
		memcpy(&r, q + pos, sizeof(r));
		on_record(c, &r, q + pos + sizeof(r));
		pos += sizeof(r) + r.len;
	}
	free(q);
}

int srtc_init(struct bench *b)
{
	struct srtc *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	b->srt = c;
	c->b = b;
	if (parse_url(c, b->o.url) < 0) {
		fprintf(stderr, "weir-bench: --url must be srt://127.x.x.x:port?streamid=NAME\n");
		return -EINVAL;
	}
	for (c->map_cap = 64; c->map_cap < 2 * (size_t)b->o.viewers + 2;)
		c->map_cap *= 2;
	c->map_sock = malloc(c->map_cap * sizeof(*c->map_sock));
	c->map_v = calloc(c->map_cap, sizeof(*c->map_v));
	if (!c->map_sock || !c->map_v)
		return -ENOMEM;
	memset(c->map_sock, 0xff, c->map_cap * sizeof(*c->map_sock)); /* -1 */
	pthread_mutex_init(&c->mu, NULL);
	srt_startup();
	srt_setloglevel(LOG_CRIT);
	c->eid = srt_epoll_create();
	srt_epoll_set(c->eid, SRT_EPOLL_ENABLE_EMPTY);
	uv_async_init(b->loop, &c->async, on_async);
	c->async.data = c;
	if (pthread_create(&c->thread, NULL, thread_main, c))
		return -EAGAIN;
	c->thread_on = true;
	return 0;
}

static int set_opts(struct srtc *c, SRTSOCKET s)
{
	int no = 0, lat = c->b->o.srt_latency_ms;
	int rc = srt_setsockflag(s, SRTO_RCVSYN, &no, sizeof(no));
	rc = rc ?: srt_setsockflag(s, SRTO_SNDSYN, &no, sizeof(no));
	if (!rc && lat >= 0)
		rc = srt_setsockflag(s, SRTO_LATENCY, &lat, sizeof(lat));
	return rc ?: srt_setsockflag(s, SRTO_STREAMID, c->streamid, (int)strlen(c->streamid));
}

int srtc_start(struct bench *b, struct viewer *v)
{
	struct srtc *c = b->srt;
	v->b = b;
	v->srt_sock = -1;
	v->t_start_ns = uv_hrtime();
	v->ts = tsview_new(v);
	SRTSOCKET s = v->ts ? srt_create_socket() : SRT_INVALID_SOCK;
	if (s == SRT_INVALID_SOCK || set_opts(c, s) == SRT_ERROR) {
		if (s != SRT_INVALID_SOCK)
			srt_close(s);
		v->end = VE_FAILED;
		v->why = "could not start";
		v->closed = true;
		b->nclosed++;
		return -ENOMEM;
	}
	v->srt_sock = s;
	pthread_mutex_lock(&c->mu);
	map_put(c, s, (uint32_t)(v - b->v));
	pthread_mutex_unlock(&c->mu);
	int ev = SRT_EPOLL_IN | SRT_EPOLL_OUT | SRT_EPOLL_ERR;
	srt_epoll_add_usock(c->eid, s, &ev);
	if (srt_connect(s, (struct sockaddr *)&c->sa, sizeof(c->sa)) == SRT_ERROR)
		viewer_flv_ended(v, "connect failed");
	return 0;
}

static void closed_handle(uv_handle_t *h)
{
	struct srtc *c = h->data;
	free(c->q);
	free(c->stage);
	free(c->map_sock);
	free(c->map_v);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void srtc_stop(struct bench *b)
{
	struct srtc *c = b->srt;
	if (!c)
		return;
	b->srt = NULL;
	if (c->thread_on) {
		atomic_store(&c->stop, true);
		pthread_join(c->thread, NULL);
	}
	for (unsigned i = 0; i < b->nstarted; i++) {
		struct viewer *v = &b->v[i];
		if (v->srt_sock >= 0)
			srt_close(v->srt_sock);
		v->srt_sock = -1;
		tsview_free(v->ts);
		v->ts = NULL;
		if (!v->closed) {
			v->closed = true;
			b->nclosed++;
		}
	}
	if (c->dropped)
		fprintf(stderr, "weir-bench: the loop fell behind, %llu SRT bytes dropped\n",
			(unsigned long long)c->dropped);
	srt_epoll_release(c->eid);
	srt_cleanup();
	if (c->thread_on)
		uv_close((uv_handle_t *)&c->async, closed_handle);
	else
		free(c);
}
