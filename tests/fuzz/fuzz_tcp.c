/* fuzz_tcp.c — libFuzzer harness for the TCP analysis (lib/tcp/tcpan.c, ackhist.c, ackcomp.c,
 * tput.c, tcpflow.c, pktmatch.c). An input that is a capture (the seeds are) is read with the
 * trace readers, decoded, and every TCP packet fed to both vantage points (the second shifted in
 * time); any other input is a list of 16-byte synthetic segments (vantage, time step, flags,
 * seq, ack, length, ports) so sequence wrap, ack jumps and clock steps are reached. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "vmdelay/input/decode.h"
#include "vmdelay/match/pktmatch.h"
#include "vmdelay/tcp/tcpan.h"
#include "vmdelay/input/trace.h"

struct ctx {
	struct vd_tcpan *an;
	uint64_t sink;
};

static void on_series(void *c, const struct vd_tcpan_flow *f, int which, vd_ns start, vd_ns len,
		      uint64_t bytes, int partial)
{
	((struct ctx *)c)->sink += bytes + (uint64_t)len;
}

static void on_match(void *c, uint32_t first, vd_ns t_first, uint32_t second, vd_ns t_second,
		     const struct vd_decoded *d)
{
	struct ctx *x = c;
	int dir;
	struct vd_tcpan_flow *f = vd_tcpan_lookup(x->an, second, d, &dir);
	if (f && vd_tcp_is_pure_ack(d))
		vd_tcpan_ackcomp_add(x->an, f, dir, first, t_first, t_second);
}

static void feed(struct ctx *x, struct vd_pktmatch *m, uint32_t v, vd_ns ts,
		 const struct vd_decoded *d)
{
	vd_tcpan_add(x->an, v, ts, d);
	vd_pktmatch_add(m, v, ts, d);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx x = {0};
	struct vd_tcpan_opts o = {.bin_ns = 1000,
				  .max_bins = 4096,
				  .ref_ns = 120000,
				  .min_run = 2,
				  .xc_factor = 2,
				  .interval = 1000000,
				  .max_flows = 64,
				  .series = on_series,
				  .ctx = &x};
	x.an = vd_tcpan_create(&o);
	struct vd_pktmatch *m = vd_pktmatch_create(256, 1000000, on_match, &x);
	if (!x.an || !m)
		goto out;
	FILE *f = fmemopen((void *)data, size, "rb");
	struct vd_trace *tr = NULL;
	struct vd_err err;
	if (f && vd_trace_open_file(f, "fuzz", NULL, &tr, &err) == 0) {
		struct vd_pkt pkt;
		while (vd_trace_next(tr, &pkt, &err) == 1) {
			struct vd_decoded d;
			if (vd_decode(&pkt, &d, &err) || d.l4 != VD_L4_TCP)
				continue;
			feed(&x, m, 0, pkt.ts, &d);
			feed(&x, m, 1, pkt.ts + 1000, &d);
		}
		vd_trace_close(tr);
	} else {
		vd_ns t = 0;
		for (size_t i = 0; i + 16 <= size; i += 16) {
			const uint8_t *p = data + i;
			struct vd_decoded d;
			memset(&d, 0, sizeof(d));
			d.l4 = VD_L4_TCP;
			d.src.family = d.dst.family = AF_INET;
			d.src.bytes[3] = 1;
			d.dst.bytes[3] = 2;
			int rev = p[0] & 1;
			d.sport = rev ? 80 : (uint16_t)(1000 + (p[15] & 3));
			d.dport = rev ? (uint16_t)(1000 + (p[15] & 3)) : 80;
			if (rev) {
				struct vd_addr a = d.src;
				d.src = d.dst;
				d.dst = a;
			}
			t += (vd_ns)(int8_t)p[1] * 997; /* steps back sometimes */
			d.tcp_flags = p[2];
			d.tcp_seq = rd32(p + 3);
			d.tcp_ack = rd32(p + 7);
			d.tcp_payload_len = (uint32_t)p[11] << 4;
			d.tcp_win = (uint16_t)(p[12] << 8 | p[13]);
			feed(&x, m, (p[0] >> 1) & 1, t, &d);
		}
	}
	vd_tcpan_finish(x.an);
	for (size_t i = 0; i < vd_tcpan_flow_count(x.an); i++) {
		struct vd_tcpan_flow *fl = vd_tcpan_flow(x.an, i);
		int dd = vd_tcpan_data_dir(fl);
		struct vd_ackhist_stats st;
		vd_tcpan_ackgaps(x.an, &fl->d[!dd], &st);
		const struct vd_linhist *h = st.h;
		x.sink += fl->d[!dd].acked_bytes + (uint64_t)vd_linhist_quantile(h, 0.5);
		size_t modes[3];
		x.sink += vd_linhist_modes(h, 0.01, modes, 3);
	}
out:
	vd_pktmatch_destroy(m);
	vd_tcpan_destroy(x.an);
	return 0;
}
