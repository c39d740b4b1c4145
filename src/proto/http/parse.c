/* HTTP/1.x request-head parser (RFC 9112). Pure: works on one buffer, writes
 * NULs into it, never allocates. Safe on arbitrary bytes. */
#include "proto/http/parse.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

/* tchar from RFC 9110 5.6.2: what a method or field name may contain. */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Bytes allowed in a request-target: visible ASCII plus obs-text (raw
 * UTF-8 from sloppy clients); no space, no controls. */
static bool is_target_char(unsigned char c)
{
	return c > 0x20 && c != 0x7f;
}

/* Bytes allowed in a field value (field-vchar, SP, HTAB). */
static bool is_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Finds the end of the head in buf[start..lim): the offset just past the
 * first empty line (CRLF or bare LF), or 0 when there is none yet. */
static size_t find_head_end(const char *buf, size_t start, size_t lim)
{
	size_t i = start;
	while (i < lim) {
		const char *nl = memchr(buf + i, '\n', lim - i);
		if (!nl)
			return 0;
		size_t next = (size_t)(nl - buf) + 1;
		if (next < lim && buf[next] == '\n')
			return next + 1;
		if (next + 1 < lim && buf[next] == '\r' && buf[next + 1] == '\n')
			return next + 2;
		i = next;
	}
	return 0;
}

/* Cuts the line starting at *pos (which must end in '\n' before end):
 * NUL-terminates it (dropping an optional CR) and advances *pos past it.
 * Returns the line, or NULL when it holds a NUL or a stray CR. */
static char *next_line(char *buf, size_t *pos, size_t end, size_t *line_len)
{
	char *line = buf + *pos;
	char *nl = memchr(line, '\n', end - *pos);
	if (!nl)
		return NULL;
	size_t n = (size_t)(nl - line);
	*pos += n + 1;
	if (n && line[n - 1] == '\r')
		n--;
	if (memchr(line, '\0', n) || memchr(line, '\r', n))
		return NULL;
	line[n] = '\0';
	*line_len = n;
	return line;
}

/* "HTTP/1.0" or "HTTP/1.1" → minor; other "HTTP/<digits and dots>" →
 * -ENOTSUP; anything else → -EBADMSG. */
static int parse_version(const char *v)
{
	if (!strcmp(v, "HTTP/1.1"))
		return 1;
	if (!strcmp(v, "HTTP/1.0"))
		return 0;
	if (strncmp(v, "HTTP/", 5) || !v[5])
		return -EBADMSG;
	for (const char *p = v + 5; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return -EBADMSG;
	return -ENOTSUP;
}

/* method SP request-target SP HTTP-version, single spaces. */
static int parse_request_line(char *line, size_t n, struct http_request *req)
{
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || i >= n || line[i] != ' ')
		return -EBADMSG;
	line[i++] = '\0';
	req->method = line;
	size_t t0 = i;
	while (i < n && is_target_char((unsigned char)line[i]))
		i++;
	if (i == t0 || i >= n || line[i] != ' ')
		return -EBADMSG;
	line[i++] = '\0';
	req->target = line + t0;
	int minor = parse_version(line + i);
	if (minor < 0)
		return minor;
	req->minor = minor;
	return 0;
}

/* name ":" OWS value OWS. Obs-fold (leading whitespace), whitespace before
 * the colon, a non-token name and control bytes in the value are errors. */
static int parse_header_line(char *line, size_t n, struct http_header *h)
{
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || i >= n || line[i] != ':')
		return -EBADMSG;
	line[i++] = '\0';
	h->name = line;
	while (i < n && is_ows(line[i]))
		i++;
	size_t end = n;
	while (end > i && is_ows(line[end - 1]))
		end--;
	for (size_t k = i; k < end; k++)
		if (!is_value_char((unsigned char)line[k]))
			return -EBADMSG;
	line[end] = '\0';
	h->value = line + i;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes src[0..n) into dst (capacity cap, NUL-terminated). */
static int decode_path(const char *src, size_t n, char *dst, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = src[i];
		if (c == '%') {
			int hi = i + 2 < n ? hexval(src[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(src[i + 2]) : -1;
			if (lo < 0 || (hi | lo) == 0)
				return -EBADMSG;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= cap)
			return -ENAMETOOLONG;
		dst[o++] = c;
	}
	dst[o] = '\0';
	return 0;
}

/* Resolves "." and ".." segments of an absolute path in place (RFC 3986
 * 5.2.4 style); -EBADMSG when ".." would climb above "/". */
static int normalize_path(char *p)
{
	size_t r = 0, w = 0;
	while (p[r] == '/') {
		size_t s = r + 1, e = s;
		while (p[e] && p[e] != '/')
			e++;
		size_t n = e - s;
		bool last = p[e] == '\0';
		if (n == 1 && p[s] == '.') {
			if (last)
				p[w++] = '/';
		} else if (n == 2 && p[s] == '.' && p[s + 1] == '.') {
			if (w == 0)
				return -EBADMSG;
			while (p[--w] != '/')
				;
			if (last)
				p[w++] = '/';
		} else {
			memmove(p + w, p + r, n + 1);
			w += n + 1;
		}
		r = e;
	}
	if (w == 0)
		p[w++] = '/';
	p[w] = '\0';
	return 0;
}

/* Splits target into path (decoded into req->path_buf) and raw query.
 * Accepts origin-form "/p?q", absolute-form "scheme://host/p?q" and "*". */
static int split_target(struct http_request *req)
{
	char *t = req->target;
	char *q = strchr(t, '?');
	size_t tlen = strlen(t);
	req->query = q ? q + 1 : t + tlen;
	size_t plen = q ? (size_t)(q - t) : tlen;
	req->path = req->path_buf;
	if (!strcmp(t, "*")) {
		strcpy(req->path_buf, "*");
		return 0;
	}
	const char *p = t;
	if (t[0] != '/') {
		const char *sep = strstr(t, "://");
		if (!sep || sep == t || sep >= t + plen)
			return -EBADMSG;
		for (const char *s = t; s < sep; s++)
			if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
				return -EBADMSG;
		p = sep + 3;
		while (p < t + plen && *p != '/')
			p++;
		if (p == t + plen) {
			strcpy(req->path_buf, "/");
			return 0;
		}
	}
	int rc = decode_path(p, plen - (size_t)(p - t), req->path_buf, sizeof(req->path_buf));
	if (rc < 0)
		return rc;
	if (req->path_buf[0] != '/')
		return -EBADMSG;
	return normalize_path(req->path_buf);
}

/* Iterates the elements of a comma-separated list: on return *tok and *toklen
 * is the next trimmed element (possibly empty); false at the end. */
static bool list_next(const char **cur, const char **tok, size_t *toklen)
{
	const char *p = *cur;
	if (!p)
		return false;
	const char *comma = strchr(p, ',');
	const char *end = comma ? comma : p + strlen(p);
	while (p < end && is_ows(*p))
		p++;
	const char *e = end;
	while (e > p && is_ows(e[-1]))
		e--;
	*tok = p;
	*toklen = (size_t)(e - p);
	*cur = comma ? comma + 1 : NULL;
	return true;
}

static bool list_has(const char *value, const char *want)
{
	const char *tok;
	size_t n;
	size_t wn = strlen(want);
	while (list_next(&value, &tok, &n))
		if (n == wn && !strncasecmp(tok, want, n))
			return true;
	return false;
}

/* Content-Length: 1*DIGIT, no overflow; repeats must agree. */
static int apply_content_length(const char *v, int64_t *cl)
{
	int64_t n = 0;
	if (!*v)
		return -EBADMSG;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EBADMSG;
		int d = *p - '0';
		if (n > (INT64_MAX - d) / 10)
			return -EBADMSG;
		n = n * 10 + d;
	}
	if (*cl >= 0 && *cl != n)
		return -EBADMSG;
	*cl = n;
	return 0;
}

/* Transfer-Encoding: only "chunked", once, is understood. */
static int apply_transfer_encoding(const char *v, bool *chunked)
{
	const char *tok;
	size_t n;
	while (list_next(&v, &tok, &n)) {
		if (n == 0)
			continue;
		if (*chunked || n != 7 || strncasecmp(tok, "chunked", 7))
			return -EBADMSG;
		*chunked = true;
	}
	return 0;
}

/* Derives framing and connection semantics from the parsed fields. */
static int apply_headers(struct http_request *req)
{
	bool close = false, keep = false, conn_upgrade = false, ws = false, te = false;
	for (unsigned i = 0; i < req->nheaders; i++) {
		const char *name = req->headers[i].name;
		const char *v = req->headers[i].value;
		int rc = 0;
		if (!strcasecmp(name, "Content-Length")) {
			rc = apply_content_length(v, &req->content_length);
		} else if (!strcasecmp(name, "Transfer-Encoding")) {
			te = true;
			rc = apply_transfer_encoding(v, &req->chunked);
		} else if (!strcasecmp(name, "Connection")) {
			close |= list_has(v, "close");
			keep |= list_has(v, "keep-alive");
			conn_upgrade |= list_has(v, "upgrade");
		} else if (!strcasecmp(name, "Upgrade")) {
			ws |= list_has(v, "websocket");
		}
		if (rc < 0)
			return rc;
	}
	if (te && (!req->chunked || req->content_length >= 0))
		return -EBADMSG;
	req->keep_alive = !close && (req->minor >= 1 || keep);
	req->upgrade_websocket = conn_upgrade && ws;
	return 0;
}

static void reset_request(struct http_request *req)
{
	req->method = req->target = req->path = req->query = NULL;
	req->minor = 0;
	req->nheaders = 0;
	req->content_length = -1;
	req->chunked = req->keep_alive = req->upgrade_websocket = false;
	req->body = NULL;
	req->body_len = 0;
	req->path_buf[0] = '\0';
}

int http_parse_request(char *buf, size_t len, size_t max_head, struct http_request *req)
{
	if (max_head > INT_MAX)
		max_head = INT_MAX;
	size_t lim = len < max_head ? len : max_head;
	size_t pos = 0;
	for (;;) { /* RFC 9112 2.2: ignore empty lines before the request */
		if (pos < lim && buf[pos] == '\n')
			pos++;
		else if (pos + 1 < lim && buf[pos] == '\r' && buf[pos + 1] == '\n')
			pos += 2;
		else
			break;
	}
	size_t end = find_head_end(buf, pos, lim);
	if (!end)
		return len > max_head ? -E2BIG : 0;

	reset_request(req);
	size_t n;
	char *line = next_line(buf, &pos, end, &n);
	if (!line)
		return -EBADMSG;
	int rc = parse_request_line(line, n, req);
	if (rc < 0)
		return rc;
	while ((line = next_line(buf, &pos, end, &n)) && n > 0) {
		if (req->nheaders == HTTP_MAX_HEADERS)
			return -E2BIG;
		rc = parse_header_line(line, n, &req->headers[req->nheaders]);
		if (rc < 0)
			return rc;
		req->nheaders++;
	}
	if (!line || pos != end)
		return -EBADMSG;
	rc = split_target(req);
	if (rc < 0)
		return rc;
	rc = apply_headers(req);
	if (rc < 0)
		return rc;
	return (int)end;
}

const char *http_header(const struct http_request *req, const char *name)
{
	if (!req || !name)
		return NULL;
	for (unsigned i = 0; i < req->nheaders && i < HTTP_MAX_HEADERS; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

struct reason {
	int status;
	const char *text;
};

static const struct reason reasons[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {426, "Upgrade Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

const char *http_reason(int status)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "Unknown";
}
