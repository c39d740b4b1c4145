#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/streamname.h"

static void test_golden(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"live", "live"},
	    {"Live", "live"},
	    {"LIVE_Stream-1.2", "live_stream-1.2"},
	    {"a/b", "ab"},
	    {"my stream!", "my+stream!"},
	    {"live demo", "live+demo"},
	    {"live+demo", "live+demo"},
	    {"live+Demo_1", "live+Demo_1"},
	    {"Live+Demo_1", "live+Demo_1"},
	    {"live?foo=bar", "live"},
	    {"live+x?foo=bar", "live+x"},
	    {"live+../x", "live+..x"},
	    {"live+a/b\\c#d%e\"f<g>h", "live+abcdefgh"},
	    {"live+a\x01\x1f\x7f"
	     "b",
	     "live+ab"},
	    {"live+a+b", "live+a+b"},
	    {"live+a b", "live+a b"},
	    {"live+caf\xc3\xa9", "live+caf\xc3\xa9"},
	    {"li!ve@#+x", "live+x"},
	    {"live+", "live"},
	    {"live+///", "live"},
	    {"live ", "live"},
	    {"caf\xc3\xa9", "caf"},
	    {"x?", "x"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[STREAMNAME_MAX + 1];
		int rc = streamname_sanitize(cases[i].in, out, sizeof(out));
		if (rc < 0)
			fail_msg("'%s': rc %d", cases[i].in, rc);
		assert_string_equal(out, cases[i].out);
		assert_int_equal(rc, (int)strlen(cases[i].out));
		assert_null(strchr(out, '/'));
	}
}

static void test_invalid(void **state)
{
	static const char *bad[] = {"", "+live", " live", "!!!", "?live", "/+x", "\xc3\xa9+x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char out[STREAMNAME_MAX + 1];
		int rc = streamname_sanitize(bad[i], out, sizeof(out));
		if (rc != -EINVAL)
			fail_msg("'%s': rc %d", bad[i], rc);
	}
	char out[STREAMNAME_MAX + 1];
	assert_int_equal(streamname_sanitize(NULL, out, sizeof(out)), -EINVAL);
	assert_int_equal(streamname_sanitize("live", NULL, 0), -EINVAL);
}

static void test_lengths(void **state)
{
	char in[512], out[STREAMNAME_MAX + 1];
	memset(in, 'a', STREAMNAME_MAX);
	in[STREAMNAME_MAX] = '\0';
	assert_int_equal(streamname_sanitize(in, out, sizeof(out)), STREAMNAME_MAX);
	in[STREAMNAME_MAX] = 'a';
	in[STREAMNAME_MAX + 1] = '\0';
	assert_int_equal(streamname_sanitize(in, out, sizeof(out)), -ENAMETOOLONG);
	/* the limit counts the sanitized name, not the input */
	memset(in, '!', 300);
	strcpy(in + 300, "live");
	assert_int_equal(streamname_sanitize(in, out, sizeof(out)), 4);
	/* wildcard part counts too */
	memset(in, 0, sizeof(in));
	strcpy(in, "live+");
	memset(in + 5, 'x', STREAMNAME_MAX - 5);
	assert_int_equal(streamname_sanitize(in, out, sizeof(out)), STREAMNAME_MAX);
	strcat(in, "x");
	assert_int_equal(streamname_sanitize(in, out, sizeof(out)), -ENAMETOOLONG);
	/* a query behind a long name is dropped first */
	in[STREAMNAME_MAX] = '?';
	assert_int_equal(streamname_sanitize(in, out, sizeof(out)), STREAMNAME_MAX);
	/* small output buffer */
	char small[5];
	assert_int_equal(streamname_sanitize("live", small, sizeof(small)), 4);
	assert_int_equal(streamname_sanitize("lives", small, sizeof(small)), -ENOSPC);
}

static void test_base_and_wildcard(void **state)
{
	char out[STREAMNAME_MAX + 1];
	assert_int_equal(streamname_base("live+demo", out, sizeof(out)), 4);
	assert_string_equal(out, "live");
	assert_int_equal(streamname_base("live", out, sizeof(out)), 4);
	assert_string_equal(out, "live");
	assert_int_equal(streamname_base("live+a+b", out, sizeof(out)), 4);
	char small[3];
	assert_int_equal(streamname_base("live+x", small, sizeof(small)), 2);
	assert_string_equal(small, "li");
	assert_int_equal(streamname_base("live", out, 0), 0);
	assert_int_equal(streamname_base(NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "");

	assert_string_equal(streamname_wildcard("live+demo"), "demo");
	assert_string_equal(streamname_wildcard("live+a+b"), "a+b");
	assert_null(streamname_wildcard("live"));
	assert_null(streamname_wildcard(NULL));

	/* sanitize then split: a space-separated name */
	assert_true(streamname_sanitize("Cam 7?x=1", out, sizeof(out)) > 0);
	assert_string_equal(out, "cam+7");
	assert_string_equal(streamname_wildcard(out), "7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_base_and_wildcard),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
