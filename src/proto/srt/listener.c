/* The single SRT port (connector "SRT", default 8889/udp): the stream ID
 * selects the stream and, with m=, the direction.
 *
 *   m=publish  the caller pushes MPEG-TS into the stream (push:// rules:
 *              host allow-list or password from the "pass" key)
 *   m=request  the caller receives the stream from its newest keyframe
 *              (a stream not live yet is waited for WSRT_PLAY_WAIT_MS:
 *              asking for it starts its on-demand input)
 *   no m=      "both" (MistServer): a stream that may be published is
 *              held for WSRT_UNDECIDED_MS; data makes it a publish,
 *              silence a request. A stream that already has a publisher,
 *              or has a pull source and is live, is sent at once.
 *
 * Config: "port", "interface", "acceptable" (0 both directions, 1
 * incoming only, 2 outgoing only) and SRT options by their lower-cased
 * names ("passphrase", "latency", ...); an unknown key is an error.
 * Refusals carry SRT reject codes: 1400 bad stream ID, 1403 forbidden
 * (no push:// source, host or password refused), 1404 stream not
 * configured, 1405 direction not allowed, 1409 already publishing,
 * 1415 t= other than stream. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/streamname.h"
#include "proto/srt/srt-t.h"
#include "proto/srt/srtlib.h"

#define REFUSAL_REPEAT_MS 10000 /* the same refusal again: logged quieter */

struct wsrt_listener {
	struct server_env env;
	struct srtio_sock *sock;
	int acceptable; /* 0 both, 1 incoming only, 2 outgoing only */
	int port;
	/* callers such as srt-live-transmit retry a refused connection many
	 * times a second: only the first refusal of a kind is a warning */
	char last_refusal[200];
	int64_t last_refusal_ms;
};

static int refuse(struct wsrt_listener *l, const char *what, const char *name, const char *host,
		  int code, const char *why)
{
	char key[200];
	int64_t now = (int64_t)uv_now(l->env.loop);
	snprintf(key, sizeof(key), "%d %s %s", code, host, name ? name : "");
	bool repeat = !strcmp(key, l->last_refusal) && now - l->last_refusal_ms < REFUSAL_REPEAT_MS;
	if (!repeat) {
		snprintf(l->last_refusal, sizeof(l->last_refusal), "%s", key);
		l->last_refusal_ms = now;
	}
	LOGF(repeat ? LOG_MEDIUM : LOG_WARN, NULL,
	     "SRT: refused %s of \"%s\" from %s: %s (reject %d: %s)", what,
	     name && *name ? name : "?", host, why, code, wsrt_reject_str(code));
	return code;
}

/* A request: the viewer waits up to WSRT_PLAY_WAIT_MS for a stream that
 * is not live yet (its input may be starting on demand). */
static int accept_request(struct wsrt_listener *l, struct wsrt_session *s, const char *raw)
{
	char name[STREAMNAME_MAX + 1];
	if (streamname_sanitize(raw, name, sizeof(name)) < 0)
		return refuse(l, "request", raw, s->info.host, SRT_REJX_NOTFOUND,
			      "invalid stream name");
	return wsrt_session_play(s, name, NULL) < 0 ? SRT_REJX_ISE : 0;
}

/* The direction wanted, after the port's "acceptable" setting; 0 or a
 * reject code. */
static int direction(const struct wsrt_listener *l, enum wsrt_sid_mode *m, const char **why)
{
	if (l->acceptable == 1 && *m == WSRT_SID_REQUEST) {
		*why = "this SRT port only accepts incoming streams";
		return SRT_REJX_BAD_MODE;
	}
	if (l->acceptable == 2 && *m == WSRT_SID_PUBLISH) {
		*why = "this SRT port only sends streams";
		return SRT_REJX_BAD_MODE;
	}
	if (*m == WSRT_SID_ANY && l->acceptable)
		*m = l->acceptable == 1 ? WSRT_SID_PUBLISH : WSRT_SID_REQUEST;
	return 0;
}

static int accept_publish(struct wsrt_listener *l, struct wsrt_session *s,
			  const struct wsrt_streamid *sid)
{
	struct hub_publish_req req = {.name = sid->name,
				      .password = sid->pass[0] ? sid->pass : NULL};
	char why[256] = "";
	int rc = wsrt_session_publish(s, &req, why, sizeof(why));
	if (rc < 0)
		return refuse(l, "publish", sid->name, s->info.host, wsrt_reject_for_errno(rc),
			      why);
	LOGF(LOG_INFO, s->info.stream, "SRT publish from %s", s->info.host);
	return 0;
}

/* Without m=, a stream that refuses pushes is only sent when it exists
 * (live, or its input booting); asking for it starts an on-demand input
 * for the next attempt. */
static bool live_or_starting(struct wsrt_listener *l, const char *raw)
{
	char name[STREAMNAME_MAX + 1];
	if (streamname_sanitize(raw, name, sizeof(name)) < 0)
		return false;
	return hub_want(l->env.hub, name) || hub_find(l->env.hub, name);
}

/* Decides on a connection with a parsed stream ID, for session s. */
static int decide_sid(struct wsrt_listener *l, struct wsrt_session *s,
		      const struct wsrt_streamid *sid)
{
	enum wsrt_sid_mode m = sid->mode;
	const char *why = NULL;
	int code = direction(l, &m, &why);
	if (code)
		return refuse(l, m == WSRT_SID_PUBLISH ? "publish" : "request", sid->name,
			      s->info.host, code, why);
	if (m == WSRT_SID_PUBLISH)
		return accept_publish(l, s, sid);
	if (m == WSRT_SID_REQUEST)
		return accept_request(l, s, sid->name);
	/* no m=: publish if allowed (held until data shows), else play a
	 * stream that exists (pull source, or someone else publishes) */
	struct hub_publish_req req = {.name = sid->name,
				      .password = sid->pass[0] ? sid->pass : NULL};
	char pwhy[256] = "";
	int rc = wsrt_session_publish(s, &req, pwhy, sizeof(pwhy));
	if (rc == 0) {
		wsrt_session_undecided(s, sid->name);
		return 0;
	}
	if (rc == -EBUSY || (rc == -EACCES && live_or_starting(l, sid->name)))
		return accept_request(l, s, sid->name);
	return refuse(l, "publish", sid->name, s->info.host, wsrt_reject_for_errno(rc), pwhy);
}

static int decide(void *arg, struct srtio_sock *ns, const char *streamid,
		  const struct sockaddr *peer)
{
	struct wsrt_listener *l = arg;
	struct conn_info who = {0};
	conn_set_host(&who, peer);
	struct wsrt_streamid sid;
	int code = 0;
	char why[160];
	if (wsrt_streamid_parse(streamid, &sid, &code, why, sizeof(why)) < 0)
		return refuse(l, "connection", streamid, who.host, code, why);
	struct wsrt_session *s = wsrt_session_new(l->env.loop, l->env.hub, ns, NULL, NULL);
	if (!s)
		return refuse(l, "connection", sid.name, who.host, SRT_REJX_ISE, "out of memory");
	code = decide_sid(l, s, &sid);
	if (code)
		wsrt_session_close(s, NULL);
	return code;
}

/* ---- config ---- */

/* A config value as the option parser's string. */
static int json_to_str(const json_t *v, char *out, size_t len)
{
	if (json_is_string(v))
		snprintf(out, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(out, len, "%d", json_is_true(v));
	else
		return -EINVAL;
	return 0;
}

static int acceptable_of(const json_t *v, int *out)
{
	char s[16];
	if (json_to_str(v, s, sizeof(s)) < 0 || s[1] || s[0] < '0' || s[0] > '2')
		return -EINVAL;
	*out = s[0] - '0';
	return 0;
}

/* Reads "acceptable" and the SRT options from a config.protocols entry. */
int wsrt_listener_config(const json_t *cfg, struct wsrt_opts *o, int *acceptable, char *err,
			 size_t errlen)
{
	static const char *const generic[] = {"connector", "port", "interface", "debug", NULL};
	const char *key;
	const json_t *v;
	*acceptable = 0;
	json_object_foreach((json_t *)cfg, key, v)
	{
		bool skip = json_is_null(v);
		for (const char *const *g = generic; *g && !skip; g++)
			skip = !strcmp(key, *g);
		if (skip)
			continue;
		if (!strcmp(key, "acceptable")) {
			if (acceptable_of(v, acceptable) == 0)
				continue;
			snprintf(err, errlen,
				 "\"acceptable\" must be 0 (both), 1 (incoming) "
				 "or 2 (outgoing)");
			return -EINVAL;
		}
		char val[1024];
		if (json_to_str(v, val, sizeof(val)) < 0) {
			snprintf(err, errlen, "SRT option '%.64s' must be a string or number", key);
			return -EINVAL;
		}
		int rc = wsrt_opts_set(o, key, val, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int open_port(struct wsrt_listener *l, const char *iface, const struct wsrt_opts *o,
		     char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	if (wsrt_sockaddr(iface, l->port, &ss) < 0) {
		snprintf(err, errlen, "interface \"%.64s\" is not a numeric address", iface);
		return -EINVAL;
	}
	int rc = srtio_listen((struct sockaddr *)&ss, o, 64, decide, l, &l->sock, err, errlen);
	if (rc < 0 && !*iface) { /* no IPv6: IPv4 only */
		wsrt_sockaddr("0.0.0.0", l->port, &ss);
		rc = srtio_listen((struct sockaddr *)&ss, o, 64, decide, l, &l->sock, err, errlen);
	}
	return rc;
}

static int wsrt_listen(const struct server_env *env, const json_t *cfg, void **state, char *err,
		       size_t errlen)
{
	struct wsrt_listener *l = calloc(1, sizeof(*l));
	struct wsrt_opts o = {0};
	if (!l)
		return -ENOMEM;
	l->env = *env;
	const json_t *port = json_object_get(cfg, "port");
	l->port = json_is_integer(port) ? (int)json_integer_value(port) : 8889;
	const char *iface = json_string_value(json_object_get(cfg, "interface"));
	int rc = wsrt_listener_config(cfg, &o, &l->acceptable, err, errlen);
	if (!rc && (rc = srtio_init(env->loop)) < 0)
		snprintf(err, errlen, "cannot start the SRT I/O thread");
	if (!rc)
		rc = open_port(l, iface ? iface : "", &o, err, errlen);
	wsrt_opts_free(&o);
	if (rc < 0) {
		free(l);
		return rc;
	}
	*state = l;
	return 0;
}

static void wsrt_unlisten(void *state)
{
	struct wsrt_listener *l = state;
	if (!l)
		return;
	srtio_close(l->sock); /* no decide after this; sessions carry on */
	free(l);
}

static const char *const srt_codecs[] = {"H264", "HEVC", "AAC", "MP3", NULL};

const struct driver srt_listener_driver = {
    .name = "SRT",
    .desc = "MPEG-TS over SRT on one UDP port: the streamid selects the stream "
	    "(m=publish sends to the server, m=request receives)",
    .kind = DRIVER_LISTENER,
    .codecs = srt_codecs,
    .default_port = 8889,
    .transport = "udp",
    .listen = wsrt_listen,
    .unlisten = wsrt_unlisten,
    .shutdown = srtio_shutdown,
};
