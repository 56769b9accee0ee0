/* cmd_tcp.c — `vmdelay-analyze tcp`: TCP under virtualization from packet traces taken at one
 * or more vantage points: ACK inter-arrival histograms and ACK compression
 * (Rajasekaran et al.), throughput at the RTT and 1 s timescales, sequence/time data,
 * per-packet delay between vantage points and transfer throughput CDFs (Kangarlou et al.),
 * the LRO/GRO aggregation rate (Oi and Nakajima). The traces are read once, merged by time. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "tcp_report.h"
#include "vmdelay/core/cli.h"
#include "vmdelay/input/decode.h"
#include "vmdelay/store/store.h"
#include "vmdelay/store/store_transfer.h"
#include "vmdelay/tcp/tcpagg.h"
#include "vmdelay/input/format.h"
#include "vmdelay/input/source.h"
#include "vmdelay/core/progress.h"
#include "vmdelay/core/units.h"
#include "vmdelay/input/filter.h"
#include "vmdelay/match/vantage.h"

static const char usage[] =
    "usage: vmdelay-analyze tcp [options] VANTAGE...\n"
    "  VANTAGE is NAME[:CLOCK]=TRACE[#SELECT] or a bare TRACE (pcap, pcapng, ERF), as for the\n"
    "  delay analysis: #SELECT an interface (name or number), '*' one point per interface.\n"
    "  A tcpmon record file gives its TCP packets at trans-rx (delivered to TCP, GRO super-\n"
    "  packets with their wire segments): the aggregation rate against the reference.\n"
    "  Give the host NIC / tap / bridge first: the others are compared with it; per-packet\n"
    "  delays only between points of the same CLOCK.\n"
    "  --bin DUR            ACK inter-arrival histogram bin width (default 10us)\n"
    "  --bottleneck RATE    bottleneck rate for the reference line (default 100Mbit)\n"
    "  --frame BYTES        frame size of one full segment (default 1500)\n"
    "  --min-run N          gaps below the reference in a row that make an ACK-compression\n"
    "                       event (default 2, i.e. 3 ACKs)\n"
    "  --compress-factor F  two vantage points: an ACK pair is compressed when its spacing\n"
    "                       shrank by more than F between them (Paxson; default 2)\n"
    "  --interval DUR       long throughput timescale (default 1s)\n"
    "  --rtt DUR            RTT timescale (default: per flow, handshake or first sample)\n"
    "  --match-horizon DUR  how long a packet waits for its copy at another vantage point (1s)\n"
    "  --max-flows N        flows tracked per run (default 65536)\n"
    "  --transfers FILE     tperf records (--csv file, SQLite store or postgresql:// URL):\n"
    "                       throughput CDF\n"
    "  --run ID             with a store as --transfers: that run only (default: every run)\n"
    "  --outer              decode the outermost headers only (default: the innermost,\n"
    "                       through VXLAN, Geneve, GRE, ERSPAN, IP in IP and GTP-U)\n"
    "  --tunnel ID          only frames through one tunnel: vni=N, key=N, teid=N, session=N\n"
    "  --csv, --json        output format (default: text tables)\n"
    "  --db FILE            store the results (and vantage points) as a run in FILE\n"
    "  --testbed NAME, --label TEXT   stored with --db\n"
    "  --scenario NAME      stored with --db (default \"tcp\")\n"
    "  --meta KEY=VALUE     stored with --db (repeatable; compare --by KEY groups on it)\n"
    "  --plot DIR           SVG charts and CSV data: histograms, series, seq/time, CDFs\n"
    "  -f, --filter EXPR    keep only the packets that pass the pcap-filter expression EXPR\n"
    "                       (tcpdump's syntax) at every vantage point; it reads the\n"
    "                       outer headers, --outer/--tunnel then apply to what it kept\n"
    "  --progress           progress on stderr even when it is not a terminal\n"
    "  -q, --quiet          no progress on stderr (default: shown on a terminal)\n"
    "  -h, --help, -V, --version\n";

enum {
	O_BIN = 256,
	O_BOTTLENECK,
	O_FRAME,
	O_MINRUN,
	O_INTERVAL,
	O_RTT,
	O_HORIZON,
	O_MAXFLOWS,
	O_TRANSFERS,
	O_RUN,
	O_FACTOR,
	O_CSV,
	O_JSON,
	O_DB,
	O_TESTBED,
	O_LABEL,
	O_SCENARIO,
	O_META,
	O_PLOT,
	O_PROGRESS,
	O_OUTER,
	O_TUNNEL
};

static int parse_dur(struct vd_cli *cli, vd_ns *out)
{
	if (vd_units_parse_duration(cli->arg, out) || *out <= 0)
		return vd_cli_usage_error(cli, "%s %s: expected a positive duration such as 10us",
					  cli->opt, cli->arg);
	return 0;
}

/* Returns 0 to run; otherwise cmd_tcp exits with cli->status (--help, --version, usage error). */
static int parse_opts(struct vd_cli *cli, int argc, char **argv, struct tcp_ctx *c)
{
	static const struct option opts[] = {
	    {"bin", required_argument, NULL, O_BIN},
	    {"bottleneck", required_argument, NULL, O_BOTTLENECK},
	    {"frame", required_argument, NULL, O_FRAME},
	    {"min-run", required_argument, NULL, O_MINRUN},
	    {"compress-factor", required_argument, NULL, O_FACTOR},
	    {"interval", required_argument, NULL, O_INTERVAL},
	    {"rtt", required_argument, NULL, O_RTT},
	    {"match-horizon", required_argument, NULL, O_HORIZON},
	    {"max-flows", required_argument, NULL, O_MAXFLOWS},
	    {"transfers", required_argument, NULL, O_TRANSFERS},
	    {"run", required_argument, NULL, O_RUN},
	    {"csv", no_argument, NULL, O_CSV},
	    {"json", no_argument, NULL, O_JSON},
	    {"db", required_argument, NULL, O_DB},
	    {"testbed", required_argument, NULL, O_TESTBED},
	    {"label", required_argument, NULL, O_LABEL},
	    {"scenario", required_argument, NULL, O_SCENARIO},
	    {"meta", required_argument, NULL, O_META},
	    {"plot", required_argument, NULL, O_PLOT},
	    {"progress", no_argument, NULL, O_PROGRESS},
	    {"quiet", no_argument, NULL, 'q'},
	    {"filter", required_argument, NULL, 'f'},
	    {"outer", no_argument, NULL, O_OUTER},
	    {"tunnel", required_argument, NULL, O_TUNNEL},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int opt, csv = 0, json = 0;
	vd_cli_init(cli, "vmdelay-analyze tcp", usage, argc, argv, "hVqf:", opts);
	while ((opt = vd_cli_next(cli)) != VD_CLI_END) {
		const char *arg = cli->arg;
		long long n;
		switch (opt) {
		case VD_CLI_EXIT:
			return -1;
		case O_BIN:
			if (parse_dur(cli, &c->bin_ns))
				return -1;
			break;
		case O_BOTTLENECK:
			if (vd_units_parse_rate(arg, &c->bottleneck_bps))
				return vd_cli_usage_error(
				    cli, "--bottleneck %s: expected a rate such as 100Mbit", arg);
			break;
		case O_FRAME:
			if (vd_units_parse_bytes(arg, &c->frame_bytes) || c->frame_bytes > 65536)
				return vd_cli_usage_error(
				    cli, "--frame %s: expected 1..65536 bytes", arg);
			break;
		case O_MINRUN:
			if (vd_units_parse_int(arg, 1, 1000, &n))
				return vd_cli_usage_error(cli, "--min-run %s: expected 1..1000",
							  arg);
			c->min_run = (unsigned)n;
			break;
		case O_FACTOR:
			if (vd_units_parse_decimal(arg, &c->xc_factor) || !(c->xc_factor > 1) ||
			    c->xc_factor > 1000)
				return vd_cli_usage_error(
				    cli, "--compress-factor %s: expected a number > 1", arg);
			break;
		case O_INTERVAL:
			if (parse_dur(cli, &c->interval))
				return -1;
			break;
		case O_RTT:
			if (parse_dur(cli, &c->rtt))
				return -1;
			break;
		case O_HORIZON:
			if (parse_dur(cli, &c->horizon))
				return -1;
			break;
		case O_MAXFLOWS:
			if (vd_units_parse_int(arg, 1, 10000000, &n))
				return vd_cli_usage_error(
				    cli, "--max-flows %s: expected 1..10000000", arg);
			c->max_flows = (size_t)n;
			break;
		case O_TRANSFERS:
			c->transfers_path = arg;
			break;
		case O_RUN:
			if (vd_units_parse_int(arg, 1, LLONG_MAX, &n))
				return vd_cli_usage_error(cli, "--run %s: expected a run id", arg);
			c->run_id_in = n;
			break;
		case O_CSV:
			csv = 1;
			c->mode = VD_OUT_CSV;
			break;
		case O_JSON:
			json = 1;
			c->mode = VD_OUT_JSON;
			break;
		case O_DB:
			c->db_path = arg;
			break;
		case O_TESTBED:
			c->testbed = arg;
			break;
		case O_LABEL:
			c->label = arg;
			break;
		case O_SCENARIO:
			c->scenario = arg;
			break;
		case O_META: {
			struct vd_err err;
			if (vd_meta_list_add(&c->meta, arg, &err))
				return vd_cli_usage_error(cli, "%s", err.msg);
			break;
		}
		case O_PLOT:
			c->plot_dir = arg;
			break;
		case O_PROGRESS:
			c->progress = 1;
			break;
		case 'q':
			c->quiet = 1;
			break;
		case 'f': {
			struct vd_err err;
			if (c->filter)
				return vd_cli_usage_error(
				    cli, "%s", "-f: given twice (join the expressions with 'and')");
			if (vd_filter_new(arg, &c->filter, &err))
				return vd_cli_usage_error(cli, "-f: %s", err.msg);
			break;
		}
		case O_OUTER:
			c->decode.outer = 1;
			break;
		case O_TUNNEL: {
			struct vd_err e;
			if (vd_tunnel_filter_parse(arg, &c->decode.tunnel, &e))
				return vd_cli_usage_error(cli, "%s", e.msg);
			break;
		}
		}
	}
	if (vd_cli_exclusive(cli, "--csv", csv, "--json", json))
		return -1;
	if (c->run_id_in && !c->transfers_path)
		return vd_cli_usage_error(cli, "%s", "--run goes with --transfers");
	if (vd_meta_labels_need_db(cli, c->testbed, c->label, c->scenario, &c->meta,
				   c->db_path != NULL))
		return -1;
	if (optind >= argc && !c->transfers_path)
		return vd_cli_usage_error(cli, "%s", "no trace given");
	if (argc - optind > TCP_MAX_VANTAGE)
		return vd_cli_usage_error(cli, "at most %d traces", TCP_MAX_VANTAGE);
	return 0;
}

/* Packets are read this many ahead of the one analysed, and their hashes computed then: the
 * flow table slot and the pending packets' bucket (cross-vantage matching: the bucket says
 * whether a copy waits, lib/match/pktmatch.c) of each are fetched meanwhile. With thousands of
 * concurrent connections those are out of the cache; the fetches of several packets overlap
 * with the work on earlier ones. The flow's state is fetched when it is found
 * (lib/tcp/README.md): fetching its lines 8 packets ahead too, or its ACK block's a few
 * packets ahead, measured slower at 1,000 to 65,535 connections (the processor drops software
 * prefetches beyond the misses it can track); so did a second stage reading the (cached) slot
 * 8 or 4 packets ahead to fetch the state it leads to (2-11% more CPU at the median, 10,000 and
 * 65,535 connections, one and two points). Reading AHEAD / 2 ahead at each of two inputs (16
 * in the merged order, as one input reads) measured no different at 65,535 connections. */
#define AHEAD 16

/* A packet read ahead, decoded. */
struct ahead {
	struct vd_item item; /* item.pkt: the packet (read in place: a copy would wait for the
			      * reader's stores, of other widths, to retire) */
	struct vd_decoded dec;
	int decoded; /* dec is valid */
	int hinted;  /* a TCP packet of a known vantage point v: the hashes are set */
	uint32_t v;
	uint64_t flow_hash, match_hash;
};

/* One input and its next packets (the merge takes the earliest head of all inputs). */
struct input {
	struct vd_vantage_spec spec; /* NAME[:CLOCK]=PATH[#SELECT], as the delay analysis */
	char name[VD_VANTAGE_NAME_MAX];
	struct vd_source *src; /* a packet trace, read through lib/input's one reader */
	struct vd_tcpagg *tcm; /* a tcpmon record file instead (lib/tcp/tcpagg.c) */
	const struct vd_decode_opts *decode;
	int vidx[TCP_MAX_VANTAGE]; /* interface (or 0 for the whole file) -> vantage, -1 unknown */
	int per_iface;		   /* SELECT is '*': one vantage point per interface */
	struct ahead q[AHEAD];	   /* ring: q[qhead] is the next packet */
	unsigned qhead, qlen;
	int ended;  /* nothing more to read: the end, or damage (failed) */
	int failed; /* after the queued packets comes damage, ferr says which */
	struct vd_err ferr;
};

static struct ahead *head(struct input *in)
{
	return &in->q[in->qhead];
}

static int load_transfers(struct tcp_ctx *c, struct vd_err *err)
{
	enum vd_format fmt = VD_FORMAT_SQLITE; /* a postgresql:// URL is a store too */
	if (!vd_store_path_is_pg(c->transfers_path) &&
	    vd_format_detect_file(c->transfers_path, &fmt, err) < 0)
		return vd_err_set(err, "--transfers %s: cannot open", c->transfers_path);
	if (fmt == VD_FORMAT_SQLITE) {
		struct vd_store *st;
		if (vd_store_open_readonly(c->transfers_path, &st, err))
			return -1;
		int rc = vd_store_load_transfers(st, c->run_id_in, &c->xfers, &c->nxfers, err);
		vd_store_close(st);
		if (rc)
			return vd_err_prefix(err, "--transfers");
		return 0;
	}
	if (c->run_id_in)
		return vd_err_set(err, "--run: %s is a CSV file, not a SQLite store",
				  c->transfers_path);
	return vd_transfer_load_csv(c->transfers_path, &c->xfers, &c->nxfers, err);
}

/* The vantage point of a packet, registered on first sight: the whole trace, or with SELECT
 * "*" each interface (NAME.IFACE, or IFACE for a bare path). A SELECT naming one interface
 * has left the others' packets out already (the source). */
static int vantage_of(struct tcp_ctx *c, struct input *in, int file, uint32_t iface,
		      struct vd_err *err)
{
	int per_iface = in->per_iface;
	/* vidx[] caches the answers for the first interfaces; a higher number is looked up each
	 * time, never from another interface's slot. */
	int cached = iface < TCP_MAX_VANTAGE;
	int *vslot = !per_iface ? &in->vidx[0] : cached ? &in->vidx[iface] : NULL;
	if (vslot && *vslot >= 0)
		return *vslot;
	for (size_t k = 0; !vslot && k < c->nv; k++)
		if (c->v[k].file == file && c->v[k].iface == iface)
			return (int)k;
	if (c->nv >= TCP_MAX_VANTAGE)
		return vd_err_set(err, "%s: more than %d vantage points (interfaces)",
				  in->spec.path, TCP_MAX_VANTAGE);
	struct tcp_vantage *v = &c->v[c->nv];
	memset(v, 0, sizeof(*v));
	if (per_iface) {
		char label[64];
		vd_source_iface_label(in->src, iface, label, sizeof(label));
		if (in->spec.name[0])
			snprintf(v->name, sizeof(v->name), "%s.%s", in->name, label);
		else
			snprintf(v->name, sizeof(v->name), "%s", label);
	} else {
		snprintf(v->name, sizeof(v->name), "%s", in->name);
	}
	snprintf(v->clock, sizeof(v->clock), "%s", in->spec.clock);
	v->clock_id = c->nv;
	for (uint32_t k = 0; k < c->nv; k++)
		if (strcmp(c->v[k].clock, v->clock) == 0) {
			v->clock_id = k;
			break;
		}
	v->path = in->spec.path;
	v->format = in->tcm ? VD_TCPAGG_FORMAT : vd_format_name(vd_source_format(in->src));
	v->file = file;
	v->iface = iface;
	if (vslot)
		*vslot = (int)c->nv;
	return (int)c->nv++;
}

/* Reads one packet into a: 1, 0 at the end, -1 on damage (err). */
static int read_one(struct input *in, struct ahead *a, struct vd_err *err)
{
	if (in->tcm)
		return a->decoded = vd_tcpagg_next(in->tcm, &a->item.pkt.ts, &a->dec);
	int rc = vd_source_next(in->src, &a->item, err);
	if (rc <= 0)
		return rc < 0 ? -1 : 0;
	struct vd_err derr;
	a->decoded = vd_decode_with(&a->item.pkt, in->decode, &a->dec, &derr) == 0;
	if (a->dec.bad >= VD_BAD_TUNNEL)
		return vd_err_set(err, "%s: frame %llu (offset %llu): %s", in->spec.path,
				  (unsigned long long)a->item.pkt.index,
				  (unsigned long long)a->item.pkt.offset, derr.msg);
	return 1;
}

/* The vantage point of a packet if it is registered already (vantage_of registers them in the
 * merged order, which reading ahead must not change), or -1. */
static int known_vantage(const struct input *in, uint32_t iface)
{
	if (!in->per_iface)
		return in->vidx[0];
	return iface < TCP_MAX_VANTAGE ? in->vidx[iface] : -1;
}

/* For a packet just read: its hashes, and the table slot and bucket they point to fetched. */
static void hint(struct tcp_ctx *c, struct input *in, struct ahead *a)
{
	a->hinted = 0;
	/* l4 and is_fragment are adjacent ints the decoder has just stored one at a time: read
	 * apart (the compiler's one 8-byte load of both waited for the stores to retire) */
	if (!a->decoded || __atomic_load_n(&a->dec.l4, __ATOMIC_RELAXED) != VD_L4_TCP ||
	    a->dec.is_fragment)
		return;
	int v = known_vantage(in, a->item.pkt.iface);
	if (v < 0)
		return;
	a->hinted = 1;
	a->v = (uint32_t)v;
	a->flow_hash = vd_tcpan_prefetch(c->an, a->v, &a->dec);
	if (c->match && !in->tcm)
		a->match_hash = vd_pktmatch_prefetch(c->match, &a->dec);
}

static void fill(struct tcp_ctx *c, struct input *in)
{
	while (in->qlen < AHEAD && !in->ended) {
		struct ahead *a = &in->q[(in->qhead + in->qlen) % AHEAD];
		int rc = read_one(in, a, &in->ferr);
		if (rc <= 0) {
			in->ended = 1;
			in->failed = rc < 0;
			break;
		}
		in->qlen++;
		hint(c, in, a);
	}
}

/* Drops the head packet, reads the next, fetches ahead. Returns -1 (err) when
 * what comes next is the damage the reader stopped at. */
static int advance(struct tcp_ctx *c, struct input *in, struct vd_err *err)
{
	if (in->qlen) {
		in->qhead = (in->qhead + 1) % AHEAD;
		in->qlen--;
	}
	fill(c, in);
	if (!in->qlen && in->failed) {
		*err = in->ferr;
		return -1;
	}
	return 0;
}

static void on_match(void *ctx, uint32_t first, vd_ns t_first, uint32_t second, vd_ns t_second,
		     const struct vd_decoded *d)
{
	struct tcp_ctx *c = ctx;
	uint32_t k = first == 0 ? second : first;
	/* A delay between two clocks is not a delay: only points sharing a clock (CLOCK label). */
	if (c->v[first].clock_id == c->v[second].clock_id)
		vd_linhist_add(&c->delay[k][first == 0 ? 0 : 1], t_second - t_first, 0);
	/* Paxson's two-point ACK compression, kept on the flow where the ACKs arrive: the flow
	 * of the packet just added (d, at vantage point second). */
	int dir;
	struct vd_tcpan_flow *f;
	if (vd_tcp_is_pure_ack(d) && (f = vd_tcpan_last(c->an, &dir)))
		vd_tcpan_ackcomp_add(c->an, f, dir, first, t_first, t_second);
}

/* Reads every trace once, in time order across them. */
static int run_traces(struct tcp_ctx *c, struct input *in, int nin, struct vd_err *err)
{
	/* The first trace given is the reference even when another one (on another clock, e.g.
	 * a guest's tcpmon records) starts earlier; interfaces found in the trace come later. */
	for (int i = 0; i < nin; i++)
		if (!in[i].spec.select[0] && vantage_of(c, &in[i], i, 0, err) < 0)
			return -1;
	for (int i = 0; i < nin; i++) {
		fill(c, &in[i]);
		if (!in[i].qlen && in[i].failed) {
			*err = in[i].ferr;
			return -1;
		}
	}
	struct vd_progress prog;
	uint64_t total = 0, records = 0;
	for (int i = 0; i < nin; i++)
		total += vd_progress_file_size(in[i].spec.path);
	vd_progress_init(&prog, "vmdelay-analyze tcp", c->progress, c->quiet, total);
	for (;;) {
		int best = -1;
		for (int i = 0; i < nin; i++)
			if (in[i].qlen &&
			    (best < 0 || head(&in[i])->item.pkt.ts < head(&in[best])->item.pkt.ts))
				best = i;
		if (vd_progress_due(&prog, ++records) || best < 0) {
			uint64_t done = 0;
			for (int i = 0; i < nin; i++) {
				int reading = in[i].qlen && !in[i].tcm;
				done += reading ? head(&in[i])->item.pkt.offset
						: vd_progress_file_size(in[i].spec.path);
			}
			if (best < 0) {
				vd_progress_done(&prog, records - 1, done);
				return 0;
			}
			vd_progress_update(&prog, records, done);
		}
		struct input *p = &in[best];
		struct ahead *a = head(p);
		/* a hinted packet's vantage point was registered when it was read */
		int v = a->hinted ? (int)a->v : vantage_of(c, p, best, a->item.pkt.iface, err);
		if (v < 0)
			return -1;
		struct tcp_vantage *tv = &c->v[v];
		tv->pkts++;
		if (!p->tcm) {
			if (a->dec.nencap)
				vd_encap_summary_add(&tv->encap, a->dec.encap, a->dec.nencap);
			tv->encap.bad_ip_len += a->dec.bad == VD_BAD_IP_LEN;
		}
		if (!a->decoded)
			tv->undecodable++;
		else if (a->dec.l4 != VD_L4_TCP || a->dec.is_fragment)
			tv->not_tcp++;
		else {
			tv->tcp_pkts++;
			int hinted = a->hinted;
			if (hinted)
				vd_tcpan_add_hashed(c->an, (uint32_t)v, a->item.pkt.ts, &a->dec,
						    a->flow_hash);
			else
				vd_tcpan_add(c->an, (uint32_t)v, a->item.pkt.ts, &a->dec);
			/* tcpmon records carry no IP id: they would never match a capture */
			if (c->match && !p->tcm) {
				if (hinted)
					vd_pktmatch_add_hashed(c->match, (uint32_t)v,
							       a->item.pkt.ts, &a->dec,
							       a->match_hash);
				else
					vd_pktmatch_add(c->match, (uint32_t)v, a->item.pkt.ts,
							&a->dec);
			}
		}
		if (advance(c, p, err))
			return -1;
	}
}

int cmd_tcp(int argc, char **argv)
{
	struct tcp_ctx c;
	memset(&c, 0, sizeof(c));
	c.bin_ns = 10 * VD_NS_PER_US;
	c.bottleneck_bps = 100e6;
	c.frame_bytes = 1500;
	c.min_run = 2;
	c.xc_factor = 2;
	c.interval = VD_NS_PER_SEC;
	c.horizon = VD_NS_PER_SEC;
	c.max_flows = 65536;
	struct vd_cli cli;
	if (parse_opts(&cli, argc, argv, &c)) {
		vd_filter_free(c.filter);
		return cli.status;
	}
	int first = optind;
	c.ref_ns = vd_units_tx_time(c.frame_bytes, c.bottleneck_bps);
	int nin = argc - first;
	struct input *in = calloc(nin > 0 ? (size_t)nin : 1, sizeof(*in));
	struct vd_err err;
	int ret = VD_EXIT_RUNTIME;
	c.command_line = vd_store_command_line(argc, argv);
	if (!in || !c.command_line) {
		fprintf(stderr, "vmdelay-analyze tcp: out of memory\n");
		goto out;
	}
	for (int i = 0; i < nin; i++) {
		memset(in[i].vidx, 0xff, sizeof(in[i].vidx));
		in[i].decode = &c.decode;
	}
	for (int i = 0; i < nin; i++) {
		if (vd_vantage_spec_parse(argv[first + i], &in[i].spec, &err)) {
			ret = vd_cli_usage_error(&cli, "%s", err.msg);
			goto out;
		}
		in[i].per_iface = strcmp(in[i].spec.select, "*") == 0;
		if (in[i].spec.name[0])
			snprintf(in[i].name, sizeof(in[i].name), "%s", in[i].spec.name);
		else
			vd_vantage_name_from_path(in[i].spec.path, in[i].name, sizeof(in[i].name));
		/* by content, never by name */
		enum vd_format fmt;
		if (vd_format_detect_file(in[i].spec.path, &fmt, &err)) {
			fprintf(stderr, "vmdelay-analyze tcp: %s\n", err.msg);
			goto out;
		}
		if (fmt == VD_FORMAT_TCPMON) {
			if (in[i].spec.select[0]) {
				ret = vd_cli_usage_error(
				    &cli,
				    "%s: a tcpmon record file has no interfaces to select (#%s): "
				    "its TCP packets at trans-rx are used",
				    in[i].spec.path, in[i].spec.select);
				goto out;
			}
			if (vd_tcpagg_open(in[i].spec.path, &in[i].tcm, &err)) {
				fprintf(stderr, "vmdelay-analyze tcp: %s\n", err.msg);
				goto out;
			}
			if (!vd_tcpagg_delivered(in[i].tcm))
				fprintf(stderr,
					"vmdelay-analyze tcp: note: %s: no TCP records at layer "
					"trans-rx (%zu tcpmon records): no delivered packets, no "
					"aggregation rate from it\n",
					in[i].spec.path, vd_tcpagg_records(in[i].tcm));
			continue;
		}
		if (vd_source_open(&in[i].spec, VD_SOURCE_PACKETS, &in[i].src, &err)) {
			fprintf(stderr, "vmdelay-analyze tcp: %s\n", err.msg);
			goto out;
		}
		if (c.filter)
			vd_source_set_filter(in[i].src, c.filter);
	}
	if (c.transfers_path && load_transfers(&c, &err)) {
		fprintf(stderr, "vmdelay-analyze tcp: %s\n", err.msg);
		goto out;
	}
	struct vd_tcpan_opts o = {.bin_ns = c.bin_ns,
				  .ref_ns = c.ref_ns,
				  .min_run = c.min_run,
				  .xc_factor = c.xc_factor,
				  .interval = c.interval,
				  .rtt = c.rtt,
				  .max_flows = c.max_flows,
				  .ctx = &c};
	/* Gaps up to 100 ms (or 10000 bins) are binned; longer ones are idle periods. */
	o.max_bins = (size_t)(100 * VD_NS_PER_MS / c.bin_ns);
	if (o.max_bins > 100000)
		o.max_bins = 100000;
	if (o.max_bins < 16)
		o.max_bins = 16;
	if (c.plot_dir) {
		if (tcp_plot_open(&c, &err)) {
			fprintf(stderr, "vmdelay-analyze tcp: %s\n", err.msg);
			goto out;
		}
		o.series = tcp_plot_series;
		o.seqpoint = tcp_plot_seqpoint;
	}
	c.an = vd_tcpan_create(&o);
	if (nin > 1)
		c.match = vd_pktmatch_create(1 << 18, c.horizon, on_match, &c);
	for (int k = 0; k < TCP_MAX_VANTAGE; k++)
		for (int j = 0; j < 2; j++)
			vd_linhist_init(&c.delay[k][j], VD_NS_PER_US, 1000000);
	if (!c.an || (nin > 1 && !c.match)) {
		fprintf(stderr, "vmdelay-analyze tcp: out of memory\n");
		goto out;
	}
	/* A damaged file: what came before the damage is reported, and the exit status is 1. */
	int damaged = run_traces(&c, in, nin, &err);
	if (damaged)
		fprintf(stderr, "vmdelay-analyze tcp: %s\n", err.msg);
	vd_tcpan_finish(c.an);
	for (int i = 0; i < nin; i++)
		if (in[i].spec.select[0] && strcmp(in[i].spec.select, "*") && in[i].vidx[0] < 0)
			fprintf(
			    stderr,
			    "vmdelay-analyze tcp: note: %s: no packet on interface '%s' (#%s)\n",
			    in[i].spec.path, in[i].spec.select, in[i].spec.select);
	/* (a tcpmon file without TCP got its own note when opened) */
	for (uint32_t v = 0; v < c.nv; v++)
		if (!c.v[v].tcp_pkts && strcmp(c.v[v].format, VD_TCPAGG_FORMAT))
			fprintf(stderr,
				"vmdelay-analyze tcp: note: %s: no TCP packets (%llu packets: %llu "
				"other"
				" protocols, %llu not IP): nothing to analyze there\n",
				c.v[v].name, (unsigned long long)c.v[v].pkts,
				(unsigned long long)c.v[v].not_tcp,
				(unsigned long long)c.v[v].undecodable);
	if (vd_tcpan_untimed(c.an))
		fprintf(stderr,
			"vmdelay-analyze tcp: note: %llu TCP packets without a usable timestamp"
			" (none, as in pcapng Simple Packet Blocks, or beyond the years 1824-2116)"
			" not analyzed\n",
			(unsigned long long)vd_tcpan_untimed(c.an));
	if (vd_tcpan_no_memory(c.an)) {
		fprintf(stderr,
			"vmdelay-analyze tcp: out of memory: %llu packets could not be analyzed\n",
			(unsigned long long)vd_tcpan_no_memory(c.an));
		goto out;
	}
	if (nin && !vd_tcpan_flow_count(c.an) && !c.transfers_path) {
		fprintf(stderr, "vmdelay-analyze tcp: no TCP flow in any trace\n");
		goto out;
	}
	if (vd_tcpan_refused(c.an))
		fprintf(
		    stderr,
		    "vmdelay-analyze tcp: note: flow table full (--max-flows %zu): %llu packets of"
		    " later flows ignored\n",
		    c.max_flows, (unsigned long long)vd_tcpan_refused(c.an));
	/* The report is the first thing on stdout (setvbuf before any other use of the stream).
	 * Into a file or pipe (a JSON report of 65,535 connections at two points is 135 MB) in
	 * 1 MiB writes, not a system call per 4 KiB; a terminal stays as it is. */
	static char report_buf[1 << 20];
	if (!isatty(fileno(stdout)))
		setvbuf(stdout, report_buf, _IOFBF, sizeof(report_buf));
	ret = tcp_report(&c, stdout, &err) ? VD_EXIT_RUNTIME : VD_EXIT_OK;
	if (ret)
		fprintf(stderr, "vmdelay-analyze tcp: %s\n", err.msg);
	if (damaged)
		ret = VD_EXIT_RUNTIME;
out:
	tcp_plot_close(&c);
	for (int i = 0; in && i < nin; i++) {
		vd_source_close(in[i].src);
		vd_tcpagg_close(in[i].tcm);
		vd_vantage_spec_free(&in[i].spec);
	}
	free(in);
	vd_tcpan_destroy(c.an);
	vd_pktmatch_destroy(c.match);
	vd_filter_free(c.filter);
	for (int k = 0; k < TCP_MAX_VANTAGE; k++)
		for (int j = 0; j < 2; j++)
			vd_linhist_free(&c.delay[k][j]);
	free(c.xfers);
	free(c.command_line);
	return ret;
}
