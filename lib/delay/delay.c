/* delay.c — per-layer delay: RTT per probe per vantage point, ΔRTT between adjacent vantage
 * points and one-way send/receive delays once the clocks are aligned (Whiteaker et al. sections
 * 3.2 and 4, Table 1, Figure 5; Dantas et al. Table 2's min/median/max/mean/SD per capture point).
 */
#include "vmdelay/delay/delay.h"

#include <stdlib.h>
#include <string.h>

#include "vmdelay/core/mem.h"
#include "vmdelay/core/qhist.h"
#include "vmdelay/input/probe.h"

static int is_rest(int phase)
{
	return phase == VD_PHASE_REST_PRE || phase == VD_PHASE_REST_POST;
}

static void label_phases(struct vd_delay *d, const struct vd_delay_opts *o)
{
	size_t n = d->map.n;
	for (size_t p = 0; p < n; p++) {
		d->phase[p] = d->map.phase[p];
		d->have_phases |= d->phase[p] >= 0;
	}
	/* --rest N overrides tping's phases: the first and last N probes are at rest. */
	if (o->rest) {
		for (size_t p = 0; p < n; p++)
			d->phase[p] = p < o->rest	 ? VD_PHASE_REST_PRE
				      : p + o->rest >= n ? VD_PHASE_REST_POST
							 : VD_PHASE_LOAD;
		d->have_phases = n > 0;
	}
}

static int align_clocks(struct vd_delay *d, const struct vd_delay_opts *o, int *warn,
			struct vd_err *err)
{
	size_t nvp = d->nvp, n = d->map.n;
	size_t nrest = 0;
	for (size_t p = 0; p < n; p++)
		nrest += is_rest(d->phase[p]);
	int any_rest = nrest > 0;
	/* only the probes that calibrate: with --rest N, 2N of them, whatever the trace length */
	size_t cap = any_rest ? nrest : n;
	struct vd_align_sample *s = malloc((cap ? cap : 1) * sizeof(*s));
	d->aligns = calloc(nvp, sizeof(*d->aligns));
	if (!s || !d->aligns) {
		free(s);
		return vd_err_set(err, "out of memory");
	}
	int *fit_of = d->fit_of;
	for (size_t v = 0; v < nvp; v++) {
		const char *clk = d->vps[v]->clock;
		fit_of[v] = -2;
		if (strcmp(clk, d->vps[0]->clock) == 0) {
			fit_of[v] = -1;
		} else {
			size_t u;
			for (u = 1; u < v && strcmp(d->vps[u]->clock, clk) != 0; u++)
				;
			if (u < v) {
				fit_of[v] = fit_of[u];
			} else if (o->align != VD_ALIGN_NONE) {
				/* against the nearest outer vantage point already on the reference
				 */
				size_t a = v;
				while (a-- > 0 && !d->aligned[a])
					;
				size_t ns = 0;
				for (size_t p = 0; p < n; p++) {
					if (any_rest && !is_rest(d->phase[p]))
						continue;
					size_t ia = p * nvp + a, iv = p * nvp + v;
					if (d->map.cell[ia] < 0 || d->map.cell[iv] < 0)
						continue;
					s[ns++] = (struct vd_align_sample){
					    .in_req = vd_probe_req(&d->map, d->vps, p, v)->ts,
					    .in_rep = vd_probe_pair(&d->map, d->vps, p, v)->rep_ts,
					    .out_req = vd_delay_req_ref(d, p, a),
					    .out_rep = vd_delay_rep_ref(d, p, a),
					};
				}
				struct vd_delay_align *al = &d->aligns[d->naligns];
				al->vantage = v;
				al->against = a;
				if (ns && vd_align_fit(o->align, s, ns, &al->fit) == 0) {
					fit_of[v] = (int)d->naligns++;
					if (d->rest_probes < ns)
						d->rest_probes = ns;
				} else {
					*warn = 1;
					vd_err_set(
					    err,
					    "cannot align clock '%s' of %s with %s: no probe "
					    "seen at both%s",
					    clk, d->vps[v]->name, d->vps[a]->name,
					    any_rest ? " at rest" : "");
				}
			}
		}
		d->aligned[v] = fit_of[v] != -2;
	}
	free(s);
	return 0;
}

int vd_delay_analyze(struct vd_vantage *const *vps, size_t nvp, const struct vd_delay_opts *opts,
		     struct vd_delay *d, int *warn, struct vd_err *err)
{
	memset(d, 0, sizeof(*d));
	*warn = 0;
	d->vps = vps;
	d->nvp = nvp;
	d->exact_max = opts->exact_max ? opts->exact_max : VD_DELAY_EXACT_MAX;
	for (size_t v = 0; v < nvp; v++)
		if (vd_match_pairs(vps[v], err) < 0)
			return -1;
	struct vd_match_opts mo = {.window = opts->window};
	if (vd_match_probes(vps, nvp, &mo, &d->map, err) < 0)
		return -1;
	size_t n = d->map.n;
	d->phase = malloc(n ? n : 1);
	d->aligned = calloc(nvp ? nvp : 1, sizeof(*d->aligned));
	d->clock_id = calloc(nvp ? nvp : 1, sizeof(*d->clock_id));
	d->fit_of = malloc((nvp ? nvp : 1) * sizeof(*d->fit_of));
	if (!d->phase || !d->aligned || !d->clock_id || !d->fit_of) {
		vd_delay_free(d);
		return vd_err_set(err, "out of memory");
	}
	for (size_t v = 0; v < nvp; v++) {
		size_t u = 0;
		while (strcmp(vps[u]->clock, vps[v]->clock) != 0)
			u++;
		d->clock_id[v] = u;
	}
	label_phases(d, opts);
	if (align_clocks(d, opts, warn, err) < 0) {
		vd_delay_free(d);
		return -1;
	}
	return 0;
}

void vd_delay_free(struct vd_delay *d)
{
	vd_probe_map_free(&d->map);
	free(d->sums);
	free(d->sums_have);
	free(d->phase);
	free(d->aligned);
	free(d->clock_id);
	free(d->fit_of);
	free(d->aligns);
	memset(d, 0, sizeof(*d));
}

vd_ns vd_delay_rtt(const struct vd_delay *d, size_t probe, size_t v)
{
	int32_t c = d->map.cell[probe * d->nvp + v];
	if (c < 0)
		return VD_NS_NONE;
	const struct vd_echo_pair *pr = &d->vps[v]->pairs[c];
	return pr->rep_ts - d->vps[v]->ev[pr->req].ts;
}

vd_ns vd_delay_req_ref(const struct vd_delay *d, size_t probe, size_t v)
{
	const struct vd_echo_req *q = vd_probe_req(&d->map, d->vps, probe, v);
	return q ? vd_delay_on_ref(d, v, q->ts) : VD_NS_NONE;
}

vd_ns vd_delay_rep_ref(const struct vd_delay *d, size_t probe, size_t v)
{
	const struct vd_echo_pair *r = vd_probe_pair(&d->map, d->vps, probe, v);
	return r ? vd_delay_on_ref(d, v, r->rep_ts) : VD_NS_NONE;
}

vd_ns vd_delay_layer_from(const struct vd_delay *d, size_t layer, enum vd_delay_dir dir,
			  const struct vd_delay_times *o, const struct vd_delay_times *i)
{
	return vd_delay_layer_value(d, layer ? layer - 1 : 0, layer ? layer : d->nvp - 1, dir, o,
				    i);
}

/* Probe p's times at vantage point v (VD_NS_NONE when v missed it). */
static struct vd_delay_times times_at(const struct vd_delay *d, size_t p, size_t v)
{
	const struct vd_echo_req *q = vd_probe_req(&d->map, d->vps, p, v);
	if (!q)
		return (struct vd_delay_times){VD_NS_NONE, VD_NS_NONE};
	return (struct vd_delay_times){q->ts, vd_probe_pair(&d->map, d->vps, p, v)->rep_ts};
}

vd_ns vd_delay_layer(const struct vd_delay *d, size_t probe, size_t layer, enum vd_delay_dir dir)
{
	if (d->nvp < 2 || layer >= d->nvp)
		return VD_NS_NONE;
	size_t o = layer ? layer - 1 : 0, i = layer ? layer : d->nvp - 1;
	struct vd_delay_times to = times_at(d, probe, o), ti = times_at(d, probe, i);
	return vd_delay_layer_from(d, layer, dir, &to, &ti);
}

static vd_ns value_of(const struct vd_delay *d, size_t p, size_t a, size_t b, int rtt,
		      enum vd_delay_dir dir)
{
	return rtt ? vd_delay_rtt(d, p, a) : vd_delay_layer(d, p, b, dir);
}

/* Past exact_max probes: a sketch whose size does not depend on the number of probes. */
static int summarize_sketch(const struct vd_delay *d, int phase, size_t a, size_t b, int rtt,
			    enum vd_delay_dir dir, struct vd_summary *s)
{
	struct vd_qhist h;
	vd_qhist_init(&h);
	for (size_t p = 0; p < d->map.n; p++)
		if (phase == VD_PHASE_ALL || d->phase[p] == phase)
			vd_qhist_add(&h, value_of(d, p, a, b, rtt, dir));
	int oom = h.oom;
	if (!oom)
		vd_qhist_summary(&h, s);
	vd_qhist_free(&h);
	return oom ? -1 : 0;
}

static int summarize_by(const struct vd_delay *d, int phase, size_t a, size_t b, int rtt,
			enum vd_delay_dir dir, struct vd_summary *s)
{
	size_t n = d->map.n;
	if (n > d->exact_max)
		return summarize_sketch(d, phase, a, b, rtt, dir, s);
	vd_ns *vals = vd_mem_alloc(n, sizeof(*vals));
	if (!vals)
		return -1;
	size_t k = 0;
	for (size_t p = 0; p < n; p++) {
		if (phase != VD_PHASE_ALL && d->phase[p] != phase)
			continue;
		vals[k++] = value_of(d, p, a, b, rtt, dir);
	}
	int rc = vd_summarize_inplace(vals, k, s);
	free(vals);
	return rc;
}

/* A summary the streamed analysis computed (delay_stream.h). */
static int streamed_summary(const struct vd_delay *d, size_t series, int phase,
			    struct vd_summary *s)
{
	size_t k = vd_delay_sum_index(series, phase);
	if (series >= d->nvp * (1 + VD_DIR__COUNT) || !d->sums_have[k])
		return -1;
	*s = d->sums[k];
	return 0;
}

int vd_delay_summary_rtt(const struct vd_delay *d, size_t v, int phase, struct vd_summary *s)
{
	if (d->sums)
		return streamed_summary(d, v, phase, s);
	return summarize_by(d, phase, v, 0, 1, VD_DIR_RTT, s);
}

int vd_delay_summary_layer(const struct vd_delay *d, size_t layer, enum vd_delay_dir dir, int phase,
			   struct vd_summary *s)
{
	if (d->sums)
		return streamed_summary(d, d->nvp + layer * VD_DIR__COUNT + (size_t)dir, phase, s);
	return summarize_by(d, phase, 0, layer, 0, dir, s);
}

size_t vd_delay_phases(const struct vd_delay *d, int out[VD_PHASE__COUNT + 1])
{
	size_t k = 0;
	out[k++] = VD_PHASE_ALL;
	for (int ph = 0; ph < VD_PHASE__COUNT; ph++) {
		int seen = d->sums && d->phase_seen[ph];
		for (size_t p = 0; !d->sums && p < d->map.n && !seen; p++)
			seen = d->phase[p] == ph;
		if (seen)
			out[k++] = ph;
	}
	return k;
}

const char *vd_delay_phase_name(int phase)
{
	return phase == VD_PHASE_ALL ? "all" : vd_phase_name((enum vd_phase)phase);
}

const char *vd_delay_dir_name(enum vd_delay_dir dir)
{
	static const char *const names[VD_DIR__COUNT] = {"rtt", "send", "recv"};
	return (unsigned)dir < VD_DIR__COUNT ? names[dir] : "?";
}
