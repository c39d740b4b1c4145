/* Private types of the HTTP server. */
#ifndef WEIR_PROTO_HTTP_SERVER_T_H
#define WEIR_PROTO_HTTP_SERVER_T_H

#include "core/bytes.h"
#include "proto/http/http.h"
#include "proto/netout.h"

#define HTTP_MAX_ROUTES          48
#define HTTP_MAX_HEAD            (16 * 1024)
#define HTTP_IDLE_MS             15000 /* no complete request within this: close */
#define HTTP_STALL_MS            20000 /* queued output not progressing: close */
#define HTTP_LOW_WATER           (64 * 1024)
#define HTTP_MAX_INPUT_STREAMING (64 * 1024)

struct http_route {
	char *prefix;
	char *suffix;
	bool exact;
	http_handler_fn fn;
	void *arg;
};

struct http_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	bool listening;
	bool closing;
	const char *protocol;
	struct http_route routes[HTTP_MAX_ROUTES];
	unsigned nroutes;
	size_t max_body;
	struct http_conn *conns;
	unsigned nconns;
};

enum http_conn_state {
	HC_READING,   /* waiting for / parsing a request */
	HC_STREAMING, /* a handler owns the response */
	HC_DEFERRED,  /* a handler will answer later */
	HC_CLOSING,
};

struct http_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	unsigned open_handles;
	struct http_server *srv;
	struct http_conn *next, *prev;
	struct conn_info info;
	enum http_conn_state state;
	struct bytes in;
	size_t cur_req_len; /* head + body bytes of the request being answered */
	bool keep_alive;    /* of the current request */
	bool head_only;     /* current request is HEAD */
	bool chunked_out;   /* streaming response uses chunked encoding */
	bool close_after_write;
	bool reading;
	struct netout out;
	uint64_t last_activity_ms;
	void (*on_drain)(void *arg);
	void (*on_close)(void *arg);
	/* raw mode after http_upgrade: received bytes go here (arg: cb_arg) */
	void (*on_data)(void *arg, const uint8_t *p, size_t len);
	void *cb_arg;
	void *userdata;
	char local_host[64];
	int local_port;
};

/* server.c */
void http_conn_close(struct http_conn *c, const char *why); /* why NULL: no log */
void http_conn_resume(struct http_conn *c);                 /* streaming ended, keep-alive */
/* response.c */
void http_conn_write_done(struct netout *o, int status);

#endif
