/* gen_probes.c — synthetic multi-vantage ICMP probe run with known truth, for the golden and
 * end-to-end tests of vmdelay-analyze.
 *
 * A prober in a guest sends N probes 250 ms apart (Whiteaker et al.'s tping run: rest, load,
 * rest). Each probe crosses user -> kernel -> bridge -> wire -> target and back. Vantage points:
 *   wire.pcap    clock "peer" (the reference: true time)
 *   bridge.pcap  clock "host" = true + 1 ms, running 20 ppm fast
 *   tping.csv    clock "vm"   = true + 3 ms, running 50 ppm fast (user and kernel columns)
 * Per layer, send and receive delays are a base plus one-sided exponential noise at rest; during
 * the load phase the kernel->bridge layer (VM scheduling) gets a heavy tail. truth.csv lists every
 * probe's true send and receive delay per layer. Deterministic (xorshift PRNG, fixed seed).
 * Also: probe 50 is lost on the way out (seen by user and kernel only), probe 80's reply is
 * captured twice on the wire, and probe 120 is missing from the bridge capture.
 *
 * usage: gen_probes OUTDIR [N_PROBES] [SEED] */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int64_t ns;

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

static ns expo(double mean_ns)
{
	return (ns)llround(-mean_ns * log(uniform()));
}

#define START INT64_C(1700000000000000000)
#define INTERVAL INT64_C(250000000)

/* clock(t) for the three clocks */
static ns clk_host(ns t)
{
	return t + 1000000 + (ns)llround(20e-6 * (double)(t - START));
}

static ns clk_vm(ns t)
{
	return t + 3000000 + (ns)llround(50e-6 * (double)(t - START));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void le32(FILE *f, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	fwrite(b, 1, 4, f);
}

static void pcap_header(FILE *f)
{
	le32(f, 0xa1b23c4d); /* nanosecond pcap */
	uint8_t ver[4] = {2, 0, 4, 0};
	fwrite(ver, 1, 4, f);
	le32(f, 0);
	le32(f, 0);
	le32(f, 65535);
	le32(f, 1); /* Ethernet */
}

static void pcap_echo(FILE *f, ns ts, int reply, uint16_t id, uint16_t seq)
{
	uint8_t fr[14 + 20 + 8 + 56];
	memset(fr, 0, sizeof(fr));
	static const uint8_t guest_mac[6] = {2, 0, 0, 0, 0, 2}, peer_mac[6] = {2, 0, 0, 0, 0, 1};
	memcpy(fr, reply ? guest_mac : peer_mac, 6);
	memcpy(fr + 6, reply ? peer_mac : guest_mac, 6);
	put16(fr + 12, 0x0800);
	uint8_t *ip = fr + 14;
	ip[0] = 0x45;
	put16(ip + 2, 20 + 8 + 56);
	put16(ip + 4, (uint16_t)(seq * 7 + reply));
	ip[8] = 64;
	ip[9] = 1;
	const uint8_t guest[4] = {10, 0, 0, 2}, peer[4] = {10, 0, 0, 1};
	memcpy(ip + 12, reply ? peer : guest, 4);
	memcpy(ip + 16, reply ? guest : peer, 4);
	put16(ip + 10, csum(ip, 20));
	uint8_t *icmp = ip + 20;
	icmp[0] = reply ? 0 : 8;
	put16(icmp + 4, id);
	put16(icmp + 6, seq);
	for (int i = 0; i < 56; i++)
		icmp[8 + i] = (uint8_t)i;
	put16(icmp + 2, csum(icmp, 64));
	le32(f, (uint32_t)(ts / 1000000000));
	le32(f, (uint32_t)(ts % 1000000000));
	le32(f, sizeof(fr));
	le32(f, sizeof(fr));
	fwrite(fr, 1, sizeof(fr), f);
}

struct probe {
	ns t_user_tx, t_kern_tx, t_bridge_tx, t_wire_tx, t_wire_rx, t_bridge_rx, t_kern_rx,
	    t_user_rx;
	int phase; /* 0 rest-pre, 1 load, 2 rest-post */
};

static FILE *open_out(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "gen_probes: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return f;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: gen_probes OUTDIR [N_PROBES] [SEED]\n");
		return 2;
	}
	int n = argc > 2 ? atoi(argv[2]) : 200;
	if (argc > 3)
		rng ^= strtoull(argv[3], NULL, 0) * 0x2545f4914f6cdd1dull;
	if (n < 10 || n > 1000000) {
		fprintf(stderr, "gen_probes: N_PROBES must be 10..1000000\n");
		return 2;
	}
	int rest = n / 10;
	struct probe *p = calloc((size_t)n, sizeof(*p));
	if (!p)
		return 1;
	const char *phases[3] = {"rest-pre", "load", "rest-post"};
	FILE *truth = open_out(argv[1], "truth.csv");
	fprintf(truth, "seq,phase,bridge_send_ns,bridge_recv_ns,kernel_send_ns,kernel_recv_ns,"
		       "user_send_ns,user_recv_ns,wire_rtt_ns\n");
	for (int k = 0; k < n; k++) {
		struct probe *q = &p[k];
		q->phase = k < rest ? 0 : k >= n - rest ? 2 : 1;
		int load = q->phase == 1;
		ns user_s = 20000 + expo(5000), user_r = 20000 + expo(5000);
		ns kern_s = 60000 + expo(10000), kern_r = 60000 + expo(10000);
		ns br_s = 15000 + expo(3000), br_r = 15000 + expo(3000);
		if (load && uniform() < 0.1)
			kern_s += expo(5e6); /* the VM is not scheduled: heavy tail */
		if (load && uniform() < 0.1)
			kern_r += (ns)(uniform() * 10e6);
		if (load)
			user_r += expo(50000);
		ns wire = 100000 + expo(2000);
		q->t_user_tx = START + (ns)k * INTERVAL + expo(1000);
		q->t_kern_tx = q->t_user_tx + user_s;
		q->t_bridge_tx = q->t_kern_tx + kern_s;
		q->t_wire_tx = q->t_bridge_tx + br_s;
		q->t_wire_rx = q->t_wire_tx + wire;
		q->t_bridge_rx = q->t_wire_rx + br_r;
		q->t_kern_rx = q->t_bridge_rx + kern_r;
		q->t_user_rx = q->t_kern_rx + user_r;
		if (k == 50)
			continue;
		fprintf(truth, "%d,%s,%lld,%lld,%lld,%lld,%lld,%lld,%lld\n", k + 1,
			phases[q->phase], (long long)br_s, (long long)br_r, (long long)kern_s,
			(long long)kern_r, (long long)user_s, (long long)user_r, (long long)wire);
	}
	fclose(truth);

	FILE *csv = open_out(argv[1], "tping.csv");
	fprintf(csv, "seq,phase,status,user_tx_ns,sched_tx_ns,kernel_tx_ns,hw_tx_ns,kernel_rx_ns,"
		     "hw_rx_ns,user_rx_ns,user_rtt_ns,kernel_rtt_ns,hw_rtt_ns,size,ttl\n");
	for (int k = 0; k < n; k++) {
		struct probe *q = &p[k];
		ns utx = clk_vm(q->t_user_tx), ktx = clk_vm(q->t_kern_tx);
		if (k == 50) {
			fprintf(csv, "%d,%s,lost,%lld,,%lld,,,,,,,,-1,-1\n", k + 1,
				phases[q->phase], (long long)utx, (long long)ktx);
			continue;
		}
		ns krx = clk_vm(q->t_kern_rx), urx = clk_vm(q->t_user_rx);
		fprintf(csv, "%d,%s,ok,%lld,%lld,%lld,,%lld,,%lld,%lld,%lld,,64,64\n", k + 1,
			phases[q->phase], (long long)utx, (long long)ktx, (long long)ktx,
			(long long)krx, (long long)urx, (long long)(urx - utx),
			(long long)(krx - ktx));
	}
	fclose(csv);

	/* Packets are written in time order, as a capture would. */
	for (int which = 0; which < 2; which++) {
		FILE *f = open_out(argv[1], which ? "bridge.pcap" : "wire.pcap");
		pcap_header(f);
		struct ev {
			ns ts;
			int reply, k;
		} *ev = calloc((size_t)n * 3, sizeof(*ev));
		size_t ne = 0;
		for (int k = 0; k < n; k++) {
			struct probe *q = &p[k];
			if (k == 50 || (which && k == 120))
				continue;
			ns tq = which ? clk_host(q->t_bridge_tx) : q->t_wire_tx;
			ns tr = which ? clk_host(q->t_bridge_rx) : q->t_wire_rx;
			ev[ne++] = (struct ev){tq, 0, k};
			ev[ne++] = (struct ev){tr, 1, k};
			if (!which && k == 80)
				ev[ne++] = (struct ev){tr + 1500, 1, k};
		}
		/* insertion sort: nearly sorted already */
		for (size_t i = 1; i < ne; i++)
			for (size_t j = i; j > 0 && ev[j].ts < ev[j - 1].ts; j--) {
				struct ev t = ev[j];
				ev[j] = ev[j - 1];
				ev[j - 1] = t;
			}
		for (size_t i = 0; i < ne; i++)
			pcap_echo(f, ev[i].ts, ev[i].reply, 0x4242, (uint16_t)(ev[i].k + 1));
		free(ev);
		if (fclose(f) != 0)
			return 1;
	}
	free(p);
	return 0;
}
