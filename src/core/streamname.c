/* Stream-name sanitizing with MistServer's rules (see streamname.h). */
#include "core/streamname.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* Base names keep [a-z0-9_.-]; c is already lower-cased. */
static bool base_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Wildcard parts drop what is unsafe in paths and URLs. */
static bool rest_char(unsigned char c)
{
	if (c < 0x20 || c == 0x7f)
		return false;
	return !strchr("/\\?#%\"<>", c);
}

/* Appends c to tmp[cap] while it fits; *n counts every byte regardless, so
 * an overlong result is still measured exactly. */
static void put(char *tmp, size_t cap, size_t *n, char c)
{
	if (*n < cap)
		tmp[*n] = c;
	(*n)++;
}

int streamname_sanitize(const char *in, char *out, size_t outlen)
{
	if (!in || !out)
		return -EINVAL;
	char tmp[STREAMNAME_MAX + 1];
	size_t n = 0, i = 0;
	for (; in[i] && in[i] != '?' && in[i] != '+' && in[i] != ' '; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + ('a' - 'A'));
		if (base_char(c))
			put(tmp, sizeof(tmp), &n, (char)c);
	}
	if (n == 0)
		return -EINVAL;
	if (in[i] == '+' || in[i] == ' ') {
		size_t base_len = n;
		put(tmp, sizeof(tmp), &n, '+');
		for (i++; in[i] && in[i] != '?'; i++)
			if (rest_char((unsigned char)in[i]))
				put(tmp, sizeof(tmp), &n, in[i]);
		if (n == base_len + 1) /* nothing left of the wildcard: plain base */
			n = base_len;
	}
	if (n > STREAMNAME_MAX)
		return -ENAMETOOLONG;
	if (n >= outlen)
		return -ENOSPC;
	memcpy(out, tmp, n);
	out[n] = '\0';
	return (int)n;
}

size_t streamname_base(const char *name, char *out, size_t outlen)
{
	if (!out || outlen == 0)
		return 0;
	size_t n = name ? strcspn(name, "+") : 0;
	if (n >= outlen)
		n = outlen - 1;
	if (n)
		memcpy(out, name, n);
	out[n] = '\0';
	return n;
}

const char *streamname_wildcard(const char *name)
{
	const char *plus = name ? strchr(name, '+') : NULL;
	return plus ? plus + 1 : NULL;
}
