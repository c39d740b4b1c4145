/* Hub reader to MPEG-TS packets (see tsout.h). */
#include "proto/tsudp/tsout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/log.h"
#include "format/ts.h"
#include "hub/hub.h"
#include "media/selector.h"

#define WAIT_TICK_MS      200
#define WANT_AGAIN_MS     5000
#define PSI_AUDIO_ONLY_US 1000000

struct tsout {
	uv_loop_t *loop;
	struct hub *hub;
	char name[128];
	char *query;
	char log_name[32];
	int64_t wait_ms;
	struct tsout_cb cb;
	uv_timer_t *timer; /* while waiting for the stream */
	uint64_t wait_start_ms, last_want_ms;
	struct hub_reader *r;
	struct ts_mux *mux;
	uint32_t gens[HUB_MAX_TRACKS];
	bool has_video, need_psi, paused, done;
	int64_t last_psi_us;
	struct bytes buf;
};

static void timer_closed(uv_handle_t *h)
{
	free(h);
}

static void stop_timer(struct tsout *o)
{
	if (o->timer) {
		uv_close((uv_handle_t *)o->timer, timer_closed);
		o->timer = NULL;
	}
}

/* Reports the end once; nothing touches o after the callback returns
 * (the owner may free it inside). */
static void finish(struct tsout *o, int err, const char *why)
{
	if (o->done)
		return;
	o->done = true;
	stop_timer(o);
	o->cb.ended(o->cb.arg, err, why);
}

/* Brings the mux up to date with the frame's track: tracks that appear
 * later, and codec/config changes, join with a new PMT. */
static int sync_track(struct tsout *o, const struct track *t, unsigned idx)
{
	if (t->generation == o->gens[idx])
		return 0;
	int rc = ts_mux_update_track(o->mux, idx, t);
	if (rc)
		return rc;
	o->gens[idx] = t->generation;
	o->has_video |= t->type == TRACK_VIDEO;
	o->need_psi = true;
	return 0;
}

static int put_frame(struct tsout *o, const struct frame *f)
{
	const struct track *t =
	    f->track < HUB_MAX_TRACKS ? hub_stream_track(hub_reader_stream(o->r), f->track) : NULL;
	if (!t)
		return 0;
	int rc = sync_track(o, t, f->track);
	if (rc)
		return rc;
	bool psi = o->need_psi || (t->type == TRACK_VIDEO && (f->flags & FRAME_KEY)) ||
		   (!o->has_video && f->dts_us - o->last_psi_us >= PSI_AUDIO_ONLY_US);
	bytes_reset(&o->buf);
	if (psi && !(rc = ts_mux_psi(o->mux, &o->buf))) {
		o->need_psi = false;
		o->last_psi_us = f->dts_us;
	}
	if (!rc)
		rc = ts_mux_frame(o->mux, f, &o->buf);
	if (rc || !o->buf.len)
		return rc;
	if (o->cb.data_at)
		return o->cb.data_at(o->cb.arg, o->buf.data, o->buf.len, f->dts_us, f->wall_us);
	return o->cb.data(o->cb.arg, o->buf.data, o->buf.len, f->dts_us);
}

static void pump(struct tsout *o)
{
	int rc = 0;
	while (o->r && !o->paused && !o->done) {
		struct frame *f;
		rc = hub_reader_next(o->r, &f);
		if (rc <= 0)
			break;
		rc = put_frame(o, f);
		frame_unref(f);
		if (rc > 0)
			o->paused = true;
		else if (rc < 0)
			break;
	}
	if (rc == -EPIPE)
		finish(o, 0, "stream ended");
	else if (rc == -ENOBUFS)
		finish(o, -ENOBUFS, "fell too far behind the stream");
	else if (rc < 0)
		finish(o, rc, strerror(-rc));
}

static void on_wake(struct hub_reader *r, void *arg)
{
	pump(arg);
}

/* Track selection from the query: every track unless ?video= or ?audio=
 * narrows it. 0 or -EINVAL. */
static int pick_tracks(struct tsout *o, struct hub_stream *s, uint64_t *mask)
{
	*mask = 0;
	if (!o->query || (!strstr(o->query, "video=") && !strstr(o->query, "audio=")))
		return 0;
	const struct track *tracks[HUB_MAX_TRACKS] = {0};
	unsigned n = hub_stream_track_count(s);
	n = n < HUB_MAX_TRACKS ? n : HUB_MAX_TRACKS;
	for (unsigned i = 0; i < n; i++)
		tracks[i] = hub_stream_track(s, i);
	char err[128];
	int rc = selector_from_query(o->query, tracks, n, mask, err, sizeof(err));
	if (rc < 0)
		LOGF(LOG_WARN, o->name, "%s: %s", o->log_name, err);
	return rc < 0 ? rc : (*mask ? 0 : -EINVAL);
}

static int attach(struct tsout *o, struct hub_stream *s)
{
	uint64_t mask;
	if (pick_tracks(o, s, &mask) < 0)
		return -EINVAL;
	const struct track *none[HUB_MAX_TRACKS] = {0};
	o->mux = ts_mux_new(none, HUB_MAX_TRACKS, NULL);
	struct hub_reader_opts ro = {.track_mask = mask};
	if (o->mux)
		o->r = hub_reader_new(s, &ro, on_wake, o);
	if (!o->r)
		return -ENOMEM;
	o->need_psi = true;
	LOGF(LOG_INFO, o->name, "%s: reading the stream", o->log_name);
	pump(o);
	return 0;
}

static void wait_tick(uv_timer_t *t)
{
	struct tsout *o = t->data;
	uint64_t now = uv_now(t->loop);
	struct hub_stream *s = hub_find(o->hub, o->name);
	if (s && hub_stream_state(s) == STREAM_READY) {
		stop_timer(o);
		int rc = attach(o, s);
		if (rc < 0)
			finish(o, rc,
			       rc == -EINVAL ? "no track matches the selection" : "out of memory");
		return;
	}
	if (o->wait_ms > 0 && now - o->wait_start_ms >= (uint64_t)o->wait_ms) {
		finish(o, -ENOENT, "stream is not available");
		return;
	}
	if (now - o->last_want_ms >= WANT_AGAIN_MS) {
		o->last_want_ms = now;
		hub_want(o->hub, o->name);
	}
}

int tsout_new(uv_loop_t *loop, struct hub *hub, const char *name, const struct tsout_opts *opts,
	      const struct tsout_cb *cb, struct tsout **out)
{
	struct tsout *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->loop = loop;
	o->hub = hub;
	o->cb = *cb;
	snprintf(o->name, sizeof(o->name), "%s", name);
	snprintf(o->log_name, sizeof(o->log_name), "%s", opts->log_name ? opts->log_name : "TS");
	o->wait_ms = opts->wait_ms;
	o->timer = malloc(sizeof(*o->timer));
	if ((opts->query && !(o->query = strdup(opts->query))) || !o->timer) {
		free(o->timer);
		free(o->query);
		free(o);
		return -ENOMEM;
	}
	uv_timer_init(loop, o->timer);
	o->timer->data = o;
	o->wait_start_ms = o->last_want_ms = uv_now(loop);
	hub_want(hub, name);
	/* The first check runs from the loop, never inside the caller. */
	uv_timer_start(o->timer, wait_tick, 0, WAIT_TICK_MS);
	*out = o;
	return 0;
}

void tsout_resume(struct tsout *o)
{
	if (!o->paused)
		return;
	o->paused = false;
	pump(o);
}

bool tsout_attached(const struct tsout *o)
{
	return o->r != NULL;
}

void tsout_free(struct tsout *o)
{
	if (!o)
		return;
	o->done = true;
	stop_timer(o);
	if (o->r)
		hub_reader_free(o->r);
	ts_mux_free(o->mux);
	bytes_free(&o->buf);
	free(o->query);
	free(o);
}
