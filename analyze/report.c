/* report.c — outputs of vmdelay-analyze's per-layer analysis: text tables (Whiteaker et al.
 * Table 1 as median/p99 per Δ and phase, Dantas et al. Table 2 as min/median/max/mean/SD per
 * vantage point), a JSON document and the SQLite store (CSV: report_csv.c, plots: report_plot.c).
 * Column and key names: docs/formats/analyze.md. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vmdelay/out/output.h"
#include "vmdelay/out/plot_svg.h"
#include "vmdelay/store/store.h"

const char *report_layer_name(const struct vd_delay *d, size_t layer)
{
	return layer ? d->vps[layer]->name : "total";
}

static size_t outer_of(size_t layer)
{
	return layer ? layer - 1 : 0;
}

static size_t inner_of(const struct vd_delay *d, size_t layer)
{
	return layer ? layer : d->nvp - 1;
}

/* Layers reported: each adjacent pair, then the total when there are more than two points. */
size_t report_layers(const struct vd_delay *d, size_t *out)
{
	size_t k = 0;
	for (size_t l = 1; l < d->nvp; l++)
		out[k++] = l;
	if (d->nvp > 2)
		out[k++] = 0;
	return k;
}

/* A direction is reported when its values can exist: send/recv need comparable clocks. */
int report_dir_possible(const struct vd_delay *d, size_t layer, enum vd_delay_dir dir)
{
	if (dir == VD_DIR_RTT)
		return 1;
	size_t o = outer_of(layer), i = inner_of(d, layer);
	return strcmp(d->vps[o]->clock, d->vps[i]->clock) == 0 || (d->aligned[o] && d->aligned[i]);
}

size_t report_cells(const struct vd_delay *d, struct report_cell *out)
{
	size_t layers[REPORT_MAX_VANTAGE], nl = report_layers(d, layers), n = 0;
	for (size_t li = 0; li < nl; li++)
		for (int dir = 0; dir < VD_DIR__COUNT; dir++)
			if (report_dir_possible(d, layers[li], (enum vd_delay_dir)dir))
				out[n++] = (struct report_cell){layers[li], (enum vd_delay_dir)dir};
	return n;
}

static void out_summary(struct vd_out *o, const struct vd_summary *s)
{
	vd_out_int(o, "n", (int64_t)s->n);
	vd_out_ns(o, "min_ns", s->min);
	vd_out_ns(o, "median_ns", s->median);
	vd_out_ns(o, "p99_ns", s->p99);
	vd_out_ns(o, "max_ns", s->max);
	vd_out_ns(o, "mean_ns", isnan(s->mean) ? VD_NS_NONE : (vd_ns)llround(s->mean));
	vd_out_ns(o, "sd_ns", isnan(s->sd) ? VD_NS_NONE : (vd_ns)llround(s->sd));
}

static void vantage_rows(struct vd_out *o, const struct vd_delay *d)
{
	for (size_t v = 0; v < d->nvp; v++) {
		const struct vd_vantage *vp = d->vps[v];
		vd_out_row_begin(o);
		vd_out_str(o, "vantage", vp->name);
		vd_out_str(o, "clock", vp->clock);
		vd_out_str(o, "format", vp->format);
		vd_out_str(o, "path", vp->path);
		vd_out_int(o, "records", (int64_t)vp->records);
		vd_out_int(o, "requests", (int64_t)vp->stats.requests);
		vd_out_int(o, "replies", (int64_t)vp->stats.replies);
		vd_out_int(o, "pairs", (int64_t)vp->stats.pairs);
		vd_out_int(o, "probes", (int64_t)vp->stats.probes);
		vd_out_int(o, "unmatched_requests", (int64_t)vp->stats.unmatched_requests);
		vd_out_int(o, "unmatched_replies", (int64_t)vp->stats.unmatched_replies);
		vd_out_int(o, "duplicates", (int64_t)vp->stats.duplicates);
		vd_out_row_end(o);
	}
}

int report_text(FILE *f, const struct report_ctx *c)
{
	const struct vd_delay *d = c->d;
	int rc = 0, phases[VD_PHASE__COUNT + 1];
	size_t nph = vd_delay_phases(d, phases);
	fprintf(f, "vantage points, outermost first (%zu probes)\n", d->map.n);
	struct vd_out *o = vd_out_create(f, VD_OUT_TEXT);
	if (!o)
		return -1;
	vantage_rows(o, d);
	rc |= vd_out_destroy(o);
	for (size_t v = 0; v < d->nvp; v++)
		if (d->vps[v]->notes[0])
			fprintf(f, "note: %s: %s\n", d->vps[v]->name, d->vps[v]->notes);
	if (d->naligns) {
		fprintf(f, "\nclock alignment (%s, theta = clock - reference clock '%s')\n",
			vd_align_method_name(c->align), d->vps[0]->clock);
		o = vd_out_create(f, VD_OUT_TEXT);
		if (!o)
			return -1;
		for (size_t a = 0; a < d->naligns; a++) {
			const struct vd_delay_align *al = &d->aligns[a];
			vd_out_row_begin(o);
			vd_out_str(o, "clock", d->vps[al->vantage]->clock);
			vd_out_str(o, "vantage", d->vps[al->vantage]->name);
			vd_out_str(o, "against", d->vps[al->against]->name);
			vd_out_int(o, "n", (int64_t)al->fit.n);
			vd_out_dbl(o, "skew_ppm", al->fit.skew * 1e6, 3);
			vd_out_ns(o, "offset_ns", (vd_ns)llround(al->fit.offset_ns));
			vd_out_ns(o, "residual_ns", (vd_ns)llround(al->fit.residual_ns));
			vd_out_row_end(o);
		}
		rc |= vd_out_destroy(o);
	}
	fprintf(f, "\nRTT per vantage point\n");
	o = vd_out_create(f, VD_OUT_TEXT);
	if (!o)
		return -1;
	for (size_t v = 0; v < d->nvp; v++)
		for (size_t k = 0; k < nph; k++) {
			struct vd_summary s;
			if (vd_delay_summary_rtt(d, v, phases[k], &s) < 0)
				rc = -1;
			vd_out_row_begin(o);
			vd_out_str(o, "vantage", d->vps[v]->name);
			vd_out_str(o, "phase", vd_delay_phase_name(phases[k]));
			out_summary(o, &s);
			vd_out_row_end(o);
		}
	rc |= vd_out_destroy(o);
	if (d->nvp < 2)
		return rc;
	fprintf(f, "\ndelay per layer (rtt: RTT at inner - RTT at outer; send: outer request - "
		   "inner request; recv: inner reply - outer reply)\n");
	o = vd_out_create(f, VD_OUT_TEXT);
	if (!o)
		return -1;
	struct report_cell cells[REPORT_MAX_CELLS];
	size_t nc = report_cells(d, cells);
	for (size_t ci = 0; ci < nc; ci++) {
		size_t l = cells[ci].layer;
		for (size_t k = 0; k < nph; k++) {
			struct vd_summary s;
			if (vd_delay_summary_layer(d, l, cells[ci].dir, phases[k], &s) < 0)
				rc = -1;
			vd_out_row_begin(o);
			vd_out_str(o, "layer", report_layer_name(d, l));
			vd_out_str(o, "outer", d->vps[outer_of(l)]->name);
			vd_out_str(o, "inner", d->vps[inner_of(d, l)]->name);
			vd_out_str(o, "dir", vd_delay_dir_name(cells[ci].dir));
			vd_out_str(o, "phase", vd_delay_phase_name(phases[k]));
			out_summary(o, &s);
			vd_out_row_end(o);
		}
	}
	rc |= vd_out_destroy(o);
	return rc;
}

/* ---- JSON document ---- */

static void json_summary(struct vd_json *j, const struct vd_summary *s)
{
	vd_json_kv_uint(j, "n", s->n);
	vd_json_kv_ns(j, "min_ns", s->min);
	vd_json_kv_ns(j, "median_ns", s->median);
	vd_json_kv_ns(j, "p99_ns", s->p99);
	vd_json_kv_ns(j, "max_ns", s->max);
	vd_json_kv_dbl(j, "mean_ns", s->mean, 1);
	/* no mean, no sd; one sample: sd 0 */
	vd_json_kv_dbl(j, "sd_ns", isnan(s->mean) ? NAN : isnan(s->sd) ? 0 : s->sd, 1);
}

/* "tunnels": [{"layers": [{"kind": "vxlan", "id": 42}, ...], "frames": N}, ...], "bad_ip_len": N */
static void json_tunnels(struct vd_json *j, const struct vd_encap_summary *s)
{
	vd_json_key(j, "tunnels");
	vd_json_begin_array(j, VD_JSON_SPACED);
	for (int c = 0; c < s->nchains; c++) {
		vd_json_begin_object(j, VD_JSON_SPACED);
		vd_json_key(j, "layers");
		vd_json_begin_array(j, VD_JSON_SPACED);
		for (int i = 0; i < s->chain[c].n; i++) {
			const struct vd_encap *e = &s->chain[c].layer[i];
			vd_json_begin_object(j, VD_JSON_SPACED);
			vd_json_kv_str(j, "kind", vd_encap_kind_name(e->kind));
			vd_json_key(j, "id");
			if (e->has_id)
				vd_json_uint(j, e->id);
			else
				vd_json_null(j);
			vd_json_end_object(j);
		}
		vd_json_end_array(j);
		vd_json_kv_uint(j, "frames", s->chain[c].frames);
		vd_json_end_object(j);
	}
	vd_json_end_array(j);
	vd_json_kv_uint(j, "bad_ip_len", s->bad_ip_len);
}

static int json_layers(struct vd_json *j, const struct vd_delay *d, enum vd_delay_dir dir,
		       const int *phases, size_t nph)
{
	size_t layers[REPORT_MAX_VANTAGE], nl = report_layers(d, layers);
	int rc = 0;
	vd_json_begin_array(j, VD_JSON_LINES);
	for (size_t li = 0; li < nl; li++) {
		if (!report_dir_possible(d, layers[li], dir))
			continue;
		for (size_t k = 0; k < nph; k++) {
			struct vd_summary s;
			if (vd_delay_summary_layer(d, layers[li], dir, phases[k], &s) < 0)
				rc = -1;
			vd_json_begin_object(j, VD_JSON_SPACED);
			vd_json_kv_str(j, "layer", report_layer_name(d, layers[li]));
			vd_json_kv_str(j, "outer", d->vps[outer_of(layers[li])]->name);
			vd_json_kv_str(j, "inner", d->vps[inner_of(d, layers[li])]->name);
			vd_json_kv_str(j, "phase", vd_delay_phase_name(phases[k]));
			json_summary(j, &s);
			vd_json_end_object(j);
		}
	}
	vd_json_end_array(j);
	return rc;
}

int report_json(FILE *f, const struct report_ctx *c)
{
	const struct vd_delay *d = c->d;
	int rc = 0, phases[VD_PHASE__COUNT + 1];
	size_t nph = vd_delay_phases(d, phases);
	struct vd_json jw, *j = &jw;
	vd_json_init(j, f);
	vd_json_begin_object(j, VD_JSON_LINES);
	vd_json_kv_str(j, "tool", "vmdelay-analyze");
	vd_json_kv_uint(j, "probes", d->map.n);
	vd_json_key(j, "vantage_points");
	vd_json_begin_array(j, VD_JSON_LINES);
	for (size_t v = 0; v < d->nvp; v++) {
		const struct vd_vantage *vp = d->vps[v];
		vd_json_begin_object(j, VD_JSON_SPACED);
		vd_json_kv_str(j, "name", vp->name);
		vd_json_kv_str(j, "clock", vp->clock);
		vd_json_kv_str(j, "path", vp->path);
		vd_json_kv_str(j, "format", vp->format);
		vd_json_kv_str(j, "select", vp->select[0] ? vp->select : NULL);
		vd_json_kv_str(j, "notes", vp->notes[0] ? vp->notes : NULL);
		json_tunnels(j, &vp->encap);
		const struct {
			const char *key;
			uint64_t v;
		} counts[] = {
		    {"records", vp->records},
		    {"requests", vp->stats.requests},
		    {"replies", vp->stats.replies},
		    {"pairs", vp->stats.pairs},
		    {"probes", vp->stats.probes},
		    {"unmatched_requests", vp->stats.unmatched_requests},
		    {"unmatched_replies", vp->stats.unmatched_replies},
		    {"duplicates", vp->stats.duplicates},
		};
		for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
			vd_json_kv_uint(j, counts[i].key, counts[i].v);
		}
		vd_json_kv_bool(j, "aligned", d->aligned[v]);
		vd_json_end_object(j);
	}
	vd_json_end_array(j);
	vd_json_kv_str(j, "align_method", vd_align_method_name(c->align));
	vd_json_kv_str(j, "reference_clock", d->vps[0]->clock);
	vd_json_key(j, "align");
	vd_json_begin_array(j, VD_JSON_LINES);
	for (size_t a = 0; a < d->naligns; a++) {
		const struct vd_delay_align *al = &d->aligns[a];
		vd_json_begin_object(j, VD_JSON_SPACED);
		vd_json_kv_str(j, "clock", d->vps[al->vantage]->clock);
		vd_json_kv_str(j, "vantage", d->vps[al->vantage]->name);
		vd_json_kv_str(j, "against", d->vps[al->against]->name);
		vd_json_kv_str(j, "method", vd_align_method_name(al->fit.method));
		vd_json_kv_uint(j, "n", al->fit.n);
		vd_json_kv_int(j, "t0_ns", al->fit.t0);
		vd_json_kv_dbl(j, "skew_ppm", al->fit.skew * 1e6, 4);
		vd_json_kv_dbl(j, "offset_ns", al->fit.offset_ns, 0);
		vd_json_kv_dbl(j, "residual_ns", al->fit.residual_ns, 0);
		vd_json_end_object(j);
	}
	vd_json_end_array(j);
	vd_json_key(j, "rtt");
	vd_json_begin_array(j, VD_JSON_LINES);
	for (size_t v = 0; v < d->nvp; v++)
		for (size_t k = 0; k < nph; k++) {
			struct vd_summary s;
			if (vd_delay_summary_rtt(d, v, phases[k], &s) < 0)
				rc = -1;
			vd_json_begin_object(j, VD_JSON_SPACED);
			vd_json_kv_str(j, "vantage", d->vps[v]->name);
			vd_json_kv_str(j, "phase", vd_delay_phase_name(phases[k]));
			json_summary(j, &s);
			vd_json_end_object(j);
		}
	vd_json_end_array(j);
	vd_json_key(j, "deltas");
	rc |= json_layers(j, d, VD_DIR_RTT, phases, nph);
	vd_json_key(j, "send");
	rc |= json_layers(j, d, VD_DIR_SEND, phases, nph);
	vd_json_key(j, "recv");
	rc |= json_layers(j, d, VD_DIR_RECV, phases, nph);
	vd_json_end_object(j);
	vd_json_newline(j);
	return rc;
}

/* ---- SQLite ---- */

static int add_summary(struct vd_store *st, int64_t run, const char *vantage, const char *metric,
		       const char *phase, const char *dir, const struct vd_summary *s,
		       struct vd_err *err)
{
	const struct {
		const char *stat;
		double v;
	} vals[] = {
	    {"n", (double)s->n},
	    {"min_ns", vd_ns_valid(s->min) ? (double)s->min : NAN},
	    {"median_ns", vd_ns_valid(s->median) ? (double)s->median : NAN},
	    {"p99_ns", vd_ns_valid(s->p99) ? (double)s->p99 : NAN},
	    {"max_ns", vd_ns_valid(s->max) ? (double)s->max : NAN},
	    {"mean_ns", s->mean},
	    {"sd_ns", s->sd},
	};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		if (isnan(vals[i].v))
			continue;
		if (vd_store_add_result(st, run, vantage, metric, phase, dir, vals[i].stat,
					vals[i].v, err) < 0)
			return -1;
	}
	return 0;
}

static int db_vantage(struct vd_store *st, int64_t run, const struct vd_vantage *vp,
		      struct vd_err *err)
{
	static const char *const cols[] = {"run_id", "name",	"clock",   "path",
					   "format", "packets", "matched", "unmatched"};
	char id[24], packets[24], matched[24], unmatched[24];
	snprintf(id, sizeof(id), "%lld", (long long)run);
	snprintf(packets, sizeof(packets), "%llu", (unsigned long long)vp->records);
	snprintf(matched, sizeof(matched), "%llu", (unsigned long long)vp->stats.pairs);
	snprintf(unmatched, sizeof(unmatched), "%llu",
		 (unsigned long long)(vp->stats.unmatched_requests + vp->stats.unmatched_replies));
	const char *vals[] = {id,	  vp->name, vp->clock, vp->path,
			      vp->format, packets,  matched,   unmatched};
	return vd_store_add_row(st, "vantage_points", 8, cols, vals, err);
}

int report_db(const char *path, const struct report_ctx *c, int argc, char **argv,
	      const struct vd_run_info *labels, struct vd_err *err)
{
	const struct vd_delay *d = c->d;
	struct vd_store *st;
	if (vd_store_open(path, &st, err) < 0)
		return -1;
	char *cmd = vd_store_command_line(argc, argv);
	/* the run's parameters as a JSON object */
	struct vd_json_mem m;
	char *params = NULL;
	if (vd_json_mem_begin(&m, VD_JSON_SPACED) == 0) {
		vd_json_kv_str(&m.j, "align", vd_align_method_name(c->align));
		vd_json_kv_uint(&m.j, "rest", c->rest);
		params = vd_json_mem_end(&m);
	}
	if (!cmd || !params) {
		free(cmd);
		free(params);
		vd_store_close(st);
		return vd_err_set(err, "out of memory");
	}
	struct vd_run_info info = *labels;
	info.tool = "vmdelay-analyze";
	info.command_line = cmd;
	info.params_json = params;
	info.start_ns = vd_now(CLOCK_REALTIME);
	int64_t run;
	int phases[VD_PHASE__COUNT + 1];
	size_t nph = vd_delay_phases(d, phases);
	if (vd_store_begin_run(st, &info, &run, err) < 0)
		goto fail_nobegin;
	for (size_t v = 0; v < d->nvp; v++) {
		if (db_vantage(st, run, d->vps[v], err) < 0)
			goto fail;
		for (size_t k = 0; k < nph; k++) {
			struct vd_summary s;
			if (vd_delay_summary_rtt(d, v, phases[k], &s) < 0 ||
			    add_summary(st, run, d->vps[v]->name, "rtt",
					vd_delay_phase_name(phases[k]), "rtt", &s, err) < 0)
				goto fail;
		}
	}
	struct report_cell cells[REPORT_MAX_CELLS];
	size_t nc = report_cells(d, cells);
	for (size_t ci = 0; ci < nc; ci++) {
		size_t l = cells[ci].layer;
		for (size_t k = 0; k < nph; k++) {
			struct vd_summary s;
			if (vd_delay_summary_layer(d, l, cells[ci].dir, phases[k], &s) < 0 ||
			    add_summary(st, run, report_layer_name(d, l), l ? "delta" : "total",
					vd_delay_phase_name(phases[k]),
					vd_delay_dir_name(cells[ci].dir), &s, err) < 0)
				goto fail;
		}
	}
	for (size_t a = 0; a < d->naligns; a++) {
		const struct vd_delay_align *al = &d->aligns[a];
		const char *vn = d->vps[al->vantage]->name;
		if (vd_store_add_result(st, run, vn, "align", "", "", "skew_ppm",
					al->fit.skew * 1e6, err) < 0 ||
		    vd_store_add_result(st, run, vn, "align", "", "", "offset_ns",
					al->fit.offset_ns, err) < 0 ||
		    vd_store_add_result(st, run, vn, "align", "", "", "residual_ns",
					al->fit.residual_ns, err) < 0 ||
		    vd_store_add_result(st, run, vn, "align", "", "", "n", (double)al->fit.n, err) <
			0)
			goto fail;
	}
	if (vd_store_add_meta(st, run, "align", vd_align_method_name(c->align), err) < 0 ||
	    vd_store_end_run(st, run, vd_now(CLOCK_REALTIME), err) < 0)
		goto fail;
	free(cmd);
	free(params);
	vd_store_close(st);
	return 0;
fail:
	vd_store_abort_run(st);
fail_nobegin:
	free(cmd);
	free(params);
	vd_store_close(st);
	return vd_err_prefix(err, "%s", path);
}
