/* Readers: cursors into a stream's ring, woken once per loop iteration
 * after new frames, with the slow-viewer policy. */
#include "hub/hub-t.h"

#include <errno.h>
#include <stdlib.h>

#include "core/log.h"

#define DEFAULT_MAX_LAG_MS 5000
/* More policy jumps than this within JUMP_WINDOW_US is the hard limit. */
#define MAX_JUMPS      4
#define JUMP_WINDOW_US 30000000
/* Readers woken per check pass. The rest wait for the next loop iteration,
 * so new connections and the publisher's input are served between slices
 * of a large fan-out instead of after all of it (time to first frame). */
#define WAKE_BATCH 128

static void pending_remove(struct hub *h, struct hub_reader *r)
{
	if (!r->pending)
		return;
	if (r->pprev)
		r->pprev->pnext = r->pnext;
	else
		h->pending = r->pnext;
	if (r->pnext)
		r->pnext->pprev = r->pprev;
	else
		h->pending_tail = r->pprev;
	r->pnext = r->pprev = NULL;
	r->pending = false;
}

static void check_cb(uv_check_t *c)
{
	struct hub *h = c->data;
	/* A wake may free other readers or publish more frames; take one at a
	 * time from the head. Readers added meanwhile queue behind the rest. */
	for (unsigned n = 0; h->pending && n < WAKE_BATCH; n++) {
		struct hub_reader *r = h->pending;
		pending_remove(h, r);
		r->waiting = false;
		r->wake(r, r->arg);
	}
	if (h->pending)
		return; /* the idle handle keeps the next poll from blocking */
	uv_check_stop(&h->check);
	uv_idle_stop(&h->idle);
}

static void idle_noop(uv_idle_t *i)
{
	(void)i;
}

/* The idle handle only makes the poll phase non-blocking, so the check
 * phase runs right after whatever callback published frames. */
void hub_schedule(struct hub *h)
{
	if (!uv_is_active((uv_handle_t *)&h->check)) {
		uv_check_start(&h->check, check_cb);
		uv_idle_start(&h->idle, idle_noop);
	}
}

static void pending_add(struct hub *h, struct hub_reader *r)
{
	if (r->pending)
		return;
	r->pending = true;
	r->pnext = NULL;
	r->pprev = h->pending_tail;
	if (h->pending_tail)
		h->pending_tail->pnext = r;
	else
		h->pending = r;
	h->pending_tail = r;
	hub_schedule(h);
}

void hub_wake_readers(struct hub_stream *s, bool video)
{
	bool held = false;
	for (struct hub_reader *r = s->readers; r; r = r->next) {
		if (!r->waiting)
			continue;
		if (!video && r->coalesce)
			held = true;
		else
			pending_add(s->hub, r);
	}
	if (video)
		s->held = false;
	else if (held && !s->held) {
		s->held = true;
		s->held_until_us = hub_now_us() + HUB_COALESCE_MS * 1000;
		if (!uv_is_active((uv_handle_t *)&s->hub->hold))
			uv_timer_start(&s->hub->hold, hub_hold_flush, HUB_COALESCE_MS, 0);
	}
}

/* The hold timer: streams whose hold ran out wake their held readers; the
 * timer is re-armed for the earliest hold left. */
void hub_hold_flush(uv_timer_t *t)
{
	struct hub *h = t->data;
	int64_t now = hub_now_us(), next = INT64_MAX;
	for (struct hub_stream *s = h->streams; s; s = s->next) {
		if (!s->held)
			continue;
		if (s->held_until_us > now + 1000) {
			if (s->held_until_us < next)
				next = s->held_until_us;
			continue;
		}
		s->held = false;
		for (struct hub_reader *r = s->readers; r; r = r->next)
			if (r->waiting && r->coalesce)
				pending_add(h, r);
	}
	if (next != INT64_MAX)
		uv_timer_start(t, hub_hold_flush, (uint64_t)(next - now + 999) / 1000, 0);
}

struct hub_reader *hub_reader_new(struct hub_stream *s, const struct hub_reader_opts *o,
				  void (*wake)(struct hub_reader *r, void *arg), void *arg)
{
	struct hub_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->s = hub_stream_ref(s);
	r->mask = o ? o->track_mask : 0;
	r->max_lag_us = (o && o->max_lag_ms > 0 ? o->max_lag_ms : DEFAULT_MAX_LAG_MS) * 1000;
	r->coalesce = o && o->coalesce;
	r->wake = wake;
	r->arg = arg;
	r->seq = o && o->from_oldest ? s->ring.first_seq : ring_newest_key(&s->ring);
	r->need_key = true;
	r->next = s->readers;
	if (s->readers)
		s->readers->prev = r;
	s->readers = r;
	s->nreaders++;
	return r;
}

void hub_reader_free(struct hub_reader *r)
{
	if (!r)
		return;
	struct hub_stream *s = r->s;
	pending_remove(s->hub, r);
	if (r->prev)
		r->prev->next = r->next;
	else
		s->readers = r->next;
	if (r->next)
		r->next->prev = r->prev;
	s->nreaders--;
	hub_stream_unref(s);
	free(r);
}

struct hub_stream *hub_reader_stream(struct hub_reader *r)
{
	return r->s;
}
uint64_t hub_reader_skipped(const struct hub_reader *r)
{
	return r->skipped;
}

/* Moves the cursor forward to seq, counting what was skipped. */
static void jump_to(struct hub_reader *r, uint64_t seq)
{
	if (seq > r->seq)
		r->skipped += seq - r->seq;
	r->seq = seq;
}

/* Slow-viewer policy: a reader whose next frame arrived more than max_lag
 * ago jumps to the newest keyframe; too many jumps is the hard limit. */
static int apply_lag_policy(struct hub_reader *r, const struct frame *f)
{
	const struct ring *ring = &r->s->ring;
	uint64_t newest_key = ring_newest_key(ring);
	if (newest_key <= r->seq || newest_key == ring->next_seq)
		return 0;
	int64_t now = hub_now_us();
	if (now - f->wall_us <= r->max_lag_us)
		return 0;
	if (now - r->jump_window_us > JUMP_WINDOW_US) {
		r->jump_window_us = now;
		r->jumps = 0;
	}
	if (++r->jumps > MAX_JUMPS)
		return -ENOBUFS;
	LOGF(LOG_MEDIUM, r->s->name, "slow reader skips %llu frames to the newest keyframe",
	     (unsigned long long)(newest_key - r->seq));
	jump_to(r, newest_key);
	return 1;
}

int hub_reader_next(struct hub_reader *r, struct frame **out)
{
	struct ring *ring = &r->s->ring;
	*out = NULL;
	if (r->seq < ring->first_seq) /* fell out of the window */
		jump_to(r, ring_key_at_or_after(ring, ring->first_seq));
	while (r->seq < ring->next_seq) {
		struct frame *f = ring_at(ring, r->seq);
		if (r->need_key) {
			uint64_t k = ring_key_at_or_after(ring, r->seq);
			if (k == ring->next_seq) {
				r->seq = k;
				break;
			}
			r->seq = k;
			r->need_key = false;
			f = ring_at(ring, k);
		}
		int rc = apply_lag_policy(r, f);
		if (rc < 0)
			return rc;
		if (rc > 0)
			continue;
		r->seq++;
		if (r->mask && !(r->mask & (1ull << f->track)))
			continue;
		*out = frame_ref(f);
		return 1;
	}
	if (!r->s->in_registry)
		return -EPIPE;
	r->waiting = true;
	return 0;
}
