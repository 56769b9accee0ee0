/* cmds.h — tcpmon's subcommands, their command line already checked; each returns an exit
 * code (0, 1 runtime). */
#ifndef TCPMON_CMDS_H
#define TCPMON_CMDS_H

#include <stdint.h>

#include "vmdelay/input/tcmnl.h"
#include "vmdelay/out/output.h"
#include "vmdelay/core/vdtime.h"

/* The filter words are parsed by main (vd_tcmnl_filter_parse). */
int tcpmon_cmd_start(const struct vd_tcmnl_filter *filter);
int tcpmon_cmd_filter(const struct vd_tcmnl_filter *filter);
int tcpmon_cmd_stop(void);
int tcpmon_cmd_stats(enum vd_out_mode mode, int cost);
/* count 0: no limit; duration VD_NS_NONE: no limit. */
int tcpmon_cmd_record(const char *path, uint64_t count, vd_ns duration);
int tcpmon_cmd_dump(const char *path, enum vd_out_mode mode, int header);
int tcpmon_cmd_selftest_netlink(void);

#endif
