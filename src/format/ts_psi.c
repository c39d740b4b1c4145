/* Helpers both TS directions share: the PSI CRC and the Opus descriptor
 * mapping. */
#include <errno.h>
#include <string.h>

#include "format/ts-t.h"

uint32_t ts_crc32(const uint8_t *p, size_t len)
{
	/* Bitwise: PSI sections are a few hundred bytes a few times a
	 * second, not worth a table. */
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < len; i++) {
		crc ^= (uint32_t)p[i] << 24;
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04c11db7u : crc << 1;
	}
	return crc;
}

/* RFC 7845 5.1.1.2 (mapping family 1) layouts for 1..8 channels. */
static const uint8_t opus_streams[8] = {1, 1, 2, 2, 3, 4, 4, 5};
static const uint8_t opus_coupled[8] = {0, 1, 1, 2, 2, 2, 3, 3};
static const uint8_t opus_map[8][8] = {
    {0},
    {0, 1},
    {0, 2, 1},
    {0, 1, 2, 3},
    {0, 4, 1, 2, 3},
    {0, 4, 1, 2, 3, 5},
    {0, 4, 1, 5, 2, 3, 6},
    {0, 6, 1, 2, 3, 4, 5, 7},
};

enum { OPUS_HEAD_LEN = 19, OPUS_DUAL_MONO = 0x00, OPUS_EXPLICIT = 0xff };

uint8_t ts_opus_code(const uint8_t *head, size_t len, unsigned channels)
{
	if (!head || len < OPUS_HEAD_LEN || memcmp(head, "OpusHead", 8))
		return channels >= 1 && channels <= 2 ? (uint8_t)channels : OPUS_EXPLICIT;
	unsigned ch = head[9], family = head[18];
	if (family == 0 && ch >= 1 && ch <= 2)
		return (uint8_t)ch;
	if (len < 21u + ch || ch < 1 || ch > 8)
		return OPUS_EXPLICIT;
	const uint8_t *map = head + 21;
	if (family == 255 && ch == 2 && head[19] == 2 && head[20] == 0 && map[0] == 0 &&
	    map[1] == 1)
		return OPUS_DUAL_MONO;
	if (family == 1 && head[19] == opus_streams[ch - 1] && head[20] == opus_coupled[ch - 1] &&
	    !memcmp(map, opus_map[ch - 1], ch))
		return (uint8_t)ch;
	return OPUS_EXPLICIT;
}

int ts_opus_head(uint8_t code, struct bytes *out, unsigned *channels)
{
	if (code > 8)
		return -EPROTO; /* 0xFF: explicit mapping descriptor, not supported */
	unsigned ch = code ? code : 2;
	unsigned family = code == OPUS_DUAL_MONO ? 255 : ch > 2;
	uint8_t h[21 + 8] = {'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, (uint8_t)ch};
	/* pre-skip 0 (unknown in TS), input rate 48000 LE, gain 0 */
	h[12] = 0x80;
	h[13] = 0xbb;
	h[18] = (uint8_t)family;
	size_t len = OPUS_HEAD_LEN;
	if (family) {
		h[19] = code == OPUS_DUAL_MONO ? 2 : opus_streams[ch - 1];
		h[20] = code == OPUS_DUAL_MONO ? 0 : opus_coupled[ch - 1];
		memcpy(h + 21, opus_map[ch - 1], ch);
		len = 21 + ch;
	}
	*channels = ch;
	return bytes_append(out, h, len) ? -ENOMEM : 0;
}
