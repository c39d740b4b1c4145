/* The input manager against the real hub and publish policy, with a fake
 * input driver (injected through the lookup function) and a fake clock:
 * always_on start and restart backoff, on-demand start through hub_want,
 * idle stop, wildcards, config changes, start failures, API annotations,
 * internal publishes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/inputs.h"
#include "control/policy.h"
#include "core/log.h"
#include "hub/hub.h"
#include "media/frame.h"
#include "media/track.h"

/* ---- fake driver ---- */

struct fake {
	struct hub *hub;
	struct hub_stream *s;
	char stream[128], source[128];
	driver_ended_fn ended;
	void *arg;
	bool always_on_cfg;
};

static struct {
	int starts, stops;
	int fail_next;       /* input_start fails with this (negative) */
	bool end_in_start;   /* call ended from inside input_start */
	struct fake *last;   /* most recent running instance */
	struct fake *all[8]; /* running instances */
} drv;

static void remember(struct fake *f, bool add)
{
	for (int i = 0; i < 8; i++) {
		if (add && !drv.all[i]) {
			drv.all[i] = f;
			return;
		}
		if (!add && drv.all[i] == f)
			drv.all[i] = NULL;
	}
}

static struct fake *running(const char *stream)
{
	for (int i = 0; i < 8; i++)
		if (drv.all[i] && strcmp(drv.all[i]->stream, stream) == 0)
			return drv.all[i];
	return NULL;
}

static int fake_start(const struct input_env *env, void **state, char *err, size_t errlen)
{
	drv.starts++;
	if (drv.fail_next) {
		int rc = drv.fail_next;
		drv.fail_next = 0;
		snprintf(err, errlen, "connection refused");
		return rc;
	}
	struct fake *f = calloc(1, sizeof(*f));
	f->hub = env->hub;
	snprintf(f->stream, sizeof(f->stream), "%s", env->stream);
	snprintf(f->source, sizeof(f->source), "%s", env->source);
	f->ended = env->ended;
	f->arg = env->arg;
	f->always_on_cfg = json_is_true(json_object_get(env->stream_cfg, "always_on"));
	struct hub_publish_req req = {.name = env->stream, .connector = "FAKE", .internal = true};
	char why[128];
	assert_int_equal(hub_publish_begin(env->hub, &req, NULL, NULL, &f->s, why, sizeof(why)), 0);
	*state = f;
	drv.last = f;
	remember(f, true);
	if (drv.end_in_start) {
		drv.end_in_start = false;
		env->ended(env->arg, -EIO, "died at once");
	}
	return 0;
}

static void fake_stop(void *state)
{
	struct fake *f = state;
	drv.stops++;
	remember(f, false);
	if (drv.last == f)
		drv.last = NULL;
	hub_publish_end(f->s);
	free(f);
}

static const char *const fake_patterns[] = {"fake://*", NULL};
static const struct driver fake_driver = {
    .name = "FAKE",
    .kind = DRIVER_INPUT,
    .patterns = fake_patterns,
    .input_start = fake_start,
    .input_stop = fake_stop,
};

static const struct driver *lookup(const char *url, enum driver_kind kind)
{
	return kind == DRIVER_INPUT && strncmp(url, "fake://", 7) == 0 ? &fake_driver : NULL;
}

/* ---- fixture ---- */

static uint64_t fake_now = 1000000;
static uint64_t clock_ms(void *arg)
{
	return fake_now;
}

struct fx {
	uv_loop_t loop;
	struct hub *hub;
	json_t *root;
	struct inputs *in;
	struct policy_env penv;
};

static void wanted(void *arg, const char *name)
{
	inputs_want(arg, name);
}

static const char config_text[] =
    "{\"streams\": {"
    " \"cam\": {\"source\": \"fake://cam\", \"always_on\": true, \"pushgrace\": 0},"
    " \"pull\": {\"source\": \"fake://pull\", \"inputtimeout\": 5, \"pushgrace\": 0},"
    " \"pushed\": {\"source\": \"push://\"},"
    " \"nodrv\": {\"source\": \"none://x\", \"always_on\": true}"
    "}}";

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	memset(&drv, 0, sizeof(drv));
	log_threshold = LOG_FAIL; /* the manager logs every start and stop */
	uv_loop_init(&f->loop);
	f->hub = hub_new(&f->loop);
	f->root = json_loads(config_text, 0, NULL);
	assert_non_null(f->root);
	struct inputs_env env = {.loop = &f->loop,
				 .hub = f->hub,
				 .rootp = &f->root,
				 .lookup = lookup,
				 .now_ms = clock_ms};
	f->in = inputs_new(&env);
	f->penv = (struct policy_env){.rootp = &f->root, .wanted = wanted, .arg = f->in};
	struct hub_policy p = policy_make_env(&f->penv);
	hub_set_policy(f->hub, &p);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	inputs_free(f->in);
	hub_free(f->hub);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	json_decref(f->root);
	for (int i = 0; i < 8; i++)
		assert_null(drv.all[i]); /* every started input was stopped */
	free(f);
	return 0;
}

/* Runs what is due now (the zero-delay timer), then one tick. */
static void settle(struct fx *f)
{
	uv_run(&f->loop, UV_RUN_NOWAIT);
	inputs_tick(f->in);
}

static void advance(struct fx *f, uint64_t ms)
{
	fake_now += ms;
	settle(f);
}

static void make_ready(struct fake *k)
{
	struct track v = {.type = TRACK_VIDEO, .codec = CODEC_H264, .width = 64, .height = 64};
	assert_int_equal(hub_set_track(k->s, 0, &v), 0);
	uint8_t data[8] = {0};
	assert_int_equal(hub_publish(k->s, frame_new(0, 0, 0, FRAME_KEY, data, sizeof(data))), 0);
	assert_int_equal(hub_stream_state(k->s), STREAM_READY);
}

static void no_wake(struct hub_reader *r, void *arg) {}

/* The streams answer as api_status.c makes it for offline streams. */
static json_t *annotated(struct fx *f)
{
	json_t *st = json_pack("{s{si} s{si} s{si}}", "cam", "online", 0, "nodrv", "online", 0,
			       "pull", "online", 0);
	inputs_annotate(f->in, st);
	return st;
}

static const char *error_of(json_t *st, const char *name)
{
	return json_string_value(json_object_get(json_object_get(st, name), "error"));
}

/* ---- tests ---- */

static void test_always_on_backoff(void **state)
{
	struct fx *f = *state;
	inputs_apply(f->in);
	assert_int_equal(drv.starts, 0); /* queued: starts on the next iteration */
	settle(f);
	assert_int_equal(drv.starts, 1);
	assert_string_equal(drv.last->stream, "cam");
	assert_string_equal(drv.last->source, "fake://cam");
	assert_true(drv.last->always_on_cfg);
	assert_true(inputs_running(f->in, "cam"));

	json_t *st = annotated(f);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "cam"), "online")),
			 2);
	assert_string_equal(error_of(st, "cam"), "Stream is booting");
	assert_string_equal(error_of(st, "nodrv"), "no input for source none://x");
	assert_null(error_of(st, "pull"));
	json_decref(st);

	static const uint64_t delays[] = {1000, 2000, 5000, 10000, 10000};
	for (size_t i = 0; i < sizeof(delays) / sizeof(*delays); i++) {
		drv.last->ended(drv.last->arg, -ECONNRESET, "connection lost");
		settle(f);
		assert_int_equal(drv.stops, (int)i + 1);
		assert_false(inputs_running(f->in, "cam"));
		advance(f, delays[i] - 1);
		assert_int_equal(drv.starts, (int)i + 1);
		advance(f, 1);
		assert_int_equal(drv.starts, (int)i + 2);
	}
	st = annotated(f); /* booting again: the last failure is shown */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "cam"), "online")),
			 2);
	assert_string_equal(error_of(st, "cam"), "connection lost");
	json_decref(st);

	/* READY resets the backoff and the error */
	make_ready(drv.last);
	settle(f);
	drv.last->ended(drv.last->arg, 0, NULL);
	settle(f);
	st = annotated(f);
	assert_null(error_of(st, "cam"));
	json_decref(st);
	advance(f, 1000);
	assert_int_equal(drv.starts, 7);
}

static void test_on_demand(void **state)
{
	struct fx *f = *state;
	assert_null(hub_want(f->hub, "Pull"));
	assert_int_equal(drv.starts, 0);
	settle(f);
	assert_int_equal(drv.starts, 1);
	assert_string_equal(drv.last->stream, "pull");
	hub_want(f->hub, "pull"); /* already running */
	settle(f);
	assert_int_equal(drv.starts, 1);

	/* no readers: stopped after inputtimeout (5 s) */
	advance(f, 4999);
	assert_true(inputs_running(f->in, "pull"));
	advance(f, 1);
	assert_false(inputs_running(f->in, "pull"));
	assert_int_equal(drv.stops, 1);

	/* a wildcard uses its base's config; a reader keeps it alive */
	hub_want(f->hub, "pull+cam1");
	settle(f);
	struct fake *k = running("pull+cam1");
	assert_non_null(k);
	assert_string_equal(k->source, "fake://pull");
	make_ready(k);
	struct hub_reader *r = hub_reader_new(k->s, NULL, no_wake, NULL);
	for (int i = 0; i < 20; i++)
		advance(f, 1000);
	assert_true(inputs_running(f->in, "pull+cam1"));
	hub_reader_free(r);
	advance(f, 5000);
	assert_false(inputs_running(f->in, "pull+cam1"));
	assert_int_equal(drv.stops, 2);
}

static void test_on_demand_end_stays_stopped(void **state)
{
	struct fx *f = *state;
	hub_want(f->hub, "pull");
	settle(f);
	drv.last->ended(drv.last->arg, 0, "end of file");
	settle(f);
	assert_int_equal(drv.stops, 1);
	advance(f, 60000);
	assert_int_equal(drv.starts, 1);
	hub_want(f->hub, "pull");
	settle(f);
	assert_int_equal(drv.starts, 2);

	/* ended from inside input_start: stopped on the next iteration */
	drv.end_in_start = true;
	hub_want(f->hub, "pull+x");
	settle(f);
	settle(f);
	assert_false(inputs_running(f->in, "pull+x"));
	assert_int_equal(drv.stops, 1 + 1);
}

static void test_ignored_names(void **state)
{
	struct fx *f = *state;
	hub_want(f->hub, "pushed");
	hub_want(f->hub, "unknown");
	hub_want(f->hub, "nodrv+x");
	hub_want(f->hub, "+x");
	settle(f);
	assert_int_equal(drv.starts, 0);
}

static void test_config_changes(void **state)
{
	struct fx *f = *state;
	inputs_apply(f->in);
	settle(f);
	hub_want(f->hub, "pull");
	settle(f);
	assert_int_equal(drv.starts, 2);

	/* source change: stopped, the always_on one restarts with the new source */
	json_t *cam = json_object_get(json_object_get(f->root, "streams"), "cam");
	json_object_set_new(cam, "source", json_string("fake://cam2"));
	inputs_apply(f->in);
	assert_int_equal(drv.stops, 1);
	settle(f);
	assert_int_equal(drv.starts, 3);
	assert_string_equal(running("cam")->source, "fake://cam2");

	/* always_on off: keeps running as an on-demand input (idle timeout) */
	json_object_set_new(cam, "always_on", json_false());
	inputs_apply(f->in);
	advance(f, 30000);
	assert_false(inputs_running(f->in, "cam"));

	/* deleting the stream stops its inputs */
	json_object_del(json_object_get(f->root, "streams"), "pull");
	inputs_apply(f->in);
	assert_false(inputs_running(f->in, "pull"));
	assert_int_equal(drv.starts, drv.stops);
}

static void test_start_failures(void **state)
{
	struct fx *f = *state;
	drv.fail_next = -ECONNREFUSED;
	inputs_apply(f->in);
	settle(f);
	assert_int_equal(drv.starts, 1);
	json_t *st = annotated(f);
	assert_string_equal(error_of(st, "cam"), "connection refused");
	json_decref(st);
	advance(f, 1000);
	assert_int_equal(drv.starts, 2);
	assert_true(inputs_running(f->in, "cam"));

	/* on demand: no retry within a second, then a retry */
	drv.fail_next = -ECONNREFUSED;
	hub_want(f->hub, "pull");
	settle(f);
	assert_int_equal(drv.starts, 3);
	hub_want(f->hub, "pull");
	settle(f);
	assert_int_equal(drv.starts, 3);
	fake_now += 1000;
	hub_want(f->hub, "pull");
	settle(f);
	assert_int_equal(drv.starts, 4);
	assert_true(inputs_running(f->in, "pull"));
}

static void test_policy_internal(void **state)
{
	struct fx *f = *state;
	char name[128], why[128];
	struct hub_stream_opts opts = {0};
	json_object_set_new(json_object_get(json_object_get(f->root, "streams"), "pull"), "DVR",
			    json_integer(7000));
	struct hub_publish_req req = {.name = "pull+a", .internal = true};
	assert_int_equal(policy_check(f->root, &req, name, sizeof(name), &opts, why, sizeof(why)),
			 0);
	assert_string_equal(name, "pull+a");
	assert_int_equal(opts.dvr_ms, 7000);
	req.name = "pushed";
	assert_int_equal(policy_check(f->root, &req, name, sizeof(name), &opts, why, sizeof(why)),
			 -EACCES);
	assert_string_equal(why, "stream pushed has no pull source");
	req.name = "Pull"; /* internal names come sanitized */
	assert_int_equal(policy_check(f->root, &req, name, sizeof(name), &opts, why, sizeof(why)),
			 -ENOENT);
	req.name = "pull";
	req.internal = false; /* an encoder may not push into a pulled stream */
	assert_int_equal(policy_check(f->root, &req, name, sizeof(name), &opts, why, sizeof(why)),
			 -EACCES);
}

static void test_shutdown(void **state)
{
	struct fx *f = *state;
	inputs_apply(f->in);
	settle(f);
	hub_want(f->hub, "pull");
	settle(f);
	assert_int_equal(drv.starts, 2);
	inputs_shutdown(f->in);
	assert_int_equal(drv.stops, 2);
	inputs_want(f->in, "pull");
	inputs_apply(f->in);
	settle(f);
	assert_int_equal(drv.starts, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_always_on_backoff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_on_demand, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_on_demand_end_stays_stopped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ignored_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_failures, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_internal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
