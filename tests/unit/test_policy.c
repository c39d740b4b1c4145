/* Publish policy decisions, MistServer's order: name, base config,
 * push:// source, host allow-list or password. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "control/policy.h"

/* ---- hub stub (policy.c only names streams in its state hook) ---- */
struct hub_stream {
	const char *name;
};
const char *hub_stream_name(const struct hub_stream *s)
{
	return s->name;
}

static const char config_text[] =
    "{\"streams\": {"
    " \"open\": {\"source\": \"push://\"},"
    " \"local\": {\"source\": \"push://127.0.0.1\"},"
    " \"pw\": {\"source\": \"push://@secret\"},"
    " \"both\": {\"source\": \"push://10.1.1.1@secret\"},"
    " \"net\": {\"source\": \"push://10.0.0.0/8,fd00::/8\"},"
    " \"lh\": {\"source\": \"push://localhost\"},"
    " \"multi\": {\"source\": \"push://1.2.3.4, 5.6.7.8\"},"
    " \"v6\": {\"source\": \"push://2001:db8::1\"},"
    " \"vod\": {\"source\": \"/media/x.mp4\"},"
    " \"dvr\": {\"source\": \"push://\", \"DVR\": 1234, \"pushgrace\": 100}"
    "}}";

static const struct {
	const char *name, *host, *password;
	int rc;
	const char *out; /* sanitized name on success */
} cases[] = {
    {"open", "10.0.0.5", NULL, 0, "open"},
    {"OPEN", "10.0.0.5", NULL, 0, "open"},
    {"open+Cam1", "10.0.0.5", NULL, 0, "open+Cam1"},
    {"open cam", "10.0.0.5", NULL, 0, "open+cam"},
    {"open?key=1", "10.0.0.5", NULL, 0, "open"},
    {"local", "127.0.0.1", NULL, 0, "local"},
    {"local", "::ffff:127.0.0.1", NULL, 0, "local"},
    {"local", "10.0.0.5", NULL, -EACCES, NULL},
    {"local", "127.0.0.2", NULL, -EACCES, NULL},
    {"pw", "1.2.3.4", "secret", 0, "pw"},
    {"pw", "1.2.3.4", "Secret", -EACCES, NULL},
    {"pw", "1.2.3.4", "secret2", -EACCES, NULL},
    {"pw", "1.2.3.4", NULL, -EACCES, NULL},
    {"pw", "127.0.0.1", NULL, -EACCES, NULL},
    {"both", "10.1.1.1", NULL, 0, "both"},
    {"both", "2.2.2.2", "secret", 0, "both"},
    {"both", "2.2.2.2", "nope", -EACCES, NULL},
    {"net", "10.200.3.4", NULL, 0, "net"},
    {"net", "11.0.0.1", NULL, -EACCES, NULL},
    {"net", "fd12::5", NULL, 0, "net"},
    {"net", "fe80::1", NULL, -EACCES, NULL},
    {"lh", "::1", NULL, 0, "lh"},
    {"lh", "127.0.0.5", NULL, 0, "lh"},
    {"lh", "10.0.0.1", NULL, -EACCES, NULL},
    {"multi", "5.6.7.8", NULL, 0, "multi"},
    {"multi", "1.2.3.4", NULL, 0, "multi"},
    {"multi", "1.2.3.5", NULL, -EACCES, NULL},
    {"v6", "2001:DB8:0::1", NULL, 0, "v6"},
    {"v6", "2001:db8::2", NULL, -EACCES, NULL},
    {"vod", "127.0.0.1", NULL, -EACCES, NULL},
    {"unknown", "127.0.0.1", NULL, -ENOENT, NULL},
    {"unknown+x", "127.0.0.1", NULL, -ENOENT, NULL},
    {"", "127.0.0.1", NULL, -ENOENT, NULL},
    {"+x", "127.0.0.1", NULL, -ENOENT, NULL},
};

static void test_decisions(void **state)
{
	json_t *root = json_loads(config_text, 0, NULL);
	assert_non_null(root);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct hub_publish_req req = {.name = cases[i].name,
					      .host = cases[i].host,
					      .password = cases[i].password,
					      .connector = "RTMP"};
		char name[128] = "", why[256] = "";
		struct hub_stream_opts opts = {0};
		int rc = policy_check(root, &req, name, sizeof(name), &opts, why, sizeof(why));
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s from %s): rc %d, want %d (%s)", i, cases[i].name,
				 cases[i].host, rc, cases[i].rc, why);
		if (rc == 0) {
			assert_string_equal(name, cases[i].out);
			assert_int_equal(opts.dvr_ms, POLICY_DEFAULT_DVR_MS);
			assert_int_equal(opts.grace_ms, POLICY_DEFAULT_GRACE_MS);
		} else {
			assert_true(why[0] != '\0');
		}
	}
	json_decref(root);
}

static void test_reasons_and_opts(void **state)
{
	json_t *root = json_loads(config_text, 0, NULL);
	char name[128], why[256];
	struct hub_stream_opts opts;
	struct hub_publish_req req = {.name = "dvr", .host = "1.1.1.1"};
	assert_int_equal(policy_check(root, &req, name, sizeof(name), &opts, why, sizeof(why)), 0);
	assert_int_equal(opts.dvr_ms, 1234);
	assert_int_equal(opts.grace_ms, 100);

	req.name = "nothere";
	policy_check(root, &req, name, sizeof(name), &opts, why, sizeof(why));
	assert_string_equal(why, "stream nothere not configured");
	req.name = "vod";
	policy_check(root, &req, name, sizeof(name), &opts, why, sizeof(why));
	assert_string_equal(why, "stream vod does not accept pushes");
	req.name = "local";
	req.host = "10.0.0.5";
	policy_check(root, &req, name, sizeof(name), &opts, why, sizeof(why));
	assert_string_equal(why, "host 10.0.0.5 may not push to stream local");
	req.name = "pw";
	policy_check(root, &req, name, sizeof(name), &opts, why, sizeof(why));
	assert_string_equal(why, "wrong password for pushing to stream pw");

	/* the hub hook reads the config through the pointer, so it follows
	 * config replacements */
	json_t *cur = root;
	struct hub_policy p = policy_make(&cur);
	req.name = "open";
	assert_int_equal(p.publish_check(p.ctx, &req, name, sizeof(name), &opts, why, sizeof(why)),
			 0);
	cur = json_loads("{\"streams\": {}}", 0, NULL);
	assert_int_equal(p.publish_check(p.ctx, &req, name, sizeof(name), &opts, why, sizeof(why)),
			 -ENOENT);
	struct hub_stream s = {"open"};
	p.state_changed(p.ctx, &s, STREAM_READY);
	json_decref(cur);
	json_decref(root);
}

static void test_host_matching(void **state)
{
	assert_true(policy_host_matches("127.0.0.1", "127.0.0.1"));
	assert_true(policy_host_matches("LOCALHOST", "::1"));
	assert_true(policy_host_matches("192.168.0.0/16", "192.168.44.1"));
	assert_true(policy_host_matches("0.0.0.0/0", "8.8.8.8"));
	assert_true(policy_host_matches("10.0.0.1/32", "::ffff:10.0.0.1"));
	assert_false(policy_host_matches("10.0.0.1/33", "10.0.0.1"));
	assert_false(policy_host_matches("10.0.0.0/x", "10.0.0.1"));
	assert_false(policy_host_matches("10.0.0.0/", "10.0.0.1"));
	assert_false(policy_host_matches("10.0.0.0/8", "fd00::1"));
	assert_false(policy_host_matches("", "10.0.0.1"));
	assert_false(policy_host_matches("10.0.0.1", ""));
	assert_false(policy_host_matches(NULL, "10.0.0.1"));
	assert_true(policy_host_matches("encoder.example", "ENCODER.example")); /* no DNS */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decisions),
	    cmocka_unit_test(test_reasons_and_opts),
	    cmocka_unit_test(test_host_matching),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
