/* Segmenter: turns a live stream into HLS/DASH segments and LL-HLS parts,
 * muxed once and shared by every viewer. One segmenter per stream and
 * packaging (TS with its track set, or CMAF with one rendition per
 * track). Private to src/proto/hls. Loop-thread only. */
#ifndef WEIR_PROTO_HLS_SEG_H
#define WEIR_PROTO_HLS_SEG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "hub/hub.h"

enum seg_kind { SEG_TS, SEG_CMAF };

#define SEG_MAX_PARTS 40
#define SEG_WINDOW    12 /* segments kept per rendition */
#define SEG_LISTED    8  /* complete segments listed in playlists */
#define SEG_MAX_RENDS 8
#define SEG_PART_US   500000 /* LL-HLS part target */
#define SEG_IDLE_MS   60000  /* freed after this long without requests */
/* CMAF audio in a part in progress is packaged in fragments of about this
 * much (video: a fragment per frame, TS: PES packets per frame). */
#define SEG_AUDIO_CHUNK_US 100000

struct seg_part {
	int64_t start_us, dur_us;
	bool independent;
	struct wbuf *data;
};

struct seg_segment {
	uint64_t msn;
	int64_t start_us, dur_us;
	int64_t pdt_ms; /* unix ms at start */
	bool discontinuity;
	bool complete;
	uint32_t init_gen; /* fMP4 init generation it needs */
	struct seg_part parts[SEG_MAX_PARTS];
	unsigned nparts;
	struct wbuf *data; /* all parts joined, once complete */
			   /* media time in the rendition's timescale (DASH timeline) */
	uint64_t t_start, t_dur;
	bool used; /* holds segment msn (slots start empty) */
};

/* The part in progress: the bytes packaged so far, as chunks (whole TS
 * packets, or moof+mdat fragments) that requests for the preload-hinted
 * part stream as they come. Once the part closes, its data is exactly
 * these chunks joined. */
struct seg_live {
	struct wbuf **chunks;
	unsigned n, cap;
	size_t bytes;     /* sum of the chunks' lengths */
	bool has_frames;  /* a frame of the part arrived */
	bool independent; /* its first frame is a random access point */
	int64_t first_dts_us;
	uint64_t t_start, t_dur; /* CMAF, in the rendition's timescale */
};

struct segmenter;

struct seg_rend {
	struct segmenter *sg;
	char id[24];       /* URL component: track index (CMAF) or "0_1" (TS) */
	uint64_t mask;     /* tracks it carries */
	int drive;         /* track deciding cuts: first video, else first track */
	bool follower;     /* cuts segments on the driver rendition's boundaries */
	struct wbuf *init; /* fMP4 init segment (CMAF) */
	uint32_t init_gen;
	uint32_t gens[HUB_MAX_TRACKS];       /* track generations the init/mux used */
	struct seg_segment segs[SEG_WINDOW]; /* by msn % SEG_WINDOW */
	uint64_t first_msn;                  /* oldest kept */
	uint64_t cur_msn;                    /* the one in progress */
	bool started;                        /* cur_msn has begun */
	bool ever_started;                   /* some segment has begun (first_msn is valid) */
	bool next_discontinuity;
	/* part in progress: frames not packaged yet, and the chunks */
	struct seg_live live;
	struct frame **pend;
	unsigned npend, cap_pend;
	int64_t part_start_us;
	int64_t last_dts_us;  /* of the drive track, for frame durations */
	int64_t frame_dur_us; /* estimate */
	/* packaging */
	struct ts_mux *ts;
	uint32_t frag_seq;
	uint32_t timescale;
	uint64_t next_t; /* audio: running decode time (timescale) */
	bool have_next_t;
};

struct seg_waiter;

struct segmenter {
	struct segmenter *next, *prev; /* module registry */
	struct hub_reader *r;
	char stream[128];
	enum seg_kind kind;
	uint64_t mask;
	struct seg_rend rends[SEG_MAX_RENDS];
	unsigned nrends;
	int64_t target_us;               /* segmentsize */
	int64_t max_seg_us;              /* longest segment seen, for TARGETDURATION */
	int64_t boundary_us[SEG_WINDOW]; /* driver segment starts, by msn % window */
	bool has_video;
	bool ended;
	uint64_t last_request_ms;
	struct seg_waiter *waiters;   /* deferred answers */
	struct seg_waiter *streamers; /* streamed answers for parts in progress */
	bool chunks_added;            /* since the last seg_chunks_added() */
	unsigned pump_pass;           /* http.c: streamers moved along */
	unsigned refs;
	int64_t ast_ms; /* DASH availabilityStartTime, fixed once known */
	/* PROGRAM-DATE-TIME follows media time from one anchor, so the dates
	 * of consecutive segments differ by exactly their durations. */
	bool have_anchor;
	int64_t anchor_unix_ms, anchor_media_us;
};

/* segmenter.c */
/* Finds or creates the segmenter for stream s / kind / mask (0 = default
 * selection). NULL when the stream has no usable tracks or on ENOMEM. */
struct segmenter *seg_get(struct hub_stream *s, enum seg_kind kind, uint64_t mask);
struct seg_rend *seg_rend_find(struct segmenter *sg, const char *id);
/* Segment msn of r if kept, else NULL. */
struct seg_segment *seg_segment(struct seg_rend *r, uint64_t msn);
/* Called by http.c: a request touched this segmenter. */
void seg_touch(struct segmenter *sg);
/* Drops segmenters idle for SEG_IDLE_MS (timer in http.c). */
void seg_reap(uint64_t now_ms);
int64_t seg_target_duration_us(const struct segmenter *sg);
void seg_foreach(void (*fn)(struct segmenter *sg, void *arg), void *arg);

/* Part msn.part of r as it is being produced (NULL unless it is the part
 * in progress and has bytes). */
const struct seg_live *seg_live_part(const struct seg_rend *r, uint64_t msn, int part);

/* pack.c: builds one chunk of a part from frames (fMP4 or TS):
 * part_start marks a part's first chunk (TS: PSI first; CMAF audio: the
 * decode time may jump forward to the frames' timestamps). end_dts_us is
 * where the last frame ends (video durations). *t_start, *t_dur: media
 * time of the chunk (CMAF: rendition timescale; TS: 90 kHz). -EAGAIN when
 * every frame was dropped (nothing to package). */
int seg_pack_part(struct seg_rend *r, struct frame **frames, unsigned n, int64_t end_dts_us,
		  bool part_start, struct wbuf **out, uint64_t *t_start, uint64_t *t_dur);
int seg_pack_init(struct seg_rend *r, struct hub_stream *s);
void seg_pack_free(struct seg_rend *r);

/* http.c: wakes deferred requests after progress of sg (a part or a
 * segment closed), and streams new chunks of parts in progress. */
void seg_progress(struct segmenter *sg);
void seg_chunks_added(struct segmenter *sg);
void seg_drop_waiters(struct segmenter *sg);

#endif
