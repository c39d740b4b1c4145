/* fMP4/CMAF init segment: ftyp + moov (ISO 14496-12 8.2-8.8, ISO 23000-19
 * 7.3) with one trak per track and the codec sample entries of ISO 14496-15
 * (avc1, hvc1), the AV1 ISOBMFF binding (av01), the VP codec ISOBMFF binding
 * (vp09), ISO 14496-14 (mp4a + esds) and the Opus ISOBMFF encapsulation
 * (Opus + dOps). */
#include "format/fmp4.h"

#include <errno.h>
#include <string.h>

#include "format/fmp4_priv.h"
#include "media/aac.h"
#include "media/h264.h"
#include "media/h265.h"

enum {
	TKHD_ENABLED_IN_MOVIE = 0x000003,
	URL_SELF_CONTAINED = 0x000001,
	VMHD_NO_LEAN_AHEAD = 0x000001, /* vmhd flags must be 1 */
	OTI_MPEG4_AUDIO = 0x40,
	OTI_MPEG1_AUDIO = 0x6b,
	STREAM_TYPE_AUDIO = 0x05,
	TAG_ES = 0x03,
	TAG_DECODER_CONFIG = 0x04,
	TAG_DEC_SPECIFIC = 0x05,
	TAG_SL_CONFIG = 0x06,
	MAX_DESCRIPTOR_LEN = (1 << 28) - 1, /* 4 bytes of 7-bit size */
};

static const uint8_t *cfg_data(const struct track *t)
{
	return t->config ? t->config->data : NULL;
}
static size_t cfg_len(const struct track *t)
{
	return t->config ? t->config->len : 0;
}

static void write_ftyp(struct mp4_writer *w)
{
	/* iso6: tfdt v1 and signed trun offsets; cmfc: CMAF track format. */
	static const char brands[] = "iso6cmfcmp41";
	size_t b = mp4w_box(w, FOURCC('f', 't', 'y', 'p'));
	mp4w_put(w, "iso6", 4);
	mp4w_u32(w, 0); /* minor_version */
	mp4w_put(w, brands, sizeof(brands) - 1);
	mp4w_end(w, b);
}

static void write_mvhd(struct mp4_writer *w, unsigned next_track_id)
{
	size_t b = mp4w_full(w, FOURCC('m', 'v', 'h', 'd'), 0, 0);
	mp4w_u32(w, 0);          /* creation_time */
	mp4w_u32(w, 0);          /* modification_time */
	mp4w_u32(w, 1000);       /* timescale */
	mp4w_u32(w, 0);          /* duration: unknown, fragmented */
	mp4w_u32(w, 0x00010000); /* rate 1.0 */
	mp4w_u16(w, 0x0100);     /* volume 1.0 */
	mp4w_zero(w, 10);        /* reserved */
	mp4w_matrix(w);
	mp4w_zero(w, 24); /* pre_defined */
	mp4w_u32(w, next_track_id);
	mp4w_end(w, b);
}

/* Width and height as the track says, else from the SPS in the config. */
static void video_size(const struct track *t, uint32_t *width, uint32_t *height)
{
	*width = t->width;
	*height = t->height;
	if ((*width && *height) || !t->config)
		return;
	if (t->codec == CODEC_H264) {
		struct h264_avcc a;
		struct h264_sps_info s;
		if (!h264_parse_avcc(cfg_data(t), cfg_len(t), &a) && a.nsps &&
		    !h264_parse_sps(a.sps[0], a.sps_len[0], &s)) {
			*width = s.width;
			*height = s.height;
		}
	} else if (t->codec == CODEC_H265) {
		struct h265_sps_info s;
		if (!h265_parse_hvcc(cfg_data(t), cfg_len(t), &s, NULL)) {
			*width = s.width;
			*height = s.height;
		}
	}
}

static bool is_video(const struct track *t)
{
	return t->type == TRACK_VIDEO || codec_type(t->codec) == TRACK_VIDEO;
}

static void write_tkhd(struct mp4_writer *w, const struct track *t, unsigned id)
{
	uint32_t width = 0, height = 0;
	if (is_video(t))
		video_size(t, &width, &height);
	size_t b = mp4w_full(w, FOURCC('t', 'k', 'h', 'd'), 0, TKHD_ENABLED_IN_MOVIE);
	mp4w_u32(w, 0); /* creation_time */
	mp4w_u32(w, 0); /* modification_time */
	mp4w_u32(w, id);
	mp4w_u32(w, 0);  /* reserved */
	mp4w_u32(w, 0);  /* duration */
	mp4w_zero(w, 8); /* reserved */
	mp4w_u16(w, 0);  /* layer */
	mp4w_u16(w, 0);  /* alternate_group */
	mp4w_u16(w, is_video(t) ? 0 : 0x0100);
	mp4w_u16(w, 0); /* reserved */
	mp4w_matrix(w);
	mp4w_u32(w, width > 0xffff ? 0xffff0000u : width << 16); /* 16.16 */
	mp4w_u32(w, height > 0xffff ? 0xffff0000u : height << 16);
	mp4w_end(w, b);
}

/* ISO-639-2/T code packed as three 5-bit letters; "und" unless the track
 * has a three-letter code. */
static uint16_t packed_language(const char *lang)
{
	char l[3] = {'u', 'n', 'd'};
	if (strnlen(lang, 4) == 3) {
		bool ok = true;
		for (int i = 0; i < 3; i++) {
			char c = (char)(lang[i] | 0x20);
			ok = ok && c >= 'a' && c <= 'z';
		}
		for (int i = 0; ok && i < 3; i++)
			l[i] = (char)(lang[i] | 0x20);
	}
	return (uint16_t)((l[0] - 0x60) << 10 | (l[1] - 0x60) << 5 | (l[2] - 0x60));
}

static void write_mdhd_hdlr(struct mp4_writer *w, const struct track *t)
{
	size_t b = mp4w_full(w, FOURCC('m', 'd', 'h', 'd'), 0, 0);
	mp4w_u32(w, 0); /* creation_time */
	mp4w_u32(w, 0); /* modification_time */
	mp4w_u32(w, fmp4_timescale(t));
	mp4w_u32(w, 0); /* duration */
	mp4w_u16(w, packed_language(t->lang));
	mp4w_u16(w, 0); /* pre_defined */
	mp4w_end(w, b);

	static const char vname[] = "VideoHandler", sname[] = "SoundHandler";
	b = mp4w_full(w, FOURCC('h', 'd', 'l', 'r'), 0, 0);
	mp4w_u32(w, 0); /* pre_defined */
	mp4w_u32(w, is_video(t) ? FOURCC('v', 'i', 'd', 'e') : FOURCC('s', 'o', 'u', 'n'));
	mp4w_zero(w, 12);                                        /* reserved */
	mp4w_put(w, is_video(t) ? vname : sname, sizeof(vname)); /* with the NUL */
	mp4w_end(w, b);
}

static void write_dinf(struct mp4_writer *w)
{
	size_t dinf = mp4w_box(w, FOURCC('d', 'i', 'n', 'f'));
	size_t dref = mp4w_full(w, FOURCC('d', 'r', 'e', 'f'), 0, 0);
	mp4w_u32(w, 1); /* entry_count */
	size_t url = mp4w_full(w, FOURCC('u', 'r', 'l', ' '), 0, URL_SELF_CONTAINED);
	mp4w_end(w, url);
	mp4w_end(w, dref);
	mp4w_end(w, dinf);
}

/* VisualSampleEntry fields (78 bytes) before the codec config box. */
static void visual_entry_head(struct mp4_writer *w, const struct track *t)
{
	uint32_t width, height;
	video_size(t, &width, &height);
	mp4w_zero(w, 6);  /* reserved */
	mp4w_u16(w, 1);   /* data_reference_index */
	mp4w_zero(w, 16); /* pre_defined, reserved, pre_defined[3] */
	mp4w_u16(w, width > 0xffff ? 0xffff : (uint16_t)width);
	mp4w_u16(w, height > 0xffff ? 0xffff : (uint16_t)height);
	mp4w_u32(w, 0x00480000); /* horizresolution 72 dpi */
	mp4w_u32(w, 0x00480000); /* vertresolution */
	mp4w_u32(w, 0);          /* reserved */
	mp4w_u16(w, 1);          /* frame_count */
	mp4w_zero(w, 32);        /* compressorname */
	mp4w_u16(w, 0x0018);     /* depth */
	mp4w_u16(w, 0xffff);     /* pre_defined = -1 */
}

/* Lowest VP9 level (Annex A of the VP9 bitstream spec) whose maximum
 * picture size holds the track's, for a vpcC we have to make up. */
static uint8_t vp9_level(const struct track *t)
{
	static const struct {
		uint32_t max_pixels;
		uint8_t level;
	} levels[] = {{36864, 10},  {73728, 11},   {122880, 20},  {245760, 21},  {552960, 30},
		      {983040, 31}, {2228224, 40}, {8912896, 50}, {35651584, 60}};
	uint64_t pixels = (uint64_t)t->width * t->height;
	if (t->level)
		return (uint8_t)t->level;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (pixels <= levels[i].max_pixels)
			return levels[i].level;
	return 62;
}

/* vpcC version 1: the track's VPCodecConfigurationRecord, with or without
 * the box's version/flags in front, or one made from the track's profile
 * and size: 8-bit (10-bit for profiles 2/3), 4:2:0 colocated (4:4:4 for
 * the odd profiles), limited range, unspecified colour. */
static void write_vpcc(struct mp4_writer *w, const struct track *t)
{
	const uint8_t *c = cfg_data(t);
	size_t len = cfg_len(t);
	size_t b = mp4w_full(w, FOURCC('v', 'p', 'c', 'C'), 1, 0);
	if (len >= 8 && (size_t)rd_be16(c + 6) + 8 == len) {
		mp4w_put(w, c, len);
	} else if (len >= 12 && c[0] == 1 && (size_t)rd_be16(c + 10) + 12 == len) {
		mp4w_put(w, c + 4, len - 4);
	} else {
		unsigned profile = t->profile & 3;
		unsigned depth = profile >= 2 ? 10 : 8;
		unsigned chroma = profile & 1 ? 3 : 1; /* 4:4:4 : 4:2:0 colocated */
		mp4w_u8(w, (uint8_t)profile);
		mp4w_u8(w, vp9_level(t));
		mp4w_u8(w, (uint8_t)(depth << 4 | chroma << 1)); /* full range 0 */
		mp4w_u8(w, 2);                                   /* colour_primaries: unspecified */
		mp4w_u8(w, 2);                                   /* transfer_characteristics */
		mp4w_u8(w, 2);                                   /* matrix_coefficients */
		mp4w_u16(w, 0);                                  /* codecInitializationDataSize */
	}
	mp4w_end(w, b);
}

/* av1C as configured, or a minimal one (marker/version 1, the track's
 * profile and level, 8-bit 4:2:0, no config OBUs): decoders take the
 * sequence header from the first keyframe. */
static void write_av1c(struct mp4_writer *w, const struct track *t)
{
	size_t b = mp4w_box(w, FOURCC('a', 'v', '1', 'C'));
	if (t->config) {
		mp4w_put(w, cfg_data(t), cfg_len(t));
	} else {
		mp4w_u8(w, 0x81);
		mp4w_u8(w, (uint8_t)((t->profile & 7) << 5 | (t->level & 31)));
		mp4w_u8(w, 0x0c); /* chroma_subsampling_x, chroma_subsampling_y */
		mp4w_u8(w, 0);
	}
	mp4w_end(w, b);
}

static int write_video_entry(struct mp4_writer *w, const struct track *t)
{
	static const struct {
		enum codec codec;
		uint32_t entry, config;
	} map[] = {
	    {CODEC_H264, FOURCC('a', 'v', 'c', '1'), FOURCC('a', 'v', 'c', 'C')},
	    {CODEC_H265, FOURCC('h', 'v', 'c', '1'), FOURCC('h', 'v', 'c', 'C')},
	    {CODEC_AV1, FOURCC('a', 'v', '0', '1'), FOURCC('a', 'v', '1', 'C')},
	    {CODEC_VP9, FOURCC('v', 'p', '0', '9'), FOURCC('v', 'p', 'c', 'C')},
	};
	size_t i = 0;
	while (i < sizeof(map) / sizeof(map[0]) && map[i].codec != t->codec)
		i++;
	if (i == sizeof(map) / sizeof(map[0]))
		return -ENOTSUP;
	/* Parameter sets of H.264/H.265 exist only in the config record. */
	if ((t->codec == CODEC_H264 || t->codec == CODEC_H265) && !cfg_len(t))
		return -EINVAL;
	size_t b = mp4w_box(w, map[i].entry);
	visual_entry_head(w, t);
	if (t->codec == CODEC_VP9) {
		write_vpcc(w, t);
	} else if (t->codec == CODEC_AV1) {
		write_av1c(w, t);
	} else {
		size_t c = mp4w_box(w, map[i].config);
		mp4w_put(w, cfg_data(t), cfg_len(t));
		mp4w_end(w, c);
	}
	mp4w_end(w, b);
	return 0;
}

/* AudioSampleEntry v0 fields (28 bytes) before the codec config box. */
static void audio_entry_head(struct mp4_writer *w, unsigned channels, uint32_t rate)
{
	mp4w_zero(w, 6); /* reserved */
	mp4w_u16(w, 1);  /* data_reference_index */
	mp4w_zero(w, 8); /* reserved */
	mp4w_u16(w, (uint16_t)channels);
	mp4w_u16(w, 16); /* samplesize */
	mp4w_u32(w, 0);  /* pre_defined, reserved */
	mp4w_u32(w, rate <= 0xffff ? rate << 16 : 0);
}

/* Size field of an ISO 14496-1 descriptor: 7 bits per byte, high bit set
 * on all but the last byte. */
static size_t desc_len_bytes(size_t len)
{
	return len < 1u << 7 ? 1 : len < 1u << 14 ? 2 : len < 1u << 21 ? 3 : 4;
}

static void write_desc_head(struct mp4_writer *w, uint8_t tag, size_t len)
{
	mp4w_u8(w, tag);
	for (size_t i = desc_len_bytes(len); i > 1; i--)
		mp4w_u8(w, (uint8_t)(0x80 | ((len >> (7 * (i - 1))) & 0x7f)));
	mp4w_u8(w, (uint8_t)(len & 0x7f));
}

/* esds: ES_Descriptor { DecoderConfigDescriptor { [DecSpecificInfo] },
 * SLConfigDescriptor (predefined 2, as MP4 files use) }. */
static int write_esds(struct mp4_writer *w, const struct track *t, uint8_t oti, const uint8_t *dsi,
		      size_t dsi_len)
{
	if (dsi_len > MAX_DESCRIPTOR_LEN - 64)
		return -EINVAL;
	size_t dsi_total = dsi_len ? 1 + desc_len_bytes(dsi_len) + dsi_len : 0;
	size_t dcd_len = 13 + dsi_total;
	size_t es_len = 3 + 1 + desc_len_bytes(dcd_len) + dcd_len + 3;
	size_t b = mp4w_full(w, FOURCC('e', 's', 'd', 's'), 0, 0);
	write_desc_head(w, TAG_ES, es_len);
	mp4w_u16(w, 0); /* ES_ID */
	mp4w_u8(w, 0);  /* no dependsOn, URL, OCR */
	write_desc_head(w, TAG_DECODER_CONFIG, dcd_len);
	mp4w_u8(w, oti);
	mp4w_u8(w, STREAM_TYPE_AUDIO << 2 | 1); /* upStream 0, reserved 1 */
	mp4w_u24(w, 0);                         /* bufferSizeDB */
	mp4w_u32(w, t->bitrate_bps);            /* maxBitrate */
	mp4w_u32(w, t->bitrate_bps);            /* avgBitrate */
	if (dsi_len) {
		write_desc_head(w, TAG_DEC_SPECIFIC, dsi_len);
		mp4w_put(w, dsi, dsi_len);
	}
	write_desc_head(w, TAG_SL_CONFIG, 1);
	mp4w_u8(w, 2);
	mp4w_end(w, b);
	return 0;
}

static int write_mp4a(struct mp4_writer *w, const struct track *t)
{
	uint8_t made[2];
	const uint8_t *asc = cfg_data(t);
	size_t asc_len = cfg_len(t);
	unsigned channels = t->channels;
	uint32_t rate = t->rate;
	if (t->codec == CODEC_AAC) {
		struct aac_asc a;
		if (!asc_len) {
			int n = aac_make_asc(2, t->rate, t->channels, made);
			if (n < 0)
				return -EINVAL;
			asc = made;
			asc_len = (size_t)n;
		}
		if (!aac_parse_asc(asc, asc_len, &a)) {
			channels = a.channels ? a.channels : channels;
			rate = rate ? rate : a.sample_rate;
		}
	} else {
		asc = NULL; /* MP3 has no DecoderSpecificInfo */
		asc_len = 0;
	}
	size_t b = mp4w_box(w, FOURCC('m', 'p', '4', 'a'));
	audio_entry_head(w, channels ? channels : 2, rate);
	int rc = write_esds(w, t, t->codec == CODEC_AAC ? OTI_MPEG4_AUDIO : OTI_MPEG1_AUDIO, asc,
			    asc_len);
	mp4w_end(w, b);
	return rc;
}

struct opus_head {
	unsigned channels, preskip, family, streams, coupled;
	uint32_t rate;
	uint16_t gain;
	const uint8_t *mapping; /* channels bytes when family != 0 */
};

/* OpusHead (RFC 7845 5.1: little-endian) from the config, or a plain
 * mono/stereo one from the track when there is no config. */
static int opus_head(const struct track *t, struct opus_head *h)
{
	const uint8_t *p = cfg_data(t);
	size_t len = cfg_len(t);
	memset(h, 0, sizeof(*h));
	if (!len) {
		h->channels = t->channels ? t->channels : 2;
		h->rate = t->rate ? t->rate : 48000;
		return h->channels <= 2 ? 0 : -EINVAL;
	}
	if (len < 19 || memcmp(p, "OpusHead", 8) || (p[8] >> 4) != 0 || !p[9])
		return -EINVAL;
	h->channels = p[9];
	h->preskip = (unsigned)p[10] | (unsigned)p[11] << 8;
	h->rate = rd_le32(p + 12);
	h->gain = (uint16_t)(p[16] | p[17] << 8);
	h->family = p[18];
	if (h->family == 0)
		return h->channels <= 2 ? 0 : -EINVAL;
	if (len < 21 + (size_t)h->channels)
		return -EINVAL;
	h->streams = p[19];
	h->coupled = p[20];
	h->mapping = p + 21;
	return 0;
}

/* Opus sample entry + dOps (Opus in ISOBMFF 4.3.2: big-endian fields). */
static int write_opus(struct mp4_writer *w, const struct track *t)
{
	struct opus_head h;
	int rc = opus_head(t, &h);
	if (rc)
		return rc;
	size_t b = mp4w_box(w, FOURCC('O', 'p', 'u', 's'));
	audio_entry_head(w, h.channels, 48000);
	size_t d = mp4w_box(w, FOURCC('d', 'O', 'p', 's'));
	mp4w_u8(w, 0); /* Version */
	mp4w_u8(w, (uint8_t)h.channels);
	mp4w_u16(w, (uint16_t)h.preskip);
	mp4w_u32(w, h.rate);
	mp4w_u16(w, h.gain);
	mp4w_u8(w, (uint8_t)h.family);
	if (h.family) {
		mp4w_u8(w, (uint8_t)h.streams);
		mp4w_u8(w, (uint8_t)h.coupled);
		mp4w_put(w, h.mapping, h.channels);
	}
	mp4w_end(w, d);
	mp4w_end(w, b);
	return 0;
}

static int write_stbl(struct mp4_writer *w, const struct track *t)
{
	size_t stbl = mp4w_box(w, FOURCC('s', 't', 'b', 'l'));
	size_t stsd = mp4w_full(w, FOURCC('s', 't', 's', 'd'), 0, 0);
	mp4w_u32(w, 1); /* entry_count */
	int rc;
	switch (t->codec) {
	case CODEC_AAC:
	case CODEC_MP3:
		rc = write_mp4a(w, t);
		break;
	case CODEC_OPUS:
		rc = write_opus(w, t);
		break;
	default:
		rc = write_video_entry(w, t);
		break;
	}
	if (rc)
		return rc;
	mp4w_end(w, stsd);
	/* Empty sample tables: the samples are in the fragments. */
	static const uint32_t empty[] = {FOURCC('s', 't', 't', 's'), FOURCC('s', 't', 's', 'c'),
					 FOURCC('s', 't', 's', 'z'), FOURCC('s', 't', 'c', 'o')};
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		size_t b = mp4w_full(w, empty[i], 0, 0);
		if (empty[i] == FOURCC('s', 't', 's', 'z'))
			mp4w_u32(w, 0); /* sample_size */
		mp4w_u32(w, 0);         /* entry/sample count */
		mp4w_end(w, b);
	}
	mp4w_end(w, stbl);
	return 0;
}

static int write_trak(struct mp4_writer *w, const struct track *t, unsigned id)
{
	size_t trak = mp4w_box(w, FOURCC('t', 'r', 'a', 'k'));
	write_tkhd(w, t, id);
	size_t mdia = mp4w_box(w, FOURCC('m', 'd', 'i', 'a'));
	write_mdhd_hdlr(w, t);
	size_t minf = mp4w_box(w, FOURCC('m', 'i', 'n', 'f'));
	if (is_video(t)) {
		size_t b = mp4w_full(w, FOURCC('v', 'm', 'h', 'd'), 0, VMHD_NO_LEAN_AHEAD);
		mp4w_zero(w, 8); /* graphicsmode, opcolor */
		mp4w_end(w, b);
	} else {
		size_t b = mp4w_full(w, FOURCC('s', 'm', 'h', 'd'), 0, 0);
		mp4w_u32(w, 0); /* balance, reserved */
		mp4w_end(w, b);
	}
	write_dinf(w);
	int rc = write_stbl(w, t);
	if (rc)
		return rc;
	mp4w_end(w, minf);
	mp4w_end(w, mdia);
	mp4w_end(w, trak);
	return 0;
}

static void write_mvex(struct mp4_writer *w, unsigned n)
{
	size_t mvex = mp4w_box(w, FOURCC('m', 'v', 'e', 'x'));
	for (unsigned i = 0; i < n; i++) {
		size_t b = mp4w_full(w, FOURCC('t', 'r', 'e', 'x'), 0, 0);
		mp4w_u32(w, i + 1); /* track_ID */
		mp4w_u32(w, 1);     /* default_sample_description_index */
		mp4w_u32(w, 0);     /* default_sample_duration */
		mp4w_u32(w, 0);     /* default_sample_size */
		mp4w_u32(w, 0);     /* default_sample_flags */
		mp4w_end(w, b);
	}
	mp4w_end(w, mvex);
}

int fmp4_init(const struct track *const *tracks, unsigned n, struct bytes *out)
{
	if (!tracks || !n || n >= UINT32_MAX || !out)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!tracks[i])
			return -EINVAL;
	struct mp4_writer w = {.out = out};
	size_t start = out->len;
	int rc = 0;
	write_ftyp(&w);
	size_t moov = mp4w_box(&w, FOURCC('m', 'o', 'o', 'v'));
	write_mvhd(&w, n + 1);
	for (unsigned i = 0; i < n && !rc; i++)
		rc = write_trak(&w, tracks[i], i + 1);
	if (rc)
		goto fail;
	write_mvex(&w, n);
	mp4w_end(&w, moov);
	if ((rc = w.err))
		goto fail;
	return 0;
fail:
	out->len = start; /* appends all or nothing */
	if (out->data)
		out->data[start] = 0;
	return rc;
}
