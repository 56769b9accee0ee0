/* tcmnl.c — builds tcpmon generic netlink requests and parses the kernel's replies from raw
 * bytes (vmdelay/record.h). Every length is checked before it is used; unknown attributes are
 * skipped, known ones with the wrong size are errors. */
#include "vmdelay/input/tcmnl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vmdelay/input/tcmrec.h"

#define ALIGN4(x) (((x) + 3u) & ~(size_t)3u)

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

/* Attribute walk: calls at(type, payload, len) for each; -1 on a malformed attribute. */
struct nla_iter {
	const uint8_t *p;
	size_t left;
	size_t base; /* offset of p in the message, for messages */
};

static int nla_next(struct nla_iter *it, uint16_t *type, const uint8_t **data, size_t *len,
		    size_t *at, struct vd_err *err)
{
	uint16_t l;

	if (it->left == 0)
		return 0;
	if (it->left < NLA_HDRLEN)
		return vd_err_set(err, "netlink offset %zu: %zu trailing bytes, not an attribute",
				  it->base, it->left);
	l = rd16(it->p);
	if (l < NLA_HDRLEN || l > it->left)
		return vd_err_set(
		    err, "netlink offset %zu: attribute length %u out of bounds (%zu left)",
		    it->base, l, it->left);
	*type = rd16(it->p + 2) & NLA_TYPE_MASK;
	*data = it->p + NLA_HDRLEN;
	*len = l - NLA_HDRLEN;
	*at = it->base;
	l = (uint16_t)(ALIGN4(l) > it->left ? it->left : ALIGN4(l));
	it->p += l;
	it->left -= l;
	it->base += l;
	return 1;
}

static int want_len(uint16_t type, size_t len, size_t need, size_t at, struct vd_err *err)
{
	if (len != need)
		return vd_err_set(err,
				  "netlink offset %zu: attribute %u has %zu bytes, expected %zu",
				  at, type, len, need);
	return 0;
}

static int parse_stats(const uint8_t *p, size_t len, size_t base, struct vd_tcmnl_stats *s,
		       struct vd_err *err)
{
	struct nla_iter it = {p, len, base};
	const uint8_t *d;
	uint16_t t;
	size_t l, at;
	int r;

	memset(s, 0, sizeof(*s));
	while ((r = nla_next(&it, &t, &d, &l, &at, err)) > 0) {
		switch (t) {
		case TCPMON_SA_RUNNING:
			if (want_len(t, l, 1, at, err))
				return -1;
			s->running = d[0];
			break;
		case TCPMON_SA_LAYERS:
		case TCPMON_SA_RING_RECORDS:
		case TCPMON_SA_NCPUS:
		case TCPMON_SA_TSC_KHZ:
		case TCPMON_SA_CLOCK_FLAGS:
		case TCPMON_SA_HOOKS_MISSING: {
			uint32_t v;
			if (want_len(t, l, 4, at, err))
				return -1;
			v = rd32(d);
			if (t == TCPMON_SA_LAYERS)
				s->layers = v;
			else if (t == TCPMON_SA_RING_RECORDS)
				s->ring_records = v;
			else if (t == TCPMON_SA_NCPUS)
				s->ncpus = v;
			else if (t == TCPMON_SA_TSC_KHZ)
				s->tsc_khz = v;
			else if (t == TCPMON_SA_CLOCK_FLAGS)
				s->clock_flags = v;
			else
				s->hooks_missing = v;
			break;
		}
		case TCPMON_SA_RECORDED:
		case TCPMON_SA_LOST:
		case TCPMON_SA_READ:
		case TCPMON_SA_FILTERED: {
			uint64_t v;
			if (want_len(t, l, 8, at, err))
				return -1;
			v = rd64(d);
			if (t == TCPMON_SA_RECORDED)
				s->recorded = v;
			else if (t == TCPMON_SA_LOST)
				s->lost = v;
			else if (t == TCPMON_SA_READ)
				s->read = v;
			else
				s->filtered = v;
			break;
		}
		case TCPMON_SA_COST:
			if (want_len(t, l, sizeof(s->cost), at, err))
				return -1;
			memcpy(s->cost, d, sizeof(s->cost));
			s->has_cost = 1;
			break;
		default:
			break;
		}
	}
	return r;
}

static int parse_genl(const uint8_t *p, size_t len, size_t base, struct vd_tcmnl_msg *m,
		      struct vd_err *err)
{
	struct nla_iter it;
	const uint8_t *d;
	uint16_t t;
	size_t l, at;
	int r;

	if (len < GENL_HDRLEN)
		return vd_err_set(err, "netlink offset %zu: %zu bytes, no genetlink header", base,
				  len);
	m->cmd = p[0];
	it = (struct nla_iter){p + GENL_HDRLEN, len - GENL_HDRLEN, base + GENL_HDRLEN};
	const uint8_t *recs = NULL;
	size_t recs_len = 0, recs_at = 0;
	while ((r = nla_next(&it, &t, &d, &l, &at, err)) > 0) {
		switch (t) {
		case TCPMON_A_CPU:
			if (want_len(t, l, 4, at, err))
				return -1;
			m->has_cpu = 1;
			m->cpu = rd32(d);
			break;
		case TCPMON_A_RECORD_SIZE:
			if (want_len(t, l, 4, at, err))
				return -1;
			m->record_size = rd32(d);
			break;
		case TCPMON_A_RECORDS:
			recs = d;
			recs_len = l;
			recs_at = at;
			break;
		case TCPMON_A_CALIB:
			if (l % sizeof(struct tcpmon_calib))
				return vd_err_set(err,
						  "netlink offset %zu: calibration of %zu bytes is "
						  "not a multiple of %zu",
						  at, l, sizeof(struct tcpmon_calib));
			m->calib = d;
			m->ncalib = l / sizeof(struct tcpmon_calib);
			break;
		case TCPMON_A_STATS:
			if (parse_stats(d, l, at + NLA_HDRLEN, &m->stats, err))
				return -1;
			m->has_stats = 1;
			break;
		default:
			break;
		}
	}
	if (r < 0)
		return -1;
	if (recs) {
		/* READ messages carry records of the kernel's struct size */
		if (!m->record_size)
			m->record_size = sizeof(struct tcpmon_record);
		if (m->record_size < sizeof(struct tcpmon_record) || recs_len % m->record_size)
			return vd_err_set(
			    err, "netlink offset %zu: %zu bytes of records, not a multiple of %u",
			    recs_at, recs_len, m->record_size);
		m->records = recs;
		m->nrecords = recs_len / m->record_size;
	}
	return 0;
}

int vd_tcmnl_parse(const uint8_t *buf, size_t len, struct vd_tcmnl_msg *m, size_t *used,
		   struct vd_err *err)
{
	uint32_t nlen;

	memset(m, 0, sizeof(*m));
	if (len < NLMSG_HDRLEN)
		return vd_err_set(err, "netlink offset 0: %zu bytes, shorter than a message header",
				  len);
	nlen = rd32(buf);
	if (nlen < NLMSG_HDRLEN || nlen > len)
		return vd_err_set(err,
				  "netlink offset 0: message length %u out of bounds (%zu bytes)",
				  nlen, len);
	m->type = rd16(buf + 4);
	m->flags = rd16(buf + 6);
	m->seq = rd32(buf + 8);
	*used = ALIGN4(nlen) > len ? len : ALIGN4(nlen);
	if (m->type == NLMSG_DONE) {
		m->kind = VD_TCMNL_DONE;
		return 0;
	}
	if (m->type == NLMSG_ERROR) {
		const uint8_t *p = buf + NLMSG_HDRLEN;
		size_t plen = nlen - NLMSG_HDRLEN, skip;
		struct nla_iter it;
		const uint8_t *d;
		uint16_t t;
		size_t l, at;
		int r;

		if (plen < sizeof(struct nlmsgerr))
			return vd_err_set(err,
					  "netlink offset %u: error message of %zu bytes too short",
					  NLMSG_HDRLEN, plen);
		m->error = (int)rd32(p);
		m->kind = m->error ? VD_TCMNL_ERROR : VD_TCMNL_ACK;
		if (!(m->flags & NLM_F_ACK_TLVS))
			return 0;
		/* the request comes back after the error code: whole, or its header (capped) */
		skip = sizeof(struct nlmsgerr);
		if (!(m->flags & NLM_F_CAPPED)) {
			uint32_t ol = rd32(p + 4);
			if (ol < NLMSG_HDRLEN || ol - NLMSG_HDRLEN > plen - skip)
				return vd_err_set(
				    err,
				    "netlink offset %u: echoed request of %u bytes out of bounds",
				    NLMSG_HDRLEN + 4, ol);
			skip += ALIGN4(ol - NLMSG_HDRLEN);
			if (skip > plen)
				skip = plen;
		}
		it = (struct nla_iter){p + skip, plen - skip, NLMSG_HDRLEN + skip};
		while ((r = nla_next(&it, &t, &d, &l, &at, err)) > 0) {
			if (t == NLMSGERR_ATTR_MSG && l > 0) {
				size_t n = strnlen((const char *)d, l);
				if (n >= sizeof(m->extack))
					n = sizeof(m->extack) - 1;
				memcpy(m->extack, d, n);
				m->extack[n] = '\0';
			}
		}
		return r < 0 ? -1 : 0;
	}
	if (m->type < NLMSG_MIN_TYPE) {
		m->kind = VD_TCMNL_OTHER;
		return 0;
	}
	m->kind = VD_TCMNL_DATA;
	return parse_genl(buf + NLMSG_HDRLEN, nlen - NLMSG_HDRLEN, NLMSG_HDRLEN, m, err);
}

/* ---- requests ---- */
struct wbuf {
	uint8_t *p;
	size_t cap, len;
	int overflow;
};

static uint8_t *wput(struct wbuf *w, size_t n)
{
	uint8_t *q;

	if (w->overflow || ALIGN4(n) > w->cap - w->len) {
		w->overflow = 1;
		return NULL;
	}
	q = w->p + w->len;
	memset(q, 0, ALIGN4(n));
	w->len += ALIGN4(n);
	return q;
}

static void wattr(struct wbuf *w, uint16_t type, const void *data, size_t n)
{
	uint8_t *q = wput(w, NLA_HDRLEN + n);
	uint16_t l = (uint16_t)(NLA_HDRLEN + n);

	if (!q)
		return;
	memcpy(q, &l, 2);
	memcpy(q + 2, &type, 2);
	memcpy(q + NLA_HDRLEN, data, n);
}

int vd_tcmnl_build(uint8_t *buf, size_t cap, uint16_t family, uint8_t cmd, uint16_t flags,
		   uint32_t seq, const struct vd_tcmnl_filter *f)
{
	struct wbuf w = {buf, cap, 0, 0};
	struct nlmsghdr *nh;
	uint8_t *q = wput(&w, NLMSG_HDRLEN + GENL_HDRLEN);

	if (!q)
		return -1;
	q[NLMSG_HDRLEN] = cmd;
	q[NLMSG_HDRLEN + 1] = TCPMON_GENL_VERSION;
	if (f && f->has_layers)
		wattr(&w, TCPMON_A_LAYERS, &f->layers, 4);
	if (f && f->has_filter) {
		size_t nest = w.len;
		uint8_t *nq = wput(&w, NLA_HDRLEN);

		if (f->proto)
			wattr(&w, TCPMON_FA_PROTO, &f->proto, 1);
		if (f->family)
			wattr(&w, TCPMON_FA_FAMILY, &f->family, 1);
		if (f->addr_len)
			wattr(&w, TCPMON_FA_ADDR, f->addr, f->addr_len);
		if (f->addr2_len)
			wattr(&w, TCPMON_FA_ADDR2, f->addr2, f->addr2_len);
		if (f->has_port)
			wattr(&w, TCPMON_FA_PORT, &f->port, 2);
		if (f->has_port2)
			wattr(&w, TCPMON_FA_PORT2, &f->port2, 2);
		if (nq) {
			uint16_t l = (uint16_t)(w.len - nest), t = TCPMON_A_FILTER | NLA_F_NESTED;
			memcpy(nq, &l, 2);
			memcpy(nq + 2, &t, 2);
		}
	}
	if (w.overflow)
		return -1;
	nh = (struct nlmsghdr *)(void *)buf;
	nh->nlmsg_len = (uint32_t)w.len;
	nh->nlmsg_type = family;
	nh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	nh->nlmsg_seq = seq;
	nh->nlmsg_pid = 0;
	return (int)w.len;
}

/* ---- filter words ---- */
int vd_tcmnl_layers_parse(const char *s, uint32_t *mask, struct vd_err *err)
{
	char buf[256], *save = NULL, *tok;
	uint32_t m = 0;

	if (!strcmp(s, "all")) {
		*mask = TCPMON_LAYERS_ALL;
		return 0;
	}
	if (strlen(s) >= sizeof(buf))
		return vd_err_set(err, "layers: list too long");
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int l = vd_tcmrec_layer_parse(tok);
		if (l < 0) {
			/* the list from tcmrec's table, so a new layer shows up here too */
			char known[256];
			size_t k = 0;
			for (unsigned i = 1; i < __TCPMON_L_MAX && k < sizeof(known); i++)
				k += (size_t)snprintf(known + k, sizeof(known) - k, "%s, ",
						      vd_tcmrec_layer_name(i));
			return vd_err_set(err, "layers: unknown layer '%s' (%sall)", tok,
					  k < sizeof(known) ? known : "");
		}
		m |= 1u << l;
	}
	if (!m)
		return vd_err_set(err, "layers: empty list");
	*mask = m;
	return 0;
}

static int parse_addr(const char *s, uint8_t *a, uint8_t *len, struct vd_err *err)
{
	if (inet_pton(AF_INET, s, a) == 1) {
		*len = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		*len = 16;
		return 0;
	}
	return vd_err_set(err, "host: '%s' is not an IPv4 or IPv6 address", s);
}

int vd_tcmnl_filter_parse(int argc, char *const *argv, struct vd_tcmnl_filter *f,
			  struct vd_err *err)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		const char *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(w, "tcp") || !strcmp(w, "icmp") || !strcmp(w, "icmp6")) {
			uint8_t p = w[0] == 't' ? IPPROTO_TCP
				    : w[4]	? IPPROTO_ICMPV6
						: IPPROTO_ICMP;
			if (f->proto && f->proto != p)
				return vd_err_set(err, "filter: two protocols ('%s')", w);
			f->proto = p;
		} else if (!strcmp(w, "ip") || !strcmp(w, "ip6")) {
			f->family = w[2] ? AF_INET6 : AF_INET;
		} else if (!strcmp(w, "host")) {
			if (!arg)
				return vd_err_set(err, "filter: 'host' needs an address");
			if (f->addr2_len)
				return vd_err_set(err, "filter: at most two 'host' words");
			if (parse_addr(arg, f->addr_len ? f->addr2 : f->addr,
				       f->addr_len ? &f->addr2_len : &f->addr_len, err))
				return -1;
			i++;
		} else if (!strcmp(w, "port")) {
			char *end;
			long v;
			if (!arg)
				return vd_err_set(err, "filter: 'port' needs a number");
			errno = 0;
			v = strtol(arg, &end, 10);
			if (errno || *end || end == arg || v < 0 || v > 65535)
				return vd_err_set(err, "filter: bad port '%s'", arg);
			if (f->has_port2)
				return vd_err_set(err, "filter: at most two 'port' words");
			if (f->has_port) {
				f->has_port2 = 1;
				f->port2 = (uint16_t)v;
			} else {
				f->has_port = 1;
				f->port = (uint16_t)v;
			}
			i++;
		} else if (!strcmp(w, "layers")) {
			if (!arg)
				return vd_err_set(err, "filter: 'layers' needs a list");
			if (vd_tcmnl_layers_parse(arg, &f->layers, err))
				return -1;
			f->has_layers = 1;
			i++;
			continue;
		} else {
			return vd_err_set(err, "filter: unknown word '%s'", w);
		}
		f->has_filter = 1;
	}
	if (f->addr2_len && f->addr2_len != f->addr_len)
		return vd_err_set(err, "filter: the two hosts are of different families");
	if (f->family && f->addr_len && (f->addr_len == 4) != (f->family == AF_INET))
		return vd_err_set(err, "filter: host does not match ip/ip6");
	return 0;
}

/* ---- hook cost histogram ---- */
static void cost_bucket_range(unsigned b, double *lo, double *width)
{
	if (b < 16) {
		*lo = b;
		*width = 1;
		return;
	}
	unsigned e = (b - 16) / 8 + 4, sub = (b - 16) % 8;
	*lo = (double)((uint64_t)(8 + sub) << (e - 3));
	*width = (double)((uint64_t)1 << (e - 3));
}

unsigned vd_tcmnl_cost_bucket(uint64_t v)
{
	unsigned e = 63 - (unsigned)__builtin_clzll(v | 1);

	if (v < 16)
		return (unsigned)v;
	if (e > 32)
		return TCPMON_COST_BUCKETS - 1;
	unsigned b = 16 + (e - 4) * 8 + (unsigned)((v >> (e - 3)) & 7);
	return b < TCPMON_COST_BUCKETS ? b : TCPMON_COST_BUCKETS - 1;
}

uint64_t vd_tcmnl_cost_count(const uint32_t *hist)
{
	uint64_t n = 0;

	for (unsigned b = 0; b < TCPMON_COST_BUCKETS; b++)
		n += hist[b];
	return n;
}

double vd_tcmnl_cost_quantile(const uint32_t *hist, double q)
{
	uint64_t n = vd_tcmnl_cost_count(hist), acc = 0;
	double rank, lo, width;

	if (!n)
		return -1;
	rank = q * (double)n;
	for (unsigned b = 0; b < TCPMON_COST_BUCKETS; b++) {
		if (!hist[b])
			continue;
		if ((double)(acc + hist[b]) >= rank) {
			cost_bucket_range(b, &lo, &width);
			/* linear inside the bucket */
			return lo + width * ((rank - (double)acc) / hist[b]);
		}
		acc += hist[b];
	}
	cost_bucket_range(TCPMON_COST_BUCKETS - 1, &lo, &width);
	return lo + width;
}
