/* tcpgen.c — writes a synthetic TCP trace for the benchmark (tests/bench/tcp.sh): classic pcap,
 * Ethernet / IPv4 / TCP headers (snap length 54, the IP length says 1448 bytes of payload),
 * FLOWS bulk transfers interleaved, each: handshake, then two data segments and one pure ACK,
 * repeated; packets 10 µs apart. SHIFT_US (default 0) delays every timestamp: the same packets
 * seen at a second vantage point further along the path, to analyse the two together.
 *   usage: tcpgen PACKETS FLOWS [SHIFT_US] > trace.pcap */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

struct flow {
	uint32_t cseq, sseq;
	unsigned step;
};

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4)
		return fprintf(stderr, "usage: tcpgen PACKETS FLOWS [SHIFT_US]\n"), 2;
	unsigned long long n = strtoull(argv[1], NULL, 10);
	unsigned nflows = (unsigned)strtoul(argv[2], NULL, 10);
	unsigned long long shift_us = argc == 4 ? strtoull(argv[3], NULL, 10) : 0;
	if (!n || !nflows || nflows > 65535)
		return fprintf(stderr, "tcpgen: bad arguments\n"), 2;
	struct flow *fl = calloc(nflows, sizeof(*fl));
	if (!fl)
		return 1;
	static uint8_t buf[1 << 16];
	setvbuf(stdout, (char *)buf, _IOFBF, sizeof(buf));
	uint8_t gh[24] = {0};
	uint32_t magic = 0xa1b2c3d4;
	memcpy(gh, &magic, 4); /* native byte order, as libpcap writes */
	uint16_t vmaj = 2, vmin = 4;
	uint32_t snap = 54, link = 1;
	memcpy(gh + 4, &vmaj, 2);
	memcpy(gh + 6, &vmin, 2);
	memcpy(gh + 16, &snap, 4);
	memcpy(gh + 20, &link, 4);
	fwrite(gh, 1, 24, stdout);
	uint64_t t_us = 1700000000ULL * 1000000 + shift_us;
	for (unsigned long long i = 0; i < n; i++, t_us += 10) {
		unsigned f = (unsigned)(i % nflows);
		struct flow *s = &fl[f];
		uint8_t p[54] = {0};
		int from_client;
		uint8_t flags;
		uint32_t seq, ack, len = 0;
		switch (s->step < 3 ? s->step : 3 + (s->step - 3) % 3) {
		case 0:
			from_client = 1;
			flags = 0x02;
			seq = s->cseq = 1000;
			ack = 0;
			break;
		case 1:
			from_client = 0;
			flags = 0x12;
			seq = s->sseq = 5000;
			ack = 1001;
			break;
		case 2:
			from_client = 1;
			flags = 0x10;
			seq = ++s->cseq;
			ack = ++s->sseq;
			break;
		case 3:
		case 4:
			from_client = 1;
			flags = 0x10;
			seq = s->cseq;
			ack = s->sseq;
			len = 1448;
			s->cseq += len;
			break;
		default:
			from_client = 0;
			flags = 0x10;
			seq = s->sseq;
			ack = s->cseq;
			break;
		}
		s->step++;
		memset(p, 0x02, 12);
		p[5] = from_client ? 1 : 2;
		p[11] = from_client ? 2 : 1;
		put16(p + 12, 0x0800);
		uint8_t *ip = p + 14;
		ip[0] = 0x45;
		put16(ip + 2, 40 + len);
		ip[8] = 64;
		ip[9] = 6;
		uint8_t a[4] = {10, (uint8_t)(f >> 8), (uint8_t)f, 1}, b[4] = {10, 200, 0, 2};
		memcpy(ip + 12, from_client ? a : b, 4);
		memcpy(ip + 16, from_client ? b : a, 4);
		uint8_t *tcp = ip + 20;
		put16(tcp, from_client ? 40000 : 5001);
		put16(tcp + 2, from_client ? 5001 : 40000);
		put32(tcp + 4, seq);
		put32(tcp + 8, ack);
		tcp[12] = 0x50;
		tcp[13] = flags;
		put16(tcp + 14, 512);
		uint32_t rh[4] = {(uint32_t)(t_us / 1000000), (uint32_t)(t_us % 1000000), 54,
				  14 + 40 + len};
		fwrite(rh, 4, 4, stdout);
		fwrite(p, 1, 54, stdout);
	}
	free(fl);
	return fflush(stdout) ? 1 : 0;
}
