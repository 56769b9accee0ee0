/* compare.c — groups the stored per-layer results of many runs for side-by-side comparison
 * across testbeds (the results table of docs/schema.md). A group's value for a row is
 * the median over its runs of each run's stored median_ns (and p99_ns): one noisy run does not
 * move a group with several. */
#include "vmdelay/store/compare.h"

#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/core/mem.h"
#include "vmdelay/core/stats.h"

static const char *const key_names[VD_CMP__COUNT] = {
	[VD_CMP_TESTBED] = "testbed", [VD_CMP_SCENARIO] = "scenario", [VD_CMP_LOAD] = "load",
	[VD_CMP_LABEL] = "label",     [VD_CMP_RUN] = "run",         [VD_CMP_META] = "meta",
};

/* The SQL expression giving each key's value for run r (testbed t). */
static const char *const key_sql[VD_CMP__COUNT] = {
	[VD_CMP_TESTBED] = "t.name",
	[VD_CMP_SCENARIO] = "COALESCE(r.scenario, '')",
	[VD_CMP_LOAD] = "COALESCE((SELECT m.value FROM run_meta m WHERE m.run_id = r.id"
			" AND m.key = 'load'), CASE WHEN json_valid(r.params)"
			" THEN json_extract(r.params, '$.load') END, '')",
	[VD_CMP_LABEL] = "COALESCE(r.label, '')",
	[VD_CMP_RUN] = "CAST(r.id AS TEXT)",
	[VD_CMP_META] = NULL, /* meta_sql */
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
				return vd_err_set(err,
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

static char *dup_text(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	return strdup(t ? (const char *)t : "");
}

/* Finds or adds the group of the current statement row (key columns 1..nby). */
static int group_of(struct builder *b, sqlite3_stmt *s, size_t *g)
{
	struct vd_compare *c = b->c;
	size_t nby = c->opts.nby;
	for (size_t i = 0; i < c->ngroups; i++) {
		size_t k = 0;
		while (k < nby && str_eq(c->group_keys[i][k], (const char *)sqlite3_column_text(s, 1 + (int)k)))
			k++;
		if (k == nby) {
			*g = i;
			return 0;
		}
	}
	if (vd_mem_reserve((void **)&c->group_keys, &b->cap_groups, c->ngroups + 1, sizeof(char **)))
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
	char **keys = calloc(nby ? nby : 1, sizeof(*keys));
	if (!keys)
		return -1;
	c->group_keys[c->ngroups] = keys;
	c->group_runs[c->ngroups] = 0;
	b->last_run[c->ngroups] = INT64_MIN;
	c->ngroups++;
	for (size_t k = 0; k < nby; k++)
		if (!(keys[k] = dup_text(s, 1 + (int)k)))
			return -1;
	*g = c->ngroups - 1;
	return 0;
}

/* Finds or adds the row (metric, vantage, phase, direction) at columns base..base+3. */
static int row_of(struct builder *b, sqlite3_stmt *s, int base, size_t *r)
{
	struct vd_compare *c = b->c;
	const char *m = (const char *)sqlite3_column_text(s, base);
	const char *v = (const char *)sqlite3_column_text(s, base + 1);
	const char *ph = (const char *)sqlite3_column_text(s, base + 2);
	const char *d = (const char *)sqlite3_column_text(s, base + 3);
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
	if (!(row->metric = dup_text(s, base)) || !(row->vantage = dup_text(s, base + 1)) ||
	    !(row->phase = dup_text(s, base + 2)) || !(row->direction = dup_text(s, base + 3)))
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
			cell->median = median_of(b->samples, b->nsamples, g, r, 0, buf, &cell->runs);
			cell->p99 = median_of(b->samples, b->nsamples, g, r, 1, buf, &cell->runs);
		}
	free(buf);
	return 0;
}

/* Whether db has no table at all: a store nobody wrote to yet. */
static int store_is_empty(struct sqlite3 *db)
{
	sqlite3_stmt *q;
	int objects = -1;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		objects = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return objects == 0;
}

/* A --by metadata key some stored run has; -1 with a message otherwise. */
static int meta_key_stored(struct sqlite3 *db, const char *key, struct vd_err *err)
{
	int rc = SQLITE_DONE; /* an empty store has no key */
	if (!store_is_empty(db)) {
		sqlite3_stmt *s;
		if (sqlite3_prepare_v2(db, "SELECT 1 FROM run_meta WHERE key = ? LIMIT 1", -1, &s,
				       NULL) != SQLITE_OK)
			return vd_err_set(err, "%s: not a vmdelay database: %s",
					  sqlite3_db_filename(db, "main"), sqlite3_errmsg(db));
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
	}
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return vd_err_set(err, "%s: cannot read run metadata: %s",
				  sqlite3_db_filename(db, "main"), sqlite3_errmsg(db));
	return vd_err_set(err,
			  "--by: no stored run has the key '%s' (testbed, scenario, load, label, run or "
			  "a --meta key)",
			  key);
}

int vd_compare_check_by(struct sqlite3 *db, const struct vd_compare_opts *opts, struct vd_err *err)
{
	for (size_t k = 0; k < opts->nby; k++)
		if (opts->by[k] == VD_CMP_META && meta_key_stored(db, opts->meta_key[k], err))
			return -1;
	return 0;
}

int vd_compare_query(struct sqlite3 *db, const struct vd_compare_opts *opts, struct vd_compare **out,
		     struct vd_err *err)
{
	*out = NULL;
	if (opts->nby == 0 || opts->nby > VD_COMPARE_MAX_BY)
		return vd_err_set(err, "compare: between 1 and %d grouping keys", VD_COMPARE_MAX_BY);
	/* A new store nobody wrote to yet (readers do not create the schema) has nothing; a
	 * database with tables but not ours is an error below. */
	if (store_is_empty(db)) {
		if (!(*out = calloc(1, sizeof(**out))))
			return vd_err_set(err, "compare: out of memory");
		(*out)->opts = *opts;
		return 0;
	}
	char sql[4096];
	size_t len = (size_t)snprintf(sql, sizeof(sql), "SELECT r.id");
	for (size_t k = 0; k < opts->nby && len < sizeof(sql); k++) {
		if (opts->by[k] == VD_CMP_META) /* the key is bound as parameter 3 + k */
			len += (size_t)snprintf(sql + len, sizeof(sql) - len,
						", COALESCE((SELECT m.value FROM run_meta m WHERE"
						" m.run_id = r.id AND m.key = ?%zu), '')",
						3 + k);
		else
			len += (size_t)snprintf(sql + len, sizeof(sql) - len, ", %s",
						key_sql[opts->by[k]]);
	}
	if (len < sizeof(sql))
		len += (size_t)snprintf(sql + len, sizeof(sql) - len,
				", res.metric, res.vantage, res.phase, res.direction, res.stat,"
				" res.value FROM results res JOIN runs r ON r.id = res.run_id"
				" JOIN testbeds t ON t.id = r.testbed_id"
				" WHERE r.complete = 1 AND res.stat IN ('median_ns', 'p99_ns')"
				" AND (?1 IS NULL OR res.metric GLOB ?1)"
				" AND (?2 IS NULL OR res.phase = ?2)"
				" ORDER BY r.id, res.rowid");
	if (len >= sizeof(sql))
		return vd_err_set(err, "compare: query too long");
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return vd_err_set(err, "%s: not a vmdelay database with results: %s",
				  sqlite3_db_filename(db, "main"), sqlite3_errmsg(db));
	if (opts->metric)
		sqlite3_bind_text(s, 1, opts->metric, -1, SQLITE_STATIC);
	if (opts->phase)
		sqlite3_bind_text(s, 2, opts->phase, -1, SQLITE_STATIC);
	for (size_t k = 0; k < opts->nby; k++)
		if (opts->by[k] == VD_CMP_META)
			sqlite3_bind_text(s, 3 + (int)k, opts->meta_key[k], -1, SQLITE_STATIC);

	struct builder b = { 0 };
	b.c = calloc(1, sizeof(*b.c));
	if (!b.c) {
		sqlite3_finalize(s);
		return vd_err_set(err, "compare: out of memory");
	}
	b.c->opts = *opts;
	int base = 1 + (int)opts->nby, rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		size_t g, r;
		if (sqlite3_column_type(s, base + 5) == SQLITE_NULL)
			continue;
		if (group_of(&b, s, &g) || row_of(&b, s, base, &r) ||
		    vd_mem_reserve((void **)&b.samples, &b.cap_samples, b.nsamples + 1, sizeof(*b.samples)))
			goto oom;
		int64_t run = sqlite3_column_int64(s, 0);
		if (b.last_run[g] != run) {
			b.last_run[g] = run;
			b.c->group_runs[g]++;
		}
		const char *stat = (const char *)sqlite3_column_text(s, base + 4);
		b.samples[b.nsamples++] = (struct sample){
			.group = g,
			.row = r,
			.is_p99 = stat && strcmp(stat, "p99_ns") == 0,
			.value = sqlite3_column_double(s, base + 5),
		};
	}
	sqlite3_finalize(s);
	s = NULL;
	if (rc != SQLITE_DONE) {
		vd_err_set(err, "%s: cannot read results: %s", sqlite3_db_filename(db, "main"),
			   sqlite3_errmsg(db));
		goto fail;
	}
	if (aggregate(&b))
		goto oom;
	free(b.samples);
	free(b.last_run);
	*out = b.c;
	return 0;
oom:
	vd_err_set(err, "compare: out of memory");
fail:
	sqlite3_finalize(s);
	free(b.samples);
	free(b.last_run);
	vd_compare_free(b.c);
	return -1;
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
