/* HLS playlist writers (RFC 8216 + the Low-Latency HLS additions of its
 * second edition draft): master and media playlists. Pure: a description
 * in, text out. Times are in microseconds; URIs are written as given. */
#ifndef WEIR_FORMAT_M3U8_H
#define WEIR_FORMAT_M3U8_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bytes.h"

struct m3u8_part {
	int64_t dur_us;
	bool independent; /* starts with a keyframe (INDEPENDENT=YES) */
	const char *uri;
};

struct m3u8_segment {
	uint64_t msn;
	int64_t dur_us;
	int64_t pdt_ms;                /* unix ms of its first frame; written as
					* EXT-X-PROGRAM-DATE-TIME (UTC, ms precision) */
	bool discontinuity;            /* EXT-X-DISCONTINUITY before it */
	const char *map_uri;           /* EXT-X-MAP before it when different from the
					* previous segment's (fMP4 init), or NULL */
	const char *uri;               /* NULL for the in-progress segment (parts only) */
	const struct m3u8_part *parts; /* LL: listed only for the last few segments */
	unsigned nparts;
};

struct m3u8_report {
	const char *uri; /* of the other rendition's media playlist */
	uint64_t last_msn;
	int last_part; /* -1 when none */
};

struct m3u8_media {
	unsigned version;   /* EXT-X-VERSION: 3 TS, 6 fMP4, 9 with delta updates... */
	int64_t target_us;  /* EXT-X-TARGETDURATION = ceil of this in s */
	uint64_t first_msn; /* EXT-X-MEDIA-SEQUENCE (first listed, incl. skipped) */
	uint64_t disc_seq;  /* EXT-X-DISCONTINUITY-SEQUENCE, written when > 0 */
	bool independent_segments;
	const struct m3u8_segment *segs; /* oldest first */
	unsigned nsegs;
	bool ended; /* EXT-X-ENDLIST */
	/* Low latency (when part_target_us > 0) */
	int64_t part_target_us;    /* EXT-X-PART-INF:PART-TARGET */
	int64_t part_hold_back_us; /* SERVER-CONTROL PART-HOLD-BACK (>= 3 part targets) */
	int64_t hold_back_us;      /* SERVER-CONTROL HOLD-BACK, 0 = omit */
	int64_t can_skip_until_us; /* SERVER-CONTROL CAN-SKIP-UNTIL, 0 = omit */
	bool can_block_reload;     /* SERVER-CONTROL CAN-BLOCK-RELOAD=YES */
	/* Delta update: the first skip_segments of segs are replaced by
	 * EXT-X-SKIP:SKIPPED-SEGMENTS=n (they are not written). */
	unsigned skip_segments;
	const char *preload_hint_uri; /* EXT-X-PRELOAD-HINT:TYPE=PART, or NULL */
	const struct m3u8_report *reports;
	unsigned nreports;
};

/* Appends a media playlist. 0, -EINVAL (inconsistent description), -ENOMEM. */
int m3u8_write_media(const struct m3u8_media *m, struct bytes *out);

struct m3u8_variant {
	uint32_t bandwidth_bps;     /* BANDWIDTH (peak) */
	uint32_t avg_bandwidth_bps; /* AVERAGE-BANDWIDTH, 0 = omit */
	unsigned width, height;     /* RESOLUTION when width > 0 */
	uint32_t fps_milli;         /* FRAME-RATE (3 decimals) when > 0 */
	const char *codecs;         /* CODECS, e.g. "avc1.64001f,mp4a.40.2" */
	const char *audio_group;    /* AUDIO="..." or NULL */
	const char *uri;
};

struct m3u8_alt_audio {
	const char *group;
	const char *name;
	const char *lang; /* may be NULL */
	bool is_default;
	const char *uri;
	unsigned channels; /* CHANNELS when > 0 */
};

/* Appends a master playlist (EXT-X-VERSION version, EXT-X-INDEPENDENT-
 * SEGMENTS, EXT-X-MEDIA for audio renditions, EXT-X-STREAM-INF variants). */
int m3u8_write_master(unsigned version, const struct m3u8_alt_audio *audio, unsigned naudio,
		      const struct m3u8_variant *v, unsigned nvariants, struct bytes *out);

#endif
