/* run_meta.h — the key=value labels a user gives a stored run (--meta KEY=VALUE of tping, tperf
 * and vmdelay-analyze; testbeds/run passes its scenario's values this way). Stored in the
 * run_meta table beside the tools' own keys; `vmdelay-analyze compare --by KEY` groups on them. */
#ifndef VMDELAY_STORE_RUN_META_H
#define VMDELAY_STORE_RUN_META_H

#include <stddef.h>

#include "vmdelay/core/cli.h"
#include "vmdelay/core/err.h"

#define VD_META_MAX 64	   /* --meta options per run */
#define VD_META_KEY_MAX 64 /* bytes of a key, with its NUL */

struct vd_meta {
	char key[VD_META_KEY_MAX];
	const char *value; /* points into the argument parsed (argv outlives the run) */
};

struct vd_meta_list {
	struct vd_meta item[VD_META_MAX];
	size_t n;
};

/* A key is 1 to VD_META_KEY_MAX-1 letters, digits, '.', '_' or '-'. */
int vd_meta_key_valid(const char *key, size_t len);

/* Parses "KEY=VALUE" (VALUE may be empty and may hold '=') and appends it. A bad or repeated
 * key, or more than VD_META_MAX: -1 with a message naming the option "--meta". */
int vd_meta_list_add(struct vd_meta_list *list, const char *arg, struct vd_err *err);

/* The run labels (--testbed, --label, --scenario, --meta) only mean something with a store:
 * a usage error naming the first label given without --db, else 0. */
int vd_meta_labels_need_db(struct vd_cli *cli, const char *testbed, const char *label,
			   const char *scenario, const struct vd_meta_list *meta, int have_db);

#endif
