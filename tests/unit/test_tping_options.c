/* Unit tests: tping's option parser — defaults, every option, and usage errors that name the
 * option at fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "../../tping/options.h"

/* Parses tping ARGS...; the usage error's message, if any, is left in err. */
static int parse(int privileged, struct tping_opts *o, struct vd_err *err, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;
	va_start(ap, err);
	argv[argc++] = "tping";
	for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 63;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	/* --help, --version and the messages go to /dev/null: the test reads cli.msg */
	FILE *devnull = fopen("/dev/null", "w");
	FILE *saved_out = stdout, *saved_err = stderr;
	stdout = stderr = devnull;
	struct vd_cli cli;
	int rc = tping_options_parse(&cli, argc, argv, privileged, o);
	stdout = saved_out;
	stderr = saved_err;
	fclose(devnull);
	*err = cli.msg;
	return rc == TPING_OPTS_RUN ? 0 : cli.status == 0 ? 1 : -1;
}

static void defaults_are_the_papers(void **state)
{
	struct tping_opts o;
	struct vd_err err;
	assert_int_equal(parse(0, &o, &err, "10.0.0.1", NULL), 0);
	/* Whiteaker et al.: 200 probes, 100 bytes, 250 ms apart. */
	assert_int_equal(o.count, 200);
	assert_int_equal(o.interval, 250 * VD_NS_PER_MS);
	assert_int_equal(o.size, 100);
	assert_int_equal(o.timeout, 10 * VD_NS_PER_SEC);
	assert_int_equal(o.deadline, 0);
	assert_int_equal(o.family, AF_UNSPEC);
	assert_int_equal(o.rest, 0);
	assert_int_equal(o.machine, 0);
	assert_null(o.db);
	assert_string_equal(o.target, "10.0.0.1");
	assert_string_equal(o.command_line, "tping 10.0.0.1");
	tping_options_free(&o);
}

static void every_option(void **state)
{
	struct tping_opts o;
	struct vd_err err;
	assert_int_equal(parse(1, &o, &err, "-6", "-c", "7", "-i", "0.001", "-s", "56", "-W", "2",
			       "-w", "30", "-I", "eth0", "-q", "-D", "--rest", "3", "--load",
			       "yes >/dev/null", "--json", "-o", "out.json", "--db", "x.db",
			       "--testbed", "tb", "--label", "run 1", "--tx-wait", "10ms",
			       "fd00::1", NULL),
			 0);
	assert_int_equal(o.family, AF_INET6);
	assert_int_equal(o.count, 7);
	assert_int_equal(o.interval, VD_NS_PER_MS);
	assert_int_equal(o.size, 56);
	assert_int_equal(o.timeout, 2 * VD_NS_PER_SEC);
	assert_int_equal(o.deadline, 30 * VD_NS_PER_SEC);
	assert_string_equal(o.iface, "eth0");
	assert_true(o.quiet && o.print_time && o.machine);
	assert_int_equal(o.rest, 3);
	assert_string_equal(o.load, "yes >/dev/null");
	assert_int_equal(o.out_mode, VD_OUT_JSON);
	assert_string_equal(o.out_path, "out.json");
	assert_string_equal(o.db, "x.db");
	assert_string_equal(o.testbed, "tb");
	assert_string_equal(o.label, "run 1");
	assert_int_equal(o.tx_wait, 10 * VD_NS_PER_MS);
	assert_string_equal(o.target, "fd00::1");
	tping_options_free(&o);

	/* Long forms with '=', options after the host, --csv. */
	assert_int_equal(
	    parse(0, &o, &err, "host", "--count=3", "--interval=0.5", "--csv", "-4", NULL), 0);
	assert_int_equal(o.count, 3);
	assert_int_equal(o.interval, 500 * VD_NS_PER_MS);
	assert_int_equal(o.out_mode, VD_OUT_CSV);
	assert_int_equal(o.family, AF_INET);
	tping_options_free(&o);

	assert_int_equal(parse(0, &o, &err, "--no-timestamps", "host", NULL), 0);
	assert_true(o.no_tstamp);
	tping_options_free(&o);
}

static void help_and_version_stop_the_run(void **state)
{
	struct tping_opts o;
	struct vd_err err;
	assert_int_equal(parse(0, &o, &err, "--help", NULL), 1);
	tping_options_free(&o);
	assert_int_equal(parse(0, &o, &err, "-V", NULL), 1);
	tping_options_free(&o);
}

/* Each bad command line fails and its message names the option (or says what is missing). */
static void usage_errors_name_the_option(void **state)
{
	static const struct {
		const char *args[6];
		const char *expect;
	} cases[] = {
	    {{"--bogus", "h"}, "'--bogus'"},
	    {{"-z", "h"}, "'-z'"},
	    {{"h", "-c"}, "'-c' needs a value"},
	    {{"h", "--db"}, "'--db' needs a value"},
	    {{"-c", "0", "h"}, "'-c'"},
	    {{"-c", "12x", "h"}, "'-c'"},
	    {{"--count", "-5", "h"}, "'--count'"},
	    {{"-i", "0.001", "h"}, "'-i': intervals below 0.002 s need root"},
	    {{"-i", "fast", "h"}, "'-i'"},
	    {{"-s", "70000", "h"}, "'-s'"},
	    {{"-W", "0", "h"}, "'-W'"},
	    {{"-w", "-1", "h"}, "'-w'"},
	    {{"--rest", "x", "h"}, "'--rest'"},
	    {{"--load", "", "h"}, "'--load'"},
	    {{"--csv", "--json", "h"}, "'--csv' and '--json'"},
	    {{"-o", "f", "h"}, "'-o' needs '--csv' or '--json'"},
	    {{"--label", "x", "h"}, "'--label' needs '--db'"},
	    {{"--testbed", "x", "h"}, "'--testbed' needs '--db'"},
	    {{"-4", "-6", "h"}, "'-4' and '-6'"},
	    {{"-q"}, "missing HOST"},
	    {{"h", "extra"}, "'extra'"},
	    /* a short option refused inside a cluster is named, not the argument before it */
	    {{"-xq", "h"}, "unknown option '-x'"},
	    {{"--csv", "-qx", "h"}, "unknown option '-x'"},
	    {{"--csv=1", "h"}, "option '--csv' takes no value"},
	    {{"--t", "h"}, "'--t' is ambiguous"},
	    {{"--bogus=3", "h"}, "unknown option '--bogus'"},
	    /* numbers are plain decimals: no hex float, infinity, blank or sign */
	    {{"-i", "0x1p-3", "h"}, "'-i'"},
	    {{"-i", "0x10", "h"}, "'-i'"},
	    {{"--interval", "inf", "h"}, "'--interval'"},
	    {{"-W", "nan", "h"}, "'-W'"},
	    {{"-w", " 5", "h"}, "'-w'"},
	    {{"-w", "+5", "h"}, "'-w'"},
	    {{"-w", "5 s", "h"}, "'-w'"},
	    {{"-W", "1e400", "h"}, "'-W'"},
	    {{"-c", "99999999999999999999", "h"}, "'-c'"},
	    {{"--tx-wait", "0x1p-3", "h"}, "'--tx-wait'"},
	    {{"--no-timestamps", "--tx-wait", "1", "h"}, "'--no-timestamps' and '--tx-wait'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tping_opts o;
		struct vd_err err;
		const char *const *a = cases[i].args;
		int rc = parse(0, &o, &err, a[0], a[1], a[2], a[3], a[4], a[5], NULL);
		if (rc != -1 || !strstr(err.msg, cases[i].expect))
			fail_msg("case %zu: rc %d, message '%s', expected '%s'", i, rc, err.msg,
				 cases[i].expect);
		tping_options_free(&o);
	}
}

static void root_may_go_below_2ms(void **state)
{
	struct tping_opts o;
	struct vd_err err;
	assert_int_equal(parse(1, &o, &err, "-i", "0", "h", NULL), 0);
	assert_int_equal(o.interval, 0);
	tping_options_free(&o);
	assert_int_equal(parse(0, &o, &err, "-i", "0.002", "h", NULL), 0);
	tping_options_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defaults_are_the_papers),
	    cmocka_unit_test(every_option),
	    cmocka_unit_test(help_and_version_stop_the_run),
	    cmocka_unit_test(usage_errors_name_the_option),
	    cmocka_unit_test(root_may_go_below_2ms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
