/* Stream IDs (SRT access control) and reject codes. Pure. */
#include "proto/srt/wsrt.h"

#include <errno.h>
#include "proto/srt/srtlib.h"
#include <stdio.h>
#include <string.h>

#include "core/url.h"

static int fail(int code, int *reject, char *err, size_t errlen, const char *what, int rc)
{
	*reject = code;
	snprintf(err, errlen, "%s", what);
	return rc;
}

/* Copies v[0..n) into dst[cap]; false when it does not fit. */
static bool put(char *dst, size_t cap, const char *v, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, v, n);
	dst[n] = 0;
	return true;
}

static int set_mode(struct wsrt_streamid *o, const char *v, size_t n, int *reject, char *err,
		    size_t errlen)
{
	if (n == 7 && !strncmp(v, "publish", 7))
		o->mode = WSRT_SID_PUBLISH;
	else if (n == 7 && !strncmp(v, "request", 7))
		o->mode = WSRT_SID_REQUEST;
	else {
		snprintf(err, errlen, "stream ID mode m=%.*s not supported (publish or request)",
			 (int)(n > 32 ? 32 : n), v);
		*reject = SRT_REJX_BAD_MODE;
		return -ENOTSUP;
	}
	return 0;
}

/* One "key=value" of the "#!::" syntax. */
static int kv_pair(struct wsrt_streamid *o, const char *p, size_t n, int *reject, char *err,
		   size_t errlen)
{
	const char *eq = memchr(p, '=', n);
	if (!eq)
		return fail(SRT_REJX_BAD_REQUEST, reject, err, errlen,
			    "stream ID: key without value", -EINVAL);
	size_t kl = (size_t)(eq - p), vl = n - kl - 1;
	const char *v = eq + 1;
	bool ok = true;
	if (kl == 1 && p[0] == 'r')
		ok = put(o->name, sizeof(o->name), v, vl);
	else if (kl == 1 && p[0] == 'u')
		ok = put(o->user, sizeof(o->user), v, vl);
	else if (kl == 4 && !strncmp(p, "pass", 4))
		ok = put(o->pass, sizeof(o->pass), v, vl);
	else if (kl == 1 && p[0] == 'm')
		return set_mode(o, v, vl, reject, err, errlen);
	else if (kl == 1 && p[0] == 't' && !(vl == 6 && !strncmp(v, "stream", 6)))
		return fail(SRT_REJX_NOTSUP_MEDIA, reject, err, errlen,
			    "stream ID: only t=stream is supported", -ENOTSUP);
	if (!ok)
		return fail(SRT_REJX_BAD_REQUEST, reject, err, errlen, "stream ID: value too long",
			    -EINVAL);
	return 0;
}

static int parse_keyed(const char *s, struct wsrt_streamid *o, int *reject, char *err,
		       size_t errlen)
{
	while (*s) {
		size_t n = strcspn(s, ",");
		if (n) {
			int rc = kv_pair(o, s, n, reject, err, errlen);
			if (rc < 0)
				return rc;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	if (!o->name[0])
		return fail(SRT_REJX_BAD_REQUEST, reject, err, errlen,
			    "stream ID has no resource name (r=)", -EINVAL);
	return 0;
}

/* "name" or "name?pass=secret". */
static int parse_plain(const char *s, struct wsrt_streamid *o, int *reject, char *err,
		       size_t errlen)
{
	size_t n = strcspn(s, "?");
	if (!put(o->name, sizeof(o->name), s, n) || !n)
		return fail(SRT_REJX_BAD_REQUEST, reject, err, errlen, "stream ID has no name",
			    -EINVAL);
	if (s[n] == '?') {
		int rc = query_get(s + n + 1, "pass", o->pass, sizeof(o->pass));
		if (rc < 0 && rc != -ENOENT)
			return fail(SRT_REJX_BAD_REQUEST, reject, err, errlen,
				    "stream ID: bad pass= value", -EINVAL);
	}
	return 0;
}

int wsrt_streamid_parse(const char *sid, struct wsrt_streamid *out, int *reject, char *err,
			size_t errlen)
{
	memset(out, 0, sizeof(*out));
	*reject = 0;
	if (!sid || !*sid)
		return fail(SRT_REJX_BAD_REQUEST, reject, err, errlen,
			    "no stream ID (set ?streamid=<stream>)", -EINVAL);
	if (strlen(sid) > WSRT_STREAMID_MAX)
		return fail(SRT_REJX_BAD_REQUEST, reject, err, errlen, "stream ID too long",
			    -EINVAL);
	if (!strncmp(sid, "#!::", 4))
		return parse_keyed(sid + 4, out, reject, err, errlen);
	if (!strncmp(sid, "#!", 2))
		return fail(SRT_REJX_BAD_REQUEST, reject, err, errlen,
			    "stream ID syntax not supported (use #!::key=value,...)", -EINVAL);
	return parse_plain(sid, out, reject, err, errlen);
}

int wsrt_reject_for_errno(int err)
{
	switch (err) {
	case -ENOENT:
	case -EINVAL:
	case -ENAMETOOLONG:
		return SRT_REJX_NOTFOUND;
	case -EACCES:
	case -EPERM:
		return SRT_REJX_FORBIDDEN;
	case -EBUSY:
		return SRT_REJX_CONFLICT;
	case -ESHUTDOWN:
		return SRT_REJX_DOWN;
	default:
		return SRT_REJX_ISE;
	}
}

/* clang-format off */
static const struct {
	int code;
	const char *text;
} rejx_names[] = {
	{SRT_REJX_FALLBACK,      "rejected"},
	{SRT_REJX_KEY_NOTSUP,    "stream ID key not supported"},
	{SRT_REJX_BAD_REQUEST,   "bad request"},
	{SRT_REJX_UNAUTHORIZED,  "unauthorized"},
	{SRT_REJX_OVERLOAD,      "server overloaded"},
	{SRT_REJX_FORBIDDEN,     "forbidden"},
	{SRT_REJX_NOTFOUND,      "not found"},
	{SRT_REJX_BAD_MODE,      "mode not supported"},
	{SRT_REJX_UNACCEPTABLE,  "unacceptable"},
	{SRT_REJX_CONFLICT,      "conflict (already publishing)"},
	{SRT_REJX_NOTSUP_MEDIA,  "media type not supported"},
	{SRT_REJX_ISE,           "internal server error"},
	{SRT_REJX_DOWN,          "service down"},
};
/* clang-format on */

const char *wsrt_reject_str(int code)
{
	for (size_t i = 0; i < sizeof(rejx_names) / sizeof(rejx_names[0]); i++)
		if (rejx_names[i].code == code)
			return rejx_names[i].text;
	if (code >= 0 && code < SRT_REJ_E_SIZE)
		return srt_rejectreason_str(code);
	return "rejected";
}
