/* MPEG-TS (ISO 13818-1): muxer and demuxer. Pure: frames in, 188-byte
 * packets out; packets in, tracks and frames out. Used by HLS (segments
 * and parts), progressive .ts, SRT, RIST, TS over UDP/RTP/TCP. */
#ifndef WEIR_FORMAT_TS_H
#define WEIR_FORMAT_TS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "media/frame.h"
#include "media/track.h"

#define TS_PACKET     188
#define TS_MAX_TRACKS 16

/* ---------------- muxer ---------------- */

struct ts_mux;

struct ts_mux_opts {
	uint16_t pmt_pid;   /* default 0x1000 */
	uint16_t first_pid; /* elementary PIDs from here, default 0x100 */
	uint16_t program;   /* program_number, default 1 */
	/* PCR: carried on the first video track (else the first track) at
	 * least every pcr_interval_ms (default 40), in the adaptation field. */
	unsigned pcr_interval_ms;
};

/* A muxer for tracks[0..n) (NULL entries are skipped: track indices stay
 * those of the stream). Codecs: H.264, H.265, AAC, MP3, Opus (as in
 * ETSI TS 102 366 registration), others are left out of the PMT. opts may
 * be NULL. NULL on ENOMEM. */
struct ts_mux *ts_mux_new(const struct track *const *tracks, unsigned n,
			  const struct ts_mux_opts *opts);
void ts_mux_free(struct ts_mux *m);
/* Replaces a track's description (config change); the next keyframe of
 * that track carries the new parameter sets. */
int ts_mux_update_track(struct ts_mux *m, unsigned idx, const struct track *t);

/* Appends a PAT and a PMT (2 packets) with the right continuity counters. */
int ts_mux_psi(struct ts_mux *m, struct bytes *out);
/* Appends the packets of one frame as one PES: PTS (and DTS when it
 * differs), 90 kHz from the frame's microseconds (33-bit wrap). Video:
 * length-prefixed NALs become Annex B, with an access unit delimiter first
 * and the parameter sets (SPS/PPS, or VPS/SPS/PPS) before every keyframe.
 * AAC gets an ADTS header from the track's AudioSpecificConfig. Keyframes
 * set random_access_indicator; PCR goes on the PCR track's packets.
 * Frames of tracks not in the mux are ignored (returns 0). */
int ts_mux_frame(struct ts_mux *m, const struct frame *f, struct bytes *out);

/* ---------------- demuxer ---------------- */

struct ts_demux;

struct ts_demux_cb {
	void *ctx;
	/* A track appeared or changed (idx = position in PMT order, stable per
	 * PID). t is valid during the call. Return <0 to stop feeding. */
	int (*on_track)(void *ctx, unsigned idx, const struct track *t);
	/* A complete frame (the callee takes the reference). Video: 4-byte
	 * length-prefixed NALs without parameter sets/AUD (those update the
	 * track config via on_track); keyframe flag from IDR/IRAP NALs. AAC:
	 * raw AUs (one frame per AU, ADTS or LATM removed), timestamps of
	 * later AUs in a PES advanced by 1024 samples. */
	int (*on_frame)(void *ctx, struct frame *f);
};

struct ts_demux_stats {
	uint64_t packets;
	uint64_t cc_errors; /* continuity counter gaps (lost packets) */
	uint64_t resyncs;   /* times the 0x47 sync byte was searched for */
	uint64_t damaged;   /* frames flagged FRAME_DAMAGED */
};

struct ts_demux *ts_demux_new(const struct ts_demux_cb *cb);
void ts_demux_free(struct ts_demux *d);
/* Feeds any number of bytes (need not be packet-aligned; resyncs on
 * garbage). Returns 0 or a callback's negative value / -ENOMEM. Garbage
 * never returns an error: it is skipped and counted. */
int ts_demux_feed(struct ts_demux *d, const uint8_t *p, size_t len);
/* Emits frames still buffered (end of input). */
int ts_demux_flush(struct ts_demux *d);
void ts_demux_get_stats(const struct ts_demux *d, struct ts_demux_stats *out);
/* Track indices (bit idx) of the supported streams the PMT in force
 * lists, whether or not they produced data yet; 0 before a PMT. */
uint32_t ts_demux_track_mask(const struct ts_demux *d);

#endif
