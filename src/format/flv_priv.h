/* Constants and helpers shared by flv.c (demux) and flv_mux.c. Private to
 * the FLV module. */
#ifndef WEIR_FORMAT_FLV_PRIV_H
#define WEIR_FORMAT_FLV_PRIV_H

#include <stdint.h>

#include "media/track.h"

/* FourCC values as big-endian UI32 (Enhanced RTMP v1). */
#define FLV_FOURCC(a, b, c, d)                                                                     \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define FLV_FOURCC_AVC1 FLV_FOURCC('a', 'v', 'c', '1')
#define FLV_FOURCC_HVC1 FLV_FOURCC('h', 'v', 'c', '1')
#define FLV_FOURCC_AV01 FLV_FOURCC('a', 'v', '0', '1')
#define FLV_FOURCC_VP09 FLV_FOURCC('v', 'p', '0', '9')

enum {
	/* VideoTagHeader FrameType */
	FLV_FRAME_KEY = 1,
	FLV_FRAME_INTER = 2,
	FLV_FRAME_GENERATED_KEY = 4,
	FLV_FRAME_COMMAND = 5,
	/* classic CodecID (12 is a common non-standard HEVC extension) */
	FLV_VIDEO_AVC = 7,
	FLV_VIDEO_HEVC_LEGACY = 12,
	/* AVCPacketType */
	FLV_AVC_SEQUENCE_HEADER = 0,
	FLV_AVC_NALU = 1,
	FLV_AVC_END = 2,
	/* Enhanced RTMP PacketType */
	FLV_PKT_SEQUENCE_START = 0,
	FLV_PKT_CODED_FRAMES = 1,
	FLV_PKT_SEQUENCE_END = 2,
	FLV_PKT_CODED_FRAMES_X = 3,
	FLV_PKT_METADATA = 4,
	FLV_PKT_MPEG2TS_SEQUENCE_START = 5,
	/* SoundFormat */
	FLV_AUDIO_MP3 = 2,
	FLV_AUDIO_AAC = 10,
	FLV_AUDIO_MP3_8K = 14,
	/* AACPacketType */
	FLV_AAC_SEQUENCE_HEADER = 0,
	FLV_AAC_RAW = 1,
};

/* Signed 24-bit big-endian integer (composition time). */
int32_t flv_si24(const uint8_t *p);
/* Codec of an Enhanced RTMP video FourCC, CODEC_NONE if unknown. */
enum codec flv_fourcc_codec(uint32_t fourcc);

#endif
