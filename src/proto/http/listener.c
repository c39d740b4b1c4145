/* The HTTP connector: one server on the outputs port, with a route for
 * every HTTP-based output driver in the registry plus the stream info. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "proto/http/http.h"
#include "proto/http/outputs.h"
#include "proto/registry.h"

struct route_arg {
	const struct driver *d;
	const struct server_env *env;
};

struct http_listener {
	struct server_env env;
	struct http_server *srv;
	int port;
	struct route_arg args[32]; /* one per HTTP output driver */
	unsigned nargs;
};

static int driver_route(struct http_conn *c, struct http_request *req, void *arg)
{
	const struct route_arg *ra = arg;
	return ra->d->http_handler(c, req, ra->env);
}

static int info_route(struct http_conn *c, struct http_request *req, void *arg)
{
	return http_info_handler(c, req, arg);
}

static int add_routes(struct http_listener *l)
{
	struct http_server *s = l->srv;
	int rc = http_server_route(s, "/json_*.js", info_route, &l->env);
	rc = rc ?: http_server_route(s, "/info_*.js", info_route, &l->env);
	for (const struct driver *const *d = driver_registry; *d && !rc; d++) {
		if (!(*d)->http_handler || !(*d)->http_routes)
			continue;
		if (l->nargs == sizeof(l->args) / sizeof(l->args[0]))
			return -ENOSPC;
		struct route_arg *ra = &l->args[l->nargs++];
		ra->d = *d;
		ra->env = &l->env;
		for (const char *const *p = (*d)->http_routes; *p && !rc; p++)
			rc = http_server_route(s, *p, driver_route, ra);
	}
	return rc;
}

static int http_listen(const struct server_env *env, const json_t *cfg, void **state, char *err,
		       size_t errlen)
{
	struct http_listener *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->env = *env;
	json_t *p = json_object_get(cfg, "port");
	l->port = json_is_integer(p) ? (int)json_integer_value(p) : 8080;
	const char *iface = json_string_value(json_object_get(cfg, "interface"));
	l->srv = http_server_new(env->loop, "HTTP");
	int rc = l->srv ? add_routes(l) : -ENOMEM;
	if (!rc)
		rc = http_server_listen(l->srv, iface, l->port);
	if (rc) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", iface && *iface ? iface : "*",
			 l->port, uv_strerror(rc));
		http_server_close(l->srv);
		free(l);
		return rc;
	}
	listener_note_port("HTTP", l->port);
	LOGF(LOG_INFO, NULL, "HTTP listening on %s:%d", iface && *iface ? iface : "0.0.0.0",
	     l->port);
	*state = l;
	return 0;
}

static void http_unlisten(void *state)
{
	struct http_listener *l = state;
	if (!l)
		return;
	listener_note_port("HTTP", 0);
	http_server_close(l->srv);
	free(l);
}

static const char *const http_patterns[] = {"http://*", NULL};

const struct driver http_driver = {
    .name = "HTTP",
    .desc = "HTTP server for every HTTP-based output and the stream info",
    .kind = DRIVER_LISTENER,
    .patterns = http_patterns,
    .default_port = 8080,
    .transport = "tcp",
    .listen = http_listen,
    .unlisten = http_unlisten,
};
