/* AMF0 (Action Message Format 0): decoder into a small value tree and
 * streaming encoder. Pure: bytes in, values out. */
#ifndef WEIR_FORMAT_AMF0_H
#define WEIR_FORMAT_AMF0_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"

enum amf0_type {
	AMF0_NUMBER = 0x00,
	AMF0_BOOLEAN = 0x01,
	AMF0_STRING = 0x02,
	AMF0_OBJECT = 0x03,
	AMF0_NULL = 0x05,
	AMF0_UNDEFINED = 0x06,
	AMF0_REFERENCE = 0x07,
	AMF0_ECMA_ARRAY = 0x08,
	AMF0_OBJECT_END = 0x09,
	AMF0_STRICT_ARRAY = 0x0A,
	AMF0_DATE = 0x0B,
	AMF0_LONG_STRING = 0x0C,
	AMF0_UNSUPPORTED = 0x0D,
	AMF0_XML_DOC = 0x0F,
	AMF0_TYPED_OBJECT = 0x10,
};

struct amf0_prop;

struct amf0_value {
	enum amf0_type type;
	double num;   /* NUMBER, DATE (ms), REFERENCE index */
	bool boolean; /* BOOLEAN */
	char *str; /* STRING, LONG_STRING, XML_DOC: NUL-terminated copy; TYPED_OBJECT class name */
	size_t str_len;
	struct amf0_prop *props; /* OBJECT, ECMA_ARRAY, TYPED_OBJECT */
	size_t nprops;
	struct amf0_value *items; /* STRICT_ARRAY */
	size_t nitems;
};

struct amf0_prop {
	char *key;
	struct amf0_value val;
};

/* Decodes one value from p[0..len). Nesting deeper than 32, counts or
 * lengths beyond the input, and unknown type markers fail with -EPROTO
 * (-ENOMEM on allocation failure). On success returns 0 and the bytes
 * used in *used; free the value with amf0_free. On failure *out is left
 * freed/zeroed. */
int amf0_decode(const uint8_t *p, size_t len, struct amf0_value *out, size_t *used);
/* Decodes values until the input ends (RTMP command message body). At most
 * max values; returns the count or a negative errno. */
int amf0_decode_all(const uint8_t *p, size_t len, struct amf0_value *out, size_t max);
void amf0_free(struct amf0_value *v);
void amf0_free_all(struct amf0_value *v, size_t n);

/* Property of an OBJECT/ECMA_ARRAY/TYPED_OBJECT by key, or NULL. */
const struct amf0_value *amf0_get(const struct amf0_value *obj, const char *key);
/* String value of obj[key] or NULL when absent or not a string. */
const char *amf0_get_str(const struct amf0_value *obj, const char *key);
/* Number value of obj[key] or def. */
double amf0_get_num(const struct amf0_value *obj, const char *key, double def);

/* Encoder: each appends to out, returns 0 or -ENOMEM. */
int amf0_put_number(struct bytes *out, double v);
int amf0_put_bool(struct bytes *out, bool v);
int amf0_put_string(struct bytes *out, const char *s); /* LONG_STRING when > 65535 */
int amf0_put_null(struct bytes *out);
int amf0_put_object_start(struct bytes *out);
int amf0_put_ecma_start(struct bytes *out, uint32_t count);
int amf0_put_key(struct bytes *out, const char *key); /* property name (no marker) */
int amf0_put_object_end(struct bytes *out);           /* 00 00 09 */
/* Encodes a decoded value tree back (round trip). */
int amf0_put_value(struct bytes *out, const struct amf0_value *v);

#endif
