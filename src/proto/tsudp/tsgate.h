/* Announces the tracks of a TS input to the hub together.
 *
 * A TS demuxer reports a track when its first frame (audio) or its
 * parameter sets (video) arrive, so a source whose audio comes first
 * would make the stream READY audio-only for a moment and then add video
 * (players that look early see no video). The gate sits between the
 * demuxer and the hub: until every track of the PMT has produced its
 * first frame (video: a keyframe), it keeps the tracks to itself and
 * holds the frames; then it sets all tracks and releases the frames in
 * order. Bounded: a PMT track that never produced any data stops the wait
 * after TSGATE_NODATA_MS, a video track that sends frames but no keyframe
 * after TSGATE_NOKEY_MS (or when TSGATE_MAX_BYTES are held); the gate then
 * opens with what exists and logs which tracks were missing.
 *
 * Open, it sends frames on in decode-time order across tracks. TS muxers
 * may send a track in bursts that arrive after the other tracks' frames of
 * the same time (ffmpeg packs about 0.35 s of AAC into one PES); an A/V
 * player waits for the later track anyway, so ordering here costs it no
 * latency, and every output gets audio next to its video (LL-HLS parts
 * above all). A frame waits until every track that sent something in the
 * last TSGATE_REORDER_MS has reached its time, and never longer than
 * TSGATE_REORDER_MS of media time. Loop-thread only. */
#ifndef WEIR_PROTO_TSUDP_TSGATE_H
#define WEIR_PROTO_TSUDP_TSGATE_H

#include <stdint.h>

#include "media/frame.h"
#include "media/track.h"

#define TSGATE_NODATA_MS  2000
#define TSGATE_NOKEY_MS   10000
#define TSGATE_MAX_BYTES  (8u << 20)
#define TSGATE_REORDER_MS 1000

struct hub_stream;
struct tsgate;

/* A gate in front of stream s (not referenced: the owner keeps it alive
 * longer than the gate). NULL on ENOMEM. */
struct tsgate *tsgate_new(struct hub_stream *s);
/* Publishes what the reorder queue holds (call it before
 * hub_publish_end), drops frames held while closed, frees. NULL is fine. */
void tsgate_free(struct tsgate *g);
/* The demuxer's on_track: 0 or a hub_set_track error. */
int tsgate_track(struct tsgate *g, unsigned idx, const struct track *t);
/* The demuxer's on_frame (takes the reference). pmt_mask: the tracks the
 * PMT lists (ts_demux_track_mask). Returns what hub_publish returned for
 * the frame, or for the first held frame that failed when the gate opens;
 * 0 while holding. */
int tsgate_frame(struct tsgate *g, uint32_t pmt_mask, struct frame *f);

#endif
