#!/usr/bin/env bash
# Store ingest: probe rows/s into a new SQLite store through vd_store_add_probe (what tping and
# vmdelay-analyze use: a run begun, rows committed in ~1 s batches, the run finished) against a
# bare sqlite3 prepared-INSERT loop in one transaction into the same table shape. 1 million rows
# (BENCH_ROWS), best of BENCH_RUNS (3). The goal is 1 M rows in under 3 s; the CPU seconds of the
# process are shown beside the wall time (on a shared machine the wall time includes waiting for
# a CPU). Never fails on speed.
# Beside it, rows/s into PostgreSQL (probes sent with COPY) on a throw-away PostgreSQL 15
# cluster run by nobody on a unix socket (tests/e2e/lib/pg_cluster.bash), when run as root.
set -eu
. "$(dirname "$0")/common.bash"
bench_setup store
n=${BENCH_ROWS:-1000000}
. "$root/tests/e2e/lib/pg_cluster.bash"
trap 'pg_cluster_cleanup; rm -rf "$tmp"' EXIT
read -ra pq_libs <<<"$(pkg-config --libs libpq)"
${CC:-cc} -std=gnu11 -O2 -I"$root/include" -DVMDELAY_VERSION='"bench"' -o "$tmp/store_bench" \
	"$root/tests/bench/store_bench.c" "$lib" -lsqlite3 "${pq_libs[@]}" -lm

best() { # what -> "seconds rows/s cpu_seconds" of the fastest of $runs runs (checks the rows)
	local i out b="0 0 0"
	for ((i = 0; i < runs; i++)); do
		rm -f "$tmp"/b.db*
		out=$("$tmp/store_bench" "$1" "$tmp/b.db" "$n")
		[ "$(sqlite3 -batch -noheader "$tmp/b.db" 'SELECT count(*) FROM probes')" = "$n" ] ||
			{ echo "store: $1 stored the wrong number of rows" >&2; exit 1; }
		b=$(echo "$out $b" | awk '{ print ($3 > $6) ? $2 " " $3 " " $4 : $5 " " $6 " " $7 }')
	done
	echo "$b"
}

base=$(best sqlite)
vd=$(best vd)
printf '%-52s %8s %8s %12s %8s\n' "store ingest ($n probe rows, best of $runs)" "seconds" \
	"cpu s" "rows/s" "ratio"
for row in "sqlite3 prepared INSERT, one transaction (baseline)|$base" \
	"vd_store_add_probe into a new store (SQLite)|$vd"; do
	name=${row%|*}
	read -r secs rps cpus <<<"${row#*|}"
	printf '%-52s %8.2f %8.2f %12.0f %8.2f\n' "$name" "$secs" "$cpus" "$rps" \
		"$(echo "$rps ${base}" | awk '{ print $1 / $3 }')"
done
if [ "$(id -u)" = 0 ] && [ -x "$PG_BIN/initdb" ] && command -v psql >/dev/null; then
	chmod 0755 "$tmp"
	pg_cluster_up "$tmp/pg"
	pb="0 0 0"
	for ((i = 0; i < runs; i++)); do
		pgq "CREATE DATABASE b$i" >/dev/null
		url="postgresql:///b$i?host=$PG_SOCK&user=vmdelay"
		out=$("$tmp/store_bench" vd "$url" "$n")
		[ "$(psql -X -At -h "$PG_SOCK" -U vmdelay -d "b$i" -c 'SELECT count(*) FROM probes')" = "$n" ] ||
			{ echo "store: PostgreSQL stored the wrong number of rows" >&2; exit 1; }
		pb=$(echo "$out $pb" | awk '{ print ($3 > $6) ? $2 " " $3 " " $4 : $5 " " $6 " " $7 }')
	done
	read -r secs rps cpus <<<"$pb"
	printf '%-52s %8.2f %8.2f %12.0f %8.2f\n' "vd_store_add_probe into PostgreSQL 15 (COPY)" \
		"$secs" "$cpus" "$rps" "$(echo "$rps ${base}" | awk '{ print $1 / $3 }')"
else
	echo "PostgreSQL: not measured (needs root and PostgreSQL 15 to start a cluster)"
fi
