/* libFuzzer target for URL, query-string and stream-name parsing.
 * clang -fsanitize=fuzzer,address,undefined -Isrc fuzz/fuzz_url.c \
 *       src/core/url.c src/core/streamname.c
 * Checks round trips and invariants, not just memory safety. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/streamname.h"
#include "core/url.h"

static int count_pair(const char *key, const char *val, void *arg)
{
	size_t *n = arg;
	if (!key || !val)
		abort();
	*n += strlen(key) + strlen(val);
	return 0;
}

static void fuzz_url(const char *s)
{
	struct url u;
	if (url_parse(s, &u) == 0) {
		if (u.port < -1 || u.port > 65535 || strlen(u.scheme) == 0)
			abort();
		char v[64];
		int r = query_get(u.query, "streamid", v, sizeof(v));
		if (r >= 0 && (size_t)r != strlen(v))
			abort();
	} else if (u.host[0] || u.port != -1) {
		abort();
	}
}

static void fuzz_query(const char *s)
{
	size_t total = 0;
	int r = query_foreach(s, count_pair, &total);
	if (r != 0 && r != -EINVAL)
		abort();
	if (r == 0 && total > strlen(s))
		abort();
	char v[32];
	r = query_get(s, "a", v, sizeof(v));
	if (r >= 0 && (size_t)r != strlen(v))
		abort();
}

/* encode then decode gives the input back */
static void fuzz_codec(const char *s, size_t n)
{
	size_t cap = 3 * n + 1;
	char *enc = malloc(cap), *dec = malloc(n + 1);
	if (!enc || !dec)
		goto out;
	int e = url_encode(s, enc, cap);
	if (e < 0)
		abort();
	int d = url_decode(enc, (size_t)e, dec, n + 1, false);
	if (d != (int)strlen(s) || strcmp(dec, s))
		abort();
	(void)url_decode(s, n, dec, n + 1, true);
out:
	free(enc);
	free(dec);
}

static void fuzz_streamname(const char *s)
{
	char a[STREAMNAME_MAX + 1], b[STREAMNAME_MAX + 1];
	int n = streamname_sanitize(s, a, sizeof(a));
	if (n < 0)
		return;
	if (n > STREAMNAME_MAX || (size_t)n != strlen(a) || strpbrk(a, "/\\?#%\"<>"))
		abort();
	/* sanitizing is idempotent */
	if (streamname_sanitize(a, b, sizeof(b)) != n || strcmp(a, b))
		abort();
	char base[STREAMNAME_MAX + 1];
	size_t bl = streamname_base(a, base, sizeof(base));
	const char *w = streamname_wildcard(a);
	if (bl == 0 || (w && bl + 1 + strlen(w) != (size_t)n) || (!w && bl != (size_t)n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_url(s);
	fuzz_query(s);
	fuzz_codec(s, strlen(s));
	fuzz_streamname(s);
	/* raw bytes, embedded NULs included */
	char out[64];
	(void)url_decode(s, size, out, sizeof(out), false);
	free(s);
	return 0;
}
