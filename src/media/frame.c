#include "media/frame.h"

#include <stdlib.h>
#include <string.h>

struct frame *frame_new(unsigned track, int64_t dts_us, int64_t pts_us, unsigned flags,
			const void *data, size_t len)
{
	struct frame *f = malloc(sizeof(*f) + len);
	if (!f)
		return NULL;
	atomic_init(&f->refs, 1);
	f->track = (uint16_t)track;
	f->flags = (uint16_t)flags;
	f->dts_us = dts_us;
	f->pts_us = pts_us;
	f->seq = 0;
	f->wall_us = 0;
	f->len = len;
	if (data && len)
		memcpy(f->data, data, len);
	return f;
}

void frame_unref(struct frame *f)
{
	if (f && atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1)
		free(f);
}
