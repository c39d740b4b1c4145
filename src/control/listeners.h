/* Listener manager: keeps the running listeners equal to config.protocols.
 * Each entry is started with its driver's listen() (driver_find by
 * "connector", kind DRIVER_LISTENER; "port" defaults to the driver's
 * default_port). A failed listen is logged at WARN and remembered, so the
 * API can show it ("online": 0, "error": reason) while everything else
 * keeps running. Loop-thread only. */
#ifndef WEIR_CONTROL_LISTENERS_H
#define WEIR_CONTROL_LISTENERS_H

#include <jansson.h>
#include <stdbool.h>

#include "proto/registry.h"

struct listeners;

/* env is copied. NULL on ENOMEM. */
struct listeners *listeners_new(const struct server_env *env);

/* Makes the running set match protos (a config.protocols array; NULL or
 * not an array = none): entries no longer present are stopped first, then
 * new or changed ones started; identical entries keep running untouched.
 * Entries that failed before are retried only when retry_failed is set
 * (SIGHUP) or their config changed. Ports go to listener_note_port.
 * Returns the number of entries that are not listening. */
int listeners_apply(struct listeners *l, const json_t *protos, bool retry_failed);

/* Adds "online" (1/0) and, for failures, "error" to each entry of protos
 * (an annotated copy of config.protocols for API answers). */
void listeners_annotate(const struct listeners *l, json_t *protos);

/* Stops every listener (ports noted as 0). The manager stays usable. */
void listeners_stop_all(struct listeners *l);
/* Stops everything and frees. NULL ok. */
void listeners_free(struct listeners *l);

#endif
