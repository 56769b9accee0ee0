/* tcp_report.c — reports of `vmdelay-analyze tcp`: the per-flow, per-vantage-point table
 * (text / CSV / JSON lines), vantage points, per-packet delay and transfer throughput CDFs,
 * --db results and --plot files. Columns and JSON keys: docs/formats/tcp.md. */
#include "tcp_report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vmdelay/core/mem.h"
#include "vmdelay/out/plot_svg.h"
#include "vmdelay/store/store.h"
#include "vmdelay/tcp/tcpagg.h"

#define MAX_MODES 3
/* A mode must hold at least this share of the gaps (filters single-count bumps). */
#define MODE_MIN_SHARE 0.01

static const char *const rtt_src_names[] = {"none", "handshake", "sample", "fixed"};

#define ENDPOINT_MAX 80

/* The lengths of what flow_endpoints writes: sender, receiver, label. */
struct endpoint_lens {
	size_t sender, receiver, label;
};

/* The endpoints of f (dd sends the data) and "sender>receiver" in label (n > 0), their lengths
 * in *len. */
static void flow_endpoints(const struct vd_tcpan_flow *f, int dd, char sender[ENDPOINT_MAX],
			   char receiver[ENDPOINT_MAX], char *label, size_t n,
			   struct endpoint_lens *len)
{
	vd_flowkey_endpoint(&f->key, dd, sender, ENDPOINT_MAX);
	vd_flowkey_endpoint(&f->key, !dd, receiver, ENDPOINT_MAX);
	/* snprintf(label, n, "%s>%s", ...) without the format's parsing (once per flow row) */
	size_t ls = strlen(sender), lr = strlen(receiver);
	char *end = label + n - 1, *w = label;
	size_t k = ls < (size_t)(end - w) ? ls : (size_t)(end - w);
	memcpy(w, sender, k);
	w += k;
	if (w < end)
		*w++ = '>';
	k = lr < (size_t)(end - w) ? lr : (size_t)(end - w);
	memcpy(w, receiver, k);
	w[k] = 0;
	*len = (struct endpoint_lens){ls, lr, (size_t)(w + k - label)};
}

void tcp_flow_label(const struct vd_tcpan_flow *f, char *buf, size_t n)
{
	char a[ENDPOINT_MAX], b[ENDPOINT_MAX];
	struct endpoint_lens len;
	if (n)
		flow_endpoints(f, vd_tcpan_data_dir(f), a, b, buf, n, &len);
}

/* ---- --plot files ---- */

/* Opens DIR/name under a temporary name (committed by plot_done or tcp_plot_commit). */
static FILE *plot_path_open(struct tcp_ctx *c, const char *name, const char *header,
			    struct vd_err *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", c->plot_dir, name);
	if (vd_mem_reserve((void **)&c->plot_files, &c->cap_plot_files, c->nplot_files + 1,
			   sizeof(*c->plot_files))) {
		vd_err_set(err, "--plot: %s: out of memory", path);
		return NULL;
	}
	struct vd_afile *af = &c->plot_files[c->nplot_files];
	if (vd_afile_open(af, path, err)) {
		vd_err_prefix(err, "--plot");
		return NULL;
	}
	c->nplot_files++;
	fputs(header, af->f);
	return af->f;
}

static FILE *plot_file(struct tcp_ctx *c, const char *kind, const char *name, const char *header,
		       struct vd_err *err)
{
	char safe[160], file[256];
	vd_plot_file_safe(name, safe, sizeof(safe));
	snprintf(file, sizeof(file), "%s%s%s.csv", kind, *safe ? "_" : "", safe);
	return plot_path_open(c, file, header, err);
}

/* Commits the --plot file written through f. */
static int plot_done(struct tcp_ctx *c, FILE *f, struct vd_err *err)
{
	for (size_t i = 0; i < c->nplot_files; i++)
		if (c->plot_files[i].f == f) {
			int rc = vd_afile_commit(&c->plot_files[i], err);
			c->plot_files[i] = c->plot_files[--c->nplot_files];
			return rc ? vd_err_prefix(err, "--plot") : 0;
		}
	return 0;
}

int tcp_plot_commit(struct tcp_ctx *c, struct vd_err *err)
{
	for (uint32_t v = 0; v < c->nv; v++)
		c->v[v].tput_f = c->v[v].seq_f = NULL;
	int rc = 0;
	while (c->nplot_files) {
		struct vd_err e;
		if (vd_afile_commit(&c->plot_files[--c->nplot_files], &e) && rc == 0) {
			rc = -1;
			vd_err_set(err, "--plot: %s", e.msg);
		}
	}
	return rc;
}

int tcp_plot_open(struct tcp_ctx *c, struct vd_err *err)
{
	if (mkdir(c->plot_dir, 0777) && errno != EEXIST)
		return vd_err_set(err, "--plot %s: %s", c->plot_dir, strerror(errno));
	struct stat sb;
	if (stat(c->plot_dir, &sb) || !S_ISDIR(sb.st_mode))
		return vd_err_set(err, "--plot %s: not a directory", c->plot_dir);
	return 0;
}

/* The streaming files of a vantage point open on first use: its name is known only then. */
static struct tcp_vantage *plot_vantage(struct tcp_ctx *c, uint32_t v)
{
	struct tcp_vantage *tv = &c->v[v];
	if (!tv->tput_f && !c->plot_failed) {
		struct vd_err err;
		tv->tput_f = plot_file(c, "tput", tv->name,
				       "flow,timescale,start_ns,len_ns,bytes,bps,partial\n", &err);
		tv->seq_f = plot_file(c, "seq", tv->name, "flow,t_ns,kind,rel,len\n", &err);
		if (!tv->tput_f || !tv->seq_f) {
			fprintf(stderr, "vmdelay-analyze tcp: %s\n", err.msg);
			c->plot_failed = 1;
		}
	}
	return tv;
}

static const char *flow_name(const struct vd_tcpan_flow *f)
{
	struct vd_tcpan_flow *m = (struct vd_tcpan_flow *)f;
	if (!m->user) {
		m->user = malloc(200);
		if (m->user)
			tcp_flow_label(f, m->user, 200);
	}
	return m->user ? m->user : "?";
}

void tcp_plot_series(void *ctx, const struct vd_tcpan_flow *f, int which, vd_ns start, vd_ns len,
		     uint64_t bytes, int partial)
{
	struct tcp_vantage *tv = plot_vantage(ctx, f->key.vantage);
	if (!tv->tput_f)
		return;
	fprintf(tv->tput_f, "%s,%s,%lld,%lld,%llu,%.0f,%d\n", flow_name(f),
		which == VD_TPUT_RTT ? "rtt" : "long", (long long)start, (long long)len,
		(unsigned long long)bytes, (double)bytes * 8e9 / (double)len, partial);
}

void tcp_plot_seqpoint(void *ctx, const struct vd_tcpan_flow *f, vd_ns ts, char kind, uint32_t rel,
		       uint32_t len)
{
	struct tcp_vantage *tv = plot_vantage(ctx, f->key.vantage);
	if (!tv->seq_f)
		return;
	fprintf(tv->seq_f, "%s,%lld,%c,%u,%u\n", flow_name(f), (long long)ts, kind, rel, len);
}

void tcp_plot_close(struct tcp_ctx *c)
{
	for (uint32_t v = 0; v < c->nv; v++)
		c->v[v].tput_f = c->v[v].seq_f = NULL;
	while (c->nplot_files)
		vd_afile_discard(&c->plot_files[--c->nplot_files]);
	free(c->plot_files);
	c->plot_files = NULL;
	c->cap_plot_files = 0;
	if (c->an)
		for (size_t i = 0; i < vd_tcpan_flow_count(c->an); i++) {
			struct vd_tcpan_flow *f = vd_tcpan_flow(c->an, i);
			free(f->user);
			f->user = NULL;
		}
}

/* ---- per-flow results ---- */

enum {
	NOTE_MIDSTREAM = 1,
	NOTE_ONE_SIDED = 2,
	NOTE_NO_ACKS = 4,
	NOTE_NO_DATA = 8,
	NOTE_NO_RTT = 16
};

struct flow_row {
	struct vd_tcpan_flow *f;
	int dd, ae; /* data endpoint, ACK endpoint */
	const struct vd_tcpan_dir *data, *acks;
	const struct vd_tcpan_acks *ack_an;		   /* acks' ACK analysis (vd_tcpan_acks) */
	struct vd_ackhist_stats gaps;			   /* and its pure ACKs' gaps */
	const struct vd_ackcomp *xc;			   /* and its two-point compression */
	char sender[ENDPOINT_MAX], receiver[ENDPOINT_MAX]; /* "addr:port" */
	char label[200];				   /* "sender>receiver" */
	struct endpoint_lens len;			   /* of those three */
	unsigned notes;
	size_t modes[MAX_MODES], nmodes;
	vd_ns mode_shift;    /* primary mode here minus at the reference vantage point */
	double agg_rate;     /* data packets at the reference / here */
	double segs_per_pkt; /* wire segments per data packet here (tcpmon: gso_segs), or NaN */
	double tput_bps;
};

static void notes_text(unsigned notes, char *buf, size_t n)
{
	static const char *const names[] = {"mid-stream", "one-sided", "no-acks", "no-data",
					    "no-rtt"};
	buf[0] = 0;
	for (int i = 0; i < 5; i++)
		if (notes & (1u << i)) {
			if (*buf)
				strncat(buf, ";", n - strlen(buf) - 1);
			strncat(buf, names[i], n - strlen(buf) - 1);
		}
}

static vd_ns primary_mode(const struct vd_linhist *h)
{
	size_t m;
	if (vd_linhist_modes(h, MODE_MIN_SHARE, &m, 1) != 1)
		return VD_NS_NONE;
	return (vd_ns)m * h->bin_ns;
}

static void fill_row(struct tcp_ctx *c, struct vd_tcpan_flow *f, struct flow_row *r)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->dd = vd_tcpan_data_dir(f);
	r->ae = !r->dd;
	r->data = &f->d[r->dd];
	r->acks = &f->d[r->ae];
	r->ack_an = vd_tcpan_acks(c->an, r->acks);
	vd_tcpan_ackgaps(c->an, r->acks, &r->gaps);
	r->xc = vd_tcpan_ackcomp(c->an, r->acks);
	flow_endpoints(f, r->dd, r->sender, r->receiver, r->label, sizeof(r->label), &r->len);
	if (!f->first_was_syn)
		r->notes |= NOTE_MIDSTREAM;
	if (!f->d[0].seen || !f->d[1].seen)
		r->notes |= NOTE_ONE_SIDED;
	if (!r->acks->pure.acks)
		r->notes |= NOTE_NO_ACKS;
	if (!r->data->data_pkts)
		r->notes |= NOTE_NO_DATA;
	if (f->rtt_src == VD_RTT_NONE)
		r->notes |= NOTE_NO_RTT;
	r->nmodes = vd_linhist_modes(r->gaps.h, MODE_MIN_SHARE, r->modes, MAX_MODES);
	r->mode_shift = VD_NS_NONE;
	r->agg_rate = NAN;
	r->segs_per_pkt = NAN;
	/* Only tcpmon records say how many wire segments a GRO super-packet merged. */
	if (strcmp(c->v[f->key.vantage].format, VD_TCPAGG_FORMAT) == 0 && r->data->data_pkts)
		r->segs_per_pkt = (double)r->data->wire_segs / (double)r->data->data_pkts;
	const struct vd_tcpan_flow *g = f->ref; /* at the reference point */
	if (g) {
		int same = f->ref_same_dir;
		const struct vd_tcpan_dir *gacks = &g->d[same ? r->ae : !r->ae];
		const struct vd_tcpan_dir *gdata = &g->d[same ? r->dd : !r->dd];
		struct vd_ackhist_stats gst;
		vd_tcpan_ackgaps(c->an, gacks, &gst);
		vd_ns here = primary_mode(r->gaps.h), there = primary_mode(gst.h);
		if (vd_ns_valid(here) && vd_ns_valid(there))
			r->mode_shift = vd_ns_sub_sat(here, there);
		if (r->data->data_pkts)
			r->agg_rate = (double)gdata->data_pkts / (double)r->data->data_pkts;
	}
	vd_ns span = vd_ns_sub_sat(r->acks->last_adv_ts, r->acks->first_ack_ts);
	r->tput_bps = r->acks->acked_bytes && span > 0
			  ? (double)r->acks->acked_bytes * 8e9 / (double)span
			  : NAN;
}

static void row_out(struct tcp_ctx *c, struct vd_out *o, const struct flow_row *r)
{
	const struct vd_tcpan_dir *a = r->acks;
	const struct vd_ackhist_stats *ah = &r->gaps;
	const struct vd_tput *tp = r->ack_an->tp;
	char notes[96];
	notes_text(r->notes, notes, sizeof(notes));
	vd_out_row_begin(o);
	vd_out_str(o, "vantage", c->v[r->f->key.vantage].name);
	vd_out_str(o, "flow", r->label);
	vd_out_int(o, "data_pkts", (int64_t)r->data->data_pkts);
	vd_out_int(o, "data_bytes", (int64_t)r->data->payload_bytes);
	vd_out_int(o, "retrans", (int64_t)r->data->retrans);
	vd_out_int(o, "pure_acks", (int64_t)a->pure.acks);
	vd_out_int(o, "dup_acks", (int64_t)ah->dups);
	vd_out_ns(o, "ref_ns", c->ref_ns);
	vd_out_dbl(o, "below_ref", vd_ackhist_fraction_below(ah), 4);
	vd_out_int(o, "compress_events", (int64_t)ah->events);
	if (r->xc->pairs)
		vd_out_int(o, "compress_2pt_events", (int64_t)r->xc->events);
	else
		vd_out_str(o, "compress_2pt_events", NULL);
	vd_out_ns(o, "mode_ns", r->nmodes ? (vd_ns)r->modes[0] * c->bin_ns : VD_NS_NONE);
	vd_out_ns(o, "mode_shift_ns", r->mode_shift);
	vd_out_ns(o, "rtt_ns", r->f->rtt);
	vd_out_int(o, "acked_bytes", (int64_t)a->acked_bytes);
	vd_out_dbl(o, "tput_bps", r->tput_bps, 0);
	vd_out_dbl(o, "tput_rtt_sd_bps", vd_tput_sd_bps(&tp[VD_TPUT_RTT]), 0);
	vd_out_dbl(o, "tput_long_sd_bps", vd_tput_sd_bps(&tp[VD_TPUT_LONG]), 0);
	vd_out_dbl(o, "agg_rate", r->agg_rate, 3);
	vd_out_dbl(o, "segs_per_pkt", r->segs_per_pkt, 3);
	vd_out_str(o, "notes", notes);
	vd_out_row_end(o);
}

static void json_tput(struct vd_json *j, struct vd_json_lit key, const struct vd_tput *t,
		      vd_ns interval)
{
	vd_json_key_lit(j, key);
	vd_json_begin_object(j, VD_JSON_COMPACT);
	vd_json_kvl_ns(j, VD_JSON_LIT("interval_ns"), interval);
	vd_json_kvl_uint(j, VD_JSON_LIT("intervals"), t->intervals);
	vd_json_kvl_uint(j, VD_JSON_LIT("bytes"), t->total);
	vd_json_kvl_dbl(j, VD_JSON_LIT("mean_bps"), vd_tput_mean_bps(t), 0);
	vd_json_kvl_dbl(j, VD_JSON_LIT("sd_bps"), vd_tput_sd_bps(t), 0);
	vd_json_kvl_dbl(j, VD_JSON_LIT("min_bps"), t->intervals ? t->min_bps : NAN, 0);
	vd_json_kvl_dbl(j, VD_JSON_LIT("max_bps"), t->intervals ? t->max_bps : NAN, 0);
	vd_json_end_object(j);
}

/* The definition of an ACK compression event, the same in every row. */
static void compression_definition(const struct tcp_ctx *c, char *def, size_t n)
{
	snprintf(def, n, "run of >= %u gaps below ref_ns", c->min_run);
}

static void json_ack_interarrival(struct tcp_ctx *c, struct vd_json *j, const struct flow_row *r,
				  const char *def)
{
	const struct vd_ackhist_stats *ah = &r->gaps;
	vd_json_key_lit(j, VD_JSON_LIT("ack_interarrival"));
	vd_json_begin_object(j, VD_JSON_COMPACT);
	vd_json_kvl_int(j, VD_JSON_LIT("bin_ns"), c->bin_ns);
	vd_json_kvl_int(j, VD_JSON_LIT("ref_ns"), c->ref_ns);
	vd_json_kvl_uint(j, VD_JSON_LIT("acks"), r->acks->pure.acks);
	vd_json_kvl_uint(j, VD_JSON_LIT("gaps"), ah->gaps);
	vd_json_kvl_uint(j, VD_JSON_LIT("dups"), ah->dups);
	vd_json_kvl_uint(j, VD_JSON_LIT("below_ref"), ah->below_ref);
	vd_json_kvl_dbl(j, VD_JSON_LIT("fraction_below_ref"), vd_ackhist_fraction_below(ah), 6);
	vd_json_key_lit(j, VD_JSON_LIT("compression"));
	vd_json_begin_object(j, VD_JSON_COMPACT);
	vd_json_kvl_plain(j, VD_JSON_LIT("definition"), def, strlen(def));
	vd_json_kvl_uint(j, VD_JSON_LIT("min_run"), c->min_run);
	vd_json_kvl_uint(j, VD_JSON_LIT("events"), ah->events);
	vd_json_kvl_uint(j, VD_JSON_LIT("acks_in_events"), ah->event_acks);
	const struct vd_ackcomp *xc = r->xc;
	vd_json_key_lit(j, VD_JSON_LIT("two_point"));
	if (xc->pairs) {
		vd_json_begin_object(j, VD_JSON_COMPACT);
		vd_json_kvl_str(j, VD_JSON_LIT("upstream"), c->v[xc->other].name);
		vd_json_kvl_dbl(j, VD_JSON_LIT("factor"), c->xc_factor, -1);
		vd_json_kvl_uint(j, VD_JSON_LIT("min_run"), c->min_run);
		vd_json_kvl_uint(j, VD_JSON_LIT("pairs"), xc->pairs);
		vd_json_kvl_uint(j, VD_JSON_LIT("compressed"), xc->compressed);
		vd_json_kvl_dbl(j, VD_JSON_LIT("fraction"),
				(double)xc->compressed / (double)xc->pairs, 6);
		vd_json_kvl_uint(j, VD_JSON_LIT("events"), xc->events);
		vd_json_end_object(j);
	} else {
		vd_json_null(j);
	}
	vd_json_end_object(j);
	vd_json_kvl_int(j, VD_JSON_LIT("overflow_from_ns"), (vd_ns)ah->h->max_bins * ah->h->bin_ns);
	vd_json_kvl_uint(j, VD_JSON_LIT("overflow"), ah->overflow);
	vd_json_kvl_uint(j, VD_JSON_LIT("negative"), ah->negative);
	vd_json_key_lit(j, VD_JSON_LIT("modes"));
	vd_json_begin_array(j, VD_JSON_COMPACT);
	for (size_t i = 0; i < r->nmodes; i++) {
		vd_json_begin_object(j, VD_JSON_COMPACT);
		vd_json_kvl_int(j, VD_JSON_LIT("lo_ns"), (vd_ns)r->modes[i] * c->bin_ns);
		vd_json_kvl_uint(j, VD_JSON_LIT("count"), vd_linhist_bin(ah->h, r->modes[i]));
		vd_json_end_object(j);
	}
	vd_json_end_array(j);
	vd_json_key_lit(j, VD_JSON_LIT("bins"));
	vd_json_begin_array(j, VD_JSON_COMPACT);
	for (size_t i = vd_linhist_first(ah->h); i < vd_linhist_end(ah->h); i++) {
		if (!vd_linhist_bin(ah->h, i))
			continue;
		vd_json_begin_object(j, VD_JSON_COMPACT);
		vd_json_kvl_int(j, VD_JSON_LIT("lo_ns"), (vd_ns)i * c->bin_ns);
		vd_json_kvl_uint(j, VD_JSON_LIT("count"), vd_linhist_bin(ah->h, i));
		vd_json_kvl_uint(j, VD_JSON_LIT("dups"), vd_linhist_bin_marked(ah->h, i));
		vd_json_end_object(j);
	}
	vd_json_end_array(j);
	vd_json_end_object(j);
}

/* def: compression_definition's text, made once for all rows */
static void row_json(struct tcp_ctx *c, FILE *f, const struct flow_row *r, const char *def)
{
	const struct vd_tcpan_dir *a = r->acks;
	struct vd_json jw, *j = &jw;
	vd_json_init(j, f);
	vd_json_begin_object(j, VD_JSON_COMPACT);
	vd_json_kvl_plain(j, VD_JSON_LIT("type"), "flow", 4);
	vd_json_kvl_str(j, VD_JSON_LIT("vantage"), c->v[r->f->key.vantage].name);
	/* addresses, ports and the words below are plain: their known lengths, no escape scan */
	vd_json_kvl_plain(j, VD_JSON_LIT("flow"), r->label, r->len.label);
	vd_json_kvl_plain(j, VD_JSON_LIT("data_sender"), r->sender, r->len.sender);
	vd_json_kvl_plain(j, VD_JSON_LIT("data_receiver"), r->receiver, r->len.receiver);
	vd_json_key_lit(j, VD_JSON_LIT("notes"));
	vd_json_begin_array(j, VD_JSON_COMPACT);
	static const char *const names[] = {"mid-stream", "one-sided", "no-acks", "no-data",
					    "no-rtt"};
	for (int i = 0; i < 5; i++)
		if (r->notes & (1u << i))
			vd_json_str(j, names[i]);
	vd_json_end_array(j);
	vd_json_kvl_int(j, VD_JSON_LIT("first_ns"), r->f->first_ts);
	vd_json_kvl_int(j, VD_JSON_LIT("last_ns"), r->f->last_ts);
	vd_json_kvl_uint(j, VD_JSON_LIT("data_pkts"), r->data->data_pkts);
	vd_json_kvl_uint(j, VD_JSON_LIT("data_bytes"), r->data->payload_bytes);
	vd_json_kvl_uint(j, VD_JSON_LIT("retrans"), r->data->retrans);
	vd_json_kvl_uint(j, VD_JSON_LIT("acked_bytes"), a->acked_bytes);
	vd_json_kvl_ns(j, VD_JSON_LIT("rtt_ns"), r->f->rtt);
	const char *src = rtt_src_names[r->f->rtt_src];
	vd_json_kvl_plain(j, VD_JSON_LIT("rtt_source"), src, strlen(src));
	vd_json_kvl_dbl(j, VD_JSON_LIT("throughput_bps"), r->tput_bps, 0);
	vd_json_kvl_dbl(j, VD_JSON_LIT("agg_rate"), r->agg_rate, 4);
	vd_json_key_lit(j, VD_JSON_LIT("delivered"));
	if (isnan(r->segs_per_pkt)) {
		vd_json_null(j);
	} else {
		vd_json_begin_object(j, VD_JSON_COMPACT);
		vd_json_kvl_str(j, VD_JSON_LIT("layer"), "trans-rx");
		vd_json_kvl_uint(j, VD_JSON_LIT("pkts"), r->data->data_pkts);
		vd_json_kvl_uint(j, VD_JSON_LIT("wire_segs"), r->data->wire_segs);
		vd_json_kvl_dbl(j, VD_JSON_LIT("segs_per_pkt"), r->segs_per_pkt, 4);
		vd_json_kvl_uint(j, VD_JSON_LIT("max_segs"), r->data->max_segs);
		vd_json_end_object(j);
	}
	vd_json_kvl_ns(j, VD_JSON_LIT("mode_shift_ns"), r->mode_shift);
	json_ack_interarrival(c, j, r, def);
	vd_json_key_lit(j, VD_JSON_LIT("throughput"));
	vd_json_begin_object(j, VD_JSON_COMPACT);
	json_tput(j, VD_JSON_LIT("rtt"), &r->ack_an->tp[VD_TPUT_RTT], r->f->rtt);
	json_tput(j, VD_JSON_LIT("long"), &r->ack_an->tp[VD_TPUT_LONG], c->interval);
	vd_json_end_object(j);
	vd_json_end_object(j);
	vd_json_newline(j);
}

/* ---- CDFs ---- */

static const double cdf_points[] = {0, 10, 25, 50, 75, 90, 99, 100};
#define NPOINTS (sizeof(cdf_points) / sizeof(cdf_points[0]))
static const char *const cdf_keys[NPOINTS] = {"min", "p10", "p25", "p50",
					      "p75", "p90", "p99", "max"};

static vd_ns hist_point(const struct vd_linhist *h, double p)
{
	if (p <= 0)
		return h->min;
	if (p >= 100)
		return h->max;
	return vd_linhist_quantile(h, p / 100.0);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double dbl_point(const double *s, size_t n, double p)
{
	double rank = p / 100.0 * (double)(n - 1);
	size_t lo = (size_t)rank;
	if (lo + 1 >= n)
		return s[n - 1];
	return s[lo] + (rank - (double)lo) * (s[lo + 1] - s[lo]);
}

struct sink {
	struct tcp_ctx *c;
	FILE *out;
	struct vd_store *st;
	int64_t run;
	int failed;
	struct vd_err *err;
};

static void store_result(struct sink *s, const char *vantage, const char *metric,
			 const char *direction, const char *stat, double value)
{
	if (!s->st || s->failed || isnan(value))
		return;
	if (vd_store_add_result(s->st, s->run, vantage, metric, NULL, direction, stat, value,
				s->err))
		s->failed = 1;
}

static void delay_reports(struct sink *s)
{
	struct tcp_ctx *c = s->c;
	struct vd_out *o = NULL;
	if (c->mode == VD_OUT_TEXT) {
		int any = 0;
		for (uint32_t k = 1; k < c->nv; k++)
			any |= c->delay[k][0].total || c->delay[k][1].total;
		if (!any)
			return;
		fputs("\nper-packet delay between vantage points (us)\n", s->out);
		o = vd_out_create(s->out, VD_OUT_TEXT);
	}
	for (uint32_t k = 1; k < c->nv; k++)
		for (int j = 0; j < 2; j++) {
			const struct vd_linhist *h = &c->delay[k][j];
			if (!h->total)
				continue;
			char from_to[300];
			snprintf(from_to, sizeof(from_to), "%s>%s", j ? c->v[k].name : c->v[0].name,
				 j ? c->v[0].name : c->v[k].name);
			vd_ns pts[NPOINTS];
			for (size_t i = 0; i < NPOINTS; i++)
				pts[i] = hist_point(h, cdf_points[i]);
			if (o) {
				vd_out_row_begin(o);
				vd_out_str(o, "path", from_to);
				vd_out_int(o, "packets", (int64_t)h->total);
				for (size_t i = 0; i < NPOINTS; i++) {
					char key[16];
					snprintf(key, sizeof(key), "%s_ns", cdf_keys[i]);
					vd_out_ns(o, key, pts[i]);
				}
				vd_out_row_end(o);
			} else if (c->mode == VD_OUT_JSON) {
				struct vd_json jw;
				vd_json_init(&jw, s->out);
				vd_json_begin_object(&jw, VD_JSON_COMPACT);
				vd_json_kv_str(&jw, "type", "delay_cdf");
				vd_json_kv_str(&jw, "path", from_to);
				vd_json_kv_uint(&jw, "packets", h->total);
				vd_json_kv_int(&jw, "resolution_ns", h->bin_ns);
				for (size_t i = 0; i < NPOINTS; i++) {
					char key[16];
					snprintf(key, sizeof(key), "%s_ns", cdf_keys[i]);
					vd_json_kv_int(&jw, key, pts[i]);
				}
				vd_json_end_object(&jw);
				vd_json_newline(&jw);
			}
			for (size_t i = 0; i < NPOINTS; i++) {
				char stat[16];
				snprintf(stat, sizeof(stat), "%s_ns", cdf_keys[i]);
				store_result(s, from_to, "pkt_delay", "", stat, (double)pts[i]);
			}
			if (c->plot_dir && !c->plot_failed) {
				FILE *f = plot_file(c, "delay_cdf", from_to,
						    "delay_ns,cum_fraction\n", s->err);
				if (!f) {
					s->failed = 1;
					continue;
				}
				uint64_t cum = h->underflow;
				if (h->underflow)
					fprintf(f, "%lld,%.6f\n", (long long)h->min,
						(double)cum / (double)h->total);
				for (size_t i = vd_linhist_first(h); i < vd_linhist_end(h); i++) {
					if (!vd_linhist_bin(h, i))
						continue;
					cum += vd_linhist_bin(h, i);
					fprintf(f, "%lld,%.6f\n", (long long)(i + 1) * h->bin_ns,
						(double)cum / (double)h->total);
				}
				if (h->overflow)
					fprintf(f, "%lld,1.000000\n", (long long)h->max);
				if (plot_done(c, f, s->err))
					s->failed = 1;
			}
		}
	if (o)
		vd_out_destroy(o);
}

static void transfer_report(struct sink *s)
{
	struct tcp_ctx *c = s->c;
	if (!c->transfers_path)
		return;
	size_t n = 0, failed = 0;
	double *v = malloc((c->nxfers ? c->nxfers : 1) * sizeof(*v));
	if (!v) {
		s->failed = 1;
		vd_err_set(s->err, "out of memory");
		return;
	}
	for (size_t i = 0; i < c->nxfers; i++) {
		if (c->xfers[i].status == VD_XFER_OK && !isnan(c->xfers[i].throughput_bps))
			v[n++] = c->xfers[i].throughput_bps;
		else
			failed++;
	}
	qsort(v, n, sizeof(*v), cmp_dbl);
	double pts[NPOINTS];
	for (size_t i = 0; i < NPOINTS; i++)
		pts[i] = n ? dbl_point(v, n, cdf_points[i]) : NAN;
	if (c->mode == VD_OUT_TEXT) {
		fputs("\nper-transfer throughput (bit/s)\n", s->out);
		struct vd_out *o = vd_out_create(s->out, VD_OUT_TEXT);
		vd_out_row_begin(o);
		vd_out_int(o, "transfers", (int64_t)n);
		vd_out_int(o, "failed", (int64_t)failed);
		for (size_t i = 0; i < NPOINTS; i++)
			vd_out_dbl(o, cdf_keys[i], pts[i], 0);
		vd_out_row_end(o);
		vd_out_destroy(o);
	} else if (c->mode == VD_OUT_JSON) {
		struct vd_json j;
		vd_json_init(&j, s->out);
		vd_json_begin_object(&j, VD_JSON_COMPACT);
		vd_json_kv_str(&j, "type", "transfer_cdf");
		vd_json_kv_uint(&j, "transfers", n);
		vd_json_kv_uint(&j, "failed", failed);
		for (size_t i = 0; i < NPOINTS; i++) {
			char key[16];
			snprintf(key, sizeof(key), "%s_bps", cdf_keys[i]);
			vd_json_kv_dbl(&j, key, pts[i], 0);
		}
		vd_json_end_object(&j);
		vd_json_newline(&j);
	}
	for (size_t i = 0; i < NPOINTS; i++) {
		char stat[16];
		snprintf(stat, sizeof(stat), "%s_bps", cdf_keys[i]);
		store_result(s, "", "transfer_throughput", "", stat, pts[i]);
	}
	if (c->plot_dir && !c->plot_failed) {
		FILE *f = plot_file(c, "transfer_cdf", "", "throughput_bps,cum_fraction\n", s->err);
		if (f) {
			for (size_t i = 0; i < n; i++)
				fprintf(f, "%.0f,%.6f\n", v[i], (double)(i + 1) / (double)n);
			if (plot_done(c, f, s->err))
				s->failed = 1;
		} else {
			s->failed = 1;
		}
	}
	free(v);
}

static void vantage_report(struct sink *s)
{
	struct tcp_ctx *c = s->c;
	struct vd_out *o = NULL;
	if (c->mode == VD_OUT_TEXT) {
		fputs("\nvantage points\n", s->out);
		o = vd_out_create(s->out, VD_OUT_TEXT);
	}
	for (uint32_t v = 0; v < c->nv; v++) {
		const struct tcp_vantage *tv = &c->v[v];
		struct vd_encap_summary chains = tv->encap;
		char tunnels[400];
		chains.bad_ip_len = 0; /* its own column */
		vd_encap_summary_format(&chains, tunnels, sizeof(tunnels));
		if (o) {
			vd_out_row_begin(o);
			vd_out_str(o, "vantage", tv->name);
			vd_out_str(o, "file", tv->path);
			vd_out_str(o, "format", tv->format);
			vd_out_int(o, "packets", (int64_t)tv->pkts);
			vd_out_int(o, "tcp", (int64_t)tv->tcp_pkts);
			vd_out_int(o, "other", (int64_t)tv->not_tcp);
			vd_out_int(o, "not_ip", (int64_t)tv->undecodable);
			vd_out_int(o, "bad_ip_len", (int64_t)tv->encap.bad_ip_len);
			vd_out_str(o, "tunnels", tunnels);
			vd_out_row_end(o);
		} else if (c->mode == VD_OUT_JSON) {
			struct vd_json j;
			vd_json_init(&j, s->out);
			vd_json_begin_object(&j, VD_JSON_COMPACT);
			vd_json_kv_str(&j, "type", "vantage");
			vd_json_kv_str(&j, "vantage", tv->name);
			vd_json_kv_str(&j, "file", tv->path);
			vd_json_kv_str(&j, "format", tv->format);
			vd_json_kv_uint(&j, "packets", tv->pkts);
			vd_json_kv_uint(&j, "tcp", tv->tcp_pkts);
			vd_json_kv_uint(&j, "other", tv->not_tcp);
			vd_json_kv_uint(&j, "not_ip", tv->undecodable);
			vd_json_kv_uint(&j, "bad_ip_len", tv->encap.bad_ip_len);
			vd_json_kv_str(&j, "tunnels", tunnels);
			vd_json_end_object(&j);
			vd_json_newline(&j);
		}
		if (s->st && !s->failed) {
			static const char *const cols[] = {"run_id", "name", "path", "format",
							   "packets"};
			char id[24], packets[24];
			snprintf(id, sizeof(id), "%lld", (long long)s->run);
			snprintf(packets, sizeof(packets), "%llu", (unsigned long long)tv->pkts);
			const char *vals[] = {id, tv->name, tv->path, tv->format, packets};
			if (vd_store_add_row(s->st, "vantage_points", 5, cols, vals, s->err))
				s->failed = 1;
		}
	}
	if (o)
		vd_out_destroy(o);
}

static void flow_results(struct sink *s, const struct flow_row *r)
{
	const char *vn = s->c->v[r->f->key.vantage].name;
	const struct vd_tcpan_dir *a = r->acks;
	const struct vd_ackhist_stats *ah = &r->gaps;
	const struct vd_tput *tp = r->ack_an->tp;
	store_result(s, vn, "ack_interarrival", r->label, "fraction_below_ref",
		     vd_ackhist_fraction_below(ah));
	store_result(s, vn, "ack_interarrival", r->label, "gaps", (double)ah->gaps);
	store_result(s, vn, "ack_interarrival", r->label, "dups", (double)ah->dups);
	store_result(s, vn, "ack_interarrival", r->label, "ref_ns", (double)s->c->ref_ns);
	store_result(s, vn, "ack_compression", r->label, "events", (double)ah->events);
	if (r->xc->pairs) {
		store_result(s, vn, "ack_compression_2pt", r->label, "events",
			     (double)r->xc->events);
		store_result(s, vn, "ack_compression_2pt", r->label, "fraction",
			     (double)r->xc->compressed / (double)r->xc->pairs);
	}
	if (r->nmodes)
		store_result(s, vn, "ack_interarrival", r->label, "mode_ns",
			     (double)((vd_ns)r->modes[0] * s->c->bin_ns));
	if (vd_ns_valid(r->mode_shift))
		store_result(s, vn, "ack_interarrival", r->label, "mode_shift_ns",
			     (double)r->mode_shift);
	if (vd_ns_valid(r->f->rtt))
		store_result(s, vn, "rtt", r->label, "ns", (double)r->f->rtt);
	store_result(s, vn, "throughput", r->label, "acked_bytes", (double)a->acked_bytes);
	store_result(s, vn, "throughput", r->label, "mean_bps", r->tput_bps);
	store_result(s, vn, "throughput_rtt", r->label, "mean_bps",
		     vd_tput_mean_bps(&tp[VD_TPUT_RTT]));
	store_result(s, vn, "throughput_rtt", r->label, "sd_bps", vd_tput_sd_bps(&tp[VD_TPUT_RTT]));
	store_result(s, vn, "throughput_long", r->label, "mean_bps",
		     vd_tput_mean_bps(&tp[VD_TPUT_LONG]));
	store_result(s, vn, "throughput_long", r->label, "sd_bps",
		     vd_tput_sd_bps(&tp[VD_TPUT_LONG]));
	store_result(s, vn, "aggregation", r->label, "rate", r->agg_rate);
	store_result(s, vn, "aggregation", r->label, "segs_per_pkt", r->segs_per_pkt);
	if (!isnan(r->segs_per_pkt))
		store_result(s, vn, "aggregation", r->label, "wire_segs",
			     (double)r->data->wire_segs);
}

static void ackhist_plot(struct sink *s, FILE **files, const struct flow_row *r)
{
	struct tcp_ctx *c = s->c;
	uint32_t v = r->f->key.vantage;
	if (!c->plot_dir || c->plot_failed || s->failed)
		return;
	if (!files[v]) {
		files[v] = plot_file(c, "ackhist", c->v[v].name, "flow,lo_ns,count,dups,fraction\n",
				     s->err);
		if (!files[v]) {
			s->failed = 1;
			return;
		}
	}
	const struct vd_linhist *h = r->gaps.h;
	for (size_t i = vd_linhist_first(h); i < vd_linhist_end(h); i++)
		if (vd_linhist_bin(h, i))
			fprintf(files[v], "%s,%lld,%llu,%llu,%.6f\n", r->label,
				(long long)i * h->bin_ns, (unsigned long long)vd_linhist_bin(h, i),
				(unsigned long long)vd_linhist_bin_marked(h, i),
				(double)vd_linhist_bin(h, i) / (double)r->gaps.gaps);
}

static void gnuplot_script(struct sink *s)
{
	struct tcp_ctx *c = s->c;
	FILE *f = plot_path_open(c, "tcp.gp", "", s->err);
	if (!f) {
		s->failed = 1;
		return;
	}
	fprintf(f,
		"# gnuplot script for the data files of `vmdelay-analyze tcp --plot`:\n"
		"#   cd %s && gnuplot tcp.gp   (writes PNGs)\n"
		"set datafile separator ','\nset key autotitle columnhead\n"
		"set terminal pngcairo size 900,500\n",
		c->plot_dir);
	for (uint32_t v = 0; v < c->nv; v++) {
		char safe[160];
		vd_plot_file_safe(c->v[v].name, safe, sizeof(safe));
		fprintf(
		    f,
		    "set output 'ackhist_%s.png'; set xlabel 'ACK inter-arrival (us)';"
		    " set ylabel 'fraction'; set arrow 1 from %g,graph 0 to %g,graph 1 nohead;\n"
		    "plot 'ackhist_%s.csv' using ($2/1000):5 with impulses title 'ACK gaps at %s'\n"
		    "unset arrow 1\n",
		    safe, (double)c->ref_ns / 1000, (double)c->ref_ns / 1000, safe, safe);
		fprintf(
		    f,
		    "set output 'tput_%s.png'; set xlabel 'time (s)'; set ylabel 'Mbit/s'\n"
		    "plot 'tput_%s.csv' using ($3/1e9):(strcol(2) eq 'rtt' ? $6/1e6 : 1/0) with "
		    "steps title 'RTT timescale', '' using ($3/1e9):(strcol(2) eq 'long' ? $6/1e6 "
		    ": 1/0) with steps title 'long timescale'\n",
		    safe, safe);
		fprintf(
		    f,
		    "set output 'seq_%s.png'; set xlabel 'time (s)'; set ylabel 'relative seq'\n"
		    "plot 'seq_%s.csv' using ($2/1e9):(strcol(3) eq 'D' ? $4 : 1/0) with dots "
		    "title "
		    "'data', '' using ($2/1e9):(strcol(3) eq 'A' ? $4 : 1/0) with dots title "
		    "'ack'\n",
		    safe, safe);
	}
	if (plot_done(c, f, s->err))
		s->failed = 1;
}

int tcp_report(struct tcp_ctx *c, FILE *out, struct vd_err *err)
{
	struct sink s = {.c = c, .out = out, .err = err};
	if (c->db_path) {
		struct vd_run_info info = {.tool = "vmdelay-analyze",
					   .testbed = c->testbed,
					   .label = c->label,
					   .scenario = c->scenario ? c->scenario : "tcp",
					   .meta = &c->meta,
					   .command_line = c->command_line,
					   .start_ns = vd_now(CLOCK_REALTIME)};
		if (vd_store_open(c->db_path, &s.st, err) ||
		    vd_store_begin_run(s.st, &info, &s.run, err)) {
			vd_store_close(s.st);
			return -1;
		}
	}
	struct vd_out *o = NULL;
	if (c->mode != VD_OUT_JSON) {
		if (c->mode == VD_OUT_TEXT && vd_tcpan_flow_count(c->an))
			fprintf(
			    out,
			    "TCP flows (ACK gaps: bin %lld ns, reference %lld ns = one %llu-byte"
			    " frame at %.0f bit/s)\n",
			    (long long)c->bin_ns, (long long)c->ref_ns,
			    (unsigned long long)c->frame_bytes, c->bottleneck_bps);
		o = vd_out_create(out, c->mode);
	}
	FILE *hist_files[TCP_MAX_VANTAGE] = {0};
	uint64_t noted[5] = {0};
	const struct vd_tcpan_flow *example[5] = {0};
	char def[64];
	compression_definition(c, def, sizeof(def));
	/* Rows grouped by flow, the reference vantage point first. */
	size_t n = vd_tcpan_flow_count(c->an);
	for (uint32_t v = 0; v < c->nv; v++)
		for (size_t i = 0; i < n; i++) {
			struct vd_tcpan_flow *f = vd_tcpan_flow(c->an, i);
			if (f->key.vantage != v)
				continue;
			struct flow_row r;
			fill_row(c, f, &r);
			if (o)
				row_out(c, o, &r);
			else
				row_json(c, out, &r, def);
			if (s.st)
				flow_results(&s, &r);
			ackhist_plot(&s, hist_files, &r);
			for (int k = 0; k < 5; k++)
				if (r.notes & (1u << k)) {
					noted[k]++;
					example[k] = f; /* the last one noted */
				}
		}
	for (uint32_t v = 0; v < TCP_MAX_VANTAGE; v++)
		if (hist_files[v] && plot_done(c, hist_files[v], err))
			s.failed = 1;
	int werr = 0;
	if (o)
		werr = vd_out_destroy(o);
	static const char *const why[5] = {
	    "no SYN seen (the capture started mid-stream): RTT from the first data/ACK sample,"
	    " acknowledged bytes counted from the first ACK seen",
	    "one-sided: packets in one direction only (throughput and RTT need both)",
	    "no pure ACKs: no ACK inter-arrival histogram",
	    "no data segments",
	    "no RTT (no handshake and no data/ACK sample): no RTT-timescale series",
	};
	for (int k = 0; k < 5; k++) {
		if (!noted[k])
			continue;
		char label[200];
		tcp_flow_label(example[k], label, sizeof(label)); /* the row's "flow" */
		const char *at = c->v[example[k]->key.vantage].name;
		if (noted[k] == 1)
			fprintf(stderr, "vmdelay-analyze tcp: note: %s at %s: %s\n", label, at,
				why[k]);
		else
			fprintf(stderr,
				"vmdelay-analyze tcp: note: %llu flows (e.g. %s at %s): %s\n",
				(unsigned long long)noted[k], label, at, why[k]);
	}
	/* CSV holds one table, the flows: the other reports go to --plot files and --db only. */
	vantage_report(&s);
	delay_reports(&s);
	transfer_report(&s);
	if (s.st) {
		if (!s.failed && vd_store_end_run(s.st, s.run, vd_now(CLOCK_REALTIME), err))
			s.failed = 1;
		if (s.failed) {
			vd_store_abort_run(s.st);
			vd_err_prefix(err, "--db %s", c->db_path);
		}
		vd_store_close(s.st);
	}
	if (!s.failed && c->plot_dir && !c->plot_failed) {
		gnuplot_script(&s);
		/* The streaming files under their names first: the charts read them back. */
		if (s.failed || tcp_plot_commit(c, err) || tcp_svg_plots(c, err))
			s.failed = 1;
	}
	/* A write error on stdout is reported, naming it, by vd_cli_exit when main returns. */
	if (werr && !ferror(out)) {
		vd_err_set(err, "out of memory while writing the flow table");
		return -1;
	}
	return s.failed || c->plot_failed ? -1 : 0;
}
