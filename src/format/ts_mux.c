/* MPEG-TS muxer (ISO 13818-1): PAT/PMT, PES packetisation, PCR. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format/adts.h"
#include "format/ts-t.h"
#include "media/aac.h"
#include "media/annexb.h"

/* PCR runs this far behind the DTS it is taken from, so that frames of
 * other tracks interleaved slightly out of DTS order still arrive before
 * their decode time. */
#define MUX_PCR_DELAY_US 100000
/* A PCR step outside [0, this] is flagged as a discontinuity. */
#define MUX_PCR_JUMP_US 10000000

struct mux_es {
	bool on; /* listed in the PMT */
	struct track trk;
	uint16_t pid;
	uint8_t stream_type, stream_id;
	uint8_t cc;         /* next continuity counter */
	struct bytes ps;    /* video: the config's parameter sets, Annex B */
	struct aac_asc asc; /* AAC */
	uint8_t opus_code;
};

struct ts_mux {
	struct ts_mux_opts o;
	unsigned n;
	struct mux_es *es;
	int pcr_idx; /* -1: no track */
	uint8_t pat_cc, pmt_cc, version;
	bool pcr_sent;
	int64_t last_pcr_dts_us;
	struct bytes pes; /* scratch: the PES being packetised */
};

/* Fills es for track t (t may be NULL): 1 when muxed, 0 when t is not
 * muxable (unknown codec, unreadable AAC config), -ENOMEM. */
static int es_setup(struct mux_es *es, const struct track *t)
{
	track_clear(&es->trk);
	bytes_reset(&es->ps);
	es->on = false;
	if (!t)
		return 0;
	track_copy(&es->trk, t);
	const uint8_t *cfg = t->config ? t->config->data : NULL;
	size_t cfg_len = t->config ? t->config->len : 0;
	struct annexb_ps ps;
	switch (t->codec) {
	case CODEC_H264:
	case CODEC_H265:
		es->stream_type = t->codec == CODEC_H264 ? TS_TYPE_H264 : TS_TYPE_H265;
		es->stream_id = TS_SID_VIDEO;
		/* No usable config: the frames must carry their own. */
		if (!annexb_ps_from_config(t->codec, cfg, cfg_len, &ps, NULL) &&
		    annexb_ps_write(&ps, &es->ps))
			return -ENOMEM;
		break;
	case CODEC_AAC:
		if (aac_parse_asc(cfg, cfg_len, &es->asc))
			return 0;
		es->stream_type = TS_TYPE_AAC_ADTS;
		es->stream_id = TS_SID_AUDIO;
		break;
	case CODEC_MP3:
		/* MPEG-2 (half rate) audio has its own stream type. */
		es->stream_type =
		    t->rate && t->rate < 32000 ? TS_TYPE_MPEG2_AUDIO : TS_TYPE_MPEG1_AUDIO;
		es->stream_id = TS_SID_AUDIO;
		break;
	case CODEC_OPUS:
		es->stream_type = TS_TYPE_PRIVATE_PES;
		es->stream_id = TS_SID_PRIVATE_1;
		es->opus_code = ts_opus_code(cfg, cfg_len, t->channels);
		break;
	default:
		return 0;
	}
	es->on = true;
	return 1;
}

static void pick_pcr(struct ts_mux *m)
{
	m->pcr_idx = -1;
	for (unsigned i = 0; i < m->n; i++) {
		if (!m->es[i].on)
			continue;
		if (m->es[i].trk.type == TRACK_VIDEO) {
			m->pcr_idx = (int)i;
			return;
		}
		if (m->pcr_idx < 0)
			m->pcr_idx = (int)i;
	}
}

struct ts_mux *ts_mux_new(const struct track *const *tracks, unsigned n,
			  const struct ts_mux_opts *opts)
{
	struct ts_mux *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	if (opts)
		m->o = *opts;
	if (!m->o.pmt_pid || m->o.pmt_pid >= TS_PID_NULL)
		m->o.pmt_pid = 0x1000;
	if (!m->o.first_pid || m->o.first_pid >= TS_PID_NULL)
		m->o.first_pid = 0x100;
	if (!m->o.program)
		m->o.program = 1;
	if (!m->o.pcr_interval_ms)
		m->o.pcr_interval_ms = 40;
	m->n = n;
	if (n && !(m->es = calloc(n, sizeof(*m->es))))
		goto fail;
	unsigned on = 0;
	for (unsigned i = 0; i < n; i++) {
		struct mux_es *es = &m->es[i];
		unsigned pid = m->o.first_pid + i;
		es->pid = (uint16_t)(pid < TS_PID_NULL ? pid : TS_PID_NULL);
		/* PIDs past the null PID or the PMT's, or more than the PMT
		 * lists, leave the track out. */
		if (es->pid >= TS_PID_NULL || es->pid == m->o.pmt_pid || on >= TS_MAX_TRACKS)
			continue;
		int rc = es_setup(es, tracks ? tracks[i] : NULL);
		if (rc < 0)
			goto fail;
		on += (unsigned)rc;
	}
	pick_pcr(m);
	return m;
fail:
	ts_mux_free(m);
	return NULL;
}

void ts_mux_free(struct ts_mux *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < m->n; i++) {
		track_clear(&m->es[i].trk);
		bytes_free(&m->es[i].ps);
	}
	free(m->es);
	bytes_free(&m->pes);
	free(m);
}

int ts_mux_update_track(struct ts_mux *m, unsigned idx, const struct track *t)
{
	if (!m || idx >= m->n)
		return -EINVAL;
	struct mux_es *es = &m->es[idx];
	if (es->pid >= TS_PID_NULL || es->pid == m->o.pmt_pid)
		return 0;
	bool was_on = es->on;
	uint8_t old_type = es->stream_type, old_code = es->opus_code;
	char old_lang[4];
	memcpy(old_lang, es->trk.lang, sizeof(old_lang));
	unsigned count = 0;
	for (unsigned i = 0; i < m->n; i++)
		count += m->es[i].on && i != idx;
	if (count >= TS_MAX_TRACKS)
		t = NULL;
	int rc = es_setup(es, t);
	if (was_on != es->on || old_type != es->stream_type || old_code != es->opus_code ||
	    memcmp(old_lang, es->trk.lang, sizeof(old_lang))) {
		m->version = (m->version + 1) & 31;
		pick_pcr(m);
	}
	return rc < 0 ? rc : 0;
}

/* ---------------- PSI ---------------- */

/* Appends a section as packets of pid: pointer_field 0 in the first, the
 * rest of each packet filled with 0xFF. */
static int put_section(struct bytes *out, uint16_t pid, uint8_t *cc, const uint8_t *sec, size_t len)
{
	size_t pos = 0;
	bool first = true;
	while (pos < len) {
		uint8_t *pkt;
		if (bytes_reserve(out, TS_PACKET))
			return -ENOMEM;
		pkt = out->data + out->len;
		pkt[0] = TS_SYNC;
		pkt[1] = (uint8_t)((first ? 0x40 : 0) | pid >> 8);
		pkt[2] = (uint8_t)pid;
		pkt[3] = (uint8_t)(0x10 | *cc);
		*cc = (*cc + 1) & 15;
		size_t off = 4;
		if (first)
			pkt[off++] = 0; /* pointer_field */
		size_t n = len - pos < TS_PACKET - off ? len - pos : TS_PACKET - off;
		memcpy(pkt + off, sec + pos, n);
		memset(pkt + off + n, 0xff, TS_PACKET - off - n);
		out->len += TS_PACKET;
		pos += n;
		first = false;
	}
	return 0;
}

/* Patches section_length and appends the CRC. */
static int end_section(struct bytes *s)
{
	size_t slen = s->len - 3 + 4;
	s->data[1] = (uint8_t)(0xb0 | slen >> 8); /* syntax 1, '0', reserved */
	s->data[2] = (uint8_t)slen;
	return bytes_put_be32(s, ts_crc32(s->data, s->len));
}

/* Common head of a long-form section: table_id, length (patched later),
 * id, version/current_next, section numbers 0/0. */
static int start_section(struct bytes *s, uint8_t table, uint16_t id, uint8_t version)
{
	uint8_t h[8] = {
	    table, 0, 0, (uint8_t)(id >> 8), (uint8_t)id, (uint8_t)(0xc1 | version << 1), 0, 0};
	return bytes_append(s, h, sizeof(h));
}

static int es_descriptors(const struct mux_es *es, struct bytes *s)
{
	int rc = 0;
	const char *l = es->trk.lang;
	if (l[0] && l[1] && l[2]) {
		uint8_t d[6] = {TS_DESC_LANGUAGE, 4, (uint8_t)l[0], (uint8_t)l[1],
				(uint8_t)l[2],    0};
		rc |= bytes_append(s, d, sizeof(d));
	}
	if (es->trk.codec == CODEC_H265) {
		/* As ffmpeg writes it; some older demuxers look for it. */
		uint8_t d[6] = {TS_DESC_REGISTRATION, 4, 'H', 'E', 'V', 'C'};
		rc |= bytes_append(s, d, sizeof(d));
	}
	if (es->trk.codec == CODEC_OPUS) {
		uint8_t d[10] = {TS_DESC_REGISTRATION,
				 4,
				 'O',
				 'p',
				 'u',
				 's',
				 TS_DESC_DVB_EXTENSION,
				 2,
				 TS_DVB_EXT_OPUS,
				 es->opus_code};
		rc |= bytes_append(s, d, sizeof(d));
	}
	return rc ? -ENOMEM : 0;
}

static int pmt_section(struct ts_mux *m, struct bytes *s)
{
	uint16_t pcr_pid = m->pcr_idx >= 0 ? m->es[m->pcr_idx].pid : TS_PID_NULL;
	if (start_section(s, TS_TABLE_PMT, m->o.program, m->version) ||
	    bytes_put_be16(s, 0xe000 | pcr_pid) || bytes_put_be16(s, 0xf000))
		return -ENOMEM;
	for (unsigned i = 0; i < m->n; i++) {
		const struct mux_es *es = &m->es[i];
		if (!es->on)
			continue;
		if (bytes_put_u8(s, es->stream_type) || bytes_put_be16(s, 0xe000 | es->pid) ||
		    bytes_put_be16(s, 0xf000))
			return -ENOMEM;
		size_t mark = s->len;
		if (es_descriptors(es, s))
			return -ENOMEM;
		size_t dlen = s->len - mark;
		s->data[mark - 2] = (uint8_t)(0xf0 | dlen >> 8);
		s->data[mark - 1] = (uint8_t)dlen;
	}
	return end_section(s) ? -ENOMEM : 0;
}

int ts_mux_psi(struct ts_mux *m, struct bytes *out)
{
	struct bytes s = {0};
	int rc = -ENOMEM;
	/* PAT: one program, transport_stream_id 1 */
	if (start_section(&s, TS_TABLE_PAT, 1, 0) || bytes_put_be16(&s, m->o.program) ||
	    bytes_put_be16(&s, 0xe000 | m->o.pmt_pid) || end_section(&s))
		goto out;
	if ((rc = put_section(out, TS_PID_PAT, &m->pat_cc, s.data, s.len)))
		goto out;
	bytes_reset(&s);
	if ((rc = pmt_section(m, &s)))
		goto out;
	rc = put_section(out, m->o.pmt_pid, &m->pmt_cc, s.data, s.len);
out:
	bytes_free(&s);
	return rc;
}

/* ---------------- PES ---------------- */

struct pkt_af {
	bool pcr, rai, discontinuity;
	uint64_t pcr_base; /* 90 kHz; the 27 MHz extension is 0 */
};

static void put_pcr(uint8_t *p, uint64_t base)
{
	p[0] = (uint8_t)(base >> 25);
	p[1] = (uint8_t)(base >> 17);
	p[2] = (uint8_t)(base >> 9);
	p[3] = (uint8_t)(base >> 1);
	p[4] = (uint8_t)((base & 1) << 7 | 0x7e); /* 6 reserved bits, ext 0 */
	p[5] = 0;
}

static uint8_t af_flags(const struct pkt_af *af)
{
	return (uint8_t)((af->discontinuity ? 0x80 : 0) | (af->rai ? 0x40 : 0) |
			 (af->pcr ? 0x10 : 0));
}

/* Writes one 188-byte packet at pkt carrying as much of p[0..len) as fits,
 * with the adaptation field af (may be NULL) and, when the payload does not
 * fill it, adaptation-field stuffing. Returns the payload bytes used. */
static size_t put_pes_packet(uint8_t *pkt, uint16_t pid, uint8_t *cc, bool pusi,
			     const struct pkt_af *af, const uint8_t *p, size_t len)
{
	uint8_t flags = af ? af_flags(af) : 0;
	size_t af_len = flags ? 2 + (af->pcr ? 6 : 0) : 0; /* length byte included */
	size_t room = TS_PACKET - 4 - af_len;
	size_t n = len < room ? len : room;
	af_len += room - n; /* stuffing */
	pkt[0] = TS_SYNC;
	pkt[1] = (uint8_t)((pusi ? 0x40 : 0) | pid >> 8);
	pkt[2] = (uint8_t)pid;
	pkt[3] = (uint8_t)((af_len ? 0x30 : 0x10) | *cc);
	*cc = (*cc + 1) & 15;
	if (af_len) {
		pkt[4] = (uint8_t)(af_len - 1);
		if (af_len > 1) {
			size_t off = 6;
			pkt[5] = flags;
			if (flags & 0x10) {
				put_pcr(pkt + 6, af->pcr_base);
				off = 12;
			}
			memset(pkt + off, 0xff, 4 + af_len - off);
		}
	}
	memcpy(pkt + 4 + af_len, p, n);
	return n;
}

/* A packet with only an adaptation field carrying the PCR; such packets
 * repeat the previous continuity counter. */
static int put_pcr_packet(struct bytes *out, struct mux_es *es, const struct pkt_af *af)
{
	if (bytes_reserve(out, TS_PACKET))
		return -ENOMEM;
	uint8_t *pkt = out->data + out->len;
	pkt[0] = TS_SYNC;
	pkt[1] = (uint8_t)(es->pid >> 8);
	pkt[2] = (uint8_t)es->pid;
	pkt[3] = (uint8_t)(0x20 | ((es->cc - 1) & 15));
	pkt[4] = TS_PACKET - 5;
	pkt[5] = (uint8_t)(af_flags(af) & ~0x40);
	put_pcr(pkt + 6, af->pcr_base);
	memset(pkt + 12, 0xff, TS_PACKET - 12);
	out->len += TS_PACKET;
	return 0;
}

/* Annex B access unit: AUD, the config's parameter sets before a keyframe
 * (unless the frame has its own), then the frame's NALs without AUDs. */
static int video_es(const struct mux_es *es, const struct frame *f, struct bytes *b)
{
	static const uint8_t aud264[] = {ANNEXB_H264_AUD, 0xf0};            /* primary_pic_type 7 */
	static const uint8_t aud265[] = {ANNEXB_H265_AUD << 1, 0x01, 0x50}; /* pic_type 2 */
	enum codec c = es->trk.codec;
	int sps = c == CODEC_H264 ? ANNEXB_H264_SPS : ANNEXB_H265_SPS;
	int aud = c == CODEC_H264 ? ANNEXB_H264_AUD : ANNEXB_H265_AUD;
	bool has_ps = false;
	for (size_t pos = 0; pos < f->len;) {
		if (f->len - pos < 4 || rd_be32(f->data + pos) > f->len - pos - 4)
			return -EPROTO;
		size_t n = rd_be32(f->data + pos);
		has_ps |= annexb_nal_type(c, f->data + pos + 4, n) == sps;
		pos += 4 + n;
	}
	int rc = c == CODEC_H264 ? annexb_put_nal(b, aud264, sizeof(aud264))
				 : annexb_put_nal(b, aud265, sizeof(aud265));
	if (!rc && (f->flags & FRAME_KEY) && !has_ps)
		rc = bytes_append(b, es->ps.data, es->ps.len);
	for (size_t pos = 0; !rc && pos < f->len;) {
		size_t n = rd_be32(f->data + pos);
		const uint8_t *nal = f->data + pos + 4;
		if (n && annexb_nal_type(c, nal, n) != aud)
			rc = annexb_put_nal(b, nal, n);
		pos += 4 + n;
	}
	return rc ? -ENOMEM : 0;
}

static int audio_es(const struct mux_es *es, const struct frame *f, struct bytes *b)
{
	if (es->trk.codec == CODEC_AAC) {
		uint8_t h[ADTS_HEADER_LEN];
		if (adts_write(h, &es->asc, f->len))
			return -EINVAL;
		if (bytes_append(b, h, sizeof(h)))
			return -ENOMEM;
	} else if (es->trk.codec == CODEC_OPUS) {
		/* opus_control_header: prefix 0x3FF, no trims, no extension,
		 * then au_size as 0xFF bytes plus a final byte. */
		int rc = bytes_put_be16(b, 0x7fe0);
		for (size_t n = f->len; !rc; n -= 255) {
			rc = bytes_put_u8(b, n >= 255 ? 0xff : (uint8_t)n);
			if (n < 255)
				break;
		}
		if (rc)
			return -ENOMEM;
	}
	return bytes_append(b, f->data, f->len) ? -ENOMEM : 0;
}

/* PES header, ES data, PES_packet_length (0 for video and for PES over
 * 64 KiB). */
static int build_pes(struct mux_es *es, const struct frame *f, struct bytes *b)
{
	uint64_t pts = ts_us_to_90k(f->pts_us), dts = ts_us_to_90k(f->dts_us);
	bool with_dts = pts != dts && es->trk.type == TRACK_VIDEO;
	uint8_t h[19] = {0,
			 0,
			 1,
			 es->stream_id,
			 0,
			 0,
			 0x84, /* data_alignment_indicator */
			 with_dts ? 0xc0 : 0x80,
			 with_dts ? 10 : 5};
	ts_put_timestamp(h + 9, with_dts ? 3 : 2, pts);
	if (with_dts)
		ts_put_timestamp(h + 14, 1, dts);
	bytes_reset(b);
	if (bytes_append(b, h, with_dts ? 19 : 14))
		return -ENOMEM;
	int rc = es->trk.type == TRACK_VIDEO ? video_es(es, f, b) : audio_es(es, f, b);
	if (rc)
		return rc;
	size_t plen = b->len - 6;
	if (es->trk.type != TRACK_VIDEO && plen <= UINT16_MAX)
		wr_be16(b->data + 4, (uint16_t)plen);
	return 0;
}

/* Decides the PCR for a frame: the PCR track's frames always carry one;
 * others get a PCR-only packet on the PCR PID when it is overdue. */
static bool pcr_for_frame(struct ts_mux *m, const struct frame *f, struct pkt_af *af)
{
	int64_t interval_us = (int64_t)m->o.pcr_interval_ms * 1000;
	int64_t step = f->dts_us - m->last_pcr_dts_us;
	if (m->pcr_idx < 0 || (f->track != m->pcr_idx && m->pcr_sent && step <= interval_us))
		return false;
	/* A timeline starting near 0 gets PCR 0 rather than a wrapped one
	 * far ahead of the first DTS. */
	int64_t pcr_us = f->dts_us - MUX_PCR_DELAY_US;
	if (pcr_us < 0 && f->dts_us >= 0)
		pcr_us = 0;
	af->pcr = true;
	af->pcr_base = ts_us_to_90k(pcr_us);
	af->discontinuity = m->pcr_sent && (step < 0 || step > MUX_PCR_JUMP_US);
	m->pcr_sent = true;
	m->last_pcr_dts_us = f->dts_us;
	return true;
}

int ts_mux_frame(struct ts_mux *m, const struct frame *f, struct bytes *out)
{
	if (f->track >= m->n || !m->es[f->track].on)
		return 0;
	struct mux_es *es = &m->es[f->track];
	int rc = build_pes(es, f, &m->pes);
	if (rc)
		return rc;
	/* Reserve everything first: a half-written PES would break the
	 * continuity counters. */
	size_t len = m->pes.len;
	if (bytes_reserve(out, (len / 176 + 3) * TS_PACKET))
		return -ENOMEM;
	struct pkt_af af = {0}, pcr_af = {0};
	if (pcr_for_frame(m, f, &pcr_af)) {
		if (f->track == m->pcr_idx)
			af = pcr_af;
		else if ((rc = put_pcr_packet(out, &m->es[m->pcr_idx], &pcr_af)))
			return rc;
	}
	af.rai = (f->flags & FRAME_KEY) || es->trk.type == TRACK_AUDIO;
	for (size_t pos = 0; pos < len;) {
		bool first = pos == 0;
		pos += put_pes_packet(out->data + out->len, es->pid, &es->cc, first,
				      first ? &af : NULL, m->pes.data + pos, len - pos);
		out->len += TS_PACKET;
	}
	return 0;
}
