/* Unit tests: the same rows in text, CSV and JSON lines. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmdelay/out/output.h"

static char *render(enum vd_out_mode mode)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct vd_out *o = vd_out_create(f, mode);
	for (int r = 0; r < 2; r++) {
		vd_out_row_begin(o);
		vd_out_str(o, "name", r ? "a,\"b\"" : "plain");
		vd_out_int(o, "n", r + 1);
		vd_out_ns(o, "rtt_ns", r ? VD_NS_NONE : 1234567);
		vd_out_dbl(o, "x", r ? NAN : 0.5, 2);
		vd_out_row_end(o);
	}
	assert_int_equal(vd_out_destroy(o), 0);
	fclose(f);
	return buf;
}

static void csv_has_header_and_quotes(void **state)
{
	char *s = render(VD_OUT_CSV);
	assert_string_equal(s, "name,n,rtt_ns,x\nplain,1,1234567,0.50\n\"a,\"\"b\"\"\",2,,\n");
	free(s);
}

static void json_lines_with_nulls(void **state)
{
	char *s = render(VD_OUT_JSON);
	assert_string_equal(s, "{\"name\":\"plain\",\"n\":1,\"rtt_ns\":1234567,\"x\":0.50}\n"
			       "{\"name\":\"a,\\\"b\\\"\",\"n\":2,\"rtt_ns\":null,\"x\":null}\n");
	free(s);
}

static void text_is_aligned_in_microseconds(void **state)
{
	char *s = render(VD_OUT_TEXT);
	assert_string_equal(s, "name   n    rtt_us     x\n"
			       "plain  1  1234.567  0.50\n"
			       "a,\"b\"  2         -     -\n");
	free(s);
}

/* An optional integer is the value, or the cell a NULL string makes. */
static void optional_int_is_value_or_empty(void **state)
{
	for (int m = 0; m < 2; m++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		struct vd_out *o = vd_out_create(f, m ? VD_OUT_JSON : VD_OUT_CSV);
		for (int r = 0; r < 2; r++) {
			vd_out_row_begin(o);
			vd_out_int_opt(o, "port", !r, 80);
			vd_out_str(o, "s", NULL);
			vd_out_row_end(o);
		}
		assert_int_equal(vd_out_destroy(o), 0);
		fclose(f);
		assert_string_equal(buf,
				    m ? "{\"port\":80,\"s\":null}\n{\"port\":null,\"s\":null}\n"
				      : "port,s\n80,\n,\n");
		free(buf);
	}
}

static void write_error_is_reported(void **state)
{
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		skip();
	struct vd_out *o = vd_out_create(f, VD_OUT_CSV);
	for (int i = 0; i < 10000; i++) {
		vd_out_row_begin(o);
		vd_out_int(o, "i", i);
		vd_out_row_end(o);
	}
	assert_int_equal(vd_out_destroy(o), -1);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(csv_has_header_and_quotes),
	    cmocka_unit_test(json_lines_with_nulls),
	    cmocka_unit_test(text_is_aligned_in_microseconds),
	    cmocka_unit_test(optional_int_is_value_or_empty),
	    cmocka_unit_test(write_error_is_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
