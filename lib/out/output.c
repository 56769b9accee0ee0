/* output.c — text / CSV / JSON-lines row writer shared by every tool. */
#include "vmdelay/out/output.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CELL_MAX 64

struct cell {
	char text[CELL_MAX];
};

struct vd_out {
	FILE *f;
	enum vd_out_mode mode;
	size_t ncols;        /* fixed by the first row */
	char **keys;         /* first row's keys (text and CSV headers) */
	size_t col;          /* field index within the current row */
	size_t rows;         /* rows finished */
	struct cell *cells;  /* text mode: rows * ncols cells, plus the row being built */
	size_t cells_cap;
	int first_row_done;
	int oom;
	/* CSV's header must precede the first row, whose keys are learnt as it is written: the
	 * first row goes to a memory stream and is emitted after the header at row_end. */
	FILE *first_row;
	char *first_row_buf;
	size_t first_row_len;
};

static FILE *sink(struct vd_out *o)
{
	return o->first_row ? o->first_row : o->f;
}

struct vd_out *vd_out_create(FILE *f, enum vd_out_mode mode)
{
	struct vd_out *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->f = f;
	o->mode = mode;
	return o;
}

static void remember_key(struct vd_out *o, const char *key)
{
	if (o->first_row_done)
		return;
	char **k = realloc(o->keys, (o->col + 1) * sizeof(*k));
	if (!k) {
		o->oom = 1;
		return;
	}
	o->keys = k;
	o->keys[o->col] = strdup(key);
	if (!o->keys[o->col])
		o->oom = 1;
	o->ncols = o->col + 1;
}

static struct cell *text_cell(struct vd_out *o)
{
	size_t idx = o->rows * (o->ncols ? o->ncols : 1) + o->col;
	if (!o->first_row_done)
		idx = o->col;
	if (idx >= o->cells_cap) {
		size_t cap = o->cells_cap ? o->cells_cap * 2 : 64;
		while (cap <= idx)
			cap *= 2;
		struct cell *c = realloc(o->cells, cap * sizeof(*c));
		if (!c) {
			o->oom = 1;
			return NULL;
		}
		o->cells = c;
		o->cells_cap = cap;
	}
	return &o->cells[idx];
}

/* One field: value already rendered for text/CSV (plain) and JSON (json). */
static void put_field(struct vd_out *o, const char *key, const char *plain, const char *json)
{
	if (o->first_row_done && o->col >= o->ncols)
		return; /* a row longer than the first: ignored rather than misaligned */
	remember_key(o, key);
	switch (o->mode) {
	case VD_OUT_TEXT: {
		struct cell *c = text_cell(o);
		if (c)
			snprintf(c->text, sizeof(c->text), "%s", plain);
		break;
	}
	case VD_OUT_CSV:
		if (o->col)
			fputc(',', sink(o));
		vd_csv_cell(sink(o), plain);
		break;
	case VD_OUT_JSON:
		fputs(o->col ? "," : "{", o->f);
		vd_json_string(o->f, key);
		fputc(':', o->f);
		fputs(json, o->f);
		break;
	}
	o->col++;
}

void vd_out_row_begin(struct vd_out *o)
{
	o->col = 0;
	if (o->mode == VD_OUT_CSV && !o->first_row_done) {
		o->first_row = open_memstream(&o->first_row_buf, &o->first_row_len);
		if (!o->first_row)
			o->oom = 1;
	}
}

void vd_out_row_end(struct vd_out *o)
{
	if (o->mode == VD_OUT_JSON) {
		fputs(o->col ? "}\n" : "{}\n", o->f);
	} else if (o->mode == VD_OUT_CSV) {
		if (o->first_row) {
			fclose(o->first_row);
			o->first_row = NULL;
			for (size_t i = 0; i < o->ncols; i++) {
				if (i)
					fputc(',', o->f);
				vd_csv_cell(o->f, o->keys[i]);
			}
			fputc('\n', o->f);
			fwrite(o->first_row_buf, 1, o->first_row_len, o->f);
			free(o->first_row_buf);
			o->first_row_buf = NULL;
		}
		fputc('\n', o->f);
	}
	o->first_row_done = 1;
	o->rows++;
}

static void fmt_plain_json(struct vd_out *o, const char *key, const char *plain, int is_null)
{
	put_field(o, key, plain, is_null ? "null" : plain);
}

void vd_out_int(struct vd_out *o, const char *key, int64_t v)
{
	char b[32];
	snprintf(b, sizeof(b), "%" PRId64, v);
	fmt_plain_json(o, key, b, 0);
}

void vd_out_int_opt(struct vd_out *o, const char *key, int present, int64_t v)
{
	if (present)
		vd_out_int(o, key, v);
	else
		vd_out_str(o, key, NULL);
}

void vd_out_dbl(struct vd_out *o, const char *key, double v, int decimals)
{
	char b[64];
	if (isnan(v) || isinf(v)) {
		fmt_plain_json(o, key, o->mode == VD_OUT_TEXT ? "-" : "", 1);
		return;
	}
	snprintf(b, sizeof(b), "%.*f", decimals, v);
	fmt_plain_json(o, key, b, 0);
}

void vd_out_ns(struct vd_out *o, const char *key, vd_ns v)
{
	char b[40];
	if (o->mode == VD_OUT_TEXT) {
		char k[CELL_MAX];
		size_t n = strlen(key);
		snprintf(k, sizeof(k), "%s", key);
		if (n >= 3 && n < sizeof(k) && strcmp(key + n - 3, "_ns") == 0)
			memcpy(k + n - 3, "_us", 3);
		if (!vd_ns_valid(v))
			snprintf(b, sizeof(b), "-");
		else
			snprintf(b, sizeof(b), "%.3f", (double)v / 1e3);
		put_field(o, k, b, b);
		return;
	}
	if (!vd_ns_valid(v)) {
		fmt_plain_json(o, key, "", 1);
		return;
	}
	snprintf(b, sizeof(b), "%" PRId64, v);
	fmt_plain_json(o, key, b, 0);
}

void vd_out_str(struct vd_out *o, const char *key, const char *s)
{
	if (o->mode != VD_OUT_JSON) {
		put_field(o, key, s ? s : (o->mode == VD_OUT_TEXT ? "-" : ""), NULL);
		return;
	}
	/* JSON: render the escaped string into a buffer first. */
	char *buf = NULL;
	size_t len = 0;
	FILE *m = s ? open_memstream(&buf, &len) : NULL;
	if (m) {
		vd_json_string(m, s);
		fclose(m);
	}
	put_field(o, key, "", buf ? buf : "null");
	free(buf);
}

void vd_out_flush(struct vd_out *o)
{
	if (o->mode != VD_OUT_TEXT || !o->rows || !o->ncols)
		return;
	size_t *w = calloc(o->ncols, sizeof(*w));
	if (!w)
		return;
	for (size_t c = 0; c < o->ncols; c++) {
		w[c] = strlen(o->keys[c]);
		for (size_t r = 0; r < o->rows; r++) {
			size_t l = strlen(o->cells[r * o->ncols + c].text);
			if (l > w[c])
				w[c] = l;
		}
	}
	/* First column left-aligned (a label), the rest right-aligned (numbers). */
	for (size_t c = 0; c < o->ncols; c++)
		fprintf(o->f, c ? "  %*s" : "%-*s", (int)w[c], o->keys[c]);
	fputc('\n', o->f);
	for (size_t r = 0; r < o->rows; r++) {
		for (size_t c = 0; c < o->ncols; c++)
			fprintf(o->f, c ? "  %*s" : "%-*s", (int)w[c], o->cells[r * o->ncols + c].text);
		fputc('\n', o->f);
	}
	free(w);
	o->rows = 0;
}

int vd_out_destroy(struct vd_out *o)
{
	if (!o)
		return 0;
	if (o->first_row) {
		fclose(o->first_row);
		free(o->first_row_buf);
	}
	vd_out_flush(o);
	int rc = (fflush(o->f) != 0 || ferror(o->f) || o->oom) ? -1 : 0;
	for (size_t i = 0; i < o->ncols; i++)
		free(o->keys[i]);
	free(o->keys);
	free(o->cells);
	free(o);
	return rc;
}

void vd_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void vd_csv_cell(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}
