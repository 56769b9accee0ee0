/* Unit tests: ICMP echo events from any input handed to a sink (lib/input/echo_read.c), seen
 * from a sink that only records what it is told: which points open, their events in order, which
 * are kept and with what final name. lib/match is not involved. */
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
#include "vmdelay/input/echo_read.h"

struct log {
	char text[4096];
	size_t len;
	int fail_echo_after; /* > 0: the n-th event is refused (out of memory) */
	int events;
};

static void say(struct log *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	l->len += (size_t)vsnprintf(l->text + l->len, sizeof(l->text) - l->len, fmt, ap);
	va_end(ap);
}

static int on_open(void *ctx, struct vd_echo_point *p)
{
	say(ctx, "open %s %s;", p->name, p->format);
	p->user = ctx;
	return 0;
}

static int on_echo(void *ctx, struct vd_echo_point *p, const struct vd_echo *e)
{
	struct log *l = ctx;
	if (l->fail_echo_after && ++l->events >= l->fail_echo_after)
		return -1;
	say(ctx, "%s:%c%u;", p->name, e->kind == VD_ECHO_REQUEST ? 'q' : 'r', e->seq);
	return 0;
}

static int on_close(void *ctx, struct vd_echo_point *p, int keep)
{
	say(ctx, "%s %s sel=%s rec=%llu ev=%llu phase=%d;", keep ? "keep" : "drop", p->name,
	    p->select, (unsigned long long)p->records, (unsigned long long)p->echoes, p->has_phase);
	return 0;
}

static int read_arg(const char *arg, struct log *l, struct vd_err *err)
{
	struct vd_vantage_spec spec;
	if (vd_vantage_spec_parse(arg, &spec, err) < 0)
		return -1;
	const struct vd_echo_sink sink = {
	    .ctx = l, .open = on_open, .echo = on_echo, .close = on_close};
	int rc = vd_echo_read(&spec, &sink, NULL, err);
	vd_vantage_spec_free(&spec);
	return rc;
}

static void tping_points_named_and_chosen(void **state)
{
	FILE *f = fopen(testutil_tmp("run.csv"), "w");
	assert_non_null(f);
	fputs("seq,phase,status,user_tx_ns,kernel_tx_ns,kernel_rx_ns,user_rx_ns\n"
	      "1,load,ok,10,11,20,21\n2,load,duplicate,,,,31\n",
	      f);
	fclose(f);
	struct log l = {0};
	struct vd_err err;
	char arg[300];
	snprintf(arg, sizeof(arg), "g=%s", testutil_tmp("run.csv"));
	assert_int_equal(read_arg(arg, &l, &err), 0);
	assert_string_equal(l.text, "open hw tping-csv;open kernel tping-csv;open user tping-csv;"
				    "kernel:q1;kernel:r1;user:q1;user:r1;user:r2;"
				    "drop hw sel= rec=0 ev=0 phase=1;"
				    "keep g.kernel sel=kernel rec=2 ev=2 phase=1;"
				    "keep g.user sel=user rec=2 ev=3 phase=1;");
	/* a point selected without timestamps: every point dropped, the file named */
	memset(&l, 0, sizeof(l));
	snprintf(arg, sizeof(arg), "%s#hw", testutil_tmp("run.csv"));
	assert_int_equal(read_arg(arg, &l, &err), -1);
	assert_non_null(strstr(err.msg, "run.csv: no hw timestamps"));
	assert_null(strstr(l.text, "keep"));
	/* the sink out of memory: an error, every opened point closed */
	memset(&l, 0, sizeof(l));
	l.fail_echo_after = 2;
	snprintf(arg, sizeof(arg), "%s", testutil_tmp("run.csv"));
	assert_int_equal(read_arg(arg, &l, &err), -1);
	assert_non_null(strstr(err.msg, "out of memory"));
	assert_non_null(strstr(l.text, "drop user"));
}

/* 5-pings.pcap: five echo requests and five replies on one interface. */
static void trace_points(void **state)
{
	if (!realdata_dir())
		skip();
	char p[1024], arg[1100];
	realdata_path(p, sizeof(p), "5-pings.pcap");
	struct log l = {0};
	struct vd_err err;
	snprintf(arg, sizeof(arg), "w=%s#*", p);
	assert_int_equal(read_arg(arg, &l, &err), 0);
	assert_non_null(strstr(l.text, "open w.if0 pcap;"));
	assert_non_null(strstr(l.text, "keep w.if0 sel=0 rec=10 ev=10 phase=0;"));
	memset(&l, 0, sizeof(l));
	snprintf(arg, sizeof(arg), "%s#if3", p);
	assert_int_equal(read_arg(arg, &l, &err), -1);
	assert_non_null(strstr(err.msg, "no ICMP echo requests or replies on interface 'if3'"));
	assert_non_null(strstr(l.text, "keep 5-pings sel=if3 rec=10 ev=0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tping_points_named_and_chosen),
	    cmocka_unit_test(trace_points),
	};
	return cmocka_run_group_tests(tests, testutil_setup, testutil_teardown);
}
