/* The stream hub: the only state protocols share.
 *
 * One writer (the input) per stream publishes frames into a ring covering
 * the DVR window; any number of readers follow it with a cursor. Readers
 * are woken (never polled) once per loop iteration after new frames were
 * published, so several frames go out in one gathered write.
 *
 * Lifecycle of a stream: created by its first publisher (or reader of an
 * always-on source later), READY while frames flow, kept READY for a grace
 * period after the publisher leaves (a reconnecting encoder keeps its
 * viewers and the timeline continues), then OFF: readers drain and get
 * -EPIPE, the name is free again and the object is freed with its last
 * reference. Loop-thread only, except frame payloads (atomic refcounts). */
#ifndef WEIR_HUB_HUB_H
#define WEIR_HUB_HUB_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "media/frame.h"
#include "media/track.h"

#define HUB_MAX_TRACKS 16

enum stream_state {
	STREAM_OFF = 0,
	STREAM_BOOT,  /* input starting */
	STREAM_WAIT,  /* input connected, no playable data yet */
	STREAM_READY, /* playable */
};

struct hub;
struct hub_stream;
struct hub_reader;

/* Per-stream settings the control plane decides (from the stream config). */
struct hub_stream_opts {
	int64_t dvr_ms;     /* buffer window; default 50000 */
	int64_t grace_ms;   /* READY time kept after the publisher leaves; default 5000 */
	int64_t segment_ms; /* HLS/DASH target segment length; 0 = default (1900) */
};

/* A request to publish, checked by the policy hook. */
struct hub_publish_req {
	const char *name;      /* requested stream name (raw, from the URL) */
	const char *host;      /* publisher's address */
	const char *password;  /* password/app part of the URL, may be NULL */
	const char *connector; /* "RTMP", "SRT", ... */
	/* Set by inputs the control plane started itself (pull sources): the
	 * source check is skipped, the name is used as given. */
	bool internal;
};

/* Decisions the hub leaves to the control plane. */
struct hub_policy {
	void *ctx;
	/* May the request publish? On success writes the sanitized stream name
	 * to name_out and the stream's options; returns 0, or a negative errno
	 * (-ENOENT unknown stream, -EACCES denied) with a human reason in why. */
	int (*publish_check)(void *ctx, const struct hub_publish_req *req, char *name_out,
			     size_t name_len, struct hub_stream_opts *opts, char *why,
			     size_t why_len);
	/* A viewer asked for a stream that is not live: the control plane may
	 * start its input (pull source). May be NULL. */
	void (*stream_wanted)(void *ctx, const char *name);
	/* Called on every state change (for triggers, stats). May be NULL. */
	void (*state_changed)(void *ctx, struct hub_stream *s, enum stream_state st);
};

struct hub *hub_new(uv_loop_t *loop);
/* Ends every stream at once (readers get -EPIPE) and frees the hub after
 * the last reader is gone. */
void hub_free(struct hub *h);
void hub_set_policy(struct hub *h, const struct hub_policy *p);

/* ---- publishing ---- */

/* Checks the request with the policy hook and attaches a publisher.
 * on_kick(arg) is called if the hub must drop the publisher (stream
 * deleted, shutdown); the publisher must then call hub_publish_end.
 * Returns 0 and a stream reference in *out, or -ENOENT/-EACCES (reason
 * in why), -EBUSY (stream already has a publisher). */
int hub_publish_begin(struct hub *h, const struct hub_publish_req *req, void (*on_kick)(void *arg),
		      void *arg, struct hub_stream **out, char *why, size_t why_len);

/* Sets track idx (< HUB_MAX_TRACKS) to t (copied). A change of codec or
 * config bumps the track's generation. 0 or negative errno. */
int hub_set_track(struct hub_stream *s, unsigned idx, const struct track *t);

/* Publishes f (the hub takes over the caller's reference). Timestamps are
 * made continuous across publisher restarts and jumps. 0 or -errno. */
int hub_publish(struct hub_stream *s, struct frame *f);

/* The publisher left: starts the grace period and drops the stream
 * reference from hub_publish_begin. */
void hub_publish_end(struct hub_stream *s);

/* ---- streams ---- */

/* The live stream of that name (READY or in grace), or NULL. No reference
 * taken: valid until the current callback returns. */
struct hub_stream *hub_find(struct hub *h, const char *name);
/* Like hub_find, and when the stream is not live asks the control plane
 * to start its input (policy.stream_wanted). Outputs call this. */
struct hub_stream *hub_want(struct hub *h, const char *name);
struct hub_stream *hub_stream_ref(struct hub_stream *s);
void hub_stream_unref(struct hub_stream *s);
void hub_foreach(struct hub *h, void (*fn)(struct hub_stream *s, void *arg), void *arg);
/* Drops the publisher of a stream (API deletestream, shutdown). */
void hub_stream_kick(struct hub_stream *s);

const char *hub_stream_name(const struct hub_stream *s);
enum stream_state hub_stream_state(const struct hub_stream *s);
unsigned hub_stream_track_count(const struct hub_stream *s); /* highest idx + 1 */
/* Track idx, or NULL when unset. */
const struct track *hub_stream_track(const struct hub_stream *s, unsigned idx);
unsigned hub_stream_readers(const struct hub_stream *s);
bool hub_stream_has_publisher(const struct hub_stream *s);
/* First and last dts in the ring (us); 0,0 when empty. */
void hub_stream_window(const struct hub_stream *s, int64_t *first_us, int64_t *last_us);
uint64_t hub_stream_bytes_in(const struct hub_stream *s);
/* Target segment length from the stream config (0 = default). */
int64_t hub_stream_segment_ms(const struct hub_stream *s);

/* ---- reading ---- */

struct hub_reader_opts {
	uint64_t track_mask; /* bit i set = deliver track i; 0 = all tracks */
			     /* Soft lag: a reader whose next frame arrived more than this long ago
			      * while a newer keyframe exists jumps to the newest keyframe.
			      * 0 = default (5000 ms). */
	int64_t max_lag_ms;
	/* Start at the oldest keyframe of the DVR window instead of the newest
	 * (segmenters, DVR playback). */
	bool from_oldest;
	/* Wake this reader for audio (any non-video frame) only together with
	 * the next video frame, or HUB_COALESCE_MS after the first held frame
	 * at the latest, so one write carries both (a third of the syscalls
	 * for a 30 fps + AAC stream). Video frames always wake at once;
	 * streams without video are never held. */
	bool coalesce;
};

#define HUB_COALESCE_MS 50

/* New reader positioned at the newest keyframe (or waiting for the first).
 * wake(r, arg) is called from the loop after new frames became available
 * for a reader whose last hub_reader_next returned 0, and when the stream
 * ends. The reader holds a stream reference. NULL on ENOMEM. */
struct hub_reader *hub_reader_new(struct hub_stream *s, const struct hub_reader_opts *o,
				  void (*wake)(struct hub_reader *r, void *arg), void *arg);

/* Next frame for this reader.
 * Returns 1 and a new reference in *out (caller unrefs);
 * 0 when none is available yet (wake will be called);
 * -EPIPE when the stream ended and everything was delivered;
 * -ENOBUFS when the reader fell behind the hard limit (disconnect it). */
int hub_reader_next(struct hub_reader *r, struct frame **out);

struct hub_stream *hub_reader_stream(struct hub_reader *r);
/* Frames skipped by the slow-viewer policy so far. */
uint64_t hub_reader_skipped(const struct hub_reader *r);
/* Safe to call from within wake. */
void hub_reader_free(struct hub_reader *r);

#endif
