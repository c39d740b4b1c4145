/* Push manager: MistServer's outgoing pushes. A push sends one live
 * stream to a target URL through the output driver whose patterns match
 * the target (the lookup function; the server passes driver_for_url).
 *
 *  - pushes_start: variables in the target are expanded (pushes_expand),
 *    the driver's push_start runs, the push gets an id (1, 2, ...).
 *  - a push whose driver reports its end is stopped and removed (INFO log
 *    with the reason); a push whose stream went offline (was READY, is
 *    not any more) is stopped; a push whose stream never became live
 *    within PUSHES_BOOT_TIMEOUT_S is stopped.
 *  - auto-push rules: config root "autopushes", MistServer 3.x's array of
 *    [stream, target, ...] (extra members kept, unused). The stream part is
 *    a name ("live+cam"), "base+" (every wildcard stream of base) or
 *    "#tag" (every stream whose config "tags" hold tag). Once a second
 *    (pushes_check) every live (READY) stream matching a rule without an
 *    active push to that target counts one check; after
 *    push_settings.wait checks in a row (default 3) the push starts; at
 *    most push_settings.maxspeed pushes start per check (0: no limit).
 *    So a push that died is restarted while its stream is live.
 *
 * Driver contract as for inputs (see inputs.h): push_start 0 + state
 * (push_stop then called once) or -errno (no stop); env->ended at most
 * once, possibly inside push_start; push_stop is called from the loop,
 * never from inside the driver's callback.
 *
 * Loop-thread only. */
#ifndef WEIR_CONTROL_PUSHES_H
#define WEIR_CONTROL_PUSHES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "proto/registry.h"

#define PUSHES_DEFAULT_WAIT   3
#define PUSHES_BOOT_TIMEOUT_S 30
#define PUSHES_MAX_LOGS       10

struct hub;
struct pushes;

struct pushes_env {
	uv_loop_t *loop;
	struct hub *hub;
	json_t *const *rootp; /* the current config root, followed through the pointer */
	/* Driver for a target URL (driver_for_url in the server). */
	const struct driver *(*lookup)(const char *url, enum driver_kind kind);
	/* Asks for a stream that is not live (the server: hub_want, which
	 * boots an on-demand input). May be NULL. */
	void (*want)(void *arg, const char *stream);
	void *want_arg;
	/* Clock in ms; NULL = uv_now(loop). Tests inject a fake one. */
	uint64_t (*now_ms)(void *arg);
	void *clock_arg;
};

/* env is copied. NULL on ENOMEM. Starts a 1 s timer on env->loop. */
struct pushes *pushes_new(const struct pushes_env *env);

/* Starts a push of stream (a sanitized full name) to target (variables
 * not yet expanded). Returns 0 and the new id in *id; 1 and the existing
 * id when a push of that stream to that target runs already; or a
 * negative errno with a reason in err ("no output for target ..."). */
int pushes_start(struct pushes *p, const char *stream, const char *target, bool is_auto,
		 unsigned *id, char *err, size_t errlen);

/* Starts (as pushes_start) a push to target for every live stream that
 * rule matches (see pushes_rule_matches), appending the ids to ids (may be
 * NULL). Failures are logged. Returns the number of ids. */
int pushes_start_matching(struct pushes *p, const char *rule, const char *target, bool is_auto,
			  json_t *ids);

/* Stops push id (why goes to the log). 0, or -ENOENT. */
int pushes_stop(struct pushes *p, unsigned id, const char *why);

/* The push_list answer: [[id, stream, target, actual_target, logs,
 * status], ...] in id order. target is the target as given, actual_target
 * after variable expansion; logs the push's last PUSHES_MAX_LOGS events
 * as [unix_time, "LEVEL", "message"]; status {"state": "waiting" (stream
 * not live yet) | "active", "active_seconds", "auto": bool, "output":
 * driver name}. New reference. */
json_t *pushes_list(const struct pushes *p);

/* 0 when a push driver accepts target (after expansion), else -ENOENT
 * with "no output for target <target>" in err. */
int pushes_target_ok(const struct pushes *p, const char *target, char *err, size_t errlen);

/* The once-a-second work (what the timer runs): reaps ended pushes, stops
 * pushes of offline streams, runs the auto-push rules. Public for tests. */
void pushes_check(struct pushes *p);

/* Stops every push, closes the timers. */
void pushes_shutdown(struct pushes *p);
/* Shuts down if needed and frees (after the loop ran the close callbacks,
 * or from them). NULL ok. */
void pushes_free(struct pushes *p);

/* ---- pure helpers (no manager needed) ---- */

/* Expands $stream, $basename, $wildcard, $datetime
 * ($year.$month.$day.$hour.$minute.$second), $year, $month, $day, $hour,
 * $minute, $second (from tm; two digits, year four) in tmpl for stream.
 * Unknown $words stay as they are. Returns the length, or -ENAMETOOLONG
 * when out (outlen bytes) is too small. */
int pushes_expand(const char *tmpl, const char *stream, const struct tm *tm, char *out,
		  size_t outlen);

/* Normalizes the stream part of a rule or push_start: "#tag" as is, else
 * a stream name sanitized, keeping one trailing '+' ("Live+" -> "live+").
 * Returns the length or -EINVAL / -ENAMETOOLONG / -ENOSPC. */
int pushes_rule_normalize(const char *in, char *out, size_t outlen);

/* Does rule (normalized) select stream (a full name)? "#tag" looks at
 * root.streams.<base>.tags. */
bool pushes_rule_matches(const json_t *root, const char *rule, const char *stream);

/* push_settings from root with defaults (wait 3, maxspeed 0). */
void pushes_settings(const json_t *root, long long *wait, long long *maxspeed);

#endif
