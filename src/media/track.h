/* Track model: what a stream carries, independent of any container. */
#ifndef WEIR_MEDIA_TRACK_H
#define WEIR_MEDIA_TRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"

enum track_type {
	TRACK_NONE = 0,
	TRACK_VIDEO,
	TRACK_AUDIO,
	TRACK_META,
};

enum codec {
	CODEC_NONE = 0,
	CODEC_H264,
	CODEC_H265,
	CODEC_AV1,
	CODEC_VP8,
	CODEC_VP9,
	CODEC_AAC,
	CODEC_MP3,
	CODEC_OPUS,
	CODEC_COUNT,
};

struct track {
	enum track_type type;
	enum codec codec;
	/* Codec configuration record, container-neutral:
	 * H.264 avcC, H.265 hvcC, AV1 av1C, VP9 vpcC (may be NULL),
	 * AAC AudioSpecificConfig, Opus OpusHead, MP3 NULL. */
	struct wbuf *config;
	/* Bumped by the hub whenever codec or config changes, so muxers know to
	 * re-send init data. */
	uint32_t generation;
	/* video */
	uint32_t width, height;
	uint32_t fps_milli; /* frames per 1000 s; 0 unknown */
	uint32_t profile, level;
	bool has_bframes;
	/* audio */
	uint32_t rate; /* Hz */
	uint32_t channels;
	uint32_t bits; /* sample size, 16 typical */
	/* measured by the hub, bits per second over the last seconds */
	uint32_t bitrate_bps;
	char lang[4];
};

/* MistServer's codec names: "H264", "HEVC", "AV1", "VP8", "VP9", "AAC", "MP3", "opus". */
const char *codec_name(enum codec c);
/* Case-insensitive inverse of codec_name (also accepts "H265"); CODEC_NONE if unknown. */
enum codec codec_from_name(const char *name);
enum track_type codec_type(enum codec c);
/* "video", "audio", "meta". */
const char *track_type_name(enum track_type t);

/* Deep copy (takes a config reference). */
void track_copy(struct track *dst, const struct track *src);
/* Releases the config reference and zeroes the track. */
void track_clear(struct track *t);

#endif
