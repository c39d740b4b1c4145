/* RTMP publishing: FLV tag bodies from the publisher become tracks and
 * frames in the hub. */
#include "proto/rtmp/rtmp-t.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "format/flv.h"

static void on_kick(void *arg)
{
	struct rtmp_conn *c = arg;
	rtmp_send_status(c, c->pub_msid, "status", "NetStream.Unpublish.Success",
			 "Stream was stopped by the server");
	rtmp_publish_stop(c);
	c->close_after_write = true;
	if (!c->out.queued)
		rtmp_close(c, "publish ended by the server");
}

int rtmp_publish_start(struct rtmp_conn *c, uint32_t msid, const char *name)
{
	if (c->pub || c->reader)
		return rtmp_send_status(c, msid, "error", "NetStream.Publish.BadName",
					"This connection already publishes or plays");
	char raw[256], why[256] = "";
	snprintf(raw, sizeof(raw), "%s", name);
	char *q = strchr(raw, '?');
	if (q)
		*q = 0;
	struct hub_publish_req req = {
	    .name = raw, .host = c->info.host, .password = c->app, .connector = "RTMP"};
	int rc = hub_publish_begin(c->hub, &req, on_kick, c, &c->pub, why, sizeof(why));
	if (rc < 0) {
		LOGF(LOG_WARN, raw, "RTMP publish from %s refused: %s", c->info.host, why);
		rtmp_send_status(
		    c, msid, "error",
		    rc == -EBUSY ? "NetStream.Publish.BadName" : "NetStream.Publish.Rejected", why);
		c->close_after_write = true;
		return 0;
	}
	c->pub_msid = msid;
	c->info.role = CONN_INPUT;
	snprintf(c->info.stream, sizeof(c->info.stream), "%s", hub_stream_name(c->pub));
	LOGF(LOG_INFO, c->info.stream, "RTMP publish from %s", c->info.host);
	struct bytes b = {0};
	rc = rtmp_put_user_control(&c->wr, &b, RTMP_UC_STREAM_BEGIN, msid);
	if (!rc)
		rc = rtmp_send_bytes(c, &b);
	bytes_free(&b);
	return rc
		   ?: rtmp_send_status(c, msid, "status", "NetStream.Publish.Start",
				       "Publishing started");
}

void rtmp_publish_stop(struct rtmp_conn *c)
{
	if (!c->pub)
		return;
	struct hub_stream *s = c->pub;
	c->pub = NULL;
	LOGF(LOG_INFO, c->info.stream, "RTMP publisher %s left", c->info.host);
	hub_publish_end(s);
}

/* Extends a 32-bit RTMP timestamp to 64 bits across wraps (per track). */
static int64_t extend_ts(struct rtmp_conn *c, int t, uint32_t ts)
{
	if (ts < c->last_ts[t] && c->last_ts[t] - ts > 0x80000000u)
		c->ts_high[t] += 1ll << 32;
	else if (ts > c->last_ts[t] && ts - c->last_ts[t] > 0x80000000u && c->ts_high[t])
		c->ts_high[t] -= 1ll << 32; /* a late frame from before the wrap */
	c->last_ts[t] = ts;
	return c->ts_high[t] + ts;
}

static int set_track(struct rtmp_conn *c, int t, const struct flv_body *b)
{
	struct track *tr = &c->ptracks[t];
	struct track nt = {0};
	nt.type = b->type;
	nt.codec = b->codec;
	nt.rate = b->rate;
	nt.channels = b->channels;
	nt.bits = b->bits;
	/* AV1/VP9 may come without a sequence header: a track with no config. */
	bool bare = b->kind != FLV_BODY_CONFIG && b->codec != CODEC_MP3;
	int rc = bare ? 0 : flv_track_from_config(&nt, b->codec, b->data, b->len);
	if (rc < 0) {
		track_clear(&nt);
		LOGF(LOG_WARN, c->info.stream, "RTMP: bad %s config from %s", codec_name(b->codec),
		     c->info.host);
		return 0; /* keep the connection; frames wait for a good config */
	}
	track_clear(tr);
	*tr = nt;
	c->ptrack_set[t] = true;
	return hub_set_track(c->pub, (unsigned)t, tr);
}

/* H.264/H.265 payloads use 4-byte NAL lengths in weir; FLV allows 1-4. */
static unsigned nal_length_size(const struct track *t)
{
	if ((t->codec == CODEC_H264 || t->codec == CODEC_H265) && t->config) {
		const uint8_t *p = t->config->data;
		size_t len = t->config->len;
		if (t->codec == CODEC_H264 && len >= 5)
			return (p[4] & 3) + 1;
		if (t->codec == CODEC_H265 && len >= 22)
			return (p[21] & 3) + 1;
	}
	return 4;
}

static struct frame *make_frame(const struct track *t, unsigned idx, int64_t dts_us, int64_t pts_us,
				unsigned flags, const uint8_t *p, size_t len)
{
	unsigned ls = nal_length_size(t);
	if (ls == 4 || (t->codec != CODEC_H264 && t->codec != CODEC_H265))
		return frame_new(idx, dts_us, pts_us, flags, p, len);
	/* Rewrite 1/2/3-byte lengths as 4-byte ones. */
	size_t out = 0, n = 0;
	for (size_t i = 0; i + ls <= len; i += ls + n, out += 4 + n) {
		n = 0;
		for (unsigned k = 0; k < ls; k++)
			n = n << 8 | p[i + k];
		if (n > len - i - ls)
			return NULL;
	}
	struct frame *f = frame_new(idx, dts_us, pts_us, flags, NULL, out);
	if (!f)
		return NULL;
	uint8_t *w = f->data;
	for (size_t i = 0; i + ls <= len; i += ls + n) {
		n = 0;
		for (unsigned k = 0; k < ls; k++)
			n = n << 8 | p[i + k];
		wr_be32(w, (uint32_t)n);
		memcpy(w + 4, p + i + ls, n);
		w += 4 + n;
	}
	return f;
}

int rtmp_on_media(struct rtmp_conn *c, const struct rtmp_msg *m)
{
	if (!c->pub || m->stream_id != c->pub_msid || !m->len)
		return 0;
	struct flv_body b;
	bool video = m->type == RTMP_MSG_VIDEO;
	int rc = video ? flv_parse_video(m->payload, m->len, &b)
		       : flv_parse_audio(m->payload, m->len, &b);
	if (rc == -ENOTSUP) {
		LOGF(LOG_HIGH, c->info.stream, "RTMP: unsupported %s codec ignored",
		     video ? "video" : "audio");
		return 0;
	}
	if (rc < 0)
		return rc;
	int t = video ? RTMP_TRACK_VIDEO : RTMP_TRACK_AUDIO;
	if (b.kind == FLV_BODY_CONFIG)
		return set_track(c, t, &b);
	if (b.kind != FLV_BODY_FRAME || !b.len)
		return 0;
	if (!c->ptrack_set[t] || c->ptracks[t].codec != b.codec) {
		if (b.codec != CODEC_MP3 && b.codec != CODEC_VP9 && b.codec != CODEC_AV1)
			return 0; /* waiting for the sequence header */
		if ((rc = set_track(c, t, &b)) < 0 || !c->ptrack_set[t])
			return rc;
	}
	int64_t dts_us = extend_ts(c, t, m->timestamp) * 1000;
	int64_t pts_us = dts_us + (int64_t)b.cts_ms * 1000;
	struct frame *f =
	    make_frame(&c->ptracks[t], (unsigned)t, dts_us, pts_us,
		       (video && b.key) ? FRAME_KEY : (video ? 0 : FRAME_KEY), b.data, b.len);
	if (!f)
		return -EPROTO;
	rc = hub_publish(c->pub, f);
	return rc == -EPIPE ? 0 : rc;
}
