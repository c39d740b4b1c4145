/* Config store: load (with the embedded default on first run), atomic
 * save, annotation stripping and small accessors. Validation rules live
 * in validate.c. */
#include "control/config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control/auth.h"

#define CONFIG_MAX_FILE_BYTES (64u << 20)

/* First-run config: HTTP outputs and RTMP ingest on their usual ports, one
 * push stream accepting local encoders, no account (loopback is trusted;
 * remote users get NOACC and may create the first account). */
static const char default_json[] =
    "{\"config\": {\"controller\": {\"port\": 4242, \"interface\": \"\"},"
    " \"protocols\": [{\"connector\": \"HTTP\", \"port\": 8080},"
    " {\"connector\": \"RTMP\", \"port\": 1935}],"
    " \"serverid\": \"\", \"debug\": 4, \"trust_loopback\": true, \"trustedproxy\": []},"
    " \"streams\": {\"live\": {\"name\": \"live\", \"source\": \"push://127.0.0.1\"}}}";

/* Keys the API adds to answers and that never reach the file. */
static const char *const annotation_keys[] = {"online", "error"};

json_t *config_default(void)
{
	return json_loads(default_json, 0, NULL);
}

int config_parse(const char *text, size_t len, json_t **out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	*out = NULL;
	if (!root) {
		snprintf(err, errlen, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	int rc = config_validate(root, err, errlen);
	if (rc < 0) {
		json_decref(root);
		return rc;
	}
	*out = root;
	return 0;
}

/* Reads a whole file (at most CONFIG_MAX_FILE_BYTES) into a malloc'd buffer. */
static int read_file(const char *path, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = 0;
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	while (b) {
		if (n == cap) {
			char *nb = cap >= CONFIG_MAX_FILE_BYTES ? NULL : realloc(b, cap * 2);
			if (!nb) {
				rc = cap >= CONFIG_MAX_FILE_BYTES ? -EFBIG : -ENOMEM;
				break;
			}
			b = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = -errno;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!b)
		return -ENOMEM;
	if (rc < 0) {
		free(b);
		return rc;
	}
	*buf = b;
	*len = n;
	return 0;
}

int config_load(const char *path, json_t **out, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	*out = NULL;
	int rc = read_file(path, &text, &len);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	char why[512];
	rc = config_parse(text, len, out, why, sizeof(why));
	free(text);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return rc;
}

int config_load_or_create(const char *path, json_t **out, char *err, size_t errlen)
{
	int rc = config_load(path, out, err, errlen);
	if (rc != -ENOENT)
		return rc;
	json_t *root = config_default();
	if (!root)
		return -ENOMEM;
	rc = config_validate(root, err, errlen);
	if (rc == 0)
		rc = config_save(path, root, err, errlen);
	if (rc < 0) {
		json_decref(root);
		return rc;
	}
	*out = root;
	return 0;
}

void config_clean_entry(json_t *obj)
{
	const char *key;
	json_t *v;
	void *tmp;
	for (size_t i = 0; i < sizeof(annotation_keys) / sizeof(*annotation_keys); i++)
		json_object_del(obj, annotation_keys[i]);
	json_object_foreach_safe(obj, tmp, key, v)
	{
		if (json_is_null(v))
			json_object_del(obj, key);
	}
}

void config_strip_annotations(json_t *root)
{
	const char *name;
	json_t *v;
	size_t i;
	json_object_foreach(json_object_get(root, "streams"), name, v)
	{
		for (size_t k = 0; k < sizeof(annotation_keys) / sizeof(*annotation_keys); k++)
			json_object_del(v, annotation_keys[k]);
	}
	json_array_foreach(json_object_get(json_object_get(root, "config"), "protocols"), i, v)
	{
		for (size_t k = 0; k < sizeof(annotation_keys) / sizeof(*annotation_keys); k++)
			json_object_del(v, annotation_keys[k]);
	}
}

char *config_serialize(const json_t *root)
{
	json_t *copy = json_deep_copy(root);
	if (!copy)
		return NULL;
	config_strip_annotations(copy);
	char *s = json_dumps(copy, JSON_INDENT(2));
	json_decref(copy);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return NULL;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	return t;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Makes the rename durable: fsync the directory holding path. */
static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* Writes text to tmp (mode bits given), flushed to disk. */
static int write_tmp(const char *tmp, mode_t mode, const char *text, size_t len)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	int rc = fchmod(fd, mode) < 0 ? -errno : 0; /* not narrowed by the umask */
	if (rc == 0)
		rc = write_all(fd, text, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

int config_write_atomic(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
	/* Follow a symlinked config so the link survives the rename. */
	char real[PATH_MAX];
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && realpath(path, real))
		path = real;
	mode_t mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : 0600;

	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	const char *what = "write";
	int rc = write_tmp(tmp, mode, text, len);
	if (rc == 0 && rename(tmp, path) < 0) {
		rc = -errno;
		what = "rename";
	}
	if (rc < 0) {
		unlink(tmp);
		snprintf(err, errlen, "%s: %s failed: %s", path, what, strerror(-rc));
		return rc;
	}
	rc = fsync_dir_of(path);
	if (rc < 0)
		snprintf(err, errlen, "%s: directory fsync failed: %s", path, strerror(-rc));
	return rc;
}

int config_save(const char *path, const json_t *root, char *err, size_t errlen)
{
	char *text = config_serialize(root);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = config_write_atomic(path, text, strlen(text), err, errlen);
	free(text);
	return rc;
}

json_t *config_section(json_t *root, const char *key)
{
	json_t *v = json_object_get(root, key);
	if (json_is_object(v))
		return v;
	v = json_object();
	if (json_object_set_new(root, key, v) < 0)
		return NULL;
	return v;
}

json_t *config_protocols(json_t *root)
{
	json_t *cfg = config_section(root, "config");
	json_t *p = json_object_get(cfg, "protocols");
	if (json_is_array(p))
		return p;
	p = json_array();
	if (json_object_set_new(cfg, "protocols", p) < 0)
		return NULL;
	return p;
}

long long config_int(const json_t *root, const char *key, long long def)
{
	const json_t *v = json_object_get(json_object_get(root, "config"), key);
	return json_is_integer(v) ? json_integer_value(v) : def;
}

bool config_bool(const json_t *root, const char *key, bool def)
{
	const json_t *v = json_object_get(json_object_get(root, "config"), key);
	return json_is_boolean(v) ? json_is_true(v) : def;
}

int config_api_port(const json_t *root)
{
	const json_t *ctl = json_object_get(json_object_get(root, "config"), "controller");
	const json_t *v = json_object_get(ctl, "port");
	return json_is_integer(v) ? (int)json_integer_value(v) : CONFIG_DEFAULT_API_PORT;
}

const char *config_api_iface(const json_t *root)
{
	const json_t *ctl = json_object_get(json_object_get(root, "config"), "controller");
	const char *s = json_string_value(json_object_get(ctl, "interface"));
	return s ? s : "";
}

bool config_has_accounts(const json_t *root)
{
	return json_object_size(json_object_get(root, "account")) > 0;
}

int config_set_account(json_t *root, const char *user, const char *password)
{
	char md5[33];
	auth_md5hex(password, strlen(password), md5);
	json_t *acc = config_section(root, "account");
	json_t *entry = json_pack("{ss}", "password", md5);
	if (!acc || !entry) {
		json_decref(entry);
		return -ENOMEM;
	}
	/* Fails for a user name that is not UTF-8 (entry is released). */
	return json_object_set_new(acc, user, entry) < 0 ? -EINVAL : 0;
}
