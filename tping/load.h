/* load.h — the --load command: forked while tping still has its privileges, started at the
 * main phase in its own process group, stopped (the whole group) when the phase ends. */
#ifndef TPING_LOAD_H
#define TPING_LOAD_H

#include <sys/types.h>

#include "vmdelay/core/err.h"

struct tping_load {
	pid_t pid; /* the shell, leader of its process group; 0 if none */
	int go_fd; /* writing a byte here starts it */
	int running;
	int status; /* wait status once stopped, -1 before */
};

/* Forks a child that waits for tping_load_start, then runs /bin/sh -c cmd. */
int tping_load_prepare(const char *cmd, struct tping_load *l, struct vd_err *err);
void tping_load_start(struct tping_load *l);
/* SIGTERM to the group, SIGKILL after a second for what is left; reaps the shell. Also
 * cancels a load that never started. Idempotent. */
void tping_load_stop(struct tping_load *l);

#endif
