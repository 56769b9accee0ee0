/* tcp_report.h — state and reports of `vmdelay-analyze tcp` (cmd_tcp.c): per-flow tables,
 * JSON, SQLite results and --plot data files (docs/formats/tcp.md). */
#ifndef VMDELAY_ANALYZE_TCP_REPORT_H
#define VMDELAY_ANALYZE_TCP_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "vmdelay/core/linhist.h"
#include "vmdelay/input/decode.h"
#include "vmdelay/out/afile.h"
#include "vmdelay/out/output.h"
#include "vmdelay/match/pktmatch.h"
#include "vmdelay/tcp/tcpan.h"
#include "vmdelay/tcp/transfer.h"
#include "vmdelay/store/run_meta.h"

#define TCP_MAX_VANTAGE 32

struct tcp_vantage {
	char name[128];
	char clock[64];
	uint32_t clock_id; /* the first vantage point with this clock: same clock, same id */
	const char *path;
	const char *format;
	int file; /* index of its trace */
	uint32_t iface;
	uint64_t pkts, tcp_pkts, not_tcp, undecodable;
	struct vd_encap_summary encap; /* tunnels crossed; frames with a bad IP length */
	FILE *tput_f, *seq_f;	       /* --plot streams */
};

struct tcp_ctx {
	/* options */
	vd_ns bin_ns, ref_ns, interval, rtt, horizon;
	double bottleneck_bps;
	uint64_t frame_bytes;
	unsigned min_run;
	double xc_factor;
	size_t max_flows;
	enum vd_out_mode mode;
	const char *plot_dir, *db_path, *testbed, *label, *scenario, *transfers_path;
	struct vd_meta_list meta; /* --meta KEY=VALUE */
	int64_t run_id_in;
	int progress, quiet;	      /* --progress, -q */
	struct vd_filter *filter;     /* -f */
	struct vd_decode_opts decode; /* --outer, --tunnel */
	char *command_line;
	/* state */
	struct tcp_vantage v[TCP_MAX_VANTAGE];
	uint32_t nv;
	struct vd_tcpan *an;
	struct vd_pktmatch *match;
	struct vd_linhist delay[TCP_MAX_VANTAGE][2]; /* [k][0]: first at v0, [1]: first at k */
	struct vd_transfer *xfers;
	size_t nxfers;
	int plot_failed;
	/* --plot files being written (under temporary names until committed). */
	struct vd_afile *plot_files;
	size_t nplot_files, cap_plot_files;
};

/* --plot: opens the streaming files of each vantage point (throughput series, seq/time). */
int tcp_plot_open(struct tcp_ctx *c, struct vd_err *err);
/* Renames every --plot file written so far onto its name (-1: one could not be written). */
int tcp_plot_commit(struct tcp_ctx *c, struct vd_err *err);
/* Removes the --plot files not committed (a run that failed) and frees the rest. */
void tcp_plot_close(struct tcp_ctx *c);
/* tcpan callbacks writing those files. */
void tcp_plot_series(void *ctx, const struct vd_tcpan_flow *f, int which, vd_ns start, vd_ns len,
		     uint64_t bytes, int partial);
void tcp_plot_seqpoint(void *ctx, const struct vd_tcpan_flow *f, vd_ns ts, char kind, uint32_t rel,
		       uint32_t len);

/* --plot: SVG charts (tcp_svg.c), after the CSV files are written. */
int tcp_svg_plots(struct tcp_ctx *c, struct vd_err *err);

/* "sender>receiver" of the flow's data, in buf. */
void tcp_flow_label(const struct vd_tcpan_flow *f, char *buf, size_t n);

/* Every report to out (text, CSV or JSON), the --plot histograms and CDFs, and --db. */
int tcp_report(struct tcp_ctx *c, FILE *out, struct vd_err *err);

#endif
