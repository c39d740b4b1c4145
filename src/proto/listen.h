/* Listening TCP sockets for the protocol connectors. */
#ifndef WEIR_PROTO_LISTEN_H
#define WEIR_PROTO_LISTEN_H

#include <stddef.h>
#include <uv.h>

/* Binds tcp (already uv_tcp_init'ed by the caller, who also closes it on
 * failure) to iface:port and listens. iface NULL or "" = all IPv4
 * interfaces; an address with ':' is IPv6. Returns 0 or a libuv error,
 * with "cannot listen on <iface>:<port>: <reason>" in err (may be NULL). */
int net_listen_tcp(uv_tcp_t *tcp, const char *iface, int port, int backlog, uv_connection_cb cb,
		   char *err, size_t errlen);

#endif
