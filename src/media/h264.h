/* H.264 parameter sets and avcC records. */
#ifndef WEIR_MEDIA_H264_H
#define WEIR_MEDIA_H264_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct h264_sps_info {
	unsigned profile_idc, constraint_flags, level_idc;
	unsigned chroma_format_idc, bit_depth;
	unsigned width, height;    /* after cropping */
	unsigned fps_num, fps_den; /* from VUI timing; 0 when absent */
	bool frame_mbs_only;
	unsigned max_num_reorder; /* 0 when unknown/none */
};

/* Parses a SPS NAL unit (with its 1-byte header, emulation prevention
 * bytes still in). 0 or -EPROTO. */
int h264_parse_sps(const uint8_t *nal, size_t len, struct h264_sps_info *out);

struct h264_avcc {
	unsigned profile, compat, level;
	unsigned nal_length_size; /* 1, 2 or 4 */
	const uint8_t *sps[32];
	size_t sps_len[32];
	unsigned nsps;
	const uint8_t *pps[256];
	size_t pps_len[256];
	unsigned npps;
};

/* Parses an AVCDecoderConfigurationRecord; pointers point into p. */
int h264_parse_avcc(const uint8_t *p, size_t len, struct h264_avcc *out);

#endif
