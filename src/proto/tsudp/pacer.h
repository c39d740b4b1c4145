/* Media-time pacing for TS datagrams: the output rate follows the media
 * clock instead of the bursty arrival of frames.
 *
 * Every frame's TS bytes are due at the wall time its DTS maps to (the
 * first frame anchors the mapping) and are spread evenly over the next
 * smooth_ms: the bytes allowed out by time t are
 *     sum over frames of bytes * clamp((t - due) / smooth, 0, 1),
 * a moving average of the stream's bitrate over smooth_ms. Order is kept,
 * nothing is dropped, a frame is out at most smooth_ms after it is due.
 * PCRs are rewritten to the send schedule (smooth_ms + 100 ms behind the
 * media clock) so that receivers see a constant-delay stream.
 *
 * Pure logic with the time passed in (microseconds, any monotonic clock).
 * Not thread-safe. */
#ifndef WEIR_PROTO_TSUDP_PACER_H
#define WEIR_PROTO_TSUDP_PACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pacer;

struct pacer_opts {
	unsigned pkts;     /* TS packets per datagram, 1..7 (default 7) */
	int64_t smooth_ms; /* spreading window (default 1000); the added latency */
	bool restamp_pcr;  /* rewrite PCRs to the schedule (default off) */
};

/* NULL on ENOMEM. opts may be NULL (defaults). */
struct pacer *pacer_new(const struct pacer_opts *opts);
void pacer_free(struct pacer *p);

/* Queues the TS packets of one frame (len a multiple of 188) with its
 * DTS, at now_us. arrival_us is when the frame reached the server (the
 * hub's wall_us, same clock; now_us when unknown): the first frame
 * anchors the mapping at its arrival, so that an output starting with a
 * backlog (the hub reader starts at the newest keyframe, up to a GOP
 * old) catches up with it instead of staying that far behind the live
 * edge for good: frames already older than smooth_ms go out at once. A
 * DTS far from the mapping (a timeline jump, the source fell behind by
 * more than a second, or more than 10 s ahead of now) re-anchors it.
 * 0 or -ENOMEM. */
int pacer_push(struct pacer *p, const uint8_t *ts, size_t len, int64_t dts_us, int64_t arrival_us,
	       int64_t now_us);

/* Up to max datagrams that may go out at now_us: pointers into the
 * queue (valid until the next push or consume) with their lengths. All
 * are full (pkts * 188 bytes) except a shorter one when every queued byte
 * is out of its smoothing, or when the credited packets cannot grow into
 * a full one before the next frame is due (a frame's tail, with a
 * smoothing window shorter than the frame interval).
 * Returns the count. */
unsigned pacer_due(struct pacer *p, int64_t now_us, uint8_t **dgrams, size_t *lens, unsigned max);
/* Drops the first n datagrams pacer_due returned (they were sent). */
void pacer_consume(struct pacer *p, unsigned n);

/* The media clock at now_us (us) as the send schedule sees it, PCR
 * delay included: what restamped PCRs and RTP timestamps carry. */
int64_t pacer_clock_us(const struct pacer *p, int64_t now_us);
/* How far ahead of now_us the newest queued frame is due (us, >= 0):
 * readers pause above a few seconds (a faster-than-real-time source). */
int64_t pacer_ahead_us(const struct pacer *p, int64_t now_us);
/* Bytes waiting. */
size_t pacer_queued(const struct pacer *p);

#endif
