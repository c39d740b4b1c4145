/* Private state of the SRT I/O thread (io.c: the thread and the data
 * path; io_conn.c: listeners, callers, the listen callback and the
 * loop's side). Not for other modules. */
#ifndef WEIR_PROTO_SRT_IO_T_H
#define WEIR_PROTO_SRT_IO_T_H

#include <pthread.h>
#include "proto/srt/srtlib.h"
#include <stdatomic.h>
#include <stdbool.h>

#include "proto/srt/srtio.h"

#define IO_BUCKETS   256
#define IO_LOG_LINES 32

enum io_kind { K_LISTENER, K_CALLER, K_ACCEPTED };

enum io_state {
	S_NEW,        /* caller created, connect not started */
	S_CONNECTING, /* caller: srt_connect in progress */
	S_DECIDING,   /* accepted: the loop is deciding */
	S_PENDING,    /* accepted: decided yes, handshake finishing */
	S_OPEN,       /* connected / listening */
	S_CLOSED,
};

struct srtio_sock {
	enum io_kind kind;
	/* ---- under io.mu ---- */
	SRTSOCKET s; /* SRT_INVALID_SOCK once closed */
	unsigned refs;
	enum io_state state;
	unsigned events; /* pending for the loop */
	bool on_notify, on_cmd, in_registry, want_close;
	bool owned;        /* the loop owner holds a reference (until srtio_close) */
	srtio_event_fn fn; /* owner; NULL when none */
	void *arg;
	srtio_decide_fn decide; /* listeners */
	struct bytes in, out;
	uint64_t in_dropped;
	size_t tx_pending; /* bytes taken by the thread, not yet sent */
	size_t drain_below;
	bool drain_armed;
	struct srtio_stats stats;
	char err[200];
	int64_t pending_since_ms;
	struct srtio_sock *hnext, *cnext, *nnext;
	/* ---- fixed after creation ---- */
	struct sockaddr_storage peer;
	int local_port;
	char *pass; /* listeners: passphrase for accepted connections */
	int pbkeylen;
	/* ---- I/O thread only ---- */
	struct bytes tx;
	size_t tx_off;
	int chunk;     /* bytes per SRT message: whole TS packets */
	int ep_events; /* subscribed epoll events, 0 = not in the epoll */
};

/* A listen callback waiting for the loop's decision. */
struct io_req {
	struct srtio_sock *listener, *ns;
	char streamid[WSRT_STREAMID_MAX + 1];
	struct sockaddr_storage peer;
	int verdict;
	bool taken, done, abandoned;
	struct io_req *next;
};

struct io_ctx {
	bool running; /* loop thread's view */
	bool shut;    /* srtio_shutdown ran: no restart */
	atomic_bool stop;
	bool stopping; /* under mu: no more async sends, decisions fail */
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* decisions done (CLOCK_MONOTONIC) */
	int eid;
	uv_loop_t *loop;
	uv_async_t *async;
	bool wake; /* under mu: an async send is due */
	struct srtio_sock *buckets[IO_BUCKETS];
	unsigned nsocks;
	struct srtio_sock *cmd_head, *cmd_tail;
	struct srtio_sock *notify_head, *notify_tail;
	struct io_req *reqs, *reqs_tail;
	/* libsrt log lines for the loop (own lock: libsrt logs from anywhere) */
	pthread_mutex_t logmu;
	char logq[IO_LOG_LINES][240];
	unsigned nlog;
	/* I/O thread scratch */
	struct bytes rx;
};

extern struct io_ctx io;

int64_t io_now_ms(void);
socklen_t io_addr_len(const struct sockaddr *sa);

/* All under io.mu. */
struct srtio_sock *io_sock_new(enum io_kind kind, SRTSOCKET s);
void io_ref(struct srtio_sock *s);
void io_unref(struct srtio_sock *s); /* frees at 0 */
void io_registry_add(struct srtio_sock *s);
void io_registry_del(struct srtio_sock *s);
struct srtio_sock *io_registry_find(SRTSOCKET s);
void io_cmd(struct srtio_sock *s);                     /* wake the thread for s */
void io_notify(struct srtio_sock *s, unsigned events); /* tell the loop */
void io_set_error(struct srtio_sock *s, const char *why);

/* Thread entry (io.c) and the loop's async handler (io_conn.c). */
void *io_thread_main(void *unused);
void io_async_cb(uv_async_t *a);
/* libsrt log handler (any thread). */
void io_log_handler(void *opaque, int level, const char *file, int line, const char *area,
		    const char *message);

#endif
