/* RFC 6381 "codecs" parameter strings for a track, as HLS CODECS and DASH
 * @codecs want them: "avc1.64001f", "hvc1.1.6.L93.B0", "av01.0.04M.08",
 * "vp09.00.10.08", "mp4a.40.2", "mp4a.40.34" (MP3), "opus". */
#ifndef WEIR_MEDIA_CODECSTR_H
#define WEIR_MEDIA_CODECSTR_H

#include <stddef.h>

#include "media/track.h"

/* Writes the string for t into out (capacity len). Returns its length, or
 * -ENOTSUP for an unknown codec, -ENOSPC. Derived from the codec config
 * when present (avcC profile/compat/level, hvcC general profile space/idc/
 * compat flags/tier/level/constraints, av1C, ASC object type), else from
 * profile/level fields, else conservative defaults. */
int codec_string(const struct track *t, char *out, size_t len);

#endif
