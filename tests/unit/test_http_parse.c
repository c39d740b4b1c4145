#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/http/parse.h"

/* Parses s[0..len) from an exact-size heap copy, so ASan sees overreads. */
static int parse_n(const char *s, size_t len, size_t max_head, struct http_request *req,
		   char **keep)
{
	char *buf = malloc(len ? len : 1);
	assert_non_null(buf);
	memcpy(buf, s, len);
	int rc = http_parse_request(buf, len, max_head, req);
	if (keep)
		*keep = buf;
	else
		free(buf);
	return rc;
}

/* Parses a whole string; the buffer is kept in *keep for pointer checks. */
static int parse(const char *s, struct http_request *req, char **keep)
{
	return parse_n(s, strlen(s), 65536, req, keep);
}

/* Result code only, for malformed-input tables. */
static int parse_rc(const char *s)
{
	struct http_request req;
	return parse(s, &req, NULL);
}

static const char ffmpeg_req[] = "GET /live.flv HTTP/1.1\r\n"
				 "User-Agent: Lavf/59.27.100\r\n"
				 "Accept: */*\r\n"
				 "Range: bytes=0-\r\n"
				 "Connection: close\r\n"
				 "Host: 127.0.0.1:8080\r\n"
				 "Icy-MetaData: 1\r\n"
				 "\r\n";

static void test_ffmpeg_request(void **state)
{
	struct http_request req;
	char *buf;
	int rc = parse(ffmpeg_req, &req, &buf);
	assert_int_equal(rc, (int)strlen(ffmpeg_req));
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.target, "/live.flv");
	assert_string_equal(req.path, "/live.flv");
	assert_string_equal(req.query, "");
	assert_int_equal(req.minor, 1);
	assert_int_equal(req.nheaders, 6);
	assert_string_equal(req.headers[0].name, "User-Agent");
	assert_string_equal(req.headers[0].value, "Lavf/59.27.100");
	assert_string_equal(req.headers[5].name, "Icy-MetaData");
	assert_string_equal(req.headers[5].value, "1");
	assert_string_equal(http_header(&req, "host"), "127.0.0.1:8080");
	assert_string_equal(http_header(&req, "RANGE"), "bytes=0-");
	assert_null(http_header(&req, "Cookie"));
	assert_int_equal(req.content_length, -1);
	assert_false(req.chunked);
	assert_false(req.keep_alive);
	assert_false(req.upgrade_websocket);
	/* pointers (other than path) are inside buf */
	assert_true(req.method >= buf && req.method < buf + rc);
	assert_true(req.headers[3].value > buf && req.headers[3].value < buf + rc);
	free(buf);
}

static void test_query_and_decoding(void **state)
{
	struct http_request req;
	char *buf;
	const char *s = "GET /hls/live%2Bdemo/my%20file.m3u8?tkn=a%20b&x=1+2 HTTP/1.1\r\n"
			"Host: example.com\r\n\r\n";
	assert_int_equal(parse(s, &req, &buf), (int)strlen(s));
	assert_string_equal(req.target, "/hls/live%2Bdemo/my%20file.m3u8?tkn=a%20b&x=1+2");
	assert_string_equal(req.path, "/hls/live+demo/my file.m3u8");
	assert_string_equal(req.query, "tkn=a%20b&x=1+2");
	assert_true(req.keep_alive);
	free(buf);

	/* '+' is not a space in a path */
	assert_true(parse("GET /a+b HTTP/1.1\r\n\r\n", &req, &buf) > 0);
	assert_string_equal(req.path, "/a+b");
	free(buf);
	/* a trailing '?' gives an empty query */
	assert_true(parse("GET /x? HTTP/1.1\r\n\r\n", &req, &buf) > 0);
	assert_string_equal(req.query, "");
	assert_string_equal(req.target, "/x?");
	free(buf);
}

static void test_bad_escapes(void **state)
{
	assert_int_equal(parse_rc("GET /a%00b HTTP/1.1\r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("GET /a%4 HTTP/1.1\r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("GET /a% HTTP/1.1\r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("GET /a%zz HTTP/1.1\r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("GET /a%g0 HTTP/1.1\r\n\r\n"), -EBADMSG);
	/* the query is raw: escapes are not checked there */
	assert_true(parse_rc("GET /a?%zz HTTP/1.1\r\n\r\n") > 0);
}

static void test_dot_segments(void **state)
{
	static const struct {
		const char *target, *path;
	} ok[] = {
	    {"/a/./b/../c", "/a/c"}, {"/a/..", "/"},      {"/a/b/.", "/a/b/"}, {"/.", "/"},
	    {"/a/%2e%2E/b", "/b"},   {"/a/b/../", "/a/"}, {"/", "/"},          {"//x", "//x"},
	    {"/..a/.b", "/..a/.b"},  {"/a%2f..", "/"},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char line[256];
		snprintf(line, sizeof(line), "GET %s HTTP/1.1\r\n\r\n", ok[i].target);
		struct http_request req;
		char *buf;
		assert_true(parse(line, &req, &buf) > 0);
		assert_string_equal(req.path, ok[i].path);
		assert_string_equal(req.target, ok[i].target);
		free(buf);
	}
	assert_int_equal(parse_rc("GET /.. HTTP/1.1\r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("GET /a/../.. HTTP/1.1\r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("GET /%2e%2e/etc/passwd HTTP/1.1\r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("GET /..%2fetc HTTP/1.1\r\n\r\n"), -EBADMSG);
}

static void test_target_forms(void **state)
{
	struct http_request req;
	char *buf;
	assert_true(parse("GET http://host:8080/x/y.ts?a=1 HTTP/1.1\r\n\r\n", &req, &buf) > 0);
	assert_string_equal(req.target, "http://host:8080/x/y.ts?a=1");
	assert_string_equal(req.path, "/x/y.ts");
	assert_string_equal(req.query, "a=1");
	free(buf);
	assert_true(parse("GET http://host HTTP/1.1\r\n\r\n", &req, &buf) > 0);
	assert_string_equal(req.path, "/");
	free(buf);
	assert_true(parse("GET http://host?q HTTP/1.1\r\n\r\n", &req, &buf) > 0);
	assert_string_equal(req.path, "/");
	assert_string_equal(req.query, "q");
	free(buf);
	assert_true(parse("OPTIONS * HTTP/1.1\r\n\r\n", &req, &buf) > 0);
	assert_string_equal(req.path, "*");
	free(buf);
	assert_int_equal(parse_rc("GET live.flv HTTP/1.1\r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("CONNECT host:443 HTTP/1.1\r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("GET ://x/ HTTP/1.1\r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("GET x?://y/ HTTP/1.1\r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("GET h1://y/ HTTP/1.1\r\n\r\n"), -EBADMSG);
}

static void test_path_too_long(void **state)
{
	size_t n = HTTP_MAX_PATH + 100;
	char *s = malloc(n + 64);
	assert_non_null(s);
	/* exactly HTTP_MAX_PATH - 1 decoded bytes fit */
	strcpy(s, "GET /");
	memset(s + 5, 'a', HTTP_MAX_PATH - 2);
	strcpy(s + 5 + HTTP_MAX_PATH - 2, " HTTP/1.1\r\n\r\n");
	struct http_request req;
	char *buf;
	assert_true(parse(s, &req, &buf) > 0);
	assert_int_equal(strlen(req.path), HTTP_MAX_PATH - 1);
	free(buf);
	strcpy(s, "GET /");
	memset(s + 5, 'a', HTTP_MAX_PATH - 1);
	strcpy(s + 5 + HTTP_MAX_PATH - 1, " HTTP/1.1\r\n\r\n");
	assert_int_equal(parse_rc(s), -ENAMETOOLONG);
	/* escapes shrink: 3 raw bytes per decoded byte still fit */
	strcpy(s, "GET /");
	for (size_t i = 0; i < 1000; i++)
		memcpy(s + 5 + 3 * i, "%41", 3);
	strcpy(s + 5 + 3000, " HTTP/1.1\r\n\r\n");
	assert_true(parse(s, &req, &buf) > 0);
	assert_int_equal(strlen(req.path), 1001);
	free(buf);
	free(s);
}

static void test_websocket_upgrade(void **state)
{
	static const char ws[] = "GET /chat HTTP/1.1\r\n"
				 "Host: server.example.com\r\n"
				 "Upgrade: websocket\r\n"
				 "Connection: keep-alive, Upgrade\r\n"
				 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				 "Origin: http://example.com\r\n"
				 "Sec-WebSocket-Protocol: chat, superchat\r\n"
				 "Sec-WebSocket-Version: 13\r\n"
				 "\r\n";
	struct http_request req;
	char *buf;
	assert_int_equal(parse(ws, &req, &buf), (int)strlen(ws));
	assert_true(req.upgrade_websocket);
	assert_true(req.keep_alive);
	assert_string_equal(http_header(&req, "sec-websocket-key"), "dGhlIHNhbXBsZSBub25jZQ==");
	free(buf);

	assert_true(parse("GET / HTTP/1.1\r\nupgrade: WebSocket\r\nconnection: UPGRADE\r\n\r\n",
			  &req, &buf) > 0);
	assert_true(req.upgrade_websocket);
	free(buf);
	/* both headers are needed, with the right tokens */
	assert_true(parse("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", &req, &buf) > 0);
	assert_false(req.upgrade_websocket);
	free(buf);
	assert_true(
	    parse("GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", &req, &buf) > 0);
	assert_false(req.upgrade_websocket);
	free(buf);
	assert_true(parse("GET / HTTP/1.1\r\nUpgrade: websockets\r\nConnection: upgraded\r\n\r\n",
			  &req, &buf) > 0);
	assert_false(req.upgrade_websocket);
	free(buf);
}

static void test_keep_alive(void **state)
{
	static const struct {
		const char *req;
		bool keep;
	} cases[] = {
	    {"GET / HTTP/1.1\r\n\r\n", true},
	    {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
	    {"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", false},
	    {"GET / HTTP/1.1\r\nConnection: Upgrade, close\r\n\r\n", false},
	    {"GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false},
	    {"GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", true},
	    {"GET / HTTP/1.0\r\n\r\n", false},
	    {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
	    {"GET / HTTP/1.0\r\nConnection: keep-alive, Upgrade\r\n\r\n", true},
	    {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false},
	    {"GET / HTTP/1.0\r\nConnection: keep-aliveX\r\n\r\n", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_request req;
		assert_true(parse(cases[i].req, &req, NULL) > 0);
		assert_int_equal(req.keep_alive, cases[i].keep);
	}
}

static void test_content_length(void **state)
{
	struct http_request req;
	const char *s = "POST /api HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
	char *buf;
	int rc = parse(s, &req, &buf);
	assert_int_equal(rc, (int)strlen(s) - 5);
	assert_int_equal(req.content_length, 5);
	assert_memory_equal(buf + rc, "hello", 5); /* body untouched */
	free(buf);

	assert_true(parse("POST / HTTP/1.1\r\nContent-Length:  42 \r\n\r\n", &req, NULL) > 0);
	assert_int_equal(req.content_length, 42);
	assert_true(parse("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &req, NULL) > 0);
	assert_int_equal(req.content_length, 0);
	assert_true(parse("POST / HTTP/1.1\r\ncontent-length: 7\r\nContent-Length: 07\r\n\r\n",
			  &req, NULL) > 0);
	assert_int_equal(req.content_length, 7);
	assert_true(parse("POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n", &req,
			  NULL) > 0);
	assert_int_equal(req.content_length, INT64_MAX);

	static const char *bad[] = {"",
				    "-1",
				    "+1",
				    "4a",
				    "0x10",
				    "1 2",
				    "42, 42",
				    "9223372036854775808",
				    "99999999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[128];
		snprintf(line, sizeof(line), "POST / HTTP/1.1\r\nContent-Length: %s\r\n\r\n",
			 bad[i]);
		assert_int_equal(parse_rc(line), -EBADMSG);
	}
	assert_int_equal(
	    parse_rc("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
	    -EBADMSG);
}

static void test_chunked(void **state)
{
	struct http_request req;
	assert_true(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &req, NULL) > 0);
	assert_true(req.chunked);
	assert_int_equal(req.content_length, -1);
	assert_true(parse("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", &req, NULL) > 0);
	assert_true(req.chunked);
	assert_true(parse("POST / HTTP/1.1\r\n\r\n", &req, NULL) > 0);
	assert_false(req.chunked);
	assert_int_equal(parse_rc("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
			 -EBADMSG);
	assert_int_equal(parse_rc("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
			 -EBADMSG);
	assert_int_equal(parse_rc("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n"),
			 -EBADMSG);
	assert_int_equal(parse_rc("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n"),
			 -EBADMSG);
	/* request smuggling: both framings */
	assert_int_equal(parse_rc("POST / HTTP/1.1\r\nContent-Length: 3\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n"),
			 -EBADMSG);
}

static void test_versions(void **state)
{
	struct http_request req;
	assert_true(parse("GET / HTTP/1.0\r\n\r\n", &req, NULL) > 0);
	assert_int_equal(req.minor, 0);
	assert_int_equal(parse_rc("GET / HTTP/2.0\r\n\r\n"), -ENOTSUP);
	assert_int_equal(parse_rc("GET / HTTP/1.2\r\n\r\n"), -ENOTSUP);
	assert_int_equal(parse_rc("GET / HTTP/0.9\r\n\r\n"), -ENOTSUP);
	assert_int_equal(parse_rc("GET / HTTP/3\r\n\r\n"), -ENOTSUP);
	assert_int_equal(parse_rc("GET / HTTP/\r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("GET / http/1.1\r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("GET / HTTX/1.1\r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("GET / HTTP/1.1x\r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("GET / HTTP/1.1 \r\n\r\n"), -EBADMSG);
	assert_int_equal(parse_rc("GET /\r\n\r\n"), -EBADMSG);
}

static void test_malformed(void **state)
{
	static const char *bad[] = {
	    "GET  / HTTP/1.1\r\n\r\n",
	    " GET / HTTP/1.1\r\n\r\n",
	    "GET\t/ HTTP/1.1\r\n\r\n",
	    "G(T / HTTP/1.1\r\n\r\n",
	    "GET HTTP/1.1\r\n\r\n",
	    "\x01\x02\x03\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: a\r\n continued\r\n\r\n", /* obs-fold */
	    "GET / HTTP/1.1\r\nHost: a\r\n\tcontinued\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost : a\r\n\r\n", /* space before colon */
	    "GET / HTTP/1.1\r\n: a\r\n\r\n",
	    "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
	    "GET / HTTP/1.1\r\nBad(Name): a\r\n\r\n",
	    "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n",
	    "GET / HTTP/1.1\r\nX: a\x7fz\r\n\r\n",
	    "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", /* stray CR */
	    "GET / HTTP/1.1\r\nX: a\r\r\n\r\n",
	    "GET / HTTP/1.1\r\n\rX: a\r\n\r\n",
	    "GET /\x7f HTTP/1.1\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse_rc(bad[i]);
		if (rc != -EBADMSG)
			fail_msg("case %zu: rc %d", i, rc);
	}
	/* an embedded NUL byte */
	static const char nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
	struct http_request req;
	assert_int_equal(parse_n(nul, sizeof(nul) - 1, 4096, &req, NULL), -EBADMSG);
	static const char nul2[] = "GET /\0 HTTP/1.1\r\n\r\n";
	assert_int_equal(parse_n(nul2, sizeof(nul2) - 1, 4096, &req, NULL), -EBADMSG);
}

static void test_header_values(void **state)
{
	struct http_request req;
	char *buf;
	const char *s = "GET / HTTP/1.1\r\nX-A:   a b  \t\r\nX-B:\r\nX-C:\t\r\nX-D:v\r\n"
			"X-E: caf\xc3\xa9\r\n\r\n";
	assert_int_equal(parse(s, &req, &buf), (int)strlen(s));
	assert_int_equal(req.nheaders, 5);
	assert_string_equal(http_header(&req, "x-a"), "a b");
	assert_string_equal(http_header(&req, "x-b"), "");
	assert_string_equal(http_header(&req, "x-c"), "");
	assert_string_equal(http_header(&req, "x-d"), "v");
	assert_string_equal(http_header(&req, "x-e"), "caf\xc3\xa9");
	assert_null(http_header(&req, "x-"));
	assert_null(http_header(&req, NULL));
	assert_null(http_header(NULL, "x-a"));
	free(buf);
	/* the first of repeated fields wins */
	assert_true(parse("GET / HTTP/1.1\r\nA: 1\r\na: 2\r\n\r\n", &req, &buf) > 0);
	assert_string_equal(http_header(&req, "A"), "1");
	assert_int_equal(req.nheaders, 2);
	free(buf);
}

static void test_bare_lf_and_leading_lines(void **state)
{
	struct http_request req;
	char *buf;
	const char *s = "GET /a HTTP/1.1\nHost: x\nConnection: close\n\nBODY";
	assert_int_equal(parse(s, &req, &buf), (int)strlen(s) - 4);
	assert_string_equal(req.path, "/a");
	assert_string_equal(http_header(&req, "host"), "x");
	assert_false(req.keep_alive);
	free(buf);
	s = "GET /b HTTP/1.1\r\nHost: y\n\r\n";
	assert_int_equal(parse(s, &req, &buf), (int)strlen(s));
	assert_string_equal(http_header(&req, "host"), "y");
	free(buf);
	/* leftover CRLFs between keep-alive requests */
	s = "\r\n\r\n\nGET /c HTTP/1.1\r\n\r\n";
	assert_int_equal(parse(s, &req, &buf), (int)strlen(s));
	assert_string_equal(req.path, "/c");
	assert_int_equal(req.nheaders, 0);
	free(buf);
	assert_int_equal(parse_rc("\r\n\r\n"), 0);
	assert_int_equal(parse_rc("\r\n\r"), 0);
	assert_int_equal(parse_rc(""), 0);
}

/* Every proper prefix of a valid head needs more bytes and is left
 * untouched; the whole head parses; a byte-by-byte feed ends the same. */
static void test_incomplete(void **state)
{
	size_t n = strlen(ffmpeg_req);
	char *buf = malloc(n);
	assert_non_null(buf);
	for (size_t len = 0; len < n; len++) {
		struct http_request req;
		memcpy(buf, ffmpeg_req, n);
		assert_int_equal(http_parse_request(buf, len, 4096, &req), 0);
		assert_memory_equal(buf, ffmpeg_req, n);
	}
	struct http_request req;
	assert_int_equal(http_parse_request(buf, n, 4096, &req), (int)n);
	free(buf);
}

static void test_max_head(void **state)
{
	/* a 1 MB header without end is refused as soon as it passes max_head */
	size_t big = 1 << 20;
	char *s = malloc(big);
	assert_non_null(s);
	memcpy(s, "GET / HTTP/1.1\r\nX: ", 19);
	memset(s + 19, 'a', big - 19);
	struct http_request req;
	assert_int_equal(http_parse_request(s, 8192, 8192, &req), 0);
	assert_int_equal(http_parse_request(s, 8193, 8192, &req), -E2BIG);
	assert_int_equal(http_parse_request(s, big, 8192, &req), -E2BIG);
	free(s);

	/* a complete head longer than max_head */
	const char *h = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
	size_t hl = strlen(h);
	assert_int_equal(parse_n(h, hl, hl - 1, &req, NULL), -E2BIG);
	assert_int_equal(parse_n(h, hl, hl, &req, NULL), (int)hl);
	/* max_head limits the head, not the body behind it */
	const char *b = "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789";
	assert_int_equal(parse_n(b, strlen(b), strlen(b) - 10, &req, NULL), (int)strlen(b) - 10);
}

static void test_too_many_headers(void **state)
{
	char *s = malloc(64 * (HTTP_MAX_HEADERS + 2));
	assert_non_null(s);
	size_t o = (size_t)sprintf(s, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < HTTP_MAX_HEADERS; i++)
		o += (size_t)sprintf(s + o, "X-%d: %d\r\n", i, i);
	strcpy(s + o, "\r\n");
	struct http_request req;
	char *buf;
	assert_int_equal(parse(s, &req, &buf), (int)o + 2);
	assert_int_equal(req.nheaders, HTTP_MAX_HEADERS);
	assert_string_equal(http_header(&req, "x-63"), "63");
	free(buf);
	o += (size_t)sprintf(s + o, "X-extra: 1\r\n\r\n");
	assert_int_equal(parse_rc(s), -E2BIG);
	free(s);
}

static void test_reason(void **state)
{
	static const struct {
		int code;
		const char *text;
	} r[] = {{200, "OK"},
		 {101, "Switching Protocols"},
		 {204, "No Content"},
		 {206, "Partial Content"},
		 {301, "Moved Permanently"},
		 {302, "Found"},
		 {304, "Not Modified"},
		 {400, "Bad Request"},
		 {401, "Unauthorized"},
		 {403, "Forbidden"},
		 {404, "Not Found"},
		 {405, "Method Not Allowed"},
		 {408, "Request Timeout"},
		 {411, "Length Required"},
		 {413, "Content Too Large"},
		 {414, "URI Too Long"},
		 {416, "Range Not Satisfiable"},
		 {429, "Too Many Requests"},
		 {431, "Request Header Fields Too Large"},
		 {500, "Internal Server Error"},
		 {501, "Not Implemented"},
		 {503, "Service Unavailable"},
		 {504, "Gateway Timeout"},
		 {505, "HTTP Version Not Supported"}};
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		assert_string_equal(http_reason(r[i].code), r[i].text);
	assert_string_equal(http_reason(299), "Unknown");
	assert_string_equal(http_reason(-1), "Unknown");
}

/* A request struct reused for a second parse carries nothing over. */
static void test_reuse(void **state)
{
	struct http_request req;
	char *b1, *b2;
	assert_true(parse("POST /a?x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: x\r\n\r\n",
			  &req, &b1) == -EBADMSG);
	assert_true(parse("GET /b HTTP/1.0\r\n\r\n", &req, &b2) > 0);
	assert_int_equal(req.content_length, -1);
	assert_false(req.chunked);
	assert_int_equal(req.nheaders, 0);
	assert_string_equal(req.query, "");
	free(b1);
	free(b2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ffmpeg_request),
	    cmocka_unit_test(test_query_and_decoding),
	    cmocka_unit_test(test_bad_escapes),
	    cmocka_unit_test(test_dot_segments),
	    cmocka_unit_test(test_target_forms),
	    cmocka_unit_test(test_path_too_long),
	    cmocka_unit_test(test_websocket_upgrade),
	    cmocka_unit_test(test_keep_alive),
	    cmocka_unit_test(test_content_length),
	    cmocka_unit_test(test_chunked),
	    cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_header_values),
	    cmocka_unit_test(test_bare_lf_and_leading_lines),
	    cmocka_unit_test(test_incomplete),
	    cmocka_unit_test(test_max_head),
	    cmocka_unit_test(test_too_many_headers),
	    cmocka_unit_test(test_reason),
	    cmocka_unit_test(test_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
