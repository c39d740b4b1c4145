/* Push manager: the active pushes (a list in id order), the auto-push
 * waiting counters, target variables and rule matching. Drivers are
 * started from API commands and the once-a-second check; their ends are
 * handled on a zero-delay timer, never inside the driver's callback. */
#include "control/pushes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/streamname.h"
#include "hub/hub.h"

#define CHECK_MS         1000
#define MAX_TARGET_BYTES 4096

struct push {
	struct pushes *mgr;
	struct push *next;
	unsigned id;
	char stream[STREAMNAME_MAX + 1];
	char *target; /* as given */
	char *actual; /* expanded; what the driver got */
	const struct driver *drv;
	void *state;
	bool is_auto, starting, stopping, ended, was_live;
	uint64_t started_ms;
	int end_err;
	char end_why[200];
	json_t *logs; /* [[unix_time, level, msg], ...] */
};

/* An auto-push candidate (stream, target) counting checks. */
struct waiting {
	struct waiting *next;
	char stream[STREAMNAME_MAX + 1];
	char *target;
	long long count;
	unsigned failures;
	bool seen; /* matched in the current check */
};

struct pushes {
	struct pushes_env env;
	struct push *list;
	struct waiting *waiting;
	unsigned last_id;
	uv_timer_t tick, soon;
	unsigned handles_open;
	bool shut, orphaned;
};

/* ---- pure helpers ---- */

struct expand_var {
	const char *name; /* without '$' */
	const char *value;
};

/* Appends s[0..n) to out at *pos; false when it does not fit. */
static bool put(char *out, size_t outlen, size_t *pos, const char *s, size_t n)
{
	if (*pos + n >= outlen)
		return false;
	memcpy(out + *pos, s, n);
	*pos += n;
	return true;
}

static const struct expand_var *var_at(const struct expand_var *vars, size_t n, const char *p)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(p, vars[i].name, strlen(vars[i].name)) == 0)
			return &vars[i];
	return NULL;
}

int pushes_expand(const char *tmpl, const char *stream, const struct tm *tm, char *out,
		  size_t outlen)
{
	char base[STREAMNAME_MAX + 1], dt[6][12], datetime[80];
	const char *wild = streamname_wildcard(stream);
	streamname_base(stream, base, sizeof(base));
	snprintf(dt[0], sizeof(dt[0]), "%04d", tm->tm_year + 1900);
	snprintf(dt[1], sizeof(dt[1]), "%02d", tm->tm_mon + 1);
	snprintf(dt[2], sizeof(dt[2]), "%02d", tm->tm_mday);
	snprintf(dt[3], sizeof(dt[3]), "%02d", tm->tm_hour);
	snprintf(dt[4], sizeof(dt[4]), "%02d", tm->tm_min);
	snprintf(dt[5], sizeof(dt[5]), "%02d", tm->tm_sec);
	snprintf(datetime, sizeof(datetime), "%s.%s.%s.%s.%s.%s", dt[0], dt[1], dt[2], dt[3], dt[4],
		 dt[5]);
	const struct expand_var vars[] = {
	    {"stream", stream},     {"basename", base}, {"wildcard", wild ? wild : ""},
	    {"datetime", datetime}, {"year", dt[0]},    {"month", dt[1]},
	    {"day", dt[2]},         {"hour", dt[3]},    {"minute", dt[4]},
	    {"second", dt[5]},
	};
	size_t pos = 0;
	for (const char *p = tmpl; *p;) {
		const struct expand_var *v =
		    *p == '$' ? var_at(vars, sizeof(vars) / sizeof(*vars), p + 1) : NULL;
		bool ok = v ? put(out, outlen, &pos, v->value, strlen(v->value))
			    : put(out, outlen, &pos, p, 1);
		if (!ok)
			return -ENAMETOOLONG;
		p += v ? 1 + strlen(v->name) : 1;
	}
	if (!outlen)
		return -ENAMETOOLONG;
	out[pos] = '\0';
	return (int)pos;
}

int pushes_rule_normalize(const char *in, char *out, size_t outlen)
{
	if (!in || !*in || outlen < 2)
		return -EINVAL;
	size_t n = strlen(in);
	if (in[0] == '#') { /* a tag: printable, no spaces */
		if (n < 2 || n > STREAMNAME_MAX + 1)
			return n < 2 ? -EINVAL : -ENAMETOOLONG;
		for (const unsigned char *c = (const unsigned char *)in; *c; c++)
			if (*c <= ' ' || *c == 0x7f)
				return -EINVAL;
		if (n >= outlen)
			return -ENOSPC;
		memcpy(out, in, n + 1);
		return (int)n;
	}
	bool all = in[n - 1] == '+';
	char name[STREAMNAME_MAX * 2];
	if (n >= sizeof(name))
		return -ENAMETOOLONG;
	memcpy(name, in, n + 1);
	if (all)
		name[n - 1] = '\0';
	int len = streamname_sanitize(name, out, outlen);
	if (len < 0 || !all)
		return len;
	if (strchr(out, '+'))
		return -EINVAL; /* "a+b+" */
	if ((size_t)len + 1 >= outlen)
		return -ENOSPC;
	out[len++] = '+';
	out[len] = '\0';
	return len;
}

static bool has_tag(const json_t *root, const char *stream, const char *tag)
{
	char base[STREAMNAME_MAX + 1];
	streamname_base(stream, base, sizeof(base));
	const json_t *st = json_object_get(json_object_get(root, "streams"), base);
	size_t i;
	const json_t *t;
	json_array_foreach(json_object_get(st, "tags"), i, t)
	{
		if (json_is_string(t) && strcmp(json_string_value(t), tag) == 0)
			return true;
	}
	return false;
}

bool pushes_rule_matches(const json_t *root, const char *rule, const char *stream)
{
	size_t n = strlen(rule);
	if (!n)
		return false;
	if (rule[0] == '#')
		return has_tag(root, stream, rule + 1);
	if (rule[n - 1] == '+')
		return strncmp(stream, rule, n) == 0 && stream[n];
	return strcmp(rule, stream) == 0;
}

void pushes_settings(const json_t *root, long long *wait, long long *maxspeed)
{
	const json_t *ps = json_object_get(root, "push_settings");
	const json_t *w = json_object_get(ps, "wait"), *m = json_object_get(ps, "maxspeed");
	*wait = json_is_integer(w) && json_integer_value(w) >= 0 ? json_integer_value(w)
								 : PUSHES_DEFAULT_WAIT;
	*maxspeed = json_is_integer(m) && json_integer_value(m) > 0 ? json_integer_value(m) : 0;
}

/* ---- the manager ---- */

static uint64_t now_ms(const struct pushes *p)
{
	return p->env.now_ms ? p->env.now_ms(p->env.clock_arg) : uv_now(p->env.loop);
}

static bool stream_live(const struct pushes *p, const char *name)
{
	struct hub_stream *s = hub_find(p->env.hub, name);
	return s && hub_stream_state(s) == STREAM_READY;
}

/* A JSON string of s; bytes that are not valid UTF-8 become '?'. */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	char *copy = strdup(s);
	for (unsigned char *c = (unsigned char *)copy; copy && *c; c++)
		if (*c >= 0x80)
			*c = '?';
	j = json_string(copy ? copy : "");
	free(copy);
	return j;
}

static void push_log(struct push *x, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Logs to the server log (stream-tagged) and to the push's own log. */
static void push_log(struct push *x, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	LOGF(level, x->stream, "push %u: %s", x->id, msg);
	json_array_append_new(x->logs, json_pack("[I s o]", (json_int_t)time(NULL),
						 log_level_name(level), jstr(msg)));
	while (json_array_size(x->logs) > PUSHES_MAX_LOGS)
		json_array_remove(x->logs, 0);
}

static void reap_all(struct pushes *p);

static void soon_cb(uv_timer_t *t)
{
	reap_all(t->data);
}

static void on_ended(void *arg, int err, const char *why)
{
	struct push *x = arg;
	if (x->stopping || x->ended)
		return;
	x->ended = true;
	x->end_err = err;
	snprintf(x->end_why, sizeof(x->end_why), "%s",
		 why && *why ? why
		 : err       ? strerror(err < 0 ? -err : err)
			     : "finished");
	if (!x->mgr->shut)
		uv_timer_start(&x->mgr->soon, soon_cb, 0, 0);
}

static void push_free(struct push *x)
{
	if (!x)
		return;
	free(x->target);
	free(x->actual);
	json_decref(x->logs);
	free(x);
}

/* Stops x's driver (if started), unlinks and frees it. */
static void push_remove(struct pushes *p, struct push *x)
{
	for (struct push **pp = &p->list; *pp; pp = &(*pp)->next) {
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	}
	x->stopping = true;
	if (x->drv->push_stop)
		x->drv->push_stop(x->state);
	push_free(x);
}

static void append(struct pushes *p, struct push *x)
{
	struct push **pp = &p->list;
	while (*pp)
		pp = &(*pp)->next;
	*pp = x;
}

static struct push *find_active(const struct pushes *p, const char *stream, const char *target)
{
	for (struct push *x = p->list; x; x = x->next)
		if (!x->ended && strcmp(x->stream, stream) == 0 && strcmp(x->target, target) == 0)
			return x;
	return NULL;
}

static struct push *push_new(const char *stream, const char *target, const char *actual)
{
	struct push *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	snprintf(x->stream, sizeof(x->stream), "%s", stream);
	x->target = strdup(target);
	x->actual = strdup(actual);
	x->logs = json_array();
	if (!x->target || !x->actual || !x->logs) {
		push_free(x);
		return NULL;
	}
	return x;
}

/* Runs the driver for x; 0 or -errno with the reason in err. */
static int push_run(struct pushes *p, struct push *x, char *err, size_t errlen)
{
	struct push_env env = {
	    .loop = p->env.loop,
	    .hub = p->env.hub,
	    .stream = x->stream,
	    .target = x->actual,
	    .ended = on_ended,
	    .arg = x,
	};
	x->mgr = p;
	x->starting = true;
	int rc = x->drv->push_start(&env, &x->state, err, errlen);
	x->starting = false;
	if (rc < 0 && errlen && !*err)
		snprintf(err, errlen, "%s", strerror(-rc));
	return rc;
}

int pushes_target_ok(const struct pushes *p, const char *target, char *err, size_t errlen)
{
	char actual[MAX_TARGET_BYTES];
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	if (pushes_expand(target, "stream", &tm, actual, sizeof(actual)) < 0) {
		snprintf(err, errlen, "target too long");
		return -ENAMETOOLONG;
	}
	if (p->env.lookup && p->env.lookup(actual, DRIVER_OUTPUT))
		return 0;
	snprintf(err, errlen, "no output for target %.300s", target);
	return -ENOENT;
}

int pushes_start(struct pushes *p, const char *stream, const char *target, bool is_auto,
		 unsigned *id, char *err, size_t errlen)
{
	char actual[MAX_TARGET_BYTES];
	*id = 0;
	if (errlen)
		*err = '\0';
	if (p->shut) {
		snprintf(err, errlen, "server shutting down");
		return -ESHUTDOWN;
	}
	struct push *x = find_active(p, stream, target);
	if (x) {
		*id = x->id;
		return 1;
	}
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	if (pushes_expand(target, stream, &tm, actual, sizeof(actual)) < 0) {
		snprintf(err, errlen, "target too long");
		return -ENAMETOOLONG;
	}
	const struct driver *drv = p->env.lookup ? p->env.lookup(actual, DRIVER_OUTPUT) : NULL;
	if (!drv) {
		snprintf(err, errlen, "no output for target %.300s", target);
		return -ENOENT;
	}
	if (!(x = push_new(stream, target, actual))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	x->drv = drv;
	x->is_auto = is_auto;
	x->was_live = stream_live(p, stream);
	x->id = p->last_id + 1;
	x->started_ms = now_ms(p);
	int rc = push_run(p, x, err, errlen);
	if (rc < 0) {
		push_free(x);
		return rc;
	}
	p->last_id = x->id;
	append(p, x);
	push_log(x, LOG_INFO, "%s%s started to %s (%s)", is_auto ? "auto-push " : "", stream,
		 actual, drv->name);
	if (x->ended)
		uv_timer_start(&p->soon, soon_cb, 0, 0);
	if (!x->was_live && p->env.want)
		p->env.want(p->env.want_arg, stream);
	*id = x->id;
	return 0;
}

static void collect_live(struct hub_stream *s, void *arg)
{
	if (hub_stream_state(s) == STREAM_READY)
		json_array_append_new(arg, json_string(hub_stream_name(s)));
}

/* Names of the live (READY) streams, collected before anything starts. */
static json_t *live_names(const struct pushes *p)
{
	json_t *names = json_array();
	if (names && p->env.hub)
		hub_foreach(p->env.hub, collect_live, names);
	return names;
}

int pushes_start_matching(struct pushes *p, const char *rule, const char *target, bool is_auto,
			  json_t *ids)
{
	json_t *names = live_names(p);
	int n = 0;
	size_t i;
	json_t *v;
	json_array_foreach(names, i, v)
	{
		const char *name = json_string_value(v);
		if (!name || !pushes_rule_matches(*p->env.rootp, rule, name))
			continue;
		char err[256];
		unsigned id;
		if (pushes_start(p, name, target, is_auto, &id, err, sizeof(err)) < 0) {
			LOGF(LOG_WARN, name, "push to %s failed: %s", target, err);
			continue;
		}
		if (ids)
			json_array_append_new(ids, json_integer(id));
		n++;
	}
	json_decref(names);
	return n;
}

int pushes_stop(struct pushes *p, unsigned id, const char *why)
{
	for (struct push *x = p->list; x; x = x->next) {
		if (x->id != id)
			continue;
		LOGF(LOG_INFO, x->stream, "push %u to %s stopped: %s", x->id, x->actual, why);
		push_remove(p, x);
		return 0;
	}
	return -ENOENT;
}

static void reap_all(struct pushes *p)
{
	for (struct push *x = p->list, *next; x; x = next) {
		next = x->next;
		if (!x->ended)
			continue;
		LOGF(LOG_INFO, x->stream, "push %u to %s ended: %s", x->id, x->actual, x->end_why);
		push_remove(p, x);
	}
}

json_t *pushes_list(const struct pushes *p)
{
	json_t *out = json_array();
	uint64_t now = now_ms(p);
	for (const struct push *x = p->list; out && x; x = x->next) {
		if (x->ended)
			continue;
		json_t *status =
		    json_pack("{ss sI sb ss}", "state", x->was_live ? "active" : "waiting",
			      "active_seconds", (json_int_t)((now - x->started_ms) / 1000), "auto",
			      x->is_auto, "output", x->drv->name);
		json_t *logs = json_deep_copy(x->logs);
		json_array_append_new(out, json_pack("[I o o o o o]", (json_int_t)x->id,
						     jstr(x->stream), jstr(x->target),
						     jstr(x->actual), logs ? logs : json_array(),
						     status ? status : json_object()));
	}
	return out;
}

/* Stops pushes whose stream went offline or never came. */
static void check_streams(struct pushes *p, uint64_t now)
{
	for (struct push *x = p->list, *next; x; x = next) {
		next = x->next;
		if (x->ended)
			continue;
		if (stream_live(p, x->stream)) {
			if (!x->was_live)
				push_log(x, LOG_MEDIUM, "stream %s is live", x->stream);
			x->was_live = true;
		} else if (x->was_live) {
			pushes_stop(p, x->id, "stream went offline");
		} else if (now >= x->started_ms + PUSHES_BOOT_TIMEOUT_S * 1000) {
			pushes_stop(p, x->id, "stream did not become live");
		}
	}
}

static struct waiting *waiting_get(struct pushes *p, const char *stream, const char *target,
				   bool create)
{
	for (struct waiting *w = p->waiting; w; w = w->next)
		if (strcmp(w->stream, stream) == 0 && strcmp(w->target, target) == 0)
			return w;
	if (!create)
		return NULL;
	struct waiting *w = calloc(1, sizeof(*w));
	if (!w || !(w->target = strdup(target))) {
		free(w);
		return NULL;
	}
	snprintf(w->stream, sizeof(w->stream), "%s", stream);
	w->next = p->waiting;
	p->waiting = w;
	return w;
}

/* Drops the waiting entries not matched in this check (all = every one). */
static void waiting_prune(struct pushes *p, bool all)
{
	for (struct waiting **pp = &p->waiting; *pp;) {
		struct waiting *w = *pp;
		if (w->seen && !all) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		free(w->target);
		free(w);
	}
}

struct auto_round {
	long long wait, maxspeed;
	long long started;
};

/* One live stream matching one rule: count the check, start when due. */
static void auto_consider(struct pushes *p, struct auto_round *r, const char *stream,
			  const char *target)
{
	if (find_active(p, stream, target))
		return; /* running: its waiting entry goes unseen and is dropped */
	struct waiting *w = waiting_get(p, stream, target, true);
	if (!w)
		return;
	w->seen = true;
	if (w->count++ < r->wait || (r->maxspeed && r->started >= r->maxspeed))
		return;
	r->started++;
	char err[256];
	unsigned id;
	if (pushes_start(p, stream, target, true, &id, err, sizeof(err)) < 0) {
		LOGF(w->failures++ ? LOG_MEDIUM : LOG_WARN, stream, "auto-push to %s failed: %s",
		     target, err);
		w->count = 0;
		return;
	}
	w->failures = 0;
	w->count = 0;
}

static void auto_check(struct pushes *p)
{
	const json_t *root = *p->env.rootp;
	const json_t *rules = json_object_get(root, "autopushes");
	struct auto_round r = {0};
	pushes_settings(root, &r.wait, &r.maxspeed);
	for (struct waiting *w = p->waiting; w; w = w->next)
		w->seen = false;
	json_t *names = json_array_size(rules) ? live_names(p) : NULL;
	size_t i, k;
	const json_t *rule, *v;
	json_array_foreach(rules, i, rule)
	{
		const char *rs = json_string_value(json_array_get(rule, 0));
		const char *rt = json_string_value(json_array_get(rule, 1));
		if (!rs || !rt || !*rt)
			continue;
		json_array_foreach(names, k, v)
		{
			const char *name = json_string_value(v);
			if (pushes_rule_matches(root, rs, name))
				auto_consider(p, &r, name, rt);
		}
	}
	json_decref(names);
	waiting_prune(p, false);
}

void pushes_check(struct pushes *p)
{
	if (!p || p->shut)
		return;
	reap_all(p);
	check_streams(p, now_ms(p));
	auto_check(p);
}

static void tick_cb(uv_timer_t *t)
{
	pushes_check(t->data);
}

struct pushes *pushes_new(const struct pushes_env *env)
{
	struct pushes *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->env = *env;
	uv_timer_init(env->loop, &p->tick);
	uv_timer_init(env->loop, &p->soon);
	p->tick.data = p->soon.data = p;
	p->handles_open = 2;
	uv_timer_start(&p->tick, tick_cb, CHECK_MS, CHECK_MS);
	return p;
}

static void handle_closed(uv_handle_t *h)
{
	struct pushes *p = h->data;
	if (--p->handles_open == 0 && p->orphaned)
		free(p);
}

void pushes_shutdown(struct pushes *p)
{
	if (!p || p->shut)
		return;
	p->shut = true;
	while (p->list) {
		LOGF(LOG_MEDIUM, p->list->stream, "push %u to %s stopped (shutdown)", p->list->id,
		     p->list->actual);
		push_remove(p, p->list);
	}
	waiting_prune(p, true);
	uv_close((uv_handle_t *)&p->tick, handle_closed);
	uv_close((uv_handle_t *)&p->soon, handle_closed);
}

void pushes_free(struct pushes *p)
{
	if (!p)
		return;
	pushes_shutdown(p);
	if (p->handles_open)
		p->orphaned = true;
	else
		free(p);
}
