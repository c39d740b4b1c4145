/* FLV audio/video tag bodies, demux side: classic FLV 10.1 (Annex E.4.2,
 * E.4.3) and Enhanced RTMP v1 (ExVideoTagHeader with FourCC), plus
 * flv_track_from_config(). The mux side is in flv_mux.c. */
#include "format/flv.h"

#include <errno.h>
#include <string.h>

#include "format/flv_priv.h"
#include "media/aac.h"
#include "media/h264.h"
#include "media/h265.h"

int32_t flv_si24(const uint8_t *p)
{
	uint32_t v = rd_be24(p);
	return (int32_t)(v ^ 0x800000u) - 0x800000;
}

enum codec flv_fourcc_codec(uint32_t fourcc)
{
	switch (fourcc) {
	case FLV_FOURCC_AVC1:
		return CODEC_H264;
	case FLV_FOURCC_HVC1:
		return CODEC_H265;
	case FLV_FOURCC_AV01:
		return CODEC_AV1;
	case FLV_FOURCC_VP09:
		return CODEC_VP9;
	default:
		return CODEC_NONE;
	}
}

static void set_data(struct flv_body *out, const uint8_t *p, size_t len, size_t skip)
{
	out->data = p + skip;
	out->len = len - skip;
}

/* ExVideoTagHeader: [1|FrameType:3|PacketType:4] FourCC [SI24 cts] data. */
static int parse_ex_video(const uint8_t *p, size_t len, struct flv_body *out)
{
	unsigned frame_type = (p[0] >> 4) & 7, pkt = p[0] & 15;
	if (len < 5)
		return -EPROTO;
	out->codec = flv_fourcc_codec(rd_be32(p + 1));
	if (out->codec == CODEC_NONE)
		return -ENOTSUP;
	out->key = frame_type == FLV_FRAME_KEY || frame_type == FLV_FRAME_GENERATED_KEY;
	/* Metadata ignores FrameType; a command frame carries no video. */
	if (pkt == FLV_PKT_METADATA || pkt == FLV_PKT_MPEG2TS_SEQUENCE_START ||
	    frame_type == FLV_FRAME_COMMAND) {
		out->kind = FLV_BODY_IGNORE;
		set_data(out, p, len, 5);
		return 0;
	}
	switch (pkt) {
	case FLV_PKT_SEQUENCE_START:
		out->kind = FLV_BODY_CONFIG;
		break;
	case FLV_PKT_SEQUENCE_END:
		out->kind = FLV_BODY_END;
		break;
	case FLV_PKT_CODED_FRAMES:
		out->kind = FLV_BODY_FRAME;
		/* Only the NAL-based codecs carry a composition time here. */
		if (out->codec == CODEC_H264 || out->codec == CODEC_H265) {
			if (len < 8)
				return -EPROTO;
			out->cts_ms = flv_si24(p + 5);
			set_data(out, p, len, 8);
			return 0;
		}
		break;
	case FLV_PKT_CODED_FRAMES_X:
		out->kind = FLV_BODY_FRAME;
		break;
	default: /* Multitrack, ModEx (E-RTMP v2) and reserved types */
		return -ENOTSUP;
	}
	set_data(out, p, len, 5);
	return 0;
}

/* Classic VideoTagHeader: [FrameType:4|CodecID:4] then, for AVC (and the
 * widespread non-standard HEVC id 12), AVCPacketType and SI24 cts. */
static int parse_classic_video(const uint8_t *p, size_t len, struct flv_body *out)
{
	unsigned frame_type = p[0] >> 4, codec_id = p[0] & 15;
	if (codec_id == FLV_VIDEO_AVC)
		out->codec = CODEC_H264;
	else if (codec_id == FLV_VIDEO_HEVC_LEGACY)
		out->codec = CODEC_H265;
	if (frame_type == FLV_FRAME_COMMAND) {
		out->kind = FLV_BODY_IGNORE;
		set_data(out, p, len, 1);
		return 0;
	}
	if (out->codec == CODEC_NONE)
		return -ENOTSUP;
	out->key = frame_type == FLV_FRAME_KEY || frame_type == FLV_FRAME_GENERATED_KEY;
	if (len >= 2 && p[1] == FLV_AVC_END) {
		out->kind = FLV_BODY_END;
		set_data(out, p, len, len < 5 ? len : 5);
		return 0;
	}
	if (len < 5)
		return -EPROTO;
	if (p[1] == FLV_AVC_SEQUENCE_HEADER)
		out->kind = FLV_BODY_CONFIG;
	else if (p[1] == FLV_AVC_NALU)
		out->kind = FLV_BODY_FRAME;
	else
		return -EPROTO;
	out->cts_ms = out->kind == FLV_BODY_FRAME ? flv_si24(p + 2) : 0;
	set_data(out, p, len, 5);
	return 0;
}

int flv_parse_video(const uint8_t *p, size_t len, struct flv_body *out)
{
	memset(out, 0, sizeof(*out));
	out->type = TRACK_VIDEO;
	if (!p || len < 1)
		return -EPROTO;
	int rc = (p[0] & 0x80) ? parse_ex_video(p, len, out) : parse_classic_video(p, len, out);
	if (rc) {
		memset(out, 0, sizeof(*out));
		out->type = TRACK_VIDEO;
	}
	return rc;
}

/* SoundRate codes of the classic header: 5.5, 11, 22 and 44 kHz. */
static const uint32_t flv_rates[4] = {5512, 11025, 22050, 44100};

int flv_parse_audio(const uint8_t *p, size_t len, struct flv_body *out)
{
	memset(out, 0, sizeof(*out));
	out->type = TRACK_AUDIO;
	if (!p || len < 1)
		return -EPROTO;
	unsigned format = p[0] >> 4;
	out->rate = flv_rates[(p[0] >> 2) & 3];
	out->bits = (p[0] & 2) ? 16 : 8;
	out->channels = (p[0] & 1) ? 2 : 1;
	out->kind = FLV_BODY_FRAME;
	if (format == FLV_AUDIO_AAC) {
		out->codec = CODEC_AAC;
		if (len < 2 || p[1] > FLV_AAC_RAW)
			goto fail;
		out->kind = p[1] == FLV_AAC_SEQUENCE_HEADER ? FLV_BODY_CONFIG : FLV_BODY_FRAME;
		set_data(out, p, len, 2);
		return 0;
	}
	if (format == FLV_AUDIO_MP3 || format == FLV_AUDIO_MP3_8K) {
		out->codec = CODEC_MP3;
		if (format == FLV_AUDIO_MP3_8K)
			out->rate = 8000;
		set_data(out, p, len, 1);
		struct mp3_header h;
		if (mp3_parse_header(out->data, out->len, &h) == 0) {
			out->rate = h.sample_rate;
			out->channels = h.channels;
		}
		return 0;
	}
	memset(out, 0, sizeof(*out));
	out->type = TRACK_AUDIO;
	return -ENOTSUP;
fail:
	memset(out, 0, sizeof(*out));
	out->type = TRACK_AUDIO;
	return -EPROTO;
}

/* Video parameters a parsed config tells; 0 or -EPROTO. */
static int video_from_config(struct track *tmp, enum codec codec, const uint8_t *cfg, size_t len)
{
	if (codec == CODEC_H264) {
		struct h264_avcc avcc;
		struct h264_sps_info sps;
		if (h264_parse_avcc(cfg, len, &avcc))
			return -EPROTO;
		tmp->profile = avcc.profile;
		tmp->level = avcc.level;
		if (!avcc.nsps)
			return 0;
		if (h264_parse_sps(avcc.sps[0], avcc.sps_len[0], &sps))
			return -EPROTO;
		tmp->width = sps.width;
		tmp->height = sps.height;
		tmp->profile = sps.profile_idc;
		tmp->level = sps.level_idc;
		if (sps.fps_den)
			tmp->fps_milli = (uint32_t)((uint64_t)sps.fps_num * 1000 / sps.fps_den);
		if (sps.max_num_reorder)
			tmp->has_bframes = true;
		return 0;
	}
	if (codec == CODEC_H265) {
		struct h265_sps_info sps;
		int rc = h265_parse_hvcc(cfg, len, &sps, NULL);
		if (rc == -ENOENT)
			return 0;
		if (rc)
			return -EPROTO;
		tmp->width = sps.width;
		tmp->height = sps.height;
		tmp->profile = sps.profile_idc;
		tmp->level = sps.level_idc;
	}
	return 0;
}

int flv_track_from_config(struct track *t, enum codec codec, const uint8_t *cfg, size_t len)
{
	if (!t || codec <= CODEC_NONE || codec >= CODEC_COUNT || (len && !cfg))
		return -EINVAL;
	/* Work on a copy so that a failure leaves *t untouched. */
	struct track tmp = *t;
	tmp.type = codec_type(codec);
	tmp.codec = codec;
	if (codec == CODEC_MP3) {
		struct mp3_header h;
		if (mp3_parse_header(cfg, len, &h))
			return -EPROTO;
		tmp.rate = h.sample_rate;
		tmp.channels = h.channels;
		tmp.bits = tmp.bits ? tmp.bits : 16;
		tmp.config = NULL;
	} else {
		if (!len)
			return -EPROTO;
		if (codec == CODEC_AAC) {
			struct aac_asc asc;
			if (aac_parse_asc(cfg, len, &asc))
				return -EPROTO;
			tmp.rate = asc.sample_rate;
			tmp.channels = asc.channels;
			tmp.bits = tmp.bits ? tmp.bits : 16;
		} else if (video_from_config(&tmp, codec, cfg, len)) {
			return -EPROTO;
		}
		if (!(tmp.config = wbuf_from(cfg, len)))
			return -ENOMEM;
	}
	wbuf_unref(t->config);
	*t = tmp;
	return 0;
}
