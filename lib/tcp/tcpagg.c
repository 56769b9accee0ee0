/* tcpagg.c — tcpmon's TCP trans-rx records as delivered packets (see tcpagg.h). The reader
 * (lib/input/tcmrec.c) holds the whole file; this keeps the indices of the records wanted, sorted
 * by time, since records come in per-CPU batches and the analysis reads each flow in time order. */
#include "vmdelay/tcp/tcpagg.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vmdelay/record.h"
#include "vmdelay/input/tcmrec.h"

struct delivered {
	vd_ns ts;
	size_t idx; /* record index: ties keep file order */
};

struct vd_tcpagg {
	struct tcmrec *rd;
	struct delivered *ev;
	size_t nev, next;
};

static int cmp_delivered(const void *a, const void *b)
{
	const struct delivered *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

static int is_delivered(const struct tcpmon_record *r)
{
	return r->layer == TCPMON_L_TRANS_RX && r->proto == IPPROTO_TCP &&
	       (r->family == AF_INET || r->family == AF_INET6);
}

int vd_tcpagg_open(const char *path, struct vd_tcpagg **out, struct vd_err *err)
{
	struct vd_tcpagg *a = calloc(1, sizeof(*a));
	if (!a)
		return vd_err_set(err, "%s: out of memory", path);
	if (vd_tcmrec_open(path, &a->rd, err) < 0) {
		free(a);
		return -1;
	}
	size_t n = vd_tcmrec_count(a->rd);
	int use_tsc = vd_tcmrec_use_tsc(a->rd);
	a->ev = malloc((n ? n : 1) * sizeof(*a->ev));
	if (!a->ev) {
		vd_tcpagg_close(a);
		return vd_err_set(err, "%s: out of memory", path);
	}
	for (size_t i = 0; i < n; i++) {
		const struct tcpmon_record *r = vd_tcmrec_get(a->rd, i);
		if (is_delivered(r))
			a->ev[a->nev++] =
			    (struct delivered){vd_tcmrec_record_time(a->rd, r, use_tsc, NULL), i};
	}
	qsort(a->ev, a->nev, sizeof(*a->ev), cmp_delivered);
	*out = a;
	return 0;
}

void vd_tcpagg_close(struct vd_tcpagg *a)
{
	if (!a)
		return;
	vd_tcmrec_free(a->rd);
	free(a->ev);
	free(a);
}

static void addr_of(const struct tcpmon_record *r, const uint8_t *bytes, struct vd_addr *out)
{
	out->family = r->family;
	memcpy(out->bytes, bytes, r->family == AF_INET ? 4 : 16);
}

int vd_tcpagg_next(struct vd_tcpagg *a, vd_ns *ts, struct vd_decoded *d)
{
	if (a->next >= a->nev)
		return 0;
	const struct delivered *e = &a->ev[a->next++];
	const struct tcpmon_record *r = vd_tcmrec_get(a->rd, e->idx);
	memset(d, 0, sizeof(*d));
	addr_of(r, r->saddr, &d->src);
	addr_of(r, r->daddr, &d->dst);
	d->ip_proto = IPPROTO_TCP;
	d->l4 = VD_L4_TCP;
	d->sport = r->sport;
	d->dport = r->dport;
	d->tcp_seq = r->seq;
	d->tcp_ack = r->ack;
	d->tcp_flags = r->tcp_flags;
	d->tcp_win = r->window;
	d->tcp_payload_len = r->payload_len;
	d->gso_segs = r->gso_segs;
	*ts = e->ts;
	return 1;
}

size_t vd_tcpagg_records(const struct vd_tcpagg *a)
{
	return vd_tcmrec_count(a->rd);
}

size_t vd_tcpagg_delivered(const struct vd_tcpagg *a)
{
	return a->nev;
}
