/* HTTP-side helpers shared by the HTTP-based outputs. */
#ifndef WEIR_PROTO_HTTP_OUTPUTS_H
#define WEIR_PROTO_HTTP_OUTPUTS_H

#include <stddef.h>

#include "proto/http/http.h"
#include "proto/registry.h"

/* /json_<s>.js and /info_<s>.js: stream info (MistServer format). */
int http_info_handler(struct http_conn *c, struct http_request *req, void *env);

/* Extracts and sanitizes the stream name from a path "/<prefix><name><suffix>".
 * 0, or -EINVAL when the name is not valid. */
int http_stream_from_path(const char *path, const char *prefix, const char *suffix, char *out,
			  size_t outlen);

#endif
