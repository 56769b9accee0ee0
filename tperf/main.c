/* tperf — TCP workload tool: `tperf sink` counts bytes per connection, `tperf send` runs bulk
 * transfers (one, or COUNTxSIZE each on a new connection) and records bytes, start, end and
 * throughput per transfer (docs/man/tperf.1, docs/formats/tcp.md). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tperf.h"
#include "vmdelay/core/cli.h"
#include "vmdelay/out/afile.h"
#include "vmdelay/out/json.h"
#include "vmdelay/out/output.h"
#include "vmdelay/store/store.h"
#include "vmdelay/store/store_transfer.h"
#include "vmdelay/core/units.h"

static const char usage[] =
    "usage: tperf sink [-p PORT] [-B ADDR] [-c N] [-t TIME] [--csv|--json] [-o FILE]\n"
    "       tperf send HOST [-p PORT] (-n BYTES | -r COUNTxSIZE) [-m MSGSIZE] [--mss N]\n"
    "                  [-t TIME] [--csv|--json] [-o FILE] [--db FILE --testbed NAME --label TEXT\n"
    "                  --scenario NAME --meta KEY=VALUE...]\n"
    "  -p, --port PORT      TCP port (default 5001)\n"
    "  -B, --bind ADDR      sink: listen on ADDR (default: every IPv6 and IPv4 address)\n"
    "  -c, --connections N  sink: exit after N connections\n"
    "  -n, --bytes BYTES    send: one transfer of BYTES (K, M, G = 1024^n; e.g. 10M)\n"
    "  -r, --repeat CxS     send: C transfers of S bytes, each on a new connection (1000x100KB)\n"
    "  -m, --msg-size SIZE  send: bytes per send() call (default 128K)\n"
    "      --mss N          send: TCP_MAXSEG hint\n"
    "  -t, --time TIME      time limit of the whole run (default 60s send, 3600s sink)\n"
    "      --csv, --json    output format (default: a text table)\n"
    "  -o, --output FILE    write the rows to FILE instead of stdout\n"
    "      --db FILE        send: store the run and its transfers in the SQLite FILE\n"
    "      --testbed NAME   testbed name stored with the run (default \"default\")\n"
    "      --label TEXT     free text stored with the run\n"
    "      --scenario NAME  scenario name stored with the run\n"
    "      --meta KEY=VALUE stored with the run (repeatable)\n"
    "  -h, --help, -V, --version\n"
    "exit: 0 every transfer completed, 1 runtime error (refused, reset, timeout), 2 usage\n";

#define MAX_TRANSFERS 100000000LL
#define MAX_BUF (UINT64_C(64) << 20)

struct args {
	int is_sink;
	const char *host, *port, *bind_addr, *out_path, *db_path, *testbed, *label, *scenario;
	struct vd_meta_list meta;
	uint64_t bytes, count, msg_size, conns;
	int mss;
	vd_ns limit;
	enum vd_out_mode mode;
};

enum { OPT_CSV = 256, OPT_JSON, OPT_MSS, OPT_DB, OPT_TESTBED, OPT_LABEL, OPT_SCENARIO, OPT_META };

/* The options only one side takes: refused by name on the other. */
static const struct {
	int val;
	int sink; /* 1: a sink option, 0: a sender option */
} side_opts[] = {
    {'B', 1},	 {'c', 1},	   {'n', 0},	   {'r', 0},	      {'m', 0},	     {OPT_MSS, 0},
    {OPT_DB, 0}, {OPT_TESTBED, 0}, {OPT_LABEL, 0}, {OPT_SCENARIO, 0}, {OPT_META, 0},
};

enum { PARSE_RUN = -1 };

/* Returns PARSE_RUN, or the exit status after --help, --version or a usage error. */
static int parse(int argc, char **argv, struct args *c)
{
	static const struct option opts[] = {
	    {"port", required_argument, NULL, 'p'},
	    {"bind", required_argument, NULL, 'B'},
	    {"connections", required_argument, NULL, 'c'},
	    {"bytes", required_argument, NULL, 'n'},
	    {"repeat", required_argument, NULL, 'r'},
	    {"msg-size", required_argument, NULL, 'm'},
	    {"mss", required_argument, NULL, OPT_MSS},
	    {"time", required_argument, NULL, 't'},
	    {"csv", no_argument, NULL, OPT_CSV},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"output", required_argument, NULL, 'o'},
	    {"db", required_argument, NULL, OPT_DB},
	    {"testbed", required_argument, NULL, OPT_TESTBED},
	    {"label", required_argument, NULL, OPT_LABEL},
	    {"scenario", required_argument, NULL, OPT_SCENARIO},
	    {"meta", required_argument, NULL, OPT_META},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct vd_cli cli;
	int opt, bytes = 0, repeat = 0, csv = 0, json = 0;
	memset(c, 0, sizeof(*c));
	c->port = "5001";
	c->msg_size = 128 * 1024;
	c->limit = VD_NS_NONE;
	/* "+": options end at the subcommand; only --help and --version come before it */
	vd_cli_init(&cli, "tperf", usage, argc, argv, "+hV", opts);
	int at = vd_cli_subcommand(&cli, "sink or send");
	if (at < 0)
		return cli.status;
	const char *sub = argv[at];
	if (!strcmp(sub, "sink"))
		c->is_sink = 1;
	else if (strcmp(sub, "send"))
		return vd_cli_usage_error(&cli, "unknown subcommand '%s' (sink or send)", sub);
	/* the subcommand's options: argv[0] is its name */
	vd_cli_init(&cli, "tperf", usage, argc - at, argv + at, "p:B:c:n:r:m:t:o:hV", opts);
	argc = cli.argc;
	argv = cli.argv;
	while ((opt = vd_cli_next(&cli)) != VD_CLI_END) {
		const char *arg = cli.arg;
		long long v;
		for (size_t i = 0; i < sizeof(side_opts) / sizeof(side_opts[0]); i++)
			if (side_opts[i].val == opt && side_opts[i].sink != c->is_sink)
				return vd_cli_usage_error(&cli, "%s: '%s' is a %s option", sub,
							  cli.opt,
							  side_opts[i].sink ? "sink" : "sender");
		switch (opt) {
		case VD_CLI_EXIT:
			return cli.status;
		case 'p':
			if (vd_units_parse_int(arg, 1, 65535, &v))
				return vd_cli_usage_error(&cli, "-p %s: a port is 1..65535", arg);
			c->port = arg;
			break;
		case 'B':
			c->bind_addr = arg;
			break;
		case 'c':
			if (vd_units_parse_int(arg, 1, MAX_TRANSFERS, &v))
				return vd_cli_usage_error(&cli, "-c %s: expected a positive count",
							  arg);
			c->conns = (uint64_t)v;
			break;
		case 'n':
			if (vd_units_parse_bytes(arg, &c->bytes))
				return vd_cli_usage_error(
				    &cli, "-n %s: expected a size such as 100KB or 10M", arg);
			c->count = 1;
			bytes = 1;
			break;
		case 'r':
			if (vd_units_parse_repeat(arg, &c->count, &c->bytes))
				return vd_cli_usage_error(
				    &cli, "-r %s: expected COUNTxSIZE, e.g. 1000x100KB", arg);
			repeat = 1;
			break;
		case 'm':
			if (vd_units_parse_bytes(arg, &c->msg_size) || c->msg_size > MAX_BUF)
				return vd_cli_usage_error(
				    &cli, "-m %s: expected a size from 1 to 64M", arg);
			break;
		case OPT_MSS:
			if (vd_units_parse_int(arg, 88, 65535, &v))
				return vd_cli_usage_error(&cli, "--mss %s: expected 88..65535",
							  arg);
			c->mss = (int)v;
			break;
		case 't':
			if (vd_units_parse_duration(arg, &c->limit) || c->limit <= 0)
				return vd_cli_usage_error(
				    &cli, "-t %s: expected a duration such as 30s", arg);
			break;
		case OPT_CSV:
			csv = 1;
			c->mode = VD_OUT_CSV;
			break;
		case OPT_JSON:
			json = 1;
			c->mode = VD_OUT_JSON;
			break;
		case 'o':
			c->out_path = arg;
			break;
		case OPT_DB:
			c->db_path = arg;
			break;
		case OPT_TESTBED:
			c->testbed = arg;
			break;
		case OPT_LABEL:
			c->label = arg;
			break;
		case OPT_SCENARIO:
			c->scenario = arg;
			break;
		case OPT_META: {
			struct vd_err err;
			if (vd_meta_list_add(&c->meta, arg, &err))
				return vd_cli_usage_error(&cli, "%s", err.msg);
			break;
		}
		}
	}
	if (vd_cli_exclusive(&cli, "--csv", csv, "--json", json) ||
	    vd_cli_exclusive(&cli, "-n", bytes, "-r", repeat))
		return cli.status;
	if (c->is_sink) {
		if (optind < argc)
			return vd_cli_usage_error(&cli, "sink: unexpected argument '%s'",
						  argv[optind]);
		if (c->limit == VD_NS_NONE)
			c->limit = 3600 * VD_NS_PER_SEC;
		return PARSE_RUN;
	}
	if (optind >= argc)
		return vd_cli_usage_error(&cli, "%s", "send: HOST is missing");
	c->host = argv[optind++];
	if (optind < argc)
		return vd_cli_usage_error(&cli, "send: unexpected argument '%s'", argv[optind]);
	if (!c->bytes)
		return vd_cli_usage_error(&cli, "%s", "send: -n BYTES or -r COUNTxSIZE is needed");
	if (vd_meta_labels_need_db(&cli, c->testbed, c->label, c->scenario, &c->meta,
				   c->db_path != NULL))
		return cli.status;
	if (c->limit == VD_NS_NONE)
		c->limit = 60 * VD_NS_PER_SEC;
	return PARSE_RUN;
}

struct sink_ctx {
	struct vd_out *out;
	int text;
};

static void on_conn(void *ctx, const struct vd_transfer *t, const char *peer)
{
	struct sink_ctx *s = ctx;
	vd_out_row_begin(s->out);
	vd_out_int(s->out, "idx", (int64_t)t->idx);
	vd_out_str(s->out, "peer", peer);
	vd_out_int(s->out, "bytes", (int64_t)t->bytes);
	vd_out_ns(s->out, "start_ns", t->start);
	vd_out_ns(s->out, "end_ns", t->end);
	vd_out_ns(s->out, "duration_ns", vd_ns_diff(t->end, t->start));
	vd_out_dbl(s->out, "throughput_bps", t->throughput_bps, 0);
	vd_out_str(s->out, "status", vd_transfer_status_name(t->status));
	vd_out_row_end(s->out);
	if (!s->text)
		vd_out_flush(s->out);
}

/* The run's parameters as the store keeps them (runs.params), through the JSON writer; malloc'd,
 * NULL when out of memory (the run is then stored without them). */
static char *params_json(const struct args *c)
{
	struct vd_json_mem m;
	if (vd_json_mem_begin(&m, VD_JSON_COMPACT))
		return NULL;
	vd_json_kv_str(&m.j, "host", c->host);
	vd_json_kv_int(&m.j, "port", strtol(c->port, NULL, 10)); /* checked: 1..65535 */
	vd_json_kv_uint(&m.j, "bytes", c->bytes);
	vd_json_kv_uint(&m.j, "count", c->count);
	vd_json_kv_uint(&m.j, "msg_size", c->msg_size);
	vd_json_kv_int(&m.j, "mss", c->mss);
	return vd_json_mem_end(&m);
}

static int run_send(struct args *c, struct vd_out *out, int argc, char **argv)
{
	struct vd_err err;
	struct tperf_send_opts o = {.host = c->host,
				    .port = c->port,
				    .bytes = c->bytes,
				    .count = c->count,
				    .msg_size = c->msg_size,
				    .mss = c->mss,
				    .deadline = vd_now(CLOCK_MONOTONIC) + c->limit};
	if (tperf_resolve(&o, &err)) {
		fprintf(stderr, "tperf: %s\n", err.msg);
		return VD_EXIT_RUNTIME;
	}
	uint8_t *buf = malloc(c->msg_size);
	if (!buf) {
		tperf_send_cleanup();
		fprintf(stderr, "tperf: out of memory\n");
		return VD_EXIT_RUNTIME;
	}
	for (size_t i = 0; i < c->msg_size; i++)
		buf[i] = (uint8_t)(i * 131 + 7); /* not all zeros: no accidental compression */
	struct vd_store *st = NULL;
	int64_t run = 0;
	char *cmdline = vd_store_command_line(argc, argv);
	if (c->db_path) {
		char *params = params_json(c);
		struct vd_run_info info = {.tool = "tperf",
					   .testbed = c->testbed,
					   .label = c->label,
					   .scenario = c->scenario,
					   .meta = &c->meta,
					   .command_line = cmdline,
					   .params_json = params,
					   .start_ns = vd_now(CLOCK_REALTIME)};
		if (vd_store_open(c->db_path, &st, &err) ||
		    vd_store_begin_run(st, &info, &run, &err)) {
			free(params);
			fprintf(stderr, "tperf: %s\n", err.msg);
			vd_store_close(st);
			free(buf);
			free(cmdline);
			tperf_send_cleanup();
			return VD_EXIT_RUNTIME;
		}
		free(params);
	}
	int rc = VD_EXIT_OK;
	uint64_t done = 0, total = 0;
	double sum_bps = 0;
	for (uint64_t i = 0; i < c->count; i++) {
		struct vd_transfer t;
		int failed = tperf_send_one(&o, buf, i, &t, &err);
		vd_transfer_out_row(out, &t);
		if (c->mode != VD_OUT_TEXT)
			vd_out_flush(out);
		if (st && vd_store_add_transfer(st, run, &t, &err)) {
			fprintf(stderr, "tperf: %s: %s\n", c->db_path, err.msg);
			rc = VD_EXIT_RUNTIME;
			break;
		}
		if (failed) {
			fprintf(stderr, "tperf: %s\n", err.msg);
			rc = VD_EXIT_RUNTIME;
			break;
		}
		done++;
		total += t.bytes;
		sum_bps += t.throughput_bps;
	}
	if (st) {
		if (vd_store_end_run(st, run, vd_now(CLOCK_REALTIME), &err)) {
			fprintf(stderr, "tperf: %s\n", err.msg);
			rc = VD_EXIT_RUNTIME;
		}
		vd_store_close(st);
	}
	if (c->mode == VD_OUT_TEXT) {
		vd_out_flush(out);
		fprintf(stderr,
			"tperf: %llu of %llu transfers complete, %llu bytes, mean %.1f Mbit/s\n",
			(unsigned long long)done, (unsigned long long)c->count,
			(unsigned long long)total, done ? sum_bps / (double)done / 1e6 : 0.0);
	}
	free(buf);
	free(cmdline);
	tperf_send_cleanup();
	return rc;
}

static int run(int argc, char **argv)
{
	struct args c;
	int rc = parse(argc, argv, &c);
	if (rc != PARSE_RUN)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	FILE *f = stdout;
	struct vd_afile af;
	if (c.out_path) {
		struct vd_err err;
		if (vd_afile_open(&af, c.out_path, &err)) {
			fprintf(stderr, "tperf: -o %s\n", err.msg);
			return VD_EXIT_RUNTIME;
		}
		f = af.f;
	}
	struct vd_out *out = vd_out_create(f, c.mode);
	if (!out) {
		fprintf(stderr, "tperf: out of memory\n");
		if (f != stdout)
			fclose(f);
		return VD_EXIT_RUNTIME;
	}
	if (c.is_sink) {
		struct sink_ctx s = {.out = out, .text = c.mode == VD_OUT_TEXT};
		struct tperf_sink_opts o = {.bind_addr = c.bind_addr,
					    .port = c.port,
					    .max_conns = c.conns,
					    .buf_size = 256 * 1024,
					    .deadline = vd_now(CLOCK_MONOTONIC) + c.limit};
		struct vd_err err;
		rc = tperf_sink_run(&o, on_conn, &s, &err) ? VD_EXIT_RUNTIME : VD_EXIT_OK;
		if (rc)
			fprintf(stderr, "tperf: %s\n", err.msg);
	} else {
		rc = run_send(&c, out, argc, argv);
	}
	/* A write error is reported with the file's name: here for -o, by vd_cli_exit for stdout;
	 * -o keeps the rows written so far (renamed onto its name) unless writing failed. */
	int werr = vd_out_destroy(out);
	if (werr && !ferror(f))
		fprintf(stderr, "tperf: out of memory: rows were lost\n");
	if (werr)
		rc = VD_EXIT_RUNTIME;
	if (c.out_path) {
		struct vd_err err;
		int io_err = ferror(f);
		if (vd_afile_finish(&af, werr, &err)) {
			if (io_err || !werr)
				fprintf(stderr, "tperf: %s\n", err.msg);
			rc = VD_EXIT_RUNTIME;
		}
	}
	return rc;
}

int main(int argc, char **argv)
{
	return vd_cli_exit("tperf", run(argc, argv));
}
