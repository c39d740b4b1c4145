/* Progressive MPEG-TS and raw audio outputs:
 *   /<s>.ts   MPEG-TS: PAT+PMT first and before every video keyframe (every
 *             second of media when no video is selected), then one PES
 *             per frame.
 *   /<s>.aac  ADTS: one 7-byte header (copied) + the raw AU (by reference)
 *             per frame of one AAC track; 404 "no AAC track" without one.
 *   /<s>.mp3  MPEG audio frames of one MP3 track as they are (by
 *             reference); 404 "no MP3 track" without one.
 * Track selection: ?video=&audio= as everywhere; the audio formats take
 * the highest-bitrate track of their codec unless audio= picks one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/url.h"
#include "format/adts.h"
#include "format/ts.h"
#include "media/selector.h"
#include "proto/http/progressive.h"

#define PSI_AUDIO_ONLY_US 1000000

/* ---------------- MPEG-TS ---------------- */

struct ts_state {
	struct ts_mux *m;
	uint32_t gens[HUB_MAX_TRACKS];
	bool has_video, need_psi;
	int64_t last_psi_us;
};

static int ts_select(struct hub_stream *s, const char *query, uint64_t *mask, const char **why)
{
	static const enum codec ts[] = {CODEC_H264, CODEC_H265, CODEC_AAC, CODEC_MP3, CODEC_OPUS};
	prog_keep_codecs(s, mask, ts, sizeof(ts) / sizeof(*ts));
	*why = "no track matches the selection";
	return *mask ? 0 : 400;
}

static int ts_open(struct prog_viewer *v)
{
	struct ts_state *st = v->priv;
	struct hub_stream *s = hub_reader_stream(v->r);
	const struct track *tracks[HUB_MAX_TRACKS] = {0};
	unsigned n = hub_stream_track_count(s);
	for (unsigned i = 0; i < n && i < HUB_MAX_TRACKS; i++) {
		if (!(v->mask & (1ull << i)) || !(tracks[i] = hub_stream_track(s, i)))
			continue;
		st->gens[i] = tracks[i]->generation;
		st->has_video |= tracks[i]->type == TRACK_VIDEO;
	}
	st->m = ts_mux_new(tracks, n < HUB_MAX_TRACKS ? n : HUB_MAX_TRACKS, NULL);
	st->need_psi = true;
	return st->m ? 0 : -ENOMEM;
}

static int ts_put(struct prog_viewer *v, struct frame *f)
{
	struct ts_state *st = v->priv;
	if (f->track >= HUB_MAX_TRACKS)
		return 0;
	const struct track *t = hub_stream_track(hub_reader_stream(v->r), f->track);
	if (!t)
		return 0;
	if (t->generation != st->gens[f->track]) {
		int rc = ts_mux_update_track(st->m, f->track, t);
		if (rc)
			return rc;
		st->gens[f->track] = t->generation;
		st->need_psi = true;
	}
	bool psi = st->need_psi || (t->type == TRACK_VIDEO && (f->flags & FRAME_KEY)) ||
		   (!st->has_video && f->dts_us - st->last_psi_us >= PSI_AUDIO_ONLY_US);
	struct bytes *a = &v->out.arena;
	size_t from = a->len;
	int rc = psi ? ts_mux_psi(st->m, a) : 0;
	if (!rc && psi) {
		st->need_psi = false;
		st->last_psi_us = f->dts_us;
	}
	rc = rc ? rc : ts_mux_frame(st->m, f, a);
	return rc ? rc : prog_out_commit(&v->out, from);
}

static void ts_close(struct prog_viewer *v)
{
	struct ts_state *st = v->priv;
	if (st)
		ts_mux_free(st->m);
}

const struct prog_format prog_fmt_ts = {
    .name = "HTTPTS",
    .suffix = ".ts",
    .ctype = "video/mp2t",
    .select = ts_select,
    .priv_size = sizeof(struct ts_state),
    .open = ts_open,
    .put = ts_put,
    .close = ts_close,
};

/* ---------------- raw audio ---------------- */

/* One track of `codec`: the best one by default, else the first selected
 * one that has the codec. 404 when the stream has no such track. */
static int select_one(struct hub_stream *s, const char *query, uint64_t *mask, enum codec codec,
		      const char *missing, const char **why)
{
	const struct track *tracks[HUB_MAX_TRACKS] = {0};
	unsigned n = hub_stream_track_count(s);
	n = n < HUB_MAX_TRACKS ? n : HUB_MAX_TRACKS;
	uint64_t any = 0;
	for (unsigned i = 0; i < n; i++)
		if ((tracks[i] = hub_stream_track(s, i)) && tracks[i]->codec == codec)
			any |= 1ull << i;
	*why = missing;
	if (!any)
		return 404;
	char val[8];
	int len = query_get(query, "audio", val, sizeof(val));
	if (len == -ENOENT || len == 0) { /* not asked for: the best of the codec */
		char expr[32];
		snprintf(expr, sizeof(expr), "%s|maxbps", codec_name(codec));
		*mask = 0;
		selector_apply(expr, TRACK_AUDIO, tracks, n, mask);
	}
	*mask &= any;
	*mask &= ~(*mask - 1); /* lowest index only */
	*why = "no track matches the selection";
	return *mask ? 0 : 400;
}

static int aac_select(struct hub_stream *s, const char *query, uint64_t *mask, const char **why)
{
	return select_one(s, query, mask, CODEC_AAC, "no AAC track", why);
}

static int mp3_select(struct hub_stream *s, const char *query, uint64_t *mask, const char **why)
{
	return select_one(s, query, mask, CODEC_MP3, "no MP3 track", why);
}

struct aac_state {
	uint32_t gen;
	struct aac_asc asc;
};

static int aac_config(struct aac_state *st, const struct track *t)
{
	st->gen = t->generation;
	if (!t->config || aac_parse_asc(t->config->data, t->config->len, &st->asc))
		return -EPROTO;
	uint8_t probe[ADTS_HEADER_LEN];
	return adts_write(probe, &st->asc, 0) ? -ENOTSUP : 0;
}

static int aac_open(struct prog_viewer *v)
{
	unsigned idx = (unsigned)__builtin_ctzll(v->mask);
	const struct track *t = hub_stream_track(hub_reader_stream(v->r), idx);
	return t ? aac_config(v->priv, t) : -ENOENT;
}

static int aac_put(struct prog_viewer *v, struct frame *f)
{
	struct aac_state *st = v->priv;
	const struct track *t = hub_stream_track(hub_reader_stream(v->r), f->track);
	if (!t || t->codec != CODEC_AAC)
		return 0;
	if (t->generation != st->gen) {
		int rc = aac_config(st, t);
		if (rc)
			return rc;
	}
	uint8_t hdr[ADTS_HEADER_LEN];
	if (adts_write(hdr, &st->asc, f->len))
		return 0; /* too large for ADTS: skip the frame */
	int rc = prog_out_copy(&v->out, hdr, sizeof(hdr));
	return rc ? rc : prog_out_frame(&v->out, f, 0, f->len);
}

const struct prog_format prog_fmt_aac = {
    .name = "AAC",
    .suffix = ".aac",
    .ctype = "audio/aac",
    .select = aac_select,
    .priv_size = sizeof(struct aac_state),
    .open = aac_open,
    .put = aac_put,
};

static int mp3_open(struct prog_viewer *v)
{
	return 0;
}

static int mp3_put(struct prog_viewer *v, struct frame *f)
{
	return prog_out_frame(&v->out, f, 0, f->len);
}

const struct prog_format prog_fmt_mp3 = {
    .name = "MP3",
    .suffix = ".mp3",
    .ctype = "audio/mpeg",
    .select = mp3_select,
    .open = mp3_open,
    .put = mp3_put,
};

/* ---------------- drivers ---------------- */

static int ts_handler(struct http_conn *c, struct http_request *req, const struct server_env *env)
{
	return prog_serve(&prog_fmt_ts, c, req, env);
}
static int aac_handler(struct http_conn *c, struct http_request *req, const struct server_env *env)
{
	return prog_serve(&prog_fmt_aac, c, req, env);
}
static int mp3_handler(struct http_conn *c, struct http_request *req, const struct server_env *env)
{
	return prog_serve(&prog_fmt_mp3, c, req, env);
}

static const char *const ts_routes[] = {"*.ts", NULL};
static const char *const ts_codecs[] = {"H264", "HEVC", "AAC", "MP3", "opus", NULL};
static const char *const aac_routes[] = {"*.aac", NULL};
static const char *const aac_codecs[] = {"AAC", NULL};
static const char *const mp3_routes[] = {"*.mp3", NULL};
static const char *const mp3_codecs[] = {"MP3", NULL};

const struct driver httpts_driver = {
    .name = "HTTPTS",
    .desc = "Progressive MPEG-TS over HTTP (live from the newest keyframe)",
    .kind = DRIVER_OUTPUT,
    .patterns = ts_routes,
    .codecs = ts_codecs,
    .http_routes = ts_routes,
    .http_handler = ts_handler,
    .source_type = "html5/video/mp2t",
    .source_priority = 1,
    .source_url = "http://%H:%P/%S.ts",
};

const struct driver aac_driver = {
    .name = "AAC",
    .desc = "Progressive AAC audio in ADTS framing",
    .kind = DRIVER_OUTPUT,
    .patterns = aac_routes,
    .codecs = aac_codecs,
    .http_routes = aac_routes,
    .http_handler = aac_handler,
    .source_type = "html5/audio/aac",
    .source_priority = 1,
    .source_url = "http://%H:%P/%S.aac",
};

const struct driver mp3_driver = {
    .name = "MP3",
    .desc = "Progressive MP3 audio (raw MPEG audio frames)",
    .kind = DRIVER_OUTPUT,
    .patterns = mp3_routes,
    .codecs = mp3_codecs,
    .http_routes = mp3_routes,
    .http_handler = mp3_handler,
    .source_type = "html5/audio/mpeg",
    .source_priority = 1,
    .source_url = "http://%H:%P/%S.mp3",
};
