/* libFuzzer target for the HTTP/1.x request-head parser.
 * clang -fsanitize=fuzzer,address,undefined -Isrc fuzz/fuzz_http.c src/proto/http/parse.c
 * Besides memory safety it checks the parser's contract: results stay in
 * bounds, 0 leaves the buffer untouched, and no prefix of a complete head
 * is complete. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http/parse.h"

static void check_ptr(const char *p, const char *buf, size_t n)
{
	if (!p || p < buf || p >= buf + n ||
	    strnlen(p, (size_t)(buf + n - p)) == (size_t)(buf + n - p))
		abort();
}

static void check_request(const struct http_request *req, const char *buf, int n)
{
	check_ptr(req->method, buf, (size_t)n);
	check_ptr(req->target, buf, (size_t)n);
	check_ptr(req->query, buf, (size_t)n);
	if (req->path != req->path_buf || strnlen(req->path, HTTP_MAX_PATH) >= HTTP_MAX_PATH)
		abort();
	if (req->path[0] != '/' && strcmp(req->path, "*"))
		abort();
	if (strstr(req->path, "/../") || req->minor < 0 || req->minor > 1)
		abort();
	if (req->nheaders > HTTP_MAX_HEADERS)
		abort();
	for (unsigned i = 0; i < req->nheaders; i++) {
		check_ptr(req->headers[i].name, buf, (size_t)n);
		check_ptr(req->headers[i].value, buf, (size_t)n);
		if (http_header(req, req->headers[i].name) == NULL)
			abort();
	}
	if (req->chunked && req->content_length >= 0)
		abort();
	(void)http_header(req, "Content-Length");
}

/* One parse of data[0..size) with the given limit, checking the contract. */
static void run(const uint8_t *data, size_t size, size_t max_head, char *buf,
		struct http_request *req)
{
	if (size)
		memcpy(buf, data, size);
	int n = http_parse_request(buf, size, max_head, req);
	if (n == 0 && size && memcmp(buf, data, size))
		abort(); /* "more bytes needed" must not touch the buffer */
	if (n == 0 && size > max_head)
		abort();
	if (n > 0) {
		if ((size_t)n > size || (size_t)n > max_head)
			abort();
		check_request(req, buf, n);
		/* one byte less can never be a complete head */
		memcpy(buf, data, size);
		if (http_parse_request(buf, (size_t)n - 1, max_head, req) != 0)
			abort();
	}
	(void)http_reason(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct http_request *req = malloc(sizeof(*req));
	if (buf && req) {
		run(data, size, 8192, buf, req);
		run(data, size, size / 2, buf, req); /* exercise the limit paths */
	}
	free(req);
	free(buf);
	return 0;
}
