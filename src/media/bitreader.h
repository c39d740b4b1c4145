/* MSB-first bit reader over an RBSP (raw byte sequence payload), with the
 * Exp-Golomb codes H.264/H.265 use, plus the helper that turns a NAL unit
 * into an RBSP by removing emulation prevention bytes.
 *
 * Reads never go out of bounds: reading past the end returns zeros and sets
 * the sticky `err` flag, so a parser may read a whole structure and check
 * br_error() once at the end (or at any point where it must decide). */
#ifndef WEIR_MEDIA_BITREADER_H
#define WEIR_MEDIA_BITREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bitreader {
	const uint8_t *p;
	size_t len_bits; /* total bits available */
	size_t pos_bits; /* bits consumed */
	bool err;        /* sticky: overrun or malformed code */
};

static inline void br_init(struct bitreader *br, const uint8_t *p, size_t len_bytes)
{
	br->p = p;
	/* Parameter sets are tiny; clamp so the bit count cannot overflow. */
	if (len_bytes > SIZE_MAX / 8)
		len_bytes = SIZE_MAX / 8;
	br->len_bits = len_bytes * 8;
	br->pos_bits = 0;
	br->err = false;
}

static inline bool br_error(const struct bitreader *br)
{
	return br->err;
}

/* Bits left to read (0 after an overrun). */
static inline size_t br_left(const struct bitreader *br)
{
	return br->pos_bits < br->len_bits ? br->len_bits - br->pos_bits : 0;
}

static inline unsigned br_u1(struct bitreader *br)
{
	if (br->pos_bits >= br->len_bits) {
		br->err = true;
		return 0;
	}
	size_t pos = br->pos_bits++;
	return (br->p[pos >> 3] >> (7 - (pos & 7))) & 1;
}

/* Reads n bits (0 <= n <= 32) as an unsigned big-endian number. */
static inline uint32_t br_u(struct bitreader *br, unsigned n)
{
	if (n > 32 || n > br_left(br)) {
		br->err = true;
		br->pos_bits = br->len_bits;
		return 0;
	}
	uint64_t v = 0;
	while (n--)
		v = v << 1 | br_u1(br);
	return (uint32_t)v;
}

static inline void br_skip(struct bitreader *br, size_t n)
{
	if (n > br_left(br)) {
		br->err = true;
		br->pos_bits = br->len_bits;
		return;
	}
	br->pos_bits += n;
}

/* ue(v): unsigned Exp-Golomb, 0 .. 2^32 - 2. Longer codes set err. */
static inline uint32_t br_ue(struct bitreader *br)
{
	unsigned zeros = 0;
	while (!br_u1(br)) {
		if (br->err || ++zeros > 31) {
			br->err = true;
			return 0;
		}
	}
	uint64_t v = ((uint64_t)1 << zeros) - 1 + br_u(br, zeros);
	return br->err ? 0 : (uint32_t)v;
}

/* se(v): signed Exp-Golomb, -(2^31 - 1) .. 2^31 - 1. */
static inline int32_t br_se(struct bitreader *br)
{
	uint32_t k = br_ue(br);
	if (k & 1)
		return (int32_t)((k >> 1) + 1);
	return -(int32_t)(k >> 1);
}

/* Copies NAL bytes src[0..len) to dst (room for len bytes), dropping each
 * emulation prevention byte (the 0x03 in 00 00 03). Returns the RBSP length.
 * dst and src must not overlap. */
static inline size_t br_unescape(uint8_t *dst, const uint8_t *src, size_t len)
{
	size_t n = 0;
	unsigned zeros = 0;
	for (size_t i = 0; i < len; i++) {
		if (zeros >= 2 && src[i] == 0x03) {
			zeros = 0;
			continue;
		}
		zeros = src[i] == 0 ? zeros + 1 : 0;
		dst[n++] = src[i];
	}
	return n;
}

#endif
