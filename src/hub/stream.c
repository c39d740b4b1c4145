/* Stream registry, publishing and the stream state machine. */
#include "hub/hub-t.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define DEFAULT_DVR_MS   50000
#define DEFAULT_GRACE_MS 5000
/* Audio-only streams: one random access point per this much media time. */
#define AUDIO_RAP_US 1000000
/* Hard memory cap of one stream's ring, whatever the DVR window says. */
#define RING_MAX_BYTES (512ull << 20)
#define TICK_MS        250

static void tick_cb(uv_timer_t *t);

struct hub *hub_new(uv_loop_t *loop)
{
	struct hub *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->loop = loop;
	uv_check_init(loop, &h->check);
	uv_idle_init(loop, &h->idle);
	uv_timer_init(loop, &h->tick);
	uv_timer_init(loop, &h->hold);
	h->check.data = h->idle.data = h->tick.data = h->hold.data = h;
	h->handles_open = 4;
	uv_timer_start(&h->tick, tick_cb, TICK_MS, TICK_MS);
	uv_unref((uv_handle_t *)&h->tick);
	return h;
}

void hub_set_policy(struct hub *h, const struct hub_policy *p)
{
	h->policy = *p;
}

static void set_state(struct hub_stream *s, enum stream_state st)
{
	if (s->state == st)
		return;
	s->state = st;
	LOGF(LOG_INFO, s->name, "stream %s",
	     st == STREAM_READY ? "ready"
	     : st == STREAM_OFF ? "offline"
				: "waiting for data");
	if (s->hub->policy.state_changed)
		s->hub->policy.state_changed(s->hub->policy.ctx, s, st);
}

static void registry_remove(struct hub_stream *s)
{
	struct hub *h = s->hub;
	if (!s->in_registry)
		return;
	if (s->prev)
		s->prev->next = s->next;
	else
		h->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->in_registry = false;
	h->nstreams--;
}

/* The stream is over: the publisher is told to leave, readers drain what
 * is left and then get -EPIPE, and the name is free again. */
static void stream_end(struct hub_stream *s)
{
	hub_stream_ref(s); /* the kick may drop the publisher's reference */
	if (s->publishing && s->on_kick) {
		void (*kick)(void *) = s->on_kick;
		s->on_kick = NULL;
		s->kicked = true;
		kick(s->kick_arg); /* publisher calls hub_publish_end, now or later */
	}
	s->kicked = true;
	set_state(s, STREAM_OFF);
	if (s->in_registry) {
		registry_remove(s);
		hub_wake_readers(s, true);
		hub_stream_unref(s); /* the registry's reference */
	}
	hub_stream_unref(s);
}

static struct hub_stream *stream_new(struct hub *h, const char *name)
{
	struct hub_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (ring_init(&s->ring)) {
		free(s);
		return NULL;
	}
	s->hub = h;
	s->refs = 1; /* registry */
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->in_registry = true;
	s->next = h->streams;
	if (h->streams)
		h->streams->prev = s;
	h->streams = s;
	h->nstreams++;
	return s;
}

struct hub_stream *hub_find(struct hub *h, const char *name)
{
	for (struct hub_stream *s = h->streams; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

int hub_publish_begin(struct hub *h, const struct hub_publish_req *req, void (*on_kick)(void *arg),
		      void *arg, struct hub_stream **out, char *why, size_t why_len)
{
	char name[128];
	struct hub_stream_opts opts = {.dvr_ms = DEFAULT_DVR_MS, .grace_ms = DEFAULT_GRACE_MS};
	*out = NULL;
	if (h->closing) {
		snprintf(why, why_len, "server shutting down");
		return -ESHUTDOWN;
	}
	if (!h->policy.publish_check) {
		snprintf(why, why_len, "no publish policy");
		return -EACCES;
	}
	int rc =
	    h->policy.publish_check(h->policy.ctx, req, name, sizeof(name), &opts, why, why_len);
	if (rc < 0)
		return rc;
	if (opts.dvr_ms <= 0)
		opts.dvr_ms = DEFAULT_DVR_MS;
	if (opts.grace_ms < 0)
		opts.grace_ms = DEFAULT_GRACE_MS;

	struct hub_stream *s = hub_find(h, name);
	if (s && s->publishing) {
		snprintf(why, why_len, "stream %s already has a publisher", name);
		return -EBUSY;
	}
	if (!s) {
		s = stream_new(h, name);
		if (!s) {
			snprintf(why, why_len, "out of memory");
			return -ENOMEM;
		}
		set_state(s, STREAM_WAIT);
	}
	s->opts = opts;
	s->publishing = true;
	s->session_start = true;
	s->on_kick = on_kick;
	s->kick_arg = arg;
	*out = hub_stream_ref(s);
	return 0;
}

int hub_set_track(struct hub_stream *s, unsigned idx, const struct track *t)
{
	if (idx >= HUB_MAX_TRACKS)
		return -EINVAL;
	struct track *cur = &s->tracks[idx];
	bool known = s->track_set & (1u << idx);
	uint32_t gen = known ? cur->generation : 0;
	bool changed = !known || cur->codec != t->codec || !wbuf_equal(cur->config, t->config);
	uint32_t bitrate = cur->bitrate_bps;
	track_clear(cur);
	track_copy(cur, t);
	cur->generation = changed ? gen + 1 : gen;
	cur->bitrate_bps = bitrate;
	s->track_set |= 1u << idx;
	if (t->type == TRACK_VIDEO)
		s->has_video = true;
	if (changed)
		LOGF(LOG_MEDIUM, s->name, "track %u: %s %s", idx, track_type_name(t->type),
		     codec_name(t->codec));
	return 0;
}

static bool is_rap(struct hub_stream *s, const struct frame *f)
{
	const struct track *t = &s->tracks[f->track];
	if (t->type == TRACK_VIDEO)
		return f->flags & FRAME_KEY;
	if (s->has_video || t->type != TRACK_AUDIO)
		return false;
	if (s->ring.kcount && f->dts_us - s->last_rap_dts_us < AUDIO_RAP_US)
		return false;
	s->last_rap_dts_us = f->dts_us;
	return true;
}

int hub_publish(struct hub_stream *s, struct frame *f)
{
	if (!s->publishing || s->kicked || f->track >= HUB_MAX_TRACKS ||
	    !(s->track_set & (1u << f->track))) {
		frame_unref(f);
		return s->publishing ? -EINVAL : -EPIPE;
	}
	timeline_fix(s, f);
	f->wall_us = hub_now_us();
	bool rap = is_rap(s, f);
	if (!rap && s->ring.kcount == 0) {
		frame_unref(f); /* nothing can start before the first keyframe */
		return 0;
	}
	int rc = ring_push(&s->ring, f, rap);
	if (rc) {
		frame_unref(f);
		return rc;
	}
	s->bytes_in += f->len;
	s->tstats[f->track].bytes += f->len;
	ring_trim(&s->ring, s->opts.dvr_ms * 1000, RING_MAX_BYTES);
	if (s->state != STREAM_READY)
		set_state(s, STREAM_READY);
	hub_wake_readers(s, !s->has_video || s->tracks[f->track].type == TRACK_VIDEO);
	return 0;
}

void hub_publish_end(struct hub_stream *s)
{
	if (!s->publishing)
		return;
	s->publishing = false;
	s->on_kick = NULL;
	if (!s->kicked && s->state == STREAM_READY && !s->hub->closing && s->opts.grace_ms > 0) {
		s->grace_deadline_us = hub_now_us() + s->opts.grace_ms * 1000;
		LOGF(LOG_INFO, s->name, "publisher left; keeping stream for %lld ms",
		     (long long)s->opts.grace_ms);
	} else {
		stream_end(s);
	}
	hub_stream_unref(s);
}

void hub_stream_kick(struct hub_stream *s)
{
	stream_end(s);
}

struct hub_stream *hub_stream_ref(struct hub_stream *s)
{
	s->refs++;
	return s;
}

void hub_stream_unref(struct hub_stream *s)
{
	if (!s || --s->refs)
		return;
	ring_free(&s->ring);
	for (unsigned i = 0; i < HUB_MAX_TRACKS; i++)
		track_clear(&s->tracks[i]);
	free(s);
}

void hub_foreach(struct hub *h, void (*fn)(struct hub_stream *s, void *arg), void *arg)
{
	for (struct hub_stream *s = h->streams, *n; s; s = n) {
		n = s->next;
		fn(s, arg);
	}
}

const char *hub_stream_name(const struct hub_stream *s)
{
	return s->name;
}
enum stream_state hub_stream_state(const struct hub_stream *s)
{
	return s->state;
}
unsigned hub_stream_readers(const struct hub_stream *s)
{
	return s->nreaders;
}
bool hub_stream_has_publisher(const struct hub_stream *s)
{
	return s->publishing;
}
uint64_t hub_stream_bytes_in(const struct hub_stream *s)
{
	return s->bytes_in;
}

unsigned hub_stream_track_count(const struct hub_stream *s)
{
	unsigned n = 0;
	for (unsigned i = 0; i < HUB_MAX_TRACKS; i++)
		if (s->track_set & (1u << i))
			n = i + 1;
	return n;
}

const struct track *hub_stream_track(const struct hub_stream *s, unsigned idx)
{
	if (idx >= HUB_MAX_TRACKS || !(s->track_set & (1u << idx)))
		return NULL;
	return &s->tracks[idx];
}

void hub_stream_window(const struct hub_stream *s, int64_t *first_us, int64_t *last_us)
{
	const struct ring *r = &s->ring;
	if (r->next_seq == r->first_seq) {
		*first_us = *last_us = 0;
		return;
	}
	*first_us = ring_at(r, r->first_seq)->dts_us;
	*last_us = ring_at(r, r->next_seq - 1)->dts_us;
}

static void update_bitrates(struct hub_stream *s, int64_t now)
{
	for (unsigned i = 0; i < HUB_MAX_TRACKS; i++) {
		struct track_stats *ts = &s->tstats[i];
		if (!(s->track_set & (1u << i)))
			continue;
		if (!ts->last_calc_us) {
			ts->last_calc_us = now;
			continue;
		}
		int64_t dt = now - ts->last_calc_us;
		if (dt < 1000000)
			continue;
		uint32_t bps = (uint32_t)(ts->bytes * 8 * 1000000 / (uint64_t)dt);
		uint32_t old = s->tracks[i].bitrate_bps;
		s->tracks[i].bitrate_bps = old ? (old * 3 + bps) / 4 : bps;
		ts->bytes = 0;
		ts->last_calc_us = now;
	}
}

static void tick_cb(uv_timer_t *t)
{
	struct hub *h = t->data;
	int64_t now = hub_now_us();
	for (struct hub_stream *s = h->streams, *n; s; s = n) {
		n = s->next;
		if (s->publishing)
			update_bitrates(s, now);
		else if (now >= s->grace_deadline_us)
			stream_end(s);
	}
}

static void handle_closed(uv_handle_t *hd)
{
	struct hub *h = hd->data;
	if (--h->handles_open == 0)
		free(h);
}

void hub_free(struct hub *h)
{
	if (!h)
		return;
	h->closing = true;
	while (h->streams)
		hub_stream_kick(h->streams);
	/* Readers left now hold only their own stream references. */
	while (h->pending) {
		struct hub_reader *r = h->pending;
		h->pending = r->pnext;
		r->pending = false;
	}
	h->pending_tail = NULL;
	uv_close((uv_handle_t *)&h->check, handle_closed);
	uv_close((uv_handle_t *)&h->idle, handle_closed);
	uv_close((uv_handle_t *)&h->tick, handle_closed);
	uv_close((uv_handle_t *)&h->hold, handle_closed);
}

int64_t hub_stream_segment_ms(const struct hub_stream *s)
{
	return s->opts.segment_ms;
}

struct hub_stream *hub_want(struct hub *h, const char *name)
{
	struct hub_stream *s = hub_find(h, name);
	if ((!s || s->state != STREAM_READY) && h->policy.stream_wanted && !h->closing)
		h->policy.stream_wanted(h->policy.ctx, name);
	return s;
}
