/* compare.c — groups the stored per-layer results of many runs for side-by-side comparison
 * across testbeds (the results table of docs/schema.md). A group's value for a row is
 * the median over its runs of each run's stored median_ns (and p99_ns): one noisy run does not
 * move a group with several. */
#include "vmdelay/store/compare.h"

#include <fnmatch.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/core/mem.h"
#include "vmdelay/core/stats.h"
#include "vmdelay/store/store.h"

#include "store_impl.h"
#include "store_schema.h"

static const char *const key_names[VD_CMP__COUNT] = {
    [VD_CMP_TESTBED] = "testbed", [VD_CMP_SCENARIO] = "scenario", [VD_CMP_LOAD] = "load",
    [VD_CMP_LABEL] = "label",	  [VD_CMP_RUN] = "run",		  [VD_CMP_META] = "meta",
};

/* The SQL expression giving each key's value for run r (testbed t), in the dialect SQLite and
 * PostgreSQL share. The load key's fallback on params' "load" is read in C (load_of): the
 * two dialects have no JSON function in common. */
static const char *const key_sql[VD_CMP__COUNT] = {
    [VD_CMP_TESTBED] = "t.name",
    [VD_CMP_SCENARIO] = "COALESCE(r.scenario, '')",
    [VD_CMP_LOAD] = "(SELECT m.value FROM run_meta m WHERE m.run_id = r.id AND m.key = 'load')",
    [VD_CMP_LABEL] = "COALESCE(r.label, '')",
    [VD_CMP_RUN] = "CAST(r.id AS TEXT)",
    [VD_CMP_META] = ("COALESCE((SELECT m.value FROM run_meta m WHERE m.run_id = r.id"
		     " AND m.key = ?), '')"), /* the key bound in --by order */
};

const char *vd_compare_key_name(enum vd_compare_key k)
{
	return (k >= 0 && k < VD_CMP__COUNT) ? key_names[k] : "?";
}

const char *vd_compare_by_name(const struct vd_compare_opts *opts, size_t i)
{
	return opts->by[i] == VD_CMP_META ? opts->meta_key[i] : vd_compare_key_name(opts->by[i]);
}

int vd_compare_parse_by(const char *spec, struct vd_compare_opts *opts, struct vd_err *err)
{
	opts->nby = 0;
	const char *p = spec;
	while (*p) {
		size_t len = strcspn(p, ",");
		int found = -1;
		for (int k = 0; k < VD_CMP_META; k++)
			if (strlen(key_names[k]) == len && strncmp(p, key_names[k], len) == 0)
				found = k;
		if (found < 0) {
			if (!vd_meta_key_valid(p, len))
				return vd_err_set(
				    err,
				    "--by: bad key '%.*s' (testbed, scenario, load, label, run or "
				    "a metadata key: letters, digits, '.', '_', '-')",
				    (int)len, p);
			found = VD_CMP_META;
		}
		for (size_t i = 0; i < opts->nby; i++)
			if (opts->by[i] == (enum vd_compare_key)found &&
			    (found != VD_CMP_META || (strlen(opts->meta_key[i]) == len &&
						      strncmp(opts->meta_key[i], p, len) == 0)))
				return vd_err_set(err, "--by: '%.*s' given twice", (int)len, p);
		if (opts->nby == VD_COMPARE_MAX_BY)
			return vd_err_set(err, "--by: at most %d keys", VD_COMPARE_MAX_BY);
		opts->meta_key[opts->nby][0] = '\0';
		if (found == VD_CMP_META) {
			memcpy(opts->meta_key[opts->nby], p, len);
			opts->meta_key[opts->nby][len] = '\0';
		}
		opts->by[opts->nby++] = (enum vd_compare_key)found;
		p += len;
		if (*p == ',') {
			p++;
			if (!*p)
				return vd_err_set(err, "--by: empty key after ','");
		}
	}
	if (opts->nby == 0)
		return vd_err_set(err, "--by: no key given");
	return 0;
}

/* One stored value, before aggregation. */
struct sample {
	size_t group, row;
	int is_p99;
	double value;
};

struct builder {
	struct vd_compare *c;
	struct sample *samples;
	size_t nsamples, cap_samples, cap_groups, cap_rows;
	int64_t *last_run; /* per group: the last run counted, to count runs once */
};

static int str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static char *dup_str(const char *t)
{
	return strdup(t ? t : "");
}

/* Finds or adds the group of the key values keys[0..nby). */
static int group_of(struct builder *b, const char *const *keys, size_t *g)
{
	struct vd_compare *c = b->c;
	size_t nby = c->opts.nby;
	for (size_t i = 0; i < c->ngroups; i++) {
		size_t k = 0;
		while (k < nby && str_eq(c->group_keys[i][k], keys[k]))
			k++;
		if (k == nby) {
			*g = i;
			return 0;
		}
	}
	if (vd_mem_reserve((void **)&c->group_keys, &b->cap_groups, c->ngroups + 1,
			   sizeof(char **)))
		return -1;
	/* The parallel arrays follow group_keys' capacity. */
	size_t *runs = realloc(c->group_runs, b->cap_groups * sizeof(*runs));
	if (!runs)
		return -1;
	c->group_runs = runs;
	int64_t *last = realloc(b->last_run, b->cap_groups * sizeof(*last));
	if (!last)
		return -1;
	b->last_run = last;
	char **gk = calloc(nby ? nby : 1, sizeof(*gk));
	if (!gk)
		return -1;
	c->group_keys[c->ngroups] = gk;
	c->group_runs[c->ngroups] = 0;
	b->last_run[c->ngroups] = INT64_MIN;
	c->ngroups++;
	for (size_t k = 0; k < nby; k++)
		if (!(gk[k] = dup_str(keys[k])))
			return -1;
	*g = c->ngroups - 1;
	return 0;
}

/* Finds or adds the row (metric, vantage, phase, direction) at columns base..base+3. */
static int row_of(struct builder *b, const struct vd_store_row *s, int base, size_t *r)
{
	struct vd_compare *c = b->c;
	const char *m = vd_row_text(s, base);
	const char *v = vd_row_text(s, base + 1);
	const char *ph = vd_row_text(s, base + 2);
	const char *d = vd_row_text(s, base + 3);
	for (size_t i = 0; i < c->nrows; i++) {
		const struct vd_compare_row *row = &c->rows[i];
		if (str_eq(row->metric, m) && str_eq(row->vantage, v) && str_eq(row->phase, ph) &&
		    str_eq(row->direction, d)) {
			*r = i;
			return 0;
		}
	}
	if (vd_mem_reserve((void **)&c->rows, &b->cap_rows, c->nrows + 1, sizeof(*c->rows)))
		return -1;
	struct vd_compare_row *row = &c->rows[c->nrows];
	memset(row, 0, sizeof(*row));
	c->nrows++;
	if (!(row->metric = dup_str(m)) || !(row->vantage = dup_str(v)) ||
	    !(row->phase = dup_str(ph)) || !(row->direction = dup_str(d)))
		return -1;
	*r = c->nrows - 1;
	return 0;
}

/* Median of the group's per-run values, rounded to the ns; VD_NS_NONE when none. */
static vd_ns median_of(const struct sample *smp, size_t n, size_t g, size_t r, int p99, vd_ns *buf,
		       size_t *runs)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (smp[i].group == g && smp[i].row == r && smp[i].is_p99 == p99 &&
		    isfinite(smp[i].value))
			buf[k++] = (vd_ns)llround(smp[i].value);
	if (runs && k > *runs)
		*runs = k;
	if (k == 0)
		return VD_NS_NONE;
	vd_sort_ns(buf, k);
	return vd_percentile_sorted(buf, k, 50);
}

static int aggregate(struct builder *b)
{
	struct vd_compare *c = b->c;
	size_t ncells = c->nrows * c->ngroups;
	c->cells = calloc(ncells ? ncells : 1, sizeof(*c->cells));
	vd_ns *buf = malloc((b->nsamples ? b->nsamples : 1) * sizeof(*buf));
	if (!c->cells || !buf) {
		free(buf);
		return -1;
	}
	for (size_t r = 0; r < c->nrows; r++)
		for (size_t g = 0; g < c->ngroups; g++) {
			struct vd_compare_cell *cell = &c->cells[r * c->ngroups + g];
			cell->runs = 0;
			cell->median =
			    median_of(b->samples, b->nsamples, g, r, 0, buf, &cell->runs);
			cell->p99 = median_of(b->samples, b->nsamples, g, r, 1, buf, &cell->runs);
		}
	free(buf);
	return 0;
}

/* Stops a select at its first row. */
static int found_row(void *arg, const struct vd_store_row *row)
{
	(void)row;
	*(int *)arg = 1;
	return 1;
}

/* A --by metadata key some stored run has; -1 with a message otherwise. */
static int meta_key_stored(struct vd_store *st, const char *key, struct vd_err *err)
{
	int found = 0;
	/* An empty store (readers do not create the schema) has no key. */
	if (st->version > 0) {
		const char *params[] = {key};
		int rc = st->ops->select(st, "SELECT 1 FROM run_meta WHERE key = ? LIMIT 1", 1,
					 params, found_row, &found, err);
		if (rc < 0)
			return -1;
	}
	if (found)
		return 0;
	return vd_err_set(
	    err,
	    "--by: no stored run has the key '%s' (testbed, scenario, load, label, run or "
	    "a --meta key)",
	    key);
}

int vd_compare_check_by(struct vd_store *st, const struct vd_compare_opts *opts, struct vd_err *err)
{
	for (size_t k = 0; k < opts->nby; k++)
		if (opts->by[k] == VD_CMP_META && meta_key_stored(st, opts->meta_key[k], err))
			return -1;
	return 0;
}

/* The "load" of a run's params JSON, as SQLite's json_extract gave it before this was read in
 * C: a string as it is, a number or boolean as SQL prints it; NULL when none. malloc'd into
 * *out. */
static int load_of(const char *params, char **out)
{
	*out = NULL;
	json_t *j = params ? json_loads(params, JSON_DECODE_ANY, NULL) : NULL;
	json_t *v = json_is_object(j) ? json_object_get(j, "load") : NULL;
	char buf[64];
	const char *t = NULL;
	char *dumped = NULL;
	if (json_is_string(v)) {
		t = json_string_value(v);
	} else if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		t = buf;
	} else if (json_is_real(v)) {
		/* SQLite prints a REAL with 15 digits and always a '.': "2.5", "3.0", "1.0e+20" */
		char num[40];
		snprintf(num, sizeof(num), "%.15g", json_real_value(v));
		size_t mant = strcspn(num, "e");
		if (strchr(num, '.') || strpbrk(num, "ni"))
			snprintf(buf, sizeof(buf), "%s", num);
		else
			snprintf(buf, sizeof(buf), "%.*s.0%s", (int)mant, num, num + mant);
		t = buf;
	} else if (json_is_boolean(v)) {
		t = json_is_true(v) ? "1" : "0";
	} else if (json_is_array(v) || json_is_object(v)) {
		t = dumped = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	}
	int rc = t && !(*out = strdup(t)) ? -1 : 0;
	free(dumped);
	json_decref(j);
	return rc;
}

/* The state of the results select: the builder, the filter and the first error. */
struct scan {
	struct builder b;
	const struct vd_compare_opts *opts;
	struct vd_err *err;
};

/* One stored result (columns: run id, the nby keys, metric, vantage, phase, direction, stat,
 * value, params). */
static int scan_row(void *arg, const struct vd_store_row *s)
{
	struct scan *sc = arg;
	struct builder *b = &sc->b;
	size_t nby = sc->opts->nby;
	int base = 1 + (int)nby;
	if (vd_row_null(s, base + 5))
		return 0;
	/* SQLite's GLOB: *, ?, [...] and no escape character (the same on both backends) */
	const char *metric = vd_row_text(s, base);
	if (sc->opts->metric && fnmatch(sc->opts->metric, metric ? metric : "", FNM_NOESCAPE))
		return 0;
	const char *keys[VD_COMPARE_MAX_BY];
	char *load = NULL;
	for (size_t k = 0; k < nby; k++) {
		keys[k] = vd_row_text(s, 1 + (int)k);
		if (sc->opts->by[k] == VD_CMP_LOAD && !keys[k]) {
			if (load_of(vd_row_text(s, base + 6), &load))
				goto oom;
			keys[k] = load;
		}
	}
	size_t g, r;
	int failed = group_of(b, keys, &g) || row_of(b, s, base, &r) ||
		     vd_mem_reserve((void **)&b->samples, &b->cap_samples, b->nsamples + 1,
				    sizeof(*b->samples));
	free(load);
	if (failed)
		goto oom;
	int64_t run = vd_row_int64(s, 0);
	if (b->last_run[g] != run) {
		b->last_run[g] = run;
		b->c->group_runs[g]++;
	}
	const char *stat = vd_row_text(s, base + 4);
	b->samples[b->nsamples++] = (struct sample){
	    .group = g,
	    .row = r,
	    .is_p99 = stat && strcmp(stat, "p99_ns") == 0,
	    .value = vd_row_double(s, base + 5),
	};
	return 0;
oom:
	vd_err_set(sc->err, "compare: out of memory");
	return -1;
}

int vd_compare_query(struct vd_store *st, const struct vd_compare_opts *opts,
		     struct vd_compare **out, struct vd_err *err)
{
	*out = NULL;
	if (opts->nby == 0 || opts->nby > VD_COMPARE_MAX_BY)
		return vd_err_set(err, "compare: between 1 and %d grouping keys",
				  VD_COMPARE_MAX_BY);
	struct scan sc = {.opts = opts, .err = err};
	if (!(sc.b.c = calloc(1, sizeof(*sc.b.c))))
		return vd_err_set(err, "compare: out of memory");
	sc.b.c->opts = *opts;
	/* A new store nobody wrote to yet (readers do not create the schema) has nothing. */
	if (st->version == 0) {
		*out = sc.b.c;
		return 0;
	}
	/* One query for both backends; the keys' values and the phase are parameters in the
	 * order of their '?'. */
	const char *params[VD_COMPARE_MAX_BY + 1];
	size_t np = 0;
	int needs_params = 0;
	char sql[4096];
	size_t len = (size_t)snprintf(sql, sizeof(sql), "SELECT r.id");
	for (size_t k = 0; k < opts->nby && len < sizeof(sql); k++) {
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, ", %s", key_sql[opts->by[k]]);
		if (opts->by[k] == VD_CMP_META)
			params[np++] = opts->meta_key[k];
		needs_params |= opts->by[k] == VD_CMP_LOAD;
	}
	if (len < sizeof(sql))
		len += (size_t)snprintf(
		    sql + len, sizeof(sql) - len,
		    ", res.metric, res.vantage, res.phase, res.direction, res.stat, res.value, %s"
		    " FROM results res JOIN runs r ON r.id = res.run_id"
		    " JOIN testbeds t ON t.id = r.testbed_id"
		    " WHERE r.complete = 1 AND res.stat IN ('median_ns', 'p99_ns')%s"
		    " ORDER BY r.id, res.%s",
		    needs_params ? "r.params" : "NULL", opts->phase ? " AND res.phase = ?" : "",
		    st->version >= VD_STORE_RESULTS_IDX ? "idx" : st->ops->insert_order);
	if (opts->phase)
		params[np++] = opts->phase;
	if (len >= sizeof(sql)) {
		vd_compare_free(sc.b.c);
		return vd_err_set(err, "compare: query too long");
	}
	int rc = st->ops->select(st, sql, np, params, scan_row, &sc, err);
	if (rc == 0 && aggregate(&sc.b))
		rc = vd_err_set(err, "compare: out of memory");
	if (rc) {
		free(sc.b.samples);
		free(sc.b.last_run);
		vd_compare_free(sc.b.c);
		return -1;
	}
	free(sc.b.samples);
	free(sc.b.last_run);
	*out = sc.b.c;
	return 0;
}

const struct vd_compare_cell *vd_compare_cell(const struct vd_compare *c, size_t r, size_t g)
{
	return &c->cells[r * c->ngroups + g];
}

void vd_compare_group_name(const struct vd_compare *c, size_t g, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t k = 0; k < c->opts.nby && n < len; k++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", k ? "/" : "",
				      c->group_keys[g][k][0] ? c->group_keys[g][k] : "-");
}

void vd_compare_free(struct vd_compare *c)
{
	if (!c)
		return;
	for (size_t g = 0; g < c->ngroups; g++) {
		if (c->group_keys[g])
			for (size_t k = 0; k < c->opts.nby; k++)
				free(c->group_keys[g][k]);
		free(c->group_keys[g]);
	}
	free(c->group_keys);
	free(c->group_runs);
	for (size_t r = 0; r < c->nrows; r++) {
		free(c->rows[r].metric);
		free(c->rows[r].vantage);
		free(c->rows[r].phase);
		free(c->rows[r].direction);
	}
	free(c->rows);
	free(c->cells);
	free(c);
}
