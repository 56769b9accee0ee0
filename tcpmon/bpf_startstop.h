/* bpf_startstop.h — `tcpmon --backend bpf start` and `stop`: the programs left running without
 * a reader, pinned in bpffs (bpf_pin.h) until `stop` removes them; `record` reads them
 * meanwhile (bpf_record.h). */
#ifndef TCPMON_BPF_STARTSTOP_H
#define TCPMON_BPF_STARTSTOP_H

#include <stdint.h>

#include "vmdelay/input/tcmnl.h"

/* Loads and attaches the programs, pins them and their maps in bpffs and returns; an earlier
 * start's are removed first. Returns an exit code. */
int tcpmon_bpf_start(const struct vd_tcmnl_filter *filter, uint32_t ring_bytes);
/* 1 when a start's programs are pinned. */
int tcpmon_bpf_started(void);
/* Stops the pinned programs, says what they recorded and lost, removes the pins (the kernel
 * frees everything once no reader holds it). Returns an exit code. */
int tcpmon_bpf_stop(void);

#endif
