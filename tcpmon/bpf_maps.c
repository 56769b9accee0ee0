/* bpf_maps.c — the configuration and counter maps of tcpmon's BPF programs (see bpf_maps.h). */
#include "bpf_maps.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

static int config_set(int fd, const struct tcpmon_bpf_config *c, struct vd_err *err)
{
	uint32_t k = 0;

	if (bpf_map_update_elem(fd, &k, c, BPF_ANY))
		return vd_err_set(err, "writing the configuration map: %s", strerror(errno));
	return 0;
}

int tcpmon_config_get(int fd, struct tcpmon_bpf_config *c, struct vd_err *err)
{
	uint32_t k = 0;

	if (bpf_map_lookup_elem(fd, &k, c))
		return vd_err_set(err, "reading the configuration map: %s", strerror(errno));
	return 0;
}

int tcpmon_config_run(int fd, const struct vd_tcmnl_filter *f, uint32_t layers, uint32_t slot_bits,
		      struct tcpmon_bpf_config *c, struct vd_err *err)
{
	memset(c, 0, sizeof(*c));
	c->layers = layers;
	if (f) {
		c->proto = f->proto;
		c->family = f->family;
		c->addr_len = f->addr_len;
		c->addr2_len = f->addr2_len;
		memcpy(c->addr, f->addr, sizeof(c->addr));
		memcpy(c->addr2, f->addr2, sizeof(c->addr2));
		c->has_port = (uint8_t)f->has_port;
		c->has_port2 = (uint8_t)f->has_port2;
		c->port = f->port;
		c->port2 = f->port2;
	}
	c->slot_bits = slot_bits;
	c->running = 1;
	return config_set(fd, c, err);
}

int tcpmon_config_stop(int fd, struct vd_err *err)
{
	struct tcpmon_bpf_config c;

	if (tcpmon_config_get(fd, &c, err))
		return -1;
	c.running = 0;
	return config_set(fd, &c, err);
}

int tcpmon_counters_read(int fd, uint64_t *v, struct vd_err *err)
{
	uint32_t k = 0;

	if (bpf_map_lookup_elem(fd, &k, v))
		return vd_err_set(err, "reading the counters: %s", strerror(errno));
	return 0;
}

int tcpmon_counters_sum(int fd, unsigned ncpu, const uint64_t *base,
			uint64_t out[__TCPMON_BPF_C_MAX], uint64_t *cpu_lost, struct vd_err *err)
{
	uint64_t *v = calloc(ncpu, sizeof(uint64_t) * __TCPMON_BPF_C_MAX);

	if (!v)
		return vd_err_set(err, "out of memory");
	if (tcpmon_counters_read(fd, v, err)) {
		free(v);
		return -1;
	}
	memset(out, 0, sizeof(uint64_t) * __TCPMON_BPF_C_MAX);
	for (unsigned c = 0; c < ncpu; c++) {
		const uint64_t *row = v + c * __TCPMON_BPF_C_MAX,
			       *from = base ? base + c * __TCPMON_BPF_C_MAX : NULL;

		for (unsigned i = 0; i < __TCPMON_BPF_C_MAX; i++)
			out[i] += row[i] - (from ? from[i] : 0);
		if (cpu_lost)
			cpu_lost[c] = row[TCPMON_BPF_C_LOST] - (from ? from[TCPMON_BPF_C_LOST] : 0);
	}
	free(v);
	return 0;
}
