#include "proto/listen.h"

#include <stdio.h>
#include <string.h>

int net_listen_tcp(uv_tcp_t *tcp, const char *iface, int port, int backlog, uv_connection_cb cb,
		   char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	if (!iface || !*iface)
		iface = "0.0.0.0";
	int rc = strchr(iface, ':') ? uv_ip6_addr(iface, port, (struct sockaddr_in6 *)&addr)
				    : uv_ip4_addr(iface, port, (struct sockaddr_in *)&addr);
	if (!rc)
		rc = uv_tcp_bind(tcp, (struct sockaddr *)&addr, 0);
	if (!rc)
		rc = uv_listen((uv_stream_t *)tcp, backlog, cb);
	if (rc && err)
		snprintf(err, errlen, "cannot listen on %s:%d: %s", iface, port, uv_strerror(rc));
	return rc;
}
