/* store_transfer.h — tperf transfers in the SQLite store's `transfers` table (docs/schema.md). */
#ifndef VMDELAY_STORE_TRANSFER_H
#define VMDELAY_STORE_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/store/store.h"
#include "vmdelay/tcp/transfer.h"

/* Adds one transfer to the open run (idx is the transfer's own). */
int vd_store_add_transfer(struct vd_store *st, int64_t run_id, const struct vd_transfer *t,
			  struct vd_err *err);

/* Reads the transfers of run_id, or of every complete run when run_id <= 0, ordered by run
 * and idx, into a malloc'd array. */
int vd_store_load_transfers(struct vd_store *st, int64_t run_id, struct vd_transfer **out,
			    size_t *n, struct vd_err *err);

#endif
