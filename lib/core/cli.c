/* cli.c — the command line every tool shares: getopt_long with the errors handled and the
 * options named as written, usage errors, --help/--version, output closing (cli.h). */
#include "vmdelay/core/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio_ext.h>
#include <string.h>

void vd_cli_init(struct vd_cli *cli, const char *prog, const char *help, int argc, char **argv,
		 const char *shortopts, const struct option *longopts)
{
	memset(cli, 0, sizeof(*cli));
	cli->prog = prog;
	cli->help = help;
	cli->argc = argc;
	cli->argv = argv;
	cli->out = stdout;
	cli->err = stderr;
	cli->longopts = longopts;
	/* A leading ':' (after '+') makes getopt tell a missing value from an unknown option and
	 * print nothing itself: every message is ours, in one format. */
	int plus = shortopts[0] == '+';
	snprintf(cli->shortopts, sizeof(cli->shortopts), "%s:%s", plus ? "+" : "",
		 shortopts + plus);
	optind = 0; /* 0: glibc re-initializes completely, so argv may be another vector */
	opterr = 0;
}

int vd_cli_usage_error(struct vd_cli *cli, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cli->msg.msg, sizeof(cli->msg.msg), fmt, ap);
	va_end(ap);
	fprintf(cli->err, "%s: %s\nTry '%s --help'.\n", cli->prog, cli->msg.msg, cli->prog);
	cli->status = VD_EXIT_USAGE;
	return VD_EXIT_USAGE;
}

int vd_cli_version(struct vd_cli *cli)
{
	fprintf(cli->out, "%s %s\n", cli->prog, VMDELAY_VERSION);
	cli->status = VD_EXIT_OK;
	return VD_CLI_EXIT;
}

/* Whether the option getopt just refused was a long one ("--name[=value]"): the argument it
 * consumed in this call starts with "--". A short option refused inside a cluster ("-xq")
 * consumed nothing yet, and argv[optind - 1] is then an earlier argument. */
static int refused_long(const struct vd_cli *cli, int before)
{
	int i = optind - 1;
	return i >= 1 && i >= before && i < cli->argc && strncmp(cli->argv[i], "--", 2) == 0 &&
	       cli->argv[i][2];
}

/* The long options that "--text" (up to '=') abbreviates, as "--a, --b"; returns how many. */
static int abbreviates(const struct vd_cli *cli, const char *text, char *list, size_t n)
{
	size_t len = strcspn(text + 2, "=");
	int found = 0;
	list[0] = 0;
	for (const struct option *o = cli->longopts; o && o->name; o++) {
		if (strncmp(o->name, text + 2, len) != 0)
			continue;
		if (o->name[len] == 0)
			return 1; /* an exact name is never ambiguous */
		size_t used = strlen(list);
		snprintf(list + used, n - used, "%s--%s", found ? ", " : "", o->name);
		found++;
	}
	return found;
}

static int refused(struct vd_cli *cli, int c, int before)
{
	if (refused_long(cli, before)) {
		const char *text = cli->argv[optind - 1];
		snprintf(cli->opt, sizeof(cli->opt), "%.*s", (int)strcspn(text, "="), text);
		char list[256];
		if (c == ':')
			return vd_cli_usage_error(cli, "option '%s' needs a value", cli->opt);
		if (optopt)
			return vd_cli_usage_error(cli, "option '%s' takes no value", cli->opt);
		if (abbreviates(cli, text, list, sizeof(list)) > 1)
			return vd_cli_usage_error(cli, "option '%s' is ambiguous (%s)", cli->opt,
						  list);
		return vd_cli_usage_error(cli, "unknown option '%s'", cli->opt);
	}
	snprintf(cli->opt, sizeof(cli->opt), "-%c", optopt);
	if (c == ':')
		return vd_cli_usage_error(cli, "option '%s' needs a value", cli->opt);
	return vd_cli_usage_error(cli, "unknown option '%s'", cli->opt);
}

int vd_cli_next(struct vd_cli *cli)
{
	int before = optind, index = -1;
	int c = getopt_long(cli->argc, cli->argv, cli->shortopts, cli->longopts, &index);
	cli->arg = optarg;
	cli->opt[0] = 0;
	if (c == -1)
		return VD_CLI_END;
	if (c == '?' || c == ':') {
		refused(cli, c, before);
		return VD_CLI_EXIT;
	}
	if (index >= 0)
		snprintf(cli->opt, sizeof(cli->opt), "--%s", cli->longopts[index].name);
	else
		snprintf(cli->opt, sizeof(cli->opt), "-%c", c);
	if (c == 'h' && cli->help) {
		fputs(cli->help, cli->out);
		cli->status = VD_EXIT_OK;
		return VD_CLI_EXIT;
	}
	if (c == 'V')
		return vd_cli_version(cli);
	return c;
}

int vd_cli_subcommand(struct vd_cli *cli, const char *list)
{
	int c;
	while ((c = vd_cli_next(cli)) != VD_CLI_END) {
		if (c != VD_CLI_EXIT)
			vd_cli_usage_error(cli, "option '%s' goes after the subcommand", cli->opt);
		return -1;
	}
	if (optind >= cli->argc) {
		vd_cli_usage_error(cli, "a subcommand is needed: %s", list);
		return -1;
	}
	return optind;
}

int vd_cli_exclusive(struct vd_cli *cli, const char *a, int a_given, const char *b, int b_given)
{
	if (a_given && b_given)
		return vd_cli_usage_error(cli, "only one of '%s' and '%s' can be given", a, b);
	return 0;
}

int vd_cli_needs(struct vd_cli *cli, const char *a, int a_given, const char *b, int b_given)
{
	if (a_given && !b_given)
		return vd_cli_usage_error(cli, "option '%s' needs '%s'", a, b);
	return 0;
}

int vd_cli_close_file(const char *prog, FILE *f, const char *path)
{
	int failed = ferror(f);
	errno = 0;
	if (fclose(f) != 0 || failed) {
		fprintf(stderr, "%s: %s: write error%s%s\n", prog, path, errno ? ": " : "",
			errno ? strerror(errno) : "");
		return -1;
	}
	return 0;
}

int vd_cli_exit(const char *prog, int status)
{
	/* As gnulib's close_stdout: a stdout that was never opened (EBADF) with nothing to write
	 * is no error; anything else that fails lost output. */
	int pending = __fpending(stdout) != 0;
	int failed = ferror(stdout);
	errno = 0;
	int close_failed = fclose(stdout) != 0;
	if (failed || (close_failed && (pending || errno != EBADF))) {
		fprintf(stderr, "%s: stdout: write error%s%s\n", prog, errno ? ": " : "",
			errno ? strerror(errno) : "");
		if (status == VD_EXIT_OK)
			status = VD_EXIT_RUNTIME;
	}
	return status;
}
