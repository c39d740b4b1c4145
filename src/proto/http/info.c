/* Stream info JSON (/json_<s>.js, /info_<s>.js), in MistServer's shape:
 * type, meta.tracks, width/height, and the source[] list of URLs that
 * play this stream, built from the driver registry. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/streamname.h"
#include "core/url.h"
#include "hub/hub.h"
#include "proto/http/outputs.h"

int http_stream_from_path(const char *path, const char *prefix, const char *suffix, char *out,
			  size_t outlen)
{
	size_t len = strlen(path), pl = strlen(prefix), sl = strlen(suffix);
	if (len <= pl + sl || strncmp(path, prefix, pl) || strcmp(path + len - sl, suffix))
		return -EINVAL;
	char raw[256];
	size_t n = len - pl - sl;
	if (n >= sizeof(raw))
		return -EINVAL;
	memcpy(raw, path + pl, n);
	raw[n] = 0;
	return streamname_sanitize(raw, out, outlen) < 0 ? -EINVAL : 0;
}

static json_t *track_json(const struct track *t, unsigned idx)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(track_type_name(t->type)));
	json_object_set_new(o, "codec", json_string(codec_name(t->codec)));
	json_object_set_new(o, "idx", json_integer(idx));
	json_object_set_new(o, "trackid", json_integer(idx + 1));
	json_object_set_new(o, "bps", json_integer(t->bitrate_bps / 8));
	json_object_set_new(o, "maxbps", json_integer(t->bitrate_bps / 8));
	if (t->type == TRACK_VIDEO) {
		json_object_set_new(o, "width", json_integer(t->width));
		json_object_set_new(o, "height", json_integer(t->height));
		json_object_set_new(o, "fpks", json_integer(t->fps_milli));
	} else if (t->type == TRACK_AUDIO) {
		json_object_set_new(o, "rate", json_integer(t->rate));
		json_object_set_new(o, "channels", json_integer(t->channels));
		json_object_set_new(o, "size", json_integer(t->bits ? t->bits : 16));
	}
	if (t->lang[0])
		json_object_set_new(o, "lang", json_string(t->lang));
	return o;
}

static void track_key(const struct track *t, unsigned idx, char *buf, size_t len)
{
	if (t->type == TRACK_VIDEO)
		snprintf(buf, len, "video_%s_%ux%u_%ufps_%u", codec_name(t->codec), t->width,
			 t->height, (t->fps_milli + 500) / 1000, idx);
	else
		snprintf(buf, len, "%s_%s_%uch_%uhz_%u", track_type_name(t->type),
			 codec_name(t->codec), t->channels, t->rate, idx);
}

/* Fills "%H" host, "%P" port and "%S" stream name (URL-encoded). */
static void expand(const char *tpl, const char *host, int port, const char *stream, char *out,
		   size_t len)
{
	/* Stream names go into URLs as MistServer writes them: '+' stays. */
	char enc[512];
	size_t e = 0;
	for (const char *p = stream; *p && e + 4 < sizeof(enc); p++) {
		if (strchr("+-._~", *p) || (*p >= '0' && *p <= '9') ||
		    ((*p | 32) >= 'a' && (*p | 32) <= 'z'))
			enc[e++] = *p;
		else
			e += (size_t)snprintf(enc + e, 4, "%%%02X", (unsigned char)*p);
	}
	enc[e] = 0;
	size_t o = 0;
	for (const char *p = tpl; *p && o + 1 < len; p++) {
		int n = 0;
		if (p[0] == '%' && p[1] == 'H')
			n = snprintf(out + o, len - o, "%s", host);
		else if (p[0] == '%' && p[1] == 'P')
			n = snprintf(out + o, len - o, "%d", port);
		else if (p[0] == '%' && p[1] == 'S')
			n = snprintf(out + o, len - o, "%s", enc);
		else {
			out[o++] = *p;
			continue;
		}
		p++;
		o += (size_t)n < len - o ? (size_t)n : len - o - 1;
	}
	out[o] = 0;
}

static json_t *sources_json(const char *host, const char *stream, unsigned ntracks)
{
	json_t *arr = json_array();
	for (const struct driver *const *d = driver_registry; *d; d++) {
		if (!(*d)->source_type || !(*d)->source_url)
			continue;
		int port = listener_port((*d)->kind == DRIVER_LISTENER ? (*d)->name : "HTTP");
		if (!port)
			continue;
		char url[1024], rel[1024];
		expand((*d)->source_url, host, port, stream, url, sizeof(url));
		json_t *s = json_object();
		json_object_set_new(s, "type", json_string((*d)->source_type));
		json_object_set_new(s, "url", json_string(url));
		const char *r = strstr(url, "://");
		r = r ? strchr(r + 3, '/') : NULL;
		snprintf(rel, sizeof(rel), "%s", r ? r : url);
		json_object_set_new(s, "relurl", json_string(rel));
		json_object_set_new(s, "priority", json_integer((*d)->source_priority));
		json_object_set_new(s, "simul_tracks", json_integer(ntracks > 2 ? 2 : ntracks));
		json_object_set_new(s, "total_matches", json_integer(ntracks));
		json_array_append_new(arr, s);
	}
	/* highest priority first */
	size_t n = json_array_size(arr);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0; j--) {
			json_t *a = json_array_get(arr, j - 1), *b = json_array_get(arr, j);
			if (json_integer_value(json_object_get(a, "priority")) >=
			    json_integer_value(json_object_get(b, "priority")))
				break;
			json_incref(a);
			json_array_set(arr, j - 1, b);
			json_array_set_new(arr, j, a);
		}
	return arr;
}

static json_t *stream_info(struct hub_stream *s, const char *host, const char *name)
{
	json_t *root = json_object(), *meta = json_object(), *tracks = json_object();
	unsigned n = hub_stream_track_count(s), count = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct track *t = hub_stream_track(s, i);
		if (!t)
			continue;
		char key[128];
		track_key(t, i, key, sizeof(key));
		json_object_set_new(tracks, key, track_json(t, i));
		if (t->type == TRACK_VIDEO && !json_object_get(root, "width")) {
			json_object_set_new(root, "width", json_integer(t->width));
			json_object_set_new(root, "height", json_integer(t->height));
		}
		count++;
	}
	int64_t first, last;
	hub_stream_window(s, &first, &last);
	json_object_set_new(meta, "tracks", tracks);
	json_object_set_new(meta, "live", json_integer(1));
	json_object_set_new(meta, "buffer_window", json_integer((last - first) / 1000));
	json_object_set_new(root, "type", json_string("live"));
	json_object_set_new(root, "meta", meta);
	json_object_set_new(root, "source", sources_json(host, name, count));
	json_object_set_new(root, "selver", json_integer(2));
	return root;
}

int http_info_handler(struct http_conn *c, struct http_request *req, void *arg)
{
	const struct server_env *env = arg;
	bool json = !strncmp(req->path, "/json_", 6);
	char name[STREAMNAME_MAX + 1], host[256], cb[128] = "";
	json_t *root;
	if (http_stream_from_path(req->path, json ? "/json_" : "/info_", ".js", name,
				  sizeof(name)) < 0) {
		root = json_pack("{s:s}", "error", "Invalid stream name");
		name[0] = 0;
	} else {
		struct hub_stream *s = hub_want(env->hub, name);
		if (s && hub_stream_state(s) == STREAM_READY)
			root = stream_info(s, http_conn_host(c, req, host, sizeof(host)), name);
		else
			root = json_pack("{s:s}", "error", "Stream is offline");
	}
	char *text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!text)
		return -ENOMEM;
	char *body = NULL;
	int n;
	if (!json)
		n = asprintf(&body, "if(!mistvideo){var mistvideo={};}mistvideo['%s']=%s;", name,
			     text);
	else if (query_get(req->query, "callback", cb, sizeof(cb)) > 0 &&
		 strspn(cb, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.$") ==
		     strlen(cb))
		n = asprintf(&body, "%s(%s);", cb, text);
	else
		n = asprintf(&body, "%s", text);
	free(text);
	if (n < 0)
		return -ENOMEM;
	int rc = http_respond_ex(c, 200, json ? "application/json" : "application/javascript",
				 "Cache-Control: no-cache\r\n", body, (size_t)n);
	free(body);
	return rc;
}
