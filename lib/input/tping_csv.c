/* tping_csv.c — tping's CSV rows (tping_csv.h). */
#define _GNU_SOURCE /* strsep */
#include "tping_csv.h"

#include <stdlib.h>
#include <string.h>

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

int vd_tping_csv_read(FILE *f, const char *path, vd_tping_row_fn row, void *ctx,
		      struct vd_err *err)
{
	char *line = NULL;
	size_t cap = 0;
	int map[64];
	int ncols = 0, rc = 0, have_phase = 0;
	unsigned long lineno = 0;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		chomp(line);
		char *s = line;
		if (lineno == 1 && (unsigned char)s[0] == 0xef)
			s += 3;
		if (!*s)
			continue;
		char *save = NULL;
		int col = 0;
		if (!ncols) {
			for (char *tok = strtok_r(s, ",", &save); tok && col < 64;
			     tok = strtok_r(NULL, ",", &save)) {
				map[col] = vd_tping_col_index(tok);
				have_phase |= map[col] == VD_TPING_COL_PHASE;
				col++;
			}
			ncols = col;
			continue;
		}
		struct vd_probe p;
		vd_probe_init(&p, 0);
		int seen_seq = 0;
		/* strsep keeps empty cells, which are missing timestamps */
		for (char *tok; (tok = strsep(&s, ",")) != NULL && col < ncols; col++) {
			if (map[col] < 0)
				continue;
			seen_seq |= map[col] == VD_TPING_COL_SEQ;
			if (vd_tping_cell_set(&p, map[col], tok) < 0) {
				rc = vd_err_set(err, "%s: line %lu: bad value '%s' in column %s",
						path, lineno, tok, vd_tping_col_names[map[col]]);
				goto out;
			}
		}
		if (!seen_seq) {
			rc = vd_err_set(err, "%s: line %lu: no seq", path, lineno);
			goto out;
		}
		if (!have_phase)
			p.phase = (enum vd_phase) - 1;
		if (row(ctx, &p) < 0) {
			rc = vd_err_set(err, "%s: out of memory", path);
			goto out;
		}
	}
	if (ferror(f))
		rc = vd_err_set(err, "%s: read error", path);
out:
	free(line);
	return rc;
}
