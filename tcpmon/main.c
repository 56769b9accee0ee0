/* main.c — tcpmon: controls tcpmon.ko and reads its per-layer TSC records. Thin: the command
 * line is read here, the subcommands are in cmds.c, the formats in lib/input/tcmrec.c and
 * lib/input/tcmnl.c. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "vmdelay/core/cli.h"
#include "vmdelay/core/units.h"
#include "vmdelay/input/tcmnl.h"

static const char usage[] =
	"usage: tcpmon start [FILTER...]       clear the buffers and start recording\n"
	"       tcpmon filter [FILTER...]      change the filter (and layers) while recording\n"
	"       tcpmon record -w FILE [-c COUNT] [-G SECONDS]\n"
	"                                      write the records to FILE until COUNT records,\n"
	"                                      SECONDS, or SIGINT/SIGTERM\n"
	"       tcpmon stop                    stop recording\n"
	"       tcpmon stats [--cost] [--csv|--json]\n"
	"       tcpmon dump FILE [--header] [--csv|--json]\n"
	"FILTER words: tcp | icmp | icmp6 | ip | ip6 | host ADDR [host ADDR] |\n"
	"              port N [port N] | layers all|LAYER,LAYER...\n"
	"LAYERs: dev-rx ip-pre ip-local-in trans-rx sock-queue sock-copy\n"
	"        trans-tx ip-local-out ip-post dev-tx\n"
	"Options: -h/--help, -V/--version. Needs CAP_NET_ADMIN and tcpmon.ko loaded\n"
	"(except dump). Exit: 0 ok, 1 runtime error (also output), 2 usage error.\n";

/* Which subcommand takes which option ("" none); the others are refused by name. */
static const struct {
	const char *cmd, *opts;
} cmd_opts[] = {
	{ "record", "wcG" }, { "stats", "KCJ" }, { "dump", "HCJ" }, { "stop", "" },
};

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },   { "version", no_argument, NULL, 'V' },
		{ "csv", no_argument, NULL, 'C' },    { "json", no_argument, NULL, 'J' },
		{ "cost", no_argument, NULL, 'K' },   { "header", no_argument, NULL, 'H' },
		{ "write", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 'G' },
		{ NULL, 0, NULL, 0 },
	};
	struct vd_cli cli;
	struct vd_tcmnl_filter f;
	struct vd_err err;
	enum vd_out_mode mode = VD_OUT_TEXT;
	const char *wfile = NULL, *cmd;
	uint64_t count = 0;
	vd_ns duration = VD_NS_NONE;
	int c, cost = 0, header = 0, csv = 0, json = 0;

	/* "+": options end at the subcommand; its own options and filter words follow it */
	vd_cli_init(&cli, "tcpmon", usage, argc, argv, "+hV", opts);
	int sub = vd_cli_subcommand(&cli, "start, filter, record, stop, stats or dump");
	if (sub < 0)
		return cli.status;
	cmd = argv[sub];
	if (!strcmp(cmd, "start") || !strcmp(cmd, "filter")) {
		if (vd_tcmnl_filter_parse(argc - sub - 1, argv + sub + 1, &f, &err))
			return vd_cli_usage_error(&cli, "%s", err.msg);
		return cmd[0] == 's' ? tcpmon_cmd_start(&f) : tcpmon_cmd_filter(&f);
	}
	if (!strcmp(cmd, "selftest-netlink"))
		return tcpmon_cmd_selftest_netlink();

	const char *allowed = NULL;
	for (size_t i = 0; i < sizeof(cmd_opts) / sizeof(cmd_opts[0]); i++)
		if (!strcmp(cmd, cmd_opts[i].cmd))
			allowed = cmd_opts[i].opts;
	if (!allowed)
		return vd_cli_usage_error(&cli, "unknown subcommand '%s'", cmd);
	/* the subcommand's options: argv[0] is its name */
	vd_cli_init(&cli, "tcpmon", usage, argc - sub, argv + sub, "hVw:c:G:", opts);
	argc = cli.argc;
	argv = cli.argv;
	while ((c = vd_cli_next(&cli)) != VD_CLI_END) {
		if (c == VD_CLI_EXIT)
			return cli.status;
		if (!strchr(allowed, c))
			return vd_cli_usage_error(&cli, "%s: option '%s' is not one of its options",
						  cmd, cli.opt);
		switch (c) {
		case 'C':
			csv = 1;
			mode = VD_OUT_CSV;
			break;
		case 'J':
			json = 1;
			mode = VD_OUT_JSON;
			break;
		case 'K':
			cost = 1;
			break;
		case 'H':
			header = 1;
			break;
		case 'w':
			wfile = cli.arg;
			break;
		case 'c': {
			long long n;
			if (vd_units_parse_int(cli.arg, 1, LLONG_MAX, &n))
				return vd_cli_usage_error(&cli, "-c: bad COUNT '%s'", cli.arg);
			count = (uint64_t)n;
			break;
		}
		case 'G':
			if (vd_units_parse_duration(cli.arg, &duration) || duration <= 0)
				return vd_cli_usage_error(&cli, "-G: bad SECONDS '%s'", cli.arg);
			break;
		}
	}
	if (vd_cli_exclusive(&cli, "--csv", csv, "--json", json))
		return cli.status;
	if (!strcmp(cmd, "stop") || !strcmp(cmd, "stats")) {
		if (optind < argc)
			return vd_cli_usage_error(&cli, "unexpected argument '%s'", argv[optind]);
		return cmd[3] == 'p' ? tcpmon_cmd_stop() : tcpmon_cmd_stats(mode, cost);
	}
	if (!strcmp(cmd, "record")) {
		if (!wfile)
			return vd_cli_usage_error(&cli, "%s: -w FILE is required", "record");
		if (optind < argc)
			return vd_cli_usage_error(&cli, "unexpected argument '%s'", argv[optind]);
		return tcpmon_cmd_record(wfile, count, duration);
	}
	if (optind + 1 != argc)
		return vd_cli_usage_error(&cli, "%s: needs exactly one FILE", "dump");
	return tcpmon_cmd_dump(argv[optind], mode, header);
}

int main(int argc, char **argv)
{
	return vd_cli_exit("tcpmon", run(argc, argv));
}
