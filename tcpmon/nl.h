/* nl.h — tcpmon's generic netlink session: socket and family resolution through libnl-3, the
 * messages themselves built and parsed by lib/input/tcmnl.c. */
#ifndef TCPMON_NL_H
#define TCPMON_NL_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/input/tcmnl.h"

struct tcpmon_nl;

/* Connects and resolves the family. Errors say plainly that the module is not loaded. */
int tcpmon_nl_open(struct tcpmon_nl **out, struct vd_err *err);
void tcpmon_nl_close(struct tcpmon_nl *nl);

/* Called for every data message of a reply; returning -1 stops with that error. */
typedef int (*tcpmon_nl_cb)(const struct vd_tcmnl_msg *m, void *ctx, struct vd_err *err);

/* Sends cmd (a dump when dump is set) and reads the reply to its end (ACK, DONE or error).
 * A kernel error becomes -1 with its errno (*kerr, may be NULL) and explanation in err. */
int tcpmon_nl_call(struct tcpmon_nl *nl, uint8_t cmd, int dump, const struct vd_tcmnl_filter *f,
		   tcpmon_nl_cb cb, void *ctx, int *kerr, struct vd_err *err);

/* Sends raw request bytes (family id and sequence filled in) and reads to the end of the reply. */
int tcpmon_nl_call_raw(struct tcpmon_nl *nl, uint8_t *req, size_t len, tcpmon_nl_cb cb, void *ctx,
		       int *kerr, struct vd_err *err);

uint16_t tcpmon_nl_family(const struct tcpmon_nl *nl);

#endif
