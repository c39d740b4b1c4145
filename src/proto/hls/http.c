/* HTTP side of HLS, LL-HLS and DASH:
 *   /hls/<s>/index.m3u8                     master (TS)
 *   /hls/<s>/<rid>/index.m3u8               media playlist, blocking reload
 *   /hls/<s>/<rid>/<msn>.ts, <msn>.<p>.ts   segment, part
 *   /cmaf/<s>/index.m3u8, /cmaf/<s>/index.mpd
 *   /cmaf/<s>/<rid>/index.m3u8, init<g>.mp4, init.mp4, <msn>.m4s, <msn>.<p>.m4s
 *   /cmaf/<s>/utc                           UTC time for DASH clients
 * Requests for what does not exist yet (a blocking reload, the segment in
 * progress) are deferred and answered the moment it exists, or with 503
 * after three target durations. A GET of the preload-hinted part is
 * streamed (chunked) from its first bytes on, chunk by chunk as the
 * segmenter packages them, and ends when the part closes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/log.h"
#include "core/streamname.h"
#include "core/url.h"
#include "media/selector.h"
#include "proto/hls/playlist.h"
#include "proto/hls/seg.h"
#include "proto/http/http.h"
#include "proto/registry.h"

enum wait_kind { W_PLAYLIST, W_PART, W_SEGMENT, W_MPD, W_STREAM };

/* A deferred request (in sg->waiters), or a streamed part (W_STREAM, in
 * sg->streamers). */
struct seg_waiter {
	struct seg_waiter *next, *prev;
	struct segmenter *sg;
	struct http_conn *c; /* NULL once the connection went away (W_STREAM) */
	enum wait_kind kind;
	bool streaming; /* W_STREAM: the response has begun */
	bool busy;      /* W_STREAM: being moved along (freed by its caller) */
	unsigned pass;  /* W_STREAM: last stream_pump_all() pass that saw it */
	unsigned sent_chunks;
	size_t sent_bytes;
	unsigned rend; /* index in sg->rends */
	uint64_t msn;
	int part;
	struct pl_opts o;
	char query[32];
	char utc_uri[512]; /* W_MPD */
	uint64_t deadline_ms;
};

static uv_timer_t reaper;
static bool reaper_on;

#define PLAYLIST_HEADERS "Cache-Control: max-age=1\r\n"
#define BLOCKING_HEADERS "Cache-Control: no-cache, no-store\r\n"
#define MEDIA_HEADERS    "Cache-Control: public, max-age=3600, immutable\r\n"

static uint64_t now_ms(void)
{
	return uv_now(uv_default_loop());
}

static struct seg_waiter **list_of(struct seg_waiter *w)
{
	return w->kind == W_STREAM ? &w->sg->streamers : &w->sg->waiters;
}

static void waiter_unlink(struct seg_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		*list_of(w) = w->next;
	if (w->next)
		w->next->prev = w->prev;
}

static void waiter_link(struct seg_waiter *w)
{
	struct seg_waiter **head = list_of(w);
	w->prev = NULL;
	w->next = *head;
	if (*head)
		(*head)->prev = w;
	*head = w;
}

static void waiter_closed(void *arg)
{
	struct seg_waiter *w = arg;
	if (w->busy) {
		w->c = NULL; /* the pump frees it */
		return;
	}
	waiter_unlink(w);
	free(w);
}

static int send_bytes(struct http_conn *c, const char *ctype, const char *hdrs, struct bytes *b)
{
	struct wbuf *wb = wbuf_from(b->data, b->len);
	bytes_free(b);
	if (!wb)
		return -ENOMEM;
	return http_respond_wbuf(c, 200, ctype, hdrs, wb);
}

static int answer_playlist(struct http_conn *c, struct seg_rend *r, const struct pl_opts *o,
			   bool blocking)
{
	struct bytes b = {0};
	int rc = pl_media(r, o, &b);
	if (rc < 0) {
		bytes_free(&b);
		return http_respond_error(c, 500, "playlist error");
	}
	return send_bytes(c, "application/vnd.apple.mpegurl",
			  blocking ? BLOCKING_HEADERS : PLAYLIST_HEADERS, &b);
}

static int answer_media(struct http_conn *c, struct seg_rend *r, uint64_t msn, int part)
{
	const char *ctype = r->sg->kind == SEG_TS ? "video/mp2t" : "video/mp4";
	struct seg_segment *s = seg_segment(r, msn);
	if (!s)
		return http_respond_error(c, 404, "segment not available");
	if (part < 0)
		return s->complete
			   ? http_respond_wbuf(c, 200, ctype, MEDIA_HEADERS, wbuf_ref(s->data))
			   : http_respond_error(c, 404, "segment not available");
	if ((unsigned)part >= s->nparts)
		return http_respond_error(c, 404, "part not available");
	return http_respond_wbuf(c, 200, ctype, MEDIA_HEADERS, wbuf_ref(s->parts[part].data));
}

static int answer_mpd(struct http_conn *c, struct segmenter *sg, const char *utc_uri)
{
	struct bytes b = {0};
	int rc = pl_mpd(sg, utc_uri, &b);
	if (rc < 0) {
		bytes_free(&b);
		return http_respond_error(c, 500, "manifest error");
	}
	return send_bytes(c, "application/dash+xml", PLAYLIST_HEADERS, &b);
}

/* Whether waiter w can be answered now. */
static bool waiter_ready(const struct seg_waiter *w)
{
	struct seg_rend *r = &w->sg->rends[w->rend];
	if (w->kind == W_PLAYLIST || w->kind == W_MPD)
		return pl_ready(r, w->msn, w->part);
	if (w->sg->ended)
		return true;
	if (w->kind == W_SEGMENT)
		return w->msn < r->cur_msn;
	return pl_ready(r, w->msn, w->part);
}

static void answer_waiter(struct seg_waiter *w, bool timeout)
{
	struct http_conn *c = w->c;
	struct seg_rend *r = &w->sg->rends[w->rend];
	waiter_unlink(w);
	/* w is gone: a write failing while answering must not call back */
	http_stream_set_callbacks(c, NULL, NULL, NULL);
	struct seg_waiter copy = *w;
	copy.o.query = copy.query; /* it pointed into w */
	free(w);
	if (timeout)
		http_respond_error(c, 503, "not available in time");
	else if (copy.kind == W_MPD)
		answer_mpd(c, copy.sg, copy.utc_uri);
	else if (copy.kind == W_PLAYLIST)
		answer_playlist(c, r, &copy.o, true);
	else
		answer_media(c, r, copy.msn,
			     copy.kind == W_PART || copy.kind == W_STREAM ? copy.part : -1);
}

/* ---- streamed parts ---- */

static void stream_free(struct seg_waiter *w)
{
	waiter_unlink(w);
	free(w);
}

/* Ends w's response and frees w (the connection may go on with its next
 * request at once, which may add waiters). */
static void stream_finish(struct seg_waiter *w)
{
	struct http_conn *c = w->c;
	stream_free(w);
	if (c) {
		http_stream_set_callbacks(c, NULL, NULL, NULL);
		http_stream_end(c);
	}
}

/* Starts the response of w (200, chunked). false when that failed (w->c
 * may be NULL then: the connection closed). */
static bool stream_begin(struct seg_waiter *w)
{
	const char *ctype = w->sg->kind == SEG_TS ? "video/mp2t" : "video/mp4";
	int rc = http_stream_begin(w->c, 200, ctype, false);
	if (rc || !w->c)
		return false;
	w->streaming = true;
	http_stream_set_callbacks(w->c, NULL, waiter_closed, w);
	return true;
}

/* Sends what w has not had of part p: new chunks while it is in
 * progress, the rest of its bytes once complete. Returns whether the part
 * is over (complete, or abandoned). */
static bool stream_send(struct seg_waiter *w, const struct seg_live *lv, const struct seg_part *p)
{
	if (lv) {
		for (; w->sent_chunks < lv->n && w->c; w->sent_chunks++) {
			struct wbuf *ch = lv->chunks[w->sent_chunks];
			http_stream_write_wbuf(w->c, wbuf_ref(ch), 0, ch->len);
			w->sent_bytes += ch->len;
		}
		return false;
	}
	if (p && p->data->len > w->sent_bytes)
		http_stream_write_wbuf(w->c, wbuf_ref(p->data), w->sent_bytes,
				       p->data->len - w->sent_bytes);
	return true;
}

/* Moves streamed part w along: begins the response once the part has
 * bytes, sends what is new, ends the response when the part is complete
 * (or can never complete). A request that never began streaming is
 * answered as a plain one would be (the complete part, or 404). Returns
 * true when w was answered and freed. */
static bool stream_pump(struct seg_waiter *w)
{
	struct seg_rend *r = &w->sg->rends[w->rend];
	const struct seg_live *lv = seg_live_part(r, w->msn, w->part);
	if (!w->streaming && !lv) {
		if (!pl_ready(r, w->msn, w->part))
			return false;
		answer_waiter(w, false);
		return true;
	}
	struct seg_segment *s = seg_segment(r, w->msn);
	const struct seg_part *p = s && (unsigned)w->part < s->nparts ? &s->parts[w->part] : NULL;
	w->busy = true;
	bool over = false;
	if (w->streaming || stream_begin(w))
		over = stream_send(w, lv, p);
	else if (w->c)
		http_respond_error(w->c, 500, "cannot stream");
	w->busy = false;
	if (!w->c || !w->streaming) {
		stream_free(w);
		return true;
	}
	if (over) {
		stream_finish(w);
		return true;
	}
	return false;
}

/* Every streamed part of sg moved along, once each (answering may run a
 * connection's next request, which may add streamers: rescan). */
static void stream_pump_all(struct segmenter *sg)
{
	unsigned pass = ++sg->pump_pass;
	for (bool again = true; again;) {
		again = false;
		for (struct seg_waiter *w = sg->streamers; w; w = w->next) {
			if (w->pass == pass)
				continue;
			w->pass = pass;
			if (stream_pump(w)) {
				again = true;
				break;
			}
		}
	}
}

void seg_chunks_added(struct segmenter *sg)
{
	stream_pump_all(sg);
}

/* A deferred request that waited too long (or whose segmenter goes away):
 * 503, or the end of a streamed part. */
static void give_up(struct seg_waiter *w)
{
	if (w->kind == W_STREAM && w->streaming)
		stream_finish(w);
	else
		answer_waiter(w, true);
}

void seg_progress(struct segmenter *sg)
{
	stream_pump_all(sg);
	/* Answering may run the connection's next request, which may add
	 * waiters: restart the scan after every answer. */
	for (bool again = true; again;) {
		again = false;
		for (struct seg_waiter *w = sg->waiters; w; w = w->next) {
			if (waiter_ready(w)) {
				answer_waiter(w, false);
				again = true;
				break;
			}
		}
	}
}

void seg_drop_waiters(struct segmenter *sg)
{
	while (sg->waiters || sg->streamers)
		give_up(sg->waiters ? sg->waiters : sg->streamers);
}

static void expire_list(struct seg_waiter **head, uint64_t now)
{
	for (bool again = true; again;) {
		again = false;
		for (struct seg_waiter *w = *head; w; w = w->next)
			if (now >= w->deadline_ms) {
				give_up(w);
				again = true;
				break;
			}
	}
}

static void expire(struct segmenter *sg, void *arg)
{
	uint64_t now = *(uint64_t *)arg;
	expire_list(&sg->waiters, now);
	expire_list(&sg->streamers, now);
}

static void reaper_cb(uv_timer_t *t)
{
	uint64_t now = uv_now(t->loop);
	seg_foreach(expire, &now);
	seg_reap(now);
}

static int defer(struct http_conn *c, struct segmenter *sg, struct seg_rend *r, enum wait_kind kind,
		 uint64_t msn, int part, const struct pl_opts *o)
{
	struct seg_waiter *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->sg = sg;
	w->c = c;
	w->kind = kind;
	w->rend = (unsigned)(r - sg->rends);
	w->msn = msn;
	w->part = part;
	if (o) {
		w->o = *o;
		snprintf(w->query, sizeof(w->query), "%s", o->query);
		w->o.query = w->query;
	}
	w->deadline_ms = now_ms() + (uint64_t)(3 * seg_target_duration_us(sg) / 1000);
	waiter_link(w);
	http_defer(c, waiter_closed, w);
	if (kind == W_STREAM)
		stream_pump(w); /* it may have bytes already */
	return 0;
}

/* "/hls/<stream>/<rest>": splits and sanitizes; 0 or -EINVAL. */
static int split_path(const char *path, size_t skip, char *stream, size_t slen, const char **rest)
{
	const char *p = path + skip;
	const char *slash = strchr(p, '/');
	if (!slash || slash == p || (size_t)(slash - p) >= 256)
		return -EINVAL;
	char raw[256];
	memcpy(raw, p, (size_t)(slash - p));
	raw[slash - p] = 0;
	if (streamname_sanitize(raw, stream, slen) < 0)
		return -EINVAL;
	*rest = slash + 1;
	return 0;
}

/* Parses "<msn>.<ext>" or "<msn>.<part>.<ext>". 0 or -EINVAL. */
static int parse_media_name(const char *f, const char *want_ext, uint64_t *msn, int *part)
{
	char *end;
	*msn = strtoull(f, &end, 10);
	*part = -1;
	if (end == f || *end != '.')
		return -EINVAL;
	const char *e = end + 1;
	if (*e >= '0' && *e <= '9') {
		long p = strtol(e, &end, 10);
		if (p < 0 || p >= SEG_MAX_PARTS || *end != '.')
			return -EINVAL;
		*part = (int)p;
		e = end + 1;
	}
	return strcmp(e, want_ext) ? -EINVAL : 0;
}

static int64_t query_num(const char *q, const char *key, int64_t def)
{
	char v[32];
	if (query_get(q, key, v, sizeof(v)) <= 0)
		return def;
	char *end;
	long long n = strtoll(v, &end, 10);
	return *end || n < 0 ? -2 : n;
}

static int media_playlist(struct http_conn *c, struct http_request *req, struct segmenter *sg,
			  struct seg_rend *r)
{
	char v[8];
	bool ll = !(query_get(req->query, "llhls", v, sizeof(v)) > 0 && !strcmp(v, "0"));
	struct pl_opts o = {.ll = ll, .query = ll ? "" : "?llhls=0"};
	o.skip = ll && query_get(req->query, "_HLS_skip", v, sizeof(v)) > 0 &&
		 (!strcmp(v, "YES") || !strcmp(v, "v2"));
	int64_t msn = query_num(req->query, "_HLS_msn", -1);
	int64_t part = query_num(req->query, "_HLS_part", -1);
	if (msn == -2 || part == -2 || (part >= 0 && msn < 0))
		return http_respond_error(c, 400, "bad _HLS_msn/_HLS_part");
	/* A brand-new stream has no complete segment yet: wait for the first
	 * rather than hand out an empty playlist players give up on. */
	if (!sg->ended && (!r->ever_started || r->cur_msn == r->first_msn) && msn < 0)
		return defer(c, sg, r, W_PLAYLIST, r->ever_started ? r->first_msn : 0, -1, &o);
	if (msn < 0 || !ll)
		return answer_playlist(c, r, &o, false);
	/* A request too far ahead can never be satisfied in time. */
	if ((uint64_t)msn > r->cur_msn + 2 || part >= SEG_MAX_PARTS)
		return http_respond_error(c, 400, "_HLS_msn is too far ahead");
	if (pl_ready(r, (uint64_t)msn, (int)part))
		return answer_playlist(c, r, &o, true);
	return defer(c, sg, r, W_PLAYLIST, (uint64_t)msn, (int)part, &o);
}

static int media_file(struct http_conn *c, struct segmenter *sg, struct seg_rend *r,
		      const char *file, bool head)
{
	const char *want = sg->kind == SEG_TS ? "ts" : "m4s";
	if (sg->kind == SEG_CMAF && !strncmp(file, "init", 4)) {
		/* init.mp4 (current) or init<gen>.mp4 */
		if (!r->init)
			return http_respond_error(c, 404, "no init segment");
		return http_respond_wbuf(c, 200, "video/mp4", MEDIA_HEADERS, wbuf_ref(r->init));
	}
	uint64_t msn;
	int part;
	if (parse_media_name(file, want, &msn, &part) < 0)
		return http_respond_error(c, 404, NULL);
	struct seg_segment *s = seg_segment(r, msn);
	bool exists = s && (part < 0 ? s->complete : (unsigned)part < s->nparts);
	if (exists)
		return answer_media(c, r, msn, part);
	if (sg->ended)
		return http_respond_error(c, 404, "stream ended");
	/* The segment in progress: wait. The next part (preload hint): stream
	 * it as it is produced (HEAD: wait for it). */
	const struct seg_segment *cur = r->started ? &r->segs[r->cur_msn % SEG_WINDOW] : NULL;
	bool next_part = cur && part >= 0 &&
			 ((msn == r->cur_msn && (unsigned)part == cur->nparts) ||
			  (msn == r->cur_msn + 1 && part == 0));
	if (part < 0 && r->started && msn == r->cur_msn)
		return defer(c, sg, r, W_SEGMENT, msn, -1, NULL);
	if (next_part)
		return defer(c, sg, r, head ? W_PART : W_STREAM, msn, part, NULL);
	return http_respond_error(c, 404, "segment not available");
}

/* TS renditions are named by their track indices: "0_1". */
static uint64_t mask_of_rid(const char *rid)
{
	uint64_t mask = 0;
	for (const char *p = rid; *p;) {
		char *end;
		unsigned long i = strtoul(p, &end, 10);
		if (end == p || i >= HUB_MAX_TRACKS)
			return 0;
		mask |= 1ull << i;
		p = *end == '_' ? end + 1 : end;
		if (*end && *end != '_')
			return 0;
	}
	return mask;
}

/* Every track of a TS rendition must exist and be audio or video, at
 * most one of each. */
static bool mask_valid(struct hub_stream *s, uint64_t mask)
{
	unsigned nv = 0, na = 0;
	if (!mask)
		return false;
	for (unsigned i = 0; i < HUB_MAX_TRACKS; i++) {
		if (!(mask & (1ull << i)))
			continue;
		const struct track *t = hub_stream_track(s, i);
		if (!t || (t->type != TRACK_VIDEO && t->type != TRACK_AUDIO))
			return false;
		nv += t->type == TRACK_VIDEO;
		na += t->type == TRACK_AUDIO;
	}
	return nv <= 1 && na <= 1 && !(mask >> HUB_MAX_TRACKS);
}

static void utc(struct http_conn *c)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char buf[64];
	size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, ".%03dZ", (int)(tv.tv_usec / 1000));
	http_respond_ex(c, 200, "text/plain", BLOCKING_HEADERS, buf, n);
}

static int top_level(struct http_conn *c, struct http_request *req, struct hub_stream *s,
		     enum seg_kind kind, const char *name, const char *file)
{
	uint64_t mask = 0;
	if (kind == SEG_TS && (strstr(req->query, "video=") || strstr(req->query, "audio="))) {
		const struct track *tracks[HUB_MAX_TRACKS];
		unsigned n = hub_stream_track_count(s);
		for (unsigned i = 0; i < n; i++)
			tracks[i] = hub_stream_track(s, i);
		char err[128];
		if (selector_from_query(req->query, tracks, n, &mask, err, sizeof(err)) < 0 ||
		    !mask)
			return http_respond_error(c, 400,
						  mask ? err : "no track matches the selection");
	}
	struct segmenter *sg = seg_get(s, kind, mask);
	if (!sg)
		return http_respond_error(c, 404, "stream has no playable tracks");
	seg_touch(sg);
	char v[8];
	bool ll = !(query_get(req->query, "llhls", v, sizeof(v)) > 0 && !strcmp(v, "0"));
	struct bytes b = {0};
	int rc;
	if (!strcmp(file, "index.mpd")) {
		char host[256], uri[512];
		snprintf(uri, sizeof(uri), "http://%s:%d/cmaf/%s/utc",
			 http_conn_host(c, req, host, sizeof(host)), http_conn_local_port(c), name);
		/* Wait for the first complete segment of every rendition. */
		for (unsigned i = 0; i < sg->nrends && !sg->ended; i++) {
			struct seg_rend *r = &sg->rends[i];
			if (r->ever_started && r->cur_msn > r->first_msn)
				continue;
			rc = defer(c, sg, r, W_MPD, r->ever_started ? r->first_msn : 0, -1, NULL);
			if (!rc)
				snprintf(sg->waiters->utc_uri, sizeof(sg->waiters->utc_uri), "%s",
					 uri);
			return rc;
		}
		return answer_mpd(c, sg, uri);
	} else {
		rc = pl_master(sg, ll ? "" : "?llhls=0", &b);
		if (!rc)
			return send_bytes(c, "application/vnd.apple.mpegurl", PLAYLIST_HEADERS, &b);
	}
	bytes_free(&b);
	return http_respond_error(c, 500, "manifest error");
}

static int handle(struct http_conn *c, struct http_request *req, const struct server_env *env,
		  enum seg_kind kind)
{
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD"))
		return http_respond_error(c, 405, NULL);
	if (!reaper_on) {
		uv_timer_init(env->loop, &reaper);
		uv_timer_start(&reaper, reaper_cb, 250, 250);
		uv_unref((uv_handle_t *)&reaper);
		reaper_on = true;
	}
	char name[STREAMNAME_MAX + 1];
	const char *rest;
	size_t skip = kind == SEG_TS ? strlen("/hls/") : strlen("/cmaf/");
	if (split_path(req->path, skip, name, sizeof(name), &rest) < 0)
		return http_respond_error(c, 404, NULL);
	struct conn_info *ci = http_conn_info(c);
	snprintf(ci->stream, sizeof(ci->stream), "%s", name);
	ci->protocol = kind == SEG_TS ? "HLS" : "CMAF";
	ci->role = CONN_VIEWER;
	if (!strcmp(rest, "utc")) {
		utc(c);
		return 0;
	}
	struct hub_stream *s = hub_want(env->hub, name);
	if (!s || hub_stream_state(s) != STREAM_READY)
		return http_respond_error(c, 404, "Stream is offline");
	if (!strcmp(rest, "index.m3u8") || (kind == SEG_CMAF && !strcmp(rest, "index.mpd")))
		return top_level(c, req, s, kind, name, rest);
	const char *slash = strchr(rest, '/');
	char rid[24];
	if (!slash || (size_t)(slash - rest) >= sizeof(rid))
		return http_respond_error(c, 404, NULL);
	memcpy(rid, rest, (size_t)(slash - rest));
	rid[slash - rest] = 0;
	uint64_t mask = kind == SEG_TS ? mask_of_rid(rid) : 0;
	if (kind == SEG_TS && !mask_valid(s, mask))
		return http_respond_error(c, 404, NULL);
	struct segmenter *sg = seg_get(s, kind, mask);
	struct seg_rend *r = sg ? seg_rend_find(sg, rid) : NULL;
	if (!r)
		return http_respond_error(c, 404, "no such rendition");
	seg_touch(sg);
	if (!strcmp(slash + 1, "index.m3u8"))
		return media_playlist(c, req, sg, r);
	return media_file(c, sg, r, slash + 1, !strcmp(req->method, "HEAD"));
}

static int hls_handler(struct http_conn *c, struct http_request *req, const struct server_env *env)
{
	return handle(c, req, env, SEG_TS);
}

static int cmaf_handler(struct http_conn *c, struct http_request *req, const struct server_env *env)
{
	return handle(c, req, env, SEG_CMAF);
}

static void hls_shutdown(void)
{
	seg_reap(UINT64_MAX / 2);
	if (reaper_on) {
		uv_close((uv_handle_t *)&reaper, NULL);
		reaper_on = false;
	}
}

static const char *const hls_routes[] = {"/hls/*", NULL};
static const char *const cmaf_routes[] = {"/cmaf/*", NULL};
static const char *const ts_codecs[] = {"H264", "HEVC", "AAC", "MP3", "opus", NULL};
static const char *const cmaf_codecs[] = {"H264", "HEVC", "AV1", "VP9", "AAC", "MP3", "opus", NULL};

const struct driver hls_driver = {
    .name = "HLS",
    .desc = "HLS with MPEG-TS segments, Low-Latency HLS with TS parts",
    .kind = DRIVER_OUTPUT,
    .patterns = hls_routes,
    .codecs = ts_codecs,
    .http_routes = hls_routes,
    .http_handler = hls_handler,
    .shutdown = hls_shutdown,
    .source_type = "html5/application/vnd.apple.mpegurl",
    .source_priority = 9,
    .source_url = "http://%H:%P/hls/%S/index.m3u8",
};

const struct driver cmaf_driver = {
    .name = "CMAF",
    .desc = "HLS v7 with CMAF segments and Low-Latency HLS parts; DASH at index.mpd",
    .kind = DRIVER_OUTPUT,
    .patterns = cmaf_routes,
    .codecs = cmaf_codecs,
    .http_routes = cmaf_routes,
    .http_handler = cmaf_handler,
    .source_type = "html5/application/vnd.apple.mpegurl;version=7",
    .source_priority = 10,
    .source_url = "http://%H:%P/cmaf/%S/index.m3u8",
};

static const char *const dash_patterns[] = {"/cmaf/*/index.mpd", NULL};

const struct driver dash_driver = {
    .name = "DASH",
    .desc = "MPEG-DASH (dynamic MPD, SegmentTimeline) over the CMAF segments",
    .kind = DRIVER_OUTPUT,
    .patterns = dash_patterns,
    .codecs = cmaf_codecs,
    .source_type = "dash/video/mp4",
    .source_priority = 8,
    .source_url = "http://%H:%P/cmaf/%S/index.mpd",
};
