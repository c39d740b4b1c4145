/* The control plane: config store, MistServer-compatible JSON API on the
 * API port, listener management from config.protocols, and the hub's
 * publish policy. Owns the config (jansson); everything below it learns
 * settings through the hub policy hooks and driver listen() arguments. */
#ifndef WEIR_CONTROL_CONTROL_H
#define WEIR_CONTROL_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct hub;
struct control;

struct control_opts {
	const char *config_path; /* default "./weir.json" */
	int api_port;            /* -1: from config (default 4242) */
	const char *api_iface;   /* NULL: from config (default all) */
	int debug;               /* -1: from config (default 4) */
	const char *account;     /* "user:pass" to create/replace, or NULL */
};

/* Loads the config (writing the embedded default when the file does not
 * exist), validates it, applies it: log level, API listener, protocol
 * listeners, hub policy. On a bad file returns -EINVAL with the offending
 * key named in err, and leaves the file untouched. */
int control_new(uv_loop_t *loop, struct hub *hub, const struct control_opts *o,
		struct control **out, char *err, size_t errlen);
/* SIGHUP: re-reads the file; if invalid, logs the error (key named) and
 * keeps running with the current config. 0 or -errno. */
int control_reload(struct control *c);
/* Stops all pushes, inputs, listeners and the API; the loop can then end. */
void control_shutdown(struct control *c);
void control_free(struct control *c);

#endif
