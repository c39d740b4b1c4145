/* H.264 sequence parameter set (ITU-T H.264 7.3.2.1.1, E.1.1) and
 * AVCDecoderConfigurationRecord (ISO 14496-15 5.3.3.1) parsing. */
#include "media/h264.h"

#include <errno.h>
#include <string.h>

#include "core/bytes.h"
#include "media/bitreader.h"

/* Longest SPS we unescape. Even 12 maximal scaling lists stay well below
 * this; anything longer fails as truncated when a field lies beyond. */
#define SPS_MAX_BYTES 4096

/* Profiles whose SPS carries chroma format, bit depth and scaling lists. */
static bool high_profile(unsigned profile_idc)
{
	switch (profile_idc) {
	case 100:
	case 110:
	case 122:
	case 244:
	case 44:
	case 83:
	case 86:
	case 118:
	case 128:
	case 138:
	case 139:
	case 134:
	case 135:
		return true;
	default:
		return false;
	}
}

/* scaling_list() of 7.3.2.1.1.1: only consumed, values unused. */
static void skip_scaling_list(struct bitreader *br, unsigned size)
{
	int last = 8, next = 8;
	for (unsigned j = 0; j < size && !br->err; j++) {
		if (next != 0) {
			int32_t delta = br_se(br);
			if (delta < -128 || delta > 127) {
				br->err = true;
				return;
			}
			next = (last + delta + 256) % 256;
		}
		last = next == 0 ? last : next;
	}
}

/* Chroma format, bit depth and scaling matrices of high profiles. */
static void parse_high(struct bitreader *br, struct h264_sps_info *out, bool *separate_planes)
{
	out->chroma_format_idc = br_ue(br);
	if (out->chroma_format_idc > 3) {
		br->err = true;
		return;
	}
	if (out->chroma_format_idc == 3)
		*separate_planes = br_u1(br);
	uint32_t depth_luma = br_ue(br);
	(void)br_ue(br); /* bit_depth_chroma_minus8 */
	if (depth_luma > 6) {
		br->err = true;
		return;
	}
	out->bit_depth = 8 + depth_luma;
	br_skip(br, 1);  /* qpprime_y_zero_transform_bypass_flag */
	if (br_u1(br)) { /* seq_scaling_matrix_present_flag */
		unsigned lists = out->chroma_format_idc != 3 ? 8 : 12;
		for (unsigned i = 0; i < lists && !br->err; i++)
			if (br_u1(br))
				skip_scaling_list(br, i < 6 ? 16 : 64);
	}
}

static void skip_hrd(struct bitreader *br)
{
	uint32_t cpb_cnt = br_ue(br) + 1;
	if (cpb_cnt > 32) {
		br->err = true;
		return;
	}
	br_skip(br, 8); /* bit_rate_scale, cpb_size_scale */
	for (uint32_t i = 0; i < cpb_cnt && !br->err; i++) {
		(void)br_ue(br); /* bit_rate_value_minus1 */
		(void)br_ue(br); /* cpb_size_value_minus1 */
		br_skip(br, 1);  /* cbr_flag */
	}
	br_skip(br, 20); /* four delay/offset lengths of 5 bits */
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* fps = time_scale / (2 * num_units_in_tick), reduced to fit unsigned. */
static void set_fps(struct h264_sps_info *out, uint32_t units, uint32_t scale)
{
	if (!units || !scale)
		return;
	uint64_t num = scale, den = 2 * (uint64_t)units;
	uint64_t g = gcd64(num, den);
	num /= g;
	den /= g;
	while (den > UINT32_MAX) {
		num >>= 1;
		den >>= 1;
	}
	if (!num)
		return;
	out->fps_num = (unsigned)num;
	out->fps_den = (unsigned)den;
}

/* VUI (E.1.1). Best effort: fields are only stored once read in full. */
static void parse_vui(struct bitreader *br, struct h264_sps_info *out)
{
	if (br_u1(br) && br_u(br, 8) == 255) /* aspect_ratio_info, idc */
		br_skip(br, 32);             /* sar_width, sar_height */
	if (br_u1(br))                       /* overscan_info_present_flag */
		br_skip(br, 1);
	if (br_u1(br)) { /* video_signal_type_present_flag */
		br_skip(br, 4);
		if (br_u1(br)) /* colour_description_present_flag */
			br_skip(br, 24);
	}
	if (br_u1(br)) { /* chroma_loc_info_present_flag */
		(void)br_ue(br);
		(void)br_ue(br);
	}
	if (br_u1(br)) { /* timing_info_present_flag */
		uint32_t units = br_u(br, 32), scale = br_u(br, 32);
		br_skip(br, 1); /* fixed_frame_rate_flag */
		if (br->err)
			return;
		set_fps(out, units, scale);
	}
	bool nal_hrd = br_u1(br);
	if (nal_hrd)
		skip_hrd(br);
	bool vcl_hrd = br_u1(br);
	if (vcl_hrd)
		skip_hrd(br);
	if (nal_hrd || vcl_hrd)
		br_skip(br, 1); /* low_delay_hrd_flag */
	br_skip(br, 1);         /* pic_struct_present_flag */
	if (!br_u1(br))         /* bitstream_restriction_flag */
		return;
	br_skip(br, 1); /* motion_vectors_over_pic_boundaries_flag */
	for (int i = 0; i < 4; i++)
		(void)br_ue(br); /* bytes/pic, bits/mb, log2 max mv h/v */
	uint32_t reorder = br_ue(br);
	(void)br_ue(br); /* max_dec_frame_buffering */
	if (!br->err && reorder <= 16)
		out->max_num_reorder = reorder;
}

static void skip_poc(struct bitreader *br)
{
	uint32_t poc_type = br_ue(br);
	if (poc_type == 0) {
		(void)br_ue(br); /* log2_max_pic_order_cnt_lsb_minus4 */
	} else if (poc_type == 1) {
		br_skip(br, 1);  /* delta_pic_order_always_zero_flag */
		(void)br_se(br); /* offset_for_non_ref_pic */
		(void)br_se(br); /* offset_for_top_to_bottom_field */
		uint32_t n = br_ue(br);
		if (n > 255)
			br->err = true;
		for (uint32_t i = 0; i < n && !br->err; i++)
			(void)br_se(br);
	} else if (poc_type != 2) {
		br->err = true;
	}
}

/* Frame size after cropping (7.4.2.1.1, frame_crop_*_offset semantics). */
static int set_size(struct h264_sps_info *out, struct bitreader *br, bool separate_planes)
{
	uint64_t w_mbs = (uint64_t)br_ue(br) + 1;
	uint64_t h_units = (uint64_t)br_ue(br) + 1;
	out->frame_mbs_only = br_u1(br);
	if (!out->frame_mbs_only)
		br_skip(br, 1); /* mb_adaptive_frame_field_flag */
	br_skip(br, 1);         /* direct_8x8_inference_flag */
	uint64_t crop[4] = {0};
	if (br_u1(br))
		for (int i = 0; i < 4; i++)
			crop[i] = br_ue(br);
	if (br->err)
		return -EPROTO;
	unsigned chroma = separate_planes ? 0 : out->chroma_format_idc;
	uint64_t unit_x = (chroma == 1 || chroma == 2) ? 2 : 1;
	uint64_t unit_y = (chroma == 1 ? 2 : 1) * (out->frame_mbs_only ? 1 : 2);
	uint64_t w = w_mbs * 16, h = h_units * 16 * (out->frame_mbs_only ? 1 : 2);
	uint64_t cw = unit_x * (crop[0] + crop[1]), ch = unit_y * (crop[2] + crop[3]);
	if (w > 65536 || h > 65536 || cw >= w || ch >= h)
		return -EPROTO;
	out->width = (unsigned)(w - cw);
	out->height = (unsigned)(h - ch);
	return 0;
}

static int parse_rbsp(struct bitreader *br, struct h264_sps_info *out)
{
	out->profile_idc = br_u(br, 8);
	out->constraint_flags = br_u(br, 8);
	out->level_idc = br_u(br, 8);
	if (br_ue(br) > 31) /* seq_parameter_set_id */
		return -EPROTO;
	out->chroma_format_idc = 1;
	out->bit_depth = 8;
	bool separate_planes = false;
	if (high_profile(out->profile_idc))
		parse_high(br, out, &separate_planes);
	if (br_ue(br) > 12) /* log2_max_frame_num_minus4 */
		return -EPROTO;
	skip_poc(br);
	(void)br_ue(br); /* max_num_ref_frames */
	br_skip(br, 1);  /* gaps_in_frame_num_value_allowed_flag */
	if (br->err || set_size(out, br, separate_planes))
		return -EPROTO;
	if (br_u1(br)) /* vui_parameters_present_flag */
		parse_vui(br, out);
	return 0;
}

int h264_parse_sps(const uint8_t *nal, size_t len, struct h264_sps_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!nal || len < 4 || (nal[0] & 0x1f) != 7 || (nal[0] & 0x80))
		return -EPROTO;
	uint8_t rbsp[SPS_MAX_BYTES];
	size_t n = len - 1 > sizeof(rbsp) ? sizeof(rbsp) : len - 1;
	n = br_unescape(rbsp, nal + 1, n);
	struct bitreader br;
	br_init(&br, rbsp, n);
	int rc = parse_rbsp(&br, out);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* Reads `count` u16-length-prefixed NAL units starting at *pos. */
static int read_nal_list(const uint8_t *p, size_t len, size_t *pos, unsigned count,
			 const uint8_t **nal, size_t *nal_len)
{
	for (unsigned i = 0; i < count; i++) {
		if (len - *pos < 2)
			return -EPROTO;
		size_t n = rd_be16(p + *pos);
		*pos += 2;
		if (len - *pos < n)
			return -EPROTO;
		nal[i] = p + *pos;
		nal_len[i] = n;
		*pos += n;
	}
	return 0;
}

int h264_parse_avcc(const uint8_t *p, size_t len, struct h264_avcc *out)
{
	memset(out, 0, sizeof(*out));
	if (!p || len < 6 || p[0] != 1)
		return -EPROTO;
	out->profile = p[1];
	out->compat = p[2];
	out->level = p[3];
	out->nal_length_size = (p[4] & 3) + 1;
	if (out->nal_length_size == 3)
		goto fail;
	out->nsps = p[5] & 0x1f;
	size_t pos = 6;
	if (read_nal_list(p, len, &pos, out->nsps, out->sps, out->sps_len))
		goto fail;
	/* Tolerate records that stop right after the SPS list. */
	if (pos < len) {
		out->npps = p[pos++];
		if (read_nal_list(p, len, &pos, out->npps, out->pps, out->pps_len))
			goto fail;
	}
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return -EPROTO;
}
