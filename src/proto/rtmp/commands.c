/* RTMP AMF0 commands: connect, createStream, publish, play and friends.
 * Dispatch is table-driven; each handler gets the decoded arguments. */
#include "proto/rtmp/rtmp-t.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"

#define MAX_ARGS 8

struct cmd {
	struct rtmp_conn *c;
	const struct rtmp_msg *m;
	struct amf0_value *v; /* v[0] name, v[1] transaction id, v[2] command object */
	int n;
	double txn;
};

static const char *arg_str(const struct cmd *k, int i)
{
	return i < k->n && (k->v[i].type == AMF0_STRING || k->v[i].type == AMF0_LONG_STRING)
		   ? k->v[i].str
		   : NULL;
}

/* _result / _error with up to two values: props (object or null) and info. */
static int send_result(struct rtmp_conn *c, const char *name, double txn, struct bytes *props,
		       struct bytes *info)
{
	struct bytes b = {0};
	int rc = amf0_put_string(&b, name);
	rc = rc ?: amf0_put_number(&b, txn);
	if (!rc)
		rc = props ? bytes_append(&b, props->data, props->len) : amf0_put_null(&b);
	if (!rc && info)
		rc = bytes_append(&b, info->data, info->len);
	if (!rc)
		rc = rtmp_send_amf(c, RTMP_MSG_COMMAND_AMF0, CSID_COMMAND, 0, &b);
	bytes_free(&b);
	return rc;
}

static int put_status_obj(struct bytes *b, const char *level, const char *code, const char *desc)
{
	int rc = amf0_put_object_start(b);
	rc = rc ?: amf0_put_key(b, "level");
	rc = rc ?: amf0_put_string(b, level);
	rc = rc ?: amf0_put_key(b, "code");
	rc = rc ?: amf0_put_string(b, code);
	rc = rc ?: amf0_put_key(b, "description");
	rc = rc ?: amf0_put_string(b, desc);
	return rc;
}

int rtmp_send_status(struct rtmp_conn *c, uint32_t msid, const char *level, const char *code,
		     const char *desc)
{
	struct bytes b = {0};
	int rc = amf0_put_string(&b, "onStatus");
	rc = rc ?: amf0_put_number(&b, 0);
	rc = rc ?: amf0_put_null(&b);
	rc = rc ?: put_status_obj(&b, level, code, desc);
	rc = rc ?: amf0_put_key(&b, "details");
	rc = rc ?: amf0_put_string(&b, c->info.stream);
	rc = rc ?: amf0_put_object_end(&b);
	if (!rc)
		rc = rtmp_send_amf(c, RTMP_MSG_COMMAND_AMF0, CSID_COMMAND, msid, &b);
	bytes_free(&b);
	return rc;
}

static int control_messages(struct rtmp_conn *c)
{
	struct bytes b = {0};
	int rc = rtmp_put_window_ack_size(&c->wr, &b, RTMP_WINDOW_ACK);
	rc = rc ?: rtmp_put_set_peer_bw(&c->wr, &b, RTMP_WINDOW_ACK, 2);
	rc = rc ?: rtmp_put_set_chunk_size(&c->wr, &b, RTMP_OUT_CHUNK_SIZE);
	if (!rc) {
		c->wr.chunk_size = RTMP_OUT_CHUNK_SIZE;
		rc = rtmp_send_bytes(c, &b);
	}
	bytes_free(&b);
	return rc;
}

static int cmd_connect(struct cmd *k)
{
	struct rtmp_conn *c = k->c;
	const struct amf0_value *obj = k->n > 2 ? &k->v[2] : NULL;
	const char *app = obj ? amf0_get_str(obj, "app") : NULL;
	const char *tcurl = obj ? amf0_get_str(obj, "tcUrl") : NULL;
	snprintf(c->app, sizeof(c->app), "%s", app ? app : "");
	snprintf(c->tcurl, sizeof(c->tcurl), "%s", tcurl ? tcurl : "");
	/* "app?query" forms: the password is the part before '?'. */
	char *q = strchr(c->app, '?');
	if (q)
		*q = 0;
	LOGF(LOG_HIGH, NULL, "RTMP connect from %s: app '%s'", c->info.host, c->app);

	struct bytes props = {0}, info = {0};
	int rc = control_messages(c);
	rc = rc ?: amf0_put_object_start(&props);
	rc = rc ?: amf0_put_key(&props, "fmsVer");
	rc = rc ?: amf0_put_string(&props, "FMS/3,5,7,7009");
	rc = rc ?: amf0_put_key(&props, "capabilities");
	rc = rc ?: amf0_put_number(&props, 31);
	rc = rc ?: amf0_put_key(&props, "mode");
	rc = rc ?: amf0_put_number(&props, 1);
	rc = rc ?: amf0_put_object_end(&props);
	rc = rc
		 ?: put_status_obj(&info, "status", "NetConnection.Connect.Success",
				   "Connection succeeded.");
	rc = rc ?: amf0_put_key(&info, "objectEncoding");
	rc = rc ?: amf0_put_number(&info, 0);
	rc = rc ?: amf0_put_object_end(&info);
	if (!rc)
		rc = send_result(c, "_result", k->txn, &props, &info);
	bytes_free(&props);
	bytes_free(&info);
	return rc;
}

static int cmd_create_stream(struct cmd *k)
{
	struct bytes id = {0};
	int rc = amf0_put_number(&id, k->c->next_stream_id++);
	if (!rc)
		rc = send_result(k->c, "_result", k->txn, NULL, &id);
	bytes_free(&id);
	return rc;
}

/* releaseStream, FCPublish, FCUnpublish, getStreamLength...: acknowledge. */
static int cmd_ack(struct cmd *k)
{
	if (k->txn == 0)
		return 0;
	struct bytes u = {0};
	int rc = amf0_put_bool(&u, true);
	if (!rc)
		rc = send_result(k->c, "_result", k->txn, NULL, &u);
	bytes_free(&u);
	return rc;
}

static int cmd_fcpublish(struct cmd *k)
{
	int rc = cmd_ack(k);
	if (rc)
		return rc;
	struct bytes b = {0};
	const char *name = arg_str(k, 3);
	rc = amf0_put_string(&b, "onFCPublish");
	rc = rc ?: amf0_put_number(&b, 0);
	rc = rc ?: amf0_put_null(&b);
	rc = rc ?: put_status_obj(&b, "status", "NetStream.Publish.Start", name ? name : "");
	rc = rc ?: amf0_put_object_end(&b);
	if (!rc)
		rc = rtmp_send_amf(k->c, RTMP_MSG_COMMAND_AMF0, CSID_COMMAND, 0, &b);
	bytes_free(&b);
	return rc;
}

static int cmd_publish(struct cmd *k)
{
	const char *name = arg_str(k, 3);
	if (!name || !*name)
		return rtmp_send_status(k->c, k->m->stream_id, "error", "NetStream.Publish.BadName",
					"No stream name given");
	return rtmp_publish_start(k->c, k->m->stream_id, name);
}

static int cmd_play(struct cmd *k)
{
	const char *name = arg_str(k, 3);
	if (!name || !*name)
		return rtmp_send_status(k->c, k->m->stream_id, "error",
					"NetStream.Play.StreamNotFound", "No stream name given");
	return rtmp_play_start(k->c, k->m->stream_id, name);
}

static int cmd_close_stream(struct cmd *k)
{
	rtmp_publish_stop(k->c);
	rtmp_play_stop(k->c);
	return 0;
}

static int cmd_ignore(struct cmd *k)
{
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct cmd *k);
} commands[] = {
    {"connect", cmd_connect},
    {"createStream", cmd_create_stream},
    {"releaseStream", cmd_ack},
    {"FCPublish", cmd_fcpublish},
    {"FCUnpublish", cmd_close_stream},
    {"publish", cmd_publish},
    {"play", cmd_play},
    {"deleteStream", cmd_close_stream},
    {"closeStream", cmd_close_stream},
    {"getStreamLength", cmd_ack},
    {"_checkbw", cmd_ignore},
    {"receiveAudio", cmd_ignore},
    {"receiveVideo", cmd_ignore},
    {"@setDataFrame", cmd_ignore},
    {"onMetaData", cmd_ignore},
    {"_result", cmd_ignore},
    {"_error", cmd_ignore},
    {"onStatus", cmd_ignore},
};

int rtmp_on_command(struct rtmp_conn *c, const struct rtmp_msg *m)
{
	const uint8_t *p = m->payload;
	size_t len = m->len;
	/* AMF3 command/data messages start with a format byte; 0 = AMF0 follows. */
	if ((m->type == RTMP_MSG_COMMAND_AMF3 || m->type == RTMP_MSG_DATA_AMF3) && len) {
		p++;
		len--;
	}
	struct amf0_value v[MAX_ARGS];
	int n = amf0_decode_all(p, len, v, MAX_ARGS);
	if (n < 0)
		return n;
	int rc = 0;
	if (n < 1 || (v[0].type != AMF0_STRING && v[0].type != AMF0_LONG_STRING)) {
		rc = -EPROTO;
		goto out;
	}
	struct cmd k = {.c = c, .m = m, .v = v, .n = n};
	k.txn = n > 1 && v[1].type == AMF0_NUMBER ? v[1].num : 0;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(v[0].str, commands[i].name)) {
			rc = commands[i].fn(&k);
			goto out;
		}
	}
	LOGF(LOG_HIGH, NULL, "RTMP: ignoring command '%s' from %s", v[0].str, c->info.host);
out:
	amf0_free_all(v, (size_t)n);
	return rc;
}
