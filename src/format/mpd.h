/* MPEG-DASH MPD writer (ISO 23009-1), dynamic (live) and static, with
 * SegmentTemplate + SegmentTimeline using $Number$. Pure. */
#ifndef WEIR_FORMAT_MPD_H
#define WEIR_FORMAT_MPD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bytes.h"

struct mpd_timeline_entry {
	uint64_t t; /* start, in the representation's timescale */
	uint64_t d; /* duration */
	uint32_t r; /* repeat count (S@r), 0 = once */
};

struct mpd_representation {
	const char *id;     /* also $RepresentationID$ */
	const char *mime;   /* "video/mp4" or "audio/mp4" */
	const char *codecs; /* RFC 6381 string */
	uint32_t bandwidth_bps;
	unsigned width, height; /* video */
	uint32_t fps_milli;     /* video, frameRate when > 0 */
	uint32_t sample_rate;   /* audio */
	unsigned channels;      /* audio: AudioChannelConfiguration */
	const char *lang;       /* AdaptationSet@lang, may be NULL */
	uint32_t timescale;
	uint64_t start_number;      /* number of the first timeline segment */
	const char *init_template;  /* e.g. "$RepresentationID$/init.mp4" */
	const char *media_template; /* e.g. "$RepresentationID$/$Number$.m4s" */
	const struct mpd_timeline_entry *timeline;
	unsigned ntimeline;
	int64_t presentation_time_offset; /* in timescale, 0 = omit */
};

struct mpd {
	bool dynamic;
	int64_t availability_start_ms; /* unix ms (dynamic) */
	int64_t publish_time_ms;       /* unix ms */
	int64_t min_update_period_ms;  /* dynamic */
	int64_t time_shift_depth_ms;   /* dynamic */
	int64_t min_buffer_ms;
	int64_t suggested_delay_ms; /* suggestedPresentationDelay, 0 = omit */
	int64_t max_segment_ms;
	int64_t duration_ms;                   /* static: mediaPresentationDuration */
	const char *utc_timing_uri;            /* UTCTiming http-xsdate, or NULL */
	const struct mpd_representation *reps; /* one AdaptationSet each */
	unsigned nreps;
};

/* Appends the MPD XML. Timestamps are written as xs:dateTime in UTC with
 * millisecond precision; durations as xs:duration (PT...S). 0 or -errno. */
int mpd_write(const struct mpd *m, struct bytes *out);

/* Builds a compact timeline: consecutive equal durations become one
 * entry with a repeat count. Returns the number of entries written to
 * out (capacity cap) or -ENOSPC. starts/durs are per segment. */
int mpd_compact_timeline(const uint64_t *starts, const uint64_t *durs, unsigned n,
			 struct mpd_timeline_entry *out, unsigned cap);

#endif
