/* vxlanwrap.c — rewrites a classic pcap of Ethernet frames with every frame inside VXLAN (outer
 * Ethernet, IPv4, UDP to 4789, VNI 42), as a virtualized host's uplink sees its guests' packets:
 * the all-VXLAN shape of tests/bench/decap.sh.   vxlanwrap IN.pcap OUT.pcap */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: vxlanwrap IN.pcap OUT.pcap\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
	uint8_t gh[24], rh[16], frame[65536], hdr[50];
	if (!in || !out || fread(gh, 1, 24, in) != 24) {
		fprintf(stderr, "vxlanwrap: cannot read %s or write %s\n", argv[1], argv[2]);
		return 1;
	}
	uint32_t snap = 262144;
	memcpy(gh + 16, &snap, 4); /* room for the 50 more bytes */
	fwrite(gh, 1, 24, out);
	static const uint8_t eth[14] = {2, 0, 0, 0, 0, 0xb, 2, 0, 0, 0, 0, 0xa, 8, 0};
	uint64_t n = 0;
	while (fread(rh, 1, 16, in) == 16) {
		uint32_t cl, wl;
		memcpy(&cl, rh + 8, 4);
		memcpy(&wl, rh + 12, 4);
		if (cl > sizeof(frame) || fread(frame, 1, cl, in) != cl)
			break;
		uint32_t ulen = 8 + 8 + wl, tl = 20 + ulen;
		memcpy(hdr, eth, 14);
		uint8_t *ip = hdr + 14, *udp = ip + 20, *vx = udp + 8;
		memset(ip, 0, 36);
		ip[0] = 0x45;
		ip[2] = (uint8_t)(tl >> 8);
		ip[3] = (uint8_t)tl;
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, (uint8_t[]){192, 0, 2, 1, 192, 0, 2, 2}, 8);
		udp[0] = 0xc0;
		udp[1] = (uint8_t)(n & 0xff);
		udp[2] = 0x12;
		udp[3] = 0xb5; /* 4789 */
		udp[4] = (uint8_t)(ulen >> 8);
		udp[5] = (uint8_t)ulen;
		vx[0] = 0x08;
		vx[6] = 42;
		cl += 50;
		wl += 50;
		memcpy(rh + 8, &cl, 4);
		memcpy(rh + 12, &wl, 4);
		fwrite(rh, 1, 16, out);
		fwrite(hdr, 1, 50, out);
		fwrite(frame, 1, cl - 50, out);
		n++;
	}
	if (fclose(out) != 0) {
		perror(argv[2]);
		return 1;
	}
	fclose(in);
	fprintf(stderr, "vxlanwrap: %llu frames\n", (unsigned long long)n);
	return 0;
}
