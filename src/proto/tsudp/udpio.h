/* UDP sockets for the TS transports: addresses of tsudp:// and tsrtp://
 * URLs, receiving sockets (unicast bind or multicast join) and batched
 * sends with sendmmsg on a libuv UDP handle's descriptor. */
#ifndef WEIR_PROTO_TSUDP_UDPIO_H
#define WEIR_PROTO_TSUDP_UDPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

/* An endpoint from a URL: scheme://[host]:port[/iface][?ttl=N&iface=X] */
struct udpio_addr {
	char host[256]; /* "" for any (receivers) */
	int port;
	char iface[64]; /* interface name or address for multicast, "" default */
	int ttl;        /* multicast TTL (default 1) */
	bool multicast;
	bool numeric; /* host is an IPv4/IPv6 literal (or empty) */
	struct sockaddr_storage ss;
	socklen_t sslen;
};

/* Parses url into a. need_host: a push target must name a host. The
 * address is filled in when the host is numeric (else resolve it with
 * udpio_resolve). 0 or -EINVAL with a reason in err. */
int udpio_parse(const char *url, bool need_host, struct udpio_addr *a, char *err, size_t errlen);

/* Sets a's address from a resolved one (uv_getaddrinfo), keeping the port. */
void udpio_set_resolved(struct udpio_addr *a, const struct sockaddr *sa);

/* The address a with another port (FEC streams at port + 2, + 4). */
void udpio_with_port(const struct udpio_addr *a, int port, struct sockaddr_storage *out);

/* Opens h (initialised here, with recvmmsg) bound to a's port: on the
 * group after joining it when a is multicast (on a->iface), else on
 * a->host or any address. port overrides a->port when > 0. 0, or a
 * negative libuv error with a reason in err; h is initialised in both
 * cases (close it). */
int udpio_bind(uv_loop_t *loop, uv_udp_t *h, const struct udpio_addr *a, int port, char *err,
	       size_t errlen);

/* Opens h (initialised here) for sending to a: bound to an ephemeral
 * port; for multicast with a's TTL and interface, loopback on. Same
 * return contract as udpio_bind. */
int udpio_sender(uv_loop_t *loop, uv_udp_t *h, const struct udpio_addr *a, char *err,
		 size_t errlen);

/* Sends n prepared messages (msg_name set per message) with sendmmsg.
 * Returns how many went out (fewer when the socket buffer is full), or a
 * negative errno on a real error. */
int udpio_sendmmsg(uv_udp_t *h, struct mmsghdr *msgs, unsigned n);

/* The printable address of a sockaddr (no port) into buf. */
void udpio_host_str(const struct sockaddr *sa, char *buf, size_t len);

#endif
