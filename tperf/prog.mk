PROGS += tperf
tperf_DIR := tperf
