/* pcapng.c — our own pcapng block reader (draft-ietf-opsawg-pcapng): libpcap cannot say which
 * interface a packet came from. Sections in either byte order (each SHB sets its own), version
 * 1.x; Interface Description Blocks with if_name, if_tsresol (10^-n and 2^-n) and if_tsoffset;
 * Enhanced, Simple and obsolete Packet Blocks; every other block is skipped. Interface ids are
 * per section and renumbered file-wide in order of appearance. Every length is checked: block
 * total length (multiple of 4, equal at both ends, inside the file), option lengths, captured
 * length inside the block. A Simple Packet Block has no timestamp: its ts is VD_NS_NONE. */
#include "pcapng.h"

#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "trace_reader.h"

#define BT_SHB 0x0a0d0d0au
#define BT_IDB 1u
#define BT_OPB 2u
#define BT_SPB 3u
#define BT_EPB 6u
#define BOM 0x1a2b3c4du
#define MAX_BLOCK (64u << 20)

struct pcapng_if {
	char *name;
	int linktype;
	uint32_t snaplen;
	uint8_t tsresol;
	int64_t tsoffset;
};

struct pcapng {
	struct pcapng_if *ifs;
	size_t nifs, capifs;
	size_t sec_base; /* file-wide id of this section's interface 0 */
	int big;
	int in_section;
	const uint8_t *block; /* the block read last, in the read window */
	uint64_t block_at;    /* its offset and length */
	uint32_t block_len;
	int pending; /* s->block is a packet block not yet returned */
	uint32_t pending_type;
};

/* units × 10^9 / (units per second), rounded to the nearest ns (ties up), plus the offset;
 * integers only (128-bit), so every resolution up to 10^-38 s or 2^-126 s is exact. */
static int ts_convert(__int128 units, uint8_t tsresol, int64_t tsoffset, vd_ns *out)
{
	unsigned n = tsresol & 0x7f;
	__int128 den = 1;
	if (tsresol & 0x80) {
		if (n > 126)
			return -1;
		den <<= n;
	} else {
		if (n > 38)
			return -1;
		for (unsigned i = 0; i < n; i++)
			den *= 10;
	}
	__int128 num = units * VD_NS_PER_SEC + den / 2;
	__int128 v = num / den;
	if (num % den < 0) /* floor, not truncation, for times before 1970 */
		v -= 1;
	v += (__int128)tsoffset * VD_NS_PER_SEC;
	if (v > INT64_MAX || v <= INT64_MIN)
		return -1;
	*out = (vd_ns)v;
	return 0;
}

int vd_pcapng_ts_to_ns(uint64_t units, uint8_t tsresol, int64_t tsoffset, vd_ns *out)
{
	/* Some writers store a time before 1970 as a negative count: when the unsigned value does
	 * not fit, the two's complement one is tried. */
	if (ts_convert((__int128)units, tsresol, tsoffset, out) == 0)
		return 0;
	return ts_convert((__int128)(int64_t)units, tsresol, tsoffset, out);
}

/* Walks the options in p[0..n): 1 with the next option, 0 at opt_endofopt or the end, -1 when
 * an option header or value runs past n. */
static int opt_next(const uint8_t *p, size_t n, size_t *pos, int big, uint16_t *code, uint16_t *len,
		    const uint8_t **val)
{
	if (*pos == n)
		return 0;
	if (n - *pos < 4)
		return -1;
	*code = vd_ld16(p + *pos, big);
	*len = vd_ld16(p + *pos + 2, big);
	if (*code == 0)
		return 0;
	size_t padded = ((size_t)*len + 3) & ~(size_t)3;
	if (n - *pos - 4 < padded)
		return -1;
	*val = p + *pos + 4;
	*pos += 4 + padded;
	return 1;
}

/* Checks that every option of a block fits in it. */
static int opts_check(struct vd_trace *tr, struct vd_err *err, uint64_t at, const char *block,
		      const uint8_t *p, size_t n, int big)
{
	size_t pos = 0;
	uint16_t code, len;
	const uint8_t *val;
	int rc;
	while ((rc = opt_next(p, n, &pos, big, &code, &len, &val)) == 1)
		;
	if (rc < 0)
		return vd_trace_fail(tr, err, at + pos,
				     "%s option of length %u runs past the block", block,
				     n - pos >= 4 ? vd_ld16(p + pos + 2, big) : 0);
	return 0;
}

static int add_if(struct vd_trace *tr, struct vd_err *err, uint64_t at, const uint8_t *b, size_t n)
{
	struct pcapng *s = tr->priv;
	if (n < 8)
		return vd_trace_fail(tr, err, at,
				     "Interface Description Block too short (%zu bytes)", n);
	if (s->nifs == s->capifs) {
		size_t cap = s->capifs ? 2 * s->capifs : 8;
		struct pcapng_if *ifs = realloc(s->ifs, cap * sizeof(*ifs));
		if (!ifs)
			return vd_err_set(err, "%s: out of memory", tr->name);
		s->ifs = ifs;
		s->capifs = cap;
	}
	struct pcapng_if *ifc = &s->ifs[s->nifs];
	*ifc = (struct pcapng_if){
	    .linktype = vd_ld16(b, s->big), .snaplen = vd_ld32(b + 4, s->big), .tsresol = 6};
	size_t pos = 0;
	uint16_t code, len;
	const uint8_t *val;
	int rc;
	while ((rc = opt_next(b + 8, n - 8, &pos, s->big, &code, &len, &val)) == 1) {
		if (code == 2 && !ifc->name) { /* if_name */
			ifc->name = strndup((const char *)val, len);
			if (!ifc->name)
				return vd_err_set(err, "%s: out of memory", tr->name);
		} else if (code == 9 && len == 1) { /* if_tsresol */
			ifc->tsresol = val[0];
		} else if (code == 14 && len == 8) { /* if_tsoffset */
			ifc->tsoffset = (int64_t)vd_ld64(val, s->big);
		}
	}
	s->nifs++; /* owns name from here, freed at close even on error */
	if (rc < 0)
		return vd_trace_fail(tr, err, at,
				     "Interface Description Block option runs past the block");
	vd_ns probe;
	if (vd_pcapng_ts_to_ns(0, ifc->tsresol, 0, &probe) < 0)
		return vd_trace_fail(tr, err, at, "unsupported if_tsresol 0x%02x", ifc->tsresol);
	return 0;
}

static int new_section(struct vd_trace *tr, struct vd_err *err, uint64_t at, const uint8_t *b,
		       size_t n)
{
	struct pcapng *s = tr->priv;
	if (n < 16)
		return vd_trace_fail(tr, err, at, "Section Header Block too short (%zu bytes)", n);
	uint16_t major = vd_ld16(b + 4, s->big), minor = vd_ld16(b + 6, s->big);
	if (major != 1 || minor > 2)
		return vd_trace_fail(tr, err, at, "unsupported pcapng version %u.%u", major, minor);
	if (opts_check(tr, err, at + 24, "Section Header Block", b + 16, n - 16, s->big) < 0)
		return -1;
	s->sec_base = s->nifs;
	s->in_section = 1;
	return 0;
}

/* A packet of interface `local` in this section, at `ts` units; data[0..caplen) in the block. */
static int packet(struct vd_trace *tr, struct vd_err *err, uint64_t at, struct vd_pkt *pkt,
		  uint32_t local, int has_ts, uint64_t ts, const uint8_t *data, uint32_t caplen,
		  uint32_t wirelen)
{
	struct pcapng *s = tr->priv;
	if (local >= s->nifs - s->sec_base)
		return vd_trace_fail(
		    tr, err, at,
		    "packet on interface %u, but this section describes %zu interface(s)", local,
		    s->nifs - s->sec_base);
	const struct pcapng_if *ifc = &s->ifs[s->sec_base + local];
	pkt->ts = VD_NS_NONE;
	if (has_ts && vd_pcapng_ts_to_ns(ts, ifc->tsresol, ifc->tsoffset, &pkt->ts) < 0)
		return vd_trace_fail(tr, err, at, "timestamp out of range");
	pkt->iface = (uint32_t)(s->sec_base + local);
	pkt->linktype = ifc->linktype;
	pkt->data = data;
	pkt->caplen = caplen;
	pkt->wirelen = wirelen;
	pkt->offset = at;
	return 1;
}

/* Enhanced (EPB) and obsolete (OPB) packet blocks share the layout after the interface id. */
static int ts_packet(struct vd_trace *tr, struct vd_err *err, uint64_t at, struct vd_pkt *pkt,
		     const uint8_t *b, size_t n, int obsolete)
{
	struct pcapng *s = tr->priv;
	const char *what = obsolete ? "Packet Block" : "Enhanced Packet Block";
	if (n < 20)
		return vd_trace_fail(tr, err, at, "%s too short (%zu bytes)", what, n);
	uint32_t local = obsolete ? vd_ld16(b, s->big) : vd_ld32(b, s->big);
	uint64_t ts = (uint64_t)vd_ld32(b + 4, s->big) << 32 | vd_ld32(b + 8, s->big);
	uint32_t caplen = vd_ld32(b + 12, s->big), wirelen = vd_ld32(b + 16, s->big);
	if (caplen > n - 20)
		return vd_trace_fail(tr, err, at,
				     "%s captured length %u runs past the block (%zu bytes)", what,
				     caplen, n - 20);
	size_t opts = 20 + (((size_t)caplen + 3) & ~(size_t)3);
	if (opts > n)
		return vd_trace_fail(tr, err, at, "%s packet data padding runs past the block",
				     what);
	if (opts_check(tr, err, at + 8 + opts, what, b + opts, n - opts, s->big) < 0)
		return -1;
	return packet(tr, err, at, pkt, local, 1, ts, b + 20, caplen, wirelen);
}

static int simple_packet(struct vd_trace *tr, struct vd_err *err, uint64_t at, struct vd_pkt *pkt,
			 const uint8_t *b, size_t n)
{
	struct pcapng *s = tr->priv;
	if (n < 4)
		return vd_trace_fail(tr, err, at, "Simple Packet Block too short (%zu bytes)", n);
	if (s->nifs == s->sec_base)
		return vd_trace_fail(tr, err, at, "Simple Packet Block before any interface");
	uint32_t wirelen = vd_ld32(b, s->big);
	uint32_t snap = s->ifs[s->sec_base].snaplen;
	uint32_t caplen = wirelen;
	if (snap && caplen > snap)
		caplen = snap;
	if (caplen > n - 4)
		caplen = (uint32_t)(n - 4);
	return packet(tr, err, at, pkt, 0, 0, 0, b + 4, caplen, wirelen);
}

/* Reads and checks one block (s->block): 1 with its type, 0 at the end of the file, -1. */
static int read_block(struct vd_trace *tr, struct vd_err *err, uint32_t *type_out)
{
	struct pcapng *s = tr->priv;
	uint64_t at = tr->off;
	const uint8_t *h;
	ssize_t got = vd_trace_peek(tr, 12, &h, err); /* the smallest block */
	if (got <= 0)
		return (int)got;
	if (got < 12)
		return vd_trace_fail(tr, err, at,
				     "file cut short in a block header (%zd bytes left)", got);
	uint32_t type = vd_ld32(h, s->big);
	if (vd_le32(h) == BT_SHB) {
		type = BT_SHB;
		if (vd_be32(h + 8) == BOM)
			s->big = 1;
		else if (vd_le32(h + 8) == BOM)
			s->big = 0;
		else
			return vd_trace_fail(tr, err, at + 8,
					     "bad pcapng byte-order magic %02x%02x%02x%02x", h[8],
					     h[9], h[10], h[11]);
	} else if (!s->in_section) {
		return vd_trace_fail(tr, err, at, "first block is not a Section Header Block");
	}
	uint32_t len = vd_ld32(h + 4, s->big);
	if (len < 12 || len % 4 || len > MAX_BLOCK)
		return vd_trace_fail(tr, err, at, "bad block total length %u (block type 0x%08x)",
				     len, type);
	if (tr->size >= 0 && at + len > (uint64_t)tr->size)
		return vd_trace_fail(tr, err, at,
				     "block total length %u runs past the end of the file (%lld "
				     "bytes): cut short in the middle of a block",
				     len, (long long)tr->size);
	got = vd_trace_peek(tr, len, &h, err);
	if (got < 0)
		return -1;
	if (got < len)
		return vd_trace_fail(tr, err, at,
				     "file cut short in the middle of a block of %u bytes", len);
	uint32_t tail = vd_ld32(h + len - 4, s->big);
	if (tail != len)
		return vd_trace_fail(
		    tr, err, at,
		    "block total length %u at the start but %u at the end (type 0x%08x)", len, tail,
		    type);
	vd_trace_consume(tr, len);
	s->block = h;
	s->block_at = at;
	s->block_len = len;
	*type_out = type;
	return 1;
}

static int is_packet_block(uint32_t type)
{
	return type == BT_EPB || type == BT_OPB || type == BT_SPB;
}

/* Acts on the block read last: 1 with a packet, 0 for a block that is not one, -1. */
static int handle_block(struct vd_trace *tr, struct vd_err *err, uint32_t type, struct vd_pkt *pkt)
{
	struct pcapng *s = tr->priv;
	uint64_t at = s->block_at;
	const uint8_t *b = s->block + 8;
	size_t n = s->block_len - 12;
	switch (type) {
	case BT_SHB:
		return new_section(tr, err, at, b, n);
	case BT_IDB:
		return add_if(tr, err, at, b, n);
	case BT_EPB:
		return ts_packet(tr, err, at, pkt, b, n, 0);
	case BT_OPB:
		return ts_packet(tr, err, at, pkt, b, n, 1);
	case BT_SPB:
		return simple_packet(tr, err, at, pkt, b, n);
	default: /* NRB, ISB, DSB, custom and unknown blocks */
		return 0;
	}
}

static int pcapng_next(struct vd_trace *tr, struct vd_pkt *pkt, struct vd_err *err)
{
	struct pcapng *s = tr->priv;
	uint32_t type;
	if (s->pending) { /* the first packet block, read by pcapng_open */
		s->pending = 0;
		return handle_block(tr, err, s->pending_type, pkt);
	}
	for (;;) {
		int rc = read_block(tr, err, &type);
		if (rc <= 0)
			return rc;
		rc = handle_block(tr, err, type, pkt);
		if (rc != 0)
			return rc;
	}
}

/* Reads the blocks before the first packet, so the interfaces of the first section are known
 * right after opening; the first packet block is kept for pcapng_next. */
static int pcapng_open(struct vd_trace *tr, struct vd_err *err)
{
	struct pcapng *s = calloc(1, sizeof(struct pcapng));
	if (!s)
		return vd_err_set(err, "%s: out of memory", tr->name);
	tr->priv = s;
	uint32_t type;
	int rc;
	while ((rc = read_block(tr, err, &type)) == 1) {
		if (is_packet_block(type)) {
			s->pending = 1;
			s->pending_type = type;
			return 0;
		}
		if (handle_block(tr, err, type, NULL) < 0)
			return -1;
	}
	if (rc == 0 && !s->in_section)
		return vd_trace_fail(tr, err, 0, "empty file");
	return rc;
}

static void pcapng_close(struct vd_trace *tr)
{
	struct pcapng *s = tr->priv;
	if (!s)
		return;
	for (size_t i = 0; i < s->nifs; i++)
		free(s->ifs[i].name);
	free(s->ifs);
	free(s);
	tr->priv = NULL;
}

static size_t pcapng_iface_count(const struct vd_trace *tr)
{
	const struct pcapng *s = tr->priv;
	return s->nifs;
}

static const char *pcapng_iface_name(const struct vd_trace *tr, uint32_t iface)
{
	const struct pcapng *s = tr->priv;
	return iface < s->nifs ? s->ifs[iface].name : NULL;
}

static int pcapng_iface_linktype(const struct vd_trace *tr, uint32_t iface)
{
	const struct pcapng *s = tr->priv;
	return iface < s->nifs ? s->ifs[iface].linktype : -1;
}

const struct vd_trace_ops vd_pcapng_ops = {
    .format = "pcapng",
    .open = pcapng_open,
    .next = pcapng_next,
    .close = pcapng_close,
    .iface_count = pcapng_iface_count,
    .iface_name = pcapng_iface_name,
    .iface_linktype = pcapng_iface_linktype,
};
