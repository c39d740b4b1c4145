/* Refcounted immutable byte buffers.
 *
 * A wbuf is written once by its creator and then only read; many readers
 * (viewers, muxers) share it by taking references. Refcounts are atomic so
 * several loop threads may share a buffer later. */
#ifndef WEIR_CORE_BUF_H
#define WEIR_CORE_BUF_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct wbuf {
	atomic_uint refs;
	size_t len;
	uint8_t data[];
};

/* New buffer of len bytes (uninitialised), refs = 1. NULL on ENOMEM. */
struct wbuf *wbuf_new(size_t len);
/* New buffer holding a copy of p[0..len). NULL on ENOMEM. */
struct wbuf *wbuf_from(const void *p, size_t len);

static inline struct wbuf *wbuf_ref(struct wbuf *b)
{
	if (b)
		atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
	return b;
}

/* Drops one reference; frees on the last. NULL is fine. */
void wbuf_unref(struct wbuf *b);

/* 1 when both are NULL or hold the same bytes. */
int wbuf_equal(const struct wbuf *a, const struct wbuf *b);

#endif
