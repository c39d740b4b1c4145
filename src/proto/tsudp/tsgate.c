/* Tracks of a TS input announced together (see tsgate.h). */
#include "proto/tsudp/tsgate.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/log.h"
#include "hub/hub.h"

#define GATE_TRACKS 32

struct tsgate {
	struct hub_stream *s;
	bool open;
	uint32_t known;   /* tracks the demuxer described */
	uint32_t seen;    /* tracks that produced a frame */
	uint32_t started; /* tracks that produced a decodable frame */
	struct track trk[GATE_TRACKS];
	struct frame **held;
	size_t nheld, cap, held_bytes;
	int64_t dts_min_us, dts_max_us;
	uint64_t t0_ns; /* first frame seen */
	/* open: the reorder queue (frames by arrival) and, per track, the
	 * newest decode time and the wall time of the last arrival */
	struct frame **q;
	size_t nq, qcap;
	int64_t last_dts_us[GATE_TRACKS];
	uint64_t last_ns[GATE_TRACKS];
	uint32_t active; /* tracks that sent a frame since the gate opened */
};

struct tsgate *tsgate_new(struct hub_stream *s)
{
	struct tsgate *g = calloc(1, sizeof(*g));
	if (g)
		g->s = s;
	return g;
}

static void drop_held(struct tsgate *g)
{
	for (size_t i = 0; i < g->nheld; i++)
		frame_unref(g->held[i]);
	free(g->held);
	g->held = NULL;
	g->nheld = g->cap = g->held_bytes = 0;
}

static void reorder_flush(struct tsgate *g);
static int reorder(struct tsgate *g, struct frame *f);

void tsgate_free(struct tsgate *g)
{
	if (!g)
		return;
	reorder_flush(g);
	free(g->q);
	drop_held(g);
	for (unsigned i = 0; i < GATE_TRACKS; i++)
		track_clear(&g->trk[i]);
	free(g);
}

int tsgate_track(struct tsgate *g, unsigned idx, const struct track *t)
{
	if (g->open)
		return hub_set_track(g->s, idx, t);
	if (idx >= GATE_TRACKS)
		return -EINVAL;
	track_clear(&g->trk[idx]);
	track_copy(&g->trk[idx], t);
	g->known |= 1u << idx;
	return 0;
}

static void list_tracks(char *out, size_t len, uint32_t mask)
{
	size_t n = 0;
	out[0] = 0;
	for (unsigned i = 0; i < GATE_TRACKS && n < len; i++)
		if (mask & (1u << i))
			n += (size_t)snprintf(out + n, len - n, "%s%u", n ? ", " : "", i);
}

/* Sets every described track, then publishes the held frames in order. */
static int open_gate(struct tsgate *g, uint32_t missing)
{
	g->open = true;
	if (missing) {
		char list[96];
		list_tracks(list, sizeof(list), missing);
		LOGF(LOG_WARN, hub_stream_name(g->s),
		     "TS input: track(s) %s of the PMT sent no %s; going on without waiting", list,
		     missing & g->seen ? "keyframe" : "data");
	}
	int rc = 0;
	for (unsigned i = 0; i < GATE_TRACKS; i++) {
		if (!(g->known & (1u << i)))
			continue;
		int r = hub_set_track(g->s, i, &g->trk[i]);
		rc = rc ? rc : r;
		track_clear(&g->trk[i]);
	}
	for (size_t i = 0; i < g->nheld; i++) {
		int r = reorder(g, g->held[i]);
		rc = rc ? rc : r;
		g->held[i] = NULL;
	}
	g->nheld = 0;
	drop_held(g);
	return rc;
}

static int hold(struct tsgate *g, struct frame *f)
{
	if (g->nheld == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		struct frame **p = realloc(g->held, cap * sizeof(*p));
		if (!p) {
			frame_unref(f);
			return -ENOMEM;
		}
		g->held = p;
		g->cap = cap;
	}
	if (!g->nheld || f->dts_us < g->dts_min_us)
		g->dts_min_us = f->dts_us;
	if (!g->nheld || f->dts_us > g->dts_max_us)
		g->dts_max_us = f->dts_us;
	g->held[g->nheld++] = f;
	g->held_bytes += f->len;
	return 0;
}

/* How long the gate has been waiting: media time held or wall time since
 * the first frame, whichever is longer (a sender faster than real time
 * fills the first, a sparse one the second). */
static int64_t waited_ms(const struct tsgate *g)
{
	int64_t media = g->nheld ? (g->dts_max_us - g->dts_min_us) / 1000 : 0;
	int64_t wall = (int64_t)((uv_hrtime() - g->t0_ns) / 1000000);
	return media > wall ? media : wall;
}

/* Index of the queued frame with the lowest decode time (the earliest
 * arrival among equals). */
static size_t oldest(const struct tsgate *g)
{
	size_t m = 0;
	for (size_t i = 1; i < g->nq; i++)
		if (g->q[i]->dts_us < g->q[m]->dts_us)
			m = i;
	return m;
}

/* May the oldest queued frame m go: has every other recently active track
 * reached its time, or has it waited TSGATE_REORDER_MS of media time? */
static bool may_leave(const struct tsgate *g, const struct frame *m, int64_t newest_us,
		      uint64_t now_ns)
{
	if (newest_us - m->dts_us >= TSGATE_REORDER_MS * 1000)
		return true;
	for (unsigned t = 0; t < GATE_TRACKS; t++) {
		if (!(g->active & (1u << t)) || t == m->track)
			continue;
		if (now_ns - g->last_ns[t] > TSGATE_REORDER_MS * 1000000ull)
			continue; /* gone quiet: not waited for */
		if (g->last_dts_us[t] < m->dts_us)
			return false;
	}
	return true;
}

static int publish_oldest(struct tsgate *g)
{
	size_t m = oldest(g);
	struct frame *f = g->q[m];
	memmove(g->q + m, g->q + m + 1, (g->nq - m - 1) * sizeof(*g->q));
	g->nq--;
	return hub_publish(g->s, f);
}

static void reorder_flush(struct tsgate *g)
{
	while (g->nq)
		publish_oldest(g);
}

/* Queues f and publishes every frame that may leave, in order. */
static int reorder(struct tsgate *g, struct frame *f)
{
	if (g->nq == g->qcap) {
		size_t cap = g->qcap ? g->qcap * 2 : 64;
		struct frame **p = realloc(g->q, cap * sizeof(*p));
		if (!p) {
			reorder_flush(g);
			return hub_publish(g->s, f);
		}
		g->q = p;
		g->qcap = cap;
	}
	uint64_t now = uv_hrtime();
	if (f->track < GATE_TRACKS) {
		unsigned t = f->track;
		if (!(g->active & (1u << t)) || f->dts_us > g->last_dts_us[t])
			g->last_dts_us[t] = f->dts_us;
		g->last_ns[t] = now;
		g->active |= 1u << t;
	}
	g->q[g->nq++] = f;
	int64_t newest = f->dts_us;
	for (size_t i = 0; i < g->nq; i++)
		if (g->q[i]->dts_us > newest)
			newest = g->q[i]->dts_us;
	int rc = 0;
	while (g->nq && may_leave(g, g->q[oldest(g)], newest, now)) {
		int r = publish_oldest(g);
		rc = rc ? rc : r;
	}
	return rc;
}

int tsgate_frame(struct tsgate *g, uint32_t pmt_mask, struct frame *f)
{
	if (g->open)
		return reorder(g, f);
	uint32_t bit = f->track < GATE_TRACKS ? 1u << f->track : 0;
	if (!g->t0_ns)
		g->t0_ns = uv_hrtime();
	g->seen |= bit;
	bool video = bit && g->trk[f->track].type == TRACK_VIDEO;
	if (!(g->known & bit) || (video && !(g->started & bit) && !(f->flags & FRAME_KEY))) {
		frame_unref(f); /* undecodable before its first keyframe: the hub drops it too */
	} else {
		g->started |= bit;
		int rc = hold(g, f);
		if (rc)
			return rc;
	}
	uint32_t missing = (pmt_mask | g->known) & ~g->started;
	if (!missing)
		return open_gate(g, 0);
	int64_t limit = (missing & ~g->seen) ? TSGATE_NODATA_MS : TSGATE_NOKEY_MS;
	if (g->started && (waited_ms(g) >= limit || g->held_bytes >= TSGATE_MAX_BYTES))
		return open_gate(g, missing);
	return 0;
}
