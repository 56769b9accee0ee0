/* vantage_tcm.c — tcpmon record files (docs/formats/tcpmon.md) as vantage points of
 * vmdelay-analyze: the levels' ICMP echo events, handed to a sink (echo.h). tcpmon stamps a packet
 * once per layer, and a layer sees one direction only, so a vantage point is a stack level: a
 * transmit layer paired with the receive layer at the same depth, from the device (outermost) to
 * the socket (innermost). A level's echo requests and replies are the ICMP/ICMPv6 echo records at
 * either of its two layers (the guest probing: request on transmit, reply on receive; the guest
 * answering: the other way round). Times are the record's TSC converted to CLOCK_REALTIME ns
 * through the file's calibration pairs (lib/input/tcmrec.c), or ktime real when the TSC cannot be
 * trusted, which the vantage's notes say. */
#include "vantage_tcm.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcm_loss.h"
#include "vmdelay/record.h"
#include "vmdelay/input/tcmrec.h"

struct tcm_level {
	const char *name;
	uint8_t tx, rx;	   /* enum tcpmon_layer */
	uint8_t shared_tx; /* tx is another level's: its records alone do not make this level */
};

/* Outermost first. The socket layers have no transmit twin: a socket-level RTT starts where
 * the transport hands the request down (trans-tx), so its Δ is receive delay only. */
static const struct tcm_level levels[] = {
    {"dev", TCPMON_L_DEV_TX, TCPMON_L_DEV_RX, 0},
    {"ip-route", TCPMON_L_IP_POST, TCPMON_L_IP_PRE, 0},
    {"ip-local", TCPMON_L_IP_LOCAL_OUT, TCPMON_L_IP_LOCAL_IN, 0},
    {"trans", TCPMON_L_TRANS_TX, TCPMON_L_TRANS_RX, 0},
    {"sock-queue", TCPMON_L_TRANS_TX, TCPMON_L_SOCK_QUEUE, 1},
    {"sock-copy", TCPMON_L_TRANS_TX, TCPMON_L_SOCK_COPY, 1},
};
#define NLEVELS VD_TCM_LEVELS
_Static_assert(sizeof(levels) / sizeof(levels[0]) == VD_TCM_LEVELS, "one entry a level");

const char *vd_tcm_level_name(size_t l)
{
	return levels[l].name;
}

int vd_tcm_level_has(size_t l, unsigned layer)
{
	return layer == levels[l].tx || layer == levels[l].rx;
}

int vd_tcm_level_own(size_t l, unsigned layer)
{
	return !levels[l].shared_tx || layer == levels[l].rx;
}

unsigned vd_tcm_level_tx(size_t l)
{
	return levels[l].tx;
}

unsigned vd_tcm_level_rx(size_t l)
{
	return levels[l].rx;
}

/* A level by its name, or by one of its layers' names (trans-tx is the transport level's). */
static int level_parse(const char *s)
{
	for (size_t l = 0; l < NLEVELS; l++)
		if (strcmp(s, levels[l].name) == 0)
			return (int)l;
	int layer = vd_tcmrec_layer_parse(s);
	for (size_t l = 0; layer > 0 && l < NLEVELS; l++)
		if (levels[l].tx == layer || levels[l].rx == layer)
			return (int)l;
	return -1;
}

/* want[l] = 1 for every selected level; *all when the selection is every level (default). */
int vd_tcm_select(const struct vd_vantage_spec *spec, int want[VD_TCM_LEVELS], int *all,
		  struct vd_err *err)
{
	memset(want, 0, NLEVELS * sizeof(*want));
	*all = !spec->select[0] || strcmp(spec->select, "*") == 0;
	if (*all)
		return 0;
	char buf[VD_VANTAGE_SELECT_MAX];
	snprintf(buf, sizeof(buf), "%s", spec->select);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int l = level_parse(tok);
		if (l < 0)
			return vd_err_usage(
			    err,
			    "%s: bad selector '#%s' for a tcpmon record file (want '*', "
			    "a level: dev, ip-route, ip-local, trans, sock-queue, "
			    "sock-copy, or a layer as tcpmon dump names it: dev-tx, "
			    "ip-local-in, ...; comma separated)",
			    spec->path, tok);
		want[l] = 1;
	}
	return 0;
}

static int echo_kind(const struct tcpmon_record *r)
{
	if (r->proto == IPPROTO_ICMP && r->family == AF_INET)
		return r->icmp_type == 8 ? VD_ECHO_REQUEST : r->icmp_type == 0 ? VD_ECHO_REPLY : -1;
	if (r->proto == IPPROTO_ICMPV6 && r->family == AF_INET6)
		return r->icmp_type == 128   ? VD_ECHO_REQUEST
		       : r->icmp_type == 129 ? VD_ECHO_REPLY
					     : -1;
	return -1;
}

static void addr_of(const struct tcpmon_record *r, const uint8_t *bytes, struct vd_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = r->family;
	memcpy(a->bytes, bytes, r->family == AF_INET ? 4 : 16);
}

int vd_tcm_echo(const struct tcpmon_record *r, vd_ns ts, uint64_t index, struct vd_echo *e)
{
	int kind = echo_kind(r);
	if (kind < 0)
		return 0;
	*e = (struct vd_echo){
	    .ts = ts,
	    .seq = r->icmp_seq,
	    .id = r->icmp_id,
	    .kind = (uint8_t)kind,
	    .has_id = 1,
	    .phase = -1,
	    .index = index,
	};
	addr_of(r, r->saddr, &e->src);
	addr_of(r, r->daddr, &e->dst);
	return 1;
}

/* An echo record and the layer it was stamped at, gathered before the levels see them. */
struct layered_echo {
	struct vd_echo e;
	unsigned layer;
	vd_ns mono;   /* the record's ktime, the clock of the loss windows */
	int left_out; /* an unanswered request that lost records may have robbed of its reply */
};

/* ---- records tcpmon lost: never read as packets the network lost ---- */

/* The echo's identity seen from its request: (id, seq, request's source and destination,
 * layer), hashed (FNV-1a). A reply's key uses its own layer and swapped addresses. */
static uint64_t echo_key(const struct vd_echo *e, int reply, unsigned layer)
{
	const struct vd_addr *a = reply ? &e->dst : &e->src, *b = reply ? &e->src : &e->dst;
	uint64_t h = 1469598103934665603ull;
	uint8_t buf[4 + 4 + 32 + 2];
	size_t alen = a->family == AF_INET ? 4 : 16;

	memcpy(buf, &e->id, 2);
	memcpy(buf + 2, &e->seq, 4);
	buf[6] = (uint8_t)layer;
	buf[7] = (uint8_t)a->family;
	memcpy(buf + 8, a->bytes, alen);
	memcpy(buf + 8 + alen, b->bytes, alen);
	for (size_t i = 0; i < 8 + 2 * alen; i++)
		h = (h ^ buf[i]) * 1099511628211ull;
	return h;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int has_key(const uint64_t *keys, size_t n, uint64_t k)
{
	return bsearch(&k, keys, n, sizeof(*keys), cmp_u64) != NULL;
}

/* A request recorded before the end of the last loss window whose reply is missing at one of
 * its levels' twin layers may have lost the reply's record, not the reply: left out. */
static int leave_out_unanswered(struct layered_echo *ev, size_t nev, vd_ns loss_end,
				size_t *left_out)
{
	uint64_t *keys = malloc((nev ? nev : 1) * sizeof(*keys));
	size_t nkeys = 0;

	if (!keys)
		return -1;
	for (size_t i = 0; i < nev; i++)
		if (ev[i].e.kind == VD_ECHO_REPLY)
			keys[nkeys++] = echo_key(&ev[i].e, 1, ev[i].layer);
	qsort(keys, nkeys, sizeof(*keys), cmp_u64);
	for (size_t i = 0; i < nev; i++) {
		struct layered_echo *le = &ev[i];
		if (le->e.kind != VD_ECHO_REQUEST || le->mono > loss_end)
			continue;
		for (size_t l = 0; l < NLEVELS && !le->left_out; l++) {
			unsigned twin = levels[l].tx == le->layer   ? levels[l].rx
					: levels[l].rx == le->layer ? levels[l].tx
								    : 0;
			if (twin && !has_key(keys, nkeys, echo_key(&le->e, 0, twin)))
				le->left_out = 1;
		}
		*left_out += (size_t)le->left_out;
	}
	free(keys);
	return 0;
}

static int cmp_echo(const void *a, const void *b)
{
	const struct vd_echo *x = &((const struct layered_echo *)a)->e;
	const struct vd_echo *y = &((const struct layered_echo *)b)->e;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

/* Why the times are not all TSC-based, into notes ("" when they are). */
void vd_tcm_clock_notes(const struct tcmrec *rd, int use_tsc, uint64_t fallbacks,
			const struct vd_tcm_loss *loss, size_t in_loss, size_t unanswered,
			char *buf, size_t len)
{
	const struct vd_tcmrec_info *in = vd_tcmrec_info(rd);
	size_t n = 0;
	buf[0] = '\0';
	if (in->clock_flags & TCPMON_CLK_KTIME_ONLY)
		n += (size_t)snprintf(buf, len, "bpf backend: times are ktime real_ns");
	else if (!use_tsc && (in->clock_flags & TCPMON_CLK_TSC_UNSTABLE))
		n += (size_t)snprintf(
		    buf, len, "TSC marked unstable (tsc-unstable): times are ktime real_ns");
	else if (!use_tsc)
		n +=
		    (size_t)snprintf(buf, len, "no TSC calibration pairs: times are ktime real_ns");
	else if (fallbacks)
		n += (size_t)snprintf(buf, len,
				      "%" PRIu64 " records without a TSC conversion: ktime real_ns",
				      fallbacks);
	if (loss->lost && n < len)
		snprintf(buf + n, len - n,
			 "%swarning: %" PRIu64 " records lost by tcpmon in %zu windows: %zu echo "
			 "records inside them and %zu unanswered requests before them left out",
			 n ? "; " : "", loss->lost, loss->n, in_loss, unanswered);
}

int vd_echo_read_tcm(const struct vd_vantage_spec *spec, struct vd_source *src,
		     const struct vd_echo_sink *sink, struct vd_err *err)
{
	int want[NLEVELS], all;
	if (vd_tcm_select(spec, want, &all, err) < 0)
		return -1;
	struct tcmrec *rd = vd_source_tcmrec(src);
	int use_tsc = vd_tcmrec_use_tsc(rd);
	struct vd_tcm_loss loss;
	if (vd_tcm_loss_init(&loss, rd, err) < 0)
		return vd_err_prefix(err, "%s", spec->path);
	size_t in_loss = 0, unanswered = 0;
	struct vd_echo_point *v[NLEVELS] = {0};
	uint64_t fallbacks = 0;
	size_t own[NLEVELS] = {0}; /* events at the level's own layers */
	size_t nrec = vd_tcmrec_count(rd);
	int rc = 0;
	for (size_t l = 0; l < NLEVELS; l++) {
		v[l] = vd_echo_point_open(sink, levels[l].name, spec, VD_VANTAGE_TCM_FORMAT);
		if (!v[l]) {
			rc = vd_err_set(err, "%s: out of memory", spec->path);
			goto out;
		}
	}
	/* Records come in per-CPU batches, but a vantage point pairs each reply as it is added
	 * (lib/match), so the echoes are gathered and put in time order first. */
	struct layered_echo *all_ev = malloc((nrec ? nrec : 1) * sizeof(*all_ev));
	size_t nev = 0;
	if (!all_ev) {
		rc = vd_err_set(err, "%s: out of memory", spec->path);
		goto out;
	}
	struct vd_item it;
	while (vd_source_next(src, &it, err) > 0) {
		const struct tcpmon_record *r = it.rec;
		if (echo_kind(r) < 0)
			continue;
		if (loss.n && vd_tcm_loss_covers(&loss, r->mono_ns)) {
			in_loss++;
			continue;
		}
		vd_ns ts = vd_tcmrec_record_time(rd, r, use_tsc, &fallbacks);
		if (!vd_echo_ts_ok(ts))
			continue;
		struct layered_echo *le = &all_ev[nev++];
		vd_tcm_echo(r, ts, it.index, &le->e);
		le->layer = r->layer;
		le->mono = r->mono_ns;
		le->left_out = 0;
	}
	if (loss.n && leave_out_unanswered(all_ev, nev, vd_tcm_loss_end(&loss), &unanswered) < 0) {
		free(all_ev);
		rc = vd_err_set(err, "%s: out of memory", spec->path);
		goto out;
	}
	qsort(all_ev, nev, sizeof(*all_ev), cmp_echo);
	for (size_t i = 0; i < nev; i++) {
		const struct layered_echo *le = &all_ev[i];
		for (size_t l = 0; l < NLEVELS && !le->left_out; l++) {
			if ((!all && !want[l]) ||
			    (le->layer != levels[l].tx && le->layer != levels[l].rx))
				continue;
			if (vd_echo_point_add(sink, v[l], &le->e) < 0) {
				free(all_ev);
				rc = vd_err_set(err, "%s: out of memory", spec->path);
				goto out;
			}
			own[l] += !levels[l].shared_tx || le->layer == levels[l].rx;
		}
	}
	free(all_ev);
	char notes[sizeof(v[0]->notes)];
	vd_tcm_clock_notes(rd, use_tsc, fallbacks, &loss, in_loss, unanswered, notes,
			   sizeof(notes));
	size_t nchosen = 0, nwant = 0;
	for (size_t l = 0; l < NLEVELS; l++) {
		nwant += (size_t)want[l];
		if (want[l] && !own[l]) {
			rc = vd_err_set(
			    err,
			    "%s: no ICMP echo records at level %s (layers %s and %s; %zu "
			    "records read)",
			    spec->path, levels[l].name, vd_tcmrec_layer_name(levels[l].tx),
			    vd_tcmrec_layer_name(levels[l].rx), nrec);
			goto out;
		}
		/* '*': a guest that only answers pings has no socket-level records */
		nchosen += own[l] > 0;
	}
	if (!nchosen) {
		rc = vd_err_set(err,
				"%s: no ICMP echo requests or replies (%zu tcpmon records read)",
				spec->path, nrec);
		goto out;
	}
	for (size_t l = 0; l < NLEVELS; l++) {
		if (!own[l])
			continue;
		if (spec->name[0] && (nwant == 1 || nchosen == 1))
			snprintf(v[l]->name, sizeof(v[l]->name), "%s", spec->name);
		else if (spec->name[0])
			snprintf(v[l]->name, sizeof(v[l]->name), "%.70s.%s", spec->name,
				 levels[l].name);
		snprintf(v[l]->select, sizeof(v[l]->select), "%s", levels[l].name);
		snprintf(v[l]->notes, sizeof(v[l]->notes), "%s", notes);
		v[l]->records = nrec;
		int closed = vd_echo_point_close(sink, v[l], 1);
		v[l] = NULL;
		if (closed < 0) {
			rc = vd_err_set(err, "%s: out of memory", spec->path);
			goto out;
		}
	}
out:
	for (size_t l = 0; l < NLEVELS; l++)
		vd_echo_point_close(sink, v[l], 0);
	vd_tcm_loss_free(&loss);
	return rc;
}
