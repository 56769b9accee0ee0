PROGS += tcpmon
tcpmon_DIR := tcpmon
