/* ADTS fixed and variable header (ISO 14496-3 1.A.2.2.1, 1.A.3.2.1). */
#include "format/adts.h"

#include <errno.h>
#include <string.h>

static const unsigned adts_rates[13] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
					22050, 16000, 12000, 11025, 8000,  7350};

enum { AOT_SBR = 5, AOT_PS = 29, AOT_LC = 2 };

int adts_freq_index(unsigned rate)
{
	for (int i = 0; i < 13; i++)
		if (adts_rates[i] == rate)
			return i;
	return -EINVAL;
}

int adts_parse(const uint8_t *p, size_t len, struct adts_header *out)
{
	memset(out, 0, sizeof(*out));
	if (len < ADTS_HEADER_LEN)
		return -EAGAIN;
	/* syncword 0xFFF, ID, layer (must be 0), protection_absent */
	if (p[0] != 0xff || (p[1] & 0xf6) != 0xf0)
		return -EPROTO;
	unsigned protection_absent = p[1] & 1;
	out->object_type = (p[2] >> 6) + 1;
	out->freq_index = (p[2] >> 2) & 15;
	out->channel_config = (p[2] & 1) << 2 | p[3] >> 6;
	out->frame_len = (unsigned)(p[3] & 3) << 11 | (unsigned)p[4] << 3 | p[5] >> 5;
	out->raw_blocks = (p[6] & 3) + 1;
	out->header_len = protection_absent ? 7 : 9;
	if (out->freq_index >= 13 || out->frame_len < out->header_len) {
		memset(out, 0, sizeof(*out));
		return -EPROTO;
	}
	out->sample_rate = adts_rates[out->freq_index];
	return 0;
}

int adts_write(uint8_t out[ADTS_HEADER_LEN], const struct aac_asc *asc, size_t payload_len)
{
	unsigned aot = asc->object_type;
	if (aot == AOT_SBR || aot == AOT_PS)
		aot = AOT_LC; /* the core; decoders find SBR/PS implicitly */
	int idx = adts_freq_index(asc->sample_rate);
	if (aot < 1 || aot > 4 || idx < 0 || asc->channel_config > 7 ||
	    payload_len > ADTS_MAX_FRAME - ADTS_HEADER_LEN)
		return -EINVAL;
	unsigned flen = (unsigned)payload_len + ADTS_HEADER_LEN, ch = asc->channel_config;
	out[0] = 0xff;
	out[1] = 0xf1; /* MPEG-4, layer 0, no CRC */
	out[2] = (uint8_t)((aot - 1) << 6 | (unsigned)idx << 2 | ch >> 2);
	out[3] = (uint8_t)((ch & 3) << 6 | flen >> 11);
	out[4] = (uint8_t)(flen >> 3);
	out[5] = (uint8_t)((flen & 7) << 5 | 0x1f); /* buffer fullness 0x7FF: VBR */
	out[6] = 0xfc;                              /* ... and one raw data block */
	return 0;
}

int adts_make_asc(const struct adts_header *h, uint8_t out[2])
{
	/* audioObjectType:5 samplingFrequencyIndex:4 channelConfiguration:4
	 * frameLengthFlag, dependsOnCoreCoder, extensionFlag = 0 */
	unsigned v = h->object_type << 11 | h->freq_index << 7 | h->channel_config << 3;
	out[0] = (uint8_t)(v >> 8);
	out[1] = (uint8_t)v;
	return 2;
}
