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
#include <unistd.h>

#include <cmocka.h>

#include "realdata.h"
#include "testutil.h"
#include "vmdelay/input/echo_pull.h"
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

/* The first n bytes of the real capture name into the temporary file tmpname; its path
 * (malloc'd). */
static char *cut_copy(const char *name, long n, const char *tmpname)
{
	char p[1024];
	FILE *in = fopen(realdata_path(p, sizeof(p), name), "rb");
	FILE *out = fopen(testutil_tmp(tmpname), "wb");
	assert_non_null(in);
	assert_non_null(out);
	for (int c; n-- > 0 && (c = fgetc(in)) != EOF;)
		fputc(c, out);
	fclose(in);
	fclose(out);
	char *path = strdup(testutil_tmp(tmpname));
	assert_non_null(path);
	return path;
}

/* Pulls every echo of spec: how many, and the last return of vd_echo_pull_next. */
static int pull_all(const struct vd_vantage_spec *spec, const struct vd_echo_read_opts *o,
		    int *echoes)
{
	struct vd_echo_pull *p;
	struct vd_err err;
	struct vd_echo e;
	int rc = vd_echo_pull_open(spec, o, &p, &err);
	for (*echoes = 0; rc == 0 && (rc = vd_echo_pull_next(p, &e, &err)) > 0; ++*echoes)
		rc = 0;
	vd_echo_pull_close(p);
	return rc;
}

/* A pull reader's failures are left for a caller that cannot read a pipe again: the damage
 * (the trace's end under end_on_damage once an echo came), a trace without echoes. */
static void pull_failures_left(void **state)
{
	if (!realdata_dir())
		skip();
	/* 5-pings.pcap: a 24-byte header, ten frames of 16 + 98 bytes; the last one cut */
	char *cut = cut_copy("5-pings.pcap", 24 + 10 * 114 - 5, "cut.pcap");
	char *none = cut_copy("5-pings.pcap", 24, "none.pcap");
	struct vd_vantage_spec spec[2] = {{.path = cut}, {.path = none}};
	struct vd_err errs[2];
	struct vd_echo_failures f = {.specs = spec, .n = 2, .err = errs};
	struct vd_echo_read_opts o = {.failures = &f};
	int n;
	for (int end = 0; end < 2; end++) {
		memset(errs, 0, sizeof(errs));
		f.end_on_damage = end;
		assert_int_equal(pull_all(&spec[0], &o, &n), end ? 0 : -1);
		assert_int_equal(n, 9);
		assert_non_null(strstr(errs[0].msg, "cut.pcap: offset 1050: packet 10: truncated"));
		assert_int_equal(errs[1].msg[0], 0);
		assert_int_equal(pull_all(&spec[1], &o, &n), 0);
		assert_int_equal(n, 0);
		assert_non_null(strstr(errs[1].msg, "none.pcap: no ICMP echo requests or replies"));
	}
	/* no failures asked for: the damage is only returned */
	assert_int_equal(pull_all(&spec[0], NULL, &n), -1);
	assert_int_equal(n, 9);
	/* which inputs pull without reading any twice: traces, not '*' nor a tping file */
	assert_int_equal(vd_echo_pull_takes_all(spec, 2), 1);
	snprintf(spec[1].select, sizeof(spec[1].select), "*");
	assert_int_equal(vd_echo_pull_takes_all(spec, 2), 0);
	FILE *csv = fopen(testutil_tmp("r.csv"), "w");
	assert_non_null(csv);
	fputs("seq,phase,status,user_tx_ns,user_rx_ns\n1,load,ok,10,21\n", csv);
	fclose(csv);
	spec[1] = (struct vd_vantage_spec){.path = (char *)testutil_tmp("r.csv")};
	assert_int_equal(vd_echo_pull_takes_all(spec, 2), 0);
	assert_int_equal(vd_echo_pull_takes_all(spec, 1), 1);
	free(cut);
	free(none);
}

/* The events of one pulled point: "q1@1010 r2@2100 ...", and the last return of next. */
static int pull_text(const struct vd_vantage_spec *spec, char *buf, size_t len,
		     struct vd_echo_point *pt, struct vd_err *err)
{
	struct vd_echo_pull *p;
	struct vd_echo e;
	int rc = vd_echo_pull_open(spec, NULL, &p, err);
	size_t n = 0;
	buf[0] = '\0';
	while (rc == 0 && (rc = vd_echo_pull_next(p, &e, err)) > 0 && n < len) {
		n +=
		    (size_t)snprintf(buf + n, len - n, "%c%u@%lld ",
				     e.kind == VD_ECHO_REQUEST ? 'q' : 'r', e.seq, (long long)e.ts);
		rc = 0;
	}
	if (rc == 0 && p)
		rc = vd_echo_pull_finish(p, pt, err);
	vd_echo_pull_close(p);
	return rc;
}

static void split_free(struct vd_vantage_spec *x, size_t n, struct vd_tping_split *split)
{
	for (size_t i = 0; i < n; i++)
		vd_vantage_spec_free(&x[i]);
	free(x);
	vd_echo_pull_specs_free(split, NULL);
}

/* The points x[0..n) of a split file pulled side by side with its shared reading, each one event
 * in turn: each point's "q1@1010 r2@2100 ..." into buf[i]. The last failure, else 0. */
static int pull_side_by_side(const struct vd_vantage_spec *x, size_t n,
			     struct vd_tping_split *split, char buf[][256], struct vd_err *err)
{
	struct vd_echo_read_opts o = {.tping_split = split};
	struct vd_echo_pull *p[VD_ECHO_PULL_SPLIT_MAX] = {0};
	size_t len[VD_ECHO_PULL_SPLIT_MAX] = {0};
	int more[VD_ECHO_PULL_SPLIT_MAX] = {0}, rc = 0, any = 1;
	for (size_t i = 0; i < n; i++) {
		buf[i][0] = '\0';
		more[i] = vd_echo_pull_open(&x[i], &o, &p[i], err) == 0;
		rc = more[i] ? rc : -1;
	}
	while (any && rc == 0) {
		any = 0;
		for (size_t i = 0; i < n; i++) {
			struct vd_echo e;
			int r = more[i] ? vd_echo_pull_next(p[i], &e, err) : 0;
			if (r < 0)
				rc = -1;
			more[i] = r > 0;
			any |= more[i];
			if (r > 0 && len[i] < 256)
				len[i] += (size_t)snprintf(
				    buf[i] + len[i], 256 - len[i], "%c%u@%lld ",
				    e.kind == VD_ECHO_REQUEST ? 'q' : 'r', e.seq, (long long)e.ts);
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct vd_echo_point pt;
		if (rc == 0 && vd_echo_pull_finish(p[i], &pt, err) < 0)
			rc = -1;
		vd_echo_pull_close(p[i]);
	}
	return rc;
}

/* A tping file is read once for all its points: split, then removed, its points still pull
 * every event side by side (the reading of its first rows goes on); a second pass opens it
 * again. A point first timed after the first 60 s of rows fails the reading; a point selected
 * that the first rows do not time leaves the file unsplit (read whole). */
static void tping_split_reads_once(void **state)
{
	(void)state;
	const char *path = testutil_tmp("once.csv");
	const char *rows = "seq,phase,status,user_tx_ns,kernel_tx_ns,kernel_rx_ns,user_rx_ns\n"
			   "2,load,ok,2000,2010,2100,2110\n"
			   "1,load,lost,1000,1010,,\n"
			   "3,load,ok,3000,3010,3050,3060\n";
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(rows, f);
	fclose(f);
	struct vd_vantage_spec spec = {.path = strdup(path)}, *x;
	struct vd_tping_split *split;
	struct vd_err err;
	size_t nx;
	char buf[VD_ECHO_PULL_SPLIT_MAX][256];
	assert_int_equal(vd_echo_pull_specs(&spec, 1, &x, &nx, &split, NULL, &err), 0);
	assert_int_equal(nx, 2);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(pull_side_by_side(x, nx, split, buf, &err), 0);
	assert_string_equal(buf[0], "q1@1010 q2@2010 r2@2100 q3@3010 r3@3050 ");
	assert_string_equal(buf[1], "q1@1000 q2@2000 r2@2110 q3@3000 r3@3060 ");
	/* a second pass reads the file again: gone, the open names it */
	assert_int_equal(pull_side_by_side(x, nx, split, buf, &err), -1);
	assert_non_null(strstr(err.msg, "once.csv"));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(rows, f);
	fclose(f);
	assert_int_equal(pull_side_by_side(x, nx, split, buf, &err), 0);
	assert_string_equal(buf[1], "q1@1000 q2@2000 r2@2110 q3@3000 r3@3060 ");
	split_free(x, nx, split);

	/* hw first timed 100 s in, after 70 s of rows: not one of the points found, the reading
	 * fails there */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("seq,phase,status,user_tx_ns,hw_tx_ns,hw_rx_ns,user_rx_ns\n"
	      "1,load,ok,1000000000,,,1100000000\n"
	      "2,load,ok,70000000000,,,70100000000\n"
	      "3,load,ok,100000000000,100000000010,100000000090,100100000000\n",
	      f);
	fclose(f);
	assert_int_equal(vd_echo_pull_specs(&spec, 1, &x, &nx, &split, NULL, &err), 0);
	assert_int_equal(nx, 1);
	assert_string_equal(x[0].select, "user");
	assert_int_equal(pull_side_by_side(x, nx, split, buf, &err), -1);
	assert_non_null(strstr(err.msg, "once.csv: row 3: the first hw timestamps"));
	split_free(x, nx, split);
	/* selected, hw is not split from the first rows: the file stays whole */
	snprintf(spec.select, sizeof(spec.select), "hw,user");
	assert_int_equal(vd_echo_pull_specs(&spec, 1, &x, &nx, &split, NULL, &err), 0);
	assert_int_equal(nx, 1);
	assert_string_equal(x[0].select, "hw,user");
	split_free(x, nx, split);
	vd_vantage_spec_free(&spec);
}

/* A tping file split into the points vd_echo_read gives, each pulled in time order although
 * tping writes a row when its probe finishes (a lost one at its timeout, after later ones); a
 * row reaching back past what was given gives way. */
static void tping_pull_time_order(void **state)
{
	FILE *f = fopen(testutil_tmp("fin.csv"), "w");
	assert_non_null(f);
	fputs("seq,phase,status,user_tx_ns,kernel_tx_ns,kernel_rx_ns,user_rx_ns\n"
	      "2,load,ok,2000,2010,2100,2110\n"
	      "1,load,lost,1000,1010,,\n"
	      "3,load,ok,3000,3010,3050,3060\n"
	      "1,load,late,,,3500,3510\n",
	      f);
	fclose(f);
	struct vd_vantage_spec spec = {.name = "g", .path = strdup(testutil_tmp("fin.csv"))}, *x;
	struct vd_tping_split *split;
	size_t nx;
	struct vd_echo_point pt;
	struct vd_err err;
	char buf[512];
	assert_int_equal(vd_echo_pull_specs(&spec, 1, &x, &nx, &split, NULL, &err), 0);
	assert_int_equal(nx, 2);
	assert_string_equal(x[0].name, "g.kernel");
	assert_string_equal(x[0].select, "kernel");
	assert_string_equal(x[1].name, "g.user");
	assert_int_equal(pull_text(&x[0], buf, sizeof(buf), &pt, &err), 0);
	assert_string_equal(buf, "q1@1010 q2@2010 r2@2100 q3@3010 r3@3050 r1@3500 ");
	assert_string_equal(pt.name, "g.kernel");
	assert_string_equal(pt.select, "kernel");
	assert_string_equal(pt.format, "tping-csv");
	assert_int_equal(pt.records, 4);
	assert_int_equal(pt.has_phase, 1);
	/* one point named: NAME; the SQLite run kept in the selector */
	snprintf(spec.select, sizeof(spec.select), "user,run=2");
	split_free(x, nx, split);
	assert_int_equal(vd_echo_pull_specs(&spec, 1, &x, &nx, &split, NULL, &err), 0);
	assert_int_equal(nx, 1);
	assert_string_equal(x[0].name, "g");
	assert_string_equal(x[0].select, "user,run=2");
	split_free(x, nx, split);
	spec.select[0] = '\0';
	f = fopen(spec.path, "w");
	assert_non_null(f);
	/* a row 100 s on lets the first go; the next reaches back before it */
	fputs("seq,phase,status,user_tx_ns,kernel_tx_ns,kernel_rx_ns,user_rx_ns\n"
	      "1,load,ok,1000000000,1000000000,1100000000,1100000000\n"
	      "2,load,ok,100000000000,100000000000,100100000000,100100000000\n"
	      "3,load,ok,1050000000,1050000000,1060000000,1060000000\n",
	      f);
	fclose(f);
	snprintf(spec.select, sizeof(spec.select), "kernel");
	assert_int_equal(pull_text(&spec, buf, sizeof(buf), &pt, &err), -1);
	assert_non_null(strstr(err.msg, "fin.csv: row 3: a kernel time more than 60 s before"));
	vd_vantage_spec_free(&spec);
}

/* Rows 1 s apart whose kernel timestamps stop after the 10th (and with back, from the back-th
 * on: 0 never) into path. */
static void write_kernel_stops(const char *path, int back)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("seq,phase,status,user_tx_ns,kernel_tx_ns,kernel_rx_ns,user_rx_ns\n", f);
	for (long long i = 1; i <= 200; i++) {
		long long t = i * 1000000000LL;
		if (i <= 10 || (back && i >= back))
			fprintf(f, "%lld,load,ok,%lld,%lld,%lld,%lld\n", i, t, t + 10, t + 90,
				t + 100);
		else
			fprintf(f, "%lld,load,ok,%lld,,,%lld\n", i, t, t + 100);
	}
	fclose(f);
}

/* A point whose timestamps stop early ends once another point has moved 60 s on without it,
 * not at the end of the file (the other's events would wait there); timed again after that,
 * the reading fails. */
static void tping_point_stopping_early(void **state)
{
	(void)state;
	struct vd_vantage_spec spec = {.path = strdup(testutil_tmp("stop.csv"))}, *x;
	struct vd_tping_split *split;
	struct vd_echo_pull *p[2];
	struct vd_echo_point pt;
	struct vd_echo e;
	struct vd_err err;
	size_t nx;
	for (int back = 0; back <= 150; back += 150) {
		write_kernel_stops(spec.path, back);
		assert_int_equal(vd_echo_pull_specs(&spec, 1, &x, &nx, &split, NULL, &err), 0);
		assert_int_equal(nx, 2);
		assert_string_equal(x[0].select, "kernel");
		struct vd_echo_read_opts o = {.tping_split = split};
		for (size_t i = 0; i < 2; i++)
			assert_int_equal(vd_echo_pull_open(&x[i], &o, &p[i], &err), 0);
		int n = 0, r;
		while ((r = vd_echo_pull_next(p[0], &e, &err)) > 0)
			n++;
		assert_int_equal(r, 0);
		assert_int_equal(n, 20);
		/* its end given after 10 + 60 s and a little of rows, not 200 */
		assert_int_equal(vd_echo_pull_finish(p[0], &pt, &err), 0);
		assert_in_range(pt.records, 70, 75);
		n = 0;
		while ((r = vd_echo_pull_next(p[1], &e, &err)) > 0)
			n++;
		if (back) {
			assert_int_equal(r, -1);
			assert_non_null(
			    strstr(err.msg, "stop.csv: row 150: kernel timestamps again"));
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(n, 400);
			assert_int_equal(vd_echo_pull_finish(p[1], &pt, &err), 0);
			assert_int_equal(pt.records, 200);
		}
		for (size_t i = 0; i < 2; i++)
			vd_echo_pull_close(p[i]);
		split_free(x, nx, split);
	}
	vd_vantage_spec_free(&spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tping_points_named_and_chosen),
	    cmocka_unit_test(trace_points),
	    cmocka_unit_test(pull_failures_left),
	    cmocka_unit_test(tping_pull_time_order),
	    cmocka_unit_test(tping_split_reads_once),
	    cmocka_unit_test(tping_point_stopping_early),
	};
	return cmocka_run_group_tests(tests, testutil_setup, testutil_teardown);
}
