/* Minimal RTMP client for playing and publishing: simple handshake (via
 * weircore's handshake), connect, createStream, play or publish, window
 * acknowledgements and ping responses. Messages are reassembled by
 * weircore's chunk reader and written by its chunk writer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "format/amf0.h"
#include "proto/rtmp/handshake.h"

enum { RC_HANDSHAKE, RC_CONNECT, RC_CREATE, RC_START, RC_LIVE };

#define CSID_CMD        3
#define CSID_PUB_AUDIO  4
#define CSID_PUB_VIDEO  6
#define CSID_PUB_DATA   5
#define TXN_CONNECT     1
#define TXN_CREATE      4
#define PUB_CHUNK_BYTES 4096
#define HS_REPLY_BYTES  (1 + 2 * RTMP_SIG_SIZE)
#define MAX_ARGS        6

static int send_body(struct rtmpc *r, uint32_t csid, uint8_t type, uint32_t msid, uint32_t ts,
		     const struct bytes *body)
{
	struct bytes out = {0};
	struct iovec iov = {.iov_base = body->data, .iov_len = body->len};
	int rc = rtmp_chunk_write(&r->wr, csid, type, msid, ts, &iov, 1, &out);
	if (!rc)
		rc = bconn_write(&r->conn, out.data, out.len);
	bytes_free(&out);
	return rc;
}

/* "name", txn, null, [string arg], [number arg] on msid. */
static int send_cmd(struct rtmpc *r, const char *name, double txn, uint32_t msid, const char *sarg,
		    const char *sarg2, bool has_num, double num)
{
	struct bytes b = {0};
	int rc = amf0_put_string(&b, name);
	rc = rc ?: amf0_put_number(&b, txn);
	rc = rc ?: amf0_put_null(&b);
	if (!rc && sarg)
		rc = amf0_put_string(&b, sarg);
	if (!rc && sarg2)
		rc = amf0_put_string(&b, sarg2);
	if (!rc && has_num)
		rc = amf0_put_number(&b, num);
	rc = rc ?: send_body(r, CSID_CMD, RTMP_MSG_COMMAND_AMF0, msid, 0, &b);
	bytes_free(&b);
	return rc;
}

static int put_prop_str(struct bytes *b, const char *k, const char *v)
{
	int rc = amf0_put_key(b, k);
	return rc ?: amf0_put_string(b, v);
}

static int put_prop_num(struct bytes *b, const char *k, double v)
{
	int rc = amf0_put_key(b, k);
	return rc ?: amf0_put_number(b, v);
}

static int send_connect(struct rtmpc *r)
{
	struct bytes b = {0};
	int rc = amf0_put_string(&b, "connect");
	rc = rc ?: amf0_put_number(&b, TXN_CONNECT);
	rc = rc ?: amf0_put_object_start(&b);
	rc = rc ?: put_prop_str(&b, "app", r->t->app);
	if (r->publish)
		rc = rc ?: put_prop_str(&b, "type", "nonprivate");
	rc = rc
		 ?: put_prop_str(&b, "flashVer",
				 r->publish ? "FMLE/3.0 (weir-bench)" : "LNX 9,0,124,2");
	rc = rc ?: put_prop_str(&b, "tcUrl", r->t->tcurl);
	if (!r->publish) {
		rc = rc ?: amf0_put_key(&b, "fpad");
		rc = rc ?: amf0_put_bool(&b, false);
		rc = rc ?: put_prop_num(&b, "capabilities", 15);
		rc = rc ?: put_prop_num(&b, "audioCodecs", 3191);
		rc = rc ?: put_prop_num(&b, "videoCodecs", 252);
		rc = rc ?: put_prop_num(&b, "videoFunction", 1);
	}
	rc = rc ?: amf0_put_object_end(&b);
	rc = rc ?: send_body(r, CSID_CMD, RTMP_MSG_COMMAND_AMF0, 0, 0, &b);
	bytes_free(&b);
	return rc;
}

static int send_set_chunk_size(struct rtmpc *r, uint32_t size)
{
	struct bytes out = {0};
	int rc = rtmp_put_set_chunk_size(&r->wr, &out, size);
	if (!rc) {
		r->wr.chunk_size = size;
		rc = bconn_write(&r->conn, out.data, out.len);
	}
	bytes_free(&out);
	return rc;
}

/* Both roles send connect; a publisher first raises its chunk size so
 * video frames are not cut into 128-byte chunks. */
static int after_handshake(struct rtmpc *r)
{
	int rc = r->publish ? send_set_chunk_size(r, PUB_CHUNK_BYTES) : 0;
	r->state = RC_CONNECT;
	return rc ?: send_connect(r);
}

static int on_connected_result(struct rtmpc *r)
{
	int rc = 0;
	if (r->publish) {
		rc = send_cmd(r, "releaseStream", 2, 0, r->t->name, NULL, false, 0);
		rc = rc ?: send_cmd(r, "FCPublish", 3, 0, r->t->name, NULL, false, 0);
	}
	r->state = RC_CREATE;
	return rc ?: send_cmd(r, "createStream", TXN_CREATE, 0, NULL, NULL, false, 0);
}

static int on_stream_created(struct rtmpc *r, uint32_t msid)
{
	r->msid = msid;
	r->state = RC_START;
	if (r->publish)
		return send_cmd(r, "publish", 5, msid, r->t->name, "live", false, 0);
	return send_cmd(r, "play", 0, msid, r->t->name, NULL, true, -2000);
}

static const char *status_reason(const char *code)
{
	if (strstr(code, "NotFound"))
		return "stream not found";
	if (strstr(code, "BadName"))
		return "bad stream name";
	if (strstr(code, "Rejected"))
		return "rejected";
	return "error status";
}

static int on_status(struct rtmpc *r, const struct amf0_value *info)
{
	const char *level = amf0_get_str(info, "level");
	const char *code = amf0_get_str(info, "code");
	if (!code)
		return 0;
	if (level && !strcmp(level, "error")) {
		bconn_fail(&r->conn, status_reason(code));
		return -ECANCELED;
	}
	if (strstr(code, "Play.Stop") || strstr(code, "UnpublishNotify")) {
		bconn_fail(&r->conn, "stream ended");
		return -ECANCELED;
	}
	bool start =
	    !strcmp(code, "NetStream.Play.Start") || !strcmp(code, "NetStream.Publish.Start");
	if (start && r->state == RC_START) {
		r->state = RC_LIVE;
		r->cbs->started(r);
	}
	return 0;
}

static int on_command(struct rtmpc *r, const struct rtmp_msg *m)
{
	struct amf0_value v[MAX_ARGS];
	int n = amf0_decode_all(m->payload, m->len, v, MAX_ARGS);
	if (n < 0)
		return n;
	int rc = 0;
	const char *name = n > 0 && v[0].type == AMF0_STRING ? v[0].str : "";
	double txn = n > 1 && v[1].type == AMF0_NUMBER ? v[1].num : -1;
	if (!strcmp(name, "_result") && txn == TXN_CONNECT && r->state == RC_CONNECT)
		rc = on_connected_result(r);
	else if (!strcmp(name, "_result") && txn == TXN_CREATE && r->state == RC_CREATE)
		rc = on_stream_created(r,
				       n > 3 && v[3].type == AMF0_NUMBER ? (uint32_t)v[3].num : 1);
	else if (!strcmp(name, "_error") && (txn == TXN_CONNECT || txn == TXN_CREATE)) {
		bconn_fail(&r->conn, "command refused");
		rc = -ECANCELED;
	} else if (!strcmp(name, "onStatus") && n > 3 && v[3].type == AMF0_OBJECT)
		rc = on_status(r, &v[3]);
	amf0_free_all(v, (size_t)n);
	return rc;
}

static int on_user_control(struct rtmpc *r, const struct rtmp_msg *m)
{
	if (m->len < 6 || rd_be16(m->payload) != RTMP_UC_PING_REQUEST)
		return 0;
	struct bytes out = {0};
	int rc =
	    rtmp_put_user_control(&r->wr, &out, RTMP_UC_PING_RESPONSE, rd_be32(m->payload + 2));
	if (!rc)
		rc = bconn_write(&r->conn, out.data, out.len);
	bytes_free(&out);
	return rc;
}

static int on_msg(void *ctx, const struct rtmp_msg *m)
{
	struct rtmpc *r = ctx;
	if (r->conn.ended)
		return -ECANCELED;
	switch (m->type) {
	case RTMP_MSG_AUDIO:
	case RTMP_MSG_VIDEO:
		r->cbs->media(r, m);
		return r->conn.ended ? -ECANCELED : 0;
	case RTMP_MSG_COMMAND_AMF0:
		return on_command(r, m);
	case RTMP_MSG_WINDOW_ACK_SIZE:
		if (m->len >= 4)
			r->win_ack = rd_be32(m->payload);
		return 0;
	case RTMP_MSG_USER_CONTROL:
		return on_user_control(r, m);
	default:
		return 0;
	}
}

static int maybe_ack(struct rtmpc *r)
{
	if (!r->win_ack || r->rd.bytes_in - r->acked < r->win_ack / 2)
		return 0;
	r->acked = r->rd.bytes_in;
	struct bytes out = {0};
	int rc = rtmp_put_ack(&r->wr, &out, (uint32_t)r->rd.bytes_in);
	if (!rc)
		rc = bconn_write(&r->conn, out.data, out.len);
	bytes_free(&out);
	return rc;
}

static long handshake(struct rtmpc *r, const uint8_t *p, size_t len)
{
	if (len < HS_REPLY_BYTES)
		return 0;
	uint8_t c2[RTMP_SIG_SIZE];
	int rc = rtmp_handshake_client_c2(r->c0c1, p, c2);
	free(r->c0c1);
	r->c0c1 = NULL;
	rc = rc ?: bconn_write(&r->conn, c2, sizeof(c2));
	rc = rc ?: after_handshake(r);
	return rc < 0 ? rc : HS_REPLY_BYTES;
}

static long on_data(struct bconn *c, const uint8_t *p, size_t len)
{
	struct rtmpc *r = container_of(c, struct rtmpc, conn);
	long used = 0;
	if (r->state == RC_HANDSHAKE) {
		used = handshake(r, p, len);
		if (used <= 0)
			return used;
	}
	int n = rtmp_chunk_feed(&r->rd, p + used, len - (size_t)used, on_msg, r);
	if (n < 0)
		return n;
	int rc = maybe_ack(r);
	return rc < 0 ? rc : used + n;
}

static int on_connected(struct bconn *c)
{
	struct rtmpc *r = container_of(c, struct rtmpc, conn);
	r->c0c1 = malloc(1 + RTMP_SIG_SIZE);
	if (!r->c0c1)
		return -ENOMEM;
	rtmp_handshake_client_c0c1(r->c0c1, false);
	return bconn_write(c, r->c0c1, 1 + RTMP_SIG_SIZE);
}

static void on_ended(struct bconn *c, const char *why)
{
	struct rtmpc *r = container_of(c, struct rtmpc, conn);
	r->cbs->ended(r, why);
}

static void on_closed(struct bconn *c)
{
	struct rtmpc *r = container_of(c, struct rtmpc, conn);
	free(r->c0c1);
	r->c0c1 = NULL;
	rtmp_chunk_reader_free(&r->rd);
	r->cbs->closed(r);
}

static const struct bconn_ops rtmpc_ops = {
    .connected = on_connected,
    .data = on_data,
    .ended = on_ended,
    .closed = on_closed,
};

int rtmpc_start(struct rtmpc *r, uv_loop_t *loop, const struct target *t, bool publish,
		const struct rtmpc_cbs *cbs)
{
	r->cbs = cbs;
	r->t = t;
	r->publish = publish;
	r->state = RC_HANDSHAKE;
	rtmp_chunk_reader_init(&r->rd);
	rtmp_chunk_writer_init(&r->wr);
	return bconn_connect(&r->conn, loop, &rtmpc_ops, t->host, t->port);
}

int rtmpc_send(struct rtmpc *r, uint8_t type, uint32_t ts_ms, const uint8_t *body, size_t len)
{
	if (r->state != RC_LIVE)
		return -EAGAIN;
	uint32_t csid = type == RTMP_MSG_VIDEO   ? CSID_PUB_VIDEO
			: type == RTMP_MSG_AUDIO ? CSID_PUB_AUDIO
						 : CSID_PUB_DATA;
	struct bytes b = {.data = (uint8_t *)body, .len = len, .cap = len};
	return send_body(r, csid, type, r->msid, ts_ms, &b);
}
