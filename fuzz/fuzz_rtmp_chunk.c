/* libFuzzer target for the RTMP chunk reader (and, through a re-encode
 * oracle, the writer). Three checks per input:
 *  1. the whole input fed at once;
 *  2. the same bytes fed in small pieces must give the same messages and
 *     the same result;
 *  3. every message of pass 1 re-chunked by the writer and read back must
 *     give the same messages again.
 * Any mismatch aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rtmp/chunk.h"

struct digest {
	uint64_t h;
	size_t n;
	struct rtmp_chunk_writer *w; /* pass 1: re-encodes into out */
	struct bytes *out;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static int on_msg(void *ctx, const struct rtmp_msg *m)
{
	struct digest *d = ctx;
	uint32_t f[5] = {m->csid, m->type, m->stream_id, m->timestamp, m->len};
	d->h = fnv(fnv(d->h, f, sizeof(f)), m->payload, m->len);
	d->n++;
	if (d->w) {
		struct iovec v = {.iov_base = (void *)m->payload, .iov_len = m->len};
		if (rtmp_chunk_write(d->w, m->csid, m->type, m->stream_id, m->timestamp, &v, 1,
				     d->out))
			abort();
		/* The reader applied a new chunk size: so must the writer. */
		if (m->type == RTMP_MSG_SET_CHUNK_SIZE)
			d->w->chunk_size = rd_be32(m->payload);
	}
	return 0;
}

/* Feeds like a connection: unconsumed bytes are kept for the next piece. */
static int feed_split(const uint8_t *data, size_t size, struct digest *d)
{
	struct rtmp_chunk_reader r;
	struct bytes pend = {0};
	rtmp_chunk_reader_init(&r);
	int rc = 0;
	size_t off = 0, piece = 1;
	while (off < size) {
		size_t n = size - off < piece ? size - off : piece;
		if (bytes_append(&pend, data + off, n))
			abort();
		off += n;
		piece = piece % 13 + 1;
		rc = rtmp_chunk_feed(&r, pend.data, pend.len, on_msg, d);
		if (rc < 0)
			break;
		if ((size_t)rc > pend.len)
			abort();
		bytes_consume(&pend, (size_t)rc);
	}
	if (rc >= 0)
		rc = 0;
	rtmp_chunk_reader_free(&r);
	bytes_free(&pend);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtmp_chunk_writer w;
	struct bytes out = {0};
	rtmp_chunk_writer_init(&w);

	/* 1: all at once */
	struct digest d1 = {.h = 14695981039346656037ull, .w = &w, .out = &out};
	struct rtmp_chunk_reader r;
	rtmp_chunk_reader_init(&r);
	int rc1 = rtmp_chunk_feed(&r, data, size, on_msg, &d1);
	if (rc1 >= 0 && ((size_t)rc1 > size || r.bytes_in != (uint64_t)rc1))
		abort();
	rtmp_chunk_reader_free(&r);
	if (rc1 > 0)
		rc1 = 0;

	/* 2: in pieces */
	struct digest d2 = {.h = 14695981039346656037ull};
	int rc2 = feed_split(data, size, &d2);
	if (rc1 != rc2 || d1.h != d2.h || d1.n != d2.n)
		abort();

	/* 3: writer round trip */
	struct digest d3 = {.h = 14695981039346656037ull};
	rtmp_chunk_reader_init(&r);
	int rc3 = rtmp_chunk_feed(&r, out.data, out.len, on_msg, &d3);
	if (rc3 != (int)out.len || d3.h != d1.h || d3.n != d1.n)
		abort();
	rtmp_chunk_reader_free(&r);
	bytes_free(&out);
	return 0;
}
