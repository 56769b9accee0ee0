/* pcapng_out.h — --pcapng-out: the matched echo packets of every packet-trace vantage point in
 * one pcapng, one interface per vantage point (outermost first), in time order, each packet
 * with a comment giving its layer, its pair key and the ΔRTT it contributes. */
#ifndef VMDELAY_ANALYZE_PCAPNG_OUT_H
#define VMDELAY_ANALYZE_PCAPNG_OUT_H

#include "vmdelay/core/err.h"
#include "vmdelay/delay/delay.h"

/* Reads the traces a second time for the packets of d's pairs and writes them to path.
 * 0, or -1 with a message naming the file. */
int pcapng_out_write(const char *path, const struct vd_delay *d, struct vd_err *err);

#endif
