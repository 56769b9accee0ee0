/* Unit tests: each flow's reference flow (struct vd_tcpan_flow's ref, set by vd_tcpan_finish),
 * which the tcp report reads instead of looking the connection up at point 0 per row: on random
 * sets of connections seen at some of several vantage points, first from either side, it is the
 * flow vd_tcpan_find gives, and the one the connections were made to have. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmdelay/tcp/tcpan.h"

#include "tcpsegs.h"

#define NV 4

static struct vd_tcpan *analysis(void)
{
	struct vd_tcpan_opts o = {.bin_ns = 10 * VD_NS_PER_US,
				  .max_bins = 100,
				  .ref_ns = 120 * VD_NS_PER_US,
				  .min_run = 2,
				  .xc_factor = 2,
				  .interval = VD_NS_PER_SEC,
				  .max_flows = 1 << 20};
	struct vd_tcpan *an = vd_tcpan_create(&o);
	assert_non_null(an);
	return an;
}

/* One round: nconn connections, each at a random subset of the NV points, first seen from a
 * random side at each; packets of all of them interleaved. */
static void refs_on_random_flows(unsigned nconn, unsigned seed)
{
	srand(seed);
	struct vd_tcpan *an = analysis();
	uint8_t *at = calloc(nconn, NV), *client_first = calloc(nconn, NV);
	assert_non_null(at);
	assert_non_null(client_first);
	for (unsigned c = 0; c < nconn; c++)
		for (int v = 0; v < NV; v++) {
			at[c * NV + v] = rand() % 3 != 0;
			client_first[c * NV + v] = (uint8_t)(rand() & 1);
		}
	vd_ns t = VD_NS_PER_SEC;
	for (int round = 0; round < 3; round++)
		for (unsigned c = 0; c < nconn; c++)
			for (int v = 0; v < NV; v++) {
				if (!at[c * NV + v])
					continue;
				/* round 0 sets which side came first, then both sides */
				int from = round == 0 ? client_first[c * NV + v] : round == 1;
				struct vd_decoded d = tcp_segment(c, from, 1000 + (uint32_t)round,
								  500, VD_TCP_ACK, 100);
				assert_int_equal(vd_tcpan_add(an, (uint32_t)v, t, &d), 0);
				t += VD_NS_PER_US;
			}
	vd_tcpan_finish(an);
	size_t n = vd_tcpan_flow_count(an), with_ref = 0, expected_refs = 0;
	for (unsigned c = 0; c < nconn; c++)
		for (int v = 1; v < NV; v++)
			expected_refs += at[c * NV] && at[c * NV + v];
	for (size_t i = 0; i < n; i++) {
		struct vd_tcpan_flow *f = vd_tcpan_flow(an, i);
		int same = -1;
		struct vd_tcpan_flow *g =
		    f->key.vantage ? vd_tcpan_find(an, 0, &f->key, &same) : NULL;
		assert_ptr_equal(f->ref, g);
		if (!g)
			continue;
		with_ref++;
		assert_int_equal(f->ref_same_dir, same);
		assert_int_equal(g->key.vantage, 0);
		/* the connection's number from its client address (10.H.L.1), either endpoint */
		int ce = f->key.port[0] == 5001;
		unsigned c = (unsigned)f->key.addr[ce].bytes[1] << 8 | f->key.addr[ce].bytes[2];
		assert_true(at[c * NV]);
		/* endpoint 0 is the first sender: the same host when both points saw the same side
		 * first */
		assert_int_equal(f->ref_same_dir,
				 client_first[c * NV] == client_first[c * NV + f->key.vantage]);
	}
	assert_int_equal(with_ref, expected_refs);
	free(at);
	free(client_first);
	vd_tcpan_destroy(an);
}

static void ref_is_the_flow_find_gives(void **state)
{
	(void)state;
	refs_on_random_flows(1, 1);
	refs_on_random_flows(40, 2);
	refs_on_random_flows(3000, 3);
	refs_on_random_flows(20000, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ref_is_the_flow_find_gives),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
