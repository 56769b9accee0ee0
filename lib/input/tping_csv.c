/* tping_csv.c — tping's CSV rows, one line at a time (tping_csv.h). */
#define _GNU_SOURCE /* strsep */
#include "tping_csv.h"

#include <string.h>

struct csv_rows {
	struct vd_tping_lines l;
	int map[64]; /* column -> VD_TPING_COL_*, or -1 */
	int ncols, have_phase;
};

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static void header(struct csv_rows *r, char *s)
{
	char *save = NULL;
	int col = 0;
	for (char *tok = strtok_r(s, ",", &save); tok && col < 64;
	     tok = strtok_r(NULL, ",", &save)) {
		r->map[col] = vd_tping_col_index(tok);
		r->have_phase |= r->map[col] == VD_TPING_COL_PHASE;
		col++;
	}
	r->ncols = col;
}

static int csv_next(struct vd_tping_rows *base, struct vd_probe *p, struct vd_err *err)
{
	struct csv_rows *r = (struct csv_rows *)base;
	const char *path = base->path;
	int failed;
	while (vd_tping_lines_next(&r->l, &failed, err) >= 0) {
		chomp(r->l.line);
		char *s = r->l.line;
		if (r->l.lineno == 1 && (unsigned char)s[0] == 0xef)
			s += 3;
		if (!*s)
			continue;
		if (!r->ncols) {
			header(r, s);
			continue;
		}
		vd_probe_init(p, 0);
		int seen_seq = 0, col = 0;
		/* strsep keeps empty cells, which are missing timestamps */
		for (char *tok; (tok = strsep(&s, ",")) != NULL && col < r->ncols; col++) {
			int c = r->map[col];
			if (c < 0)
				continue;
			seen_seq |= c == VD_TPING_COL_SEQ;
			if (vd_tping_cell_set(p, c, tok) < 0)
				return vd_err_set(err, "%s: line %lu: bad value '%s' in column %s",
						  path, r->l.lineno, tok, vd_tping_col_names[c]);
		}
		if (!seen_seq)
			return vd_err_set(err, "%s: line %lu: no seq", path, r->l.lineno);
		if (!r->have_phase)
			p->phase = (enum vd_phase) - 1;
		return 1;
	}
	return failed ? -1 : 0;
}

int vd_tping_csv_open(const char *path, struct vd_tping_rows **out, struct vd_err *err)
{
	return vd_tping_lines_open(path, sizeof(struct csv_rows), csv_next, out, err);
}
