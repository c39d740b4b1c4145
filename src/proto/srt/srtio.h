/* The SRT I/O thread: libsrt never runs on the libuv loop.
 *
 * One thread per process waits in srt_epoll_uwait over every SRT socket
 * (listeners, callers, accepted connections). It reads what arrives into
 * per-socket buffers, sends what the loop queued, connects callers
 * (non-blocking), accepts connections and gathers statistics once a
 * second. It tells the loop about changes through one uv_async_t; the
 * loop takes received bytes and queues bytes to send under a mutex and
 * never waits for the thread.
 *
 * The only libsrt calls on the loop are the non-blocking setup calls in
 * srtio_listen/srtio_connect (create, set options, bind, listen), so that
 * option errors can be reported at once.
 *
 * Incoming connections are decided on the loop: libsrt's listen callback
 * (its receiver thread) posts the stream ID to the loop and waits (at
 * most SRTIO_DECIDE_MS) for the answer, so a refusal carries an SRT
 * reject code (srt_setrejectreason) instead of a silent drop. The loop
 * never waits on the thread or on libsrt locks, so this cannot deadlock.
 *
 * Loop-thread API unless noted. */
#ifndef WEIR_PROTO_SRT_SRTIO_H
#define WEIR_PROTO_SRT_SRTIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/bytes.h"
#include "proto/srt/wsrt.h"

#define SRTIO_DECIDE_MS    3000        /* longest a listen callback waits for the loop */
#define SRTIO_HANDSHAKE_MS 3000        /* accepted by the loop, never completed: closed */
#define SRTIO_IN_MAX       (16u << 20) /* received bytes the loop has not taken */

struct srtio_sock;

enum srtio_event {
	SRTIO_EV_CONNECTED = 1 << 0, /* caller connected / accepted connection ready */
	SRTIO_EV_DATA = 1 << 1,      /* received bytes waiting: srtio_read */
	SRTIO_EV_DRAINED = 1 << 2,   /* send queue at or below the srtio_want_drain mark */
	SRTIO_EV_CLOSED = 1 << 3,    /* failed or ended (srtio_error says why); last event */
};

/* Events for a socket, on the loop. The handler may call srtio_close. */
typedef void (*srtio_event_fn)(struct srtio_sock *s, unsigned events, void *arg);

/* An incoming connection on a listener, on the loop. Return 0 to accept
 * (after srtio_set_handler(ns, ...), which makes the caller its owner)
 * or an SRT reject code (SRT_REJX_* or SRT_REJ_*). peer is the caller's
 * address; streamid may be "". */
typedef int (*srtio_decide_fn)(void *arg, struct srtio_sock *ns, const char *streamid,
			       const struct sockaddr *peer);

struct srtio_stats {
	uint64_t pkt_sent;    /* data packets sent, retransmissions included */
	uint64_t pkt_lost;    /* lost, receiver and sender side */
	uint64_t pkt_retrans; /* retransmitted */
	uint64_t pkt_dropped; /* too late to send or to play, both sides */
	uint64_t bytes_sent, bytes_recv;
	double rtt_ms;
};

/* Starts the thread on first use (idempotent). 0 or -errno (-ESHUTDOWN
 * after srtio_shutdown). */
int srtio_init(uv_loop_t *loop);
/* Stops the thread, closes every socket, releases libsrt. Handlers get
 * no more events; srtio_close stays valid on the remaining sockets. */
void srtio_shutdown(void);

/* A listener on addr with opts (passphrase and pbkeylen are set per
 * accepted connection, after decide accepted it). 0 and *out, or a
 * negative errno with the reason in err. */
int srtio_listen(const struct sockaddr *addr, const struct wsrt_opts *opts, int backlog,
		 srtio_decide_fn decide, void *arg, struct srtio_sock **out, char *err,
		 size_t errlen);
/* Connects to addr (caller, or rendezvous when opts say so) in the
 * background: SRTIO_EV_CONNECTED or SRTIO_EV_CLOSED follow. */
int srtio_connect(const struct sockaddr *addr, const struct wsrt_opts *opts, srtio_event_fn fn,
		  void *arg, struct srtio_sock **out, char *err, size_t errlen);
/* Makes the caller the owner of an accepted socket (inside decide). */
void srtio_set_handler(struct srtio_sock *s, srtio_event_fn fn, void *arg);
/* The owner is done: no more events; the thread closes the socket. */
void srtio_close(struct srtio_sock *s);

/* Queues bytes to send (whole TS packets; sent as SRT messages of up to
 * 1316 bytes). 0, -EPIPE when the connection is gone, -ENOMEM. */
int srtio_send(struct srtio_sock *s, const void *p, size_t len);
/* Bytes queued and not yet handed to libsrt. */
size_t srtio_queued(struct srtio_sock *s);
/* Asks for one SRTIO_EV_DRAINED once the queue is at most below bytes. */
void srtio_want_drain(struct srtio_sock *s, size_t below);
/* Moves the received bytes into buf, which must be empty (buffers are
 * swapped, not copied). Returns the byte count. Bytes dropped because
 * the loop fell SRTIO_IN_MAX behind are counted in *dropped if given. */
size_t srtio_read(struct srtio_sock *s, struct bytes *buf, uint64_t *dropped);

void srtio_get_stats(struct srtio_sock *s, struct srtio_stats *out);
/* Why the socket closed ("" while open). Valid until srtio_close. */
const char *srtio_error(struct srtio_sock *s);
/* The peer's address (accepted: the caller; callers: the target). */
const struct sockaddr *srtio_peer(struct srtio_sock *s);
/* The local port (listeners). */
int srtio_local_port(struct srtio_sock *s);

#endif
