/* pcapng_out.c — the annotated export of matched packets (see pcapng_out.h). The analysis keeps
 * requests as events, not packets: the traces are read again, and the packets whose numbers a
 * pair holds are copied, merged by time across the vantage points. */
#include "pcapng_out.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/input/format.h"
#include "vmdelay/input/trace.h"
#include "vmdelay/out/pcapng_writer.h"

/* A packet to copy: its number in the file and the probe it belongs to. */
struct wanted {
	uint64_t index;
	size_t probe;
	int reply;
};

/* One vantage point's second pass. */
struct pass {
	size_t v;
	const char *path;
	struct vd_trace *tr;
	struct wanted *w;
	size_t n, next; /* w sorted by index; next: the one to find */
	struct vd_pkt pkt;
	int have;	/* pkt is w[next]'s packet */
	uint32_t iface; /* in the output */
	int linktype;
};

static int cmp_wanted(const void *a, const void *b)
{
	const struct wanted *x = a, *y = b;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int is_trace(const struct vd_vantage *v)
{
	return !strcmp(v->format, "pcap") || !strcmp(v->format, "pcapng") ||
	       !strcmp(v->format, "erf");
}

/* The packets of v's pairs (requests and replies), sorted by packet number. */
static int collect(const struct vd_delay *d, struct pass *ps)
{
	const struct vd_vantage *v = d->vps[ps->v];
	ps->w = malloc((2 * d->map.n + 1) * sizeof(*ps->w));
	if (!ps->w)
		return -1;
	for (size_t p = 0; p < d->map.n; p++) {
		const struct vd_echo_pair *pr = vd_probe_pair(&d->map, d->vps, p, ps->v);
		if (!pr)
			continue;
		ps->w[ps->n++] = (struct wanted){.index = v->ev[pr->req].index, .probe = p};
		ps->w[ps->n++] =
		    (struct wanted){.index = vd_pair_rep_index(v, pr), .probe = p, .reply = 1};
	}
	qsort(ps->w, ps->n, sizeof(*ps->w), cmp_wanted);
	return 0;
}

/* Reads on to the packet of w[next]; have = 0 when none is left. */
static int advance(struct pass *ps, struct vd_err *err)
{
	ps->have = 0;
	while (ps->next < ps->n) {
		int r = vd_trace_next(ps->tr, &ps->pkt, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return vd_err_set(err, "%s: packet %" PRIu64 " is gone (the file changed?)",
					  ps->path, ps->w[ps->next].index);
		if (ps->pkt.index == ps->w[ps->next].index) {
			ps->have = 1;
			return 0;
		}
	}
	return 0;
}

static void us(char *buf, size_t n, vd_ns t)
{
	if (vd_ns_valid(t))
		snprintf(buf, n, "%+.3f us", (double)t / 1e3);
	else
		snprintf(buf, n, "n/a");
}

/* "layer OUTER>INNER (vantage NAME); pair icmpv4 SRC > DST id I seq S, request; probe P;
 * rtt R; delta_rtt D" */
static void comment(const struct vd_delay *d, const struct pass *ps, const struct wanted *w,
		    char *buf, size_t n)
{
	size_t v = ps->v;
	struct vd_echo qbuf, *q = &qbuf;
	vd_probe_echo(&d->map, d->vps, w->probe, v, q); /* (the pass holds only v's probes) */
	char src[64], dst[64], rtt[32], delta[32], layer[2 * VD_VANTAGE_NAME_MAX + 8];
	vd_addr_format(&q->src, src, sizeof(src));
	vd_addr_format(&q->dst, dst, sizeof(dst));
	if (v)
		snprintf(layer, sizeof(layer), "%s>%s", d->vps[v - 1]->name, d->vps[v]->name);
	else
		snprintf(layer, sizeof(layer), "outermost");
	us(rtt, sizeof(rtt), vd_delay_rtt(d, w->probe, v));
	if (v)
		us(delta, sizeof(delta), vd_delay_layer(d, w->probe, v, VD_DIR_RTT));
	else
		snprintf(delta, sizeof(delta), "n/a");
	snprintf(buf, n,
		 "layer %s (vantage %s); pair %s %s > %s id %u seq %" PRIu32 ", %s; probe %zu; "
		 "rtt %s; delta_rtt %s",
		 layer, d->vps[v]->name, vd_echo_family_name(q), src, dst, q->id, q->seq,
		 w->reply ? "reply" : "request", w->probe + 1, rtt, delta);
}

int pcapng_out_write(const char *path, const struct vd_delay *d, struct vd_err *err)
{
	struct pass *ps = calloc(d->nvp ? d->nvp : 1, sizeof(*ps));
	struct vd_pcapng_writer *wr = NULL;
	size_t np = 0;
	int rc = -1;
	if (!ps)
		return vd_err_set(err, "out of memory");
	for (size_t v = 0; v < d->nvp; v++) {
		if (!is_trace(d->vps[v]))
			continue; /* tping rows and tcpmon records have no packets to copy */
		struct pass *p = &ps[np++];
		p->v = v;
		p->path = d->vps[v]->path;
		if (collect(d, p) < 0) {
			vd_err_set(err, "out of memory");
			goto out;
		}
		if (vd_format_is_stream(p->path)) {
			vd_err_set(
			    err,
			    "--pcapng-out %s: %s is a pipe, read once already: the export reads "
			    "its traces a second time, so give it as a file",
			    path, p->path);
			goto out;
		}
		if (vd_trace_open(d->vps[v]->path, &p->tr, err) < 0 || advance(p, err) < 0)
			goto out;
	}
	if (!np) {
		vd_err_set(err, "--pcapng-out %s: no vantage point is a packet trace", path);
		goto out;
	}
	if (vd_pcapng_writer_open(path, "vmdelay-analyze " VMDELAY_VERSION, &wr, err) < 0)
		goto out;
	for (size_t i = 0; i < np; i++) {
		const struct vd_vantage *v = d->vps[ps[i].v];
		char desc[VD_VANTAGE_NAME_MAX + 64];
		snprintf(desc, sizeof(desc), "vantage point %zu of %zu: %s", ps[i].v + 1, d->nvp,
			 v->path);
		ps[i].linktype = ps[i].have ? ps[i].pkt.linktype : VD_LINK_ETHERNET;
		if (vd_pcapng_writer_interface(wr, ps[i].linktype, 0, v->name, desc, &ps[i].iface,
					       err) < 0)
			goto out;
	}
	char text[1024];
	for (;;) {
		struct pass *best = NULL;
		for (size_t i = 0; i < np; i++)
			if (ps[i].have && (!best || ps[i].pkt.ts < best->pkt.ts))
				best = &ps[i];
		if (!best)
			break;
		if (best->pkt.linktype != best->linktype) {
			/* an interface of another link type in the same vantage point */
			best->linktype = best->pkt.linktype;
			if (vd_pcapng_writer_interface(wr, best->linktype, 0, d->vps[best->v]->name,
						       "link type change", &best->iface, err) < 0)
				goto out;
		}
		/* a packet a pair holds twice (never, but cheap to honour): one copy per entry */
		while (best->next < best->n && best->w[best->next].index == best->pkt.index) {
			comment(d, best, &best->w[best->next], text, sizeof(text));
			if (vd_pcapng_writer_packet(wr, best->iface, best->pkt.ts, best->pkt.data,
						    best->pkt.caplen, best->pkt.wirelen, text,
						    err) < 0)
				goto out;
			best->next++;
		}
		if (advance(best, err) < 0)
			goto out;
	}
	rc = 0;
out:
	if (wr && vd_pcapng_writer_close(wr, rc < 0 ? NULL : err) < 0)
		rc = -1;
	for (size_t i = 0; i < np; i++) {
		vd_trace_close(ps[i].tr);
		free(ps[i].w);
	}
	free(ps);
	return rc;
}
