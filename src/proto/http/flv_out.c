/* Progressive HTTP-FLV output: GET /<stream>.flv streams the live stream
 * from its newest keyframe as an FLV file. Timestamps start at 0.
 * FLV carries one video and one audio track: ?video=&audio= select them
 * (the first selected track of each type is used); a type not asked for
 * gets its first track. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/streamname.h"
#include "format/flv.h"
#include "core/url.h"
#include "hub/hub.h"
#include "media/selector.h"
#include "proto/http/outputs.h"

#define FLV_BUDGET (256 * 1024)
/* Tag headers go to an arena sized to its use (small: a write holds it
 * until the kernel has the bytes, so big arenas cost memory per viewer). */
#define ARENA_MIN 2048
#define ARENA_MAX (64 * 1024)
#define MAX_IOV   512
#define MAX_REFS  160

struct flv_viewer {
	struct http_conn *c;
	struct hub_reader *r;
	uint32_t sent_gen[HUB_MAX_TRACKS];
	int64_t base_us;
	bool based;
	int vtrack, atrack; /* the tracks FLV carries, -1 = none */
	bool lazy;          /* no selector: first tracks, known at the first frame */
	bool busy;          /* inside pump: on_close defers the free */
	bool gone;          /* the connection closed while busy */
};

static void free_viewer(struct flv_viewer *v)
{
	hub_reader_free(v->r);
	free(v);
}

struct batch {
	uint8_t *arena;
	size_t used, cap, bytes;
	uv_buf_t iov[MAX_IOV];
	unsigned niov;
	struct frame *refs[MAX_REFS];
	unsigned nrefs;
};

static int flush(struct flv_viewer *v, struct batch *b)
{
	int rc = http_stream_write_now(v->c, b->iov, b->niov, b->refs, b->nrefs, b->arena);
	b->arena = NULL;
	b->used = b->cap = b->bytes = b->niov = b->nrefs = 0;
	return rc;
}

/* Reserves room for one tag; flushes first when the batch is full. */
static int room(struct flv_viewer *v, struct batch *b, size_t arena_bytes, unsigned iovs)
{
	if (b->arena &&
	    (b->used + arena_bytes > b->cap || b->niov + iovs > MAX_IOV || b->nrefs == MAX_REFS)) {
		int rc = flush(v, b);
		if (rc)
			return rc;
	}
	if (!b->arena) {
		b->cap = arena_bytes > ARENA_MIN ? arena_bytes : ARENA_MIN;
		if (!(b->arena = malloc(b->cap)))
			return -ENOMEM;
	}
	return 0;
}

static uint8_t *take(struct batch *b, size_t n)
{
	uint8_t *p = b->arena + b->used;
	b->used += n;
	return p;
}

/* Appends a whole tag whose body is small (config, metadata): copied. */
static int put_small_tag(struct flv_viewer *v, struct batch *b, unsigned type, uint32_t ts,
			 const struct bytes *body)
{
	size_t n = FLV_TAG_HEADER_LEN + body->len + 4;
	if (n > ARENA_MAX)
		return -EMSGSIZE;
	int rc = room(v, b, n, 1);
	if (rc)
		return rc;
	uint8_t *p = take(b, n);
	flv_tag_header(p, type, (uint32_t)body->len, ts);
	memcpy(p + FLV_TAG_HEADER_LEN, body->data, body->len);
	wr_be32(p + FLV_TAG_HEADER_LEN + body->len, (uint32_t)(n - 4));
	b->iov[b->niov++] = uv_buf_init((char *)p, (unsigned)n);
	b->bytes += n;
	return 0;
}

static int put_frame(struct flv_viewer *v, struct batch *b, const struct track *t, struct frame *f,
		     uint32_t ts)
{
	uint8_t prefix[FLV_MAX_PREFIX];
	int plen = flv_body_prefix(t, f, prefix);
	if (plen < 0)
		return 0; /* FLV cannot carry it: skip */
	int rc = room(v, b, FLV_TAG_HEADER_LEN + (size_t)plen + 4, 3);
	if (rc)
		return rc;
	uint32_t body_len = (uint32_t)((size_t)plen + f->len);
	uint8_t *h = take(b, FLV_TAG_HEADER_LEN + (size_t)plen);
	flv_tag_header(h, t->type == TRACK_VIDEO ? FLV_TAG_VIDEO : FLV_TAG_AUDIO, body_len, ts);
	memcpy(h + FLV_TAG_HEADER_LEN, prefix, (size_t)plen);
	uint8_t *tail = take(b, 4);
	wr_be32(tail, FLV_TAG_HEADER_LEN + body_len);
	b->iov[b->niov++] = uv_buf_init((char *)h, FLV_TAG_HEADER_LEN + (unsigned)plen);
	b->iov[b->niov++] = uv_buf_init((char *)f->data, (unsigned)f->len);
	b->iov[b->niov++] = uv_buf_init((char *)tail, 4);
	b->refs[b->nrefs++] = frame_ref(f);
	b->bytes += FLV_TAG_HEADER_LEN + body_len + 4;
	return 0;
}

/* First track of `type` among mask, or -1. */
static int first_in(struct hub_stream *s, enum track_type type, uint64_t mask)
{
	for (unsigned i = 0; i < hub_stream_track_count(s) && i < 64; i++) {
		const struct track *t = hub_stream_track(s, i);
		if (t && t->type == type && (mask & (1ull << i)))
			return (int)i;
	}
	return -1;
}

static int start_file(struct flv_viewer *v, struct batch *b)
{
	struct hub_stream *s = hub_reader_stream(v->r);
	if (v->lazy) {
		v->vtrack = first_in(s, TRACK_VIDEO, UINT64_MAX);
		v->atrack = first_in(s, TRACK_AUDIO, UINT64_MAX);
	}
	const struct track *vt = v->vtrack < 0 ? NULL : hub_stream_track(s, (unsigned)v->vtrack);
	const struct track *at = v->atrack < 0 ? NULL : hub_stream_track(s, (unsigned)v->atrack);
	struct bytes hdr = {0}, meta = {0};
	int rc = flv_file_header(&hdr, vt != NULL, at != NULL);
	rc = rc ?: room(v, b, hdr.len, 1);
	if (!rc) {
		uint8_t *p = take(b, hdr.len);
		memcpy(p, hdr.data, hdr.len);
		b->iov[b->niov++] = uv_buf_init((char *)p, (unsigned)hdr.len);
		rc = flv_metadata_body(&meta, vt, at);
	}
	rc = rc ?: put_small_tag(v, b, FLV_TAG_SCRIPT, 0, &meta);
	bytes_free(&hdr);
	bytes_free(&meta);
	return rc;
}

static int put(struct flv_viewer *v, struct batch *b, struct frame *f)
{
	struct hub_stream *s = hub_reader_stream(v->r);
	if (!v->based) {
		int rc = start_file(v, b);
		if (rc)
			return rc;
		v->base_us = f->dts_us;
		v->based = true;
	}
	if ((int)f->track != v->vtrack && (int)f->track != v->atrack)
		return 0;
	const struct track *t = hub_stream_track(s, f->track);
	int64_t rel = (f->dts_us - v->base_us) / 1000;
	uint32_t ts = rel > 0 ? (uint32_t)rel : 0;
	if (v->sent_gen[f->track] != t->generation) {
		struct bytes cfg = {0};
		int rc = flv_config_body(t, &cfg);
		if (!rc)
			rc = put_small_tag(
			    v, b, t->type == TRACK_VIDEO ? FLV_TAG_VIDEO : FLV_TAG_AUDIO, ts, &cfg);
		bytes_free(&cfg);
		if (rc && rc != -ENOENT && rc != -ENOTSUP)
			return rc;
		v->sent_gen[f->track] = t->generation;
	}
	return put_frame(v, b, t, f, ts);
}

static void pump(struct flv_viewer *v)
{
	struct batch b; /* not zeroed (8 KB): flush() resets the counters */
	b.arena = NULL;
	b.used = b.cap = b.bytes = b.niov = b.nrefs = 0;
	int rc = 0, frc = 0;
	bool full; /* stopped by the budget with frames left */
	v->busy = true;
	/* A batch written at once gets no drain callback and the reader has
	 * no wake pending while frames are left: go on while there is room. */
	do {
		full = false;
		while (!v->gone) {
			if (http_stream_queued(v->c) + b.bytes >= FLV_BUDGET) {
				full = true;
				break;
			}
			struct frame *f;
			rc = hub_reader_next(v->r, &f);
			if (rc <= 0)
				break;
			rc = put(v, &b, f);
			frame_unref(f);
			if (rc < 0)
				break;
		}
		frc = flush(v, &b);
	} while (full && frc == 0 && !v->gone && http_stream_queued(v->c) < FLV_BUDGET / 2);
	v->busy = false;
	if (v->gone) { /* a failed write closed the connection meanwhile */
		free_viewer(v);
		return;
	}
	if (rc == 0 && frc == 0)
		return;
	struct http_conn *c = v->c;
	if (rc == -ENOBUFS)
		LOGF(LOG_INFO, http_conn_info(c)->stream, "FLV viewer %s too slow, dropped",
		     http_conn_peer(c));
	/* stream over, viewer too slow or write failed: end the response */
	http_stream_set_callbacks(c, NULL, NULL, NULL);
	free_viewer(v);
	http_stream_end(c);
}

static void on_wake(struct hub_reader *r, void *arg)
{
	pump(arg);
}
static void on_drain(void *arg)
{
	pump(arg);
}
static void on_close(void *arg)
{
	struct flv_viewer *v = arg;
	if (v->busy)
		v->gone = true;
	else
		free_viewer(v);
}

/* Picks the video and audio track from ?video=&audio=. 0, or -EINVAL
 * with the reason in err. */
static int select_tracks(struct hub_stream *s, const char *query, struct flv_viewer *v, char *err,
			 size_t errlen)
{
	const struct track *tracks[HUB_MAX_TRACKS] = {0};
	unsigned n = hub_stream_track_count(s);
	n = n < HUB_MAX_TRACKS ? n : HUB_MAX_TRACKS;
	for (unsigned i = 0; i < n; i++)
		tracks[i] = hub_stream_track(s, i);
	uint64_t mask;
	if (selector_from_query(query, tracks, n, &mask, err, errlen))
		return -EINVAL;
	char val[8];
	int len = query_get(query, "video", val, sizeof(val));
	bool vdef = len == -ENOENT || len == 0;
	len = query_get(query, "audio", val, sizeof(val));
	bool adef = len == -ENOENT || len == 0;
	v->vtrack = first_in(s, TRACK_VIDEO, vdef ? UINT64_MAX : mask);
	v->atrack = first_in(s, TRACK_AUDIO, adef ? UINT64_MAX : mask);
	v->lazy = vdef && adef;
	if (!v->lazy && v->vtrack < 0 && v->atrack < 0) {
		snprintf(err, errlen, "no track matches the selection");
		return -EINVAL;
	}
	return 0;
}

static int flv_handler(struct http_conn *c, struct http_request *req, const struct server_env *env)
{
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD"))
		return http_respond_error(c, 405, NULL);
	char name[STREAMNAME_MAX + 1];
	if (http_stream_from_path(req->path, "/", ".flv", name, sizeof(name)) < 0)
		return http_respond_error(c, 400, "invalid stream name");
	struct hub_stream *s = hub_want(env->hub, name);
	if (!s || hub_stream_state(s) != STREAM_READY)
		return http_respond_error(c, 404, "Stream is offline");
	struct flv_viewer sel;
	char err[96];
	if (select_tracks(s, req->query, &sel, err, sizeof(err)))
		return http_respond_error(c, 400, err);
	struct conn_info *ci = http_conn_info(c);
	snprintf(ci->stream, sizeof(ci->stream), "%s", name);
	ci->protocol = "FLV";
	int rc = http_stream_begin(c, 200, "video/x-flv", true);
	if (rc)
		return rc < 0 ? rc : 0;
	ci->role = CONN_VIEWER;
	struct flv_viewer *v = calloc(1, sizeof(*v));
	struct hub_reader_opts o = {0}; /* lazy: every track, chosen at the first frame */
	if (!sel.lazy && sel.vtrack >= 0)
		o.track_mask |= 1ull << sel.vtrack;
	if (!sel.lazy && sel.atrack >= 0)
		o.track_mask |= 1ull << sel.atrack;
	o.coalesce = sel.lazy || sel.vtrack >= 0; /* audio rides with video */
	if (!v || !(v->r = hub_reader_new(s, &o, on_wake, v))) {
		free(v);
		http_stream_end(c);
		return 0;
	}
	v->c = c;
	v->vtrack = sel.vtrack;
	v->atrack = sel.atrack;
	v->lazy = sel.lazy;
	LOGF(LOG_INFO, name, "HTTP-FLV viewer %s, video track %d, audio track %d",
	     http_conn_peer(c), v->vtrack, v->atrack);
	http_stream_set_callbacks(c, on_drain, on_close, v);
	pump(v);
	return 0;
}

static const char *const flv_routes[] = {"*.flv", NULL};
static const char *const flv_codecs[] = {"H264", "HEVC", "AV1", "VP9", "AAC", "MP3", NULL};

const struct driver flv_driver = {
    .name = "FLV",
    .desc = "Progressive HTTP-FLV (Enhanced RTMP codecs for HEVC, AV1, VP9)",
    .kind = DRIVER_OUTPUT,
    .patterns = flv_routes,
    .codecs = flv_codecs,
    .http_routes = flv_routes,
    .http_handler = flv_handler,
    .source_type = "flash/7",
    .source_priority = 5,
    .source_url = "http://%H:%P/%S.flv",
};
