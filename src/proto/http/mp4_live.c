/* Live fMP4 fragmenter: pending frames per track, lead-paced fragment
 * boundaries, exact sample durations. See mp4_live.h. */
#include "proto/http/mp4_live.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format/fmp4.h"

/* A lead-less track is emitted on its own past this many fragment lengths. */
#define STALL_FRAGS 4
/* A video dts step beyond this many seconds is a jump, not a duration. */
#define MAX_STEP_S 10

struct ml_track {
	struct track t;
	unsigned idx; /* stream track index */
	uint32_t timescale;
	bool video;
	struct frame **pend; /* references, oldest first */
	unsigned npend, cap;
	uint64_t next_t; /* decode time after the last emitted sample */
	bool have_next;
	uint32_t last_dur; /* of the last emitted sample */
};

struct mp4_live {
	struct ml_track tr[MP4_LIVE_MAX_TRACKS];
	unsigned n;
	unsigned lead;
	int64_t frag_us;
	bool from_zero, have_origin;
	int64_t origin_us;
	int64_t current_us;
	uint32_t seq;
	struct fmp4_sample *samples; /* scratch, cap entries */
	unsigned samples_cap;
};

int64_t mp4_live_to_ts(int64_t us, uint32_t timescale)
{
	__int128 v = (__int128)us * timescale;
	return (int64_t)(v >= 0 ? (v + 500000) / 1000000 : (v - 500000) / 1000000);
}

/* Decode time of a frame in its track's timescale, clamped at 0. */
static uint64_t tick(const struct mp4_live *m, const struct ml_track *t, int64_t dts_us)
{
	int64_t v = mp4_live_to_ts(dts_us - m->origin_us, t->timescale);
	return v > 0 ? (uint64_t)v : 0;
}

static void set_track(struct ml_track *t, const struct track *src)
{
	uint32_t old = t->timescale;
	track_clear(&t->t);
	track_copy(&t->t, src);
	t->video = src->type == TRACK_VIDEO;
	t->timescale = fmp4_timescale(src);
	if (old && old != t->timescale)
		t->have_next = false; /* another clock: re-anchor */
}

int mp4_live_new(struct mp4_live **out, const struct track *const *tracks, const unsigned *idx,
		 unsigned n, const struct mp4_live_opts *opts)
{
	*out = NULL;
	if (!n || n > MP4_LIVE_MAX_TRACKS || !tracks || !idx)
		return -EINVAL;
	struct mp4_live *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->n = n;
	m->frag_us = opts && opts->frag_us > 0 ? opts->frag_us : MP4_LIVE_DEFAULT_FRAG;
	m->from_zero = opts && opts->from_zero;
	m->lead = n; /* unset */
	for (unsigned i = 0; i < n; i++) {
		if (!tracks[i]) {
			mp4_live_free(m);
			return -EINVAL;
		}
		set_track(&m->tr[i], tracks[i]);
		m->tr[i].idx = idx[i];
		if (m->lead == n && m->tr[i].video)
			m->lead = i;
	}
	if (m->lead == n)
		m->lead = 0;
	*out = m;
	return 0;
}

void mp4_live_free(struct mp4_live *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < m->n; i++) {
		for (unsigned k = 0; k < m->tr[i].npend; k++)
			frame_unref(m->tr[i].pend[k]);
		free(m->tr[i].pend);
		track_clear(&m->tr[i].t);
	}
	free(m->samples);
	free(m);
}

int mp4_live_init(const struct mp4_live *m, struct bytes *out)
{
	const struct track *t[MP4_LIVE_MAX_TRACKS];
	for (unsigned i = 0; i < m->n; i++)
		t[i] = &m->tr[i].t;
	return fmp4_init(t, m->n, out);
}

int mp4_live_set_track(struct mp4_live *m, unsigned pos, const struct track *t)
{
	if (pos >= m->n || !t)
		return -EINVAL;
	set_track(&m->tr[pos], t);
	return 0;
}

unsigned mp4_live_track_index(const struct mp4_live *m, unsigned pos)
{
	return pos < m->n ? m->tr[pos].idx : 0;
}
unsigned mp4_live_track_count(const struct mp4_live *m)
{
	return m->n;
}
int64_t mp4_live_current_us(const struct mp4_live *m)
{
	return m->current_us;
}

/* Duration of pending frame i, or 0 when it is not known yet (a video
 * frame, or an audio frame without a sample count, whose successor has
 * not arrived and final is false). prev: the duration before it (0 when
 * none), repeated where a duration cannot be measured. */
static uint32_t duration(const struct mp4_live *m, struct ml_track *t, unsigned i, bool final,
			 uint32_t prev)
{
	const struct frame *f = t->pend[i];
	uint32_t guess = prev ? prev : t->timescale / 30 + 1;
	if (!t->video) {
		uint32_t s = fmp4_audio_frame_samples(&t->t, f);
		if (s)
			return s;
	}
	if (i + 1 >= t->npend)
		return final ? guess : 0;
	int64_t d = (int64_t)tick(m, t, t->pend[i + 1]->dts_us) - (int64_t)tick(m, t, f->dts_us);
	if (d > (int64_t)t->timescale * MAX_STEP_S)
		return guess; /* a jump, not a duration */
	return d > 0 ? (uint32_t)d : 1;
}

/* Releases pending frames [0, k). */
static void drop_front(struct ml_track *t, unsigned k)
{
	for (unsigned i = 0; i < k; i++)
		frame_unref(t->pend[i]);
	memmove(t->pend, t->pend + k, (t->npend - k) * sizeof(*t->pend));
	t->npend -= k;
}

/* Audio whose timestamps fall more than 100 ms behind the running decode
 * time (input that overlaps what was emitted) is dropped until it catches
 * up: going back would overlap the previous fragment (decode times must
 * increase). */
static void drop_stale_audio(const struct mp4_live *m, struct ml_track *t)
{
	if (t->video || !t->have_next)
		return;
	int64_t limit = t->timescale / 10;
	unsigned k = 0;
	while (k < t->npend && (int64_t)tick(m, t, t->pend[k]->dts_us) + limit < (int64_t)t->next_t)
		k++;
	drop_front(t, k);
}

/* Decode time of the first pending frame: video follows its dts (never
 * going back before what was emitted); audio runs on sample counts and
 * jumps forward to the dts past 100 ms of gap (drop_stale_audio has
 * removed what lags behind). */
static uint64_t base_time(const struct mp4_live *m, struct ml_track *t)
{
	uint64_t from_dts = tick(m, t, t->pend[0]->dts_us);
	if (t->video)
		return t->have_next && from_dts < t->next_t ? t->next_t : from_dts;
	int64_t gap = (int64_t)from_dts - (int64_t)t->next_t;
	if (!t->have_next || gap > (int64_t)t->timescale / 10)
		return from_dts;
	return t->next_t;
}

static int reserve_samples(struct mp4_live *m, unsigned n)
{
	if (n <= m->samples_cap)
		return 0;
	struct fmp4_sample *s = realloc(m->samples, n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	m->samples = s;
	m->samples_cap = n;
	return 0;
}

/* Emits track t's pending frames that decode before cutoff_us and whose
 * duration is known, as one fragment. */
static int emit_track(struct mp4_live *m, unsigned pos, int64_t cutoff_us, bool final,
		      const struct mp4_live_sink *sink)
{
	struct ml_track *t = &m->tr[pos];
	unsigned k = 0;
	drop_stale_audio(m, t);
	int rc = reserve_samples(m, t->npend ? t->npend : 1);
	if (rc)
		return rc;
	uint64_t total = 0;
	while (k < t->npend && t->pend[k]->dts_us < cutoff_us) {
		uint32_t d = duration(m, t, k, final, k ? m->samples[k - 1].duration : t->last_dur);
		if (!d)
			break;
		m->samples[k].f = t->pend[k];
		m->samples[k].duration = d;
		total += d;
		k++;
	}
	if (!k)
		return 0;
	uint64_t base = base_time(m, t);
	struct bytes *out = sink->open(sink->arg);
	if (!out)
		return -ENOMEM;
	size_t start = out->len;
	rc = fmp4_fragment(++m->seq, pos + 1, base, m->samples, k, out);
	if (!rc)
		rc = sink->close(sink->arg, start);
	if (rc)
		return rc;
	t->last_dur = m->samples[k - 1].duration;
	t->next_t = base + total;
	t->have_next = true;
	drop_front(t, k);
	return 0;
}

static int emit_all(struct mp4_live *m, int64_t cutoff_us, bool final,
		    const struct mp4_live_sink *sink)
{
	for (unsigned i = 0; i < m->n; i++) {
		int rc = emit_track(m, i, cutoff_us, final, sink);
		if (rc)
			return rc;
	}
	return 0;
}

static int append(struct ml_track *t, struct frame *f)
{
	if (t->npend == t->cap) {
		unsigned cap = t->cap ? t->cap * 2 : 64;
		struct frame **p = realloc(t->pend, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		t->pend = p;
		t->cap = cap;
	}
	t->pend[t->npend++] = frame_ref(f);
	return 0;
}

int mp4_live_push(struct mp4_live *m, struct frame *f, const struct mp4_live_sink *sink)
{
	unsigned pos = 0;
	while (pos < m->n && m->tr[pos].idx != f->track)
		pos++;
	if (pos == m->n)
		return 0;
	if (!m->have_origin) {
		m->origin_us = m->from_zero ? f->dts_us : 0;
		m->have_origin = true;
	}
	struct ml_track *t = &m->tr[pos];
	/* A track other than the lead that has not begun yet skips frames
	 * from before the timeline's origin (audio a TS input delivers late,
	 * in PES bursts, behind the keyframe the reader started at): their
	 * decode time would be clamped to the origin, stacking them on top
	 * of the frames that really play there. */
	if (pos != m->lead && !t->have_next && !t->npend && f->dts_us < m->origin_us)
		return 0;
	int rc = append(t, f);
	if (rc)
		return rc;
	int64_t cur = f->dts_us - m->origin_us;
	if (cur > m->current_us)
		m->current_us = cur;
	int64_t span = f->dts_us - t->pend[0]->dts_us;
	if (pos == m->lead && span >= m->frag_us)
		return emit_all(m, f->dts_us, false, sink);
	if (pos != m->lead && span >= STALL_FRAGS * m->frag_us)
		return emit_track(m, pos, INT64_MAX, false, sink);
	return 0;
}

int mp4_live_flush(struct mp4_live *m, const struct mp4_live_sink *sink)
{
	return emit_all(m, INT64_MAX, true, sink);
}
