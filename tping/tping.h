/* tping.h — the whole tping run, from options to summary and database (main.c calls this). */
#ifndef TPING_TPING_H
#define TPING_TPING_H

/* Returns the exit code: 0 ok, 1 runtime error (no reply, socket, database), 2 usage. */
int tping_main(int argc, char **argv);

#endif
