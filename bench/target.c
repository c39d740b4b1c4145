/* Viewer and publisher URLs: rtmp://host[:port]/app/name and
 * http://host[:port]/path. Loopback IPv4 literals only (a load tool must not
 * point at anything else by accident). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "core/url.h"

static bool is_loopback(const char *host)
{
	return !strcmp(host, "localhost") || !strncmp(host, "127.", 4);
}

static int split_rtmp(const struct url *u, struct target *t)
{
	const char *p = u->path[0] == '/' ? u->path + 1 : u->path;
	const char *slash = strchr(p, '/');
	if (!slash || slash == p || !slash[1])
		return -EINVAL;
	int n = snprintf(t->app, sizeof(t->app), "%.*s", (int)(slash - p), p);
	if (n < 0 || (size_t)n >= sizeof(t->app))
		return -EINVAL;
	n = snprintf(t->name, sizeof(t->name), "%s%s%s", slash + 1, u->query[0] ? "?" : "",
		     u->query);
	if (n < 0 || (size_t)n >= sizeof(t->name))
		return -EINVAL;
	n = snprintf(t->tcurl, sizeof(t->tcurl), "rtmp://%s:%d/%s", t->host, t->port, t->app);
	return n < 0 || (size_t)n >= sizeof(t->tcurl) ? -EINVAL : 0;
}

int target_parse(const char *s, struct target *t, bool *is_rtmp)
{
	struct url u;
	memset(t, 0, sizeof(*t));
	if (!s || url_parse(s, &u) < 0 || !is_loopback(u.host))
		return -EINVAL;
	snprintf(t->host, sizeof(t->host), "%s",
		 strcmp(u.host, "localhost") ? u.host : "127.0.0.1");
	if (!strcmp(u.scheme, "rtmp")) {
		*is_rtmp = true;
		t->port = u.port > 0 ? u.port : 1935;
		return split_rtmp(&u, t);
	}
	if (!strcmp(u.scheme, "http")) {
		*is_rtmp = false;
		t->port = u.port > 0 ? u.port : 80;
		int n = snprintf(t->path, sizeof(t->path), "%s%s%s", u.path[0] ? u.path : "/",
				 u.query[0] ? "?" : "", u.query);
		return n < 0 || (size_t)n >= sizeof(t->path) ? -EINVAL : 0;
	}
	return -EINVAL;
}
