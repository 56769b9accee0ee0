PROGS += vmdelay-analyze
vmdelay-analyze_DIR := analyze
