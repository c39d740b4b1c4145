/* A stream read as MPEG-TS: the output half shared by the TS transports
 * (UDP, RTP, TCP, RIST). Waits for the stream to be live, follows it with
 * a hub reader and muxes each frame to TS packets: PAT/PMT first, before
 * every video keyframe, after a track change and every second when there
 * is no video. Tracks appearing later join the mux. Loop-thread only. */
#ifndef WEIR_PROTO_TSUDP_TSOUT_H
#define WEIR_PROTO_TSUDP_TSOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct hub;
struct tsout;

struct tsout_cb {
	void *arg;
	/* TS packets (len a multiple of 188) of one frame whose DTS is dts_us,
	 * valid during the call. Return 0 to go on, 1 to pause the reading
	 * (tsout_resume continues), or a negative errno to stop (ended is
	 * then called with it). */
	int (*data)(void *arg, const uint8_t *ts, size_t len, int64_t dts_us);
	/* Instead of data when set: the same, with the frame's arrival time
	 * at the server (hub wall_us, uv_hrtime clock in us), for pacing
	 * outputs that must not add the age of the reader's start backlog. */
	int (*data_at)(void *arg, const uint8_t *ts, size_t len, int64_t dts_us,
		       int64_t arrival_us);
	/* The output is over: err 0 when the stream ended, -ENOENT when it
	 * did not come live in time, -ENOBUFS when the reader fell too far
	 * behind, or data's error. Called once; free the tsout afterwards
	 * (not from inside the callback). */
	void (*ended)(void *arg, int err, const char *why);
};

struct tsout_opts {
	const char *query;    /* track selectors (?video=&audio=), may be NULL */
	int64_t wait_ms;      /* how long to wait for the stream; <= 0: forever */
	const char *log_name; /* "TSUDP push", ... for log lines */
};

/* Starts following stream `name` (asks the control plane to start its
 * input when it is not live). 0 and *out, or -ENOMEM. */
int tsout_new(uv_loop_t *loop, struct hub *hub, const char *name, const struct tsout_opts *o,
	      const struct tsout_cb *cb, struct tsout **out);
/* Continues after data returned 1 (from outside the data callback). */
void tsout_resume(struct tsout *o);
/* True once the stream was found and is being read. */
bool tsout_attached(const struct tsout *o);
/* Stops reading; never calls back afterwards. NULL is fine. */
void tsout_free(struct tsout *o);

#endif
