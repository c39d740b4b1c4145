/* Gathered socket writes that hold frame references until the kernel has
 * the bytes. Shared by every TCP protocol (RTMP, HTTP, ...).
 * Loop-thread only. */
#ifndef WEIR_PROTO_NETOUT_H
#define WEIR_PROTO_NETOUT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct frame;
struct wbuf;

struct netout {
	uv_stream_t *stream;
	size_t queued;             /* bytes handed to uv_write, not yet done */
	uint64_t total;            /* bytes ever queued */
	uint64_t last_progress_ms; /* loop time of the last completed write */
	/* Called after each completed write (status < 0: the write failed;
	 * the owner should close). Never called after netout_detach(). */
	void (*done)(struct netout *o, int status);
	void *arg;
	unsigned inflight;
};

void netout_init(struct netout *o, uv_stream_t *s, void (*done)(struct netout *o, int status),
		 void *arg);
/* Queues bufs (any count) for one uv_write. Takes over refs (frame
 * references) and owned (a malloc'd block the bufs may point into): both
 * are released after the write, or at once on error. 0 or negative errno. */
int netout_write(struct netout *o, const uv_buf_t *bufs, unsigned nbufs, struct frame **refs,
		 unsigned nrefs, void *owned);
/* Same with a second owned block and one buffer reference (both may be
 * NULL; the wbuf reference is taken over). */
int netout_write_ex(struct netout *o, const uv_buf_t *bufs, unsigned nbufs, struct frame **refs,
		    unsigned nrefs, void *owned, void *owned2, struct wbuf *wb);
/* Same with a second owned block. */
int netout_write2(struct netout *o, const uv_buf_t *bufs, unsigned nbufs, struct frame **refs,
		  unsigned nrefs, void *owned, void *owned2);
/* Like netout_write, but when nothing is queued the bytes are first
 * written at once (uv_try_write): what the kernel takes costs no request,
 * no callback and no poll change, and when it takes everything no done
 * call follows (the caller knows). Only the rest is queued. bufs may be
 * modified. owned2 may be NULL. 0 or negative errno (refs and owned
 * released either way). */
int netout_write_now(struct netout *o, uv_buf_t *bufs, unsigned nbufs, struct frame **refs,
		     unsigned nrefs, void *owned, void *owned2);
/* Copies data and queues it. */
int netout_write_copy(struct netout *o, const void *data, size_t len);
/* The owner is closing its stream: no more writes, no more done calls.
 * The netout must stay allocated until the stream's close callback (libuv
 * runs cancelled write callbacks before it). */
void netout_detach(struct netout *o);

#endif
