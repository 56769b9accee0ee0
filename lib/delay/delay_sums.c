/* delay_sums.c — the summaries of a streamed analysis, probe by probe (delay_sums.h). */
#include "delay_sums.h"

#include <stdlib.h>
#include <string.h>

#include "vmdelay/core/mem.h"
#include "vmdelay/core/qhist.h"
#include "vmdelay/core/stats.h"
#include "vmdelay/input/probe.h"

#define SLOTS VD_DELAY_SUM_SLOTS /* VD_PHASE_ALL, then each phase */

/* A layer's series: its layer, direction and points, worked out once. */
struct series {
	size_t layer, outer, inner;
	enum vd_delay_dir dir;
};

struct vd_delay_sums {
	const struct vd_delay *d;
	struct series *series; /* nseries - nvp, after the points' RTTs */
	size_t nvp, nseries, rest;
	size_t n; /* probes committed */
	/* exact: the times of every probe committed (n * nvp) and its phase */
	struct vd_delay_times *t;
	int8_t *phase;
	size_t cap;
	/* past exact_max: one sketch per series and slot */
	struct vd_qhist *sketch;
	/* --rest N: the last N probes wait here, their phase unknown until the end */
	struct vd_delay_times *held;
	int8_t *held_phase;
	size_t held_first, held_n;
	/* vd_delay_sums_each: a payload per probe, held alongside its times */
	vd_delay_sums_each_fn each;
	void *each_ctx;
	size_t each_size;
	unsigned char *held_payload;
	/* vd_delay_sums_before_sketch */
	int (*before_sketch)(void *ctx);
	void *before_ctx;
	uint8_t seen[VD_PHASE__COUNT];
	struct vd_summary *sum; /* nseries * SLOTS, after finish */
	uint8_t *have;		/* which of sum were computed */
};

struct vd_delay_sums *vd_delay_sums_new(const struct vd_delay *d, size_t rest)
{
	struct vd_delay_sums *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->d = d;
	s->nvp = d->nvp;
	/* with one vantage point there is no layer */
	s->nseries = d->nvp + (d->nvp > 1 ? d->nvp * VD_DIR__COUNT : 0);
	s->rest = rest;
	s->series = calloc(s->nseries - s->nvp + 1, sizeof(*s->series));
	if (!s->series) {
		vd_delay_sums_free(s);
		return NULL;
	}
	for (size_t k = 0; k < s->nseries - s->nvp; k++) {
		size_t layer = k / VD_DIR__COUNT;
		s->series[k] = (struct series){.layer = layer,
					       .outer = layer ? layer - 1 : 0,
					       .inner = layer ? layer : s->nvp - 1,
					       .dir = (enum vd_delay_dir)(k % VD_DIR__COUNT)};
	}
	if (rest) {
		s->held = vd_mem_alloc(rest * s->nvp, sizeof(*s->held));
		s->held_phase = malloc(rest);
		if (!s->held || !s->held_phase) {
			vd_delay_sums_free(s);
			return NULL;
		}
	}
	return s;
}

int vd_delay_sums_each(struct vd_delay_sums *s, size_t size, vd_delay_sums_each_fn fn, void *ctx)
{
	if (s->rest && !(s->held_payload = vd_mem_alloc(s->rest, size)))
		return -1;
	s->each = fn;
	s->each_ctx = ctx;
	s->each_size = size;
	return 0;
}

/* Value of series k for a probe with times t (vd_delay_layer_from's, inline). */
static inline __attribute__((always_inline)) vd_ns value_of(const struct vd_delay_sums *s, size_t k,
							    const struct vd_delay_times *t)
{
	if (k < s->nvp)
		return vd_ns_valid(t[k].req) ? t[k].rep - t[k].req : VD_NS_NONE;
	const struct series *x = &s->series[k - s->nvp];
	return vd_delay_layer_value(s->d, x->outer, x->inner, x->dir, &t[x->outer], &t[x->inner]);
}

static int sketch_add(struct vd_delay_sums *s, const struct vd_delay_times *t, int8_t phase)
{
	for (size_t k = 0; k < s->nseries; k++) {
		vd_ns v = value_of(s, k, t);
		vd_qhist_add(&s->sketch[k * SLOTS], v);
		if (phase >= 0)
			vd_qhist_add(&s->sketch[k * SLOTS + 1 + phase], v);
	}
	return 0;
}

/* Past exact_max probes: the values kept go into sketches, in probe order, and are freed. */
static int to_sketch(struct vd_delay_sums *s)
{
	s->sketch = vd_mem_alloc(s->nseries * SLOTS, sizeof(*s->sketch));
	if (!s->sketch)
		return -1;
	for (size_t k = 0; k < s->nseries * SLOTS; k++)
		vd_qhist_init(&s->sketch[k]);
	for (size_t p = 0; p < s->n; p++)
		sketch_add(s, &s->t[p * s->nvp], s->phase[p]);
	free(s->t);
	free(s->phase);
	s->t = NULL;
	s->phase = NULL;
	return 0;
}

/* Room for need probes' times. The first time, room for every probe kept exact: address space
 * only, its pages come as they are written, and the times are never copied as they grow. */
static int reserve(struct vd_delay_sums *s, size_t need)
{
	size_t cap = s->cap, pcap = s->cap;
	if (vd_mem_reserve((void **)&s->t, &cap, need, s->nvp * sizeof(*s->t)) < 0 ||
	    vd_mem_reserve((void **)&s->phase, &pcap, need, sizeof(*s->phase)) < 0)
		return -1;
	s->cap = cap < pcap ? cap : pcap;
	return 0;
}

/* A probe whose phase is final. */
static int commit(struct vd_delay_sums *s, const struct vd_delay_times *t, int8_t phase,
		  const void *payload)
{
	if (s->each && s->each(s->each_ctx, s->n, payload, phase) < 0)
		return -1;
	if (phase >= 0 && phase < VD_PHASE__COUNT)
		s->seen[phase] = 1;
	if (!s->sketch && s->n + 1 > s->d->exact_max &&
	    ((s->before_sketch && s->before_sketch(s->before_ctx) != 0) || to_sketch(s) < 0))
		return -1;
	if (s->sketch) {
		s->n++;
		return sketch_add(s, t, phase);
	}
	if (s->n == s->cap && reserve(s, s->cap ? s->n + 1 : s->d->exact_max) < 0 &&
	    (s->cap || reserve(s, s->n + 1) < 0))
		return -1;
	memcpy(&s->t[s->n * s->nvp], t, s->nvp * sizeof(*t));
	s->phase[s->n++] = phase;
	return 0;
}

/* The payload of held slot at (NULL without vd_delay_sums_each). */
static const void *held_payload(const struct vd_delay_sums *s, size_t at)
{
	return s->held_payload ? s->held_payload + at * s->each_size : NULL;
}

int vd_delay_sums_add(struct vd_delay_sums *s, const struct vd_delay_times *t, int8_t phase,
		      const void *payload)
{
	if (!s->rest)
		return commit(s, t, phase, payload);
	/* --rest N: the first N probes are rest-pre, the last N rest-post (known at the end) */
	if (s->held_n == s->rest) {
		size_t p = s->n;
		int8_t ph = p < s->rest ? VD_PHASE_REST_PRE : VD_PHASE_LOAD;
		if (commit(s, &s->held[s->held_first * s->nvp], ph,
			   held_payload(s, s->held_first)) < 0)
			return -1;
		s->held_first = (s->held_first + 1) % s->rest;
		s->held_n--;
	}
	size_t at = (s->held_first + s->held_n++) % s->rest;
	memcpy(&s->held[at * s->nvp], t, s->nvp * sizeof(*t));
	if (s->held_payload)
		memcpy(s->held_payload + at * s->each_size, payload, s->each_size);
	s->held_phase[at] = phase;
	return 0;
}

int vd_delay_sums_add_run(struct vd_delay_sums *s, const struct vd_delay_times *t,
			  const int8_t *phase, const void *payload, size_t n)
{
	size_t nvp = s->nvp;
	if (s->rest || s->each) { /* each probe its own way */
		for (size_t i = 0; i < n; i++)
			if (vd_delay_sums_add(s, &t[i * nvp], phase[i],
					      payload ? (const unsigned char *)payload +
							    i * s->each_size
						      : NULL) < 0)
				return -1;
		return 0;
	}
	/* the usual run, exact with room for it: the times and phases copied at once, as commit
	 * copies them one by one */
	if (!s->sketch && s->n + n <= s->d->exact_max && s->n + n <= s->cap) {
		memcpy(&s->t[s->n * nvp], t, n * nvp * sizeof(*t));
		memcpy(&s->phase[s->n], phase, n);
		for (size_t i = 0; i < n; i++)
			if (phase[i] >= 0 && phase[i] < VD_PHASE__COUNT)
				s->seen[phase[i]] = 1;
		s->n += n;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!s->sketch) {
			if (commit(s, &t[i * nvp], phase[i], NULL) < 0)
				return -1;
			continue;
		}
		/* past exact_max: commit's sketch step without its tests a probe */
		if (phase[i] >= 0 && phase[i] < VD_PHASE__COUNT)
			s->seen[phase[i]] = 1;
		s->n++;
		sketch_add(s, &t[i * nvp], phase[i]);
	}
	return 0;
}

/* Series summarized together: their values gathered in one pass over the probes, and their
 * moments run side by side, so that the adds overlap (one series after the other, each add
 * waits for the one before: a division). */
#define GROUP 2

/* Where a pass puts each slot's values of a series: slot 0 (every probe) first, then each
 * phase's, at[slot] from the start of the series' part. */
struct slot_places {
	size_t at[SLOTS], width; /* width: a series' part */
};

static void slot_places(const struct vd_delay_sums *s, struct slot_places *pl)
{
	size_t count[VD_PHASE__COUNT] = {0};
	for (size_t p = 0; p < s->n; p++)
		if (s->phase[p] >= 0 && s->phase[p] < VD_PHASE__COUNT && s->seen[s->phase[p]])
			count[s->phase[p]]++;
	pl->at[0] = 0;
	pl->width = s->n;
	for (int ph = 0; ph < VD_PHASE__COUNT; ph++) {
		pl->at[ph + 1] = pl->width;
		pl->width += count[ph];
	}
}

/* Value v of probe p into part: every probe's slot, and its phase's (the probes have phases). */
static inline __attribute__((always_inline)) void put(const struct vd_delay_sums *s, size_t p,
						      vd_ns v, int phased, vd_ns *part, size_t *m)
{
	if (!vd_ns_valid(v))
		return;
	part[m[0]++] = v;
	int8_t ph = phased ? s->phase[p] : -1;
	if (ph >= 0 && ph < VD_PHASE__COUNT && s->seen[ph])
		part[m[ph + 1]++] = v;
}

/* A layer series' values (gather's loop, dir a constant where it is called: the layer's value
 * computed without a test of the direction a probe). */
static inline __attribute__((always_inline)) void gather_layer(const struct vd_delay_sums *s,
							       const struct series *x,
							       enum vd_delay_dir dir, int phased,
							       vd_ns *part, size_t *m)
{
	size_t nvp = s->nvp;
	const struct vd_delay_times *t = s->t;
	for (size_t p = 0; p < s->n; p++, t += nvp)
		put(s, p,
		    vd_delay_layer_value(s->d, x->outer, x->inner, dir, &t[x->outer], &t[x->inner]),
		    phased, part, m);
}

/* Series k's values of every probe, in probe order, into part: slot 0's from part, each
 * phase's at its place (pl); m[slot] ends past each slot's last. */
static void gather(const struct vd_delay_sums *s, size_t k, const struct slot_places *pl,
		   vd_ns *part, size_t *m)
{
	int phased = pl->width > s->n;
	for (int slot = 0; slot < SLOTS; slot++)
		m[slot] = pl->at[slot];
	if (k < s->nvp) {
		const struct vd_delay_times *t = &s->t[k];
		for (size_t p = 0; p < s->n; p++, t += s->nvp)
			put(s, p, value_of(s, k, t - k), phased, part, m);
		return;
	}
	const struct series *x = &s->series[k - s->nvp];
	if (x->dir == VD_DIR_RTT)
		gather_layer(s, x, VD_DIR_RTT, phased, part, m);
	else if (x->dir == VD_DIR_SEND)
		gather_layer(s, x, VD_DIR_SEND, phased, part, m);
	else
		gather_layer(s, x, VD_DIR_RECV, phased, part, m);
}

/* The exact summaries of series k0..k0+g in every slot some probe has: each series' values
 * gathered once for every slot (series j's part of vals at j * pl->width), then their moments
 * run side by side, slot by slot. */
static void summarize_group(struct vd_delay_sums *s, size_t k0, size_t g,
			    const struct slot_places *pl, vd_ns *vals)
{
	size_t m[GROUP][SLOTS];
	for (size_t j = 0; j < g; j++)
		gather(s, k0 + j, pl, &vals[j * pl->width], m[j]);
	for (int slot = 0; slot < SLOTS; slot++) {
		if (slot && !s->seen[slot - 1])
			continue;
		struct vd_running run[GROUP];
		size_t most = 0;
		for (size_t j = 0; j < g; j++) {
			vd_running_init(&run[j]);
			most = m[j][slot] > most ? m[j][slot] : most;
		}
		for (size_t i = pl->at[slot]; i < most; i++)
			for (size_t j = 0; j < g; j++)
				if (i < m[j][slot])
					vd_running_add(&run[j], vals[j * pl->width + i]);
		for (size_t j = 0; j < g; j++) {
			size_t at = (k0 + j) * SLOTS + (size_t)slot;
			vd_summarize_ran(&vals[j * pl->width + pl->at[slot]],
					 m[j][slot] - pl->at[slot], &run[j], &s->sum[at]);
			s->have[at] = 1;
		}
	}
}

/* Every exact summary: GROUP series at a time (one at a time when there is no room for it, or
 * when the probes have phases: each series then holds its values twice, by phase too). */
static int summarize_exact(struct vd_delay_sums *s)
{
	struct slot_places pl;
	slot_places(s, &pl);
	size_t group = pl.width > s->n ? 1 : GROUP;
	vd_ns *vals = vd_mem_alloc(pl.width ? group * pl.width : 1, sizeof(*vals));
	if (!vals && group > 1) {
		group = 1;
		vals = vd_mem_alloc(pl.width ? pl.width : 1, sizeof(*vals));
	}
	if (!vals)
		return -1;
	for (size_t k = 0; k < s->nseries; k += group)
		summarize_group(s, k, s->nseries - k < group ? s->nseries - k : group, &pl, vals);
	free(vals);
	return 0;
}

/* Every summary from the sketches; -1 when one ran out of memory. */
static int summarize_sketch(struct vd_delay_sums *s)
{
	for (size_t k = 0; k < s->nseries; k++)
		for (int slot = 0; slot < SLOTS; slot++) {
			size_t at = k * SLOTS + (size_t)slot;
			if (slot && !s->seen[slot - 1])
				continue;
			if (s->sketch[at].oom)
				return -1;
			vd_qhist_summary(&s->sketch[at], &s->sum[at]);
			s->have[at] = 1;
		}
	return 0;
}

void vd_delay_sums_before_sketch(struct vd_delay_sums *s, int (*fn)(void *ctx), void *ctx)
{
	s->before_sketch = fn;
	s->before_ctx = ctx;
}

int vd_delay_sums_close(struct vd_delay_sums *s)
{
	for (; s->held_n; s->held_n--) {
		int8_t ph = s->n < s->rest ? VD_PHASE_REST_PRE : VD_PHASE_REST_POST;
		if (commit(s, &s->held[s->held_first * s->nvp], ph,
			   held_payload(s, s->held_first)) < 0)
			return -1;
		s->held_first = (s->held_first + 1) % s->rest;
	}
	return 0;
}

size_t vd_delay_sums_count(const struct vd_delay_sums *s)
{
	return s->n + s->held_n;
}

const struct vd_delay_times *vd_delay_sums_times(const struct vd_delay_sums *s, size_t p)
{
	return s->sketch || p >= s->n ? NULL : &s->t[p * s->nvp];
}

int vd_delay_sums_finish(struct vd_delay_sums *s, struct vd_delay *d)
{
	if (vd_delay_sums_close(s) < 0)
		return -1;
	/* the series of every layer, even with one point (never asked for then) */
	size_t all = d->nvp * (1 + VD_DIR__COUNT) * SLOTS;
	s->sum = calloc(all, sizeof(*s->sum));
	s->have = calloc(all, 1);
	if (!s->sum || !s->have)
		return -1;
	if ((s->sketch ? summarize_sketch(s) : summarize_exact(s)) < 0)
		return -1;
	d->sums = s->sum;
	d->sums_have = s->have;
	s->sum = NULL;
	s->have = NULL;
	memcpy(d->phase_seen, s->seen, sizeof(d->phase_seen));
	d->map.n = s->n;
	return 0;
}

size_t vd_delay_sums_held(const struct vd_delay_sums *s)
{
	return (s->sketch ? 0 : s->n) + s->held_n;
}

void vd_delay_sums_free(struct vd_delay_sums *s)
{
	if (!s)
		return;
	if (s->sketch)
		for (size_t k = 0; k < s->nseries * SLOTS; k++)
			vd_qhist_free(&s->sketch[k]);
	free(s->sketch);
	free(s->series);
	free(s->t);
	free(s->phase);
	free(s->held);
	free(s->held_phase);
	free(s->held_payload);
	free(s->sum);
	free(s->have);
	free(s);
}
