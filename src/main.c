/* weir: argument parsing, wiring, signals. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "control/control.h"
#include "core/conn.h"
#include "core/log.h"
#include "hub/hub.h"
#include "proto/registry.h"

struct app {
	uv_loop_t *loop;
	struct hub *hub;
	struct control *ctl;
	uv_signal_t sig_term, sig_int, sig_hup;
	bool stopping;
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: weir [options]\n"
		   "  -c, --config FILE     config file (default ./weir.json; written with\n"
		   "                        the embedded default when it does not exist)\n"
		   "  -p, --port PORT       API port (default 4242)\n"
		   "  -i, --interface ADDR  API interface (default all)\n"
		   "  -d, --debug LEVEL     log level 0-10 (FAIL 1, ERROR 2, WARN 3, INFO 4, ...\n"
		   "                        DEVEL 10; default 4)\n"
		   "  -a, --account U:P     create or replace an API account and save it\n"
		   "  -h, --help            this help\n"
		   "  -v, --version         print the version\n"
		   "Signals: SIGTERM/SIGINT stop gracefully, SIGHUP reloads the config.\n");
}

static void stop(struct app *a, const char *why)
{
	if (a->stopping)
		return;
	a->stopping = true;
	LOGF(LOG_INFO, NULL, "shutting down (%s)", why);
	control_shutdown(a->ctl);
	conn_kill_all();
	driver_shutdown_all();
	hub_free(a->hub);
	a->hub = NULL;
	uv_close((uv_handle_t *)&a->sig_term, NULL);
	uv_close((uv_handle_t *)&a->sig_int, NULL);
	uv_close((uv_handle_t *)&a->sig_hup, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct app *a = s->data;
	if (signum == SIGHUP) {
		LOGF(LOG_INFO, NULL, "SIGHUP: reloading the config");
		control_reload(a->ctl);
		return;
	}
	stop(a, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static int parse_args(int argc, char **argv, struct control_opts *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},    {"port", required_argument, NULL, 'p'},
	    {"interface", required_argument, NULL, 'i'}, {"debug", required_argument, NULL, 'd'},
	    {"account", required_argument, NULL, 'a'},   {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'v'},         {NULL, 0, NULL, 0},
	};
	int ch;
	char *end;
	while ((ch = getopt_long(argc, argv, "c:p:i:d:a:hv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config_path = optarg;
			break;
		case 'p':
			o->api_port = (int)strtol(optarg, &end, 10);
			if (*end || o->api_port < 1 || o->api_port > 65535) {
				fprintf(stderr, "weir: invalid port '%s'\n", optarg);
				return 2;
			}
			break;
		case 'i':
			o->api_iface = optarg;
			break;
		case 'd':
			o->debug = (int)strtol(optarg, &end, 10);
			if (*end || o->debug < 0 || o->debug > 10) {
				fprintf(stderr, "weir: invalid debug level '%s' (0-10)\n", optarg);
				return 2;
			}
			break;
		case 'a':
			if (!strchr(optarg, ':')) {
				fprintf(stderr, "weir: -a expects user:password\n");
				return 2;
			}
			o->account = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'v':
			printf("weir %s\n", WEIR_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "weir: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct control_opts o = {.config_path = "weir.json", .api_port = -1, .debug = -1};
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (o.debug >= 0)
		log_threshold = o.debug;
	signal(SIGPIPE, SIG_IGN);

	struct app a = {.loop = uv_default_loop()};
	a.hub = hub_new(a.loop);
	if (!a.hub) {
		fprintf(stderr, "weir: out of memory\n");
		return 1;
	}
	char err[512] = "";
	rc = control_new(a.loop, a.hub, &o, &a.ctl, err, sizeof(err));
	if (rc < 0) {
		FAIL_MSG("cannot start: %s", err);
		hub_free(a.hub);
		uv_run(a.loop, UV_RUN_DEFAULT);
		return 1;
	}
	uv_signal_init(a.loop, &a.sig_term);
	uv_signal_init(a.loop, &a.sig_int);
	uv_signal_init(a.loop, &a.sig_hup);
	a.sig_term.data = a.sig_int.data = a.sig_hup.data = &a;
	uv_signal_start(&a.sig_term, on_signal, SIGTERM);
	uv_signal_start(&a.sig_int, on_signal, SIGINT);
	uv_signal_start(&a.sig_hup, on_signal, SIGHUP);
	LOGF(LOG_INFO, NULL, "weir %s running (config %s)", WEIR_VERSION, o.config_path);

	uv_run(a.loop, UV_RUN_DEFAULT);
	control_free(a.ctl);
	uv_loop_close(a.loop);
	LOGF(LOG_INFO, NULL, "stopped");
	return 0;
}
