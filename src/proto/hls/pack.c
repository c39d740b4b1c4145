/* Packaging of the chunks parts are made of: MPEG-TS (PSI at a part's
 * start, then a PES per frame) or CMAF fragments (moof + mdat of a single
 * track). */
#include "proto/hls/seg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "format/fmp4.h"
#include "format/ts.h"

/* Microseconds to timescale units, rounding to nearest (floor for <0). */
static int64_t to_ts(int64_t us, uint32_t timescale)
{
	__int128 v = (__int128)us * timescale;
	return (int64_t)(v >= 0 ? (v + 500000) / 1000000 : (v - 500000) / 1000000);
}

static int pack_ts(struct seg_rend *r, struct frame **frames, unsigned n, bool part_start,
		   struct wbuf **out)
{
	struct bytes b = {0};
	int rc = part_start ? ts_mux_psi(r->ts, &b) : 0;
	for (unsigned i = 0; i < n && !rc; i++)
		rc = ts_mux_frame(r->ts, frames[i], &b);
	if (!rc && !(*out = wbuf_from(b.data, b.len)))
		rc = -ENOMEM;
	bytes_free(&b);
	return rc;
}

/* Audio decode time runs on sample counts. When the frames' timestamps
 * fall more than 100 ms behind it (overlapping input), frames are dropped
 * until they catch up; when they run ahead (a gap), it jumps forward.
 * It never goes backwards. Returns whether frame f is to be used. */
static bool audio_keep(struct seg_rend *r, const struct frame *f, bool may_jump)
{
	int64_t from_dts = to_ts(f->dts_us, r->timescale);
	if (from_dts < 0)
		from_dts = 0;
	int64_t slack = (int64_t)r->timescale / 10;
	if (!r->have_next_t || (may_jump && from_dts > (int64_t)r->next_t + slack)) {
		r->next_t = (uint64_t)from_dts;
		r->have_next_t = true;
	}
	return from_dts + slack >= (int64_t)r->next_t;
}

static uint32_t sample_duration(struct seg_rend *r, const struct track *t, struct frame **frames,
				unsigned i, unsigned n, int64_t end_us)
{
	uint32_t d = t->type == TRACK_AUDIO ? fmp4_audio_frame_samples(t, frames[i]) : 0;
	if (!d) {
		int64_t next_us = i + 1 < n ? frames[i + 1]->dts_us : end_us;
		int64_t dd = to_ts(next_us, r->timescale) - to_ts(frames[i]->dts_us, r->timescale);
		d = dd > 0 ? (uint32_t)dd : 1;
	}
	return d;
}

/* Returns -EAGAIN when every frame was dropped (nothing to package). The
 * audio decode time only jumps at a part's start, so that a part's
 * fragments continue each other. */
static int pack_cmaf(struct seg_rend *r, struct frame **frames, unsigned n, int64_t end_us,
		     bool part_start, struct wbuf **out, uint64_t *t_start, uint64_t *t_dur)
{
	const struct track *t = hub_stream_track(hub_reader_stream(r->sg->r), (unsigned)r->drive);
	struct fmp4_sample *s = calloc(n, sizeof(*s));
	if (!s || !t) {
		free(s);
		return -ENOMEM;
	}
	bool audio = t->type == TRACK_AUDIO;
	uint64_t base = 0, total = 0;
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		if (audio && !audio_keep(r, frames[i], part_start && k == 0))
			continue;
		if (k == 0) {
			int64_t v = to_ts(frames[i]->dts_us, r->timescale);
			base = audio ? r->next_t : (uint64_t)(v > 0 ? v : 0);
		}
		s[k].f = frames[i];
		s[k].duration = sample_duration(r, t, frames, i, n, end_us);
		total += s[k].duration;
		if (audio)
			r->next_t += s[k].duration;
		k++;
	}
	struct bytes b = {0};
	int rc = k ? fmp4_fragment(++r->frag_seq, 1, base, s, k, &b) : -EAGAIN;
	free(s);
	if (!rc && !(*out = wbuf_from(b.data, b.len)))
		rc = -ENOMEM;
	bytes_free(&b);
	if (rc)
		return rc;
	*t_start = base;
	*t_dur = total;
	return 0;
}

int seg_pack_part(struct seg_rend *r, struct frame **frames, unsigned n, int64_t end_dts_us,
		  bool part_start, struct wbuf **out, uint64_t *t_start, uint64_t *t_dur)
{
	*out = NULL;
	if (r->sg->kind == SEG_TS) {
		*t_start = (uint64_t)to_ts(frames[0]->dts_us > 0 ? frames[0]->dts_us : 0, 90000);
		*t_dur = (uint64_t)to_ts(end_dts_us - frames[0]->dts_us, 90000);
		return pack_ts(r, frames, n, part_start, out);
	}
	return pack_cmaf(r, frames, n, end_dts_us, part_start, out, t_start, t_dur);
}

int seg_pack_init(struct seg_rend *r, struct hub_stream *s)
{
	const struct track *tracks[HUB_MAX_TRACKS] = {0};
	unsigned n = hub_stream_track_count(s);
	for (unsigned i = 0; i < n; i++) {
		tracks[i] = (r->mask & (1ull << i)) ? hub_stream_track(s, i) : NULL;
		if (tracks[i])
			r->gens[i] = tracks[i]->generation;
	}
	if (r->sg->kind == SEG_TS) {
		if (r->ts) {
			for (unsigned i = 0; i < n; i++)
				if (tracks[i])
					ts_mux_update_track(r->ts, i, tracks[i]);
			return 0;
		}
		r->ts = ts_mux_new(tracks, n, NULL);
		return r->ts ? 0 : -ENOMEM;
	}
	const struct track *t = tracks[r->drive];
	if (!t)
		return -ENOENT;
	struct bytes b = {0};
	int rc = fmp4_init(&t, 1, &b);
	if (!rc) {
		wbuf_unref(r->init);
		r->init = wbuf_from(b.data, b.len);
		r->init_gen++;
		r->timescale = fmp4_timescale(t);
		if (!r->init)
			rc = -ENOMEM;
	}
	bytes_free(&b);
	return rc;
}

void seg_pack_free(struct seg_rend *r)
{
	ts_mux_free(r->ts);
	r->ts = NULL;
	wbuf_unref(r->init);
	r->init = NULL;
}
