/* cli.h — the command line every vmdelay tool shares (HACKING.md, "Command lines"):
 * options read with getopt_long and named as the user wrote them, one format for usage errors
 * ("PROG: MESSAGE" then "Try 'PROG --help'.", exit 2), --help and --version (stdout, exit 0),
 * flags that exclude or need each other, and the closing of stdout and of -o files, whose
 * write errors are runtime errors (exit 1) naming the file. The numbers are read by units.h. */
#ifndef VMDELAY_CLI_H
#define VMDELAY_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "vmdelay/core/err.h"

/* vd_cli_next's answers besides an option's value. */
enum { VD_CLI_END = -1, VD_CLI_EXIT = -2 };

struct vd_cli {
	const char *prog; /* starts every message: "tping", "vmdelay-analyze tcp" */
	const char *help; /* the --help text; NULL: vd_cli_next returns 'h' to the caller */
	int argc;
	char **argv;
	FILE *out;	   /* --help and --version (stdout; tests change it) */
	FILE *err;	   /* usage errors (stderr; tests change it) */
	struct vd_err msg; /* the last usage error's MESSAGE, for tests */
	int status; /* exit status once vd_cli_next said VD_CLI_EXIT or after a usage error */
	/* The option vd_cli_next returned last: */
	char opt[64];	 /* as the user wrote it: "-c" or "--count" (never an abbreviation) */
	const char *arg; /* its value, NULL if none */
	/* getopt_long's arguments, kept for the next call: */
	char shortopts[128];
	const struct option *longopts;
};

/* Prepares reading argv[1..argc-1]. shortopts as getopt_long's, optionally starting with '+'
 * (options end at the first operand: a subcommand); 'h' and 'V' (with longopts "help" and
 * "version") are the help and the version. Restarts getopt, so a tool may read a second
 * argument vector (a subcommand's). */
void vd_cli_init(struct vd_cli *cli, const char *prog, const char *help, int argc, char **argv,
		 const char *shortopts, const struct option *longopts);

/* The next option, as getopt_long. Returns its value with cli->opt and cli->arg set; VD_CLI_END
 * after the last option (optind is the first operand); or VD_CLI_EXIT when the tool should exit
 * with cli->status: after printing --help or --version (0), or an unknown option, an ambiguous
 * abbreviation, a missing or unwanted value (a usage error printed, 2). */
int vd_cli_next(struct vd_cli *cli);

/* For a tool whose first operand is a subcommand (tcpmon, tperf), after vd_cli_init with
 * shortopts "+hV": reads the options before the subcommand (--help and --version; any other is
 * a usage error saying it goes after the subcommand). Returns the subcommand's index in argv, or
 * -1 when the tool should exit with cli->status (also when none is given: "a subcommand is
 * needed: LIST"). The subcommand's own options are read with a second vd_cli_init on
 * argc - index, argv + index. */
int vd_cli_subcommand(struct vd_cli *cli, const char *list);

/* Prints "PROG: MESSAGE\nTry 'PROG --help'.\n" to cli->err, keeps MESSAGE in cli->msg, sets
 * cli->status and returns VD_EXIT_USAGE (2), so a parser can `return vd_cli_usage_error(...)`. */
int vd_cli_usage_error(struct vd_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Two options that exclude each other: when both were given (a_given and b_given non-zero),
 * a usage error "only one of 'A' and 'B' can be given"; returns 2, else 0. */
int vd_cli_exclusive(struct vd_cli *cli, const char *a, int a_given, const char *b, int b_given);

/* An option that only means something with another: when a is given without b, a usage error
 * "option 'A' needs 'B'"; returns 2, else 0. */
int vd_cli_needs(struct vd_cli *cli, const char *a, int a_given, const char *b, int b_given);

/* Prints --version ("PROG VERSION") to cli->out; returns VD_CLI_EXIT with cli->status 0. */
int vd_cli_version(struct vd_cli *cli);

/* Closes an output file the tool opened (-o FILE): a write error, now or earlier (ferror), is
 * reported as "PROG: PATH: write error: REASON". Returns 0, or -1 after the message. */
int vd_cli_close_file(const char *prog, FILE *f, const char *path);

/* The tool's exit: flushes and closes stdout; if anything written there was lost (a full disk,
 * /dev/full, a closed pipe) prints "PROG: stdout: write error: REASON" and turns an exit status
 * of 0 into 1. Returns the exit status. Every main ends with `return vd_cli_exit(prog, rc)`. */
int vd_cli_exit(const char *prog, int status);

#endif
