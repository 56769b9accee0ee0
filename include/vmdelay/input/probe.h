/* probe.h — one active probe (a tping echo request and its reply) with every timestamp taken
 * on its way: user space, kernel (SO_TIMESTAMPING) and hardware. All CLOCK_REALTIME ns. */
#ifndef VMDELAY_PROBE_H
#define VMDELAY_PROBE_H

#include <stdint.h>

#include "vmdelay/core/vdtime.h"

/* Whiteaker et al.: probes at rest before and after the load calibrate the clocks. */
enum vd_phase { VD_PHASE_REST_PRE, VD_PHASE_LOAD, VD_PHASE_REST_POST, VD_PHASE__COUNT };

enum vd_probe_status {
	VD_PROBE_OK,
	VD_PROBE_LOST,	     /* no reply within the timeout */
	VD_PROBE_DUPLICATE,  /* a second reply to a probe already answered */
	VD_PROBE_LATE,	     /* a reply after the timeout had declared the probe lost */
	VD_PROBE_ICMP_ERROR, /* an ICMP error (type/code recorded) instead of a reply */
	VD_PROBE_STATUS__COUNT
};

struct vd_probe {
	uint32_t seq;
	enum vd_phase phase;
	enum vd_probe_status status;
	vd_ns user_tx;	     /* before sendmsg() */
	vd_ns sched_tx;	     /* SCHED: first device's qdisc entry */
	vd_ns sched_tx_last; /* SCHED of the last stacked device (bridge over veth, tap) */
	vd_ns kernel_tx;     /* SND: handed to the driver */
	vd_ns hw_tx;
	vd_ns kernel_rx;
	vd_ns hw_rx;
	vd_ns user_rx;	   /* after recvmsg() returned */
	int32_t size;	   /* reply bytes (ICMP header + payload), -1 if none */
	int32_t ttl;	   /* reply TTL / hop limit, -1 if unknown */
	int32_t icmp_type; /* for VD_PROBE_ICMP_ERROR, else -1 */
	int32_t icmp_code;
	int32_t cpu;	  /* CPU the probe was sent from, -1 if unknown */
	vd_ns timer_late; /* how late the send was against its absolute deadline */
};

/* Sets every time to VD_NS_NONE and every int to -1, status OK, phase LOAD. */
void vd_probe_init(struct vd_probe *p, uint32_t seq);

vd_ns vd_probe_user_rtt(const struct vd_probe *p);   /* user_rx - user_tx */
vd_ns vd_probe_kernel_rtt(const struct vd_probe *p); /* kernel_rx - kernel_tx (SND) */
vd_ns vd_probe_hw_rtt(const struct vd_probe *p);     /* hw_rx - hw_tx */

const char *vd_phase_name(enum vd_phase ph);		   /* "rest-pre", "load", "rest-post" */
int vd_phase_parse(const char *name, enum vd_phase *ph);   /* 0 or -1 */
const char *vd_probe_status_name(enum vd_probe_status st); /* "ok", "lost", ... "icmp-error" */
int vd_probe_status_parse(const char *name, enum vd_probe_status *st);

#endif
