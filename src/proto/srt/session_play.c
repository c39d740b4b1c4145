/* The playing side of an SRT session: a hub reader (from the newest
 * keyframe: the live point) muxed to MPEG-TS, PAT/PMT first and before
 * every video keyframe, queued to the I/O thread under a byte budget. */
#include "proto/srt/srt-t.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/streamname.h"
#include "media/selector.h"

static void on_wake(struct hub_reader *r, void *arg)
{
	wsrt_play_pump(arg);
}

/* Builds the muxer from the stream's current tracks (those the reader
 * delivers) and queues PAT/PMT. */
static int mux_rebuild(struct wsrt_session *s, struct hub_stream *st, uint64_t mask)
{
	const struct track *tracks[HUB_MAX_TRACKS] = {0};
	unsigned n = hub_stream_track_count(st);
	s->mux_set = 0;
	for (unsigned i = 0; i < n; i++) {
		if (mask && !(mask & (1ull << i)))
			continue;
		tracks[i] = hub_stream_track(st, i);
		if (tracks[i]) {
			s->mux_set |= 1ull << i;
			s->mux_gen[i] = tracks[i]->generation;
		}
	}
	ts_mux_free(s->mux);
	s->mux = ts_mux_new(tracks, n, NULL);
	return s->mux ? ts_mux_psi(s->mux, &s->obuf) : -ENOMEM;
}

static int mux_frame(struct wsrt_session *s, struct frame *f)
{
	struct hub_stream *st = hub_reader_stream(s->reader);
	const struct track *t = hub_stream_track(st, f->track);
	if (!t)
		return 0;
	int rc = 0;
	if (!s->mux || !(s->mux_set & (1ull << f->track)))
		rc = mux_rebuild(s, st, s->mux_set | (1ull << f->track));
	else if (s->mux_gen[f->track] != t->generation) {
		rc = ts_mux_update_track(s->mux, f->track, t);
		s->mux_gen[f->track] = t->generation;
	}
	if (!rc && t->type == TRACK_VIDEO && (f->flags & FRAME_KEY))
		rc = ts_mux_psi(s->mux, &s->obuf);
	return rc ? rc : ts_mux_frame(s->mux, f, &s->obuf);
}

static int flush_out(struct wsrt_session *s)
{
	if (!s->obuf.len)
		return 0;
	int rc = srtio_send(s->sock, s->obuf.data, s->obuf.len);
	if (!rc)
		s->info.down_bytes += s->obuf.len;
	bytes_reset(&s->obuf);
	return rc;
}

void wsrt_play_pump(struct wsrt_session *s)
{
	int rc = 0;
	bool budget = false;
	while (s->reader && !s->closing) {
		if (srtio_queued(s->sock) + s->obuf.len >= WSRT_OUT_BUDGET) {
			budget = true;
			break;
		}
		struct frame *f;
		rc = hub_reader_next(s->reader, &f);
		if (rc <= 0)
			break;
		rc = mux_frame(s, f);
		frame_unref(f);
		if (rc < 0)
			break;
		if (s->obuf.len >= 64 * 1024 && (rc = flush_out(s)) < 0)
			break;
	}
	int frc = flush_out(s);
	if (rc == -EPIPE)
		wsrt_session_end(s, 0, "stream ended");
	else if (rc == -ENOBUFS)
		wsrt_session_end(s, -ENOBUFS, "viewer too slow, dropped");
	else if (rc < 0 || frc < 0)
		wsrt_session_end(s, rc < 0 ? rc : frc, "sending failed");
	else if (budget)
		srtio_want_drain(s->sock, WSRT_OUT_BUDGET / 2);
}

/* The track mask from the selector query (0 = all tracks). */
static uint64_t track_mask(struct wsrt_session *s, struct hub_stream *st)
{
	if (!s->selector[0])
		return 0;
	const struct track *tracks[HUB_MAX_TRACKS] = {0};
	unsigned n = hub_stream_track_count(st);
	for (unsigned i = 0; i < n; i++)
		tracks[i] = hub_stream_track(st, i);
	uint64_t mask = 0;
	char err[128];
	if (selector_from_query(s->selector, tracks, n, &mask, err, sizeof(err)) < 0) {
		LOGF(LOG_WARN, s->play_name, "SRT: %s; sending every track", err);
		return 0;
	}
	return mask ? mask : 0;
}

/* Attaches the reader when the stream is live: 0, or -EAGAIN (not yet),
 * -ENOMEM. */
int wsrt_play_attach(struct wsrt_session *s)
{
	struct hub_stream *st = hub_find(s->hub, s->play_name);
	if (!st || hub_stream_state(st) != STREAM_READY)
		return -EAGAIN;
	struct hub_reader_opts o = {.track_mask = track_mask(s, st)};
	s->reader = hub_reader_new(st, &o, on_wake, s);
	if (!s->reader)
		return -ENOMEM;
	s->deadline_ms = 0;
	int rc = mux_rebuild(s, st, o.track_mask);
	if (rc < 0)
		return rc;
	LOGF(LOG_INFO, s->play_name, "SRT viewer %s", s->info.host);
	wsrt_play_pump(s);
	return 0;
}

int wsrt_session_play(struct wsrt_session *s, const char *name, const char *selector)
{
	s->role = WSRT_ROLE_PLAY;
	s->info.role = CONN_VIEWER;
	if (streamname_sanitize(name, s->play_name, sizeof(s->play_name)) < 0)
		snprintf(s->play_name, sizeof(s->play_name), "%s", name);
	snprintf(s->info.stream, sizeof(s->info.stream), "%s", s->play_name);
	snprintf(s->selector, sizeof(s->selector), "%s", selector ? selector : "");
	hub_want(s->hub, s->play_name);
	int rc = wsrt_play_attach(s);
	if (rc == -EAGAIN) {
		/* not live (yet): an on-demand input may be starting */
		s->deadline_ms = (int64_t)uv_now(s->loop) + WSRT_PLAY_WAIT_MS;
		return 0;
	}
	return rc;
}

void wsrt_play_stop(struct wsrt_session *s)
{
	if (s->reader) {
		hub_reader_free(s->reader);
		s->reader = NULL;
	}
	ts_mux_free(s->mux);
	s->mux = NULL;
	s->mux_set = 0;
}
