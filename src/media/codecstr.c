/* RFC 6381 codecs parameters.
 *
 *  - H.264 (ISO 14496-15 / RFC 6381 3.3): "avc1." + avcC bytes 1..3
 *    (profile_idc, constraint flags, level_idc) as 6 lowercase hex digits.
 *  - H.265 (ISO 14496-15 Annex E): "hvc1." + [A|B|C]profile_idc + "." +
 *    the 32 compatibility flags bit-reversed, hex without leading zeros +
 *    "." + L|H level_idc + ".XX" per constraint byte (6 bytes, trailing
 *    zero bytes omitted, each without leading zero). Hex is uppercase as in
 *    the Annex E examples ("hvc1.1.6.L93.B0"); players parse either case.
 *  - AV1 (AV1 ISOBMFF binding, "Codecs Parameter String"): the short form
 *    "av01.P.LLT.DD" from av1C (seq_profile, seq_level_idx_0, seq_tier_0,
 *    high_bitdepth/twelve_bit).
 *  - VP9 (VP Codec ISO Media File Format, "Codecs Parameter String"): the
 *    short form "vp09.PP.LL.DD" from vpcC; VP8 is "vp8".
 *  - AAC: "mp4a.40." + the Audio Object Type the ASC signals (5 / 29 for
 *    HE-AAC v1 / v2 whether signalled explicitly or backward-compatibly);
 *    MP3 "mp4a.40.34"; Opus "opus".
 *
 * Without a usable config the track's profile/level fields are used, and
 * what those leave unknown (0) falls back to the header's example strings:
 * avc1.64001f (High 3.1), hvc1.1.6.L93.B0 (Main 3.1, progressive),
 * av01.0.04M.08 (Main 3.0, 8 bit), vp09.00.10.08 (profile 0 level 1). */
#include "media/codecstr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/bytes.h"
#include "media/aac.h"

enum {
	AVC_DEFAULT_PROFILE = 0x64,     /* High */
	AVC_DEFAULT_LEVEL = 0x1f,       /* 3.1 */
	HEVC_DEFAULT_PROFILE = 1,       /* Main */
	HEVC_DEFAULT_LEVEL = 93,        /* 3.1 (level * 30) */
	HEVC_DEFAULT_CONSTRAINT = 0xb0, /* progressive, non-packed, frame-only */
	AV1_DEFAULT_LEVEL = 4,          /* seq_level_idx 4 = 3.0 */
	VP9_DEFAULT_LEVEL = 10,         /* level 1 */
	AAC_DEFAULT_AOT = 2,            /* AAC-LC */
	HVCC_MIN_LEN = 13,              /* through general_level_idc */
	AV1C_MARKER_VERSION = 0x81,     /* marker 1, version 1 */
};

static const uint8_t *cfg_data(const struct track *t, size_t *len)
{
	*len = t->config ? t->config->len : 0;
	return t->config ? t->config->data : NULL;
}

static int avc_string(const struct track *t, char *buf, size_t n)
{
	size_t len;
	const uint8_t *c = cfg_data(t, &len);
	if (c && len >= 4 && c[0] == 1)
		return snprintf(buf, n, "avc1.%02x%02x%02x", c[1], c[2], c[3]);
	unsigned profile = t->profile ? t->profile : AVC_DEFAULT_PROFILE;
	unsigned level = t->level ? t->level : AVC_DEFAULT_LEVEL;
	return snprintf(buf, n, "avc1.%02x00%02x", profile & 0xff, level & 0xff);
}

static uint32_t reverse32(uint32_t v)
{
	uint32_t r = 0;
	for (int i = 0; i < 32; i++, v >>= 1)
		r = r << 1 | (v & 1);
	return r;
}

/* The Annex E string from its parts; constraints are the 6 bytes in
 * stream order. */
static int hevc_format(char *buf, size_t n, unsigned space, unsigned profile, uint32_t compat,
		       unsigned tier, unsigned level, const uint8_t constraints[6])
{
	static const char *const spaces[4] = {"", "A", "B", "C"};
	int o = snprintf(buf, n, "hvc1.%s%u.%X.%c%u", spaces[space & 3], profile, reverse32(compat),
			 tier ? 'H' : 'L', level);
	int last = 5;
	while (last >= 0 && !constraints[last])
		last--;
	for (int i = 0; i <= last && o > 0 && (size_t)o < n; i++)
		o += snprintf(buf + o, n - (size_t)o, ".%X", constraints[i]);
	return o;
}

static int hevc_string(const struct track *t, char *buf, size_t n)
{
	size_t len;
	const uint8_t *c = cfg_data(t, &len);
	if (c && len >= HVCC_MIN_LEN && c[0] == 1)
		return hevc_format(buf, n, c[1] >> 6, c[1] & 0x1f, rd_be32(c + 2), (c[1] >> 5) & 1,
				   c[12], c + 6);
	unsigned profile = t->profile ? t->profile : HEVC_DEFAULT_PROFILE;
	unsigned level = t->level ? t->level : HEVC_DEFAULT_LEVEL;
	/* compatibility flag j sits at bit 31 - j of the field */
	uint32_t compat = profile < 32 ? 0x80000000u >> profile : 0;
	if (profile == 1)
		compat |= 0x80000000u >> 2; /* a Main stream is also Main 10 */
	const uint8_t constraints[6] = {HEVC_DEFAULT_CONSTRAINT};
	return hevc_format(buf, n, 0, profile & 0x1f, compat, 0, level, constraints);
}

static int av1_string(const struct track *t, char *buf, size_t n)
{
	size_t len;
	const uint8_t *c = cfg_data(t, &len);
	if (c && len >= 4 && c[0] == AV1C_MARKER_VERSION) {
		unsigned profile = c[1] >> 5, level = c[1] & 0x1f, tier = c[2] >> 7;
		unsigned high = (c[2] >> 6) & 1, twelve = (c[2] >> 5) & 1;
		unsigned depth = high ? (profile == 2 && twelve ? 12 : 10) : 8;
		return snprintf(buf, n, "av01.%u.%02u%c.%02u", profile, level, tier ? 'H' : 'M',
				depth);
	}
	unsigned level = t->level ? t->level : AV1_DEFAULT_LEVEL;
	return snprintf(buf, n, "av01.%u.%02uM.08", t->profile & 7, level & 0x1f);
}

/* vpcC arrives as the box payload (version + flags first) or as the bare
 * record; the bare record's bytes 1..3 (level, bit depth...) are never all
 * zero, so version 0/1 followed by zero flags marks the FullBox form. */
static int vp9_string(const struct track *t, char *buf, size_t n)
{
	size_t len;
	const uint8_t *c = cfg_data(t, &len);
	if (c && len >= 7 && c[0] <= 1 && !c[1] && !c[2] && !c[3]) {
		c += 4;
		len -= 4;
	}
	unsigned depth = c && len >= 3 ? c[2] >> 4 : 0;
	unsigned profile = t->profile & 3;
	unsigned level = t->level && t->level <= 99 ? t->level : VP9_DEFAULT_LEVEL;
	if (depth == 8 || depth == 10 || depth == 12) {
		profile = c[0] & 3;
		if (c[1] && c[1] <= 99) /* 0 = not signalled */
			level = c[1];
	} else {
		depth = profile >= 2 ? 10 : 8;
	}
	return snprintf(buf, n, "vp09.%02u.%02u.%02u", profile, level, depth);
}

static int aac_string(const struct track *t, char *buf, size_t n)
{
	size_t len;
	const uint8_t *c = cfg_data(t, &len);
	struct aac_asc asc;
	unsigned aot = AAC_DEFAULT_AOT;
	if (c && !aac_parse_asc(c, len, &asc))
		aot = asc.object_type;
	return snprintf(buf, n, "mp4a.40.%u", aot);
}

int codec_string(const struct track *t, char *out, size_t len)
{
	if (!t)
		return -EINVAL;
	char buf[64];
	int n;
	switch (t->codec) {
	case CODEC_H264:
		n = avc_string(t, buf, sizeof(buf));
		break;
	case CODEC_H265:
		n = hevc_string(t, buf, sizeof(buf));
		break;
	case CODEC_AV1:
		n = av1_string(t, buf, sizeof(buf));
		break;
	case CODEC_VP8:
		n = snprintf(buf, sizeof(buf), "vp8");
		break;
	case CODEC_VP9:
		n = vp9_string(t, buf, sizeof(buf));
		break;
	case CODEC_AAC:
		n = aac_string(t, buf, sizeof(buf));
		break;
	case CODEC_MP3:
		n = snprintf(buf, sizeof(buf), "mp4a.40.34");
		break;
	case CODEC_OPUS:
		n = snprintf(buf, sizeof(buf), "opus");
		break;
	default:
		return -ENOTSUP;
	}
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL; /* cannot happen: every field is bounded */
	if (!out || (size_t)n >= len)
		return -ENOSPC;
	memcpy(out, buf, (size_t)n + 1);
	return n;
}
