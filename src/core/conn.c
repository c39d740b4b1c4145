#include "core/conn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static struct conn_info *head;
static uint64_t next_id = 1;
static unsigned count;

void conn_register(struct conn_info *c)
{
	c->id = next_id++;
	if (!c->conntime_s)
		c->conntime_s = time(NULL);
	c->prev = NULL;
	c->next = head;
	if (head)
		head->prev = c;
	head = c;
	count++;
}

void conn_unregister(struct conn_info *c)
{
	if (!c->id)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else if (head == c)
		head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	c->id = 0;
	count--;
}

void conn_foreach(void (*fn)(const struct conn_info *c, void *arg), void *arg)
{
	for (struct conn_info *c = head, *n; c; c = n) {
		n = c->next;
		fn(c, arg);
	}
}

unsigned conn_count(void)
{
	return count;
}

void conn_set_host(struct conn_info *c, const void *sockaddr)
{
	const struct sockaddr *sa = sockaddr;
	c->host[0] = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = sockaddr;
		inet_ntop(AF_INET, &in->sin_addr, c->host, sizeof(c->host));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = sockaddr;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], c->host, sizeof(c->host));
		else
			inet_ntop(AF_INET6, &in6->sin6_addr, c->host, sizeof(c->host));
	}
}

bool addr_is_loopback(const char *host)
{
	if (!host)
		return false;
	if (!strncmp(host, "::ffff:", 7))
		host += 7;
	return !strncmp(host, "127.", 4) || !strcmp(host, "::1") || !strcmp(host, "localhost");
}

void conn_kill_all(void)
{
	/* kill unregisters; restart from the head each time. */
	struct conn_info *c = head;
	while (c) {
		if (c->kill) {
			c->kill(c);
			c = head;
		} else {
			c = c->next;
		}
	}
}
