/* Live fragmented MP4 for the progressive .mp4 output and MP4 over
 * WebSocket: turns a reader's frames into an init segment and one
 * moof+mdat per track about every frag_us of media. Pure (no I/O, no
 * clock), loop-thread only.
 *
 * Fragment boundaries are paced by the lead track (the first video track
 * of the selection, else its first track): when a lead frame arrives
 * frag_us or more after the first pending lead frame, every track emits
 * the frames it holds that decode before that frame. Durations are exact:
 * video uses the dts difference to the next frame of the same track (so
 * the newest video frame always waits for its successor), audio the
 * frame's sample count (AAC 1024/960, MP3 1152/576, Opus from the TOC),
 * with its decode time jumping forward to the timestamps past a 100 ms
 * gap, and audio more than 100 ms behind it dropped (decode times never
 * go back). Frames of other tracks from before the first lead frame
 * (audio that a TS input delivers late, in PES bursts) are skipped. A
 * track whose frames pile up for four fragment lengths without a lead
 * boundary (lead track stalled) is emitted on its own. */
#ifndef WEIR_PROTO_HTTP_MP4_LIVE_H
#define WEIR_PROTO_HTTP_MP4_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bytes.h"
#include "media/frame.h"
#include "media/track.h"

#define MP4_LIVE_MAX_TRACKS   16
#define MP4_LIVE_DEFAULT_FRAG 500000 /* us */

struct mp4_live;

struct mp4_live_opts {
	int64_t frag_us; /* target fragment length; 0 = MP4_LIVE_DEFAULT_FRAG */
	/* true: decode times start at 0 with the first frame pushed (a file);
	 * false: they follow the stream's timeline (dts_us, clamped at 0). */
	bool from_zero;
};

/* Where fragments go. open() returns the buffer the next fragment is
 * appended to; close(arg, start) follows with the offset in that buffer
 * where the fragment began, so a caller can frame it (a WebSocket
 * message) or queue it. A negative return from close stops the push and
 * is passed on. */
struct mp4_live_sink {
	struct bytes *(*open)(void *arg);
	int (*close)(void *arg, size_t start);
	void *arg;
};

/* A fragmenter for tracks[0..n) (copied; NULL entries are not allowed),
 * whose stream track indices are idx[0..n); track_ID i+1 is tracks[i].
 * opts may be NULL. 0, -EINVAL (n is 0 or too big), -ENOMEM. */
int mp4_live_new(struct mp4_live **out, const struct track *const *tracks, const unsigned *idx,
		 unsigned n, const struct mp4_live_opts *opts);
/* Frees pending frames too. NULL is fine. */
void mp4_live_free(struct mp4_live *m);

/* Appends the init segment (ftyp + moov) for the current tracks.
 * 0, -ENOTSUP (a codec fMP4 cannot carry), -ENOMEM. */
int mp4_live_init(const struct mp4_live *m, struct bytes *out);

/* Feeds one frame (a reference is taken; frames of other tracks are
 * ignored) and emits the fragments that became complete. 0 or -errno. */
int mp4_live_push(struct mp4_live *m, struct frame *f, const struct mp4_live_sink *sink);

/* Emits everything pending (the last video frame of each track gets the
 * duration of the one before it): before a new init segment, a jump in
 * the input, or the end. 0 or -errno. */
int mp4_live_flush(struct mp4_live *m, const struct mp4_live_sink *sink);

/* Replaces the description of track position pos (a config change).
 * Flush first: pending frames would be described by the new config. */
int mp4_live_set_track(struct mp4_live *m, unsigned pos, const struct track *t);

/* Stream track index of position pos; number of tracks. */
unsigned mp4_live_track_index(const struct mp4_live *m, unsigned pos);
unsigned mp4_live_track_count(const struct mp4_live *m);

/* Decode time of the newest frame pushed, in us on the output timeline
 * (0 before the first frame). */
int64_t mp4_live_current_us(const struct mp4_live *m);

/* Microseconds to timescale units, rounding to nearest (floor for < 0). */
int64_t mp4_live_to_ts(int64_t us, uint32_t timescale);

#endif
