/* Track selectors, MistServer's syntax: ?video=...&audio=...&subtitle=...
 *
 * Terms: a track index ("0"), "all" or "*", "none" or "-1", "maxbps",
 * "minbps", "<Nkbps"/">Nkbps" (also bps, mbps), "maxres", "minres",
 * "WxH" exact, "~WxH" closest, "720p" (height), a language code ("en",
 * "eng"), a codec name ("h264", "aac"; case-insensitive). "a,b" is the
 * union; "a|b" narrows a's result to those also matching b; "!b" removes
 * b's matches from what is selected so far. */
#ifndef WEIR_MEDIA_SELECTOR_H
#define WEIR_MEDIA_SELECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "media/track.h"

/* Applies expr to the tracks of `type` among tracks[0..n) (NULL entries
 * are absent tracks) and sets bits of the selected indices in *mask.
 * 0 or -EINVAL (syntax error; *mask untouched). */
int selector_apply(const char *expr, enum track_type type, const struct track *const *tracks,
		   unsigned n, uint64_t *mask);

/* Track selection from a raw query string: for each of video/audio, the
 * given selector, or by default the single highest-bitrate track of that
 * type (MistServer's default); subtitles only when asked. 0 or -EINVAL
 * with the offending parameter named in err. */
int selector_from_query(const char *query, const struct track *const *tracks, unsigned n,
			uint64_t *mask, char *err, size_t errlen);

#endif
