/* load.c — running the --load command for the duration of the main phase. */
#define _GNU_SOURCE
#include "load.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sock.h"

int tping_load_prepare(const char *cmd, struct tping_load *l, struct vd_err *err)
{
	int p[2];
	memset(l, 0, sizeof(*l));
	l->go_fd = -1;
	l->status = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return vd_err_set(err, "option '--load': pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return vd_err_set(err, "option '--load': fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(p[1]);
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		char b;
		if (read(p[0], &b, 1) != 1)
			_exit(0); /* cancelled */
		/* A setuid / setgid tping must not run the user's command with any of its
		 * privileges: groups, saved IDs and capabilities go before exec. */
		struct vd_err perr;
		if (tping_setid_install() && tping_drop_privileges(&perr)) {
			dprintf(2, "tping: --load: %s\n", perr.msg);
			_exit(126);
		}
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid); /* also here, so stop() can signal the group whatever the timing */
	close(p[0]);
	l->pid = pid;
	l->go_fd = p[1];
	return 0;
}

void tping_load_start(struct tping_load *l)
{
	if (!l->pid || l->go_fd < 0)
		return;
	ssize_t w = write(l->go_fd, "g", 1);
	(void)w;
	close(l->go_fd);
	l->go_fd = -1;
	l->running = 1;
}

void tping_load_stop(struct tping_load *l)
{
	if (!l->pid)
		return;
	if (l->go_fd >= 0) { /* never started: the child exits on EOF */
		close(l->go_fd);
		l->go_fd = -1;
	} else {
		kill(-l->pid, SIGTERM);
	}
	int st = 0;
	pid_t r = 0;
	for (int i = 0; i < 100 && (r = waitpid(l->pid, &st, WNOHANG)) == 0; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	kill(-l->pid, SIGKILL); /* stragglers of the group, or a shell that ignored SIGTERM */
	if (r == 0)
		r = waitpid(l->pid, &st, 0);
	l->status = r == l->pid ? st : -1;
	l->pid = 0;
	l->running = 0;
}
