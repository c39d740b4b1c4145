/* URL and query-string parsing. */
#ifndef WEIR_CORE_URL_H
#define WEIR_CORE_URL_H

#include <stdbool.h>
#include <stddef.h>

/* scheme://[user[:pass]@]host[:port][/path][?query][#fragment]
 * All fields are NUL-terminated and percent-decoded except path and
 * query, which stay raw. IPv6 hosts in brackets are returned without them.
 * Missing parts are "" (port -1); the scheme is lower-cased; the fragment
 * is dropped. The last '@' of the authority ends the userinfo. */
struct url {
	char scheme[16];
	char user[128];
	char pass[128];
	char host[256];
	int port;
	char path[1024];
	char query[1024];
};

/* 0, or -EINVAL when malformed (no "://", bad scheme, bad port, bad host
 * characters, a bad escape, control bytes, a part too long); on error out
 * is all "" with port -1. */
int url_parse(const char *s, struct url *out);

/* Percent-decodes src[0..len) into dst (capacity dstlen, NUL-terminated);
 * '+' becomes ' ' when plus_is_space. Returns the decoded length or
 * -EINVAL (bad escape, embedded NUL) / -ENOSPC. */
int url_decode(const char *src, size_t len, char *dst, size_t dstlen, bool plus_is_space);

/* Percent-encodes s into dst (unreserved chars kept). Length or -ENOSPC. */
int url_encode(const char *s, char *dst, size_t dstlen);

/* Looks up key in a raw query string ("a=1&b=x%20y"); writes the decoded
 * value to out (room for the NUL needed). Keys are compared decoded, the
 * first match wins. Returns the value length, 0 for a key without value
 * ("a&b"), -ENOENT when absent, -ENOSPC/-EINVAL on overflow/bad escape. */
int query_get(const char *query, const char *key, char *out, size_t outlen);

/* Calls fn for each key/value pair (decoded; val "" without '=') in order,
 * skipping empty pairs; stops early and returns fn's value when it is
 * nonzero. Returns 0 at the end, -EINVAL at a pair with a bad escape
 * (after the pairs before it), -ENOMEM. key and val live until fn returns. */
int query_foreach(const char *query, int (*fn)(const char *key, const char *val, void *arg),
		  void *arg);

#endif
