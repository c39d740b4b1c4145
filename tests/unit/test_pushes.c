/* The push manager against the real hub, with a fake push driver (through
 * the injected lookup) and a fake clock: target variables, rule names and
 * matching, start/list/stop, ends reported by the driver, pushes of
 * streams that go offline, auto-push rules with wait and maxspeed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/api.h"
#include "control/auth.h"
#include "control/config.h"
#include "control/pushes.h"
#include "core/log.h"
#include "hub/hub.h"
#include "media/frame.h"
#include "media/track.h"

/* ---- fake push driver ---- */

struct fake {
	char stream[128], target[256];
	driver_ended_fn ended;
	void *arg;
};

static struct {
	int starts, stops;
	int fail_next;
	bool end_in_start;
	struct fake *all[16];
} drv;

static struct fake *pushing(const char *target)
{
	for (int i = 0; i < 16; i++)
		if (drv.all[i] && strcmp(drv.all[i]->target, target) == 0)
			return drv.all[i];
	return NULL;
}

static int fake_start(const struct push_env *env, void **state, char *err, size_t errlen)
{
	drv.starts++;
	if (drv.fail_next) {
		int rc = drv.fail_next;
		drv.fail_next = 0;
		snprintf(err, errlen, "cannot connect");
		return rc;
	}
	struct fake *f = calloc(1, sizeof(*f));
	snprintf(f->stream, sizeof(f->stream), "%s", env->stream);
	snprintf(f->target, sizeof(f->target), "%s", env->target);
	f->ended = env->ended;
	f->arg = env->arg;
	for (int i = 0; i < 16; i++) {
		if (!drv.all[i]) {
			drv.all[i] = f;
			break;
		}
	}
	*state = f;
	if (drv.end_in_start) {
		drv.end_in_start = false;
		env->ended(env->arg, -ECONNREFUSED, "refused at once");
	}
	return 0;
}

static void fake_stop(void *state)
{
	drv.stops++;
	for (int i = 0; i < 16; i++)
		if (drv.all[i] == state)
			drv.all[i] = NULL;
	free(state);
}

static const char *const fake_patterns[] = {"fake://*", NULL};
static const struct driver fake_driver = {
    .name = "FAKE",
    .kind = DRIVER_OUTPUT,
    .patterns = fake_patterns,
    .push_start = fake_start,
    .push_stop = fake_stop,
};

static const struct driver *lookup(const char *url, enum driver_kind kind)
{
	return kind == DRIVER_OUTPUT && strncmp(url, "fake://", 7) == 0 ? &fake_driver : NULL;
}

/* ---- fixture ---- */

static uint64_t fake_now = 5000000;
static uint64_t clock_ms(void *arg)
{
	return fake_now;
}

static char wanted_name[128];
static void want(void *arg, const char *stream)
{
	snprintf(wanted_name, sizeof(wanted_name), "%s", stream);
}

static int allow_all(void *ctx, const struct hub_publish_req *req, char *name_out, size_t name_len,
		     struct hub_stream_opts *opts, char *why, size_t why_len)
{
	snprintf(name_out, name_len, "%s", req->name);
	opts->dvr_ms = 10000;
	opts->grace_ms = 0;
	return 0;
}

struct fx {
	uv_loop_t loop;
	struct hub *hub;
	json_t *root;
	struct pushes *p;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	memset(&drv, 0, sizeof(drv));
	wanted_name[0] = '\0';
	log_threshold = LOG_FAIL;
	uv_loop_init(&f->loop);
	f->hub = hub_new(&f->loop);
	struct hub_policy pol = {.publish_check = allow_all};
	hub_set_policy(f->hub, &pol);
	f->root = json_loads("{\"streams\": {\"live\": {\"source\": \"push://\"},"
			     " \"other\": {\"source\": \"push://\", \"tags\": [\"news\"]}}}",
			     0, NULL);
	struct pushes_env env = {.loop = &f->loop,
				 .hub = f->hub,
				 .rootp = &f->root,
				 .lookup = lookup,
				 .want = want,
				 .now_ms = clock_ms};
	f->p = pushes_new(&env);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	pushes_free(f->p);
	hub_free(f->hub);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	json_decref(f->root);
	for (int i = 0; i < 16; i++)
		assert_null(drv.all[i]); /* every started push was stopped */
	free(f);
	return 0;
}

/* A READY stream of that name (the caller ends it with hub_publish_end). */
static struct hub_stream *go_live(struct fx *f, const char *name)
{
	struct hub_publish_req req = {.name = name, .connector = "TEST"};
	struct hub_stream *s = NULL;
	char why[128];
	assert_int_equal(hub_publish_begin(f->hub, &req, NULL, NULL, &s, why, sizeof(why)), 0);
	struct track v = {.type = TRACK_VIDEO, .codec = CODEC_H264, .width = 64, .height = 64};
	assert_int_equal(hub_set_track(s, 0, &v), 0);
	uint8_t data[8] = {0};
	assert_int_equal(hub_publish(s, frame_new(0, 0, 0, FRAME_KEY, data, sizeof(data))), 0);
	return s;
}

static void check(struct fx *f, uint64_t advance_ms)
{
	fake_now += advance_ms;
	uv_run(&f->loop, UV_RUN_NOWAIT);
	pushes_check(f->p);
}

/* ---- pure helpers ---- */

static void test_expand(void **state)
{
	struct tm tm = {
	    .tm_year = 126, .tm_mon = 10, .tm_mday = 9, .tm_hour = 8, .tm_min = 7, .tm_sec = 6};
	char out[256];
	int n = pushes_expand("srt://h:1/$stream/$basename/$wildcard/$datetime?x=$year$month$day-"
			      "$hour$minute$second&$unknown$",
			      "live+cam", &tm, out, sizeof(out));
	assert_string_equal(out, "srt://h:1/live+cam/live/cam/2026.11.09.08.07.06?x=20261109-080706"
				 "&$unknown$");
	assert_int_equal(n, (int)strlen(out));
	pushes_expand("/rec/$wildcard$basename.ts", "live", &tm, out, sizeof(out));
	assert_string_equal(out, "/rec/live.ts");
	assert_int_equal(pushes_expand("$stream", "live", &tm, out, 4), -ENAMETOOLONG);
	assert_int_equal(pushes_expand("$stream", "live", &tm, out, 5), 4);
	assert_int_equal(pushes_expand("abc", "live", &tm, out, 3), -ENAMETOOLONG);
}

static void test_rules(void **state)
{
	char out[128];
	static const struct {
		const char *in, *out;
		int rc;
	} cases[] = {
	    {"Live", "live", 4},     {"Live+", "live+", 5}, {"live+Cam", "live+Cam", 8},
	    {"#news", "#news", 5},   {"#", NULL, -EINVAL},  {"# x", NULL, -EINVAL},
	    {"a+b+", NULL, -EINVAL}, {"", NULL, -EINVAL},   {"+", NULL, -EINVAL},
	    {"!!", NULL, -EINVAL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		int rc = pushes_rule_normalize(cases[i].in, out, sizeof(out));
		assert_int_equal(rc, cases[i].rc);
		if (cases[i].out)
			assert_string_equal(out, cases[i].out);
	}
	json_t *root = json_loads("{\"streams\": {\"other\": {\"tags\": [\"news\"]}},"
				  " \"push_settings\": {\"wait\": 0, \"maxspeed\": 2}}",
				  0, NULL);
	assert_true(pushes_rule_matches(root, "live+", "live+x"));
	assert_false(pushes_rule_matches(root, "live+", "live"));
	assert_false(pushes_rule_matches(root, "live+", "lively+x"));
	assert_true(pushes_rule_matches(root, "live", "live"));
	assert_false(pushes_rule_matches(root, "live", "live+x"));
	assert_true(pushes_rule_matches(root, "#news", "other+x"));
	assert_false(pushes_rule_matches(root, "#news", "live"));
	assert_false(pushes_rule_matches(root, "#sport", "other"));
	long long wait, maxspeed;
	pushes_settings(root, &wait, &maxspeed);
	assert_int_equal(wait, 0);
	assert_int_equal(maxspeed, 2);
	pushes_settings(NULL, &wait, &maxspeed);
	assert_int_equal(wait, PUSHES_DEFAULT_WAIT);
	assert_int_equal(maxspeed, 0);
	json_decref(root);
}

/* ---- the manager ---- */

static void test_start_list_stop(void **state)
{
	struct fx *f = *state;
	struct hub_stream *s = go_live(f, "live");
	unsigned id, id2;
	char err[256];
	assert_int_equal(
	    pushes_start(f->p, "live", "fake://x/$stream", false, &id, err, sizeof(err)), 0);
	assert_int_equal(id, 1);
	assert_non_null(pushing("fake://x/live"));
	assert_string_equal(wanted_name, ""); /* live already: nothing to boot */
	assert_int_equal(
	    pushes_start(f->p, "live", "fake://x/$stream", false, &id2, err, sizeof(err)), 1);
	assert_int_equal(id2, 1);
	assert_int_equal(drv.starts, 1);
	assert_int_equal(pushes_start(f->p, "live", "rtmp://a/b", false, &id2, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "no output for target rtmp://a/b");
	assert_int_equal(pushes_target_ok(f->p, "fake://$stream", err, sizeof(err)), 0);
	drv.fail_next = -ECONNREFUSED;
	assert_int_equal(pushes_start(f->p, "live", "fake://y", false, &id2, err, sizeof(err)),
			 -ECONNREFUSED);
	assert_string_equal(err, "cannot connect");

	fake_now += 3000;
	json_t *list = pushes_list(f->p);
	assert_int_equal(json_array_size(list), 1);
	json_t *row = json_array_get(list, 0);
	assert_int_equal(json_array_size(row), 6);
	assert_int_equal(json_integer_value(json_array_get(row, 0)), 1);
	assert_string_equal(json_string_value(json_array_get(row, 1)), "live");
	assert_string_equal(json_string_value(json_array_get(row, 2)), "fake://x/$stream");
	assert_string_equal(json_string_value(json_array_get(row, 3)), "fake://x/live");
	assert_true(json_array_size(json_array_get(row, 4)) >= 1);
	json_t *status = json_array_get(row, 5);
	assert_string_equal(json_string_value(json_object_get(status, "state")), "active");
	assert_int_equal(json_integer_value(json_object_get(status, "active_seconds")), 3);
	assert_true(json_is_false(json_object_get(status, "auto")));
	assert_string_equal(json_string_value(json_object_get(status, "output")), "FAKE");
	json_decref(list);

	assert_int_equal(pushes_stop(f->p, 1, "test"), 0);
	assert_int_equal(drv.stops, 1);
	assert_int_equal(pushes_stop(f->p, 1, "test"), -ENOENT);
	list = pushes_list(f->p);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	/* ids are not reused */
	assert_int_equal(pushes_start(f->p, "live", "fake://z", false, &id, err, sizeof(err)), 0);
	assert_int_equal(id, 2);
	hub_publish_end(s);
}

static void test_driver_ends(void **state)
{
	struct fx *f = *state;
	struct hub_stream *s = go_live(f, "live");
	unsigned id;
	char err[256];
	assert_int_equal(pushes_start(f->p, "live", "fake://a", false, &id, err, sizeof(err)), 0);
	struct fake *k = pushing("fake://a");
	k->ended(k->arg, -EPIPE, "peer closed");
	assert_int_equal(drv.stops, 0); /* never inside the driver's callback */
	json_t *list = pushes_list(f->p);
	assert_int_equal(json_array_size(list), 0); /* ended: no longer listed */
	json_decref(list);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(drv.stops, 1);

	drv.end_in_start = true;
	assert_int_equal(pushes_start(f->p, "live", "fake://b", false, &id, err, sizeof(err)), 0);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(drv.stops, 2);
	hub_publish_end(s);
}

static void test_stream_offline(void **state)
{
	struct fx *f = *state;
	struct hub_stream *s = go_live(f, "live");
	unsigned id;
	char err[256];
	assert_int_equal(pushes_start(f->p, "live", "fake://a", false, &id, err, sizeof(err)), 0);
	check(f, 1000);
	assert_int_equal(drv.stops, 0);
	hub_publish_end(s); /* grace 0: offline at once */
	check(f, 1000);
	assert_int_equal(drv.stops, 1);

	/* a push of a stream that is not live asks for it, waits, gives up */
	assert_int_equal(pushes_start(f->p, "other", "fake://o", false, &id, err, sizeof(err)), 0);
	assert_string_equal(wanted_name, "other");
	json_t *list = pushes_list(f->p);
	json_t *status = json_array_get(json_array_get(list, 0), 5);
	assert_string_equal(json_string_value(json_object_get(status, "state")), "waiting");
	json_decref(list);
	check(f, PUSHES_BOOT_TIMEOUT_S * 1000 - 1);
	assert_int_equal(drv.stops, 1);
	check(f, 1);
	assert_int_equal(drv.stops, 2);

	/* ... unless the stream comes */
	assert_int_equal(pushes_start(f->p, "other", "fake://o", false, &id, err, sizeof(err)), 0);
	s = go_live(f, "other");
	check(f, PUSHES_BOOT_TIMEOUT_S * 1000);
	assert_int_equal(drv.stops, 2);
	list = pushes_list(f->p);
	status = json_array_get(json_array_get(list, 0), 5);
	assert_string_equal(json_string_value(json_object_get(status, "state")), "active");
	json_decref(list);
	hub_publish_end(s);
}

static void test_auto_push(void **state)
{
	struct fx *f = *state;
	json_t *rules = json_pack("[[ss][ss][ss]]", "live+", "fake://out/$wildcard", "#news",
				  "fake://tag/$stream", "live+", "rtmp://nowhere");
	json_object_set_new(f->root, "autopushes", rules);
	json_object_set_new(f->root, "push_settings", json_pack("{si}", "wait", 2));
	struct hub_stream *a = go_live(f, "live+a");
	struct hub_stream *l = go_live(f, "live");
	struct hub_stream *o = go_live(f, "other");
	check(f, 1000);
	check(f, 1000);
	assert_int_equal(drv.starts, 0);
	check(f, 1000); /* wait 2: the third check in a row starts */
	assert_int_equal(drv.starts, 2);
	assert_non_null(pushing("fake://out/a"));
	assert_non_null(pushing("fake://tag/other"));
	json_t *list = pushes_list(f->p);
	assert_true(
	    json_is_true(json_object_get(json_array_get(json_array_get(list, 0), 5), "auto")));
	json_decref(list);

	/* a push that died is restarted while its stream is live */
	struct fake *k = pushing("fake://out/a");
	k->ended(k->arg, -EPIPE, "peer closed");
	check(f, 1000); /* reaped; first check */
	assert_int_equal(drv.stops, 1);
	check(f, 1000);
	assert_int_equal(drv.starts, 2);
	check(f, 1000);
	assert_int_equal(drv.starts, 3);
	assert_non_null(pushing("fake://out/a"));

	/* the count must be consecutive: offline resets it */
	k = pushing("fake://out/a");
	k->ended(k->arg, 0, NULL);
	check(f, 1000);
	check(f, 1000);
	hub_publish_end(a);
	check(f, 1000);
	a = go_live(f, "live+a");
	check(f, 1000);
	check(f, 1000);
	assert_int_equal(drv.starts, 3);
	check(f, 1000);
	assert_int_equal(drv.starts, 4);

	/* maxspeed 1: one start per check */
	json_object_set_new(f->root, "push_settings",
			    json_pack("{sisi}", "wait", 0, "maxspeed", 1));
	struct hub_stream *b = go_live(f, "live+b");
	struct hub_stream *c = go_live(f, "live+c");
	check(f, 1000);
	assert_int_equal(drv.starts, 5);
	check(f, 1000);
	assert_int_equal(drv.starts, 6);
	check(f, 1000);
	assert_int_equal(drv.starts, 6);
	hub_publish_end(a);
	hub_publish_end(b);
	hub_publish_end(c);
	hub_publish_end(l);
	hub_publish_end(o);
	check(f, 1000);
	list = pushes_list(f->p);
	assert_int_equal(json_array_size(list), 0); /* all offline: all stopped */
	json_decref(list);
}

static void test_start_matching_and_shutdown(void **state)
{
	struct fx *f = *state;
	struct hub_stream *a = go_live(f, "live+a");
	struct hub_stream *b = go_live(f, "live+b");
	json_t *ids = json_array();
	assert_int_equal(pushes_start_matching(f->p, "live+", "fake://m/$wildcard", false, ids), 2);
	assert_int_equal(json_array_size(ids), 2);
	assert_int_equal(pushes_start_matching(f->p, "live+", "rtmp://x", false, NULL), 0);
	json_decref(ids);
	pushes_shutdown(f->p);
	assert_int_equal(drv.stops, 2);
	unsigned id;
	char err[64];
	assert_int_equal(pushes_start(f->p, "live+a", "fake://q", false, &id, err, sizeof(err)),
			 -ESHUTDOWN);
	hub_publish_end(a);
	hub_publish_end(b);
}

/* ---- the API commands (api_push.c) ---- */

struct apifx {
	struct api_ctx ctx;
	struct api_client cl;
};

/* Runs one request; returns the answer (caller decrefs). */
static json_t *call(struct apifx *a, const char *text)
{
	json_error_t jerr;
	json_t *req = json_loads(text, 0, &jerr);
	assert_non_null(req);
	json_t *resp = api_handle(&a->ctx, req, &a->cl, true);
	json_decref(req);
	assert_non_null(resp);
	return resp;
}

static const char *err_of(const json_t *resp, const char *cmd)
{
	return json_string_value(json_object_get(json_object_get(resp, cmd), "error"));
}

static void api_start_stop(struct apifx *a)
{
	json_t *r = call(a, "{\"push_start\": [\"live\", \"rtmp://x/y\"]}");
	assert_string_equal(err_of(r, "push_start"), "no output for target rtmp://x/y");
	json_decref(r);
	r = call(a, "{\"push_start\": [\"nosuch\", \"fake://x\"]}");
	assert_string_equal(err_of(r, "push_start"), "stream nosuch not configured");
	json_decref(r);
	r = call(a, "{\"push_start\": {\"stream\": \"live\"}}");
	assert_string_equal(err_of(r, "push_start"),
			    "expected [stream, target] or {stream, target}");
	json_decref(r);
	r = call(a, "{\"push_list\": true, \"push_start\": {\"stream\": \"Live\","
		    " \"target\": \"fake://t/$stream\"}}");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(r, "push_start"), "id")), 1);
	json_t *row = json_array_get(json_object_get(r, "push_list"), 0);
	assert_string_equal(json_string_value(json_array_get(row, 3)), "fake://t/live");
	json_decref(r);
	r = call(a, "{\"push_start\": [\"live+\", \"fake://w/$wildcard\"]}");
	assert_string_equal(err_of(r, "push_start"), "no live stream matches live+");
	json_decref(r);
	r = call(a, "{\"push_stop\": [1, 99], \"push_list\": true}");
	json_t *stop = json_object_get(r, "push_stop");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(stop, "stopped"), 0)),
			 1);
	assert_string_equal(err_of(r, "push_stop"), "no push with id [99]");
	assert_int_equal(json_array_size(json_object_get(r, "push_list")), 0);
	json_decref(r);
}

static void api_auto_rules(struct apifx *a)
{
	json_t *r = call(a, "{\"push_auto_add\": {\"stream\": \"Live+\","
			    " \"target\": \"fake://a/$wildcard\"}}");
	json_t *rule = json_object_get(r, "push_auto_add");
	assert_string_equal(json_string_value(json_array_get(rule, 0)), "live+");
	assert_int_equal(json_array_size(json_object_get(r, "push_auto_list")), 1);
	json_decref(r);
	r = call(a, "{\"push_auto_add\": [\"live+\", \"fake://a/$wildcard\"]}");
	json_decref(r);
	r = call(a, "{\"push_auto_add\": [\"#news\", \"fake://n\"]}");
	json_decref(r);
	r = call(a, "{\"push_auto_add\": [\"live\", \"rtmp://x\"]}");
	assert_string_equal(err_of(r, "push_auto_add"), "no output for target rtmp://x");
	json_decref(r);
	r = call(a, "{\"push_auto_list\": true}");
	assert_int_equal(json_array_size(json_object_get(r, "push_auto_list")), 2);
	json_decref(r);
	assert_int_equal(json_array_size(json_object_get(a->ctx.config, "autopushes")), 2);

	r = call(a, "{\"push_auto_remove\": [\"live+\", \"fake://a/$wildcard\"]}");
	assert_null(err_of(r, "push_auto_remove"));
	assert_int_equal(json_array_size(json_object_get(r, "push_auto_list")), 1);
	json_decref(r);
	r = call(a, "{\"push_auto_remove\": \"live+\"}");
	assert_string_equal(err_of(r, "push_auto_remove"), "no matching auto-push rule");
	json_decref(r);
	r = call(a, "{\"push_auto_remove\": [\"#news\"]}");
	assert_int_equal(json_array_size(json_object_get(r, "push_auto_list")), 0);
	json_decref(r);
}

static void api_settings(struct apifx *a)
{
	json_t *r = call(a, "{\"push_settings\": true}");
	json_t *ps = json_object_get(r, "push_settings");
	assert_int_equal(json_integer_value(json_object_get(ps, "wait")), PUSHES_DEFAULT_WAIT);
	json_decref(r);
	r = call(a, "{\"push_settings\": {\"wait\": 5, \"maxspeed\": 2}}");
	ps = json_object_get(r, "push_settings");
	assert_int_equal(json_integer_value(json_object_get(ps, "wait")), 5);
	assert_int_equal(json_integer_value(json_object_get(ps, "maxspeed")), 2);
	json_decref(r);
	r = call(a, "{\"push_settings\": {\"wait\": -1}}");
	assert_string_equal(err_of(r, "push_settings"), "wait: expected a non-negative integer");
	json_decref(r);
	r = call(a, "{\"push_settings\": {\"wait\": 100000}}");
	assert_non_null(strstr(err_of(r, "push_settings"), "push_settings.wait"));
	json_decref(r);
}

static void test_api_commands(void **state)
{
	struct fx *f = *state;
	static const char cfg[] = "{\"streams\": {\"live\": {\"source\": \"push://\"}}}";
	struct apifx a = {.cl = {.peer = "127.0.0.1"}};
	char err[256];
	assert_int_equal(config_parse(cfg, strlen(cfg), &a.ctx.config, err, sizeof(err)), 0);
	a.ctx.hub = f->hub;
	a.ctx.auth = auth_new();
	a.ctx.debug_override = LOG_FAIL;
	struct pushes_env env = {
	    .loop = &f->loop, .hub = f->hub, .rootp = &a.ctx.config, .lookup = lookup};
	a.ctx.pushes = pushes_new(&env);
	struct hub_stream *s = go_live(f, "live");
	api_start_stop(&a);
	api_auto_rules(&a);
	api_settings(&a);
	hub_publish_end(s);
	pushes_free(a.ctx.pushes);
	auth_free(a.ctx.auth);
	json_decref(a.ctx.config);
}

static void test_validation(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
	    {"{\"autopushes\": [[\"live\"]]}", "autopushes[0]: expected [stream, target]"},
	    {"{\"autopushes\": [[\"a\", \"b\"], {\"stream\": \"a\"}]}",
	     "autopushes[1]: expected [stream, target]"},
	    {"{\"autopushes\": {}}", "autopushes: expected an array"},
	    {"{\"push_settings\": {\"wait\": \"3\"}}", "push_settings.wait: expected an integer"},
	    {"{\"push_settings\": {\"maxspeed\": -1}}",
	     "push_settings.maxspeed: out of range (minimum 0)"},
	    {"{\"autopushes\": [[\"a\", \"b\", 0, 0]], \"push_settings\": {\"wait\": 0}}", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		json_t *root = NULL;
		char err[256] = "";
		int rc =
		    config_parse(cases[i].text, strlen(cases[i].text), &root, err, sizeof(err));
		if (cases[i].err) {
			assert_int_equal(rc, -EINVAL);
			assert_string_equal(err, cases[i].err);
		} else {
			assert_int_equal(rc, 0);
		}
		json_decref(root);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_expand),
	    cmocka_unit_test(test_rules),
	    cmocka_unit_test_setup_teardown(test_start_list_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_driver_ends, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream_offline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auto_push, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_matching_and_shutdown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_api_commands, setup, teardown),
	    cmocka_unit_test(test_validation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
