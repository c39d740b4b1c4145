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
 * A space separator becomes '+'. Returns the length, or -EINVAL when the
 * base name ends up empty, -ENAMETOOLONG when longer than STREAMNAME_MAX. */
int streamname_sanitize(const char *in, char *out, size_t outlen);

/* Copies the base part (before '+') of a sanitized name. Returns length. */
size_t streamname_base(const char *name, char *out, size_t outlen);

/* Pointer to the wildcard part after '+', or NULL. */
const char *streamname_wildcard(const char *name);

#endif
