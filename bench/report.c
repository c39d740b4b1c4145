/* Progress lines (stderr, once a second) and the final table + JSON. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define MAX_REASONS 8

static const char *mode_name(enum bench_mode m)
{
	static const char *const names[] = {"rtmp-play", "flv-play", "rtmp-publish",
					    "hls-play",  "srt-play", "udp-play"};
	return names[m];
}

void report_progress(struct bench *b, uint64_t now_ns)
{
	struct proc_sample s;
	proc_sample(b->o.pid, &s);
	double self = self_cpu_s();
	static uint64_t last_ns;
	double dt = last_ns ? (double)(now_ns - last_ns) / NS_PER_S : 1;
	unsigned playing = 0;
	for (unsigned i = 0; i < b->nstarted; i++)
		playing += b->v[i].t_first_key_ns && b->v[i].end == VE_NONE;
	char srv[64] = "";
	if (s.ok && b->srv_last.ok)
		snprintf(srv, sizeof(srv), " | server cpu %3.0f%% rss %.1f MB",
			 (s.cpu_s - b->srv_last.cpu_s) / dt * 100, (double)s.rss_kb / 1024);
	char lat[64] = "";
	if (b->lat_sec.count)
		snprintf(lat, sizeof(lat), " | latency p50 %.1f p99 %.1f ms",
			 (double)hist_quantile(&b->lat_sec, 0.5) / 1000,
			 (double)hist_quantile(&b->lat_sec, 0.99) / 1000);
	fprintf(stderr, "[%6.1fs] viewers %u/%u playing %u | rx %.1f Mbps%s | tool cpu %3.0f%%%s\n",
		(double)(now_ns - b->t0_ns) / NS_PER_S, b->nstarted, b->o.viewers, playing,
		(double)(bconn_total_rx - b->last_rx) * 8 / dt / 1e6, srv,
		(self - b->self_last) / dt * 100, lat);
	b->srv_last = s;
	b->self_last = self;
	b->last_rx = bconn_total_rx;
	last_ns = now_ns;
	memset(&b->lat_sec, 0, sizeof(b->lat_sec));
}

/* ---- the end of a run ---- */

struct summary {
	unsigned started, with_video, eof, failed, stalled, drifted, gapped, behind, no_frames,
	    skipped;
	double *ttff_ms; /* per viewer with a keyframe */
	unsigned nttff;
	struct {
		const char *why;
		unsigned n;
	} reasons[MAX_REASONS];
	double window_s, mbps, gb;
	double srv_cpu_s, srv_cpu_pct, srv_cpu_s_per_gb, tool_cpu_pct;
	double srv_wait_pct, tool_wait_pct; /* share of the window spent waiting for a CPU */
	double rss_idle_mb, rss_loaded_mb, rss_max_mb, mem_per_viewer_kb;
	bool srv_ok;
};

static void count_reason(struct summary *s, const char *why)
{
	for (int i = 0; i < MAX_REASONS; i++) {
		if (!s->reasons[i].why || !strcmp(s->reasons[i].why, why)) {
			s->reasons[i].why = why;
			s->reasons[i].n++;
			return;
		}
	}
}

/* Drift: how far media time fell behind wall-clock time since the viewer
 * was furthest ahead (a GOP-cache burst puts a viewer ahead at first). */
static double drift_ms(const struct viewer *v, uint64_t end_ns)
{
	double lag = (double)(end_ns - v->t_first_key_ns) / NS_PER_MS -
		     (double)(v->last_ts_ms - v->first_ts_ms);
	return lag - (double)v->min_lag_ms;
}

static void judge_viewer(struct bench *b, const struct viewer *v, struct summary *s)
{
	bool got = v->t_first_key_ns != 0, early = v->end != VE_NONE;
	uint64_t end = early ? v->t_end_ns : b->t_end_ns;
	bool stalled = got && !early && b->t_end_ns - v->t_last_ns > b->stall_ns;
	bool drifted = got && drift_ms(v, end) > b->o.behind_ms;
	s->with_video += got;
	s->no_frames += v->vframes == 0;
	s->eof += v->end == VE_EOF;
	s->failed += v->end == VE_FAILED;
	s->stalled += stalled;
	s->drifted += drifted;
	s->gapped += v->gaps > 0;
	s->skipped += v->skips > 0;
	s->behind += !got || early || stalled || drifted || v->gaps > 0 || v->skips > 0;
	if (early)
		count_reason(s, v->why ? v->why : "?");
	if (got)
		s->ttff_ms[s->nttff++] = (double)(v->t_first_key_ns - v->t_start_ns) / NS_PER_MS;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *v, unsigned n, double q)
{
	return n ? v[(unsigned)(q * (n - 1) + 0.5)] : 0;
}

static void resources(struct bench *b, struct summary *s)
{
	s->window_s = (double)(b->t_end_ns - b->t_win_ns) / NS_PER_S;
	double bytes = (double)(bconn_total_rx - b->win_rx0);
	s->gb = bytes / 1e9;
	s->mbps = s->window_s > 0 ? bytes * 8 / s->window_s / 1e6 : 0;
	if (s->window_s <= 0)
		return;
	s->tool_cpu_pct = (b->self_end - b->self_win0) / s->window_s * 100;
	s->tool_wait_pct = (b->self_wait_end - b->self_wait0) / s->window_s * 100;
	s->srv_ok = b->srv_win0.ok && b->srv_end.ok;
	if (!s->srv_ok)
		return;
	s->srv_cpu_s = b->srv_end.cpu_s - b->srv_win0.cpu_s;
	s->srv_cpu_pct = s->srv_cpu_s / s->window_s * 100;
	s->srv_wait_pct = (b->srv_end.wait_s - b->srv_win0.wait_s) / s->window_s * 100;
	s->srv_cpu_s_per_gb = s->gb > 0 ? s->srv_cpu_s / s->gb : 0;
	s->rss_idle_mb = (double)b->srv_idle.rss_kb / 1024;
	s->rss_loaded_mb = (double)b->srv_end.rss_kb / 1024;
	s->rss_max_mb = (double)b->srv_rss_max_kb / 1024;
	if (b->o.viewers)
		s->mem_per_viewer_kb =
		    ((double)b->srv_end.rss_kb - (double)b->srv_idle.rss_kb) / b->o.viewers;
}

static void summarize(struct bench *b, struct summary *s)
{
	memset(s, 0, sizeof(*s));
	s->started = b->nstarted;
	s->ttff_ms = calloc(b->nstarted + 1, sizeof(double));
	for (unsigned i = 0; s->ttff_ms && i < b->nstarted; i++)
		judge_viewer(b, &b->v[i], s);
	if (s->ttff_ms)
		qsort(s->ttff_ms, s->nttff, sizeof(double), cmp_double);
	s->behind += b->o.viewers - b->nstarted; /* never started */
	resources(b, s);
}

static double ms(uint64_t us)
{
	return (double)us / 1000;
}

static void print_hls(struct bench *b, const struct summary *s)
{
	printf("  hls parts          %.1f parts/s in the window (%llu in all), %llu failed "
	       "requests, %llu skips (%u viewers)\n",
	       s->window_s > 0 ? (double)b->hls.win_parts / s->window_s : 0,
	       (unsigned long long)b->hls.parts, (unsigned long long)b->hls.failed_req,
	       (unsigned long long)b->hls.skips, s->skipped);
	printf("  latency (PDT)      p50 %.1f ms, p99 %.1f ms, max %.1f ms (n=%llu parts; wall "
	       "clock at download end - PROGRAM-DATE-TIME + part offset)\n",
	       ms(hist_quantile(&b->lat, 0.5)), ms(hist_quantile(&b->lat, 0.99)), ms(b->lat.max_us),
	       (unsigned long long)b->lat.count);
}

static void print_table(struct bench *b, const struct summary *s)
{
	printf("== weir-bench %s%s%s: %s\n", mode_name(b->o.mode), b->o.label ? " " : "",
	       b->o.label ? b->o.label : "", b->o.url);
	if (b->o.mode != MODE_RTMP_PUBLISH) {
		unsigned n = b->o.viewers;
		printf("  viewers            %u started, %u with video, %u behind (%.1f%%)\n",
		       s->started, s->with_video, s->behind, n ? 100.0 * s->behind / n : 0);
		printf("  window             %.1f s (after %.1f s settle)\n", s->window_s,
		       b->o.settle_s);
		printf("  delivered          %.1f Mbps (%.2f Mbps per viewer)\n", s->mbps,
		       n ? s->mbps / n : 0);
	}
	if (s->srv_ok && b->o.mode == MODE_RTMP_PUBLISH)
		printf(
		    "  server cpu         %.1f%% of a core (waited for a CPU %.1f%% of the time), "
		    "rss %.1f MB\n",
		    s->srv_cpu_pct, s->srv_wait_pct, s->rss_loaded_mb);
	if (s->srv_ok && b->o.mode != MODE_RTMP_PUBLISH) {
		printf(
		    "  server cpu         %.1f%% of a core, %.3f s per GB delivered (waited for a "
		    "CPU %.1f%% of the time)\n",
		    s->srv_cpu_pct, s->srv_cpu_s_per_gb, s->srv_wait_pct);
		printf(
		    "  server rss         idle %.1f MB, loaded %.1f MB, max %.1f MB -> %.1f KB per "
		    "viewer\n",
		    s->rss_idle_mb, s->rss_loaded_mb, s->rss_max_mb, s->mem_per_viewer_kb);
	}
	if (b->o.mode != MODE_RTMP_PUBLISH) {
		printf("  time to 1st frame  p50 %.1f ms, p99 %.1f ms, max %.1f ms (n=%u)\n",
		       pct(s->ttff_ms, s->nttff, 0.5), pct(s->ttff_ms, s->nttff, 0.99),
		       pct(s->ttff_ms, s->nttff, 1), s->nttff);
		if (b->o.mode == MODE_HLS_PLAY)
			print_hls(b, s);
		else if (b->pub)
			printf("  added latency      p50 %.1f ms, p99 %.1f ms, max %.1f ms (n=%llu "
			       "frames, %llu unmatched)\n",
			       ms(hist_quantile(&b->lat, 0.5)), ms(hist_quantile(&b->lat, 0.99)),
			       ms(b->lat.max_us), (unsigned long long)b->lat.count,
			       (unsigned long long)b->unmatched);
		printf("  behind             no video %u, ended early %u (eof %u), stalled %u, "
		       "drift>%.0fms %u, gaps %u\n",
		       s->started - s->with_video, s->eof + s->failed, s->eof, s->stalled,
		       b->o.behind_ms, s->drifted, s->gapped);
		for (int i = 0; i < MAX_REASONS && s->reasons[i].why; i++)
			printf("    ended: %-22s %u\n", s->reasons[i].why, s->reasons[i].n);
	}
	printf("  tool cpu           %.1f%% of a core (waited for a CPU %.1f%% of the time)\n",
	       s->tool_cpu_pct, s->tool_wait_pct);
	if (b->pub) {
		struct publisher_stats ps;
		publisher_stats(b->pub, &ps);
		double secs = (double)(b->t_end_ns - b->t_pub_ready_ns) / NS_PER_S;
		printf("  publisher          %llu tags, %.2f Mbps, %llu loops, late max %llu ms, "
		       "queue max %zu B\n",
		       (unsigned long long)ps.frames,
		       secs > 0 ? (double)ps.bytes * 8 / secs / 1e6 : 0,
		       (unsigned long long)ps.loops, (unsigned long long)ps.late_ms_max,
		       ps.queued_max);
	}
	fflush(stdout);
}

static json_t *json_hist(const struct hist *h)
{
	return json_pack("{s:f,s:f,s:f,s:I}", "p50", ms(hist_quantile(h, 0.5)), "p99",
			 ms(hist_quantile(h, 0.99)), "max", ms(h->max_us), "n",
			 (json_int_t)h->count);
}

static json_t *json_summary(struct bench *b, const struct summary *s)
{
	unsigned n = b->o.viewers;
	json_t *reasons = json_object();
	for (int i = 0; i < MAX_REASONS && s->reasons[i].why; i++)
		json_object_set_new(reasons, s->reasons[i].why, json_integer(s->reasons[i].n));
	json_t *j = json_pack("{s:s,s:s,s:s?,s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "mode",
			      mode_name(b->o.mode), "url", b->o.url, "label", b->o.label, "viewers",
			      (int)n, "duration_s", b->o.duration_s, "window_s", s->window_s,
			      "delivered_mbps", s->mbps, "delivered_gb", s->gb, "tool_cpu_pct",
			      s->tool_cpu_pct, "tool_wait_pct", s->tool_wait_pct, "behind_pct",
			      n ? 100.0 * s->behind / n : 0);
	json_object_set_new(j, "viewer_counts",
			    json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:o}", "started",
				      s->started, "with_video", s->with_video, "no_frames",
				      s->no_frames, "eof", s->eof, "failed", s->failed, "stalled",
				      s->stalled, "drifted", s->drifted, "gaps", s->gapped,
				      "behind", s->behind, "end_reasons", reasons));
	if (s->srv_ok)
		json_object_set_new(
		    j, "server",
		    json_pack("{s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "pid", b->o.pid, "cpu_s",
			      s->srv_cpu_s, "cpu_pct", s->srv_cpu_pct, "wait_pct", s->srv_wait_pct,
			      "cpu_s_per_gb", s->srv_cpu_s_per_gb, "rss_idle_mb", s->rss_idle_mb,
			      "rss_loaded_mb", s->rss_loaded_mb, "rss_max_mb", s->rss_max_mb,
			      "mem_per_viewer_kb", s->mem_per_viewer_kb));
	json_object_set_new(j, "ttff_ms",
			    json_pack("{s:f,s:f,s:f,s:i}", "p50", pct(s->ttff_ms, s->nttff, 0.5),
				      "p99", pct(s->ttff_ms, s->nttff, 0.99), "max",
				      pct(s->ttff_ms, s->nttff, 1), "n", s->nttff));
	if (b->o.mode == MODE_HLS_PLAY)
		json_object_set_new(
		    j, "hls",
		    json_pack("{s:f,s:I,s:I,s:I,s:i,s:o}", "parts_per_s",
			      s->window_s > 0 ? (double)b->hls.win_parts / s->window_s : 0, "parts",
			      (json_int_t)b->hls.parts, "failed_requests",
			      (json_int_t)b->hls.failed_req, "skips", (json_int_t)b->hls.skips,
			      "viewers_skipped", s->skipped, "latency_pdt_ms", json_hist(&b->lat)));
	else if (b->pub) {
		json_t *lat = json_hist(&b->lat);
		json_object_set_new(lat, "unmatched", json_integer((json_int_t)b->unmatched));
		json_object_set_new(j, "latency_ms", lat);
	}
	return j;
}

static int write_json(struct bench *b, const struct summary *s)
{
	json_t *j = json_summary(b, s);
	int rc = j ? json_dump_file(j, b->o.json, JSON_INDENT(2) | JSON_SORT_KEYS) : -1;
	json_decref(j);
	if (rc)
		fprintf(stderr, "weir-bench: cannot write %s\n", b->o.json);
	return rc ? 1 : 0;
}

int report_final(struct bench *b)
{
	struct summary s;
	summarize(b, &s);
	print_table(b, &s);
	int rc = b->o.json ? write_json(b, &s) : 0;
	if (b->o.expect_frames && (s.no_frames || s.started < b->o.viewers)) {
		fprintf(stderr, "weir-bench: %u of %u viewers received no video\n",
			s.no_frames + (b->o.viewers - s.started), b->o.viewers);
		rc = 3;
	}
	free(s.ttff_ms);
	return rc;
}
