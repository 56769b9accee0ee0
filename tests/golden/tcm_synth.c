/* tcm_synth.c — synthetic tcpmon record files (see tcm_synth.h). The guest 10.0.0.2 (fd00::2)
 * pings 10.0.0.1: requests descend trans-tx .. dev-tx on CPU 0, replies climb dev-rx ..
 * sock-copy on CPU 1, whose TSC runs 5000 ticks ahead of CPU 0's; the TSC ticks at 1 GHz, so
 * the conversion through the calibration pairs is exact. Each record's real_ns is off the truth
 * by 777 ns times its layer number, so a reader that takes ktime instead of the TSC is caught
 * (and the other way round for an unstable TSC, whose values are garbage). Records are written
 * CPU by CPU, not in time order. */
#include "tcm_synth.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vmdelay/input/tcmrec.h"

#define REALOFF INT64_C(1700000000000000000) /* CLOCK_REALTIME - CLOCK_MONOTONIC */
#define MONO0 INT64_C(1000000000000)
#define TSC0 UINT64_C(5000000000000)
#define CPU1_AHEAD 5000
#define KTIME_ERR 777

int64_t tcm_synth_time(const struct tcm_synth_opts *o, int k, unsigned layer)
{
	(void)o;
	/* probe k leaves the transport at t; per-hop delays vary with k so every Δ differs */
	int64_t t = REALOFF + MONO0 + INT64_C(1000000000) + (int64_t)k * 10000000;
	const int64_t tx[] = {[TCPMON_L_TRANS_TX] = 0,
			      [TCPMON_L_IP_LOCAL_OUT] = 1000 + 37 * k,
			      [TCPMON_L_IP_POST] = 1500 + 41 * k,
			      [TCPMON_L_DEV_TX] = 3000 + 53 * k % 700};
	int64_t dev_tx = t + tx[TCPMON_L_IP_LOCAL_OUT] + tx[TCPMON_L_IP_POST] + tx[TCPMON_L_DEV_TX];
	int64_t at = t, d = 0;
	if (o->responder) {
		/* the request reaches dev-rx at t and climbs; the reply leaves trans-rx + 5 µs */
		static const unsigned up[] = {TCPMON_L_DEV_RX, TCPMON_L_IP_PRE,
					      TCPMON_L_IP_LOCAL_IN, TCPMON_L_TRANS_RX};
		for (unsigned i = 0; i < 4; i++) {
			at += i ? 300 + (int64_t)i * 17 * k : 0;
			if (up[i] == layer)
				return at;
		}
		at += 5000 + k;
		for (unsigned l = TCPMON_L_TRANS_TX; l <= TCPMON_L_DEV_TX; l++) {
			at += tx[l];
			if (l == layer)
				return at;
		}
		return 0;
	}
	switch (layer) {
	case TCPMON_L_TRANS_TX:
	case TCPMON_L_IP_LOCAL_OUT:
	case TCPMON_L_IP_POST:
	case TCPMON_L_DEV_TX:
		for (unsigned l = TCPMON_L_IP_LOCAL_OUT; l <= layer; l++)
			at += tx[l];
		return at;
	case TCPMON_L_SOCK_COPY:
		d += 4000 + 11 * k; /* fallthrough */
	case TCPMON_L_SOCK_QUEUE:
		d += 700 + 7 * k; /* fallthrough */
	case TCPMON_L_TRANS_RX:
		d += 900 + 13 * k; /* fallthrough */
	case TCPMON_L_IP_LOCAL_IN:
		d += 600 + 29 * k % 500; /* fallthrough */
	case TCPMON_L_IP_PRE:
		d += 400 + 3 * k; /* fallthrough */
	case TCPMON_L_DEV_RX:
		d += 200000 + 1000 * k; /* the wire and the peer */
		return dev_tx + d;
	}
	return 0;
}

static void fill(const struct tcm_synth_opts *o, struct tcpmon_record *r, int k, unsigned layer,
		 uint32_t *seqno)
{
	int rx = layer <= TCPMON_L_SOCK_COPY;
	int request = rx == o->responder; /* the prober's packets are requests */
	int64_t t = tcm_synth_time(o, k, layer);
	memset(r, 0, sizeof(*r));
	r->cpu = rx;
	r->tsc = (uint64_t)(t - REALOFF - MONO0) + TSC0 + (rx ? CPU1_AHEAD : 0);
	if (o->unstable)
		r->tsc = r->tsc * 3 + 12345; /* not a clock */
	r->real_ns = t + (o->unstable ? 0 : KTIME_ERR * (int64_t)layer);
	r->mono_ns = r->real_ns - REALOFF;
	r->layer = (uint8_t)layer;
	r->dir = rx ? TCPMON_DIR_RX : TCPMON_DIR_TX;
	r->family = o->ipv6 ? AF_INET6 : AF_INET;
	r->proto = o->ipv6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	uint8_t me[16] = {10, 0, 0, 2}, peer[16] = {10, 0, 0, 1};
	if (o->ipv6) {
		memset(me, 0, 16);
		memset(peer, 0, 16);
		me[0] = peer[0] = 0xfd;
		me[15] = 2;
		peer[15] = 1;
	}
	memcpy(r->saddr, rx ? peer : me, 16);
	memcpy(r->daddr, rx ? me : peer, 16);
	r->icmp_type = o->ipv6 ? (request ? 128 : 129) : (request ? 8 : 0);
	r->icmp_id = TCM_SYNTH_ID;
	r->icmp_seq = (uint16_t)(k + 1);
	r->payload_len = 56;
	r->ifindex = layer == TCPMON_L_DEV_RX || layer == TCPMON_L_DEV_TX ? 2 : 0;
	r->seqno = (*seqno)++;
}

/* Opens path with the synthetic header (1 GHz TSC, unstable if asked) and writes CPU 0's
 * calibration pairs; CPU 1's (cal + 3) are for the caller to write later. */
static int synth_open(const char *path, int unstable, struct tcpmon_calib cal[6],
		      struct vd_tcmrec_writer **w, struct vd_err *err)
{
	struct vd_tcmrec_info in = {.tsc_khz = 1000000,
				    .clock_flags =
					TCPMON_CLK_CONSTANT_TSC | TCPMON_CLK_NONSTOP_TSC |
					TCPMON_CLK_TSC_KNOWN_FREQ | TCPMON_CLK_HYPERVISOR,
				    .realtime_offset_ns = REALOFF,
				    .start_real_ns = REALOFF + MONO0,
				    .ncpus = 2,
				    .layers = TCPMON_LAYERS_ALL};
	if (unstable)
		in.clock_flags |= TCPMON_CLK_TSC_UNSTABLE;
	snprintf(in.kernel_release, sizeof(in.kernel_release), "6.1.0-synth");
	snprintf(in.hostname, sizeof(in.hostname), "synth");
	snprintf(in.clocksource, sizeof(in.clocksource), "tsc");
	if (vd_tcmrec_writer_open(path, &in, w, err) < 0)
		return -1;
	for (int c = 0; c < 2; c++)
		for (int j = 0; j < 3; j++) {
			struct tcpmon_calib *p = &cal[c * 3 + j];
			p->cpu = (uint32_t)c;
			p->err_ns = 40;
			p->tsc = TSC0 + (c ? CPU1_AHEAD : 0) + (uint64_t)j * 50000000000u;
			p->mono_ns = MONO0 + (int64_t)j * 50000000000;
			p->real_ns = p->mono_ns + REALOFF;
		}
	return vd_tcmrec_write_calib(*w, cal, 3, err); /* CPU 1's pairs come later */
}

int tcm_synth_write(const char *path, const struct tcm_synth_opts *o, FILE *truth)
{
	struct vd_tcmrec_writer *w = NULL;
	struct vd_err err;
	struct tcpmon_calib cal[6];
	int rc = synth_open(path, o->unstable, cal, &w, &err);
	if (!w) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	struct tcpmon_record *rs[2] = {calloc((size_t)o->nprobes * 6 + 2, sizeof(*rs[0])),
				       calloc((size_t)o->nprobes * 6 + 2, sizeof(*rs[1]))};
	struct tcpmon_record *r = rs[0] && rs[1] ? rs[0] : NULL;
	size_t nturns = o->batch > 0 ? (size_t)(o->nprobes / o->batch + 1) : 1;
	/* where each turn of o->batch probes ends in a CPU's records */
	size_t *turn_end[2] = {calloc(nturns, sizeof(size_t)), calloc(nturns, sizeof(size_t))};
	if (!turn_end[0] || !turn_end[1])
		r = NULL;
	uint32_t seqno[2] = {0, 0};
	uint64_t lost = 0;
	for (int cpu = 0; cpu < 2 && r; cpu++) {
		size_t n = 0;
		r = rs[cpu];
		for (int k = 0; k < o->nprobes; k++) {
			if (o->batch > 0 && k % o->batch == 0 && k)
				turn_end[cpu][k / o->batch - 1] = n;
			unsigned lo = cpu ? TCPMON_L_DEV_RX : TCPMON_L_TRANS_TX;
			unsigned hi = cpu ? (o->responder ? TCPMON_L_TRANS_RX : TCPMON_L_SOCK_COPY)
					  : TCPMON_L_DEV_TX;
			for (unsigned l = lo; l <= hi; l++) {
				fill(o, &r[n++], k, l, &seqno[cpu]);
				if (cpu == 1 && k + 1 == o->lose) /* numbered, never stored */
					n--, lost++;
			}
		}
		/* not echoes: a TCP segment and an ICMP error at dev-rx, ignored by the reader */
		fill(o, &r[n], 0, TCPMON_L_DEV_RX, &seqno[cpu]);
		r[n].cpu = (uint32_t)cpu; /* numbered by this CPU */
		r[n].proto = IPPROTO_TCP;
		r[n++].icmp_type = 0;
		fill(o, &r[n], 1, TCPMON_L_DEV_RX, &seqno[cpu]);
		r[n].cpu = (uint32_t)cpu;
		r[n++].icmp_type = o->ipv6 ? 1 : 3;
		for (size_t t = (size_t)(o->batch > 0 ? (o->nprobes - 1) / o->batch : 0);
		     t < nturns; t++)
			turn_end[cpu][t] = n;
	}
	/* CPU by CPU, or the records of o->batch probes a CPU, the CPUs taking turns as tcpmon's
	 * READ dumps do */
	size_t at[2] = {0, 0};
	for (size_t t = 0; r && rc == 0 && t < nturns; t++)
		for (int cpu = 0; cpu < 2 && rc == 0; cpu++) {
			rc = vd_tcmrec_write_records(w, rs[cpu] + at[cpu],
						     turn_end[cpu][t] - at[cpu], &err);
			at[cpu] = turn_end[cpu][t];
		}
	free(turn_end[0]);
	free(turn_end[1]);
	if (rc == 0)
		rc = vd_tcmrec_write_calib(w, cal + 3, 3, &err);
	struct tcpmon_file_stats st = {.recorded = (uint64_t)o->nprobes * 10 + 4 - lost,
				       .lost = lost,
				       .read = (uint64_t)o->nprobes * 10 + 4 - lost};
	if (rc == 0)
		rc = vd_tcmrec_write_stats(w, &st, &err);
	free(rs[0]);
	free(rs[1]);
	if (vd_tcmrec_writer_close(w, &err) < 0 || rc < 0 || !r) {
		fprintf(stderr, "%s: %s\n", path, r ? err.msg : "out of memory");
		return -1;
	}
	for (int k = 0; truth && k < o->nprobes; k++) {
		int64_t ttx = tcm_synth_time(o, k, TCPMON_L_TRANS_TX);
		fprintf(truth, "%d,%lld,%lld,%lld,%lld,%lld,%lld\n", k + 1,
			(long long)(tcm_synth_time(o, k, TCPMON_L_DEV_RX) -
				    tcm_synth_time(o, k, TCPMON_L_DEV_TX)),
			(long long)(tcm_synth_time(o, k, TCPMON_L_IP_PRE) -
				    tcm_synth_time(o, k, TCPMON_L_IP_POST)),
			(long long)(tcm_synth_time(o, k, TCPMON_L_IP_LOCAL_IN) -
				    tcm_synth_time(o, k, TCPMON_L_IP_LOCAL_OUT)),
			(long long)(tcm_synth_time(o, k, TCPMON_L_TRANS_RX) - ttx),
			(long long)(tcm_synth_time(o, k, TCPMON_L_SOCK_QUEUE) - ttx),
			(long long)(tcm_synth_time(o, k, TCPMON_L_SOCK_COPY) - ttx));
	}
	return 0;
}

int64_t tcm_synth_tcp_time(int i, unsigned layer)
{
	/* packet i reaches dev-rx at t; each layer up adds 1 µs, the ACK leaves trans-tx 5 µs on */
	int64_t t = REALOFF + MONO0 + INT64_C(1000000000) + (int64_t)i * 100000;
	return layer <= TCPMON_L_SOCK_COPY ? t + (int64_t)(layer - 1) * 1000
					   : t + 8000 + (int64_t)(layer - TCPMON_L_TRANS_TX) * 1000;
}

/* Record of delivered packet i at layer (rx: the data; tx: the guest's ACK of it). */
static void fill_tcp(struct tcpmon_record *r, int i, unsigned layer, uint32_t seq, uint32_t len,
		     uint16_t segs, uint32_t *seqno)
{
	int rx = layer <= TCPMON_L_SOCK_COPY;
	int64_t t = tcm_synth_tcp_time(i, layer);
	uint8_t me[16] = {10, 0, 0, 2}, peer[16] = {10, 0, 0, 1};
	memset(r, 0, sizeof(*r));
	r->cpu = (uint32_t)(i % 2); /* two CPUs: the file is not in time order */
	r->tsc = (uint64_t)(t - REALOFF - MONO0) + TSC0 + (r->cpu ? CPU1_AHEAD : 0);
	r->real_ns = t + KTIME_ERR * (int64_t)layer;
	r->mono_ns = r->real_ns - REALOFF;
	r->layer = (uint8_t)layer;
	r->dir = rx ? TCPMON_DIR_RX : TCPMON_DIR_TX;
	r->family = AF_INET;
	r->proto = IPPROTO_TCP;
	memcpy(r->saddr, rx ? peer : me, 16);
	memcpy(r->daddr, rx ? me : peer, 16);
	r->sport = rx ? TCM_SYNTH_TCP_SPORT : TCM_SYNTH_TCP_DPORT;
	r->dport = rx ? TCM_SYNTH_TCP_DPORT : TCM_SYNTH_TCP_SPORT;
	r->seq = rx ? seq : TCM_SYNTH_TCP_ISN_GUEST + 1;
	r->ack = rx ? TCM_SYNTH_TCP_ISN_GUEST + 1 : seq + len;
	r->tcp_flags = 0x10;
	r->window = 512;
	r->payload_len = rx ? len : 0;
	r->gso_segs = rx ? segs : 0;
	r->skb_len = rx ? len + 20 : 0;
	r->seqno = (*seqno)++;
}

int tcm_synth_write_tcp(const char *path, const uint16_t *segs, int npkts)
{
	struct vd_tcmrec_writer *w = NULL;
	struct vd_err err;
	struct tcpmon_calib cal[6];
	int rc = synth_open(path, 0, cal, &w, &err);
	if (!w) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	static const unsigned layers[] = {
	    TCPMON_L_DEV_RX,	 TCPMON_L_IP_PRE,   TCPMON_L_IP_LOCAL_IN, TCPMON_L_TRANS_RX,
	    TCPMON_L_SOCK_QUEUE, TCPMON_L_TRANS_TX, TCPMON_L_DEV_TX};
	size_t nl = sizeof(layers) / sizeof(layers[0]);
	struct tcpmon_record *r = calloc((size_t)npkts * nl + 1, sizeof(*r));
	uint32_t seqno[2] = {0, 0};
	for (int cpu = 0; cpu < 2 && r && rc == 0; cpu++) {
		size_t n = 0;
		uint32_t seq = TCM_SYNTH_TCP_ISN + 1;
		for (int i = 0; i < npkts; i++) {
			uint32_t len = (uint32_t)(segs[i] > 1 ? segs[i] : 1) * TCM_SYNTH_TCP_MSS;
			for (size_t l = 0; i % 2 == cpu && l < nl; l++)
				fill_tcp(&r[n++], i, layers[l], seq, len, segs[i], &seqno[cpu]);
			seq += len;
		}
		rc = vd_tcmrec_write_records(w, r, n, &err);
	}
	if (rc == 0)
		rc = vd_tcmrec_write_calib(w, cal + 3, 3, &err);
	free(r);
	if (vd_tcmrec_writer_close(w, &err) < 0 || rc < 0 || !r) {
		fprintf(stderr, "%s: %s\n", path, r ? err.msg : "out of memory");
		return -1;
	}
	return 0;
}
