/* Elementary streams of the TS demuxer: PES payloads to frames and track
 * configs. H.264/H.265 (Annex B), AAC in ADTS or LATM/LOAS, MPEG audio
 * layer III, Opus (ETSI TS 102 366 style control headers). */
#include <errno.h>
#include <string.h>

#include "format/adts.h"
#include "format/ts-t.h"
#include "media/aac.h"
#include "media/annexb.h"
#include "media/bitreader.h"
#include "media/h264.h"
#include "media/h265.h"

/* An audio frame split across PES packets is kept up to this size. */
#define ES_MAX_CARRY (64 * 1024)

/* ---------------- setup ---------------- */

static enum codec type_codec(uint8_t type, const uint8_t *desc, size_t len)
{
	switch (type) {
	case TS_TYPE_H264:
		return CODEC_H264;
	case TS_TYPE_H265:
		return CODEC_H265;
	case TS_TYPE_AAC_ADTS:
	case TS_TYPE_AAC_LATM:
		return CODEC_AAC;
	case TS_TYPE_MPEG1_AUDIO:
	case TS_TYPE_MPEG2_AUDIO:
		return CODEC_MP3;
	case TS_TYPE_PRIVATE_PES:
		/* Private data is Opus only with the "Opus" registration. */
		for (size_t i = 0; len - i >= 2 && len - i - 2 >= desc[i + 1]; i += 2 + desc[i + 1])
			if (desc[i] == TS_DESC_REGISTRATION && desc[i + 1] >= 4 &&
			    rd_be32(desc + i + 2) == TS_FOURCC_OPUS)
				return CODEC_OPUS;
		return CODEC_NONE;
	default:
		return CODEC_NONE;
	}
}

/* Language and the Opus channel code from the descriptors. */
static void read_descriptors(const uint8_t *desc, size_t len, char lang[4], int *opus_code)
{
	for (size_t i = 0; len - i >= 2 && len - i - 2 >= desc[i + 1]; i += 2 + desc[i + 1]) {
		const uint8_t *d = desc + i + 2;
		unsigned dlen = desc[i + 1];
		if (desc[i] == TS_DESC_LANGUAGE && dlen >= 4) {
			for (int k = 0; k < 3; k++)
				lang[k] = d[k] >= 'a' && d[k] <= 'z' ? (char)d[k] : 0;
			if (!lang[0] || !lang[1] || !lang[2])
				memset(lang, 0, 4);
		} else if (desc[i] == TS_DESC_DVB_EXTENSION && dlen >= 2 &&
			   d[0] == TS_DVB_EXT_OPUS) {
			*opus_code = d[1];
		}
	}
}

void ts_pes_clear(struct ts_es *es)
{
	track_clear(&es->trk);
	bytes_free(&es->carry);
	for (int i = 0; i < 3; i++)
		bytes_free(&es->ps[i]);
	es->codec = CODEC_NONE;
	es->stream_type = 0;
	es->dirty = false;
	es->clk_base_us = 0;
	es->clk_samples = 0;
	es->clk_rate = 0;
	es->opus_code = 0;
}

static bool opus_setup(struct ts_es *es, int code)
{
	if (code < 0)
		code = 2; /* no extension descriptor: assume stereo */
	if (es->trk.codec == CODEC_OPUS && es->opus_code == code)
		return true;
	struct bytes head = {0};
	unsigned ch;
	if (ts_opus_head((uint8_t)code, &head, &ch))
		goto fail;
	struct wbuf *cfg = wbuf_from(head.data, head.len);
	bytes_free(&head);
	if (!cfg)
		goto fail;
	wbuf_unref(es->trk.config);
	es->trk.config = cfg;
	es->trk.codec = CODEC_OPUS;
	es->trk.type = TRACK_AUDIO;
	es->trk.rate = 48000;
	es->trk.channels = ch;
	es->trk.bits = 16;
	es->opus_code = (uint8_t)code;
	es->dirty = true;
	return true;
fail:
	bytes_free(&head);
	ts_pes_clear(es);
	return false;
}

bool ts_pes_setup(struct ts_es *es, uint8_t stream_type, const uint8_t *desc, size_t desc_len)
{
	enum codec c = type_codec(stream_type, desc, desc_len);
	if (c != es->codec || stream_type != es->stream_type)
		ts_pes_clear(es);
	if (c == CODEC_NONE)
		return false;
	es->codec = c;
	es->stream_type = stream_type;
	char lang[4] = {0};
	int code = -1;
	read_descriptors(desc, desc_len, lang, &code);
	if (memcmp(lang, es->trk.lang, sizeof(lang))) {
		memcpy(es->trk.lang, lang, sizeof(lang));
		es->dirty = es->trk.codec != CODEC_NONE;
	}
	return c == CODEC_OPUS ? opus_setup(es, code) : true;
}

/* ---------------- video ---------------- */

/* Fills the video fields of trk from the first SPS of ps. */
static void video_info(struct track *trk, enum codec c, const struct annexb_ps *ps)
{
	trk->width = trk->height = trk->fps_milli = trk->profile = trk->level = 0;
	trk->has_bframes = false;
	if (c == CODEC_H264) {
		struct h264_sps_info s;
		if (h264_parse_sps(ps->sps[0], ps->sps_len[0], &s))
			return;
		trk->width = s.width;
		trk->height = s.height;
		trk->profile = s.profile_idc;
		trk->level = s.level_idc;
		if (s.fps_den)
			trk->fps_milli = (uint32_t)((uint64_t)s.fps_num * 1000 / s.fps_den);
		trk->has_bframes = s.max_num_reorder > 0;
	} else {
		struct h265_sps_info s;
		if (h265_parse_sps(ps->sps[0], ps->sps_len[0], &s))
			return;
		trk->width = s.width;
		trk->height = s.height;
		trk->profile = s.profile_idc;
		trk->level = s.level_idc;
	}
}

/* The access unit's parameter sets replace the remembered ones of their
 * kind; a changed record updates the track. 0 or -ENOMEM. */
static int video_params(struct ts_es *es, const struct annexb_ps *au)
{
	const uint8_t *const *lists[3] = {au->vps, au->sps, au->pps};
	const size_t *lens[3] = {au->vps_len, au->sps_len, au->pps_len};
	unsigned counts[3] = {au->nvps, au->nsps, au->npps};
	for (int k = 0; k < 3; k++) {
		if (!counts[k])
			continue;
		bytes_reset(&es->ps[k]);
		for (unsigned i = 0; i < counts[k]; i++)
			if (annexb_put_nal(&es->ps[k], lists[k][i], lens[k][i]))
				return -ENOMEM;
	}
	struct annexb_ps all = {0};
	for (int k = 0; k < 3; k++) {
		size_t pos = 0, n;
		const uint8_t *nal;
		while (annexb_next(es->ps[k].data, es->ps[k].len, &pos, &nal, &n))
			(void)annexb_ps_add(&all, es->codec, nal, n);
	}
	struct bytes rec = {0};
	int rc = annexb_make_config(es->codec, &all, &rec);
	if (rc) {
		bytes_free(&rec);
		return rc == -ENOMEM ? rc : 0; /* incomplete so far */
	}
	struct wbuf *cfg = NULL;
	if (es->trk.config && es->trk.config->len == rec.len &&
	    !memcmp(es->trk.config->data, rec.data, rec.len)) {
		bytes_free(&rec);
		return 0;
	}
	cfg = wbuf_from(rec.data, rec.len);
	bytes_free(&rec);
	if (!cfg)
		return -ENOMEM;
	wbuf_unref(es->trk.config);
	es->trk.config = cfg;
	es->trk.codec = es->codec;
	es->trk.type = TRACK_VIDEO;
	video_info(&es->trk, es->codec, &all);
	es->dirty = true;
	return 0;
}

static bool nal_dropped(enum codec c, int type)
{
	if (c == CODEC_H264)
		return type == ANNEXB_H264_AUD || type == ANNEXB_H264_FILLER ||
		       type == ANNEXB_H264_SPS || type == ANNEXB_H264_PPS;
	return type == ANNEXB_H265_AUD || type == ANNEXB_H265_FILLER || type == ANNEXB_H265_VPS ||
	       type == ANNEXB_H265_SPS || type == ANNEXB_H265_PPS;
}

static bool nal_key(enum codec c, int type)
{
	if (c == CODEC_H264)
		return type == ANNEXB_H264_IDR;
	return type >= ANNEXB_H265_IRAP_FIRST && type <= ANNEXB_H265_IRAP_LAST;
}

/* One PES = one access unit: parameter sets go to the config, AUD and
 * filler are dropped, the rest becomes a length-prefixed frame. Frames
 * before the first complete config are dropped (undecodable). */
static int video_payload(struct ts_demux *d, struct ts_es *es, const uint8_t *p, size_t len,
			 int64_t dts_us, int64_t pts_us, bool damaged)
{
	struct annexb_ps au = {0};
	size_t pos = 0, n, size = 0;
	const uint8_t *nal;
	bool key = false;
	while (annexb_next(p, len, &pos, &nal, &n)) {
		int type = annexb_nal_type(es->codec, nal, n);
		if (type < 0)
			continue;
		if (annexb_ps_add(&au, es->codec, nal, n) == 0 && !nal_dropped(es->codec, type)) {
			size += 4 + n;
			key |= nal_key(es->codec, type);
		}
	}
	if (au.nvps + au.nsps + au.npps) {
		int rc = video_params(es, &au);
		if (rc)
			return rc;
	}
	if (!size || es->trk.codec == CODEC_NONE)
		return 0;
	unsigned flags = (key ? FRAME_KEY : 0) | (damaged ? FRAME_DAMAGED : 0);
	struct frame *f = frame_new(es->idx, dts_us, pts_us, flags, NULL, size);
	if (!f)
		return -ENOMEM;
	uint8_t *w = f->data;
	for (pos = 0; annexb_next(p, len, &pos, &nal, &n);) {
		int type = annexb_nal_type(es->codec, nal, n);
		if (type < 0 || nal_dropped(es->codec, type))
			continue;
		wr_be32(w, (uint32_t)n);
		memcpy(w + 4, nal, n);
		w += 4 + n;
	}
	return ts_demux_emit(d, es, f);
}

/* ---------------- audio ---------------- */

/* Audio frames get timestamps from a sample clock: the PES timestamp of
 * the first frame starting in the PES, plus the samples of the frames
 * before it, so no rounding error accumulates. */
static int64_t clock_now(const struct ts_es *es)
{
	if (!es->clk_rate)
		return es->clk_base_us;
	return es->clk_base_us +
	       (int64_t)((es->clk_samples * 1000000 + es->clk_rate / 2) / es->clk_rate);
}

static void clock_reset(struct ts_es *es, int64_t us)
{
	es->clk_base_us = us;
	es->clk_samples = 0;
}

static void clock_advance(struct ts_es *es, unsigned samples, unsigned rate)
{
	if (rate != es->clk_rate) {
		es->clk_base_us = clock_now(es);
		es->clk_samples = 0;
		es->clk_rate = rate;
	}
	es->clk_samples += samples;
}

enum { AU_MORE = 0, AU_DONE = 1, AU_NOSYNC = 2 };

/* What a frame parser reports back: the frame's timestamp and flags in,
 * its length and duration out. */
struct au {
	int64_t ts_us;
	bool damaged;
	size_t len;       /* bytes consumed */
	unsigned samples; /* duration */
	unsigned rate;
};

/* A frame parser looks at p[0..len): AU_NOSYNC when no frame starts at p,
 * AU_MORE when the frame is not complete, AU_DONE when it consumed (and
 * maybe emitted) a frame, or a negative callback/ENOMEM error. */
typedef int (*au_fn)(struct ts_demux *d, struct ts_es *es, const uint8_t *p, size_t len,
		     struct au *a);

/* Updates the track of an audio ES; marks it dirty when anything changed.
 * cfg may be NULL (MP3). 0 or -ENOMEM. */
static int audio_track(struct ts_es *es, const uint8_t *cfg, size_t cfg_len, unsigned rate,
		       unsigned channels)
{
	struct track *t = &es->trk;
	bool same_cfg =
	    cfg ? t->config && t->config->len == cfg_len && !memcmp(t->config->data, cfg, cfg_len)
		: !t->config;
	if (t->codec == es->codec && same_cfg && t->rate == rate && t->channels == channels)
		return 0;
	struct wbuf *b = NULL;
	if (cfg && !(b = wbuf_from(cfg, cfg_len)))
		return -ENOMEM;
	wbuf_unref(t->config);
	t->config = b;
	t->codec = es->codec;
	t->type = TRACK_AUDIO;
	t->rate = rate;
	t->channels = channels;
	t->bits = 16;
	es->dirty = true;
	return 0;
}

/* Every audio frame is a random access point (as RTMP ingest marks them;
 * fMP4 turns the flag into sync samples). */
static unsigned au_flags(const struct au *a)
{
	return FRAME_KEY | (a->damaged ? FRAME_DAMAGED : 0);
}

static int emit_audio(struct ts_demux *d, struct ts_es *es, const struct au *a, const uint8_t *data,
		      size_t len)
{
	struct frame *f = frame_new(es->idx, a->ts_us, a->ts_us, au_flags(a), data, len);
	if (!f)
		return -ENOMEM;
	return ts_demux_emit(d, es, f);
}

static unsigned aac_channels(unsigned config)
{
	return config == 7 ? 8 : config;
}

static int adts_frame(struct ts_demux *d, struct ts_es *es, const uint8_t *p, size_t len,
		      struct au *a)
{
	struct adts_header h;
	int rc = adts_parse(p, len, &h);
	if (rc == -EAGAIN)
		return AU_MORE;
	if (rc)
		return AU_NOSYNC;
	if (h.frame_len > len)
		return AU_MORE;
	a->len = h.frame_len;
	a->samples = 1024 * h.raw_blocks;
	a->rate = h.sample_rate;
	/* Several raw data blocks would need AAC syntax parsing to split:
	 * such frames are skipped (encoders do not write them). */
	if (h.raw_blocks != 1 || h.object_type > 4)
		return AU_DONE;
	uint8_t asc[2];
	adts_make_asc(&h, asc);
	if ((rc = audio_track(es, asc, sizeof(asc), h.sample_rate, aac_channels(h.channel_config))))
		return rc;
	rc = emit_audio(d, es, a, p + h.header_len, h.frame_len - h.header_len);
	return rc < 0 ? rc : AU_DONE;
}

/* MPEG audio: layer III frames become frames; layers I/II are skipped. */
static int mp3_frame(struct ts_demux *d, struct ts_es *es, const uint8_t *p, size_t len,
		     struct au *a)
{
	struct mp3_header h;
	if (len < 4)
		return AU_MORE;
	if (mp3_parse_header(p, len, &h) || h.frame_len < 4)
		return AU_NOSYNC;
	if (h.frame_len > len)
		return AU_MORE;
	a->len = h.frame_len;
	a->samples = h.frame_samples;
	a->rate = h.sample_rate;
	if (h.layer != 3)
		return AU_DONE;
	int rc = audio_track(es, NULL, 0, h.sample_rate, h.channels);
	if (!rc)
		rc = emit_audio(d, es, a, p, h.frame_len);
	return rc < 0 ? rc : AU_DONE;
}

/* Opus: opus_control_header (prefix 0x3FF, trim and extension flags,
 * au_size in 255-steps), then one Opus packet. Trims are not applied. */
static int opus_frame(struct ts_demux *d, struct ts_es *es, const uint8_t *p, size_t len,
		      struct au *a)
{
	static const unsigned silk_celt_ms10[4] = {1, 2, 4, 6}; /* 10 ms units */
	if (len < 2)
		return AU_MORE;
	if (p[0] != 0x7f || (p[1] & 0xe0) != 0xe0)
		return AU_NOSYNC;
	size_t pos = 2, size = 0;
	uint8_t b;
	do {
		if (pos >= len)
			return AU_MORE;
		b = p[pos++];
		size += b;
	} while (b == 0xff);
	pos += (p[1] & 0x10 ? 2 : 0) + (p[1] & 0x08 ? 2 : 0); /* start/end trim */
	if (p[1] & 0x04) {                                    /* control extension */
		if (pos >= len)
			return AU_MORE;
		pos += 1 + (size_t)p[pos];
	}
	if (pos > len || size > len - pos)
		return AU_MORE;
	a->len = pos + size;
	a->rate = 48000;
	a->samples = 0;
	if (!size || es->trk.codec != CODEC_OPUS)
		return AU_DONE;
	/* Duration from the TOC byte (RFC 6716 3.1). */
	const uint8_t *pkt = p + pos;
	unsigned cfg = pkt[0] >> 3, per;
	if (cfg < 12)
		per = 480 * silk_celt_ms10[cfg & 3];
	else if (cfg < 16)
		per = cfg & 1 ? 960 : 480;
	else
		per = 120u << (cfg & 3);
	unsigned count = (pkt[0] & 3) == 0  ? 1
			 : (pkt[0] & 3) < 3 ? 2
			 : size > 1         ? pkt[1] & 0x3f
					    : 0;
	a->samples = per * count;
	int rc = emit_audio(d, es, a, pkt, size);
	return rc < 0 ? rc : AU_DONE;
}

/* ---------------- LATM/LOAS (ISO 14496-3 1.7.3) ----------------
 * Supported: audioMuxVersion 0 and 1 (not audioMuxVersionA 1), one
 * program with one layer, allStreamsSameTimeFraming, frameLengthType 0
 * (byte lengths), any numSubFrames, AudioSpecificConfig of the GA object
 * types with a channel configuration (no PCE). Other configs drop the
 * stream's frames until a supported config arrives. */

static uint32_t latm_value(struct bitreader *br)
{
	unsigned n = br_u(br, 2);
	uint32_t v = 0;
	for (unsigned i = 0; i <= n; i++)
		v = v << 8 | br_u(br, 8);
	return v;
}

static unsigned latm_aot(struct bitreader *br)
{
	unsigned aot = br_u(br, 5);
	return aot == 31 ? 32 + br_u(br, 6) : aot;
}

static bool ga_aot(unsigned aot)
{
	return (aot >= 1 && aot <= 4) || aot == 6 || aot == 7 || aot == 17 ||
	       (aot >= 19 && aot <= 23);
}

/* Walks an AudioSpecificConfig (no sync extension: its end is not marked
 * in LATM version 0) and copies its bits to out, zero padded. Returns the
 * byte length or -EPROTO. */
static int latm_asc(struct bitreader *br, uint8_t *out, size_t cap)
{
	struct bitreader start = *br;
	unsigned aot = latm_aot(br);
	if (br_u(br, 4) == 15)
		br_skip(br, 24);
	unsigned channels = br_u(br, 4);
	if (aot == 5 || aot == 29) {
		if (br_u(br, 4) == 15)
			br_skip(br, 24);
		aot = latm_aot(br);
	}
	if (!ga_aot(aot) || !channels)
		return -EPROTO;
	br_skip(br, 1);          /* frameLengthFlag */
	if (br_u1(br))           /* dependsOnCoreCoder */
		br_skip(br, 14); /* coreCoderDelay */
	bool ext = br_u1(br);
	if (aot == 6 || aot == 20)
		br_skip(br, 3); /* layerNr */
	if (ext) {
		if (aot == 22)
			br_skip(br, 16); /* numOfSubFrame, layer_length */
		if (aot == 17 || aot == 19 || aot == 20 || aot == 23)
			br_skip(br, 3); /* resilience flags */
		br_skip(br, 1);         /* extensionFlag3 */
	}
	size_t bits = br->pos_bits - start.pos_bits;
	if (br->err || bits > cap * 8)
		return -EPROTO;
	memset(out, 0, cap);
	for (size_t i = 0; i < bits; i++)
		out[i / 8] |= (uint8_t)(br_u1(&start) << (7 - i % 8));
	return (int)((bits + 7) / 8);
}

/* StreamMuxConfig: 0, -EPROTO (unsupported/malformed) or -ENOMEM. */
static int latm_config(struct ts_es *es, struct bitreader *br)
{
	uint8_t asc[32];
	unsigned version = br_u1(br);
	if (version && br_u1(br)) /* audioMuxVersionA */
		return -EPROTO;
	if (version)
		(void)latm_value(br); /* taraBufferFullness */
	unsigned same_framing = br_u1(br), subframes = br_u(br, 6);
	unsigned programs = br_u(br, 4), layers = br_u(br, 3);
	if (!same_framing || programs || layers)
		return -EPROTO;
	int asc_len;
	if (version) {
		uint32_t bits = latm_value(br);
		size_t before = br->pos_bits;
		asc_len = latm_asc(br, asc, sizeof(asc));
		if (asc_len < 0 || br->pos_bits - before > bits)
			return -EPROTO;
		br_skip(br, bits - (br->pos_bits - before)); /* fillBits */
	} else {
		asc_len = latm_asc(br, asc, sizeof(asc));
	}
	if (asc_len < 0 || br_u(br, 3) != 0) /* frameLengthType */
		return -EPROTO;
	br_skip(br, 8);  /* latmBufferFullness */
	if (br_u1(br)) { /* otherDataPresent: its length (the data ends the element) */
		if (version) {
			(void)latm_value(br);
		} else {
			unsigned esc;
			do {
				esc = br_u1(br);
				br_skip(br, 8);
			} while (esc && !br->err);
		}
	}
	if (br_u1(br)) /* crcCheckPresent */
		br_skip(br, 8);
	struct aac_asc a;
	if (br->err || aac_parse_asc(asc, (size_t)asc_len, &a))
		return -EPROTO;
	es->latm_subframes = (uint8_t)subframes;
	es->latm_samples = a.frame_samples;
	es->latm_ready = true;
	return audio_track(es, asc, (size_t)asc_len, a.sample_rate, a.channels);
}

static int latm_frame(struct ts_demux *d, struct ts_es *es, const uint8_t *p, size_t len,
		      struct au *a)
{
	if (len < 3)
		return AU_MORE;
	if (p[0] != 0x56 || (p[1] & 0xe0) != 0xe0) /* syncword 0x2B7 */
		return AU_NOSYNC;
	size_t flen = 3 + ((size_t)(p[1] & 0x1f) << 8 | p[2]);
	if (flen > len)
		return AU_MORE;
	a->len = flen;
	a->rate = es->trk.rate;
	struct bitreader br;
	br_init(&br, p + 3, flen - 3);
	if (!br_u1(&br)) { /* useSameStreamMux = 0 */
		int rc = latm_config(es, &br);
		if (rc == -ENOMEM)
			return rc;
		if (rc)
			es->latm_ready = false;
		a->rate = es->trk.rate;
	}
	if (!es->latm_ready)
		return AU_DONE;
	struct au sub = *a;
	for (unsigned i = 0; i <= es->latm_subframes; i++) {
		size_t n = 0;
		unsigned t;
		do {
			t = br_u(&br, 8);
			n += t;
		} while (t == 255 && !br.err);
		if (br.err || n * 8 > br_left(&br))
			break;
		struct frame *f = frame_new(es->idx, sub.ts_us, sub.ts_us, au_flags(a), NULL, n);
		if (!f)
			return -ENOMEM;
		for (size_t k = 0; k < n; k++)
			f->data[k] = (uint8_t)br_u(&br, 8);
		int rc = ts_demux_emit(d, es, f);
		if (rc < 0)
			return rc;
		a->samples += es->latm_samples;
		sub.ts_us =
		    a->ts_us + (int64_t)((uint64_t)a->samples * 1000000 / (a->rate ? a->rate : 1));
	}
	return AU_DONE;
}

/* ---------------- dispatch ---------------- */

/* Splits audio frames out of the carried bytes plus this PES. The first
 * frame that starts in this PES takes its timestamp; a partial frame at
 * the end is carried to the next PES. */
static int audio_payload(struct ts_demux *d, struct ts_es *es, au_fn fn, const uint8_t *p,
			 size_t len, bool has_ts, int64_t dts_us, bool damaged)
{
	size_t carried = es->carry.len, pos = 0;
	const uint8_t *buf = p;
	size_t blen = len;
	if (carried) {
		if (bytes_append(&es->carry, p, len))
			return -ENOMEM;
		buf = es->carry.data;
		blen = es->carry.len;
	}
	bool pending_ts = has_ts;
	int rc = 0;
	while (pos < blen) {
		if (pending_ts && pos >= carried) {
			clock_reset(es, dts_us);
			pending_ts = false;
		}
		struct au a = {.ts_us = clock_now(es), .damaged = damaged, .rate = es->clk_rate};
		rc = fn(d, es, buf + pos, blen - pos, &a);
		if (rc < 0 || rc == AU_MORE)
			break;
		if (rc == AU_NOSYNC) {
			pos++;
			continue;
		}
		clock_advance(es, a.samples, a.rate);
		pos += a.len;
	}
	if (buf == es->carry.data)
		bytes_consume(&es->carry, pos);
	else if (pos < blen && bytes_append(&es->carry, buf + pos, blen - pos))
		return -ENOMEM;
	if (es->carry.len > ES_MAX_CARRY)
		bytes_reset(&es->carry);
	return rc < 0 ? rc : 0;
}

int ts_pes_payload(struct ts_demux *d, struct ts_es *es, const uint8_t *p, size_t len, bool has_ts,
		   int64_t dts_us, int64_t pts_us, bool damaged)
{
	switch (es->codec) {
	case CODEC_H264:
	case CODEC_H265:
		if (!has_ts)
			dts_us = pts_us = es->clk_base_us; /* repeat the last DTS */
		es->clk_base_us = dts_us;
		return video_payload(d, es, p, len, dts_us, pts_us, damaged);
	case CODEC_AAC:
		return audio_payload(d, es,
				     es->stream_type == TS_TYPE_AAC_LATM ? latm_frame : adts_frame,
				     p, len, has_ts, dts_us, damaged);
	case CODEC_MP3:
		return audio_payload(d, es, mp3_frame, p, len, has_ts, dts_us, damaged);
	case CODEC_OPUS:
		return audio_payload(d, es, opus_frame, p, len, has_ts, dts_us, damaged);
	default:
		return 0;
	}
}
