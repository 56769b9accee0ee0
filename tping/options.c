/* options.c — tping's options and their checks (usage errors name the option as written). */
#include "options.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vmdelay/store/store.h"
#include "vmdelay/net/icmp_echo.h"
#include "vmdelay/core/units.h"

enum {
	OPT_REST = 256,
	OPT_LOAD,
	OPT_CSV,
	OPT_JSON,
	OPT_DB,
	OPT_TESTBED,
	OPT_LABEL,
	OPT_SCENARIO,
	OPT_META,
	OPT_NO_TSTAMP,
	OPT_TX_WAIT,
};

static const struct option long_opts[] = {
    {"count", required_argument, NULL, 'c'},
    {"interval", required_argument, NULL, 'i'},
    {"size", required_argument, NULL, 's'},
    {"timeout", required_argument, NULL, 'W'},
    {"deadline", required_argument, NULL, 'w'},
    {"interface", required_argument, NULL, 'I'},
    {"quiet", no_argument, NULL, 'q'},
    {"timestamp", no_argument, NULL, 'D'},
    {"output", required_argument, NULL, 'o'},
    {"rest", required_argument, NULL, OPT_REST},
    {"load", required_argument, NULL, OPT_LOAD},
    {"csv", no_argument, NULL, OPT_CSV},
    {"json", no_argument, NULL, OPT_JSON},
    {"db", required_argument, NULL, OPT_DB},
    {"testbed", required_argument, NULL, OPT_TESTBED},
    {"label", required_argument, NULL, OPT_LABEL},
    {"scenario", required_argument, NULL, OPT_SCENARIO},
    {"meta", required_argument, NULL, OPT_META},
    {"no-timestamps", no_argument, NULL, OPT_NO_TSTAMP},
    {"tx-wait", required_argument, NULL, OPT_TX_WAIT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static const char usage[] =
    "usage: tping [options] HOST\n"
    "Ping with per-layer timestamps: user space, kernel (qdisc SCHED, driver SND, RX) and\n"
    "hardware where the NIC stamps. Times are CLOCK_REALTIME ns.\n"
    "\n"
    "  -4, -6               IPv4 / IPv6 only\n"
    "  -c, --count N        probes in the main phase (default 200)\n"
    "  -i, --interval SEC   between probes, absolute schedule (default 0.25; below 0.002 root "
    "only)\n"
    "  -s, --size BYTES     payload bytes (default 100)\n"
    "  -W, --timeout SEC    wait this long for each reply (default 10)\n"
    "  -w, --deadline SEC   stop the whole run after this long\n"
    "  -I, --interface IF   interface name or source address\n"
    "  -q, --quiet          no line per probe, only the summary\n"
    "  -D, --timestamp      prefix lines with the UNIX time\n"
    "      --rest N         N probes at rest before and N after the main phase\n"
    "      --load CMD       run CMD (/bin/sh -c) during the main phase, stop it after\n"
    "      --csv, --json    one row per probe (CSV or JSON lines)\n"
    "  -o, --output FILE    write the --csv/--json rows to FILE (default stdout)\n"
    "      --db FILE        store the run in this SQLite database\n"
    "      --testbed NAME   testbed the run belongs to (with --db)\n"
    "      --label TEXT     free-text label of the run (with --db)\n"
    "      --scenario NAME  scenario the run belongs to (with --db)\n"
    "      --meta KEY=VALUE store this with the run (with --db; repeatable)\n"
    "      --tx-wait SEC    wait for TX timestamps after a reply (default 0.05)\n"
    "      --no-timestamps  no SO_TIMESTAMPING (to measure its cost)\n"
    "  -h, --help           this help\n"
    "  -V, --version        version\n"
    "Exit: 0 ok, 1 runtime error (no reply, socket, database, output), 2 usage error.\n";

/* A usage error in the one format of every tool; the caller exits with cli->status. */
#define bad(cli, ...) (vd_cli_usage_error(cli, __VA_ARGS__), TPING_OPTS_EXIT)

int tping_options_parse(struct vd_cli *cli, int argc, char **argv, int privileged,
			struct tping_opts *o)
{
	*o = (struct tping_opts){
	    .family = AF_UNSPEC,
	    .count = 200,
	    .interval = 250 * VD_NS_PER_MS,
	    .size = 100,
	    .timeout = 10 * VD_NS_PER_SEC,
	    .out_mode = VD_OUT_TEXT,
	    .tx_wait = 50 * VD_NS_PER_MS,
	};
	int csv = 0, json = 0, four = 0, six = 0, tx_wait = 0;
	vd_cli_init(cli, "tping", usage, argc, argv, "46c:i:s:W:w:I:qDo:hV", long_opts);
	int c;
	while ((c = vd_cli_next(cli)) != VD_CLI_END) {
		const char *name = cli->opt, *arg = cli->arg;
		long long l;
		switch (c) {
		case VD_CLI_EXIT:
			return TPING_OPTS_EXIT;
		case '4':
		case '6':
			*(c == '4' ? &four : &six) = 1;
			o->family = c == '4' ? AF_INET : AF_INET6;
			break;
		case 'c':
			if (vd_units_parse_int(arg, 1, 100000000, &l))
				return bad(cli, "option '%s': '%s' is not a count in 1..100000000",
					   name, arg);
			o->count = (long)l;
			break;
		case 'i':
			if (vd_units_parse_duration(arg, &o->interval) ||
			    o->interval > 3600 * VD_NS_PER_SEC)
				return bad(cli, "option '%s': '%s' is not an interval in seconds",
					   name, arg);
			if (o->interval < TPING_MIN_USER_INTERVAL && !privileged)
				return bad(
				    cli, "option '%s': intervals below 0.002 s need root (got %s)",
				    name, arg);
			break;
		case 's':
			if (vd_units_parse_int(arg, 0, VD_ICMP_MAX_PAYLOAD, &l))
				return bad(cli, "option '%s': '%s' is not a size in 0..%d bytes",
					   name, arg, VD_ICMP_MAX_PAYLOAD);
			o->size = (size_t)l;
			break;
		case 'W':
		case 'w':
		case OPT_TX_WAIT: {
			vd_ns v;
			if (vd_units_parse_duration(arg, &v) || (v == 0 && c != OPT_TX_WAIT) ||
			    v > 1000000 * VD_NS_PER_SEC)
				return bad(cli,
					   "option '%s': '%s' is not a positive time in seconds",
					   name, arg);
			*(c == 'W' ? &o->timeout : c == 'w' ? &o->deadline : &o->tx_wait) = v;
			tx_wait |= c == OPT_TX_WAIT;
			break;
		}
		case 'I':
			if (!*arg || strlen(arg) > 63)
				return bad(cli, "option '%s': '%s' is not an interface or address",
					   name, arg);
			o->iface = arg;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'D':
			o->print_time = 1;
			break;
		case 'o':
			if (!*arg)
				return bad(cli, "option '%s': empty file name", name);
			o->out_path = arg;
			break;
		case OPT_REST:
			if (vd_units_parse_int(arg, 0, 10000000, &l))
				return bad(cli, "option '%s': '%s' is not a count in 0..10000000",
					   name, arg);
			o->rest = (long)l;
			break;
		case OPT_LOAD:
			if (!*arg)
				return bad(cli, "option '%s': empty command", name);
			o->load = arg;
			break;
		case OPT_CSV:
			csv = 1;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_DB:
		case OPT_TESTBED:
		case OPT_LABEL:
			if (!*arg && c != OPT_LABEL)
				return bad(cli, "option '%s': empty value", name);
			*(c == OPT_DB ? &o->db : c == OPT_TESTBED ? &o->testbed : &o->label) = arg;
			break;
		case OPT_NO_TSTAMP:
			o->no_tstamp = 1;
			break;
		case OPT_SCENARIO:
			if (!*arg)
				return bad(cli, "option '%s': empty value", name);
			o->scenario = arg;
			break;
		case OPT_META: {
			struct vd_err err;
			if (vd_meta_list_add(&o->meta, arg, &err))
				return bad(cli, "%s", err.msg);
			break;
		}
		}
	}
	if (vd_cli_exclusive(cli, "-4", four, "-6", six) ||
	    vd_cli_exclusive(cli, "--csv", csv, "--json", json) ||
	    /* without timestamps there is none to wait for */
	    vd_cli_exclusive(cli, "--no-timestamps", o->no_tstamp, "--tx-wait", tx_wait) ||
	    vd_meta_labels_need_db(cli, o->testbed, o->label, o->scenario, &o->meta, o->db != NULL))
		return TPING_OPTS_EXIT;
	o->machine = csv || json;
	o->out_mode = csv ? VD_OUT_CSV : json ? VD_OUT_JSON : VD_OUT_TEXT;
	if (o->out_path && !o->machine)
		return bad(cli, "option '-o' needs '--csv' or '--json'");
	if (optind >= argc)
		return bad(cli, "missing HOST");
	if (optind + 1 < argc)
		return bad(cli, "unexpected argument '%s' after HOST", argv[optind + 1]);
	o->target = argv[optind];
	o->command_line = vd_store_command_line(argc, argv);
	if (!o->command_line) {
		fprintf(stderr, "tping: out of memory\n");
		cli->status = VD_EXIT_RUNTIME;
		return TPING_OPTS_EXIT;
	}
	return TPING_OPTS_RUN;
}

void tping_options_free(struct tping_opts *o)
{
	free(o->command_line);
	o->command_line = NULL;
}
