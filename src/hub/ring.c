/* The per-stream frame ring and its keyframe index. */
#include "hub/hub-t.h"

#include <errno.h>
#include <stdlib.h>

int ring_init(struct ring *r)
{
	r->cap = 1024;
	r->slots = calloc(r->cap, sizeof(*r->slots));
	r->kcap = 64;
	r->keys = calloc(r->kcap, sizeof(*r->keys));
	r->first_seq = r->next_seq = 1;
	r->khead = r->kcount = 0;
	r->bytes = 0;
	if (!r->slots || !r->keys) {
		ring_free(r);
		return -ENOMEM;
	}
	return 0;
}

void ring_free(struct ring *r)
{
	if (r->slots)
		for (uint64_t s = r->first_seq; s < r->next_seq; s++)
			frame_unref(ring_at(r, s));
	free(r->slots);
	free(r->keys);
	r->slots = NULL;
	r->keys = NULL;
}

static int grow_slots(struct ring *r)
{
	size_t ncap = r->cap * 2;
	struct frame **n = calloc(ncap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (uint64_t s = r->first_seq; s < r->next_seq; s++)
		n[s & (ncap - 1)] = ring_at(r, s);
	free(r->slots);
	r->slots = n;
	r->cap = ncap;
	return 0;
}

static int grow_keys(struct ring *r)
{
	size_t ncap = r->kcap * 2;
	uint64_t *n = malloc(ncap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < r->kcount; i++)
		n[i] = r->keys[(r->khead + i) % r->kcap];
	free(r->keys);
	r->keys = n;
	r->kcap = ncap;
	r->khead = 0;
	return 0;
}

static inline uint64_t key_at(const struct ring *r, size_t i)
{
	return r->keys[(r->khead + i) % r->kcap];
}

int ring_push(struct ring *r, struct frame *f, bool rap)
{
	if (r->next_seq - r->first_seq == r->cap && grow_slots(r))
		return -ENOMEM;
	if (rap && r->kcount == r->kcap && grow_keys(r))
		return -ENOMEM;
	f->seq = r->next_seq++;
	r->slots[f->seq & (r->cap - 1)] = f;
	r->bytes += f->len;
	if (rap)
		r->keys[(r->khead + r->kcount++) % r->kcap] = f->seq;
	return 0;
}

/* Drops every frame before the second keyframe (the whole first GOP). */
static void drop_first_gop(struct ring *r)
{
	uint64_t until = key_at(r, 1);
	while (r->first_seq < until) {
		struct frame *f = ring_at(r, r->first_seq);
		r->bytes -= f->len;
		r->slots[r->first_seq & (r->cap - 1)] = NULL;
		frame_unref(f);
		r->first_seq++;
	}
	r->khead = (r->khead + 1) % r->kcap;
	r->kcount--;
}

void ring_trim(struct ring *r, int64_t window_us, uint64_t max_bytes)
{
	if (r->next_seq == r->first_seq)
		return;
	int64_t newest = ring_at(r, r->next_seq - 1)->dts_us;
	while (r->kcount >= 2) {
		int64_t second = ring_at(r, key_at(r, 1))->dts_us;
		/* Keep the first GOP while the window still needs it. */
		if (newest - second < window_us && r->bytes <= max_bytes)
			break;
		drop_first_gop(r);
	}
}

uint64_t ring_newest_key(const struct ring *r)
{
	return r->kcount ? key_at(r, r->kcount - 1) : r->next_seq;
}

uint64_t ring_key_at_or_after(const struct ring *r, uint64_t seq)
{
	/* Binary search over the sorted key index. */
	size_t lo = 0, hi = r->kcount;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (key_at(r, mid) < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->kcount ? key_at(r, lo) : r->next_seq;
}
