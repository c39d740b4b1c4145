/* H.265/HEVC parameter sets and hvcC records. */
#ifndef WEIR_MEDIA_H265_H
#define WEIR_MEDIA_H265_H

#include <stddef.h>
#include <stdint.h>

struct h265_sps_info {
	unsigned profile_idc, tier_flag, level_idc;
	unsigned chroma_format_idc, bit_depth;
	unsigned width, height; /* after conformance window cropping */
};

/* Parses a SPS NAL unit (2-byte header included, emulation prevention
 * bytes still in). 0 or -EPROTO. */
int h265_parse_sps(const uint8_t *nal, size_t len, struct h265_sps_info *out);

/* Finds the first SPS in an HEVCDecoderConfigurationRecord and parses it.
 * Also returns the NAL length size. 0, -EPROTO or -ENOENT (no SPS). */
int h265_parse_hvcc(const uint8_t *p, size_t len, struct h265_sps_info *out,
		    unsigned *nal_length_size);

#endif
