/* Annex B (ITU-T H.264 Annex B, H.265 Annex B) byte streams, length-
 * prefixed NAL units, and avcC/hvcC records built from parameter sets. */
#include "media/annexb.h"

#include <errno.h>
#include <string.h>

#include "media/bitreader.h"
#include "media/h264.h"
#include "media/h265.h"

int annexb_nal_type(enum codec codec, const uint8_t *nal, size_t len)
{
	if (codec == CODEC_H264 && len >= 1)
		return nal[0] & 0x1f;
	if (codec == CODEC_H265 && len >= 2)
		return (nal[0] >> 1) & 0x3f;
	return -1;
}

/* Index of the first 00 00 01 at or after `from`, or len when none. */
static size_t find_start(const uint8_t *p, size_t len, size_t from)
{
	for (size_t i = from; len >= 3 && i <= len - 3; i++) {
		if (p[i + 2] > 1) {
			i += 2; /* no start code can begin at i, i+1 or i+2 */
			continue;
		}
		if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1)
			return i;
	}
	return len;
}

bool annexb_next(const uint8_t *p, size_t len, size_t *pos, const uint8_t **nal, size_t *nal_len)
{
	size_t i = *pos;
	while (i < len) {
		size_t s = find_start(p, len, i);
		if (s >= len)
			break;
		size_t b = s + 3;
		size_t e = find_start(p, len, b);
		size_t end = e;
		/* Zero bytes before a start code are trailing_zero_8bits (or
		 * the first byte of a 4-byte start code), not NAL data. */
		while (end > b && p[end - 1] == 0)
			end--;
		i = e;
		if (end > b) {
			*pos = e;
			*nal = p + b;
			*nal_len = end - b;
			return true;
		}
	}
	*pos = len;
	return false;
}

int annexb_put_nal(struct bytes *out, const uint8_t *nal, size_t len)
{
	static const uint8_t sc[4] = {0, 0, 0, 1};
	if (bytes_reserve(out, 4 + len))
		return -ENOMEM;
	bytes_append(out, sc, 4);
	bytes_append(out, nal, len);
	return 0;
}

int annexb_to_lp(const uint8_t *p, size_t len, struct bytes *out)
{
	size_t pos = 0, n;
	const uint8_t *nal;
	while (annexb_next(p, len, &pos, &nal, &n)) {
		if (n > UINT32_MAX || bytes_reserve(out, 4 + n))
			return -ENOMEM;
		bytes_put_be32(out, (uint32_t)n);
		bytes_append(out, nal, n);
	}
	return 0;
}

static size_t read_len(const uint8_t *p, unsigned size)
{
	size_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v = v << 8 | p[i];
	return v;
}

int annexb_from_lp(const uint8_t *p, size_t len, unsigned nal_length_size, struct bytes *out)
{
	if (nal_length_size != 1 && nal_length_size != 2 && nal_length_size != 4)
		return -EINVAL;
	/* Validate first so that a bad length leaves out untouched. */
	size_t pos = 0, total = 0;
	while (pos < len) {
		if (len - pos < nal_length_size)
			return -EPROTO;
		size_t n = read_len(p + pos, nal_length_size);
		pos += nal_length_size;
		if (n > len - pos)
			return -EPROTO;
		pos += n;
		total += n ? 4 + n : 0;
	}
	if (bytes_reserve(out, total))
		return -ENOMEM;
	for (pos = 0; pos < len;) {
		size_t n = read_len(p + pos, nal_length_size);
		pos += nal_length_size;
		if (n)
			annexb_put_nal(out, p + pos, n);
		pos += n;
	}
	return 0;
}

static int list_add(const uint8_t **list, size_t *lens, unsigned *n, const uint8_t *nal, size_t len)
{
	for (unsigned i = 0; i < *n; i++)
		if (lens[i] == len && !memcmp(list[i], nal, len))
			return 1; /* repeated parameter set */
	if (*n >= ANNEXB_MAX_PS)
		return -ENOSPC;
	list[*n] = nal;
	lens[*n] = len;
	(*n)++;
	return 1;
}

int annexb_ps_add(struct annexb_ps *ps, enum codec codec, const uint8_t *nal, size_t len)
{
	int type = annexb_nal_type(codec, nal, len);
	if (codec == CODEC_H264) {
		if (type == ANNEXB_H264_SPS)
			return list_add(ps->sps, ps->sps_len, &ps->nsps, nal, len);
		if (type == ANNEXB_H264_PPS)
			return list_add(ps->pps, ps->pps_len, &ps->npps, nal, len);
	} else if (codec == CODEC_H265) {
		if (type == ANNEXB_H265_VPS)
			return list_add(ps->vps, ps->vps_len, &ps->nvps, nal, len);
		if (type == ANNEXB_H265_SPS)
			return list_add(ps->sps, ps->sps_len, &ps->nsps, nal, len);
		if (type == ANNEXB_H265_PPS)
			return list_add(ps->pps, ps->pps_len, &ps->npps, nal, len);
	}
	return 0;
}

/* hvcC arrays (after the 23-byte head): type, count, u16-length NALs. */
static int hvcc_arrays(const uint8_t *p, size_t len, struct annexb_ps *ps)
{
	unsigned narrays = p[22];
	size_t pos = 23;
	for (unsigned a = 0; a < narrays; a++) {
		if (len - pos < 3)
			return -EPROTO;
		unsigned nnal = rd_be16(p + pos + 1);
		pos += 3;
		for (unsigned i = 0; i < nnal; i++) {
			if (len - pos < 2)
				return -EPROTO;
			size_t n = rd_be16(p + pos);
			pos += 2;
			if (len - pos < n)
				return -EPROTO;
			/* The NAL header says what it is; the array type is
			 * only a hint. Surplus sets are dropped. */
			(void)annexb_ps_add(ps, CODEC_H265, p + pos, n);
			pos += n;
		}
	}
	return 0;
}

int annexb_ps_from_config(enum codec codec, const uint8_t *cfg, size_t len, struct annexb_ps *ps,
			  unsigned *nal_length_size)
{
	memset(ps, 0, sizeof(*ps));
	if (codec == CODEC_H264) {
		struct h264_avcc avcc;
		if (h264_parse_avcc(cfg, len, &avcc))
			return -EPROTO;
		for (unsigned i = 0; i < avcc.nsps; i++)
			(void)list_add(ps->sps, ps->sps_len, &ps->nsps, avcc.sps[i],
				       avcc.sps_len[i]);
		for (unsigned i = 0; i < avcc.npps; i++)
			(void)list_add(ps->pps, ps->pps_len, &ps->npps, avcc.pps[i],
				       avcc.pps_len[i]);
		if (nal_length_size)
			*nal_length_size = avcc.nal_length_size;
		return 0;
	}
	if (codec != CODEC_H265)
		return -EINVAL;
	if (!cfg || len < 23 || (cfg[21] & 3) == 2 || hvcc_arrays(cfg, len, ps)) {
		memset(ps, 0, sizeof(*ps));
		return -EPROTO;
	}
	if (nal_length_size)
		*nal_length_size = (cfg[21] & 3) + 1;
	return 0;
}

int annexb_ps_write(const struct annexb_ps *ps, struct bytes *out)
{
	for (unsigned i = 0; i < ps->nvps; i++)
		if (annexb_put_nal(out, ps->vps[i], ps->vps_len[i]))
			return -ENOMEM;
	for (unsigned i = 0; i < ps->nsps; i++)
		if (annexb_put_nal(out, ps->sps[i], ps->sps_len[i]))
			return -ENOMEM;
	for (unsigned i = 0; i < ps->npps; i++)
		if (annexb_put_nal(out, ps->pps[i], ps->pps_len[i]))
			return -ENOMEM;
	return 0;
}

/* u16 count-or-length prefixed NAL list as avcC/hvcC carry them. */
static int put_nals(struct bytes *out, const uint8_t *const *nal, const size_t *len, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (len[i] > UINT16_MAX)
			return -EPROTO;
		if (bytes_put_be16(out, (uint16_t)len[i]) || bytes_append(out, nal[i], len[i]))
			return -ENOMEM;
	}
	return 0;
}

/* The first `want` RBSP bytes after a NAL header of hdr_len bytes; returns
 * how many were available. */
static size_t rbsp_head(const uint8_t *nal, size_t len, size_t hdr_len, uint8_t *dst, size_t want)
{
	uint8_t tmp[64];
	if (len <= hdr_len)
		return 0;
	size_t n = len - hdr_len;
	/* Every 3 escaped bytes give at least 2 RBSP bytes. */
	if (n > sizeof(tmp))
		n = sizeof(tmp);
	n = br_unescape(tmp, nal + hdr_len, n);
	n = n < want ? n : want;
	memcpy(dst, tmp, n);
	return n;
}

static bool high_profile_ext(unsigned profile)
{
	return profile == 100 || profile == 110 || profile == 122 || profile == 144;
}

static int make_avcc(const struct annexb_ps *ps, struct bytes *out)
{
	uint8_t head[3];
	if (!ps->nsps || !ps->npps)
		return -ENOENT;
	if (ps->nsps > 31 || rbsp_head(ps->sps[0], ps->sps_len[0], 1, head, 3) < 3)
		return -EPROTO;
	uint8_t fixed[6] = {1, head[0], head[1], head[2], 0xff, (uint8_t)(0xe0 | ps->nsps)};
	if (bytes_append(out, fixed, sizeof(fixed)))
		return -ENOMEM;
	int rc = put_nals(out, ps->sps, ps->sps_len, ps->nsps);
	if (rc)
		return rc;
	if (bytes_put_u8(out, (uint8_t)ps->npps))
		return -ENOMEM;
	if ((rc = put_nals(out, ps->pps, ps->pps_len, ps->npps)))
		return rc;
	struct h264_sps_info info;
	if (high_profile_ext(head[0]) && !h264_parse_sps(ps->sps[0], ps->sps_len[0], &info)) {
		/* chroma_format, bit depths (chroma assumed equal to luma),
		 * numOfSequenceParameterSetExt = 0. */
		uint8_t ext[4] = {(uint8_t)(0xfc | info.chroma_format_idc),
				  (uint8_t)(0xf8 | (info.bit_depth - 8)),
				  (uint8_t)(0xf8 | (info.bit_depth - 8)), 0};
		if (bytes_append(out, ext, sizeof(ext)))
			return -ENOMEM;
	}
	return 0;
}

static int put_array(struct bytes *out, unsigned type, const uint8_t *const *nal, const size_t *len,
		     unsigned n)
{
	/* array_completeness = 1, reserved = 0, NAL_unit_type */
	if (bytes_put_u8(out, (uint8_t)(0x80 | type)) || bytes_put_be16(out, (uint16_t)n))
		return -ENOMEM;
	return put_nals(out, nal, len, n);
}

static int make_hvcc(const struct annexb_ps *ps, struct bytes *out)
{
	uint8_t rbsp[13];
	struct h265_sps_info info;
	if (!ps->nvps || !ps->nsps || !ps->npps)
		return -ENOENT;
	if (rbsp_head(ps->sps[0], ps->sps_len[0], 2, rbsp, 13) < 13 ||
	    h265_parse_sps(ps->sps[0], ps->sps_len[0], &info))
		return -EPROTO;
	unsigned sub_layers = ((rbsp[0] >> 1) & 7) + 1, nested = rbsp[0] & 1;
	uint8_t head[23];
	head[0] = 1;
	memcpy(head + 1, rbsp + 1, 12); /* general profile_tier_level, byte aligned */
	head[13] = 0xf0;                /* min_spatial_segmentation_idc = 0 */
	head[14] = 0x00;
	head[15] = 0xfc; /* parallelismType = 0 (unknown) */
	head[16] = (uint8_t)(0xfc | info.chroma_format_idc);
	head[17] = (uint8_t)(0xf8 | (info.bit_depth - 8));
	head[18] = (uint8_t)(0xf8 | (info.bit_depth - 8)); /* chroma assumed = luma */
	head[19] = 0;                                      /* avgFrameRate = 0 */
	head[20] = 0;
	head[21] = (uint8_t)(sub_layers << 3 | nested << 2 | 3); /* lengthSizeMinusOne = 3 */
	head[22] = 3;
	if (bytes_append(out, head, sizeof(head)))
		return -ENOMEM;
	int rc = put_array(out, ANNEXB_H265_VPS, ps->vps, ps->vps_len, ps->nvps);
	if (!rc)
		rc = put_array(out, ANNEXB_H265_SPS, ps->sps, ps->sps_len, ps->nsps);
	if (!rc)
		rc = put_array(out, ANNEXB_H265_PPS, ps->pps, ps->pps_len, ps->npps);
	return rc;
}

int annexb_make_config(enum codec codec, const struct annexb_ps *ps, struct bytes *out)
{
	size_t mark = out->len;
	int rc = codec == CODEC_H264   ? make_avcc(ps, out)
		 : codec == CODEC_H265 ? make_hvcc(ps, out)
				       : -EINVAL;
	if (rc)
		out->len = mark; /* no partial record */
	return rc;
}
