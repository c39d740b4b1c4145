/* The "player" output: static web files and the generated player pages.
 *
 * Files: /player.js, /weir.css and /dist/<file> (the hls.js and dash.js
 * bundles www/build.sh copies there) come from the www directory: $WEIR_WWW,
 * else WEIR_WWW_INSTALL_DIR when that directory exists, else WEIR_WWW_DIR
 * (the source tree's www/). A file is read whole in the thread pool, never
 * on the loop, and kept in memory by path; a kept file is revalidated (one
 * fstat in the pool) at most once a second, so edits show without a restart.
 * Answers carry an ETag and Last-Modified and honour If-None-Match and
 * If-Modified-Since.
 *
 * Pages: /<s>.html (a page that plays <s>) and /embed_<s>.js (a script that
 * puts a player for <s> where it is included) are generated. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/streamname.h"
#include "proto/http/outputs.h"

#ifndef WEIR_WWW_DIR
#define WEIR_WWW_DIR "www"
#endif
#ifndef WEIR_WWW_INSTALL_DIR
#define WEIR_WWW_INSTALL_DIR "/usr/share/weir/www"
#endif

#define STATIC_MAX_REL        128 /* longest relative file path served */
#define STATIC_MAX_FILE_BYTES (16 << 20)
#define STATIC_CACHE_SLOTS    64
#define STATIC_REVALIDATE_MS  1000
#define STATIC_HEADERS_MAX    512

/* What identifies one version of a file on disk. */
struct file_id {
	uint64_t dev, ino;
	int64_t mtime_ns;
	int64_t size;
};

struct cache_entry {
	char rel[STATIC_MAX_REL]; /* "" = free slot */
	struct file_id id;
	struct wbuf *body;
	uint64_t checked_ms; /* loop time of the last successful (re)validation */
	uint64_t used_ms;    /* for eviction */
};

/* Module-wide (the driver has no instance): loop thread only. */
static struct cache_entry cache[STATIC_CACHE_SLOTS];
static bool shut_down;

/* One file read in the thread pool for one request. */
struct read_job {
	uv_work_t req;
	struct http_conn *c; /* NULL once the connection went away */
	char rel[STATIC_MAX_REL];
	char root[1024]; /* $WEIR_WWW as read on the loop, or "" */
	char if_none_match[256];
	char if_modified_since[64];
	/* in: the kept version, if any (body referenced by the job) */
	struct file_id known;
	struct wbuf *known_body;
	/* out */
	int rc; /* 0 = read into body, 1 = unchanged (known_body), or -errno */
	struct file_id id;
	struct wbuf *body;
};

/* ---- paths and types ---- */

/* Checks a path below the www root: segments of [A-Za-z0-9._-], none empty
 * or starting with '.', so nothing can name a parent, a hidden file or an
 * absolute path whatever the HTTP parser did. Copies it to out. 0 or
 * -EINVAL. */
static int rel_path_check(const char *rel, char *out, size_t outlen)
{
	size_t len = strlen(rel);
	if (!len || len >= outlen || len >= STATIC_MAX_REL)
		return -EINVAL;
	bool seg_start = true;
	for (const char *p = rel; *p; p++) {
		char ch = *p;
		if (ch == '/') {
			if (seg_start)
				return -EINVAL; /* leading '/' or "//" */
			seg_start = true;
			continue;
		}
		if (seg_start && ch == '.')
			return -EINVAL; /* ".", "..", hidden files */
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
		if (!ok)
			return -EINVAL;
		seg_start = false;
	}
	if (seg_start)
		return -EINVAL; /* trailing '/' */
	memcpy(out, rel, len + 1);
	return 0;
}

static const char *content_type(const char *rel)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {".js", "text/javascript; charset=utf-8"},
	    {".mjs", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".html", "text/html; charset=utf-8"},
	    {".json", "application/json"},
	    {".map", "application/json"},
	    {".txt", "text/plain; charset=utf-8"},
	    {".md", "text/plain; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".jpg", "image/jpeg"},
	    {".ico", "image/x-icon"},
	    {".woff2", "font/woff2"},
	    {".wasm", "application/wasm"},
	};
	const char *dot = strrchr(rel, '.');
	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/* The www root, in the documented order. Runs in the thread pool (it may
 * stat); env is $WEIR_WWW as the loop read it ("" when unset). */
static const char *www_root(const char *env)
{
	if (env[0])
		return env;
	struct stat st;
	if (!stat(WEIR_WWW_INSTALL_DIR, &st) && S_ISDIR(st.st_mode))
		return WEIR_WWW_INSTALL_DIR;
	return WEIR_WWW_DIR;
}

/* ---- the thread-pool side ---- */

static void id_of(const struct stat *st, struct file_id *id)
{
	id->dev = (uint64_t)st->st_dev;
	id->ino = (uint64_t)st->st_ino;
	id->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	id->size = (int64_t)st->st_size;
}

static bool id_equal(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->mtime_ns == b->mtime_ns &&
	       a->size == b->size;
}

/* Reads fd's st_size bytes into a new wbuf. 0 or -errno. */
static int read_whole(int fd, size_t size, struct wbuf **out)
{
	struct wbuf *b = wbuf_new(size ? size : 1);
	if (!b)
		return -ENOMEM;
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, b->data + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;
			wbuf_unref(b);
			return err;
		}
		if (n == 0)
			break; /* shrank meanwhile: serve what is there */
		got += (size_t)n;
	}
	b->len = got;
	*out = b;
	return 0;
}

/* Worker: opens and fstats the file; reads it unless it is the known
 * version. Blocking calls are fine here (thread pool). */
static void read_work(uv_work_t *req)
{
	struct read_job *j = req->data;
	char full[1200];
	int n = snprintf(full, sizeof(full), "%s/%s", www_root(j->root), j->rel);
	if (n < 0 || (size_t)n >= sizeof(full)) {
		j->rc = -ENAMETOOLONG;
		return;
	}
	int fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		j->rc = -errno;
		return;
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		j->rc = -errno;
	else if (!S_ISREG(st.st_mode))
		j->rc = -EISDIR;
	else if (st.st_size > STATIC_MAX_FILE_BYTES)
		j->rc = -EFBIG;
	else {
		id_of(&st, &j->id);
		if (j->known_body && id_equal(&j->id, &j->known))
			j->rc = 1;
		else
			j->rc = read_whole(fd, (size_t)st.st_size, &j->body);
	}
	close(fd);
}

/* ---- the cache (loop thread) ---- */

static struct cache_entry *cache_find(const char *rel)
{
	for (int i = 0; i < STATIC_CACHE_SLOTS; i++)
		if (!strcmp(cache[i].rel, rel))
			return &cache[i];
	return NULL;
}

/* Keeps body (a new reference is taken) as the current version of rel. */
static void cache_store(const char *rel, const struct file_id *id, struct wbuf *body,
			uint64_t now_ms)
{
	struct cache_entry *e = cache_find(rel);
	if (!e) {
		e = &cache[0]; /* a free slot, else the least recently used */
		for (int i = 0; i < STATIC_CACHE_SLOTS && e->rel[0]; i++)
			if (!cache[i].rel[0] || cache[i].used_ms < e->used_ms)
				e = &cache[i];
	}
	if (strcmp(e->rel, rel)) {
		wbuf_unref(e->body);
		e->body = NULL;
		snprintf(e->rel, sizeof(e->rel), "%s", rel);
	}
	if (e->body != body) {
		wbuf_unref(e->body);
		e->body = wbuf_ref(body);
	}
	e->id = *id;
	e->checked_ms = e->used_ms = now_ms;
}

/* Forgets rel (the file went away or cannot be read). */
static void cache_drop(const char *rel)
{
	struct cache_entry *e = cache_find(rel);
	if (!e)
		return;
	wbuf_unref(e->body);
	memset(e, 0, sizeof(*e));
}

static void cache_clear(void)
{
	for (int i = 0; i < STATIC_CACHE_SLOTS; i++) {
		wbuf_unref(cache[i].body);
		memset(&cache[i], 0, sizeof(cache[i]));
	}
}

/* ---- answers ---- */

static void etag_of(const struct file_id *id, char *buf, size_t len)
{
	snprintf(buf, len, "\"%llx-%llx-%llx\"", (unsigned long long)id->ino,
		 (unsigned long long)id->size, (unsigned long long)id->mtime_ns);
}

static void http_date(int64_t mtime_ns, char *buf, size_t len)
{
	time_t t = (time_t)(mtime_ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Bundles change only with a rebuild; our own files are revalidated each
 * time (cheap with the ETag). */
static const char *cache_control(const char *rel)
{
	return strncmp(rel, "dist/", 5) ? "no-cache" : "public, max-age=300";
}

/* Answers one file: 304 when the client's copy is current, else 200 with
 * body (the call takes over the reference). */
static int respond_file(struct http_conn *c, const char *rel, const struct file_id *id,
			struct wbuf *body, const char *inm, const char *ims)
{
	char etag[80], date[64], headers[STATIC_HEADERS_MAX];
	etag_of(id, etag, sizeof(etag));
	http_date(id->mtime_ns, date, sizeof(date));
	snprintf(headers, sizeof(headers),
		 "Cache-Control: %s\r\nETag: %s\r\nLast-Modified: %s\r\n"
		 "X-Content-Type-Options: nosniff\r\n",
		 cache_control(rel), etag, date);
	bool fresh = inm[0] ? (strstr(inm, etag) != NULL || !strcmp(inm, "*"))
			    : (ims[0] && !strcmp(ims, date));
	if (fresh) {
		wbuf_unref(body);
		return http_respond_ex(c, 304, NULL, headers, NULL, 0);
	}
	return http_respond_wbuf(c, 200, content_type(rel), headers, body);
}

static int respond_read_error(struct http_conn *c, const char *rel, int err)
{
	LOGF(err == -ENOENT ? LOG_MEDIUM : LOG_WARN, NULL, "web file %s: %s%s", rel, strerror(-err),
	     err == -ENOENT && !strncmp(rel, "dist/", 5) ? " (run www/build.sh)" : "");
	switch (err) {
	case -ENOENT:
	case -EISDIR:
	case -ENOTDIR:
	case -ENAMETOOLONG:
		return http_respond_error(c, 404, NULL);
	case -EACCES:
		return http_respond_error(c, 403, NULL);
	default:
		return http_respond_error(c, 500, NULL);
	}
}

static void job_free(struct read_job *j)
{
	wbuf_unref(j->known_body);
	wbuf_unref(j->body);
	free(j);
}

static void job_conn_closed(void *arg)
{
	struct read_job *j = arg;
	j->c = NULL;
}

/* Loop side of a read: keeps the result and answers the request. */
static void read_done(uv_work_t *req, int status)
{
	struct read_job *j = req->data;
	uint64_t now = uv_now(req->loop);
	struct wbuf *body = j->rc == 1 ? j->known_body : j->body;
	if (status == UV_ECANCELED)
		j->rc = -ECANCELED;
	if (j->rc >= 0 && !shut_down)
		cache_store(j->rel, &j->id, body, now);
	else if (j->rc < 0)
		cache_drop(j->rel);
	if (j->c && j->rc >= 0)
		respond_file(j->c, j->rel, &j->id, wbuf_ref(body), j->if_none_match,
			     j->if_modified_since);
	else if (j->c)
		respond_read_error(j->c, j->rel, j->rc);
	job_free(j);
}

static void copy_header(const struct http_request *req, const char *name, char *out, size_t len)
{
	const char *v = http_header(req, name);
	snprintf(out, len, "%s", v ? v : "");
}

/* Answers from memory when the kept copy was checked recently; else reads
 * (or revalidates) in the thread pool and answers from read_done. */
static int serve_file(struct http_conn *c, struct http_request *req, const char *rel)
{
	uint64_t now = uv_now(http_conn_loop(c));
	struct cache_entry *e = cache_find(rel);
	char inm[256], ims[64];
	copy_header(req, "If-None-Match", inm, sizeof(inm));
	copy_header(req, "If-Modified-Since", ims, sizeof(ims));
	if (e && now - e->checked_ms < STATIC_REVALIDATE_MS) {
		e->used_ms = now;
		return respond_file(c, rel, &e->id, wbuf_ref(e->body), inm, ims);
	}
	struct read_job *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->req.data = j;
	j->c = c;
	snprintf(j->rel, sizeof(j->rel), "%s", rel);
	const char *env = getenv("WEIR_WWW");
	snprintf(j->root, sizeof(j->root), "%s", env ? env : "");
	memcpy(j->if_none_match, inm, sizeof(inm));
	memcpy(j->if_modified_since, ims, sizeof(ims));
	if (e) {
		j->known = e->id;
		j->known_body = wbuf_ref(e->body);
	}
	int rc = uv_queue_work(http_conn_loop(c), &j->req, read_work, read_done);
	if (rc < 0) {
		job_free(j);
		return rc;
	}
	http_defer(c, job_conn_closed, j);
	return 0;
}

/* ---- generated pages ---- */

/* The name as a JSON string safe inside <script> (no "<", ">", "&"). */
static char *js_string(const char *name)
{
	json_t *s = json_string(name);
	char *text = s ? json_dumps(s, JSON_ENCODE_ANY | JSON_ESCAPE_SLASH) : NULL;
	json_decref(s);
	if (!text)
		return NULL;
	size_t n = 0;
	for (const char *p = text; *p; p++)
		n += strchr("<>&'", *p) ? 6 : 1;
	char *out = malloc(n + 1), *o = out;
	for (const char *p = text; out && *p; p++) {
		if (strchr("<>&'", *p))
			o += sprintf(o, "\\u%04x", (unsigned char)*p);
		else
			*o++ = *p;
	}
	if (out)
		*o = 0;
	free(text);
	return out;
}

/* The name as HTML text (sanitized names have no '<' or '"', but may have
 * '&' and '\''). */
static void html_text(const char *name, char *out, size_t len)
{
	size_t o = 0;
	for (const char *p = name; *p && o + 7 < len; p++) {
		if (*p == '&')
			o += (size_t)snprintf(out + o, len - o, "&amp;");
		else if (*p == '\'')
			o += (size_t)snprintf(out + o, len - o, "&#39;");
		else if (*p == '<' || *p == '>' || *p == '"')
			continue;
		else
			out[o++] = *p;
	}
	out[o] = 0;
}

static const char page_fmt[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>%s</title>\n"
    "<link rel=\"icon\" href=\"data:,\">\n"
    "<link rel=\"stylesheet\" href=\"weir.css\">\n"
    "</head>\n<body class=\"weir-page\">\n"
    "<div class=\"weir-page-player\" id=\"weir\"></div>\n"
    "<script src=\"player.js\"></script>\n"
    "<script>window.weirPlayer = weirPlay(%s, document.getElementById(\"weir\"),\n"
    "  weirPlay.optionsFromQuery(location.search));</script>\n"
    "</body>\n</html>\n";

/* Loads player.js next to this script once (several embeds may share the
 * load), then lets it build the player where the script tag is. */
static const char embed_fmt[] =
    "/* weir player embed for one stream: include it where the player goes. */\n"
    "(function (name, me) {\n"
    "  if (!me) return;\n"
    "  function go() { window.weirPlay.embed(name, me); }\n"
    "  if (window.weirPlay) return go();\n"
    "  var p = window.__weirPlayerLoad;\n"
    "  if (!p) p = window.__weirPlayerLoad = new Promise(function (ok, ko) {\n"
    "    var s = document.createElement(\"script\");\n"
    "    s.src = new URL(\"player.js\", me.src).href;\n"
    "    s.onload = ok;\n"
    "    s.onerror = ko;\n"
    "    document.head.appendChild(s);\n"
    "  });\n"
    "  p.then(go, function () { console.error(\"weir: cannot load player.js\"); });\n"
    "})(%s, document.currentScript);\n";

static int serve_generated(struct http_conn *c, const char *name, bool page)
{
	char *js = js_string(name);
	if (!js)
		return -ENOMEM;
	char title[3 * STREAMNAME_MAX + 16];
	html_text(name, title, sizeof(title));
	char *body = NULL;
	int n = page ? asprintf(&body, page_fmt, title, js) : asprintf(&body, embed_fmt, js);
	free(js);
	if (n < 0)
		return -ENOMEM;
	int rc = http_respond_ex(
	    c, 200, page ? "text/html; charset=utf-8" : "text/javascript; charset=utf-8",
	    "Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n", body, (size_t)n);
	free(body);
	return rc;
}

/* ---- the driver ---- */

/* The files served from the www directory; nothing else there is. */
static bool is_served_file(const char *path)
{
	return !strcmp(path, "/player.js") || !strcmp(path, "/weir.css") ||
	       !strncmp(path, "/dist/", 6);
}

static int player_handler(struct http_conn *c, struct http_request *req,
			  const struct server_env *env)
{
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD"))
		return http_respond_error(c, 405, NULL);
	const char *path = req->path;
	char name[STREAMNAME_MAX + 1], rel[STATIC_MAX_REL];
	if (is_served_file(path))
		return rel_path_check(path + 1, rel, sizeof(rel)) < 0
			   ? http_respond_error(c, 404, NULL)
			   : serve_file(c, req, rel);
	bool embed = !strncmp(path, "/embed_", 7);
	if (strchr(path + 1, '/') ||
	    http_stream_from_path(path, embed ? "/embed_" : "/", embed ? ".js" : ".html", name,
				  sizeof(name)) < 0)
		return http_respond_error(c, 404, NULL);
	return serve_generated(c, name, !embed);
}

static void player_shutdown(void)
{
	shut_down = true;
	cache_clear();
}

/* Files first: "/dist/x.html" is a file, not a stream page. */
static const char *const player_routes[] = {
    "/player.js", "/weir.css", "/dist/*", "/embed_*.js", "/*.html", NULL,
};

const struct driver player_driver = {
    .name = "player",
    .desc = "Embeddable player: /<stream>.html, /embed_<stream>.js, /player.js and its bundles",
    .kind = DRIVER_OUTPUT,
    .patterns = player_routes,
    .http_routes = player_routes,
    .http_handler = player_handler,
    .shutdown = player_shutdown,
};
