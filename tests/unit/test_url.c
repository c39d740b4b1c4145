#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/url.h"

struct url_case {
	const char *in;
	const char *scheme, *user, *pass, *host;
	int port;
	const char *path, *query;
};

static void check_url(const struct url_case *c)
{
	struct url u;
	int rc = url_parse(c->in, &u);
	if (rc != 0)
		fail_msg("%s: rc %d", c->in, rc);
	assert_string_equal(u.scheme, c->scheme);
	assert_string_equal(u.user, c->user);
	assert_string_equal(u.pass, c->pass);
	assert_string_equal(u.host, c->host);
	assert_int_equal(u.port, c->port);
	assert_string_equal(u.path, c->path);
	assert_string_equal(u.query, c->query);
}

static void test_parse_golden(void **state)
{
	static const struct url_case cases[] = {
	    {"rtmp://localhost/live/stream", "rtmp", "", "", "localhost", -1, "/live/stream", ""},
	    {"rtmp://a.b.c:1935/app/key?x=1", "rtmp", "", "", "a.b.c", 1935, "/app/key", "x=1"},
	    {"http://example.com:8080/hls/live/index.m3u8?tkn=a%20b#frag", "http", "", "",
	     "example.com", 8080, "/hls/live/index.m3u8", "tkn=a%20b"},
	    {"srt://:8889", "srt", "", "", "", 8889, "", ""},
	    {"srt://:8889?streamid=live%2Bx&mode=listener", "srt", "", "", "", 8889, "",
	     "streamid=live%2Bx&mode=listener"},
	    {"srt://10.0.0.1:9000?latency=200", "srt", "", "", "10.0.0.1", 9000, "", "latency=200"},
	    {"push://", "push", "", "", "", -1, "", ""},
	    {"push://1.2.3.4", "push", "", "", "1.2.3.4", -1, "", ""},
	    {"rist://@:5000", "rist", "", "", "", 5000, "", ""},
	    {"rist://239.0.0.1:5000?cname=x", "rist", "", "", "239.0.0.1", 5000, "", "cname=x"},
	    {"tsudp://239.1.1.1:1234", "tsudp", "", "", "239.1.1.1", 1234, "", ""},
	    {"rtmp://user:pa%40ss@host:1936/app", "rtmp", "user", "pa@ss", "host", 1936, "/app",
	     ""},
	    {"rtmp://user:p@ss@host/app", "rtmp", "user", "p@ss", "host", -1, "/app", ""},
	    {"rtmp://user@host", "rtmp", "user", "", "host", -1, "", ""},
	    {"rtmp://user:@host", "rtmp", "user", "", "host", -1, "", ""},
	    {"rtmp://:secret@host", "rtmp", "", "secret", "host", -1, "", ""},
	    {"rtmp://[::1]:1935/live", "rtmp", "", "", "::1", 1935, "/live", ""},
	    {"http://[2001:db8::7]/x", "http", "", "", "2001:db8::7", -1, "/x", ""},
	    {"http://[fe80::1%25eth0]:80/", "http", "", "", "fe80::1%eth0", 80, "/", ""},
	    {"HTTP://Example.COM/A", "http", "", "", "Example.COM", -1, "/A", ""},
	    {"http://host:/p", "http", "", "", "host", -1, "/p", ""},
	    {"http://host:0/", "http", "", "", "host", 0, "/", ""},
	    {"http://host:65535", "http", "", "", "host", 65535, "", ""},
	    {"http://host?q=1", "http", "", "", "host", -1, "", "q=1"},
	    {"http://host#f?x", "http", "", "", "host", -1, "", ""},
	    {"http://h/p?q#f", "http", "", "", "h", -1, "/p", "q"},
	    {"file:///tmp/a%20b.mp4", "file", "", "", "", -1, "/tmp/a%20b.mp4", ""},
	    {"whip+s://h", "whip+s", "", "", "h", -1, "", ""},
	    {"http://my%2Dhost/", "http", "", "", "my-host", -1, "/", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_url(&cases[i]);
}

static void test_parse_bad(void **state)
{
	static const char *bad[] = {
	    "",
	    "rtmp:/host",
	    "rtmp",
	    "://host",
	    "1rtmp://host",
	    "rt mp://host",
	    "averyveryverylongscheme://host",
	    "http://host:65536/",
	    "http://host:99999999999/",
	    "http://host:-1/",
	    "http://host:+80/",
	    "http://host:8o/",
	    "http://host:1:2/",
	    "http://::1/",
	    "http://[::1/",
	    "http://[]/",
	    "http://[::1]x/",
	    "http://[::1]:x/",
	    "http://[::g]/",
	    "http://ho st/",
	    "http://ho<st/",
	    "http://host%zz/",
	    "http://host%00/",
	    "http://us%zzer@host/",
	    "http://host/\x01",
	    "http://host/a\nb",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct url u;
		int rc = url_parse(bad[i], &u);
		if (rc != -EINVAL)
			fail_msg("'%s': rc %d", bad[i], rc);
		assert_string_equal(u.host, "");
		assert_int_equal(u.port, -1);
	}
	struct url u;
	assert_int_equal(url_parse(NULL, &u), -EINVAL);
	assert_int_equal(url_parse("http://x", NULL), -EINVAL);
}

static void test_parse_lengths(void **state)
{
	struct url u;
	char s[2048 + 64];
	/* host: 255 fits, 256 does not */
	strcpy(s, "http://");
	memset(s + 7, 'h', 255);
	strcpy(s + 7 + 255, "/p");
	assert_int_equal(url_parse(s, &u), 0);
	assert_int_equal(strlen(u.host), 255);
	memset(s + 7, 'h', 256);
	strcpy(s + 7 + 256, "/p");
	assert_int_equal(url_parse(s, &u), -EINVAL);
	/* path: 1023 fits, 1024 does not */
	strcpy(s, "http://h/");
	memset(s + 9, 'p', 1022);
	s[9 + 1022] = '\0';
	assert_int_equal(url_parse(s, &u), 0);
	assert_int_equal(strlen(u.path), 1023);
	strcpy(s + 9 + 1022, "p");
	assert_int_equal(url_parse(s, &u), -EINVAL);
	/* query */
	strcpy(s, "http://h/?");
	memset(s + 10, 'q', 1024);
	s[10 + 1024] = '\0';
	assert_int_equal(url_parse(s, &u), -EINVAL);
	s[10 + 1023] = '\0';
	assert_int_equal(url_parse(s, &u), 0);
	/* user: decoded length counts */
	strcpy(s, "rtmp://");
	for (int i = 0; i < 127; i++)
		memcpy(s + 7 + 3 * i, "%41", 3);
	strcpy(s + 7 + 3 * 127, "@h");
	assert_int_equal(url_parse(s, &u), 0);
	assert_int_equal(strlen(u.user), 127);
	strcpy(s + 7 + 3 * 127, "A@h");
	assert_int_equal(url_parse(s, &u), -EINVAL);
}

static void test_decode(void **state)
{
	char out[32];
	assert_int_equal(url_decode("a%20b+c", 7, out, sizeof(out), false), 7 - 2);
	assert_string_equal(out, "a b+c");
	assert_int_equal(url_decode("a%20b+c", 7, out, sizeof(out), true), 5);
	assert_string_equal(out, "a b c");
	assert_int_equal(url_decode("%e2%82%AC", 9, out, sizeof(out), false), 3);
	assert_string_equal(out, "\xe2\x82\xac");
	/* len bounds the input, not the NUL */
	assert_int_equal(url_decode("abcdef", 3, out, sizeof(out), false), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(url_decode("", 0, out, sizeof(out), false), 0);
	assert_string_equal(out, "");
	/* an escape cut by len is bad even if the bytes follow */
	assert_int_equal(url_decode("a%41", 3, out, sizeof(out), false), -EINVAL);
	assert_int_equal(url_decode("%", 1, out, sizeof(out), false), -EINVAL);
	assert_int_equal(url_decode("%4", 2, out, sizeof(out), false), -EINVAL);
	assert_int_equal(url_decode("%g1", 3, out, sizeof(out), false), -EINVAL);
	assert_int_equal(url_decode("%00", 3, out, sizeof(out), false), -EINVAL);
	assert_int_equal(url_decode("a\0b", 3, out, sizeof(out), false), -EINVAL);
	/* capacity includes the NUL */
	assert_int_equal(url_decode("abc", 3, out, 4, false), 3);
	assert_int_equal(url_decode("abcd", 4, out, 4, false), -ENOSPC);
	assert_int_equal(url_decode("%41%42%43", 9, out, 4, false), 3);
	assert_int_equal(url_decode("a", 1, out, 0, false), -ENOSPC);
	assert_int_equal(url_decode("", 0, NULL, 0, false), -ENOSPC);
}

static void test_encode(void **state)
{
	char out[64];
	assert_int_equal(url_encode("live+demo/a b~-._", out, sizeof(out)), 23);
	assert_string_equal(out, "live%2Bdemo%2Fa%20b~-._");
	assert_int_equal(url_encode("\xff\x01", out, sizeof(out)), 6);
	assert_string_equal(out, "%FF%01");
	assert_int_equal(url_encode("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(url_encode("abc", out, 4), 3);
	assert_int_equal(url_encode("abcd", out, 4), -ENOSPC);
	assert_int_equal(url_encode("a b", out, 5), -ENOSPC);
	assert_int_equal(url_encode("a b", out, 6), 5);
	/* round trip through decode */
	const char *s = "x=1&y=\xc3\xa9 +/?#";
	char enc[64], dec[64];
	int n = url_encode(s, enc, sizeof(enc));
	assert_true(n > 0);
	assert_int_equal(url_decode(enc, (size_t)n, dec, sizeof(dec), true), (int)strlen(s));
	assert_string_equal(dec, s);
}

static void test_query_get(void **state)
{
	char v[32];
	const char *q = "video=0&audio=1&tkn=a%20b+c&flag&empty=&a%2Bb=plus&x=1=2&&video=9";
	assert_int_equal(query_get(q, "video", v, sizeof(v)), 1);
	assert_string_equal(v, "0"); /* first wins */
	assert_int_equal(query_get(q, "audio", v, sizeof(v)), 1);
	assert_string_equal(v, "1");
	assert_int_equal(query_get(q, "tkn", v, sizeof(v)), 5);
	assert_string_equal(v, "a b c");
	strcpy(v, "junk");
	assert_int_equal(query_get(q, "flag", v, sizeof(v)), 0);
	assert_string_equal(v, "");
	assert_int_equal(query_get(q, "empty", v, sizeof(v)), 0);
	assert_string_equal(v, "");
	assert_int_equal(query_get(q, "a+b", v, sizeof(v)), 4);
	assert_string_equal(v, "plus");
	assert_int_equal(query_get(q, "x", v, sizeof(v)), 3);
	assert_string_equal(v, "1=2");
	assert_int_equal(query_get(q, "vid", v, sizeof(v)), -ENOENT);
	assert_int_equal(query_get(q, "videos", v, sizeof(v)), -ENOENT);
	assert_int_equal(query_get(q, "", v, sizeof(v)), -ENOENT);
	assert_int_equal(query_get("", "a", v, sizeof(v)), -ENOENT);
	assert_int_equal(query_get(NULL, "a", v, sizeof(v)), -ENOENT);
	assert_int_equal(query_get("a=123456", "a", v, 4), -ENOSPC);
	assert_int_equal(query_get("a=%zz", "a", v, sizeof(v)), -EINVAL);
	assert_int_equal(query_get("a=%", "a", v, sizeof(v)), -EINVAL);
	/* a key with a bad escape matches nothing; a later good one does */
	assert_int_equal(query_get("a%z=1&a=2", "a", v, sizeof(v)), 1);
	assert_string_equal(v, "2");
	/* key decoding: %41 is 'A' */
	assert_int_equal(query_get("%41=x", "A", v, sizeof(v)), 1);
	/* key with a space */
	assert_int_equal(query_get("my+key=v", "my key", v, sizeof(v)), 1);
}

struct collect {
	char buf[256];
	int calls;
	int stop_at;
};

static int collect_fn(const char *k, const char *v, void *arg)
{
	struct collect *c = arg;
	size_t n = strlen(c->buf);
	snprintf(c->buf + n, sizeof(c->buf) - n, "[%s|%s]", k, v);
	if (++c->calls == c->stop_at)
		return 42;
	return 0;
}

static void test_query_foreach(void **state)
{
	struct collect c = {0};
	assert_int_equal(query_foreach("a=1&b=x%20y+z&&flag&=v&k=", collect_fn, &c), 0);
	assert_string_equal(c.buf, "[a|1][b|x y z][flag|][|v][k|]");
	assert_int_equal(c.calls, 5);

	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	assert_int_equal(query_foreach("a=1&b=2&c=3", collect_fn, &c), 42);
	assert_string_equal(c.buf, "[a|1][b|2]");

	memset(&c, 0, sizeof(c));
	assert_int_equal(query_foreach("a=1&b=%zz&c=3", collect_fn, &c), -EINVAL);
	assert_string_equal(c.buf, "[a|1]");

	memset(&c, 0, sizeof(c));
	assert_int_equal(query_foreach("", collect_fn, &c), 0);
	assert_int_equal(c.calls, 0);
	assert_int_equal(query_foreach(NULL, collect_fn, &c), -EINVAL);
	assert_int_equal(query_foreach("a=1", NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_golden),  cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_parse_lengths), cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_encode),        cmocka_unit_test(test_query_get),
	    cmocka_unit_test(test_query_foreach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
