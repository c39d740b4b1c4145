/* Growable byte vector for building wire data (headers, AMF, JSON).
 * Zero-initialise (`struct bytes b = {0};`) before use; bytes_free() after. */
#ifndef WEIR_CORE_BYTES_H
#define WEIR_CORE_BYTES_H

#include <stddef.h>
#include <stdint.h>

struct bytes {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/* Makes room for `extra` more bytes. 0 or -ENOMEM. */
int bytes_reserve(struct bytes *b, size_t extra);
int bytes_append(struct bytes *b, const void *p, size_t n);
int bytes_put_u8(struct bytes *b, uint8_t v);
int bytes_put_be16(struct bytes *b, uint16_t v);
int bytes_put_be24(struct bytes *b, uint32_t v);
int bytes_put_be32(struct bytes *b, uint32_t v);
int bytes_put_be64(struct bytes *b, uint64_t v);
int bytes_put_le32(struct bytes *b, uint32_t v);
/* printf-style append (no NUL counted in len, but data stays NUL-terminated). */
int bytes_printf(struct bytes *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes (n <= len). */
void bytes_consume(struct bytes *b, size_t n);
void bytes_reset(struct bytes *b);
void bytes_free(struct bytes *b);

static inline uint16_t rd_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t rd_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}
static inline uint32_t rd_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint32_t rd_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}
static inline void wr_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}
static inline void wr_be24(uint8_t *p, uint32_t v)
{
	p[0] = v >> 16;
	p[1] = v >> 8;
	p[2] = v;
}
static inline void wr_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}
static inline void wr_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

#endif
