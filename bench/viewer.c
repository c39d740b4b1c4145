/* One simulated viewer: RTMP play or HTTP-FLV. Records time to first
 * frame, media time progress against wall-clock time, gaps, and the
 * publisher -> viewer latency of every video frame whose send time the
 * built-in publisher logged. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define GAP_MS 1000 /* a forward jump in video time this big = frames skipped */

static void record_latency(struct viewer *v, uint64_t now_ns, const uint8_t *tail, size_t tail_len,
			   size_t len)
{
	struct bench *b = v->b;
	uint64_t sent = sendlog_get(b->log, media_key(tail, tail_len, len));
	if (!sent) {
		b->unmatched++;
		return;
	}
	if (sent < v->t_start_ns || sent > now_ns)
		return; /* from the server's backlog, older than this viewer */
	uint64_t us = (now_ns - sent) / 1000;
	hist_add(&b->lat, us);
	hist_add(&b->lat_sec, us);
}

/* Classic AVC (codec 7): byte 1 is the packet type, 1 = coded frame.
 * Enhanced RTMP (bit 7 set): low nibble 1 or 3 = coded frames. */
static bool coded_frame(const uint8_t *body, size_t len, bool *key)
{
	if (len < 2)
		return false;
	*key = ((body[0] >> 4) & 7) == 1;
	if (body[0] & 0x80) {
		unsigned pt = body[0] & 15;
		return pt == 1 || pt == 3;
	}
	if ((body[0] & 15) == 7 || (body[0] & 15) == 12)
		return body[1] == 1;
	return true; /* other classic codecs have no packet type */
}

static void advance_media_time(struct viewer *v, uint64_t now_ns, uint32_t ts_ms)
{
	int64_t d = (int32_t)(ts_ms - (uint32_t)v->last_ts_ms); /* 32-bit wrap safe */
	if (d > GAP_MS)
		v->gaps++;
	v->last_ts_ms += d;
	int64_t lag =
	    (int64_t)((now_ns - v->t_first_key_ns) / NS_PER_MS) - (v->last_ts_ms - v->first_ts_ms);
	if (lag < v->min_lag_ms)
		v->min_lag_ms = lag;
}

void viewer_on_video(struct viewer *v, uint64_t now_ns, uint32_t ts_ms, const uint8_t *body,
		     size_t len, const uint8_t *tail, size_t tail_len)
{
	bool key;
	if (!coded_frame(body, len, &key))
		return;
	v->vframes++;
	if (!v->t_first_ns)
		v->t_first_ns = now_ns;
	if (!v->t_first_key_ns) {
		if (!key)
			return; /* not decodable yet (a server without a GOP cache) */
		v->t_first_key_ns = now_ns;
		v->first_ts_ms = v->last_ts_ms = ts_ms;
		v->min_lag_ms = 0;
	} else {
		advance_media_time(v, now_ns, ts_ms);
	}
	v->t_last_ns = now_ns;
	if (v->b->in_window && v->b->pub)
		record_latency(v, now_ns, tail, tail_len, len);
}

void viewer_on_ts_video(struct viewer *v, uint64_t now_ns, uint32_t ts_ms)
{
	v->vframes++;
	if (!v->t_first_key_ns)
		v->t_first_key_ns = now_ns;
	if (!v->t_first_ns) {
		v->t_first_ns = now_ns;
		v->first_ts_ms = v->last_ts_ms = ts_ms;
		v->min_lag_ms = 0;
	} else {
		advance_media_time(v, now_ns, ts_ms);
	}
	v->t_last_ns = now_ns;
}

static void ended(struct viewer *v, const char *why)
{
	struct bench *b = v->b;
	if (b->stopping)
		return; /* we ended it: it was still playing */
	v->why = why;
	v->end =
	    (!strcmp(why, "closed by server") || !strcmp(why, "stream ended")) ? VE_EOF : VE_FAILED;
	v->t_end_ns = uv_hrtime();
}

static void closed(struct viewer *v)
{
	v->closed = true;
	v->b->nclosed++;
}

/* ---- RTMP ---- */

static void r_started(struct rtmpc *r) {}

static void r_media(struct rtmpc *r, const struct rtmp_msg *m)
{
	struct viewer *v = r->arg;
	if (m->type != RTMP_MSG_VIDEO) {
		v->aframes++;
		return;
	}
	size_t tl = m->len < 32 ? m->len : 32;
	viewer_on_video(v, r->conn.rx_ns, m->timestamp, m->payload, m->len,
			m->payload + m->len - tl, tl);
}

static void r_ended(struct rtmpc *r, const char *why)
{
	ended(r->arg, why);
}

static void r_closed(struct rtmpc *r)
{
	struct viewer *v = r->arg;
	v->r = NULL;
	free(r);
	closed(v);
}

static const struct rtmpc_cbs viewer_rtmp = {
    .started = r_started,
    .media = r_media,
    .ended = r_ended,
    .closed = r_closed,
};

/* ---- FLV (flvc.c calls these) ---- */

void viewer_flv_ended(struct viewer *v, const char *why)
{
	ended(v, why);
}

void viewer_flv_closed(struct viewer *v)
{
	v->f = NULL;
	v->h = NULL;
	closed(v);
}

int viewer_start(struct bench *b, struct viewer *v)
{
	v->b = b;
	v->t_start_ns = uv_hrtime();
	if (!v->rtmp) {
		if (b->o.mode == MODE_HLS_PLAY)
			v->h = hlsc_start(v, b->loop, &b->vt);
		else
			v->f = flvc_start(v, b->loop, &b->vt);
		if (v->f || v->h)
			return 0;
		v->end = VE_FAILED;
		v->why = "could not start";
		closed(v);
		return -ENOMEM;
	}
	struct rtmpc *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->arg = v;
	v->r = r;
	int rc = rtmpc_start(r, b->loop, &b->vt, false, &viewer_rtmp);
	if (rc < 0) {
		v->r = NULL;
		free(r);
		v->end = VE_FAILED;
		v->why = "could not start";
		closed(v);
	}
	return rc;
}

void viewer_close(struct viewer *v)
{
	if (v->r)
		bconn_fail(&v->r->conn, "bench end");
	if (v->f)
		flvc_close(v->f);
	if (v->h)
		hlsc_close(v->h);
}
