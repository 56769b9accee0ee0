/* tcp_svg.c — the SVG charts of `vmdelay-analyze tcp --plot` (drawn with lib/out/plot_svg.c like
 * the delay analysis' plots): for the flow with the most pure ACKs at the reference vantage
 * point, its ACK inter-arrival distribution at every vantage point with the reference line
 * (Rajasekaran et al., Figures 5-10), its throughput at both timescales (Figure 2) and its
 * sequence/time graph (Kangarlou et al.) at each vantage point; the per-packet delay and
 * per-transfer throughput CDFs. Series and seq/time data are read back from the CSV files the
 * streaming pass wrote, thinned to at most MAX_POINTS points per series. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_report.h"
#include "vmdelay/core/mem.h"
#include "vmdelay/out/plot_svg.h"

#define MAX_POINTS 20000

struct pts {
	double *x, *y;
	size_t n, cap;
};

static int pts_add(struct pts *p, double x, double y)
{
	size_t xcap = p->cap; /* y follows x's capacity */
	if (vd_mem_reserve((void **)&p->x, &xcap, p->n + 1, sizeof(*p->x)) ||
	    vd_mem_reserve((void **)&p->y, &p->cap, p->n + 1, sizeof(*p->y)))
		return -1;
	p->x[p->n] = x;
	p->y[p->n] = y;
	p->n++;
	return 0;
}

static void pts_free(struct pts *p)
{
	free(p->x);
	free(p->y);
	memset(p, 0, sizeof(*p));
}

/* The flow with the most pure ACKs at the reference vantage point (or anywhere). */
static struct vd_tcpan_flow *busiest(struct tcp_ctx *c)
{
	struct vd_tcpan_flow *best = NULL;
	uint64_t most = 0;
	for (int pass = 0; pass < 2 && !best; pass++)
		for (size_t i = 0; i < vd_tcpan_flow_count(c->an); i++) {
			struct vd_tcpan_flow *f = vd_tcpan_flow(c->an, i);
			if (pass == 0 && f->key.vantage != 0)
				continue;
			uint64_t acks = f->d[!vd_tcpan_data_dir(f)].pure.acks;
			if (acks > most) {
				most = acks;
				best = f;
			}
		}
	return best;
}

static int write_chart(struct tcp_ctx *c, const char *file, const struct vd_svg_chart *ch,
		       const struct vd_svg_series *s, size_t ns, struct vd_err *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", c->plot_dir, file);
	return vd_svg_write(path, ch, s, ns, err);
}

static int ackhist_chart(struct tcp_ctx *c, const struct vd_tcpan_flow *ref, const char *label,
			 struct vd_err *err)
{
	struct pts p[TCP_MAX_VANTAGE + 1];
	struct vd_svg_series s[TCP_MAX_VANTAGE + 1];
	memset(p, 0, sizeof(p));
	size_t ns = 0;
	double ymax = 0;
	int rc = 0;
	for (uint32_t v = 0; v < c->nv && rc == 0; v++) {
		int same;
		struct vd_tcpan_flow *f = vd_tcpan_find(c->an, v, &ref->key, &same);
		if (!f)
			continue;
		struct vd_ackhist_stats ah;
		vd_tcpan_ackgaps(c->an, &f->d[!vd_tcpan_data_dir(f)], &ah);
		if (!ah.gaps)
			continue;
		/* up to the last non-empty bin, at most 20 times the reference line: the shape
		 * near the reference is what the chart is for; the tail is in the CSV */
		size_t end = vd_linhist_end(ah.h);
		while (end && !vd_linhist_bin(ah.h, end - 1))
			end--;
		size_t cap = (size_t)(20 * c->ref_ns / ah.h->bin_ns) + 1;
		if (end > cap)
			end = cap;
		for (size_t i = 0; i < end && rc == 0; i++) {
			double y = (double)vd_linhist_bin(ah.h, i) / (double)ah.gaps;
			if (y > ymax)
				ymax = y;
			/* bin centre, µs */
			rc = pts_add(&p[ns], ((double)i + 0.5) * (double)ah.h->bin_ns / 1e3, y);
		}
		s[ns] = (struct vd_svg_series){c->v[v].name, p[ns].x, p[ns].y, p[ns].n};
		ns++;
	}
	if (rc == 0 && ns) {
		double rx = (double)c->ref_ns / 1e3;
		rc = pts_add(&p[ns], rx, 0) || pts_add(&p[ns], rx, ymax);
		s[ns] = (struct vd_svg_series){"one full segment at the bottleneck", p[ns].x,
					       p[ns].y, p[ns].n};
		ns++;
		char title[300];
		snprintf(title, sizeof(title), "ACK inter-arrival, %s", label);
		struct vd_svg_chart ch = {title, "gap between pure ACKs (us)", "fraction of gaps",
					  0};
		if (rc == 0)
			rc = write_chart(c, "ackhist.svg", &ch, s, ns, err);
	} else if (rc) {
		vd_err_set(err, "out of memory drawing ackhist.svg");
	}
	for (size_t i = 0; i <= TCP_MAX_VANTAGE; i++)
		pts_free(&p[i]);
	return rc ? -1 : 0;
}

/* Reads rows of flow `label` from a --plot CSV (after its header): fn gets the cells. Two
 * passes: the first counts, the second keeps every step-th row. */
typedef int (*row_fn)(void *ctx, char **cells, int n);

static int scan_csv(const char *path, const char *label, row_fn fn, void *ctx, int ncells)
{
	size_t total = 0, kept = 0;
	for (int pass = 0; pass < 2; pass++) {
		FILE *f = fopen(path, "r");
		if (!f)
			return -1;
		char line[512];
		size_t step = total > MAX_POINTS ? (total + MAX_POINTS - 1) / MAX_POINTS : 1,
		       row = 0;
		if (!fgets(line, sizeof(line), f)) {
			fclose(f);
			return 0;
		}
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\r\n")] = 0;
			char *cells[8];
			int n = 0;
			for (char *p = line, *q; n < 8; p = q + 1) {
				cells[n++] = p;
				if (!(q = strchr(p, ',')))
					break;
				*q = 0;
			}
			if (n < ncells || strcmp(cells[0], label))
				continue;
			if (pass == 0) {
				total++;
			} else if (row++ % step == 0) {
				kept++;
				if (fn(ctx, cells, n)) {
					fclose(f);
					return -1;
				}
			}
		}
		fclose(f);
	}
	return 0;
}

struct series_ctx {
	struct pts p[2];
	double t0;
	int have_t0;
};

static int tput_row(void *ctx, char **cells, int n)
{
	struct series_ctx *s = ctx;
	double t = strtod(cells[2], NULL) / 1e9;
	if (!s->have_t0) {
		s->t0 = t;
		s->have_t0 = 1;
	}
	int which = strcmp(cells[1], "rtt") == 0 ? 0 : 1;
	return pts_add(&s->p[which], t - s->t0, strtod(cells[5], NULL) / 1e6);
}

static int seq_row(void *ctx, char **cells, int n)
{
	struct series_ctx *s = ctx;
	double t = strtod(cells[1], NULL) / 1e9;
	if (!s->have_t0) {
		s->t0 = t;
		s->have_t0 = 1;
	}
	int which = cells[2][0] == 'D' ? 0 : 1;
	return pts_add(&s->p[which], t - s->t0, strtod(cells[3], NULL) / 1e3);
}

static int per_vantage_charts(struct tcp_ctx *c, const struct vd_tcpan_flow *ref,
			      struct vd_err *err)
{
	for (uint32_t v = 0; v < c->nv; v++) {
		int same;
		struct vd_tcpan_flow *f = vd_tcpan_find(c->an, v, &ref->key, &same);
		if (!f)
			continue;
		char label[200], safe[160], csv[4096], file[200], title[400];
		tcp_flow_label(f, label, sizeof(label));
		vd_plot_file_safe(c->v[v].name, safe, sizeof(safe));
		for (int kind = 0; kind < 2; kind++) {
			struct series_ctx sc;
			memset(&sc, 0, sizeof(sc));
			snprintf(csv, sizeof(csv), "%s/%s_%s.csv", c->plot_dir,
				 kind ? "seq" : "tput", safe);
			if (scan_csv(csv, label, kind ? seq_row : tput_row, &sc, kind ? 5 : 7)) {
				pts_free(&sc.p[0]);
				pts_free(&sc.p[1]);
				return vd_err_set(err, "--plot: cannot read back %s", csv);
			}
			struct vd_svg_series s[2];
			struct vd_svg_chart ch;
			char rtt[64];
			if (kind == 0) {
				snprintf(rtt, sizeof(rtt), "RTT timescale (%.3f ms)",
					 vd_ns_valid(f->rtt) ? (double)f->rtt / 1e6 : NAN);
				snprintf(file, sizeof(file), "tput_%s.svg", safe);
				snprintf(title, sizeof(title), "throughput at %s, %s", c->v[v].name,
					 label);
				s[0] = (struct vd_svg_series){rtt, sc.p[0].x, sc.p[0].y, sc.p[0].n};
				s[1] = (struct vd_svg_series){"long timescale", sc.p[1].x,
							      sc.p[1].y, sc.p[1].n};
				ch = (struct vd_svg_chart){title, "time (s)", "Mbit/s", 0};
			} else {
				snprintf(file, sizeof(file), "seq_%s.svg", safe);
				snprintf(title, sizeof(title), "sequence/time at %s, %s",
					 c->v[v].name, label);
				s[0] = (struct vd_svg_series){"data (seq)", sc.p[0].x, sc.p[0].y,
							      sc.p[0].n};
				s[1] =
				    (struct vd_svg_series){"ACK", sc.p[1].x, sc.p[1].y, sc.p[1].n};
				ch = (struct vd_svg_chart){title, "time (s)",
							   "relative sequence (KB)", 1};
			}
			int rc = write_chart(c, file, &ch, s, 2, err);
			pts_free(&sc.p[0]);
			pts_free(&sc.p[1]);
			if (rc)
				return -1;
		}
	}
	return 0;
}

static int delay_chart(struct tcp_ctx *c, struct vd_err *err)
{
	struct pts p[2 * TCP_MAX_VANTAGE];
	struct vd_svg_series s[2 * TCP_MAX_VANTAGE];
	char names[2 * TCP_MAX_VANTAGE][300];
	memset(p, 0, sizeof(p));
	size_t ns = 0;
	int rc = 0;
	for (uint32_t k = 1; k < c->nv && rc == 0; k++)
		for (int j = 0; j < 2 && rc == 0; j++) {
			const struct vd_linhist *h = &c->delay[k][j];
			if (!h->total)
				continue;
			uint64_t cum = h->underflow;
			for (size_t i = vd_linhist_first(h); i < vd_linhist_end(h) && rc == 0;
			     i++) {
				if (!vd_linhist_bin(h, i))
					continue;
				cum += vd_linhist_bin(h, i);
				rc = pts_add(&p[ns], (double)(i + 1) * (double)h->bin_ns / 1e3,
					     (double)cum / (double)h->total);
			}
			snprintf(names[ns], sizeof(names[ns]), "%s>%s",
				 j ? c->v[k].name : c->v[0].name, j ? c->v[0].name : c->v[k].name);
			s[ns] = (struct vd_svg_series){names[ns], p[ns].x, p[ns].y, p[ns].n};
			ns++;
		}
	if (rc == 0 && ns) {
		struct vd_svg_chart ch = {"per-packet delay between vantage points", "delay (us)",
					  "CDF", 0};
		rc = write_chart(c, "delay_cdf.svg", &ch, s, ns, err);
	}
	for (size_t i = 0; i < ns; i++)
		pts_free(&p[i]);
	return rc ? -1 : 0;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int transfer_chart(struct tcp_ctx *c, struct vd_err *err)
{
	if (!c->transfers_path || !c->nxfers)
		return 0;
	struct pts p = {0};
	double *v = malloc(c->nxfers * sizeof(*v));
	size_t n = 0;
	int rc = v ? 0 : -1;
	for (size_t i = 0; v && i < c->nxfers; i++)
		if (c->xfers[i].status == VD_XFER_OK && !isnan(c->xfers[i].throughput_bps))
			v[n++] = c->xfers[i].throughput_bps / 1e6;
	if (v)
		qsort(v, n, sizeof(*v), cmp_dbl);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = pts_add(&p, v[i], (double)(i + 1) / (double)n);
	if (rc == 0 && n) {
		struct vd_svg_series s = {"transfers", p.x, p.y, p.n};
		struct vd_svg_chart ch = {"per-transfer throughput", "Mbit/s", "CDF", 0};
		rc = write_chart(c, "transfer_cdf.svg", &ch, &s, 1, err);
	}
	free(v);
	pts_free(&p);
	return rc ? -1 : 0;
}

int tcp_svg_plots(struct tcp_ctx *c, struct vd_err *err)
{
	const struct vd_tcpan_flow *ref = busiest(c);
	if (ref) {
		char label[200];
		tcp_flow_label(ref, label, sizeof(label));
		if (ackhist_chart(c, ref, label, err) || per_vantage_charts(c, ref, err))
			return -1;
	}
	return delay_chart(c, err) || transfer_chart(c, err) ? -1 : 0;
}
