/* RTMP playback: frames from a hub reader become chunked RTMP messages,
 * gathered many to one write. Payload bytes are never copied: the iovecs
 * point into the shared frames, which the write holds references to. */
#include "proto/rtmp/rtmp-t.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/streamname.h"
#include "format/flv.h"

/* Header arenas are sized to their use: most batches hold a few frames
 * (tens of header bytes each); a 64 KiB arena per write cost more in
 * malloc/page faults than the rest of the send path. */
#define BATCH_ARENA_MIN 2048
#define BATCH_IOV       1024
#define BATCH_REFS      128

struct batch {
	uint8_t *arena; /* chunk headers, body prefixes, small bodies */
	size_t used, cap;
	size_t bytes; /* wire bytes in the batch */
	uv_buf_t iov[BATCH_IOV];
	unsigned niov;
	struct frame *refs[BATCH_REFS];
	unsigned nrefs;
};

static int batch_flush(struct rtmp_conn *c, struct batch *b)
{
	int rc = 0;
	if (b->niov)
		rc = netout_write_now(&c->out, b->iov, b->niov, b->refs, b->nrefs, b->arena, NULL);
	else {
		for (unsigned i = 0; i < b->nrefs; i++)
			frame_unref(b->refs[i]);
		free(b->arena);
	}
	b->arena = NULL;
	b->used = b->cap = b->bytes = b->niov = b->nrefs = 0;
	c->info.down_bytes = c->out.total;
	return rc;
}

/* Appends one message (prefix copied to the arena + payload by reference)
 * to the batch, flushing first when it would not fit. */
static int batch_message(struct rtmp_conn *c, struct batch *b, uint8_t type, uint32_t csid,
			 uint32_t ts, const void *prefix, size_t plen, const void *payload,
			 size_t len)
{
	size_t need = plen + 32 + 5 * ((plen + len) / c->wr.chunk_size + 2);
	unsigned need_iov = 2 * ((unsigned)((plen + len) / c->wr.chunk_size) + 2) + 2;
	if (need_iov > BATCH_IOV)
		return -EMSGSIZE;
	if (b->arena &&
	    (b->used + need > b->cap || b->niov + need_iov > BATCH_IOV || b->nrefs == BATCH_REFS)) {
		int rc = batch_flush(c, b);
		if (rc)
			return rc;
	}
	if (!b->arena) {
		b->cap = need > BATCH_ARENA_MIN ? need : BATCH_ARENA_MIN;
		if (!(b->arena = malloc(b->cap)))
			return -ENOMEM;
	}
	uint8_t *pre = b->arena + b->used;
	memcpy(pre, prefix, plen);
	b->used += plen;
	struct iovec body[2] = {{.iov_base = pre, .iov_len = plen},
				{.iov_base = (void *)payload, .iov_len = len}};
	size_t hused = 0;
	struct iovec iov[BATCH_IOV];
	int n = rtmp_chunk_write_iov(&c->wr, csid, type, c->play_msid, ts, body, len ? 2 : 1,
				     b->arena + b->used, b->cap - b->used, &hused, iov,
				     BATCH_IOV - b->niov);
	if (n < 0)
		return n;
	b->used += hused;
	b->bytes += hused + plen + len;
	for (int i = 0; i < n; i++)
		b->iov[b->niov++] = uv_buf_init(iov[i].iov_base, (unsigned)iov[i].iov_len);
	return 0;
}

static int send_config(struct rtmp_conn *c, struct batch *b, const struct track *t, uint32_t ts)
{
	struct bytes body = {0};
	int rc = flv_config_body(t, &body);
	if (rc == -ENOENT || rc == -ENOTSUP)
		return 0; /* nothing to send for this codec */
	if (!rc)
		rc = batch_message(c, b, t->type == TRACK_VIDEO ? RTMP_MSG_VIDEO : RTMP_MSG_AUDIO,
				   t->type == TRACK_VIDEO ? CSID_VIDEO : CSID_AUDIO, ts, body.data,
				   body.len, NULL, 0);
	bytes_free(&body);
	return rc;
}

static const struct track *first_of(struct hub_stream *s, enum track_type type)
{
	for (unsigned i = 0; i < hub_stream_track_count(s); i++) {
		const struct track *t = hub_stream_track(s, i);
		if (t && t->type == type)
			return t;
	}
	return NULL;
}

static int send_metadata(struct rtmp_conn *c, struct batch *b)
{
	struct hub_stream *s = hub_reader_stream(c->reader);
	struct bytes body = {0};
	int rc = amf0_put_string(&body, "|RtmpSampleAccess");
	rc = rc ?: amf0_put_bool(&body, true);
	rc = rc ?: amf0_put_bool(&body, true);
	if (!rc)
		rc = batch_message(c, b, RTMP_MSG_DATA_AMF0, CSID_DATA, 0, body.data, body.len,
				   NULL, 0);
	bytes_reset(&body);
	if (!rc)
		rc = flv_metadata_body(&body, first_of(s, TRACK_VIDEO), first_of(s, TRACK_AUDIO));
	if (!rc)
		rc = batch_message(c, b, RTMP_MSG_DATA_AMF0, CSID_DATA, 0, body.data, body.len,
				   NULL, 0);
	bytes_free(&body);
	c->sent_meta = true;
	return rc;
}

/* The first video and first audio track are the ones RTMP carries. */
static bool wanted(struct hub_stream *s, unsigned idx)
{
	const struct track *t = hub_stream_track(s, idx);
	return t && (t == first_of(s, TRACK_VIDEO) || t == first_of(s, TRACK_AUDIO));
}

static int send_frame(struct rtmp_conn *c, struct batch *b, struct frame *f)
{
	struct hub_stream *s = hub_reader_stream(c->reader);
	const struct track *t = hub_stream_track(s, f->track);
	uint32_t ts = (uint32_t)(f->dts_us / 1000);
	int rc = 0;
	if (!c->sent_meta)
		rc = send_metadata(c, b);
	if (!rc && c->sent_gen[f->track] != t->generation) {
		rc = send_config(c, b, t, ts);
		c->sent_gen[f->track] = t->generation;
	}
	uint8_t prefix[FLV_MAX_PREFIX];
	int plen = rc ? rc : flv_body_prefix(t, f, prefix);
	if (plen < 0)
		return plen;
	bool video = t->type == TRACK_VIDEO;
	rc = batch_message(c, b, video ? RTMP_MSG_VIDEO : RTMP_MSG_AUDIO,
			   video ? CSID_VIDEO : CSID_AUDIO, ts, prefix, (size_t)plen, f->data,
			   f->len);
	if (rc)
		return rc;
	b->refs[b->nrefs++] = frame_ref(f);
	return 0;
}

static void stream_ended(struct rtmp_conn *c)
{
	rtmp_send_status(c, c->play_msid, "status", "NetStream.Play.Stop", "Stream ended");
	struct bytes b = {0};
	if (!rtmp_put_user_control(&c->wr, &b, RTMP_UC_STREAM_EOF, c->play_msid))
		rtmp_send_bytes(c, &b);
	bytes_free(&b);
	rtmp_play_stop(c);
	c->close_after_write = true;
	if (!c->out.queued)
		rtmp_close(c, NULL);
}

void rtmp_play_pump(struct rtmp_conn *c)
{
	struct batch b; /* not zeroed: 17 KB per pump; batch_flush resets the counters */
	b.arena = NULL;
	b.used = b.cap = b.bytes = b.niov = b.nrefs = 0;
	int rc = 0, frc = 0;
	bool full; /* stopped by the budget with frames left */
	/* A batch written at once (netout_write_now) gets no write callback to
	 * pump again, and the reader has no wake pending while frames are
	 * left: so go on here while the queue has room. */
	do {
		full = false;
		while (c->reader) {
			if (c->out.queued + b.bytes >= RTMP_OUT_BUDGET) {
				full = true;
				break;
			}
			struct frame *f;
			rc = hub_reader_next(c->reader, &f);
			if (rc <= 0)
				break;
			if (wanted(hub_reader_stream(c->reader), f->track))
				rc = send_frame(c, &b, f);
			frame_unref(f);
			if (rc < 0)
				break;
		}
		frc = batch_flush(c, &b);
	} while (full && frc == 0 && c->reader && c->out.queued < RTMP_OUT_BUDGET / 2);
	if (rc == -EPIPE)
		stream_ended(c);
	else if (rc == -ENOBUFS)
		rtmp_close(c, "viewer too slow, dropped");
	else if (rc < 0 || frc < 0)
		rtmp_close(c, "write failed");
}

static void on_wake(struct hub_reader *r, void *arg)
{
	rtmp_play_pump(arg);
}

static int attach(struct rtmp_conn *c, struct hub_stream *s)
{
	/* Audio rides with the next video frame: one write per video frame. */
	struct hub_reader_opts o = {.coalesce = true};
	c->reader = hub_reader_new(s, &o, on_wake, c);
	if (!c->reader)
		return -ENOMEM;
	memset(c->sent_gen, 0, sizeof(c->sent_gen));
	c->sent_meta = false;
	c->info.role = CONN_VIEWER;
	LOGF(LOG_INFO, c->play_name, "RTMP viewer %s", c->info.host);
	struct bytes b = {0};
	int rc = rtmp_put_user_control(&c->wr, &b, RTMP_UC_STREAM_BEGIN, c->play_msid);
	if (!rc)
		rc = rtmp_send_bytes(c, &b);
	bytes_free(&b);
	rc = rc
		 ?: rtmp_send_status(c, c->play_msid, "status", "NetStream.Play.Reset",
				     "Playing and resetting");
	rc = rc ?: rtmp_send_status(c, c->play_msid, "status", "NetStream.Play.Start", "Playing");
	if (!rc)
		rtmp_play_pump(c);
	return rc;
}

static void wait_closed(uv_handle_t *h)
{
	free(h);
}

static void stop_waiting(struct rtmp_conn *c)
{
	if (c->play_wait) {
		uv_close((uv_handle_t *)c->play_wait, wait_closed);
		c->play_wait = NULL;
	}
}

static void wait_tick(uv_timer_t *t)
{
	struct rtmp_conn *c = t->data;
	struct hub_stream *s = hub_find(c->hub, c->play_name);
	if (s && hub_stream_state(s) == STREAM_READY) {
		stop_waiting(c);
		if (attach(c, s) < 0)
			rtmp_close(c, "out of memory");
		return;
	}
	if ((int64_t)uv_now(t->loop) < c->play_wait_until_ms)
		return;
	stop_waiting(c);
	rtmp_send_status(c, c->play_msid, "error", "NetStream.Play.StreamNotFound",
			 "Stream is offline");
	c->close_after_write = true;
	LOGF(LOG_INFO, c->play_name, "RTMP viewer %s: stream not available", c->info.host);
}

int rtmp_play_start(struct rtmp_conn *c, uint32_t msid, const char *name)
{
	if (c->pub || c->reader || c->play_wait)
		return rtmp_send_status(c, msid, "error", "NetStream.Play.Failed",
					"This connection already publishes or plays");
	c->play_msid = msid;
	if (streamname_sanitize(name, c->play_name, sizeof(c->play_name)) < 0)
		return rtmp_send_status(c, msid, "error", "NetStream.Play.StreamNotFound",
					"Invalid stream name");
	snprintf(c->info.stream, sizeof(c->info.stream), "%s", c->play_name);
	struct hub_stream *s = hub_want(c->hub, c->play_name);
	if (s && hub_stream_state(s) == STREAM_READY)
		return attach(c, s);
	/* Not live (yet): wait a little, as an encoder may be reconnecting. */
	c->play_wait = malloc(sizeof(*c->play_wait));
	if (!c->play_wait)
		return -ENOMEM;
	uv_timer_init(c->tcp.loop, c->play_wait);
	c->play_wait->data = c;
	c->play_wait_until_ms = (int64_t)uv_now(c->tcp.loop) + RTMP_PLAY_WAIT_MS;
	uv_timer_start(c->play_wait, wait_tick, 200, 200);
	return 0;
}

void rtmp_play_stop(struct rtmp_conn *c)
{
	stop_waiting(c);
	if (c->reader) {
		hub_reader_free(c->reader);
		c->reader = NULL;
	}
}
