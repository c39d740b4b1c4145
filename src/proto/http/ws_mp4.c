/* MP4 over WebSocket (MistServer's "ws/video/mp4"): /<stream>.mp4 with
 * Upgrade: websocket. Binary messages carry the init segment and then
 * each fragment (moof+mdat of one track), on the stream's timeline; JSON
 * text messages carry control both ways. The protocol is described in
 * docs/websocket-mp4.md. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "media/codecstr.h"
#include "media/selector.h"
#include "proto/http/progressive.h"
#include "proto/http/websocket.h"

#define WS_MAX_MSG     (64 * 1024)       /* largest client message, bytes */
#define WS_MAX_PENDING (4 * PROG_BUDGET) /* replies a non-reading client may pile up */
#define ON_TIME_US     1000000
#define SERVER_HDR     10 /* largest unmasked frame header */

struct ws_viewer {
	struct prog_out out;
	struct hub_stream *s; /* own reference */
	char name[128];
	struct hub_reader *r;
	uint64_t mask, skipped;
	struct mp4_live *ml;
	uint32_t gens[MP4_LIVE_MAX_TRACKS];
	struct mp4_live_sink sink;
	struct bytes in;  /* received bytes not parsed yet */
	struct bytes msg; /* data message being assembled */
	uint8_t msg_op;
	bool in_msg;          /* between a non-FIN data frame and its last continuation */
	bool held;            /* "hold": no media until "play" */
	bool closing;         /* a close frame went out: nothing more */
	bool timed;           /* an on_time was sent */
	bool need_init;       /* codec_data (+ announce) and init go before the next frame */
	const char *announce; /* NULL or the extra message type announcing them */
	int64_t last_time_us;
	unsigned busy;
	bool gone;
};

static void on_wake(struct hub_reader *r, void *arg);

/* ---------------- sending ---------------- */

static int send_msg(struct ws_viewer *v, unsigned op, const void *p, size_t n)
{
	if (prog_out_pending(&v->out) > WS_MAX_PENDING)
		return -ENOBUFS;
	uint8_t h[WS_MAX_HEADER];
	int hl = ws_write_header(h, sizeof(h), true, op, n, NULL);
	if (hl < 0)
		return hl;
	size_t from = v->out.arena.len;
	int rc = bytes_append(&v->out.arena, h, (size_t)hl);
	rc = rc ? rc : bytes_append(&v->out.arena, p, n);
	return rc ? rc : prog_out_commit(&v->out, from);
}

/* Sends j (the reference is taken over) as a text message. */
static int send_json(struct ws_viewer *v, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!s)
		return -ENOMEM;
	int rc = send_msg(v, WS_OP_TEXT, s, strlen(s));
	free(s);
	return rc;
}

static int send_error(struct ws_viewer *v, const char *what)
{
	return send_json(v, json_pack("{s:s, s:s}", "type", "error", "data", what));
}

static int send_close(struct ws_viewer *v, uint16_t code, const char *reason)
{
	uint8_t p[WS_MAX_CONTROL];
	size_t n = code == WS_CLOSE_NO_STATUS ? 0 : ws_write_close(p, code, reason);
	v->closing = true;
	return send_msg(v, WS_OP_CLOSE, p, n);
}

/* mp4_live sink: each fragment becomes one binary message. Room for the
 * largest header is reserved in front; the real header is written right
 * before the payload once its length is known. */
static struct bytes *sink_open(void *arg)
{
	struct ws_viewer *v = arg;
	if (bytes_reserve(&v->out.arena, SERVER_HDR))
		return NULL;
	v->out.arena.len += SERVER_HDR;
	return &v->out.arena;
}

static int sink_close(void *arg, size_t start)
{
	struct ws_viewer *v = arg;
	uint8_t h[WS_MAX_HEADER];
	int hl = ws_write_header(h, sizeof(h), true, WS_OP_BINARY, v->out.arena.len - start, NULL);
	if (hl < 0)
		return hl;
	memcpy(v->out.arena.data + start - hl, h, (size_t)hl);
	return prog_out_commit(&v->out, start - (size_t)hl);
}

static int send_init(struct ws_viewer *v)
{
	struct bytes *a = sink_open(v);
	if (!a)
		return -ENOMEM;
	size_t start = a->len;
	int rc = mp4_live_init(v->ml, a);
	return rc ? rc : sink_close(v, start);
}

/* ---------------- status messages ---------------- */

static json_t *ms(int64_t us)
{
	return json_integer(us / 1000);
}

/* {"type":type,"codecs":[...],"tracks":[...],"data":{"codecs","tracks","current"}}:
 * the brief's top-level fields plus MistServer's data object. */
static int send_codec_data(struct ws_viewer *v, const char *type, int64_t current_us)
{
	json_t *codecs = json_array(), *tracks = json_array();
	for (unsigned i = 0; i < mp4_live_track_count(v->ml); i++) {
		unsigned idx = mp4_live_track_index(v->ml, i);
		const struct track *t = hub_stream_track(v->s, idx);
		char cs[64];
		if (t && codec_string(t, cs, sizeof(cs)) > 0)
			json_array_append_new(codecs, json_string(cs));
		json_array_append_new(tracks, json_integer(idx));
	}
	json_t *data = json_pack("{s:O, s:O, s:o}", "codecs", codecs, "tracks", tracks, "current",
				 ms(current_us));
	return send_json(v, json_pack("{s:s, s:o, s:o, s:o}", "type", type, "codecs", codecs,
				      "tracks", tracks, "data", data));
}

static json_t *time_data(struct ws_viewer *v)
{
	int64_t first, last;
	hub_stream_window(v->s, &first, &last);
	json_t *tracks = json_array();
	for (unsigned i = 0; i < mp4_live_track_count(v->ml); i++)
		json_array_append_new(tracks, json_integer(mp4_live_track_index(v->ml, i)));
	return json_pack("{s:o, s:o, s:o, s:o, s:s, s:b}", "current",
			 ms(mp4_live_current_us(v->ml)), "begin", ms(first), "end", ms(last),
			 "tracks", tracks, "play_rate_curr", "auto", "paused", v->held);
}

static int send_time(struct ws_viewer *v, const char *type)
{
	v->timed = true;
	v->last_time_us = mp4_live_current_us(v->ml);
	return send_json(v, json_pack("{s:s, s:o}", "type", type, "data", time_data(v)));
}

/* ---------------- reading ---------------- */

/* Reads from the newest keyframe on: a new reader with the current
 * selection; what the fragmenter held back goes out first. */
static int jump_live(struct ws_viewer *v)
{
	int rc = v->ml ? mp4_live_flush(v->ml, &v->sink) : 0;
	hub_reader_free(v->r);
	struct hub_reader_opts o = {.track_mask = v->mask};
	v->r = hub_reader_new(v->s, &o, on_wake, v);
	v->skipped = 0;
	v->timed = false;
	return rc ? rc : v->r ? 0 : -ENOMEM;
}

/* (Re)starts with the current selection: reader at the newest keyframe,
 * new fragmenter; codec_data (and `announce`, MistServer's answer to a
 * track switch, when not NULL) and the init segment go out right before
 * the first frame, so their "current" is where the new data starts. */
static int restart(struct ws_viewer *v, const char *announce)
{
	int rc = jump_live(v);
	mp4_live_free(v->ml);
	v->ml = NULL;
	rc = rc ? rc : prog_mp4_new(v->s, v->mask, false, &v->ml, v->gens);
	v->need_init = true;
	v->announce = announce;
	return rc;
}

static int announce(struct ws_viewer *v, int64_t current_us)
{
	int rc = send_codec_data(v, "codec_data", current_us);
	if (!rc && v->announce)
		rc = send_codec_data(v, v->announce, current_us);
	v->need_init = false;
	v->announce = NULL;
	return rc ? rc : send_init(v);
}

static int put_frame(struct ws_viewer *v, struct frame *f)
{
	uint64_t skipped = hub_reader_skipped(v->r);
	int rc = skipped != v->skipped ? mp4_live_flush(v->ml, &v->sink) : 0;
	v->skipped = skipped;
	if (!rc)
		rc = prog_mp4_retrack(v->s, v->ml, v->gens, &v->sink);
	if (rc > 0) { /* a track's config changed: announce, then the new init */
		v->need_init = true;
		v->announce = "tracks";
		rc = 0;
	}
	if (!rc && v->need_init)
		rc = announce(v, f->dts_us > 0 ? f->dts_us : 0);
	return rc ? rc : mp4_live_push(v->ml, f, &v->sink);
}

/* Media while the budget allows, on_time about once a second. 0 when
 * waiting, else why to stop (-EPIPE: the stream ended). */
static int pump_frames(struct ws_viewer *v)
{
	int rc = 0;
	while (!v->held && prog_out_pending(&v->out) < PROG_BUDGET) {
		struct frame *f;
		rc = hub_reader_next(v->r, &f);
		if (rc <= 0)
			break;
		rc = put_frame(v, f);
		frame_unref(f);
		if (rc < 0)
			break;
	}
	if (rc >= 0 && v->ml && !v->need_init && /* never before codec_data */
	    (!v->timed || mp4_live_current_us(v->ml) - v->last_time_us >= ON_TIME_US))
		rc = send_time(v, "on_time");
	return rc;
}

/* ---------------- commands from the client ---------------- */

/* Tracks of `type` in the stream, as a mask. */
static uint64_t type_mask(struct hub_stream *s, enum track_type type)
{
	uint64_t m = 0;
	for (unsigned i = 0; i < hub_stream_track_count(s) && i < 64; i++) {
		const struct track *t = hub_stream_track(s, i);
		if (t && t->type == type)
			m |= 1ull << i;
	}
	return m;
}

/* The selection a "tracks" command asks for: each of video/audio/subtitle
 * given (string selector, or a track index) replaces that type's part of
 * the current selection; "" means the default. NULL or the reason. */
static const char *tracks_selection(struct ws_viewer *v, const json_t *cmd, uint64_t *out)
{
	static const struct {
		const char *key;
		enum track_type type;
		const char *dflt;
	} kinds[] = {{"video", TRACK_VIDEO, "maxbps"},
		     {"audio", TRACK_AUDIO, "maxbps"},
		     {"subtitle", TRACK_META, "none"}};
	const struct track *tracks[HUB_MAX_TRACKS] = {0};
	unsigned n = hub_stream_track_count(v->s);
	n = n < HUB_MAX_TRACKS ? n : HUB_MAX_TRACKS;
	for (unsigned i = 0; i < n; i++)
		tracks[i] = hub_stream_track(v->s, i);
	uint64_t m = 0;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++) {
		const json_t *val = json_object_get(cmd, kinds[k].key);
		char expr[256];
		if (!val) {
			m |= v->mask & type_mask(v->s, kinds[k].type);
			continue;
		}
		if (json_is_string(val))
			snprintf(expr, sizeof(expr), "%s",
				 *json_string_value(val) ? json_string_value(val) : kinds[k].dflt);
		else if (json_is_integer(val))
			snprintf(expr, sizeof(expr), "%lld", (long long)json_integer_value(val));
		else
			return "bad track selector";
		if (selector_apply(expr, kinds[k].type, tracks, n, &m))
			return "bad track selector";
	}
	const char *why = NULL;
	if (prog_select_mp4(v->s, NULL, &m, &why))
		return why;
	*out = m;
	return NULL;
}

static int cmd_codec_data(struct ws_viewer *v, const json_t *cmd)
{
	return send_codec_data(v, "codec_data", mp4_live_current_us(v->ml));
}

static int cmd_tracks(struct ws_viewer *v, const json_t *cmd)
{
	uint64_t mask;
	const char *why = tracks_selection(v, cmd, &mask);
	if (why)
		return send_error(v, why);
	v->mask = mask;
	v->held = false;
	return restart(v, "tracks");
}

static int cmd_seek(struct ws_viewer *v, const json_t *cmd)
{
	const char *to = json_string_value(json_object_get(cmd, "seek_time"));
	if (!to || strcmp(to, "live"))
		return send_error(v, "live only: seek_time must be \"live\"");
	int rc = jump_live(v);
	return rc ? rc
		  : send_json(v, json_pack("{s:s, s:{s:s}}", "type", "seek", "data", "seek_time",
					   "live"));
}

static int cmd_set_speed(struct ws_viewer *v, const json_t *cmd)
{
	/* live only: always real time, answered as MistServer does */
	return send_json(v, json_pack("{s:s, s:{s:s, s:s}}", "type", "set_speed", "data",
				      "play_rate_prev", "auto", "play_rate_curr", "auto"));
}

static int cmd_hold(struct ws_viewer *v, const json_t *cmd)
{
	v->held = true;
	return send_json(v, json_pack("{s:s, s:b}", "type", "pause", "paused", true));
}

static int cmd_play(struct ws_viewer *v, const json_t *cmd)
{
	bool was_held = v->held;
	v->held = false;
	/* after a pause, or when asked: continue from the live point */
	const char *to = json_string_value(json_object_get(cmd, "seek_time"));
	if (was_held || (to && !strcmp(to, "live")))
		return jump_live(v);
	v->timed = false; /* the player waits for an on_time */
	return 0;
}

static const struct {
	const char *type;
	int (*fn)(struct ws_viewer *v, const json_t *cmd);
} commands[] = {
    {"request_codec_data", cmd_codec_data},
    {"tracks", cmd_tracks},
    {"seek", cmd_seek},
    {"set_speed", cmd_set_speed},
    {"hold", cmd_hold},
    {"pause", cmd_hold},
    {"stop", cmd_hold},
    {"play", cmd_play},
};

static int handle_command(struct ws_viewer *v, const uint8_t *p, size_t len)
{
	json_t *cmd = json_loadb((const char *)p, len, 0, NULL);
	const char *type = json_string_value(json_object_get(cmd, "type"));
	int rc = 1;
	for (size_t i = 0; type && rc > 0 && i < sizeof(commands) / sizeof(*commands); i++)
		if (!strcmp(type, commands[i].type))
			rc = commands[i].fn(v, cmd);
	if (rc > 0)
		rc = send_error(v, !cmd    ? "invalid JSON"
				   : !type ? "no command type"
					   : "unknown command");
	json_decref(cmd);
	return rc;
}

/* ---------------- frames from the client ---------------- */

static int on_control(struct ws_viewer *v, const struct ws_frame *f)
{
	size_t n = (size_t)f->payload_len;
	if (f->opcode == WS_OP_PING)
		return send_msg(v, WS_OP_PONG, f->payload, n);
	if (f->opcode == WS_OP_PONG)
		return 0;
	uint16_t code;
	const char *reason;
	size_t rlen;
	if (ws_parse_close(f->payload, n, &code, &reason, &rlen))
		return send_close(v, WS_CLOSE_PROTOCOL, "bad close frame");
	return send_close(v, code, NULL); /* echo the status: handshake done */
}

static int on_data_frame(struct ws_viewer *v, const struct ws_frame *f)
{
	if (f->opcode != WS_OP_CONT) {
		v->msg_op = f->opcode;
		v->msg.len = 0;
	}
	if (v->msg.len + f->payload_len > WS_MAX_MSG)
		return send_close(v, WS_CLOSE_TOO_BIG, "message too big");
	int rc = bytes_append(&v->msg, f->payload, (size_t)f->payload_len);
	if (rc || !f->fin)
		return rc;
	if (v->msg_op == WS_OP_BINARY)
		return send_close(v, WS_CLOSE_UNSUPPORTED, "only text messages are accepted");
	if (!ws_utf8_valid(v->msg.data, v->msg.len))
		return send_close(v, WS_CLOSE_BAD_DATA, "text is not UTF-8");
	return handle_command(v, v->msg.data, v->msg.len);
}

/* Handles every complete frame received so far. 0 or -errno. */
static int parse_input(struct ws_viewer *v)
{
	while (!v->closing && v->in.len) {
		struct ws_frame f;
		int64_t n = ws_parse_frame(v->in.data, v->in.len, WS_MAX_MSG, true, &f);
		if (n == 0)
			return 0;
		if (n < 0)
			return n == -EMSGSIZE ? send_close(v, WS_CLOSE_TOO_BIG, "frame too big")
					      : send_close(v, WS_CLOSE_PROTOCOL, "protocol error");
		ws_frame_unmask(&f, v->in.data + f.header_len);
		int rc = ws_check_sequence(&v->in_msg, &f)
			     ? send_close(v, WS_CLOSE_PROTOCOL, "bad fragmentation")
			 : f.opcode >= WS_OP_CLOSE ? on_control(v, &f)
						   : on_data_frame(v, &f);
		bytes_consume(&v->in, (size_t)n);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---------------- lifetime ---------------- */

static void viewer_free(struct ws_viewer *v)
{
	prog_out_discard(&v->out);
	hub_reader_free(v->r);
	mp4_live_free(v->ml);
	hub_stream_unref(v->s);
	bytes_free(&v->in);
	bytes_free(&v->msg);
	free(v);
}

/* Why the viewer stops, as a close frame (-EPIPE: the stream ended). */
static void say_goodbye(struct ws_viewer *v, int why)
{
	struct http_conn *c = v->out.c;
	if (why == -EPIPE) {
		if (v->ml)
			mp4_live_flush(v->ml, &v->sink);
		if (v->ml)
			send_time(v, "on_stop");
		send_close(v, WS_CLOSE_NORMAL, "stream ended");
		return;
	}
	if (why == -ENOBUFS)
		LOGF(LOG_INFO, v->name, "MP4/WS viewer %s too slow, dropped", http_conn_peer(c));
	else
		LOGF(LOG_MEDIUM, v->name, "MP4/WS viewer %s ended: %s", http_conn_peer(c),
		     strerror(-why));
	send_close(v, why == -ENOBUFS ? WS_CLOSE_POLICY : WS_CLOSE_INTERNAL, NULL);
}

/* Common tail of every callback: media, output, and the end when due.
 * rc: what the caller's work returned. Balances the caller's busy++. */
static void service(struct ws_viewer *v, int rc)
{
	struct http_conn *c = v->out.c;
	if (!rc && !v->closing && !v->gone)
		rc = pump_frames(v);
	if (rc < 0 && !v->closing && !v->gone)
		say_goodbye(v, rc);
	int frc = v->gone ? -EPIPE : prog_out_flush(&v->out);
	if (--v->busy)
		return;
	if (v->gone) {
		viewer_free(v);
		return;
	}
	if (!v->closing && !frc)
		return;
	/* a close frame is queued (or writing failed): close after it */
	http_stream_set_callbacks(c, NULL, NULL, NULL);
	viewer_free(v);
	http_stream_end(c);
}

static void on_client_bytes(void *arg, const uint8_t *p, size_t len)
{
	struct ws_viewer *v = arg;
	if (v->closing)
		return;
	v->busy++;
	int rc = bytes_append(&v->in, p, len);
	service(v, rc ? rc : parse_input(v));
}

static void on_wake(struct hub_reader *r, void *arg)
{
	struct ws_viewer *v = arg;
	v->busy++;
	service(v, 0);
}

static void on_drain(void *arg)
{
	struct ws_viewer *v = arg;
	v->busy++;
	service(v, 0);
}

static void on_close(void *arg)
{
	struct ws_viewer *v = arg;
	if (v->busy)
		v->gone = true;
	else
		viewer_free(v);
}

/* ---------------- handshake ---------------- */

static int refuse(struct http_conn *c, int status, const char *headers, const char *msg)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, msg);
	int rc = http_respond_ex(c, status, "text/plain", headers, body, (size_t)n);
	return rc < 0 ? rc : 0;
}

int ws_mp4_serve(struct http_conn *c, struct http_request *req, const struct server_env *env)
{
	if (strcmp(req->method, "GET"))
		return refuse(c, 405, NULL, "WebSocket needs GET");
	const char *ver = http_header(req, "Sec-WebSocket-Version");
	if (!ver || strcmp(ver, "13"))
		return refuse(c, 426, "Sec-WebSocket-Version: 13\r\n", "WebSocket version 13 only");
	const char *key = http_header(req, "Sec-WebSocket-Key");
	char accept[WS_ACCEPT_LEN + 1];
	if (!key || ws_accept_key(key, accept))
		return refuse(c, 400, NULL, "bad Sec-WebSocket-Key");
	size_t plen = strlen(req->path);
	bool fmp4 = plen > 5 && !strcmp(req->path + plen - 5, ".fmp4");
	struct prog_req pr;
	int rc = prog_check(c, req, env, fmp4 ? ".fmp4" : ".mp4", prog_select_mp4, &pr);
	if (rc)
		return rc < 0 ? rc : 0;
	struct ws_viewer *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->out.c = c;
	v->s = hub_stream_ref(pr.s);
	v->mask = pr.mask;
	snprintf(v->name, sizeof(v->name), "%s", pr.name);
	v->sink = (struct mp4_live_sink){.open = sink_open, .close = sink_close, .arg = v};
	char headers[160];
	snprintf(headers, sizeof(headers),
		 "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n",
		 accept);
	rc = http_upgrade(c, headers, on_client_bytes, v);
	if (rc) {
		viewer_free(v);
		return rc;
	}
	struct conn_info *ci = http_conn_info(c);
	snprintf(ci->stream, sizeof(ci->stream), "%s", pr.name);
	ci->protocol = "MP4WS";
	ci->role = CONN_VIEWER;
	http_stream_set_callbacks(c, on_drain, on_close, v);
	char tracks[64];
	LOGF(LOG_INFO, pr.name, "MP4/WS viewer %s, tracks %s", http_conn_peer(c),
	     prog_mask_str(pr.mask, tracks, sizeof(tracks)));
	v->busy++;
	service(v, restart(v, NULL));
	return 0;
}

static const char *const ws_patterns[] = {"ws://*.mp4", NULL};
static const char *const ws_codecs[] = {"H264", "HEVC", "AV1", "VP9", "AAC", "MP3", "opus", NULL};

/* Source entry and capabilities only: requests arrive through the MP4
 * driver's routes (the same URL, upgraded). */
const struct driver mp4ws_driver = {
    .name = "MP4WS",
    .desc = "MP4 over WebSocket (MistServer's ws/video/mp4): init segment and fragments as "
	    "binary messages, JSON control messages",
    .kind = DRIVER_OUTPUT,
    .patterns = ws_patterns,
    .codecs = ws_codecs,
    .source_type = "ws/video/mp4",
    .source_priority = 12,
    .source_url = "ws://%H:%P/%S.mp4",
};
