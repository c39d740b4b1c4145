/* libFuzzer target: AMF0 decoding, and re-encoding what decoded.
 * A decoded tree must encode again, and the encoding must decode to a
 * tree that encodes to the same bytes (idempotent round trip). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/amf0.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amf0_value v[8];
	int n = amf0_decode_all(data, size, v, 8);
	if (n < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		struct bytes a = {0}, b = {0};
		struct amf0_value w;
		size_t used;
		if (amf0_put_value(&a, &v[i]) == 0 && amf0_decode(a.data, a.len, &w, &used) == 0) {
			if (used != a.len || amf0_put_value(&b, &w) || b.len != a.len ||
			    memcmp(a.data, b.data, a.len))
				abort();
			amf0_free(&w);
		}
		bytes_free(&a);
		bytes_free(&b);
	}
	amf0_free_all(v, (size_t)n);
	return 0;
}
