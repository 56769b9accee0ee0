PROGS += tping
tping_DIR := tping
