/* The one frame type every protocol converts to and from.
 *
 * A frame is immutable once published and refcounted: one allocation holds
 * header and payload, so fan-out to any number of viewers copies a pointer.
 * Timestamps are int64 microseconds on the stream's timeline.
 *
 * Payload conventions:
 *  - H.264/H.265: NAL units, each prefixed by a 4-byte big-endian length
 *    (never Annex-B start codes); parameter sets live in the track config.
 *  - AV1: low-overhead OBUs (as in MP4/FLV); VP8/VP9: one raw frame.
 *  - AAC: one raw access unit (no ADTS header); MP3: one MPEG audio frame
 *    with its header; Opus: one packet. */
#ifndef WEIR_MEDIA_FRAME_H
#define WEIR_MEDIA_FRAME_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum frame_flags {
	FRAME_KEY = 1 << 0,         /* random access point (video) */
	FRAME_DISCARDABLE = 1 << 1, /* no frame refers to this one */
	FRAME_DAMAGED = 1 << 2,     /* input detected loss inside this frame */
};

struct frame {
	atomic_uint refs;
	uint16_t track; /* index into the stream's track table */
	uint16_t flags; /* enum frame_flags */
	int64_t dts_us;
	int64_t pts_us;
	uint64_t seq;    /* set by the hub on publish: position in the stream */
	int64_t wall_us; /* set by the hub on publish: monotonic arrival time */
	size_t len;
	uint8_t data[];
};

/* New frame with a copy of data[0..len) (data may be NULL: left
 * uninitialised for the caller to fill before publishing). refs = 1. */
struct frame *frame_new(unsigned track, int64_t dts_us, int64_t pts_us, unsigned flags,
			const void *data, size_t len);

static inline struct frame *frame_ref(struct frame *f)
{
	if (f)
		atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
	return f;
}

/* NULL is fine. */
void frame_unref(struct frame *f);

#endif
