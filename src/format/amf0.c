/* AMF0 decoder and encoder (Adobe "Action Message Format -- AMF 0"). */
#include "format/amf0.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define AMF0_MAX_DEPTH 32

/* Decoding cursor over p[0..len). */
struct cur {
	const uint8_t *p;
	size_t len, pos;
};

static size_t left(const struct cur *c)
{
	return c->len - c->pos;
}

static double rd_double(const uint8_t *p)
{
	uint64_t u = (uint64_t)rd_be32(p) << 32 | rd_be32(p + 4);
	double d;
	memcpy(&d, &u, sizeof(d));
	return d;
}

/* Copies n bytes at the cursor into a new NUL-terminated string. */
static int take_str(struct cur *c, size_t n, char **out)
{
	if (left(c) < n)
		return -EPROTO;
	char *s = malloc(n + 1);
	if (!s)
		return -ENOMEM;
	if (n)
		memcpy(s, c->p + c->pos, n);
	s[n] = 0;
	c->pos += n;
	*out = s;
	return 0;
}

/* Reads a u16 (short) or u32 (long) length, then the string bytes. */
static int take_lstr(struct cur *c, bool is_long, struct amf0_value *v)
{
	size_t hdr = is_long ? 4 : 2;
	if (left(c) < hdr)
		return -EPROTO;
	size_t n = is_long ? rd_be32(c->p + c->pos) : rd_be16(c->p + c->pos);
	c->pos += hdr;
	v->str_len = n;
	return take_str(c, n, &v->str);
}

static int decode_value(struct cur *c, struct amf0_value *v, int depth);

/* Appends one property to v->props, growing geometrically. */
static struct amf0_prop *push_prop(struct amf0_value *v, size_t *cap)
{
	if (v->nprops == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct amf0_prop *np = realloc(v->props, ncap * sizeof(*np));
		if (!np)
			return NULL;
		v->props = np;
		*cap = ncap;
	}
	struct amf0_prop *pr = &v->props[v->nprops];
	memset(pr, 0, sizeof(*pr));
	return pr;
}

/* Property list up to and including the 00 00 09 end marker. A property
 * with an empty key is kept unless the next marker is OBJECT_END. */
static int decode_props(struct cur *c, struct amf0_value *v, int depth)
{
	size_t cap = 0;
	for (;;) {
		if (left(c) < 3)
			return -EPROTO;
		size_t klen = rd_be16(c->p + c->pos);
		if (klen == 0 && c->p[c->pos + 2] == AMF0_OBJECT_END) {
			c->pos += 3;
			return 0;
		}
		c->pos += 2;
		struct amf0_prop *pr = push_prop(v, &cap);
		if (!pr)
			return -ENOMEM;
		int rc = take_str(c, klen, &pr->key);
		if (rc)
			return rc;
		v->nprops++; /* counted now so amf0_free releases the key on error */
		if ((rc = decode_value(c, &pr->val, depth + 1)))
			return rc;
	}
}

static int decode_strict_array(struct cur *c, struct amf0_value *v, int depth)
{
	if (left(c) < 4)
		return -EPROTO;
	size_t n = rd_be32(c->p + c->pos);
	c->pos += 4;
	/* Every value takes at least one byte: refuse counts beyond the input. */
	if (n > left(c))
		return -EPROTO;
	if (n && !(v->items = calloc(n, sizeof(*v->items))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v->nitems = i + 1;
		int rc = decode_value(c, &v->items[i], depth + 1);
		if (rc)
			return rc;
	}
	return 0;
}

/* Fixed-size payloads: number, boolean, reference, date. */
static int decode_scalar(struct cur *c, struct amf0_value *v)
{
	static const size_t sizes[] = {
	    [AMF0_NUMBER] = 8, [AMF0_BOOLEAN] = 1, [AMF0_REFERENCE] = 2, [AMF0_DATE] = 10};
	size_t n = sizes[v->type];
	if (left(c) < n)
		return -EPROTO;
	const uint8_t *q = c->p + c->pos;
	c->pos += n;
	if (v->type == AMF0_BOOLEAN)
		v->boolean = q[0] != 0;
	else if (v->type == AMF0_REFERENCE)
		v->num = rd_be16(q);
	else
		v->num = rd_double(q); /* DATE: ms; its time zone is ignored */
	return 0;
}

static int decode_value(struct cur *c, struct amf0_value *v, int depth)
{
	memset(v, 0, sizeof(*v));
	if (depth > AMF0_MAX_DEPTH || left(c) < 1)
		return -EPROTO;
	uint8_t marker = c->p[c->pos++];
	v->type = (enum amf0_type)marker;
	switch (marker) {
	case AMF0_NUMBER:
	case AMF0_BOOLEAN:
	case AMF0_REFERENCE:
	case AMF0_DATE:
		return decode_scalar(c, v);
	case AMF0_STRING:
		return take_lstr(c, false, v);
	case AMF0_LONG_STRING:
	case AMF0_XML_DOC:
		return take_lstr(c, true, v);
	case AMF0_NULL:
	case AMF0_UNDEFINED:
	case AMF0_UNSUPPORTED:
		return 0;
	case AMF0_OBJECT:
		return decode_props(c, v, depth);
	case AMF0_ECMA_ARRAY:
		/* The count is only a hint; the end marker terminates. */
		if (left(c) < 4)
			return -EPROTO;
		c->pos += 4;
		return decode_props(c, v, depth);
	case AMF0_TYPED_OBJECT: {
		int rc = take_lstr(c, false, v);
		return rc ? rc : decode_props(c, v, depth);
	}
	case AMF0_STRICT_ARRAY:
		return decode_strict_array(c, v, depth);
	default: /* MovieClip, RecordSet, OBJECT_END out of place, AVM+ */
		return -EPROTO;
	}
}

int amf0_decode(const uint8_t *p, size_t len, struct amf0_value *out, size_t *used)
{
	struct cur c = {.p = p, .len = p ? len : 0};
	int rc = decode_value(&c, out, 1);
	if (rc) {
		amf0_free(out);
		return rc;
	}
	if (used)
		*used = c.pos;
	return 0;
}

int amf0_decode_all(const uint8_t *p, size_t len, struct amf0_value *out, size_t max)
{
	size_t n = 0, pos = 0;
	while (pos < len && n < max) {
		size_t used = 0;
		int rc = amf0_decode(p + pos, len - pos, &out[n], &used);
		if (rc) {
			amf0_free_all(out, n);
			return rc;
		}
		pos += used;
		n++;
	}
	return (int)n;
}

void amf0_free(struct amf0_value *v)
{
	if (!v)
		return;
	free(v->str);
	for (size_t i = 0; i < v->nprops; i++) {
		free(v->props[i].key);
		amf0_free(&v->props[i].val);
	}
	free(v->props);
	for (size_t i = 0; i < v->nitems; i++)
		amf0_free(&v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

void amf0_free_all(struct amf0_value *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		amf0_free(&v[i]);
}

const struct amf0_value *amf0_get(const struct amf0_value *obj, const char *key)
{
	if (!obj || !key)
		return NULL;
	if (obj->type != AMF0_OBJECT && obj->type != AMF0_ECMA_ARRAY &&
	    obj->type != AMF0_TYPED_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->nprops; i++)
		if (!strcmp(obj->props[i].key, key))
			return &obj->props[i].val;
	return NULL;
}

const char *amf0_get_str(const struct amf0_value *obj, const char *key)
{
	const struct amf0_value *v = amf0_get(obj, key);
	if (!v || (v->type != AMF0_STRING && v->type != AMF0_LONG_STRING))
		return NULL;
	return v->str;
}

double amf0_get_num(const struct amf0_value *obj, const char *key, double def)
{
	const struct amf0_value *v = amf0_get(obj, key);
	return v && v->type == AMF0_NUMBER ? v->num : def;
}

/* ---- encoder ---- */

static int put_double(struct bytes *out, uint8_t marker, double v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof(u));
	int rc = bytes_put_u8(out, marker);
	return rc ? rc : bytes_put_be64(out, u);
}

int amf0_put_number(struct bytes *out, double v)
{
	return put_double(out, AMF0_NUMBER, v);
}

int amf0_put_bool(struct bytes *out, bool v)
{
	uint8_t b[2] = {AMF0_BOOLEAN, v ? 1 : 0};
	return bytes_append(out, b, 2);
}

/* Marker, then a u16 or u32 length, then the bytes. */
static int put_lstr(struct bytes *out, uint8_t marker, bool is_long, const char *s, size_t n)
{
	int rc = bytes_reserve(out, 5 + n);
	if (rc)
		return rc;
	bytes_put_u8(out, marker);
	if (is_long)
		bytes_put_be32(out, (uint32_t)n);
	else
		bytes_put_be16(out, (uint16_t)n);
	return bytes_append(out, s, n);
}

static int put_str_n(struct bytes *out, const char *s, size_t n)
{
	if (n > UINT32_MAX)
		return -EINVAL;
	if (n > 0xffff)
		return put_lstr(out, AMF0_LONG_STRING, true, s, n);
	return put_lstr(out, AMF0_STRING, false, s, n);
}

int amf0_put_string(struct bytes *out, const char *s)
{
	return s ? put_str_n(out, s, strlen(s)) : amf0_put_null(out);
}

int amf0_put_null(struct bytes *out)
{
	return bytes_put_u8(out, AMF0_NULL);
}

int amf0_put_object_start(struct bytes *out)
{
	return bytes_put_u8(out, AMF0_OBJECT);
}

int amf0_put_ecma_start(struct bytes *out, uint32_t count)
{
	int rc = bytes_put_u8(out, AMF0_ECMA_ARRAY);
	return rc ? rc : bytes_put_be32(out, count);
}

static int put_key_n(struct bytes *out, const char *key, size_t n)
{
	if (n > 0xffff)
		return -EINVAL;
	int rc = bytes_put_be16(out, (uint16_t)n);
	return rc ? rc : bytes_append(out, key, n);
}

int amf0_put_key(struct bytes *out, const char *key)
{
	return put_key_n(out, key ? key : "", key ? strlen(key) : 0);
}

int amf0_put_object_end(struct bytes *out)
{
	static const uint8_t end[3] = {0, 0, AMF0_OBJECT_END};
	return bytes_append(out, end, 3);
}

static int put_props(struct bytes *out, const struct amf0_value *v, int depth);

static int put_value_d(struct bytes *out, const struct amf0_value *v, int depth)
{
	if (depth > AMF0_MAX_DEPTH)
		return -EINVAL;
	int rc;
	switch (v->type) {
	case AMF0_NUMBER:
	case AMF0_DATE:
		rc = put_double(out, (uint8_t)v->type, v->num);
		return rc || v->type != AMF0_DATE ? rc : bytes_put_be16(out, 0);
	case AMF0_BOOLEAN:
		return amf0_put_bool(out, v->boolean);
	case AMF0_STRING: /* too long for a short string: becomes a long one */
		if (v->str_len > 0xffff)
			return put_str_n(out, v->str, v->str_len);
		return put_lstr(out, AMF0_STRING, false, v->str, v->str_len);
	case AMF0_LONG_STRING:
	case AMF0_XML_DOC:
		if (v->str_len > UINT32_MAX)
			return -EINVAL;
		return put_lstr(out, (uint8_t)v->type, true, v->str, v->str_len);
	case AMF0_NULL:
	case AMF0_UNDEFINED:
	case AMF0_UNSUPPORTED:
		return bytes_put_u8(out, (uint8_t)v->type);
	case AMF0_REFERENCE:
		if (!(v->num >= 0 && v->num <= 0xffff))
			return -EINVAL;
		rc = bytes_put_u8(out, AMF0_REFERENCE);
		return rc ? rc : bytes_put_be16(out, (uint16_t)v->num);
	case AMF0_OBJECT:
		rc = amf0_put_object_start(out);
		return rc ? rc : put_props(out, v, depth);
	case AMF0_ECMA_ARRAY:
		rc = amf0_put_ecma_start(out, (uint32_t)v->nprops);
		return rc ? rc : put_props(out, v, depth);
	case AMF0_TYPED_OBJECT:
		rc = bytes_put_u8(out, AMF0_TYPED_OBJECT);
		if (!rc)
			rc = put_key_n(out, v->str ? v->str : "", v->str ? v->str_len : 0);
		return rc ? rc : put_props(out, v, depth);
	case AMF0_STRICT_ARRAY:
		if (v->nitems > UINT32_MAX)
			return -EINVAL;
		if ((rc = bytes_put_u8(out, AMF0_STRICT_ARRAY)) ||
		    (rc = bytes_put_be32(out, (uint32_t)v->nitems)))
			return rc;
		for (size_t i = 0; i < v->nitems; i++)
			if ((rc = put_value_d(out, &v->items[i], depth + 1)))
				return rc;
		return 0;
	default:
		return -EINVAL;
	}
}

static int put_props(struct bytes *out, const struct amf0_value *v, int depth)
{
	for (size_t i = 0; i < v->nprops; i++) {
		int rc = amf0_put_key(out, v->props[i].key);
		if (!rc)
			rc = put_value_d(out, &v->props[i].val, depth + 1);
		if (rc)
			return rc;
	}
	return amf0_put_object_end(out);
}

int amf0_put_value(struct bytes *out, const struct amf0_value *v)
{
	return v ? put_value_d(out, v, 1) : amf0_put_null(out);
}
