/* The static driver registry: every protocol's inputs, outputs and
 * listeners, fixed at build time (like FFmpeg's format lists). The API's
 * `capabilities` answer and the listener manager are built from it.
 * Adding a protocol = a folder under src/proto + one line in registry.c. */
#ifndef WEIR_PROTO_REGISTRY_H
#define WEIR_PROTO_REGISTRY_H

#include <jansson.h>
#include <uv.h>

struct hub;
struct http_conn;
struct http_request;

enum driver_kind {
	DRIVER_INPUT,    /* publishes into a stream (source patterns) */
	DRIVER_OUTPUT,   /* reads from a stream (URL patterns, push targets) */
	DRIVER_LISTENER, /* owns a listening socket: a "connector" in config.protocols */
};

/* A running input (pull source) or push (output to a target URL) reports
 * its end through this callback (err 0: finished normally), once, after
 * which the manager calls stop. */
typedef void (*driver_ended_fn)(void *arg, int err, const char *why);

/* What an input driver gets: it publishes `stream` from `source` with
 * hub_publish_begin (req.internal = true) and ends when told to stop. */
struct input_env {
	uv_loop_t *loop;
	struct hub *hub;
	const char *stream;       /* full stream name, e.g. "cam1" or "srtin+x" */
	const char *source;       /* the configured source URL */
	const json_t *stream_cfg; /* streams.<base> object (options: always_on, ...) */
	driver_ended_fn ended;
	void *arg;
};

/* What a push driver gets: it reads `stream` (hub_find + hub_reader_new;
 * wait for it to be READY) and sends it to `target`. */
struct push_env {
	uv_loop_t *loop;
	struct hub *hub;
	const char *stream;
	const char *target; /* URL after variable substitution, e.g. "srt://127.0.0.1:9000" */
	driver_ended_fn ended;
	void *arg;
};

/* What a listener needs from the server. */
struct server_env {
	uv_loop_t *loop;
	struct hub *hub;
	void *control; /* struct control *, opaque below the control layer */
};

struct driver {
	const char *name; /* "RTMP", "HTTP", "FLV", ... (MistServer's connector names) */
	const char *desc;
	enum driver_kind kind;
	const char *const *patterns; /* NULL-terminated, e.g. "rtmp://<star>", "push://" */
	const char *const *codecs;   /* NULL-terminated codec names it carries */
	int priority;                /* higher wins when several inputs match */
	/* listeners only */
	int default_port;
	const char *transport; /* "tcp" or "udp" */
	/* Starts listening as described by cfg (one config.protocols entry:
	 * "port", "interface", ...). Returns 0 and an opaque *state, or a
	 * negative errno with a reason in err. */
	int (*listen)(const struct server_env *env, const json_t *cfg, void **state, char *err,
		      size_t errlen);
	/* Stops listening; open connections may finish. state may be NULL. */
	void (*unlisten)(void *state);
	/* Inputs: start pulling env->source into env->stream. The env strings
	 * are valid until stop; copy what is kept. 0 and *state, or -errno
	 * with a reason in err. */
	int (*input_start)(const struct input_env *env, void **state, char *err, size_t errlen);
	void (*input_stop)(void *state);
	/* Push outputs (targets matched by .patterns): same contract. */
	int (*push_start)(const struct push_env *env, void **state, char *err, size_t errlen);
	void (*push_stop)(void *state);
	/* Server shutdown: release module-wide state (caches, timers). */
	void (*shutdown)(void);
	/* HTTP-based outputs: URL patterns on the HTTP listener and their
	 * handler (see proto/http/http.h for patterns and the contract). */
	const char *const *http_routes;
	int (*http_handler)(struct http_conn *c, struct http_request *req,
			    const struct server_env *env);
	/* MIME-ish type announced in the stream info's source list
	 * ("flash/7", "html5/video/mp4", ...), with its priority, and the
	 * URL form: "%s" is replaced by the stream name. */
	const char *source_type;
	int source_priority;
	const char *source_url; /* e.g. "/%s.flv", or "rtmp:/play/%s" for the RTMP port */
};

/* NULL-terminated list of every driver. */
extern const struct driver *const driver_registry[];

/* Calls every driver's shutdown hook (before the hub goes away). */
void driver_shutdown_all(void);

/* The input or push driver whose patterns match url (highest priority
 * first; globs with an asterisk as wildcard, as in the patterns). */
const struct driver *driver_for_url(const char *url, enum driver_kind kind);

/* Driver by name (case-insensitive) and kind, or NULL. */
const struct driver *driver_find(const char *name, enum driver_kind kind);

/* Ports the running listeners use, so outputs can advertise URLs
 * (json_<s>.js source list). Set by the listener manager. */
void listener_note_port(const char *name, int port); /* port 0 = stopped */
int listener_port(const char *name);                 /* 0 when not listening */

#endif
