/* main.c — tcpmon: per-layer records of the network stack from tcpmon.ko or from eBPF programs.
 * Thin: the command line is read here, the subcommands are in cmds.c (module), bpf_record.c and
 * bpf_startstop.c (eBPF), the formats in lib/input/tcmrec.c and lib/input/tcmnl.c. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf_empty.h"
#include "bpf_load.h"
#include "bpf_record.h"
#include "bpf_startstop.h"
#include "cmds.h"
#include "nl.h"
#include "prom.h"
#include "vmdelay/core/cli.h"
#include "vmdelay/core/units.h"
#include "vmdelay/input/tcmnl.h"

static const char usage[] =
    "usage: tcpmon [--backend kmod|bpf|auto] SUBCOMMAND ...\n"
    "       tcpmon start [FILTER...]       clear the buffers and start recording\n"
    "       tcpmon filter [FILTER...]      change the filter (and layers) while recording (kmod)\n"
    "       tcpmon record -w FILE [-c COUNT] [-G SECONDS] [FILTER...]\n"
    "                     [--ring-mb N] [--stats-every DUR [--csv|--json]] [--prometheus "
    "[ADDR:]PORT]\n"
    "                                      write the records to FILE until COUNT records,\n"
    "                                      SECONDS, or SIGINT/SIGTERM; FILTER, --ring-mb,\n"
    "                                      --stats-every (per-layer delay percentiles on\n"
    "                                      stdout) and --prometheus (metrics over HTTP,\n"
    "                                      ADDR 127.0.0.1 by default): bpf backend only\n"
    "       tcpmon stop                    stop recording (bpf: and remove the programs)\n"
    "       tcpmon stats [--cost] [--csv|--json]   (kmod)\n"
    "       tcpmon dump FILE [--header|--loss] [--csv|--json]\n"
    "Backends: kmod (tcpmon.ko: start, record, stop), bpf (eBPF programs, needs the\n"
    "  kernel's BTF: loaded by `tcpmon record` itself and removed when it ends, or by\n"
    "  `start`, pinned in /sys/fs/bpf/vmdelay/tcpmon, read by `record`, removed by\n"
    "  `stop`), auto (default: the module when it is loaded, else bpf; start and stop\n"
    "  without --backend bpf are the module's).\n"
    "FILTER words: tcp | icmp | icmp6 | ip | ip6 | host ADDR [host ADDR] |\n"
    "              port N [port N] | layers all|LAYER,LAYER...\n"
    "LAYERs: dev-rx ip-pre ip-local-in trans-rx sock-queue sock-copy\n"
    "        trans-tx ip-local-out ip-post dev-tx dev-queue sock-send\n"
    "        (docs/formats/tcpmon.md: which backend sees which)\n"
    "Options: -h/--help, -V/--version. Needs CAP_NET_ADMIN (kmod) or CAP_BPF and\n"
    "CAP_PERFMON (bpf) except dump. Exit: 0 ok, 1 runtime error (also output), 2 usage error.\n";

/* Which subcommand takes which option ("" none); the others are refused by name. */
static const struct {
	const char *cmd, *opts;
} cmd_opts[] = {
    {"record", "wcGRSPCJ"},
    {"stats", "KCJ"},
    {"dump", "HLCJ"},
    {"stop", ""},
};

enum backend { BACKEND_AUTO, BACKEND_KMOD, BACKEND_BPF };

#define RING_MB_DEFAULT 64 /* the bpf backend's rings, all CPUs together (--ring-mb) */

/* --backend is the one option before the subcommand (it says what the subcommand talks to):
 * taken out of argv here, before the shared command line reader sees it. 0, or a usage error. */
static int take_backend(struct vd_cli *cli, int *argc, char **argv, enum backend *b)
{
	const char *v = NULL;
	int n = 0;

	if (*argc > 1 && !strncmp(argv[1], "--backend=", 10))
		v = argv[1] + 10, n = 1;
	else if (*argc > 1 && !strcmp(argv[1], "--backend"))
		v = *argc > 2 ? argv[2] : "", n = 2;
	if (!n)
		return 0;
	if (!strcmp(v, "kmod"))
		*b = BACKEND_KMOD;
	else if (!strcmp(v, "bpf"))
		*b = BACKEND_BPF;
	else if (!strcmp(v, "auto"))
		*b = BACKEND_AUTO;
	else
		return vd_cli_usage_error(cli, "--backend: '%s' is not kmod, bpf or auto", v);
	memmove(argv + 1, argv + 1 + n, (size_t)(*argc - 1 - n + 1) * sizeof(*argv));
	*argc -= n;
	return 0;
}

static int module_loaded(void)
{
	struct tcpmon_nl *nl;
	struct vd_err err;

	if (tcpmon_nl_open(&nl, &err))
		return 0;
	tcpmon_nl_close(nl);
	return 1;
}

/* auto: the module when it is loaded (its `start` configured it), else bpf when usable. */
static enum backend resolve_backend(enum backend b)
{
	struct vd_err err;

	if (b != BACKEND_AUTO)
		return b;
	if (module_loaded())
		return BACKEND_KMOD;
	return tcpmon_bpf_usable(&err) ? BACKEND_KMOD : BACKEND_BPF;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"csv", no_argument, NULL, 'C'},
	    {"json", no_argument, NULL, 'J'},
	    {"cost", no_argument, NULL, 'K'},
	    {"header", no_argument, NULL, 'H'},
	    {"write", required_argument, NULL, 'w'},
	    {"count", required_argument, NULL, 'c'},
	    {"seconds", required_argument, NULL, 'G'},
	    {"loss", no_argument, NULL, 'L'},
	    {"ring-mb", required_argument, NULL, 'R'},
	    {"stats-every", required_argument, NULL, 'S'},
	    {"prometheus", required_argument, NULL, 'P'},
	    {NULL, 0, NULL, 0},
	};
	enum backend backend = BACKEND_AUTO;
	enum tcpmon_dump_what what = TCPMON_DUMP_RECORDS;
	long long ring_mb = RING_MB_DEFAULT;
	vd_ns stats_every = VD_NS_NONE;
	const char *prometheus = NULL;
	struct vd_cli cli;
	struct vd_tcmnl_filter f;
	struct vd_err err;
	enum vd_out_mode mode = VD_OUT_TEXT;
	const char *wfile = NULL, *cmd;
	uint64_t count = 0;
	vd_ns duration = VD_NS_NONE;
	int c, cost = 0, csv = 0, json = 0;

	/* "+": options end at the subcommand; its own options and filter words follow it */
	vd_cli_init(&cli, "tcpmon", usage, argc, argv, "+hV", opts);
	if (take_backend(&cli, &argc, argv, &backend))
		return cli.status;
	vd_cli_init(&cli, "tcpmon", usage, argc, argv, "+hV", opts); /* argv without --backend */
	int sub = vd_cli_subcommand(&cli, "start, filter, record, stop, stats or dump");
	if (sub < 0)
		return cli.status;
	cmd = argv[sub];
	if ((!strcmp(cmd, "filter") || !strcmp(cmd, "stats")) && backend == BACKEND_BPF)
		return vd_cli_usage_error(
		    &cli,
		    "%s: the bpf backend has no %s: `tcpmon --backend bpf start [FILTER...]` "
		    "sets the filter, `tcpmon --backend bpf stop` says what was recorded",
		    cmd, cmd);
	if (!strcmp(cmd, "start") || !strcmp(cmd, "filter")) {
		if (vd_tcmnl_filter_parse(argc - sub - 1, argv + sub + 1, &f, &err))
			return vd_cli_usage_error(&cli, "%s", err.msg);
		if (backend == BACKEND_BPF) /* start: `filter` was refused above */
			return tcpmon_bpf_start(&f, RING_MB_DEFAULT << 20);
		return !strcmp(cmd, "start") ? tcpmon_cmd_start(&f) : tcpmon_cmd_filter(&f);
	}
	if (!strcmp(cmd, "selftest-netlink"))
		return tcpmon_cmd_selftest_netlink();
	if (!strcmp(cmd, "bench-empty-bpf"))
		return tcpmon_cmd_bench_empty_bpf(sub + 1 < argc ? argv[sub + 1] : NULL);

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
			what = TCPMON_DUMP_HEADER;
			break;
		case 'L':
			what = TCPMON_DUMP_LOSS;
			break;
		case 'R':
			if (vd_units_parse_int(cli.arg, 1, 2048, &ring_mb) ||
			    (ring_mb & (ring_mb - 1)))
				return vd_cli_usage_error(
				    &cli, "--ring-mb: '%s' is not a power of two from 1 to 2048",
				    cli.arg);
			break;
		case 'S':
			if (vd_units_parse_duration(cli.arg, &stats_every) ||
			    stats_every < VD_NS_PER_SEC / 100)
				return vd_cli_usage_error(
				    &cli, "--stats-every: bad DURATION '%s' (10ms at least)",
				    cli.arg);
			break;
		case 'P':
			prometheus = cli.arg;
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
	if (vd_cli_exclusive(&cli, "--csv", csv, "--json", json) ||
	    vd_cli_exclusive(&cli, "--header", what == TCPMON_DUMP_HEADER, "--loss",
			     what == TCPMON_DUMP_LOSS))
		return cli.status;
	if (!strcmp(cmd, "stop") || !strcmp(cmd, "stats")) {
		if (optind < argc)
			return vd_cli_usage_error(&cli, "unexpected argument '%s'", argv[optind]);
		if (!strcmp(cmd, "stop"))
			return backend == BACKEND_BPF ? tcpmon_bpf_stop() : tcpmon_cmd_stop();
		return tcpmon_cmd_stats(mode, cost);
	}
	if (!strcmp(cmd, "record")) {
		if (!wfile)
			return vd_cli_usage_error(&cli, "%s: -w FILE is required", "record");
		if (vd_cli_needs(&cli, csv ? "--csv" : "--json", csv || json, "--stats-every",
				 vd_ns_valid(stats_every)))
			return cli.status;
		if (resolve_backend(backend) == BACKEND_BPF) {
			struct tcpmon_bpf_opts o = {.path = wfile,
						    .count = count,
						    .duration = duration,
						    .filter = &f,
						    .ring_bytes = (uint32_t)(ring_mb << 20),
						    .stats_every = stats_every,
						    .mode = mode,
						    .prometheus = prometheus};
			struct sockaddr_storage sa;
			socklen_t salen;

			if (optind < argc && tcpmon_bpf_started())
				return vd_cli_usage_error(
				    &cli,
				    "unexpected argument '%s' (the programs `tcpmon --backend bpf "
				    "start` left running have its filter)",
				    argv[optind]);
			if (vd_tcmnl_filter_parse(argc - optind, argv + optind, &f, &err) ||
			    (prometheus && tcpmon_prom_parse(prometheus, &sa, &salen, &err)))
				return vd_cli_usage_error(&cli, "%s", err.msg);
			return tcpmon_bpf_record(&o);
		}
		if (vd_ns_valid(stats_every) || prometheus)
			return vd_cli_usage_error(
			    &cli, "--stats-every and --prometheus need the bpf backend");
		if (optind < argc)
			return vd_cli_usage_error(
			    &cli,
			    "unexpected argument '%s' (with tcpmon.ko the filter is set "
			    "by `tcpmon start FILTER...`)",
			    argv[optind]);
		return tcpmon_cmd_record(wfile, count, duration);
	}
	if (optind + 1 != argc)
		return vd_cli_usage_error(&cli, "%s: needs exactly one FILE", "dump");
	return tcpmon_cmd_dump(argv[optind], mode, what);
}

int main(int argc, char **argv)
{
	return vd_cli_exit("tcpmon", run(argc, argv));
}
