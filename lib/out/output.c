/* output.c — text / CSV / JSON-lines row writer shared by every tool; JSON lines go through the
 * streaming JSON writer (json.c). */
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
	size_t ncols;	    /* fixed by the first row */
	char **keys;	    /* first row's keys (text and CSV headers) */
	size_t col;	    /* field index within the current row */
	size_t rows;	    /* rows finished */
	struct cell *cells; /* text mode: rows * ncols cells, plus the row being built */
	size_t cells_cap;
	int first_row_done;
	int oom;
	/* CSV's header must precede the first row, whose keys are learnt as it is written: the
	 * first row goes to a memory stream and is emitted after the header at row_end. */
	FILE *first_row;
	char *first_row_buf;
	size_t first_row_len;
	struct vd_json json; /* JSON lines: one compact object per row */
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
	vd_json_init(&o->json, f);
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

/* Starts field key of the current row: 0 when the row is longer than the first (the field is
 * ignored rather than misaligned). JSON: the key is written, the caller writes the value. */
static int field_begin(struct vd_out *o, const char *key)
{
	if (o->first_row_done && o->col >= o->ncols)
		return 0;
	remember_key(o, key);
	if (o->mode == VD_OUT_JSON)
		vd_json_key(&o->json, key);
	return 1;
}

/* One text or CSV field, its value already rendered. */
static void put_field(struct vd_out *o, const char *key, const char *plain)
{
	if (!field_begin(o, key))
		return;
	if (o->mode == VD_OUT_TEXT) {
		struct cell *c = text_cell(o);
		if (c)
			snprintf(c->text, sizeof(c->text), "%s", plain);
	} else {
		if (o->col)
			fputc(',', sink(o));
		vd_csv_cell(sink(o), plain);
	}
	o->col++;
}

void vd_out_row_begin(struct vd_out *o)
{
	o->col = 0;
	if (o->mode == VD_OUT_JSON)
		vd_json_begin_object(&o->json, VD_JSON_COMPACT);
	if (o->mode == VD_OUT_CSV && !o->first_row_done) {
		o->first_row = open_memstream(&o->first_row_buf, &o->first_row_len);
		if (!o->first_row)
			o->oom = 1;
	}
}

void vd_out_row_end(struct vd_out *o)
{
	if (o->mode == VD_OUT_JSON) {
		vd_json_end_object(&o->json);
		vd_json_newline(&o->json);
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

void vd_out_int(struct vd_out *o, const char *key, int64_t v)
{
	if (o->mode == VD_OUT_JSON) {
		if (field_begin(o, key)) {
			vd_json_int(&o->json, v);
			o->col++;
		}
		return;
	}
	char b[32];
	snprintf(b, sizeof(b), "%" PRId64, v);
	put_field(o, key, b);
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
	if (o->mode == VD_OUT_JSON) {
		if (field_begin(o, key)) {
			vd_json_dbl(&o->json, v, decimals); /* NaN, inf: null */
			o->col++;
		}
		return;
	}
	char b[64];
	if (isnan(v) || isinf(v))
		snprintf(b, sizeof(b), "%s", o->mode == VD_OUT_TEXT ? "-" : "");
	else
		snprintf(b, sizeof(b), "%.*f", decimals, v);
	put_field(o, key, b);
}

void vd_out_ns(struct vd_out *o, const char *key, vd_ns v)
{
	char b[40];
	if (o->mode == VD_OUT_JSON) {
		if (!vd_ns_valid(v))
			vd_out_str(o, key, NULL);
		else
			vd_out_int(o, key, v);
		return;
	}
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
		put_field(o, k, b);
		return;
	}
	if (!vd_ns_valid(v))
		b[0] = '\0';
	else
		snprintf(b, sizeof(b), "%" PRId64, v);
	put_field(o, key, b);
}

void vd_out_str(struct vd_out *o, const char *key, const char *s)
{
	if (o->mode == VD_OUT_JSON) {
		if (field_begin(o, key)) {
			vd_json_str(&o->json, s); /* NULL: null */
			o->col++;
		}
		return;
	}
	put_field(o, key, s ? s : (o->mode == VD_OUT_TEXT ? "-" : ""));
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
			fprintf(o->f, c ? "  %*s" : "%-*s", (int)w[c],
				o->cells[r * o->ncols + c].text);
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
