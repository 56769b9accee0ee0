/* tping_rows.c — tping's columns and cells (tping_rows.h). */
#include "tping_rows.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/input/echo.h"

const char *const vd_tping_col_names[VD_TPING_COL__COUNT] = {
    "seq",	"phase",	"status",   "user_tx_ns", "kernel_tx_ns",
    "hw_tx_ns", "kernel_rx_ns", "hw_rx_ns", "user_rx_ns",
};

int vd_tping_col_index(const char *name)
{
	for (int c = 0; c < VD_TPING_COL__COUNT; c++)
		if (strcmp(name, vd_tping_col_names[c]) == 0)
			return c;
	return -1;
}

/* text as a number: 0 with *v, -1 when strtoll would not take it whole. Up to 19 digits
 * (every time and seq tping writes: 19 digits hold any uint64 sum below 10^19) are summed here,
 * which is what strtoll gives them without its locale and sign handling; anything else,
 * and a sum past LLONG_MAX, goes through strtoll. */
static int cell_int(const char *text, long long *v)
{
	uint64_t n = 0;
	size_t i = 0;
	for (; i < 19 && text[i] >= '0' && text[i] <= '9'; i++)
		n = n * 10 + (uint64_t)(text[i] - '0');
	if (i && !text[i] && n <= (uint64_t)LLONG_MAX) {
		*v = (long long)n;
		return 0;
	}
	char *end;
	errno = 0;
	*v = strtoll(text, &end, 10);
	return *end || errno || end == text ? -1 : 0;
}

int vd_tping_cell_set(struct vd_probe *p, int c, const char *text)
{
	if (!text || !*text || (text[0] == 'n' && strcmp(text, "null") == 0))
		return c == VD_TPING_COL_SEQ ? -1 : 0;
	if (c == VD_TPING_COL_PHASE) {
		enum vd_phase ph;
		if (vd_phase_parse(text, &ph) < 0)
			return -1;
		p->phase = ph;
		return 0;
	}
	if (c == VD_TPING_COL_STATUS) {
		enum vd_probe_status st;
		if (vd_probe_status_parse(text, &st) < 0)
			return -1;
		p->status = st;
		return 0;
	}
	long long v;
	if (cell_int(text, &v) < 0)
		return -1;
	if (c == VD_TPING_COL_SEQ) {
		if (v < 0 || v > UINT32_MAX)
			return -1;
		p->seq = (uint32_t)v;
		return 0;
	}
	if (!vd_echo_ts_ok((vd_ns)v))
		return -1;
	vd_ns *t[VD_TPING_COL__COUNT] = {
	    [VD_TPING_COL_USER_TX] = &p->user_tx, [VD_TPING_COL_KERNEL_TX] = &p->kernel_tx,
	    [VD_TPING_COL_HW_TX] = &p->hw_tx,	  [VD_TPING_COL_KERNEL_RX] = &p->kernel_rx,
	    [VD_TPING_COL_HW_RX] = &p->hw_rx,	  [VD_TPING_COL_USER_RX] = &p->user_rx,
	};
	*t[c] = (vd_ns)v;
	return 0;
}

int64_t vd_tping_run_parse(const char *s)
{
	if (!*s || strlen(s) > 18)
		return -1;
	int64_t n = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (*s - '0');
	}
	return n;
}

int64_t vd_tping_select_run(const char *select)
{
	int64_t run = -1;
	for (const char *s = select; s && *s;) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		char tok[32];
		if (len > 4 && len < sizeof(tok) && strncmp(s, "run=", 4) == 0) {
			memcpy(tok, s + 4, len - 4);
			tok[len - 4] = '\0';
			if (vd_tping_run_parse(tok) >= 0)
				run = vd_tping_run_parse(tok);
		}
		s = end ? end + 1 : NULL;
	}
	return run;
}

static void lines_close(struct vd_tping_rows *base)
{
	struct vd_tping_lines *l = (struct vd_tping_lines *)base;
	fclose(l->f);
	free(l->line);
	free(l);
}

int vd_tping_lines_open(const char *path, size_t size,
			int (*next)(struct vd_tping_rows *r, struct vd_probe *p,
				    struct vd_err *err),
			struct vd_tping_rows **out, struct vd_err *err)
{
	struct vd_tping_lines *l = calloc(1, size);
	if (!l)
		return vd_err_set(err, "%s: out of memory", path);
	l->f = fopen(path, "r");
	if (!l->f) {
		free(l);
		return vd_err_set(err, "%s: %s", path, strerror(errno));
	}
	l->base = (struct vd_tping_rows){.next = next, .close = lines_close, .path = path};
	*out = &l->base;
	return 0;
}

ssize_t vd_tping_lines_next(struct vd_tping_lines *l, int *failed, struct vd_err *err)
{
	ssize_t n = getline(&l->line, &l->cap, l->f);
	*failed = 0;
	if (n >= 0) {
		l->lineno++;
		return n;
	}
	if (ferror(l->f)) {
		*failed = 1;
		vd_err_set(err, "%s: read error", l->base.path);
	}
	return -1;
}
