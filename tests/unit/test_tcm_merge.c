/* Unit tests: a tcpmon file's echo events put back in (time, record) order by per-CPU runs and
 * a heap for the misfits (lib/input/tcm_merge.c): the order of a sort of every event, on files
 * whose CPUs' batches overlap and whose CPUs sometimes go back in time (a hook interrupting
 * another), with more CPUs than runs; an event earlier than one gone out is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "input/tcm_merge.h"

struct rec {
	struct vd_echo e;
	uint32_t cpu;
};

static int by_time(const void *a, const void *b)
{
	const struct vd_echo *x = &((const struct rec *)a)->e, *y = &((const struct rec *)b)->e;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

/* n events of ncpus CPUs in file order, as tcpmon dumps them: the events in time order (steps
 * of 0..9 ns, so ties; one in 20 set back up to 50 ns, a hook interrupting another), each on a
 * CPU at random, written a dump of `dump` of them at a time, CPU after CPU. */
static struct rec *file_of(size_t n, uint32_t ncpus, size_t dump, unsigned seed)
{
	struct rec *gen = calloc(n, sizeof(*gen)), *f = calloc(n, sizeof(*f));
	vd_ns t = 1000;
	srand(seed);
	for (size_t g = 0; g < n; g++) {
		t += rand() % 10;
		gen[g].e.ts = t - (rand() % 20 == 0 ? rand() % 50 : 0);
		gen[g].e.seq = (uint32_t)g;
		gen[g].cpu = (uint32_t)rand() % ncpus;
	}
	size_t at = 0;
	for (size_t s = 0; s < n; s += dump)
		for (uint32_t cpu = 0; cpu < ncpus; cpu++)
			for (size_t g = s; g < s + dump && g < n; g++)
				if (gen[g].cpu == cpu) {
					f[at] = gen[g];
					f[at].e.index =
					    at + 1; /* record numbers grow in file order */
					at++;
				}
	free(gen);
	return f;
}

/* Every event through the merge (hold waiting), in file order: the order of a sort. */
static void merged_as_sorted(uint32_t ncpus, uint32_t said_ncpus, size_t dump, size_t hold)
{
	const size_t n = 60000;
	struct rec *f = file_of(n, ncpus, dump, ncpus * 7919u + (unsigned)dump);
	struct rec *sorted = malloc(n * sizeof(*sorted));
	memcpy(sorted, f, n * sizeof(*f));
	qsort(sorted, n, sizeof(*sorted), by_time);
	struct vd_tcm_merge m;
	struct vd_echo e;
	size_t out = 0, most_misfits = 0;
	vd_tcm_merge_init(&m, said_ncpus, hold);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(vd_tcm_merge_push(&m, f[i].cpu, &f[i].e), 0);
		if (m.heap_n > most_misfits)
			most_misfits = m.heap_n;
		while (vd_tcm_merge_full(&m)) {
			assert_int_equal(vd_tcm_merge_pop(&m, &e), 1);
			assert_int_equal(e.index, sorted[out++].e.index);
		}
	}
	while (vd_tcm_merge_pop(&m, &e))
		assert_int_equal(e.index, sorted[out++].e.index);
	assert_int_equal(out, n);
	assert_true(most_misfits > 0); /* the heap's path was taken */
	vd_tcm_merge_free(&m);
	free(sorted);
	free(f);
}

static void per_cpu_runs(void **state)
{
	(void)state;
	merged_as_sorted(2, 2, 800, 2 * 800);
	merged_as_sorted(4, 4, 1000, 2 * 1000);
}

/* A file that says 1 CPU but holds 3 CPUs' records: one run, the others' events misfits. */
static void more_cpus_than_runs(void **state)
{
	(void)state;
	merged_as_sorted(3, 1, 300, 2 * 300);
}

static void earlier_than_gone_out(void **state)
{
	(void)state;
	struct vd_tcm_merge m;
	struct vd_echo a = {.ts = 100, .index = 1}, b = {.ts = 50, .index = 2}, e;
	vd_tcm_merge_init(&m, 2, 1);
	assert_int_equal(vd_tcm_merge_push(&m, 0, &a), 0);
	assert_true(vd_tcm_merge_full(&m));
	assert_int_equal(vd_tcm_merge_pop(&m, &e), 1);
	assert_int_equal(vd_tcm_merge_push(&m, 1, &b), 1);
	assert_int_equal(vd_tcm_merge_pop(&m, &e), 0);
	vd_tcm_merge_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(per_cpu_runs),
	    cmocka_unit_test(more_cpus_than_runs),
	    cmocka_unit_test(earlier_than_gone_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
