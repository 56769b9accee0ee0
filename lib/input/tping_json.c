/* tping_json.c — tping's JSON lines through jansson (tping_json.h). */
#include "tping_json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\n", s[i]))
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
		if (json_is_string(val))
			text = json_string_value(val);
		else if (json_is_integer(val)) {
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(val));
			text = num;
		} else if (json_is_null(val))
			text = NULL;
		else
			return -1;
		if (vd_tping_cell_set(p, c, text) < 0)
			return -1;
		*have_phase |= c == VD_TPING_COL_PHASE;
		*have_seq |= c == VD_TPING_COL_SEQ;
	}
	return 0;
}

int vd_tping_json_read(FILE *f, const char *path, vd_tping_row_fn row, void *ctx,
		       struct vd_err *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	unsigned long lineno = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (blank(line, (size_t)len))
			continue;
		struct vd_probe p;
		vd_probe_init(&p, 0);
		int have_phase = 0, have_seq = 0;
		json_error_t jerr;
		json_t *obj = json_loadb(line, (size_t)len, 0, &jerr);
		int bad = !json_is_object(obj) ||
			  probe_from_object(obj, &p, &have_phase, &have_seq) < 0 || !have_seq;
		json_decref(obj);
		if (bad) {
			rc = vd_err_set(err, "%s: line %lu: not a tping JSON object with a seq",
					path, lineno);
			break;
		}
		if (!have_phase)
			p.phase = (enum vd_phase) - 1;
		if (row(ctx, &p) < 0) {
			rc = vd_err_set(err, "%s: out of memory", path);
			break;
		}
	}
	if (!rc && ferror(f))
		rc = vd_err_set(err, "%s: read error", path);
	free(line);
	return rc;
}
