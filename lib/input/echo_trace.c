/* echo_trace.c — ICMP echo events from a packet trace, read through the source (source.h) and
 * vd_decode (echo_trace.h). Packets are read once, in file order; each event is handed on as
 * it is read. */
#include "echo_trace.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vmdelay/core/progress.h"
#include "vmdelay/input/decode.h"
#include "vmdelay/input/trace.h"

/* Under "#*": each interface's own point, opened on its first frame. */
struct iface_points {
	struct vd_echo_point **pt;
	size_t n;
};

static int iface_grow(struct iface_points *m, uint32_t iface)
{
	if (iface < m->n)
		return 0;
	if (iface > 1u << 20)
		return -1;
	size_t n = (size_t)iface + 1;
	struct vd_echo_point **pt = realloc(m->pt, n * sizeof(*pt));
	if (!pt)
		return -1;
	m->pt = pt;
	for (size_t i = m->n; i < n; i++)
		m->pt[i] = NULL;
	m->n = n;
	return 0;
}

/* *to = *from (to zeroed) at the widths the decoder stored them: an IPv4 address is its 4 bytes
 * (vd_decode leaves the other 12 zero). A copy of the whole struct loads across several of the
 * decoder's stores at once, which waits for them to retire (on AMD Zen, a sixth of this
 * file's time per packet). */
static inline void copy_addr(struct vd_addr *to, const struct vd_addr *from)
{
	to->family = from->family;
	if (from->family == AF_INET)
		memcpy(to->bytes, from->bytes, 4);
	else
		memcpy(to->bytes, from->bytes, sizeof(to->bytes));
}

static int echo_from_decoded(const struct vd_pkt *pkt, const struct vd_decoded *d,
			     struct vd_echo *e)
{
	/* a pcapng Simple Packet Block has no time: it cannot time a probe */
	if (!vd_echo_ts_ok(pkt->ts))
		return 0;
	if (d->l4 != VD_L4_ICMP || d->is_fragment ||
	    !(d->icmp_is_echo_request || d->icmp_is_echo_reply))
		return 0;
	memset(e, 0, sizeof(*e));
	e->ts = pkt->ts;
	copy_addr(&e->src, &d->src);
	copy_addr(&e->dst, &d->dst);
	e->id = d->icmp_id;
	e->has_id = 1;
	e->seq = d->icmp_seq;
	e->kind = d->icmp_is_echo_request ? VD_ECHO_REQUEST : VD_ECHO_REPLY;
	e->phase = -1;
	e->index = pkt->index;
	return 1;
}

/* The point of interface iface under "#*", opened on its first frame (for the tunnel summary),
 * kept if an echo came. */
static struct vd_echo_point *iface_point(struct vd_source *src, const struct vd_vantage_spec *spec,
					 const struct vd_echo_sink *sink, struct iface_points *map,
					 uint32_t iface)
{
	if (iface_grow(map, iface) < 0)
		return NULL;
	if (map->pt[iface])
		return map->pt[iface];
	char lbl[VD_VANTAGE_NAME_MAX], nm[VD_VANTAGE_NAME_MAX];
	vd_source_iface_label(src, iface, lbl, sizeof(lbl));
	if (spec->name[0])
		snprintf(nm, sizeof(nm), "%.40s.%.40s", spec->name, lbl);
	else
		snprintf(nm, sizeof(nm), "%s", lbl);
	struct vd_echo_point *p =
	    vd_echo_point_open(sink, nm, spec, vd_trace_format(vd_source_trace(src)));
	if (p)
		snprintf(p->select, sizeof(p->select), "%" PRIu32, iface);
	return map->pt[iface] = p;
}

void vd_echo_trace_notes(struct vd_echo_point *p, const char *z)
{
	char tunnels[sizeof(p->notes)];
	/* the room the compression leaves, so that a long summary ends in its own "..." */
	size_t room = sizeof(tunnels) - (z ? strlen(z) + strlen("-compressed; ") : 0);
	vd_encap_summary_format(&p->encap, tunnels, room);
	snprintf(p->notes, sizeof(p->notes), "%s%s%s%s", z ? z : "", z ? "-compressed" : "",
		 z && tunnels[0] ? "; " : "", tunnels);
}

int vd_echo_trace_packet(const struct vd_vantage_spec *spec, const struct vd_decode_opts *decode,
			 const struct vd_pkt *pkt, struct vd_echo_point *p, struct vd_echo *e,
			 struct vd_err *err)
{
	struct vd_decoded d;
	struct vd_err derr;
	int drc = vd_decode_with(pkt, decode, &d, &derr);
	if (d.bad >= VD_BAD_TUNNEL)
		return vd_err_set(err, "%s: frame %" PRIu64 " (offset %" PRIu64 "): %s", spec->path,
				  pkt->index, pkt->offset, derr.msg);
	if (d.nencap)
		vd_encap_summary_add(&p->encap, d.encap, d.nencap);
	p->encap.bad_ip_len += d.bad == VD_BAD_IP_LEN;
	return drc >= 0 && echo_from_decoded(pkt, &d, e);
}

int vd_echo_trace_check(const struct vd_vantage_spec *spec, int pick, uint64_t records,
			uint64_t events, const char *fmt, struct vd_err *err)
{
	if (pick && records && events == 0)
		return vd_err_set(err,
				  "%s: no ICMP echo requests or replies on interface '%s' "
				  "(%" PRIu64 " packets read)",
				  spec->path, spec->select, records);
	if (events == 0)
		return vd_err_set(err,
				  "%s: no ICMP echo requests or replies (%" PRIu64
				  " packets read, format %s)",
				  spec->path, records, fmt);
	return 0;
}

int vd_echo_read_trace(const struct vd_vantage_spec *spec, struct vd_source *src,
		       const struct vd_echo_sink *sink, int progress,
		       const struct vd_decode_opts *decode, struct vd_err *err)
{
	const char *fmt = vd_trace_format(vd_source_trace(src));
	int split = strcmp(spec->select, "*") == 0;
	int pick = spec->select[0] && !split;
	char name[VD_VANTAGE_NAME_MAX];
	vd_vantage_spec_name(spec, name, sizeof(name));

	struct vd_echo_point *single = NULL;
	struct iface_points map = {0};
	struct vd_progress prog;
	uint64_t size = vd_progress_file_size(spec->path);
	vd_progress_init(&prog, spec->path, progress == VD_PROGRESS_FORCED, progress == 0, size);
	uint64_t records = 0, events = 0;
	int rc = 0, oom = 0;
	if (!split) {
		single = vd_echo_point_open(sink, name, spec, fmt);
		if (!single)
			return vd_err_set(err, "out of memory");
		snprintf(single->select, sizeof(single->select), "%s", spec->select);
	}
	/* #SELECT naming one interface: the source drops the others' packets */
	for (;;) {
		struct vd_item it;
		int r = vd_source_next(src, &it, err);
		if (r <= 0) {
			rc = r;
			break;
		}
		records = vd_source_records(src);
		if (vd_progress_due(&prog, records))
			vd_progress_update(&prog, records, it.pkt.offset);
		struct vd_echo_point *p =
		    split ? iface_point(src, spec, sink, &map, it.pkt.iface) : single;
		if (!p) {
			oom = 1;
			break;
		}
		struct vd_echo e;
		int er = vd_echo_trace_packet(spec, decode, &it.pkt, p, &e, err);
		if (er < 0) {
			rc = -1;
			break;
		}
		if (!er)
			continue;
		if (vd_echo_point_add(sink, p, &e) < 0) {
			oom = 1;
			break;
		}
		events++;
	}
	records = vd_source_records(src);
	vd_progress_done(&prog, records, size);
	/* Kept even when the file is damaged: the events before the damage count. */
	const char *z = vd_trace_compression(vd_source_trace(src));
	if (single) {
		single->records = records;
		vd_echo_trace_notes(single, z);
		oom |= vd_echo_point_close(sink, single, 1) < 0;
	}
	for (size_t i = 0; i < map.n; i++) { /* one point per interface, in interface order */
		if (map.pt[i]) {
			map.pt[i]->records = records;
			vd_echo_trace_notes(map.pt[i], z);
			/* opened on the interface's first frame: kept when it had an echo */
			oom |= vd_echo_point_close(sink, map.pt[i], map.pt[i]->echoes > 0) < 0;
		}
	}
	free(map.pt);
	if (oom)
		return vd_err_set(err, "%s: out of memory", spec->path);
	if (rc < 0)
		return -1;
	return vd_echo_trace_check(spec, pick, records, events, fmt, err);
}
