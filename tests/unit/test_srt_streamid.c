/* SRT stream IDs: plain names, the "#!::" access-control syntax, modes,
 * reject codes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/srt/srtlib.h"
#include "proto/srt/wsrt.h"

static void test_plain(void **state)
{
	struct wsrt_streamid s;
	int rej = -1;
	char err[160];
	assert_int_equal(wsrt_streamid_parse("live+srt", &s, &rej, err, sizeof(err)), 0);
	assert_string_equal(s.name, "live+srt");
	assert_int_equal(s.mode, WSRT_SID_ANY);
	assert_string_equal(s.pass, "");
	assert_int_equal(rej, 0);

	assert_int_equal(wsrt_streamid_parse("cam1?pass=s3cret&x=1", &s, &rej, err, sizeof(err)),
			 0);
	assert_string_equal(s.name, "cam1");
	assert_string_equal(s.pass, "s3cret");
}

static void test_keyed(void **state)
{
	struct wsrt_streamid s;
	int rej = 0;
	char err[160];
	assert_int_equal(wsrt_streamid_parse("#!::r=live+x,m=publish,u=alice,pass=pw", &s, &rej,
					     err, sizeof(err)),
			 0);
	assert_string_equal(s.name, "live+x");
	assert_int_equal(s.mode, WSRT_SID_PUBLISH);
	assert_string_equal(s.user, "alice");
	assert_string_equal(s.pass, "pw");

	assert_int_equal(
	    wsrt_streamid_parse("#!::m=request,r=live+srt", &s, &rej, err, sizeof(err)), 0);
	assert_string_equal(s.name, "live+srt");
	assert_int_equal(s.mode, WSRT_SID_REQUEST);

	/* unknown and informational keys are ignored; t=stream is fine */
	assert_int_equal(wsrt_streamid_parse("#!::h=example.com,t=stream,s=abc,r=a,zz=1", &s, &rej,
					     err, sizeof(err)),
			 0);
	assert_string_equal(s.name, "a");
	assert_int_equal(s.mode, WSRT_SID_ANY);
}

static void test_errors(void **state)
{
	struct wsrt_streamid s;
	int rej = 0;
	char err[160] = "";
	assert_int_equal(wsrt_streamid_parse("", &s, &rej, err, sizeof(err)), -EINVAL);
	assert_int_equal(rej, SRT_REJX_BAD_REQUEST);
	assert_int_equal(wsrt_streamid_parse(NULL, &s, &rej, err, sizeof(err)), -EINVAL);
	assert_int_equal(wsrt_streamid_parse("#!::m=publish", &s, &rej, err, sizeof(err)), -EINVAL);
	assert_int_equal(rej, SRT_REJX_BAD_REQUEST);
	assert_non_null(strstr(err, "r="));
	assert_int_equal(wsrt_streamid_parse("#!::r=x,m=bidirectional", &s, &rej, err, sizeof(err)),
			 -ENOTSUP);
	assert_int_equal(rej, SRT_REJX_BAD_MODE);
	assert_int_equal(wsrt_streamid_parse("#!::r=x,t=file", &s, &rej, err, sizeof(err)),
			 -ENOTSUP);
	assert_int_equal(rej, SRT_REJX_NOTSUP_MEDIA);
	assert_int_equal(wsrt_streamid_parse("#!:{r=x}", &s, &rej, err, sizeof(err)), -EINVAL);
	assert_int_equal(rej, SRT_REJX_BAD_REQUEST);
	assert_int_equal(wsrt_streamid_parse("#!::r", &s, &rej, err, sizeof(err)), -EINVAL);
	assert_int_equal(wsrt_streamid_parse("?pass=x", &s, &rej, err, sizeof(err)), -EINVAL);
	char big[600];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(wsrt_streamid_parse(big, &s, &rej, err, sizeof(err)), -EINVAL);
}

static void test_reject_codes(void **state)
{
	assert_int_equal(wsrt_reject_for_errno(-ENOENT), 1404);
	assert_int_equal(wsrt_reject_for_errno(-EACCES), 1403);
	assert_int_equal(wsrt_reject_for_errno(-EBUSY), 1409);
	assert_int_equal(wsrt_reject_for_errno(-ENOMEM), 1500);
	assert_string_equal(wsrt_reject_str(1403), "forbidden");
	assert_string_equal(wsrt_reject_str(1404), "not found");
	assert_non_null(wsrt_reject_str(SRT_REJ_BADSECRET));
	assert_non_null(wsrt_reject_str(99999));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_keyed),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_reject_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
