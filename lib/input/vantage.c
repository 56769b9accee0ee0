/* vantage.c — vantage point specs (NAME[:CLOCK]=PATH[#SELECT], issue 3) and the readers that turn
 * any input into ICMP echo events: packet traces through vd_trace/vd_decode, tping's CSV, JSON
 * lines and SQLite runs (docs/formats/tping.md). Formats are told apart by content only. */
#define _GNU_SOURCE /* memmem, strsep */
#include "vmdelay/input/vantage.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdelay/match/match.h"
#include "vmdelay/core/mem.h"
#include "vmdelay/input/probe.h"
#include "vmdelay/input/tcmrec.h"
#include "vmdelay/input/trace.h"
#include "vantage_tcm.h"

/* ---- specs ---- */

static int name_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-' || c == '+';
}

static int valid_label(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!name_char((unsigned char)s[i]))
			return 0;
	return 1;
}

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* The file's base name without directories and without its last extension. */
void vd_vantage_name_from_path(const char *path, char *out, size_t len)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!*base)
		base = path;
	snprintf(out, len, "%s", base);
	char *dot = strrchr(out, '.');
	if (dot && dot != out)
		*dot = '\0';
}

int vd_vantage_spec_parse(const char *arg, struct vd_vantage_spec *spec, struct vd_err *err)
{
	memset(spec, 0, sizeof(*spec));
	if (!arg || !*arg)
		return vd_err_set(err, "empty vantage point");
	const char *path = arg;
	if (!file_exists(arg)) {
		const char *eq = strchr(arg, '=');
		/* "dir/x.db#run=3": an '=' after a '/' or '#' belongs to the path or selector */
		if (eq &&
		    (memchr(arg, '/', (size_t)(eq - arg)) || memchr(arg, '#', (size_t)(eq - arg))))
			eq = NULL;
		if (eq) {
			const char *colon = memchr(arg, ':', (size_t)(eq - arg));
			size_t nlen = colon ? (size_t)(colon - arg) : (size_t)(eq - arg);
			if (!valid_label(arg, nlen))
				return vd_err_set(
				    err,
				    "bad vantage point '%s': NAME must be letters, digits, "
				    "'_', '.', '-' or '+' (NAME[:CLOCK]=PATH[#IFACE])",
				    arg);
			if (nlen >= sizeof(spec->name))
				return vd_err_set(err, "bad vantage point '%s': NAME too long",
						  arg);
			memcpy(spec->name, arg, nlen);
			if (colon) {
				size_t clen = (size_t)(eq - colon - 1);
				if (!valid_label(colon + 1, clen) || clen >= sizeof(spec->clock))
					return vd_err_set(
					    err,
					    "bad vantage point '%s': CLOCK must be letters, "
					    "digits, '_', '.', '-' or '+'",
					    arg);
				memcpy(spec->clock, colon + 1, clen);
			}
			path = eq + 1;
			if (!*path)
				return vd_err_set(err, "bad vantage point '%s': no PATH after '='",
						  arg);
		}
	}
	spec->path = strdup(path);
	if (!spec->path)
		return vd_err_set(err, "out of memory");
	/* '#SELECT' only when the whole thing is not itself a file. */
	char *hash = strrchr(spec->path, '#');
	if (hash && !file_exists(spec->path)) {
		if (strlen(hash + 1) >= sizeof(spec->select) || !hash[1] || hash == spec->path) {
			vd_err_set(err, "bad vantage point '%s': empty or too long PATH or #SELECT",
				   arg);
			vd_vantage_spec_free(spec);
			return -1;
		}
		snprintf(spec->select, sizeof(spec->select), "%s", hash + 1);
		*hash = '\0';
	}
	return 0;
}

void vd_vantage_spec_free(struct vd_vantage_spec *spec)
{
	free(spec->path);
	spec->path = NULL;
}

/* ---- vantage points and sets ---- */

struct vd_vantage *vd_vantage_new(const char *name, const char *clock, const char *path,
				  const char *format)
{
	struct vd_vantage *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	snprintf(v->name, sizeof(v->name), "%s", name ? name : "");
	snprintf(v->clock, sizeof(v->clock), "%s", clock ? clock : "");
	snprintf(v->format, sizeof(v->format), "%s", format ? format : "");
	v->path = strdup(path ? path : "");
	if (!v->path) {
		free(v);
		return NULL;
	}
	return v;
}

int vd_vantage_add(struct vd_vantage *v, const struct vd_echo *e)
{
	if (e->kind == VD_ECHO_REQUEST) {
		if (v->n == v->cap &&
		    vd_mem_reserve((void **)&v->ev, &v->cap, v->n + 1, sizeof(*v->ev)) < 0)
			return -1;
		v->ev[v->n++] = *e;
	}
	if (vd_match_add(v, e) < 0) {
		v->n -= e->kind == VD_ECHO_REQUEST;
		return -1;
	}
	v->echoes++;
	return 0;
}

void vd_vantage_free(struct vd_vantage *v)
{
	if (!v)
		return;
	free(v->path);
	free(v->ev);
	free(v->pairs);
	vd_match_state_free(v->pending);
	free(v);
}

int vd_vantage_set_append(struct vd_vantage_set *set, struct vd_vantage *v)
{
	struct vd_vantage **a = realloc(set->v, (set->n + 1) * sizeof(*a));
	if (!a)
		return -1;
	set->v = a;
	set->v[set->n++] = v;
	return 0;
}

void vd_vantage_set_unique_names(struct vd_vantage_set *set)
{
	for (size_t i = 1; i < set->n; i++) {
		char base[VD_VANTAGE_NAME_MAX];
		snprintf(base, sizeof(base), "%s", set->v[i]->name);
		for (int k = 2;; k++) {
			int clash = 0;
			for (size_t j = 0; j < i && !clash; j++)
				clash = strcmp(set->v[j]->name, set->v[i]->name) == 0;
			if (!clash)
				break;
			snprintf(set->v[i]->name, sizeof(set->v[i]->name), "%.80s-%d", base, k);
		}
	}
}

void vd_vantage_set_free(struct vd_vantage_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		vd_vantage_free(set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

const char *vd_echo_family_name(const struct vd_echo *e)
{
	if (e->src.family == AF_INET)
		return "icmpv4";
	if (e->src.family == AF_INET6)
		return "icmpv6";
	return "";
}

const char *vd_addr_format(const struct vd_addr *a, char *buf, size_t len)
{
	if (len)
		buf[0] = '\0';
	if ((a->family == AF_INET || a->family == AF_INET6) &&
	    !inet_ntop(a->family, a->bytes, buf, (socklen_t)len) && len)
		buf[0] = '\0';
	return buf;
}

/* ---- format detection ---- */

static const char *detect_bytes(const unsigned char *b, size_t n)
{
	static const char sqlite_magic[16] = "SQLite format 3";
	if (n >= 16 && memcmp(b, sqlite_magic, 16) == 0)
		return "tping-sqlite";
	if (n >= 4) {
		uint32_t m =
		    (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		if (m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1)
			return "pcap";
		if (m == 0x0a0d0d0a)
			return "pcapng";
	}
	/* tping text: a CSV header naming its columns, or JSON lines with its keys. */
	size_t i = 0;
	if (n >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf)
		i = 3;
	if (n - i >= 4 && memcmp(b + i, "seq,", 4) == 0 && memmem(b, n, "user_tx_ns", 10))
		return "tping-csv";
	while (i < n && isspace(b[i]))
		i++;
	if (i < n && b[i] == '{' && memmem(b, n, "\"seq\"", 5))
		return "tping-json";
	/* tcpmon record files: read by lib/input/vantage_tcm.c */
	if (vd_tcmrec_is(b, n))
		return VD_VANTAGE_TCM_FORMAT;
	return NULL;
}

const char *vd_vantage_detect(const char *path, struct vd_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		vd_err_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	unsigned char b[512];
	size_t n = fread(b, 1, sizeof(b), f);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		vd_err_set(err, "%s: read error", path);
		return NULL;
	}
	const char *fmt = detect_bytes(b, n);
	return fmt ? fmt : "unknown";
}

/* ---- progress ---- */

struct progress {
	int on;
	vd_ns last;
	const char *path;
};

static void progress_tick(struct progress *p, uint64_t records)
{
	if (!p->on || (records & 0xffff))
		return;
	vd_ns now = vd_now(CLOCK_MONOTONIC);
	if (now - p->last < VD_NS_PER_SEC / 2)
		return;
	p->last = now;
	fprintf(stderr, "\r%s: %" PRIu64 " records", p->path, records);
	fflush(stderr);
}

static void progress_done(struct progress *p, uint64_t records)
{
	if (p->on && p->last)
		fprintf(stderr, "\r%s: %" PRIu64 " records\n", p->path, records);
}

/* ---- packet traces ---- */

static int parse_uint(const char *s, unsigned long *out)
{
	if (!*s || !isdigit((unsigned char)*s))
		return -1;
	char *end;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return (*end || errno) ? -1 : 0;
}

struct iface_map {
	struct vd_vantage **v; /* by iface id */
	int8_t *chosen;	       /* -1 unknown yet, 0 no, 1 yes */
	size_t n;
};

static int iface_grow(struct iface_map *m, uint32_t iface)
{
	if (iface < m->n)
		return 0;
	if (iface > 1u << 20)
		return -1;
	size_t n = (size_t)iface + 1;
	struct vd_vantage **v = realloc(m->v, n * sizeof(*v));
	if (!v)
		return -1;
	m->v = v;
	int8_t *c = realloc(m->chosen, n);
	if (!c)
		return -1;
	m->chosen = c;
	for (size_t i = m->n; i < n; i++) {
		m->v[i] = NULL;
		m->chosen[i] = -1;
	}
	m->n = n;
	return 0;
}

static void iface_label(struct vd_trace *tr, uint32_t iface, char *buf, size_t len)
{
	const char *nm = vd_trace_interface_name(tr, iface);
	if (nm && *nm)
		snprintf(buf, len, "%s", nm);
	else
		snprintf(buf, len, "if%" PRIu32, iface);
}

static int ts_in_range(vd_ns t)
{
	return t >= 0 && t < VD_ECHO_TS_LIMIT;
}

static int echo_from_decoded(const struct vd_pkt *pkt, const struct vd_decoded *d,
			     struct vd_echo *e)
{
	/* a pcapng Simple Packet Block has no time: it cannot time a probe */
	if (!ts_in_range(pkt->ts))
		return 0;
	if (d->l4 != VD_L4_ICMP || d->is_fragment ||
	    !(d->icmp_is_echo_request || d->icmp_is_echo_reply))
		return 0;
	memset(e, 0, sizeof(*e));
	e->ts = pkt->ts;
	e->src = d->src;
	e->dst = d->dst;
	e->id = d->icmp_id;
	e->has_id = 1;
	e->seq = d->icmp_seq;
	e->kind = d->icmp_is_echo_request ? VD_ECHO_REQUEST : VD_ECHO_REPLY;
	e->phase = -1;
	e->index = pkt->index;
	return 1;
}

static int read_trace(const struct vd_vantage_spec *spec, struct vd_vantage_set *set,
		      const struct vd_vantage_read_opts *opts, struct vd_err *err)
{
	struct vd_trace *tr;
	if (vd_trace_open(spec->path, &tr, err) < 0)
		return -1;
	const char *fmt = vd_trace_format(tr);
	int split = strcmp(spec->select, "*") == 0;
	int pick = spec->select[0] && !split;
	unsigned long pick_id = 0;
	int pick_by_id = pick && parse_uint(spec->select, &pick_id) == 0;
	char name[VD_VANTAGE_NAME_MAX];
	if (spec->name[0])
		snprintf(name, sizeof(name), "%s", spec->name);
	else
		vd_vantage_name_from_path(spec->path, name, sizeof(name));

	struct vd_vantage *single = NULL;
	size_t first = set->n;
	struct iface_map map = {0};
	struct progress prog = {.on = opts && opts->progress, .path = spec->path};
	uint64_t records = 0, oom = 0;
	int rc = 0;
	if (!split) {
		single = vd_vantage_new(name, spec->clock, spec->path, fmt);
		if (!single || vd_vantage_set_append(set, single) < 0) {
			vd_vantage_free(single);
			vd_trace_close(tr);
			return vd_err_set(err, "out of memory");
		}
		snprintf(single->select, sizeof(single->select), "%s", spec->select);
	}
	for (;;) {
		struct vd_pkt pkt;
		int r = vd_trace_next(tr, &pkt, err);
		if (r < 0) {
			rc = -1;
			break;
		}
		if (r == 0)
			break;
		records++;
		progress_tick(&prog, records);
		struct vd_vantage *v = single;
		if (split || pick) {
			if (iface_grow(&map, pkt.iface) < 0) {
				oom = 1;
				break;
			}
			if (map.chosen[pkt.iface] < 0) {
				char lbl[VD_VANTAGE_NAME_MAX];
				iface_label(tr, pkt.iface, lbl, sizeof(lbl));
				if (split)
					map.chosen[pkt.iface] = 1;
				else if (pick_by_id)
					map.chosen[pkt.iface] = pkt.iface == pick_id;
				else
					map.chosen[pkt.iface] = strcmp(lbl, spec->select) == 0;
			}
			if (!map.chosen[pkt.iface])
				continue;
		}
		struct vd_decoded d;
		struct vd_err derr;
		struct vd_echo e;
		if (vd_decode(&pkt, &d, &derr) < 0 || !echo_from_decoded(&pkt, &d, &e))
			continue;
		if (split) {
			v = map.v[pkt.iface];
			if (!v) {
				char lbl[VD_VANTAGE_NAME_MAX], nm[VD_VANTAGE_NAME_MAX];
				iface_label(tr, pkt.iface, lbl, sizeof(lbl));
				if (spec->name[0])
					snprintf(nm, sizeof(nm), "%.40s.%.40s", spec->name, lbl);
				else
					snprintf(nm, sizeof(nm), "%s", lbl);
				v = vd_vantage_new(nm, spec->clock, spec->path, fmt);
				if (!v) {
					oom = 1;
					break;
				}
				snprintf(v->select, sizeof(v->select), "%" PRIu32, pkt.iface);
				map.v[pkt.iface] = v;
			}
		}
		if (vd_vantage_add(v, &e) < 0) {
			oom = 1;
			break;
		}
	}
	progress_done(&prog, records);
	if (split) {
		/* one vantage point per interface, in interface order */
		for (size_t i = 0; i < map.n; i++) {
			if (!map.v[i])
				continue;
			map.v[i]->records = records;
			if (vd_vantage_set_append(set, map.v[i]) < 0) {
				vd_vantage_free(map.v[i]);
				oom = 1;
			}
		}
	} else {
		single->records = records;
	}
	free(map.v);
	free(map.chosen);
	vd_trace_close(tr);
	if (oom)
		return vd_err_set(err, "%s: out of memory", spec->path);
	if (rc < 0)
		return -1;
	size_t events = 0;
	for (size_t i = first; i < set->n; i++)
		events += set->v[i]->echoes;
	if (pick && records && events == 0 && single->echoes == 0)
		return vd_err_set(err,
				  "%s: no ICMP echo requests or replies on interface '%s' "
				  "(%" PRIu64 " packets read)",
				  spec->path, spec->select, records);
	if (events == 0)
		return vd_err_set(err,
				  "%s: no ICMP echo requests or replies (%" PRIu64
				  " packets read, format %s)",
				  spec->path, records, fmt);
	return 0;
}

/* ---- tping files ---- */

enum { PT_HW, PT_KERNEL, PT_USER, PT__COUNT };
static const char *const point_names[PT__COUNT] = {"hw", "kernel", "user"};

struct tping_reader {
	const struct vd_vantage_spec *spec;
	const char *fmt;
	int want[PT__COUNT]; /* selected explicitly */
	int any_selected;
	long run; /* SQLite run id, -1 default */
	struct vd_vantage *pt[PT__COUNT];
	uint64_t rows;
};

static int tping_select(struct tping_reader *rd, struct vd_err *err)
{
	rd->run = -1;
	if (!rd->spec->select[0])
		return 0;
	char buf[VD_VANTAGE_SELECT_MAX];
	snprintf(buf, sizeof(buf), "%s", rd->spec->select);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int found = 0;
		for (int p = 0; p < PT__COUNT; p++)
			if (strcmp(tok, point_names[p]) == 0) {
				rd->want[p] = 1;
				rd->any_selected = 1;
				found = 1;
			}
		unsigned long run;
		if (!found && strncmp(tok, "run=", 4) == 0 && parse_uint(tok + 4, &run) == 0 &&
		    run <= LONG_MAX) {
			rd->run = (long)run;
			found = 1;
		}
		if (!found)
			return vd_err_set(
			    err,
			    "%s: bad selector '#%s' for a tping file (want hw, kernel, "
			    "user or run=N, comma separated)",
			    rd->spec->path, tok);
	}
	return 0;
}

static int tping_emit(struct tping_reader *rd, const struct vd_probe *p)
{
	const vd_ns tx[PT__COUNT] = {p->hw_tx, p->kernel_tx, p->user_tx};
	const vd_ns rx[PT__COUNT] = {p->hw_rx, p->kernel_rx, p->user_rx};
	/* A duplicate or late row is a reply only: its request is the earlier row's. */
	int reply_only = p->status == VD_PROBE_DUPLICATE || p->status == VD_PROBE_LATE;
	rd->rows++;
	for (int k = 0; k < PT__COUNT; k++) {
		struct vd_echo e = {.seq = p->seq, .phase = (int8_t)p->phase, .index = rd->rows};
		if (vd_ns_valid(tx[k]) && !reply_only) {
			e.ts = tx[k];
			e.kind = VD_ECHO_REQUEST;
			if (vd_vantage_add(rd->pt[k], &e) < 0)
				return -1;
		}
		if (vd_ns_valid(rx[k])) {
			e.ts = rx[k];
			e.kind = VD_ECHO_REPLY;
			if (vd_vantage_add(rd->pt[k], &e) < 0)
				return -1;
		}
	}
	return 0;
}

/* Column names of issue 2's CSV and JSON lines that the analysis reads. */
enum {
	COL_SEQ,
	COL_PHASE,
	COL_STATUS,
	COL_USER_TX,
	COL_KERNEL_TX,
	COL_HW_TX,
	COL_KERNEL_RX,
	COL_HW_RX,
	COL_USER_RX,
	COL__COUNT
};
static const char *const col_names[COL__COUNT] = {
    "seq",	"phase",	"status",   "user_tx_ns", "kernel_tx_ns",
    "hw_tx_ns", "kernel_rx_ns", "hw_rx_ns", "user_rx_ns",
};

static int col_index(const char *name)
{
	for (int c = 0; c < COL__COUNT; c++)
		if (strcmp(name, col_names[c]) == 0)
			return c;
	return -1;
}

/* Sets field c of p from text (NULL or "": missing). Returns 0, or -1 on a malformed value. */
static int probe_set(struct vd_probe *p, int c, const char *text)
{
	if (!text || !*text || strcmp(text, "null") == 0)
		return c == COL_SEQ ? -1 : 0;
	if (c == COL_PHASE) {
		enum vd_phase ph;
		if (vd_phase_parse(text, &ph) < 0)
			return -1;
		p->phase = ph;
		return 0;
	}
	if (c == COL_STATUS) {
		enum vd_probe_status st;
		if (vd_probe_status_parse(text, &st) < 0)
			return -1;
		p->status = st;
		return 0;
	}
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (*end || errno || end == text)
		return -1;
	if (c == COL_SEQ) {
		if (v < 0 || v > UINT32_MAX)
			return -1;
		p->seq = (uint32_t)v;
		return 0;
	}
	if (!ts_in_range((vd_ns)v))
		return -1;
	vd_ns *t[COL__COUNT] = {
	    [COL_USER_TX] = &p->user_tx, [COL_KERNEL_TX] = &p->kernel_tx,
	    [COL_HW_TX] = &p->hw_tx,	 [COL_KERNEL_RX] = &p->kernel_rx,
	    [COL_HW_RX] = &p->hw_rx,	 [COL_USER_RX] = &p->user_rx,
	};
	*t[c] = (vd_ns)v;
	return 0;
}

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static int read_tping_csv(struct tping_reader *rd, FILE *f, struct vd_err *err)
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
				map[col] = col_index(tok);
				have_phase |= map[col] == COL_PHASE;
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
			seen_seq |= map[col] == COL_SEQ;
			if (probe_set(&p, map[col], tok) < 0) {
				rc = vd_err_set(err, "%s: line %lu: bad value '%s' in column %s",
						rd->spec->path, lineno, tok, col_names[map[col]]);
				goto out;
			}
		}
		if (!seen_seq) {
			rc = vd_err_set(err, "%s: line %lu: no seq", rd->spec->path, lineno);
			goto out;
		}
		if (!have_phase)
			p.phase = (enum vd_phase) - 1;
		if (tping_emit(rd, &p) < 0) {
			rc = vd_err_set(err, "%s: out of memory", rd->spec->path);
			goto out;
		}
	}
	if (ferror(f))
		rc = vd_err_set(err, "%s: read error", rd->spec->path);
out:
	free(line);
	return rc;
}

/* A flat JSON object of strings, numbers, true/false/null: all tping's JSON lines hold. */
static const char *json_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return s;
}

static const char *json_string(const char *s, char *out, size_t len)
{
	if (*s != '"')
		return NULL;
	size_t k = 0;
	for (s++; *s && *s != '"'; s++) {
		if (*s == '\\') {
			s++;
			if (!*s)
				return NULL;
		}
		if (k + 1 < len)
			out[k++] = *s;
	}
	if (*s != '"')
		return NULL;
	out[k] = '\0';
	return s + 1;
}

static int parse_json_line(const char *s, struct vd_probe *p, int *have_phase, int *have_seq)
{
	s = json_ws(s);
	if (*s++ != '{')
		return -1;
	s = json_ws(s);
	if (*s == '}')
		return 0;
	for (;;) {
		char key[64], val[64];
		s = json_string(json_ws(s), key, sizeof(key));
		if (!s)
			return -1;
		s = json_ws(s);
		if (*s++ != ':')
			return -1;
		s = json_ws(s);
		if (*s == '"') {
			s = json_string(s, val, sizeof(val));
			if (!s)
				return -1;
		} else {
			size_t k = 0;
			while (*s && *s != ',' && *s != '}' && !isspace((unsigned char)*s)) {
				if (k + 1 < sizeof(val))
					val[k++] = *s;
				s++;
			}
			val[k] = '\0';
			if (!k)
				return -1;
		}
		int c = col_index(key);
		if (c >= 0 && probe_set(p, c, val) < 0)
			return -1;
		*have_phase |= c == COL_PHASE;
		*have_seq |= c == COL_SEQ;
		s = json_ws(s);
		if (*s == '}')
			return 0;
		if (*s++ != ',')
			return -1;
	}
}

static int read_tping_json(struct tping_reader *rd, FILE *f, struct vd_err *err)
{
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	unsigned long lineno = 0;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		if (!*json_ws(line))
			continue;
		struct vd_probe p;
		vd_probe_init(&p, 0);
		int have_phase = 0, have_seq = 0;
		if (parse_json_line(line, &p, &have_phase, &have_seq) < 0 || !have_seq) {
			rc = vd_err_set(err, "%s: line %lu: not a tping JSON object with a seq",
					rd->spec->path, lineno);
			break;
		}
		if (!have_phase)
			p.phase = (enum vd_phase) - 1;
		if (tping_emit(rd, &p) < 0) {
			rc = vd_err_set(err, "%s: out of memory", rd->spec->path);
			break;
		}
	}
	if (!rc && ferror(f))
		rc = vd_err_set(err, "%s: read error", rd->spec->path);
	free(line);
	return rc;
}

static int read_tping_sqlite(struct tping_reader *rd, struct vd_err *err)
{
	const char *path = rd->spec->path;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		vd_err_set(err, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		goto out;
	}
	int64_t run = rd->run;
	if (run < 0) {
		if (sqlite3_prepare_v2(db, "SELECT max(run_id) FROM probes", -1, &st, NULL) !=
			SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL) {
			vd_err_set(err, "%s: no tping probes in this database (%s)", path,
				   sqlite3_errmsg(db));
			goto out;
		}
		run = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		st = NULL;
	}
	if (sqlite3_prepare_v2(db,
			       "SELECT seq, phase, status, user_tx_ns, kernel_tx_ns, hw_tx_ns,"
			       " kernel_rx_ns, hw_rx_ns, user_rx_ns FROM probes WHERE run_id = ?"
			       " ORDER BY idx",
			       -1, &st, NULL) != SQLITE_OK) {
		vd_err_set(err, "%s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_int64(st, 1, run);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct vd_probe p;
		vd_probe_init(&p, 0);
		for (int c = 0; c < COL__COUNT; c++) {
			const unsigned char *t = sqlite3_column_text(st, c);
			if (probe_set(&p, c, (const char *)t) < 0) {
				vd_err_set(err, "%s: run %" PRId64 ": bad %s '%s'", path, run,
					   col_names[c], t ? (const char *)t : "");
				goto out;
			}
		}
		if (tping_emit(rd, &p) < 0) {
			vd_err_set(err, "%s: out of memory", path);
			goto out;
		}
	}
	if (r != SQLITE_DONE) {
		vd_err_set(err, "%s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if (!rd->rows) {
		vd_err_set(err, "%s: run %" PRId64 " has no probes", path, run);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

static int read_tping(const struct vd_vantage_spec *spec, const char *fmt,
		      struct vd_vantage_set *set, struct vd_err *err)
{
	struct tping_reader rd = {.spec = spec, .fmt = fmt};
	int rc = tping_select(&rd, err);
	if (rc < 0)
		return -1;
	for (int k = 0; k < PT__COUNT; k++) {
		rd.pt[k] = vd_vantage_new(point_names[k], spec->clock, spec->path, fmt);
		if (!rd.pt[k]) {
			rc = vd_err_set(err, "out of memory");
			goto out;
		}
		rd.pt[k]->has_phase = 1;
	}
	if (strcmp(fmt, "tping-sqlite") == 0) {
		rc = read_tping_sqlite(&rd, err);
	} else {
		FILE *f = fopen(spec->path, "r");
		if (!f) {
			rc = vd_err_set(err, "%s: %s", spec->path, strerror(errno));
			goto out;
		}
		rc = strcmp(fmt, "tping-csv") == 0 ? read_tping_csv(&rd, f, err)
						   : read_tping_json(&rd, f, err);
		fclose(f);
	}
	if (rc < 0)
		goto out;
	int chosen[PT__COUNT], nchosen = 0;
	for (int k = 0; k < PT__COUNT; k++) {
		chosen[k] = rd.any_selected ? rd.want[k] : rd.pt[k]->echoes > 0;
		if (chosen[k] && rd.pt[k]->echoes == 0) {
			rc = vd_err_set(err, "%s: no %s timestamps in this tping file", spec->path,
					point_names[k]);
			goto out;
		}
		nchosen += chosen[k];
	}
	if (!nchosen) {
		rc =
		    vd_err_set(err, "%s: no probes with timestamps in this tping file", spec->path);
		goto out;
	}
	for (int k = 0; k < PT__COUNT; k++) {
		if (!chosen[k])
			continue;
		struct vd_vantage *v = rd.pt[k];
		if (spec->name[0] && nchosen == 1)
			snprintf(v->name, sizeof(v->name), "%s", spec->name);
		else if (spec->name[0])
			snprintf(v->name, sizeof(v->name), "%.60s.%s", spec->name, point_names[k]);
		snprintf(v->select, sizeof(v->select), "%s", point_names[k]);
		v->records = rd.rows;
		for (size_t i = 0; i < v->n; i++)
			if (v->ev[i].phase < 0)
				v->has_phase = 0;
		if (vd_vantage_set_append(set, v) < 0) {
			rc = vd_err_set(err, "out of memory");
			goto out;
		}
		rd.pt[k] = NULL;
	}
out:
	for (int k = 0; k < PT__COUNT; k++)
		vd_vantage_free(rd.pt[k]);
	return rc;
}

int vd_vantage_read(const struct vd_vantage_spec *spec, struct vd_vantage_set *set,
		    const struct vd_vantage_read_opts *opts, struct vd_err *err)
{
	const char *fmt = vd_vantage_detect(spec->path, err);
	if (!fmt)
		return -1;
	if (strncmp(fmt, "tping-", 6) == 0)
		return read_tping(spec, fmt, set, err);
	if (strcmp(fmt, VD_VANTAGE_TCM_FORMAT) == 0)
		return vd_vantage_tcm_read(spec, set, err);
	/* Everything else goes to the trace readers, which know pcap, pcapng and ERF (ERF has no
	 * magic number: vd_trace_open validates its records) and name the file when it is none. */
	return read_trace(spec, set, opts, err);
}
