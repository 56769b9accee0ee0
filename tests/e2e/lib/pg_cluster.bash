# Sourced by tests/e2e/store_pg*.sh: a throw-away PostgreSQL 15 cluster run by nobody in a
# temporary directory, listening on a unix socket only (listen_addresses=''), stopped and
# removed by pg_cluster_cleanup (trap it, it runs on failure too).
#   pg_cluster_up DIR   initdb + pg_ctl start; sets PG_URL (postgresql:// for --db) and PG_SOCK
#   pgq SQL             psql -At on the cluster's database
PG_BIN=/usr/lib/postgresql/15/bin
PG_DIR=
pg_cluster_need() {
	[ "$(id -u)" = 0 ] || { echo "needs root (runs the cluster as nobody)" >&2; exit 77; }
	[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] ||
		{ echo "needs PostgreSQL 15 (package postgresql)" >&2; exit 77; }
	command -v psql >/dev/null || { echo "needs psql" >&2; exit 77; }
}
asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
pg_cluster_up() { # dir
	PG_DIR=$1
	mkdir -p "$PG_DIR/data" "$PG_DIR/sock"
	chown -R nobody:nogroup "$PG_DIR"
	chmod 0755 "$PG_DIR"
	(cd "$PG_DIR" && LC_ALL=C asnobody "$PG_BIN/initdb" -D "$PG_DIR/data" -U vmdelay \
		--auth=trust >"$PG_DIR/initdb.log" 2>&1) ||
		{ echo "initdb failed: $(tail -5 "$PG_DIR/initdb.log")" >&2; exit 1; }
	(cd "$PG_DIR" && LC_ALL=C asnobody "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -t 60 \
		-l "$PG_DIR/server.log" \
		-o "-c listen_addresses='' -c unix_socket_directories='$PG_DIR/sock' -c fsync=off" \
		start >/dev/null 2>&1) ||
		{ echo "pg_ctl start failed: $(tail -5 "$PG_DIR/server.log")" >&2; exit 1; }
	PG_SOCK=$PG_DIR/sock
	# shellcheck disable=SC2034 # read by the scripts that source this file
	PG_URL="postgresql:///postgres?host=$PG_SOCK&user=vmdelay"
}
pg_cluster_cleanup() {
	[ -n "$PG_DIR" ] || return 0
	[ -f "$PG_DIR/data/postmaster.pid" ] &&
		(cd "$PG_DIR" && asnobody "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop \
			>/dev/null 2>&1)
	rm -rf "$PG_DIR"
	PG_DIR=
}
pgq() { psql -X -At -h "$PG_SOCK" -U vmdelay -d postgres -c "$1"; }
