/* options.c — tping's getopt_long parser and its checks (usage errors name the option). */
#include "options.h"

#include <getopt.h>
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
	{ "count", required_argument, NULL, 'c' },
	{ "interval", required_argument, NULL, 'i' },
	{ "size", required_argument, NULL, 's' },
	{ "timeout", required_argument, NULL, 'W' },
	{ "deadline", required_argument, NULL, 'w' },
	{ "interface", required_argument, NULL, 'I' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "timestamp", no_argument, NULL, 'D' },
	{ "output", required_argument, NULL, 'o' },
	{ "rest", required_argument, NULL, OPT_REST },
	{ "load", required_argument, NULL, OPT_LOAD },
	{ "csv", no_argument, NULL, OPT_CSV },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "db", required_argument, NULL, OPT_DB },
	{ "testbed", required_argument, NULL, OPT_TESTBED },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "scenario", required_argument, NULL, OPT_SCENARIO },
	{ "meta", required_argument, NULL, OPT_META },
	{ "no-timestamps", no_argument, NULL, OPT_NO_TSTAMP },
	{ "tx-wait", required_argument, NULL, OPT_TX_WAIT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

void tping_usage(FILE *f)
{
	fputs("usage: tping [options] HOST\n"
	      "Ping with per-layer timestamps: user space, kernel (qdisc SCHED, driver SND, RX) and\n"
	      "hardware where the NIC stamps. Times are CLOCK_REALTIME ns.\n"
	      "\n"
	      "  -4, -6               IPv4 / IPv6 only\n"
	      "  -c, --count N        probes in the main phase (default 200)\n"
	      "  -i, --interval SEC   between probes, absolute schedule (default 0.25; below 0.002 root only)\n"
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
	      "Exit: 0 ok, 1 runtime error (no reply, socket, database), 2 usage error.\n",
	      f);
}

/* The option as the user wrote it, for messages: "-c" or "--count". */
static void opt_name(int c, const char *as_written, char *buf, size_t n)
{
	if (c < 256 && as_written && as_written[0] == '-' && as_written[1] != '-') {
		snprintf(buf, n, "-%c", c);
		return;
	}
	for (const struct option *lo = long_opts; lo->name; lo++)
		if (lo->val == c) {
			snprintf(buf, n, "--%s", lo->name);
			return;
		}
	snprintf(buf, n, "-%c", c);
}

int tping_options_parse(int argc, char **argv, int privileged, struct tping_opts *o, FILE *out,
			struct vd_err *err)
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
	int csv = 0, json = 0;
	char name[32];
	optind = 0; /* full reinitialisation (glibc), so the parser can be called again */
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":46c:i:s:W:w:I:qDo:hV", long_opts, NULL)) != -1) {
		/* The argv element holding the option: the one before its value if that was separate. */
		const char *as_written = (optarg && optind >= 2 && optarg == argv[optind - 1])
						 ? argv[optind - 2]
						 : argv[optind - 1];
		if (c == ':') {
			opt_name(optopt, as_written, name, sizeof(name));
			return vd_err_set(err, "option '%s' needs a value", name);
		}
		if (c == '?') {
			if (optopt)
				return vd_err_set(err, "unknown option '-%c'", optopt);
			return vd_err_set(err, "unknown option '%s'", as_written);
		}
		opt_name(c, as_written, name, sizeof(name));
		long long l;
		switch (c) {
		case '4':
		case '6':
			if (o->family != AF_UNSPEC && o->family != (c == '4' ? AF_INET : AF_INET6))
				return vd_err_set(err, "options '-4' and '-6' exclude each other");
			o->family = c == '4' ? AF_INET : AF_INET6;
			break;
		case 'c':
			if (vd_units_parse_int(optarg, 1, 100000000, &l))
				return vd_err_set(err, "option '%s': '%s' is not a count in 1..100000000",
						  name, optarg);
			o->count = (long)l;
			break;
		case 'i':
			if (vd_ns_parse_duration(optarg, &o->interval) ||
			    o->interval > 3600 * VD_NS_PER_SEC)
				return vd_err_set(err, "option '%s': '%s' is not an interval in seconds",
						  name, optarg);
			if (o->interval < TPING_MIN_USER_INTERVAL && !privileged)
				return vd_err_set(err,
						  "option '%s': intervals below 0.002 s need root (got %s)",
						  name, optarg);
			break;
		case 's':
			if (vd_units_parse_int(optarg, 0, VD_ICMP_MAX_PAYLOAD, &l))
				return vd_err_set(err, "option '%s': '%s' is not a size in 0..%d bytes",
						  name, optarg, VD_ICMP_MAX_PAYLOAD);
			o->size = (size_t)l;
			break;
		case 'W':
		case 'w':
		case OPT_TX_WAIT: {
			vd_ns v;
			if (vd_ns_parse_duration(optarg, &v) || (v == 0 && c != OPT_TX_WAIT) ||
			    v > 1000000 * VD_NS_PER_SEC)
				return vd_err_set(err, "option '%s': '%s' is not a positive time in seconds",
						  name, optarg);
			*(c == 'W' ? &o->timeout : c == 'w' ? &o->deadline : &o->tx_wait) = v;
			break;
		}
		case 'I':
			if (!*optarg || strlen(optarg) > 63)
				return vd_err_set(err, "option '%s': '%s' is not an interface or address",
						  name, optarg);
			o->iface = optarg;
			break;
		case 'q': o->quiet = 1; break;
		case 'D': o->print_time = 1; break;
		case 'o':
			if (!*optarg)
				return vd_err_set(err, "option '%s': empty file name", name);
			o->out_path = optarg;
			break;
		case OPT_REST:
			if (vd_units_parse_int(optarg, 0, 10000000, &l))
				return vd_err_set(err, "option '%s': '%s' is not a count in 0..10000000",
						  name, optarg);
			o->rest = (long)l;
			break;
		case OPT_LOAD:
			if (!*optarg)
				return vd_err_set(err, "option '%s': empty command", name);
			o->load = optarg;
			break;
		case OPT_CSV: csv = 1; break;
		case OPT_JSON: json = 1; break;
		case OPT_DB:
		case OPT_TESTBED:
		case OPT_LABEL:
			if (!*optarg && c != OPT_LABEL)
				return vd_err_set(err, "option '%s': empty value", name);
			*(c == OPT_DB ? &o->db : c == OPT_TESTBED ? &o->testbed : &o->label) = optarg;
			break;
		case OPT_SCENARIO:
			if (!*optarg)
				return vd_err_set(err, "option '%s': empty value", name);
			o->scenario = optarg;
			break;
		case OPT_META:
			if (vd_meta_list_add(&o->meta, optarg, err))
				return -1;
			break;
		case OPT_NO_TSTAMP: o->no_tstamp = 1; break;
		case 'h':
			tping_usage(out);
			return TPING_OPTS_DONE;
		case 'V':
			fprintf(out, "tping (vmdelay) %s\n", VMDELAY_VERSION);
			return TPING_OPTS_DONE;
		}
	}
	if (csv && json)
		return vd_err_set(err, "options '--csv' and '--json' exclude each other");
	o->machine = csv || json;
	o->out_mode = csv ? VD_OUT_CSV : json ? VD_OUT_JSON : VD_OUT_TEXT;
	if (o->out_path && !o->machine)
		return vd_err_set(err, "option '-o' needs '--csv' or '--json'");
	if ((o->testbed || o->label || o->scenario || o->meta.n) && !o->db)
		return vd_err_set(err, "option '%s' needs '--db'",
				  o->testbed ? "--testbed" : o->label ? "--label" :
				  o->scenario ? "--scenario" : "--meta");
	if (optind >= argc)
		return vd_err_set(err, "missing HOST (try 'tping --help')");
	if (optind + 1 < argc)
		return vd_err_set(err, "unexpected argument '%s' after HOST", argv[optind + 1]);
	o->target = argv[optind];
	o->command_line = vd_store_command_line(argc, argv);
	if (!o->command_line)
		return vd_err_set(err, "out of memory");
	return TPING_OPTS_RUN;
}

void tping_options_free(struct tping_opts *o)
{
	free(o->command_line);
	o->command_line = NULL;
}
