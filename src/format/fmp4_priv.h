/* Box writer shared by fmp4_init.c and fmp4_frag.c. Private to the fMP4
 * module.
 *
 * The writer keeps the first error sticky (like the bit reader), so a
 * builder writes a whole box tree straight and checks w->err once. Boxes are
 * opened with their size left blank and patched when closed. */
#ifndef WEIR_FORMAT_FMP4_PRIV_H
#define WEIR_FORMAT_FMP4_PRIV_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/bytes.h"

struct mp4_writer {
	struct bytes *out;
	int err; /* first error (negative errno), 0 while all is well */
};

static inline void mp4w_put(struct mp4_writer *w, const void *p, size_t n)
{
	if (!w->err)
		w->err = bytes_append(w->out, p, n);
}

static inline void mp4w_zero(struct mp4_writer *w, size_t n)
{
	if (w->err || (w->err = bytes_reserve(w->out, n)))
		return;
	memset(w->out->data + w->out->len, 0, n);
	w->out->len += n;
}

static inline void mp4w_u8(struct mp4_writer *w, uint8_t v)
{
	mp4w_put(w, &v, 1);
}

static inline void mp4w_u16(struct mp4_writer *w, uint16_t v)
{
	uint8_t t[2];
	wr_be16(t, v);
	mp4w_put(w, t, 2);
}

static inline void mp4w_u24(struct mp4_writer *w, uint32_t v)
{
	uint8_t t[3];
	wr_be24(t, v);
	mp4w_put(w, t, 3);
}

static inline void mp4w_u32(struct mp4_writer *w, uint32_t v)
{
	uint8_t t[4];
	wr_be32(t, v);
	mp4w_put(w, t, 4);
}

static inline void mp4w_u64(struct mp4_writer *w, uint64_t v)
{
	mp4w_u32(w, (uint32_t)(v >> 32));
	mp4w_u32(w, (uint32_t)v);
}

/* Opens a box; returns its start offset for mp4w_end(). */
static inline size_t mp4w_box(struct mp4_writer *w, uint32_t type)
{
	size_t start = w->out->len;
	mp4w_u32(w, 0);
	mp4w_u32(w, type);
	return start;
}

/* Opens a full box (version + 24-bit flags). */
static inline size_t mp4w_full(struct mp4_writer *w, uint32_t type, uint8_t version, uint32_t flags)
{
	size_t start = mp4w_box(w, type);
	mp4w_u8(w, version);
	mp4w_u24(w, flags);
	return start;
}

/* Closes the box opened at `start` by writing its size. */
static inline void mp4w_end(struct mp4_writer *w, size_t start)
{
	if (w->err)
		return;
	size_t size = w->out->len - start;
	if (size > UINT32_MAX) {
		w->err = -EOVERFLOW;
		return;
	}
	wr_be32(w->out->data + start, (uint32_t)size);
}

/* The 3x3 unity matrix of mvhd and tkhd (16.16 and 2.30 fixed point). */
static inline void mp4w_matrix(struct mp4_writer *w)
{
	static const uint32_t m[9] = {0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000};
	for (int i = 0; i < 9; i++)
		mp4w_u32(w, m[i]);
}

#endif
