/* Publish policy: may this encoder push into that stream? Decided from
 * the stream's push:// source, MistServer's syntax:
 *   push://                      anyone
 *   push://host[,host...]        those addresses ("localhost", CIDR ok)
 *   push://@password             anyone with the password
 *   push://host,...@password     an allowed address or the password
 * Host names other than "localhost" are not resolved: the check runs on
 * the I/O loop, which must not block on DNS. Inputs the control plane
 * started (req->internal, pull sources such as srt://) skip all that: they
 * publish under the name they were started for, if its source pulls. */
#include "control/policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/conn.h"
#include "core/log.h"
#include "core/streamname.h"

#define PUSH_PREFIX "push://"

/* Parses a literal address; IPv4-mapped IPv6 becomes IPv4. */
static bool parse_addr(const char *s, int *af, unsigned char out[16])
{
	if (inet_pton(AF_INET, s, out) == 1) {
		*af = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, out) != 1)
		return false;
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(out, mapped, sizeof(mapped)) == 0) {
		memmove(out, out + 12, 4);
		*af = AF_INET;
	} else {
		*af = AF_INET6;
	}
	return true;
}

static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;
	if (memcmp(a, b, bytes) != 0)
		return false;
	if (!rest)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

static bool cidr_matches(const char *entry, const char *host)
{
	char net[64];
	const char *slash = strchr(entry, '/');
	if ((size_t)(slash - entry) >= sizeof(net))
		return false;
	memcpy(net, entry, (size_t)(slash - entry));
	net[slash - entry] = '\0';
	char *end;
	long bits = strtol(slash + 1, &end, 10);
	unsigned char na[16], ha[16];
	int naf, haf;
	if (*end || end == slash + 1 || !parse_addr(net, &naf, na) || !parse_addr(host, &haf, ha))
		return false;
	if (naf != haf || bits < 0 || bits > (naf == AF_INET ? 32 : 128))
		return false;
	return prefix_equal(na, ha, (unsigned)bits);
}

bool policy_host_matches(const char *entry, const char *host)
{
	if (!entry || !host || !*entry || !*host)
		return false;
	if (strcasecmp(entry, "localhost") == 0)
		return addr_is_loopback(host);
	if (strchr(entry, '/'))
		return cidr_matches(entry, host);
	unsigned char ea[16], ha[16];
	int eaf, haf;
	if (parse_addr(entry, &eaf, ea) && parse_addr(host, &haf, ha))
		return eaf == haf && memcmp(ea, ha, eaf == AF_INET ? 4 : 16) == 0;
	return strcasecmp(entry, host) == 0;
}

/* Does host match one of the comma-separated entries in list[0..len)? */
static bool host_list_matches(const char *list, size_t len, const char *host)
{
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && list[j] != ',')
			j++;
		char entry[128];
		size_t n = j - i;
		while (n && list[i] == ' ') {
			i++;
			n--;
		}
		while (n && list[i + n - 1] == ' ')
			n--;
		if (n && n < sizeof(entry)) {
			memcpy(entry, list + i, n);
			entry[n] = '\0';
			if (policy_host_matches(entry, host))
				return true;
		}
		i = j + 1;
	}
	return false;
}

static bool password_equal(const char *want, const char *got)
{
	if (!got)
		return false;
	size_t n = strlen(want);
	return strlen(got) == n && CRYPTO_memcmp(want, got, n) == 0;
}

/* Checks req against the part of a push:// source after the scheme. */
static int check_push_spec(const char *spec, const struct hub_publish_req *req, const char *base,
			   char *why, size_t why_len)
{
	const char *at = strchr(spec, '@');
	size_t hosts_len = at ? (size_t)(at - spec) : strlen(spec);
	const char *pass = at ? at + 1 : "";
	if (!hosts_len && !*pass)
		return 0;
	if (*pass && password_equal(pass, req->password))
		return 0;
	if (hosts_len && host_list_matches(spec, hosts_len, req->host))
		return 0;
	if (hosts_len)
		snprintf(why, why_len, "host %s may not push to stream %s",
			 req->host ? req->host : "?", base);
	else
		snprintf(why, why_len, "wrong password for pushing to stream %s", base);
	return -EACCES;
}

static void fill_opts(const json_t *st, struct hub_stream_opts *opts)
{
	const json_t *dvr = json_object_get(st, "DVR");
	const json_t *grace = json_object_get(st, "pushgrace");
	/* DVR 0 (allowed by MistServer's UI) means "default", not "no buffer". */
	opts->dvr_ms = json_is_integer(dvr) && json_integer_value(dvr) > 0 ? json_integer_value(dvr)
									   : POLICY_DEFAULT_DVR_MS;
	opts->grace_ms = json_is_integer(grace) && json_integer_value(grace) >= 0
			     ? json_integer_value(grace)
			     : POLICY_DEFAULT_GRACE_MS;
	const json_t *seg = json_object_get(st, "segmentsize");
	opts->segment_ms =
	    json_is_integer(seg) && json_integer_value(seg) > 0 ? json_integer_value(seg) : 0;
}

/* Source check of a publish request: encoders need a push:// source (and
 * its host list or password); inputs the control plane started itself
 * (req->internal) need a pull source, i.e. anything but push://. */
static int check_source(const char *src, const struct hub_publish_req *req, const char *base,
			char *why, size_t why_len)
{
	bool push = src && strncmp(src, PUSH_PREFIX, strlen(PUSH_PREFIX)) == 0;
	if (req->internal && (!src || push)) {
		snprintf(why, why_len, "stream %s has no pull source", base);
		return -EACCES;
	}
	if (req->internal)
		return 0;
	if (!push) {
		snprintf(why, why_len, "stream %s does not accept pushes", base);
		return -EACCES;
	}
	return check_push_spec(src + strlen(PUSH_PREFIX), req, base, why, why_len);
}

int policy_check(const json_t *root, const struct hub_publish_req *req, char *name_out,
		 size_t name_len, struct hub_stream_opts *opts, char *why, size_t why_len)
{
	char name[STREAMNAME_MAX + 1], base[STREAMNAME_MAX + 1];
	if (streamname_sanitize(req->name ? req->name : "", name, sizeof(name)) < 0 ||
	    (req->internal && strcmp(name, req->name) != 0)) {
		snprintf(why, why_len, "invalid stream name");
		return -ENOENT;
	}
	streamname_base(name, base, sizeof(base));
	const json_t *st = json_object_get(json_object_get(root, "streams"), base);
	if (!json_is_object(st)) {
		snprintf(why, why_len, "stream %s not configured", base);
		return -ENOENT;
	}
	const char *src = json_string_value(json_object_get(st, "source"));
	int rc = check_source(src, req, base, why, why_len);
	if (rc < 0)
		return rc;
	if (snprintf(name_out, name_len, "%s", name) >= (int)name_len) {
		snprintf(why, why_len, "stream name too long");
		return -ENAMETOOLONG;
	}
	fill_opts(st, opts);
	return 0;
}

static int publish_check(void *ctx, const struct hub_publish_req *req, char *name_out,
			 size_t name_len, struct hub_stream_opts *opts, char *why, size_t why_len)
{
	const json_t *root = *(json_t *const *)ctx;
	int rc = policy_check(root, req, name_out, name_len, opts, why, why_len);
	if (rc < 0) /* the connector reports it to the user at WARN */
		LOGF(LOG_MEDIUM, NULL, "push of %s from %s (%s) refused: %s",
		     req->name ? req->name : "?", req->host ? req->host : "?",
		     req->connector ? req->connector : "?", why);
	return rc;
}

/* The hub itself logs READY/OFF at INFO; this hook is where triggers and
 * statistics will attach, so it only traces. */
static void state_changed(void *ctx, struct hub_stream *s, enum stream_state st)
{
	static const char *const names[] = {"OFF", "BOOT", "WAIT", "READY"};
	LOGF(LOG_MEDIUM, hub_stream_name(s), "state %s",
	     (unsigned)st < sizeof(names) / sizeof(*names) ? names[st] : "?");
}

struct hub_policy policy_make(json_t *const *rootp)
{
	return (struct hub_policy){
	    .ctx = (void *)rootp,
	    .publish_check = publish_check,
	    .state_changed = state_changed,
	};
}

static int env_publish_check(void *ctx, const struct hub_publish_req *req, char *name_out,
			     size_t name_len, struct hub_stream_opts *opts, char *why,
			     size_t why_len)
{
	const struct policy_env *env = ctx;
	return publish_check((void *)env->rootp, req, name_out, name_len, opts, why, why_len);
}

static void env_stream_wanted(void *ctx, const char *name)
{
	const struct policy_env *env = ctx;
	if (env->wanted && name)
		env->wanted(env->arg, name);
}

static void env_state_changed(void *ctx, struct hub_stream *s, enum stream_state st)
{
	const struct policy_env *env = ctx;
	state_changed((void *)env->rootp, s, st);
}

struct hub_policy policy_make_env(const struct policy_env *env)
{
	return (struct hub_policy){
	    .ctx = (void *)env,
	    .publish_check = env_publish_check,
	    .stream_wanted = env_stream_wanted,
	    .state_changed = env_state_changed,
	};
}
