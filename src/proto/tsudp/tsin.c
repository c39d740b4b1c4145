/* MPEG-TS bytes to hub tracks and frames (see tsin.h). */
#include "proto/tsudp/tsin.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "format/ts.h"
#include "hub/hub.h"
#include "proto/tsudp/tsgate.h"

struct tsin {
	struct hub_stream *s;
	struct ts_demux *dmx;
	struct tsgate *gate; /* tracks announced together (kept across demuxers) */
	void (*on_kick)(void *arg);
	void *arg;
	bool registered;
	bool gone; /* hub dropped the publisher */
	struct conn_info info;
};

static int on_track(void *ctx, unsigned idx, const struct track *t)
{
	struct tsin *in = ctx;
	if (in->gone)
		return -EPIPE;
	return tsgate_track(in->gate, idx, t);
}

static int on_frame(void *ctx, struct frame *f)
{
	struct tsin *in = ctx;
	if (in->gone) {
		frame_unref(f);
		return -EPIPE;
	}
	int rc = tsgate_frame(in->gate, ts_demux_track_mask(in->dmx), f);
	return rc == -EINVAL ? 0 : rc; /* a frame of an unknown track is dropped */
}

static void kicked(void *arg)
{
	struct tsin *in = arg;
	in->gone = true;
	if (in->on_kick)
		in->on_kick(in->arg);
}

static void kill_conn(struct conn_info *c)
{
	kicked((char *)c - offsetof(struct tsin, info));
}

static struct ts_demux *new_demux(struct tsin *in)
{
	struct ts_demux_cb cb = {.ctx = in, .on_track = on_track, .on_frame = on_frame};
	return ts_demux_new(&cb);
}

int tsin_new(struct hub *hub, const char *name, const char *connector, void (*on_kick)(void *arg),
	     void *arg, struct tsin **out, char *err, size_t errlen)
{
	struct tsin *in = calloc(1, sizeof(*in));
	if (!in || !(in->dmx = new_demux(in))) {
		free(in);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	in->on_kick = on_kick;
	in->arg = arg;
	in->info.protocol = connector;
	in->info.role = CONN_INPUT;
	in->info.kill = kill_conn;
	struct hub_publish_req req = {
	    .name = name, .host = "", .connector = connector, .internal = true};
	int rc = hub_publish_begin(hub, &req, kicked, in, &in->s, err, errlen);
	if (rc < 0) {
		ts_demux_free(in->dmx);
		free(in);
		return rc;
	}
	if (!(in->gate = tsgate_new(in->s))) {
		hub_publish_end(in->s);
		ts_demux_free(in->dmx);
		free(in);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(in->info.stream, sizeof(in->info.stream), "%s", hub_stream_name(in->s));
	*out = in;
	return 0;
}

int tsin_feed(struct tsin *in, const uint8_t *p, size_t len, const char *host)
{
	if (in->gone)
		return -EPIPE;
	if (!in->registered) {
		if (host)
			snprintf(in->info.host, sizeof(in->info.host), "%s", host);
		in->info.conntime_s = (int64_t)time(NULL);
		conn_register(&in->info);
		in->registered = true;
	}
	in->info.up_bytes += len;
	int rc = ts_demux_feed(in->dmx, p, len);
	return rc == -EPIPE || in->gone ? -EPIPE : rc;
}

void tsin_pause(struct tsin *in)
{
	if (in->gone)
		return;
	ts_demux_flush(in->dmx);
	struct ts_demux *fresh = new_demux(in);
	if (!fresh)
		return; /* keep the old one: better than none */
	ts_demux_free(in->dmx);
	in->dmx = fresh;
}

struct conn_info *tsin_conn(struct tsin *in)
{
	return &in->info;
}

void tsin_free(struct tsin *in)
{
	if (!in)
		return;
	if (!in->gone)
		ts_demux_flush(in->dmx);
	ts_demux_free(in->dmx);
	tsgate_free(in->gate);
	if (in->registered)
		conn_unregister(&in->info);
	hub_publish_end(in->s);
	free(in);
}
