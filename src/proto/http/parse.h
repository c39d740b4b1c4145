/* HTTP/1.x request-head parser (pure: no I/O). */
#ifndef WEIR_PROTO_HTTP_PARSE_H
#define WEIR_PROTO_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS 64
/* Room for the decoded path, NUL included (longer paths: -ENAMETOOLONG). */
#define HTTP_MAX_PATH 4096

struct http_header {
	char *name;  /* NUL-terminated, as sent */
	char *value; /* NUL-terminated, surrounding whitespace trimmed */
};

struct http_request {
	char *method; /* "GET", "POST", ... */
	char *target; /* raw request-target, e.g. "/live.flv?video=0" */
	/* percent-decoded path without the query, e.g. "/live.flv", with "."
	 * and ".." segments resolved (never above "/"); "*" for "OPTIONS *".
	 * Points into path_buf (a decoded copy cannot share buf with the raw
	 * target), so do not use it on a by-value copy of the request. */
	char *path;
	char *query; /* raw query string after '?', without it; "" when none */
	int minor;   /* 0 for HTTP/1.0, 1 for HTTP/1.1 */
	struct http_header headers[HTTP_MAX_HEADERS];
	unsigned nheaders;
	int64_t content_length; /* -1 when absent */
	bool chunked;           /* Transfer-Encoding: chunked body */
	bool keep_alive;        /* from version + Connection header */
	bool upgrade_websocket; /* Connection: upgrade + Upgrade: websocket */
	/* Filled by the server before a handler runs: the whole body. */
	const char *body;
	size_t body_len;
	char path_buf[HTTP_MAX_PATH];
};

/* Parses a request head at buf[0..len), writing NULs into buf; all pointers
 * in req point into buf (except path, see above). Empty lines before the
 * request line are skipped; lines may end in CRLF or bare LF.
 * Returns the head's length (through the blank line) when complete; 0 when
 * more bytes are needed (len <= max_head); -E2BIG when the head is longer
 * than max_head or has more than HTTP_MAX_HEADERS fields (answer 431);
 * -ENAMETOOLONG when the decoded path does not fit path_buf (answer 414);
 * -EBADMSG when malformed (answer 400): bad request line, obs-fold, a
 * non-token field name, control bytes, bad or conflicting Content-Length,
 * a Transfer-Encoding other than "chunked", both Content-Length and
 * chunked, a bad %-escape or %00 in the path, a path above "/";
 * -ENOTSUP for a version other than HTTP/1.0 or 1.1 (answer 505).
 * The Host header is not required. On 0 the buffer is left untouched so
 * the call can be repeated; on errors buf may have been modified. */
int http_parse_request(char *buf, size_t len, size_t max_head, struct http_request *req);

/* Value of a header (case-insensitive name) or NULL. */
const char *http_header(const struct http_request *req, const char *name);

/* Standard reason phrase for a status code ("OK", "Not Found", ...);
 * "Unknown" for codes it does not know. Never NULL. */
const char *http_reason(int status);

#endif
