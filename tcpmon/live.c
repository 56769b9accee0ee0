/* live.c — per-layer delays while recording (see live.h). */
#include "live.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/input/tcmnl.h"
#include "vmdelay/input/tcmrec.h"

#define SLOTS (1u << 16)
#define STALE_NS VD_NS_PER_SEC /* a previous record older than this is another passage */

/* Prometheus bucket bounds, seconds */
static const double le_s[] = {1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3,
			      2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1,  0.2,	0.5,  1};
#define NLE (sizeof(le_s) / sizeof(le_s[0]))

struct slot {
	uint64_t key;
	vd_ns t;
};

struct layer_hist {
	uint32_t interval[TCPMON_COST_BUCKETS]; /* since the last print, ns buckets */
	vd_ns interval_max;
	uint64_t le[NLE + 1]; /* cumulative, per Prometheus bucket (not summed) */
	double sum_s;
	uint64_t count;
};

struct tcpmon_live {
	struct slot slot[SLOTS];
	struct layer_hist layer[__TCPMON_L_MAX];
};

struct tcpmon_live *tcpmon_live_new(void)
{
	return calloc(1, sizeof(struct tcpmon_live));
}

void tcpmon_live_free(struct tcpmon_live *l)
{
	free(l);
}

/* The packet's identity, the same at every layer (FNV-1a over the header fields). */
static uint64_t packet_key(const struct tcpmon_record *r)
{
	uint8_t b[64];
	size_t n = 0, alen = r->family == AF_INET6 ? 16 : 4;
	uint64_t h = 1469598103934665603ull;

	b[n++] = r->family;
	b[n++] = r->proto;
	memcpy(b + n, r->saddr, alen), n += alen;
	memcpy(b + n, r->daddr, alen), n += alen;
	if (r->proto == IPPROTO_TCP) {
		memcpy(b + n, &r->sport, 2), n += 2;
		memcpy(b + n, &r->dport, 2), n += 2;
		memcpy(b + n, &r->seq, 4), n += 4;
		memcpy(b + n, &r->ack, 4), n += 4;
	} else {
		b[n++] = r->icmp_type;
		memcpy(b + n, &r->icmp_id, 2), n += 2;
		memcpy(b + n, &r->icmp_seq, 2), n += 2;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h | 1; /* 0 marks an empty slot */
}

void tcpmon_live_add(struct tcpmon_live *l, const struct tcpmon_record *r)
{
	uint64_t key = packet_key(r);
	struct slot *s = &l->slot[key & (SLOTS - 1)];
	vd_ns t = r->mono_ns;

	if (s->key == key && t >= s->t && t - s->t < STALE_NS && r->layer < __TCPMON_L_MAX) {
		struct layer_hist *h = &l->layer[r->layer];
		vd_ns d = t - s->t;
		size_t i = 0;

		h->interval[vd_tcmnl_cost_bucket((uint64_t)d)]++;
		if (d > h->interval_max)
			h->interval_max = d;
		while (i < NLE && (double)d > le_s[i] * 1e9)
			i++;
		h->le[i]++;
		h->sum_s += (double)d / 1e9;
		h->count++;
	}
	s->key = key;
	s->t = t;
}

/* Interpolated inside its bucket, so never past the largest delay seen. */
static vd_ns quantile(const struct layer_hist *h, double q)
{
	vd_ns v = (vd_ns)vd_tcmnl_cost_quantile(h->interval, q);

	return v < h->interval_max ? v : h->interval_max;
}

void tcpmon_live_print(struct tcpmon_live *l, struct vd_out *o, vd_ns elapsed)
{
	for (unsigned ly = 1; ly < __TCPMON_L_MAX; ly++) {
		struct layer_hist *h = &l->layer[ly];
		uint64_t n = vd_tcmnl_cost_count(h->interval);

		if (!n)
			continue;
		vd_out_row_begin(o);
		vd_out_ns(o, "elapsed_ns", elapsed);
		vd_out_str(o, "layer", vd_tcmrec_layer_name(ly));
		vd_out_int(o, "n", (int64_t)n);
		vd_out_ns(o, "p50_ns", quantile(h, 0.5));
		vd_out_ns(o, "p90_ns", quantile(h, 0.9));
		vd_out_ns(o, "p99_ns", quantile(h, 0.99));
		vd_out_ns(o, "max_ns", h->interval_max);
		vd_out_row_end(o);
		memset(h->interval, 0, sizeof(h->interval));
		h->interval_max = 0;
	}
}

void tcpmon_live_prometheus(const struct tcpmon_live *l, FILE *f)
{
	fprintf(f,
		"# HELP tcpmon_layer_delay_seconds Time from a packet's previous tcpmon record to "
		"its record at this layer.\n"
		"# TYPE tcpmon_layer_delay_seconds histogram\n");
	for (unsigned ly = 1; ly < __TCPMON_L_MAX; ly++) {
		const struct layer_hist *h = &l->layer[ly];
		const char *name = vd_tcmrec_layer_name(ly);
		uint64_t cum = 0;

		for (size_t i = 0; i < NLE; i++) {
			cum += h->le[i];
			fprintf(f,
				"tcpmon_layer_delay_seconds_bucket{layer=\"%s\",le=\"%g\"} %llu\n",
				name, le_s[i], (unsigned long long)cum);
		}
		fprintf(f, "tcpmon_layer_delay_seconds_bucket{layer=\"%s\",le=\"+Inf\"} %llu\n",
			name, (unsigned long long)h->count);
		fprintf(f, "tcpmon_layer_delay_seconds_sum{layer=\"%s\"} %.9f\n", name, h->sum_s);
		fprintf(f, "tcpmon_layer_delay_seconds_count{layer=\"%s\"} %llu\n", name,
			(unsigned long long)h->count);
	}
}
