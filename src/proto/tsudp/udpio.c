/* UDP endpoints, multicast joins and sendmmsg batches (see udpio.h). */
#include "proto/tsudp/udpio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/url.h"

#define RECV_BUFFER_BYTES (4 * 1024 * 1024)

static bool is_multicast(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return IN_MULTICAST(ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr));
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_MULTICAST(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return false;
}

/* Fills ss from a numeric host ("" = any IPv4). False when not numeric. */
static bool numeric_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (!uv_ip4_addr(*host ? host : "0.0.0.0", port, (struct sockaddr_in *)ss)) {
		*len = sizeof(struct sockaddr_in);
		return true;
	}
	if (!uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss)) {
		*len = sizeof(struct sockaddr_in6);
		return true;
	}
	return false;
}

int udpio_parse(const char *url, bool need_host, struct udpio_addr *a, char *err, size_t errlen)
{
	struct url u;
	memset(a, 0, sizeof(*a));
	a->ttl = 1;
	if (url_parse(url, &u) < 0 || u.port <= 0 || u.port > 65535) {
		snprintf(err, errlen, "bad URL (expected %s://[host]:port)", u.scheme);
		return -EINVAL;
	}
	if (need_host && !u.host[0]) {
		snprintf(err, errlen, "a host is needed in %s", url);
		return -EINVAL;
	}
	snprintf(a->host, sizeof(a->host), "%s", u.host);
	a->port = u.port;
	/* /iface in the path (MistServer's form), or ?iface= */
	const char *p = u.path[0] == '/' ? u.path + 1 : u.path;
	snprintf(a->iface, sizeof(a->iface), "%.63s", p);
	char v[64];
	if (query_get(u.query, "iface", v, sizeof(v)) > 0)
		snprintf(a->iface, sizeof(a->iface), "%s", v);
	if (query_get(u.query, "ttl", v, sizeof(v)) > 0) {
		a->ttl = atoi(v);
		if (a->ttl < 0 || a->ttl > 255) {
			snprintf(err, errlen, "ttl must be 0..255");
			return -EINVAL;
		}
	}
	a->numeric = numeric_addr(a->host, a->port, &a->ss, &a->sslen);
	a->multicast = a->numeric && is_multicast(&a->ss);
	return 0;
}

void udpio_set_resolved(struct udpio_addr *a, const struct sockaddr *sa)
{
	memset(&a->ss, 0, sizeof(a->ss));
	a->sslen =
	    sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	memcpy(&a->ss, sa, a->sslen);
	if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons((uint16_t)a->port);
	else
		((struct sockaddr_in *)&a->ss)->sin_port = htons((uint16_t)a->port);
	a->numeric = true;
	a->multicast = is_multicast(&a->ss);
}

void udpio_with_port(const struct udpio_addr *a, int port, struct sockaddr_storage *out)
{
	*out = a->ss;
	if (out->ss_family == AF_INET6)
		((struct sockaddr_in6 *)out)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)out)->sin_port = htons((uint16_t)port);
}

/* The IPv4 address of an interface given by name or address ("" = let
 * the kernel pick). Writes "" when unknown. */
static void iface_addr(const char *iface, char *out, size_t len)
{
	struct sockaddr_in sin;
	*out = 0;
	if (!*iface)
		return;
	if (!uv_ip4_addr(iface, 0, &sin)) {
		snprintf(out, len, "%s", iface);
		return;
	}
	uv_interface_address_t *ifs;
	int n;
	if (uv_interface_addresses(&ifs, &n))
		return;
	for (int i = 0; i < n && !*out; i++)
		if (!strcmp(ifs[i].name, iface) && ifs[i].address.address4.sin_family == AF_INET)
			uv_ip4_name(&ifs[i].address.address4, out, len);
	uv_free_interface_addresses(ifs, n);
}

int udpio_bind(uv_loop_t *loop, uv_udp_t *h, const struct udpio_addr *a, int port, char *err,
	       size_t errlen)
{
	int rc = uv_udp_init_ex(
	    loop, h, (a->ss.ss_family == AF_INET6 ? AF_INET6 : AF_INET) | UV_UDP_RECVMMSG);
	if (rc) {
		uv_udp_init(loop, h); /* a closable handle all the same */
		snprintf(err, errlen, "cannot open a UDP socket: %s", uv_strerror(rc));
		return rc;
	}
	struct sockaddr_storage ss;
	udpio_with_port(a, port > 0 ? port : a->port, &ss);
	rc = uv_udp_bind(h, (struct sockaddr *)&ss, a->multicast ? UV_UDP_REUSEADDR : 0);
	if (rc) {
		snprintf(err, errlen, "cannot bind UDP %s:%d: %s", *a->host ? a->host : "*",
			 port > 0 ? port : a->port, uv_strerror(rc));
		return rc;
	}
	int size = RECV_BUFFER_BYTES;
	uv_recv_buffer_size((uv_handle_t *)h, &size); /* best effort */
	if (!a->multicast)
		return 0;
	char ifa[64];
	iface_addr(a->iface, ifa, sizeof(ifa));
	rc = uv_udp_set_membership(h, a->host, *ifa ? ifa : NULL, UV_JOIN_GROUP);
	if (rc)
		snprintf(err, errlen, "cannot join %s on %s: %s", a->host,
			 *a->iface ? a->iface : "the default interface", uv_strerror(rc));
	return rc;
}

int udpio_sender(uv_loop_t *loop, uv_udp_t *h, const struct udpio_addr *a, char *err, size_t errlen)
{
	int rc = uv_udp_init_ex(loop, h, a->ss.ss_family == AF_INET6 ? AF_INET6 : AF_INET);
	if (rc) {
		uv_udp_init(loop, h); /* a closable handle all the same */
		snprintf(err, errlen, "cannot open a UDP socket: %s", uv_strerror(rc));
		return rc;
	}
	struct sockaddr_storage any;
	socklen_t len;
	numeric_addr(a->ss.ss_family == AF_INET6 ? "::" : "0.0.0.0", 0, &any, &len);
	rc = uv_udp_bind(h, (struct sockaddr *)&any, 0);
	if (!rc && a->multicast) {
		char ifa[64];
		iface_addr(a->iface, ifa, sizeof(ifa));
		rc = uv_udp_set_multicast_ttl(h, a->ttl);
		if (!rc && *ifa)
			rc = uv_udp_set_multicast_interface(h, ifa);
		if (!rc)
			rc = uv_udp_set_multicast_loop(h, 1);
	}
	if (rc)
		snprintf(err, errlen, "cannot set up UDP to %s:%d: %s", a->host, a->port,
			 uv_strerror(rc));
	return rc;
}

int udpio_sendmmsg(uv_udp_t *h, struct mmsghdr *msgs, unsigned n)
{
	uv_os_fd_t fd;
	if (uv_fileno((uv_handle_t *)h, &fd))
		return -EBADF;
	unsigned done = 0;
	while (done < n) {
		int rc = sendmmsg(fd, msgs + done, n - done, MSG_DONTWAIT);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
				break;
			if (errno == ECONNREFUSED) { /* an ICMP error from an earlier send */
				done++;
				continue;
			}
			return done ? (int)done : -errno;
		}
		done += (unsigned)rc;
	}
	return (int)done;
}

void udpio_host_str(const struct sockaddr *sa, char *buf, size_t len)
{
	*buf = 0;
	if (sa->sa_family == AF_INET)
		uv_ip4_name((const struct sockaddr_in *)sa, buf, len);
	else if (sa->sa_family == AF_INET6)
		uv_ip6_name((const struct sockaddr_in6 *)sa, buf, len);
}
