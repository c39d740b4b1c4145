/* Input manager: one entry per stream name whose pull input runs, waits
 * for a restart, or failed. Entries are a plain list (a few per configured
 * stream); the manager's work happens on its timer (inputs_tick) and on a
 * zero-delay "soon" timer, so driver callbacks and API changes never
 * start or stop drivers from inside someone else's stack. */
#include "control/inputs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/streamname.h"
#include "hub/hub.h"

#define TICK_MS 250
/* An on-demand input that failed to start is retried at most this often
 * (viewers may poll hub_want many times a second). */
#define WANT_RETRY_MS 1000
/* A failed on-demand entry nobody wanted for this long is forgotten. */
#define FAILED_KEEP_MS 10000
#define PUSH_PREFIX    "push://"

/* always_on restart delays; the last one repeats. */
static const uint64_t backoff_ms[] = {1000, 2000, 5000, 10000};
#define NBACKOFF (sizeof(backoff_ms) / sizeof(*backoff_ms))

enum input_state {
	IN_START,   /* start queued for the next tick */
	IN_RUNNING, /* driver started; `ended` when it reported its end */
	IN_WAITING, /* always_on: restart at retry_at_ms */
	IN_FAILED,  /* no driver, or an on-demand start failed (retry_at_ms) */
};

struct input {
	struct inputs *mgr;
	struct input *next;
	char name[STREAMNAME_MAX + 1]; /* full stream name */
	char base[STREAMNAME_MAX + 1];
	char *source; /* the source this entry was made for */
	json_t *cfg;  /* copy of streams.<base>, what the driver got */
	const struct driver *drv;
	void *state;
	enum input_state st;
	bool always_on;
	bool starting, stopping, ended;
	bool was_ready; /* the stream got READY during this run */
	unsigned failures;
	uint64_t retry_at_ms;
	uint64_t seen_ms; /* last time it had readers or was wanted */
	int end_err;
	char end_why[200];
};

struct inputs {
	struct inputs_env env;
	struct input *list;
	json_t *errors; /* base name -> last input failure */
	uv_timer_t tick, soon;
	unsigned handles_open;
	bool shut, orphaned;
};

static uint64_t now_ms(const struct inputs *in)
{
	return in->env.now_ms ? in->env.now_ms(in->env.clock_arg) : uv_now(in->env.loop);
}

static const json_t *stream_cfg(const struct inputs *in, const char *base)
{
	return json_object_get(json_object_get(*in->env.rootp, "streams"), base);
}

/* The source of a stream config when it is pulled (not push://), or NULL. */
static const char *pull_source(const json_t *st)
{
	const char *src = json_string_value(json_object_get(st, "source"));
	if (!src || !*src || strncmp(src, PUSH_PREFIX, strlen(PUSH_PREFIX)) == 0)
		return NULL;
	return src;
}

static bool cfg_always_on(const json_t *st)
{
	return json_is_true(json_object_get(st, "always_on"));
}

static uint64_t idle_limit_ms(const json_t *st)
{
	const json_t *v = json_object_get(st, "inputtimeout");
	json_int_t s = json_is_integer(v) ? json_integer_value(v) : 0;
	return (uint64_t)(s > 0 ? s : INPUTS_DEFAULT_TIMEOUT_S) * 1000;
}

static struct input *find(const struct inputs *in, const char *name)
{
	for (struct input *e = in->list; e; e = e->next)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static bool stream_ready(const struct inputs *in, const char *name)
{
	struct hub_stream *s = hub_find(in->env.hub, name);
	return s && hub_stream_state(s) == STREAM_READY;
}

static void set_error(struct inputs *in, const char *base, const char *why)
{
	json_object_set_new(in->errors, base, json_string(why));
}

static void soon_cb(uv_timer_t *t)
{
	inputs_tick(t->data);
}

static void schedule(struct inputs *in)
{
	if (!in->shut)
		uv_timer_start(&in->soon, soon_cb, 0, 0);
}

static void unlink_free(struct inputs *in, struct input *e)
{
	for (struct input **pp = &in->list; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	free(e->source);
	json_decref(e->cfg);
	free(e);
}

/* New entry for stream name (of base, configured as st), linked in. With
 * no driver for the source it is IN_FAILED with the reason recorded. */
static struct input *entry_new(struct inputs *in, const char *name, const char *base,
			       const json_t *st, bool always_on)
{
	struct input *e = calloc(1, sizeof(*e));
	if (!e || !(e->source = strdup(pull_source(st))) || !(e->cfg = json_deep_copy(st))) {
		if (e)
			free(e->source);
		free(e);
		ERROR_MSG("input for %s: out of memory", name);
		return NULL;
	}
	e->mgr = in;
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->base, sizeof(e->base), "%s", base);
	e->always_on = always_on;
	e->seen_ms = now_ms(in);
	e->drv = in->env.lookup ? in->env.lookup(e->source, DRIVER_INPUT) : NULL;
	e->st = IN_START;
	if (!e->drv) {
		char why[STREAMNAME_MAX + 64];
		snprintf(why, sizeof(why), "no input for source %.100s", e->source);
		WARN_MSG("stream %s: %s", name, why);
		set_error(in, base, why);
		e->st = IN_FAILED;
	}
	e->next = in->list;
	in->list = e;
	return e;
}

static void on_ended(void *arg, int err, const char *why)
{
	struct input *e = arg;
	if (e->stopping || e->ended || (!e->starting && e->st != IN_RUNNING))
		return;
	e->ended = true;
	e->end_err = err;
	snprintf(e->end_why, sizeof(e->end_why), "%s",
		 why && *why ? why
		 : err       ? strerror(err < 0 ? -err : err)
			     : "end of input");
	schedule(e->mgr);
}

static void stop_driver(struct input *e)
{
	if (e->st != IN_RUNNING)
		return;
	e->stopping = true;
	if (e->drv->input_stop)
		e->drv->input_stop(e->state);
	e->stopping = false;
	e->state = NULL;
	e->ended = false;
	e->st = IN_FAILED; /* not running; the caller decides what is next */
}

/* always_on: the next start after the backoff delay. */
static void schedule_restart(struct inputs *in, struct input *e, const char *why)
{
	if (e->was_ready)
		e->failures = 0;
	uint64_t delay = backoff_ms[e->failures < NBACKOFF ? e->failures : NBACKOFF - 1];
	if (e->failures < NBACKOFF)
		e->failures++;
	e->st = IN_WAITING;
	e->retry_at_ms = now_ms(in) + delay;
	LOGF(LOG_WARN, e->name, "input %s for %s: %s; restarting in %llu s", e->drv->name,
	     e->source, why, (unsigned long long)(delay / 1000));
}

/* Starts e's driver. A failure schedules a restart (always_on) or marks
 * the entry failed (on demand). */
static void entry_start(struct inputs *in, struct input *e)
{
	json_t *fresh = json_deep_copy(stream_cfg(in, e->base)); /* driver not running */
	if (fresh) {
		json_decref(e->cfg);
		e->cfg = fresh;
	}
	struct input_env env = {
	    .loop = in->env.loop,
	    .hub = in->env.hub,
	    .stream = e->name,
	    .source = e->source,
	    .stream_cfg = e->cfg,
	    .ended = on_ended,
	    .arg = e,
	};
	char err[200] = "";
	e->ended = e->was_ready = false;
	e->state = NULL;
	e->starting = true;
	int rc = e->drv->input_start(&env, &e->state, err, sizeof(err));
	e->starting = false;
	e->seen_ms = now_ms(in);
	if (rc >= 0) {
		e->st = IN_RUNNING;
		LOGF(LOG_INFO, e->name, "input %s started for %s", e->drv->name, e->source);
		if (e->ended)
			schedule(in);
		return;
	}
	if (!*err)
		snprintf(err, sizeof(err), "%s", strerror(-rc));
	e->ended = false;
	set_error(in, e->base, err);
	if (e->always_on) {
		schedule_restart(in, e, err);
		return;
	}
	WARN_MSG("stream %s: input %s cannot start: %s", e->name, e->drv->name, err);
	e->st = IN_FAILED;
	e->retry_at_ms = e->seen_ms + WANT_RETRY_MS;
}

/* The driver reported its end: stop it, then restart later or forget. */
static void reap(struct inputs *in, struct input *e)
{
	char why[sizeof(e->end_why)];
	int err = e->end_err;
	snprintf(why, sizeof(why), "%s", e->end_why);
	stop_driver(e);
	if (err)
		set_error(in, e->base, why);
	if (e->always_on) {
		schedule_restart(in, e, why);
		return;
	}
	LOGF(err ? LOG_WARN : LOG_INFO, e->name, "input %s for %s ended: %s", e->drv->name,
	     e->source, why);
	unlink_free(in, e);
}

/* A running input: note READY (resets the backoff), stop it when idle. */
static void check_running(struct inputs *in, struct input *e, uint64_t now)
{
	struct hub_stream *s = hub_find(in->env.hub, e->name);
	if (s && hub_stream_state(s) == STREAM_READY && hub_stream_has_publisher(s) &&
	    !e->was_ready) {
		e->was_ready = true;
		e->failures = 0;
		json_object_del(in->errors, e->base);
	}
	if (e->always_on)
		return;
	if (s && hub_stream_readers(s) > 0)
		e->seen_ms = now;
	uint64_t limit = idle_limit_ms(e->cfg);
	if (now < e->seen_ms + limit)
		return;
	LOGF(LOG_INFO, e->name, "no viewers for %llu s: stopping input %s",
	     (unsigned long long)(limit / 1000), e->drv->name);
	stop_driver(e);
	unlink_free(in, e);
}

static void tick_one(struct inputs *in, struct input *e, uint64_t now)
{
	switch (e->st) {
	case IN_START:
		entry_start(in, e);
		break;
	case IN_WAITING:
		if (now < e->retry_at_ms)
			break;
		LOGF(LOG_INFO, e->name, "restarting input %s for %s", e->drv->name, e->source);
		entry_start(in, e);
		break;
	case IN_FAILED:
		if (!e->always_on && now >= e->seen_ms + FAILED_KEEP_MS)
			unlink_free(in, e);
		break;
	case IN_RUNNING:
		if (e->ended)
			reap(in, e);
		else
			check_running(in, e, now);
		break;
	}
}

void inputs_tick(struct inputs *in)
{
	if (!in || in->shut)
		return;
	uint64_t now = now_ms(in);
	for (struct input *e = in->list, *next; e; e = next) {
		next = e->next;
		tick_one(in, e, now);
	}
}

static void tick_cb(uv_timer_t *t)
{
	inputs_tick(t->data);
}

struct inputs *inputs_new(const struct inputs_env *env)
{
	struct inputs *in = calloc(1, sizeof(*in));
	if (!in || !(in->errors = json_object())) {
		free(in);
		return NULL;
	}
	in->env = *env;
	uv_timer_init(env->loop, &in->tick);
	uv_timer_init(env->loop, &in->soon);
	in->tick.data = in->soon.data = in;
	in->handles_open = 2;
	uv_timer_start(&in->tick, tick_cb, TICK_MS, TICK_MS);
	return in;
}

/* Keeps an existing entry in line with its stream's config; false when
 * it was stopped and freed. */
static bool apply_entry(struct inputs *in, struct input *e)
{
	const json_t *st = stream_cfg(in, e->base);
	const char *src = pull_source(st);
	if (!src || strcmp(src, e->source) != 0) {
		LOGF(LOG_INFO, e->name, "stopping input for %s: stream %s", e->source,
		     st ? "source changed" : "removed");
		json_object_del(in->errors, e->base);
		stop_driver(e);
		unlink_free(in, e);
		return false;
	}
	bool on = !streamname_wildcard(e->name) && cfg_always_on(st);
	if (e->always_on && !on && e->st == IN_WAITING) {
		unlink_free(in, e); /* no longer always_on: no restart */
		return false;
	}
	if (on && !e->always_on && e->st == IN_FAILED && e->drv) {
		e->st = IN_WAITING;
		e->retry_at_ms = now_ms(in);
	}
	e->always_on = on;
	return true;
}

void inputs_apply(struct inputs *in)
{
	if (!in || in->shut)
		return;
	for (struct input *e = in->list, *next; e; e = next) {
		next = e->next;
		apply_entry(in, e);
	}
	const char *name;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(in->errors, tmp, name, v)
	{
		if (!pull_source(stream_cfg(in, name)))
			json_object_del(in->errors, name);
	}
	const json_t *st;
	json_object_foreach(json_object_get(*in->env.rootp, "streams"), name, st)
	{
		if (!cfg_always_on(st) || !pull_source(st) || find(in, name))
			continue;
		entry_new(in, name, name, st, true);
	}
	schedule(in);
}

void inputs_want(struct inputs *in, const char *raw)
{
	char name[STREAMNAME_MAX + 1], base[STREAMNAME_MAX + 1];
	if (!in || in->shut || !raw || streamname_sanitize(raw, name, sizeof(name)) < 0)
		return;
	streamname_base(name, base, sizeof(base));
	const json_t *st = stream_cfg(in, base);
	if (!pull_source(st))
		return;
	struct input *e = find(in, name);
	if (!e) {
		e = entry_new(in, name, base, st, false);
		if (e && e->st == IN_START) {
			LOGF(LOG_INFO, name, "stream wanted: starting its input %s", e->drv->name);
			schedule(in);
		}
		return;
	}
	e->seen_ms = now_ms(in);
	if (e->st == IN_FAILED && e->drv && !e->always_on && e->seen_ms >= e->retry_at_ms) {
		e->st = IN_START;
		schedule(in);
	}
}

static bool base_booting(const struct inputs *in, const char *base)
{
	for (const struct input *e = in->list; e; e = e->next)
		if ((e->st == IN_START || e->st == IN_RUNNING) && strcmp(e->base, base) == 0 &&
		    !stream_ready(in, e->name))
			return true;
	return false;
}

void inputs_annotate(const struct inputs *in, json_t *streams)
{
	const char *name;
	json_t *st;
	if (!in)
		return;
	json_object_foreach(streams, name, st)
	{
		if (!json_is_object(st))
			continue;
		json_int_t online = json_integer_value(json_object_get(st, "online"));
		if (online == 0 && base_booting(in, name)) {
			online = 2;
			json_object_set_new(st, "online", json_integer(2));
			json_object_set_new(st, "error", json_string("Stream is booting"));
		}
		const char *why = json_string_value(json_object_get(in->errors, name));
		if (online != 1 && why)
			json_object_set_new(st, "error", json_string(why));
	}
}

bool inputs_running(const struct inputs *in, const char *name)
{
	const struct input *e = in ? find(in, name) : NULL;
	return e && (e->st == IN_START || e->st == IN_RUNNING);
}

static void destroy(struct inputs *in)
{
	json_decref(in->errors);
	free(in);
}

static void handle_closed(uv_handle_t *h)
{
	struct inputs *in = h->data;
	if (--in->handles_open == 0 && in->orphaned)
		destroy(in);
}

void inputs_shutdown(struct inputs *in)
{
	if (!in || in->shut)
		return;
	in->shut = true;
	while (in->list) {
		struct input *e = in->list;
		if (e->st == IN_RUNNING)
			LOGF(LOG_MEDIUM, e->name, "stopping input %s (shutdown)", e->drv->name);
		stop_driver(e);
		unlink_free(in, e);
	}
	uv_close((uv_handle_t *)&in->tick, handle_closed);
	uv_close((uv_handle_t *)&in->soon, handle_closed);
}

void inputs_free(struct inputs *in)
{
	if (!in)
		return;
	inputs_shutdown(in);
	if (in->handles_open)
		in->orphaned = true;
	else
		destroy(in);
}
