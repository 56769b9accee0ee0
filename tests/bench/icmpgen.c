/* icmpgen.c — writes a synthetic ICMP echo capture for the matching benchmark
 * (tests/bench/match.sh) and the matching tests: classic pcap, Ethernet / IPv4 / ICMP, 42 bytes
 * kept of 98. usage: icmpgen PACKETS FLOWS ORDER [LAYER] > trace.pcap FLOWS hosts (10.H.H.1)
 * ping 10.200.0.2, each with its own seq counter; ICMP ids repeat every 16 hosts (several hosts use
 * the same id, as two Linux boxes' pings do). ORDER says which host sends the next request: rr
 * round robin over the hosts burst   each host sends 64 requests in a row, then the next host
 *   random  a host drawn at random (fixed seed: the same file every run)
 *   wrap    round robin, each host starting at its own seq near 65535 so every host wraps
 * Replies come 32 requests later (32 probes in flight), one request in 1000 is never answered.
 * Packets are 1 µs apart (nanosecond pcap). LAYER k (default 0) writes the same probes as seen
 * k vantage points further in, nearer the prober: requests k * 50 ns earlier, replies k * 50 ns
 * later, so that the captures of layers 0, 1, 2... nest as a wire's, a bridge's and a guest's
 * would (each layer adds 100 ns of RTT). GAP_NS (default 1000) sets the time between packets:
 * tests/bench/vantage.sh uses 100 µs, a realistic ping rate for 50 hosts (5000 probes/s).
 * OFFSET_NS and SKEW_PPB (default 0 0) write the times of another clock: t + OFFSET_NS +
 * SKEW_PPB * 1e-9 * (t - start), as a guest's capture reads them beside its host's.
 * JITTER_NS (default 0) adds to each layer's 50 ns a delay drawn per probe, per layer and per
 * direction in [0, JITTER_NS) (a hash of host, seq and layer: every layer's file agrees), so the
 * layers' one-way delays vary as queues make them; keep LAYER * JITTER_NS under GAP_NS / 2 so
 * the packets stay in time order. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAP 42
#define INFLIGHT 32

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

struct probe {
	uint32_t host;
	uint16_t seq;
	int lost;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t t_ns = 1700000000ULL * 1000000000;
static unsigned layer;
static uint64_t gap_ns = 1000;
static const uint64_t start_ns = 1700000000ULL * 1000000000;
static int64_t clock_off;
static double clock_skew;
static uint64_t jitter_ns;

/* The delay layer k adds to probe p's request (dir 0) or reply (dir 1). */
static uint64_t layer_delay(const struct probe *p, unsigned k, int dir)
{
	if (!jitter_ns)
		return 50;
	uint64_t h = ((uint64_t)p->host << 32 | (uint64_t)p->seq << 8 | k << 1 | (unsigned)dir) *
		     0x9e3779b97f4a7c15ull;
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return 50 + h % jitter_ns;
}

static void emit(const struct probe *p, int reply)
{
	uint8_t f[SNAP] = {0};
	memset(f, 0x02, 12);
	f[5] = reply ? 2 : 1;
	f[11] = reply ? 1 : 2;
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	put16(ip + 2, 84);
	ip[8] = 64;
	ip[9] = 1;
	uint8_t host[4] = {10, (uint8_t)(p->host >> 8), (uint8_t)p->host, 1};
	uint8_t peer[4] = {10, 200, 0, 2};
	memcpy(ip + 12, reply ? peer : host, 4);
	memcpy(ip + 16, reply ? host : peer, 4);
	uint8_t *icmp = ip + 20;
	icmp[0] = reply ? 0 : 8;
	put16(icmp + 4, 0x4000 + p->host % 16);
	put16(icmp + 6, p->seq);
	uint64_t d = 0;
	for (unsigned k = 1; k <= layer; k++)
		d += layer_delay(p, k, reply);
	uint64_t t = reply ? t_ns + d : t_ns - d;
	double drift = clock_skew * (double)(int64_t)(t - start_ns);
	t += (uint64_t)(clock_off + (int64_t)(drift + (drift < 0 ? -0.5 : 0.5))); /* rounded */
	uint32_t rh[4] = {(uint32_t)(t / 1000000000), (uint32_t)(t % 1000000000), SNAP, 98};
	t_ns += gap_ns;
	fwrite(rh, 4, 4, stdout);
	fwrite(f, 1, SNAP, stdout);
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 9)
		return fprintf(stderr,
			       "usage: icmpgen PACKETS FLOWS rr|burst|random|wrap [LAYER [GAP_NS "
			       "[OFFSET_NS SKEW_PPB [JITTER_NS]]]]\n"),
		       2;
	layer = argc >= 5 ? (unsigned)strtoul(argv[4], NULL, 10) : 0;
	gap_ns = argc >= 6 ? strtoull(argv[5], NULL, 10) : 1000;
	clock_off = argc >= 7 ? strtoll(argv[6], NULL, 10) : 0;
	clock_skew = argc >= 8 ? strtod(argv[7], NULL) * 1e-9 : 0;
	jitter_ns = argc == 9 ? strtoull(argv[8], NULL, 10) : 0;
	unsigned long long n = strtoull(argv[1], NULL, 10);
	unsigned long nflows = strtoul(argv[2], NULL, 10);
	const char *order = argv[3];
	int rr = !strcmp(order, "rr"), burst = !strcmp(order, "burst"),
	    rnd = !strcmp(order, "random"), wrap = !strcmp(order, "wrap");
	if (!n || !nflows || nflows > 65535 || !(rr || burst || rnd || wrap) || layer > 100 ||
	    !gap_ns || gap_ns > 1000000000 || clock_off < -3600000000000LL ||
	    clock_off > 3600000000000LL || clock_skew < -1e-3 || clock_skew > 1e-3 ||
	    jitter_ns > 1000000)
		return fprintf(stderr, "icmpgen: bad arguments\n"), 2;
	uint16_t *seq = calloc(nflows, sizeof(*seq));
	if (!seq)
		return 1;
	if (wrap)
		for (unsigned long h = 0; h < nflows; h++)
			seq[h] = (uint16_t)(65535 - next_rand() % 1024);
	static uint8_t buf[1 << 16];
	setvbuf(stdout, (char *)buf, _IOFBF, sizeof(buf));
	uint8_t gh[24] = {0};
	uint32_t magic = 0xa1b23c4d, snap = SNAP, link = 1; /* nanosecond pcap */
	uint16_t vmaj = 2, vmin = 4;
	memcpy(gh, &magic, 4); /* native byte order, as libpcap writes */
	memcpy(gh + 4, &vmaj, 2);
	memcpy(gh + 6, &vmin, 2);
	memcpy(gh + 16, &snap, 4);
	memcpy(gh + 20, &link, 4);
	fwrite(gh, 1, 24, stdout);
	struct probe ring[INFLIGHT];
	unsigned long long written = 0, k = 0;
	while (written < n) {
		unsigned long host = rnd     ? next_rand() % nflows
				     : burst ? (k / 64) % nflows
					     : k % nflows;
		struct probe *slot = &ring[k % INFLIGHT];
		if (k >= INFLIGHT && !slot->lost) { /* the reply of the request INFLIGHT ago */
			emit(slot, 1);
			if (++written == n)
				break;
		}
		*slot = (struct probe){
		    .host = (uint32_t)host, .seq = seq[host]++, .lost = k % 1000 == 999};
		emit(slot, 0);
		written++;
		k++;
	}
	free(seq);
	return fflush(stdout) ? 1 : 0;
}
