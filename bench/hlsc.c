/* HLS / LL-HLS player: one HTTP/1.1 keep-alive connection per viewer.
 * Fetches the master playlist, picks the first media playlist, starts at
 * the newest part (or segment) and then plays like a real player: LL-HLS
 * uses blocking reloads (_HLS_msn/_HLS_part) for the next part; plain HLS
 * reloads the playlist every target duration / 2. Media bodies are scanned
 * for TS packets starting a video PES (PTS -> media time), never stored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#define HTTP_HEADER_MAX (16 * 1024)
#define PLAYLIST_MAX    (512 * 1024)
#define MAX_ENTRIES     128
#define URI_MAX         160
#define TS_PACKET       188
#define RETRY_MS        200   /* after a failed playlist request */
#define REQ_TIMEOUT_MS  10000 /* a request (blocking reloads included) */
#define PART_STEP       1000  /* key = msn * PART_STEP + part */

enum { REQ_MASTER, REQ_PLAYLIST, REQ_MEDIA };
enum { RS_HEAD, RS_BODY };
enum { T_IDLE, T_WAIT, T_TIMEOUT };

struct hentry {
	int64_t msn;
	int part; /* -1: a whole segment */
	double dur;
	double start; /* unix seconds (PDT + offset), 0 when unknown */
	char uri[URI_MAX];
};

struct hlsc {
	struct bconn conn;
	uv_timer_t timer;
	struct viewer *v;
	const struct target *t;
	char base[1200];  /* directory of the media playlist, ends with '/' */
	char media[2200]; /* media playlist path */
	int req, rstate, tstate, status;
	bool close_after, conn_closed, timer_closed, have_pos, ll, got_media;
	uint64_t clen, got;
	char *body;
	size_t body_len;
	double target;
	int64_t next; /* key of the next entry to play */
	struct hentry e[MAX_ENTRIES], cur;
	int ne, qi;       /* entries parsed; next one to fetch */
	int64_t open_msn; /* the first segment not complete in the playlist */
};

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- TS scan ---- */

int ts_video_pts(const uint8_t *p, uint64_t *pts)
{
	if (p[0] != 0x47 || !(p[1] & 0x40))
		return 0;
	unsigned afc = (p[3] >> 4) & 3, off = 4;
	if (afc & 2)
		off += 1u + p[4];
	if (!(afc & 1) || off + 14 > TS_PACKET)
		return 0;
	const uint8_t *e = p + off;
	if (e[0] || e[1] || e[2] != 1 || (e[3] & 0xf0) != 0xe0)
		return 0;
	*pts = 0;
	if (e[7] & 0x80)
		*pts = (uint64_t)(e[9] >> 1 & 7) << 30 | (uint64_t)e[10] << 22 |
		       (uint64_t)(e[11] >> 1) << 15 | (uint64_t)e[12] << 7 | e[13] >> 1;
	return 1;
}

static void scan_ts(struct hlsc *h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + TS_PACKET <= n; i += TS_PACKET) {
		uint64_t pts;
		if (ts_video_pts(p + i, &pts))
			viewer_on_ts_video(h->v, h->conn.rx_ns, (uint32_t)(pts / 90));
	}
}

/* ---- requests ---- */

static void arm_timer(struct hlsc *h, int state, uint64_t ms);

static int send_get(struct hlsc *h, int req, const char *path, const char *query)
{
	char buf[3200];
	int n = snprintf(buf, sizeof(buf),
			 "GET %s%s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: weir-bench\r\n"
			 "Accept: */*\r\n\r\n",
			 path, query, h->t->host, h->t->port);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	h->req = req;
	h->rstate = RS_HEAD;
	h->got_media = false;
	arm_timer(h, T_TIMEOUT, REQ_TIMEOUT_MS);
	return bconn_write(&h->conn, buf, (size_t)n);
}

static int reload(struct hlsc *h)
{
	char q[96] = "";
	if (h->ll && h->have_pos)
		snprintf(q, sizeof(q), "?_HLS_msn=%lld&_HLS_part=%lld",
			 (long long)(h->next / PART_STEP), (long long)(h->next % PART_STEP));
	return send_get(h, REQ_PLAYLIST, h->media, q);
}

static int fetch_entry(struct hlsc *h, const struct hentry *e)
{
	char path[2200 + URI_MAX];
	if (e->uri[0] == '/')
		snprintf(path, sizeof(path), "%s", e->uri);
	else
		snprintf(path, sizeof(path), "%s%s", h->base, e->uri);
	h->cur = *e;
	return send_get(h, REQ_MEDIA, path, "");
}

static int64_t key_of(const struct hentry *e)
{
	return e->msn * PART_STEP + (e->part < 0 ? 0 : e->part);
}

static int64_t key_after(const struct hlsc *h, const struct hentry *e)
{
	return e->part < 0 ? (e->msn + 1) * PART_STEP : key_of(e) + 1;
}

/* Fetches the next entry at or after h->next, else waits for one. */
static int advance(struct hlsc *h)
{
	while (h->qi < h->ne && key_of(&h->e[h->qi]) < h->next)
		h->qi++;
	if (h->qi < h->ne)
		return fetch_entry(h, &h->e[h->qi++]);
	if (h->ll && h->next / PART_STEP < h->open_msn) /* past its last part */
		h->next = (h->next / PART_STEP + 1) * PART_STEP;
	if (h->ll)
		return reload(h);
	arm_timer(h, T_WAIT, (uint64_t)(h->target * 500) + 1);
	return 0;
}

/* ---- playlists ---- */

static bool skipped(const struct hlsc *h, const struct hentry *first)
{
	int64_t k = key_of(first);
	if (k <= h->next)
		return false;
	if (!h->ll)
		return true;
	/* (m, p) with p past the last part of m is (m + 1, 0) */
	return !(first->part == 0 && first->msn == h->next / PART_STEP + 1);
}

static void add_entry(struct hlsc *h, const struct hentry *e)
{
	if (h->ne == MAX_ENTRIES) {
		memmove(h->e, h->e + 1, sizeof(h->e[0]) * (MAX_ENTRIES - 1));
		h->ne--;
	}
	h->e[h->ne++] = *e;
}

static void copy_attr(const char *line, const char *name, char *out, size_t cap)
{
	const char *p = strstr(line, name);
	out[0] = 0;
	if (!p)
		return;
	p += strlen(name);
	size_t n = strcspn(p, "\",\r\n");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = 0;
}

static double parse_pdt(const char *s)
{
	struct tm tm = {0};
	double sec = 0;
	if (sscanf(s, "%d-%d-%dT%d:%d:%lf", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) + sec; /* UTC ("Z"): what weir writes */
}

struct pl_state {
	int64_t msn;
	int part;
	double wall, off;
	bool seg_next;
	double seg_dur;
};

static void pl_line(struct hlsc *h, struct pl_state *s, const char *l)
{
	struct hentry e = {.msn = s->msn};
	if (!strncmp(l, "#EXT-X-TARGETDURATION:", 22)) {
		h->target = atof(l + 22);
	} else if (!strncmp(l, "#EXT-X-MEDIA-SEQUENCE:", 22)) {
		s->msn = atoll(l + 22);
	} else if (!strncmp(l, "#EXT-X-PROGRAM-DATE-TIME:", 25)) {
		s->wall = parse_pdt(l + 25);
		s->off = 0;
	} else if (!strncmp(l, "#EXT-X-PART:", 12)) {
		char d[32];
		h->ll = true;
		copy_attr(l, "DURATION=", d, sizeof(d));
		copy_attr(l, "URI=\"", e.uri, sizeof(e.uri));
		e.part = s->part++;
		e.dur = atof(d);
		e.start = s->wall > 0 ? s->wall + s->off : 0;
		s->off += e.dur;
		add_entry(h, &e);
	} else if (!strncmp(l, "#EXTINF:", 8)) {
		s->seg_dur = atof(l + 8);
		s->seg_next = true;
	} else if (l[0] && l[0] != '#' && s->seg_next) {
		if (!h->ll) {
			e.part = -1;
			e.dur = s->seg_dur;
			e.start = s->wall;
			snprintf(e.uri, sizeof(e.uri), "%s", l);
			add_entry(h, &e);
		}
		if (s->wall > 0)
			s->wall += s->seg_dur;
		s->msn++;
		s->part = 0;
		s->off = 0;
		s->seg_next = false;
	}
}

/* Parses a media playlist into h->e (parts when it has any, else segments). */
static void parse_media(struct hlsc *h, char *text)
{
	struct pl_state s = {0};
	h->ne = h->qi = 0;
	h->ll = false;
	for (char *save = NULL, *l = strtok_r(text, "\r\n", &save); l;
	     l = strtok_r(NULL, "\r\n", &save))
		pl_line(h, &s, l);
	h->open_msn = s.msn;
	if (h->ll) { /* segments were added before the first part was seen */
		int j = 0;
		for (int i = 0; i < h->ne; i++)
			if (h->e[i].part >= 0)
				h->e[j++] = h->e[i];
		h->ne = j;
	}
	struct bench *b = h->v->b;
	uint64_t stall = (uint64_t)(h->target * 2 * NS_PER_S);
	if (stall > b->stall_ns)
		b->stall_ns = stall;
}

static int on_playlist(struct hlsc *h)
{
	parse_media(h, h->body);
	if (!h->ne) {
		arm_timer(h, T_WAIT, RETRY_MS);
		return 0;
	}
	if (!h->have_pos) { /* start at the live edge, like a low-latency player */
		h->have_pos = true;
		h->next = key_of(&h->e[h->ne - 1]);
	}
	int i = 0;
	while (i < h->ne && key_of(&h->e[i]) < h->next)
		i++;
	if (i < h->ne && skipped(h, &h->e[i]))
		h->v->b->hls.skips++, h->v->skips++;
	if (i == 0 && h->ne && key_of(&h->e[0]) > h->next)
		h->next = key_of(&h->e[0]); /* fell out of the window: rejoin */
	return advance(h);
}

/* The first #EXT-X-STREAM-INF's URI, resolved against the master's path. */
static int on_master(struct hlsc *h)
{
	const char *path = h->t->path;
	const char *inf = strstr(h->body, "#EXT-X-STREAM-INF");
	if (!inf) { /* a media playlist already */
		snprintf(h->media, sizeof(h->media), "%s", path);
	} else {
		const char *u = strchr(inf, '\n');
		if (!u)
			return -EPROTO;
		u += strspn(u, "\r\n");
		size_t n = strcspn(u, "\r\n"), dir = (size_t)(strrchr(path, '/') - path) + 1;
		if (u[0] == '/')
			snprintf(h->media, sizeof(h->media), "%.*s", (int)n, u);
		else
			snprintf(h->media, sizeof(h->media), "%.*s%.*s", (int)dir, path, (int)n, u);
	}
	char *q = strchr(h->media, '?');
	size_t end = q ? (size_t)(q - h->media) : strlen(h->media);
	while (end && h->media[end - 1] != '/')
		end--;
	snprintf(h->base, sizeof(h->base), "%.*s", (int)end, h->media);
	if (strchr(h->body, '#') && !inf && strstr(h->body, "#EXTINF"))
		return on_playlist(h);
	return reload(h);
}

static int on_media_done(struct hlsc *h)
{
	struct bench *b = h->v->b;
	h->next = key_after(h, &h->cur);
	b->hls.parts++;
	if (b->in_window) {
		b->hls.win_parts++;
		if (h->cur.start > 0) {
			double lat = wall_now() - h->cur.start;
			if (lat > 0) {
				hist_add(&b->lat, (uint64_t)(lat * 1e6));
				hist_add(&b->lat_sec, (uint64_t)(lat * 1e6));
			}
		}
	}
	return advance(h);
}

/* ---- responses ---- */

static int response_done(struct hlsc *h)
{
	struct bench *b = h->v->b;
	arm_timer(h, T_IDLE, 0);
	bool ok = h->status == 200;
	if (!ok)
		b->hls.failed_req++;
	int rc = 0;
	if (h->req == REQ_MASTER)
		rc = ok ? on_master(h) : -ENOENT;
	else if (h->req == REQ_PLAYLIST && ok)
		rc = on_playlist(h);
	else if (h->req == REQ_PLAYLIST)
		arm_timer(h, T_WAIT, RETRY_MS);
	else if (ok)
		rc = on_media_done(h);
	else /* gone: skip it */
		rc = (h->next = key_after(h, &h->cur), advance(h));
	free(h->body);
	h->body = NULL;
	h->body_len = 0;
	return rc;
}

static long parse_head(struct hlsc *h, const uint8_t *p, size_t len)
{
	const uint8_t *end = memmem(p, len, "\r\n\r\n", 4);
	if (!end)
		return len > HTTP_HEADER_MAX ? -EPROTO : 0;
	size_t hlen = (size_t)(end - p) + 4;
	char head[HTTP_HEADER_MAX + 1];
	if (hlen > HTTP_HEADER_MAX || strncmp((const char *)p, "HTTP/1.", 7))
		return -EPROTO;
	memcpy(head, p, hlen);
	head[hlen] = 0;
	h->status = atoi(head + 9);
	const char *cl = strcasestr(head, "\ncontent-length:");
	if (!cl || strcasestr(head, "\ntransfer-encoding: chunked"))
		return -EPROTO; /* needs a Content-Length */
	h->clen = strtoull(cl + 16, NULL, 10);
	h->close_after = strcasestr(head, "\nconnection: close") != NULL;
	h->got = 0;
	h->rstate = RS_BODY;
	bool text = h->req != REQ_MEDIA || h->status != 200;
	if (text && h->clen > PLAYLIST_MAX)
		return -EMSGSIZE;
	if (text && !(h->body = malloc(h->clen + 1)))
		return -ENOMEM;
	return (long)hlen;
}

/* Body bytes: playlists are kept, media is scanned in whole TS packets. */
static long body_bytes(struct hlsc *h, const uint8_t *p, size_t len)
{
	size_t n = h->clen - h->got < len ? (size_t)(h->clen - h->got) : len;
	if (h->body) {
		memcpy(h->body + h->got, p, n);
		h->body[h->got + n] = 0;
	} else {
		if (n && !h->got_media && !h->v->t_first_key_ns)
			h->v->t_first_key_ns = h->conn.rx_ns; /* TTFF: first media bytes */
		h->got_media = true;
		if (h->got + n < h->clen)
			n -= n % TS_PACKET; /* keep a partial packet for the next read */
		scan_ts(h, p, n);
	}
	h->got += n;
	return (long)n;
}

static long on_data(struct bconn *c, const uint8_t *p, size_t len)
{
	struct hlsc *h = container_of(c, struct hlsc, conn);
	size_t pos = 0;
	while (pos < len && !c->ended) {
		long n = h->rstate == RS_HEAD ? parse_head(h, p + pos, len - pos)
					      : body_bytes(h, p + pos, len - pos);
		if (n < 0)
			return n;
		pos += (size_t)n;
		if (h->rstate == RS_BODY && h->got == h->clen) {
			h->rstate = RS_HEAD;
			if (response_done(h) < 0)
				return -EPROTO;
			if (h->close_after)
				return -ECONNRESET;
		}
		if (!n)
			break;
	}
	return c->ended ? -ECANCELED : (long)pos;
}

/* ---- timer, lifecycle ---- */

static void on_timer(uv_timer_t *t)
{
	struct hlsc *h = t->data;
	int st = h->tstate;
	h->tstate = T_IDLE;
	if (st == T_TIMEOUT) {
		h->v->b->hls.failed_req++;
		bconn_fail(&h->conn, "request timeout");
	} else if (st == T_WAIT && reload(h) < 0) {
		bconn_fail(&h->conn, "write failed");
	}
}

static void arm_timer(struct hlsc *h, int state, uint64_t ms)
{
	h->tstate = state;
	if (state == T_IDLE || h->timer_closed)
		uv_timer_stop(&h->timer);
	else
		uv_timer_start(&h->timer, on_timer, ms, 0);
}

static int on_connected(struct bconn *c)
{
	struct hlsc *h = container_of(c, struct hlsc, conn);
	return send_get(h, REQ_MASTER, h->t->path, "");
}

static void on_ended(struct bconn *c, const char *why)
{
	struct hlsc *h = container_of(c, struct hlsc, conn);
	viewer_flv_ended(h->v, why);
}

static void maybe_free(struct hlsc *h)
{
	if (!h->conn_closed || !h->timer_closed)
		return;
	struct viewer *v = h->v;
	free(h->body);
	free(h);
	v->h = NULL;
	viewer_flv_closed(v);
}

static void on_timer_closed(uv_handle_t *t)
{
	struct hlsc *h = t->data;
	h->timer_closed = true;
	maybe_free(h);
}

static void on_closed(struct bconn *c)
{
	struct hlsc *h = container_of(c, struct hlsc, conn);
	h->conn_closed = true;
	uv_close((uv_handle_t *)&h->timer, on_timer_closed);
}

static const struct bconn_ops hlsc_ops = {
    .connected = on_connected,
    .data = on_data,
    .ended = on_ended,
    .closed = on_closed,
};

struct hlsc *hlsc_start(struct viewer *v, uv_loop_t *loop, const struct target *t)
{
	struct hlsc *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->v = v;
	h->t = t;
	uv_timer_init(loop, &h->timer);
	h->timer.data = h;
	if (bconn_connect(&h->conn, loop, &hlsc_ops, t->host, t->port) < 0) {
		uv_close((uv_handle_t *)&h->timer, NULL);
		return NULL; /* h leaks (a bad address only; checked at start) */
	}
	return h;
}

void hlsc_close(struct hlsc *h)
{
	bconn_fail(&h->conn, "bench end");
}
