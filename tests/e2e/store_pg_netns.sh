#!/usr/bin/env bash
# timeout: 300
# The store on PostgreSQL (a real PostgreSQL 15 cluster this test starts as nobody, unix socket
# only): tping --db postgresql://… from 8 processes at once into a new database and again into
# the same one (all runs there with all their probes and --scenario/--meta labels, the schema
# migrated once), vmdelay-analyze --db with --testbed/--meta, a run killed with kill -9 keeps
# its committed probes and stays 'running', another program's database is refused and left as
# it was, and the store unit tests against the same server.
set -u
. "$VMDELAY_ROOT/tests/e2e/lib/tping_topo.bash"
. "$VMDELAY_ROOT/tests/e2e/lib/pg_cluster.bash"
topo_need setpriv
pg_cluster_need
tmp=$(mktemp -d)
tp_pid=
cleanup() {
	[ -n "$tp_pid" ] && kill -9 "$tp_pid" 2>/dev/null
	pg_cluster_cleanup
	topo_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
topo_up
chmod 0755 "$tmp" # nobody runs the cluster below it
pg_cluster_up "$tmp/pg"
TP=$VMDELAY_BIN/tping

writers() { # round
	local pids=() i
	for i in $(seq 8); do
		ip netns exec "$S" "$TP" -q -c 30 -i 0.01 --db "$PG_URL" --testbed e2e \
			--label "r$1w$i" --scenario "round$1" --meta "writer=w$i" \
			--meta clocksource=user "$V4" >"$tmp/w$1.$i.out" 2>&1 &
		pids+=($!)
	done
	for i in $(seq 8); do
		wait "${pids[$((i - 1))]}" || fail "round $1 writer $i: $(tail -3 "$tmp/w$1.$i.out")"
	done
}
writers 1
[ "$(pgq "SELECT count(*) FROM runs WHERE complete = 1 AND status = 'complete'")" = 8 ] ||
	fail "new database: $(pgq 'SELECT id, label, status FROM runs')"
[ "$(pgq "SELECT string_agg(version::text, ',' ORDER BY version) FROM vmdelay_schema")" = 1,2 ] ||
	fail "migrations: $(pgq 'SELECT * FROM vmdelay_schema')"
writers 2
[ "$(pgq "SELECT count(*) FROM runs WHERE complete = 1")" = 16 ] || fail "existing database"
bad=$(pgq "SELECT r.label || ':' || count(p.idx) FROM runs r LEFT JOIN probes p ON p.run_id = r.id GROUP BY r.id, r.label HAVING count(p.idx) != 30")
[ -z "$bad" ] || fail "runs without their 30 probes: $bad"
[ "$(pgq "SELECT count(*) FROM results WHERE stat = 'median_ns'")" -gt 0 ] || fail "no results stored"
# --scenario and --meta on PostgreSQL: every run has its labels; tping's own clocksource wins.
bad=$(pgq "SELECT r.label FROM runs r LEFT JOIN run_meta m ON m.run_id = r.id AND m.key = 'writer' WHERE r.label LIKE 'r_w%' AND (m.value IS NULL OR r.label NOT LIKE '%' || m.value OR r.scenario IS DISTINCT FROM 'round' || substr(r.label, 2, 1))")
[ -z "$bad" ] || fail "runs without their --scenario/--meta labels: $bad"
[ "$(pgq "SELECT count(*) FROM run_meta WHERE key = 'clocksource' AND value = 'user'")" = 0 ] ||
	fail "--meta clocksource=user replaced tping's own clocksource"

# vmdelay-analyze --db: the run, its vantage points and results, as in SQLite (analyze_store).
g="$VMDELAY_ROOT/tests/golden/analyze_synth"
"$VMDELAY_BIN/vmdelay-analyze" -q --db "$PG_URL" --label golden --testbed lab \
	--meta scenario.nic=e1000 --meta "note=a=b" "wire:peer=$g/wire.pcap" \
	"bridge:host=$g/bridge.pcap" "guest:vm=$g/tping.csv" >"$tmp/an.out" 2>&1 ||
	fail "vmdelay-analyze --db: $(tail -3 "$tmp/an.out")"
[ "$(pgq "SELECT string_agg(v.name || ':' || v.clock || ':' || v.matched, ' ' ORDER BY v.name) FROM vantage_points v JOIN runs r ON r.id = v.run_id WHERE r.label = 'golden' AND r.complete = 1")" = \
	"bridge:host:40 guest.kernel:vm:40 guest.user:vm:40 wire:peer:40" ] ||
	fail "analyze vantage points: $(pgq 'SELECT * FROM vantage_points')"
[ "$(pgq "SELECT count(*) FROM results s JOIN runs r ON r.id = s.run_id WHERE r.label = 'golden' AND s.metric = 'delta' AND s.stat = 'median_ns' AND s.direction IN ('rtt', 'send', 'recv')")" = 36 ] ||
	fail "analyze results on PostgreSQL"
[ "$(pgq "SELECT t.name || ' ' || string_agg(m.key || '=' || m.value, ' ' ORDER BY m.key) FROM runs r JOIN testbeds t ON t.id = r.testbed_id JOIN run_meta m ON m.run_id = r.id WHERE r.label = 'golden' AND m.key IN ('note', 'scenario.nic') GROUP BY t.name")" = \
	"lab note=a=b scenario.nic=e1000" ] ||
	fail "analyze --testbed/--meta on PostgreSQL: $(pgq "SELECT * FROM run_meta m JOIN runs r ON r.id = m.run_id WHERE r.label = 'golden'")"

# kill -9 mid-run: the committed batches are there, the run stays 'running'.
ip netns exec "$S" "$TP" -q -c 2000 -i 0.01 --db "$PG_URL" --label killed "$V4" >"$tmp/kill.out" 2>&1 &
tp_pid=$!
sleep 2.5
kill -9 "$tp_pid"
wait "$tp_pid" 2>/dev/null
tp_pid=
row=$(pgq "SELECT status || ' ' || complete FROM runs WHERE label = 'killed'")
[ "$row" = "running 0" ] || fail "killed run: '$row'"
n=$(pgq "SELECT count(*) FROM probes p JOIN runs r ON r.id = p.run_id WHERE r.label = 'killed'")
[ "$n" -ge 80 ] && [ "$n" -le 260 ] || fail "killed after 2.5 s at 100 Hz: $n probes stored"

# Another program's database: refused, untouched.
pgq "CREATE DATABASE other" >/dev/null
psql -X -q -h "$PG_SOCK" -U vmdelay -d other -c "CREATE TABLE notes(x text); INSERT INTO notes VALUES ('mine')"
before=$(psql -X -At -h "$PG_SOCK" -U vmdelay -d other -c "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'")
ip netns exec "$S" "$TP" -q -c 3 -i 0.01 --db "postgresql:///other?host=$PG_SOCK&user=vmdelay" "$V4" \
	>"$tmp/other.out" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "another program's database: exit $rc"
grep -q "not a vmdelay store" "$tmp/other.out" || fail "another program's database: $(cat "$tmp/other.out")"
after=$(psql -X -At -h "$PG_SOCK" -U vmdelay -d other -c "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'")
[ "$before" = "$after" ] || fail "another program's database changed: $before -> $after"

# The store's unit tests on this server (the tests that take VMDELAY_TEST_PG).
pgq "CREATE DATABASE unit" >/dev/null
VMDELAY_TEST_PG="postgresql:///unit?host=$PG_SOCK&user=vmdelay" \
	"$VMDELAY_ROOT/build/asan/tests/test_store_writers" >"$tmp/unit.out" 2>&1 ||
	fail "unit tests on PostgreSQL: $(tail -5 "$tmp/unit.out")"
grep -q 'OK.*postgresql' "$tmp/unit.out" || fail "the PostgreSQL unit tests did not run"
echo "store on PostgreSQL: ok"
