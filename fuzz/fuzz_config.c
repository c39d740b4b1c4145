/* libFuzzer target for config files: parse + validate, then check that a
 * valid config survives a save/load round trip unchanged (apart from the
 * API annotations, which are never saved).
 * clang -fsanitize=fuzzer,address,undefined -std=gnu17 -D_GNU_SOURCE -Isrc \
 *       fuzz/fuzz_config.c src/control/config.c src/control/validate.c \
 *       src/control/auth.c src/core/streamname.c -ljansson -lcrypto */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control/config.h"
#include "proto/registry.h"

/* ---- registry stub: the connectors validation accepts ---- */

static const struct driver fake_http = {.name = "HTTP", .kind = DRIVER_LISTENER};
static const struct driver fake_rtmp = {.name = "RTMP", .kind = DRIVER_LISTENER};
const struct driver *const driver_registry[] = {&fake_http, &fake_rtmp, NULL};

const struct driver *driver_find(const char *name, enum driver_kind kind)
{
	for (const struct driver *const *d = driver_registry; *d; d++)
		if ((*d)->kind == kind && !strcasecmp((*d)->name, name))
			return *d;
	return NULL;
}
void listener_note_port(const char *name, int port) {}
int listener_port(const char *name)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *root = NULL;
	char err[512];
	if (config_parse((const char *)data, size, &root, err, sizeof(err)) != 0) {
		if (root || !err[0])
			abort(); /* a failure always says why and returns nothing */
		return 0;
	}
	char *text = config_serialize(root);
	if (!text)
		abort();
	json_t *again = NULL;
	if (config_parse(text, strlen(text), &again, err, sizeof(err)) != 0)
		abort(); /* what we save must load */
	config_strip_annotations(root);
	if (!json_equal(root, again))
		abort();
	/* the accessors never fail on a valid config */
	int port = config_api_port(root);
	if (port < 1 || port > 65535 || !config_api_iface(root))
		abort();
	json_decref(again);
	json_decref(root);
	free(text);
	return 0;
}
