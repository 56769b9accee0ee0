/* bpf_pin.h — a started bpf backend lives in bpffs: `tcpmon --backend bpf start` pins its maps
 * and links under TCPMON_PIN_DIR and exits, `record` opens the maps there, `stop` removes the
 * directory (the kernel frees each object once nothing holds it). bpffs is mounted on
 * /sys/fs/bpf first when it is not there. */
#ifndef TCPMON_BPF_PIN_H
#define TCPMON_BPF_PIN_H

#include <stddef.h>

#include "bpf_maps.h"
#include "vmdelay/core/err.h"

#define TCPMON_PIN_DIR "/sys/fs/bpf/vmdelay/tcpmon"

/* 1 when a started backend is pinned. */
int tcpmon_pin_exists(void);
/* Pins the maps and the links (which hold the programs): all of them or none (-1 and why). */
int tcpmon_pin_save(const int map_fd[TCPMON_NMAPS], const int *link_fd, size_t nlinks,
		    struct vd_err *err);
/* Opens the pinned maps (in bpf_maps.h's order). 0, or -1 and why (nothing left open). */
int tcpmon_pin_open(int map_fd[TCPMON_NMAPS], struct vd_err *err);
/* Removes the pins. 0, or -1 and why. */
int tcpmon_pin_remove(struct vd_err *err);

#endif
