#include "core/buf.h"

#include <stdlib.h>
#include <string.h>

struct wbuf *wbuf_new(size_t len)
{
	struct wbuf *b = malloc(sizeof(*b) + len);
	if (!b)
		return NULL;
	atomic_init(&b->refs, 1);
	b->len = len;
	return b;
}

struct wbuf *wbuf_from(const void *p, size_t len)
{
	struct wbuf *b = wbuf_new(len);
	if (b && len)
		memcpy(b->data, p, len);
	return b;
}

void wbuf_unref(struct wbuf *b)
{
	if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
		free(b);
}

int wbuf_equal(const struct wbuf *a, const struct wbuf *b)
{
	if (!a || !b)
		return a == b;
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}
