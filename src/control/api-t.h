/* Private to the API files (api.c, api_config.c, api_status.c, api_push.c): the state
 * of one request while its commands run, and the command handlers. */
#ifndef WEIR_CONTROL_API_T_H
#define WEIR_CONTROL_API_T_H

#include <jansson.h>
#include <stdbool.h>

#include "control/api.h"

struct api_run {
	struct api_ctx *ctx;
	const json_t *req;    /* the request object (borrowed) */
	json_t *resp;         /* the answer being built (borrowed) */
	bool minimal;         /* /api2: answer only what was asked */
	bool changed;         /* ctx->config was replaced: apply and save */
	json_t *kick;         /* stream base names whose live streams must drop */
	json_t *pending_kick; /* kicks of the command in progress (committed with it) */
};

/* A command: reads arg (the request's value for its name), mutates the
 * config through api_mutate or writes its answer into run->resp. A
 * failure has already been answered as "<name>": {"error": ...}. */
typedef int (*api_cmd_fn)(struct api_run *run, const json_t *arg);

/* Changes the config: fn edits draft (a deep copy of the current config);
 * when it succeeds and the result validates, draft becomes the config.
 * Otherwise answers "<name>": {"error": why} and nothing changes. */
typedef int (*api_edit_fn)(struct api_run *run, json_t *draft, const json_t *arg, char *err,
			   size_t errlen);
int api_mutate(struct api_run *run, const char *name, api_edit_fn fn, const json_t *arg);

/* Sets resp[key] = {"error": msg}. */
void api_answer_error(json_t *resp, const char *key, const char *msg);
/* A JSON string of s, with bytes that are not valid UTF-8 replaced by '?'
 * (log lines and client data may hold anything). Never NULL unless ENOMEM. */
json_t *api_jstr(const char *s);

/* api_config.c: commands that change the config. */
int api_cmd_config(struct api_run *run, const json_t *arg);
int api_cmd_streams(struct api_run *run, const json_t *arg);
int api_cmd_addstream(struct api_run *run, const json_t *arg);
int api_cmd_deletestream(struct api_run *run, const json_t *arg);
int api_cmd_addprotocol(struct api_run *run, const json_t *arg);
int api_cmd_deleteprotocol(struct api_run *run, const json_t *arg);
int api_cmd_updateprotocol(struct api_run *run, const json_t *arg);

/* api_push.c: pushes and auto-push rules (answers documented there). */
int api_cmd_push_start(struct api_run *run, const json_t *arg);
int api_cmd_push_stop(struct api_run *run, const json_t *arg);
int api_cmd_push_list(struct api_run *run, const json_t *arg);
int api_cmd_push_auto_add(struct api_run *run, const json_t *arg);
int api_cmd_push_auto_remove(struct api_run *run, const json_t *arg);
int api_cmd_push_auto_list(struct api_run *run, const json_t *arg);
int api_cmd_push_settings(struct api_run *run, const json_t *arg);

/* api_status.c: read-only commands and answer sections. */
int api_cmd_capabilities(struct api_run *run, const json_t *arg);
int api_cmd_version(struct api_run *run, const json_t *arg);
int api_cmd_clients(struct api_run *run, const json_t *arg);
int api_cmd_active_streams(struct api_run *run, const json_t *arg);
/* The streams object annotated with "online"/"error". only: NULL for all
 * streams, else just the keys of that object, plus "incomplete list": 1. */
json_t *api_streams_answer(struct api_ctx *ctx, const json_t *only);
/* The config section with annotated protocols, "version" and "time". */
json_t *api_config_answer(struct api_ctx *ctx);
/* The log ring as [[unix_time, "LEVEL", "message", "stream"], ...]. */
json_t *api_log_answer(void);
/* Drops the publishers of every live stream whose base is in names. */
void api_kick_streams(struct api_ctx *ctx, const json_t *names);

#endif
