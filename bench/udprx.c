/* udp-play: one MPEG-TS over UDP receiver, the target of a weir push
 * (tsudp://, or what a RIST receiver such as ristreceiver forwards). The
 * viewer is one tsview (latency, media time); besides, every datagram's
 * receive time goes into pacing windows (--pace-window-ms, 100 ms): the
 * delivered bitrate of each window against the mean over the bench's
 * steady window, and the same for the source's own bitrate, i.e. the
 * bytes per window of media time (PTS of the video PES each TS packet
 * belongs to), which is what an output that forwards frames as they come
 * would show. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define DGRAM_MAX   65536
#define MAX_WINDOWS (1u << 20)

struct series {
	uint64_t *bytes; /* per window */
	size_t n, cap;
	int64_t base; /* window 0 starts here (ns or 90 kHz ticks) */
	bool have_base;
};

struct udprx {
	struct bench *b;
	uv_udp_t udp;
	struct viewer *v;
	uint8_t buf[DGRAM_MAX];
	struct series wall, media;
	uint64_t last_pts; /* of the newest video PES start seen */
	bool have_pts;
	uint64_t dgrams, dgram_bytes;
};

static void series_add(struct series *s, int64_t t, int64_t unit, uint64_t bytes)
{
	if (!s->have_base) {
		s->have_base = true;
		s->base = t;
	}
	if (t < s->base)
		return;
	size_t i = (size_t)((t - s->base) / unit);
	if (i >= MAX_WINDOWS)
		return;
	if (i >= s->cap) {
		size_t cap = s->cap ? s->cap : 1024;
		while (cap <= i)
			cap *= 2;
		uint64_t *p = realloc(s->bytes, cap * sizeof(*p));
		if (!p)
			return;
		memset(p + s->cap, 0, (cap - s->cap) * sizeof(*p));
		s->bytes = p;
		s->cap = cap;
	}
	s->bytes[i] += bytes;
	if (i + 1 > s->n)
		s->n = i + 1;
}

/* Media time of each TS packet: the PTS of the last video PES start. */
static void media_windows(struct udprx *u, const uint8_t *p, size_t n)
{
	int64_t unit = (int64_t)(u->b->o.pace_window_ms * 90);
	for (size_t i = 0; i + 188 <= n; i += 188) {
		uint64_t pts;
		if (ts_video_pts(p + i, &pts) && pts) {
			u->last_pts = pts;
			u->have_pts = true;
		}
		if (u->have_pts)
			series_add(&u->media, (int64_t)u->last_pts, unit, 188);
	}
}

static void on_alloc(uv_handle_t *h, size_t want, uv_buf_t *buf)
{
	struct udprx *u = h->data;
	*buf = uv_buf_init((char *)u->buf, sizeof(u->buf));
}

static void on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
		    unsigned flags)
{
	struct udprx *u = h->data;
	uint64_t now = uv_hrtime();
	struct viewer *v = u->v;
	if (n <= 0 || !v || v->end != VE_NONE || u->b->stopping)
		return;
	bconn_total_rx += (uint64_t)n;
	tsview_feed(v->ts, u->buf, (size_t)n, now);
	if (!u->b->in_window)
		return;
	u->dgrams++;
	u->dgram_bytes += (uint64_t)n;
	series_add(&u->wall, (int64_t)now, (int64_t)(u->b->o.pace_window_ms * 1e6), (uint64_t)n);
	media_windows(u, u->buf, (size_t)n);
}

static int parse_url(const char *url, struct sockaddr_in *sa)
{
	char host[64];
	int port = 0;
	if (sscanf(url, "udp://%63[0-9.]:%d", host, &port) != 2 || port <= 0 || port > 65535 ||
	    strncmp(host, "127.", 4))
		return -EINVAL;
	return uv_ip4_addr(host, port, sa) ? -EINVAL : 0;
}

int udprx_init(struct bench *b)
{
	struct sockaddr_in sa;
	if (parse_url(b->o.url, &sa) < 0) {
		fprintf(stderr, "weir-bench: --url must be udp://127.x.x.x:port\n");
		return -EINVAL;
	}
	struct udprx *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->b = b;
	b->udp = u;
	uv_udp_init(b->loop, &u->udp);
	u->udp.data = u;
	int rc = uv_udp_bind(&u->udp, (const struct sockaddr *)&sa, UV_UDP_REUSEADDR);
	if (!rc) {
		int big = 8 << 20;
		uv_recv_buffer_size((uv_handle_t *)&u->udp, &big);
		rc = uv_udp_recv_start(&u->udp, on_alloc, on_recv);
	}
	if (rc)
		fprintf(stderr, "weir-bench: cannot receive on %s: %s\n", b->o.url,
			uv_strerror(rc));
	return rc;
}

int udprx_start(struct bench *b, struct viewer *v)
{
	v->b = b;
	v->srt_sock = -1;
	v->t_start_ns = uv_hrtime();
	v->ts = tsview_new(v);
	if (!v->ts || !b->udp || b->udp->v) {
		v->end = VE_FAILED;
		v->why = b->udp && b->udp->v ? "one udp-play viewer only" : "could not start";
		v->closed = true;
		b->nclosed++;
		return -EINVAL;
	}
	b->udp->v = v;
	return 0;
}

static void closed_udp(uv_handle_t *h)
{
	struct udprx *u = h->data;
	free(u->wall.bytes);
	free(u->media.bytes);
	free(u);
}

void udprx_stop(struct bench *b)
{
	struct udprx *u = b->udp;
	if (!u)
		return;
	b->udp = NULL;
	if (u->v) {
		tsview_free(u->v->ts);
		u->v->ts = NULL;
		if (!u->v->closed) {
			u->v->closed = true;
			b->nclosed++;
		}
	}
	uv_close((uv_handle_t *)&u->udp, closed_udp);
}

/* ---- the pacing report ---- */

struct pstats {
	size_t n, inside; /* windows, windows within +-tol of the mean */
	double mean_mbps, min_mbps, max_mbps, worst_pct, p1_pct, p99_pct;
};

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Windows [1, n-1) only: the first and the last are partial. */
static void pace_stats(const struct series *s, double window_s, double tol, struct pstats *o)
{
	memset(o, 0, sizeof(*o));
	if (s->n < 3)
		return;
	size_t n = s->n - 2;
	double *r = malloc(n * sizeof(*r)), sum = 0;
	if (!r)
		return;
	for (size_t i = 0; i < n; i++) {
		r[i] = (double)s->bytes[i + 1] * 8 / window_s / 1e6;
		sum += r[i];
	}
	o->n = n;
	o->mean_mbps = sum / (double)n;
	for (size_t i = 0; i < n; i++) {
		double dev = o->mean_mbps > 0 ? (r[i] / o->mean_mbps - 1) * 100 : 0;
		o->inside += fabs(dev) <= tol * 100;
		if (fabs(dev) > fabs(o->worst_pct))
			o->worst_pct = dev;
	}
	qsort(r, n, sizeof(*r), cmp_d);
	o->min_mbps = r[0];
	o->max_mbps = r[n - 1];
	o->p1_pct =
	    o->mean_mbps > 0 ? (r[(size_t)(0.01 * (double)(n - 1))] / o->mean_mbps - 1) * 100 : 0;
	o->p99_pct =
	    o->mean_mbps > 0 ? (r[(size_t)(0.99 * (double)(n - 1))] / o->mean_mbps - 1) * 100 : 0;
	free(r);
}

static void print_stats(const char *what, const struct pstats *s)
{
	printf("  %-18s %.2f Mbps mean; %zu of %zu windows within +-5%% (%.1f%%); "
	       "min %.2f max %.2f Mbps; worst %+.1f%%, p1 %+.1f%%, p99 %+.1f%%\n",
	       what, s->mean_mbps, s->inside, s->n,
	       s->n ? 100.0 * (double)s->inside / (double)s->n : 0, s->min_mbps, s->max_mbps,
	       s->worst_pct, s->p1_pct, s->p99_pct);
}

static json_t *json_stats(const struct pstats *s)
{
	return json_pack("{s:f,s:i,s:i,s:f,s:f,s:f,s:f,s:f,s:f}", "mean_mbps", s->mean_mbps,
			 "windows", (int)s->n, "inside_5pct", (int)s->inside, "inside_pct",
			 s->n ? 100.0 * (double)s->inside / (double)s->n : 0.0, "min_mbps",
			 s->min_mbps, "max_mbps", s->max_mbps, "worst_pct", s->worst_pct, "p1_pct",
			 s->p1_pct, "p99_pct", s->p99_pct);
}

void udprx_report(struct bench *b)
{
	struct udprx *u = b->udp;
	if (!u)
		return;
	double w = b->o.pace_window_ms / 1000;
	struct pstats wall, media;
	pace_stats(&u->wall, w, 0.05, &wall);
	pace_stats(&u->media, w, 0.05, &media);
	printf("  pacing (%.0f ms windows, %llu datagrams, %.0f B average)\n", b->o.pace_window_ms,
	       (unsigned long long)u->dgrams,
	       u->dgrams ? (double)u->dgram_bytes / (double)u->dgrams : 0);
	print_stats("received", &wall);
	print_stats("source (PTS)", &media);
	fflush(stdout);
	if (!b->o.json)
		return;
	json_t *j = json_load_file(b->o.json, 0, NULL);
	if (!j)
		return;
	json_t *series = json_array(); /* received Mb/s per window, for plots */
	for (size_t i = 0; i < u->wall.n; i++)
		json_array_append_new(series, json_real((double)u->wall.bytes[i] * 8 / w / 1e6));
	json_object_set_new(j, "pacing",
			    json_pack("{s:f,s:o,s:o,s:o}", "window_ms", b->o.pace_window_ms,
				      "received", json_stats(&wall), "source_pts",
				      json_stats(&media), "received_mbps", series));
	json_dump_file(j, b->o.json, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(j);
}
