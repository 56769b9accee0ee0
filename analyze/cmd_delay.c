/* cmd_delay.c — vmdelay-analyze's default command: per-layer delay of ICMP echo probes seen from
 * several vantage points (Whiteaker et al. sections 3.2 and 4, Dantas et al. III). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "pcapng_out.h"
#include "report.h"
#include "report_csv.h"
#include "vmdelay/out/afile.h"
#include "vmdelay/delay/delay.h"
#include "vmdelay/delay/delay_stream.h"
#include "vmdelay/core/cli.h"
#include "vmdelay/core/progress.h"
#include "vmdelay/core/units.h"
#include "vmdelay/input/echo_pull.h"
#include "vmdelay/input/filter.h"
#include "vmdelay/input/format.h"
#include "vmdelay/match/vantage.h"

static void usage(FILE *f, const char *prog, const struct analyze_command *commands)
{
	fprintf(
	    f,
	    "usage: %s [options] VANTAGE...\n"
	    "       %s COMMAND [options] ...\n"
	    "Per-layer delay of ICMP echo probes seen from several vantage points, listed from "
	    "the\n"
	    "outermost (wire) to the innermost (guest user space).\n"
	    "\n"
	    "VANTAGE is NAME[:CLOCK]=PATH[#SELECT] or a bare PATH (named after the file).\n"
	    "  PATH: pcap, pcapng, ERF, tping CSV / JSON lines / SQLite, tcpmon records (found\n"
	    "        from the content).\n"
	    "  CLOCK: points with the same label read the same clock (default: all one clock).\n"
	    "  #SELECT: a trace's interface (name or number) or '*' for one point per interface;\n"
	    "           for tping files hw, kernel, user (comma list) and run=N; for tcpmon\n"
	    "           files '*' (default: one point per level) or levels dev, ip-route,\n"
	    "           ip-local, trans, sock-queue, sock-copy or layer names (comma list).\n"
	    "\n"
	    "options:\n"
	    "  --rest N          the first and last N probes are at rest (default: tping's phase\n"
	    "                    column, else every probe) and calibrate the clocks\n"
	    "  --align METHOD    hull (default), lsq or none: clock offset + skew estimator\n"
	    "  --window DUR      farthest a vantage point's copy of a probe may be (default 10s)\n"
	    "  --outer           match on the outermost headers (default: the innermost, through\n"
	    "                    VXLAN, Geneve, GRE, ERSPAN, IP in IP and GTP-U tunnels)\n"
	    "  --tunnel ID       only frames that crossed this tunnel: vni=N, key=N, teid=N or\n"
	    "                    session=N (VXLAN/Geneve VNI, GRE key, GTP-U TEID, ERSPAN "
	    "session)\n"
	    "  --csv             one row per probe per vantage point\n"
	    "  --json            one JSON document (docs/formats/analyze.md)\n"
	    "  --db FILE         store the run and its results in SQLite FILE\n"
	    "  --testbed NAME    testbed of the stored run (default \"default\")\n"
	    "  --label TEXT      label of the stored run\n"
	    "  --scenario NAME   scenario of the stored run\n"
	    "  --meta KEY=VALUE  stored with the run (repeatable; compare --by KEY groups on it)\n"
	    "  --plot DIR        write plot data, a gnuplot script and SVG charts (CDFs, "
	    "send/recv\n"
	    "                    PDFs, RTT over time) into DIR; gnuplot draws them when installed\n"
	    "  -o, --output FILE write the report to FILE instead of stdout\n"
	    "  -k, --keep-going  analyze the inputs that could be read; exit 1 afterwards\n"
	    "  -f, --filter EXPR keep only the packets of traces that pass the pcap-filter\n"
	    "                    expression EXPR (tcpdump's syntax), at every vantage point;\n"
	    "                    it reads the outer headers, --outer/--tunnel what it kept\n"
	    "  --pcapng-out FILE the matched packets of every trace in one pcapng: one interface\n"
	    "                    per vantage point, each packet commented with its layer, pair\n"
	    "                    key and the delta RTT it contributes\n"
	    "  --progress        progress on stderr even when it is not a terminal\n"
	    "  -q, --quiet       no progress on stderr (default: shown on a terminal)\n"
	    "  -h, --help        this help\n"
	    "  -V, --version     print the version\n",
	    prog, prog);
	if (commands && commands->name) {
		fprintf(f, "\ncommands:\n");
		for (const struct analyze_command *c = commands; c->name; c++)
			fprintf(f, "  %-10s %s\n", c->name, c->summary);
	}
	fprintf(f, "\nexit status: 0 ok, 1 an input or output failed, 2 usage error\n");
}

enum {
	OPT_REST = 256,
	OPT_ALIGN,
	OPT_WINDOW,
	OPT_CSV,
	OPT_JSON,
	OPT_DB,
	OPT_TESTBED,
	OPT_LABEL,
	OPT_SCENARIO,
	OPT_META,
	OPT_PLOT,
	OPT_PROGRESS,
	OPT_PCAPNG_OUT,
	OPT_OUTER,
	OPT_TUNNEL
};

/* --csv on the streamed path: the rows go out as the probes leave (to -o's temporary file, or
 * through report_csv_sink_of for stdout). 0; 1 when they cannot (then the analysis does not
 * stream); -1 with a message. */
static int open_csv_stream(const char *prog, const char *outpath, struct vd_afile *af, FILE **out,
			   struct report_csv_stream *cs)
{
	struct vd_err err;
	enum report_csv_sink sink = report_csv_sink_of(stdout);
	if (outpath) {
		if (vd_afile_open(af, outpath, &err)) {
			fprintf(stderr, "%s: -o %s\n", prog, err.msg);
			return -1;
		}
		*out = af->f;
		/* a temporary file is dropped whole; a device or FIFO cannot take rows back */
		sink = af->tmp ? REPORT_CSV_DIRECT : REPORT_CSV_SPOOL;
	}
	/* no temporary file to spool to ($TMPDIR missing, full): the rows are written after
	 * reading, as before, every probe held */
	if (report_csv_stream_open(cs, *out, sink) < 0) {
		if (outpath)
			vd_afile_discard(af);
		return 1;
	}
	return 0;
}

/* The failures the pull readers left (a pipe among the inputs), in the order of the inputs, as
 * reading them one after the other reports them. Returns how many. */
static int report_failures(const char *prog, const struct vd_echo_failures *f)
{
	int n = 0;
	for (size_t i = 0; f && i < f->n; i++)
		if (f->err[i].msg[0]) {
			fprintf(stderr, "%s: %s\n", prog, f->err[i].msg);
			n++;
		}
	return n;
}

/* The streamed analysis gave way to the after-reading one: its rows are taken back. */
static int drop_csv_stream(const char *prog, const char *outpath, struct vd_afile *af,
			   struct report_csv_stream *cs)
{
	int rc = report_csv_stream_close(cs, 0);
	if (outpath)
		vd_afile_discard(af);
	if (rc < 0)
		fprintf(stderr,
			"%s: --csv: cannot take back the rows written to standard output: %s\n",
			prog, strerror(errno));
	return rc;
}

int cmd_delay(int argc, char **argv, const struct analyze_command *commands)
{
	static const struct option longopts[] = {
	    {"rest", required_argument, NULL, OPT_REST},
	    {"align", required_argument, NULL, OPT_ALIGN},
	    {"window", required_argument, NULL, OPT_WINDOW},
	    {"csv", no_argument, NULL, OPT_CSV},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"db", required_argument, NULL, OPT_DB},
	    {"testbed", required_argument, NULL, OPT_TESTBED},
	    {"label", required_argument, NULL, OPT_LABEL},
	    {"scenario", required_argument, NULL, OPT_SCENARIO},
	    {"meta", required_argument, NULL, OPT_META},
	    {"plot", required_argument, NULL, OPT_PLOT},
	    {"outer", no_argument, NULL, OPT_OUTER},
	    {"tunnel", required_argument, NULL, OPT_TUNNEL},
	    {"output", required_argument, NULL, 'o'},
	    {"keep-going", no_argument, NULL, 'k'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"filter", required_argument, NULL, 'f'},
	    {"progress", no_argument, NULL, OPT_PROGRESS},
	    {"pcapng-out", required_argument, NULL, OPT_PCAPNG_OUT},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *prog = "vmdelay-analyze";
	struct vd_delay_opts dopts = {.align = VD_ALIGN_HULL};
	const char *db = NULL, *plot = NULL, *outpath = NULL;
	struct vd_meta_list meta = {.n = 0};
	struct vd_run_info labels = {.meta = &meta};
	struct vd_err err = {0};
	const char *filter_expr = NULL, *pcapng_out = NULL;
	int mode = 0; /* 0 text, 1 csv, 2 json */
	int keep_going = 0, quiet = 0, progress = 0, c;
	struct vd_decode_opts decode = {0};
	struct vd_err oerr;
	struct vd_cli cli;
	/* no help text: --help lists the subcommands (usage()) */
	vd_cli_init(&cli, prog, NULL, argc, argv, "o:f:kqhV", longopts);
	while ((c = vd_cli_next(&cli)) != VD_CLI_END) {
		const char *arg = cli.arg;
		switch (c) {
		case VD_CLI_EXIT:
			return cli.status;
		case OPT_REST: {
			long long n;
			if (vd_units_parse_int(arg, 1, 1000000, &n))
				return vd_cli_usage_error(
				    &cli, "--rest: '%s' is not a count of 1 or more", arg);
			dopts.rest = (size_t)n;
			break;
		}
		case OPT_ALIGN:
			if (vd_align_method_parse(arg, &dopts.align) < 0)
				return vd_cli_usage_error(
				    &cli, "--align: '%s' is not hull, lsq or none", arg);
			break;
		case OPT_WINDOW:
			if (vd_units_parse_duration(arg, &dopts.window) < 0 || dopts.window <= 0 ||
			    dopts.window > 86400 * VD_NS_PER_SEC)
				return vd_cli_usage_error(
				    &cli,
				    "--window: bad duration '%s' (more than 0, at most 1 day)",
				    arg);
			break;
		case OPT_CSV:
		case OPT_JSON:
			if (vd_cli_exclusive(&cli, "--csv", mode == 1 || c == OPT_CSV, "--json",
					     mode == 2 || c == OPT_JSON))
				return cli.status;
			mode = c == OPT_CSV ? 1 : 2;
			break;
		case OPT_DB:
			db = arg;
			break;
		case OPT_TESTBED:
			labels.testbed = arg;
			break;
		case OPT_LABEL:
			labels.label = arg;
			break;
		case OPT_SCENARIO:
			labels.scenario = arg;
			break;
		case OPT_META:
			if (vd_meta_list_add(&meta, arg, &err))
				return vd_cli_usage_error(&cli, "%s", err.msg);
			break;
		case OPT_PLOT:
			plot = arg;
			break;
		case OPT_OUTER:
			decode.outer = 1;
			break;
		case OPT_TUNNEL:
			if (vd_tunnel_filter_parse(arg, &decode.tunnel, &oerr) < 0)
				return vd_cli_usage_error(&cli, "%s", oerr.msg);
			break;
		case 'o':
			outpath = arg;
			break;
		case 'k':
			keep_going = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'f':
			filter_expr = arg;
			break;
		case OPT_PROGRESS:
			progress = 1;
			break;
		case OPT_PCAPNG_OUT:
			pcapng_out = arg;
			break;
		case 'h':
			usage(stdout, prog, commands);
			return VD_EXIT_OK;
		}
	}
	if (vd_meta_labels_need_db(&cli, labels.testbed, labels.label, labels.scenario, &meta,
				   db != NULL))
		return cli.status;
	if (optind >= argc)
		return vd_cli_usage_error(&cli, "%s",
					  "no vantage point given (a trace or tping file)");
	if (argc - optind > REPORT_MAX_VANTAGE)
		return vd_cli_usage_error(&cli, "more than %d vantage points", REPORT_MAX_VANTAGE);

	/* parse every spec first: a typo is a usage error before any file is read */
	int nspec = argc - optind;
	struct vd_vantage_spec *specs = calloc((size_t)nspec, sizeof(*specs));
	if (!specs)
		return VD_EXIT_RUNTIME;
	int rc = VD_EXIT_OK;
	struct vd_filter *filter = NULL;
	struct vd_echo_failures failures = {0};
	struct vd_vantage_spec *xs = NULL; /* specs, files split (vd_echo_pull_specs) */
	struct vd_tping_split *split = NULL;
	struct vd_tcm_split *tcm_split = NULL;
	for (int i = 0; i < nspec; i++)
		if (vd_vantage_spec_parse(argv[optind + i], &specs[i], &err) < 0) {
			rc = vd_cli_usage_error(&cli, "%s", err.msg);
			goto out_specs;
		}
	if (filter_expr && vd_filter_new(filter_expr, &filter, &err) < 0) {
		rc = vd_cli_usage_error(&cli, "-f: %s", err.msg);
		goto out_specs;
	}

	struct vd_vantage_set set = {0};
	struct vd_echo_read_opts ropts = {.progress = progress ? VD_PROGRESS_FORCED
							       : !quiet && isatty(STDERR_FILENO),
					  .filter = filter,
					  .decode = decode};
	/* the streamed analysis pulls one vantage point a spec: tping and tcpmon files split */
	size_t nx = 0;
	if (!plot && !pcapng_out &&
	    vd_echo_pull_specs(specs, (size_t)nspec, &xs, &nx, &split, &tcm_split, &err) < 0) {
		fprintf(stderr, "%s: out of memory\n", prog);
		rc = VD_EXIT_RUNTIME;
		goto out_specs;
	}
	/* A pipe is read once: when the streamed analysis gives way, the failure its readers met
	 * is reported here, never looked for by reading the inputs again. */
	failures = (struct vd_echo_failures){.specs = xs, .n = nx, .end_on_damage = keep_going};
	for (size_t i = 0; i < nx && !ropts.failures; i++)
		if (vd_format_is_stream(xs[i].path))
			ropts.failures = &failures;
	if (ropts.failures && !(failures.err = calloc(nx, sizeof(*failures.err)))) {
		fprintf(stderr, "%s: out of memory\n", prog);
		rc = VD_EXIT_RUNTIME;
		goto out_specs;
	}
	int failed = 0;
	struct vd_delay d;
	/* The tables and --csv stream in bounded memory; --plot and --pcapng-out still need
	 * every probe at the end. */
	int streamed = 0, csv_streamed = 0, out_open = 0;
	ropts.tping_split = split;
	ropts.tcm_split = tcm_split;
	FILE *out = stdout;
	struct vd_afile af;
	struct report_csv_stream cs;
	if (xs && nx <= REPORT_MAX_VANTAGE && vd_delay_stream_possible(xs, nx)) {
		struct vd_delay_probe_out each = {report_csv_stream_probe, &cs};
		int o = mode == 1 ? open_csv_stream(prog, outpath, &af, &out, &cs) : 0;
		if (o < 0) {
			rc = VD_EXIT_RUNTIME;
			goto out_set;
		}
		out_open = outpath && mode == 1 && o == 0;
		int s = o ? 1
			  : vd_delay_stream(xs, nx, &ropts, &dopts, mode == 1 ? &each : NULL, &set,
					    &d, &err);
		streamed = s == 0;
		csv_streamed = streamed && mode == 1;
		if (mode == 1 && !streamed && o == 0) {
			out_open = 0;
			if (drop_csv_stream(prog, outpath, &af, &cs) < 0) {
				rc = VD_EXIT_RUNTIME;
				goto out_set;
			}
		}
		if (s < 0) {
			fprintf(stderr, "%s: %s\n", prog, err.msg);
			rc = VD_EXIT_RUNTIME;
			goto out_set;
		}
		/* -k: the traces damaged after their first echo ended there; reported as read */
		if (s == 0 && report_failures(prog, ropts.failures))
			failed = 1;
		if (s == 1 && ropts.failures) {
			if (!report_failures(prog, ropts.failures))
				fprintf(stderr,
					"%s: the streamed analysis gave way, and a pipe cannot be "
					"read again\n",
					prog);
			if (keep_going)
				fprintf(
				    stderr,
				    "%s: -k: an input without any echo before its failure "
				    "cannot be left out when a pipe is read: the pipe cannot be "
				    "read again\n",
				    prog);
			rc = VD_EXIT_RUNTIME;
			goto out_set;
		}
	}
	/* the tping files' first rows, kept for the streamed analysis, freed before reading whole
	 */
	vd_echo_pull_specs_free(split, tcm_split);
	split = ropts.tping_split = NULL;
	tcm_split = ropts.tcm_split = NULL;
	for (int i = 0; i < nspec && !streamed; i++) {
		size_t before = set.n;
		if (vd_vantage_read(&specs[i], &set, &ropts, &err) < 0) {
			/* a selector that does not fit its file is the command line's fault */
			if (err.usage) {
				rc = vd_cli_usage_error(&cli, "%s", err.msg);
				goto out_set;
			}
			fprintf(stderr, "%s: %s\n", prog, err.msg);
			failed = 1;
			if (!keep_going) {
				rc = VD_EXIT_RUNTIME;
				goto out_set;
			}
			/* keep what was read before damage; drop points that saw nothing */
			size_t k = before;
			for (size_t j = before; j < set.n; j++) {
				if (set.v[j]->echoes)
					set.v[k++] = set.v[j];
				else
					vd_vantage_free(set.v[j]);
			}
			set.n = k;
		}
	}
	if (!set.n) {
		fprintf(stderr, "%s: no input could be read\n", prog);
		rc = VD_EXIT_RUNTIME;
		goto out_set;
	}
	if (set.n > REPORT_MAX_VANTAGE) {
		fprintf(stderr, "%s: %zu vantage points, at most %d\n", prog, set.n,
			REPORT_MAX_VANTAGE);
		rc = VD_EXIT_USAGE;
		goto out_set;
	}
	vd_vantage_set_unique_names(&set);

	int warn = 0;
	if (!streamed && vd_delay_analyze(set.v, set.n, &dopts, &d, &warn, &err) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		rc = VD_EXIT_RUNTIME;
		goto out_set;
	}
	if (warn)
		fprintf(stderr, "%s: warning: %s\n", prog, err.msg);
	for (size_t v = 0; v < set.n; v++)
		if (!set.v[v]->stats.pairs)
			fprintf(stderr, "%s: warning: %s (%s): no request matched a reply\n", prog,
				set.v[v]->name, set.v[v]->path);

	if (outpath && !out_open) {
		if (vd_afile_open(&af, outpath, &err)) {
			fprintf(stderr, "%s: -o %s\n", prog, err.msg);
			rc = VD_EXIT_RUNTIME;
			goto out_delay;
		}
		out = af.f;
		out_open = 1;
	}
	struct report_ctx ctx = {.d = &d, .align = dopts.align, .rest = dopts.rest};
	int wr = csv_streamed ? report_csv_stream_close(&cs, 1)
		 : mode == 1  ? report_csv(out, &ctx)
		 : mode == 2  ? report_json(out, &ctx)
			      : report_text(out, &ctx);
	/* a write error names the file: here for -o, in vd_cli_exit (main) for stdout */
	if (wr < 0 && csv_streamed && cs.spool_errno)
		fprintf(stderr, "%s: --csv: the temporary file holding the rows: %s\n", prog,
			strerror(cs.spool_errno));
	else if (wr < 0 && !ferror(out))
		fprintf(stderr, "%s: out of memory while writing the report\n", prog);
	csv_streamed = 0;
	if (wr < 0 || ferror(out))
		rc = VD_EXIT_RUNTIME;
	out_open = 0;
	if (outpath && vd_afile_finish(&af, wr < 0, &err)) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		rc = VD_EXIT_RUNTIME;
	}
	if (db && report_db(db, &ctx, argc, argv, &labels, &err) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		rc = VD_EXIT_RUNTIME;
	}
	if (pcapng_out && pcapng_out_write(pcapng_out, &d, &err) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		rc = VD_EXIT_RUNTIME;
	}
	if (plot && report_plots(plot, &ctx, &err) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		rc = VD_EXIT_RUNTIME;
	}
	if (failed)
		rc = VD_EXIT_RUNTIME;
out_delay:
	vd_delay_free(&d);
out_set:
	if (csv_streamed)
		report_csv_stream_close(&cs, 0);
	if (out_open)
		vd_afile_discard(&af);
	vd_vantage_set_free(&set);
out_specs:
	vd_echo_pull_specs_free(split, tcm_split);
	free(failures.err);
	for (size_t i = 0; i < failures.n; i++)
		vd_vantage_spec_free(&xs[i]);
	free(xs);
	vd_filter_free(filter);
	for (int i = 0; i < nspec; i++)
		vd_vantage_spec_free(&specs[i]);
	free(specs);
	return rc;
}
