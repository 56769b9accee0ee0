/* main.c — tcpmon: controls tcpmon.ko and reads its per-layer TSC records (issue 5). Thin: the
 * subcommands are in cmds.c, the formats in lib/input/tcmrec.c and lib/input/tcmnl.c. */
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "vmdelay/core/err.h"
#include "vmdelay/core/units.h"

static void usage(FILE *f)
{
	fprintf(f,
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
		"(except dump). Exit: 0 ok, 1 runtime error, 2 usage error.\n");
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	fprintf(stderr, "tcpmon: ");
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see tcpmon --help)\n");
	return VD_EXIT_USAGE;
}

int main(int argc, char **argv)
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
	enum vd_out_mode mode = VD_OUT_TEXT;
	const char *wfile = NULL, *cmd;
	uint64_t count = 0;
	vd_ns duration = VD_NS_NONE;
	int c, cost = 0, header = 0;

	/* "+": options end at the subcommand's first non-option (filter words) */
	while ((c = getopt_long(argc, argv, "+hVw:c:G:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tcpmon %s\n", VMDELAY_VERSION);
			return 0;
		default:
			usage(stderr);
			return VD_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return VD_EXIT_USAGE;
	}
	cmd = argv[optind++];
	if (!strcmp(cmd, "start"))
		return tcpmon_cmd_start(argc - optind, argv + optind);
	if (!strcmp(cmd, "filter"))
		return tcpmon_cmd_filter(argc - optind, argv + optind);
	if (!strcmp(cmd, "selftest-netlink"))
		return tcpmon_cmd_selftest_netlink();

	/* the other subcommands take options after their name */
	optind--;
	argv[optind] = (char *)"tcpmon";
	argc -= optind;
	argv += optind;
	optind = 0; /* 0: getopt re-initializes (ordering, state) */
	while ((c = getopt_long(argc, argv, "hw:c:G:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'C':
			mode = VD_OUT_CSV;
			break;
		case 'J':
			mode = VD_OUT_JSON;
			break;
		case 'K':
			cost = 1;
			break;
		case 'H':
			header = 1;
			break;
		case 'w':
			wfile = optarg;
			break;
		case 'c': {
			long long n;
			if (vd_units_parse_int(optarg, 1, LLONG_MAX, &n))
				return usage_error("-c: bad COUNT '%s'", optarg);
			count = (uint64_t)n;
			break;
		}
		case 'G':
			if (vd_ns_parse_duration(optarg, &duration) || duration <= 0)
				return usage_error("-G: bad SECONDS '%s'", optarg);
			break;
		default:
			usage(stderr);
			return VD_EXIT_USAGE;
		}
	}
	if (!strcmp(cmd, "stop") || !strcmp(cmd, "stats")) {
		if (optind < argc)
			return usage_error("unexpected argument '%s'", argv[optind]);
		return cmd[3] == 'p' ? tcpmon_cmd_stop() : tcpmon_cmd_stats(mode, cost);
	}
	if (!strcmp(cmd, "record")) {
		if (!wfile)
			return usage_error("%s: -w FILE is required", "record");
		if (optind < argc)
			return usage_error("unexpected argument '%s'", argv[optind]);
		return tcpmon_cmd_record(wfile, count, duration);
	}
	if (!strcmp(cmd, "dump")) {
		if (optind + 1 != argc)
			return usage_error("%s: needs exactly one FILE", "dump");
		return tcpmon_cmd_dump(argv[optind], mode, header);
	}
	return usage_error("unknown subcommand '%s'", cmd);
}
