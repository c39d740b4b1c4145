/* Listener manager: one running (or failed) entry per config.protocols
 * entry, diffed by the whole entry (connector, port, interface and any
 * driver option), so an unchanged listener is never restarted. */
#include "control/listeners.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control/config.h"
#include "core/log.h"

struct lentry {
	const struct driver *drv;
	json_t *cfg; /* the config entry, cleaned of annotations (for diffing) */
	json_t *arg; /* what listen() got: cfg with "port" resolved; kept alive */
	int port;
	void *state;
	bool online;
	char error[256];
};

struct listeners {
	struct server_env env;
	struct lentry *v;
	size_t n;
};

struct listeners *listeners_new(const struct server_env *env)
{
	struct listeners *l = calloc(1, sizeof(*l));
	if (l)
		l->env = *env;
	return l;
}

static const char *entry_name(const struct lentry *e)
{
	return e->drv ? e->drv->name : json_string_value(json_object_get(e->cfg, "connector"));
}

static void stop_entry(struct lentry *e)
{
	if (e->online) {
		if (e->drv->unlisten)
			e->drv->unlisten(e->state);
		INFO_MSG("%s: stopped listening on port %d", e->drv->name, e->port);
	}
	json_decref(e->cfg);
	json_decref(e->arg);
	memset(e, 0, sizeof(*e));
}

/* Starts one listener described by cfg (a cleaned entry; the entry takes
 * the reference). A failure is recorded in the entry, never fatal. */
static void start_entry(struct listeners *l, struct lentry *e, json_t *cfg)
{
	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	const char *name = json_string_value(json_object_get(cfg, "connector"));
	e->drv = name ? driver_find(name, DRIVER_LISTENER) : NULL;
	if (!e->drv || !e->drv->listen) {
		snprintf(e->error, sizeof(e->error), "unknown connector \"%.100s\"",
			 name ? name : "");
		WARN_MSG("protocol %s: %s", name ? name : "?", e->error);
		return;
	}
	const json_t *port = json_object_get(cfg, "port");
	e->port = json_is_integer(port) ? (int)json_integer_value(port) : e->drv->default_port;
	e->arg = json_deep_copy(cfg);
	if (!e->arg || json_object_set_new(e->arg, "port", json_integer(e->port)) < 0) {
		snprintf(e->error, sizeof(e->error), "out of memory");
		return;
	}
	char err[256] = "";
	int rc = e->drv->listen(&l->env, e->arg, &e->state, err, sizeof(err));
	if (rc < 0) {
		if (*err)
			snprintf(e->error, sizeof(e->error), "%s", err);
		else
			snprintf(e->error, sizeof(e->error), "cannot listen on port %d: %s",
				 e->port, strerror(-rc));
		WARN_MSG("protocol %s: %s", e->drv->name, e->error);
		return;
	}
	e->online = true;
	const char *iface = json_string_value(json_object_get(cfg, "interface"));
	LOGF(LOG_MEDIUM, NULL, "%s: listening on %s%sport %d", e->drv->name,
	     iface && *iface ? iface : "", iface && *iface ? " " : "", e->port);
}

/* Tells listener_note_port the port of the first listening entry named
 * name (0 when none). */
static void note_port(const struct listeners *l, const char *name)
{
	int port = 0;
	for (size_t i = 0; i < l->n && !port; i++) {
		const struct lentry *e = &l->v[i];
		if (e->online && strcasecmp(e->drv->name, name) == 0)
			port = e->port;
	}
	listener_note_port(name, port);
}

/* Cleaned copies of the object entries of protos (a new array). */
static json_t *wanted_entries(const json_t *protos)
{
	json_t *want = json_array();
	size_t i;
	const json_t *p;
	json_array_foreach(protos, i, p)
	{
		json_t *c = json_is_object(p) ? json_deep_copy(p) : NULL;
		if (!c)
			continue;
		config_clean_entry(c);
		json_array_append_new(want, c);
	}
	return want;
}

/* Index of an old entry equal to cfg and not yet reused, or -1. */
static long find_old(struct lentry *old, size_t n, const bool *used, const json_t *cfg,
		     bool retry_failed)
{
	for (size_t i = 0; i < n; i++) {
		if (used[i] || !json_equal(old[i].cfg, (json_t *)cfg))
			continue;
		if (!old[i].online && retry_failed)
			continue;
		return (long)i;
	}
	return -1;
}

int listeners_apply(struct listeners *l, const json_t *protos, bool retry_failed)
{
	json_t *want = wanted_entries(protos);
	size_t nw = json_array_size(want);
	struct lentry *nv = calloc(nw ? nw : 1, sizeof(*nv));
	bool *used = calloc(l->n ? l->n : 1, sizeof(*used));
	long *from = calloc(nw ? nw : 1, sizeof(*from));
	if (!want || !nv || !used || !from) {
		ERROR_MSG("listeners: out of memory; protocols unchanged");
		json_decref(want);
		free(nv);
		free(used);
		free(from);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nw; i++) {
		from[i] = find_old(l->v, l->n, used, json_array_get(want, i), retry_failed);
		if (from[i] >= 0)
			used[from[i]] = true;
	}
	/* Stop what goes away first, so a port can move between entries. */
	json_t *names = json_object();
	for (size_t i = 0; i < l->n; i++) {
		if (entry_name(&l->v[i]) && *entry_name(&l->v[i]))
			json_object_set_new(names, entry_name(&l->v[i]), json_true());
		if (!used[i])
			stop_entry(&l->v[i]);
	}
	int failed = 0;
	for (size_t i = 0; i < nw; i++) {
		if (from[i] >= 0)
			nv[i] = l->v[from[i]];
		else
			start_entry(l, &nv[i], json_incref(json_array_get(want, i)));
		failed += !nv[i].online;
		if (entry_name(&nv[i]) && *entry_name(&nv[i]))
			json_object_set_new(names, entry_name(&nv[i]), json_true());
	}
	free(l->v);
	l->v = nv;
	l->n = nw;
	const char *name;
	json_t *v;
	json_object_foreach(names, name, v)
	{
		note_port(l, name);
	}
	json_decref(names);
	json_decref(want);
	free(used);
	free(from);
	return failed;
}

void listeners_annotate(const struct listeners *l, json_t *protos)
{
	bool *used = calloc(l->n ? l->n : 1, sizeof(*used));
	size_t i;
	json_t *p;
	json_array_foreach(protos, i, p)
	{
		json_t *c = json_is_object(p) ? json_deep_copy(p) : NULL;
		if (!c)
			continue;
		config_clean_entry(c);
		const struct lentry *e = NULL;
		for (size_t k = 0; used && k < l->n && !e; k++) {
			if (!used[k] && json_equal(l->v[k].cfg, c)) {
				used[k] = true;
				e = &l->v[k];
			}
		}
		json_decref(c);
		json_object_set_new(p, "online", json_integer(e && e->online));
		if (!e)
			json_object_set_new(p, "error", json_string("not started"));
		else if (!e->online)
			json_object_set_new(p, "error", json_string(e->error));
	}
	free(used);
}

void listeners_stop_all(struct listeners *l)
{
	json_t *empty = json_array();
	if (empty)
		listeners_apply(l, empty, false);
	json_decref(empty);
}

void listeners_free(struct listeners *l)
{
	if (!l)
		return;
	listeners_stop_all(l);
	for (size_t i = 0; i < l->n; i++) /* only left when out of memory */
		stop_entry(&l->v[i]);
	free(l->v);
	free(l);
}
