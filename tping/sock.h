/* sock.h — tping's ICMP socket: resolution, datagram or raw socket, SO_TIMESTAMPING (software,
 * plus hardware where the interface stamps), and the privilege drop once it is open. */
#ifndef TPING_SOCK_H
#define TPING_SOCK_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "options.h"
#include "vmdelay/core/err.h"

struct tping_sock {
	int fd;
	int family;
	int raw;	 /* 1: raw socket (CAP_NET_RAW), 0: ICMP datagram socket */
	uint16_t id;	 /* echo identifier (a datagram socket's is the kernel's) */
	uint64_t cookie; /* first payload bytes, to recognise our replies */
	struct sockaddr_storage dst;
	socklen_t dst_len;
	char dst_str[INET6_ADDRSTRLEN];
	int tstamp; /* SO_TIMESTAMPING in use */
	unsigned ts_asked, ts_granted;
	int hw;			  /* hardware TX/RX stamps expected */
	int rx_ready;		  /* software RX stamping seen working before the first probe */
	char ifname[IF_NAMESIZE]; /* interface toward the target ("" if unknown) */
	unsigned if_caps;	  /* its ETHTOOL_GET_TS_INFO so_timestamping */
	int phc_index;
	char hw_note[160]; /* why hardware stamping is or is not used */
};

/* Resolves o->target with getaddrinfo (honouring -4/-6) and opens the socket. Errors name the
 * host or the option at fault. */
int tping_sock_open(const struct tping_opts *o, struct tping_sock *s, struct vd_err *err);
void tping_sock_close(struct tping_sock *s);

/* Gives up what the socket needed: real, effective and saved uid and gid all back to the real
 * ones (setuid / setgid installs; supplementary groups cleared when it was setuid root), and
 * no capabilities left (root, file capabilities). Checked afterwards: -1 if any remains. */
int tping_drop_privileges(struct vd_err *err);

/* Whether this process runs from a setuid / setgid install: its effective or saved uid or gid
 * differs from the real one (privileges that are not the user's own). */
int tping_setid_install(void);

#endif
