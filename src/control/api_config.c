/* API commands that change the config: config, streams, addstream,
 * deletestream, addprotocol, deleteprotocol, updateprotocol. Each edits a
 * draft through api_mutate, so a change that does not validate is
 * answered with an error and leaves the running config untouched.
 *
 * Input entries are cleaned the way MistServer's UI needs: the
 * "online"/"error" annotations it got from us and null members (unset
 * fields) are dropped; protocol lists are de-duplicated. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control/api-t.h"
#include "control/config.h"

/* config.* keys the "config" command may set (MistServer's list); others
 * in the request (e.g. "version", "time" from our own answer) are ignored. */
static const char *const config_keys[] = {
    "protocols",
    "serverid",
    "debug",
    "trust_loopback",
    "trustedproxy",
    "controller",
    "triggers",
    "accesslog",
    "prometheus",
    "defaultStream",
    "location",
    "sessionViewerMode",
    "sessionInputMode",
    "sessionOutputMode",
    "sessionUnspecifiedMode",
    "sessionStreamInfoMode",
    "tknMode",
};

/* MistServer's marker for a partial streams object. */
#define INCOMPLETE "incomplete list"

/* Deep copy of v, cleaned when it is an object. NULL on ENOMEM. */
static json_t *clean_copy(const json_t *v)
{
	json_t *c = json_deep_copy(v);
	if (json_is_object(c))
		config_clean_entry(c);
	return c;
}

static bool array_has(const json_t *arr, const json_t *v)
{
	size_t i;
	const json_t *e;
	json_array_foreach(arr, i, e)
	{
		if (json_equal((json_t *)e, (json_t *)v))
			return true;
	}
	return false;
}

/* Cleaned, de-duplicated copy of a protocols array. */
static json_t *normalize_protocols(const json_t *in)
{
	json_t *out = json_array();
	size_t i;
	const json_t *p;
	json_array_foreach(in, i, p)
	{
		json_t *c = clean_copy(p);
		if (!c || !out) {
			json_decref(c);
			json_decref(out);
			return NULL;
		}
		if (array_has(out, c))
			json_decref(c);
		else
			json_array_append_new(out, c);
	}
	return out;
}

/* Protocol objects given as one object or an array of them, as an array
 * (new reference), or NULL when arg is neither. */
static json_t *as_list(const json_t *arg)
{
	if (json_is_object(arg))
		return json_pack("[O]", arg);
	if (json_is_array(arg) && json_array_size(arg))
		return json_incref((json_t *)arg);
	return NULL;
}

/* ---- config ---- */

static int edit_config(struct api_run *run, json_t *draft, const json_t *arg, char *err,
		       size_t errlen)
{
	json_t *cfg = config_section(draft, "config");
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(*config_keys); i++) {
		const char *key = config_keys[i];
		const json_t *v = json_object_get(arg, key);
		if (!v)
			continue;
		if (json_is_null(v)) {
			json_object_del(cfg, key);
			continue;
		}
		json_t *nv = strcmp(key, "protocols") == 0 && json_is_array(v)
				 ? normalize_protocols(v)
				 : json_deep_copy(v);
		if (!cfg || !nv || json_object_set_new(cfg, key, nv) < 0)
			return -ENOMEM;
	}
	return 0;
}

int api_cmd_config(struct api_run *run, const json_t *arg)
{
	if (!json_is_object(arg)) /* a plain read, answered at the end */
		return 0;
	return api_mutate(run, "config", edit_config, arg);
}

/* ---- streams ---- */

/* streams[name] = cleaned st (with "name"); a changed source drops the
 * stream's live publishers. */
static int put_stream(struct api_run *run, json_t *streams, const char *name, const json_t *st)
{
	json_t *c = clean_copy(st);
	if (!c)
		return -ENOMEM;
	if (json_is_object(c))
		json_object_set_new(c, "name", json_string(name));
	const json_t *old = json_object_get(streams, name);
	if (old && !json_equal(json_object_get(old, "source"), json_object_get(c, "source")))
		json_array_append_new(run->pending_kick, json_string(name));
	return json_object_set_new(streams, name, c) < 0 ? -ENOMEM : 0;
}

static int put_streams(struct api_run *run, json_t *streams, const json_t *arg)
{
	const char *name;
	json_t *st;
	json_object_foreach((json_t *)arg, name, st)
	{
		if (strcmp(name, INCOMPLETE) == 0)
			continue;
		int rc = put_stream(run, streams, name, st);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* "streams": replaces every stream (merges when the object is marked as an
 * incomplete list, as MistServer's own answers are). */
static int edit_streams(struct api_run *run, json_t *draft, const json_t *arg, char *err,
			size_t errlen)
{
	json_t *old = config_section(draft, "streams");
	bool merge = json_object_get(arg, INCOMPLETE) != NULL;
	json_t *streams = merge ? json_deep_copy(old) : json_object();
	if (!old || !streams) {
		json_decref(streams);
		return -ENOMEM;
	}
	int rc = put_streams(run, streams, arg);
	const char *name;
	json_t *st;
	json_object_foreach(old, name, st)
	{
		if (!json_object_get(streams, name))
			json_array_append_new(run->pending_kick, json_string(name));
	}
	if (rc == 0 && json_object_set_new(draft, "streams", streams) < 0)
		return -ENOMEM;
	if (rc < 0)
		json_decref(streams);
	return rc;
}

int api_cmd_streams(struct api_run *run, const json_t *arg)
{
	if (!json_is_object(arg)) /* e.g. "streams": true: just list them */
		return 0;
	return api_mutate(run, "streams", edit_streams, arg);
}

static int edit_addstream(struct api_run *run, json_t *draft, const json_t *arg, char *err,
			  size_t errlen)
{
	if (!json_is_object(arg)) {
		snprintf(err, errlen,
			 "expected an object of streams: {\"name\": {\"source\": ...}}");
		return -EINVAL;
	}
	json_t *streams = config_section(draft, "streams");
	return streams ? put_streams(run, streams, arg) : -ENOMEM;
}

int api_cmd_addstream(struct api_run *run, const json_t *arg)
{
	return api_mutate(run, "addstream", edit_addstream, arg);
}

static void delete_stream(struct api_run *run, json_t *streams, const char *name)
{
	if (!name || !json_object_get(streams, name))
		return;
	json_object_del(streams, name);
	json_array_append_new(run->pending_kick, json_string(name));
}

/* "deletestream": a name, an array of names or an object keyed by names. */
static int edit_deletestream(struct api_run *run, json_t *draft, const json_t *arg, char *err,
			     size_t errlen)
{
	json_t *streams = config_section(draft, "streams");
	if (!streams)
		return -ENOMEM;
	size_t i;
	const char *key;
	json_t *v;
	if (json_is_string(arg)) {
		delete_stream(run, streams, json_string_value(arg));
	} else if (json_is_array(arg)) {
		json_array_foreach(arg, i, v)
		{
			delete_stream(run, streams, json_string_value(v));
		}
	} else if (json_is_object(arg)) {
		json_object_foreach((json_t *)arg, key, v)
		{
			delete_stream(run, streams, key);
		}
	} else {
		snprintf(err, errlen, "expected a stream name or an array of names");
		return -EINVAL;
	}
	return 0;
}

int api_cmd_deletestream(struct api_run *run, const json_t *arg)
{
	return api_mutate(run, "deletestream", edit_deletestream, arg);
}

/* ---- protocols ---- */

static int set_protocols(json_t *draft, json_t *list)
{
	json_t *norm = normalize_protocols(list);
	json_t *cfg = config_section(draft, "config");
	if (!norm || !cfg || json_object_set_new(cfg, "protocols", norm) < 0)
		return -ENOMEM;
	return 0;
}

static int edit_addprotocol(struct api_run *run, json_t *draft, const json_t *arg, char *err,
			    size_t errlen)
{
	json_t *add = as_list(arg);
	if (!add) {
		snprintf(err, errlen, "expected a protocol object or an array of them");
		return -EINVAL;
	}
	json_t *list = json_deep_copy(config_protocols(draft));
	int rc = list && json_array_extend(list, add) == 0 ? set_protocols(draft, list) : -ENOMEM;
	json_decref(list);
	json_decref(add);
	return rc;
}

int api_cmd_addprotocol(struct api_run *run, const json_t *arg)
{
	return api_mutate(run, "addprotocol", edit_addprotocol, arg);
}

/* Copy of protos without the entries equal (once cleaned) to one in del. */
static json_t *without(const json_t *protos, const json_t *del, size_t *removed)
{
	json_t *gone = normalize_protocols(del);
	json_t *keep = json_array();
	size_t i;
	json_t *p;
	*removed = 0;
	json_array_foreach(protos, i, p)
	{
		if (gone && array_has(gone, p))
			(*removed)++;
		else
			json_array_append(keep, p);
	}
	json_decref(gone);
	return keep;
}

static int edit_deleteprotocol(struct api_run *run, json_t *draft, const json_t *arg, char *err,
			       size_t errlen)
{
	json_t *del = as_list(arg);
	if (!del) {
		snprintf(err, errlen, "expected a protocol object or an array of them");
		return -EINVAL;
	}
	size_t removed = 0;
	json_t *keep = without(config_protocols(draft), del, &removed);
	json_decref(del);
	int rc = keep ? set_protocols(draft, keep) : -ENOMEM;
	json_decref(keep);
	if (rc == 0 && !removed) {
		snprintf(err, errlen, "no matching protocol");
		rc = -ENOENT;
	}
	return rc;
}

int api_cmd_deleteprotocol(struct api_run *run, const json_t *arg)
{
	return api_mutate(run, "deleteprotocol", edit_deleteprotocol, arg);
}

/* "updateprotocol": [old, new] replaces the entries equal to old. */
static int edit_updateprotocol(struct api_run *run, json_t *draft, const json_t *arg, char *err,
			       size_t errlen)
{
	const json_t *from = json_array_get(arg, 0), *to = json_array_get(arg, 1);
	if (json_array_size(arg) != 2 || !json_is_object(from) || !json_is_object(to)) {
		snprintf(err, errlen, "expected [old protocol, new protocol]");
		return -EINVAL;
	}
	json_t *old = clean_copy(from), *neu = clean_copy(to);
	json_t *list = json_deep_copy(config_protocols(draft));
	int rc = old && neu && list ? 0 : -ENOMEM;
	size_t i, hits = 0;
	json_t *p;
	json_array_foreach(list, i, p)
	{
		if (rc < 0 || !json_equal(p, old))
			continue;
		hits++;
		rc = json_array_set(list, i, neu) < 0 ? -ENOMEM : 0;
	}
	if (rc == 0)
		rc = set_protocols(draft, list);
	if (rc == 0 && !hits) {
		snprintf(err, errlen, "no matching protocol");
		rc = -ENOENT;
	}
	json_decref(old);
	json_decref(neu);
	json_decref(list);
	return rc;
}

int api_cmd_updateprotocol(struct api_run *run, const json_t *arg)
{
	return api_mutate(run, "updateprotocol", edit_updateprotocol, arg);
}
