/* H.265 sequence parameter set (ITU-T H.265 7.3.2.2, 7.3.3) up to the bit
 * depth, and HEVCDecoderConfigurationRecord (ISO 14496-15 8.3.3.1). */
#include "media/h265.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "core/bytes.h"
#include "media/bitreader.h"

enum { H265_NAL_SPS = 33 };

/* The fields we need sit in the first ~60 bytes; more is plenty. */
#define SPS_PREFIX_BYTES 512

/* profile_tier_level(1, max_sub_layers_minus1), 7.3.3. */
static void parse_ptl(struct bitreader *br, unsigned max_sub_layers_minus1,
		      struct h265_sps_info *out)
{
	br_skip(br, 2); /* general_profile_space */
	out->tier_flag = br_u1(br);
	out->profile_idc = br_u(br, 5);
	br_skip(br, 32); /* general_profile_compatibility_flag[32] */
	br_skip(br, 48); /* progressive..frame_only + 43 reserved + 1 bits */
	out->level_idc = br_u(br, 8);
	bool profile_present[8] = {false}, level_present[8] = {false};
	for (unsigned i = 0; i < max_sub_layers_minus1; i++) {
		profile_present[i] = br_u1(br);
		level_present[i] = br_u1(br);
	}
	if (max_sub_layers_minus1 > 0)
		br_skip(br, 2 * (8 - max_sub_layers_minus1)); /* reserved_zero_2bits */
	for (unsigned i = 0; i < max_sub_layers_minus1; i++) {
		if (profile_present[i])
			br_skip(br, 88); /* sub-layer profile space .. reserved */
		if (level_present[i])
			br_skip(br, 8); /* sub_layer_level_idc */
	}
}

/* Size after the conformance window (7.4.3.2.1 conf_win_*_offset). */
static int parse_size(struct bitreader *br, bool separate_planes, struct h265_sps_info *out)
{
	uint64_t w = br_ue(br), h = br_ue(br);
	uint64_t win[4] = {0};
	if (br_u1(br)) /* conformance_window_flag */
		for (int i = 0; i < 4; i++)
			win[i] = br_ue(br);
	if (br->err)
		return -EPROTO;
	unsigned chroma = separate_planes ? 0 : out->chroma_format_idc;
	uint64_t sub_w = (chroma == 1 || chroma == 2) ? 2 : 1;
	uint64_t sub_h = chroma == 1 ? 2 : 1;
	uint64_t cw = sub_w * (win[0] + win[1]), ch = sub_h * (win[2] + win[3]);
	if (!w || !h || w > 65536 || h > 65536 || cw >= w || ch >= h)
		return -EPROTO;
	out->width = (unsigned)(w - cw);
	out->height = (unsigned)(h - ch);
	return 0;
}

static int parse_rbsp(struct bitreader *br, struct h265_sps_info *out)
{
	br_skip(br, 4); /* sps_video_parameter_set_id */
	unsigned max_sub_layers_minus1 = br_u(br, 3);
	br_skip(br, 1); /* sps_temporal_id_nesting_flag */
	if (max_sub_layers_minus1 > 6)
		return -EPROTO;
	parse_ptl(br, max_sub_layers_minus1, out);
	if (br_ue(br) > 15) /* sps_seq_parameter_set_id */
		return -EPROTO;
	out->chroma_format_idc = br_ue(br);
	if (out->chroma_format_idc > 3)
		return -EPROTO;
	bool separate_planes = false;
	if (out->chroma_format_idc == 3)
		separate_planes = br_u1(br);
	if (parse_size(br, separate_planes, out))
		return -EPROTO;
	uint32_t depth = br_ue(br); /* bit_depth_luma_minus8 */
	(void)br_ue(br);            /* bit_depth_chroma_minus8 */
	if (br->err || depth > 8)
		return -EPROTO;
	out->bit_depth = 8 + depth;
	return 0;
}

int h265_parse_sps(const uint8_t *nal, size_t len, struct h265_sps_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!nal || len < 3 || (nal[0] & 0x80) || ((nal[0] >> 1) & 0x3f) != H265_NAL_SPS)
		return -EPROTO;
	uint8_t rbsp[SPS_PREFIX_BYTES];
	size_t n = len - 2 > sizeof(rbsp) ? sizeof(rbsp) : len - 2;
	n = br_unescape(rbsp, nal + 2, n);
	struct bitreader br;
	br_init(&br, rbsp, n);
	int rc = parse_rbsp(&br, out);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* hvcC: 22 bytes of fixed fields (lengthSizeMinusOne in byte 21), then
 * numOfArrays and the arrays of u16-length-prefixed NAL units. */
int h265_parse_hvcc(const uint8_t *p, size_t len, struct h265_sps_info *out,
		    unsigned *nal_length_size)
{
	memset(out, 0, sizeof(*out));
	if (!p || len < 23)
		return -EPROTO;
	unsigned nls = (p[21] & 3) + 1;
	if (nls == 3)
		return -EPROTO;
	if (nal_length_size)
		*nal_length_size = nls;
	unsigned narrays = p[22];
	size_t pos = 23;
	for (unsigned a = 0; a < narrays; a++) {
		if (len - pos < 3)
			return -EPROTO;
		unsigned type = p[pos] & 0x3f;
		unsigned nnal = rd_be16(p + pos + 1);
		pos += 3;
		for (unsigned i = 0; i < nnal; i++) {
			if (len - pos < 2)
				return -EPROTO;
			size_t n = rd_be16(p + pos);
			pos += 2;
			if (len - pos < n)
				return -EPROTO;
			if (type == H265_NAL_SPS)
				return h265_parse_sps(p + pos, n, out);
			pos += n;
		}
	}
	return -ENOENT;
}
