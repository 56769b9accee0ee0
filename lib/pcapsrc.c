/* pcapsrc.c — classic pcap through libpcap (µs and ns magic, both byte orders), timestamps
 * always asked for in nanoseconds. We read the 24-byte file header ourselves first, for the
 * file's own LINKTYPE_ value (pcap_datalink() gives a DLT_ value) and to refuse reserved bits. */
#include "trace_ops.h"

#include <pcap/pcap.h>
#include <stdlib.h>

#include "bytes.h"

struct pcapsrc {
	pcap_t *p;
	int linktype;
	int nano; /* the file's own resolution */
};

static int pcapsrc_open(struct vd_trace *tr, struct vd_err *err)
{
	uint8_t h[24];
	int rc = vd_trace_read(tr, h, sizeof(h), "the pcap file header", err);
	if (rc == 0)
		return vd_trace_fail(tr, err, 0, "empty file");
	if (rc < 0)
		return -1;
	uint32_t magic = vd_le32(h);
	int big = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
	uint32_t lt = vd_ld32(h + 20, big);
	/* Bits 16-25 are reserved (bits 26-31 carry the FCS length): tshark refuses them too. */
	if (lt & 0x03ff0000)
		return vd_trace_fail(tr, err, 20,
				     "pcap link-type field has reserved bits set (0x%08x)", lt);

	struct pcapsrc *s = calloc(1, sizeof(*s));
	if (!s)
		return vd_err_set(err, "%s: out of memory", tr->name);
	s->linktype = (int)(lt & 0xffff);
	s->nano = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
	if (fseeko(tr->f, 0, SEEK_SET) != 0) {
		free(s);
		return vd_trace_fail(tr, err, 0, "cannot seek back to the file header");
	}
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	s->p = pcap_fopen_offline_with_tstamp_precision(tr->f, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!s->p) {
		free(s);
		return vd_err_set(err, "%s: libpcap: %s", tr->name, ebuf);
	}
	tr->f = NULL; /* pcap_close() closes it */
	tr->off = 24;
	tr->priv = s;
	return 0;
}

static int pcapsrc_next(struct vd_trace *tr, struct vd_pkt *pkt, struct vd_err *err)
{
	struct pcapsrc *s = tr->priv;
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = pcap_next_ex(s->p, &h, &data);
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1)
		return vd_trace_fail(tr, err, tr->off, "packet %llu: %s",
				     (unsigned long long)tr->npkts + 1, pcap_geterr(s->p));
	/* libpcap scales µs files by 1000 without checking the field: a fraction of a second that
	 * is not below one second (or above 2^31, read as negative) is refused, not guessed. */
	long frac = (long)h->ts.tv_usec;
	if (frac < 0 || frac >= 1000000000L) {
		long raw = s->nano ? frac : frac / 1000;
		return vd_trace_fail(
		    tr, err, tr->off,
		    "packet %llu: timestamp fraction %lu out of range for a %s pcap",
		    (unsigned long long)tr->npkts + 1, (unsigned long)(uint32_t)raw,
		    s->nano ? "nanosecond" : "microsecond");
	}
	pkt->ts = (vd_ns)(uint32_t)h->ts.tv_sec * VD_NS_PER_SEC + frac;
	pkt->iface = 0;
	pkt->linktype = s->linktype;
	pkt->data = data;
	pkt->caplen = h->caplen;
	pkt->wirelen = h->len;
	pkt->offset = tr->off;
	tr->off += 16 + (uint64_t)h->caplen;
	return 1;
}

static void pcapsrc_close(struct vd_trace *tr)
{
	struct pcapsrc *s = tr->priv;
	if (s && s->p)
		pcap_close(s->p);
	free(s);
	tr->priv = NULL;
}

static size_t pcapsrc_iface_count(const struct vd_trace *tr)
{
	return 1;
}

static const char *pcapsrc_iface_name(const struct vd_trace *tr, uint32_t iface)
{
	return NULL;
}

static int pcapsrc_iface_linktype(const struct vd_trace *tr, uint32_t iface)
{
	const struct pcapsrc *s = tr->priv;
	return iface == 0 ? s->linktype : -1;
}

const struct vd_trace_ops vd_pcapsrc_ops = {
    .format = "pcap",
    .open = pcapsrc_open,
    .next = pcapsrc_next,
    .close = pcapsrc_close,
    .iface_count = pcapsrc_iface_count,
    .iface_name = pcapsrc_iface_name,
    .iface_linktype = pcapsrc_iface_linktype,
};
