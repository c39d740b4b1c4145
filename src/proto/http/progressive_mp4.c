/* Progressive fragmented MP4: GET /<stream>.mp4 and /<stream>.fmp4 send
 * the live stream from its newest keyframe as an init segment (one trak
 * per selected track, track_IDs 1..n in index order) followed by one
 * moof+mdat per track about every 0.5 s of media (see mp4_live.h).
 * Decode times start at 0. A track config change flushes what is pending
 * and sends a new init segment before the next fragment. The same URL
 * with a WebSocket upgrade is MP4 over WebSocket (ws_mp4.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http/progressive.h"

struct mp4_state {
	struct mp4_live *ml;
	uint32_t gens[MP4_LIVE_MAX_TRACKS];
	struct mp4_live_sink sink;
};

int prog_mp4_new(struct hub_stream *s, uint64_t mask, bool from_zero, struct mp4_live **out,
		 uint32_t gens[MP4_LIVE_MAX_TRACKS])
{
	const struct track *tracks[MP4_LIVE_MAX_TRACKS];
	unsigned idx[MP4_LIVE_MAX_TRACKS], n = 0;
	for (unsigned i = 0; i < hub_stream_track_count(s) && n < MP4_LIVE_MAX_TRACKS; i++) {
		const struct track *t = hub_stream_track(s, i);
		if (!t || !(mask & (1ull << i)))
			continue;
		gens[n] = t->generation;
		idx[n] = i;
		tracks[n++] = t;
	}
	struct mp4_live_opts o = {.from_zero = from_zero};
	return mp4_live_new(out, tracks, idx, n, &o);
}

int prog_mp4_retrack(struct hub_stream *s, struct mp4_live *ml, uint32_t gens[MP4_LIVE_MAX_TRACKS],
		     const struct mp4_live_sink *sink)
{
	unsigned n = mp4_live_track_count(ml);
	bool changed = false;
	for (unsigned i = 0; i < n && !changed; i++) {
		const struct track *t = hub_stream_track(s, mp4_live_track_index(ml, i));
		changed = t && t->generation != gens[i];
	}
	if (!changed)
		return 0;
	int rc = mp4_live_flush(ml, sink);
	for (unsigned i = 0; i < n && !rc; i++) {
		const struct track *t = hub_stream_track(s, mp4_live_track_index(ml, i));
		if (!t || t->generation == gens[i])
			continue;
		gens[i] = t->generation;
		rc = mp4_live_set_track(ml, i, t);
	}
	return rc ? rc : 1;
}

static int put_init(struct prog_out *o, const struct mp4_live *ml)
{
	size_t from = o->arena.len;
	int rc = mp4_live_init(ml, &o->arena);
	return rc ? rc : prog_out_commit(o, from);
}

static int mp4_open(struct prog_viewer *v)
{
	struct mp4_state *st = v->priv;
	int rc = prog_mp4_new(hub_reader_stream(v->r), v->mask, true, &st->ml, st->gens);
	if (rc)
		return rc;
	prog_out_mp4_sink(&v->out, &st->sink);
	return put_init(&v->out, st->ml);
}

static int mp4_put(struct prog_viewer *v, struct frame *f)
{
	struct mp4_state *st = v->priv;
	int rc = prog_mp4_retrack(hub_reader_stream(v->r), st->ml, st->gens, &st->sink);
	if (rc > 0)
		rc = put_init(&v->out, st->ml);
	return rc < 0 ? rc : mp4_live_push(st->ml, f, &st->sink);
}

static int mp4_flush(struct prog_viewer *v)
{
	struct mp4_state *st = v->priv;
	return mp4_live_flush(st->ml, &st->sink);
}

static void mp4_close(struct prog_viewer *v)
{
	struct mp4_state *st = v->priv;
	if (st)
		mp4_live_free(st->ml);
}

#define MP4_FORMAT(sfx)                                                                            \
	{                                                                                          \
		.name = "MP4", .suffix = sfx, .ctype = "video/mp4", .select = prog_select_mp4,     \
		.priv_size = sizeof(struct mp4_state), .open = mp4_open, .put = mp4_put,           \
		.flush = mp4_flush, .close = mp4_close,                                            \
	}

const struct prog_format prog_fmt_mp4 = MP4_FORMAT(".mp4");
const struct prog_format prog_fmt_fmp4 = MP4_FORMAT(".fmp4");

static int mp4_handler(struct http_conn *c, struct http_request *req, const struct server_env *env)
{
	size_t len = strlen(req->path);
	bool fmp4 = len > 5 && !strcmp(req->path + len - 5, ".fmp4");
	if (req->upgrade_websocket)
		return ws_mp4_serve(c, req, env);
	return prog_serve(fmp4 ? &prog_fmt_fmp4 : &prog_fmt_mp4, c, req, env);
}

static const char *const mp4_routes[] = {"*.mp4", "*.fmp4", NULL};
static const char *const mp4_codecs[] = {"H264", "HEVC", "AV1", "VP9", "AAC", "MP3", "opus", NULL};

const struct driver mp4_driver = {
    .name = "MP4",
    .desc = "Progressive fragmented MP4 (live from the newest keyframe); WebSocket upgrade on "
	    "the same URL",
    .kind = DRIVER_OUTPUT,
    .patterns = mp4_routes,
    .codecs = mp4_codecs,
    .http_routes = mp4_routes,
    .http_handler = mp4_handler,
    .source_type = "html5/video/mp4",
    .source_priority = 8,
    .source_url = "http://%H:%P/%S.mp4",
};
