/* Built-in RTMP publisher: sends a prepared FLV file's tags in real time
 * (looped, timestamps continuing), or synthetic H.264/AAC-shaped frames.
 * The send time of every video frame goes into the bench's send log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "format/amf0.h"

#define TAG_HEADER_BYTES 11
#define MAX_BURST_TAGS   2000 /* tags sent per timer run at most */
#define SYN_FPS          30
#define SYN_GOP          60 /* frames per keyframe interval (2 s) */
#define SYN_AUDIO_RATE   48000
#define SYN_AUDIO_BYTES  340 /* an AAC frame at ~128 kb/s */

struct ptag {
	uint8_t type;
	uint32_t ts_ms;
	uint32_t len;
	const uint8_t *body; /* NULL: absent */
};

struct publisher {
	struct bench *b;
	const struct target *t;
	struct rtmpc r;
	uv_timer_t timer;
	void (*ready)(struct bench *b);
	void (*failed)(struct bench *b, const char *why);
	/* clip */
	uint8_t *file;
	struct ptag *tags; /* timed frames only */
	size_t ntags, next;
	struct ptag vcfg, acfg, meta;
	uint32_t first_ts_ms, loop_ms;
	uint64_t loop;
	/* synthetic */
	bool synthetic;
	unsigned video_kbps;
	uint8_t *syn; /* scratch body, large enough for a keyframe */
	size_t syn_cap;
	uint64_t syn_vn, syn_an; /* video, audio frames made */
	/* state */
	uint64_t t0_ns;
	bool live, stopping;
	unsigned open_handles;
	struct publisher_stats st;
};

/* avcC of a 1280x720 High profile stream, as ffmpeg's libx264 writes it. */
static const uint8_t syn_avc_config[] = {
    0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a,
    0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10, 0x00,
    0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83, 0x19, 0x60,
    0x01, 0x00, 0x04, 0x68, 0xef, 0xbc, 0xb0, 0xfd, 0xf8, 0xf8, 0x00};
/* AAC LC, 48 kHz, stereo. */
static const uint8_t syn_aac_config[] = {0xaf, 0x00, 0x11, 0x90};

static int read_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -errno;
	int rc = -EIO;
	if (fseek(fp, 0, SEEK_END) || ftell(fp) <= 0)
		goto out;
	*len = (size_t)ftell(fp);
	rewind(fp);
	rc = -ENOMEM;
	if (!(*data = malloc(*len)))
		goto out;
	rc = fread(*data, 1, *len, fp) == *len ? 0 : -EIO;
out:
	fclose(fp);
	return rc;
}

/* Sequence headers and metadata are sent once; the first of each counts. */
static bool take_special(struct publisher *p, const struct ptag *t)
{
	struct ptag *slot = NULL;
	if (t->type == 18)
		slot = &p->meta;
	else if (t->type == 9 && t->len >= 2 && (t->body[0] & 15) == 7 && t->body[1] == 0)
		slot = &p->vcfg;
	else if (t->type == 8 && t->len >= 2 && (t->body[0] >> 4) == 10 && t->body[1] == 0)
		slot = &p->acfg;
	if (!slot)
		return false;
	if (!slot->body)
		*slot = *t;
	return true;
}

static int index_tags(struct publisher *p, size_t len)
{
	const uint8_t *d = p->file;
	if (len < 13 || memcmp(d, "FLV", 3))
		return -EPROTO;
	size_t pos = rd_be32(d + 5) + 4;
	if (!(p->tags = calloc(len / 15 + 1, sizeof(*p->tags))))
		return -ENOMEM;
	while (pos + TAG_HEADER_BYTES <= len) {
		struct ptag t = {.type = d[pos] & 0x1f, .len = rd_be24(d + pos + 1)};
		t.ts_ms = rd_be24(d + pos + 4) | (uint32_t)d[pos + 7] << 24;
		t.body = d + pos + TAG_HEADER_BYTES;
		if (pos + TAG_HEADER_BYTES + t.len > len)
			break;
		pos += TAG_HEADER_BYTES + t.len + 4;
		if ((t.type == 8 || t.type == 9 || t.type == 18) && !take_special(p, &t))
			p->tags[p->ntags++] = t;
	}
	return p->ntags && p->vcfg.body ? 0 : -EPROTO; /* H.264 video needed */
}

/* Loop length: clip duration plus one video frame interval. */
static void measure_loop(struct publisher *p)
{
	uint32_t first_v = 0, last_v = 0, last = 0;
	size_t nv = 0;
	p->first_ts_ms = UINT32_MAX;
	for (size_t i = 0; i < p->ntags; i++) {
		const struct ptag *t = &p->tags[i];
		if (t->ts_ms < p->first_ts_ms)
			p->first_ts_ms = t->ts_ms;
		if (t->ts_ms > last)
			last = t->ts_ms;
		if (t->type == 9) {
			first_v = nv++ ? first_v : t->ts_ms;
			last_v = t->ts_ms;
		}
	}
	uint32_t frame_ms = nv > 1 ? (last_v - first_v) / (uint32_t)(nv - 1) : 33;
	p->loop_ms = last - p->first_ts_ms + (frame_ms ? frame_ms : 1);
}

static int load_clip(struct publisher *p, const char *path)
{
	size_t len = 0;
	int rc = read_file(path, &p->file, &len);
	if (rc < 0)
		return rc;
	if ((rc = index_tags(p, len)) < 0)
		return rc;
	measure_loop(p);
	return 0;
}

/* ---- synthetic media ---- */

static uint64_t syn_video_ts(uint64_t n)
{
	return n * 1000 / SYN_FPS;
}

static uint64_t syn_audio_ts(uint64_t n)
{
	return n * 1024 * 1000 / SYN_AUDIO_RATE;
}

/* Video frame sizes average video_kbps; a keyframe is 3 average frames. */
static size_t syn_video_bytes(const struct publisher *p, bool key)
{
	size_t avg = (size_t)p->video_kbps * 1000 / 8 / SYN_FPS;
	size_t inter = (avg * SYN_GOP - 3 * avg) / (SYN_GOP - 1);
	return key ? 3 * avg : inter;
}

/* Builds the next synthetic tag into p->syn. The last 8 bytes of a video
 * body are a frame counter, so every frame's latency key is unique. */
static void syn_make(struct publisher *p, struct ptag *t)
{
	bool video = syn_video_ts(p->syn_vn) <= syn_audio_ts(p->syn_an);
	if (!video) {
		t->type = 8;
		t->ts_ms = (uint32_t)syn_audio_ts(p->syn_an);
		t->len = SYN_AUDIO_BYTES;
		p->syn[0] = 0xaf;
		p->syn[1] = 0x01;
		t->body = p->syn;
		return;
	}
	bool key = p->syn_vn % SYN_GOP == 0;
	size_t len = syn_video_bytes(p, key);
	uint8_t *b = p->syn;
	b[0] = key ? 0x17 : 0x27;
	b[1] = 1;
	b[2] = b[3] = b[4] = 0;
	wr_be32(b + 5, (uint32_t)(len - 9));
	b[9] = key ? 0x65 : 0x41;
	memcpy(b + len - 8, &p->syn_vn, 8);
	*t = (struct ptag){
	    .type = 9, .ts_ms = (uint32_t)syn_video_ts(p->syn_vn), .len = (uint32_t)len, .body = b};
}

static void syn_advance(struct publisher *p, const struct ptag *t)
{
	if (t->type == 9)
		p->syn_vn++;
	else
		p->syn_an++;
}

static int syn_init(struct publisher *p)
{
	p->syn_cap = syn_video_bytes(p, true) + 64;
	if (!(p->syn = malloc(p->syn_cap)))
		return -ENOMEM;
	for (size_t i = 0; i < p->syn_cap; i++) /* incompressible-looking filler */
		p->syn[i] = (uint8_t)(i * 2654435761u >> 13);
	p->vcfg = (struct ptag){.type = 9, .len = sizeof(syn_avc_config), .body = syn_avc_config};
	p->acfg = (struct ptag){.type = 8, .len = sizeof(syn_aac_config), .body = syn_aac_config};
	return 0;
}

/* ---- sending ---- */

/* The next tag to send with its output timestamp (ms since the start). */
static void peek(struct publisher *p, struct ptag *t)
{
	if (p->synthetic) {
		syn_make(p, t);
		return;
	}
	*t = p->tags[p->next];
	t->ts_ms = (uint32_t)(p->loop * p->loop_ms + (t->ts_ms - p->first_ts_ms));
}

static void advance(struct publisher *p, const struct ptag *t)
{
	if (p->synthetic) {
		syn_advance(p, t);
		return;
	}
	if (++p->next == p->ntags) {
		p->next = 0;
		p->loop++;
		p->st.loops++;
	}
}

static int send_tag(struct publisher *p, const struct ptag *t)
{
	uint64_t now = uv_hrtime();
	int rc = rtmpc_send(&p->r, t->type, t->ts_ms, t->body, t->len);
	if (rc < 0)
		return rc;
	if (t->type == 9) {
		size_t tl = t->len < 32 ? t->len : 32;
		sendlog_put(p->b->log, media_key(t->body + t->len - tl, tl, t->len), now);
	}
	p->st.frames++;
	p->st.bytes += t->len;
	return 0;
}

static void on_timer(uv_timer_t *h);

/* Sends every tag that is due, then sleeps until the next one is. */
static void pump(struct publisher *p)
{
	struct ptag t;
	uint64_t now_ms = (uv_hrtime() - p->t0_ns) / NS_PER_MS;
	for (int i = 0; i < MAX_BURST_TAGS; i++) {
		peek(p, &t);
		if (t.ts_ms > now_ms)
			break;
		if (now_ms - t.ts_ms > p->st.late_ms_max)
			p->st.late_ms_max = now_ms - t.ts_ms;
		if (send_tag(p, &t) < 0) {
			bconn_fail(&p->r.conn, "publish write failed");
			return;
		}
		advance(p, &t);
	}
	size_t q = bconn_queued(&p->r.conn);
	if (q > p->st.queued_max)
		p->st.queued_max = q;
	peek(p, &t);
	uint64_t wait = t.ts_ms > now_ms ? t.ts_ms - now_ms : 0;
	uv_timer_start(&p->timer, on_timer, wait, 0);
}

static void on_timer(uv_timer_t *h)
{
	struct publisher *p = h->data;
	if (p->live && !p->stopping)
		pump(p);
}

/* RTMP wants "@setDataFrame" before the file's "onMetaData" body. */
static int send_metadata(struct publisher *p)
{
	if (!p->meta.body)
		return 0;
	struct bytes b = {0};
	int rc = amf0_put_string(&b, "@setDataFrame");
	rc = rc ?: bytes_append(&b, p->meta.body, p->meta.len);
	rc = rc ?: rtmpc_send(&p->r, RTMP_MSG_DATA_AMF0, 0, b.data, b.len);
	bytes_free(&b);
	return rc;
}

static void on_started(struct rtmpc *r)
{
	struct publisher *p = r->arg;
	int rc = send_metadata(p);
	rc = rc ?: rtmpc_send(r, RTMP_MSG_VIDEO, 0, p->vcfg.body, p->vcfg.len);
	if (!rc && p->acfg.body)
		rc = rtmpc_send(r, RTMP_MSG_AUDIO, 0, p->acfg.body, p->acfg.len);
	if (rc < 0) {
		bconn_fail(&r->conn, "publish write failed");
		return;
	}
	p->live = true;
	p->t0_ns = uv_hrtime();
	pump(p);
	p->ready(p->b);
}

static void on_media(struct rtmpc *r, const struct rtmp_msg *m) {}

static void on_ended(struct rtmpc *r, const char *why)
{
	struct publisher *p = r->arg;
	p->live = false;
	if (!p->stopping)
		p->failed(p->b, why);
}

static void on_handle_closed(struct publisher *p)
{
	p->open_handles--;
}

static void on_rtmp_closed(struct rtmpc *r)
{
	on_handle_closed(r->arg);
}

static void on_timer_closed(uv_handle_t *h)
{
	on_handle_closed(h->data);
}

static const struct rtmpc_cbs publisher_cbs = {
    .started = on_started,
    .media = on_media,
    .ended = on_ended,
    .closed = on_rtmp_closed,
};

struct publisher *publisher_new(struct bench *b, const struct target *t, const char *file,
				bool synthetic, unsigned video_kbps)
{
	struct publisher *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->b = b;
	p->t = t;
	p->r.arg = p;
	p->synthetic = synthetic;
	p->video_kbps = video_kbps ? video_kbps : 2000;
	int rc = synthetic ? syn_init(p) : load_clip(p, file);
	if (rc < 0) {
		fprintf(stderr, "weir-bench: cannot use %s: %s\n",
			synthetic ? "synthetic media" : file,
			rc == -EPROTO ? "not an FLV file with H.264 video" : strerror(-rc));
		publisher_free(p);
		return NULL;
	}
	return p;
}

int publisher_start(struct publisher *p, void (*ready)(struct bench *b),
		    void (*failed)(struct bench *b, const char *why))
{
	p->ready = ready;
	p->failed = failed;
	uv_timer_init(p->b->loop, &p->timer);
	p->timer.data = p;
	p->open_handles = 1;
	int rc = rtmpc_start(&p->r, p->b->loop, p->t, true, &publisher_cbs);
	if (rc == 0)
		p->open_handles++;
	return rc;
}

void publisher_stop(struct publisher *p)
{
	if (p->stopping || !p->open_handles)
		return;
	p->stopping = true;
	p->live = false;
	uv_close((uv_handle_t *)&p->timer, on_timer_closed);
	bconn_fail(&p->r.conn, "bench end");
}

void publisher_stats(const struct publisher *p, struct publisher_stats *s)
{
	*s = p->st;
}

/* Only after publisher_stop() and the loop ran the close callbacks. */
void publisher_free(struct publisher *p)
{
	if (!p)
		return;
	free(p->file);
	free(p->tags);
	free(p->syn);
	free(p);
}
