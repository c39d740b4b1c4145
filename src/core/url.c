/* URL and query-string parsing (RFC 3986 subset). Pure and allocation-free
 * except query_foreach's one scratch buffer. */
#include "core/url.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}
static bool is_unreserved(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int hexval(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the escape at s[i] ('%' then two hex digits within len) to a
 * nonzero byte; -1 when bad or %00. */
static int escape_at(const char *s, size_t i, size_t len)
{
	if (i + 2 >= len)
		return -1;
	int hi = hexval((unsigned char)s[i + 1]);
	int lo = hexval((unsigned char)s[i + 2]);
	if (hi < 0 || lo < 0 || (hi | lo) == 0)
		return -1;
	return hi << 4 | lo;
}

int url_decode(const char *src, size_t len, char *dst, size_t dstlen, bool plus_is_space)
{
	if (!dst || dstlen == 0)
		return -ENOSPC;
	dst[0] = '\0';
	if (!src && len)
		return -EINVAL;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = src[i];
		if (c == '\0')
			return -EINVAL;
		if (c == '%') {
			int v = escape_at(src, i, len);
			if (v < 0)
				return -EINVAL;
			c = (char)v;
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (o + 1 >= dstlen || o >= INT_MAX)
			return -ENOSPC;
		dst[o++] = c;
	}
	dst[o] = '\0';
	return (int)o;
}

int url_encode(const char *s, char *dst, size_t dstlen)
{
	static const char hex[] = "0123456789ABCDEF";
	if (!dst || dstlen == 0)
		return -ENOSPC;
	dst[0] = '\0';
	if (!s)
		return -EINVAL;
	size_t o = 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		size_t need = is_unreserved(c) ? 1 : 3;
		if (o + need >= dstlen || o + need > INT_MAX)
			return -ENOSPC;
		if (need == 1) {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '%';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return (int)o;
}

/* Copies s[0..n) raw into dst[cap]; -EINVAL when it does not fit. */
static int copy_part(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return -EINVAL;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int decode_part(char *dst, size_t cap, const char *s, size_t n)
{
	return url_decode(s, n, dst, cap, false) < 0 ? -EINVAL : 0;
}

/* Port digits s[0..n): empty means none (-1); else 0..65535. */
static int parse_port(const char *s, size_t n, int *port)
{
	*port = -1;
	if (n == 0)
		return 0;
	if (n > 5)
		return -EINVAL;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = v;
	return 0;
}

/* reg-name or IPv4 (unreserved, sub-delims, pct-encoded) in s[0..n). */
static bool regname_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!is_unreserved(c) && c != '%' && !strchr("!$&'()*+,;=", c))
			return false;
	}
	return true;
}

/* IPv6 literal (hex digits, ':', '.' for an embedded IPv4) with an optional
 * "%25zone" of unreserved characters. */
static bool ipv6_ok(const char *s, size_t n)
{
	size_t i = 0;
	for (; i < n && s[i] != '%'; i++)
		if (hexval((unsigned char)s[i]) < 0 && s[i] != ':' && s[i] != '.')
			return false;
	for (; i < n; i++)
		if (!is_unreserved((unsigned char)s[i]) && s[i] != '%')
			return false;
	return true;
}

/* host[:port] or [v6][:port] in s[0..n). */
static int parse_hostport(const char *s, size_t n, struct url *out)
{
	const char *host = s, *port = s + n;
	size_t hlen = n;
	bool bracketed = n && s[0] == '[';
	if (bracketed) {
		const char *rb = memchr(s, ']', n);
		if (!rb || rb == s + 1)
			return -EINVAL;
		host = s + 1;
		hlen = (size_t)(rb - host);
		port = rb + 1;
		if (port < s + n && *port++ != ':')
			return -EINVAL;
	} else {
		const char *colon = memchr(s, ':', n);
		if (colon) {
			hlen = (size_t)(colon - s);
			port = colon + 1;
		}
	}
	if (bracketed ? !ipv6_ok(host, hlen) : !regname_ok(host, hlen))
		return -EINVAL;
	if (decode_part(out->host, sizeof(out->host), host, hlen) < 0)
		return -EINVAL;
	return parse_port(port, (size_t)(s + n - port), &out->port);
}

/* [user[:pass]@]host[:port] in s[0..n). The last '@' ends the userinfo, so
 * an unescaped '@' in a password still works. */
static int parse_authority(const char *s, size_t n, struct url *out)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == ' ')
			return -EINVAL;
	const char *at = NULL;
	for (size_t i = n; i > 0; i--)
		if (s[i - 1] == '@') {
			at = s + i - 1;
			break;
		}
	if (at) {
		size_t ulen = (size_t)(at - s);
		const char *colon = memchr(s, ':', ulen);
		size_t nlen = colon ? (size_t)(colon - s) : ulen;
		if (decode_part(out->user, sizeof(out->user), s, nlen) < 0)
			return -EINVAL;
		if (colon && decode_part(out->pass, sizeof(out->pass), colon + 1,
					 (size_t)(at - colon - 1)) < 0)
			return -EINVAL;
		n -= ulen + 1;
		s = at + 1;
	}
	return parse_hostport(s, n, out);
}

/* ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), stored lower-cased. */
static int parse_scheme(const char *s, size_t n, struct url *out)
{
	if (n == 0 || n >= sizeof(out->scheme) || !is_alpha((unsigned char)s[0]))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.')
			return -EINVAL;
		out->scheme[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out->scheme[n] = '\0';
	return 0;
}

int url_parse(const char *s, struct url *out)
{
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->port = -1;
	if (!s)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -EINVAL;
	const char *sep = strstr(s, "://");
	if (!sep || parse_scheme(s, (size_t)(sep - s), out) < 0)
		goto fail;
	const char *a = sep + 3;
	size_t alen = strcspn(a, "/?#");
	if (parse_authority(a, alen, out) < 0)
		goto fail;
	const char *p = a + alen;
	size_t plen = strcspn(p, "?#");
	if (copy_part(out->path, sizeof(out->path), p, plen) < 0)
		goto fail;
	p += plen;
	if (*p == '?') {
		p++;
		if (copy_part(out->query, sizeof(out->query), p, strcspn(p, "#")) < 0)
			goto fail;
	}
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	out->port = -1;
	return -EINVAL;
}

/* Whether the raw (encoded) key s[0..n) decodes to want, with '+' as space.
 * A key with a bad escape matches nothing. */
static bool key_equals(const char *s, size_t n, const char *want)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++, w++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			c = escape_at(s, i, n);
			if (c < 0)
				return false;
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (!want[w] || (unsigned char)want[w] != c)
			return false;
	}
	return want[w] == '\0';
}

int query_get(const char *query, const char *key, char *out, size_t outlen)
{
	if (!query || !key)
		return -ENOENT;
	const char *p = query;
	while (*p) {
		size_t plen = strcspn(p, "&");
		const char *eq = memchr(p, '=', plen);
		size_t klen = eq ? (size_t)(eq - p) : plen;
		if (plen && key_equals(p, klen, key)) {
			if (!eq) {
				if (out && outlen)
					out[0] = '\0';
				return 0;
			}
			return url_decode(eq + 1, plen - klen - 1, out, outlen, true);
		}
		p += plen;
		if (*p)
			p++;
	}
	return -ENOENT;
}

int query_foreach(const char *query, int (*fn)(const char *key, const char *val, void *arg),
		  void *arg)
{
	if (!query || !fn)
		return -EINVAL;
	size_t total = strlen(query);
	/* decoded key + NUL + decoded value + NUL never exceed one pair + 1 */
	char *scratch = malloc(total + 2);
	if (!scratch)
		return -ENOMEM;
	int rc = 0;
	const char *p = query;
	while (*p && rc == 0) {
		size_t plen = strcspn(p, "&");
		const char *eq = memchr(p, '=', plen);
		size_t klen = eq ? (size_t)(eq - p) : plen;
		size_t vlen = eq ? plen - klen - 1 : 0;
		if (plen) {
			char *k = scratch, *v = scratch + klen + 1;
			if (url_decode(p, klen, k, klen + 1, true) < 0 ||
			    url_decode(eq ? eq + 1 : "", vlen, v, vlen + 1, true) < 0) {
				rc = -EINVAL;
				break;
			}
			rc = fn(k, v, arg);
		}
		p += plen;
		if (*p)
			p++;
	}
	free(scratch);
	return rc;
}
