/* The JSON API without sockets: auth flows (challenge, single use, NOACC,
 * loopback trust), stream and protocol commands with validation and
 * saving, annotations, several commands per request, malformed input. */
#include <errno.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/api.h"
#include "control/auth.h"
#include "control/config.h"
#include "control/listeners.h"
#include "core/conn.h"
#include "core/log.h"
#include "hub/hub.h"
#include "proto/registry.h"

/* ---- registry stub: two listeners (port 1 is "in use"), an input, an output ---- */

static int listening; /* listeners currently up */
static int noted_port[2];

static int fake_listen(const struct server_env *env, const json_t *cfg, void **state, char *err,
		       size_t errlen)
{
	if (json_integer_value(json_object_get(cfg, "port")) == 1) {
		snprintf(err, errlen, "port in use");
		return -EADDRINUSE;
	}
	*state = malloc(1);
	listening++;
	return 0;
}

static void fake_unlisten(void *state)
{
	free(state);
	listening--;
}

static const char *const push_patterns[] = {"push://", NULL};
static const char *const flv_patterns[] = {"/*.flv", NULL};
static const char *const codecs[] = {"H264", "AAC", NULL};
static const struct driver fake_http = {.name = "HTTP",
					.desc = "web",
					.kind = DRIVER_LISTENER,
					.default_port = 8080,
					.transport = "tcp",
					.listen = fake_listen,
					.unlisten = fake_unlisten};
static const struct driver fake_rtmp = {.name = "RTMP",
					.desc = "rtmp",
					.kind = DRIVER_LISTENER,
					.default_port = 1935,
					.transport = "tcp",
					.codecs = codecs,
					.listen = fake_listen,
					.unlisten = fake_unlisten};
static const struct driver fake_push = {.name = "Buffer",
					.desc = "push input",
					.kind = DRIVER_INPUT,
					.patterns = push_patterns,
					.priority = 9};
static const struct driver fake_flv = {
    .name = "FLV", .kind = DRIVER_OUTPUT, .patterns = flv_patterns, .codecs = codecs};
const struct driver *const driver_registry[] = {&fake_http, &fake_rtmp, &fake_push, &fake_flv,
						NULL};

const struct driver *driver_find(const char *name, enum driver_kind kind)
{
	for (const struct driver *const *d = driver_registry; *d; d++)
		if ((*d)->kind == kind && !strcasecmp((*d)->name, name))
			return *d;
	return NULL;
}
void listener_note_port(const char *name, int port)
{
	noted_port[strcasecmp(name, "HTTP") == 0 ? 0 : 1] = port;
}
int listener_port(const char *name)
{
	return 0;
}

/* ---- hub stub: a fixed set of live streams ---- */

struct hub {
	int unused;
};
struct hub_stream {
	const char *name;
	enum stream_state st;
	int kicked;
};
static struct hub fake_hub;
static struct hub_stream live[] = {
    {"live", STREAM_READY, 0},
    {"live+cam", STREAM_WAIT, 0},
    {"wild+a", STREAM_WAIT, 0},
    {"other", STREAM_READY, 0},
};
#define NLIVE (sizeof(live) / sizeof(*live))

void hub_foreach(struct hub *h, void (*fn)(struct hub_stream *s, void *arg), void *arg)
{
	for (size_t i = 0; i < NLIVE; i++)
		fn(&live[i], arg);
}
struct hub_stream *hub_find(struct hub *h, const char *name)
{
	for (size_t i = 0; i < NLIVE; i++)
		if (strcmp(live[i].name, name) == 0)
			return &live[i];
	return NULL;
}
void hub_stream_kick(struct hub_stream *s)
{
	s->kicked++;
}
const char *hub_stream_name(const struct hub_stream *s)
{
	return s->name;
}
enum stream_state hub_stream_state(const struct hub_stream *s)
{
	return s->st;
}
unsigned hub_stream_track_count(const struct hub_stream *s)
{
	return 2;
}
unsigned hub_stream_readers(const struct hub_stream *s)
{
	return 3;
}
bool hub_stream_has_publisher(const struct hub_stream *s)
{
	return s->st != STREAM_OFF;
}
void hub_stream_window(const struct hub_stream *s, int64_t *first_us, int64_t *last_us)
{
	*first_us = 1000000;
	*last_us = 9000000;
}
uint64_t hub_stream_bytes_in(const struct hub_stream *s)
{
	return 4242;
}

/* ---- fixture ---- */

#define ADMIN_MD5 "5ebe2294ecd0e0f08eab7690d2a6ee69" /* md5("secret") */

struct fx {
	char dir[64];
	char path[128];
	struct api_ctx ctx;
	struct server_env env;
};

static const char base_config[] =
    "{\"config\": {\"protocols\": [{\"connector\": \"HTTP\", \"port\": 8080}],"
    " \"trust_loopback\": false, \"debug\": 4},"
    " \"streams\": {\"live\": {\"name\": \"live\", \"source\": \"push://\"},"
    " \"wild\": {\"name\": \"wild\", \"source\": \"push://\"},"
    " \"quiet\": {\"name\": \"quiet\", \"source\": \"push://\"}},"
    " \"account\": {\"admin\": {\"password\": \"" ADMIN_MD5 "\"}}}";

static struct fx *fx_new(const char *config_text)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/weir_api_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/weir.json", f->dir);
	char err[256] = "";
	assert_int_equal(
	    config_parse(config_text, strlen(config_text), &f->ctx.config, err, sizeof(err)), 0);
	f->ctx.config_path = f->path;
	f->ctx.hub = &fake_hub;
	f->ctx.auth = auth_new();
	f->ctx.debug_override = -1;
	f->env.hub = &fake_hub;
	f->ctx.listeners = listeners_new(&f->env);
	api_apply(&f->ctx, false);
	for (size_t i = 0; i < NLIVE; i++)
		live[i].kicked = 0;
	return f;
}

static void fx_free(struct fx *f)
{
	listeners_free(f->ctx.listeners);
	auth_free(f->ctx.auth);
	json_decref(f->ctx.config);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	assert_int_equal(listening, 0);
}

static int setup(void **state)
{
	*state = fx_new(base_config);
	return 0;
}

static int teardown(void **state)
{
	fx_free(*state);
	return 0;
}

/* Runs a request given as JSON text; returns the response. */
static json_t *call(struct fx *f, struct api_client *cl, const char *text)
{
	json_error_t jerr;
	json_t *req = json_loads(text, 0, &jerr);
	if (!req)
		fail_msg("bad test JSON: %s", jerr.text);
	json_t *resp = api_handle(&f->ctx, req, cl, false);
	json_decref(req);
	assert_non_null(resp);
	return resp;
}

static const char *status_of(const json_t *resp)
{
	return json_string_value(json_object_get(json_object_get(resp, "authorize"), "status"));
}

static const char *challenge_of(const json_t *resp)
{
	return json_string_value(json_object_get(json_object_get(resp, "authorize"), "challenge"));
}

static void md5hex(const char *s, char out[33])
{
	unsigned char md[16];
	unsigned int n = 0;
	assert_true(EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL));
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

/* {"authorize": {...}} text logging in as admin/secret on challenge. */
static void login_json(const char *challenge, char *out, size_t len)
{
	char pw[33], buf[128], proof[33];
	md5hex("secret", pw);
	snprintf(buf, sizeof(buf), "%s%s", pw, challenge);
	md5hex(buf, proof);
	snprintf(out, len, "\"authorize\": {\"username\": \"admin\", \"password\": \"%s\"}", proof);
}

static char *file_text(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	char *buf = calloc(1, 1 << 16);
	fread(buf, 1, (1 << 16) - 1, fp);
	fclose(fp);
	return buf;
}

static const json_t *path_get(const json_t *v, const char *a, const char *b, const char *c)
{
	v = json_object_get(v, a);
	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	return v;
}

/* ---- tests ---- */

static void test_challenge_flow(void **state)
{
	struct fx *f = *state;
	struct api_client cl = {.peer = "10.0.0.5"};
	json_t *r = call(f, &cl, "{\"addstream\": {\"cam\": {\"source\": \"push://\"}}}");
	assert_string_equal(status_of(r), "CHALL");
	assert_int_equal(strlen(challenge_of(r)), AUTH_CHALLENGE_LEN);
	assert_int_equal(json_object_size(r), 1); /* nothing else ran */
	assert_null(path_get(f->ctx.config, "streams", "cam", NULL));
	assert_int_equal(access(f->path, F_OK), -1);

	char login[256], req[512];
	login_json(challenge_of(r), login, sizeof(login));
	json_decref(r);
	snprintf(req, sizeof(req), "{%s, \"addstream\": {\"cam\": {\"source\": \"push://\"}}}",
		 login);
	r = call(f, &cl, req);
	assert_string_equal(status_of(r), "OK");
	assert_true(cl.authed);
	const json_t *streams = json_object_get(r, "streams");
	assert_int_equal(json_integer_value(json_object_get(streams, "incomplete list")), 1);
	assert_string_equal(json_string_value(path_get(streams, "cam", "source", NULL)), "push://");
	assert_string_equal(json_string_value(path_get(streams, "cam", "name", NULL)), "cam");
	assert_int_equal(json_integer_value(path_get(streams, "cam", "online", NULL)), 0);
	assert_string_equal(json_string_value(path_get(streams, "cam", "error", NULL)),
			    "Stream is offline");
	assert_null(json_object_get(streams, "live")); /* incomplete list: only the added */
	json_decref(r);

	char *text = file_text(f->path); /* saved, without annotations */
	assert_non_null(text);
	assert_non_null(strstr(text, "\"cam\""));
	assert_null(strstr(text, "online"));
	free(text);

	/* the same proof again, from a new connection: single use */
	struct api_client cl2 = {.peer = "10.0.0.5"};
	snprintf(req, sizeof(req), "{%s, \"deletestream\": \"cam\"}", login);
	r = call(f, &cl2, req);
	assert_string_equal(status_of(r), "CHALL");
	assert_false(cl2.authed);
	assert_non_null(path_get(f->ctx.config, "streams", "cam", NULL));
	json_decref(r);

	/* the first connection stays authorized */
	r = call(f, &cl, "{\"streams\": true}");
	assert_string_equal(status_of(r), "OK");
	streams = json_object_get(r, "streams");
	assert_null(json_object_get(streams, "incomplete list"));
	assert_non_null(json_object_get(streams, "cam"));
	assert_non_null(json_object_get(streams, "live"));
	json_decref(r);

	r = call(f, &cl, "{\"deletestream\": \"cam\"}");
	assert_null(path_get(f->ctx.config, "streams", "cam", NULL));
	assert_null(path_get(r, "streams", "cam", NULL));
	json_decref(r);
	text = file_text(f->path);
	assert_null(strstr(text, "\"cam\""));
	free(text);
}

static void test_wrong_password(void **state)
{
	struct fx *f = *state;
	struct api_client cl = {.peer = "10.0.0.5"};
	json_t *r = call(f, &cl, "{}");
	char req[512];
	snprintf(req, sizeof(req),
		 "{\"authorize\": {\"username\": \"admin\", \"password\": \"%s\"}, \"version\": 1}",
		 "0123456789abcdef0123456789abcdef");
	json_decref(r);
	r = call(f, &cl, req);
	assert_string_equal(status_of(r), "CHALL");
	assert_null(json_object_get(r, "version"));
	json_decref(r);
	/* a proof made for another peer's challenge fails */
	struct api_client other = {.peer = "10.0.0.6"};
	r = call(f, &other, "{}");
	char login[256];
	login_json(challenge_of(r), login, sizeof(login));
	json_decref(r);
	snprintf(req, sizeof(req), "{%s}", login);
	r = call(f, &cl, req);
	assert_string_equal(status_of(r), "CHALL");
	json_decref(r);
	r = call(f, &other, req);
	assert_string_equal(status_of(r), "OK");
	json_decref(r);
}

static void test_noacc_flow(void **state)
{
	struct fx *f = fx_new("{\"config\": {\"trust_loopback\": true}, \"streams\": {}}");
	struct api_client cl = {.peer = "10.0.0.5"};
	json_t *r = call(f, &cl, "{\"version\": true}");
	assert_string_equal(status_of(r), "NOACC");
	assert_non_null(challenge_of(r));
	assert_null(json_object_get(r, "version"));
	json_decref(r);

	r = call(f, &cl,
		 "{\"authorize\": {\"new_username\": \"bob\", \"new_password\": \"secret\"},"
		 " \"version\": true}");
	assert_string_equal(status_of(r), "OK");
	assert_non_null(json_object_get(r, "version"));
	assert_string_equal(
	    json_string_value(path_get(f->ctx.config, "account", "bob", "password")), ADMIN_MD5);
	json_decref(r);
	char *text = file_text(f->path);
	assert_non_null(strstr(text, ADMIN_MD5));
	free(text);

	/* now that an account exists, nobody else may create one */
	struct api_client cl2 = {.peer = "10.0.0.7"};
	r = call(f, &cl2, "{\"authorize\": {\"new_username\": \"eve\", \"new_password\": \"x\"}}");
	assert_string_equal(status_of(r), "CHALL");
	assert_null(path_get(f->ctx.config, "account", "eve", NULL));
	json_decref(r);
	fx_free(f);
}

static void test_loopback_trust(void **state)
{
	struct fx *f = fx_new("{\"config\": {\"trust_loopback\": true}}");
	struct api_client local = {.peer = "127.0.0.1"};
	json_t *r = call(f, &local, "{}");
	assert_string_equal(status_of(r), "OK");
	json_decref(r);
	struct api_client proxied = {.peer = "127.0.0.1", .proxied = true};
	r = call(f, &proxied, "{}");
	assert_string_equal(status_of(r), "NOACC");
	json_decref(r);
	struct api_client v6 = {.peer = "::1"};
	r = call(f, &v6, "{}");
	assert_string_equal(status_of(r), "OK");
	json_decref(r);
	fx_free(f);

	struct fx *g = fx_new(base_config); /* trust_loopback false */
	struct api_client local2 = {.peer = "127.0.0.1"};
	r = call(g, &local2, "{}");
	assert_string_equal(status_of(r), "CHALL");
	json_decref(r);
	fx_free(g);
}

static void test_multiple_and_unknown(void **state)
{
	struct fx *f = *state;
	struct api_client cl = {.peer = "10.0.0.5", .authed = true};
	json_t *r =
	    call(f, &cl,
		 "{\"frobnicate\": 1, \"version\": true, \"capabilities\": true,"
		 " \"active_streams\": true, \"addstream\": {\"new1\": {\"source\": \"/x.mp4\"}}}");
	assert_string_equal(json_string_value(path_get(r, "frobnicate", "error", NULL)),
			    "Unknown command");
	assert_non_null(json_string_value(path_get(r, "version", "version", NULL)));
	assert_string_equal(json_string_value(path_get(r, "version", "release", NULL)), "weir");
	const json_t *capa = json_object_get(r, "capabilities");
	const json_t *opt = path_get(capa, "connectors", "RTMP", "optional");
	assert_int_equal(json_integer_value(path_get(opt, "port", "default", NULL)), 1935);
	assert_string_equal(json_string_value(path_get(opt, "port", "type", NULL)), "uint");
	assert_string_equal(json_string_value(path_get(capa, "connectors", "RTMP", "desc")),
			    "rtmp");
	assert_string_equal(json_string_value(json_array_get(
				path_get(capa, "inputs", "Buffer", "source_match"), 0)),
			    "push://");
	assert_non_null(path_get(capa, "outputs", "FLV", NULL));
	const json_t *active = json_object_get(r, "active_streams");
	assert_true(json_is_array(active));
	assert_int_equal(json_array_size(active), NLIVE);
	assert_non_null(path_get(f->ctx.config, "streams", "new1", NULL));
	/* non-minimal /api: config, streams and log always come along */
	assert_non_null(json_object_get(r, "config"));
	assert_non_null(json_object_get(r, "log"));
	assert_non_null(json_object_get(r, "streams"));
	json_decref(r);
}

static void test_minimal(void **state)
{
	struct fx *f = *state;
	struct api_client cl = {.peer = "10.0.0.5", .authed = true};
	json_t *req = json_loads("{\"version\": true}", 0, NULL);
	json_t *r = api_handle(&f->ctx, req, &cl, true);
	assert_non_null(json_object_get(r, "version"));
	assert_null(json_object_get(r, "config"));
	assert_null(json_object_get(r, "streams"));
	assert_null(json_object_get(r, "log"));
	json_decref(r);
	json_decref(req);
	req = json_loads(
	    "{\"minimal\": 1, \"log\": true, \"addprotocol\": {\"connector\": \"RTMP\"}}", 0, NULL);
	INFO_MSG("hello from the test");
	r = api_handle(&f->ctx, req, &cl, false);
	assert_null(json_object_get(r, "streams"));
	assert_non_null(json_object_get(r, "config"));
	const json_t *log = json_object_get(r, "log");
	const json_t *last = json_array_get(log, json_array_size(log) - 1);
	assert_true(json_array_size(log) >= 1);
	assert_true(json_is_integer(json_array_get(last, 0)));
	assert_string_equal(json_string_value(json_array_get(last, 1)), "INFO");
	json_decref(r);
	json_decref(req);
}

static void test_validation_keeps_config(void **state)
{
	struct fx *f = *state;
	struct api_client cl = {.peer = "10.0.0.5", .authed = true};
	json_t *r = call(f, &cl, "{\"save\": true}");
	assert_string_equal(json_string_value(json_object_get(r, "save")), "OK");
	json_decref(r);
	char *before = file_text(f->path);
	json_t *cfg_before = json_deep_copy(f->ctx.config);

	static const struct {
		const char *req, *cmd, *err;
	} bad[] = {
	    {"{\"addstream\": {\"x\": {\"source\": \"push://\", \"DVR\": \"big\"}}}", "addstream",
	     "streams.x.DVR: expected an integer"},
	    {"{\"addstream\": {\"Bad Name\": {\"source\": \"push://\"}}}", "addstream",
	     "streams.Bad Name: invalid stream name"},
	    {"{\"addstream\": {\"x\": {}}}", "addstream", "streams.x.source: missing (required)"},
	    {"{\"addstream\": [1]}", "addstream", "expected an object of streams"},
	    {"{\"streams\": {\"x\": {\"source\": 5}}}", "streams",
	     "streams.x.source: expected a string"},
	    {"{\"deletestream\": 5}", "deletestream", "expected a stream name"},
	    {"{\"config\": {\"debug\": 11}}", "config", "config.debug: out of range 0..10"},
	    {"{\"config\": {\"protocols\": [{\"connector\": \"HTTP\", \"port\": 0}]}}", "config",
	     "config.protocols[0].port: out of range 1..65535"},
	    {"{\"addprotocol\": {\"connector\": \"NOPE\"}}", "addprotocol",
	     "config.protocols[1].connector: unknown connector \"NOPE\""},
	    {"{\"addprotocol\": 7}", "addprotocol", "expected a protocol object"},
	    {"{\"deleteprotocol\": {\"connector\": \"RTMP\", \"port\": 9}}", "deleteprotocol",
	     "no matching protocol"},
	    {"{\"updateprotocol\": [{\"connector\": \"HTTP\"}]}", "updateprotocol",
	     "expected [old protocol, new protocol]"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		r = call(f, &cl, bad[i].req);
		const char *err = json_string_value(path_get(r, bad[i].cmd, "error", NULL));
		if (!err || strncmp(err, bad[i].err, strlen(bad[i].err)) != 0)
			fail_msg("case %zu: got %s, want %s", i, err ? err : "(none)", bad[i].err);
		json_decref(r);
		assert_true(json_equal(cfg_before, f->ctx.config));
	}
	char *after = file_text(f->path);
	assert_string_equal(before, after);
	free(before);
	free(after);
	json_decref(cfg_before);
}

static void test_annotations_and_kicks(void **state)
{
	struct fx *f = *state;
	struct api_client cl = {.peer = "10.0.0.5", .authed = true};
	json_t *r = call(f, &cl, "{\"streams\": true}");
	const json_t *s = json_object_get(r, "streams");
	assert_int_equal(json_integer_value(path_get(s, "live", "online", NULL)), 1);
	assert_null(path_get(s, "live", "error", NULL));
	assert_int_equal(json_integer_value(path_get(s, "wild", "online", NULL)), 2); /* wild+a */
	assert_int_equal(json_integer_value(path_get(s, "quiet", "online", NULL)), 0);
	assert_null(path_get(f->ctx.config, "streams", "live", "online"));
	json_decref(r);

	r = call(f, &cl, "{\"deletestream\": [\"live\", \"nothere\"]}");
	assert_null(path_get(f->ctx.config, "streams", "live", NULL));
	assert_int_equal(live[0].kicked, 1); /* live */
	assert_int_equal(live[1].kicked, 1); /* live+cam */
	assert_int_equal(live[2].kicked, 0);
	assert_int_equal(live[3].kicked, 0);
	json_decref(r);

	/* a changed source drops the publishers too; replacing all streams
	 * drops the ones that went away */
	r = call(f, &cl,
		 "{\"addstream\": {\"wild\": {\"source\": \"/v.mp4\", \"online\": 1,"
		 " \"error\": \"x\", \"DVR\": null}}}");
	assert_int_equal(live[2].kicked, 1);
	assert_null(path_get(f->ctx.config, "streams", "wild", "online"));
	assert_null(path_get(f->ctx.config, "streams", "wild", "DVR"));
	json_decref(r);
	r = call(f, &cl, "{\"streams\": {\"other\": {\"source\": \"push://\"}}}");
	assert_int_equal(json_object_size(path_get(f->ctx.config, "streams", NULL, NULL)), 1);
	assert_int_equal(live[2].kicked, 2);
	assert_int_equal(live[3].kicked, 0);
	json_decref(r);
	/* MistServer's "incomplete list" merges instead of replacing */
	r = call(f, &cl,
		 "{\"streams\": {\"incomplete list\": 1, \"more\": {\"source\": \"push://\"}}}");
	assert_int_equal(json_object_size(path_get(f->ctx.config, "streams", NULL, NULL)), 2);
	json_decref(r);
}

static void test_active_streams_fields(void **state)
{
	struct fx *f = *state;
	struct api_client cl = {.peer = "10.0.0.5", .authed = true};
	json_t *r = call(f, &cl, "{\"active_streams\": [\"viewers\", \"lastms\", \"bogus\"]}");
	const json_t *a = path_get(r, "active_streams", "live", NULL);
	assert_int_equal(json_integer_value(json_array_get(a, 0)), 3);
	assert_int_equal(json_integer_value(json_array_get(a, 1)), 9000);
	assert_true(json_is_null(json_array_get(a, 2)));
	json_decref(r);
	r = call(f, &cl, "{\"active_streams\": {\"longform\": true, \"streams\": [\"other\"]}}");
	a = json_object_get(r, "active_streams");
	assert_int_equal(json_object_size(a), 1);
	assert_string_equal(json_string_value(path_get(a, "other", "status", NULL)), "Online");
	json_decref(r);
}

static void test_protocols(void **state)
{
	struct fx *f = *state;
	struct api_client cl = {.peer = "10.0.0.5", .authed = true};
	assert_int_equal(listening, 1); /* HTTP from the config */
	assert_int_equal(noted_port[0], 8080);
	json_t *r = call(f, &cl,
			 "{\"addprotocol\": [{\"connector\": \"RTMP\"},"
			 " {\"connector\": \"RTMP\", \"port\": 1}, {\"connector\": \"RTMP\"}]}");
	assert_int_equal(listening, 2);
	assert_int_equal(noted_port[1], 1935);
	const json_t *protos = path_get(r, "config", "protocols", NULL);
	assert_int_equal(json_array_size(protos), 3); /* duplicates dropped */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(protos, 1), "online")),
			 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(protos, 2), "online")),
			 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(protos, 2), "error")),
			    "port in use");
	json_decref(r);

	/* the UI sends entries back with their annotations */
	r = call(f, &cl, "{\"deleteprotocol\": {\"connector\": \"RTMP\", \"online\": 1}}");
	assert_int_equal(listening, 1);
	assert_int_equal(noted_port[1], 0);
	json_decref(r);
	r = call(f, &cl,
		 "{\"updateprotocol\": [{\"connector\": \"HTTP\", \"port\": 8080},"
		 " {\"connector\": \"HTTP\", \"port\": 8081}]}");
	assert_int_equal(listening, 1);
	assert_int_equal(noted_port[0], 8081);
	json_decref(r);
	r = call(f, &cl,
		 "{\"config\": {\"protocols\": [], \"serverid\": \"box\", \"debug\": 5,"
		 " \"version\": \"x\", \"bogus\": 1}}");
	assert_int_equal(listening, 0);
	assert_int_equal(noted_port[0], 0);
	assert_int_equal(log_threshold, 5);
	assert_string_equal(json_string_value(path_get(f->ctx.config, "config", "serverid", NULL)),
			    "box");
	assert_null(path_get(f->ctx.config, "config", "version", NULL));
	assert_null(path_get(f->ctx.config, "config", "bogus", NULL));
	assert_string_equal(json_string_value(path_get(r, "config", "serverid", NULL)), "box");
	json_decref(r);
	r = call(f, &cl, "{\"config\": {\"debug\": null}}");
	assert_int_equal(log_threshold, 4);
	json_decref(r);
}

static void test_clients(void **state)
{
	struct fx *f = *state;
	struct api_client cl = {.peer = "10.0.0.5", .authed = true};
	struct conn_info ci = {.protocol = "RTMP", .down_bytes = 10, .up_bytes = 20};
	snprintf(ci.host, sizeof(ci.host), "192.0.2.1");
	snprintf(ci.stream, sizeof(ci.stream), "live");
	ci.conntime_s = 1;
	conn_register(&ci);
	json_t *r = call(f, &cl, "{\"clients\": {}}");
	const json_t *c = json_object_get(r, "clients");
	assert_int_equal(json_array_size(json_object_get(c, "fields")), 6);
	const json_t *row = json_array_get(json_object_get(c, "data"), 0);
	assert_string_equal(json_string_value(json_array_get(row, 0)), "192.0.2.1");
	assert_string_equal(json_string_value(json_array_get(row, 1)), "live");
	assert_string_equal(json_string_value(json_array_get(row, 2)), "RTMP");
	assert_int_equal(json_integer_value(json_array_get(row, 4)), 10);
	assert_int_equal(json_integer_value(json_array_get(row, 5)), 20);
	assert_true(json_is_integer(json_object_get(c, "time")));
	json_decref(r);
	r = call(f, &cl,
		 "{\"clients\": [{\"fields\": [\"up\", \"nope\"], \"protocols\": [\"HLS\"]},"
		 " {\"fields\": [\"up\"]}]}");
	c = json_object_get(r, "clients");
	assert_int_equal(json_array_size(json_object_get(json_array_get(c, 0), "data")), 0);
	row = json_array_get(json_object_get(json_array_get(c, 1), "data"), 0);
	assert_int_equal(json_integer_value(json_array_get(row, 0)), 20);
	json_decref(r);
	conn_unregister(&ci);
}

static void test_http_front(void **state)
{
	struct fx *f = *state;
	struct api_client cl = {.peer = "10.0.0.5", .authed = true};
	static const struct {
		const char *query, *body, *ctype, *prefix, *contains;
	} cases[] = {
	    {"", "{not json", "application/json", "{\"error\":\"invalid JSON: line 1", NULL},
	    {"", "[1,2]", "application/json", "{\"error\":\"request must be a JSON object\"}",
	     NULL},
	    {"", "{\"version\":1}", "application/json", "{", "\"release\":\"weir\""},
	    {"", "command=%7B%22version%22%3Atrue%7D", "application/json", "{", "\"release\""},
	    {"command=%7B%22version%22%3Atrue%7D", "", "application/json", "{", "\"release\""},
	    {"command=%7B%22version%22", "", "application/json", "{\"error\":\"invalid JSON", NULL},
	    {"callback=cb_1&command=%7B%7D", "", "application/javascript", "cb_1({", "});\n"},
	    {"jsonp=a.b", "{}", "application/javascript", "a.b({", NULL},
	    {"callback=alert(1)//", "{}", "application/json", "{\"authorize\"", NULL},
	    {"", "", "application/json", "{\"authorize\":{\"status\":\"OK\"}", NULL},
	    {"", "   \n{\"version\":1}", "application/json", "{", "\"release\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *out = NULL;
		size_t len = 0;
		const char *ctype = NULL;
		assert_int_equal(api_handle_http(&f->ctx, "/api", cases[i].query, cases[i].body,
						 strlen(cases[i].body), &cl, &out, &len, &ctype),
				 0);
		assert_int_equal(strlen(out), len);
		if (strncmp(out, cases[i].prefix, strlen(cases[i].prefix)) != 0 ||
		    (cases[i].contains && !strstr(out, cases[i].contains)) ||
		    strcmp(ctype, cases[i].ctype) != 0)
			fail_msg("case %zu: %s (%s)", i, out, ctype);
		free(out);
	}
	/* a NUL inside the body is refused, not truncated */
	char *out = NULL;
	size_t len = 0;
	const char *ctype = NULL;
	assert_int_equal(
	    api_handle_http(&f->ctx, "/api2", "", "{}\0{\"x\":1}", 10, &cl, &out, &len, &ctype), 0);
	assert_non_null(strstr(out, "NUL"));
	free(out);
	/* /api2 is minimal */
	assert_int_equal(
	    api_handle_http(&f->ctx, "/api2", "", "{\"version\":1}", 13, &cl, &out, &len, &ctype),
	    0);
	assert_null(strstr(out, "\"config\""));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_challenge_flow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_password, setup, teardown),
	    cmocka_unit_test(test_noacc_flow),
	    cmocka_unit_test(test_loopback_trust),
	    cmocka_unit_test_setup_teardown(test_multiple_and_unknown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_minimal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_validation_keeps_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_annotations_and_kicks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_active_streams_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_protocols, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clients, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_http_front, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
