/* pcapsrc.c — classic pcap (µs and ns magic, both byte orders), timestamps in nanoseconds. We
 * read the 24-byte file header ourselves first, for the file's own LINKTYPE_ value
 * (pcap_datalink() gives a DLT_ value) and to refuse reserved bits. A version 2.4 file of a link
 * type with libpcap's usual 262144-byte limit is read through the read window of trace.c with
 * libpcap 1.10's record rules and messages (libpcap's fread per record cost a fifth of
 * vmdelay-analyze's time); anything older or rarer goes through libpcap itself, a pipe too
 * (libpcap gets a stream replaying the bytes format detection read ahead). */
#define _GNU_SOURCE /* fopencookie */
#include "trace_reader.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

struct pcapsrc {
	pcap_t *p; /* NULL: read through the window */
	int linktype;
	int nano; /* the file's own resolution */
	int big;
	uint32_t snapshot; /* libpcap's: the file's snaplen, or the maximum when 0 or above it */
};

/* libpcap's largest record for most link types (max_snaplen_for_dlt); D-Bus, USBPcap and
 * EBHSCR allow more and go through libpcap. */
#define PCAP_MAX_SNAPLEN 262144u

/* A pipe cannot be rewound for libpcap: it gets a stream that replays what format detection
 * read ahead (the read window), then the rest of the pipe. */
struct replay {
	FILE *f;
	uint8_t *buf;
	size_t n, pos;
};

static ssize_t replay_read(void *cookie, char *out, size_t len)
{
	struct replay *r = cookie;
	if (r->pos < r->n) {
		size_t k = r->n - r->pos < len ? r->n - r->pos : len;
		memcpy(out, r->buf + r->pos, k);
		r->pos += k;
		return (ssize_t)k;
	}
	size_t got = fread(out, 1, len, r->f);
	return got == 0 && ferror(r->f) ? -1 : (ssize_t)got;
}

static int replay_close(void *cookie)
{
	struct replay *r = cookie;
	int rc = fclose(r->f);
	free(r->buf);
	free(r);
	return rc;
}

/* The FILE libpcap should read from the start: tr->f rewound, or a replaying stream. */
static FILE *from_start(struct vd_trace *tr, struct vd_err *err)
{
	FILE *f = tr->f;
	if (fseeko(f, 0, SEEK_SET) == 0) {
		tr->wpos = tr->wlen = 0;
		tr->eof = 0;
		return f;
	}
	struct replay *r = calloc(1, sizeof(*r));
	if (!r) {
		vd_err_set(err, "%s: out of memory", tr->name);
		return NULL;
	}
	static const cookie_io_functions_t io = {.read = replay_read, .close = replay_close};
	*r = (struct replay){.f = f, .buf = tr->buf, .n = tr->wlen};
	FILE *rf = fopencookie(r, "rb", io);
	if (!rf) {
		free(r);
		vd_err_set(err, "%s: %s", tr->name, strerror(errno));
		return NULL;
	}
	tr->f = rf; /* owns the pipe and the window now */
	tr->buf = NULL;
	tr->bufcap = tr->wpos = tr->wlen = 0;
	return rf;
}

static int pcapsrc_open(struct vd_trace *tr, struct vd_err *err)
{
	const uint8_t *h;
	ssize_t got = vd_trace_peek(tr, 24, &h, err);
	if (got < 0)
		return -1;
	if (got < 24)
		return vd_trace_fail(
		    tr, err, 0,
		    "file cut short in the middle of the pcap file header (%zd of 24 bytes)", got);
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
	s->big = big;
	uint32_t snaplen = vd_ld32(h + 16, big);
	s->snapshot =
	    (int32_t)snaplen <= 0 || snaplen > PCAP_MAX_SNAPLEN ? PCAP_MAX_SNAPLEN : snaplen;
	if (vd_ld16(h + 4, big) == 2 && vd_ld16(h + 6, big) == 4 && s->linktype != 231 &&
	    s->linktype != 249 && s->linktype != 279) {
		vd_trace_consume(tr, 24);
		tr->priv = s;
		return 0;
	}
	FILE *f = from_start(tr, err);
	if (!f) {
		free(s);
		return -1;
	}
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	s->p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!s->p) {
		free(s);
		return vd_err_set(err, "%s: libpcap: %s", tr->name, ebuf);
	}
	tr->f = NULL; /* pcap_close() closes it */
	tr->off = 24;
	tr->priv = s;
	return 0;
}

/* One record from the read window, as libpcap 1.10's pcap_next_packet reads it: a record cut
 * short is an error, a capture length above the maximum too, one above the file's snaplen is
 * cut to it. */
static int window_next(struct vd_trace *tr, struct pcapsrc *s, struct vd_pkt *pkt,
		       struct vd_err *err)
{
	const uint8_t *h = tr->buf + tr->wpos;
	if (tr->wlen - tr->wpos < 16) {
		ssize_t got = vd_trace_peek(tr, 16, &h, err);
		if (got < 0)
			return -1;
		if (got == 0)
			return 0;
		if (got < 16)
			return vd_trace_fail(tr, err, tr->off,
					     "packet %llu: truncated dump file; tried to read 16 "
					     "header bytes, only got %zd",
					     (unsigned long long)tr->npkts + 1, got);
	}
	uint32_t sec = vd_ld32(h, s->big), frac = vd_ld32(h + 4, s->big);
	uint32_t caplen = vd_ld32(h + 8, s->big), len = vd_ld32(h + 12, s->big);
	if (caplen > PCAP_MAX_SNAPLEN) {
		if (caplen > s->snapshot)
			return vd_trace_fail(
			    tr, err, tr->off,
			    "packet %llu: invalid packet capture length %u, bigger "
			    "than snaplen of %u",
			    (unsigned long long)tr->npkts + 1, caplen, s->snapshot);
		return vd_trace_fail(tr, err, tr->off,
				     "packet %llu: invalid packet capture length %u, bigger than "
				     "maximum of %u",
				     (unsigned long long)tr->npkts + 1, caplen, PCAP_MAX_SNAPLEN);
	}
	if (tr->wlen - tr->wpos < 16 + (size_t)caplen) {
		ssize_t got = vd_trace_peek(tr, 16 + (size_t)caplen, &h, err);
		if (got < 0)
			return -1;
		/* libpcap reads the snaplen's worth first, then the rest */
		uint32_t first = caplen > s->snapshot ? s->snapshot : caplen;
		if ((size_t)got < 16 + (size_t)caplen)
			return vd_trace_fail(tr, err, tr->off,
					     "packet %llu: truncated dump file; tried to read %u "
					     "captured bytes, only got %zd",
					     (unsigned long long)tr->npkts + 1,
					     (size_t)got < 16 + (size_t)first ? first : caplen,
					     got - 16);
	}
	/* (after the record is read, as in the libpcap path below) a fraction of a second that is
	 * not below one second is refused, not guessed. */
	if (frac >= (s->nano ? 1000000000u : 1000000u))
		return vd_trace_fail(
		    tr, err, tr->off,
		    "packet %llu: timestamp fraction %lu out of range for a %s pcap",
		    (unsigned long long)tr->npkts + 1, (unsigned long)frac,
		    s->nano ? "nanosecond" : "microsecond");
	pkt->ts = (vd_ns)sec * VD_NS_PER_SEC + (s->nano ? frac : frac * 1000);
	pkt->iface = 0;
	pkt->linktype = s->linktype;
	pkt->data = h + 16;
	pkt->caplen = caplen > s->snapshot ? s->snapshot : caplen;
	pkt->wirelen = len;
	pkt->offset = tr->off;
	vd_trace_consume(tr, 16 + (size_t)caplen);
	return 1;
}

/* The records lying whole in the read window, up to max, parsed in one loop with the file's
 * byte order a constant (big): no refill, so every packet's data stays where it is until the
 * next read. Stops at the first record that is cut by the window's end or that window_next
 * would refuse: window_next reads that one (refilling the window) and says what is wrong. */
static inline __attribute__((always_inline)) int
window_run(struct vd_trace *tr, const struct pcapsrc *s, struct vd_pkt *pkts, int max, int big)
{
	const uint32_t fmax = s->nano ? 1000000000u : 1000000u, mul = s->nano ? 1 : 1000;
	const uint32_t snapshot = s->snapshot; /* in locals: the stores to pkts may alias s */
	const int linktype = s->linktype;
	const uint8_t *buf = tr->buf;
	size_t pos = tr->wpos, wlen = tr->wlen;
	uint64_t off = tr->off, npkts = tr->npkts;
	int n = 0;
	while (n < max && wlen - pos >= 16) {
		const uint8_t *h = buf + pos;
		uint32_t caplen = vd_ld32(h + 8, big), frac = vd_ld32(h + 4, big);
		if (caplen > PCAP_MAX_SNAPLEN || wlen - pos - 16 < caplen || frac >= fmax)
			break;
		struct vd_pkt *pkt = &pkts[n++];
		pkt->ts = (vd_ns)vd_ld32(h, big) * VD_NS_PER_SEC + (vd_ns)frac * mul;
		pkt->iface = 0;
		pkt->linktype = linktype;
		pkt->data = h + 16;
		pkt->caplen = caplen > snapshot ? snapshot : caplen;
		pkt->wirelen = vd_ld32(h + 12, big);
		pkt->index = ++npkts;
		pkt->offset = off;
		pos += 16 + (size_t)caplen;
		off += 16 + (uint64_t)caplen;
	}
	tr->wpos = pos;
	tr->off = off;
	tr->npkts = npkts;
	return n;
}

static int window_batch(struct vd_trace *tr, struct pcapsrc *s, struct vd_pkt *pkts, int max,
			struct vd_err *err)
{
	int n = s->big ? window_run(tr, s, pkts, max, 1) : window_run(tr, s, pkts, max, 0);
	if (n)
		return n;
	/* the next record is cut by the window (or damaged): read it alone, then the records
	 * after it that the refilled window holds */
	int rc = window_next(tr, s, pkts, err);
	if (rc <= 0)
		return rc;
	pkts->index = ++tr->npkts;
	return 1 + (s->big ? window_run(tr, s, pkts + 1, max - 1, 1)
			   : window_run(tr, s, pkts + 1, max - 1, 0));
}

static int pcapsrc_next(struct vd_trace *tr, struct vd_pkt *pkt, struct vd_err *err)
{
	struct pcapsrc *s = tr->priv;
	if (!s->p)
		return window_next(tr, s, pkt, err);
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

static int pcapsrc_next_batch(struct vd_trace *tr, struct vd_pkt *pkts, int max, struct vd_err *err)
{
	struct pcapsrc *s = tr->priv;
	if (s->p) { /* libpcap's buffer holds one record at a time */
		int rc = pcapsrc_next(tr, pkts, err);
		if (rc == 1)
			pkts->index = ++tr->npkts;
		return rc;
	}
	return window_batch(tr, s, pkts, max, err);
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
    .next_batch = pcapsrc_next_batch,
    .close = pcapsrc_close,
    .iface_count = pcapsrc_iface_count,
    .iface_name = pcapsrc_iface_name,
    .iface_linktype = pcapsrc_iface_linktype,
};
