/* Unit tests: lib/core/cli.c — options named as written (also inside a cluster such as "-xq"),
 * the one usage-error format, --help/--version, excluded and needed flags, and write errors of
 * stdout and output files (on /dev/full) as exit 1 with a message naming the file. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmdelay/core/cli.h"

enum { OPT_CSV = 256, OPT_JSON, OPT_TIMEOUT, OPT_TIMESTAMP };

static const struct option longopts[] = {
    {"count", required_argument, NULL, 'c'},
    {"quiet", no_argument, NULL, 'q'},
    {"csv", no_argument, NULL, OPT_CSV},
    {"json", no_argument, NULL, OPT_JSON},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"timestamp", no_argument, NULL, OPT_TIMESTAMP},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

struct run {
	struct vd_cli cli;
	char out[512], err[512]; /* what went to cli.out and cli.err */
	int last;		 /* vd_cli_next's last answer */
	char opts[8][64];	 /* the options read, as written */
	int nopts;
};

/* Reads "prog ARGS..." until the end or VD_CLI_EXIT. */
static void run(struct run *r, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, r);
	argv[argc++] = "prog";
	for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	memset(r, 0, sizeof(*r));
	vd_cli_init(&r->cli, "prog", "usage: prog [-q] [-c N]\n", argc, argv, "c:qhV", longopts);
	r->cli.out = fmemopen(r->out, sizeof(r->out) - 1, "w");
	r->cli.err = fmemopen(r->err, sizeof(r->err) - 1, "w");
	while ((r->last = vd_cli_next(&r->cli)) != VD_CLI_END && r->last != VD_CLI_EXIT)
		if (r->nopts < 8)
			snprintf(r->opts[r->nopts++], sizeof(r->opts[0]), "%s", r->cli.opt);
	fclose(r->cli.out);
	fclose(r->cli.err);
}

static void options_are_named_as_written(void **state)
{
	struct run r;
	run(&r, "-qc", "5", "--count=7", "--cou", "8", "--csv", "x", NULL);
	assert_int_equal(r.last, VD_CLI_END);
	assert_int_equal(r.nopts, 5);
	assert_string_equal(r.opts[0], "-q");
	assert_string_equal(r.opts[1], "-c");
	assert_string_equal(r.opts[2], "--count");
	assert_string_equal(r.opts[3], "--count"); /* an abbreviation: named in full */
	assert_string_equal(r.opts[4], "--csv");
	assert_string_equal(r.err, "");
}

/* Each refused command line: exit 2 and exactly this message in the one format. */
static void refused_options(void **state)
{
	static const struct {
		const char *args[4];
		const char *msg;
	} cases[] = {
	    /* inside a cluster: the option, not the argument before it */
	    {{"-xq"}, "unknown option '-x'"},
	    {{"--csv", "-qx"}, "unknown option '-x'"},
	    {{"--quiet", "-x"}, "unknown option '-x'"},
	    {{"host", "-xq"}, "unknown option '-x'"},
	    {{"--bogus"}, "unknown option '--bogus'"},
	    {{"--bogus=1", "-q"}, "unknown option '--bogus'"},
	    {{"-c"}, "option '-c' needs a value"},
	    {{"-qc"}, "option '-c' needs a value"},
	    {{"--count"}, "option '--count' needs a value"},
	    {{"--quiet=1", "-q"}, "option '--quiet' takes no value"},
	    {{"--t", "1"}, "option '--t' is ambiguous (--timeout, --timestamp)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r;
		const char *const *a = cases[i].args;
		run(&r, a[0], a[1], a[2], a[3], NULL);
		char want[256];
		snprintf(want, sizeof(want), "prog: %s\nTry 'prog --help'.\n", cases[i].msg);
		if (r.last != VD_CLI_EXIT || r.cli.status != VD_EXIT_USAGE || strcmp(r.err, want) ||
		    strcmp(r.cli.msg.msg, cases[i].msg))
			fail_msg("case %zu: answer %d, status %d, stderr '%s', want '%s'", i,
				 r.last, r.cli.status, r.err, want);
	}
}

static void help_and_version(void **state)
{
	struct run r;
	run(&r, "-q", "--help", "--bogus", NULL);
	assert_int_equal(r.last, VD_CLI_EXIT);
	assert_int_equal(r.cli.status, VD_EXIT_OK);
	assert_string_equal(r.out, "usage: prog [-q] [-c N]\n");
	assert_string_equal(r.err, "");
	run(&r, "-V", NULL);
	assert_int_equal(r.cli.status, VD_EXIT_OK);
	assert_string_equal(r.out, "prog " VMDELAY_VERSION "\n");
}

static void excluded_and_needed_flags(void **state)
{
	struct run r;
	run(&r, NULL);
	r.cli.err = fopen("/dev/null", "w");
	assert_int_equal(vd_cli_exclusive(&r.cli, "--csv", 1, "--json", 0), 0);
	assert_int_equal(vd_cli_exclusive(&r.cli, "--csv", 1, "--json", 1), VD_EXIT_USAGE);
	assert_string_equal(r.cli.msg.msg, "only one of '--csv' and '--json' can be given");
	assert_int_equal(vd_cli_needs(&r.cli, "--label", 0, "--db", 0), 0);
	assert_int_equal(vd_cli_needs(&r.cli, "--label", 1, "--db", 1), 0);
	assert_int_equal(vd_cli_needs(&r.cli, "--label", 1, "--db", 0), VD_EXIT_USAGE);
	assert_string_equal(r.cli.msg.msg, "option '--label' needs '--db'");
	assert_int_equal(r.cli.status, VD_EXIT_USAGE);
	fclose(r.cli.err);
}

static void subcommands(void **state)
{
	char *ok[] = {"prog", "send", "-x", "host", NULL};
	char *none[] = {"prog", NULL};
	char *early[] = {"prog", "--csv", "send", NULL};
	struct vd_cli cli;
	vd_cli_init(&cli, "prog", "usage\n", 4, ok, "+hV", longopts);
	assert_int_equal(vd_cli_subcommand(&cli, "send or sink"), 1);
	vd_cli_init(&cli, "prog", "usage\n", 1, none, "+hV", longopts);
	cli.err = fopen("/dev/null", "w");
	assert_int_equal(vd_cli_subcommand(&cli, "send or sink"), -1);
	assert_string_equal(cli.msg.msg, "a subcommand is needed: send or sink");
	fclose(cli.err);
	vd_cli_init(&cli, "prog", "usage\n", 3, early, "+hV", longopts);
	cli.err = fopen("/dev/null", "w");
	assert_int_equal(vd_cli_subcommand(&cli, "send or sink"), -1);
	assert_int_equal(cli.status, VD_EXIT_USAGE);
	assert_string_equal(cli.msg.msg, "option '--csv' goes after the subcommand");
	fclose(cli.err);
}

/* Runs body in a child whose stdout is /dev/full and whose stderr is captured into err. */
static int in_child(void (*body)(void), char *err, size_t n)
{
	int fd[2];
	assert_int_equal(pipe(fd), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fd[0]);
		dup2(fd[1], STDERR_FILENO);
		if (!freopen("/dev/full", "w", stdout))
			_exit(99);
		body();
		_exit(98);
	}
	close(fd[1]);
	ssize_t got, len = 0;
	while ((got = read(fd[0], err + len, n - 1 - (size_t)len)) > 0)
		len += got;
	err[len > 0 ? len : 0] = 0;
	close(fd[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_table_and_exit_ok(void)
{
	printf("a table that does not fit\n");
	_exit(vd_cli_exit("prog", VD_EXIT_OK));
}

static void write_table_and_exit_usage(void)
{
	printf("x\n");
	_exit(vd_cli_exit("prog", VD_EXIT_USAGE));
}

static void write_nothing(void)
{
	_exit(vd_cli_exit("prog", VD_EXIT_OK));
}

static void full_stdout_is_a_runtime_error(void **state)
{
	char err[512];
	assert_int_equal(in_child(write_table_and_exit_ok, err, sizeof(err)), VD_EXIT_RUNTIME);
	assert_string_equal(err, "prog: stdout: write error: No space left on device\n");
	/* an error status already set is kept */
	assert_int_equal(in_child(write_table_and_exit_usage, err, sizeof(err)), VD_EXIT_USAGE);
	assert_non_null(strstr(err, "stdout: write error"));
	/* nothing written: nothing lost */
	assert_int_equal(in_child(write_nothing, err, sizeof(err)), VD_EXIT_OK);
	assert_string_equal(err, "");
}

static void full_output_file_names_it(void **state)
{
	FILE *saved = stderr;
	char *msg = NULL;
	size_t len = 0;
	stderr = open_memstream(&msg, &len);
	FILE *f = fopen("/dev/full", "w");
	assert_non_null(f);
	fprintf(f, "rows\n");
	assert_int_equal(vd_cli_close_file("prog", f, "/dev/full"), -1);
	FILE *ok = tmpfile();
	assert_non_null(ok);
	fprintf(ok, "rows\n");
	assert_int_equal(vd_cli_close_file("prog", ok, "tmp"), 0);
	fclose(stderr);
	stderr = saved;
	assert_string_equal(msg, "prog: /dev/full: write error: No space left on device\n");
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(options_are_named_as_written),
	    cmocka_unit_test(refused_options),
	    cmocka_unit_test(help_and_version),
	    cmocka_unit_test(excluded_and_needed_flags),
	    cmocka_unit_test(subcommands),
	    cmocka_unit_test(full_stdout_is_a_runtime_error),
	    cmocka_unit_test(full_output_file_names_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
