/* Push API commands, MistServer's names and argument forms; the work is
 * the push manager's (pushes.c). Answers (stable; clients may rely on
 * them):
 *
 *   push_start  [stream, target] | {stream, target}
 *               -> {"id": N}; a "base+" stream pushes every live wildcard
 *               stream of base -> {"ids": [N, ...]}. A push of the same
 *               stream to the same target that runs already answers its id.
 *   push_stop   id | [id, ...] -> {"stopped": [ids]}, plus "error" naming
 *               the ids that were not running.
 *   push_list   -> [[id, stream, target, actual_target, logs, status], ...]
 *               (see pushes_list in pushes.h).
 *   push_auto_add    [stream, target] | {stream, target} -> the stored rule
 *               [stream, target]; "push_auto_list" is answered too. Live
 *               matching streams start pushing at once (MistServer does).
 *   push_auto_remove "stream" (all its rules) | [stream, target] |
 *               {stream, target} | an array of those -> "push_auto_list".
 *               Running pushes are left alone (as MistServer).
 *   push_auto_list   -> config "autopushes" ([[stream, target, ...], ...]).
 *   push_settings    {wait, maxspeed} (optional) -> the current settings.
 *
 * Failures answer "<command>": {"error": why}, e.g. "no output for target
 * rtmp://..." when no push driver serves the target's scheme. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/api-t.h"
#include "control/pushes.h"
#include "core/streamname.h"

#define RULE_NAME_MAX (STREAMNAME_MAX + 2) /* name + '+' + NUL, or "#tag" */

/* stream and target from [stream, target] or {stream, target}. */
static int stream_and_target(const json_t *arg, const char **stream, const char **target)
{
	const json_t *s, *t;
	if (json_is_array(arg)) {
		s = json_array_get(arg, 0);
		t = json_array_get(arg, 1);
	} else {
		s = json_object_get(arg, "stream");
		t = json_object_get(arg, "target");
	}
	*stream = json_string_value(s);
	*target = json_string_value(t);
	return *stream && *target && **stream && **target ? 0 : -EINVAL;
}

/* Parses and normalizes a [stream, target] argument; answers errors. */
static int parse_rule(struct api_run *run, const char *cmd, const json_t *arg, char *name,
		      const char **target)
{
	const char *raw;
	if (stream_and_target(arg, &raw, target) < 0) {
		api_answer_error(run->resp, cmd, "expected [stream, target] or {stream, target}");
		return -EINVAL;
	}
	if (pushes_rule_normalize(raw, name, RULE_NAME_MAX) < 0) {
		api_answer_error(run->resp, cmd, "invalid stream name");
		return -EINVAL;
	}
	return 0;
}

static struct pushes *need_pushes(struct api_run *run, const char *cmd)
{
	if (!run->ctx->pushes)
		api_answer_error(run->resp, cmd, "pushes are not available");
	return run->ctx->pushes;
}

/* ---- push_start / push_stop / push_list ---- */

static int start_all_wildcards(struct api_run *run, struct pushes *p, const char *name,
			       const char *target)
{
	char err[400];
	if (pushes_target_ok(p, target, err, sizeof(err)) < 0) {
		api_answer_error(run->resp, "push_start", err);
		return -ENOENT;
	}
	json_t *ids = json_array();
	if (pushes_start_matching(p, name, target, false, ids) == 0) {
		snprintf(err, sizeof(err), "no live stream matches %s", name);
		api_answer_error(run->resp, "push_start", err);
		json_decref(ids);
		return -ENOENT;
	}
	json_object_set_new(run->resp, "push_start", json_pack("{so}", "ids", ids));
	return 0;
}

int api_cmd_push_start(struct api_run *run, const json_t *arg)
{
	char name[RULE_NAME_MAX], base[STREAMNAME_MAX + 1], err[400];
	const char *target;
	if (parse_rule(run, "push_start", arg, name, &target) < 0)
		return -EINVAL;
	if (name[0] == '#') {
		api_answer_error(run->resp, "push_start", "invalid stream name");
		return -EINVAL;
	}
	streamname_base(name, base, sizeof(base));
	if (!json_object_get(json_object_get(run->ctx->config, "streams"), base)) {
		snprintf(err, sizeof(err), "stream %s not configured", base);
		api_answer_error(run->resp, "push_start", err);
		return -ENOENT;
	}
	struct pushes *p = need_pushes(run, "push_start");
	if (!p)
		return -ENOTSUP;
	if (name[strlen(name) - 1] == '+')
		return start_all_wildcards(run, p, name, target);
	unsigned id;
	int rc = pushes_start(p, name, target, false, &id, err, sizeof(err));
	if (rc < 0) {
		api_answer_error(run->resp, "push_start", err);
		return rc;
	}
	json_object_set_new(run->resp, "push_start", json_pack("{sI}", "id", (json_int_t)id));
	return 0;
}

/* A push id from an integer or a string of digits; 0 when neither. */
static unsigned id_of(const json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v) > 0 && json_integer_value(v) <= (json_int_t)UINT32_MAX
			   ? (unsigned)json_integer_value(v)
			   : 0;
	const char *s = json_string_value(v);
	char *end;
	unsigned long n = s ? strtoul(s, &end, 10) : 0;
	return s && *s && !*end && n <= UINT32_MAX ? (unsigned)n : 0;
}

static void stop_one(struct pushes *p, const json_t *v, json_t *stopped, json_t *unknown)
{
	unsigned id = id_of(v);
	if (id && pushes_stop(p, id, "stopped through the API") == 0)
		json_array_append_new(stopped, json_integer(id));
	else
		json_array_append(unknown, (json_t *)v);
}

int api_cmd_push_stop(struct api_run *run, const json_t *arg)
{
	struct pushes *p = need_pushes(run, "push_stop");
	if (!p)
		return -ENOTSUP;
	json_t *stopped = json_array(), *unknown = json_array();
	size_t i;
	const json_t *v;
	if (json_is_array(arg)) {
		json_array_foreach(arg, i, v)
		{
			stop_one(p, v, stopped, unknown);
		}
	} else {
		stop_one(p, arg, stopped, unknown);
	}
	json_t *ans = json_pack("{so}", "stopped", stopped);
	if (json_array_size(unknown)) {
		char *list = json_dumps(unknown, JSON_COMPACT | JSON_ENCODE_ANY);
		char why[300];
		snprintf(why, sizeof(why), "no push with id %.200s", list ? list : "?");
		json_object_set_new(ans, "error", json_string(why));
		free(list);
	}
	json_decref(unknown);
	json_object_set_new(run->resp, "push_stop", ans);
	return 0;
}

int api_cmd_push_list(struct api_run *run, const json_t *arg)
{
	struct pushes *p = run->ctx->pushes;
	json_object_set_new(run->resp, "push_list", p ? pushes_list(p) : json_array());
	return 0;
}

/* ---- auto-push rules (config "autopushes") ---- */

/* draft.autopushes as an array (created when absent). */
static json_t *rules_of(json_t *draft)
{
	json_t *list = json_object_get(draft, "autopushes");
	if (json_is_array(list))
		return list;
	list = json_array();
	return json_object_set_new(draft, "autopushes", list) == 0 ? list : NULL;
}

static bool rule_is(const json_t *rule, const char *stream, const char *target)
{
	const char *s = json_string_value(json_array_get(rule, 0));
	const char *t = json_string_value(json_array_get(rule, 1));
	return s && strcmp(s, stream) == 0 && (!target || (t && strcmp(t, target) == 0));
}

/* arg: the normalized rule [stream, target]; an equal rule is replaced. */
static int edit_auto_add(struct api_run *run, json_t *draft, const json_t *arg, char *err,
			 size_t errlen)
{
	json_t *list = rules_of(draft);
	if (!list)
		return -ENOMEM;
	const char *s = json_string_value(json_array_get(arg, 0));
	const char *t = json_string_value(json_array_get(arg, 1));
	size_t i;
	json_t *rule;
	json_array_foreach(list, i, rule)
	{
		if (rule_is(rule, s, t))
			return json_array_set_new(list, i, json_deep_copy(arg)) < 0 ? -ENOMEM : 0;
	}
	return json_array_append_new(list, json_deep_copy(arg)) < 0 ? -ENOMEM : 0;
}

static void answer_rules(struct api_run *run)
{
	json_t *list = json_object_get(run->ctx->config, "autopushes");
	json_object_set_new(run->resp, "push_auto_list",
			    json_is_array(list) ? json_deep_copy(list) : json_array());
}

int api_cmd_push_auto_add(struct api_run *run, const json_t *arg)
{
	char name[RULE_NAME_MAX], err[400];
	const char *target;
	if (parse_rule(run, "push_auto_add", arg, name, &target) < 0)
		return -EINVAL;
	struct pushes *p = run->ctx->pushes;
	if (p && pushes_target_ok(p, target, err, sizeof(err)) < 0) {
		api_answer_error(run->resp, "push_auto_add", err);
		return -ENOENT;
	}
	json_t *rule = json_pack("[ss]", name, target);
	int rc = rule ? api_mutate(run, "push_auto_add", edit_auto_add, rule) : -ENOMEM;
	if (rc == 0) {
		if (p)
			pushes_start_matching(p, name, target, true, NULL);
		json_object_set(run->resp, "push_auto_add", rule);
		answer_rules(run);
	}
	json_decref(rule);
	return rc;
}

/* Removes the rules of stream (and target, unless NULL); counts them. */
static void remove_rules(json_t *list, const char *stream, const char *target, size_t *removed)
{
	char norm[RULE_NAME_MAX];
	const char *s = pushes_rule_normalize(stream, norm, sizeof(norm)) >= 0 ? norm : stream;
	for (size_t i = json_array_size(list); i-- > 0;) {
		const json_t *rule = json_array_get(list, i);
		if (rule_is(rule, s, target) || rule_is(rule, stream, target)) {
			json_array_remove(list, i);
			(*removed)++;
		}
	}
}

/* One removal spec: "stream", [stream, target] or {stream, target?}. */
static int remove_spec(json_t *list, const json_t *spec, size_t *removed)
{
	const char *s = NULL, *t = NULL;
	if (json_is_string(spec)) {
		s = json_string_value(spec);
	} else if (json_is_array(spec)) {
		s = json_string_value(json_array_get(spec, 0));
		t = json_string_value(json_array_get(spec, 1));
	} else if (json_is_object(spec)) {
		s = json_string_value(json_object_get(spec, "stream"));
		t = json_string_value(json_object_get(spec, "target"));
	}
	if (!s || !*s || (json_is_array(spec) && !t))
		return -EINVAL;
	remove_rules(list, s, t, removed);
	return 0;
}

/* [stream, target] itself rather than a list of specs: the second string
 * is a URL or path, which no stream name can be. */
static bool is_pair(const json_t *arg)
{
	const char *t = json_string_value(json_array_get(arg, 1));
	return json_is_array(arg) && json_array_size(arg) >= 2 &&
	       json_is_string(json_array_get(arg, 0)) && t && strpbrk(t, ":/$");
}

static int edit_auto_remove(struct api_run *run, json_t *draft, const json_t *arg, char *err,
			    size_t errlen)
{
	json_t *list = rules_of(draft);
	size_t removed = 0, i;
	const json_t *spec;
	int rc = list ? 0 : -ENOMEM;
	if (rc == 0 && json_is_array(arg) && !is_pair(arg)) {
		json_array_foreach(arg, i, spec)
		{
			if (rc == 0)
				rc = remove_spec(list, spec, &removed);
		}
	} else if (rc == 0) {
		rc = remove_spec(list, arg, &removed);
	}
	if (rc == -EINVAL)
		snprintf(err, errlen,
			 "expected a stream name, [stream, target] or {stream, target}");
	else if (rc == 0 && !removed) {
		snprintf(err, errlen, "no matching auto-push rule");
		rc = -ENOENT;
	}
	return rc;
}

int api_cmd_push_auto_remove(struct api_run *run, const json_t *arg)
{
	int rc = api_mutate(run, "push_auto_remove", edit_auto_remove, arg);
	if (rc == 0)
		answer_rules(run);
	return rc;
}

int api_cmd_push_auto_list(struct api_run *run, const json_t *arg)
{
	answer_rules(run);
	return 0;
}

/* ---- push_settings ---- */

static int edit_push_settings(struct api_run *run, json_t *draft, const json_t *arg, char *err,
			      size_t errlen)
{
	static const char *const keys[] = {"wait", "maxspeed"};
	json_t *ps = json_object_get(draft, "push_settings");
	if (!json_is_object(ps)) {
		ps = json_object();
		if (json_object_set_new(draft, "push_settings", ps) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		const json_t *v = json_object_get(arg, keys[i]);
		if (!v || json_is_null(v))
			continue;
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			snprintf(err, errlen, "%s: expected a non-negative integer", keys[i]);
			return -EINVAL;
		}
		if (json_object_set(ps, keys[i], (json_t *)v) < 0)
			return -ENOMEM;
	}
	return 0;
}

int api_cmd_push_settings(struct api_run *run, const json_t *arg)
{
	if (json_is_object(arg) && api_mutate(run, "push_settings", edit_push_settings, arg) < 0)
		return -EINVAL;
	long long wait, maxspeed;
	pushes_settings(run->ctx->config, &wait, &maxspeed);
	json_object_set_new(
	    run->resp, "push_settings",
	    json_pack("{sI sI}", "wait", (json_int_t)wait, "maxspeed", (json_int_t)maxspeed));
	return 0;
}
