/* Read-only API commands and answer sections: capabilities, version,
 * clients, active_streams, log, and the annotated streams/config objects.
 * Field lists are tables, so adding a column is one line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "control/api-t.h"
#include "control/listeners.h"
#include "core/conn.h"
#include "core/log.h"
#include "core/streamname.h"
#include "hub/hub.h"
#include "proto/registry.h"

#ifndef WEIR_VERSION
#define WEIR_VERSION "0.0.0-dev"
#endif

/* ---- capabilities ---- */

static json_t *str_list(const char *const *v)
{
	json_t *a = json_array();
	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *listener_capa(const struct driver *d)
{
	bool udp = d->transport && strcmp(d->transport, "udp") == 0;
	return json_pack("{ss ss ss s{s{ss ss ss si} s{ss ss ss ss}} so}", "name", d->name, "desc",
			 d->desc ? d->desc : "", "transport", udp ? "udp" : "tcp", "optional",
			 "port", "name", udp ? "UDP port" : "TCP port", "help", "Port to listen on",
			 "type", "uint", "default", d->default_port, "interface", "name",
			 "Interface", "help", "Address to listen on; empty for all", "type", "str",
			 "default", "", "codecs", str_list(d->codecs));
}

static json_t *input_capa(const struct driver *d)
{
	return json_pack("{ss ss so si so}", "name", d->name, "desc", d->desc ? d->desc : "",
			 "source_match", str_list(d->patterns), "priority", d->priority, "codecs",
			 str_list(d->codecs));
}

static json_t *output_capa(const struct driver *d)
{
	return json_pack("{ss ss so so}", "name", d->name, "desc", d->desc ? d->desc : "",
			 "url_match", str_list(d->patterns), "codecs", str_list(d->codecs));
}

int api_cmd_capabilities(struct api_run *run, const json_t *arg)
{
	json_t *capa = json_pack("{s{} s{} s{}}", "connectors", "inputs", "outputs");
	if (!capa)
		return -ENOMEM;
	static const char *const section[] = {[DRIVER_INPUT] = "inputs",
					      [DRIVER_OUTPUT] = "outputs",
					      [DRIVER_LISTENER] = "connectors"};
	static json_t *(*const describe[])(const struct driver *) = {[DRIVER_INPUT] = input_capa,
								     [DRIVER_OUTPUT] = output_capa,
								     [DRIVER_LISTENER] =
									 listener_capa};
	for (const struct driver *const *d = driver_registry; *d; d++) {
		unsigned k = (unsigned)(*d)->kind;
		if (k >= sizeof(section) / sizeof(*section) || !(*d)->name)
			continue;
		json_object_set_new(json_object_get(capa, section[k]), (*d)->name, describe[k](*d));
	}
	json_object_set_new(run->resp, "capabilities", capa);
	return 0;
}

int api_cmd_version(struct api_run *run, const json_t *arg)
{
	json_object_set_new(run->resp, "version",
			    json_pack("{ss ss}", "version", WEIR_VERSION, "release", "weir"));
	return 0;
}

/* ---- clients ---- */

struct client_field {
	const char *name;
	json_t *(*get)(const struct conn_info *c, int64_t now_s);
};

static json_t *cf_host(const struct conn_info *c, int64_t now)
{
	return api_jstr(c->host);
}
static json_t *cf_stream(const struct conn_info *c, int64_t now)
{
	return api_jstr(c->stream);
}
static json_t *cf_protocol(const struct conn_info *c, int64_t now)
{
	return api_jstr(c->protocol);
}
static json_t *cf_conntime(const struct conn_info *c, int64_t now)
{
	return json_integer(c->conntime_s && now > c->conntime_s ? now - c->conntime_s : 0);
}
static json_t *cf_down(const struct conn_info *c, int64_t now)
{
	return json_integer((json_int_t)c->down_bytes);
}
static json_t *cf_up(const struct conn_info *c, int64_t now)
{
	return json_integer((json_int_t)c->up_bytes);
}
static json_t *cf_id(const struct conn_info *c, int64_t now)
{
	return json_integer((json_int_t)c->id);
}

static const struct client_field client_fields[] = {
    {"host", cf_host},
    {"stream", cf_stream},
    {"protocol", cf_protocol},
    {"conntime", cf_conntime},
    {"down", cf_down},
    {"up", cf_up},
    {"id", cf_id},
};
#define N_CLIENT_FIELDS         (sizeof(client_fields) / sizeof(*client_fields))
#define N_DEFAULT_CLIENT_FIELDS 6 /* host..up: MistServer's default set */

struct clients_req {
	const struct client_field *fields[N_CLIENT_FIELDS];
	size_t nfields;
	const json_t *streams, *protocols; /* filters (arrays of strings) or NULL */
	int64_t now_s;
	json_t *data;
};

static bool list_has(const json_t *list, const char *s)
{
	size_t i;
	const json_t *v;
	json_array_foreach(list, i, v)
	{
		if (json_is_string(v) && s && strcmp(json_string_value(v), s) == 0)
			return true;
	}
	return false;
}

static void client_row(const struct conn_info *c, void *arg)
{
	struct clients_req *q = arg;
	if (c->role == CONN_API) /* the API's own connections are not clients */
		return;
	if (q->streams && !list_has(q->streams, c->stream))
		return;
	if (q->protocols && !list_has(q->protocols, c->protocol))
		return;
	json_t *row = json_array();
	for (size_t i = 0; i < q->nfields; i++)
		json_array_append_new(row, q->fields[i]->get(c, q->now_s));
	json_array_append_new(q->data, row);
}

static void pick_client_fields(struct clients_req *q, const json_t *want)
{
	size_t i;
	const json_t *v;
	json_array_foreach(want, i, v)
	{
		for (size_t k = 0; k < N_CLIENT_FIELDS && q->nfields < N_CLIENT_FIELDS; k++)
			if (json_is_string(v) &&
			    strcmp(json_string_value(v), client_fields[k].name) == 0)
				q->fields[q->nfields++] = &client_fields[k];
	}
	if (q->nfields)
		return;
	for (size_t k = 0; k < N_DEFAULT_CLIENT_FIELDS; k++)
		q->fields[k] = &client_fields[k];
	q->nfields = N_DEFAULT_CLIENT_FIELDS;
}

/* {"fields": [...], "data": [[...], ...], "time": now} for one request object. */
static json_t *clients_answer(const json_t *arg)
{
	struct clients_req q = {.now_s = time(NULL), .data = json_array()};
	pick_client_fields(&q, json_object_get(arg, "fields"));
	const json_t *s = json_object_get(arg, "streams"), *p = json_object_get(arg, "protocols");
	q.streams = json_is_array(s) ? s : NULL;
	q.protocols = json_is_array(p) ? p : NULL;
	conn_foreach(client_row, &q);
	json_t *names = json_array();
	for (size_t i = 0; i < q.nfields; i++)
		json_array_append_new(names, json_string(q.fields[i]->name));
	return json_pack("{so so sI}", "fields", names, "data", q.data, "time",
			 (json_int_t)q.now_s);
}

int api_cmd_clients(struct api_run *run, const json_t *arg)
{
	json_t *ans;
	if (json_is_array(arg)) { /* several queries, answered in order */
		ans = json_array();
		size_t i;
		const json_t *v;
		json_array_foreach(arg, i, v)
		{
			json_array_append_new(ans, clients_answer(v));
		}
	} else {
		ans = clients_answer(arg);
	}
	json_object_set_new(run->resp, "clients", ans);
	return 0;
}

/* ---- active_streams ---- */

static const char *state_name(enum stream_state st)
{
	static const char *const names[] = {"Offline", "Booting", "Waiting", "Online"};
	return (unsigned)st < sizeof(names) / sizeof(*names) ? names[st] : "Unknown";
}

struct stream_field {
	const char *name;
	json_t *(*get)(struct hub_stream *s);
};

static json_t *sf_status(struct hub_stream *s)
{
	return json_string(state_name(hub_stream_state(s)));
}
static json_t *sf_viewers(struct hub_stream *s)
{
	return json_integer(hub_stream_readers(s));
}
static json_t *sf_inputs(struct hub_stream *s)
{
	return json_integer(hub_stream_has_publisher(s) ? 1 : 0);
}
static json_t *sf_tracks(struct hub_stream *s)
{
	return json_integer(hub_stream_track_count(s));
}
static json_t *sf_upbytes(struct hub_stream *s)
{
	return json_integer((json_int_t)hub_stream_bytes_in(s));
}
static json_t *sf_firstms(struct hub_stream *s)
{
	int64_t first, last;
	hub_stream_window(s, &first, &last);
	return json_integer(first / 1000);
}
static json_t *sf_lastms(struct hub_stream *s)
{
	int64_t first, last;
	hub_stream_window(s, &first, &last);
	return json_integer(last / 1000);
}

static const struct stream_field stream_fields[] = {
    {"status", sf_status}, {"viewers", sf_viewers}, {"clients", sf_viewers}, {"inputs", sf_inputs},
    {"tracks", sf_tracks}, {"upbytes", sf_upbytes}, {"firstms", sf_firstms}, {"lastms", sf_lastms},
};

static json_t *stream_field(struct hub_stream *s, const char *name)
{
	for (size_t i = 0; name && i < sizeof(stream_fields) / sizeof(*stream_fields); i++)
		if (strcmp(stream_fields[i].name, name) == 0)
			return stream_fields[i].get(s);
	return json_null(); /* a field we do not track (yet) */
}

struct active_req {
	const json_t *fields;  /* NULL: plain list of names */
	const json_t *streams; /* filter or NULL */
	bool longform;         /* {name: {field: value}} instead of {name: [values]} */
	json_t *out;
};

static void active_row(struct hub_stream *s, void *arg)
{
	struct active_req *q = arg;
	const char *name = hub_stream_name(s);
	if (q->streams && !list_has(q->streams, name))
		return;
	if (!q->fields) {
		json_array_append_new(q->out, api_jstr(name));
		return;
	}
	json_t *row = q->longform ? json_object() : json_array();
	size_t i;
	const json_t *f;
	json_array_foreach(q->fields, i, f)
	{
		const char *fname = json_string_value(f);
		if (q->longform && fname)
			json_object_set_new(row, fname, stream_field(s, fname));
		else if (!q->longform)
			json_array_append_new(row, stream_field(s, fname));
	}
	json_object_set_new(q->out, name, row);
}

/* MistServer's forms: nothing → array of names; an array → those fields
 * per stream; an object → {fields, streams, longform}. */
int api_cmd_active_streams(struct api_run *run, const json_t *arg)
{
	json_t *defaults = json_pack("[ssss]", "status", "viewers", "inputs", "tracks");
	struct active_req q = {0};
	if (json_is_array(arg)) {
		q.fields = arg;
	} else if (json_is_object(arg)) {
		const json_t *f = json_object_get(arg, "fields"),
			     *s = json_object_get(arg, "streams");
		q.fields = json_is_array(f) && json_array_size(f) ? f : defaults;
		q.streams = json_is_array(s) ? s : NULL;
		q.longform = json_is_true(json_object_get(arg, "longform"));
	}
	q.out = q.fields ? json_object() : json_array();
	if (run->ctx->hub)
		hub_foreach(run->ctx->hub, active_row, &q);
	json_object_set_new(run->resp, "active_streams", q.out);
	json_decref(defaults);
	return 0;
}

/* ---- streams and config answers ---- */

/* online value of a hub state: 1 ready, 2 booting/waiting, 0 off. */
static int online_of(enum stream_state st)
{
	return st == STREAM_READY ? 1 : st == STREAM_OFF ? 0 : 2;
}

static void collect_live(struct hub_stream *s, void *arg)
{
	json_t *live = arg;
	char base[STREAMNAME_MAX + 1];
	streamname_base(hub_stream_name(s), base, sizeof(base));
	int now = online_of(hub_stream_state(s));
	int seen = (int)json_integer_value(json_object_get(live, base));
	if (seen == 1 || now == 0 || (seen == 2 && now == 2))
		return;
	json_object_set_new(live, base, json_integer(now));
}

static void annotate_stream(json_t *st, int online)
{
	if (!json_is_object(st))
		return;
	json_object_set_new(st, "online", json_integer(online));
	if (online == 0)
		json_object_set_new(st, "error", json_string("Stream is offline"));
	else if (online == 2)
		json_object_set_new(st, "error", json_string("Waiting for data"));
	else
		json_object_del(st, "error");
}

json_t *api_streams_answer(struct api_ctx *ctx, const json_t *only)
{
	json_t *live = json_object(), *out = json_object();
	if (ctx->hub)
		hub_foreach(ctx->hub, collect_live, live);
	if (only)
		json_object_set_new(out, "incomplete list", json_integer(1));
	const char *name;
	json_t *st;
	json_object_foreach(json_object_get(ctx->config, "streams"), name, st)
	{
		if (only && !json_object_get(only, name))
			continue;
		json_t *c = json_deep_copy(st);
		annotate_stream(c, (int)json_integer_value(json_object_get(live, name)));
		json_object_set_new(out, name, c);
	}
	json_decref(live);
	return out;
}

json_t *api_config_answer(struct api_ctx *ctx)
{
	json_t *c = json_deep_copy(json_object_get(ctx->config, "config"));
	if (!json_is_object(c)) {
		json_decref(c);
		c = json_object();
	}
	json_t *protos = json_object_get(c, "protocols");
	if (json_is_array(protos) && ctx->listeners)
		listeners_annotate(ctx->listeners, protos);
	if (!json_is_string(json_object_get(c, "serverid")))
		json_object_set_new(c, "serverid", json_string(""));
	json_object_set_new(c, "version", json_string(WEIR_VERSION));
	json_object_set_new(c, "time", json_integer((json_int_t)time(NULL)));
	return c;
}

static void log_row(const struct log_entry *e, void *arg)
{
	json_t *row = json_array();
	json_array_append_new(row, json_integer((json_int_t)e->time_s));
	json_array_append_new(row, json_string(log_level_name(e->level)));
	json_array_append_new(row, api_jstr(e->msg));
	json_array_append_new(row, api_jstr(e->stream));
	json_array_append_new(arg, row);
}

json_t *api_log_answer(void)
{
	json_t *rows = json_array();
	log_foreach(log_row, rows);
	return rows;
}

/* ---- kicking ---- */

struct kick_req {
	const json_t *bases;
	json_t *victims;
};

static void collect_victim(struct hub_stream *s, void *arg)
{
	struct kick_req *q = arg;
	char base[STREAMNAME_MAX + 1];
	streamname_base(hub_stream_name(s), base, sizeof(base));
	if (list_has(q->bases, base))
		json_array_append_new(q->victims, api_jstr(hub_stream_name(s)));
}

void api_kick_streams(struct api_ctx *ctx, const json_t *names)
{
	if (!ctx->hub || !json_array_size(names))
		return;
	struct kick_req q = {.bases = names, .victims = json_array()};
	hub_foreach(ctx->hub, collect_victim, &q); /* kick outside the walk */
	size_t i;
	json_t *v;
	json_array_foreach(q.victims, i, v)
	{
		struct hub_stream *s = hub_find(ctx->hub, json_string_value(v));
		if (!s)
			continue;
		INFO_MSG("dropping the publisher of %s: stream deleted or changed",
			 json_string_value(v));
		hub_stream_kick(s);
	}
	json_decref(q.victims);
}
