/* Keeps a stream's timeline continuous: a restarted publisher continues
 * where the previous one stopped, and a jump in a publisher's timestamps
 * (encoder restart, 32-bit wrap handled badly upstream) is smoothed over so
 * viewers never stall waiting for a time that will not come. */
#include "hub/hub-t.h"

/* Gap inserted at a discontinuity: about one video frame. */
#define JOIN_GAP_US 20000
/* Backward steps beyond this, or forward steps beyond JUMP_FWD_US, on one
 * track are discontinuities. */
#define JUMP_BACK_US 1000000
#define JUMP_FWD_US  10000000

void timeline_fix(struct hub_stream *s, struct frame *f)
{
	unsigned t = f->track;
	int64_t raw = f->dts_us;

	if (s->session_start) {
		s->session_start = false;
		s->offset_us = s->have_any ? s->last_any_us + JOIN_GAP_US - raw : 0;
	}
	int64_t out = raw + s->offset_us;
	if (s->have_last & (1u << t)) {
		int64_t last = s->last_dts_us[t];
		if (out < last - JUMP_BACK_US || out > last + JUMP_FWD_US) {
			s->offset_us += last + JOIN_GAP_US - out;
			out = last + JOIN_GAP_US;
		} else if (out < last) {
			out = last; /* keep dts monotonic per track */
		}
	}
	f->pts_us = f->pts_us - raw + out;
	f->dts_us = out;
	s->last_dts_us[t] = out;
	s->have_last |= 1u << t;
	if (!s->have_any || out > s->last_any_us)
		s->last_any_us = out;
	s->have_any = true;
}
