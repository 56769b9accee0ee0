/* decap.c — tunnel headers (decap.h): VXLAN (RFC 7348), Geneve (RFC 8926), GTP-U (3GPP TS
 * 29.281 section 5), GRE (RFC 2784, 2890), ERSPAN types I, II and III
 * (draft-foschiano-erspan-03), IP in IP (RFC 2003, 2473, 4213). Lengths a header claims are
 * checked against what the outer header gave it (a lie is bad input); bytes are read only once
 * the capture holds them (a snaplen cut is not an error). */
#include "vmdelay/input/decap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

enum {
	PORT_VXLAN = 4789,
	PORT_VXLAN_LINUX = 8472, /* the Linux driver's default before IANA assigned 4789 */
	PORT_GENEVE = 6081,
	PORT_GTPU = 2152,
	GRE_C = 0x8000,
	GRE_R = 0x4000,
	GRE_K = 0x2000,
	GRE_S = 0x1000,
	ET_TEB = 0x6558, /* transparent Ethernet bridging */
	ET_ERSPAN12 = 0x88be,
	ET_ERSPAN3 = 0x22eb,
	ET_IPV4 = 0x0800,
	ET_IPV6 = 0x86dd,
};

/* The captured bytes data[off .. off+len), or NULL when the capture ends before. */
static inline const uint8_t *cap(const uint8_t *data, uint32_t caplen, uint32_t off, uint32_t len)
{
	return off <= caplen && len <= caplen - off ? data + off : NULL;
}

static int cut(struct vd_decap_step *s)
{
	s->truncated = 1;
	return 0;
}

static void found(struct vd_decap_step *s, int kind, int has_id, uint32_t id,
		  enum vd_decap_next next, uint16_t ethertype, uint32_t off)
{
	s->encap.kind = (uint8_t)kind;
	s->encap.has_id = (uint8_t)has_id;
	s->encap.id = id;
	s->next = next;
	s->ethertype = ethertype;
	s->off = off;
}

/* VXLAN, Geneve or GTP-U in the UDP payload at p, plen bytes long. */
static int udp_tunnel(const uint8_t *data, uint32_t caplen, uint16_t port, uint32_t p,
		      uint32_t plen, struct vd_decap_step *s, struct vd_err *err)
{
	const uint8_t *h;
	if (port == PORT_VXLAN || port == PORT_VXLAN_LINUX) {
		if (plen < 8)
			return vd_err_set(
			    err, "VXLAN header (8 bytes) past its UDP payload (%" PRIu32 " bytes)",
			    plen);
		if (!(h = cap(data, caplen, p, 8)))
			return cut(s);
		/* Without the I flag the VNI field is reserved: decoded, but no id to filter on. */
		found(s, VD_ENCAP_VXLAN, (h[0] & 0x08) != 0, vd_be32(h + 4) >> 8, VD_DECAP_ETHER, 0,
		      p + 8);
		return 1;
	}
	if (port == PORT_GENEVE) {
		if (plen < 8)
			return vd_err_set(
			    err, "Geneve header (8 bytes) past its UDP payload (%" PRIu32 " bytes)",
			    plen);
		if (!(h = cap(data, caplen, p, 8)))
			return cut(s);
		if (h[0] >> 6 != 0)
			return 0; /* a version we do not know */
		uint32_t hl = 8 + (uint32_t)(h[0] & 0x3f) * 4;
		if (hl > plen)
			return vd_err_set(err,
					  "Geneve header with options (%" PRIu32
					  " bytes) past its UDP "
					  "payload (%" PRIu32 " bytes)",
					  hl, plen);
		uint16_t proto = vd_be16(h + 2);
		found(s, VD_ENCAP_GENEVE, 1, vd_be32(h + 4) >> 8,
		      proto == ET_TEB ? VD_DECAP_ETHER : VD_DECAP_ETHERTYPE, proto, p + hl);
		return 1;
	}
	/* GTP-U */
	if (plen < 8)
		return vd_err_set(
		    err, "GTP-U header (8 bytes) past its UDP payload (%" PRIu32 " bytes)", plen);
	if (!(h = cap(data, caplen, p, 8)))
		return cut(s);
	if (h[0] >> 5 != 1 || !(h[0] & 0x10) || h[1] != 0xff)
		return 0; /* not GTPv1, GTP' or not a G-PDU (echo, error indication...): no user
			     data */
	uint32_t total = 8 + (uint32_t)vd_be16(h + 2);
	if (total > plen)
		return vd_err_set(err,
				  "GTP-U length (%" PRIu32 " bytes) past its UDP payload (%" PRIu32
				  " bytes)",
				  total, plen);
	uint32_t teid = vd_be32(h + 4), hl = 8;
	if (h[0] & 0x07) { /* E, S or PN: sequence, N-PDU number and next extension type follow */
		hl = 12;
		if (hl > total)
			return vd_err_set(
			    err, "GTP-U optional fields past its length (%" PRIu32 " bytes)",
			    total);
		const uint8_t *o;
		if (!(o = cap(data, caplen, p + 8, 4)))
			return cut(s);
		uint8_t next = (h[0] & 0x04) ? o[3] : 0;
		while (next) { /* each extension: length in 4-byte units, ..., next type */
			const uint8_t *e;
			if (hl >= total)
				return vd_err_set(err,
						  "GTP-U extension header past its length (%" PRIu32
						  " bytes)",
						  total);
			if (!(e = cap(data, caplen, p + hl, 1)))
				return cut(s);
			uint32_t elen = (uint32_t)e[0] * 4;
			if (elen == 0)
				return vd_err_set(err, "GTP-U extension header of length 0");
			if (elen > total - hl)
				return vd_err_set(err,
						  "GTP-U extension header (%" PRIu32
						  " bytes) past its length "
						  "(%" PRIu32 " bytes)",
						  elen, total);
			if (!(e = cap(data, caplen, p + hl + elen - 1, 1)))
				return cut(s);
			next = e[0];
			hl += elen;
		}
	}
	if (hl == total)
		return 0; /* no T-PDU */
	found(s, VD_ENCAP_GTPU, 1, teid, VD_DECAP_IP, 0, p + hl);
	return 1;
}

static int udp(const uint8_t *data, uint32_t caplen, uint32_t off, uint32_t l4len,
	       struct vd_decap_step *s, struct vd_err *err)
{
	const uint8_t *h;
	if (!(h = cap(data, caplen, off, 8)))
		return l4len >= 8 ? cut(s) : 0;
	uint16_t sport = vd_be16(h), dport = vd_be16(h + 2), port;
	if (dport == PORT_VXLAN || dport == PORT_VXLAN_LINUX || dport == PORT_GENEVE ||
	    dport == PORT_GTPU)
		port = dport;
	else if (sport == PORT_VXLAN || sport == PORT_VXLAN_LINUX || sport == PORT_GENEVE ||
		 sport == PORT_GTPU)
		port = sport;
	else
		return 0;
	uint32_t ulen = vd_be16(h + 4);
	if (ulen == 0) /* IPv6 jumbogram (RFC 2675): the IP payload */
		ulen = l4len;
	if (ulen < 8 || ulen > l4len)
		return vd_err_set(err,
				  "UDP length %" PRIu32
				  " to port %u, but its IP payload holds %" PRIu32 " bytes",
				  ulen, port, l4len);
	return udp_tunnel(data, caplen, port, off + 8, ulen - 8, s, err);
}

static int gre(const uint8_t *data, uint32_t caplen, uint32_t off, uint32_t l4len,
	       struct vd_decap_step *s, struct vd_err *err)
{
	const uint8_t *h;
	if (l4len < 4)
		return vd_err_set(
		    err, "GRE header (4 bytes) past its IP payload (%" PRIu32 " bytes)", l4len);
	if (!(h = cap(data, caplen, off, 4)))
		return cut(s);
	uint16_t flags = vd_be16(h), proto = vd_be16(h + 2);
	if ((flags & 0x0007) || (flags & GRE_R))
		return 0; /* enhanced GRE (PPTP) or RFC 1701 source routing: not decoded */
	uint32_t hl = 4, key_off = 0;
	if (flags & GRE_C)
		hl += 4; /* checksum and reserved word: not verified, as tshark by default */
	if (flags & GRE_K) {
		key_off = hl;
		hl += 4;
	}
	if (flags & GRE_S)
		hl += 4;
	uint32_t extra = proto == ET_ERSPAN3 ? 12 : proto == ET_ERSPAN12 && (flags & GRE_S) ? 8 : 0;
	if (hl + extra > l4len)
		return vd_err_set(
		    err, "GRE%s header (%" PRIu32 " bytes) past its IP payload (%" PRIu32 " bytes)",
		    extra ? "+ERSPAN" : "", hl + extra, l4len);
	if (!(h = cap(data, caplen, off, hl + extra)))
		return cut(s);
	int has_key = (flags & GRE_K) != 0;
	uint32_t key = has_key ? vd_be32(h + key_off) : 0;
	const uint8_t *e = h + hl;
	switch (proto) {
	case ET_ERSPAN12:
		if (!(flags &
		      GRE_S)) { /* type I: no header of its own, the mirrored frame follows */
			found(s, VD_ENCAP_ERSPAN1, 0, 0, VD_DECAP_ETHER, 0, off + hl);
			return 1;
		}
		if (e[0] >> 4 != 1)
			return 0;
		found(s, VD_ENCAP_ERSPAN2, 1, vd_be16(e + 2) & 0x3ff, VD_DECAP_ETHER, 0,
		      off + hl + 8);
		return 1;
	case ET_ERSPAN3: {
		if (e[0] >> 4 != 2)
			return 0;
		uint32_t inner = off + hl + 12;
		if (e[11] & 0x01) { /* O: an 8-byte platform specific subheader */
			if (hl + 20 > l4len)
				return vd_err_set(
				    err,
				    "ERSPAN III platform subheader past its IP payload (%" PRIu32
				    " bytes)",
				    l4len);
			inner += 8;
		}
		unsigned ft = (e[10] >> 2) & 0x1f; /* frame type: 0 Ethernet, 2 IP */
		if (ft != 0 && ft != 2)
			return 0;
		found(s, VD_ENCAP_ERSPAN3, 1, vd_be16(e + 2) & 0x3ff,
		      ft == 0 ? VD_DECAP_ETHER : VD_DECAP_IP, 0, inner);
		return 1;
	}
	case ET_TEB:
		found(s, VD_ENCAP_GRE, has_key, key, VD_DECAP_ETHER, 0, off + hl);
		return 1;
	default:
		found(s, VD_ENCAP_GRE, has_key, key, VD_DECAP_ETHERTYPE, proto, off + hl);
		return 1;
	}
}

int vd_decap(const uint8_t *data, uint32_t caplen, uint32_t off, uint32_t l4len, uint8_t proto,
	     struct vd_decap_step *step, struct vd_err *err)
{
	memset(step, 0, sizeof(*step));
	switch (proto) {
	case 17:
		return udp(data, caplen, off, l4len, step, err);
	case 47:
		return gre(data, caplen, off, l4len, step, err);
	case 4:
	case 41:
		found(step, VD_ENCAP_IPIP, 0, 0, VD_DECAP_ETHERTYPE, proto == 4 ? ET_IPV4 : ET_IPV6,
		      off);
		return 1;
	default:
		return 0;
	}
}

const char *vd_encap_kind_name(int kind)
{
	static const char *const names[VD_ENCAP__COUNT] = {
	    "none", "vxlan", "geneve", "gre", "erspan1", "erspan2", "erspan3", "ipip", "gtpu"};
	return kind >= 0 && kind < VD_ENCAP__COUNT ? names[kind] : "?";
}

static const struct {
	const char *name;
	int what;
} filter_names[] = {{"vni", VD_TUNNEL_VNI},
		    {"key", VD_TUNNEL_KEY},
		    {"teid", VD_TUNNEL_TEID},
		    {"session", VD_TUNNEL_SESSION}};

int vd_tunnel_filter_parse(const char *s, struct vd_tunnel_filter *f, struct vd_err *err)
{
	memset(f, 0, sizeof(*f));
	const char *eq = s ? strchr(s, '=') : NULL;
	for (size_t i = 0; eq && i < sizeof(filter_names) / sizeof(filter_names[0]); i++) {
		if (strlen(filter_names[i].name) != (size_t)(eq - s) ||
		    strncmp(s, filter_names[i].name, (size_t)(eq - s)) != 0)
			continue;
		char *end;
		errno = 0;
		unsigned long long v = strtoull(eq + 1, &end, 0);
		if (errno || end == eq + 1 || *end || eq[1] == '-' || v > UINT32_MAX)
			break;
		f->on = 1;
		f->what = filter_names[i].what;
		f->id = (uint32_t)v;
		return 0;
	}
	return vd_err_set(err, "--tunnel: '%s' is not vni=N, key=N, teid=N or session=N",
			  s ? s : "");
}

int vd_tunnel_filter_match(const struct vd_tunnel_filter *f, const struct vd_encap *layers, int n)
{
	for (int i = 0; i < n; i++) {
		const struct vd_encap *e = &layers[i];
		if (!e->has_id || e->id != f->id)
			continue;
		switch (f->what) {
		case VD_TUNNEL_VNI:
			if (e->kind == VD_ENCAP_VXLAN || e->kind == VD_ENCAP_GENEVE)
				return 1;
			break;
		case VD_TUNNEL_KEY:
			if (e->kind == VD_ENCAP_GRE)
				return 1;
			break;
		case VD_TUNNEL_TEID:
			if (e->kind == VD_ENCAP_GTPU)
				return 1;
			break;
		case VD_TUNNEL_SESSION:
			if (e->kind == VD_ENCAP_ERSPAN2 || e->kind == VD_ENCAP_ERSPAN3)
				return 1;
			break;
		}
	}
	return 0;
}

static int same_chain(const struct vd_encap *a, const struct vd_encap *b, int n)
{
	for (int i = 0; i < n; i++)
		if (a[i].kind != b[i].kind || a[i].has_id != b[i].has_id || a[i].id != b[i].id)
			return 0;
	return 1;
}

void vd_encap_summary_add(struct vd_encap_summary *s, const struct vd_encap *layers, int n)
{
	if (n <= 0)
		return;
	if (n > VD_DECAP_MAX_DEPTH)
		n = VD_DECAP_MAX_DEPTH;
	for (int c = 0; c < s->nchains; c++)
		if (s->chain[c].n == n && same_chain(s->chain[c].layer, layers, n)) {
			s->chain[c].frames++;
			return;
		}
	if (s->nchains == VD_ENCAP_SUMMARY_CHAINS) {
		s->other_frames++;
		return;
	}
	s->chain[s->nchains].n = n;
	memcpy(s->chain[s->nchains].layer, layers, (size_t)n * sizeof(*layers));
	s->chain[s->nchains++].frames = 1;
}

static const char *id_name(int kind)
{
	switch (kind) {
	case VD_ENCAP_VXLAN:
	case VD_ENCAP_GENEVE:
		return "vni";
	case VD_ENCAP_GRE:
		return "key";
	case VD_ENCAP_GTPU:
		return "teid";
	default:
		return "session";
	}
}

void vd_encap_summary_format(const struct vd_encap_summary *s, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
#define APPEND(...)                                                                                \
	do {                                                                                       \
		if (used < len) {                                                                  \
			int w_ = snprintf(buf + used, len - used, __VA_ARGS__);                    \
			used += w_ > 0 ? (size_t)w_ : 0;                                           \
		}                                                                                  \
	} while (0)
	for (int c = 0; c < s->nchains; c++) {
		APPEND("%s", c ? "; " : "tunnels: ");
		for (int i = 0; i < s->chain[c].n; i++) {
			const struct vd_encap *e = &s->chain[c].layer[i];
			APPEND("%s%s", i ? " / " : "", vd_encap_kind_name(e->kind));
			if (e->has_id)
				APPEND(" %s=%" PRIu32, id_name(e->kind), e->id);
		}
		APPEND(": %" PRIu64 " frames", s->chain[c].frames);
	}
	if (s->other_frames)
		APPEND("; other tunnels: %" PRIu64 " frames", s->other_frames);
	if (s->bad_ip_len)
		APPEND("%sbad IP length (more than the frame's original length): %" PRIu64
		       " frames",
		       used ? "; " : "", s->bad_ip_len);
#undef APPEND
	if (used >= len && len > 3) /* cut short: say so rather than end mid-word */
		memcpy(buf + len - 4, "...", 4);
}
