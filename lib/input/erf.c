/* erf.c — Endace DAG ERF reader (Endace EDM11-01 "ERF types"): Ethernet records (ETH and its
 * COLOR / DSM / HASH variants) and raw IPv4 / IPv6 records become packets; extension headers
 * (type bit 0x80, chained by bit 0x80 of each 8-byte extension) are skipped; other known record
 * types (META provenance, PAD, ATM, HDLC...) are counted as skipped; an unknown type, an rlen
 * below what the headers need or past the end of the file, or a variable-length record padded by
 * 8 bytes or more past its wlen is a damaged file. The interface is
 * the record's port (flags bits 0-1). */
#include "erf.h"

#include <stdio.h>
#include <stdlib.h>

#include "bytes.h"
#include "trace_reader.h"

#define ERF_HDR 16
#define ERF_EXT_BIT 0x80
#define ERF_PORTS 4
#define ERF_FLAG_VLEN 0x04

enum erf_kind { ERF_UNKNOWN, ERF_SKIP, ERF_ETH, ERF_IPV4, ERF_IPV6 };

static enum erf_kind erf_kind(uint8_t type)
{
	switch (type & 0x7f) {
	case 2:	 /* ETH */
	case 11: /* COLOR_ETH */
	case 16: /* DSM_COLOR_ETH */
	case 20: /* COLOR_HASH_ETH */
		return ERF_ETH;
	case 22:
		return ERF_IPV4;
	case 23:
		return ERF_IPV6;
	case 48: /* PAD */
		return ERF_SKIP;
	default:
		/* 1..29: HDLC, ATM, AAL, MC_*, counters, InfiniBand, RAW_LINK, META (27), OPA... */
		return (type & 0x7f) >= 1 && (type & 0x7f) <= 29 ? ERF_SKIP : ERF_UNKNOWN;
	}
}

vd_ns vd_erf_ts_to_ns(uint64_t ts)
{
	uint64_t frac = ts & 0xffffffffu; /* frac * 1e9 < 2^62: no overflow */
	return (vd_ns)(ts >> 32) * VD_NS_PER_SEC +
	       (vd_ns)((frac * (uint64_t)VD_NS_PER_SEC + (UINT64_C(1) << 31)) >> 32);
}

/* Header length a record of this type needs before its payload: 16 + extensions (+ 2 pad). */
static int erf_plausible(const uint8_t *h)
{
	uint16_t rlen = vd_be16(h + 10);
	enum erf_kind k = erf_kind(h[8]);
	size_t need = ERF_HDR + (h[8] & ERF_EXT_BIT ? 8 : 0) + (k == ERF_ETH ? 2 : 0);
	return k != ERF_UNKNOWN && rlen >= need && (h[8] & 0x7f) != 0;
}

int vd_erf_looks_like(const uint8_t *b, size_t n)
{
	/* ERF has no magic: every record header that starts in the first n bytes must have a
	 * known type and a length that covers its headers. */
	if (n < ERF_HDR)
		return 0;
	for (size_t off = 0; off + ERF_HDR <= n; off += vd_be16(b + off + 10))
		if (!erf_plausible(b + off))
			return 0;
	return 1;
}

struct erf {
	uint32_t nports; /* highest port seen + 1 */
};

static const char *const port_names[ERF_PORTS] = {"port0", "port1", "port2", "port3"};

static int erf_open(struct vd_trace *tr, struct vd_err *err)
{
	struct erf *e = calloc(1, sizeof(*e));
	if (!e)
		return vd_err_set(err, "%s: out of memory", tr->name);
	tr->priv = e;
	return 0;
}

static int erf_next(struct vd_trace *tr, struct vd_pkt *pkt, struct vd_err *err)
{
	struct erf *e = tr->priv;
	for (;;) {
		uint64_t at = tr->off;
		const uint8_t *h;
		ssize_t got = vd_trace_peek(tr, ERF_HDR, &h, err);
		if (got <= 0)
			return (int)got;
		if (got < ERF_HDR)
			return vd_trace_fail(tr, err, at,
					     "file cut short in the middle of an ERF record header "
					     "(%zd of %d bytes)",
					     got, ERF_HDR);
		uint8_t type = h[8], flags = h[9];
		uint16_t rlen = vd_be16(h + 10), wlen = vd_be16(h + 14);
		if (rlen < ERF_HDR)
			return vd_trace_fail(tr, err, at,
					     "ERF record length %u below the %d-byte header", rlen,
					     ERF_HDR);
		got = vd_trace_peek(tr, rlen, &h, err);
		if (got < 0)
			return -1;
		if (got < rlen)
			return vd_trace_fail(tr, err, at,
					     "ERF record length %u runs past the end of the file: "
					     "cut short in the middle of a record",
					     rlen);
		vd_trace_consume(tr, rlen);
		const uint8_t *rec = h + ERF_HDR;
		size_t body = rlen - ERF_HDR;
		enum erf_kind kind = erf_kind(type);
		if (kind == ERF_UNKNOWN)
			return vd_trace_fail(tr, err, at, "unknown ERF record type %u",
					     type & 0x7f);
		size_t p = 0;
		for (int more = type & ERF_EXT_BIT; more; p += 8) {
			if (p + 8 > body)
				return vd_trace_fail(
				    tr, err, at,
				    "ERF extension headers run past the record length %u", rlen);
			more = rec[p] & ERF_EXT_BIT;
		}
		if (kind == ERF_SKIP) {
			tr->skipped++;
			continue;
		}
		if (kind == ERF_ETH) {
			if (p + 2 > body)
				return vd_trace_fail(
				    tr, err, at,
				    "ERF Ethernet record length %u too short for its header", rlen);
			p += 2; /* offset and pad bytes before the frame */
		}
		/* What follows wlen is padding to the record length, not packet bytes; a
		 * variable-length record (flag 0x04) pads only to the next 8 bytes. */
		uint32_t caplen = (uint32_t)(body - p);
		if ((flags & ERF_FLAG_VLEN) && caplen >= (uint32_t)wlen + 8)
			return vd_trace_fail(tr, err, at,
					     "ERF variable-length record of %u bytes holds %u "
					     "bytes past its wire length %u",
					     rlen, caplen - wlen, wlen);
		if (caplen > wlen)
			caplen = wlen;
		uint32_t port = flags & (ERF_PORTS - 1);
		if (port + 1 > e->nports)
			e->nports = port + 1;
		pkt->ts = vd_erf_ts_to_ns(vd_le64(h));
		pkt->iface = port;
		pkt->linktype = kind == ERF_ETH	   ? VD_LINK_ETHERNET
				: kind == ERF_IPV4 ? VD_LINK_IPV4
						   : VD_LINK_IPV6;
		pkt->data = rec + p;
		pkt->caplen = caplen;
		pkt->wirelen = wlen;
		pkt->offset = at;
		return 1;
	}
}

static void erf_close(struct vd_trace *tr)
{
	free(tr->priv);
	tr->priv = NULL;
}

static size_t erf_iface_count(const struct vd_trace *tr)
{
	const struct erf *e = tr->priv;
	return e->nports;
}

static const char *erf_iface_name(const struct vd_trace *tr, uint32_t iface)
{
	return iface < ERF_PORTS ? port_names[iface] : NULL;
}

static int erf_iface_linktype(const struct vd_trace *tr, uint32_t iface)
{
	/* An ERF port may mix record types; Ethernet is what DAG cards capture. */
	return iface < ERF_PORTS ? VD_LINK_ETHERNET : -1;
}

const struct vd_trace_ops vd_erf_ops = {
    .format = "erf",
    .open = erf_open,
    .next = erf_next,
    .close = erf_close,
    .iface_count = erf_iface_count,
    .iface_name = erf_iface_name,
    .iface_linktype = erf_iface_linktype,
};
