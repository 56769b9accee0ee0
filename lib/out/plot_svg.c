/* plot_svg.c — standalone SVG charts (axes, ticks, legend, one polyline or dots per series) so
 * --plot needs no plotting package. */
#include "vmdelay/out/plot_svg.h"

#include "vmdelay/out/afile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define W 800
#define H 500
#define ML 80 /* margins */
#define MR 180
#define MT 40
#define MB 60

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
				      "#9467bd", "#8c564b", "#e377c2", "#17becf"};

static void xml_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) giving about five ticks over span. */
static double tick_step(double span)
{
	double raw = span / 5, p = pow(10, floor(log10(raw))), m = raw / p;
	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

int vd_svg_write(const char *path, const struct vd_svg_chart *c, const struct vd_svg_series *s,
		 size_t ns, struct vd_err *err)
{
	double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
	for (size_t k = 0; k < ns; k++)
		for (size_t i = 0; i < s[k].n; i++) {
			if (!isfinite(s[k].x[i]) || !isfinite(s[k].y[i]))
				continue;
			x0 = fmin(x0, s[k].x[i]);
			x1 = fmax(x1, s[k].x[i]);
			y0 = fmin(y0, s[k].y[i]);
			y1 = fmax(y1, s[k].y[i]);
		}
	if (!isfinite(x0)) {
		x0 = y0 = 0;
		x1 = y1 = 1;
	}
	if (x1 - x0 <= 0) {
		x0 -= 1;
		x1 += 1;
	}
	if (y0 > 0 && y0 < (y1 - y0)) /* start at zero when it costs little room */
		y0 = 0;
	if (y1 - y0 <= 0) {
		y0 -= 1;
		y1 += 1;
	}
	struct vd_afile af;
	if (vd_afile_open(&af, path, err))
		return -1;
	FILE *f = af.f;
	const double pw = W - ML - MR, ph = H - MT - MB;
#define PX(x) (ML + ((x)-x0) / (x1 - x0) * pw)
#define PY(y) (MT + ph - ((y)-y0) / (y1 - y0) * ph)
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		W, H, W, H);
	fprintf(f, "<text x=\"%d\" y=\"24\" font-size=\"15\">", ML);
	xml_text(f, c->title);
	fprintf(f,
		"</text>\n<rect x=\"%d\" y=\"%d\" width=\"%g\" height=\"%g\" fill=\"none\" "
		"stroke=\"black\"/>\n",
		ML, MT, pw, ph);
	double st = tick_step(x1 - x0);
	for (double t = ceil(x0 / st) * st; t <= x1 + st * 1e-9; t += st)
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\" stroke=\"#ddd\"/>"
			"<text x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%g</text>\n",
			PX(t), (double)MT, PX(t), MT + ph, PX(t), MT + ph + 16, t);
	st = tick_step(y1 - y0);
	for (double t = ceil(y0 / st) * st; t <= y1 + st * 1e-9; t += st)
		fprintf(f,
			"<line x1=\"%d\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#ddd\"/>"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
			ML, PY(t), ML + pw, PY(t), ML - 6, PY(t) + 4, t);
	fprintf(f, "<text x=\"%g\" y=\"%d\" text-anchor=\"middle\">", ML + pw / 2, H - 16);
	xml_text(f, c->xlabel);
	fprintf(f,
		"</text>\n<text transform=\"translate(18,%g) rotate(-90)\" "
		"text-anchor=\"middle\">",
		MT + ph / 2);
	xml_text(f, c->ylabel);
	fputs("</text>\n", f);
	for (size_t k = 0; k < ns; k++) {
		const char *col = palette[k % (sizeof(palette) / sizeof(palette[0]))];
		if (!c->points)
			fprintf(f,
				"<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
				"points=\"",
				col);
		for (size_t i = 0; i < s[k].n; i++) {
			if (!isfinite(s[k].x[i]) || !isfinite(s[k].y[i]))
				continue;
			if (c->points)
				fprintf(f,
					"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.8\" fill=\"%s\"/>\n",
					PX(s[k].x[i]), PY(s[k].y[i]), col);
			else
				fprintf(f, "%.1f,%.1f ", PX(s[k].x[i]), PY(s[k].y[i]));
		}
		if (!c->points)
			fputs("\"/>\n", f);
		double ly = MT + 10 + 18 * (double)k;
		fprintf(f,
			"<rect x=\"%g\" y=\"%g\" width=\"14\" height=\"4\" fill=\"%s\"/>"
			"<text x=\"%g\" y=\"%g\">",
			W - MR + 14.0, ly, col, W - MR + 34.0, ly + 6);
		xml_text(f, s[k].label);
		fputs("</text>\n", f);
	}
#undef PX
#undef PY
	fputs("</svg>\n", f);
	return vd_afile_commit(&af, err);
}

void vd_plot_file_safe(const char *in, char *out, size_t n)
{
	size_t i = 0;
	for (; in[i] && i + 1 < n; i++) {
		char ch = in[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			 (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
		out[i] = ok ? ch : '_';
	}
	if (n)
		out[i] = 0;
}
