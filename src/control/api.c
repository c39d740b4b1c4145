/* API entry points: the HTTP front (where the command comes from, JSONP),
 * authorization, the command table and the end of a request (apply,
 * save, answer sections). Commands themselves are in api_config.c and
 * api_status.c. */
#include "control/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/api-t.h"
#include "control/auth.h"
#include "control/config.h"
#include "control/inputs.h"
#include "control/listeners.h"
#include "core/conn.h"
#include "core/log.h"
#include "core/url.h"

/* Commands run in this order whatever the request's order (as MistServer
 * does): config changes first, then stream changes, then pushes (changes
 * before their lists), then reads. A NULL handler is a known name
 * answered at the end of the request. */
static const struct {
	const char *name;
	api_cmd_fn fn;
} commands[] = {
    {"config", api_cmd_config},
    {"streams", api_cmd_streams},
    {"addstream", api_cmd_addstream},
    {"deletestream", api_cmd_deletestream},
    {"addprotocol", api_cmd_addprotocol},
    {"deleteprotocol", api_cmd_deleteprotocol},
    {"updateprotocol", api_cmd_updateprotocol},
    {"push_settings", api_cmd_push_settings},
    {"push_auto_add", api_cmd_push_auto_add},
    {"push_auto_remove", api_cmd_push_auto_remove},
    {"push_start", api_cmd_push_start},
    {"push_stop", api_cmd_push_stop},
    {"push_list", api_cmd_push_list},
    {"push_auto_list", api_cmd_push_auto_list},
    {"capabilities", api_cmd_capabilities},
    {"version", api_cmd_version},
    {"active_streams", api_cmd_active_streams},
    {"clients", api_cmd_clients},
    {"save", NULL},
    {"log", NULL},
    /* not commands: request modifiers */
    {"authorize", NULL},
    {"minimal", NULL},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

void api_answer_error(json_t *resp, const char *key, const char *msg)
{
	json_object_set_new(resp, key, json_pack("{s:o}", "error", api_jstr(msg)));
}

json_t *api_jstr(const char *s)
{
	json_t *j = json_string(s ? s : "");
	if (j)
		return j;
	char *copy = strdup(s);
	if (!copy)
		return NULL;
	for (unsigned char *p = (unsigned char *)copy; *p; p++)
		if (*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

/* ---- config changes ---- */

int api_mutate(struct api_run *run, const char *name, api_edit_fn fn, const json_t *arg)
{
	char err[512] = "";
	json_t *draft = json_deep_copy(run->ctx->config);
	json_array_clear(run->pending_kick);
	int rc = draft ? fn(run, draft, arg, err, sizeof(err)) : -ENOMEM;
	if (rc == 0)
		rc = config_validate(draft, err, sizeof(err));
	if (rc < 0) {
		if (!*err)
			snprintf(err, sizeof(err), "%s", strerror(-rc));
		api_answer_error(run->resp, name, err);
		json_decref(draft);
		return rc;
	}
	json_array_extend(run->kick, run->pending_kick);
	if (json_equal(draft, run->ctx->config)) {
		json_decref(draft);
		return 0;
	}
	json_decref(run->ctx->config);
	run->ctx->config = draft;
	run->changed = true;
	return 0;
}

void api_apply(struct api_ctx *ctx, bool retry_failed)
{
	int level = ctx->debug_override >= 0
			? ctx->debug_override
			: (int)config_int(ctx->config, "debug", CONFIG_DEFAULT_DEBUG);
	if (level != log_threshold) {
		log_threshold = level;
		INFO_MSG("debug level set to %d", level);
	}
	if (ctx->listeners)
		listeners_apply(
		    ctx->listeners,
		    json_object_get(json_object_get(ctx->config, "config"), "protocols"),
		    retry_failed);
	if (ctx->inputs)
		inputs_apply(ctx->inputs);
}

int api_save(struct api_ctx *ctx)
{
	if (ctx->save)
		return ctx->save(ctx);
	if (!ctx->config_path)
		return 0;
	char err[512];
	int rc = config_save(ctx->config_path, ctx->config, err, sizeof(err));
	if (rc < 0)
		ERROR_MSG("cannot save the config: %s", err);
	return rc;
}

/* ---- authorization ---- */

static bool answer_ok(struct api_run *run)
{
	json_object_set_new(run->resp, "authorize", json_pack("{ss}", "status", "OK"));
	return true;
}

/* Answers status with a fresh challenge; the request is not authorized. */
static bool answer_challenge(struct api_run *run, const struct api_client *cl, const char *status)
{
	char c[AUTH_CHALLENGE_LEN + 1];
	json_t *a = json_pack("{ss}", "status", status);
	if (auth_challenge(run->ctx->auth, cl->peer, time(NULL), c) == 0)
		json_object_set_new(a, "challenge", json_string(c));
	else
		ERROR_MSG("API: cannot make a login challenge (random generator failed)");
	json_object_set_new(run->resp, "authorize", a);
	return false;
}

static int edit_first_account(struct api_run *run, json_t *draft, const json_t *a, char *err,
			      size_t errlen)
{
	const char *user = json_string_value(json_object_get(a, "new_username"));
	const char *pass = json_string_value(json_object_get(a, "new_password"));
	return config_set_account(draft, user, pass);
}

/* No account exists: the first one may be created through the API
 * (MistServer's NOACC flow); otherwise NOACC with a challenge. */
static bool first_account(struct api_run *run, struct api_client *cl, const json_t *a)
{
	const char *user = json_string_value(json_object_get(a, "new_username"));
	const char *pass = json_string_value(json_object_get(a, "new_password"));
	if (!user || !pass || !*user || !*pass)
		return answer_challenge(run, cl, "NOACC");
	if (api_mutate(run, "authorize", edit_first_account, a) < 0)
		return answer_challenge(run, cl, "NOACC");
	INFO_MSG("API: created account %.64s from %s", user, cl->peer ? cl->peer : "?");
	cl->authed = true;
	return answer_ok(run);
}

/* Decides whether the request may run commands; always answers "authorize". */
static bool authorize(struct api_run *run, struct api_client *cl)
{
	const json_t *root = run->ctx->config;
	bool trusted = config_bool(root, "trust_loopback", true) && !cl->proxied && cl->peer &&
		       addr_is_loopback(cl->peer);
	if (cl->authed || trusted) {
		cl->authed = true;
		return answer_ok(run);
	}
	const json_t *a = json_object_get(run->req, "authorize");
	if (!config_has_accounts(root))
		return first_account(run, cl, a);
	const char *user = json_string_value(json_object_get(a, "username"));
	const char *proof = json_string_value(json_object_get(a, "password"));
	if (user && proof) {
		const json_t *acc = json_object_get(json_object_get(root, "account"), user);
		const char *stored = json_string_value(json_object_get(acc, "password"));
		if (stored && auth_verify(run->ctx->auth, cl->peer, stored, proof, time(NULL))) {
			cl->authed = true;
			return answer_ok(run);
		}
		if (*proof)
			WARN_MSG("API: failed login attempt for %.64s from %s", user,
				 cl->peer ? cl->peer : "?");
	}
	return answer_challenge(run, cl, "CHALL");
}

/* ---- one request ---- */

static bool is_known(const char *key)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, key) == 0)
			return true;
	return false;
}

static void run_commands(struct api_run *run)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const json_t *arg = json_object_get(run->req, commands[i].name);
		if (arg && commands[i].fn)
			commands[i].fn(run, arg);
	}
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)run->req, key, v)
	{
		if (!is_known(key))
			api_answer_error(run->resp, key, "Unknown command");
	}
}

static bool has(const struct api_run *run, const char *key)
{
	return json_object_get(run->req, key) != NULL;
}

/* The "streams" section: everything, or (after addstream/deletestream
 * without "streams") MistServer's "incomplete list" of the added ones. */
static void answer_streams(struct api_run *run)
{
	bool edits = has(run, "addstream") || has(run, "deletestream");
	if (json_object_get(run->resp, "streams") ||
	    (run->minimal && !has(run, "streams") && !edits))
		return;
	const json_t *only = NULL;
	json_t *none = NULL;
	if (!has(run, "streams") && edits) {
		only = json_object_get(run->req, "addstream");
		if (!json_is_object(only))
			only = none = json_object();
	}
	json_t *streams = api_streams_answer(run->ctx, only);
	inputs_annotate(run->ctx->inputs, streams);
	json_object_set_new(run->resp, "streams", streams);
	json_decref(none);
}

static void finish(struct api_run *run)
{
	struct api_ctx *ctx = run->ctx;
	if (run->changed) {
		api_apply(ctx, false);
		api_kick_streams(ctx, run->kick);
	}
	if (run->changed || has(run, "save")) {
		int rc = api_save(ctx);
		if (has(run, "save")) {
			if (rc < 0)
				api_answer_error(run->resp, "save", strerror(-rc));
			else
				json_object_set_new(run->resp, "save", json_string("OK"));
		}
	}
	answer_streams(run);
	bool cfg = has(run, "config") || has(run, "addprotocol") || has(run, "deleteprotocol") ||
		   has(run, "updateprotocol");
	if ((!run->minimal || cfg) && !json_object_get(run->resp, "config"))
		json_object_set_new(run->resp, "config", api_config_answer(ctx));
	if (!run->minimal || has(run, "log"))
		json_object_set_new(run->resp, "log", api_log_answer());
}

json_t *api_handle(struct api_ctx *ctx, const json_t *req, struct api_client *cl, bool minimal)
{
	json_t *resp = json_object();
	if (!resp)
		return NULL;
	if (!json_is_object(req)) {
		json_object_set_new(resp, "error", json_string("request must be a JSON object"));
		return resp;
	}
	struct api_run run = {
	    .ctx = ctx,
	    .req = req,
	    .resp = resp,
	    .minimal = minimal || json_object_get(req, "minimal"),
	    .kick = json_array(),
	    .pending_kick = json_array(),
	};
	if (authorize(&run, cl)) {
		run_commands(&run);
		finish(&run);
	}
	json_decref(run.kick);
	json_decref(run.pending_kick);
	return resp;
}

/* ---- HTTP front ---- */

/* Decoded value of key in a urlencoded string (malloc'd), or NULL. */
static char *form_value(const char *form, const char *key)
{
	if (!form || !*form)
		return NULL;
	size_t cap = strlen(form) + 1;
	char *v = malloc(cap);
	if (v && query_get(form, key, v, cap) > 0)
		return v;
	free(v);
	return NULL;
}

/* Finds the request: JSON body, form body "command=", or query "command=".
 * *req is a new reference ({} when there is none). 0 or -EINVAL/-ENOMEM. */
static int extract_request(const char *query, const char *body, json_t **req, char *err,
			   size_t errlen)
{
	const char *text = NULL;
	char *owned = NULL;
	const char *b = body;
	while (b && (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n'))
		b++;
	if (b && (*b == '{' || *b == '['))
		text = b;
	else if ((owned = form_value(b, "command")) || (owned = form_value(query, "command")))
		text = owned;
	if (!text) {
		*req = json_object();
		return *req ? 0 : -ENOMEM;
	}
	json_error_t jerr;
	*req = json_loads(text, JSON_DECODE_ANY, &jerr);
	free(owned);
	if (!*req) {
		snprintf(err, errlen, "invalid JSON: line %d, column %d: %s", jerr.line,
			 jerr.column, jerr.text);
		return -EINVAL;
	}
	return 0;
}

/* JSONP callback name from "callback" or "jsonp", if it is a safe
 * identifier path (no script injection through the name). */
static char *jsonp_name(const char *query, const char *body)
{
	static const char *const keys[] = {"callback", "jsonp"};
	for (size_t i = 0; i < 2; i++) {
		char *v = form_value(query, keys[i]);
		if (!v && body && *body != '{' && *body != '[')
			v = form_value(body, keys[i]);
		if (!v)
			continue;
		bool ok = strlen(v) <= 128;
		for (const char *p = v; ok && *p; p++)
			ok =
			    strchr(
				"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$.",
				*p) != NULL;
		if (ok)
			return v;
		free(v);
	}
	return NULL;
}

/* Wraps js as "cb(js);\n" when cb is set, else "js\n". Takes js. */
static char *wrap(char *js, const char *cb, size_t *len)
{
	size_t n = strlen(js), cn = cb ? strlen(cb) : 0;
	char *out = malloc(n + cn + 5);
	if (!out) {
		free(js);
		return NULL;
	}
	if (cb)
		*len = (size_t)sprintf(out, "%s(%s);\n", cb, js);
	else
		*len = (size_t)sprintf(out, "%s\n", js);
	free(js);
	return out;
}

int api_handle_http(struct api_ctx *ctx, const char *path, const char *query, const char *body,
		    size_t body_len, struct api_client *cl, char **out, size_t *out_len,
		    const char **content_type)
{
	char *text = malloc(body_len + 1); /* NUL-terminated copy of the body */
	if (!text)
		return -ENOMEM;
	if (body_len)
		memcpy(text, body, body_len);
	text[body_len] = '\0';
	json_t *req = NULL, *resp;
	char err[256];
	if (strlen(text) != body_len)
		resp = json_pack("{ss}", "error", "request body holds a NUL byte");
	else if (extract_request(query, text, &req, err, sizeof(err)) < 0)
		resp = json_pack("{s:o}", "error", api_jstr(err));
	else
		resp = api_handle(ctx, req, cl, path && strcmp(path, "/api2") == 0);
	json_decref(req);
	char *cb = jsonp_name(query, text);
	free(text);
	char *js = resp ? json_dumps(resp, JSON_COMPACT) : NULL;
	json_decref(resp);
	*out = js ? wrap(js, cb, out_len) : NULL;
	*content_type = cb ? "application/javascript" : "application/json";
	free(cb);
	return *out ? 0 : -ENOMEM;
}
