/* cmds.h — tcpmon's subcommands; each returns an exit code (0, 1 runtime, 2 usage). */
#ifndef TCPMON_CMDS_H
#define TCPMON_CMDS_H

#include <stdint.h>

#include "vmdelay/out/output.h"
#include "vmdelay/core/vdtime.h"

int tcpmon_cmd_start(int argc, char *const *argv);
int tcpmon_cmd_filter(int argc, char *const *argv);
int tcpmon_cmd_stop(void);
int tcpmon_cmd_stats(enum vd_out_mode mode, int cost);
/* count 0: no limit; duration VD_NS_NONE: no limit. */
int tcpmon_cmd_record(const char *path, uint64_t count, vd_ns duration);
int tcpmon_cmd_dump(const char *path, enum vd_out_mode mode, int header);
int tcpmon_cmd_selftest_netlink(void);

#endif
