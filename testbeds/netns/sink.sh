#!/bin/sh
# sink.sh — discards what a TCP load connection sends (run by busybox nc -ll -e).
exec cat >/dev/null
