/* Config validation: table-driven type and range checks per section, with
 * errors that name the key path ("streams.live.DVR: expected an integer")
 * so a user can find the mistake in a file of hundreds of streams.
 * Unknown keys are accepted (and kept by the callers). */
#include "control/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/streamname.h"
#include "proto/registry.h"

enum vkind {
	VK_INT,
	VK_BOOL,
	VK_STRING,
	VK_STRINGS, /* array of strings */
	VK_ARRAY,
	VK_OBJECT,
};

struct vrule {
	const char *key;
	enum vkind kind;
	bool required;
	long long min, max; /* VK_INT only */
};

#define ANY_INT LLONG_MIN, LLONG_MAX

static const struct vrule stream_rules[] = {
    {"source", VK_STRING, true, 0, 0},
    {"name", VK_STRING, false, 0, 0},
    {"DVR", VK_INT, false, 0, LLONG_MAX},
    {"always_on", VK_BOOL, false, 0, 0},
    {"segmentsize", VK_INT, false, 1, LLONG_MAX},
    {"inputtimeout", VK_INT, false, 0, LLONG_MAX},
    {"pushgrace", VK_INT, false, 0, LLONG_MAX},
    {"tags", VK_STRINGS, false, 0, 0},
    {"processes", VK_ARRAY, false, 0, 0},
};

static const struct vrule protocol_rules[] = {
    {"connector", VK_STRING, true, 0, 0},
    {"port", VK_INT, false, 1, 65535},
    {"interface", VK_STRING, false, 0, 0},
};

static const struct vrule config_rules[] = {
    {"controller", VK_OBJECT, false, 0, 0},   {"protocols", VK_ARRAY, false, 0, 0},
    {"serverid", VK_STRING, false, 0, 0},     {"debug", VK_INT, false, 0, 10},
    {"trust_loopback", VK_BOOL, false, 0, 0}, {"trustedproxy", VK_STRINGS, false, 0, 0},
};

static const struct vrule controller_rules[] = {
    {"port", VK_INT, false, 1, 65535},
    {"interface", VK_STRING, false, 0, 0},
};

static const struct vrule account_rules[] = {
    {"password", VK_STRING, true, 0, 0},
};

static const struct vrule root_rules[] = {
    {"config", VK_OBJECT, false, 0, 0},        {"streams", VK_OBJECT, false, 0, 0},
    {"account", VK_OBJECT, false, 0, 0},       {"autopushes", VK_ARRAY, false, 0, 0},
    {"push_settings", VK_OBJECT, false, 0, 0},
};

/* push_settings: seconds of checks before an auto-push starts, pushes
 * started per check (0: no limit). */
static const struct vrule push_settings_rules[] = {
    {"wait", VK_INT, false, 0, 86400},
    {"maxspeed", VK_INT, false, 0, LLONG_MAX},
};

#define NRULES(t) (sizeof(t) / sizeof((t)[0]))

/* Writes "<path>.<key>: <what>" (or "<key>: ..." at the root). */
static int fail(char *err, size_t errlen, const char *path, const char *key, const char *what)
{
	snprintf(err, errlen, "%s%s%s: %s", path, *path ? "." : "", key, what);
	return -EINVAL;
}

static int check_int(const json_t *v, const struct vrule *r, const char *path, char *err,
		     size_t errlen)
{
	if (!json_is_integer(v))
		return fail(err, errlen, path, r->key, "expected an integer");
	long long x = json_integer_value(v);
	if (x >= r->min && x <= r->max)
		return 0;
	char what[96];
	if (r->max == LLONG_MAX)
		snprintf(what, sizeof(what), "out of range (minimum %lld)", r->min);
	else
		snprintf(what, sizeof(what), "out of range %lld..%lld", r->min, r->max);
	return fail(err, errlen, path, r->key, what);
}

static int check_strings(const json_t *v, const struct vrule *r, const char *path, char *err,
			 size_t errlen)
{
	if (!json_is_array(v))
		return fail(err, errlen, path, r->key, "expected an array of strings");
	size_t i;
	const json_t *e;
	json_array_foreach(v, i, e)
	{
		if (json_is_string(e))
			continue;
		char key[96];
		snprintf(key, sizeof(key), "%s[%zu]", r->key, i);
		return fail(err, errlen, path, key, "expected a string");
	}
	return 0;
}

static int check_value(const json_t *v, const struct vrule *r, const char *path, char *err,
		       size_t errlen)
{
	switch (r->kind) {
	case VK_INT:
		return check_int(v, r, path, err, errlen);
	case VK_BOOL:
		return json_is_boolean(v)
			   ? 0
			   : fail(err, errlen, path, r->key, "expected true or false");
	case VK_STRING:
		return json_is_string(v) ? 0 : fail(err, errlen, path, r->key, "expected a string");
	case VK_STRINGS:
		return check_strings(v, r, path, err, errlen);
	case VK_ARRAY:
		return json_is_array(v) ? 0 : fail(err, errlen, path, r->key, "expected an array");
	case VK_OBJECT:
		return json_is_object(v) ? 0
					 : fail(err, errlen, path, r->key, "expected an object");
	}
	return 0;
}

/* Checks obj's members against rules; a null member counts as absent. */
static int check_rules(const json_t *obj, const struct vrule *rules, size_t n, const char *path,
		       char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_object_get(obj, rules[i].key);
		if (!v || json_is_null(v)) {
			if (rules[i].required)
				return fail(err, errlen, path, rules[i].key, "missing (required)");
			continue;
		}
		int rc = check_value(v, &rules[i], path, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

bool config_stream_name_ok(const char *name)
{
	char buf[STREAMNAME_MAX + 1];
	if (strchr(name, '+'))
		return false;
	if (streamname_sanitize(name, buf, sizeof(buf)) < 0)
		return false;
	return strcmp(buf, name) == 0;
}

int config_validate_stream(const char *name, const json_t *st, char *err, size_t errlen)
{
	char path[STREAMNAME_MAX + 32];
	snprintf(path, sizeof(path), "streams.%.*s", STREAMNAME_MAX + 8, name);
	if (!config_stream_name_ok(name))
		return fail(err, errlen, "streams", name,
			    "invalid stream name (allowed: a-z 0-9 _ . -, at most 100)");
	if (!json_is_object(st))
		return fail(err, errlen, "streams", name, "expected an object");
	int rc = check_rules(st, stream_rules, NRULES(stream_rules), path, err, errlen);
	if (rc < 0)
		return rc;
	if (!*json_string_value(json_object_get(st, "source")))
		return fail(err, errlen, path, "source", "must not be empty");
	return 0;
}

int config_validate_protocol(size_t idx, const json_t *p, char *err, size_t errlen)
{
	char key[48];
	snprintf(key, sizeof(key), "protocols[%zu]", idx);
	if (!json_is_object(p))
		return fail(err, errlen, "config", key, "expected an object");
	char path[64];
	snprintf(path, sizeof(path), "config.%s", key);
	int rc = check_rules(p, protocol_rules, NRULES(protocol_rules), path, err, errlen);
	if (rc < 0)
		return rc;
	const char *name = json_string_value(json_object_get(p, "connector"));
	if (!driver_find(name, DRIVER_LISTENER)) {
		char what[160];
		snprintf(what, sizeof(what), "unknown connector \"%.100s\"", name);
		return fail(err, errlen, path, "connector", what);
	}
	return 0;
}

static int validate_config_section(const json_t *cfg, char *err, size_t errlen)
{
	int rc = check_rules(cfg, config_rules, NRULES(config_rules), "config", err, errlen);
	if (rc < 0)
		return rc;
	const json_t *ctl = json_object_get(cfg, "controller");
	if (json_is_object(ctl)) {
		rc = check_rules(ctl, controller_rules, NRULES(controller_rules),
				 "config.controller", err, errlen);
		if (rc < 0)
			return rc;
	}
	const json_t *protos = json_object_get(cfg, "protocols");
	size_t i;
	const json_t *p;
	json_array_foreach(protos, i, p)
	{
		rc = config_validate_protocol(i, p, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int validate_streams(const json_t *streams, char *err, size_t errlen)
{
	const char *name;
	const json_t *st;
	json_object_foreach((json_t *)streams, name, st)
	{
		int rc = config_validate_stream(name, st, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int validate_accounts(const json_t *accounts, char *err, size_t errlen)
{
	const char *user;
	const json_t *acc;
	json_object_foreach((json_t *)accounts, user, acc)
	{
		char path[160];
		snprintf(path, sizeof(path), "account.%.128s", user);
		if (!json_is_object(acc))
			return fail(err, errlen, "account", user, "expected an object");
		int rc = check_rules(acc, account_rules, NRULES(account_rules), path, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* autopushes: MistServer 3.x rules, [stream, target, ...] each with two
 * non-empty strings first (later members: schedule and conditions, kept). */
static int validate_autopushes(const json_t *rules, char *err, size_t errlen)
{
	size_t i;
	const json_t *r;
	json_array_foreach(rules, i, r)
	{
		const char *s = json_string_value(json_array_get(r, 0));
		const char *t = json_string_value(json_array_get(r, 1));
		if (json_is_array(r) && s && *s && t && *t)
			continue;
		char key[48];
		snprintf(key, sizeof(key), "autopushes[%zu]", i);
		return fail(err, errlen, "", key, "expected [stream, target]");
	}
	return 0;
}

int config_validate(const json_t *root, char *err, size_t errlen)
{
	if (!json_is_object(root)) {
		snprintf(err, errlen, "top level: expected an object");
		return -EINVAL;
	}
	int rc = check_rules(root, root_rules, NRULES(root_rules), "", err, errlen);
	if (rc < 0)
		return rc;
	const json_t *v = json_object_get(root, "config");
	if (json_is_object(v) && (rc = validate_config_section(v, err, errlen)) < 0)
		return rc;
	v = json_object_get(root, "streams");
	if (json_is_object(v) && (rc = validate_streams(v, err, errlen)) < 0)
		return rc;
	v = json_object_get(root, "account");
	if (json_is_object(v) && (rc = validate_accounts(v, err, errlen)) < 0)
		return rc;
	v = json_object_get(root, "autopushes");
	if (json_is_array(v) && (rc = validate_autopushes(v, err, errlen)) < 0)
		return rc;
	v = json_object_get(root, "push_settings");
	if (json_is_object(v) &&
	    (rc = check_rules(v, push_settings_rules, NRULES(push_settings_rules), "push_settings",
			      err, errlen)) < 0)
		return rc;
	return 0;
}
