/* SRT options by name and srt:// URLs. The option table is the one place
 * that knows SRTO_* names and types; everything else goes through it. */
#include "proto/srt/wsrt.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include "proto/srt/srtlib.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/url.h"

/* clang-format off */
static const struct wsrt_opt_def opt_table[] = {
	{"bindtodevice",       SRTO_BINDTODEVICE,       WSRT_STRING, 15},
	{"congestion",         SRTO_CONGESTION,         WSRT_STRING, 16},
	{"conntimeo",          SRTO_CONNTIMEO,          WSRT_INT, 0},
	{"drifttracer",        SRTO_DRIFTTRACER,        WSRT_BOOL, 0},
	{"enforcedencryption", SRTO_ENFORCEDENCRYPTION, WSRT_BOOL, 0},
	{"event",              SRTO_EVENT,              WSRT_READONLY, 0},
	{"fc",                 SRTO_FC,                 WSRT_INT, 0},
	{"inputbw",            SRTO_INPUTBW,            WSRT_INT64, 0},
	{"iptos",              SRTO_IPTOS,              WSRT_INT, 0},
	{"ipttl",              SRTO_IPTTL,              WSRT_INT, 0},
	{"ipv6only",           SRTO_IPV6ONLY,           WSRT_INT, 0},
	{"isn",                SRTO_ISN,                WSRT_READONLY, 0},
	{"kmpreannounce",      SRTO_KMPREANNOUNCE,      WSRT_INT, 0},
	{"kmrefreshrate",      SRTO_KMREFRESHRATE,      WSRT_INT, 0},
	{"kmstate",            SRTO_KMSTATE,            WSRT_READONLY, 0},
	{"latency",            SRTO_LATENCY,            WSRT_INT, 0},
	{"linger",             SRTO_LINGER,             WSRT_LINGER, 0},
	{"lossmaxttl",         SRTO_LOSSMAXTTL,         WSRT_INT, 0},
	{"maxbw",              SRTO_MAXBW,              WSRT_INT64, 0},
	{"messageapi",         SRTO_MESSAGEAPI,         WSRT_BOOL, 0},
	{"mininputbw",         SRTO_MININPUTBW,         WSRT_INT64, 0},
	{"minversion",         SRTO_MINVERSION,         WSRT_INT, 0},
	{"mss",                SRTO_MSS,                WSRT_INT, 0},
	{"nakreport",          SRTO_NAKREPORT,          WSRT_BOOL, 0},
	{"oheadbw",            SRTO_OHEADBW,            WSRT_INT, 0},
	{"packetfilter",       SRTO_PACKETFILTER,       WSRT_STRING, 512},
	{"passphrase",         SRTO_PASSPHRASE,         WSRT_STRING, 79},
	{"payloadsize",        SRTO_PAYLOADSIZE,        WSRT_INT, 0},
	{"pbkeylen",           SRTO_PBKEYLEN,           WSRT_INT, 0},
	{"peeridletimeo",      SRTO_PEERIDLETIMEO,      WSRT_INT, 0},
	{"peerlatency",        SRTO_PEERLATENCY,        WSRT_INT, 0},
	{"peerversion",        SRTO_PEERVERSION,        WSRT_READONLY, 0},
	{"rcvbuf",             SRTO_RCVBUF,             WSRT_INT, 0},
	{"rcvdata",            SRTO_RCVDATA,            WSRT_READONLY, 0},
	{"rcvkmstate",         SRTO_RCVKMSTATE,         WSRT_READONLY, 0},
	{"rcvlatency",         SRTO_RCVLATENCY,         WSRT_INT, 0},
	{"rcvsyn",             SRTO_RCVSYN,             WSRT_MANAGED, 0},
	{"rcvtimeo",           SRTO_RCVTIMEO,           WSRT_INT, 0},
	{"rendezvous",         SRTO_RENDEZVOUS,         WSRT_BOOL, 0},
	{"retransmitalgo",     SRTO_RETRANSMITALGO,     WSRT_INT, 0},
	{"reuseaddr",          SRTO_REUSEADDR,          WSRT_BOOL, 0},
	{"sender",             SRTO_SENDER,             WSRT_BOOL, 0},
	{"sndbuf",             SRTO_SNDBUF,             WSRT_INT, 0},
	{"snddata",            SRTO_SNDDATA,            WSRT_READONLY, 0},
	{"snddropdelay",       SRTO_SNDDROPDELAY,       WSRT_INT, 0},
	{"sndkmstate",         SRTO_SNDKMSTATE,         WSRT_READONLY, 0},
	{"sndsyn",             SRTO_SNDSYN,             WSRT_MANAGED, 0},
	{"sndtimeo",           SRTO_SNDTIMEO,           WSRT_INT, 0},
	{"state",              SRTO_STATE,              WSRT_READONLY, 0},
	{"streamid",           SRTO_STREAMID,           WSRT_STRING, WSRT_STREAMID_MAX},
	{"tlpktdrop",          SRTO_TLPKTDROP,          WSRT_BOOL, 0},
	{"transtype",          SRTO_TRANSTYPE,          WSRT_TRANS, 0},
	{"tsbpdmode",          SRTO_TSBPDMODE,          WSRT_BOOL, 0},
	{"udp_rcvbuf",         SRTO_UDP_RCVBUF,         WSRT_INT, 0},
	{"udp_sndbuf",         SRTO_UDP_SNDBUF,         WSRT_INT, 0},
	{"version",            SRTO_VERSION,            WSRT_READONLY, 0},
};
/* clang-format on */

#define NOPTS (sizeof(opt_table) / sizeof(opt_table[0]))

const struct wsrt_opt_def *wsrt_opt_find(const char *name)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (!strcmp(opt_table[i].name, name))
			return &opt_table[i];
	return NULL;
}

static int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (!*s || *end || errno || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_bool(const char *s, int64_t *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
			*out = !strcasecmp(s, yes[i]);
			return 0;
		}
	}
	return -EINVAL;
}

/* Parses val into v->num or v->str for def. 0, -EINVAL or -ENOMEM. */
static int parse_value(const struct wsrt_opt_def *def, const char *val, struct wsrt_optval *v)
{
	v->def = def;
	v->str = NULL;
	v->num = 0;
	switch (def->type) {
	case WSRT_INT:
		return parse_int(val, INT_MIN, INT_MAX, &v->num);
	case WSRT_INT64:
		return parse_int(val, INT64_MIN, INT64_MAX, &v->num);
	case WSRT_LINGER:
		return parse_int(val, 0, INT_MAX, &v->num);
	case WSRT_BOOL:
		return parse_bool(val, &v->num);
	case WSRT_TRANS:
		if (!strcasecmp(val, "live"))
			v->num = SRTT_LIVE;
		else if (!strcasecmp(val, "file"))
			v->num = SRTT_FILE;
		else
			return -EINVAL;
		return 0;
	case WSRT_STRING:
		if (strlen(val) > (size_t)def->max_len)
			return -EINVAL;
		v->str = strdup(val);
		return v->str ? 0 : -ENOMEM;
	default:
		return -EINVAL;
	}
}

static const char *type_hint(enum wsrt_opt_type t)
{
	switch (t) {
	case WSRT_INT:
	case WSRT_INT64:
		return "an integer";
	case WSRT_LINGER:
		return "seconds (0 = off)";
	case WSRT_BOOL:
		return "a boolean (1/0, true/false, yes/no, on/off)";
	case WSRT_TRANS:
		return "\"live\" or \"file\"";
	default:
		return "a string";
	}
}

const struct wsrt_optval *wsrt_opts_get(const struct wsrt_opts *o, int opt)
{
	for (unsigned i = 0; i < o->n; i++)
		if (o->v[i].def->opt == opt)
			return &o->v[i];
	return NULL;
}

void wsrt_opts_del(struct wsrt_opts *o, int opt)
{
	for (unsigned i = 0; i < o->n; i++) {
		if (o->v[i].def->opt != opt)
			continue;
		free(o->v[i].str);
		memmove(&o->v[i], &o->v[i + 1], (o->n - i - 1) * sizeof(o->v[0]));
		o->n--;
		return;
	}
}

int wsrt_opts_set(struct wsrt_opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	const struct wsrt_opt_def *def = wsrt_opt_find(key);
	if (!def) {
		snprintf(err, errlen, "unknown SRT option '%.64s'", key);
		return -ENOENT;
	}
	if (def->type == WSRT_READONLY || def->type == WSRT_MANAGED) {
		snprintf(err, errlen, "SRT option '%s' cannot be set (%s)", key,
			 def->type == WSRT_READONLY ? "read-only" : "weir sets it itself");
		return -EPERM;
	}
	struct wsrt_optval v;
	int rc = parse_value(def, val ? val : "", &v);
	if (rc == -EINVAL) {
		if (def->type == WSRT_STRING)
			snprintf(err, errlen, "SRT option '%s': longer than %d characters", key,
				 def->max_len);
		else
			snprintf(err, errlen, "SRT option '%s': '%.64s' is not %s", key,
				 val ? val : "", type_hint(def->type));
	}
	if (rc < 0)
		return rc;
	wsrt_opts_del(o, def->opt);
	if (o->n == WSRT_MAX_OPTS) {
		free(v.str);
		snprintf(err, errlen, "too many SRT options");
		return -ENOSPC;
	}
	o->v[o->n++] = v;
	return 0;
}

int wsrt_opts_copy(struct wsrt_opts *dst, const struct wsrt_opts *src)
{
	memset(dst, 0, sizeof(*dst));
	for (unsigned i = 0; i < src->n; i++) {
		dst->v[i] = src->v[i];
		if (src->v[i].str && !(dst->v[i].str = strdup(src->v[i].str))) {
			dst->n = i;
			wsrt_opts_free(dst);
			return -ENOMEM;
		}
	}
	dst->n = src->n;
	return 0;
}

void wsrt_opts_free(struct wsrt_opts *o)
{
	for (unsigned i = 0; i < o->n; i++)
		free(o->v[i].str);
	o->n = 0;
}

static int apply_one(const struct wsrt_optval *v, int s)
{
	int opt = v->def->opt;
	switch (v->def->type) {
	case WSRT_INT:
	case WSRT_TRANS: {
		int x = (int)v->num;
		return srt_setsockflag(s, opt, &x, sizeof(x));
	}
	case WSRT_INT64: {
		int64_t x = v->num;
		return srt_setsockflag(s, opt, &x, sizeof(x));
	}
	case WSRT_BOOL: {
		bool x = v->num != 0;
		return srt_setsockflag(s, opt, &x, sizeof(x));
	}
	case WSRT_LINGER: {
		struct linger l = {.l_onoff = v->num > 0, .l_linger = (int)v->num};
		return srt_setsockflag(s, opt, &l, sizeof(l));
	}
	case WSRT_STRING:
		return srt_setsockflag(s, opt, v->str, (int)strlen(v->str));
	default:
		return -1;
	}
}

int wsrt_opts_apply(const struct wsrt_opts *o, int s, char *err, size_t errlen)
{
	for (unsigned i = 0; i < o->n; i++) {
		if (apply_one(&o->v[i], s) == SRT_ERROR) {
			snprintf(err, errlen, "SRT option '%s' rejected: %s", o->v[i].def->name,
				 srt_getlasterror_str());
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- URLs ---- */

const char *wsrt_mode_name(enum wsrt_mode m)
{
	return m == WSRT_CALLER ? "caller" : m == WSRT_LISTENER ? "listener" : "rendezvous";
}

static bool listed(const char *key, const char *const *keys)
{
	for (; keys && *keys; keys++)
		if (!strcasecmp(key, *keys))
			return true;
	return false;
}

static int parse_mode(const char *val, enum wsrt_mode *m)
{
	if (!strcasecmp(val, "caller") || !strcasecmp(val, "client"))
		*m = WSRT_CALLER;
	else if (!strcasecmp(val, "listener") || !strcasecmp(val, "server"))
		*m = WSRT_LISTENER;
	else if (!strcasecmp(val, "rendezvous"))
		*m = WSRT_RENDEZVOUS;
	else
		return -EINVAL;
	return 0;
}

static int append_extra(struct wsrt_url *u, const char *raw, size_t n)
{
	size_t have = strlen(u->extra);
	if (have + n + 2 > sizeof(u->extra))
		return -ENOSPC;
	if (have)
		u->extra[have++] = '&';
	memcpy(u->extra + have, raw, n);
	u->extra[have + n] = 0;
	return 0;
}

/* One raw "key=value" pair of the query (not NUL-terminated). */
static int url_pair(struct wsrt_url *u, const char *p, size_t n, const char *const *extra_keys,
		    char *err, size_t errlen)
{
	const char *eq = memchr(p, '=', n);
	size_t klen = eq ? (size_t)(eq - p) : n;
	char key[64], val[1024];
	if (url_decode(p, klen, key, sizeof(key), false) < 0 ||
	    url_decode(eq ? eq + 1 : p + n, eq ? n - klen - 1 : 0, val, sizeof(val), false) < 0) {
		snprintf(err, errlen, "bad escape or value too long in '%.*s'",
			 (int)(n > 64 ? 64 : n), p);
		return -EINVAL;
	}
	for (char *k = key; *k; k++)
		if (*k >= 'A' && *k <= 'Z')
			*k = (char)(*k - 'A' + 'a');
	if (!strcmp(key, "mode")) {
		if (parse_mode(val, &u->mode) == 0)
			return 0;
		snprintf(err, errlen, "SRT mode '%.32s' is not caller, listener or rendezvous",
			 val);
		return -EINVAL;
	}
	if (listed(key, extra_keys))
		return append_extra(u, p, n);
	return wsrt_opts_set(&u->opts, key, val, err, errlen);
}

/* The query is split by hand: stream IDs such as "#!::r=x" are not URL
 * fragments here, and '+' stays '+' (stream names use it). */
static int url_query(struct wsrt_url *u, const char *q, const char *const *extra_keys, char *err,
		     size_t errlen)
{
	while (*q) {
		size_t n = strcspn(q, "&");
		if (n) {
			int rc = url_pair(u, q, n, extra_keys, err, errlen);
			if (rc < 0)
				return rc;
		}
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
}

int wsrt_url_parse(const char *url, const char *const *extra_keys, struct wsrt_url *out, char *err,
		   size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const char *qm = strchr(url, '?');
	size_t base_len = qm ? (size_t)(qm - url) : strlen(url);
	char base[512];
	struct url pu;
	if (base_len >= sizeof(base)) {
		snprintf(err, errlen, "SRT URL too long");
		return -EINVAL;
	}
	memcpy(base, url, base_len);
	base[base_len] = 0;
	if (url_parse(base, &pu) < 0 || strcmp(pu.scheme, "srt") ||
	    (pu.path[0] && strcmp(pu.path, "/"))) {
		snprintf(err, errlen, "not an srt://[host]:port URL: '%.200s'", base);
		return -EINVAL;
	}
	if (pu.port <= 0) {
		snprintf(err, errlen, "SRT URL '%.200s' has no port", base);
		return -EINVAL;
	}
	snprintf(out->host, sizeof(out->host), "%s", pu.host);
	out->port = pu.port;
	out->mode = pu.host[0] ? WSRT_CALLER : WSRT_LISTENER;
	int rc = qm ? url_query(out, qm + 1, extra_keys, err, errlen) : 0;
	if (rc < 0)
		return rc;
	if (out->mode != WSRT_LISTENER && !out->host[0]) {
		snprintf(err, errlen, "SRT %s mode needs a host", wsrt_mode_name(out->mode));
		return -EINVAL;
	}
	return 0;
}

void wsrt_url_free(struct wsrt_url *u)
{
	wsrt_opts_free(&u->opts);
}
