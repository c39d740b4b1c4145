/* fMP4/CMAF media fragments (ISO 14496-12 8.8: moof/mfhd/traf/tfhd/tfdt/
 * trun + mdat), track timescales and audio frame durations. */
#include "format/fmp4.h"

#include <errno.h>
#include <string.h>

#include "format/fmp4_priv.h"
#include "media/aac.h"

enum {
	TFHD_DEFAULT_SAMPLE_FLAGS = 0x000020,
	TFHD_DEFAULT_BASE_IS_MOOF = 0x020000,
	TRUN_DATA_OFFSET = 0x000001,
	TRUN_FIRST_SAMPLE_FLAGS = 0x000004,
	TRUN_SAMPLE_DURATION = 0x000100,
	TRUN_SAMPLE_SIZE = 0x000200,
	TRUN_SAMPLE_FLAGS = 0x000400,
	TRUN_SAMPLE_CTO = 0x000800,
	/* sample_flags (8.8.3.1): sample_depends_on 2 = depends on no other
	 * (an I picture), 1 = depends on others; is_non_sync_sample bit;
	 * sample_is_depended_on 2 = no other sample depends on this one. */
	SAMPLE_SYNC = 2 << 24,
	SAMPLE_NON_SYNC = 1 << 24 | 1 << 16,
	SAMPLE_NOT_DEPENDED_ON = 2 << 22,
	VIDEO_TIMESCALE = 90000,
	OPUS_TIMESCALE = 48000,
};

uint32_t fmp4_timescale(const struct track *t)
{
	if (t->type == TRACK_VIDEO || codec_type(t->codec) == TRACK_VIDEO)
		return VIDEO_TIMESCALE;
	if (t->codec == CODEC_OPUS)
		return OPUS_TIMESCALE;
	return t->rate ? t->rate : VIDEO_TIMESCALE; /* rate unknown: any clock */
}

/* Samples at 48 kHz in one Opus packet (RFC 6716 3.1/3.2), 0 if malformed
 * or longer than the 120 ms a packet may hold. */
static uint32_t opus_packet_samples(const uint8_t *p, size_t len)
{
	/* Frame size by TOC config: SILK 10/20/40/60 ms (0-11), Hybrid 10/20
	 * ms (12-15), CELT 2.5/5/10/20 ms (16-31). */
	static const uint16_t silk[4] = {480, 960, 1920, 2880};
	static const uint16_t celt[4] = {120, 240, 480, 960};
	if (!p || len < 1)
		return 0;
	unsigned config = p[0] >> 3, frames;
	uint32_t frame = config < 12   ? silk[config & 3]
			 : config < 16 ? silk[config & 1]
				       : celt[config & 3];
	switch (p[0] & 3) {
	case 0:
		frames = 1;
		break;
	case 1:
	case 2:
		frames = 2;
		break;
	default:
		if (len < 2)
			return 0;
		frames = p[1] & 0x3f;
		break;
	}
	uint32_t total = frame * frames;
	return total <= 5760 ? total : 0;
}

uint32_t fmp4_audio_frame_samples(const struct track *t, const struct frame *f)
{
	switch (t->codec) {
	case CODEC_AAC: {
		struct aac_asc a;
		if (!t->config)
			return 1024;
		return aac_parse_asc(t->config->data, t->config->len, &a) ? 0 : a.frame_samples;
	}
	case CODEC_MP3: {
		struct mp3_header h;
		if (!f || mp3_parse_header(f->data, f->len, &h))
			return 0;
		return h.frame_samples;
	}
	case CODEC_OPUS:
		return f ? opus_packet_samples(f->data, f->len) : 0;
	default:
		return 0;
	}
}

/* pts - dts in 90 kHz ticks, rounded to nearest and clamped to int32.
 * Composition offsets only occur on video, whose timescale is always
 * 90 kHz (fmp4_timescale). */
static int32_t cto_ticks(const struct frame *f)
{
	const int64_t limit_us = (int64_t)1 << 40; /* far beyond int32 ticks */
	int64_t d;
	if (__builtin_sub_overflow(f->pts_us, f->dts_us, &d) || d > limit_us || d < -limit_us)
		return f->pts_us > f->dts_us ? INT32_MAX : INT32_MIN;
	int64_t ticks = (d * 9 + (d >= 0 ? 50 : -50)) / 100;
	if (ticks > INT32_MAX)
		return INT32_MAX;
	if (ticks < INT32_MIN)
		return INT32_MIN;
	return (int32_t)ticks;
}

static uint32_t sample_flags(const struct frame *f)
{
	uint32_t v = (f->flags & FRAME_KEY) ? SAMPLE_SYNC : SAMPLE_NON_SYNC;
	if (f->flags & FRAME_DISCARDABLE)
		v |= SAMPLE_NOT_DEPENDED_ON;
	return v;
}

/* How sample flags are carried: all equal -> tfhd default only; all but
 * the first equal (a GOP) -> tfhd default + trun first_sample_flags;
 * otherwise per sample. */
struct trun_layout {
	uint32_t tfhd_flags, trun_flags;
	uint32_t default_flags, first_flags;
	bool version1;
	size_t per_sample_bytes;
};

static void plan_trun(const struct fmp4_sample *s, unsigned n, struct trun_layout *l)
{
	bool rest_equal = true, has_cto = false;
	for (unsigned i = 0; i < n; i++) {
		if (i >= 2 && sample_flags(s[i].f) != sample_flags(s[1].f))
			rest_equal = false;
		if (s[i].f->pts_us != s[i].f->dts_us)
			has_cto = true;
	}
	memset(l, 0, sizeof(*l));
	l->tfhd_flags = TFHD_DEFAULT_BASE_IS_MOOF;
	l->trun_flags = TRUN_DATA_OFFSET | TRUN_SAMPLE_DURATION | TRUN_SAMPLE_SIZE;
	l->per_sample_bytes = 8;
	uint32_t first = sample_flags(s[0].f), second = n > 1 ? sample_flags(s[1].f) : first;
	if (rest_equal) {
		l->tfhd_flags |= TFHD_DEFAULT_SAMPLE_FLAGS;
		l->default_flags = second;
		if (first != second) {
			l->trun_flags |= TRUN_FIRST_SAMPLE_FLAGS;
			l->first_flags = first;
		}
	} else {
		l->trun_flags |= TRUN_SAMPLE_FLAGS;
		l->per_sample_bytes += 4;
	}
	if (has_cto) {
		l->trun_flags |= TRUN_SAMPLE_CTO;
		l->per_sample_bytes += 4;
		l->version1 = true;
	}
}

/* Writes the moof; *offset_at receives where the trun data_offset is. */
static void write_moof(struct mp4_writer *w, uint32_t seq, unsigned track_id, uint64_t base,
		       const struct fmp4_sample *s, unsigned n, size_t *offset_at)
{
	struct trun_layout l;
	plan_trun(s, n, &l);
	size_t moof = mp4w_box(w, FOURCC('m', 'o', 'o', 'f'));
	size_t b = mp4w_full(w, FOURCC('m', 'f', 'h', 'd'), 0, 0);
	mp4w_u32(w, seq);
	mp4w_end(w, b);
	size_t traf = mp4w_box(w, FOURCC('t', 'r', 'a', 'f'));
	b = mp4w_full(w, FOURCC('t', 'f', 'h', 'd'), 0, l.tfhd_flags);
	mp4w_u32(w, track_id);
	if (l.tfhd_flags & TFHD_DEFAULT_SAMPLE_FLAGS)
		mp4w_u32(w, l.default_flags);
	mp4w_end(w, b);
	b = mp4w_full(w, FOURCC('t', 'f', 'd', 't'), 1, 0);
	mp4w_u64(w, base);
	mp4w_end(w, b);
	b = mp4w_full(w, FOURCC('t', 'r', 'u', 'n'), l.version1 ? 1 : 0, l.trun_flags);
	mp4w_u32(w, n);
	*offset_at = w->out->len;
	mp4w_u32(w, 0); /* data_offset, patched once the moof size is known */
	if (l.trun_flags & TRUN_FIRST_SAMPLE_FLAGS)
		mp4w_u32(w, l.first_flags);
	if (!w->err && (w->err = bytes_reserve(w->out, (size_t)n * l.per_sample_bytes)))
		return;
	for (unsigned i = 0; i < n; i++) {
		mp4w_u32(w, s[i].duration);
		mp4w_u32(w, (uint32_t)s[i].f->len);
		if (l.trun_flags & TRUN_SAMPLE_FLAGS)
			mp4w_u32(w, sample_flags(s[i].f));
		if (l.trun_flags & TRUN_SAMPLE_CTO)
			mp4w_u32(w, (uint32_t)cto_ticks(s[i].f));
	}
	mp4w_end(w, b);
	mp4w_end(w, traf);
	mp4w_end(w, moof);
}

int fmp4_fragment(uint32_t seq, unsigned track_id, uint64_t base_decode_time,
		  const struct fmp4_sample *s, unsigned n, struct bytes *out)
{
	if (!s || !n || !track_id || !out)
		return -EINVAL;
	uint64_t payload = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!s[i].f || s[i].f->len > UINT32_MAX)
			return -EINVAL;
		payload += s[i].f->len;
	}
	/* 16 bytes per sample at most in the trun: keep the moof in 32 bits. */
	if (n > (UINT32_MAX - 4096) / 16 || payload > UINT64_MAX - 16)
		return -EINVAL;
	struct mp4_writer w = {.out = out};
	size_t start = out->len, offset_at = 0;
	write_moof(&w, seq, track_id, base_decode_time, s, n, &offset_at);
	size_t moof_len = out->len - start;
	bool large = payload + 8 > UINT32_MAX;
	if (!w.err)
		wr_be32(out->data + offset_at, (uint32_t)(moof_len + (large ? 16 : 8)));
	if (large) {
		mp4w_u32(&w, 1);
		mp4w_u32(&w, FOURCC('m', 'd', 'a', 't'));
		mp4w_u64(&w, payload + 16);
	} else {
		mp4w_u32(&w, (uint32_t)(payload + 8));
		mp4w_u32(&w, FOURCC('m', 'd', 'a', 't'));
	}
	if (!w.err && payload <= SIZE_MAX)
		w.err = bytes_reserve(out, (size_t)payload);
	for (unsigned i = 0; i < n; i++)
		mp4w_put(&w, s[i].f->data, s[i].f->len);
	if (w.err) {
		out->len = start; /* appends all or nothing */
		if (out->data)
			out->data[start] = 0;
		return w.err;
	}
	return 0;
}
