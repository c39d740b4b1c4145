/* weir-bench: options, run phases (publish, warm-up, ramp, steady), exit. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"

enum { PH_PUBLISH, PH_WARMUP, PH_RAMP, PH_STEADY, PH_DONE };

#define PHASE_TICK_MS       10
#define PUBLISH_WAIT_NS     (10 * NS_PER_S) /* publisher must be live by then */
#define MAX_STARTS_PER_TICK 500

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: weir-bench MODE [options]\n"
		"Modes:\n"
		"  rtmp-play       viewers play --url rtmp://127.0.0.1[:port]/app/stream\n"
		"  flv-play        viewers GET --url http://127.0.0.1[:port]/stream.flv\n"
		"  rtmp-publish    only publish to --url for --duration seconds\n"
		"  hls-play        LL-HLS players (plain HLS without EXT-X-PART) of\n"
		"                  --url http://127.0.0.1[:port]/hls/stream/index.m3u8\n"
		"  srt-play        SRT callers reading MPEG-TS from\n"
		"                  --url srt://127.0.0.1:port?streamid=stream\n"
		"  udp-play        one MPEG-TS over UDP receiver on --url udp://127.0.0.1:port\n"
		"                  (a push target), with pacing windows\n"
		"Options:\n"
		"  --url URL           viewer URL (the publish URL in rtmp-publish mode)\n"
		"  --viewers N         viewers (default 10)\n"
		"  --ramp PER_SEC      viewer connects per second (default 200; 0: all at once)\n"
		"  --duration S        seconds all viewers stay connected (default 10)\n"
		"  --settle S          first seconds of those left out of the window (default 2,\n"
		"                      at most a quarter of the duration)\n"
		"  --warmup S          seconds from publish start to the first viewer (default 3)\n"
		"  --publish-url URL   built-in publisher target (play modes)\n"
		"  --publish-file F    FLV file (H.264 [+ AAC]) published in real time, looped\n"
		"  --synthetic         publish synthetic 30 fps video + AAC-sized audio instead\n"
		"  --video-kbps K      synthetic video bitrate (default 2000)\n"
		"  --pid PID           server process: CPU from /proc/PID/stat, RSS from status\n"
		"  --behind-ms MS      media-time drift that counts as behind (default 2000)\n"
		"  --srt-latency MS    srt-play: SRTO_LATENCY (default: libsrt's, 120)\n"
		"  --pace-window-ms MS udp-play: bitrate window (default 100)\n"
		"  --json FILE         also write the results as JSON\n"
		"  --label TEXT        a name for this run in the table and JSON\n"
		"  --expect-frames     exit 3 unless every viewer received video\n"
		"  --quiet             no progress line every second\n"
		"Latency needs the built-in publisher: each video frame's send time is looked\n"
		"up by a hash of its body when a viewer receives it.\n");
}

static int parse_mode(const char *s, enum bench_mode *m)
{
	static const char *const names[] = {"rtmp-play", "flv-play", "rtmp-publish",
					    "hls-play",  "srt-play", "udp-play"};
	for (int i = 0; i < 6; i++) {
		if (!strcmp(s, names[i])) {
			*m = (enum bench_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_opt(struct bench_opts *o, int ch, const char *arg)
{
	double v = 0;
	switch (ch) {
	case 'u':
		o->url = arg;
		return 0;
	case 'P':
		o->publish_url = arg;
		return 0;
	case 'f':
		o->publish_file = arg;
		return 0;
	case 's':
		o->synthetic = true;
		return 0;
	case 'j':
		o->json = arg;
		return 0;
	case 'l':
		o->label = arg;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case 'x':
		o->expect_frames = true;
		return 0;
	case 'n':
		if (parse_num(arg, 0, 1e6, &v))
			return -EINVAL;
		o->viewers = (unsigned)v;
		return 0;
	case 'r':
		return parse_num(arg, 0, 1e6, &o->ramp_per_s);
	case 'd':
		return parse_num(arg, 0.1, 86400, &o->duration_s);
	case 'S':
		return parse_num(arg, 0, 3600, &o->settle_s);
	case 'w':
		return parse_num(arg, 0, 3600, &o->warmup_s);
	case 'k':
		if (parse_num(arg, 10, 1e6, &v))
			return -EINVAL;
		o->video_kbps = (unsigned)v;
		return 0;
	case 'p':
		if (parse_num(arg, 1, 1 << 30, &v))
			return -EINVAL;
		o->pid = (int)v;
		return 0;
	case 'b':
		return parse_num(arg, 1, 1e7, &o->behind_ms);
	case 'L':
		if (parse_num(arg, 0, 60000, &v))
			return -EINVAL;
		o->srt_latency_ms = (int)v;
		return 0;
	case 'W':
		return parse_num(arg, 1, 10000, &o->pace_window_ms);
	default:
		return -EINVAL;
	}
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option lo[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"publish-url", required_argument, NULL, 'P'},
	    {"publish-file", required_argument, NULL, 'f'},
	    {"synthetic", no_argument, NULL, 's'},
	    {"json", required_argument, NULL, 'j'},
	    {"label", required_argument, NULL, 'l'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"expect-frames", no_argument, NULL, 'x'},
	    {"viewers", required_argument, NULL, 'n'},
	    {"ramp", required_argument, NULL, 'r'},
	    {"duration", required_argument, NULL, 'd'},
	    {"settle", required_argument, NULL, 'S'},
	    {"warmup", required_argument, NULL, 'w'},
	    {"video-kbps", required_argument, NULL, 'k'},
	    {"pid", required_argument, NULL, 'p'},
	    {"behind-ms", required_argument, NULL, 'b'},
	    {"srt-latency", required_argument, NULL, 'L'},
	    {"pace-window-ms", required_argument, NULL, 'W'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*o = (struct bench_opts){.viewers = 10,
				 .ramp_per_s = 200,
				 .duration_s = 10,
				 .settle_s = 2,
				 .warmup_s = 3,
				 .behind_ms = 2000,
				 .srt_latency_ms = -1,
				 .pace_window_ms = 100};
	if (argc < 2 || parse_mode(argv[1], &o->mode) < 0) {
		usage(argc > 1 && !strcmp(argv[1], "--help") ? stdout : stderr);
		return -EINVAL;
	}
	optind = 2;
	int ch;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'h' || parse_opt(o, ch, optarg) < 0) {
			usage(ch == 'h' ? stdout : stderr);
			return -EINVAL;
		}
	}
	if (o->settle_s > o->duration_s / 4)
		o->settle_s = o->duration_s / 4;
	return 0;
}

/* Resolves URLs and checks the option combination. */
static int check_setup(struct bench *b)
{
	struct bench_opts *o = &b->o;
	bool rtmp = false, prtmp = false;
	bool ts_mode = o->mode == MODE_SRT_PLAY || o->mode == MODE_UDP_PLAY;
	if (ts_mode && !o->url) {
		fprintf(stderr, "weir-bench: --url is needed\n");
		return -EINVAL;
	}
	if (!ts_mode && (!o->url || target_parse(o->url, &b->vt, &rtmp) < 0 ||
			 rtmp != (o->mode != MODE_FLV_PLAY && o->mode != MODE_HLS_PLAY))) {
		fprintf(stderr, "weir-bench: --url must be a loopback %s URL\n",
			rtmp ? "http://" : "rtmp://");
		return -EINVAL;
	}
	if (o->mode == MODE_UDP_PLAY)
		o->viewers = o->viewers ? 1 : 0; /* one receiver per port */
	bool publishing = o->publish_file || o->synthetic;
	if (o->mode == MODE_RTMP_PUBLISH) {
		b->pt = b->vt;
		o->viewers = 0;
		if (!publishing)
			o->synthetic = true;
		return 0;
	}
	if (publishing &&
	    (!o->publish_url || target_parse(o->publish_url, &b->pt, &prtmp) < 0 || !prtmp)) {
		fprintf(stderr, "weir-bench: --publish-url must be a loopback rtmp:// URL\n");
		return -EINVAL;
	}
	return 0;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* ---- phases ---- */

static void on_closed_handle(uv_handle_t *h) {}

static void finish(struct bench *b)
{
	if (b->phase == PH_DONE)
		return;
	b->phase = PH_DONE;
	uint64_t now = uv_hrtime();
	if (!b->in_window) { /* ended early: an empty window */
		b->t_win_ns = now;
		b->win_rx0 = bconn_total_rx;
		proc_sample(b->o.pid, &b->srv_win0);
		b->self_win0 = self_cpu_s();
		b->self_wait0 = self_wait_s();
	}
	b->t_end_ns = now;
	b->self_wait_end = self_wait_s();
	proc_sample(b->o.pid, &b->srv_end);
	if (b->srv_end.rss_kb > b->srv_rss_max_kb)
		b->srv_rss_max_kb = b->srv_end.rss_kb;
	b->self_end = self_cpu_s();
	int rc = report_final(b);
	if (!b->exit_code)
		b->exit_code = rc;
	tsview_report(b);
	udprx_report(b);
	b->stopping = true;
	for (unsigned i = 0; i < b->nstarted; i++)
		viewer_close(&b->v[i]);
	srtc_stop(b);
	udprx_stop(b);
	if (b->pub)
		publisher_stop(b->pub);
	uv_close((uv_handle_t *)&b->tick, on_closed_handle);
	uv_close((uv_handle_t *)&b->ramp, on_closed_handle);
}

static void open_window(struct bench *b, uint64_t now)
{
	b->in_window = true;
	b->t_win_ns = now;
	b->win_rx0 = bconn_total_rx;
	proc_sample(b->o.pid, &b->srv_win0);
	b->self_win0 = self_cpu_s();
	b->self_wait0 = self_wait_s();
}

static void steady(struct bench *b, uint64_t now)
{
	b->phase = PH_STEADY;
	b->t_ramp_end_ns = now;
	b->t_win_ns = now + (uint64_t)(b->o.settle_s * NS_PER_S);
	b->t_end_ns = now + (uint64_t)(b->o.duration_s * NS_PER_S);
}

static void ramp(struct bench *b, uint64_t now)
{
	unsigned want = b->o.viewers;
	if (b->o.ramp_per_s > 0) {
		double due = 1 + (double)(now - b->t_ramp_ns) / NS_PER_S * b->o.ramp_per_s;
		if (due < want)
			want = (unsigned)due;
	}
	for (unsigned i = 0; b->nstarted < want && i < MAX_STARTS_PER_TICK; i++) {
		struct viewer *v = &b->v[b->nstarted++];
		v->id = b->nstarted;
		v->rtmp = b->o.mode == MODE_RTMP_PLAY;
		if (b->o.mode == MODE_SRT_PLAY)
			srtc_start(b, v);
		else if (b->o.mode == MODE_UDP_PLAY)
			udprx_start(b, v);
		else
			viewer_start(b, v);
	}
	if (b->nstarted == b->o.viewers)
		steady(b, now);
}

static void end_warmup(struct bench *b, uint64_t now)
{
	proc_sample(b->o.pid, &b->srv_idle);
	b->srv_rss_max_kb = b->srv_idle.rss_kb;
	b->phase = PH_RAMP;
	b->t_ramp_ns = now;
}

static void on_phase(uv_timer_t *t)
{
	struct bench *b = t->data;
	uint64_t now = uv_hrtime();
	if (b->phase == PH_PUBLISH && now - b->t0_ns > PUBLISH_WAIT_NS) {
		fprintf(stderr, "weir-bench: the publisher did not start within 10 s\n");
		b->exit_code = 2;
		finish(b);
		return;
	}
	if (b->phase == PH_WARMUP &&
	    now - b->t_pub_ready_ns >= (uint64_t)(b->o.warmup_s * NS_PER_S))
		end_warmup(b, now);
	if (b->phase == PH_RAMP)
		ramp(b, now);
	if (b->phase == PH_STEADY && !b->in_window && now >= b->t_win_ns)
		open_window(b, now);
	if (b->phase == PH_STEADY && now >= b->t_end_ns)
		finish(b);
}

static void on_tick(uv_timer_t *t)
{
	struct bench *b = t->data;
	if (b->phase != PH_DONE && !b->o.quiet)
		report_progress(b, uv_hrtime());
	else if (b->phase != PH_DONE)
		proc_sample(b->o.pid, &b->srv_last);
	if (b->srv_last.rss_kb > b->srv_rss_max_kb)
		b->srv_rss_max_kb = b->srv_last.rss_kb;
}

static void publisher_ready(struct bench *b)
{
	if (b->phase != PH_PUBLISH)
		return;
	b->t_pub_ready_ns = uv_hrtime();
	if (b->o.mode == MODE_RTMP_PUBLISH) {
		proc_sample(b->o.pid, &b->srv_idle);
		steady(b, b->t_pub_ready_ns);
		return;
	}
	b->phase = PH_WARMUP;
}

static void publisher_failed(struct bench *b, const char *why)
{
	fprintf(stderr, "weir-bench: publisher: %s\n", why);
	b->exit_code = 2;
	finish(b);
}

static int start(struct bench *b)
{
	b->t0_ns = uv_hrtime();
	uv_timer_init(b->loop, &b->tick);
	uv_timer_init(b->loop, &b->ramp);
	b->tick.data = b->ramp.data = b;
	uv_timer_start(&b->tick, on_tick, 1000, 1000);
	uv_timer_start(&b->ramp, on_phase, PHASE_TICK_MS, PHASE_TICK_MS);
	if (!b->pub) {
		b->phase = PH_WARMUP;
		b->t_pub_ready_ns = b->t0_ns;
		return 0;
	}
	b->phase = PH_PUBLISH;
	return publisher_start(b->pub, publisher_ready, publisher_failed);
}

static void on_sigint(uv_signal_t *s, int signum)
{
	struct bench *b = s->data;
	fprintf(stderr, "weir-bench: interrupted\n");
	finish(b);
	uv_close((uv_handle_t *)s, NULL);
}

static int setup(struct bench *b)
{
	if (check_setup(b) < 0)
		return -EINVAL;
	b->loop = uv_default_loop();
	b->stall_ns = 2 * NS_PER_S;
	b->log = calloc(1, sizeof(*b->log));
	b->v = calloc(b->o.viewers ? b->o.viewers : 1, sizeof(*b->v));
	if (!b->log || !b->v)
		return -ENOMEM;
	for (unsigned i = 0; i < (b->o.viewers ? b->o.viewers : 1); i++)
		b->v[i].srt_sock = -1;
	if (b->o.mode == MODE_SRT_PLAY && srtc_init(b) < 0)
		return -EINVAL;
	if (b->o.mode == MODE_UDP_PLAY && udprx_init(b) < 0)
		return -EINVAL;
	if (b->o.publish_file || b->o.synthetic) {
		b->pub =
		    publisher_new(b, &b->pt, b->o.publish_file, b->o.synthetic, b->o.video_kbps);
		if (!b->pub)
			return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct bench bench; /* large: histograms */
	struct bench *b = &bench;
	uv_signal_t sig;
	if (parse_args(argc, argv, &b->o) < 0)
		return 1;
	raise_fd_limit();
	if (setup(b) < 0)
		return 1;
	uv_signal_init(b->loop, &sig);
	sig.data = b;
	uv_signal_start(&sig, on_sigint, SIGINT);
	uv_unref((uv_handle_t *)&sig);
	if (start(b) < 0) {
		fprintf(stderr, "weir-bench: cannot start the publisher\n");
		b->exit_code = 2;
		finish(b);
	}
	uv_run(b->loop, UV_RUN_DEFAULT);
	if (!uv_is_closing((uv_handle_t *)&sig))
		uv_close((uv_handle_t *)&sig, NULL);
	uv_run(b->loop, UV_RUN_DEFAULT);
	publisher_free(b->pub);
	free(b->v);
	free(b->log);
	uv_loop_close(b->loop);
	return b->exit_code;
}
