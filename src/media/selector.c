/* Track selectors (MistServer's ?video=&audio=&subtitle= syntax).
 *
 * Grammar, evaluated left to right over the tracks of one type:
 *   expr  := item (',' item)*        union of the items, in order
 *   item  := ['!'] chain              '!' removes the chain's tracks from
 *                                     what is selected so far; an expr that
 *                                     starts with '!' starts from all tracks
 *                                     ("!eng" = every non-English track)
 *   chain := term ('|' ['!'] term)*   each further term narrows the result
 *                                     (with '!': drops what it matches)
 * A term is evaluated against candidates: all tracks of the type for the
 * first term of a chain, the chain's result so far after a '|'. Picking
 * terms (maxbps, minbps, maxres, minres, ~WxH) choose one track among the
 * candidates, the lowest index on ties; the others filter. Bit rates use SI
 * units (1 kbps = 1000 bit/s) against track->bitrate_bps. Indices at or
 * past 64 cannot be represented in the mask and are never selected. */
#include "media/selector.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/url.h"

#define MAX_TERM_LEN 31
#define MAX_NUMBER   1000000000000ull /* anything larger is a typo, not a rate */

struct sel_ctx {
	const struct track *const *tracks;
	unsigned n;        /* min(n, 64) */
	uint64_t universe; /* present tracks of the type */
};

enum pick { PICK_MAX_BPS, PICK_MIN_BPS, PICK_MAX_RES, PICK_MIN_RES };

static const struct {
	const char *name;
	enum pick pick;
} pick_words[] = {
    {"maxbps", PICK_MAX_BPS}, {"highbps", PICK_MAX_BPS}, {"bestbps", PICK_MAX_BPS},
    {"minbps", PICK_MIN_BPS}, {"lowbps", PICK_MIN_BPS},  {"worstbps", PICK_MIN_BPS},
    {"maxres", PICK_MAX_RES}, {"highres", PICK_MAX_RES}, {"bestres", PICK_MAX_RES},
    {"minres", PICK_MIN_RES}, {"lowres", PICK_MIN_RES},  {"worstres", PICK_MIN_RES},
};

/* ISO 639-1 code, ISO 639-2/T code, ISO 639-2/B code where it differs. */
static const char langs[][3][4] = {
    {"af", "afr", ""},    {"ar", "ara", ""},    {"bg", "bul", ""},    {"bn", "ben", ""},
    {"ca", "cat", ""},    {"cs", "ces", "cze"}, {"cy", "cym", "wel"}, {"da", "dan", ""},
    {"de", "deu", "ger"}, {"el", "ell", "gre"}, {"en", "eng", ""},    {"es", "spa", ""},
    {"et", "est", ""},    {"eu", "eus", "baq"}, {"fa", "fas", "per"}, {"fi", "fin", ""},
    {"fr", "fra", "fre"}, {"ga", "gle", ""},    {"he", "heb", ""},    {"hi", "hin", ""},
    {"hr", "hrv", ""},    {"hu", "hun", ""},    {"hy", "hye", "arm"}, {"id", "ind", ""},
    {"is", "isl", "ice"}, {"it", "ita", ""},    {"ja", "jpn", ""},    {"ka", "kat", "geo"},
    {"ko", "kor", ""},    {"lt", "lit", ""},    {"lv", "lav", ""},    {"mk", "mkd", "mac"},
    {"ms", "msa", "may"}, {"nl", "nld", "dut"}, {"no", "nor", ""},    {"pl", "pol", ""},
    {"pt", "por", ""},    {"ro", "ron", "rum"}, {"ru", "rus", ""},    {"sk", "slk", "slo"},
    {"sl", "slv", ""},    {"sq", "sqi", "alb"}, {"sr", "srp", ""},    {"sv", "swe", ""},
    {"sw", "swa", ""},    {"ta", "tam", ""},    {"th", "tha", ""},    {"tl", "tgl", ""},
    {"tr", "tur", ""},    {"uk", "ukr", ""},    {"ur", "urd", ""},    {"vi", "vie", ""},
    {"zh", "zho", "chi"},
};

/* Lower-cased ISO 639-2/T form of a 2- or 3-letter code into out[4];
 * "" and unknown shapes become "und". */
static void lang_canon(const char *in, char out[4])
{
	size_t len = strnlen(in, 4);
	char low[4] = {0};
	strcpy(out, "und");
	if (len < 2 || len > 3)
		return;
	for (size_t i = 0; i < len; i++) {
		char ch = (char)(in[i] | 0x20);
		if (ch < 'a' || ch > 'z')
			return;
		low[i] = ch;
	}
	memcpy(out, low, 4);
	for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++)
		if (!strcmp(low, langs[i][0]) || !strcmp(low, langs[i][2]))
			memcpy(out, langs[i][1], 4);
}

static bool has(uint64_t set, unsigned i)
{
	return set >> i & 1;
}

/* One track among cands by bit rate or resolution (w*h); 0 when none. */
static uint64_t pick_one(const struct sel_ctx *c, uint64_t cands, enum pick how)
{
	int best = -1;
	uint64_t best_v = 0;
	for (unsigned i = 0; i < c->n; i++) {
		if (!has(cands, i))
			continue;
		const struct track *t = c->tracks[i];
		bool bps = how == PICK_MAX_BPS || how == PICK_MIN_BPS;
		bool max = how == PICK_MAX_BPS || how == PICK_MAX_RES;
		uint64_t v = bps ? t->bitrate_bps : (uint64_t)t->width * t->height;
		if (best < 0 || (max ? v > best_v : v < best_v)) {
			best = (int)i;
			best_v = v;
		}
	}
	return best < 0 ? 0 : (uint64_t)1 << best;
}

/* The track among cands whose area is closest to w*h. */
static uint64_t pick_closest(const struct sel_ctx *c, uint64_t cands, uint64_t w, uint64_t h)
{
	int best = -1;
	uint64_t best_d = 0, want = w * h;
	for (unsigned i = 0; i < c->n; i++) {
		if (!has(cands, i))
			continue;
		uint64_t area = (uint64_t)c->tracks[i]->width * c->tracks[i]->height;
		uint64_t d = area > want ? area - want : want - area;
		if (best < 0 || d < best_d) {
			best = (int)i;
			best_d = d;
		}
	}
	return best < 0 ? 0 : (uint64_t)1 << best;
}

/* Decimal number at *s: digits, then ".digits" when frac_nano is not NULL
 * (the fraction in billionths, further digits ignored); advances *s.
 * -EINVAL without digits or past MAX_NUMBER. */
static int parse_number(const char **s, uint64_t *v, uint64_t *frac_nano)
{
	const char *p = *s;
	uint64_t x = 0, scale = 1000000000ull, frac = 0;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		x = x * 10 + (uint64_t)(*p - '0');
		if (x > MAX_NUMBER)
			return -EINVAL;
	}
	if (frac_nano && *p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			scale /= 10;
			frac += (uint64_t)(*p - '0') * scale;
		}
	}
	if (frac_nano)
		*frac_nano = frac;
	*v = x;
	*s = p;
	return 0;
}

/* "<N[unit]" / ">N[unit]" with unit bps (default), kbps or mbps; N may
 * have a fraction ("1.5mbps"). */
static int term_bitrate(const struct sel_ctx *c, const char *s, uint64_t cands, uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {{"", 1}, {"bps", 1}, {"kbps", 1000}, {"mbps", 1000000}};
	bool less = *s++ == '<';
	uint64_t whole, nano;
	if (parse_number(&s, &whole, &nano))
		return -EINVAL;
	size_t u = 0;
	while (u < sizeof(units) / sizeof(units[0]) && strcasecmp(s, units[u].unit))
		u++;
	if (u == sizeof(units) / sizeof(units[0]))
		return -EINVAL;
	/* whole <= 1e12 and mult <= 1e6: no overflow. */
	uint64_t limit = whole * units[u].mult + nano * units[u].mult / 1000000000ull;
	*out = 0;
	for (unsigned i = 0; i < c->n; i++) {
		if (!has(cands, i))
			continue;
		uint64_t bps = c->tracks[i]->bitrate_bps;
		if (less ? bps < limit : bps > limit)
			*out |= (uint64_t)1 << i;
	}
	return 0;
}

/* "WxH" exact, "~WxH" closest, "Np" by height. 1 when s is none of them. */
static int term_size(const struct sel_ctx *c, const char *s, uint64_t cands, uint64_t *out)
{
	bool closest = *s == '~';
	uint64_t w = 0, h;
	const char *p = s + closest;
	if (*p < '0' || *p > '9')
		return 1;
	if (parse_number(&p, &h, NULL))
		return -EINVAL;
	if ((*p | 0x20) == 'p' && !p[1] && !closest) {
		w = UINT64_MAX; /* height only */
	} else if ((*p | 0x20) == 'x') {
		w = h;
		p++;
		if (parse_number(&p, &h, NULL) || *p)
			return -EINVAL;
	} else {
		return 1;
	}
	if (closest) {
		*out = pick_closest(c, cands, w, h);
		return 0;
	}
	*out = 0;
	for (unsigned i = 0; i < c->n; i++) {
		const struct track *t = c->tracks[i];
		if (has(cands, i) && t->height == h && (w == UINT64_MAX || t->width == w))
			*out |= (uint64_t)1 << i;
	}
	return 0;
}

/* Tracks matching a predicate on codec or language. */
static uint64_t filter(const struct sel_ctx *c, uint64_t cands, enum codec codec, const char *lang)
{
	uint64_t r = 0;
	char want[4], got[4];
	if (lang)
		lang_canon(lang, want);
	for (unsigned i = 0; i < c->n; i++) {
		if (!has(cands, i))
			continue;
		const struct track *t = c->tracks[i];
		bool ok =
		    codec ? t->codec == codec : (lang_canon(t->lang, got), !strcmp(got, want));
		if (ok)
			r |= (uint64_t)1 << i;
	}
	return r;
}

/* Evaluates the NUL-terminated term s against cands. 0 or -EINVAL. */
static int term_eval(const struct sel_ctx *c, const char *s, uint64_t cands, uint64_t *out)
{
	if (!strcmp(s, "*") || !strcasecmp(s, "all")) {
		*out = cands;
		return 0;
	}
	if (!strcmp(s, "-1") || !strcasecmp(s, "none")) {
		*out = 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof(pick_words) / sizeof(pick_words[0]); i++) {
		if (!strcasecmp(s, pick_words[i].name)) {
			*out = pick_one(c, cands, pick_words[i].pick);
			return 0;
		}
	}
	if (s[0] == '<' || s[0] == '>')
		return term_bitrate(c, s, cands, out);
	if (s[0] >= '0' && s[0] <= '9' && s[strspn(s, "0123456789")] == '\0') {
		const char *p = s;
		uint64_t idx;
		if (parse_number(&p, &idx, NULL))
			return -EINVAL;
		*out = idx < c->n ? cands & (uint64_t)1 << idx : 0;
		return 0;
	}
	int rc = term_size(c, s, cands, out);
	if (rc <= 0)
		return rc;
	enum codec codec = codec_from_name(s);
	if (codec != CODEC_NONE) {
		*out = filter(c, cands, codec, NULL);
		return 0;
	}
	size_t len = strlen(s);
	if ((len == 2 || len == 3) &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == len) {
		*out = filter(c, cands, CODEC_NONE, s);
		return 0;
	}
	return -EINVAL;
}

/* Copies s[0..len) without surrounding spaces into a NUL-terminated term;
 * -EINVAL when empty or too long. */
static int copy_term(const char *s, size_t len, char out[MAX_TERM_LEN + 1])
{
	while (len && *s == ' ') {
		s++;
		len--;
	}
	while (len && s[len - 1] == ' ')
		len--;
	if (!len || len > MAX_TERM_LEN)
		return -EINVAL;
	memmove(out, s, len); /* s may point into out */
	out[len] = 0;
	return 0;
}

/* chain := term ('|' ['!'] term)* over s[0..len). */
static int eval_chain(const struct sel_ctx *c, const char *s, size_t len, uint64_t *out)
{
	uint64_t result = c->universe;
	bool first = true;
	for (;;) {
		const char *bar = memchr(s, '|', len);
		size_t tlen = bar ? (size_t)(bar - s) : len;
		char term[MAX_TERM_LEN + 1];
		uint64_t got;
		if (copy_term(s, tlen, term))
			return -EINVAL;
		bool negate = !first && term[0] == '!';
		if (negate && copy_term(term + 1, strlen(term + 1), term))
			return -EINVAL;
		if (term_eval(c, term, result, &got))
			return -EINVAL;
		result = negate ? result & ~got : got;
		if (!bar)
			break;
		s = bar + 1;
		len -= tlen + 1;
		first = false;
	}
	*out = result;
	return 0;
}

int selector_apply(const char *expr, enum track_type type, const struct track *const *tracks,
		   unsigned n, uint64_t *mask)
{
	if (!expr || !mask || (n && !tracks))
		return -EINVAL;
	struct sel_ctx c = {.tracks = tracks, .n = n < 64 ? n : 64};
	for (unsigned i = 0; i < c.n; i++)
		if (tracks[i] && tracks[i]->type == type)
			c.universe |= (uint64_t)1 << i;
	uint64_t sel = 0;
	const char *s = expr;
	for (bool first = true;; first = false) {
		size_t len = strcspn(s, ",");
		size_t lead = strspn(s, " ");
		bool remove = lead < len && s[lead] == '!';
		uint64_t got;
		if (remove && first)
			sel = c.universe;
		if (remove && eval_chain(&c, s + lead + 1, len - lead - 1, &got))
			return -EINVAL;
		if (!remove && eval_chain(&c, s, len, &got))
			return -EINVAL;
		sel = remove ? sel & ~got : sel | got;
		if (!s[len])
			break;
		s += len + 1;
	}
	*mask |= sel;
	return 0;
}

int selector_from_query(const char *query, const struct track *const *tracks, unsigned n,
			uint64_t *mask, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		enum track_type type;
		bool by_default;
	} params[] = {
	    {"video", TRACK_VIDEO, true},
	    {"audio", TRACK_AUDIO, true},
	    {"subtitle", TRACK_META, false},
	};
	if (!mask || (n && !tracks))
		return -EINVAL;
	if (query && *query == '?')
		query++;
	uint64_t sel = 0;
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		char val[1024];
		int len = query ? query_get(query, params[i].key, val, sizeof(val)) : -ENOENT;
		if (len == -ENOENT || len == 0) {
			/* Not asked for (or empty, as MistServer treats it): default. */
			if (params[i].by_default &&
			    selector_apply("maxbps", params[i].type, tracks, n, &sel))
				return -EINVAL;
			continue;
		}
		if (len < 0 || selector_apply(val, params[i].type, tracks, n, &sel)) {
			if (err && errlen)
				snprintf(err, errlen, "bad track selector for '%s'", params[i].key);
			return -EINVAL;
		}
	}
	*mask = sel;
	return 0;
}
