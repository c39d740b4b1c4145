/* Media-time pacing of TS datagrams (see pacer.h). */
#include "proto/tsudp/pacer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "format/rtp_ts.h"
#include "format/ts.h"

#define PCR_DELAY_US  100000 /* the muxer's PCR lead on DTS */
#define BEHIND_MAX_US 1000000
#define AHEAD_MAX_US  10000000
#define COMPACT_BYTES (256 * 1024)
#define MAX_DUE       256

/* One frame's bytes being spread over [due, due + smooth]. */
struct span {
	int64_t due_us;
	uint32_t bytes;
};

struct pacer {
	size_t dgram; /* bytes per full datagram */
	int64_t smooth_us;
	bool restamp;
	bool anchored;
	int64_t wall0_us, dts0_us; /* due = wall0 + (dts - dts0) */
	int64_t newest_due_us;
	struct bytes q; /* queued TS bytes are q.data[rd..q.len) */
	size_t rd;
	uint64_t total_in, total_out, credited; /* credited: bytes of retired spans */
	struct span *sp;
	size_t sp_head, sp_len, sp_cap;
	bool growing;  /* the last credit() had a span in progress */
	unsigned pend; /* datagrams handed out by the last pacer_due */
	size_t pend_bytes[MAX_DUE];
};

struct pacer *pacer_new(const struct pacer_opts *opts)
{
	struct pacer *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	unsigned pkts = opts && opts->pkts ? opts->pkts : RTP_TS_PKTS;
	p->dgram = (pkts > RTP_TS_PKTS ? RTP_TS_PKTS : pkts) * TS_PACKET;
	p->smooth_us = (opts && opts->smooth_ms > 0 ? opts->smooth_ms : 1000) * 1000;
	p->restamp = opts && opts->restamp_pcr;
	return p;
}

void pacer_free(struct pacer *p)
{
	if (!p)
		return;
	bytes_free(&p->q);
	free(p->sp);
	free(p);
}

static int span_add(struct pacer *p, int64_t due_us, size_t bytes)
{
	if (p->sp_head && p->sp_head * 2 >= p->sp_len) {
		memmove(p->sp, p->sp + p->sp_head, (p->sp_len - p->sp_head) * sizeof(*p->sp));
		p->sp_len -= p->sp_head;
		p->sp_head = 0;
	}
	if (p->sp_len == p->sp_cap) {
		size_t cap = p->sp_cap ? p->sp_cap * 2 : 256;
		struct span *n = realloc(p->sp, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		p->sp = n;
		p->sp_cap = cap;
	}
	p->sp[p->sp_len++] = (struct span){.due_us = due_us, .bytes = (uint32_t)bytes};
	return 0;
}

int pacer_push(struct pacer *p, const uint8_t *ts, size_t len, int64_t dts_us, int64_t arrival_us,
	       int64_t now_us)
{
	if (!len)
		return 0;
	if (!arrival_us || arrival_us > now_us)
		arrival_us = now_us;
	int64_t due = p->wall0_us + (dts_us - p->dts0_us);
	if (!p->anchored || due < arrival_us - BEHIND_MAX_US || due > now_us + AHEAD_MAX_US) {
		p->anchored = true;
		p->wall0_us = arrival_us;
		p->dts0_us = dts_us;
		due = arrival_us;
	}
	if (p->rd >= COMPACT_BYTES && p->rd * 2 >= p->q.len) {
		bytes_consume(&p->q, p->rd);
		p->rd = 0;
	}
	if (bytes_append(&p->q, ts, len) || span_add(p, due, len))
		return -ENOMEM;
	p->total_in += len;
	if (due > p->newest_due_us || p->sp_len - p->sp_head == 1)
		p->newest_due_us = due;
	return 0;
}

/* Bytes the schedule lets out by now_us; retires finished spans. */
static uint64_t credit(struct pacer *p, int64_t now_us)
{
	while (p->sp_head < p->sp_len && now_us >= p->sp[p->sp_head].due_us + p->smooth_us)
		p->credited += p->sp[p->sp_head++].bytes;
	uint64_t c = p->credited;
	p->growing = false;
	for (size_t i = p->sp_head; i < p->sp_len; i++) {
		int64_t t = now_us - p->sp[i].due_us;
		if (t <= 0)
			continue;
		p->growing |= t < p->smooth_us;
		c += t >= p->smooth_us
			 ? p->sp[i].bytes
			 : (uint64_t)((double)p->sp[i].bytes * (double)t / (double)p->smooth_us);
	}
	return c;
}

int64_t pacer_clock_us(const struct pacer *p, int64_t now_us)
{
	return p->dts0_us + (now_us - p->wall0_us) - p->smooth_us - PCR_DELAY_US;
}

static void restamp(struct pacer *p, uint8_t *d, size_t len, int64_t now_us)
{
	int64_t t = pacer_clock_us(p, now_us) * 27;
	int64_t wrap = (int64_t)TS_PCR_WRAP;
	uint64_t pcr = (uint64_t)(((t % wrap) + wrap) % wrap);
	for (size_t off = 0; off + TS_PACKET <= len; off += TS_PACKET)
		rtp_ts_pcr_write(d + off, pcr);
}

unsigned pacer_due(struct pacer *p, int64_t now_us, uint8_t **dgrams, size_t *lens, unsigned max)
{
	uint64_t allowed = credit(p, now_us);
	size_t off = p->rd;
	uint64_t sent = p->total_out;
	unsigned n = 0;
	max = max > MAX_DUE ? MAX_DUE : max;
	while (n < max && off < p->q.len) {
		size_t take = p->q.len - off < p->dgram ? p->q.len - off : p->dgram;
		if (take < p->dgram && allowed < p->total_in)
			take = 0; /* a partial datagram only at the very end, */
		if (sent + take > allowed || !take) {
			/* ... or when the credit stopped growing (every frame due
			 * is out of its smoothing, the next one is not due yet):
			 * the credited tail of a frame does not wait for it */
			size_t ready = (size_t)(allowed - sent) / TS_PACKET * TS_PACKET;
			if (p->growing || !ready)
				break;
			take = ready < p->dgram ? ready : p->dgram;
		}
		dgrams[n] = p->q.data + off;
		lens[n] = take;
		if (p->restamp)
			restamp(p, dgrams[n], take, now_us);
		p->pend_bytes[n] = take;
		off += take;
		sent += take;
		n++;
	}
	p->pend = n;
	return n;
}

void pacer_consume(struct pacer *p, unsigned n)
{
	for (unsigned i = 0; i < n && i < p->pend; i++) {
		p->rd += p->pend_bytes[i];
		p->total_out += p->pend_bytes[i];
	}
	p->pend = 0;
}

int64_t pacer_ahead_us(const struct pacer *p, int64_t now_us)
{
	if (p->rd >= p->q.len)
		return 0;
	int64_t a = p->newest_due_us - now_us;
	return a > 0 ? a : 0;
}

size_t pacer_queued(const struct pacer *p)
{
	return p->q.len - p->rd;
}
