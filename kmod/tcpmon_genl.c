// SPDX-License-Identifier: GPL-2.0
/* tcpmon_genl.c — the "vd_tcpmon" generic netlink family (vmdelay/record.h): control commands,
 * the READ dump that drains the per-CPU rings in batches, per-CPU TSC/ktime calibration and the
 * statistics. Every command needs CAP_NET_ADMIN (GENL_ADMIN_PERM); every attribute a user may
 * send has a strict policy, and those only the kernel sends are rejected. */
#include <linux/cpu.h>
#include <linux/in.h>
#include <linux/socket.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <net/genetlink.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/tsc.h>

#include "tcpmon.h"

static const struct nla_policy tcpmon_filter_policy[TCPMON_FA_MAX + 1] = {
    [TCPMON_FA_PROTO] = {.type = NLA_U8},     [TCPMON_FA_FAMILY] = {.type = NLA_U8},
    [TCPMON_FA_ADDR] = NLA_POLICY_MIN_LEN(4), [TCPMON_FA_ADDR2] = NLA_POLICY_MIN_LEN(4),
    [TCPMON_FA_PORT] = {.type = NLA_U16},     [TCPMON_FA_PORT2] = {.type = NLA_U16},
};

static const struct nla_policy tcpmon_policy[TCPMON_A_MAX + 1] = {
    [TCPMON_A_LAYERS] = NLA_POLICY_MASK(NLA_U32, TCPMON_LAYERS_ALL),
    [TCPMON_A_FILTER] = NLA_POLICY_NESTED(tcpmon_filter_policy),
    [TCPMON_A_CPU] = {.type = NLA_REJECT},
    [TCPMON_A_RECORDS] = {.type = NLA_REJECT},
    [TCPMON_A_CALIB] = {.type = NLA_REJECT},
    [TCPMON_A_STATS] = {.type = NLA_REJECT},
    [TCPMON_A_RECORD_SIZE] = {.type = NLA_REJECT},
    [TCPMON_A_PAD] = {.type = NLA_REJECT},
};

static struct genl_family tcpmon_family;

u32 tcpmon_clock_flags(void)
{
	u32 f = 0;

	if (check_tsc_unstable())
		f |= TCPMON_CLK_TSC_UNSTABLE;
	if (boot_cpu_has(X86_FEATURE_CONSTANT_TSC))
		f |= TCPMON_CLK_CONSTANT_TSC;
	if (boot_cpu_has(X86_FEATURE_NONSTOP_TSC))
		f |= TCPMON_CLK_NONSTOP_TSC;
	if (boot_cpu_has(X86_FEATURE_TSC_RELIABLE))
		f |= TCPMON_CLK_TSC_RELIABLE;
	if (boot_cpu_has(X86_FEATURE_TSC_KNOWN_FREQ))
		f |= TCPMON_CLK_TSC_KNOWN_FREQ;
	if (boot_cpu_has(X86_FEATURE_HYPERVISOR))
		f |= TCPMON_CLK_HYPERVISOR;
	return f;
}

static int tcpmon_addr_attr(const struct nlattr *a, u8 *dst, u8 *len, u8 family,
			    struct netlink_ext_ack *extack)
{
	int l = nla_len(a);

	if (l != 4 && l != 16) {
		NL_SET_ERR_MSG_ATTR(extack, a, "address must be 4 or 16 bytes");
		return -EINVAL;
	}
	if (family && (l == 4) != (family == AF_INET)) {
		NL_SET_ERR_MSG_ATTR(extack, a, "address length does not match the family");
		return -EINVAL;
	}
	memcpy(dst, nla_data(a), l);
	*len = l;
	return 0;
}

/* Builds a filter from a FILTER nest (already validated against tcpmon_filter_policy). */
static int tcpmon_filter_parse(const struct nlattr *nest, struct tcpmon_filter **out,
			       struct netlink_ext_ack *extack)
{
	struct nlattr *tb[TCPMON_FA_MAX + 1];
	struct tcpmon_filter *f;
	int err;

	err = nla_parse_nested(tb, TCPMON_FA_MAX, nest, tcpmon_filter_policy, extack);
	if (err)
		return err;
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	err = -EINVAL;
	if (tb[TCPMON_FA_PROTO]) {
		f->proto = nla_get_u8(tb[TCPMON_FA_PROTO]);
		if (f->proto != IPPROTO_TCP && f->proto != IPPROTO_ICMP &&
		    f->proto != IPPROTO_ICMPV6) {
			NL_SET_ERR_MSG_ATTR(extack, tb[TCPMON_FA_PROTO],
					    "protocol must be TCP, ICMP or ICMPv6");
			goto err;
		}
	}
	if (tb[TCPMON_FA_FAMILY]) {
		f->family = nla_get_u8(tb[TCPMON_FA_FAMILY]);
		if (f->family != AF_INET && f->family != AF_INET6) {
			NL_SET_ERR_MSG_ATTR(extack, tb[TCPMON_FA_FAMILY],
					    "family must be AF_INET or AF_INET6");
			goto err;
		}
	}
	if (tb[TCPMON_FA_ADDR2] && !tb[TCPMON_FA_ADDR]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCPMON_FA_ADDR2], "ADDR2 needs ADDR");
		goto err;
	}
	if (tb[TCPMON_FA_PORT2] && !tb[TCPMON_FA_PORT]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCPMON_FA_PORT2], "PORT2 needs PORT");
		goto err;
	}
	if (tb[TCPMON_FA_ADDR] &&
	    tcpmon_addr_attr(tb[TCPMON_FA_ADDR], f->addr, &f->addr_len, f->family, extack))
		goto err;
	if (tb[TCPMON_FA_ADDR2] &&
	    tcpmon_addr_attr(tb[TCPMON_FA_ADDR2], f->addr2, &f->addr2_len, f->family, extack))
		goto err;
	if (f->addr2_len && f->addr2_len != f->addr_len) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCPMON_FA_ADDR2],
				    "ADDR and ADDR2 of different families");
		goto err;
	}
	if (tb[TCPMON_FA_PORT]) {
		f->has_port = true;
		f->port = nla_get_u16(tb[TCPMON_FA_PORT]);
	}
	if (tb[TCPMON_FA_PORT2]) {
		f->has_port2 = true;
		f->port2 = nla_get_u16(tb[TCPMON_FA_PORT2]);
	}
	*out = f;
	return 0;
err:
	kfree(f);
	return err;
}

/* Caller holds tcpmon_ctl_lock. */
static void tcpmon_filter_set(struct tcpmon_filter *f)
{
	struct tcpmon_filter *old;

	old = rcu_replace_pointer(tcpmon_filter, f, lockdep_is_held(&tcpmon_ctl_lock));
	if (old)
		kfree_rcu(old, rcu);
}

/* Applies the optional LAYERS and FILTER of a START / SET_* request; nothing changes on error. */
static int tcpmon_apply(struct genl_info *info, bool need_filter, bool need_layers)
{
	struct tcpmon_filter *f = NULL;
	int err;

	if (need_filter && GENL_REQ_ATTR_CHECK(info, TCPMON_A_FILTER))
		return -EINVAL;
	if (need_layers && GENL_REQ_ATTR_CHECK(info, TCPMON_A_LAYERS))
		return -EINVAL;
	if (info->attrs[TCPMON_A_LAYERS] && !nla_get_u32(info->attrs[TCPMON_A_LAYERS])) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[TCPMON_A_LAYERS],
				    "no layer selected");
		return -EINVAL;
	}
	if (info->attrs[TCPMON_A_FILTER]) {
		err = tcpmon_filter_parse(info->attrs[TCPMON_A_FILTER], &f, info->extack);
		if (err)
			return err;
		tcpmon_filter_set(f);
	}
	if (info->attrs[TCPMON_A_LAYERS])
		WRITE_ONCE(tcpmon_layers, nla_get_u32(info->attrs[TCPMON_A_LAYERS]));
	return 0;
}

static int tcpmon_cmd_start(struct sk_buff *skb, struct genl_info *info)
{
	int err;

	mutex_lock(&tcpmon_ctl_lock);
	err = tcpmon_apply(info, false, false);
	if (!err) {
		WRITE_ONCE(tcpmon_running, false);
		synchronize_rcu(); /* hooks that saw running=true have finished */
		tcpmon_ring_reset();
		WRITE_ONCE(tcpmon_running, true);
	}
	mutex_unlock(&tcpmon_ctl_lock);
	return err;
}

static int tcpmon_cmd_stop(struct sk_buff *skb, struct genl_info *info)
{
	mutex_lock(&tcpmon_ctl_lock);
	WRITE_ONCE(tcpmon_running, false);
	mutex_unlock(&tcpmon_ctl_lock);
	return 0;
}

static int tcpmon_cmd_set_filter(struct sk_buff *skb, struct genl_info *info)
{
	int err;

	mutex_lock(&tcpmon_ctl_lock);
	err = tcpmon_apply(info, true, false);
	mutex_unlock(&tcpmon_ctl_lock);
	return err;
}

static int tcpmon_cmd_set_layers(struct sk_buff *skb, struct genl_info *info)
{
	int err;

	mutex_lock(&tcpmon_ctl_lock);
	err = tcpmon_apply(info, false, true);
	mutex_unlock(&tcpmon_ctl_lock);
	return err;
}

#define TCPMON_COST_BYTES (sizeof(u32) * __TCPMON_L_MAX * TCPMON_COST_BUCKETS)

static int tcpmon_cmd_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	struct tcpmon_totals t;
	struct sk_buff *msg;
	struct nlattr *nest, *cost;
	void *hdr;

	msg = genlmsg_new(TCPMON_COST_BYTES + 512, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &tcpmon_family, 0, TCPMON_CMD_GET_STATS);
	if (!hdr)
		goto nospace;
	tcpmon_ring_totals(&t);
	nest = nla_nest_start(msg, TCPMON_A_STATS);
	if (!nest || nla_put_u8(msg, TCPMON_SA_RUNNING, READ_ONCE(tcpmon_running)) ||
	    nla_put_u32(msg, TCPMON_SA_LAYERS, READ_ONCE(tcpmon_layers)) ||
	    nla_put_u32(msg, TCPMON_SA_RING_RECORDS, tcpmon_ring_records) ||
	    nla_put_u32(msg, TCPMON_SA_NCPUS, num_possible_cpus()) ||
	    nla_put_u64_64bit(msg, TCPMON_SA_RECORDED, t.recorded, TCPMON_SA_PAD) ||
	    nla_put_u64_64bit(msg, TCPMON_SA_LOST, t.lost, TCPMON_SA_PAD) ||
	    nla_put_u64_64bit(msg, TCPMON_SA_READ, t.read, TCPMON_SA_PAD) ||
	    nla_put_u64_64bit(msg, TCPMON_SA_FILTERED, t.filtered, TCPMON_SA_PAD) ||
	    nla_put_u32(msg, TCPMON_SA_TSC_KHZ, tsc_khz) ||
	    nla_put_u32(msg, TCPMON_SA_CLOCK_FLAGS, tcpmon_clock_flags()) ||
	    nla_put_u32(msg, TCPMON_SA_HOOKS_MISSING, tcpmon_hooks_missing))
		goto nospace;
	cost = nla_reserve(msg, TCPMON_SA_COST, TCPMON_COST_BYTES);
	if (!cost)
		goto nospace;
	tcpmon_ring_cost(nla_data(cost));
	nla_nest_end(msg, nest);
	if (nla_put_u32(msg, TCPMON_A_RECORD_SIZE, sizeof(struct tcpmon_record)))
		goto nospace;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static void tcpmon_calib_one(void *arg)
{
	struct tcpmon_calib *c = (struct tcpmon_calib *)arg + smp_processor_id();
	unsigned long flags;
	s64 m0, m1;

	local_irq_save(flags);
	m0 = ktime_get_ns();
	c->tsc = rdtsc_ordered();
	m1 = ktime_get_ns();
	c->real_ns = ktime_get_real_ns();
	local_irq_restore(flags);
	c->cpu = smp_processor_id();
	c->mono_ns = m0 + (m1 - m0) / 2;
	c->err_ns = (u32)min_t(s64, m1 - m0, U32_MAX);
}

static int tcpmon_cmd_calibrate(struct sk_buff *skb, struct genl_info *info)
{
	struct tcpmon_calib *all, *out;
	struct sk_buff *msg;
	struct nlattr *a;
	unsigned int cpu, n = 0;
	void *hdr;
	int err = -ENOMEM;

	all = kcalloc(nr_cpu_ids, sizeof(*all), GFP_KERNEL);
	if (!all)
		return -ENOMEM;
	cpus_read_lock();
	on_each_cpu(tcpmon_calib_one, all, 1);
	msg = genlmsg_new(nr_cpu_ids * sizeof(*all) + 128, GFP_KERNEL);
	if (!msg)
		goto out;
	hdr = genlmsg_put_reply(msg, info, &tcpmon_family, 0, TCPMON_CMD_CALIBRATE);
	a = hdr ? nla_reserve(msg, TCPMON_A_CALIB, num_online_cpus() * sizeof(*all)) : NULL;
	if (!a) {
		nlmsg_free(msg);
		err = -EMSGSIZE;
		goto out;
	}
	out = nla_data(a);
	for_each_online_cpu(cpu) out[n++] = all[cpu];
	genlmsg_end(msg, hdr);
	err = genlmsg_reply(msg, info);
out:
	cpus_read_unlock();
	kfree(all);
	return err;
}

/* READ dump: cb->args[0] is the next CPU to drain, cb->args[1] the records sent so far. Each
 * message carries one batch of one CPU; a dump moves at most one ring's worth per CPU, so it
 * ends even when traffic fills the rings as fast as they drain. */
static int tcpmon_read_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	const unsigned int rsz = sizeof(struct tcpmon_record);
	const int overhead = GENL_HDRLEN + NLMSG_HDRLEN + 2 * NLA_HDRLEN + 8;
	u64 limit = (u64)num_possible_cpus() * tcpmon_ring_records;
	unsigned int cpu = cb->args[0];

	for (; cpu < nr_cpu_ids; cpu++) {
		unsigned int pending;

		if (!cpu_possible(cpu))
			continue;
		pending = tcpmon_ring_pending(cpu);
		while (pending && cb->args[1] < limit) {
			int tail = skb_tailroom(skb) - overhead;
			unsigned int room, n;
			struct nlattr *a;
			void *hdr;

			if (tail < (int)rsz)
				goto full;
			room = min_t(unsigned int, tail / rsz, pending);
			hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
					  &tcpmon_family, NLM_F_MULTI, TCPMON_CMD_READ);
			if (!hdr)
				goto full;
			a = nla_put_u32(skb, TCPMON_A_CPU, cpu)
				? NULL
				: nla_reserve(skb, TCPMON_A_RECORDS, room * rsz);
			if (!a) {
				genlmsg_cancel(skb, hdr);
				goto full;
			}
			n = tcpmon_ring_take(cpu, nla_data(a), room);
			if (!n) { /* drained by a concurrent reader */
				genlmsg_cancel(skb, hdr);
				break;
			}
			if (n < room) {
				nlmsg_trim(skb, (u8 *)nla_data(a) + n * rsz);
				a->nla_len = nla_attr_size(n * rsz);
			}
			genlmsg_end(skb, hdr);
			cb->args[1] += n;
			pending = n < room ? 0 : pending - n;
		}
	}
full:
	cb->args[0] = cpu;
	return skb->len;
}

static const struct genl_ops tcpmon_ops[] = {
    {.cmd = TCPMON_CMD_START, .doit = tcpmon_cmd_start, .flags = GENL_ADMIN_PERM},
    {.cmd = TCPMON_CMD_STOP, .doit = tcpmon_cmd_stop, .flags = GENL_ADMIN_PERM},
    {.cmd = TCPMON_CMD_SET_FILTER, .doit = tcpmon_cmd_set_filter, .flags = GENL_ADMIN_PERM},
    {.cmd = TCPMON_CMD_SET_LAYERS, .doit = tcpmon_cmd_set_layers, .flags = GENL_ADMIN_PERM},
    {.cmd = TCPMON_CMD_GET_STATS, .doit = tcpmon_cmd_get_stats, .flags = GENL_ADMIN_PERM},
    {.cmd = TCPMON_CMD_READ, .dumpit = tcpmon_read_dump, .flags = GENL_ADMIN_PERM},
    {.cmd = TCPMON_CMD_CALIBRATE, .doit = tcpmon_cmd_calibrate, .flags = GENL_ADMIN_PERM},
};

static struct genl_family tcpmon_family __ro_after_init = {
    .name = TCPMON_GENL_NAME,
    .version = TCPMON_GENL_VERSION,
    .maxattr = TCPMON_A_MAX,
    .policy = tcpmon_policy,
    .netnsok = true,
    .module = THIS_MODULE,
    .ops = tcpmon_ops,
    .n_ops = ARRAY_SIZE(tcpmon_ops),
    .resv_start_op = 0, /* new family: strict header and attribute validation */
};

int tcpmon_genl_init(void)
{
	return genl_register_family(&tcpmon_family);
}

void tcpmon_genl_exit(void)
{
	struct tcpmon_filter *f;

	genl_unregister_family(&tcpmon_family);
	mutex_lock(&tcpmon_ctl_lock);
	f = rcu_replace_pointer(tcpmon_filter, NULL, lockdep_is_held(&tcpmon_ctl_lock));
	mutex_unlock(&tcpmon_ctl_lock);
	synchronize_rcu();
	kfree(f);
}
