/* Unit tests: the one format detector (lib/input/format.c) — every input by its first bytes,
 * never by its name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "realdata.h"
#include "testutil.h"
#include "vmdelay/input/format.h"
#include "vmdelay/record.h"

static enum vd_format detect_str(const char *s)
{
	return vd_format_detect((const uint8_t *)s, strlen(s));
}

static void pcap_magics_in_both_orders(void **state)
{
	static const uint8_t magics[4][4] = {{0xd4, 0xc3, 0xb2, 0xa1},
					     {0xa1, 0xb2, 0xc3, 0xd4},
					     {0x4d, 0x3c, 0xb2, 0xa1},
					     {0xa1, 0xb2, 0x3c, 0x4d}};
	for (int i = 0; i < 4; i++)
		assert_int_equal(vd_format_detect(magics[i], 4), VD_FORMAT_PCAP);
	static const uint8_t shb[4] = {0x0a, 0x0d, 0x0d, 0x0a};
	assert_int_equal(vd_format_detect(shb, 4), VD_FORMAT_PCAPNG);
	assert_string_equal(vd_format_name(VD_FORMAT_PCAPNG), "pcapng");
	assert_true(vd_format_is_trace(VD_FORMAT_PCAP));
	assert_false(vd_format_is_trace(VD_FORMAT_TCPMON));
}

static void tping_files(void **state)
{
	assert_int_equal(detect_str("seq,phase,status,user_tx_ns\n1,load,ok,5\n"),
			 VD_FORMAT_TPING_CSV);
	assert_int_equal(detect_str("\xef\xbb\xbfseq,user_tx_ns\n"), VD_FORMAT_TPING_CSV);
	/* a CSV that is not tping's */
	assert_int_equal(detect_str("seq,value\n1,2\n"), VD_FORMAT_UNKNOWN);
	assert_int_equal(detect_str("  \n{\"seq\": 1, \"user_tx_ns\": 5}\n"), VD_FORMAT_TPING_JSON);
	assert_int_equal(detect_str("{\"other\": 1}\n"), VD_FORMAT_UNKNOWN);
	char db[32] = "SQLite format 3";
	assert_int_equal(vd_format_detect((const uint8_t *)db, sizeof(db)), VD_FORMAT_SQLITE);
	assert_string_equal(vd_format_name(VD_FORMAT_SQLITE), "tping-sqlite");
}

static void tcpmon_and_unknown(void **state)
{
	uint8_t b[16] = {0};
	memcpy(b, TCPMON_FILE_MAGIC, 8);
	assert_int_equal(vd_format_detect(b, sizeof(b)), VD_FORMAT_TCPMON);
	assert_int_equal(vd_format_detect(b, 7), VD_FORMAT_UNKNOWN); /* cut before the magic ends */
	assert_int_equal(vd_format_detect(b, 0), VD_FORMAT_UNKNOWN);
	assert_int_equal(detect_str("hello\n"), VD_FORMAT_UNKNOWN);
	assert_string_equal(vd_format_name(VD_FORMAT_UNKNOWN), "unknown");
	assert_string_equal(vd_format_name((enum vd_format)99), "unknown");
}

/* ERF has no magic: a real ERF file is recognised, and the name of a file never counts. */
static void files_by_content(void **state)
{
	char p[1024];
	enum vd_format f;
	struct vd_err err;
	if (!realdata_dir())
		skip();
	assert_int_equal(
	    vd_format_detect_file(realdata_path(p, sizeof(p), "100_packets.erf"), &f, &err), 0);
	assert_int_equal(f, VD_FORMAT_ERF);
	assert_int_equal(
	    vd_format_detect_file(realdata_path(p, sizeof(p), "test008.pcapng"), &f, &err), 0);
	assert_int_equal(f, VD_FORMAT_PCAPNG);
}

static void names_do_not_count_and_errors_name_the_file(void **state)
{
	FILE *o = fopen(testutil_tmp("trace.json"), "wb");
	assert_non_null(o);
	fputs("seq,user_tx_ns\n", o);
	fclose(o);
	enum vd_format f;
	struct vd_err err;
	assert_int_equal(vd_format_detect_file(testutil_tmp("trace.json"), &f, &err), 0);
	assert_int_equal(f, VD_FORMAT_TPING_CSV);
	assert_int_equal(vd_format_detect_file(testutil_tmp("missing.pcap"), &f, &err), -1);
	assert_non_null(strstr(err.msg, "missing.pcap"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pcap_magics_in_both_orders),
	    cmocka_unit_test(tping_files),
	    cmocka_unit_test(tcpmon_and_unknown),
	    cmocka_unit_test(files_by_content),
	    cmocka_unit_test(names_do_not_count_and_errors_name_the_file),
	};
	return cmocka_run_group_tests(tests, testutil_setup, testutil_teardown);
}
