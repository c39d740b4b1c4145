/* FLV tags and their bodies (the same bodies RTMP carries as audio/video
 * messages), classic and Enhanced RTMP (FourCC) codecs. Pure. */
#ifndef WEIR_FORMAT_FLV_H
#define WEIR_FORMAT_FLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "media/frame.h"
#include "media/track.h"

enum { FLV_TAG_AUDIO = 8, FLV_TAG_VIDEO = 9, FLV_TAG_SCRIPT = 18 };
#define FLV_TAG_HEADER_LEN 11
/* Longest body prefix flv_body_prefix() writes. */
#define FLV_MAX_PREFIX 16

/* What one audio or video tag body holds. */
enum flv_body_kind {
	FLV_BODY_FRAME,  /* a coded frame: payload in data/len */
	FLV_BODY_CONFIG, /* a sequence header: codec config in data/len */
	FLV_BODY_END,    /* end of sequence */
	FLV_BODY_IGNORE, /* valid but nothing to do (metadata packets, ...) */
};

struct flv_body {
	enum flv_body_kind kind;
	enum track_type type;
	enum codec codec;
	bool key;       /* video: keyframe */
	int32_t cts_ms; /* video: composition time offset (pts - dts) */
	/* audio, from the classic header (AAC's real values are in its ASC) */
	uint32_t rate, channels, bits;
	const uint8_t *data; /* points into the body */
	size_t len;
};

/* Parses a video tag body: classic (H.264 codec id 7) and Enhanced RTMP
 * (IsExHeader bit, FourCC "avc1", "hvc1", "av01", "vp09"; packet types
 * SequenceStart, CodedFrames, SequenceEnd, CodedFramesX, Metadata).
 * 0, or -EPROTO (truncated/malformed), -ENOTSUP (unknown codec). */
int flv_parse_video(const uint8_t *p, size_t len, struct flv_body *out);
/* Parses an audio tag body: AAC (10: sequence header or raw), MP3 (2).
 * 0, -EPROTO or -ENOTSUP. */
int flv_parse_audio(const uint8_t *p, size_t len, struct flv_body *out);

/* Writes the codec-specific start of a tag body for frame f of track t into
 * out (at most FLV_MAX_PREFIX bytes) and returns its length; the body is
 * then prefix + f->data. H.264 uses the classic form; H.265, AV1 and VP9 the
 * Enhanced RTMP form. Negative errno for codecs FLV cannot carry. */
int flv_body_prefix(const struct track *t, const struct frame *f, uint8_t *out);
/* Appends a whole sequence-header body (prefix + codec config) for track t.
 * -ENOTSUP when the codec has no config in FLV (MP3: returns -ENOENT). */
int flv_config_body(const struct track *t, struct bytes *out);

/* 11-byte tag header: type, body length, timestamp (ms, with the extended
 * high byte), stream id 0. */
void flv_tag_header(uint8_t out[FLV_TAG_HEADER_LEN], unsigned type, uint32_t body_len,
		    uint32_t ts_ms);
/* 9-byte file header + PreviousTagSize0 (13 bytes). */
int flv_file_header(struct bytes *out, bool has_video, bool has_audio);
/* Appends an onMetaData script body (AMF0 "onMetaData" + ECMA array with
 * width, height, framerate, videocodecid, audiocodecid, audiosamplerate,
 * stereo, ... as known from the tracks). */
int flv_metadata_body(struct bytes *out, const struct track *video, const struct track *audio);

/* Fills the parts of a track a sequence header (or MP3 frame) tells:
 * codec config copy, width/height/profile/level from SPS, rate/channels
 * from the ASC. Leaves other fields. 0 or negative errno. */
int flv_track_from_config(struct track *t, enum codec codec, const uint8_t *cfg, size_t len);

#endif
