/* live.h — per-layer delays while tcpmon records (record --stats-every, --prometheus): each
 * record is matched with the same packet's previous record (any layer, within a second), and the
 * time between them is the delay into the record's layer: qdisc wait at dev-tx, the veth or wire
 * at dev-rx, routing at ip-local-in, and so on. Memory is bounded: packets are remembered in a
 * fixed table (a newer packet takes an older one's slot). */
#ifndef TCPMON_LIVE_H
#define TCPMON_LIVE_H

#include <stdint.h>
#include <stdio.h>

#include "vmdelay/core/vdtime.h"
#include "vmdelay/out/output.h"
#include "vmdelay/record.h"

struct tcpmon_live;

struct tcpmon_live *tcpmon_live_new(void);
void tcpmon_live_free(struct tcpmon_live *l);
void tcpmon_live_add(struct tcpmon_live *l, const struct tcpmon_record *r);
/* One row per layer that saw delays since the last call: elapsed_ns (since start), layer,
 * n, p50_ns, p90_ns, p99_ns, max_ns; then starts a new interval. */
void tcpmon_live_print(struct tcpmon_live *l, struct vd_out *o, vd_ns elapsed);
/* The cumulative histograms in the Prometheus text format (tcpmon_layer_delay_seconds). */
void tcpmon_live_prometheus(const struct tcpmon_live *l, FILE *f);

#endif
