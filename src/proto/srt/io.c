/* The SRT I/O thread: socket registry, the epoll loop, receiving,
 * sending, connecting callers, accepting, statistics.
 *
 * Locking: io.mu guards every field marked so in io-t.h. No libsrt call
 * is ever made with io.mu held (libsrt's own threads run the listen
 * callback, which takes io.mu), and the loop never waits for this
 * thread, so neither side can block the other for long. */
#include "proto/srt/io-t.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

#define EP_BATCH      64
#define EP_WAIT_MS    10 /* also the longest a queued send waits */
#define RX_FLUSH      (256 * 1024)
#define SCAN_EVERY_MS 100

struct io_ctx io = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .logmu = PTHREAD_MUTEX_INITIALIZER,
    .eid = -1,
};

int64_t io_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

socklen_t io_addr_len(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* ---- registry and references (io.mu held) ---- */

static unsigned bucket(SRTSOCKET s)
{
	return (unsigned)s % IO_BUCKETS;
}

struct srtio_sock *io_sock_new(enum io_kind kind, SRTSOCKET s)
{
	struct srtio_sock *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->kind = kind;
	k->s = s;
	k->refs = 1;
	k->chunk = 1316;
	return k;
}

void io_ref(struct srtio_sock *s)
{
	s->refs++;
}

void io_unref(struct srtio_sock *s)
{
	if (--s->refs)
		return;
	bytes_free(&s->in);
	bytes_free(&s->out);
	bytes_free(&s->tx);
	free(s->pass);
	free(s);
}

void io_registry_add(struct srtio_sock *s)
{
	unsigned b = bucket(s->s);
	s->hnext = io.buckets[b];
	io.buckets[b] = s;
	s->in_registry = true;
	io.nsocks++;
	io_ref(s);
}

void io_registry_del(struct srtio_sock *s)
{
	if (!s->in_registry)
		return;
	for (struct srtio_sock **p = &io.buckets[bucket(s->s)]; *p; p = &(*p)->hnext) {
		if (*p == s) {
			*p = s->hnext;
			break;
		}
	}
	s->in_registry = false;
	io.nsocks--;
	io_unref(s);
}

struct srtio_sock *io_registry_find(SRTSOCKET s)
{
	for (struct srtio_sock *k = io.buckets[bucket(s)]; k; k = k->hnext)
		if (k->s == s)
			return k;
	return NULL;
}

void io_cmd(struct srtio_sock *s)
{
	if (s->on_cmd)
		return;
	s->on_cmd = true;
	s->cnext = NULL;
	io_ref(s);
	if (io.cmd_tail)
		io.cmd_tail->cnext = s;
	else
		io.cmd_head = s;
	io.cmd_tail = s;
}

void io_notify(struct srtio_sock *s, unsigned events)
{
	s->events |= events;
	io.wake = true;
	if (s->on_notify)
		return;
	s->on_notify = true;
	s->nnext = NULL;
	io_ref(s);
	if (io.notify_tail)
		io.notify_tail->nnext = s;
	else
		io.notify_head = s;
	io.notify_tail = s;
}

void io_set_error(struct srtio_sock *s, const char *why)
{
	if (!s->err[0] && why)
		snprintf(s->err, sizeof(s->err), "%s", why);
}

/* ---- libsrt log lines ---- */

void io_log_handler(void *opaque, int level, const char *file, int line, const char *area,
		    const char *message)
{
	pthread_mutex_lock(&io.logmu);
	if (io.nlog < IO_LOG_LINES)
		snprintf(io.logq[io.nlog++], sizeof(io.logq[0]), "%s: %s", area ? area : "srt",
			 message ? message : "");
	pthread_mutex_unlock(&io.logmu);
}

/* ---- epoll interest (thread only) ---- */

static void ep_set(struct srtio_sock *s, int events)
{
	if (s->ep_events == events || s->s == SRT_INVALID_SOCK)
		return;
	if (!s->ep_events)
		srt_epoll_add_usock(io.eid, s->s, &events);
	else if (!events)
		srt_epoll_remove_usock(io.eid, s->s);
	else
		srt_epoll_update_usock(io.eid, s->s, &events);
	s->ep_events = events;
}

/* Closes s on the thread: no more libsrt use. Tells the owner unless it
 * already gave the socket up. */
static void close_sock(struct srtio_sock *s, const char *why)
{
	pthread_mutex_lock(&io.mu);
	SRTSOCKET fd = s->s;
	/* An accepted socket before srt_accept returned it is libsrt's: it
	 * is still being set up in libsrt's receiver thread, and a rejected or
	 * failed one is deleted by libsrt. If it completes after all,
	 * accept_one finds it unregistered and closes it then. */
	bool libsrts = s->kind == K_ACCEPTED && (s->state == S_DECIDING || s->state == S_PENDING);
	pthread_mutex_unlock(&io.mu);
	if (fd != SRT_INVALID_SOCK && !libsrts) {
		ep_set(s, 0);
		srt_close(fd);
	}
	pthread_mutex_lock(&io.mu);
	io_registry_del(s);
	s->s = SRT_INVALID_SOCK;
	if (s->state != S_CLOSED) {
		s->state = S_CLOSED;
		io_set_error(s, why ? why : "closed");
		if (s->fn)
			io_notify(s, SRTIO_EV_CLOSED);
	}
	pthread_mutex_unlock(&io.mu);
}

/* The connection broke: the reason from libsrt's last error. */
static void close_with_last_error(struct srtio_sock *s, const char *what)
{
	char why[200];
	int code = srt_getlasterror(NULL);
	if (code == SRT_ECONNLOST || code == SRT_ENOCONN || code == SRT_EINVSOCK)
		snprintf(why, sizeof(why), "%s", what);
	else
		snprintf(why, sizeof(why), "%s: %s", what, srt_getlasterror_str());
	close_sock(s, why);
}

/* ---- receiving ---- */

static void rx_hand_over(struct srtio_sock *s)
{
	if (!io.rx.len)
		return;
	pthread_mutex_lock(&io.mu);
	if (s->in.len + io.rx.len > SRTIO_IN_MAX)
		s->in_dropped += io.rx.len;
	else if (!s->in.len && s->in.cap < io.rx.len) {
		struct bytes t = s->in; /* swap: no copy */
		s->in = io.rx;
		io.rx = t;
	} else if (bytes_append(&s->in, io.rx.data, io.rx.len) < 0)
		s->in_dropped += io.rx.len;
	if (s->fn)
		io_notify(s, SRTIO_EV_DATA);
	pthread_mutex_unlock(&io.mu);
	bytes_reset(&io.rx);
}

static void recv_all(struct srtio_sock *s)
{
	for (;;) {
		if (bytes_reserve(&io.rx, 1500) < 0)
			break;
		int n = srt_recvmsg(s->s, (char *)io.rx.data + io.rx.len, 1500);
		if (n == SRT_ERROR) {
			int code = srt_getlasterror(NULL);
			rx_hand_over(s);
			if (code != SRT_EASYNCRCV)
				close_with_last_error(s, "connection closed by the peer");
			return;
		}
		io.rx.len += (size_t)n;
		if (io.rx.len >= RX_FLUSH)
			rx_hand_over(s);
	}
	rx_hand_over(s);
}

/* ---- sending ---- */

/* Takes the loop's queued bytes into tx. */
static void tx_take(struct srtio_sock *s)
{
	pthread_mutex_lock(&io.mu);
	if (s->out.len) {
		if (s->tx_off == s->tx.len) {
			struct bytes t = s->tx;
			bytes_reset(&t);
			s->tx = s->out;
			s->out = t;
			s->tx_off = 0;
		} else if (bytes_append(&s->tx, s->out.data, s->out.len) == 0) {
			bytes_reset(&s->out);
		}
	}
	pthread_mutex_unlock(&io.mu);
}

/* After sending: what is left, and the drained event. */
static void tx_account(struct srtio_sock *s)
{
	if (s->tx_off == s->tx.len) {
		bytes_reset(&s->tx);
		s->tx_off = 0;
	} else if (s->tx_off > (1u << 20)) {
		bytes_consume(&s->tx, s->tx_off);
		s->tx_off = 0;
	}
	pthread_mutex_lock(&io.mu);
	s->tx_pending = s->tx.len - s->tx_off;
	if (s->drain_armed && s->tx_pending + s->out.len <= s->drain_below && s->fn) {
		s->drain_armed = false;
		io_notify(s, SRTIO_EV_DRAINED);
	}
	pthread_mutex_unlock(&io.mu);
}

static void flush_tx(struct srtio_sock *s)
{
	tx_take(s);
	bool blocked = false;
	while (s->tx_off < s->tx.len) {
		size_t n = s->tx.len - s->tx_off;
		if (n > (size_t)s->chunk)
			n = (size_t)s->chunk;
		int r = srt_sendmsg2(s->s, (const char *)s->tx.data + s->tx_off, (int)n, NULL);
		if (r == SRT_ERROR) {
			if (srt_getlasterror(NULL) == SRT_EASYNCSND) {
				blocked = true;
				break;
			}
			close_with_last_error(s, "send failed");
			return;
		}
		s->tx_off += n;
	}
	ep_set(s, SRT_EPOLL_IN | SRT_EPOLL_ERR | (blocked ? SRT_EPOLL_OUT : 0));
	tx_account(s);
}

/* ---- connecting and accepting ---- */

/* Whole TS packets per message, within the socket's payload size. */
static int chunk_size(SRTSOCKET fd)
{
	int payload = 0, len = sizeof(payload);
	if (srt_getsockflag(fd, SRTO_PAYLOADSIZE, &payload, &len) == SRT_ERROR || payload <= 0)
		payload = 1316;
	int c = payload / 188 * 188;
	return c >= 188 ? c : payload;
}

static void start_connect(struct srtio_sock *s)
{
	pthread_mutex_lock(&io.mu);
	s->state = S_CONNECTING;
	pthread_mutex_unlock(&io.mu);
	ep_set(s, SRT_EPOLL_OUT | SRT_EPOLL_ERR);
	const struct sockaddr *sa = (const struct sockaddr *)&s->peer;
	if (srt_connect(s->s, sa, (int)io_addr_len(sa)) == SRT_ERROR)
		close_with_last_error(s, "cannot connect");
}

static void connect_done(struct srtio_sock *s, int events)
{
	if (events & SRT_EPOLL_ERR || srt_getsockstate(s->s) != SRTS_CONNECTED) {
		int code = srt_getrejectreason(s->s);
		char why[200];
		if (code == SRT_REJ_TIMEOUT)
			snprintf(why, sizeof(why), "connection timed out");
		else
			snprintf(why, sizeof(why), "connection rejected: %s (%d)",
				 wsrt_reject_str(code), code);
		close_sock(s, why);
		return;
	}
	s->chunk = chunk_size(s->s);
	pthread_mutex_lock(&io.mu);
	s->state = S_OPEN;
	if (s->fn)
		io_notify(s, SRTIO_EV_CONNECTED);
	pthread_mutex_unlock(&io.mu);
	flush_tx(s); /* also moves the epoll interest to IN|ERR */
}

/* One connection per readiness report: the epoll is level-triggered, so
 * more pending ones are reported again (and libsrt logs an error for an
 * accept with nothing pending). */
static void accept_one(struct srtio_sock *ls)
{
	struct sockaddr_storage sa;
	int len = sizeof(sa);
	SRTSOCKET ns = srt_accept(ls->s, (struct sockaddr *)&sa, &len);
	if (ns == SRT_INVALID_SOCK)
		return;
	pthread_mutex_lock(&io.mu);
	struct srtio_sock *s = io_registry_find(ns);
	bool ok = s && s->state == S_PENDING && !s->want_close;
	if (ok) {
		s->state = S_OPEN;
		io_ref(s);
		if (s->fn)
			io_notify(s, SRTIO_EV_CONNECTED);
	}
	pthread_mutex_unlock(&io.mu);
	if (!ok) {
		srt_close(ns);
		return;
	}
	s->chunk = chunk_size(ns);
	flush_tx(s);
	pthread_mutex_lock(&io.mu);
	io_unref(s);
	pthread_mutex_unlock(&io.mu);
}

/* ---- the loop of the thread ---- */

static void on_event(SRTSOCKET fd, int events)
{
	pthread_mutex_lock(&io.mu);
	struct srtio_sock *s = io_registry_find(fd);
	enum io_state st = s ? s->state : S_CLOSED;
	if (s)
		io_ref(s);
	pthread_mutex_unlock(&io.mu);
	if (!s) {
		srt_epoll_remove_usock(io.eid, fd);
		return;
	}
	if (s->kind == K_LISTENER) {
		if (events & SRT_EPOLL_IN)
			accept_one(s);
	} else if (st == S_CONNECTING) {
		connect_done(s, events);
	} else if (st == S_OPEN) {
		if (events & (SRT_EPOLL_IN | SRT_EPOLL_ERR))
			recv_all(s);
		if ((events & SRT_EPOLL_OUT) && s->s != SRT_INVALID_SOCK)
			flush_tx(s);
	}
	pthread_mutex_lock(&io.mu);
	io_unref(s);
	pthread_mutex_unlock(&io.mu);
}

static void run_commands(void)
{
	pthread_mutex_lock(&io.mu);
	struct srtio_sock *s = io.cmd_head;
	io.cmd_head = io.cmd_tail = NULL;
	pthread_mutex_unlock(&io.mu);
	while (s) {
		pthread_mutex_lock(&io.mu);
		struct srtio_sock *next = s->cnext;
		s->on_cmd = false;
		bool closing = s->want_close;
		enum io_state st = s->state;
		pthread_mutex_unlock(&io.mu);
		if (closing)
			close_sock(s, NULL);
		else if (s->kind == K_CALLER && st == S_NEW)
			start_connect(s);
		else if (s->kind == K_LISTENER)
			ep_set(s, SRT_EPOLL_IN | SRT_EPOLL_ERR);
		else if (st == S_OPEN)
			flush_tx(s);
		pthread_mutex_lock(&io.mu);
		io_unref(s);
		pthread_mutex_unlock(&io.mu);
		s = next;
	}
}

/* Snapshot of registered sockets matching want (referenced); *n set. */
static struct srtio_sock **collect(bool (*want)(const struct srtio_sock *s), unsigned *n)
{
	pthread_mutex_lock(&io.mu);
	struct srtio_sock **v = calloc(io.nsocks ? io.nsocks : 1, sizeof(*v));
	*n = 0;
	for (unsigned b = 0; v && b < IO_BUCKETS; b++)
		for (struct srtio_sock *s = io.buckets[b]; s; s = s->hnext)
			if (want(s)) {
				io_ref(s);
				v[(*n)++] = s;
			}
	pthread_mutex_unlock(&io.mu);
	return v;
}

static void release(struct srtio_sock **v, unsigned n)
{
	pthread_mutex_lock(&io.mu);
	for (unsigned i = 0; i < n; i++)
		io_unref(v[i]);
	pthread_mutex_unlock(&io.mu);
	free(v);
}

static bool is_pending(const struct srtio_sock *s)
{
	return s->state == S_PENDING;
}

static bool is_conn(const struct srtio_sock *s)
{
	return s->state == S_OPEN && s->kind != K_LISTENER;
}

/* Accepted by the loop but the handshake never finished (a wrong
 * passphrase fails after the listen callback): give up on them. */
static void scan_pending(int64_t now)
{
	unsigned n;
	struct srtio_sock **v = collect(is_pending, &n);
	for (unsigned i = 0; v && i < n; i++) {
		SRT_SOCKSTATUS st = srt_getsockstate(v[i]->s);
		pthread_mutex_lock(&io.mu);
		bool late = now - v[i]->pending_since_ms > SRTIO_HANDSHAKE_MS;
		bool gone = st >= SRTS_BROKEN;
		bool stuck = v[i]->state == S_PENDING && (late || gone);
		pthread_mutex_unlock(&io.mu);
		if (stuck)
			close_sock(v[i], "SRT handshake failed (wrong or missing passphrase?)");
	}
	release(v, n);
}

static void update_stats(void)
{
	unsigned n;
	struct srtio_sock **v = collect(is_conn, &n);
	for (unsigned i = 0; v && i < n; i++) {
		SRT_TRACEBSTATS p;
		if (srt_bstats(v[i]->s, &p, 0) == SRT_ERROR)
			continue;
		struct srtio_stats st = {
		    .pkt_sent = (uint64_t)p.pktSentTotal,
		    .pkt_lost = (uint64_t)p.pktRcvLossTotal + (uint64_t)p.pktSndLossTotal,
		    .pkt_retrans = (uint64_t)p.pktRetransTotal,
		    .pkt_dropped = (uint64_t)p.pktSndDropTotal + (uint64_t)p.pktRcvDropTotal,
		    .bytes_sent = p.byteSentTotal,
		    .bytes_recv = p.byteRecvTotal,
		    .rtt_ms = p.msRTT,
		};
		pthread_mutex_lock(&io.mu);
		v[i]->stats = st;
		pthread_mutex_unlock(&io.mu);
	}
	release(v, n);
}

static bool is_any(const struct srtio_sock *s)
{
	return true;
}

static void close_all(void)
{
	unsigned n;
	struct srtio_sock **v = collect(is_any, &n);
	for (unsigned i = 0; v && i < n; i++)
		close_sock(v[i], "server shutting down");
	release(v, n);
}

/* Wakes the loop when something is waiting for it. */
static void wake_loop(void)
{
	pthread_mutex_lock(&io.logmu);
	bool logs = io.nlog > 0;
	pthread_mutex_unlock(&io.logmu);
	pthread_mutex_lock(&io.mu);
	if ((io.wake || logs) && !io.stopping)
		uv_async_send(io.async);
	io.wake = false;
	pthread_mutex_unlock(&io.mu);
}

void *io_thread_main(void *unused)
{
	SRT_EPOLL_EVENT ev[EP_BATCH];
	int64_t last_scan = 0, last_stats = 0;
	while (!atomic_load(&io.stop)) {
		int n = srt_epoll_uwait(io.eid, ev, EP_BATCH, EP_WAIT_MS);
		if (n < 0) {
			struct timespec ts = {0, EP_WAIT_MS * 1000000L};
			nanosleep(&ts, NULL);
		}
		for (int i = 0; i < n && i < EP_BATCH; i++)
			on_event(ev[i].fd, ev[i].events);
		run_commands();
		int64_t now = io_now_ms();
		if (now - last_scan >= SCAN_EVERY_MS) {
			scan_pending(now);
			last_scan = now;
		}
		if (now - last_stats >= 1000) {
			update_stats();
			last_stats = now;
		}
		wake_loop();
	}
	run_commands();
	close_all();
	bytes_free(&io.rx);
	return NULL;
}
