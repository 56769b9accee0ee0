/* tping_split.c — tping files split into their points, each read once for all of them
 * (tping_split.h). */
#include "tping_split.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tping_rows.h"
#include "vmdelay/core/mem.h"
#include "vmdelay/input/format.h"

/* One tping file split: how to open it again, its points and their specs' selectors, and its
 * current reading. */
struct split_file {
	struct vd_vantage_spec spec; /* path and run=N: the source's */
	int points[VD_TPING_POINTS];
	char select[VD_TPING_POINTS][VD_VANTAGE_SELECT_MAX];
	int strict; /* points found from the first rows: another point later fails */
	struct vd_tping_feed *feed;
};

struct vd_tping_split {
	struct split_file **files;
	size_t n, cap;
};

struct vd_tping_split *vd_tping_split_new(void)
{
	return calloc(1, sizeof(struct vd_tping_split));
}

static void file_free(struct split_file *sf)
{
	if (sf) {
		vd_tping_feed_unref(sf->feed);
		vd_vantage_spec_free(&sf->spec);
		free(sf);
	}
}

void vd_tping_split_free(struct vd_tping_split *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		file_free(s->files[i]);
	free(s->files);
	free(s);
}

/* The points of sf: the selected ones when they all show in its first rows, else those that
 * show. How many (0: not split), or -1 out of memory. */
static int first_rows(struct split_file *sf, const int want[VD_TPING_POINTS], int named)
{
	struct vd_source *src;
	struct vd_err err;
	int seen[VD_TPING_POINTS], n = 0;
	if (vd_source_open(&sf->spec, VD_SOURCE_PROBES, &src, &err) < 0)
		return 0;
	if (!(sf->feed = vd_tping_feed_new(src, sf->spec.path, want)))
		return -1;
	if (vd_tping_feed_first(sf->feed, seen, &err) < 0)
		return 0;
	for (int k = 0; k < VD_TPING_POINTS; k++) {
		if (named && want[k] && !seen[k])
			return 0;
		sf->points[k] = seen[k] && want[k];
		n += sf->points[k];
	}
	vd_tping_feed_keep(sf->feed, sf->points, !named);
	sf->strict = !named;
	return n;
}

int vd_tping_split_file(struct vd_tping_split *s, const struct vd_vantage_spec *spec,
			struct vd_vantage_spec out[VD_TPING_POINTS], struct vd_err *err)
{
	enum vd_format f;
	struct vd_err ferr;
	int want[VD_TPING_POINTS];
	if (vd_format_is_stream(spec->path) || vd_format_detect_file(spec->path, &f, &ferr) < 0 ||
	    !vd_format_is_tping(f))
		return 0;
	int named = vd_tping_select(spec, want, NULL);
	if (named < 0)
		return 0;
	for (int k = 0; k < VD_TPING_POINTS && !named; k++)
		want[k] = 1;
	int64_t run = vd_tping_select_run(spec->select);
	struct split_file *sf = calloc(1, sizeof(*sf));
	if (!sf || !(sf->spec.path = strdup(spec->path)) ||
	    vd_mem_reserve((void **)&s->files, &s->cap, s->n + 1, sizeof(*s->files)) < 0) {
		file_free(sf);
		return vd_err_set(err, "out of memory");
	}
	if (run >= 0)
		snprintf(sf->spec.select, sizeof(sf->spec.select), "run=%lld", (long long)run);
	int n = first_rows(sf, want, named);
	if (n <= 0) {
		file_free(sf);
		return n < 0 ? vd_err_set(err, "out of memory") : 0;
	}
	for (int k = 0, i = 0; k < VD_TPING_POINTS; k++) {
		if (!sf->points[k])
			continue;
		struct vd_vantage_spec *o = &out[i++];
		*o = (struct vd_vantage_spec){.path = strdup(spec->path)};
		memcpy(o->clock, spec->clock, sizeof(o->clock));
		/* vd_echo_read's names: NAME for one point, NAME.POINT for several, else POINT */
		if (spec->name[0] && n == 1)
			snprintf(o->name, sizeof(o->name), "%s", spec->name);
		else if (spec->name[0])
			snprintf(o->name, sizeof(o->name), "%.60s.%s", spec->name,
				 vd_tping_point_name(k));
		else
			snprintf(o->name, sizeof(o->name), "%s", vd_tping_point_name(k));
		if (run >= 0)
			snprintf(o->select, sizeof(o->select), "%s,run=%lld",
				 vd_tping_point_name(k), (long long)run);
		else
			snprintf(o->select, sizeof(o->select), "%s", vd_tping_point_name(k));
		memcpy(sf->select[k], o->select, sizeof(o->select));
		if (!o->path) {
			for (int j = 0; j < i; j++)
				vd_vantage_spec_free(&out[j]);
			file_free(sf);
			return vd_err_set(err, "out of memory");
		}
	}
	s->files[s->n++] = sf;
	return n;
}

int vd_tping_split_attach(struct vd_tping_split *s, const struct vd_vantage_spec *spec,
			  struct vd_tping_pull **out, struct vd_err *err)
{
	int k = vd_tping_pull_point(spec);
	struct split_file *sf = NULL;
	for (size_t i = 0; k >= 0 && i < s->n && !sf; i++)
		if (s->files[i]->points[k] && strcmp(s->files[i]->select[k], spec->select) == 0 &&
		    strcmp(s->files[i]->spec.path, spec->path) == 0)
			sf = s->files[i];
	if (!sf)
		return 1;
	if ((*out = vd_tping_feed_attach(sf->feed, k)))
		return 0;
	/* read again (a pass before this one read the point): the points opened from now on
	 * share the new reading */
	struct vd_source *src;
	if (vd_source_open(&sf->spec, VD_SOURCE_PROBES, &src, err) < 0)
		return -1;
	struct vd_tping_feed *f = vd_tping_feed_new(src, sf->spec.path, sf->points);
	if (!f)
		return vd_err_set(err, "out of memory");
	vd_tping_feed_keep(f, sf->points, sf->strict);
	vd_tping_feed_unref(sf->feed);
	sf->feed = f;
	*out = vd_tping_feed_attach(f, k);
	return 0;
}
