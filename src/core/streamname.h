/* Stream names, MistServer's rules: the base name keeps [a-z0-9_.-]
 * (letters lower-cased, other characters dropped); "base+rest" or
 * "base rest" names a wildcard stream of base, whose rest is kept as
 * given apart from characters unsafe in paths and URLs ('/', '\\', '?',
 * '#', '%', '"', '<', '>', control bytes), which are dropped; anything
 * from '?' on is dropped first. Whole name at most 100 bytes. */
#ifndef WEIR_CORE_STREAMNAME_H
#define WEIR_CORE_STREAMNAME_H

#include <stddef.h>

#define STREAMNAME_MAX 100

/* Sanitizes in into out (capacity outlen >= STREAMNAME_MAX + 1).
 * A space separator becomes '+'; a wildcard part that ends up empty is
 * dropped with its '+' ("live+" -> "live"). Returns the length, or -EINVAL
 * when the base name ends up empty (or in/out is NULL), -ENAMETOOLONG when
 * longer than STREAMNAME_MAX, -ENOSPC when it does not fit outlen. */
int streamname_sanitize(const char *in, char *out, size_t outlen);

/* Copies the base part (before '+') of a sanitized name, truncated to
 * outlen - 1 bytes and NUL-terminated. Returns the length copied. */
size_t streamname_base(const char *name, char *out, size_t outlen);

/* Pointer to the wildcard part after '+', or NULL. */
const char *streamname_wildcard(const char *name);

#endif
