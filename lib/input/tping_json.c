/* tping_json.c — tping's JSON lines through jansson, one line at a time (tping_json.h). */
#include "tping_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!memchr(" \t\r\n", s[i], 4))
			return 0;
	return 1;
}

/* Sets the columns obj holds. Strings and integers are cells as in the CSV, null is missing;
 * any other value of a column the analysis reads is malformed. */
static int probe_from_object(json_t *obj, struct vd_probe *p, int *have_phase, int *have_seq)
{
	const char *key;
	json_t *val;
	json_object_foreach(obj, key, val)
	{
		int c = vd_tping_col_index(key);
		if (c < 0)
			continue;
		char num[32];
		const char *text;
		if (json_is_string(val)) {
			text = json_string_value(val);
		} else if (json_is_integer(val)) {
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
				 json_integer_value(val));
			text = num;
		} else if (json_is_null(val)) {
			text = NULL;
		} else {
			return -1;
		}
		if (vd_tping_cell_set(p, c, text) < 0)
			return -1;
		*have_phase |= c == VD_TPING_COL_PHASE;
		*have_seq |= c == VD_TPING_COL_SEQ;
	}
	return 0;
}

int vd_tping_json_line(const char *line, size_t len, struct vd_probe *p)
{
	if (blank(line, len))
		return 0;
	vd_probe_init(p, 0);
	int have_phase = 0, have_seq = 0;
	json_error_t jerr;
	json_t *obj = json_loadb(line, len, 0, &jerr);
	int bad = !json_is_object(obj) || probe_from_object(obj, p, &have_phase, &have_seq) < 0 ||
		  !have_seq;
	json_decref(obj);
	if (bad)
		return -1;
	if (!have_phase)
		p->phase = (enum vd_phase) - 1;
	return 1;
}

static int json_next(struct vd_tping_rows *base, struct vd_probe *p, struct vd_err *err)
{
	struct vd_tping_lines *l = (struct vd_tping_lines *)base;
	ssize_t len;
	int failed;
	while ((len = vd_tping_lines_next(l, &failed, err)) >= 0) {
		int rc = vd_tping_json_line(l->line, (size_t)len, p);
		if (rc < 0)
			return vd_err_set(err, "%s: line %lu: not a tping JSON object with a seq",
					  base->path, l->lineno);
		if (rc > 0)
			return 1;
	}
	return failed ? -1 : 0;
}

int vd_tping_json_open(const char *path, struct vd_tping_rows **out, struct vd_err *err)
{
	return vd_tping_lines_open(path, sizeof(struct vd_tping_lines), json_next, out, err);
}
