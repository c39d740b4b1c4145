/* Progressive HTTP outputs, shared part: gathered output with frame
 * references, request checks with track selection, and the viewer loop
 * (hub reader with wake, byte budget, drain, close). The containers are
 * table entries (struct prog_format) in progressive_mp4.c and
 * progressive_es.c. */
#include "proto/http/progressive.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "media/selector.h"
#include "proto/http/outputs.h"

/* ---------------- gathered output ---------------- */

/* Writes the batch; arena[keep_from..len) (not yet a piece) moves to the
 * start of a fresh arena. */
static int write_batch(struct prog_out *o, size_t keep_from)
{
	struct bytes keep = {0};
	int rc = 0;
	if (keep_from < o->arena.len &&
	    bytes_append(&keep, o->arena.data + keep_from, o->arena.len - keep_from))
		rc = -ENOMEM;
	uv_buf_t bufs[PROG_MAX_PIECES];
	for (unsigned i = 0; i < o->npieces; i++) {
		const struct prog_piece *p = &o->pieces[i];
		const uint8_t *base = p->ext ? p->ext : o->arena.data + p->off;
		bufs[i] = uv_buf_init((char *)base, (unsigned)p->len);
	}
	/* http_stream_write takes the references and the arena, also on error */
	int wrc = http_stream_write(o->c, bufs, o->npieces, o->refs, o->nrefs, o->arena.data);
	o->arena = keep;
	o->npieces = o->nrefs = 0;
	o->bytes = 0;
	return rc ? rc : wrc;
}

int prog_out_flush(struct prog_out *o)
{
	if (!o->npieces && !o->nrefs) {
		o->arena.len = 0;
		return 0;
	}
	return write_batch(o, o->arena.len);
}

void prog_out_discard(struct prog_out *o)
{
	for (unsigned i = 0; i < o->nrefs; i++)
		frame_unref(o->refs[i]);
	bytes_free(&o->arena);
	o->npieces = o->nrefs = 0;
	o->bytes = 0;
}

size_t prog_out_pending(const struct prog_out *o)
{
	return http_stream_queued(o->c) + o->bytes;
}

/* Whether the last piece is arena bytes ending exactly at off. */
static bool extends_last(const struct prog_out *o, size_t off)
{
	const struct prog_piece *p = o->npieces ? &o->pieces[o->npieces - 1] : NULL;
	return p && !p->ext && p->off + p->len == off;
}

int prog_out_commit(struct prog_out *o, size_t from)
{
	size_t n = o->arena.len - from;
	if (!n)
		return 0;
	if (extends_last(o, from)) {
		o->pieces[o->npieces - 1].len += n;
		o->bytes += n;
		return 0;
	}
	if (o->npieces == PROG_MAX_PIECES) {
		int rc = write_batch(o, from);
		if (rc)
			return rc;
		from = 0;
	}
	o->pieces[o->npieces++] = (struct prog_piece){.off = from, .len = n};
	o->bytes += n;
	return 0;
}

int prog_out_copy(struct prog_out *o, const void *p, size_t n)
{
	size_t from = o->arena.len;
	int rc = bytes_append(&o->arena, p, n);
	return rc ? rc : prog_out_commit(o, from);
}

int prog_out_frame(struct prog_out *o, struct frame *f, size_t off, size_t len)
{
	if (!len)
		return 0;
	if (o->npieces == PROG_MAX_PIECES || o->nrefs == PROG_MAX_REFS) {
		int rc = write_batch(o, o->arena.len);
		if (rc)
			return rc;
	}
	o->pieces[o->npieces++] = (struct prog_piece){.ext = f->data + off, .len = len};
	o->refs[o->nrefs++] = frame_ref(f);
	o->bytes += len;
	return 0;
}

static struct bytes *sink_open(void *arg)
{
	return &((struct prog_out *)arg)->arena;
}

static int sink_close(void *arg, size_t start)
{
	return prog_out_commit(arg, start);
}

void prog_out_mp4_sink(struct prog_out *o, struct mp4_live_sink *sink)
{
	*sink = (struct mp4_live_sink){.open = sink_open, .close = sink_close, .arg = o};
}

/* ---------------- requests ---------------- */

static int answer(struct http_conn *c, int status, const char *msg)
{
	int rc = http_respond_error(c, status, msg);
	return rc < 0 ? rc : 1;
}

void prog_keep_codecs(struct hub_stream *s, uint64_t *mask, const enum codec *codecs, unsigned n)
{
	for (unsigned i = 0; i < hub_stream_track_count(s) && i < 64; i++) {
		const struct track *t = hub_stream_track(s, i);
		bool ok = false;
		for (unsigned k = 0; t && k < n && !ok; k++)
			ok = t->codec == codecs[k];
		if (!ok)
			*mask &= ~(1ull << i);
	}
}

int prog_select_mp4(struct hub_stream *s, const char *query, uint64_t *mask, const char **why)
{
	static const enum codec mp4[] = {CODEC_H264, CODEC_H265, CODEC_AV1, CODEC_VP9,
					 CODEC_AAC,  CODEC_MP3,  CODEC_OPUS};
	prog_keep_codecs(s, mask, mp4, sizeof(mp4) / sizeof(*mp4));
	*why = "no track matches the selection";
	return *mask ? 0 : 400;
}

const char *prog_mask_str(uint64_t mask, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < 64 && o + 1 < len; i++) {
		if (!(mask & (1ull << i)))
			continue;
		int n = snprintf(buf + o, len - o, "%s%u", o ? "," : "", i);
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
	return buf;
}

int prog_check(struct http_conn *c, struct http_request *req, const struct server_env *env,
	       const char *suffix, prog_select_fn select, struct prog_req *out)
{
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD"))
		return answer(c, 405, NULL);
	if (http_stream_from_path(req->path, "/", suffix, out->name, sizeof(out->name)) < 0)
		return answer(c, 400, "invalid stream name");
	struct hub_stream *s = hub_want(env->hub, out->name);
	if (!s || hub_stream_state(s) != STREAM_READY)
		return answer(c, 404, "Stream is offline");
	const struct track *tracks[HUB_MAX_TRACKS] = {0};
	unsigned n = hub_stream_track_count(s);
	for (unsigned i = 0; i < n && i < HUB_MAX_TRACKS; i++)
		tracks[i] = hub_stream_track(s, i);
	char err[96];
	uint64_t mask = 0;
	if (selector_from_query(req->query, tracks, n < HUB_MAX_TRACKS ? n : HUB_MAX_TRACKS, &mask,
				err, sizeof(err)))
		return answer(c, 400, err);
	const char *why = "no track matches the selection";
	int status = select ? select(s, req->query, &mask, &why) : 0;
	if (!status && !mask)
		status = 400;
	if (status)
		return answer(c, status, why);
	out->s = s;
	out->mask = mask;
	return 0;
}

/* ---------------- viewers ---------------- */

static void viewer_free(struct prog_viewer *v)
{
	if (v->fmt->close)
		v->fmt->close(v);
	prog_out_discard(&v->out);
	hub_reader_free(v->r);
	free(v->priv);
	free(v);
}

/* Reads and muxes frames while the budget allows. 0 when waiting (for
 * frames or for the socket), else why to stop: -EPIPE stream over,
 * -ENOBUFS too slow, or a muxing/writing error. */
static int pump_frames(struct prog_viewer *v)
{
	while (prog_out_pending(&v->out) < PROG_BUDGET) {
		struct frame *f;
		int rc = hub_reader_next(v->r, &f);
		if (rc <= 0)
			return rc;
		uint64_t skipped = hub_reader_skipped(v->r);
		if (skipped != v->skipped && v->fmt->flush)
			rc = v->fmt->flush(v); /* a gap: emit what waited for a successor */
		v->skipped = skipped;
		rc = rc < 0 ? rc : v->fmt->put(v, f);
		frame_unref(f);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void pump(struct prog_viewer *v)
{
	struct http_conn *c = v->out.c;
	v->busy++;
	int rc = pump_frames(v);
	if (rc == -EPIPE && v->fmt->flush && !v->gone)
		v->fmt->flush(v); /* stream over: the held-back tail too */
	int frc = v->gone ? -EPIPE : prog_out_flush(&v->out);
	v->busy--;
	if (v->gone) {
		viewer_free(v);
		return;
	}
	if (!rc && !frc)
		return;
	if (rc == -ENOBUFS)
		LOGF(LOG_INFO, http_conn_info(c)->stream, "%s viewer %s too slow, dropped",
		     v->fmt->name, http_conn_peer(c));
	else if (rc != -EPIPE || frc)
		LOGF(LOG_MEDIUM, http_conn_info(c)->stream, "%s viewer %s ended: %s", v->fmt->name,
		     http_conn_peer(c), strerror(-(rc ? rc : frc)));
	/* stream over, viewer too slow or write failed: end the response */
	http_stream_set_callbacks(c, NULL, NULL, NULL);
	viewer_free(v);
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
	struct prog_viewer *v = arg;
	if (v->busy)
		v->gone = true;
	else
		viewer_free(v);
}

/* Allocates the viewer and its reader and lets the format start. */
static struct prog_viewer *viewer_new(const struct prog_format *fmt, struct http_conn *c,
				      const struct prog_req *pr)
{
	struct prog_viewer *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->fmt = fmt;
	v->out.c = c;
	v->mask = pr->mask;
	struct hub_reader_opts o = {.track_mask = pr->mask};
	v->priv = fmt->priv_size ? calloc(1, fmt->priv_size) : NULL;
	v->r = hub_reader_new(pr->s, &o, on_wake, v);
	int rc = !v->r || (fmt->priv_size && !v->priv) ? -ENOMEM : fmt->open(v);
	if (rc) {
		LOGF(LOG_WARN, pr->name, "%s viewer %s: cannot start: %s", fmt->name,
		     http_conn_peer(c), strerror(-rc));
		viewer_free(v);
		return NULL;
	}
	v->opened = true;
	return v;
}

int prog_serve(const struct prog_format *fmt, struct http_conn *c, struct http_request *req,
	       const struct server_env *env)
{
	struct prog_req pr;
	int rc = prog_check(c, req, env, fmt->suffix, fmt->select, &pr);
	if (rc)
		return rc < 0 ? rc : 0;
	struct conn_info *ci = http_conn_info(c);
	snprintf(ci->stream, sizeof(ci->stream), "%s", pr.name);
	ci->protocol = fmt->name;
	rc = http_stream_begin(c, 200, fmt->ctype, true);
	if (rc)
		return rc < 0 ? rc : 0; /* HEAD: the head was the answer */
	ci->role = CONN_VIEWER;
	struct prog_viewer *v = viewer_new(fmt, c, &pr);
	if (!v) {
		http_stream_end(c);
		return 0;
	}
	char tracks[64];
	LOGF(LOG_INFO, pr.name, "%s viewer %s, tracks %s", fmt->name, http_conn_peer(c),
	     prog_mask_str(pr.mask, tracks, sizeof(tracks)));
	http_stream_set_callbacks(c, on_drain, on_close, v);
	pump(v);
	return 0;
}
