/* libFuzzer target for the JSON API: the input is an API request body
 * (JSON or "command=" form) and, separately, a query string.
 * clang -fsanitize=fuzzer,address,undefined -std=gnu17 -D_GNU_SOURCE -Isrc \
 *       fuzz/fuzz_api.c src/control/api.c src/control/api_config.c \
 *       src/control/api_status.c src/control/listeners.c src/control/config.c \
 *       src/control/validate.c src/control/auth.c src/core/streamname.c \
 *       src/core/url.c src/core/log.c src/core/conn.c -ljansson -lcrypto
 * Stubs the hub and the driver registry (no sockets). Checks invariants,
 * not just memory safety: every answer is JSON (or JSONP around JSON) and
 * the config always stays valid, whatever the commands did. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control/api.h"
#include "control/auth.h"
#include "control/config.h"
#include "control/listeners.h"
#include "core/log.h"
#include "hub/hub.h"
#include "proto/registry.h"

/* ---- registry stub: listeners that never open sockets ---- */

static int fake_listen(const struct server_env *env, const json_t *cfg, void **state, char *err,
		       size_t errlen)
{
	if (json_integer_value(json_object_get(cfg, "port")) == 1) {
		snprintf(err, errlen, "port in use");
		return -EADDRINUSE;
	}
	*state = malloc(1);
	return *state ? 0 : -ENOMEM;
}

static void fake_unlisten(void *state)
{
	free(state);
}

static const char *const push_patterns[] = {"push://", NULL};
static const struct driver fake_http = {.name = "HTTP",
					.kind = DRIVER_LISTENER,
					.default_port = 8080,
					.listen = fake_listen,
					.unlisten = fake_unlisten};
static const struct driver fake_rtmp = {.name = "RTMP",
					.kind = DRIVER_LISTENER,
					.default_port = 1935,
					.listen = fake_listen,
					.unlisten = fake_unlisten};
static const struct driver fake_push = {
    .name = "Buffer", .kind = DRIVER_INPUT, .patterns = push_patterns};
const struct driver *const driver_registry[] = {&fake_http, &fake_rtmp, &fake_push, NULL};

const struct driver *driver_find(const char *name, enum driver_kind kind)
{
	for (const struct driver *const *d = driver_registry; *d; d++)
		if ((*d)->kind == kind && !strcasecmp((*d)->name, name))
			return *d;
	return NULL;
}
void listener_note_port(const char *name, int port) {}
int listener_port(const char *name)
{
	return 0;
}

/* ---- hub stub ---- */

struct hub {
	int unused;
};
struct hub_stream {
	const char *name;
	enum stream_state st;
};
static struct hub fake_hub;
static struct hub_stream live[] = {{"live", STREAM_READY}, {"live+x", STREAM_WAIT}};

void hub_foreach(struct hub *h, void (*fn)(struct hub_stream *s, void *arg), void *arg)
{
	for (size_t i = 0; i < 2; i++)
		fn(&live[i], arg);
}
struct hub_stream *hub_find(struct hub *h, const char *name)
{
	for (size_t i = 0; i < 2; i++)
		if (strcmp(live[i].name, name) == 0)
			return &live[i];
	return NULL;
}
void hub_stream_kick(struct hub_stream *s) {}
const char *hub_stream_name(const struct hub_stream *s)
{
	return s->name;
}
enum stream_state hub_stream_state(const struct hub_stream *s)
{
	return s->st;
}
unsigned hub_stream_track_count(const struct hub_stream *s)
{
	return 1;
}
unsigned hub_stream_readers(const struct hub_stream *s)
{
	return 0;
}
bool hub_stream_has_publisher(const struct hub_stream *s)
{
	return true;
}
void hub_stream_window(const struct hub_stream *s, int64_t *first_us, int64_t *last_us)
{
	*first_us = *last_us = 0;
}
uint64_t hub_stream_bytes_in(const struct hub_stream *s)
{
	return 0;
}

/* ---- the target ---- */

static void check_answer(const char *out, size_t len, const char *ctype)
{
	if (!out || strlen(out) != len)
		abort();
	const char *js = out;
	size_t n = len;
	if (strcmp(ctype, "application/javascript") == 0) { /* cb(<json>);\n */
		js = strchr(out, '(');
		if (!js || len < 4 || strcmp(out + len - 3, ");\n") != 0)
			abort();
		js++;
		n = (size_t)(out + len - 3 - js);
	}
	json_t *v = json_loadb(js, n, 0, NULL);
	if (!json_is_object(v))
		abort();
	json_decref(v);
}

static void one_call(struct api_ctx *ctx, const char *path, const char *query, const char *body,
		     size_t body_len, const char *peer)
{
	struct api_client cl = {.peer = peer};
	char *out = NULL;
	size_t len = 0;
	const char *ctype = NULL;
	if (api_handle_http(ctx, path, query, body, body_len, &cl, &out, &len, &ctype) < 0)
		return; /* ENOMEM only */
	check_answer(out, len, ctype);
	free(out);
	char err[512];
	if (config_validate(ctx->config, err, sizeof(err)) != 0)
		abort(); /* an API change slipped past validation */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct auth *auth;
	if (!auth)
		auth = auth_new();
	log_threshold = LOG_NONE;
	struct server_env env = {.hub = &fake_hub};
	struct api_ctx ctx = {
	    .config = config_default(),
	    .hub = &fake_hub,
	    .auth = auth,
	    .listeners = listeners_new(&env),
	    .debug_override = 0, /* keep logging off whatever "debug" says */
	};
	config_set_account(ctx.config, "admin", "secret");
	api_apply(&ctx, false);

	char *query = malloc(size + 1); /* the query must be NUL-terminated */
	if (query) {
		memcpy(query, data, size);
		query[size] = '\0';
		one_call(&ctx, "/api", "", (const char *)data, size, "127.0.0.1");
		one_call(&ctx, "/api2", "", (const char *)data, size, "10.0.0.1");
		one_call(&ctx, "/api", query, "", 0, "::1");
		free(query);
	}
	listeners_free(ctx.listeners);
	json_decref(ctx.config);
	return 0;
}
