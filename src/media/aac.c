/* AudioSpecificConfig (ISO 14496-3 1.6.2.1) and MPEG-1/2/2.5 audio frame
 * headers (ISO 11172-3 2.4.2.3, ISO 13818-3). */
#include "media/aac.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "media/bitreader.h"

static const unsigned aac_rates[13] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
				       22050, 16000, 12000, 11025, 8000,  7350};

enum {
	AOT_SBR = 5,
	AOT_PS = 29,
	AOT_ESCAPE = 31,
	SYNC_SBR = 0x2b7, /* syncExtensionType for backward-compatible SBR */
	SYNC_PS = 0x548,
};

static unsigned read_aot(struct bitreader *br)
{
	unsigned aot = br_u(br, 5);
	if (aot == AOT_ESCAPE)
		aot = 32 + br_u(br, 6);
	return aot;
}

/* samplingFrequencyIndex, with 15 meaning an explicit 24-bit rate. */
static unsigned read_rate(struct bitreader *br, unsigned *index)
{
	unsigned idx = br_u(br, 4);
	if (index)
		*index = idx;
	if (idx == 15)
		return br_u(br, 24);
	return idx < 13 ? aac_rates[idx] : 0;
}

/* Channels of a program_config_element (4.4.1.1); the rest of the element
 * is consumed so that any extension after it can be read. */
static unsigned pce_channels(struct bitreader *br)
{
	br_skip(br, 4 + 2 + 4); /* element_instance_tag, object_type, freq index */
	unsigned front = br_u(br, 4), side = br_u(br, 4), back = br_u(br, 4);
	unsigned lfe = br_u(br, 2), assoc = br_u(br, 3), cc = br_u(br, 4);
	if (br_u1(br))
		br_skip(br, 4); /* mono_mixdown_element_number */
	if (br_u1(br))
		br_skip(br, 4); /* stereo_mixdown_element_number */
	if (br_u1(br))
		br_skip(br, 3); /* matrix_mixdown_idx, pseudo_surround_enable */
	unsigned channels = lfe;
	for (unsigned i = 0; i < front + side + back; i++) {
		channels += br_u1(br) ? 2 : 1; /* is_cpe */
		br_skip(br, 4);                /* element tag select */
	}
	br_skip(br, 4 * lfe + 4 * assoc + 5 * cc);
	br_skip(br, (8 - br->pos_bits % 8) % 8); /* byte_alignment(): the ASC starts aligned */
	br_skip(br, 8 * (size_t)br_u(br, 8));    /* comment_field_data */
	return br->err ? 0 : channels;
}

static bool ga_object(unsigned aot)
{
	switch (aot) {
	case 1:
	case 2:
	case 3:
	case 4:
	case 6:
	case 7:
	case 17:
	case 19:
	case 20:
	case 21:
	case 22:
	case 23:
		return true;
	default:
		return false;
	}
}

/* GASpecificConfig (4.4.1): frame length and, for channel config 0, the
 * channel count from the PCE. Extension flags after the PCE are skipped. */
static int parse_ga(struct bitreader *br, unsigned aot, struct aac_asc *out)
{
	out->frame_samples = br_u1(br) ? 960 : 1024;
	if (br_u1(br))           /* dependsOnCoreCoder */
		br_skip(br, 14); /* coreCoderDelay */
	unsigned ext = br_u1(br);
	if (out->channel_config == 0)
		out->channels = pce_channels(br);
	if (aot == 6 || aot == 20)
		br_skip(br, 3); /* layerNr */
	if (ext) {
		if (aot == 22)
			br_skip(br, 16); /* numOfSubFrame, layer_length */
		if (aot == 17 || aot == 19 || aot == 20 || aot == 23)
			br_skip(br, 3); /* resilience flags */
		br_skip(br, 1);         /* extensionFlag3 */
	}
	return br->err ? -EPROTO : 0;
}

/* Backward-compatible SBR/PS signalling appended after the core config
 * (1.6.5.2). Malformed or absent: silently nothing. */
static void parse_sync_ext(struct bitreader *br, struct aac_asc *out)
{
	if (br_left(br) < 16 || br_u(br, 11) != SYNC_SBR)
		return;
	if (read_aot(br) != AOT_SBR || !br_u1(br)) /* sbrPresentFlag */
		return;
	unsigned rate = read_rate(br, NULL);
	if (br->err || !rate)
		return;
	out->object_type = AOT_SBR;
	out->ext_sample_rate = rate;
	if (br_left(br) >= 12 && br_u(br, 11) == SYNC_PS && br_u1(br) && !br->err)
		out->object_type = AOT_PS;
}

static unsigned config_channels(unsigned cfg)
{
	static const unsigned map[16] = {0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8, 0};
	return map[cfg & 15];
}

int aac_parse_asc(const uint8_t *p, size_t len, struct aac_asc *out)
{
	memset(out, 0, sizeof(*out));
	struct bitreader br;
	br_init(&br, p, p ? len : 0);
	unsigned aot = read_aot(&br);
	out->object_type = aot;
	out->sample_rate = read_rate(&br, &out->freq_index);
	out->channel_config = br_u(&br, 4);
	out->channels = config_channels(out->channel_config);
	out->frame_samples = 1024;
	if (br.err || !aot || !out->sample_rate || (out->channel_config && !out->channels))
		goto fail;
	if (aot == AOT_SBR || aot == AOT_PS) {
		/* Explicit hierarchical signalling: SBR rate, then the core AOT. */
		out->ext_sample_rate = read_rate(&br, NULL);
		aot = read_aot(&br);
		if (aot == 22)
			br_skip(&br, 4); /* extensionChannelConfiguration */
		if (br.err || !out->ext_sample_rate)
			goto fail;
	}
	if (ga_object(aot)) {
		/* Only a PCE (channel config 0) is essential; a short tail is not. */
		int rc = parse_ga(&br, aot, out);
		if (!out->channel_config && (rc || !out->channels))
			goto fail;
		if (!rc && aot < 17 && out->object_type != AOT_SBR && out->object_type != AOT_PS)
			parse_sync_ext(&br, out);
	}
	if (out->object_type == AOT_PS && out->channels == 1)
		out->channels = 2; /* parametric stereo decodes to stereo */
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return -EPROTO;
}

int aac_make_asc(unsigned object_type, unsigned sample_rate, unsigned channels, uint8_t out[2])
{
	unsigned idx = 0, cfg;
	while (idx < 13 && aac_rates[idx] != sample_rate)
		idx++;
	if (idx == 13 || object_type == 0 || object_type >= AOT_ESCAPE)
		return -EINVAL;
	if (channels >= 1 && channels <= 6)
		cfg = channels;
	else if (channels == 8)
		cfg = 7;
	else
		return -EINVAL;
	/* aot:5 freq:4 channels:4 frameLength/dependsOnCore/extension:3 = 0 */
	uint16_t v = (uint16_t)(object_type << 11 | idx << 7 | cfg << 3);
	out[0] = v >> 8;
	out[1] = v & 0xff;
	return 2;
}

/* Bitrates (kbps) by [row][index 1..14]; rows: V1 L1, V1 L2, V1 L3,
 * V2/2.5 L1, V2/2.5 L2 and L3. */
static const unsigned short mp3_kbps[5][15] = {
    {0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
    {0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
    {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},
    {0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
    {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
};

static const unsigned mp3_rates[3][3] = {
    {44100, 48000, 32000}, /* MPEG-1 */
    {22050, 24000, 16000}, /* MPEG-2 */
    {11025, 12000, 8000},  /* MPEG-2.5 */
};

int mp3_parse_header(const uint8_t *p, size_t len, struct mp3_header *out)
{
	memset(out, 0, sizeof(*out));
	if (!p || len < 4 || p[0] != 0xff || (p[1] & 0xe0) != 0xe0)
		return -EPROTO;
	unsigned ver_bits = (p[1] >> 3) & 3, layer_bits = (p[1] >> 1) & 3;
	unsigned br_idx = p[2] >> 4, sr_idx = (p[2] >> 2) & 3, pad = (p[2] >> 1) & 1;
	/* Free-format (bitrate 0) frames have no computable length: refused. */
	if (ver_bits == 1 || layer_bits == 0 || br_idx == 0 || br_idx == 15 || sr_idx == 3)
		return -EPROTO;
	unsigned v = ver_bits == 3 ? 0 : ver_bits == 2 ? 1 : 2; /* row in mp3_rates */
	out->version = v == 0 ? 1 : v == 1 ? 2 : 25;
	out->layer = 4 - layer_bits;
	unsigned row = v == 0 ? out->layer - 1 : out->layer == 1 ? 3 : 4;
	out->bitrate_kbps = mp3_kbps[row][br_idx];
	out->sample_rate = mp3_rates[v][sr_idx];
	out->channels = (p[3] >> 6) == 3 ? 1 : 2;
	unsigned bps = out->bitrate_kbps * 1000;
	if (out->layer == 1) {
		out->frame_samples = 384;
		out->frame_len = (12 * bps / out->sample_rate + pad) * 4;
	} else {
		out->frame_samples = (out->layer == 3 && v != 0) ? 576 : 1152;
		out->frame_len = out->frame_samples / 8 * bps / out->sample_rate + pad;
	}
	return 0;
}
