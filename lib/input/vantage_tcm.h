/* vantage_tcm.h — ICMP echo events from a tcpmon record file, one vantage point per stack
 * level (lib/input/vantage_tcm.c). Internal to the library: vd_echo_read dispatches here. */
#ifndef VMDELAY_VANTAGE_TCM_H
#define VMDELAY_VANTAGE_TCM_H

#include "vmdelay/input/echo.h"
#include "vmdelay/input/source.h"
#include "vmdelay/input/tcmrec.h"

/* The format name a tcpmon record file's vantage points carry. */
#define VD_VANTAGE_TCM_FORMAT "tcpmon"

/* Reads the records of src (the tcpmon record file spec->path) and opens one point per selected
 * stack level on sink, outermost (device) first. Errors name the file (and the byte offset when
 * damaged). */
int vd_echo_read_tcm(const struct vd_vantage_spec *spec, struct vd_source *src,
		     const struct vd_echo_sink *sink, struct vd_err *err);

/* ---- shared with the pull reader (tcm_pull.c) ---- */
#define VD_TCM_LEVELS 6
struct vd_tcm_loss;
/* The levels spec's selector asks for: want[l]; *all for '*' or none (every level that has
 * records). -1 with a usage error naming the bad selector. */
int vd_tcm_select(const struct vd_vantage_spec *spec, int want[VD_TCM_LEVELS], int *all,
		  struct vd_err *err);
const char *vd_tcm_level_name(size_t l); /* "dev", ... "sock-copy", outermost first */
/* Whether a record at layer is an event of level l, and one that makes the level (not only
 * the transmit layer it shares with the transport level). */
int vd_tcm_level_has(size_t l, unsigned layer);
int vd_tcm_level_own(size_t l, unsigned layer);
unsigned vd_tcm_level_tx(size_t l); /* level l's two layers (enum tcpmon_layer) */
unsigned vd_tcm_level_rx(size_t l);
/* An ICMP/ICMPv6 echo record as an event at time ts, index its 1-based record number: 1, or 0
 * when r is not an echo. */
int vd_tcm_echo(const struct tcpmon_record *r, vd_ns ts, uint64_t index, struct vd_echo *e);
/* The vantage's notes: why times are not all TSC-based, and the records tcpmon lost. */
void vd_tcm_clock_notes(const struct tcmrec *rd, int use_tsc, uint64_t fallbacks,
			const struct vd_tcm_loss *loss, size_t in_loss, size_t unanswered,
			char *buf, size_t len);

#endif
