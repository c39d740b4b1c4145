#include "core/bytes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bytes_reserve(struct bytes *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int bytes_append(struct bytes *b, const void *p, size_t n)
{
	if (bytes_reserve(b, n))
		return -ENOMEM;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

int bytes_put_u8(struct bytes *b, uint8_t v)
{
	return bytes_append(b, &v, 1);
}

int bytes_put_be16(struct bytes *b, uint16_t v)
{
	uint8_t t[2];
	wr_be16(t, v);
	return bytes_append(b, t, 2);
}

int bytes_put_be24(struct bytes *b, uint32_t v)
{
	uint8_t t[3];
	wr_be24(t, v);
	return bytes_append(b, t, 3);
}

int bytes_put_be32(struct bytes *b, uint32_t v)
{
	uint8_t t[4];
	wr_be32(t, v);
	return bytes_append(b, t, 4);
}

int bytes_put_be64(struct bytes *b, uint64_t v)
{
	uint8_t t[8];
	wr_be32(t, v >> 32);
	wr_be32(t + 4, (uint32_t)v);
	return bytes_append(b, t, 8);
}

int bytes_put_le32(struct bytes *b, uint32_t v)
{
	uint8_t t[4];
	wr_le32(t, v);
	return bytes_append(b, t, 4);
}

int bytes_printf(struct bytes *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char small[256];
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return bytes_append(b, small, (size_t)n);
	if (bytes_reserve(b, (size_t)n))
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void bytes_consume(struct bytes *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = 0;
}

void bytes_reset(struct bytes *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

void bytes_free(struct bytes *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
