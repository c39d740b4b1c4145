/* Segmenter lifecycle and cutting: frames from a hub reader are grouped
 * into parts (~500 ms, LL-HLS) and segments (cut at keyframes once
 * segmentsize is reached). A part is packaged once (pack.c), as it comes:
 * in chunks (a frame or a few) that requests for the part in progress
 * stream, and that, joined, are the part's bytes once it closes. All bytes
 * are shared by every viewer; a complete segment is its parts joined. */
#include "proto/hls/seg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/log.h"

#define DEFAULT_TARGET_US 1900000
/* A segment ends at the first driver keyframe at least this much shorter
 * than the target (keyframes rarely land exactly on it). */
#define CUT_TOLERANCE_US 100000

static struct segmenter *all;

static int64_t unix_ms_of(const struct frame *f)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	int64_t now_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
	int64_t mono_us = (int64_t)(uv_hrtime() / 1000);
	return now_ms - (mono_us - f->wall_us) / 1000;
}

static struct hub_stream *stream_of(struct segmenter *sg)
{
	return hub_reader_stream(sg->r);
}

struct seg_segment *seg_segment(struct seg_rend *r, uint64_t msn)
{
	if (!r->ever_started || msn < r->first_msn || msn > r->cur_msn)
		return NULL;
	struct seg_segment *s = &r->segs[msn % SEG_WINDOW];
	return s->used && s->msn == msn ? s : NULL;
}

static void segment_clear(struct seg_segment *s)
{
	for (unsigned i = 0; i < s->nparts; i++)
		wbuf_unref(s->parts[i].data);
	wbuf_unref(s->data);
	memset(s, 0, sizeof(*s));
}

static void pend_clear(struct seg_rend *r)
{
	for (unsigned i = 0; i < r->npend; i++)
		frame_unref(r->pend[i]);
	r->npend = 0;
}

/* Drops the first n pending frames (they were packaged). */
static void pend_shift(struct seg_rend *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		frame_unref(r->pend[i]);
	memmove(r->pend, r->pend + n, (r->npend - n) * sizeof(*r->pend));
	r->npend -= n;
}

/* Forgets the part in progress (the chunk array is kept for the next). */
static void live_reset(struct seg_live *lv)
{
	for (unsigned i = 0; i < lv->n; i++)
		wbuf_unref(lv->chunks[i]);
	struct wbuf **keep = lv->chunks;
	unsigned cap = lv->cap;
	memset(lv, 0, sizeof(*lv));
	lv->chunks = keep;
	lv->cap = cap;
}

/* Appends chunk wb (the reference is taken over, also on error). */
static int live_add(struct seg_live *lv, struct wbuf *wb)
{
	if (lv->n == lv->cap) {
		unsigned cap = lv->cap ? lv->cap * 2 : 32;
		struct wbuf **v = realloc(lv->chunks, cap * sizeof(*v));
		if (!v) {
			wbuf_unref(wb);
			return -ENOMEM;
		}
		lv->chunks = v;
		lv->cap = cap;
	}
	lv->chunks[lv->n++] = wb;
	lv->bytes += wb->len;
	return 0;
}

/* The chunks joined: one buffer (a reference to the only chunk, or a
 * copy). NULL on ENOMEM. */
static struct wbuf *live_join(const struct seg_live *lv)
{
	if (lv->n == 1)
		return wbuf_ref(lv->chunks[0]);
	struct wbuf *wb = wbuf_new(lv->bytes);
	if (!wb)
		return NULL;
	size_t o = 0;
	for (unsigned i = 0; i < lv->n; i++) {
		memcpy(wb->data + o, lv->chunks[i]->data, lv->chunks[i]->len);
		o += lv->chunks[i]->len;
	}
	return wb;
}

const struct seg_live *seg_live_part(const struct seg_rend *r, uint64_t msn, int part)
{
	if (!r->started || msn != r->cur_msn || part < 0 || !r->live.n)
		return NULL;
	return r->segs[msn % SEG_WINDOW].nparts == (unsigned)part ? &r->live : NULL;
}

static int pend_add(struct seg_rend *r, struct frame *f)
{
	if (r->npend == r->cap_pend) {
		unsigned cap = r->cap_pend ? r->cap_pend * 2 : 64;
		struct frame **p = realloc(r->pend, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		r->pend = p;
		r->cap_pend = cap;
	}
	r->pend[r->npend++] = frame_ref(f);
	return 0;
}

static bool is_video_track(struct hub_stream *s, unsigned idx)
{
	const struct track *t = hub_stream_track(s, idx);
	return t && t->type == TRACK_VIDEO;
}

static bool is_video(struct segmenter *sg, unsigned idx)
{
	return is_video_track(stream_of(sg), idx);
}

/* Packages pending frames as a chunk of the part in progress. With final
 * set, all of them (the part ends at end_us); otherwise only what need
 * not wait: a CMAF video frame's duration is the distance to the next
 * frame, so the newest waits for it; CMAF audio gathers
 * SEG_AUDIO_CHUNK_US worth of frames (fewer, bigger fragments). */
static int flush_pend(struct seg_rend *r, bool final, int64_t end_us)
{
	unsigned n = r->npend;
	if (!final && n && r->sg->kind == SEG_CMAF) {
		if (is_video(r->sg, (unsigned)r->drive)) {
			n--;
			end_us = r->pend[n]->dts_us;
		} else if (r->pend[n - 1]->dts_us - r->pend[0]->dts_us + r->frame_dur_us <
			   SEG_AUDIO_CHUNK_US) {
			n = 0;
		}
	}
	if (!n)
		return 0;
	struct seg_live *lv = &r->live;
	struct wbuf *wb = NULL;
	uint64_t t0 = 0, td = 0;
	int rc = seg_pack_part(r, r->pend, n, end_us, lv->n == 0, &wb, &t0, &td);
	pend_shift(r, n);
	if (rc == -EAGAIN)
		return 0; /* all frames dropped */
	if (rc < 0)
		return rc;
	if (!lv->n)
		lv->t_start = t0;
	lv->t_dur += td;
	r->sg->chunks_added = true;
	return live_add(lv, wb);
}

/* Closes the part in progress at end_us: the next part of the current
 * segment, its bytes the chunks joined. No part when it has no bytes. */
static int end_part(struct seg_rend *r, int64_t end_us)
{
	struct seg_segment *s = &r->segs[r->cur_msn % SEG_WINDOW];
	struct seg_live *lv = &r->live;
	int rc = flush_pend(r, true, end_us);
	struct wbuf *wb = rc || !lv->n ? NULL : live_join(lv);
	if (!rc && lv->n && !wb)
		rc = -ENOMEM;
	if (!wb) {
		live_reset(lv);
		return rc;
	}
	struct seg_part *p = &s->parts[s->nparts++];
	p->start_us = r->part_start_us;
	p->dur_us = end_us - r->part_start_us;
	uint64_t t0 = lv->t_start, td = lv->t_dur;
	if (r->sg->kind == SEG_CMAF && r->timescale) {
		p->dur_us = (int64_t)(td * 1000000 / r->timescale);
	} else {
		int64_t first = lv->first_dts_us > 0 ? lv->first_dts_us : 0;
		t0 = (uint64_t)(first * 9 / 100);
		td = (uint64_t)((end_us - lv->first_dts_us) * 9 / 100);
	}
	p->independent = lv->independent;
	p->data = wb;
	if (s->nparts == 1)
		s->t_start = t0;
	s->t_dur += td;
	s->dur_us += p->dur_us;
	r->part_start_us = end_us;
	live_reset(lv);
	return 0;
}

static int end_segment(struct seg_rend *r)
{
	struct seg_segment *s = &r->segs[r->cur_msn % SEG_WINDOW];
	size_t total = 0;
	for (unsigned i = 0; i < s->nparts; i++)
		total += s->parts[i].data->len;
	s->data = wbuf_new(total);
	if (!s->data)
		return -ENOMEM;
	size_t o = 0;
	for (unsigned i = 0; i < s->nparts; i++) {
		memcpy(s->data->data + o, s->parts[i].data->data, s->parts[i].data->len);
		o += s->parts[i].data->len;
	}
	s->complete = true;
	if (s->dur_us > r->sg->max_seg_us)
		r->sg->max_seg_us = s->dur_us;
	return 0;
}

static void begin_segment(struct seg_rend *r, uint64_t msn, const struct frame *f)
{
	struct seg_segment *s = &r->segs[msn % SEG_WINDOW];
	segment_clear(s);
	s->msn = msn;
	s->used = true;
	s->start_us = f->dts_us;
	struct segmenter *sg = r->sg;
	if (!sg->have_anchor) {
		sg->anchor_unix_ms = unix_ms_of(f);
		sg->anchor_media_us = f->dts_us;
		sg->have_anchor = true;
	}
	s->pdt_ms = sg->anchor_unix_ms + (f->dts_us - sg->anchor_media_us) / 1000;
	s->discontinuity = r->next_discontinuity;
	s->init_gen = r->init_gen;
	r->next_discontinuity = false;
	if (msn >= SEG_WINDOW && r->first_msn < msn - SEG_WINDOW + 1)
		r->first_msn = msn - SEG_WINDOW + 1;
	if (!r->ever_started)
		r->first_msn = msn;
	r->cur_msn = msn;
	r->started = r->ever_started = true;
	r->part_start_us = f->dts_us;
	if (!r->follower) {
		r->sg->boundary_us[msn % SEG_WINDOW] = f->dts_us;
	}
}

/* Whether frame f (of the drive track) closes the current segment. */
static bool segment_due(struct seg_rend *r, const struct frame *f)
{
	struct segmenter *sg = r->sg;
	struct seg_segment *s = &r->segs[r->cur_msn % SEG_WINDOW];
	if (r->follower) {
		/* the leader has begun cur_msn + 1 at boundary b */
		struct seg_rend *lead = &sg->rends[0];
		return lead->cur_msn > r->cur_msn &&
		       f->dts_us >= sg->boundary_us[(r->cur_msn + 1) % SEG_WINDOW];
	}
	if (s->nparts >= SEG_MAX_PARTS - 1)
		return true; /* no keyframe for far too long */
	bool rap = is_video(sg, (unsigned)r->drive) ? (f->flags & FRAME_KEY) != 0 : true;
	return rap && f->dts_us - s->start_us >= sg->target_us - CUT_TOLERANCE_US;
}

static bool part_due(struct seg_rend *r, const struct frame *f)
{
	int64_t est = r->frame_dur_us > 0 ? r->frame_dur_us : 0;
	return r->live.has_frames && f->dts_us - r->part_start_us + est > SEG_PART_US;
}

/* A track changed its codec configuration: new init/mux, discontinuity. */
static int config_changed(struct seg_rend *r, const struct frame *f)
{
	int rc = 0;
	if (r->started) {
		rc = end_part(r, f->dts_us);
		rc = rc ?: end_segment(r);
		r->next_discontinuity = true;
		r->started = false; /* restarts at this frame with msn + 1 */
		r->cur_msn++;
	}
	return rc ?: seg_pack_init(r, stream_of(r->sg));
}

static bool may_start(struct seg_rend *r, const struct frame *f)
{
	if (r->follower) {
		struct seg_rend *lead = &r->sg->rends[0];
		return lead->started && f->dts_us >= r->sg->boundary_us[lead->cur_msn % SEG_WINDOW];
	}
	return (int)f->track == r->drive && (!is_video(r->sg, f->track) || (f->flags & FRAME_KEY));
}

static int rend_frame(struct seg_rend *r, struct frame *f)
{
	const struct track *t = hub_stream_track(stream_of(r->sg), f->track);
	if (!t)
		return 0;
	int rc = 0;
	if (t->generation != r->gens[f->track] && (rc = config_changed(r, f)) < 0)
		return rc;
	bool drive = (int)f->track == r->drive;
	if (!r->started) {
		if (!may_start(r, f))
			return 0;
		uint64_t msn = r->follower ? r->sg->rends[0].cur_msn : r->cur_msn;
		begin_segment(r, msn, f);
	} else if ((drive || r->follower) && segment_due(r, f)) {
		rc = end_part(r, f->dts_us);
		rc = rc ?: end_segment(r);
		if (rc)
			return rc;
		begin_segment(r, r->cur_msn + 1, f);
		seg_progress(r->sg);
	} else if (drive && part_due(r, f)) {
		if ((rc = end_part(r, f->dts_us)) < 0)
			return rc;
		seg_progress(r->sg);
	}
	if (drive) {
		if (r->live.has_frames && f->dts_us > r->last_dts_us)
			r->frame_dur_us = f->dts_us - r->last_dts_us;
		r->last_dts_us = f->dts_us;
	}
	if (!r->live.has_frames) {
		r->live.has_frames = true;
		r->live.independent =
		    !is_video(r->sg, (unsigned)r->drive) || (f->flags & FRAME_KEY);
		r->live.first_dts_us = f->dts_us;
	}
	rc = pend_add(r, f);
	return rc ?: flush_pend(r, false, 0);
}

static void finish(struct segmenter *sg)
{
	for (unsigned i = 0; i < sg->nrends; i++) {
		struct seg_rend *r = &sg->rends[i];
		if (!r->started)
			continue;
		int64_t end = r->last_dts_us + (r->frame_dur_us > 0 ? r->frame_dur_us : 33000);
		if (!end_part(r, end))
			end_segment(r);
	}
	sg->ended = true;
	seg_progress(sg);
}

static void on_wake(struct hub_reader *rd, void *arg)
{
	struct segmenter *sg = arg;
	struct frame *f;
	int rc;
	while ((rc = hub_reader_next(rd, &f)) == 1) {
		for (unsigned i = 0; i < sg->nrends && rc >= 0; i++)
			if (sg->rends[i].mask & (1ull << f->track))
				rc = rend_frame(&sg->rends[i], f);
		frame_unref(f);
		if (rc < 0) {
			LOGF(LOG_WARN, sg->stream, "segmenter error: %s", strerror(-rc));
			break;
		}
	}
	if (sg->chunks_added) {
		sg->chunks_added = false;
		seg_chunks_added(sg);
	}
	if (rc == -EPIPE || rc == -ENOBUFS || (rc < 0 && rc != -EPIPE))
		finish(sg);
}

static void rend_setup(struct segmenter *sg, struct seg_rend *r, uint64_t mask)
{
	struct hub_stream *s = stream_of(sg);
	r->sg = sg;
	r->mask = mask;
	r->drive = -1;
	char *p = r->id;
	for (unsigned i = 0; i < HUB_MAX_TRACKS; i++) {
		if (!(mask & (1ull << i)))
			continue;
		const struct track *t = hub_stream_track(s, i);
		if (r->drive < 0 ||
		    (t && t->type == TRACK_VIDEO && !is_video(sg, (unsigned)r->drive)))
			r->drive = (int)i;
		p += snprintf(p, (size_t)(r->id + sizeof(r->id) - p), "%s%u", p == r->id ? "" : "_",
			      i);
	}
}

/* Default selection: TS carries the first video and first audio track;
 * CMAF has a rendition for every audio and video track. */
static uint64_t default_mask(struct hub_stream *s, enum seg_kind kind)
{
	uint64_t mask = 0;
	int best[2] = {-1, -1};
	for (unsigned i = 0; i < hub_stream_track_count(s); i++) {
		const struct track *t = hub_stream_track(s, i);
		if (!t || (t->type != TRACK_VIDEO && t->type != TRACK_AUDIO))
			continue;
		if (kind == SEG_CMAF) {
			mask |= 1ull << i;
			continue;
		}
		int k = t->type == TRACK_VIDEO ? 0 : 1;
		if (best[k] < 0)
			best[k] = (int)i;
	}
	for (int k = 0; k < 2; k++)
		if (best[k] >= 0)
			mask |= 1ull << best[k];
	return mask;
}

static void seg_free(struct segmenter *sg)
{
	seg_drop_waiters(sg);
	if (sg->prev)
		sg->prev->next = sg->next;
	else
		all = sg->next;
	if (sg->next)
		sg->next->prev = sg->prev;
	for (unsigned i = 0; i < sg->nrends; i++) {
		struct seg_rend *r = &sg->rends[i];
		pend_clear(r);
		free(r->pend);
		live_reset(&r->live);
		free(r->live.chunks);
		for (unsigned k = 0; k < SEG_WINDOW; k++)
			segment_clear(&r->segs[k]);
		seg_pack_free(r);
	}
	hub_reader_free(sg->r);
	free(sg);
}

static int build_rends(struct segmenter *sg, struct hub_stream *s)
{
	if (sg->kind == SEG_TS) {
		rend_setup(sg, &sg->rends[0], sg->mask);
		sg->nrends = 1;
	} else {
		/* CMAF: one rendition per track, video first (the leader). */
		for (int pass = 0; pass < 2; pass++)
			for (unsigned i = 0; i < HUB_MAX_TRACKS && sg->nrends < SEG_MAX_RENDS;
			     i++) {
				if (!(sg->mask & (1ull << i)) || is_video(sg, i) != (pass == 0))
					continue;
				struct seg_rend *r = &sg->rends[sg->nrends++];
				rend_setup(sg, r, 1ull << i);
				r->follower = sg->nrends > 1 && sg->has_video;
			}
	}
	for (unsigned i = 0; i < sg->nrends; i++) {
		int rc = seg_pack_init(&sg->rends[i], s);
		if (rc < 0)
			return rc;
	}
	return sg->nrends ? 0 : -ENOENT;
}

struct segmenter *seg_get(struct hub_stream *s, enum seg_kind kind, uint64_t mask)
{
	if (!mask)
		mask = default_mask(s, kind);
	if (!mask)
		return NULL;
	for (struct segmenter *sg = all; sg; sg = sg->next)
		if (sg->kind == kind && sg->mask == mask && !sg->ended &&
		    !strcmp(sg->stream, hub_stream_name(s)) && stream_of(sg) == s)
			return sg;
	struct segmenter *sg = calloc(1, sizeof(*sg));
	if (!sg)
		return NULL;
	snprintf(sg->stream, sizeof(sg->stream), "%s", hub_stream_name(s));
	sg->kind = kind;
	sg->mask = mask;
	sg->target_us = DEFAULT_TARGET_US;
	int64_t seg_ms = hub_stream_segment_ms(s);
	if (seg_ms > 0)
		sg->target_us = seg_ms * 1000;
	for (unsigned i = 0; i < HUB_MAX_TRACKS; i++)
		if ((mask & (1ull << i)) && is_video_track(s, i))
			sg->has_video = true;
	sg->next = all;
	if (all)
		all->prev = sg;
	all = sg;
	/* From the oldest keyframe, so the first playlist already has
	 * segments; never skipped ahead: the segmenter keeps up or nothing does. */
	struct hub_reader_opts o = {
	    .track_mask = mask, .from_oldest = true, .max_lag_ms = 24 * 3600 * 1000};
	sg->r = hub_reader_new(s, &o, on_wake, sg);
	if (!sg->r || build_rends(sg, s) < 0) {
		seg_free(sg);
		return NULL;
	}
	LOGF(LOG_MEDIUM, sg->stream, "%s segmenter started (%u renditions)",
	     kind == SEG_TS ? "TS" : "CMAF", sg->nrends);
	on_wake(sg->r, sg);
	return sg;
}

struct seg_rend *seg_rend_find(struct segmenter *sg, const char *id)
{
	for (unsigned i = 0; i < sg->nrends; i++)
		if (!strcmp(sg->rends[i].id, id))
			return &sg->rends[i];
	return NULL;
}

void seg_touch(struct segmenter *sg)
{
	sg->last_request_ms = uv_now(uv_default_loop());
}

void seg_reap(uint64_t now_ms)
{
	for (struct segmenter *sg = all, *n; sg; sg = n) {
		n = sg->next;
		uint64_t idle = now_ms - sg->last_request_ms;
		if (idle > SEG_IDLE_MS || (sg->ended && idle > 10000)) {
			LOGF(LOG_MEDIUM, sg->stream, "segmenter stopped");
			seg_free(sg);
		}
	}
}

int64_t seg_target_duration_us(const struct segmenter *sg)
{
	return sg->max_seg_us > sg->target_us ? sg->max_seg_us : sg->target_us;
}

void seg_foreach(void (*fn)(struct segmenter *sg, void *arg), void *arg)
{
	for (struct segmenter *sg = all, *n; sg; sg = n) {
		n = sg->next;
		fn(sg, arg);
	}
}
