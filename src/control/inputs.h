/* Input manager: runs the pull inputs of streams whose source is not
 * push:// (srt://, rist://, tsudp://, files, ...), each through the input
 * driver whose patterns match the source (the lookup function; the server
 * passes driver_for_url).
 *
 *  - always_on streams: started when the config says so (inputs_apply),
 *    restarted when they end, after 1 s, 2 s, 5 s, then every 10 s until
 *    the stream gets READY again (which resets the backoff).
 *  - on demand: a viewer asking for a stream that is not live makes the
 *    hub call stream_wanted -> inputs_want, which starts the input of that
 *    name (a wildcard "base+x" uses base's config). It is stopped after
 *    `inputtimeout` seconds (default 30) without readers; when it ends by
 *    itself it stays stopped until wanted again.
 *  - a stream deleted, or whose source changed, loses its inputs at the
 *    next inputs_apply (the API and SIGHUP call it after every change).
 *
 * Driver contract (proto/registry.h): input_start either succeeds (0 and a
 * state; input_stop is then called exactly once) or fails (-errno, no
 * stop). The driver reports its own end once through env->ended, possibly
 * from inside input_start; the manager then calls input_stop from the
 * loop, never from inside the driver's callback. No ended after stop.
 *
 * Loop-thread only. */
#ifndef WEIR_CONTROL_INPUTS_H
#define WEIR_CONTROL_INPUTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "proto/registry.h"

#define INPUTS_DEFAULT_TIMEOUT_S 30

struct hub;
struct inputs;

struct inputs_env {
	uv_loop_t *loop;
	struct hub *hub;
	json_t *const *rootp; /* the current config root, followed through the pointer */
	/* Driver for a source URL (driver_for_url in the server). */
	const struct driver *(*lookup)(const char *url, enum driver_kind kind);
	/* Clock in ms; NULL = uv_now(loop). Tests inject a fake one. */
	uint64_t (*now_ms)(void *arg);
	void *clock_arg;
};

/* env is copied. NULL on ENOMEM. Starts a 250 ms timer on env->loop. */
struct inputs *inputs_new(const struct inputs_env *env);

/* Brings the running inputs in line with the config: stops those whose
 * stream is gone or whose source changed, updates always_on flags, and
 * queues the start of always_on inputs that do not run (they start on
 * the next loop iteration, after the caller's kicks). */
void inputs_apply(struct inputs *in);

/* A viewer wants stream `name` (unsanitized): starts its input unless one
 * runs or waits for a restart. No-op for push:// or unknown streams. */
void inputs_want(struct inputs *in, const char *name);

/* One round of the manager's work (what its timer runs): reaps ended
 * inputs, restarts due always_on inputs, stops idle on-demand ones.
 * Public for tests. */
void inputs_tick(struct inputs *in);

/* Annotates an API streams answer (name -> annotated config) with the
 * inputs' view: "online": 2 while an input runs but its stream is not
 * READY yet; "error": the last input failure of that stream when it is
 * not online. */
void inputs_annotate(const struct inputs *in, json_t *streams);

/* True when an input for that exact stream name has been started and
 * not stopped (booting or running). */
bool inputs_running(const struct inputs *in, const char *name);

/* Stops every input and closes the timers (no restarts afterwards). */
void inputs_shutdown(struct inputs *in);
/* Shuts down if needed and frees (after the loop ran the close callbacks,
 * or from them). NULL ok. */
void inputs_free(struct inputs *in);

#endif
