/* Unit tests: interface labels and #SELECT (lib/input/vantage_spec.c) — one syntax for the delay
 * and the tcp command: the name, else ifN; N and ifN both select interface N. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmdelay/input/vantage_spec.h"

static void labels(void **state)
{
	char b[VD_VANTAGE_NAME_MAX];
	vd_iface_label("eth0", 0, b, sizeof(b));
	assert_string_equal(b, "eth0");
	vd_iface_label(NULL, 3, b, sizeof(b));
	assert_string_equal(b, "if3");
	vd_iface_label("", 12, b, sizeof(b));
	assert_string_equal(b, "if12");
}

static void select_everything(void **state)
{
	assert_true(vd_iface_selected("", "eth0", 0));
	assert_true(vd_iface_selected("*", NULL, 7));
}

static void select_by_number_or_ifn(void **state)
{
	/* an unnamed interface 3 */
	assert_true(vd_iface_selected("3", NULL, 3));
	assert_true(vd_iface_selected("if3", NULL, 3));
	assert_false(vd_iface_selected("2", NULL, 3));
	assert_false(vd_iface_selected("if2", NULL, 3));
	/* a named one answers to its name and its number in both spellings */
	assert_true(vd_iface_selected("port1", "port1", 1));
	assert_true(vd_iface_selected("1", "port1", 1));
	assert_true(vd_iface_selected("if1", "port1", 1));
	assert_false(vd_iface_selected("port0", "port1", 1));
	/* not numbers */
	assert_false(vd_iface_selected("if", NULL, 0));
	assert_false(vd_iface_selected("3x", NULL, 3));
	assert_false(vd_iface_selected("-3", NULL, 3));
	assert_false(vd_iface_selected("99999999999", NULL, 3));
}

static void spec_name_from_spec_or_file(void **state)
{
	struct vd_vantage_spec s;
	struct vd_err err;
	char b[VD_VANTAGE_NAME_MAX];
	assert_int_equal(vd_vantage_spec_parse("tap:vm=/nonexistent/x.pcapng#if2", &s, &err), 0);
	assert_string_equal(s.name, "tap");
	assert_string_equal(s.clock, "vm");
	assert_string_equal(s.select, "if2");
	vd_vantage_spec_name(&s, b, sizeof(b));
	assert_string_equal(b, "tap");
	vd_vantage_spec_free(&s);
	assert_int_equal(vd_vantage_spec_parse("/nonexistent/br0.pcap#*", &s, &err), 0);
	vd_vantage_spec_name(&s, b, sizeof(b));
	assert_string_equal(b, "br0");
	assert_string_equal(s.select, "*");
	vd_vantage_spec_free(&s);
	assert_int_equal(vd_vantage_spec_parse("bad name=/x.pcap", &s, &err), -1);
	assert_non_null(strstr(err.msg, "bad name=/x.pcap"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(labels),
	    cmocka_unit_test(select_everything),
	    cmocka_unit_test(select_by_number_or_ifn),
	    cmocka_unit_test(spec_name_from_spec_or_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
