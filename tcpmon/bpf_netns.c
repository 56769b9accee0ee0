/* bpf_netns.c — netfilter BPF links in every network namespace (see bpf_netns.h). */
#define _GNU_SOURCE /* setns() */
#include "bpf_netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "vmdelay/input/tcmrec.h"
#include "vmdelay/record.h"

#define VD_NFPROTO_IPV4 2
#define VD_NFPROTO_IPV6 10

/* BPF_LINK_CREATE's netfilter attributes (kernel >= 6.4), laid out as union bpf_attr. */
struct vd_nf_link_attr {
	uint32_t prog_fd, target_fd, attach_type, flags;
	uint32_t pf, hooknum;
	int32_t priority;
	uint32_t nf_flags;
};

/* NF_IP_PRI_FIRST and NF_IP_PRI_LAST themselves are refused to BPF links: one step inside. */
const struct tcpmon_nf_place tcpmon_nf_places[TCPMON_NF_NPLACES] = {
    {TCPMON_L_IP_PRE, VD_NF_PRE_ROUTING, INT_MIN + 1},
    {TCPMON_L_IP_LOCAL_IN, VD_NF_LOCAL_IN, INT_MIN + 1},
    {TCPMON_L_IP_LOCAL_OUT, VD_NF_LOCAL_OUT, INT_MIN + 1},
    {TCPMON_L_IP_POST, VD_NF_POST_ROUTING, INT_MAX - 1},
};

size_t tcpmon_nf_hooks(uint32_t layers, unsigned families, const int prog_fd[TCPMON_NF_NPLACES],
		       struct tcpmon_nf_hook hooks[TCPMON_NF_NPLACES])
{
	size_t n = 0;

	for (size_t i = 0; i < TCPMON_NF_NPLACES; i++)
		if ((layers >> tcpmon_nf_places[i].layer) & 1)
			hooks[n++] = (struct tcpmon_nf_hook){
			    .prog_fd = prog_fd[i],
			    .families = families,
			    .hook = tcpmon_nf_places[i].hook,
			    .priority = tcpmon_nf_places[i].priority,
			    .name = vd_tcmrec_layer_name(tcpmon_nf_places[i].layer)};
	return n;
}

void tcpmon_nf_set_prog_type(struct bpf_program *p)
{
	bpf_program__set_type(p, VD_BPF_PROG_TYPE_NETFILTER);
	bpf_program__set_expected_attach_type(p, VD_BPF_NETFILTER);
}

static int nf_link_create(int prog_fd, uint32_t pf, uint32_t hook, int32_t prio)
{
	struct vd_nf_link_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_fd = (uint32_t)prog_fd;
	a.attach_type = VD_BPF_NETFILTER;
	a.pf = pf;
	a.hooknum = hook;
	a.priority = prio;
	return (int)syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
}

static int attach_here(const struct tcpmon_nf_hook *hooks, size_t nhooks, struct tcpmon_nf_links *l,
		       struct vd_err *err)
{
	static const uint32_t pfs[] = {VD_NFPROTO_IPV4, VD_NFPROTO_IPV6};

	for (size_t i = 0; i < nhooks; i++) {
		for (size_t p = 0; p < 2; p++) {
			int fd;

			if (!((hooks[i].families >> p) & 1))
				continue;
			fd = nf_link_create(hooks[i].prog_fd, pfs[p], hooks[i].hook,
					    hooks[i].priority);
			if (fd < 0)
				return vd_err_set(err, "netfilter link for %s (%s): %s",
						  hooks[i].name, p ? "IPv6" : "IPv4",
						  strerror(errno));
			if (l->n == l->cap) {
				size_t cap = l->cap ? l->cap * 2 : 16;
				int *nfd = realloc(l->fd, cap * sizeof(*nfd));
				if (!nfd) {
					close(fd);
					return vd_err_set(err, "out of memory");
				}
				l->fd = nfd;
				l->cap = cap;
			}
			l->fd[l->n++] = fd;
		}
	}
	return 0;
}

/* Network namespaces are told apart by their nsfs inode. */
struct ns_seen {
	dev_t dev[1024];
	ino_t ino[1024];
	size_t n;
};

static int ns_new(struct ns_seen *seen, int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return 0;
	for (size_t i = 0; i < seen->n; i++)
		if (seen->dev[i] == st.st_dev && seen->ino[i] == st.st_ino)
			return 0;
	if (seen->n == sizeof(seen->ino) / sizeof(seen->ino[0]))
		return 0;
	seen->dev[seen->n] = st.st_dev;
	seen->ino[seen->n++] = st.st_ino;
	return 1;
}

static int attach_ns(const struct tcpmon_nf_hook *hooks, size_t nhooks, struct tcpmon_nf_links *l,
		     int home, struct ns_seen *seen, const char *path, struct vd_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return 0; /* the process or namespace went away meanwhile */
	if (!ns_new(seen, fd)) {
		close(fd);
		return 0;
	}
	if (setns(fd, CLONE_NEWNET)) {
		rc = vd_err_set(err, "%s: setns: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	close(fd);
	rc = attach_here(hooks, nhooks, l, err);
	if (rc)
		vd_err_prefix(err, "network namespace %s", path);
	l->netns++;
	if (setns(home, CLONE_NEWNET))
		return vd_err_set(err, "cannot return to tcpmon's network namespace: %s",
				  strerror(errno));
	return rc;
}

int tcpmon_nf_attach_all(const struct tcpmon_nf_hook *hooks, size_t nhooks,
			 struct tcpmon_nf_links *l, struct vd_err *err)
{
	struct ns_seen *seen = calloc(1, sizeof(*seen));
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int home, rc = 0;

	if (!seen)
		return vd_err_set(err, "out of memory");
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0) {
		free(seen);
		return vd_err_set(err, "/proc/self/ns/net: %s", strerror(errno));
	}
	rc = attach_ns(hooks, nhooks, l, home, seen, "/proc/self/ns/net", err);
	if (!rc && (d = opendir("/run/netns"))) {
		while (!rc && (de = readdir(d)))
			if (de->d_name[0] != '.') {
				snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
				rc = attach_ns(hooks, nhooks, l, home, seen, path, err);
			}
		closedir(d);
	}
	if (!rc && (d = opendir("/proc"))) {
		while (!rc && (de = readdir(d)))
			if (de->d_name[0] >= '1' && de->d_name[0] <= '9') {
				snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
				rc = attach_ns(hooks, nhooks, l, home, seen, path, err);
			}
		closedir(d);
	}
	close(home);
	free(seen);
	return rc;
}

void tcpmon_nf_detach_all(struct tcpmon_nf_links *l)
{
	for (size_t i = 0; i < l->n; i++)
		close(l->fd[i]);
	free(l->fd);
	memset(l, 0, sizeof(*l));
}
