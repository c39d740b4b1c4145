/* Fragmented MP4 / CMAF (ISO 14496-12, ISO 23000-19): init segments and
 * media fragments. Pure. Also a small box reader for tests and inputs. */
#ifndef WEIR_FORMAT_FMP4_H
#define WEIR_FORMAT_FMP4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "media/frame.h"
#include "media/track.h"

/* Timescale used for a track: 90000 for video, the sample rate for audio
 * (48000 for Opus). */
uint32_t fmp4_timescale(const struct track *t);

/* Appends an init segment (ftyp "iso6"/cmfc brands + moov with mvhd,
 * one trak per track, mvex/trex) for tracks[0..n) with track_ID i+1.
 * Sample entries: avc1+avcC, hvc1+hvcC, av01+av1C, vp09+vpcC, mp4a+esds,
 * Opus+dOps, .mp3 (mp4a with OTI 0x6B). -ENOTSUP for other codecs. */
int fmp4_init(const struct track *const *tracks, unsigned n, struct bytes *out);

struct fmp4_sample {
	const struct frame *f;
	uint32_t duration; /* in the track's timescale */
};

/* Appends one fragment: moof (mfhd seq, one traf with tfhd default-base-
 * is-moof, tfdt base decode time, trun with data offset, per-sample
 * duration, size, flags (sync/non-sync) and composition offsets (signed,
 * version 1) when any pts != dts) + mdat with the samples' payloads.
 * base_decode_time is in the track's timescale. Composition offsets are
 * converted at 90 kHz: only video has them, and video's timescale is
 * 90000. Sample flags: FRAME_KEY = sync (set it on every audio frame). */
int fmp4_fragment(uint32_t seq, unsigned track_id, uint64_t base_decode_time,
		  const struct fmp4_sample *s, unsigned n, struct bytes *out);

/* Duration of one audio frame in samples (AAC 1024 or 960 from the ASC,
 * MP3 1152/576, Opus from the packet's TOC), 0 when not derivable. */
uint32_t fmp4_audio_frame_samples(const struct track *t, const struct frame *f);

/* ---- box reader ---- */
struct mp4_box {
	uint32_t type; /* fourcc, big-endian packed: 'moov' = 0x6d6f6f76 */
	uint64_t size; /* whole box */
	size_t header; /* 8 or 16 */
	const uint8_t *payload;
	size_t payload_len;
};

/* Reads the box at p[0..len). 0, or -EPROTO when truncated/malformed. */
int mp4_box_read(const uint8_t *p, size_t len, struct mp4_box *out);
/* Finds the first child of type `type` following the path of fourccs
 * ("moov/trak/mdia") in p[0..len). 0 or -ENOENT/-EPROTO. */
int mp4_box_find(const uint8_t *p, size_t len, const char *path, struct mp4_box *out);

#define FOURCC(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#endif
