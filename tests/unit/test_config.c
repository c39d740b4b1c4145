/* Config store: validation messages name the key, non-JSON reports
 * line/column, atomic saves, first-run default, untouched bad files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/config.h"
#include "proto/registry.h"

/* ---- registry stub: listeners HTTP and RTMP ---- */

static const struct driver fake_http = {
    .name = "HTTP", .kind = DRIVER_LISTENER, .default_port = 8080};
static const struct driver fake_rtmp = {
    .name = "RTMP", .kind = DRIVER_LISTENER, .default_port = 1935};
static const struct driver fake_flv = {.name = "FLV", .kind = DRIVER_OUTPUT};
const struct driver *const driver_registry[] = {&fake_http, &fake_rtmp, &fake_flv, NULL};

const struct driver *driver_find(const char *name, enum driver_kind kind)
{
	for (const struct driver *const *d = driver_registry; *d; d++)
		if ((*d)->kind == kind && !strcasecmp((*d)->name, name))
			return *d;
	return NULL;
}
void listener_note_port(const char *name, int port) {}
int listener_port(const char *name)
{
	return 0;
}

/* ---- helpers ---- */

static char tmpdir[64];

static int setup_dir(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/weir_cfg_XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 20);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	return buf;
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Validates text; returns the error ("" when valid). */
static const char *check(const char *text)
{
	static char err[512];
	json_t *root = NULL;
	err[0] = '\0';
	int rc = config_parse(text, strlen(text), &root, err, sizeof(err));
	if (rc == 0)
		json_decref(root);
	else
		assert_int_equal(rc, -EINVAL);
	return err;
}

/* ---- tests ---- */

static void test_default_is_valid(void **state)
{
	json_t *d = config_default();
	char err[256] = "";
	assert_non_null(d);
	assert_int_equal(config_validate(d, err, sizeof(err)), 0);
	json_t *want = json_loads(
	    "{\"config\": {\"controller\": {\"port\": 4242, \"interface\": \"\"},"
	    " \"protocols\": [{\"connector\":\"HTTP\",\"port\":8080},"
	    " {\"connector\":\"RTMP\",\"port\":1935}], \"serverid\": \"\", \"debug\": 4,"
	    " \"trust_loopback\": true, \"trustedproxy\": []},"
	    " \"streams\": {\"live\": {\"name\":\"live\", \"source\":\"push://127.0.0.1\"}}}",
	    0, NULL);
	assert_true(json_equal(d, want));
	assert_false(config_has_accounts(d));
	assert_int_equal(config_api_port(d), 4242);
	assert_string_equal(config_api_iface(d), "");
	assert_int_equal(config_int(d, "debug", 0), 4);
	assert_true(config_bool(d, "trust_loopback", false));
	json_decref(want);
	json_decref(d);
}

static const struct {
	const char *json;
	const char *err;
} bad_cases[] = {
    {"[]", "top level: expected an object"},
    {"{\"config\": 1}", "config: expected an object"},
    {"{\"streams\": \"x\"}", "streams: expected an object"},
    {"{\"account\": []}", "account: expected an object"},
    {"{\"config\": {\"debug\": \"4\"}}", "config.debug: expected an integer"},
    {"{\"config\": {\"debug\": 11}}", "config.debug: out of range 0..10"},
    {"{\"config\": {\"debug\": 4.0}}", "config.debug: expected an integer"},
    {"{\"config\": {\"serverid\": 5}}", "config.serverid: expected a string"},
    {"{\"config\": {\"trust_loopback\": \"yes\"}}",
     "config.trust_loopback: expected true or false"},
    {"{\"config\": {\"trustedproxy\": \"1.2.3.4\"}}",
     "config.trustedproxy: expected an array of strings"},
    {"{\"config\": {\"trustedproxy\": [\"a\", 1]}}", "config.trustedproxy[1]: expected a string"},
    {"{\"config\": {\"controller\": {\"port\": 0}}}",
     "config.controller.port: out of range 1..65535"},
    {"{\"config\": {\"controller\": {\"interface\": 0}}}",
     "config.controller.interface: expected a string"},
    {"{\"config\": {\"protocols\": {}}}", "config.protocols: expected an array"},
    {"{\"config\": {\"protocols\": [5]}}", "config.protocols[0]: expected an object"},
    {"{\"config\": {\"protocols\": [{\"port\": 80}]}}",
     "config.protocols[0].connector: missing (required)"},
    {"{\"config\": {\"protocols\": [{\"connector\": \"HTTP\"}, {\"connector\": \"RTMP\","
     " \"port\": 70000}]}}",
     "config.protocols[1].port: out of range 1..65535"},
    {"{\"config\": {\"protocols\": [{\"connector\": \"HTTP\", \"port\": \"80\"}]}}",
     "config.protocols[0].port: expected an integer"},
    {"{\"config\": {\"protocols\": [{\"connector\": \"NOPE\"}]}}",
     "config.protocols[0].connector: unknown connector \"NOPE\""},
    {"{\"config\": {\"protocols\": [{\"connector\": \"FLV\"}]}}",
     "config.protocols[0].connector: unknown connector \"FLV\""},
    {"{\"config\": {\"protocols\": [{\"connector\": \"HTTP\", \"interface\": 1}]}}",
     "config.protocols[0].interface: expected a string"},
    {"{\"streams\": {\"live\": 3}}", "streams.live: expected an object"},
    {"{\"streams\": {\"live\": {}}}", "streams.live.source: missing (required)"},
    {"{\"streams\": {\"live\": {\"source\": null}}}", "streams.live.source: missing (required)"},
    {"{\"streams\": {\"live\": {\"source\": \"\"}}}", "streams.live.source: must not be empty"},
    {"{\"streams\": {\"live\": {\"source\": 1}}}", "streams.live.source: expected a string"},
    {"{\"streams\": {\"live\": {\"source\": \"push://\", \"DVR\": \"x\"}}}",
     "streams.live.DVR: expected an integer"},
    {"{\"streams\": {\"live\": {\"source\": \"push://\", \"DVR\": -1}}}",
     "streams.live.DVR: out of range (minimum 0)"},
    {"{\"streams\": {\"live\": {\"source\": \"push://\", \"always_on\": 1}}}",
     "streams.live.always_on: expected true or false"},
    {"{\"streams\": {\"live\": {\"source\": \"push://\", \"segmentsize\": 0}}}",
     "streams.live.segmentsize: out of range (minimum 1)"},
    {"{\"streams\": {\"live\": {\"source\": \"push://\", \"inputtimeout\": -5}}}",
     "streams.live.inputtimeout: out of range (minimum 0)"},
    {"{\"streams\": {\"live\": {\"source\": \"push://\", \"tags\": [\"a\", 2]}}}",
     "streams.live.tags[1]: expected a string"},
    {"{\"streams\": {\"live\": {\"source\": \"push://\", \"processes\": {}}}}",
     "streams.live.processes: expected an array"},
    {"{\"streams\": {\"Live\": {\"source\": \"push://\"}}}", "streams.Live: invalid stream name"},
    {"{\"streams\": {\"a+b\": {\"source\": \"push://\"}}}", "streams.a+b: invalid stream name"},
    {"{\"streams\": {\"a b\": {\"source\": \"push://\"}}}", "streams.a b: invalid stream name"},
    {"{\"streams\": {\"\": {\"source\": \"push://\"}}}", "streams.: invalid stream name"},
    {"{\"account\": {\"bob\": {}}}", "account.bob.password: missing (required)"},
    {"{\"account\": {\"bob\": {\"password\": 5}}}", "account.bob.password: expected a string"},
    {"{\"account\": {\"bob\": \"pw\"}}", "account.bob: expected an object"},
};

static void test_errors_name_the_key(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(*bad_cases); i++) {
		const char *err = check(bad_cases[i].json);
		if (strncmp(err, bad_cases[i].err, strlen(bad_cases[i].err)) != 0)
			fail_msg("case %zu %s: got \"%s\", want \"%s\"", i, bad_cases[i].json, err,
				 bad_cases[i].err);
	}
}

static void test_good_variants(void **state)
{
	static const char *const good[] = {
	    "{}",
	    "{\"config\": {\"debug\": null, \"foo\": [1, 2]}, \"extra\": {\"kept\": true}}",
	    "{\"config\": {\"protocols\": [{\"connector\": \"http\"}, {\"connector\": \"RTMP\","
	    " \"port\": 1936, \"interface\": \"127.0.0.1\", \"pubaddr\": \"x\"}]}}",
	    "{\"streams\": {\"a_b.c-9\": {\"source\": \"/x.mp4\", \"DVR\": 0, \"always_on\": true,"
	    " \"segmentsize\": 1900, \"inputtimeout\": 0, \"tags\": [\"t\"], \"processes\": [],"
	    " \"unknown\": {\"x\": 1}}}}",
	    "{\"account\": {\"bob\": {\"password\": \"x\", \"other\": 1}}}",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		const char *err = check(good[i]);
		if (*err)
			fail_msg("good case %zu rejected: %s", i, err);
	}
}

static void test_not_json(void **state)
{
	const char *err = check("{\n  \"config\": ,\n}");
	assert_int_equal(strncmp(err, "line 2, column", 14), 0);
	err = check("{\"a\": 1, \"a\": 2}");
	assert_non_null(strstr(err, "duplicate"));
	err = check("");
	assert_int_equal(strncmp(err, "line ", 5), 0);
}

static void test_first_run_default(void **state)
{
	char path[128], err[512] = "";
	snprintf(path, sizeof(path), "%s/first.json", tmpdir);
	json_t *root = NULL;
	assert_int_equal(config_load(path, &root, err, sizeof(err)), -ENOENT);
	assert_null(root);
	assert_int_equal(config_load_or_create(path, &root, err, sizeof(err)), 0);
	json_t *d = config_default();
	assert_true(json_equal(root, d));
	json_t *again = NULL;
	assert_int_equal(config_load(path, &again, err, sizeof(err)), 0);
	assert_true(json_equal(again, d));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	json_decref(again);
	json_decref(d);
	json_decref(root);
}

static void test_atomic_save(void **state)
{
	char path[128], tmp[160], err[512] = "";
	snprintf(path, sizeof(path), "%s/save.json", tmpdir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	json_t *root = json_loads("{\"streams\": {\"a\": {\"source\": \"push://\"}},"
				  " \"config\": {\"protocols\": [{\"connector\": \"HTTP\"}]},"
				  " \"mystery\": 1}",
				  0, NULL);
	/* API annotations must never reach the file */
	json_object_set_new(json_object_get(json_object_get(root, "streams"), "a"), "online",
			    json_integer(1));
	json_object_set_new(json_object_get(json_object_get(root, "streams"), "a"), "error",
			    json_string("x"));
	json_object_set_new(json_array_get(config_protocols(root), 0), "online", json_integer(1));
	spit(path, "old");
	chmod(path, 0640);
	assert_int_equal(config_save(path, root, err, sizeof(err)), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	size_t len;
	char *text = slurp(path, &len);
	assert_non_null(text);
	assert_null(strstr(text, "online"));
	assert_null(strstr(text, "error"));
	assert_non_null(strstr(text, "mystery"));
	assert_int_equal(text[len - 1], '\n');
	char *want = config_serialize(root);
	assert_string_equal(text, want);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640); /* permissions survive */
	/* the in-memory config keeps its annotations */
	assert_non_null(
	    json_object_get(json_object_get(json_object_get(root, "streams"), "a"), "online"));
	free(want);
	free(text);
	json_decref(root);
}

static void test_save_failure(void **state)
{
	char err[512] = "";
	json_t *root = config_default();
	assert_int_equal(config_save("/nonexistent-dir/x/weir.json", root, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent-dir/x/weir.json"));
	json_decref(root);
}

static void test_bad_file_untouched(void **state)
{
	static const char *const bad[] = {
	    "{\"streams\": {\"live\": {\"source\": \"push://\", \"DVR\": true}}}\n",
	    "{ not json at all",
	};
	for (size_t i = 0; i < 2; i++) {
		char path[128], err[512] = "";
		snprintf(path, sizeof(path), "%s/bad%zu.json", tmpdir, i);
		spit(path, bad[i]);
		json_t *root = NULL;
		assert_int_equal(config_load_or_create(path, &root, err, sizeof(err)), -EINVAL);
		assert_null(root);
		assert_non_null(strstr(err, path));
		if (i == 0)
			assert_non_null(strstr(err, "streams.live.DVR: expected an integer"));
		else
			assert_non_null(strstr(err, "line 1, column"));
		size_t len;
		char *text = slurp(path, &len);
		assert_string_equal(text, bad[i]);
		free(text);
	}
}

static void test_accounts_and_cleaning(void **state)
{
	json_t *root = json_object();
	assert_int_equal(config_set_account(root, "bob", "secret"), 0);
	assert_true(config_has_accounts(root));
	const char *pw = json_string_value(
	    json_object_get(json_object_get(json_object_get(root, "account"), "bob"), "password"));
	assert_string_equal(pw, "5ebe2294ecd0e0f08eab7690d2a6ee69"); /* md5("secret") */
	json_decref(root);

	json_t *e = json_loads("{\"a\": null, \"online\": 1, \"error\": \"x\", \"b\": 2}", 0, NULL);
	config_clean_entry(e);
	json_t *want = json_loads("{\"b\": 2}", 0, NULL);
	assert_true(json_equal(e, want));
	json_decref(want);
	json_decref(e);

	assert_true(config_stream_name_ok("live"));
	assert_true(config_stream_name_ok("a.b_c-1"));
	assert_false(config_stream_name_ok("Live"));
	assert_false(config_stream_name_ok("live+x"));
	assert_false(config_stream_name_ok(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_is_valid),
	    cmocka_unit_test(test_errors_name_the_key),
	    cmocka_unit_test(test_good_variants),
	    cmocka_unit_test(test_not_json),
	    cmocka_unit_test(test_first_run_default),
	    cmocka_unit_test(test_atomic_save),
	    cmocka_unit_test(test_save_failure),
	    cmocka_unit_test(test_bad_file_untouched),
	    cmocka_unit_test(test_accounts_and_cleaning),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
