/* Private types of the hub (shared by its .c files only). */
#ifndef WEIR_HUB_HUB_T_H
#define WEIR_HUB_HUB_T_H

#include "hub/hub.h"

/* Circular array of frames with absolute sequence numbers, plus an index
 * of random access points. Frames [first_seq, next_seq) are present and
 * the first one is always a random access point. */
struct ring {
	struct frame **slots;
	size_t cap; /* power of two */
	uint64_t first_seq, next_seq;
	uint64_t *keys; /* seqs of random access points, circular */
	size_t kcap, khead, kcount;
	uint64_t bytes; /* payload bytes held */
};

struct hub {
	uv_loop_t *loop;
	struct hub_policy policy;
	struct hub_stream *streams; /* registry: live and in-grace streams */
	unsigned nstreams;
	uv_check_t check;           /* wakes pending readers once per loop iteration */
	uv_idle_t idle;             /* keeps the poll phase from blocking while pending */
	uv_timer_t tick;            /* grace periods, bitrates */
	uv_timer_t hold;            /* flushes frames held for coalescing readers */
	struct hub_reader *pending; /* readers to wake, oldest first, doubly linked */
	struct hub_reader *pending_tail;
	unsigned handles_open;
	bool closing;
};

struct track_stats {
	uint64_t bytes; /* since last_calc */
	int64_t last_calc_us;
};

struct hub_stream {
	struct hub *hub;
	unsigned refs;
	char name[128];
	enum stream_state state;
	bool in_registry;
	struct hub_stream *next, *prev; /* registry links */
	struct hub_stream_opts opts;

	struct track tracks[HUB_MAX_TRACKS];
	struct track_stats tstats[HUB_MAX_TRACKS];
	uint32_t track_set; /* bit per configured track */
	bool has_video;
	bool held;             /* coalescing readers have frames they were not woken for */
	int64_t held_until_us; /* when those go out at the latest */

	struct ring ring;
	struct hub_reader *readers;
	unsigned nreaders;

	/* publisher */
	bool publishing;
	bool kicked; /* ended by the hub: no grace, no more frames */
	void (*on_kick)(void *arg);
	void *kick_arg;
	int64_t grace_deadline_us;

	/* timeline continuity (see timeline.c) */
	bool session_start;
	bool have_any;
	int64_t offset_us;
	int64_t last_dts_us[HUB_MAX_TRACKS];
	uint32_t have_last; /* bit per track */
	int64_t last_any_us;
	int64_t last_rap_dts_us; /* audio-only streams: spacing of RAPs */

	uint64_t bytes_in;
};

struct hub_reader {
	struct hub_stream *s;
	uint64_t seq;
	uint64_t mask;
	int64_t max_lag_us;
	bool need_key;
	bool coalesce; /* see hub_reader_opts */
	bool waiting;  /* last next() returned 0 */
	bool pending;  /* queued for wake */
	void (*wake)(struct hub_reader *r, void *arg);
	void *arg;
	struct hub_reader *next, *prev;   /* stream's reader list */
	struct hub_reader *pnext, *pprev; /* hub's pending list */
	uint64_t skipped;
	unsigned jumps;         /* policy jumps in the current window */
	int64_t jump_window_us; /* start of that window */
};

/* ring.c */
int ring_init(struct ring *r);
void ring_free(struct ring *r);
int ring_push(struct ring *r, struct frame *f, bool rap);
static inline struct frame *ring_at(const struct ring *r, uint64_t seq)
{
	return r->slots[seq & (r->cap - 1)];
}
/* Drops whole GOPs older than window_us behind the newest frame, and
 * more while the ring holds over max_bytes. */
void ring_trim(struct ring *r, int64_t window_us, uint64_t max_bytes);
/* Newest random access point's seq; next_seq when none. */
uint64_t ring_newest_key(const struct ring *r);
/* First random access point at or after seq; next_seq when none. */
uint64_t ring_key_at_or_after(const struct ring *r, uint64_t seq);

/* timeline.c: maps publisher timestamps onto the stream's timeline. */
void timeline_fix(struct hub_stream *s, struct frame *f);

/* reader.c */
/* Wakes the stream's waiting readers; with video false (the frame just
 * published is not video and the stream has video) coalescing readers are
 * held until the next video frame or the hold timer. */
void hub_wake_readers(struct hub_stream *s, bool video);
void hub_hold_flush(uv_timer_t *t);
void hub_schedule(struct hub *h);

static inline int64_t hub_now_us(void)
{
	return (int64_t)(uv_hrtime() / 1000);
}

#endif
