/* Addresses for SRT sockets: numeric parsing, and name resolution on
 * libuv's thread pool (never on the loop). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/srt/srt-t.h"

int wsrt_sockaddr(const char *host, int port, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *in = (struct sockaddr_in *)out;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
	if (!host || !*host) {
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_any;
		in6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -EINVAL;
}

struct wsrt_resolve {
	uv_getaddrinfo_t req;
	wsrt_resolved_fn cb;
	void *arg;
	int port;
	bool cancelled;
};

static void resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct wsrt_resolve *r = req->data;
	if (!r->cancelled) {
		struct sockaddr_storage ss = {0};
		if (status == 0 && res && res->ai_addrlen <= sizeof(ss)) {
			memcpy(&ss, res->ai_addr, res->ai_addrlen);
			if (ss.ss_family == AF_INET)
				((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)r->port);
			else
				((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)r->port);
		} else if (status == 0) {
			status = UV_EAI_NONAME;
		}
		r->cb(r->arg, status, status ? NULL : (struct sockaddr *)&ss);
	}
	uv_freeaddrinfo(res);
	free(r);
}

int wsrt_resolve_start(uv_loop_t *loop, const char *host, int port, wsrt_resolved_fn cb, void *arg,
		       struct wsrt_resolve **out)
{
	struct wsrt_resolve *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cb = cb;
	r->arg = arg;
	r->port = port;
	r->req.data = r;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
	int rc = uv_getaddrinfo(loop, &r->req, resolved, host, NULL, &hints);
	if (rc < 0) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void wsrt_resolve_cancel(struct wsrt_resolve *r)
{
	if (!r)
		return;
	r->cancelled = true; /* freed by its callback, which libuv always runs */
	uv_cancel((uv_req_t *)&r->req);
}

int wsrt_target(uv_loop_t *loop, const struct wsrt_url *u, struct sockaddr_storage *ss, bool *now,
		wsrt_resolved_fn cb, void *arg, struct wsrt_resolve **out)
{
	*now = wsrt_sockaddr(u->host, u->port, ss) == 0;
	if (*now)
		return 0;
	return wsrt_resolve_start(loop, u->host, u->port, cb, arg, out);
}
