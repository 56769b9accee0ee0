/* filter.c — pcap-filter expressions over any trace (see filter.h). */
#include "vmdelay/input/filter.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

/* Programs by link type: a handful at most (one per link type in the file). */
#define FILTER_MAX_LINKTYPES 16

struct compiled {
	int linktype;
	int ok; /* 0: expr does not compile for this link type */
	struct bpf_program prog;
};

struct vd_filter {
	char *expr;
	struct compiled c[FILTER_MAX_LINKTYPES];
	size_t n;
	struct compiled *last; /* the previous packet's: traces seldom change link type */
};

/* pcap_open_dead takes a DLT_ value; a file's LINKTYPE_ value is the same number but for the
 * few that differ by platform (tcpdump.org/linktypes.html). */
static int dlt_of(int linktype)
{
	switch (linktype) {
	case VD_LINK_RAW:
		return DLT_RAW;
	case VD_LINK_LOOP:
		return DLT_LOOP;
	default:
		return linktype;
	}
}

/* Compiles expr for linktype; the message (libpcap's) goes to err. */
static int compile(struct vd_filter *f, int linktype, struct compiled *c, struct vd_err *err)
{
	c->linktype = linktype;
	c->ok = 0;
	/* 262144: libpcap's largest snap length, so no expression is cut short by it */
	pcap_t *dead = pcap_open_dead(dlt_of(linktype), 262144);
	if (!dead)
		return vd_err_set(err, "filter '%s': link type %d: out of memory", f->expr,
				  linktype);
	if (pcap_compile(dead, &c->prog, f->expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		vd_err_set(err, "filter '%s': %s (link type %d)", f->expr, pcap_geterr(dead),
			   linktype);
		pcap_close(dead);
		return -1;
	}
	pcap_close(dead);
	c->ok = 1;
	return 0;
}

int vd_filter_new(const char *expr, struct vd_filter **out, struct vd_err *err)
{
	*out = NULL;
	struct vd_filter *f = calloc(1, sizeof(*f));
	if (!f || !(f->expr = strdup(expr))) {
		free(f);
		return vd_err_set(err, "out of memory");
	}
	/* A typo is reported before any file is read: try Ethernet, the usual link type. */
	if (compile(f, VD_LINK_ETHERNET, &f->c[0], err) < 0) {
		vd_filter_free(f);
		return -1;
	}
	f->n = 1;
	*out = f;
	return 0;
}

static struct compiled *program_for(struct vd_filter *f, int linktype, struct vd_err *err)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->c[i].linktype == linktype)
			return &f->c[i];
	if (f->n == FILTER_MAX_LINKTYPES) {
		vd_err_set(err, "filter '%s': more than %d link types in one trace", f->expr,
			   FILTER_MAX_LINKTYPES);
		return NULL;
	}
	struct compiled *c = &f->c[f->n++];
	compile(f, linktype, c, err); /* c->ok says whether it did; err kept for the caller */
	return c;
}

int vd_filter_match(struct vd_filter *f, const struct vd_pkt *pkt, struct vd_err *err)
{
	struct compiled *c = f->last;
	if (!c || c->linktype != pkt->linktype) {
		c = program_for(f, pkt->linktype, err);
		if (!c)
			return -1;
		f->last = c;
	}
	if (!c->ok)
		return vd_err_set(err, "filter '%s' does not apply to link type %d (packet %llu)",
				  f->expr, pkt->linktype, (unsigned long long)pkt->index);
	struct pcap_pkthdr h = {.caplen = pkt->caplen, .len = pkt->wirelen};
	return pcap_offline_filter(&c->prog, &h, pkt->data) != 0;
}

void vd_filter_free(struct vd_filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		if (f->c[i].ok)
			pcap_freecode(&f->c[i].prog);
	free(f->expr);
	free(f);
}
