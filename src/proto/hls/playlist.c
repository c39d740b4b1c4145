/* Playlists and manifests from segmenter state: HLS master and media
 * playlists (TS or CMAF, with or without LL-HLS) and the DASH MPD. */
#include "proto/hls/playlist.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "format/m3u8.h"
#include "format/mpd.h"
#include "media/codecstr.h"

#define PARTS_LISTED_SEGS 3 /* segments whose parts are listed (LL) */
/* PART-HOLD-BACK in parts: the spec's minimum (RFC 8216bis: at least
 * twice the part target; three times is only recommended). Players keep
 * this far behind the newest part: 2 x 500 ms keeps them within 2 s of
 * real time, and parts are produced on time (the hinted part is streamed
 * as it is made, blocking reloads are answered the moment a part closes). */
#define PART_HOLD_BACK_PARTS 2

static const char *ext(const struct segmenter *sg)
{
	return sg->kind == SEG_TS ? "ts" : "m4s";
}

static const struct track *rend_track(const struct seg_rend *r)
{
	return hub_stream_track(hub_reader_stream(r->sg->r), (unsigned)r->drive);
}

/* Everything a media playlist points to lives in its own folder, so URIs
 * are relative: "<msn>.ts", "<msn>.<part>.m4s", "init<gen>.mp4". Names
 * are kept in one arena for the lifetime of the description. */
struct names {
	char (*v)[48];
	unsigned n, cap;
};

static const char *name(struct names *nm, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *name(struct names *nm, const char *fmt, ...)
{
	if (nm->n == nm->cap)
		return "";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(nm->v[nm->n], sizeof(nm->v[0]), fmt, ap);
	va_end(ap);
	return nm->v[nm->n++];
}

static bool last_part(const struct seg_rend *r, uint64_t *msn, int *part)
{
	if (!r->started)
		return false;
	const struct seg_segment *cur = &r->segs[r->cur_msn % SEG_WINDOW];
	if (cur->nparts) {
		*msn = r->cur_msn;
		*part = (int)cur->nparts - 1;
		return true;
	}
	if (r->cur_msn == r->first_msn)
		return false;
	const struct seg_segment *prev = &r->segs[(r->cur_msn - 1) % SEG_WINDOW];
	*msn = r->cur_msn - 1;
	*part = (int)prev->nparts - 1;
	return true;
}

bool pl_ready(const struct seg_rend *r, uint64_t msn, int part)
{
	if (r->sg->ended)
		return true;
	if (!r->started)
		return false;
	if (msn < r->cur_msn)
		return true;
	if (msn > r->cur_msn || part < 0)
		return false;
	return r->segs[msn % SEG_WINDOW].nparts > (unsigned)part;
}

static void fill_parts(const struct seg_rend *r, const struct seg_segment *s, struct m3u8_part *out,
		       struct names *nm)
{
	for (unsigned i = 0; i < s->nparts; i++) {
		out[i].dur_us = s->parts[i].dur_us;
		out[i].independent = s->parts[i].independent;
		out[i].uri = name(nm, "%llu.%u.%s", (unsigned long long)s->msn, i, ext(r->sg));
	}
}

static void fill_reports(const struct seg_rend *r, struct m3u8_report *rep, unsigned *n,
			 struct names *nm, const char *q)
{
	*n = 0;
	for (unsigned i = 0; i < r->sg->nrends; i++) {
		const struct seg_rend *o = &r->sg->rends[i];
		uint64_t msn;
		int part;
		if (o == r || !last_part(o, &msn, &part))
			continue;
		rep[*n].uri = name(nm, "../%s/index.m3u8%s", o->id, q);
		rep[*n].last_msn = msn;
		rep[(*n)++].last_part = part;
	}
}

int pl_media(const struct seg_rend *r, const struct pl_opts *o, struct bytes *out)
{
	struct m3u8_segment segs[SEG_LISTED + 1];
	struct m3u8_part parts[SEG_LISTED + 1][SEG_MAX_PARTS];
	struct m3u8_report reps[SEG_MAX_RENDS];
	char arena[(SEG_LISTED + 1) * (SEG_MAX_PARTS + 2) + SEG_MAX_RENDS + 4][48];
	struct names nm = {.v = arena, .cap = sizeof(arena) / sizeof(arena[0])};
	const struct segmenter *sg = r->sg;
	struct m3u8_media m = {.independent_segments = true};
	m.version = o->skip ? 9 : sg->kind == SEG_TS && !o->ll ? 3 : 6;
	/* Nearest second, as EXTINF durations are compared rounded: 2.005 s
	 * segments keep a target of 2 (it must not change mid-stream). */
	m.target_us = (seg_target_duration_us(sg) + 500000) / 1000000 * 1000000;
	m.ended = sg->ended;
	uint64_t first = r->first_msn;
	uint64_t end = r->started ? r->cur_msn : first; /* complete: [first, end) */
	if (end - first > SEG_LISTED)
		first = end - SEG_LISTED;
	uint32_t last_gen = 0;
	unsigned n = 0;
	for (uint64_t msn = first; r->started && msn <= r->cur_msn; msn++) {
		const struct seg_segment *s = &r->segs[msn % SEG_WINDOW];
		bool current = msn == r->cur_msn && !s->complete;
		if (current && (!o->ll || !s->nparts) && !sg->ended)
			break;
		if (current && !s->nparts)
			break;
		struct m3u8_segment *ms = &segs[n];
		memset(ms, 0, sizeof(*ms));
		ms->msn = msn;
		ms->dur_us = s->dur_us;
		ms->pdt_ms = s->pdt_ms;
		ms->discontinuity = s->discontinuity && n > 0;
		if (sg->kind == SEG_CMAF && (n == 0 || s->init_gen != last_gen))
			ms->map_uri = name(&nm, "init%u.mp4", s->init_gen);
		last_gen = s->init_gen;
		ms->uri =
		    s->complete ? name(&nm, "%llu.%s", (unsigned long long)msn, ext(sg)) : NULL;
		if (o->ll && msn + PARTS_LISTED_SEGS >= r->cur_msn) {
			fill_parts(r, s, parts[n], &nm);
			ms->parts = parts[n];
			ms->nparts = s->nparts;
		}
		n++;
	}
	m.segs = segs;
	m.nsegs = n;
	m.first_msn = n ? segs[0].msn : r->cur_msn;
	if (o->ll) {
		m.part_target_us = SEG_PART_US;
		m.part_hold_back_us = PART_HOLD_BACK_PARTS * SEG_PART_US;
		m.can_skip_until_us = 6 * m.target_us;
		m.can_block_reload = true;
		if (!sg->ended && r->started) {
			const struct seg_segment *cur = &r->segs[r->cur_msn % SEG_WINDOW];
			m.preload_hint_uri = name(&nm, "%llu.%u.%s", (unsigned long long)r->cur_msn,
						  cur->nparts, ext(sg));
		}
		fill_reports(r, reps, &m.nreports, &nm, o->query);
		m.reports = reps;
		/* Delta update: skip what is older than CAN-SKIP-UNTIL. */
		if (o->skip && n > 1) {
			int64_t keep = 0;
			unsigned skip = n;
			while (skip > 0 && keep < m.can_skip_until_us)
				keep += segs[--skip].dur_us;
			m.skip_segments = skip;
		}
	}
	return m3u8_write_media(&m, out);
}

static void track_codec(const struct track *t, char *buf, size_t len)
{
	if (codec_string(t, buf, len) < 0)
		snprintf(buf, len, "%s", codec_name(t->codec));
}

static uint32_t bw_of(const struct track *t)
{
	uint32_t b = t ? t->bitrate_bps : 0;
	return b ? b + b / 5 : (t && t->type == TRACK_VIDEO ? 2000000 : 128000);
}

int pl_master(const struct segmenter *sg, const char *query, struct bytes *out)
{
	struct m3u8_variant v[SEG_MAX_RENDS];
	struct m3u8_alt_audio a[SEG_MAX_RENDS];
	char codecs[SEG_MAX_RENDS][96], uris[SEG_MAX_RENDS][64];
	unsigned nv = 0, na = 0;
	struct hub_stream *s = hub_reader_stream(sg->r);
	for (unsigned i = 0; i < sg->nrends; i++) {
		const struct seg_rend *r = &sg->rends[i];
		snprintf(uris[i], sizeof(uris[i]), "%s/index.m3u8%s", r->id, query);
		const struct track *t = rend_track(r);
		if (sg->kind == SEG_CMAF && sg->has_video && t->type == TRACK_AUDIO) {
			a[na] = (struct m3u8_alt_audio){.group = "aud",
							.uri = uris[i],
							.is_default = na == 0,
							.channels = t->channels,
							.lang = t->lang[0] ? t->lang : NULL};
			a[na].name = r->id;
			na++;
			continue;
		}
		struct m3u8_variant *x = &v[nv++];
		memset(x, 0, sizeof(*x));
		x->uri = uris[i];
		codecs[i][0] = 0;
		uint32_t bw = 0;
		for (unsigned k = 0; k < HUB_MAX_TRACKS; k++) {
			const struct track *tk = (r->mask >> k) & 1 ? hub_stream_track(s, k) : NULL;
			if (!tk)
				continue;
			char c[48];
			track_codec(tk, c, sizeof(c));
			size_t l = strlen(codecs[i]);
			snprintf(codecs[i] + l, sizeof(codecs[i]) - l, "%s%s", l ? "," : "", c);
			bw += bw_of(tk);
			if (tk->type == TRACK_VIDEO && !x->width) {
				x->width = tk->width;
				x->height = tk->height;
				x->fps_milli = tk->fps_milli;
			}
		}
		x->codecs = codecs[i];
		x->bandwidth_bps = bw;
	}
	/* Video variants carry the audio group: their CODECS must list it too. */
	for (unsigned i = 0; i < nv && na; i++) {
		v[i].audio_group = "aud";
		for (unsigned k = 0; k < sg->nrends; k++) {
			const struct track *t = rend_track(&sg->rends[k]);
			if (t->type != TRACK_AUDIO)
				continue;
			char c[48];
			track_codec(t, c, sizeof(c));
			size_t idx = (size_t)(v[i].codecs - codecs[0]) / sizeof(codecs[0]);
			size_t l = strlen(codecs[idx]);
			snprintf(codecs[idx] + l, sizeof(codecs[idx]) - l, ",%s", c);
			v[i].bandwidth_bps += bw_of(t);
			break;
		}
	}
	return m3u8_write_master(sg->kind == SEG_TS ? 3 : 6, a, na, v, nv, out);
}

static int64_t now_unix_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int pl_mpd(struct segmenter *sg, const char *utc_uri, struct bytes *out)
{
	struct mpd_representation reps[SEG_MAX_RENDS];
	struct mpd_timeline_entry tl[SEG_MAX_RENDS][SEG_LISTED];
	char codecs[SEG_MAX_RENDS][64];
	unsigned nr = 0;
	int64_t ast_ms = 0;
	for (unsigned i = 0; i < sg->nrends; i++) {
		const struct seg_rend *r = &sg->rends[i];
		const struct track *t = rend_track(r);
		uint64_t starts[SEG_LISTED], durs[SEG_LISTED];
		unsigned n = 0;
		uint64_t first = r->first_msn, end = r->started ? r->cur_msn : first;
		if (end - first > SEG_LISTED)
			first = end - SEG_LISTED;
		for (uint64_t msn = first; msn < end; msn++) {
			const struct seg_segment *s = &r->segs[msn % SEG_WINDOW];
			starts[n] = s->t_start;
			durs[n++] = s->t_dur;
			if (!ast_ms)
				ast_ms = s->pdt_ms - (int64_t)(s->t_start * 1000 / r->timescale);
		}
		if (!n)
			continue;
		struct mpd_representation *x = &reps[nr];
		memset(x, 0, sizeof(*x));
		x->id = r->id;
		x->mime = t->type == TRACK_VIDEO ? "video/mp4" : "audio/mp4";
		track_codec(t, codecs[nr], sizeof(codecs[nr]));
		x->codecs = codecs[nr];
		x->bandwidth_bps = bw_of(t);
		x->width = t->width;
		x->height = t->height;
		x->fps_milli = t->fps_milli;
		x->sample_rate = t->type == TRACK_AUDIO ? t->rate : 0;
		x->channels = t->type == TRACK_AUDIO ? t->channels : 0;
		x->lang = t->lang[0] ? t->lang : NULL;
		x->timescale = r->timescale;
		x->start_number = first;
		x->init_template = "$RepresentationID$/init.mp4";
		x->media_template = "$RepresentationID$/$Number$.m4s";
		int k = mpd_compact_timeline(starts, durs, n, tl[nr], SEG_LISTED);
		if (k < 0)
			return k;
		x->timeline = tl[nr];
		x->ntimeline = (unsigned)k;
		nr++;
	}
	if (!sg->ast_ms)
		sg->ast_ms = ast_ms;
	int64_t target_ms = seg_target_duration_us(sg) / 1000;
	struct mpd m = {
	    .dynamic = !sg->ended,
	    .availability_start_ms = sg->ast_ms,
	    .publish_time_ms = now_unix_ms(),
	    .min_update_period_ms = target_ms,
	    .time_shift_depth_ms = target_ms * SEG_LISTED,
	    .min_buffer_ms = target_ms,
	    .suggested_delay_ms = 3 * target_ms,
	    .max_segment_ms = target_ms,
	    .utc_timing_uri = utc_uri,
	    .reps = reps,
	    .nreps = nr,
	};
	return mpd_write(&m, out);
}
