/* Client TCP connections of the load tool. All connections read into one
 * shared buffer (one loop thread: a read callback always follows its own
 * allocation), and only the unconsumed tail of a read is kept per
 * connection, so thousands of viewers cost little memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define READ_BUF_BYTES (256 * 1024) /* one read() takes at most this much */
#define CARRY_MAX      (64 * 1024)  /* unconsumed bytes one connection may hold */

static uint8_t read_buf[READ_BUF_BYTES];
uint64_t bconn_total_rx;

struct wreq {
	uv_write_t req;
	uint8_t data[];
};

static void on_closed(uv_handle_t *h)
{
	struct bconn *c = container_of(h, struct bconn, tcp);
	free(c->carry);
	c->carry = NULL;
	c->carry_len = c->carry_cap = 0;
	c->ops->closed(c);
}

void bconn_fail(struct bconn *c, const char *why)
{
	if (!c->ended) {
		c->ended = true;
		c->ops->ended(c, why);
	}
	if (c->open) {
		c->open = false;
		uv_close((uv_handle_t *)&c->tcp, on_closed);
	}
}

/* The carried bytes are moved to the start of the shared buffer and the
 * read lands right after them, so the parser sees one contiguous span. */
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct bconn *c = container_of(h, struct bconn, tcp);
	if (c->carry_len)
		memcpy(read_buf, c->carry, c->carry_len);
	*buf = uv_buf_init((char *)read_buf + c->carry_len, READ_BUF_BYTES - c->carry_len);
}

static int keep_rest(struct bconn *c, const uint8_t *p, size_t n)
{
	if (!n)
		return 0;
	if (n > CARRY_MAX)
		return -EMSGSIZE;
	if (n > c->carry_cap) {
		uint8_t *nb = realloc(c->carry, n);
		if (!nb)
			return -ENOMEM;
		c->carry = nb;
		c->carry_cap = (uint32_t)n;
	}
	memmove(c->carry, p, n);
	c->carry_len = (uint32_t)n;
	return 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct bconn *c = container_of(s, struct bconn, tcp);
	if (nread == 0)
		return;
	if (nread < 0) {
		bconn_fail(c, nread == UV_EOF ? "closed by server" : "read error");
		return;
	}
	c->rx_ns = uv_hrtime();
	c->rx_bytes += (uint64_t)nread;
	bconn_total_rx += (uint64_t)nread;
	size_t len = c->carry_len + (size_t)nread;
	c->carry_len = 0;
	long used = c->ops->data(c, read_buf, len);
	if (!c->open || c->ended)
		return;
	if (used < 0 || keep_rest(c, read_buf + used, len - (size_t)used) < 0)
		bconn_fail(c, used == -EPROTO ? "protocol error" : "input error");
}

static void on_connect(uv_connect_t *req, int status)
{
	struct bconn *c = container_of(req, struct bconn, creq);
	if (!c->open)
		return;
	if (status < 0) {
		bconn_fail(c, status == UV_ECONNREFUSED ? "connection refused" : "connect failed");
		return;
	}
	int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	if (!rc)
		rc = c->ops->connected(c);
	if (rc < 0)
		bconn_fail(c, "connect setup failed");
}

int bconn_connect(struct bconn *c, uv_loop_t *loop, const struct bconn_ops *ops, const char *host,
		  int port)
{
	struct sockaddr_in sa;
	int rc = uv_ip4_addr(host, port, &sa);
	if (rc < 0)
		return rc;
	c->ops = ops;
	if ((rc = uv_tcp_init(loop, &c->tcp)) < 0)
		return rc;
	c->open = true;
	uv_tcp_nodelay(&c->tcp, 1);
	rc = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&sa, on_connect);
	if (rc < 0) /* e.g. out of descriptors: a failed viewer, not a failed run */
		bconn_fail(c, rc == UV_EMFILE ? "out of file descriptors" : "connect failed");
	return 0;
}

static void on_written(uv_write_t *req, int status)
{
	free(container_of(req, struct wreq, req));
}

int bconn_write(struct bconn *c, const void *p, size_t len)
{
	if (!c->open)
		return -EPIPE;
	struct wreq *w = malloc(sizeof(*w) + len);
	if (!w)
		return -ENOMEM;
	memcpy(w->data, p, len);
	uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
	int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written);
	if (rc < 0)
		free(w);
	return rc;
}

size_t bconn_queued(const struct bconn *c)
{
	return c->open ? c->tcp.write_queue_size : 0;
}
