/* H.264/H.265 byte stream format (Annex B start codes) and the 4-byte
 * length-prefixed form frames carry; parameter sets between Annex B, avcC
 * (ISO 14496-15 5.3.3.1) and hvcC (ISO 14496-15 8.3.3.1). Pure, safe on
 * arbitrary bytes. */
#ifndef WEIR_MEDIA_ANNEXB_H
#define WEIR_MEDIA_ANNEXB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "media/track.h"

/* NAL unit types this module and its users care about. */
enum {
	ANNEXB_H264_SLICE = 1,
	ANNEXB_H264_IDR = 5,
	ANNEXB_H264_SEI = 6,
	ANNEXB_H264_SPS = 7,
	ANNEXB_H264_PPS = 8,
	ANNEXB_H264_AUD = 9,
	ANNEXB_H264_FILLER = 12,
	ANNEXB_H265_IRAP_FIRST = 16, /* BLA_W_LP .. RSV_IRAP_VCL23 are IRAP */
	ANNEXB_H265_IRAP_LAST = 23,
	ANNEXB_H265_VPS = 32,
	ANNEXB_H265_SPS = 33,
	ANNEXB_H265_PPS = 34,
	ANNEXB_H265_AUD = 35,
	ANNEXB_H265_FILLER = 38,
};

/* Most parameter sets of one kind kept in a set (more are refused). */
#define ANNEXB_MAX_PS 16

/* Parameter sets by kind. Pointers refer to caller memory (the input of the
 * function that filled the set); nothing here is owned. */
struct annexb_ps {
	const uint8_t *vps[ANNEXB_MAX_PS], *sps[ANNEXB_MAX_PS], *pps[ANNEXB_MAX_PS];
	size_t vps_len[ANNEXB_MAX_PS], sps_len[ANNEXB_MAX_PS], pps_len[ANNEXB_MAX_PS];
	unsigned nvps, nsps, npps;
};

/* NAL unit type of nal[0..len) (H.264: 5 bits, H.265: 6 bits of the
 * header); -1 when len is too short or the codec is neither. */
int annexb_nal_type(enum codec codec, const uint8_t *nal, size_t len);

/* Iterates over the NAL units of Annex B data p[0..len): start with
 * *pos = 0; each call stores the next NAL unit (without start code and
 * without trailing zero bytes) in *nal and *nal_len and returns true, or
 * returns false at the end. Bytes before the first start code are
 * skipped; empty NAL units are skipped. */
bool annexb_next(const uint8_t *p, size_t len, size_t *pos, const uint8_t **nal, size_t *nal_len);

/* Appends Annex B data p[0..len) as 4-byte length-prefixed NAL units.
 * 0 or -ENOMEM. */
int annexb_to_lp(const uint8_t *p, size_t len, struct bytes *out);

/* Appends length-prefixed NAL units (nal_length_size 1, 2 or 4) as Annex
 * B with 4-byte start codes. -EINVAL (bad size), -EPROTO (a length runs
 * past the end; nothing is appended then) or -ENOMEM. */
int annexb_from_lp(const uint8_t *p, size_t len, unsigned nal_length_size, struct bytes *out);

/* Appends one NAL unit with a 4-byte start code. 0 or -ENOMEM. */
int annexb_put_nal(struct bytes *out, const uint8_t *nal, size_t len);

/* Adds nal to the set when it is a VPS/SPS/PPS of codec: 1 when added, 0
 * when it is not a parameter set, -ENOSPC when that kind is full. The set
 * keeps the pointer. */
int annexb_ps_add(struct annexb_ps *ps, enum codec codec, const uint8_t *nal, size_t len);

/* Fills ps from an avcC (CODEC_H264) or hvcC (CODEC_H265) record; the
 * pointers point into cfg. Also returns the record's NAL length size when
 * nal_length_size is not NULL. 0, -EPROTO or -EINVAL (other codec). */
int annexb_ps_from_config(enum codec codec, const uint8_t *cfg, size_t len, struct annexb_ps *ps,
			  unsigned *nal_length_size);

/* Appends every parameter set of ps as Annex B (VPS, SPS, PPS order).
 * 0 or -ENOMEM. */
int annexb_ps_write(const struct annexb_ps *ps, struct bytes *out);

/* Builds the decoder configuration record for ps: an avcC (needs an SPS
 * and a PPS) or an hvcC (needs a VPS, an SPS and a PPS), NAL length size
 * 4, profile/level fields from the first SPS. Appends to out.
 * 0, -ENOENT (a required kind is missing), -EPROTO (SPS unreadable),
 * -EINVAL (codec) or -ENOMEM. */
int annexb_make_config(enum codec codec, const struct annexb_ps *ps, struct bytes *out);

#endif
