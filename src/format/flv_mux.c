/* FLV mux side: tag body prefixes (classic for H.264/AAC/MP3, Enhanced RTMP
 * for H.265/AV1/VP9), sequence headers, tag and file headers, onMetaData. */
#include "format/flv.h"

#include <errno.h>
#include <string.h>

#include "format/amf0.h"
#include "format/flv_priv.h"

static uint32_t video_fourcc(enum codec c)
{
	switch (c) {
	case CODEC_H265:
		return FLV_FOURCC_HVC1;
	case CODEC_AV1:
		return FLV_FOURCC_AV01;
	case CODEC_VP9:
		return FLV_FOURCC_VP09;
	default:
		return 0;
	}
}

/* (pts - dts) in ms, rounded half away from zero, clamped to SI24. */
static int32_t cts_ms(const struct frame *f)
{
	int64_t d = f->pts_us - f->dts_us;
	int64_t ms = d >= 0 ? (d + 500) / 1000 : -((-d + 500) / 1000);
	if (ms > 0x7fffff)
		ms = 0x7fffff;
	if (ms < -0x800000)
		ms = -0x800000;
	return (int32_t)ms;
}

/* SoundFormat/rate/size/type byte; AAC always claims 44 kHz stereo. */
static uint8_t audio_header(const struct track *t, unsigned format)
{
	unsigned rate_code = 3, stereo = 1;
	if (format != FLV_AUDIO_AAC) {
		rate_code = t->rate >= 44100 ? 3 : t->rate >= 22050 ? 2 : t->rate >= 11025 ? 1 : 0;
		stereo = t->channels != 1;
	}
	return (uint8_t)(format << 4 | rate_code << 2 | 1 << 1 | stereo);
}

int flv_body_prefix(const struct track *t, const struct frame *f, uint8_t *out)
{
	if (!t || !f || !out)
		return -EINVAL;
	unsigned frame_type = (f->flags & FRAME_KEY) ? FLV_FRAME_KEY : FLV_FRAME_INTER;
	switch (t->codec) {
	case CODEC_H264:
		out[0] = (uint8_t)(frame_type << 4 | FLV_VIDEO_AVC);
		out[1] = FLV_AVC_NALU;
		wr_be24(out + 2, (uint32_t)cts_ms(f) & 0xffffff);
		return 5;
	case CODEC_H265: {
		bool with_cts = f->pts_us != f->dts_us;
		unsigned pkt = with_cts ? FLV_PKT_CODED_FRAMES : FLV_PKT_CODED_FRAMES_X;
		out[0] = (uint8_t)(0x80 | frame_type << 4 | pkt);
		wr_be32(out + 1, FLV_FOURCC_HVC1);
		if (!with_cts)
			return 5;
		wr_be24(out + 5, (uint32_t)cts_ms(f) & 0xffffff);
		return 8;
	}
	case CODEC_AV1:
	case CODEC_VP9:
		out[0] = (uint8_t)(0x80 | frame_type << 4 | FLV_PKT_CODED_FRAMES);
		wr_be32(out + 1, video_fourcc(t->codec));
		return 5;
	case CODEC_AAC:
		out[0] = audio_header(t, FLV_AUDIO_AAC);
		out[1] = FLV_AAC_RAW;
		return 2;
	case CODEC_MP3:
		out[0] = audio_header(t, FLV_AUDIO_MP3);
		return 1;
	default:
		return -ENOTSUP;
	}
}

int flv_config_body(const struct track *t, struct bytes *out)
{
	if (!t || !out)
		return -EINVAL;
	uint8_t hdr[5];
	size_t n;
	switch (t->codec) {
	case CODEC_H264:
		hdr[0] = FLV_FRAME_KEY << 4 | FLV_VIDEO_AVC;
		hdr[1] = FLV_AVC_SEQUENCE_HEADER;
		wr_be24(hdr + 2, 0);
		n = 5;
		break;
	case CODEC_H265:
	case CODEC_AV1:
	case CODEC_VP9:
		hdr[0] = 0x80 | FLV_FRAME_KEY << 4 | FLV_PKT_SEQUENCE_START;
		wr_be32(hdr + 1, video_fourcc(t->codec));
		n = 5;
		break;
	case CODEC_AAC:
		hdr[0] = audio_header(t, FLV_AUDIO_AAC);
		hdr[1] = FLV_AAC_SEQUENCE_HEADER;
		n = 2;
		break;
	case CODEC_MP3:
		return -ENOENT;
	default:
		return -ENOTSUP;
	}
	if (!t->config || !t->config->len)
		return -ENOENT;
	int rc = bytes_reserve(out, n + t->config->len);
	if (rc)
		return rc;
	bytes_append(out, hdr, n);
	return bytes_append(out, t->config->data, t->config->len);
}

void flv_tag_header(uint8_t out[FLV_TAG_HEADER_LEN], unsigned type, uint32_t body_len,
		    uint32_t ts_ms)
{
	out[0] = (uint8_t)type;
	wr_be24(out + 1, body_len & 0xffffff);
	wr_be24(out + 4, ts_ms & 0xffffff);
	out[7] = (uint8_t)(ts_ms >> 24); /* TimestampExtended */
	wr_be24(out + 8, 0);             /* StreamID */
}

int flv_file_header(struct bytes *out, bool has_video, bool has_audio)
{
	uint8_t h[13] = {'F', 'L', 'V', 1, 0, 0, 0, 0, 9, 0, 0, 0, 0};
	h[4] = (uint8_t)((has_audio ? 4 : 0) | (has_video ? 1 : 0));
	return bytes_append(out, h, sizeof(h));
}

/* videocodecid: the classic id, or the FourCC as a number (E-RTMP v1). */
static double video_codec_id(enum codec c)
{
	return c == CODEC_H264 ? FLV_VIDEO_AVC : (double)video_fourcc(c);
}

static int put_num(struct bytes *out, unsigned *count, const char *key, double v)
{
	int rc = amf0_put_key(out, key);
	if (!rc)
		rc = amf0_put_number(out, v);
	++*count;
	return rc;
}

static int put_video_meta(struct bytes *out, unsigned *n, const struct track *v)
{
	int rc = 0;
	if (v->width && !rc)
		rc = put_num(out, n, "width", v->width);
	if (v->height && !rc)
		rc = put_num(out, n, "height", v->height);
	if (v->fps_milli && !rc)
		rc = put_num(out, n, "framerate", v->fps_milli / 1000.0);
	if (v->bitrate_bps && !rc)
		rc = put_num(out, n, "videodatarate", v->bitrate_bps / 1000.0);
	if (!rc && video_codec_id(v->codec) > 0)
		rc = put_num(out, n, "videocodecid", video_codec_id(v->codec));
	return rc;
}

static int put_audio_meta(struct bytes *out, unsigned *n, const struct track *a)
{
	int rc = 0;
	if (a->bitrate_bps)
		rc = put_num(out, n, "audiodatarate", a->bitrate_bps / 1000.0);
	if (!rc && (a->codec == CODEC_AAC || a->codec == CODEC_MP3))
		rc = put_num(out, n, "audiocodecid",
			     a->codec == CODEC_AAC ? FLV_AUDIO_AAC : FLV_AUDIO_MP3);
	if (a->rate && !rc)
		rc = put_num(out, n, "audiosamplerate", a->rate);
	if (!rc)
		rc = put_num(out, n, "audiosamplesize", a->bits ? a->bits : 16);
	if (!rc && a->channels) {
		rc = amf0_put_key(out, "stereo");
		if (!rc)
			rc = amf0_put_bool(out, a->channels >= 2);
		++*n;
	}
	return rc;
}

int flv_metadata_body(struct bytes *out, const struct track *video, const struct track *audio)
{
	if (!out)
		return -EINVAL;
	size_t start = out->len;
	unsigned n = 0;
	int rc = amf0_put_string(out, "onMetaData");
	if (!rc)
		rc = amf0_put_ecma_start(out, 0);
	size_t count_at = out->len - 4;
	if (!rc)
		rc = put_num(out, &n, "duration", 0);
	if (!rc && video)
		rc = put_video_meta(out, &n, video);
	if (!rc && audio)
		rc = put_audio_meta(out, &n, audio);
	if (!rc) {
		rc = amf0_put_key(out, "encoder");
		n++;
	}
	if (!rc)
		rc = amf0_put_string(out, "weir");
	if (!rc)
		rc = amf0_put_object_end(out);
	if (rc) {
		out->len = start; /* drop the partial body */
		return rc;
	}
	wr_be32(out->data + count_at, n);
	return 0;
}
