/* The config store: MistServer-like JSON (jansson), validated on load and
 * on every change, saved atomically. Pure apart from file I/O: nothing
 * here touches the loop, the hub or a socket, so every function is usable
 * from tests, fuzzers and (config_write_atomic) a worker thread.
 *
 * Layout: { "config": {controller, protocols, serverid, debug,
 * trust_loopback, trustedproxy, ...}, "streams": {name: {source, ...}},
 * "account": {user: {password: md5hex}} }. Unknown keys are kept. */
#ifndef WEIR_CONTROL_CONFIG_H
#define WEIR_CONTROL_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CONFIG_DEFAULT_PATH     "./weir.json"
#define CONFIG_DEFAULT_API_PORT 4242
#define CONFIG_DEFAULT_DEBUG    4

/* ---- load / save ---- */

/* The embedded default config (written on first run). New reference. */
json_t *config_default(void);

/* Parses and validates text[0..len). Returns 0 and a new reference in
 * *out, or -EINVAL with "line L, column C: why" (not JSON) or the key path
 * ("streams.live.DVR: expected an integer") in err. */
int config_parse(const char *text, size_t len, json_t **out, char *err, size_t errlen);

/* Reads and validates the file at path. -ENOENT when it does not exist,
 * -EINVAL when invalid (err names the key), other -errno on I/O errors.
 * The file is never modified. */
int config_load(const char *path, json_t **out, char *err, size_t errlen);

/* config_load, but when the file does not exist writes the embedded
 * default there first (and returns it). */
int config_load_or_create(const char *path, json_t **out, char *err, size_t errlen);

/* The file text for root: a copy without API annotations ("online",
 * "error"), indented, newline-terminated. malloc'd (caller frees), NULL on
 * ENOMEM. Loop thread (touches root). */
char *config_serialize(const json_t *root);

/* Writes text atomically: <path>.tmp, fsync, rename over path, fsync the
 * directory. Keeps an existing file's permission bits (new files: 0600,
 * the file holds password hashes). Thread-safe: touches only its
 * arguments. 0 or -errno with a reason in err. */
int config_write_atomic(const char *path, const char *text, size_t len, char *err, size_t errlen);

/* config_serialize + config_write_atomic, synchronously. */
int config_save(const char *path, const json_t *root, char *err, size_t errlen);

/* ---- validation (validate.c) ---- */

/* Checks the whole tree: types of known keys, ranges, stream names,
 * connectors known to the driver registry. 0 or -EINVAL with the key path
 * and the problem in err. Null values of optional keys count as absent. */
int config_validate(const json_t *root, char *err, size_t errlen);
/* One stream entry (streams.<name>) / one protocol entry
 * (config.protocols[idx]), with the same messages as config_validate. */
int config_validate_stream(const char *name, const json_t *st, char *err, size_t errlen);
int config_validate_protocol(size_t idx, const json_t *p, char *err, size_t errlen);
/* True when name may key streams.<name>: already sanitized, no '+'. */
bool config_stream_name_ok(const char *name);

/* Removes the API annotations ("online", "error") from every stream and
 * protocol entry of root (in place). */
void config_strip_annotations(json_t *root);
/* Removes annotation keys and null-valued members of one object (API
 * input cleaning: MistServer's UI sends unset fields as null). */
void config_clean_entry(json_t *obj);

/* ---- accessors (never NULL for the object getters: created on demand) ---- */

json_t *config_section(json_t *root, const char *key); /* root.<key> as object */
json_t *config_protocols(json_t *root);                /* config.protocols as array */
/* config.<key> as integer / bool with a default when absent or null. */
long long config_int(const json_t *root, const char *key, long long def);
bool config_bool(const json_t *root, const char *key, bool def);
/* config.controller.port / .interface ("" when unset). */
int config_api_port(const json_t *root);
const char *config_api_iface(const json_t *root);
/* True when account holds at least one user. */
bool config_has_accounts(const json_t *root);
/* Creates or replaces account user with md5hex(password). 0, -ENOMEM, or
 * -EINVAL for a user name that is not UTF-8. */
int config_set_account(json_t *root, const char *user, const char *password);

#endif
