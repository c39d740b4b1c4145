/* The control plane's lifecycle and glue: config load/reload, the API
 * HTTP server ("/api", "/api2"), the listener manager, the input and push
 * managers, the hub policy, and config saves on libuv's thread pool
 * (fsync must not stall the I/O loop; saves are coalesced so the newest
 * config always wins). */
#include "control/control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/api-t.h"
#include "control/api.h"
#include "control/auth.h"
#include "control/config.h"
#include "control/inputs.h"
#include "control/listeners.h"
#include "control/policy.h"
#include "control/pushes.h"
#include "core/log.h"
#include "hub/hub.h"
#include "proto/http/http.h"
#include "proto/registry.h"

/* ---- background saves ---- */

struct saver {
	uv_loop_t *loop;
	char *path;
	char *pending; /* newest text queued behind the running write */
	bool busy;     /* a write runs on the thread pool */
	bool orphaned; /* control freed meanwhile: the last write frees us */
};

struct save_job {
	uv_work_t req;
	struct saver *sv;
	char *text;
	int rc;
	char err[512];
};

static void saver_free(struct saver *sv)
{
	free(sv->pending);
	free(sv->path);
	free(sv);
}

static int saver_submit(struct saver *sv, char *text);

static void save_work(uv_work_t *req)
{
	struct save_job *j = req->data;
	j->rc = config_write_atomic(j->sv->path, j->text, strlen(j->text), j->err, sizeof(j->err));
}

static void save_done(uv_work_t *req, int status)
{
	struct save_job *j = req->data;
	struct saver *sv = j->sv;
	if (status < 0)
		ERROR_MSG("cannot save the config: %s", uv_strerror(status));
	else if (j->rc < 0)
		ERROR_MSG("cannot save the config: %s", j->err);
	else
		LOGF(LOG_MEDIUM, NULL, "config saved to %s", sv->path);
	free(j->text);
	free(j);
	sv->busy = false;
	if (sv->pending) {
		char *next = sv->pending;
		sv->pending = NULL;
		if (saver_submit(sv, next) == 0)
			return;
	}
	if (sv->orphaned)
		saver_free(sv);
}

/* Queues text (taken over) for writing; coalesces behind a running write. */
static int saver_submit(struct saver *sv, char *text)
{
	if (sv->busy) {
		free(sv->pending);
		sv->pending = text;
		return 0;
	}
	struct save_job *j = calloc(1, sizeof(*j));
	if (!j) {
		free(text);
		return -ENOMEM;
	}
	j->sv = sv;
	j->text = text;
	j->req.data = j;
	int rc = uv_queue_work(sv->loop, &j->req, save_work, save_done);
	if (rc < 0) {
		ERROR_MSG("cannot save the config: %s", uv_strerror(rc));
		free(text);
		free(j);
		return rc;
	}
	sv->busy = true;
	return 0;
}

/* ---- the control object ---- */

struct control {
	uv_loop_t *loop;
	struct hub *hub;
	struct api_ctx api;
	struct server_env env;
	struct http_server *http;
	struct listeners *listeners;
	struct inputs *inputs;
	struct pushes *pushes;
	struct policy_env policy; /* the hub policy's context: lives here */
	struct saver *saver;
	char *path;
	bool shut;
};

static int control_save(struct api_ctx *ctx)
{
	struct control *c = ctx->save_arg;
	char *text = config_serialize(ctx->config);
	if (!text)
		return -ENOMEM;
	return saver_submit(c->saver, text);
}

/* Marks an HTTP connection whose requests are authorized (the server
 * never frees userdata; any unique address works). */
static char authed_marker;

static bool is_trusted_proxy(const json_t *root, const char *peer)
{
	const json_t *list = json_object_get(json_object_get(root, "config"), "trustedproxy");
	size_t i;
	const json_t *v;
	json_array_foreach(list, i, v)
	{
		if (policy_host_matches(json_string_value(v), peer))
			return true;
	}
	return false;
}

/* The client's address: the peer, or, when the peer is one of
 * config.trustedproxy, the address it forwards (X-Real-IP, else the last
 * X-Forwarded-For entry) if that is a literal address. Forwarded requests
 * are never trusted as loopback whatever the address says. */
static const char *client_addr(const json_t *root, const char *peer, const struct http_request *req,
			       char *buf, size_t len)
{
	const char *h = http_header(req, "X-Real-IP");
	if (!h && (h = http_header(req, "X-Forwarded-For")) && strrchr(h, ','))
		h = strrchr(h, ',') + 1;
	if (!h || !peer || !is_trusted_proxy(root, peer))
		return peer;
	h += strspn(h, " \t");
	size_t n = strcspn(h, " \t");
	unsigned char bin[16];
	if (n >= len)
		return peer;
	memcpy(buf, h, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, bin) != 1 && inet_pton(AF_INET6, buf, bin) != 1)
		return peer;
	return buf;
}

static int api_http(struct http_conn *hc, struct http_request *req, void *arg)
{
	struct control *c = arg;
	void **slot = http_conn_userdata(hc);
	char addr[64];
	struct api_client cl = {
	    .peer = client_addr(c->api.config, http_conn_peer(hc), req, addr, sizeof(addr)),
	    .proxied = http_header(req, "X-Forwarded-For") || http_header(req, "X-Real-IP"),
	    .authed = slot && *slot == &authed_marker,
	};
	struct conn_info *ci = http_conn_info(hc);
	if (ci)
		ci->role = CONN_API;
	char *body = NULL;
	size_t len = 0;
	const char *ctype = NULL;
	int rc = api_handle_http(&c->api, req->path, req->query, req->body, req->body_len, &cl,
				 &body, &len, &ctype);
	if (rc < 0)
		return rc;
	if (cl.authed && slot)
		*slot = &authed_marker;
	rc = http_respond_ex(hc, 200, ctype, "Cache-Control: no-store\r\n", body, len);
	free(body);
	return rc;
}

/* -a user:pass: create or replace that account and save at once. */
static int add_cli_account(struct control *c, const char *spec, char *err, size_t errlen)
{
	const char *colon = strchr(spec, ':');
	if (!colon || colon == spec || !colon[1]) {
		snprintf(err, errlen, "account: expected user:password");
		return -EINVAL;
	}
	char *user = strndup(spec, (size_t)(colon - spec));
	int rc = user ? config_set_account(c->api.config, user, colon + 1) : -ENOMEM;
	if (rc == 0)
		rc = config_save(c->path, c->api.config, err, errlen);
	else
		snprintf(err, errlen, "account: %s", strerror(-rc));
	if (rc == 0)
		INFO_MSG("account %s saved to %s", user, c->path);
	free(user);
	return rc;
}

static int start_api(struct control *c, const struct control_opts *o, char *err, size_t errlen)
{
	int port = o->api_port >= 0 ? o->api_port : config_api_port(c->api.config);
	const char *iface = o->api_iface ? o->api_iface : config_api_iface(c->api.config);
	c->http = http_server_new(c->loop, "API");
	if (!c->http) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = http_server_route(c->http, "/api", api_http, c);
	if (rc == 0)
		rc = http_server_route(c->http, "/api2", api_http, c);
	if (rc == 0)
		rc = http_server_listen(c->http, iface, port);
	if (rc < 0) {
		snprintf(err, errlen, "cannot listen for the API on %s:%d: %s",
			 *iface ? iface : "*", port, uv_strerror(rc));
		return rc;
	}
	INFO_MSG("API listening on %s:%d", *iface ? iface : "*", port);
	return 0;
}

/* hub_policy.stream_wanted: a viewer wants a stream that is not live. */
static void control_wanted(void *arg, const char *name)
{
	struct control *c = arg;
	inputs_want(c->inputs, name);
}

/* A push was started on a stream that is not live: ask for it like a
 * viewer would (boots an on-demand input). */
static void push_wants(void *arg, const char *name)
{
	struct control *c = arg;
	if (c->hub && !c->shut)
		hub_want(c->hub, name);
}

/* The input and push managers (only with a hub: they run its streams). */
static int start_managers(struct control *c)
{
	if (!c->hub)
		return 0;
	struct inputs_env ie = {
	    .loop = c->loop,
	    .hub = c->hub,
	    .rootp = &c->api.config,
	    .lookup = driver_for_url,
	};
	struct pushes_env pe = {
	    .loop = c->loop,
	    .hub = c->hub,
	    .rootp = &c->api.config,
	    .lookup = driver_for_url,
	    .want = push_wants,
	    .want_arg = c,
	};
	c->inputs = inputs_new(&ie);
	c->pushes = pushes_new(&pe);
	if (!c->inputs || !c->pushes)
		return -ENOMEM;
	c->api.inputs = c->inputs;
	c->api.pushes = c->pushes;
	return 0;
}

int control_new(uv_loop_t *loop, struct hub *hub, const struct control_opts *o,
		struct control **out, char *err, size_t errlen)
{
	static const struct control_opts defaults = {NULL, -1, NULL, -1, NULL};
	o = o ? o : &defaults;
	*out = NULL;
	if (errlen)
		*err = '\0';
	struct control *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->hub = hub;
	c->path = strdup(o->config_path ? o->config_path : CONFIG_DEFAULT_PATH);
	c->saver = calloc(1, sizeof(*c->saver));
	c->api.auth = auth_new();
	int rc = -ENOMEM;
	if (!c->path || !c->saver || !c->api.auth || !(c->saver->path = strdup(c->path)))
		goto fail;
	c->saver->loop = loop;
	rc = config_load_or_create(c->path, &c->api.config, err, errlen);
	if (rc == 0 && o->account)
		rc = add_cli_account(c, o->account, err, errlen);
	if (rc < 0)
		goto fail;
	c->api.config_path = c->path;
	c->api.hub = hub;
	c->api.debug_override = o->debug;
	c->api.save = control_save;
	c->api.save_arg = c;
	api_apply(&c->api, false); /* log level first: the listeners log */
	if ((rc = start_api(c, o, err, errlen)) < 0)
		goto fail;
	c->env = (struct server_env){.loop = loop, .hub = hub, .control = c};
	rc = -ENOMEM;
	if (!(c->listeners = listeners_new(&c->env)) || start_managers(c) < 0)
		goto fail;
	c->api.listeners = c->listeners;
	api_apply(&c->api, true); /* always_on inputs start on the next loop iteration */
	if (hub) {
		c->policy = (struct policy_env){
		    .rootp = &c->api.config, .wanted = control_wanted, .arg = c};
		struct hub_policy p = policy_make_env(&c->policy);
		hub_set_policy(hub, &p);
	}
	*out = c;
	return 0;
fail:
	if (rc == -ENOMEM && !*err)
		snprintf(err, errlen, "out of memory");
	control_free(c);
	return rc;
}

/* Streams of old that are gone from (or changed source in) root. */
static json_t *dropped_streams(const json_t *old, const json_t *root)
{
	json_t *gone = json_array();
	const json_t *now = json_object_get(root, "streams");
	const char *name;
	json_t *st;
	json_object_foreach(json_object_get(old, "streams"), name, st)
	{
		const json_t *n = json_object_get(now, name);
		if (!n || !json_equal(json_object_get(n, "source"), json_object_get(st, "source")))
			json_array_append_new(gone, json_string(name));
	}
	return gone;
}

int control_reload(struct control *c)
{
	json_t *root = NULL;
	char err[512] = "";
	int rc = config_load(c->path, &root, err, sizeof(err));
	if (rc < 0) {
		ERROR_MSG("config reload failed, keeping the running config: %s", err);
		return rc;
	}
	if (config_api_port(root) != config_api_port(c->api.config) ||
	    strcmp(config_api_iface(root), config_api_iface(c->api.config)) != 0)
		WARN_MSG("config.controller changed: the API address changes at the next start");
	json_t *gone = dropped_streams(c->api.config, root);
	json_decref(c->api.config);
	c->api.config = root;
	api_apply(&c->api, true);
	api_kick_streams(&c->api, gone);
	json_decref(gone);
	INFO_MSG("config reloaded from %s", c->path);
	return 0;
}

void control_shutdown(struct control *c)
{
	if (!c || c->shut)
		return;
	c->shut = true;
	if (c->hub) {
		struct hub_policy closed = {0}; /* no publish_check: every push refused */
		hub_set_policy(c->hub, &closed);
	}
	pushes_shutdown(c->pushes); /* readers first, then the inputs they read */
	inputs_shutdown(c->inputs);
	if (c->listeners)
		listeners_stop_all(c->listeners);
	if (c->http)
		http_server_close(c->http);
	c->http = NULL;
}

void control_free(struct control *c)
{
	if (!c)
		return;
	control_shutdown(c);
	listeners_free(c->listeners);
	pushes_free(c->pushes);
	inputs_free(c->inputs);
	auth_free(c->api.auth);
	json_decref(c->api.config);
	if (c->saver && c->saver->busy)
		c->saver->orphaned = true;
	else if (c->saver)
		saver_free(c->saver);
	free(c->path);
	free(c);
}
