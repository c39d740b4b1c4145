/* MPEG-TS demuxer (ISO 13818-1): packet sync, continuity, PAT/PMT, PES
 * reassembly and timestamps. Elementary streams are parsed in ts_pes.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format/ts-t.h"

/* A PES (video without PES_packet_length) larger than this is dropped. */
#define DEMUX_MAX_PES (16u << 20)
/* Longest PAT/PMT section_length (ISO 13818-1 2.4.4.3, 2.4.4.8). */
#define PSI_MAX_SECTION_LENGTH 1021
/* PMT entries looked at (supported ones are capped at TS_MAX_TRACKS). */
#define PMT_MAX_ENTRIES 64

struct psi {
	struct bytes b; /* section bytes collected so far */
	bool started;   /* b holds the start of a section */
	int cc;
};

struct ts_demux {
	struct ts_demux_cb cb;
	struct ts_demux_stats st;
	int err; /* sticky: a callback's negative value or -ENOMEM */
	bool synced;
	struct bytes carry; /* an incomplete packet, or bytes to resync on */
	struct psi pat, pmt;
	int pmt_pid; /* -1 until the PAT names one */
	uint16_t program;
	struct bytes last_pat, last_pmt; /* the sections in force */
	struct ts_es *es[TS_MAX_TRACKS];
	unsigned nes;
	/* Timestamp extension: the last DTS, unwrapped, in 90 kHz ticks. */
	bool have_ref;
	int64_t ref90;
};

/* One parsed packet header. */
struct pkt {
	uint16_t pid;
	bool pusi, tei, discontinuity, has_payload;
	unsigned cc;
	const uint8_t *payload;
	size_t len;
};

static int fail(struct ts_demux *d, int rc)
{
	if (rc < 0 && !d->err)
		d->err = rc;
	return rc;
}

struct ts_demux *ts_demux_new(const struct ts_demux_cb *cb)
{
	struct ts_demux *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	if (cb)
		d->cb = *cb;
	d->synced = true; /* assume aligned input until a byte says otherwise */
	d->pmt_pid = -1;
	d->pat.cc = d->pmt.cc = -1;
	return d;
}

static void es_free(struct ts_es *es)
{
	if (!es)
		return;
	ts_pes_clear(es);
	bytes_free(&es->pes);
	free(es);
}

void ts_demux_free(struct ts_demux *d)
{
	if (!d)
		return;
	for (unsigned i = 0; i < d->nes; i++)
		es_free(d->es[i]);
	bytes_free(&d->carry);
	bytes_free(&d->pat.b);
	bytes_free(&d->pmt.b);
	bytes_free(&d->last_pat);
	bytes_free(&d->last_pmt);
	free(d);
}

void ts_demux_get_stats(const struct ts_demux *d, struct ts_demux_stats *out)
{
	*out = d->st;
}

uint32_t ts_demux_track_mask(const struct ts_demux *d)
{
	uint32_t m = 0;
	for (unsigned i = 0; i < d->nes; i++)
		m |= 1u << d->es[i]->idx;
	return m;
}

int ts_demux_emit(struct ts_demux *d, struct ts_es *es, struct frame *f)
{
	int rc = 0;
	if (es->dirty) {
		es->dirty = false;
		if (d->cb.on_track)
			rc = d->cb.on_track(d->cb.ctx, es->idx, &es->trk);
		if (rc < 0) {
			frame_unref(f);
			return fail(d, rc);
		}
	}
	if (f->flags & FRAME_DAMAGED)
		d->st.damaged++;
	if (!d->cb.on_frame) {
		frame_unref(f);
		return 0;
	}
	rc = d->cb.on_frame(d->cb.ctx, f);
	return rc < 0 ? fail(d, rc) : 0;
}

/* ---------------- PES ---------------- */

static int64_t signed33(uint64_t v)
{
	v &= TS_PTS_MASK;
	return v >= (UINT64_C(1) << 32) ? (int64_t)v - (INT64_C(1) << 33) : (int64_t)v;
}

/* Unwraps a 33-bit timestamp to the value nearest the last one, so the
 * timeline runs on past 2^33 ticks (26.5 hours) and survives small
 * backward steps. */
static int64_t extend_ts(struct ts_demux *d, uint64_t t)
{
	if (!d->have_ref) {
		d->have_ref = true;
		d->ref90 = (int64_t)(t & TS_PTS_MASK);
		return d->ref90;
	}
	d->ref90 += signed33(t - (uint64_t)d->ref90);
	return d->ref90;
}

/* PES header (2.4.3.6) of a complete PES packet, then its payload to the
 * ES parser. Malformed PES are dropped. */
static int pes_finish(struct ts_demux *d, struct ts_es *es)
{
	if (!es->in_pes)
		return 0;
	es->in_pes = false;
	const uint8_t *p = es->pes.data;
	size_t len = es->pes.len;
	if (es->pes_total && len > es->pes_total)
		len = es->pes_total;
	/* Padding and private_stream_2 have no optional header. */
	if (len < 9 || p[0] || p[1] || p[2] != 1 || p[3] == 0xbe || p[3] == 0xbf ||
	    (p[6] & 0xc0) != 0x80)
		return 0;
	unsigned flags = p[7], hlen = p[8];
	if (9 + (size_t)hlen > len)
		return 0;
	bool has_pts = (flags & 0x80) && hlen >= 5;
	bool has_dts = (flags & 0xc0) == 0xc0 && hlen >= 10;
	int64_t dts_us = 0, pts_us = 0;
	if (has_pts) {
		uint64_t pts = ts_get_timestamp(p + 9);
		uint64_t dts = has_dts ? ts_get_timestamp(p + 14) : pts;
		int64_t dts_x = extend_ts(d, dts);
		dts_us = ts_90k_to_us(dts_x);
		pts_us = ts_90k_to_us(dts_x + signed33(pts - dts));
	}
	int rc = ts_pes_payload(d, es, p + 9 + hlen, len - 9 - hlen, has_pts, dts_us, pts_us,
				es->damaged);
	return rc < 0 ? fail(d, rc) : 0;
}

/* Collects a packet's payload into the PES of es. A PUSI ends the PES in
 * progress (the only end a video PES of length 0 has); a known
 * PES_packet_length ends it as soon as it is complete. */
static int es_payload(struct ts_demux *d, struct ts_es *es, const struct pkt *k)
{
	int rc = 0;
	if (k->pusi) {
		rc = pes_finish(d, es);
		bytes_reset(&es->pes);
		es->in_pes = true;
		es->damaged = false;
		es->pes_total = 0;
	} else if (!es->in_pes) {
		return 0; /* joined mid-PES, or after the PES was complete */
	}
	if (rc < 0)
		return rc;
	if (es->pes.len + k->len > DEMUX_MAX_PES) {
		es->in_pes = false;
		return 0;
	}
	if (bytes_append(&es->pes, k->payload, k->len))
		return fail(d, -ENOMEM);
	if (!es->pes_total && es->pes.len >= 6) {
		size_t n = rd_be16(es->pes.data + 4);
		es->pes_total = n ? 6 + n : 0;
	}
	if (es->pes_total && es->pes.len >= es->pes_total)
		return pes_finish(d, es);
	return 0;
}

/* Continuity (2.4.3.3): 1 to take the packet, 0 for a duplicate. A gap
 * is counted and sets *gap. */
static int continuity(struct ts_demux *d, int *last, const struct pkt *k, bool *gap)
{
	*gap = false;
	if (!k->has_payload)
		return 1; /* the counter only runs on packets with payload */
	if (*last >= 0 && !k->discontinuity) {
		if (k->cc == (unsigned)*last)
			return 0;
		if (k->cc != ((unsigned)*last + 1) % 16) {
			*gap = true;
			d->st.cc_errors++;
		}
	}
	*last = (int)k->cc;
	return 1;
}

static int es_packet(struct ts_demux *d, struct ts_es *es, const struct pkt *k)
{
	bool gap;
	if (k->tei) {
		/* Corrupt packet: its loss shows up as a gap on the next one. */
		return 0;
	}
	if (!continuity(d, &es->cc, k, &gap))
		return 0;
	if (gap && es->in_pes)
		es->damaged = true;
	if (!k->len)
		return 0;
	return es_payload(d, es, k);
}

/* ---------------- PSI ---------------- */

struct pmt_entry {
	uint8_t type;
	uint16_t pid;
	const uint8_t *desc;
	size_t desc_len;
};

static struct ts_es *find_es(struct ts_es *const *list, unsigned n, uint16_t pid)
{
	for (unsigned i = 0; i < n; i++)
		if (list[i] && list[i]->pid == pid)
			return list[i];
	return NULL;
}

static unsigned free_idx(struct ts_es *const *list, unsigned n)
{
	for (unsigned idx = 0;; idx++) {
		unsigned i = 0;
		while (i < n && list[i]->idx != idx)
			i++;
		if (i == n)
			return idx;
	}
}

/* Replaces the stream list by the PMT's: a PID keeps its ES (and track
 * index) while its codec stays; new PIDs get the lowest free index;
 * streams that left emit what they had buffered and go. */
static int pmt_apply(struct ts_demux *d, const struct pmt_entry *e, unsigned n)
{
	struct ts_es *next[TS_MAX_TRACKS];
	unsigned nn = 0;
	int rc = 0;
	for (unsigned i = 0; i < n && nn < TS_MAX_TRACKS; i++) {
		struct ts_es *es = find_es(d->es, d->nes, e[i].pid);
		if (!es || find_es(next, nn, e[i].pid))
			continue;
		if (es->stream_type != e[i].type && pes_finish(d, es) < 0)
			rc = d->err;
		if (ts_pes_setup(es, e[i].type, e[i].desc, e[i].desc_len))
			next[nn++] = es;
	}
	for (unsigned i = 0; i < n && nn < TS_MAX_TRACKS; i++) {
		if (find_es(next, nn, e[i].pid) || e[i].pid == TS_PID_PAT ||
		    e[i].pid == TS_PID_NULL || (int)e[i].pid == d->pmt_pid)
			continue;
		struct ts_es *es = calloc(1, sizeof(*es));
		if (!es)
			return fail(d, -ENOMEM);
		es->pid = e[i].pid;
		es->cc = -1;
		if (!ts_pes_setup(es, e[i].type, e[i].desc, e[i].desc_len)) {
			es_free(es);
			continue;
		}
		es->idx = free_idx(next, nn);
		next[nn++] = es;
	}
	for (unsigned i = 0; i < d->nes; i++) {
		if (find_es(next, nn, d->es[i]->pid) == d->es[i])
			continue;
		if (pes_finish(d, d->es[i]) < 0)
			rc = d->err;
		es_free(d->es[i]);
	}
	memcpy(d->es, next, nn * sizeof(*next));
	d->nes = nn;
	return rc;
}

static bool section_ok(const uint8_t *s, size_t len, uint8_t table)
{
	/* section_syntax_indicator, current_next_indicator, CRC */
	return len >= 12 && s[0] == table && (s[1] & 0x80) && (s[5] & 1) && !ts_crc32(s, len);
}

/* 1 when s equals the section in force; otherwise it becomes it. */
static int same_section(struct bytes *last, const uint8_t *s, size_t len)
{
	if (last->len == len && !memcmp(last->data, s, len))
		return 1;
	bytes_reset(last);
	return bytes_append(last, s, len) ? -ENOMEM : 0;
}

/* PAT (2.4.4.3): the first program's PMT PID. */
static int pat_section(struct ts_demux *d, const uint8_t *s, size_t len)
{
	if (!section_ok(s, len, TS_TABLE_PAT))
		return 0;
	int rc = same_section(&d->last_pat, s, len);
	if (rc)
		return rc < 0 ? fail(d, rc) : 0;
	for (size_t i = 8; i + 4 <= len - 4; i += 4) {
		uint16_t prog = rd_be16(s + i), pid = rd_be16(s + i + 2) & 0x1fff;
		if (!prog || pid == TS_PID_PAT || pid == TS_PID_NULL)
			continue; /* network PID, or nonsense */
		if ((int)pid != d->pmt_pid || prog != d->program) {
			d->pmt_pid = pid;
			d->program = prog;
			bytes_reset(&d->pmt.b);
			d->pmt.started = false;
			d->pmt.cc = -1;
			bytes_reset(&d->last_pmt);
		}
		break;
	}
	return 0;
}

/* PMT (2.4.4.8) of our program: the elementary streams. */
static int pmt_section(struct ts_demux *d, const uint8_t *s, size_t len)
{
	if (!section_ok(s, len, TS_TABLE_PMT) || len < 16 || rd_be16(s + 3) != d->program)
		return 0;
	int rc = same_section(&d->last_pmt, s, len);
	if (rc)
		return rc < 0 ? fail(d, rc) : 0;
	size_t end = len - 4, pos = 12 + (rd_be16(s + 10) & 0x0fff); /* program_info */
	struct pmt_entry e[PMT_MAX_ENTRIES];
	unsigned n = 0;
	while (pos <= end && end - pos >= 5 && n < PMT_MAX_ENTRIES) {
		size_t info = rd_be16(s + pos + 3) & 0x0fff;
		if (info > end - pos - 5)
			break;
		e[n].type = s[pos];
		e[n].pid = rd_be16(s + pos + 1) & 0x1fff;
		e[n].desc = s + pos + 5;
		e[n].desc_len = info;
		n++;
		pos += 5 + info;
	}
	return pmt_apply(d, e, n);
}

/* Runs the complete sections collected in s. Stuffing (0xFF) ends the
 * sections of a packet. */
static int psi_sections(struct ts_demux *d, struct psi *s, bool pat)
{
	int rc = 0;
	while (rc >= 0 && s->b.len >= 3) {
		size_t slen = rd_be16(s->b.data + 1) & 0x0fff;
		if (s->b.data[0] == 0xff || slen > PSI_MAX_SECTION_LENGTH) {
			s->started = false;
			bytes_reset(&s->b);
			break;
		}
		if (s->b.len < 3 + slen)
			break;
		rc =
		    pat ? pat_section(d, s->b.data, 3 + slen) : pmt_section(d, s->b.data, 3 + slen);
		bytes_consume(&s->b, 3 + slen);
	}
	return rc;
}

static int psi_append(struct ts_demux *d, struct psi *s, const uint8_t *p, size_t n, bool pat)
{
	if (!n)
		return 0;
	if (s->b.len + n > 3 + PSI_MAX_SECTION_LENGTH + TS_PACKET) {
		s->started = false; /* cannot happen with valid lengths */
		bytes_reset(&s->b);
		return 0;
	}
	if (bytes_append(&s->b, p, n))
		return fail(d, -ENOMEM);
	return psi_sections(d, s, pat);
}

/* Section bytes of a PSI packet: pointer_field on PUSI (the bytes before
 * it end the previous section). */
static int psi_packet(struct ts_demux *d, struct psi *s, const struct pkt *k, bool pat)
{
	bool gap;
	if (k->tei || !continuity(d, &s->cc, k, &gap))
		return 0;
	if (gap) {
		s->started = false;
		bytes_reset(&s->b);
	}
	const uint8_t *p = k->payload;
	size_t n = k->len;
	if (k->pusi) {
		if (!n || p[0] >= n) {
			s->started = false;
			bytes_reset(&s->b);
			return 0;
		}
		size_t ptr = p[0];
		int rc = s->started ? psi_append(d, s, p + 1, ptr, pat) : 0;
		if (rc < 0)
			return rc;
		bytes_reset(&s->b);
		s->started = true;
		return psi_append(d, s, p + 1 + ptr, n - 1 - ptr, pat);
	}
	return s->started ? psi_append(d, s, p, n, pat) : 0;
}

/* ---------------- packets ---------------- */

/* Header and adaptation field (2.4.3.2, 2.4.3.4). The PCR is not used:
 * timestamps come from PTS/DTS alone. False for packets to ignore. */
static bool parse_packet(const uint8_t *b, struct pkt *k)
{
	unsigned afc = (b[3] >> 4) & 3;
	k->tei = b[1] & 0x80;
	k->pusi = b[1] & 0x40;
	k->pid = (uint16_t)((b[1] & 0x1f) << 8 | b[2]);
	k->cc = b[3] & 15;
	k->discontinuity = false;
	if (afc == 0) /* reserved */
		return false;
	size_t off = 4;
	if (afc & 2) {
		unsigned af_len = b[4];
		if (af_len > TS_PACKET - 5)
			return false;
		if (af_len)
			k->discontinuity = b[5] & 0x80;
		off = 5 + af_len;
	}
	k->has_payload = afc & 1;
	k->payload = b + off;
	k->len = k->has_payload ? TS_PACKET - off : 0;
	return true;
}

static int packet(struct ts_demux *d, const uint8_t *b)
{
	struct pkt k;
	d->st.packets++;
	if (!parse_packet(b, &k) || k.pid == TS_PID_NULL)
		return 0;
	if (k.pid == TS_PID_PAT)
		return psi_packet(d, &d->pat, &k, true);
	if ((int)k.pid == d->pmt_pid)
		return psi_packet(d, &d->pmt, &k, false);
	struct ts_es *es = find_es(d->es, d->nes, k.pid);
	return es ? es_packet(d, es, &k) : 0;
}

/* Next packet start at or after `from`: a sync byte with another one a
 * packet later. When that cannot be checked yet, returns the candidate
 * with *found false (keep the bytes from there); at the end of input
 * (final) a last whole packet is taken unchecked. */
static size_t find_sync(const uint8_t *b, size_t len, size_t from, bool final, bool *found)
{
	*found = false;
	for (size_t i = from; i < len; i++) {
		if (b[i] != TS_SYNC)
			continue;
		if (len - i > TS_PACKET) {
			if (b[i + TS_PACKET] == TS_SYNC) {
				*found = true;
				return i;
			}
			continue;
		}
		*found = final && len - i == TS_PACKET;
		return i;
	}
	return len;
}

/* Processes the whole packets of b[0..len); returns the bytes used. The
 * rest is an incomplete packet or a sync candidate to check later. */
static size_t scan(struct ts_demux *d, const uint8_t *b, size_t len, bool final)
{
	size_t pos = 0;
	while (len - pos >= TS_PACKET && !d->err) {
		if (!d->synced) {
			bool found;
			pos = find_sync(b, len, pos, final, &found);
			if (!found)
				return pos;
			d->synced = true;
		}
		if (b[pos] != TS_SYNC) {
			d->synced = false;
			d->st.resyncs++;
			continue;
		}
		packet(d, b + pos);
		pos += TS_PACKET;
	}
	return pos;
}

int ts_demux_feed(struct ts_demux *d, const uint8_t *p, size_t len)
{
	while (len && !d->err) {
		if (!d->carry.len) {
			size_t used = scan(d, p, len, false);
			if (!d->err && used < len && bytes_append(&d->carry, p + used, len - used))
				fail(d, -ENOMEM);
			break;
		}
		/* Complete the carried packet with just the bytes it lacks, so
		 * the next round reads straight from p again. */
		size_t take = d->synced && d->carry.len < TS_PACKET ? TS_PACKET - d->carry.len
								    : 2 * TS_PACKET;
		take = take < len ? take : len;
		if (bytes_append(&d->carry, p, take)) {
			fail(d, -ENOMEM);
			break;
		}
		p += take;
		len -= take;
		bytes_consume(&d->carry, scan(d, d->carry.data, d->carry.len, false));
	}
	return d->err;
}

int ts_demux_flush(struct ts_demux *d)
{
	if (d->carry.len && !d->err)
		scan(d, d->carry.data, d->carry.len, true);
	bytes_reset(&d->carry);
	for (unsigned i = 0; i < d->nes && !d->err; i++) {
		pes_finish(d, d->es[i]);
		bytes_reset(&d->es[i]->carry); /* a partial audio frame */
	}
	return d->err;
}
