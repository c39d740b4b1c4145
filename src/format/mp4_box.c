/* ISO BMFF box reader (ISO 14496-12 4.2): one box header at a time, and a
 * path search that knows where the children of the common non-plain
 * containers (stsd, dref, sample entries, meta) begin. Safe on arbitrary
 * bytes: every length is checked against what is left. */
#include "format/fmp4.h"

#include <errno.h>
#include <string.h>

/* Longest path mp4_box_find() follows; deeper paths match nothing. */
#define MP4_MAX_PATH_DEPTH 16

int mp4_box_read(const uint8_t *p, size_t len, struct mp4_box *out)
{
	memset(out, 0, sizeof(*out));
	if (!p || len < 8)
		return -EPROTO;
	uint64_t size = rd_be32(p);
	size_t header = 8;
	if (size == 1) { /* 64-bit largesize follows the type */
		if (len < 16)
			return -EPROTO;
		size = (uint64_t)rd_be32(p + 8) << 32 | rd_be32(p + 12);
		header = 16;
	} else if (size == 0) { /* extends to the end of the enclosing data */
		size = len;
	}
	if (size < header || size > len)
		return -EPROTO;
	out->type = rd_be32(p + 4);
	out->size = size;
	out->header = header;
	out->payload = p + header;
	out->payload_len = (size_t)size - header;
	return 0;
}

/* Bytes between a box's header and its first child box, for the boxes
 * whose payload starts with fields; 0 for plain containers. Sound sample
 * entries grow with their version (QuickTime v1/v2 layouts). */
static int children_offset(const struct mp4_box *b, size_t *off)
{
	switch (b->type) {
	case FOURCC('s', 't', 's', 'd'):
	case FOURCC('d', 'r', 'e', 'f'):
		*off = 8; /* version/flags + entry_count */
		return 0;
	case FOURCC('m', 'e', 't', 'a'):
		*off = 4;
		return 0;
	case FOURCC('a', 'v', 'c', '1'):
	case FOURCC('a', 'v', 'c', '3'):
	case FOURCC('h', 'v', 'c', '1'):
	case FOURCC('h', 'e', 'v', '1'):
	case FOURCC('a', 'v', '0', '1'):
	case FOURCC('v', 'p', '0', '8'):
	case FOURCC('v', 'p', '0', '9'):
	case FOURCC('e', 'n', 'c', 'v'):
		*off = 78; /* VisualSampleEntry fields */
		return 0;
	case FOURCC('m', 'p', '4', 'a'):
	case FOURCC('O', 'p', 'u', 's'):
	case FOURCC('.', 'm', 'p', '3'):
	case FOURCC('a', 'c', '-', '3'):
	case FOURCC('e', 'c', '-', '3'):
	case FOURCC('f', 'L', 'a', 'C'):
	case FOURCC('e', 'n', 'c', 'a'): {
		if (b->payload_len < 28)
			return -EPROTO;
		unsigned version = rd_be16(b->payload + 8);
		*off = version == 1 ? 28 + 16 : version == 2 ? 28 + 36 : 28;
		return 0;
	}
	default:
		*off = 0;
		return 0;
	}
}

/* Splits "moov/trak/mdia" into fourccs. Number of parts or -ENOENT. */
static int parse_path(const char *path, uint32_t *types)
{
	int n = 0;
	const char *s = path;
	if (!s || !*s)
		return -ENOENT;
	for (;;) {
		const char *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len != 4 || n == MP4_MAX_PATH_DEPTH)
			return -ENOENT;
		types[n++] = FOURCC((uint8_t)s[0], (uint8_t)s[1], (uint8_t)s[2], (uint8_t)s[3]);
		if (!e)
			return n;
		s = e + 1;
	}
}

/* Depth-first search of types[0..n) among the boxes in p[0..len): the
 * first match in document order wins, so "moov/trak/mdia/minf/smhd" finds
 * the first sound track even when a video track comes first. */
static int find(const uint8_t *p, size_t len, const uint32_t *types, int n, struct mp4_box *out)
{
	int rc = -ENOENT;
	while (len > 0) {
		struct mp4_box b;
		if (mp4_box_read(p, len, &b))
			return -EPROTO;
		if (b.type == types[0]) {
			if (n == 1) {
				*out = b;
				return 0;
			}
			size_t off;
			int sub = children_offset(&b, &off);
			if (!sub && off > b.payload_len)
				sub = -EPROTO;
			if (!sub)
				sub = find(b.payload + off, b.payload_len - off, types + 1, n - 1,
					   out);
			if (sub == 0)
				return 0;
			if (sub == -EPROTO)
				rc = -EPROTO;
		}
		p += b.size;
		len -= (size_t)b.size;
	}
	return rc;
}

int mp4_box_find(const uint8_t *p, size_t len, const char *path, struct mp4_box *out)
{
	uint32_t types[MP4_MAX_PATH_DEPTH];
	memset(out, 0, sizeof(*out));
	int n = parse_path(path, types);
	if (n < 0)
		return n;
	if (!p)
		return -ENOENT;
	int rc = find(p, len, types, n, out);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}
