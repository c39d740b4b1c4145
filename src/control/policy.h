/* The hub's publish policy, decided from the stream config, in
 * MistServer's order: sanitize the name, find the base stream's config,
 * the source must be push://, then host allow-list or password. Internal
 * publishes (inputs started by the control plane) need a pull source
 * instead and use the name as given. */
#ifndef WEIR_CONTROL_POLICY_H
#define WEIR_CONTROL_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "hub/hub.h"

#define POLICY_DEFAULT_DVR_MS   50000
#define POLICY_DEFAULT_GRACE_MS 5000

/* Checks req against root (the whole config). Same contract as
 * hub_policy.publish_check: 0 with the sanitized name and options, or
 * -ENOENT (unknown stream) / -EACCES (denied) with a reason in why. */
int policy_check(const json_t *root, const struct hub_publish_req *req, char *name_out,
		 size_t name_len, struct hub_stream_opts *opts, char *why, size_t why_len);

/* True when host (an address) matches one allow-list entry: a literal
 * address (case-insensitive), "localhost" (any loopback address) or a
 * CIDR block ("10.0.0.0/8", "fd00::/8"). */
bool policy_host_matches(const char *entry, const char *host);

/* The hub_policy for a config root reached through *rootp (so the policy
 * follows config replacements without being reinstalled). */
struct hub_policy policy_make(json_t *const *rootp);

/* What the server's policy needs beyond the config. */
struct policy_env {
	json_t *const *rootp; /* as for policy_make */
	/* hub_policy.stream_wanted: start the pull input of stream `name` (as
	 * the viewer asked for it, unsanitized). May be NULL. */
	void (*wanted)(void *arg, const char *name);
	void *arg;
};

/* policy_make plus stream_wanted. env is not copied: it must outlive the
 * policy (keep it in the owner's struct). */
struct hub_policy policy_make_env(const struct policy_env *env);

#endif
