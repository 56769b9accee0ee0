/* report_plot.c — vmdelay-analyze --plot DIR: the distributions behind Whiteaker et
 * al.'s Figure 5 (send and receive delay per layer) and the RTT per vantage point, as CSV data
 * files and a gnuplot script drawing SVG charts from them. gnuplot renders the charts when it is
 * installed; without it lib/out/plot_svg.c draws the same charts. Files and columns:
 * docs/formats/analyze.md, "Plots". */
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmdelay/core/mem.h"
#include "vmdelay/out/afile.h"
#include "vmdelay/out/plot_svg.h"

enum chart_kind { CH_CDF, CH_PDF, CH_TIME };

/* One curve: its data file (in DIR) and, for the SVG fallback, its points in the chart's units. */
struct series {
	char label[160];
	char file[256];
	double *x, *y;
	size_t n;
};

struct chart {
	const char *svg, *title, *xlabel, *ylabel;
	enum chart_kind kind;
	struct series *s;
	size_t ns;
};

struct plot {
	const char *dir;
	const struct vd_delay *d;
	vd_ns *vals; /* scratch, one per probe */
	struct vd_err *err;
};

static FILE *data_open(struct plot *pl, struct vd_afile *af, const char *file, const char *header)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", pl->dir, file);
	if (vd_afile_open(af, path, pl->err))
		return NULL;
	fprintf(af->f, "# %s\n", header);
	return af->f;
}

static struct series *series_add(struct chart *c, const char *label, const char *file, size_t n)
{
	struct series *s = realloc(c->s, (c->ns + 1) * sizeof(*s));
	if (!s)
		return NULL;
	c->s = s;
	s = &c->s[c->ns++];
	memset(s, 0, sizeof(*s));
	snprintf(s->label, sizeof(s->label), "%s", label);
	snprintf(s->file, sizeof(s->file), "%s", file);
	s->x = vd_mem_alloc(n, sizeof(double));
	s->y = vd_mem_alloc(n, sizeof(double));
	if (!s->x || !s->y)
		return NULL;
	return s;
}

/* Keeps the valid values of pl->vals[0..n) and sorts them; returns how many. */
static size_t valid_sorted(vd_ns *vals, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (vd_ns_valid(vals[i]))
			vals[k++] = vals[i];
	vd_sort_ns(vals, k);
	return k;
}

/* Empirical CDF: one row per sample, "value_ns,cdf" (cdf = rank / count). */
static int write_cdf(struct plot *pl, struct chart *c, const char *label, const char *file,
		     const char *column)
{
	size_t k = valid_sorted(pl->vals, pl->d->map.n);
	struct series *s = series_add(c, label, file, k);
	if (!s)
		return vd_err_set(pl->err, "out of memory");
	char header[64];
	snprintf(header, sizeof(header), "%s,cdf", column);
	struct vd_afile af;
	FILE *f = data_open(pl, &af, file, header);
	if (!f)
		return -1;
	for (size_t i = 0; i < k; i++) {
		double y = (double)(i + 1) / (double)k;
		fprintf(f, "%lld,%.9g\n", (long long)pl->vals[i], y);
		s->x[s->n] = (double)pl->vals[i] / 1e3;
		s->y[s->n++] = y;
	}
	return vd_afile_commit(&af, pl->err);
}

/* Histogram with whole-nanosecond bins: about sqrt(count) of them (at most 60) of equal width
 * covering [min, max]; bin i holds [lo, hi). Rows "lo_ns,hi_ns,count,density_per_us". */
static int write_pdf(struct plot *pl, struct chart *c, const char *label, const char *file)
{
	size_t k = valid_sorted(pl->vals, pl->d->map.n);
	size_t nb = 0;
	vd_ns lo = 0, w = 1;
	if (k) {
		nb = 1;
		while (nb < 60 && (nb + 1) * (nb + 1) <= k)
			nb++;
		lo = pl->vals[0];
		vd_ns span = pl->vals[k - 1] - lo + 1;
		w = (span + (vd_ns)nb - 1) / (vd_ns)nb;
		if (w < 1)
			w = 1;
		nb = (size_t)((span + w - 1) / w);
	}
	struct series *s = series_add(c, label, file, nb);
	if (!s)
		return vd_err_set(pl->err, "out of memory");
	struct vd_afile af;
	FILE *f = data_open(pl, &af, file, "lo_ns,hi_ns,count,density_per_us");
	if (!f)
		return -1;
	for (size_t b = 0, i = 0; b < nb; b++) {
		vd_ns blo = lo + (vd_ns)b * w, bhi = blo + w;
		size_t cnt = 0;
		for (; i < k && pl->vals[i] < bhi; i++)
			cnt++;
		double dens = (double)cnt / ((double)k * ((double)w / 1e3));
		fprintf(f, "%lld,%lld,%zu,%.9g\n", (long long)blo, (long long)bhi, cnt, dens);
		s->x[s->n] = ((double)blo + (double)w / 2) / 1e3;
		s->y[s->n++] = dens;
	}
	return vd_afile_commit(&af, pl->err);
}

/* RTT over time at vantage point v: "probe,req_ns,t_s,rtt_ns" for every probe seen there;
 * req_ns on the vantage point's own clock (as in --csv), t_s in seconds since the first probe
 * on the reference clock when the point's clock is aligned. */
static int write_time(struct plot *pl, struct chart *c, size_t v, vd_ns t0, const char *file)
{
	const struct vd_delay *d = pl->d;
	size_t n = d->map.n;
	struct series *s = series_add(c, d->vps[v]->name, file, n);
	if (!s)
		return vd_err_set(pl->err, "out of memory");
	struct vd_afile af;
	FILE *f = data_open(pl, &af, file, "probe,req_ns,t_s,rtt_ns");
	if (!f)
		return -1;
	for (size_t p = 0; p < n; p++) {
		const struct vd_echo_req *q = vd_probe_req(&d->map, d->vps, p, v);
		if (!q)
			continue;
		vd_ns t = vd_delay_req_ref(d, p, v);
		if (!vd_ns_valid(t))
			t = q->ts;
		vd_ns rtt = vd_delay_rtt(d, p, v);
		double ts = (double)(t - t0) / 1e9;
		fprintf(f, "%zu,%lld,%.9f,%lld\n", p, (long long)q->ts, ts, (long long)rtt);
		s->x[s->n] = ts;
		s->y[s->n++] = (double)rtt / 1e3;
	}
	return vd_afile_commit(&af, pl->err);
}

/* A gnuplot single-quoted string: quotes doubled. */
static void gp_string(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		if (*s != '\n')
			fputc(*s, f);
	}
	fputc('\'', f);
}

static void gp_chart(FILE *f, const struct chart *c)
{
	static const char *const using[] = {
	    [CH_CDF] = "($1/1e3):2 with steps",
	    [CH_PDF] = "(($1+$2)/2e3):4 with histeps",
	    [CH_TIME] = "3:($4/1e3) with points pt 7 ps 0.3",
	};
	int any = 0;
	for (size_t i = 0; i < c->ns; i++)
		any |= c->s[i].n > 0;
	if (!any)
		return; /* gnuplot refuses a plot without points */
	fprintf(f, "\nset output '%s'\nset title ", c->svg);
	gp_string(f, c->title);
	fprintf(f, " noenhanced\nset xlabel ");
	gp_string(f, c->xlabel);
	fprintf(f, "\nset ylabel ");
	gp_string(f, c->ylabel);
	fprintf(f, "\nplot");
	const char *sep = " ";
	for (size_t i = 0; i < c->ns; i++) {
		if (!c->s[i].n)
			continue;
		fprintf(f, "%s'%s' using %s title ", sep, c->s[i].file, using[c->kind]);
		gp_string(f, c->s[i].label);
		sep = ", \\\n     ";
	}
	fprintf(f, "\n");
}

static int write_script(struct plot *pl, const struct chart *charts, size_t nc)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/analyze.gp", pl->dir);
	struct vd_afile af;
	if (vd_afile_open(&af, path, pl->err))
		return -1;
	FILE *f = af.f;
	fprintf(f, "# gnuplot script for the data files of `vmdelay-analyze --plot`\n"
		   "# (docs/formats/analyze.md): cd to this directory, then `gnuplot analyze.gp`\n"
		   "set datafile separator ','\n"
		   "set terminal svg size 900,500 dynamic background rgb 'white'\n"
		   "set key outside right top noenhanced\n"
		   "set grid\n");
	for (size_t i = 0; i < nc; i++)
		gp_chart(f, &charts[i]);
	return vd_afile_commit(&af, pl->err);
}

/* The gnuplot to run into path, or 0: $VMDELAY_GNUPLOT ("" or "none": none), else gnuplot in
 * $PATH. */
static int find_gnuplot(char *path, size_t len)
{
	const char *want = getenv("VMDELAY_GNUPLOT");
	if (want && (!*want || strcmp(want, "none") == 0))
		return 0;
	if (!want)
		want = "gnuplot";
	if (strchr(want, '/')) {
		snprintf(path, len, "%s", want);
		return access(path, X_OK) == 0;
	}
	const char *dirs = getenv("PATH");
	if (!dirs)
		dirs = "/usr/bin:/bin";
	while (*dirs) {
		size_t k = strcspn(dirs, ":");
		snprintf(path, len, "%.*s/%s", (int)k, k ? dirs : ".", want);
		if (access(path, X_OK) == 0)
			return 1;
		dirs += k + (dirs[k] == ':');
	}
	return 0;
}

/* Runs gnuplot on analyze.gp inside dir, its output in gnuplot.log. 0 when it succeeded and
 * wrote every chart that has points. */
static int run_gnuplot(const char *gp, const char *dir, const struct chart *charts, size_t nc)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (chdir(dir) < 0 || !freopen("gnuplot.log", "w", stdout) ||
		    dup2(fileno(stdout), STDERR_FILENO) < 0)
			_exit(127);
		execl(gp, "gnuplot", "analyze.gp", (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	for (size_t i = 0; i < nc; i++) {
		int any = 0;
		for (size_t k = 0; k < charts[i].ns; k++)
			any |= charts[i].s[k].n > 0;
		char path[4096];
		struct stat sb;
		snprintf(path, sizeof(path), "%s/%s", dir, charts[i].svg);
		if (any && (stat(path, &sb) < 0 || sb.st_size == 0))
			return -1;
	}
	return 0;
}

static int svg_charts(struct plot *pl, const struct chart *charts, size_t nc)
{
	for (size_t i = 0; i < nc; i++) {
		const struct chart *c = &charts[i];
		if (!c->ns)
			continue;
		struct vd_svg_series *s = calloc(c->ns, sizeof(*s));
		if (!s)
			return vd_err_set(pl->err, "out of memory");
		for (size_t k = 0; k < c->ns; k++)
			s[k] =
			    (struct vd_svg_series){c->s[k].label, c->s[k].x, c->s[k].y, c->s[k].n};
		struct vd_svg_chart ch = {c->title, c->xlabel, c->ylabel, c->kind == CH_TIME};
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", pl->dir, c->svg);
		int rc = vd_svg_write(path, &ch, s, c->ns, pl->err);
		free(s);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int fill_charts(struct plot *pl, struct chart *ch)
{
	const struct vd_delay *d = pl->d;
	size_t n = d->map.n, nvp = d->nvp;
	char file[256], safe[160], label[200];
	/* RTT CDF and RTT over time per vantage point */
	vd_ns t0 = VD_NS_NONE;
	for (size_t v = 0; v < nvp && !vd_ns_valid(t0); v++)
		for (size_t p = 0; p < n; p++) {
			const struct vd_echo_req *q = vd_probe_req(&d->map, d->vps, p, v);
			vd_ns t = q ? vd_delay_req_ref(d, p, v) : VD_NS_NONE;
			if (q && !vd_ns_valid(t))
				t = q->ts;
			if (q && (!vd_ns_valid(t0) || t < t0))
				t0 = t;
		}
	for (size_t v = 0; v < nvp; v++) {
		vd_plot_file_safe(d->vps[v]->name, safe, sizeof(safe));
		for (size_t p = 0; p < n; p++)
			pl->vals[p] = vd_delay_rtt(d, p, v);
		snprintf(file, sizeof(file), "rtt_%s_cdf.csv", safe);
		if (write_cdf(pl, &ch[0], d->vps[v]->name, file, "rtt_ns") < 0)
			return -1;
		snprintf(file, sizeof(file), "rtt_%s.csv", safe);
		if (write_time(pl, &ch[1], v, t0, file) < 0)
			return -1;
	}
	if (nvp < 2)
		return 0;
	/* per layer: CDFs of ΔRTT, send and receive delay; PDFs of send and receive delay */
	size_t layers[REPORT_MAX_VANTAGE], nl = report_layers(d, layers);
	for (size_t li = 0; li < nl; li++) {
		size_t l = layers[li];
		const char *lname = report_layer_name(d, l);
		vd_plot_file_safe(lname, safe, sizeof(safe));
		for (int dir = VD_DIR_RTT; dir < VD_DIR__COUNT; dir++) {
			if (!report_dir_possible(d, l, (enum vd_delay_dir)dir))
				continue;
			const char *dn =
			    dir == VD_DIR_RTT ? "delta" : vd_delay_dir_name((enum vd_delay_dir)dir);
			snprintf(label, sizeof(label), "%s %s", lname, dn);
			for (size_t p = 0; p < n; p++)
				pl->vals[p] = vd_delay_layer(d, p, l, (enum vd_delay_dir)dir);
			snprintf(file, sizeof(file), "layer%zu_%s_%s_cdf.csv", l, safe, dn);
			if (write_cdf(pl, &ch[dir == VD_DIR_RTT ? 2 : 4], label, file,
				      dir == VD_DIR_RTT ? "delta_ns" : "delay_ns") < 0)
				return -1;
			if (dir == VD_DIR_RTT)
				continue;
			for (size_t p = 0; p < n; p++)
				pl->vals[p] = vd_delay_layer(d, p, l, (enum vd_delay_dir)dir);
			snprintf(file, sizeof(file), "layer%zu_%s_%s_pdf.csv", l, safe, dn);
			if (write_pdf(pl, &ch[3], label, file) < 0)
				return -1;
		}
	}
	return 0;
}

int report_plots(const char *outdir, const struct report_ctx *c, struct vd_err *err)
{
	if (mkdir(outdir, 0777) < 0 && errno != EEXIST)
		return vd_err_set(err, "%s: %s", outdir, strerror(errno));
	struct plot pl = {.dir = outdir, .d = c->d, .err = err};
	struct chart ch[] = {
	    {"rtt_cdf.svg", "RTT per vantage point", "RTT (us)", "CDF", CH_CDF, NULL, 0},
	    {"rtt_time.svg", "RTT over time", "time since the first probe (s)", "RTT (us)", CH_TIME,
	     NULL, 0},
	    {"delta_cdf.svg", "RTT added per layer (delta RTT)", "delay (us)", "CDF", CH_CDF, NULL,
	     0},
	    {"send_recv_pdf.svg", "send and receive delay per layer", "delay (us)",
	     "density (1/us)", CH_PDF, NULL, 0},
	    {"send_recv_cdf.svg", "send and receive delay per layer", "delay (us)", "CDF", CH_CDF,
	     NULL, 0},
	};
	size_t nc = sizeof(ch) / sizeof(ch[0]);
	int rc = -1;
	pl.vals = vd_mem_alloc(c->d->map.n, sizeof(*pl.vals));
	if (!pl.vals) {
		vd_err_set(err, "out of memory");
		goto out;
	}
	if (fill_charts(&pl, ch) < 0 || write_script(&pl, ch, nc) < 0)
		goto out;
	char gp[4096];
	if (find_gnuplot(gp, sizeof(gp))) {
		if (run_gnuplot(gp, outdir, ch, nc) == 0) {
			rc = 0;
			goto out;
		}
		fprintf(stderr,
			"vmdelay-analyze: warning: %s failed (see %s/gnuplot.log): charts drawn "
			"without it\n",
			gp, outdir);
	}
	rc = svg_charts(&pl, ch, nc);
out:
	for (size_t i = 0; i < nc; i++) {
		for (size_t k = 0; k < ch[i].ns; k++) {
			free(ch[i].s[k].x);
			free(ch[i].s[k].y);
		}
		free(ch[i].s);
	}
	free(pl.vals);
	return rc;
}
