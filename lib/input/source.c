/* source.c — every input behind one pull iterator (source.h): the format detected once, then
 * items from the trace readers, the tcpmon record file or a tping file's rows. */
#include "vmdelay/input/source.h"

#include "vmdelay/input/filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tping_csv.h"
#include "tping_json.h"
#include "tping_sqlite.h"
#include "vmdelay/input/tcmrec.h"
#include "vmdelay/input/trace.h"

/* Packets read from a trace per call of its reader: the calls through the dispatcher and the
 * reader's checks of its window were a third of the reading's cost per packet. 8, 16 and 32 read
 * ICMP captures alike; at 65,535 TCP connections 32 measured a little slower than 16 (bursts
 * of reading between the analysis's fetches ahead). */
#define SOURCE_BATCH 16

struct vd_source {
	const struct vd_vantage_spec *spec;
	enum vd_format format;
	uint64_t records;
	struct vd_trace *tr;
	int pick;	/* a trace whose #SELECT names one interface */
	int8_t *chosen; /* per interface: -1 not seen yet, 0 dropped, 1 kept */
	size_t nchosen;
	struct tcmrec *tcm;
	size_t next_rec;
	struct vd_tping_rows *rows;
	struct vd_filter *filter; /* packets that fail it are dropped (not owned) */
	/* Packets read from the trace ahead of the items handed out (vd_trace_next_batch):
	 * batch[bpos..blen) come next. */
	unsigned bpos, blen;
	struct vd_pkt batch[SOURCE_BATCH];
};

static int open_rows(struct vd_source *s, struct vd_err *err)
{
	const char *path = s->spec->path;
	switch (s->format) {
	case VD_FORMAT_TPING_CSV:
		return vd_tping_csv_open(path, &s->rows, err);
	case VD_FORMAT_TPING_JSON:
		return vd_tping_json_open(path, &s->rows, err);
	default:
		return vd_tping_sqlite_open(path, vd_tping_select_run(s->spec->select), &s->rows,
					    err);
	}
}

static enum vd_format trace_format(const struct vd_trace *tr)
{
	static const enum vd_format traces[] = {VD_FORMAT_PCAP, VD_FORMAT_PCAPNG, VD_FORMAT_ERF};
	for (size_t i = 0; i < sizeof(traces) / sizeof(traces[0]); i++)
		if (strcmp(vd_format_name(traces[i]), vd_trace_format(tr)) == 0)
			return traces[i];
	return VD_FORMAT_UNKNOWN;
}

int vd_source_open(const struct vd_vantage_spec *spec, unsigned want, struct vd_source **out,
		   struct vd_err *err)
{
	*out = NULL;
	struct vd_source *s = calloc(1, sizeof(*s));
	if (!s)
		return vd_err_set(err, "%s: out of memory", spec->path);
	s->spec = spec;
	int rc;
	if (vd_format_detect_file(spec->path, &s->format, err) < 0)
		rc = -1;
	else if (s->format == VD_FORMAT_TCPMON && (want & VD_SOURCE_TCPMON))
		rc = vd_tcmrec_open(spec->path, &s->tcm, err);
	else if (vd_format_is_tping(s->format) && (want & VD_SOURCE_PROBES))
		rc = open_rows(s, err);
	else /* the trace readers name the file when it is no trace at all */
		rc = vd_trace_open(spec->path, &s->tr, err);
	if (rc == 0 && s->tr)
		s->format = trace_format(s->tr); /* a pipe's format is known only now */
	if (rc < 0 && err && s->format == VD_FORMAT_UNKNOWN && vd_format_is_stream(spec->path)) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		vd_err_set(err,
			   "%s (a pipe is read as a packet trace only: name tping and tcpmon files "
			   "as files)",
			   why);
	}
	if (rc < 0) {
		vd_source_close(s);
		return -1;
	}
	s->pick = s->tr && spec->select[0] && strcmp(spec->select, "*") != 0;
	*out = s;
	return 0;
}

/* Whether #SELECT keeps interface iface, asked once per interface. */
static int kept(struct vd_source *s, uint32_t iface, struct vd_err *err)
{
	if (iface >= s->nchosen) {
		if (iface > 1u << 20) /* a sane bound on interfaces; beyond it, asked each time */
			return vd_iface_selected(s->spec->select,
						 vd_trace_interface_name(s->tr, iface), iface);
		size_t n = (size_t)iface + 1;
		int8_t *c = realloc(s->chosen, n);
		if (!c)
			return vd_err_set(err, "%s: out of memory", s->spec->path);
		memset(c + s->nchosen, -1, n - s->nchosen);
		s->chosen = c;
		s->nchosen = n;
	}
	if (s->chosen[iface] < 0)
		s->chosen[iface] = (int8_t)vd_iface_selected(
		    s->spec->select, vd_trace_interface_name(s->tr, iface), iface);
	return s->chosen[iface];
}

/* *to = *from field by field, each stored at its own width: the consumer (the decoder) loads
 * them so at once, and a load from within a wider store (the compiler's 16-byte copy) waited
 * for the store to retire, on AMD Zen at least (vd_decode_with's time +40% with the copy). */
static inline void put_pkt(struct vd_pkt *to, const struct vd_pkt *from)
{
#define PUT(field) __atomic_store_n(&to->field, from->field, __ATOMIC_RELAXED)
	PUT(ts);
	PUT(iface);
	PUT(linktype);
	PUT(data);
	PUT(caplen);
	PUT(wirelen);
	PUT(index);
	PUT(offset);
#undef PUT
}

/* vd_source_next for every case but a packet waiting in the batch with nothing to check. */
static __attribute__((noinline)) int next_item(struct vd_source *s, struct vd_item *it,
					       struct vd_err *err)
{
	if (s->tr) {
		for (;;) {
			if (s->bpos == s->blen) {
				int r = vd_trace_next_batch(s->tr, s->batch, SOURCE_BATCH, err);
				if (r <= 0)
					return r;
				s->bpos = 0;
				s->blen = (unsigned)r;
			}
			put_pkt(&it->pkt, &s->batch[s->bpos++]);
			s->records++;
			int keep = s->pick ? kept(s, it->pkt.iface, err) : 1;
			if (keep > 0 && s->filter)
				keep = vd_filter_match(s->filter, &it->pkt, err);
			if (keep < 0)
				return -1;
			if (keep) {
				it->kind = VD_ITEM_PACKET;
				it->index = it->pkt.index;
				return 1;
			}
		}
	}
	if (s->tcm) {
		if (s->next_rec >= vd_tcmrec_count(s->tcm))
			return 0;
		it->kind = VD_ITEM_TCPMON;
		it->rec = vd_tcmrec_get(s->tcm, s->next_rec++);
		it->index = ++s->records;
		return 1;
	}
	int r = s->rows->next(s->rows, &it->probe, err);
	if (r == 1) {
		it->kind = VD_ITEM_PROBE;
		it->index = ++s->records;
	}
	return r;
}

int vd_source_next(struct vd_source *s, struct vd_item *it, struct vd_err *err)
{
	/* the common case in few instructions: no call, no registers to save */
	if (s->bpos < s->blen && !s->pick && !s->filter) {
		const struct vd_pkt *p = &s->batch[s->bpos++];
		put_pkt(&it->pkt, p);
		it->kind = VD_ITEM_PACKET;
		it->index = p->index;
		s->records++;
		return 1;
	}
	return next_item(s, it, err);
}

void vd_source_set_filter(struct vd_source *s, struct vd_filter *f)
{
	s->filter = f;
}

void vd_source_close(struct vd_source *s)
{
	if (!s)
		return;
	vd_trace_close(s->tr);
	vd_tcmrec_free(s->tcm);
	if (s->rows)
		s->rows->close(s->rows);
	free(s->chosen);
	free(s);
}

enum vd_format vd_source_format(const struct vd_source *s)
{
	return s->format;
}

uint64_t vd_source_records(const struct vd_source *s)
{
	return s->records;
}

struct vd_trace *vd_source_trace(const struct vd_source *s)
{
	return s->tr;
}

struct tcmrec *vd_source_tcmrec(const struct vd_source *s)
{
	return s->tcm;
}

void vd_source_iface_label(const struct vd_source *s, uint32_t iface, char *buf, size_t len)
{
	vd_iface_label(s->tr ? vd_trace_interface_name(s->tr, iface) : NULL, iface, buf, len);
}
