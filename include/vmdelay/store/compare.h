/* compare.h — cross-run comparison of stored results: the per-layer Δ medians and 99th
 * percentiles of the `results` table (docs/schema.md), grouped by testbed, scenario, load, label or
 * run, side by side. Used by `vmdelay-analyze compare`. */
#ifndef VMDELAY_COMPARE_H
#define VMDELAY_COMPARE_H

#include <stddef.h>

#include "vmdelay/core/err.h"
#include "vmdelay/core/vdtime.h"
#include "vmdelay/store/run_meta.h"

struct vd_store;

/* What a group of runs is keyed by (--by). */
enum vd_compare_key {
	VD_CMP_TESTBED,	 /* testbeds.name */
	VD_CMP_SCENARIO, /* runs.scenario */
	VD_CMP_LOAD,	 /* run_meta 'load' (set by testbeds/run), else params' "load" */
	VD_CMP_LABEL,	 /* runs.label */
	VD_CMP_RUN,	 /* runs.id: every run its own column */
	VD_CMP_META,	 /* any other word: that run_meta key (e.g. scenario.nic, from --meta) */
	VD_CMP__COUNT
};

#define VD_COMPARE_MAX_BY 5

struct vd_compare_opts {
	enum vd_compare_key by[VD_COMPARE_MAX_BY];
	char meta_key[VD_COMPARE_MAX_BY][VD_META_KEY_MAX]; /* the key of each VD_CMP_META */
	size_t nby;
	const char *metric; /* glob (fnmatch, no escapes) on results.metric, NULL: every metric */
	const char *phase;  /* exact results.phase, NULL: every phase */
};

/* One result row of the comparison: a metric at a vantage point, phase and direction. */
struct vd_compare_row {
	char *metric, *vantage, *phase, *direction;
};

/* The value of one row for one group: the median over the group's runs of each run's stored
 * median_ns and p99_ns (VD_NS_NONE where no run of the group has that row). */
struct vd_compare_cell {
	size_t runs;
	vd_ns median;
	vd_ns p99;
};

struct vd_compare {
	size_t ngroups;
	char ***group_keys; /* [group][by index]: the key values naming each group */
	size_t *group_runs; /* runs in each group (with at least one matching result) */
	size_t nrows;
	struct vd_compare_row *rows;   /* in the order first stored */
	struct vd_compare_cell *cells; /* [row * ngroups + group] */
	struct vd_compare_opts opts;
};

/* Parses "testbed,scenario,load" into opts->by; a word that is no built-in key is a run_meta
 * key. -1 with a message naming the bad word. */
int vd_compare_parse_by(const char *spec, struct vd_compare_opts *opts, struct vd_err *err);

/* "testbed", "scenario", ... ("meta" for VD_CMP_META; its key is in opts->meta_key). */
const char *vd_compare_key_name(enum vd_compare_key k);

/* The name of grouping key i of opts: the built-in key's name or the metadata key. */
const char *vd_compare_by_name(const struct vd_compare_opts *opts, size_t i);

/* Every metadata key of opts->by is stored for some run of st: -1 with a message naming the
 * first that is not (a typo would otherwise put every run in one group). */
int vd_compare_check_by(struct vd_store *st, const struct vd_compare_opts *opts,
			struct vd_err *err);

/* Reads every complete run's median_ns and p99_ns results from st (any backend, opened
 * read-only or not) and groups them. Groups are in the order of their first run; rows in the
 * order first stored. An empty store gives an empty comparison. */
int vd_compare_query(struct vd_store *st, const struct vd_compare_opts *opts,
		     struct vd_compare **out, struct vd_err *err);

/* The cell of row r, group g. */
const struct vd_compare_cell *vd_compare_cell(const struct vd_compare *c, size_t r, size_t g);

/* A group's keys joined with '/', e.g. "netns/whiteaker/cpu", into buf. */
void vd_compare_group_name(const struct vd_compare *c, size_t g, char *buf, size_t len);

void vd_compare_free(struct vd_compare *c);

#endif
