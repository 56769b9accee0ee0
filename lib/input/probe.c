/* probe.c — probe record helpers and the names used in CSV, JSON and SQLite. */
#include "vmdelay/input/probe.h"

#include <string.h>

static const char *const phase_names[VD_PHASE__COUNT] = {"rest-pre", "load", "rest-post"};
static const char *const status_names[VD_PROBE_STATUS__COUNT] = {"ok", "lost", "duplicate", "late",
								 "icmp-error"};

void vd_probe_init(struct vd_probe *p, uint32_t seq)
{
	*p = (struct vd_probe){
	    .seq = seq,
	    .phase = VD_PHASE_LOAD,
	    .status = VD_PROBE_OK,
	    .user_tx = VD_NS_NONE,
	    .sched_tx = VD_NS_NONE,
	    .sched_tx_last = VD_NS_NONE,
	    .kernel_tx = VD_NS_NONE,
	    .hw_tx = VD_NS_NONE,
	    .kernel_rx = VD_NS_NONE,
	    .hw_rx = VD_NS_NONE,
	    .user_rx = VD_NS_NONE,
	    .size = -1,
	    .ttl = -1,
	    .icmp_type = -1,
	    .icmp_code = -1,
	    .cpu = -1,
	    .timer_late = VD_NS_NONE,
	};
}

vd_ns vd_probe_user_rtt(const struct vd_probe *p)
{
	return vd_ns_diff(p->user_rx, p->user_tx);
}

vd_ns vd_probe_kernel_rtt(const struct vd_probe *p)
{
	return vd_ns_diff(p->kernel_rx, p->kernel_tx);
}

vd_ns vd_probe_hw_rtt(const struct vd_probe *p)
{
	return vd_ns_diff(p->hw_rx, p->hw_tx);
}

static int parse_name(const char *const *names, int count, const char *name)
{
	for (int i = 0; i < count; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *vd_phase_name(enum vd_phase ph)
{
	return (unsigned)ph < VD_PHASE__COUNT ? phase_names[ph] : "?";
}

int vd_phase_parse(const char *name, enum vd_phase *ph)
{
	int i = parse_name(phase_names, VD_PHASE__COUNT, name);
	if (i < 0)
		return -1;
	*ph = (enum vd_phase)i;
	return 0;
}

const char *vd_probe_status_name(enum vd_probe_status st)
{
	return (unsigned)st < VD_PROBE_STATUS__COUNT ? status_names[st] : "?";
}

int vd_probe_status_parse(const char *name, enum vd_probe_status *st)
{
	int i = parse_name(status_names, VD_PROBE_STATUS__COUNT, name);
	if (i < 0)
		return -1;
	*st = (enum vd_probe_status)i;
	return 0;
}
