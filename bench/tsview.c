/* MPEG-TS viewer side (srt-play, udp-play): PAT/PMT, the video PES as
 * access units, their latency from the publisher's send log. See bench.h
 * for how the FLV tag's latency key is rebuilt from Annex B. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define TS_PKT      188
#define PES_MAX     (8u << 20) /* a larger video PES is dropped */
#define FLV_AVC_HDR 5          /* FLV video tag body: flags, packet type, 24-bit CTS */

struct tsview {
	struct viewer *v;
	int pmt_pid, video_pid;
	bool hevc;
	uint16_t es_pids[8]; /* other PMT streams (audio): PES starts count */
	unsigned nes;
	int last_cc;
	uint64_t cc_errors;
	uint8_t carry[TS_PKT];
	size_t carry_len;
	/* the video PES being collected */
	uint8_t *pes;
	size_t pes_len, pes_cap, pes_total; /* pes_total: from PES_packet_length, 0 = open */
	bool in_pes;
	uint64_t pts90;
	uint64_t last_rx_ns; /* receive time of the PES's last packet */
};

struct tsview *tsview_new(struct viewer *v)
{
	struct tsview *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->v = v;
	t->pmt_pid = t->video_pid = -1;
	t->last_cc = -1;
	return t;
}

void tsview_free(struct tsview *t)
{
	if (!t)
		return;
	free(t->pes);
	free(t);
}

uint64_t tsview_cc_errors(const struct tsview *t)
{
	return t ? t->cc_errors : 0;
}

/* ---- access units ---- */

/* Next Annex B NAL at or after *pos: its start and length (trailing zero
 * bytes, i.e. the next 4-byte start code's first byte, left out). */
static bool next_nal(const uint8_t *p, size_t len, size_t *pos, const uint8_t **nal, size_t *n)
{
	size_t i = *pos;
	while (i + 3 <= len && !(p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1))
		i++;
	if (i + 3 > len)
		return false;
	size_t start = i + 3, j = start;
	while (j + 3 <= len && !(p[j] == 0 && p[j + 1] == 0 && p[j + 2] == 1))
		j++;
	size_t end = j + 3 <= len ? j : len;
	while (end > start && p[end - 1] == 0)
		end--;
	*nal = p + start;
	*n = end - start;
	*pos = end;
	return true;
}

enum nal_kind { NAL_OTHER, NAL_AUD, NAL_PS };

static enum nal_kind nal_kind(bool hevc, const uint8_t *nal, size_t n)
{
	if (!n)
		return NAL_AUD; /* empty: skipped like an AUD */
	unsigned type = hevc ? (nal[0] >> 1) & 0x3f : nal[0] & 0x1f;
	if (hevc)
		return type == 35 ? NAL_AUD : type >= 32 && type <= 34 ? NAL_PS : NAL_OTHER;
	return type == 9 ? NAL_AUD : type == 7 || type == 8 ? NAL_PS : NAL_OTHER;
}

/* Exact samples (the histograms' 3 % buckets are 15 ms wide at 500 ms,
 * too coarse to tell a configured transport latency from what is added). */
static struct {
	uint32_t *us;
	size_t n, cap;
} exact;

static void exact_add(uint64_t us)
{
	if (exact.n == exact.cap) {
		size_t cap = exact.cap ? exact.cap * 2 : 4096;
		uint32_t *p = realloc(exact.us, cap * sizeof(*p));
		if (!p)
			return;
		exact.us = p;
		exact.cap = cap;
	}
	exact.us[exact.n++] = (uint32_t)(us > UINT32_MAX ? UINT32_MAX : us);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int tsview_latency_exact(double q[4])
{
	if (!exact.n)
		return 0;
	qsort(exact.us, exact.n, sizeof(*exact.us), cmp_u32);
	static const double at[3] = {0.5, 0.99, 1};
	for (int i = 0; i < 3; i++)
		q[i] = exact.us[(size_t)(at[i] * (double)(exact.n - 1))] / 1000.0;
	q[3] = exact.us[0] / 1000.0;
	return (int)exact.n;
}

static void record_latency(struct tsview *t, uint64_t sent)
{
	struct viewer *v = t->v;
	struct bench *b = v->b;
	if (sent < v->t_start_ns || sent > t->last_rx_ns)
		return; /* from the server's backlog, older than this viewer */
	uint64_t us = (t->last_rx_ns - sent) / 1000;
	hist_add(&b->lat, us);
	hist_add(&b->lat_sec, us);
	exact_add(us);
}

/* The FLV body length the publisher sent: AVCC (4-byte lengths) NALs plus
 * the 5-byte header. weir's muxer adds an AUD and, before a keyframe
 * without its own, the config's parameter sets: both lengths (with and
 * without the leading parameter sets) are tried. */
static void latency_of_au(struct tsview *t, const uint8_t *p, size_t len)
{
	struct bench *b = t->v->b;
	size_t pos = 0, n, all = 0, lead_ps = 0;
	const uint8_t *nal, *last = NULL;
	size_t last_n = 0;
	bool leading = true;
	while (next_nal(p, len, &pos, &nal, &n)) {
		enum nal_kind k = nal_kind(t->hevc, nal, n);
		if (k == NAL_AUD)
			continue;
		all += 4 + n;
		if (leading && k == NAL_PS)
			lead_ps += 4 + n;
		else
			leading = false;
		last = nal;
		last_n = n;
	}
	if (!last || last_n < 32)
		return;
	const uint8_t *tail = last + last_n - 32;
	uint64_t sent = sendlog_get(b->log, media_key(tail, 32, FLV_AVC_HDR + all - lead_ps));
	if (!sent && lead_ps)
		sent = sendlog_get(b->log, media_key(tail, 32, FLV_AVC_HDR + all));
	if (!sent) {
		b->unmatched++;
		return;
	}
	record_latency(t, sent);
}

static void pes_done(struct tsview *t)
{
	if (!t->in_pes)
		return;
	t->in_pes = false;
	const uint8_t *p = t->pes;
	size_t len = t->pes_len;
	if (len < 9 || p[0] || p[1] || p[2] != 1 || (p[3] & 0xf0) != 0xe0)
		return;
	size_t hl = 9 + (size_t)p[8];
	if (hl > len)
		return;
	if ((p[7] & 0x80) && p[8] >= 5)
		t->pts90 = (uint64_t)(p[9] >> 1 & 7) << 30 | (uint64_t)p[10] << 22 |
			   (uint64_t)(p[11] >> 1) << 15 | (uint64_t)p[12] << 7 | p[13] >> 1;
	struct viewer *v = t->v;
	viewer_on_ts_video(v, t->last_rx_ns, (uint32_t)(t->pts90 / 90));
	if (v->b->in_window && v->b->pub)
		latency_of_au(t, p + hl, len - hl);
}

static void pes_append(struct tsview *t, const uint8_t *p, size_t n)
{
	if (t->pes_len + n > PES_MAX) {
		t->in_pes = false;
		return;
	}
	if (t->pes_len + n > t->pes_cap) {
		size_t cap = t->pes_cap ? t->pes_cap : 64 * 1024;
		while (cap < t->pes_len + n)
			cap *= 2;
		uint8_t *np = realloc(t->pes, cap);
		if (!np) {
			t->in_pes = false;
			return;
		}
		t->pes = np;
		t->pes_cap = cap;
	}
	memcpy(t->pes + t->pes_len, p, n);
	t->pes_len += n;
}

/* ---- packets ---- */

static void video_packet(struct tsview *t, bool pusi, const uint8_t *pl, size_t n, unsigned cc,
			 uint64_t rx_ns)
{
	if (t->last_cc >= 0 && cc != ((unsigned)t->last_cc + 1) % 16)
		t->cc_errors++;
	t->last_cc = (int)cc;
	if (pusi) {
		pes_done(t);
		t->in_pes = true;
		t->pes_len = 0;
		t->pes_total = n >= 6 ? (size_t)(pl[4] << 8 | pl[5]) : 0;
		t->pes_total = t->pes_total ? t->pes_total + 6 : 0;
	} else if (!t->in_pes) {
		return;
	}
	pes_append(t, pl, n);
	t->last_rx_ns = rx_ns;
	if (t->in_pes && t->pes_total && t->pes_len >= t->pes_total)
		pes_done(t);
}

/* PAT/PMT sections that fit in one packet (as every muxer writes them). */
static void psi_packet(struct tsview *t, bool pat, const uint8_t *pl, size_t n)
{
	if (!n || (size_t)pl[0] + 1 + 12 > n)
		return;
	const uint8_t *s = pl + 1 + pl[0];
	size_t slen = (size_t)((s[1] & 0x0f) << 8 | s[2]);
	if (slen + 3 > n - 1 - pl[0] || slen < 9)
		return;
	size_t end = 3 + slen - 4; /* before the CRC */
	if (pat) {
		if (s[0] == 0 && end >= 12)
			t->pmt_pid = (s[10] & 0x1f) << 8 | s[11];
		return;
	}
	if (s[0] != 2)
		return;
	size_t pos = 12 + (size_t)((s[10] & 0x0f) << 8 | s[11]);
	t->nes = 0;
	while (pos + 5 <= end) {
		unsigned type = s[pos], pid = (s[pos + 1] & 0x1f) << 8 | s[pos + 2];
		if ((type == 0x1b || type == 0x24) && t->video_pid < 0) {
			t->video_pid = (int)pid;
			t->hevc = type == 0x24;
		} else if ((int)pid != t->video_pid && t->nes < 8) {
			t->es_pids[t->nes++] = (uint16_t)pid;
		}
		pos += 5 + (size_t)((s[pos + 3] & 0x0f) << 8 | s[pos + 4]);
	}
}

static void packet(struct tsview *t, const uint8_t *b, uint64_t rx_ns)
{
	unsigned pid = (b[1] & 0x1f) << 8 | b[2], afc = (b[3] >> 4) & 3;
	bool pusi = b[1] & 0x40;
	size_t off = 4;
	if (afc & 2)
		off += 1u + b[4];
	if (!(afc & 1) || off >= TS_PKT)
		return;
	const uint8_t *pl = b + off;
	size_t n = TS_PKT - off;
	if (pid == 0)
		psi_packet(t, true, pl, n);
	else if ((int)pid == t->pmt_pid)
		psi_packet(t, false, pl, n);
	else if ((int)pid == t->video_pid)
		video_packet(t, pusi, pl, n, b[3] & 15, rx_ns);
	else if (pusi)
		for (unsigned i = 0; i < t->nes; i++)
			t->v->aframes += t->es_pids[i] == pid;
}

void tsview_feed(struct tsview *t, const uint8_t *p, size_t len, uint64_t rx_ns)
{
	if (t->carry_len) { /* complete a packet split across reads */
		size_t take = TS_PKT - t->carry_len < len ? TS_PKT - t->carry_len : len;
		memcpy(t->carry + t->carry_len, p, take);
		t->carry_len += take;
		p += take;
		len -= take;
		if (t->carry_len < TS_PKT)
			return;
		if (t->carry[0] == 0x47)
			packet(t, t->carry, rx_ns);
		t->carry_len = 0;
	}
	while (len >= TS_PKT) {
		if (p[0] != 0x47) { /* resync */
			p++;
			len--;
			continue;
		}
		packet(t, p, rx_ns);
		p += TS_PKT;
		len -= TS_PKT;
	}
	memcpy(t->carry, p, len);
	t->carry_len = len;
}

void tsview_report(struct bench *b)
{
	double q[4];
	int n = tsview_latency_exact(q);
	if (!n)
		return;
	printf("  latency (exact)    p50 %.1f ms, p99 %.1f ms, max %.1f ms, min %.1f ms (n=%d)\n",
	       q[0], q[1], q[2], q[3], n);
	fflush(stdout);
	json_t *j = b->o.json ? json_load_file(b->o.json, 0, NULL) : NULL;
	if (!j)
		return;
	json_object_set_new(j, "latency_exact_ms",
			    json_pack("{s:f,s:f,s:f,s:f,s:i}", "p50", q[0], "p99", q[1], "max",
				      q[2], "min", q[3], "n", n));
	json_dump_file(j, b->o.json, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(j);
}
