/* bpf_slots.c — reading the per-CPU rings of slots (see bpf_slots.h). */
#include "bpf_slots.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/types.h>

#include "tcpmon_bpf.h"

uint32_t tcpmon_slots_bits(uint64_t bytes, unsigned ncpu)
{
	uint64_t per = bytes / (ncpu ? ncpu : 1) / sizeof(struct tcpmon_record);
	uint32_t bits = 10;

	while (bits < 30 && (2ull << bits) <= per)
		bits++;
	return bits;
}

static size_t page_round(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (n + pg - 1) / pg * pg;
}

int tcpmon_slots_open(struct tcpmon_slots *s, int slots_fd, int tails_fd, unsigned ncpu,
		      uint32_t bits, struct vd_err *err)
{
	void *p;

	memset(s, 0, sizeof(*s));
	s->ncpu = ncpu;
	s->bits = bits;
	s->rec_len = page_round(((size_t)ncpu << bits) * sizeof(struct tcpmon_record));
	s->tails_len = page_round(ncpu * sizeof(struct tcpmon_bpf_tail));
	p = mmap(NULL, s->rec_len, PROT_READ, MAP_SHARED, slots_fd, 0);
	if (p == MAP_FAILED)
		return vd_err_set(err, "mapping the record slots: %s", strerror(errno));
	s->rec = p;
	p = mmap(NULL, s->tails_len, PROT_READ | PROT_WRITE, MAP_SHARED, tails_fd, 0);
	if (p == MAP_FAILED) {
		vd_err_set(err, "mapping the ring tails: %s", strerror(errno));
		tcpmon_slots_close(s);
		return -1;
	}
	s->tails = p;
	s->next = calloc(ncpu, sizeof(*s->next));
	if (!s->next) {
		tcpmon_slots_close(s);
		return vd_err_set(err, "out of memory");
	}
	for (unsigned c = 0; c < ncpu; c++)
		s->next[c] = __atomic_load_n(&s->tails[c].tail, __ATOMIC_ACQUIRE);
	return 0;
}

static const struct tcpmon_record *committed(const struct tcpmon_slots *s, unsigned cpu, uint64_t i)
{
	const struct tcpmon_record *r =
	    s->rec + ((size_t)cpu << s->bits) + (i & ((1ull << s->bits) - 1));

	/* a slot taken but not yet written (its program was interrupted) stops the reading of
	 * this CPU until the next drain */
	return __atomic_load_n(&TCPMON_BPF_COMMIT(r), __ATOMIC_ACQUIRE) == (uint32_t)(i + 1) ? r
											     : NULL;
}

int tcpmon_slots_peek(const struct tcpmon_slots *s, unsigned cpu, uint32_t *seqno)
{
	const struct tcpmon_record *r = committed(s, cpu, s->next[cpu]);

	if (r)
		*seqno = r->seqno;
	return r != NULL;
}

int tcpmon_slots_drain(struct tcpmon_slots *s, int (*fn)(void *ctx, void *rec, size_t size),
		       void *ctx)
{
	int n = 0;

	for (unsigned c = 0; c < s->ncpu; c++) {
		uint64_t i = s->next[c], stop = i + (1ull << s->bits);
		const struct tcpmon_record *r;

		/* one ring's worth at most: the writers may keep up */
		while (i != stop && (r = committed(s, c, i))) {
			int rc = fn(ctx, (void *)r, sizeof(*r));
			if (rc < 0)
				return rc;
			i++;
			n++;
		}
		if (i != s->next[c]) {
			s->next[c] = i;
			__atomic_store_n(&s->tails[c].tail, i, __ATOMIC_RELEASE);
		}
	}
	return n;
}

void tcpmon_slots_close(struct tcpmon_slots *s)
{
	if (s->rec)
		munmap((void *)s->rec, s->rec_len);
	if (s->tails)
		munmap(s->tails, s->tails_len);
	free(s->next);
	memset(s, 0, sizeof(*s));
}
