/* The loop's side of the SRT I/O thread: starting and stopping it,
 * creating listeners and callers, the listen callback that asks the loop
 * for a decision, event delivery, and the per-socket accessors. */
#include "proto/srt/io-t.h"

#include <errno.h>
#include <arpa/inet.h>
#include <srt/logging_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

/* ---- start and stop ---- */

static void async_closed(uv_handle_t *h)
{
	free(h);
}

static int start_thread(void)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&io.cv, &ca);
	pthread_condattr_destroy(&ca);
	atomic_store(&io.stop, false);
	io.stopping = false;
	int rc = pthread_create(&io.thr, NULL, io_thread_main, NULL);
	if (rc) {
		pthread_cond_destroy(&io.cv);
		return -rc;
	}
	io.running = true;
	return 0;
}

int srtio_init(uv_loop_t *loop)
{
	if (io.running)
		return 0;
	if (io.shut)
		return -ESHUTDOWN;
	if (srt_startup() < 0)
		return -EIO;
	srt_setloglevel(WSRT_SYSLOG_ERR);
	srt_setlogflags(SRT_LOGF_DISABLE_TIME | SRT_LOGF_DISABLE_THREADNAME |
			SRT_LOGF_DISABLE_SEVERITY | SRT_LOGF_DISABLE_EOL);
	srt_setloghandler(NULL, io_log_handler);
	io.eid = srt_epoll_create();
	io.async = malloc(sizeof(*io.async));
	if (io.eid < 0 || !io.async)
		goto fail;
	srt_epoll_set(io.eid, SRT_EPOLL_ENABLE_EMPTY);
	if (uv_async_init(loop, io.async, io_async_cb) < 0)
		goto fail;
	uv_unref((uv_handle_t *)io.async); /* never keeps the loop alive by itself */
	io.loop = loop;
	if (start_thread() == 0)
		return 0;
	uv_close((uv_handle_t *)io.async, async_closed);
	io.async = NULL;
fail:
	free(io.async);
	io.async = NULL;
	if (io.eid >= 0)
		srt_epoll_release(io.eid);
	io.eid = -1;
	srt_cleanup();
	return -ENOMEM;
}

static void drop_pending_loop_work(void);

void srtio_shutdown(void)
{
	io.shut = true;
	if (!io.running)
		return;
	pthread_mutex_lock(&io.mu);
	io.stopping = true; /* from here on nobody calls uv_async_send */
	pthread_cond_broadcast(&io.cv);
	pthread_mutex_unlock(&io.mu);
	atomic_store(&io.stop, true);
	pthread_join(io.thr, NULL);
	io.running = false;
	drop_pending_loop_work();
	srt_epoll_release(io.eid);
	io.eid = -1;
	srt_setloghandler(NULL, NULL);
	srt_cleanup(); /* joins libsrt's threads: no listen callback runs after this */
	pthread_cond_destroy(&io.cv);
	uv_close((uv_handle_t *)io.async, async_closed);
	io.async = NULL;
}

/* ---- the loop's async handler ---- */

static void req_free(struct io_req *r)
{
	io_unref(r->listener);
	io_unref(r->ns);
	free(r);
}

static struct io_req *take_req(void)
{
	pthread_mutex_lock(&io.mu);
	struct io_req *r = io.reqs;
	if (r) {
		io.reqs = r->next;
		if (!io.reqs)
			io.reqs_tail = NULL;
		r->taken = true;
	}
	pthread_mutex_unlock(&io.mu);
	return r;
}

static void decide_one(struct io_req *r)
{
	pthread_mutex_lock(&io.mu);
	srtio_decide_fn decide = r->listener->want_close ? NULL : r->listener->decide;
	void *arg = r->listener->arg;
	pthread_mutex_unlock(&io.mu);
	int verdict = SRT_REJX_DOWN;
	if (decide)
		verdict = decide(arg, r->ns, r->streamid, (const struct sockaddr *)&r->peer);
	pthread_mutex_lock(&io.mu);
	if (verdict == 0 && !r->ns->fn)
		verdict = SRT_REJX_ISE;
	r->verdict = verdict;
	r->done = true;
	if (r->abandoned) { /* the callback gave up waiting: libsrt rejected it */
		if (verdict == 0) {
			r->ns->state = S_CLOSED;
			io_set_error(r->ns, "server too slow to accept the connection");
			io_notify(r->ns, SRTIO_EV_CLOSED);
		}
		req_free(r);
	} else {
		pthread_cond_broadcast(&io.cv);
	}
	pthread_mutex_unlock(&io.mu);
}

static void print_srt_logs(void)
{
	char lines[IO_LOG_LINES][240];
	pthread_mutex_lock(&io.logmu);
	unsigned n = io.nlog;
	memcpy(lines, io.logq, sizeof(lines[0]) * n);
	io.nlog = 0;
	pthread_mutex_unlock(&io.logmu);
	for (unsigned i = 0; i < n; i++)
		LOGF(LOG_MEDIUM, NULL, "libsrt: %s", lines[i]);
}

static struct srtio_sock *take_notified(unsigned *events, srtio_event_fn *fn, void **arg)
{
	pthread_mutex_lock(&io.mu);
	struct srtio_sock *s = io.notify_head;
	if (s) {
		io.notify_head = s->nnext;
		if (!io.notify_head)
			io.notify_tail = NULL;
		s->on_notify = false;
		*events = s->events;
		s->events = 0;
		*fn = s->fn;
		*arg = s->arg;
	}
	pthread_mutex_unlock(&io.mu);
	return s;
}

void io_async_cb(uv_async_t *a)
{
	struct io_req *r;
	while ((r = take_req()))
		decide_one(r);
	print_srt_logs();
	struct srtio_sock *s;
	unsigned ev;
	srtio_event_fn fn;
	void *arg;
	while ((s = take_notified(&ev, &fn, &arg))) {
		if (fn && ev)
			fn(s, ev, arg); /* may srtio_close(s): our list reference keeps it */
		pthread_mutex_lock(&io.mu);
		io_unref(s);
		pthread_mutex_unlock(&io.mu);
	}
}

/* After the thread stopped: requests and notifications nobody will see. */
static void drop_pending_loop_work(void)
{
	struct io_req *r;
	while ((r = take_req())) {
		pthread_mutex_lock(&io.mu);
		r->done = true;
		r->verdict = SRT_REJX_DOWN;
		if (r->abandoned)
			req_free(r);
		pthread_mutex_unlock(&io.mu);
	}
	struct srtio_sock *s;
	unsigned ev;
	srtio_event_fn fn;
	void *arg;
	while ((s = take_notified(&ev, &fn, &arg))) {
		pthread_mutex_lock(&io.mu);
		io_unref(s);
		pthread_mutex_unlock(&io.mu);
	}
	print_srt_logs();
}

/* ---- the listen callback (libsrt's receiver thread) ---- */

/* Waits for the loop's verdict on r (io.mu held). */
static int wait_verdict(struct io_req *r)
{
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += SRTIO_DECIDE_MS / 1000;
	dl.tv_nsec += (SRTIO_DECIDE_MS % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	while (!r->done && !io.stopping)
		if (pthread_cond_timedwait(&io.cv, &io.mu, &dl) == ETIMEDOUT)
			break;
	if (r->done)
		return r->verdict;
	return io.stopping ? SRT_REJX_DOWN : SRT_REJX_OVERLOAD;
}

/* Queues the request for the loop; false when shutting down. */
static bool post_req(struct srtio_sock *ls, struct srtio_sock *ns, struct io_req *r)
{
	if (io.stopping || ls->want_close)
		return false;
	ns->state = S_DECIDING;
	io_registry_add(ns);
	r->listener = ls;
	r->ns = ns;
	io_ref(ls);
	io_ref(ns);
	if (io.reqs_tail)
		io.reqs_tail->next = r;
	else
		io.reqs = r;
	io.reqs_tail = r;
	uv_async_send(io.async);
	return true;
}

static void set_secret(struct srtio_sock *ls, SRTSOCKET ns)
{
	if (ls->pass)
		srt_setsockflag(ns, SRTO_PASSPHRASE, ls->pass, (int)strlen(ls->pass));
	if (ls->pbkeylen)
		srt_setsockflag(ns, SRTO_PBKEYLEN, &ls->pbkeylen, sizeof(ls->pbkeylen));
}

static int listen_hook(void *opaque, SRTSOCKET fd, int hsversion, const struct sockaddr *peer,
		       const char *streamid)
{
	struct srtio_sock *ls = opaque;
	struct io_req *r = calloc(1, sizeof(*r));
	pthread_mutex_lock(&io.mu);
	io_ref(ls); /* for set_secret, whatever happens to the listener meanwhile */
	struct srtio_sock *ns = r ? io_sock_new(K_ACCEPTED, fd) : NULL;
	int verdict = SRT_REJX_ISE;
	if (ns) {
		memcpy(&ns->peer, peer, io_addr_len(peer));
		memcpy(&r->peer, peer, io_addr_len(peer));
		snprintf(r->streamid, sizeof(r->streamid), "%s", streamid ? streamid : "");
		verdict = post_req(ls, ns, r) ? wait_verdict(r) : SRT_REJX_DOWN;
	}
	if (verdict == 0 && ns->want_close) /* accepted, then closed by its owner */
		verdict = SRT_REJX_DOWN;
	if (verdict == 0) {
		ns->state = S_PENDING;
		ns->pending_since_ms = io_now_ms();
	} else if (ns && ns->in_registry) {
		ns->state = S_CLOSED;
		io_registry_del(ns);
	}
	if (ns && r->taken && !r->done)
		r->abandoned = true; /* the loop frees it */
	else if (ns && r->listener) {
		if (!r->taken) { /* still queued: unlink */
			struct io_req **p = &io.reqs;
			while (*p != r)
				p = &(*p)->next;
			*p = r->next;
			io.reqs_tail = NULL;
			for (struct io_req *q = io.reqs; q; q = q->next)
				io.reqs_tail = q;
		}
		req_free(r);
	} else {
		free(r);
	}
	if (ns)
		io_unref(ns); /* creation reference; the registry keeps its own */
	pthread_mutex_unlock(&io.mu);
	if (verdict == 0)
		set_secret(ls, fd);
	else
		srt_setrejectreason(fd, verdict);
	pthread_mutex_lock(&io.mu);
	io_unref(ls);
	pthread_mutex_unlock(&io.mu);
	return verdict == 0 ? 0 : -1;
}

/* ---- creating sockets (loop) ---- */

static int new_socket(const struct wsrt_opts *opts, SRTSOCKET *out, char *err, size_t errlen)
{
	SRTSOCKET s = srt_create_socket();
	if (s == SRT_INVALID_SOCK) {
		snprintf(err, errlen, "cannot create an SRT socket: %s", srt_getlasterror_str());
		return -ENOMEM;
	}
	bool no = false;
	srt_setsockflag(s, SRTO_RCVSYN, &no, sizeof(no));
	srt_setsockflag(s, SRTO_SNDSYN, &no, sizeof(no));
	int rc = wsrt_opts_apply(opts, s, err, errlen);
	if (rc < 0) {
		srt_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* Registers a new socket with the thread; the owner's reference is the
 * creation one. */
static struct srtio_sock *register_sock(enum io_kind kind, SRTSOCKET fd, const struct sockaddr *sa)
{
	pthread_mutex_lock(&io.mu);
	struct srtio_sock *s = io_sock_new(kind, fd);
	if (s) {
		memcpy(&s->peer, sa, io_addr_len(sa));
		s->state = kind == K_LISTENER ? S_OPEN : S_NEW;
		s->owned = true; /* the creation reference is the owner's */
	}
	pthread_mutex_unlock(&io.mu);
	return s;
}

static void activate(struct srtio_sock *s)
{
	pthread_mutex_lock(&io.mu);
	io_registry_add(s);
	io_cmd(s);
	pthread_mutex_unlock(&io.mu);
}

/* Listener options: everything but the secret, which goes on each
 * accepted socket once the loop said yes (a refusal then reaches the
 * caller as our reject code instead of a passphrase error). */
static int listener_opts(const struct wsrt_opts *opts, struct wsrt_opts *lo, char **pass,
			 int *pbkeylen)
{
	if (wsrt_opts_copy(lo, opts) < 0)
		return -ENOMEM;
	const struct wsrt_optval *p = wsrt_opts_get(lo, SRTO_PASSPHRASE);
	const struct wsrt_optval *k = wsrt_opts_get(lo, SRTO_PBKEYLEN);
	*pass = p && p->str[0] ? strdup(p->str) : NULL;
	*pbkeylen = k ? (int)k->num : 0;
	if (p && p->str[0] && !*pass) {
		wsrt_opts_free(lo);
		return -ENOMEM;
	}
	wsrt_opts_del(lo, SRTO_PASSPHRASE);
	wsrt_opts_del(lo, SRTO_PBKEYLEN);
	return 0;
}

static int bind_listen(SRTSOCKET fd, const struct sockaddr *addr, struct srtio_sock *s, int backlog,
		       char *err, size_t errlen)
{
	if (srt_bind(fd, addr, (int)io_addr_len(addr)) == SRT_ERROR) {
		snprintf(err, errlen, "cannot bind the SRT port: %s", srt_getlasterror_str());
		return -EADDRINUSE;
	}
	if (srt_listen_callback(fd, listen_hook, s) == SRT_ERROR ||
	    srt_listen(fd, backlog) == SRT_ERROR) {
		snprintf(err, errlen, "cannot listen: %s", srt_getlasterror_str());
		return -EIO;
	}
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	if (srt_getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		s->local_port =
		    ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						   : ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

int srtio_listen(const struct sockaddr *addr, const struct wsrt_opts *opts, int backlog,
		 srtio_decide_fn decide, void *arg, struct srtio_sock **out, char *err,
		 size_t errlen)
{
	if (!io.running) {
		snprintf(err, errlen, "SRT I/O thread not running");
		return -ENOTCONN;
	}
	struct wsrt_opts lo;
	char *pass = NULL;
	int pbkeylen = 0;
	SRTSOCKET fd = SRT_INVALID_SOCK;
	struct srtio_sock *s = NULL;
	int rc = listener_opts(opts, &lo, &pass, &pbkeylen);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	if ((rc = new_socket(&lo, &fd, err, errlen)) < 0)
		goto fail;
	if (addr->sa_family == AF_INET6 && !wsrt_opts_get(&lo, SRTO_IPV6ONLY)) {
		int v6only = 0; /* "::" takes IPv4 too */
		srt_setsockflag(fd, SRTO_IPV6ONLY, &v6only, sizeof(v6only));
	}
	rc = -ENOMEM;
	if (!(s = register_sock(K_LISTENER, fd, addr)))
		goto fail;
	s->decide = decide;
	s->arg = arg;
	s->pass = pass;
	s->pbkeylen = pbkeylen;
	pass = NULL;
	if ((rc = bind_listen(fd, addr, s, backlog, err, errlen)) < 0)
		goto fail;
	wsrt_opts_free(&lo);
	activate(s);
	*out = s;
	return 0;
fail:
	if (fd != SRT_INVALID_SOCK)
		srt_close(fd); /* no callback can be running: never listened or now closed */
	if (s) {
		pthread_mutex_lock(&io.mu);
		io_unref(s);
		pthread_mutex_unlock(&io.mu);
	}
	free(pass);
	wsrt_opts_free(&lo);
	return rc;
}

int srtio_connect(const struct sockaddr *addr, const struct wsrt_opts *opts, srtio_event_fn fn,
		  void *arg, struct srtio_sock **out, char *err, size_t errlen)
{
	if (!io.running) {
		snprintf(err, errlen, "SRT I/O thread not running");
		return -ENOTCONN;
	}
	SRTSOCKET fd;
	int rc = new_socket(opts, &fd, err, errlen);
	if (rc < 0)
		return rc;
	struct srtio_sock *s = register_sock(K_CALLER, fd, addr);
	if (!s) {
		srt_close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->fn = fn;
	s->arg = arg;
	activate(s);
	*out = s;
	return 0;
}

/* ---- accessors (loop) ---- */

void srtio_set_handler(struct srtio_sock *s, srtio_event_fn fn, void *arg)
{
	pthread_mutex_lock(&io.mu);
	if (!s->owned)
		io_ref(s); /* the owner's reference */
	s->owned = true;
	s->fn = fn;
	s->arg = arg;
	pthread_mutex_unlock(&io.mu);
}

void srtio_close(struct srtio_sock *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&io.mu);
	s->fn = NULL;
	s->decide = NULL;
	s->want_close = true;
	if (io.running && s->state != S_CLOSED)
		io_cmd(s);
	if (s->owned) {
		s->owned = false;
		io_unref(s);
	}
	pthread_mutex_unlock(&io.mu);
}

int srtio_send(struct srtio_sock *s, const void *p, size_t len)
{
	pthread_mutex_lock(&io.mu);
	int rc = -EPIPE;
	if (s->state != S_CLOSED && !s->want_close && io.running) {
		rc = bytes_append(&s->out, p, len);
		if (!rc && s->state == S_OPEN)
			io_cmd(s);
	}
	pthread_mutex_unlock(&io.mu);
	return rc;
}

size_t srtio_queued(struct srtio_sock *s)
{
	pthread_mutex_lock(&io.mu);
	size_t n = s->out.len + s->tx_pending;
	pthread_mutex_unlock(&io.mu);
	return n;
}

void srtio_want_drain(struct srtio_sock *s, size_t below)
{
	pthread_mutex_lock(&io.mu);
	s->drain_below = below;
	s->drain_armed = true;
	if (s->out.len + s->tx_pending <= below && s->fn) {
		s->drain_armed = false;
		io_notify(s, SRTIO_EV_DRAINED);
		if (!io.stopping)
			uv_async_send(io.async);
	}
	pthread_mutex_unlock(&io.mu);
}

size_t srtio_read(struct srtio_sock *s, struct bytes *buf, uint64_t *dropped)
{
	pthread_mutex_lock(&io.mu);
	size_t n = s->in.len;
	if (n && !buf->len) {
		struct bytes t = *buf;
		*buf = s->in;
		s->in = t;
		bytes_reset(&s->in);
	} else if (n && bytes_append(buf, s->in.data, n) == 0) {
		bytes_reset(&s->in);
	} else {
		n = 0;
	}
	if (dropped)
		*dropped = s->in_dropped;
	pthread_mutex_unlock(&io.mu);
	return n;
}

void srtio_get_stats(struct srtio_sock *s, struct srtio_stats *out)
{
	pthread_mutex_lock(&io.mu);
	*out = s->stats;
	pthread_mutex_unlock(&io.mu);
}

const char *srtio_error(struct srtio_sock *s)
{
	return s->err; /* written before the CLOSED event the loop saw */
}

const struct sockaddr *srtio_peer(struct srtio_sock *s)
{
	return (const struct sockaddr *)&s->peer;
}

int srtio_local_port(struct srtio_sock *s)
{
	return s->local_port;
}
