/* SRT option table, srt:// URL parsing (mode selection, options, extra
 * keys) and the SRT listener's config reading. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/srt/srt-t.h"
#include "proto/srt/srtlib.h"
#include "proto/srt/wsrt.h"

static void test_table(void **state)
{
	const struct wsrt_opt_def *d = wsrt_opt_find("latency");
	assert_non_null(d);
	assert_int_equal(d->opt, SRTO_LATENCY);
	assert_int_equal(d->type, WSRT_INT);
	assert_int_equal(wsrt_opt_find("maxbw")->type, WSRT_INT64);
	assert_int_equal(wsrt_opt_find("tlpktdrop")->type, WSRT_BOOL);
	assert_int_equal(wsrt_opt_find("passphrase")->type, WSRT_STRING);
	assert_int_equal(wsrt_opt_find("packetfilter")->opt, SRTO_PACKETFILTER);
	assert_int_equal(wsrt_opt_find("udp_rcvbuf")->opt, SRTO_UDP_RCVBUF);
	assert_null(wsrt_opt_find("LATENCY")); /* names are lower-case */
	assert_null(wsrt_opt_find("srto_latency"));
	assert_null(wsrt_opt_find("xyz"));
}

static void test_set_values(void **state)
{
	struct wsrt_opts o = {0};
	char err[256];
	assert_int_equal(wsrt_opts_set(&o, "latency", "200", err, sizeof(err)), 0);
	assert_int_equal(wsrt_opts_set(&o, "maxbw", "10000000000", err, sizeof(err)), 0);
	assert_int_equal(wsrt_opts_set(&o, "tlpktdrop", "off", err, sizeof(err)), 0);
	assert_int_equal(wsrt_opts_set(&o, "minversion", "0x010300", err, sizeof(err)), 0);
	assert_int_equal(wsrt_opts_set(&o, "transtype", "live", err, sizeof(err)), 0);
	assert_int_equal(wsrt_opts_set(&o, "passphrase", "0123456789ab", err, sizeof(err)), 0);
	assert_int_equal(wsrt_opts_set(&o, "packetfilter", "fec,cols:10,rows:5", err, sizeof(err)),
			 0);
	assert_int_equal(o.n, 7);
	assert_int_equal(wsrt_opts_get(&o, SRTO_LATENCY)->num, 200);
	assert_true(wsrt_opts_get(&o, SRTO_MAXBW)->num == 10000000000ll);
	assert_int_equal(wsrt_opts_get(&o, SRTO_TLPKTDROP)->num, 0);
	assert_int_equal(wsrt_opts_get(&o, SRTO_MINVERSION)->num, 0x010300);
	assert_int_equal(wsrt_opts_get(&o, SRTO_TRANSTYPE)->num, SRTT_LIVE);
	assert_string_equal(wsrt_opts_get(&o, SRTO_PASSPHRASE)->str, "0123456789ab");
	/* a later value replaces the earlier one */
	assert_int_equal(wsrt_opts_set(&o, "latency", "500", err, sizeof(err)), 0);
	assert_int_equal(o.n, 7);
	assert_int_equal(wsrt_opts_get(&o, SRTO_LATENCY)->num, 500);
	struct wsrt_opts c;
	assert_int_equal(wsrt_opts_copy(&c, &o), 0);
	wsrt_opts_del(&o, SRTO_PASSPHRASE);
	assert_null(wsrt_opts_get(&o, SRTO_PASSPHRASE));
	assert_string_equal(wsrt_opts_get(&c, SRTO_PASSPHRASE)->str, "0123456789ab");
	wsrt_opts_free(&o);
	wsrt_opts_free(&c);
}

static void test_set_errors(void **state)
{
	struct wsrt_opts o = {0};
	char err[256] = "";
	assert_int_equal(wsrt_opts_set(&o, "xyz", "1", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "unknown SRT option 'xyz'");
	assert_int_equal(wsrt_opts_set(&o, "latency", "fast", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "latency"));
	assert_int_equal(wsrt_opts_set(&o, "latency", "", err, sizeof(err)), -EINVAL);
	assert_int_equal(wsrt_opts_set(&o, "latency", "99999999999", err, sizeof(err)), -EINVAL);
	assert_int_equal(wsrt_opts_set(&o, "tlpktdrop", "maybe", err, sizeof(err)), -EINVAL);
	assert_int_equal(wsrt_opts_set(&o, "transtype", "bulk", err, sizeof(err)), -EINVAL);
	char longpass[100];
	memset(longpass, 'a', sizeof(longpass) - 1);
	longpass[sizeof(longpass) - 1] = 0;
	assert_int_equal(wsrt_opts_set(&o, "passphrase", longpass, err, sizeof(err)), -EINVAL);
	assert_int_equal(wsrt_opts_set(&o, "rcvsyn", "1", err, sizeof(err)), -EPERM);
	assert_int_equal(wsrt_opts_set(&o, "state", "1", err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "read-only"));
	assert_int_equal(o.n, 0);
}

static void test_url_modes(void **state)
{
	struct wsrt_url u;
	char err[256];
	assert_int_equal(wsrt_url_parse("srt://127.0.0.1:9000", NULL, &u, err, sizeof(err)), 0);
	assert_int_equal(u.mode, WSRT_CALLER);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 9000);
	wsrt_url_free(&u);

	assert_int_equal(wsrt_url_parse("srt://:9000", NULL, &u, err, sizeof(err)), 0);
	assert_int_equal(u.mode, WSRT_LISTENER);
	assert_string_equal(u.host, "");
	wsrt_url_free(&u);

	assert_int_equal(
	    wsrt_url_parse("srt://10.0.0.1:9000?mode=listener", NULL, &u, err, sizeof(err)), 0);
	assert_int_equal(u.mode, WSRT_LISTENER);
	assert_string_equal(u.host, "10.0.0.1");
	wsrt_url_free(&u);

	assert_int_equal(
	    wsrt_url_parse("srt://host.example:9000?mode=rendezvous", NULL, &u, err, sizeof(err)),
	    0);
	assert_int_equal(u.mode, WSRT_RENDEZVOUS);
	wsrt_url_free(&u);

	/* caller without a host makes no sense */
	assert_int_equal(wsrt_url_parse("srt://:9000?mode=caller", NULL, &u, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "needs a host"));
	wsrt_url_free(&u);
	assert_int_equal(wsrt_url_parse("srt://h:1?mode=sideways", NULL, &u, err, sizeof(err)),
			 -EINVAL);
	wsrt_url_free(&u);
	assert_int_equal(wsrt_url_parse("srt://host", NULL, &u, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no port"));
	wsrt_url_free(&u);
	assert_int_equal(wsrt_url_parse("rtmp://host:1", NULL, &u, err, sizeof(err)), -EINVAL);
	wsrt_url_free(&u);
}

static void test_url_options(void **state)
{
	struct wsrt_url u;
	char err[256] = "";
	const char *url = "srt://127.0.0.1:9000?latency=300&passphrase=abc%2B123456789"
			  "&streamid=#!::r=live+x,m=publish&PBKEYLEN=32";
	assert_int_equal(wsrt_url_parse(url, NULL, &u, err, sizeof(err)), 0);
	assert_int_equal(u.opts.n, 4);
	assert_int_equal(wsrt_opts_get(&u.opts, SRTO_LATENCY)->num, 300);
	assert_string_equal(wsrt_opts_get(&u.opts, SRTO_PASSPHRASE)->str, "abc+123456789");
	/* '#' is not a fragment and '+' stays '+' */
	assert_string_equal(wsrt_opts_get(&u.opts, SRTO_STREAMID)->str, "#!::r=live+x,m=publish");
	assert_int_equal(wsrt_opts_get(&u.opts, SRTO_PBKEYLEN)->num, 32);
	wsrt_url_free(&u);

	assert_int_equal(wsrt_url_parse("srt://:9000?latency=1&xyz=2", NULL, &u, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "unknown SRT option 'xyz'");
	wsrt_url_free(&u);

	static const char *const extra[] = {"video", "audio", NULL};
	assert_int_equal(wsrt_url_parse("srt://h:1?audio=none&latency=50&video=maxbps", extra, &u,
					err, sizeof(err)),
			 0);
	assert_string_equal(u.extra, "audio=none&video=maxbps");
	assert_int_equal(u.opts.n, 1);
	wsrt_url_free(&u);
}

static void test_listener_config(void **state)
{
	json_t *cfg =
	    json_pack("{ss si ss si ss si sb}", "connector", "SRT", "port", 8889, "interface", "",
		      "acceptable", 1, "passphrase", "0123456789", "latency", 200, "tlpktdrop", 1);
	struct wsrt_opts o = {0};
	int acc = -1;
	char err[256] = "";
	assert_int_equal(wsrt_listener_config(cfg, &o, &acc, err, sizeof(err)), 0);
	assert_int_equal(acc, 1);
	assert_int_equal(o.n, 3);
	assert_int_equal(wsrt_opts_get(&o, SRTO_LATENCY)->num, 200);
	assert_string_equal(wsrt_opts_get(&o, SRTO_PASSPHRASE)->str, "0123456789");
	wsrt_opts_free(&o);
	json_decref(cfg);

	cfg = json_pack("{ss ss}", "connector", "SRT", "acceptable", "3");
	assert_int_equal(wsrt_listener_config(cfg, &o, &acc, err, sizeof(err)), -EINVAL);
	json_decref(cfg);
	cfg = json_pack("{ss ss}", "connector", "SRT", "lantecy", "3");
	assert_int_equal(wsrt_listener_config(cfg, &o, &acc, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "unknown SRT option 'lantecy'");
	wsrt_opts_free(&o);
	json_decref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),       cmocka_unit_test(test_set_values),
	    cmocka_unit_test(test_set_errors),  cmocka_unit_test(test_url_modes),
	    cmocka_unit_test(test_url_options), cmocka_unit_test(test_listener_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
