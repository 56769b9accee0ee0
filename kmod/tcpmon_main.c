// SPDX-License-Identifier: GPL-2.0
/* tcpmon_main.c — tcpmon.ko: TSC-stamps every TCP/ICMP packet at every layer of the stack
 * (Rajasekaran et al., "tcpmon", extended per layer). Parts start in order
 * (rings, netlink family, hooks) and stop in reverse; the hooks go first on unload and each
 * unregistration waits for running handlers, so unloading under traffic is safe. */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>

#include "tcpmon.h"

unsigned int tcpmon_ring_records = 4096;
module_param_named(ring_records, tcpmon_ring_records, uint, 0444);
MODULE_PARM_DESC(ring_records,
		 "records per per-CPU ring (rounded up to a power of two, 16..1048576)");

bool tcpmon_running;
u32 tcpmon_layers = TCPMON_LAYERS_ALL;
DEFINE_MUTEX(tcpmon_ctl_lock);

static int __init tcpmon_init(void)
{
	int err;

	if (tcpmon_ring_records < 16 || tcpmon_ring_records > (1u << 20)) {
		pr_err("ring_records=%u out of range 16..1048576\n", tcpmon_ring_records);
		return -EINVAL;
	}
	err = tcpmon_ring_init(tcpmon_ring_records);
	if (err)
		goto err_ring;
	err = tcpmon_genl_init();
	if (err)
		goto err_genl;
	err = tcpmon_hooks_init();
	if (err)
		goto err_hooks;
	pr_info("loaded: %u records per CPU ring, %zu-byte records, hooks missing 0x%x\n",
		tcpmon_ring_records, sizeof(struct tcpmon_record), tcpmon_hooks_missing);
	return 0;

err_hooks:
	tcpmon_genl_exit();
err_genl:
	tcpmon_ring_exit();
err_ring:
	return err;
}

static void __exit tcpmon_exit(void)
{
	WRITE_ONCE(tcpmon_running, false);
	tcpmon_hooks_exit(); /* waits for every hook handler in flight */
	tcpmon_genl_exit();  /* waits for netlink callbacks */
	tcpmon_ring_exit();
	pr_info("unloaded\n");
}

module_init(tcpmon_init);
module_exit(tcpmon_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("vmdelay");
MODULE_DESCRIPTION("TSC timestamps of TCP/ICMP packets at every layer of the network stack");
MODULE_VERSION("0.1.0");
