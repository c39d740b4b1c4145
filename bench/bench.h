/* weir-bench: a one-process, one-loop load tool for live streaming servers.
 * Viewers (RTMP play, HTTP-FLV) and an optional built-in publisher share one
 * libuv loop, so the publisher's send time of every video frame is known to
 * the viewers, which compute publisher -> viewer latency from it. */
#ifndef WEIR_BENCH_BENCH_H
#define WEIR_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/bytes.h"
#include "proto/rtmp/chunk.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

/* ---- target URLs (target.c) ---- */

struct target {
	char host[256];
	int port;
	char app[256];   /* RTMP: first path segment */
	char name[1200]; /* RTMP: the rest (stream name, with query) */
	char tcurl[600]; /* RTMP: scheme://host:port/app */
	char path[2100]; /* HTTP: path and query */
};

/* Parses rtmp://host[:port]/app/name or http://host[:port]/path.
 * 0 or -EINVAL (other scheme, no app/name for RTMP). */
int target_parse(const char *url, struct target *t, bool *is_rtmp);

/* ---- histograms and send log (stats.c) ---- */

#define HIST_BUCKETS 704

/* Log-linear histogram of microsecond values (~3% resolution). */
struct hist {
	uint64_t count;
	uint64_t max_us;
	uint32_t bucket[HIST_BUCKETS];
};

void hist_add(struct hist *h, uint64_t us);
/* Value at quantile q (0..1) in microseconds (bucket middle); 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);
void hist_merge(struct hist *into, const struct hist *from);

/* Publisher send times of recent video frames, keyed by a hash of the frame
 * body (see media_key), so any viewer on any protocol can find the send time
 * of a frame whatever timestamps the server rewrote. Direct-mapped with
 * 4-way buckets; the oldest entry of a full bucket is replaced. */
#define SENDLOG_SETS 8192
struct sendlog {
	struct {
		uint64_t key;
		uint64_t t_ns;
	} slot[SENDLOG_SETS][4];
};

/* Hash of an FLV/RTMP video body: its length and its last (up to) 32 bytes,
 * which for coded video are entropy-coded data, unique per frame. tail holds
 * the last tail_len (= min(body_len, 32)) bytes of the body. */
uint64_t media_key(const uint8_t *tail, size_t tail_len, size_t body_len);
void sendlog_put(struct sendlog *l, uint64_t key, uint64_t t_ns);
/* Send time (ns, uv_hrtime clock) or 0 when unknown. */
uint64_t sendlog_get(const struct sendlog *l, uint64_t key);

/* /proc sampling of the server under test. */
struct proc_sample {
	bool ok;
	double cpu_s;    /* utime + stime, seconds */
	double wait_s;   /* runnable but waiting for a CPU (main thread), seconds */
	uint64_t rss_kb; /* VmRSS */
};
void proc_sample(int pid, struct proc_sample *s);
double self_cpu_s(void);  /* this process: user + system seconds */
double self_wait_s(void); /* this process's main thread: run-queue wait, seconds */

/* ---- connections (conn.c) ---- */

struct bconn;
struct bconn_ops {
	/* Connected. Return 0 or a negative errno (then the connection fails). */
	int (*connected)(struct bconn *c);
	/* Bytes arrived (after any bytes left unconsumed last time). Returns the
	 * count consumed (the rest is kept and offered again with more data) or
	 * a negative errno to fail the connection. */
	long (*data)(struct bconn *c, const uint8_t *p, size_t len);
	/* The connection failed or ended (once). why is a static string. */
	void (*ended)(struct bconn *c, const char *why);
	/* The handle is closed; the owner may free now. */
	void (*closed)(struct bconn *c);
};

struct bconn {
	uv_tcp_t tcp;
	uv_connect_t creq;
	const struct bconn_ops *ops;
	uint8_t *carry; /* unconsumed input, carry_len of carry_cap bytes */
	uint32_t carry_len, carry_cap;
	uint64_t rx_bytes;
	uint64_t rx_ns; /* uv_hrtime of the read being processed */
	bool open, ended;
};

/* Starts connecting to host:port (IPv4 literal). Negative errno when nothing
 * was started (no callback will run); 0 otherwise, also when the connect
 * failed at once (ended() and closed() then follow as for any failure). */
int bconn_connect(struct bconn *c, uv_loop_t *loop, const struct bconn_ops *ops, const char *host,
		  int port);
/* Queues a copy of p[0..len). 0 or negative errno. */
int bconn_write(struct bconn *c, const void *p, size_t len);
/* Bytes queued but not yet written to the socket. */
size_t bconn_queued(const struct bconn *c);
/* Ends the connection (ended(why) runs unless it ran) and closes it. */
void bconn_fail(struct bconn *c, const char *why);
/* Total bytes read by all connections (for throughput windows). */
extern uint64_t bconn_total_rx;

/* ---- RTMP client (rtmpc.c) ---- */

struct rtmpc;
struct rtmpc_cbs {
	void (*started)(struct rtmpc *r); /* play/publish accepted */
	/* A media (8/9) message; payload valid during the call. */
	void (*media)(struct rtmpc *r, const struct rtmp_msg *m);
	void (*ended)(struct rtmpc *r, const char *why);
	void (*closed)(struct rtmpc *r);
};

struct rtmpc {
	struct bconn conn;
	const struct rtmpc_cbs *cbs;
	void *arg; /* the owner's */
	const struct target *t;
	bool publish;
	int state;
	uint8_t *c0c1; /* handshake only */
	struct rtmp_chunk_reader rd;
	struct rtmp_chunk_writer wr;
	uint32_t win_ack; /* the server's window: acknowledge every this many bytes */
	uint64_t acked;
	uint32_t msid;
};

int rtmpc_start(struct rtmpc *r, uv_loop_t *loop, const struct target *t, bool publish,
		const struct rtmpc_cbs *cbs);
/* Publisher: sends one media or data message on the publish stream. */
int rtmpc_send(struct rtmpc *r, uint8_t type, uint32_t ts_ms, const uint8_t *body, size_t len);

/* ---- bench (main.c, viewer.c, publisher.c, report.c) ---- */

enum bench_mode {
	MODE_RTMP_PLAY,
	MODE_FLV_PLAY,
	MODE_RTMP_PUBLISH,
	MODE_HLS_PLAY,
	MODE_SRT_PLAY, /* SRT callers (libsrt), MPEG-TS */
	MODE_UDP_PLAY, /* one MPEG-TS over UDP receiver (a push target) */
};

struct bench_opts {
	enum bench_mode mode;
	const char *url;
	const char *publish_url;
	const char *publish_file;
	bool synthetic;
	unsigned video_kbps; /* synthetic video bitrate */
	unsigned viewers;
	double ramp_per_s;
	double duration_s; /* all viewers connected, seconds */
	double warmup_s;   /* after the publisher started, before viewers */
	double settle_s;   /* start of the steady phase left out of the window */
	int pid;
	const char *json;
	const char *label;
	bool quiet;
	bool expect_frames;    /* exit 3 unless every viewer got video */
	double behind_ms;      /* drift that counts as falling behind */
	int srt_latency_ms;    /* SRTO_LATENCY of srt-play viewers; -1: libsrt's default */
	double pace_window_ms; /* udp-play: bitrate windows (default 100) */
};

enum viewer_end {
	VE_NONE,   /* still playing at the end */
	VE_FAILED, /* connection or protocol failure */
	VE_EOF,    /* the server ended the stream or closed */
};

struct viewer {
	struct bench *b;
	unsigned id;
	bool rtmp;
	struct rtmpc *r;   /* RTMP viewer */
	struct flvc *f;    /* HTTP-FLV viewer */
	struct hlsc *h;    /* HLS viewer */
	struct tsview *ts; /* srt-play, udp-play: MPEG-TS parser */
	int srt_sock;      /* srt-play: SRTSOCKET, -1 when none */
	uint32_t skips;    /* HLS: next part had left the playlist window */
	enum viewer_end end;
	const char *why;
	uint64_t t_start_ns;     /* connect started */
	uint64_t t_first_ns;     /* first video frame of any kind */
	uint64_t t_first_key_ns; /* first decodable (key) video frame */
	uint64_t t_last_ns;      /* last video frame */
	uint64_t t_end_ns;
	uint64_t rx_bytes_at_end;
	uint32_t vframes, aframes, gaps;
	int64_t first_ts_ms, last_ts_ms;
	int64_t min_lag_ms; /* min over frames of wall elapsed - media elapsed */
	bool closed;
};

struct bench {
	uv_loop_t *loop;
	struct bench_opts o;
	struct target vt, pt; /* viewer and publisher targets */
	struct publisher *pub;
	struct sendlog *log;
	struct viewer *v;
	unsigned nstarted, nclosed;
	int phase;
	uint64_t t0_ns, t_pub_ready_ns, t_ramp_ns, t_ramp_end_ns, t_win_ns, t_end_ns;
	uv_timer_t tick, ramp;
	bool in_window;
	/* window accounting */
	uint64_t win_rx0;
	struct proc_sample srv_idle, srv_win0, srv_end, srv_last;
	uint64_t srv_rss_max_kb;
	double self_win0, self_end, self_last;
	double self_wait0, self_wait_end;
	uint64_t last_rx;
	struct hist lat;     /* publisher -> viewer, in the window */
	struct hist lat_sec; /* same, last second (progress line) */
	uint64_t unmatched;  /* video frames in the window with no send time */
	int exit_code;
	bool stopping;
	uint64_t stall_ns; /* no video this long at the end = stalled (2 s; HLS: 2 targets) */
	struct {
		uint64_t parts, win_parts, failed_req, skips;
	} hls;
	struct srtc *srt;  /* srt-play: the SRT I/O thread */
	struct udprx *udp; /* udp-play: the receiver */
};

/* viewer.c */
int viewer_start(struct bench *b, struct viewer *v);
void viewer_close(struct viewer *v);
/* A video tag body arrived (prefix included). tail: last min(len, 32) bytes. */
void viewer_on_video(struct viewer *v, uint64_t now_ns, uint32_t ts_ms, const uint8_t *body,
		     size_t len, const uint8_t *tail, size_t tail_len);

/* The HTTP-FLV client's connection ended (why: static) / was closed. */
void viewer_flv_ended(struct viewer *v, const char *why);
void viewer_flv_closed(struct viewer *v);

/* HLS: a video PES started in this TS packet (PTS in 90 kHz, 0 if none). */
void viewer_on_ts_video(struct viewer *v, uint64_t now_ns, uint32_t ts_ms);
int ts_video_pts(const uint8_t *pkt, uint64_t *pts);

/* hlsc.c: HLS / LL-HLS player (ends and closes through viewer_flv_*). */
struct hlsc *hlsc_start(struct viewer *v, uv_loop_t *loop, const struct target *t);
void hlsc_close(struct hlsc *h);

/* flvc.c: HTTP-FLV client. NULL when it could not start (no callbacks). */
struct flvc *flvc_start(struct viewer *v, uv_loop_t *loop, const struct target *t);
void flvc_close(struct flvc *f);

/* publisher.c */
struct publisher_stats {
	uint64_t frames, bytes, loops, late_ms_max;
	size_t queued_max;
};
struct publisher *publisher_new(struct bench *b, const struct target *t, const char *file,
				bool synthetic, unsigned video_kbps);
/* Connects and starts publishing; ready() runs once media flows. */
int publisher_start(struct publisher *p, void (*ready)(struct bench *b),
		    void (*failed)(struct bench *b, const char *why));
void publisher_stop(struct publisher *p);
void publisher_stats(const struct publisher *p, struct publisher_stats *s);
void publisher_free(struct publisher *p);

/* tsview.c: MPEG-TS viewer side of srt-play and udp-play. Parses PAT/PMT
 * and the video PES; every complete video access unit counts as a frame
 * (media time from its PTS) and its latency is looked up in the send log:
 * the FLV body the publisher sent is rebuilt from the Annex B NALs (the
 * muxer's AUD and, before keyframes, parameter sets left out), so the
 * media_key of the RTMP tag survives weir's FLV -> TS remux. */
struct tsview *tsview_new(struct viewer *v);
void tsview_free(struct tsview *t);
/* TS bytes (any alignment) received at rx_ns (uv_hrtime clock). */
void tsview_feed(struct tsview *t, const uint8_t *p, size_t len, uint64_t rx_ns);
/* Exact latency quantiles of every TS viewer (ms): q = p50, p99, max,
 * min. Returns the sample count (0: none). */
int tsview_latency_exact(double q[4]);
/* Prints them and adds "latency_exact_ms" to the JSON file. */
void tsview_report(struct bench *b);
/* Counters for the report: bytes seen, TS continuity errors. */
uint64_t tsview_cc_errors(const struct tsview *t);

/* srtc.c: srt-play viewers. One thread waits on libsrt's epoll and reads;
 * the loop takes the bytes (with their receive times) through a uv_async
 * and feeds each viewer's tsview. --url srt://127.0.0.1:port?streamid=S */
int srtc_init(struct bench *b);
int srtc_start(struct bench *b, struct viewer *v);
/* Stops the thread, closes every viewer (ended/closed as for the others). */
void srtc_stop(struct bench *b);

/* udprx.c: udp-play. Binds --url udp://127.0.0.1:port at setup (so that a
 * push target never sees a closed port), counts from viewer start; also
 * measures pacing: bitrate per --pace-window-ms window. */
int udprx_init(struct bench *b);
int udprx_start(struct bench *b, struct viewer *v);
void udprx_stop(struct bench *b);
/* Prints the pacing table (stdout) and adds "pacing" to the JSON file. */
void udprx_report(struct bench *b);

/* report.c */
void report_progress(struct bench *b, uint64_t now_ns);
int report_final(struct bench *b);

#endif
