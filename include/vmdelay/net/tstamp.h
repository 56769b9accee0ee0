/* tstamp.h — SO_TIMESTAMPING (Documentation/networking/timestamping.rst): enabling it on a
 * socket and parsing what comes back, the control messages of a received packet and the TX
 * timestamp records of the error queue (sock_extended_err, origin SO_EE_ORIGIN_TIMESTAMPING,
 * ee_info = SCM_TSTAMP_SCHED / SND / ACK, ee_data = the SOF_TIMESTAMPING_OPT_ID key). */
#ifndef VMDELAY_TSTAMP_H
#define VMDELAY_TSTAMP_H

#include <stdint.h>
#include <sys/socket.h>

#include "vmdelay/core/err.h"
#include "vmdelay/core/vdtime.h"

/* What tping asks for by default: software TX at the qdisc (SCHED) and at the driver (SND), RX
 * in software, OPT_ID keys to match TX records to sends, and records without the packet. */
unsigned vd_tstamp_sw_flags(void);
/* Added when the interface can stamp in hardware (TX, RX, raw PHC time). */
unsigned vd_tstamp_hw_flags(void);

/* Sets SO_TIMESTAMPING to asked and reads back what the socket holds into *granted. */
int vd_tstamp_enable(int fd, unsigned asked, unsigned *granted, struct vd_err *err);

/* Writes "tx_sched|tx_software|..." (or "none") into buf. */
const char *vd_tstamp_flags_str(unsigned flags, char *buf, size_t n);

/* The SO_TIMESTAMPING capabilities ethtool reports for ifname (ETHTOOL_GET_TS_INFO) and its PHC
 * index (-1 if none). */
int vd_tstamp_if_caps(const char *ifname, unsigned *caps, int *phc_index, struct vd_err *err);
/* Turns hardware stamping on for ifname (SIOCSHWTSTAMP: TX on, RX all); needs CAP_NET_ADMIN. */
int vd_tstamp_if_hw_enable(const char *ifname, struct vd_err *err);

/* The kernel turns software RX stamping on for the whole system lazily (a deferred static key
 * when the first socket asks), so the first packets after enabling may come unstamped. This
 * loops a UDP datagram over loopback until it arrives stamped, for at most max_wait.
 * 1: stamping is on; 0: not seen in time (or loopback unusable). */
int vd_tstamp_wait_rx_ready(vd_ns max_wait);

enum vd_tstamp_kind {
	VD_TSTAMP_NONE = -1,
	VD_TSTAMP_SND = 0,
	VD_TSTAMP_SCHED = 1,
	VD_TSTAMP_ACK = 2
};

/* Everything tping reads from a message's control data. */
struct vd_tstamp_cmsgs {
	int have_ts; /* an SCM_TIMESTAMPING message was present */
	vd_ns sw;    /* its ts[0] (software), VD_NS_NONE when zero */
	vd_ns hw;    /* its ts[2] (raw hardware), VD_NS_NONE when zero */
	int have_ee; /* an IP_RECVERR / IPV6_RECVERR extended error was present */
	uint32_t ee_errno;
	uint8_t ee_origin; /* SO_EE_ORIGIN_* */
	uint8_t ee_type, ee_code;
	uint32_t ee_info;		  /* timestamps: SCM_TSTAMP_* */
	uint32_t ee_data;		  /* timestamps: the OPT_ID key */
	struct sockaddr_storage offender; /* ICMP errors: who sent it (ss_family 0 if none) */
	int ttl;			  /* IP_TTL / IPV6_HOPLIMIT, -1 if absent */
};

/* Parses msg's control data. A truncated control buffer (MSG_CTRUNC) or a malformed
 * message is an error: timestamps would be lost silently otherwise. Unknown messages
 * (SCM_TIMESTAMPING_OPT_STATS, PKTINFO, ...) are skipped. */
int vd_tstamp_parse(const struct msghdr *msg, struct vd_tstamp_cmsgs *out, struct vd_err *err);

/* If c holds a TX timestamp record (origin TIMESTAMPING, errno ENOMSG), sets its kind and key
 * and returns 1; otherwise 0. */
int vd_tstamp_tx_record(const struct vd_tstamp_cmsgs *c, enum vd_tstamp_kind *kind, uint32_t *key);

#endif
