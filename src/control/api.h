/* The MistServer-compatible JSON API, as pure functions: a request object
 * (or an HTTP request's method/query/body) in, a response out, given the
 * control state. No sockets here, so the whole command set is unit- and
 * fuzz-testable; control.c is the HTTP glue.
 *
 * Commands run in a fixed order (a table, like MistServer), mutating ones
 * each on a copy of the config that is validated before it replaces the
 * current one; an invalid change answers "<command>": {"error": ...} and
 * leaves the config alone. After the commands, a changed config is
 * applied (listeners, log level) and saved once. */
#ifndef WEIR_CONTROL_API_H
#define WEIR_CONTROL_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct hub;
struct auth;
struct listeners;
struct inputs;
struct pushes;

struct api_ctx {
	json_t *config;              /* current validated config root (owned) */
	const char *config_path;     /* where saves go; NULL: never saved */
	struct hub *hub;             /* NULL: no live streams */
	struct auth *auth;           /* required */
	struct listeners *listeners; /* NULL: protocols are only stored */
	struct inputs *inputs;       /* NULL: no pull inputs (no annotations) */
	struct pushes *pushes;       /* NULL: push commands answer an error */
	int debug_override;          /* CLI -d, or -1 */
	/* Persists ctx->config (e.g. queued to a worker thread). NULL: a
	 * synchronous config_save to config_path. 0 or -errno. */
	int (*save)(struct api_ctx *ctx);
	void *save_arg;
};

/* Who is asking, and per-connection state kept between requests. */
struct api_client {
	const char *peer; /* address, no port */
	bool proxied;     /* X-Forwarded-For or X-Real-IP present */
	bool authed;      /* in: connection authorized earlier; out: now */
};

/* Runs one request (any JSON value; a non-object is an error) and returns
 * the response object (new reference, never NULL unless ENOMEM). minimal:
 * /api2 style (only requested sections are answered). */
json_t *api_handle(struct api_ctx *ctx, const json_t *req, struct api_client *cl, bool minimal);

/* HTTP front: the command comes from a JSON body, a form body
 * "command=<urlencoded json>", or the query "command=..."; none = {}.
 * path "/api2" answers minimally. A "callback"/"jsonp" query parameter
 * wraps the answer as JSONP. Writes a malloc'd body (caller frees) and
 * its static content type. 0 or -ENOMEM. */
int api_handle_http(struct api_ctx *ctx, const char *path, const char *query, const char *body,
		    size_t body_len, struct api_client *cl, char **out, size_t *out_len,
		    const char **content_type);

/* Applies ctx->config to the running server: listeners (retry_failed as
 * in listeners_apply), pull inputs (inputs_apply) and the log level
 * (unless debug_override >= 0). */
void api_apply(struct api_ctx *ctx, bool retry_failed);

/* Persists ctx->config through ctx->save (or synchronously). Logs and
 * returns the error, if any. */
int api_save(struct api_ctx *ctx);

#endif
