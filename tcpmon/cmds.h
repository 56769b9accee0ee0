/* cmds.h — tcpmon's subcommands, their command line already checked; each returns an exit
 * code (0, 1 runtime). */
#ifndef TCPMON_CMDS_H
#define TCPMON_CMDS_H

#include <stdint.h>

#include "vmdelay/core/vdtime.h"
#include "vmdelay/input/tcmnl.h"
#include "vmdelay/input/tcmrec.h"
#include "vmdelay/out/output.h"

/* The filter words are parsed by main (vd_tcmnl_filter_parse). */
int tcpmon_cmd_start(const struct vd_tcmnl_filter *filter);
int tcpmon_cmd_filter(const struct vd_tcmnl_filter *filter);
int tcpmon_cmd_stop(void);
int tcpmon_cmd_stats(enum vd_out_mode mode, int cost);
/* count 0: no limit; duration VD_NS_NONE: no limit. */
int tcpmon_cmd_record(const char *path, uint64_t count, vd_ns duration);
enum tcpmon_dump_what { TCPMON_DUMP_RECORDS, TCPMON_DUMP_HEADER, TCPMON_DUMP_LOSS };
int tcpmon_cmd_dump(const char *path, enum vd_out_mode mode, enum tcpmon_dump_what what);
int tcpmon_cmd_selftest_netlink(void);

/* Shared by both backends' recorders: SIGINT/SIGTERM end a recording; the host's part of a
 * record file header (start time, realtime offset, kernel, hostname, clocksource). */
void tcpmon_catch_signals(void);
int tcpmon_stop_requested(void);
void tcpmon_host_info(struct vd_tcmrec_info *info);

#endif
