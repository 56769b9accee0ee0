/* store.c — writing runs to the store, whatever the backend: the runs row at once, then its rows
 * in batches committed about every second (so other writers get their turn and a killed writer
 * loses at most the last batch), the status last. */
#include "vmdelay/store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "store_impl.h"

char *vd_store_command_line(int argc, char **argv)
{
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = malloc(len);
	if (!s)
		return NULL;
	char *p = s;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (i)
			*p++ = ' ';
		memcpy(p, argv[i], n);
		p += n;
	}
	*p = 0;
	return s;
}

/* Opens the batch transaction if none is open. */
static int batch_open(struct vd_store *st, struct vd_err *err)
{
	if (st->in_txn)
		return 0;
	if (st->ops->begin(st, err))
		return -1;
	st->in_txn = 1;
	st->txn_start = vd_now(CLOCK_MONOTONIC);
	return 0;
}

static int batch_commit(struct vd_store *st, struct vd_err *err)
{
	if (!st->in_txn)
		return 0;
	st->in_txn = 0;
	return st->ops->commit(st, err);
}

/* Commits the batch once it is batch_ns old. */
static int batch_maybe_commit(struct vd_store *st, struct vd_err *err)
{
	if (st->in_txn && vd_now(CLOCK_MONOTONIC) - st->txn_start >= st->batch_ns)
		return batch_commit(st, err);
	return 0;
}

void vd_store_set_batch_interval(struct vd_store *st, vd_ns ns)
{
	st->batch_ns = ns;
}

int vd_store_begin_run(struct vd_store *st, const struct vd_run_info *info, int64_t *run_id,
		       struct vd_err *err)
{
	if (st->readonly)
		return vd_err_set(err, "%s: opened read-only", st->path);
	if (st->in_run)
		return vd_err_set(err, "%s: a run is already open", st->path);
	if (batch_commit(st, err))
		return -1;
	struct utsname u;
	int have_uname = uname(&u) == 0;
	/* The run is visible (status 'running') from now on, whatever happens to this process. */
	if (st->ops->begin_run(st, info, have_uname ? u.nodename : NULL,
			       have_uname ? u.release : NULL, run_id, err))
		return -1;
	st->in_run = 1;
	st->run_id = *run_id;
	st->probe_idx = 0;
	st->result_run = *run_id;
	st->result_idx = 0;
	/* The user's labels go in the run's first batch, whatever the backend; a run that cannot
	 * have them is not kept. */
	for (size_t i = 0; info->meta && i < info->meta->n; i++)
		if (vd_store_add_meta(st, *run_id, info->meta->item[i].key,
				      info->meta->item[i].value, err)) {
			vd_store_abort_run(st);
			return -1;
		}
	return 0;
}

int vd_store_add_meta(struct vd_store *st, int64_t run_id, const char *key, const char *value,
		      struct vd_err *err)
{
	if (batch_open(st, err) || st->ops->add_meta(st, run_id, key, value, err))
		return -1;
	return batch_maybe_commit(st, err);
}

int vd_store_add_probe(struct vd_store *st, int64_t run_id, const struct vd_probe *p,
		       struct vd_err *err)
{
	if (batch_open(st, err) || st->ops->add_probe(st, run_id, st->probe_idx, p, err))
		return -1;
	st->probe_idx++;
	return batch_maybe_commit(st, err);
}

int vd_store_add_result(struct vd_store *st, int64_t run_id, const char *vantage,
			const char *metric, const char *phase, const char *direction,
			const char *stat, double value, struct vd_err *err)
{
	if (run_id != st->result_run) {
		st->result_run = run_id;
		st->result_idx = 0;
	}
	if (batch_open(st, err) || st->ops->add_result(st, run_id, st->result_idx, vantage, metric,
						       phase, direction, stat, value, err))
		return -1;
	st->result_idx++;
	return batch_maybe_commit(st, err);
}

int vd_store_add_row(struct vd_store *st, const char *table, size_t n, const char *const *cols,
		     const char *const *vals, struct vd_err *err)
{
	if (st->readonly)
		return vd_err_set(err, "%s: opened read-only", st->path);
	if (batch_open(st, err) || st->ops->add_row(st, table, n, cols, vals, err))
		return -1;
	return batch_maybe_commit(st, err);
}

static const char *const status_names[VD_RUN__COUNT] = {
    [VD_RUN_RUNNING] = "running",
    [VD_RUN_COMPLETE] = "complete",
    [VD_RUN_INTERRUPTED] = "interrupted",
    [VD_RUN_FAILED] = "failed",
};

const char *vd_run_status_name(enum vd_run_status s)
{
	return (s >= 0 && s < VD_RUN__COUNT) ? status_names[s] : "?";
}

int vd_store_finish_run(struct vd_store *st, int64_t run_id, vd_ns end_ns,
			enum vd_run_status status, struct vd_err *err)
{
	if (batch_open(st, err) || st->ops->finish_run(st, run_id, end_ns, status, err) ||
	    batch_commit(st, err)) {
		vd_store_abort_run(st);
		return -1;
	}
	st->in_run = 0;
	return 0;
}

int vd_store_end_run(struct vd_store *st, int64_t run_id, vd_ns end_ns, struct vd_err *err)
{
	return vd_store_finish_run(st, run_id, end_ns, VD_RUN_COMPLETE, err);
}

void vd_store_abort_run(struct vd_store *st)
{
	if (st->in_txn) {
		st->ops->rollback(st);
		st->in_txn = 0;
	}
	if (!st->in_run)
		return;
	st->in_run = 0;
	st->ops->delete_run(st, st->run_id);
}

int vd_store_load_probes(struct vd_store *st, int64_t run_id, struct vd_probe **probes, size_t *n,
			 struct vd_err *err)
{
	*probes = NULL;
	*n = 0;
	return st->ops->load_probes(st, run_id, probes, n, err);
}
