#!/usr/bin/env bash
# timeout: 480
# The store on PostgreSQL (a real PostgreSQL 15 cluster this test starts as nobody, unix socket
# only): tping --db postgresql://… from 8 processes at once into a new database and again into
# the same one (all runs there with all their probes and --scenario/--meta labels, the schema
# migrated once), vmdelay-analyze --db with --testbed/--meta, a run killed with kill -9 keeps
# its committed probes and stays 'running', another program's database is refused and left as
# it was, and the store unit tests against the same server. Reading: the same runs stored into
# SQLite and into PostgreSQL give byte-identical `compare` outputs (text, CSV, JSON, --plot data,
# every kind of --by, and after old runs were deleted and VACUUM freed their space for new rows)
# and `tcp --transfers`; an empty database compares as empty and stays
# empty, another program's database, a newer schema and a missing database are refused (exit 1)
# with the URL named and its password masked.
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
. "$VMDELAY_ROOT/testbeds/on_exit.sh"
vd_on_exit cleanup
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
[ "$(pgq "SELECT string_agg(version::text, ',' ORDER BY version) FROM vmdelay_schema")" = 1,2,3 ] ||
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

# Reading from PostgreSQL: the same runs into an SQLite file and a database of their own.
AN=$VMDELAY_BIN/vmdelay-analyze
pgurl() { echo "postgresql:///$1?host=$PG_SOCK&user=vmdelay"; }
for d in cmp empty newer; do pgq "CREATE DATABASE $d" >/dev/null; done
CMP=$(pgurl cmp)
# four runs: two testbeds, labels, scenarios, --meta keys (load among them), vantage sets
i=0
for run in "lab a s1 e1000 cpu" "lab b s1 virtio io" "lab2 a s2 e1000 cpu" "lab2 b s2 virtio cpu"; do
	read -r tb label sc nic load <<<"$run"
	i=$((i + 1))
	vps=("wire:peer=$g/wire.pcap" "guest:vm=$g/tping.csv")
	[ $((i % 2)) = 1 ] && vps+=("bridge:host=$g/bridge.pcap")
	for db in "$tmp/cmp.db" "$CMP"; do
		"$VMDELAY_BIN/vmdelay-analyze" -q --db "$db" --testbed "$tb" --label "$label" \
			--scenario "$sc" --meta "scenario.nic=$nic" --meta "load=$load" "${vps[@]}" \
			>"$tmp/an.out" 2>&1 || fail "storing run $i into $db: $(tail -3 "$tmp/an.out")"
	done
done
# The same transfers (tperf's table) in both, as a user's SQL client would add them.
xfers="INSERT INTO transfers VALUES (1, 0, 102400, 1000000, 9000000, 102400000.5, 'ok'),
 (1, 1, 102400, 2000000, 4000000, 409600000, 'ok'), (1, 2, 0, NULL, NULL, NULL, 'refused'),
 (3, 0, 5000, 10, 20000010, 2000, 'short'), (3, 1, 102400, 30, 1000030, 819200000.25, 'ok')"
sqlite3 "$tmp/cmp.db" "$xfers" || fail "transfers into SQLite"
psql -X -q -h "$PG_SOCK" -U vmdelay -d cmp -c "$xfers" || fail "transfers into PostgreSQL"
pg_tables_of() { psql -X -At -h "$PG_SOCK" -U vmdelay -d "$1" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"; }
tables_before=$(pg_tables_of cmp)
same() { # name, then the arguments after the store: both outputs byte-identical, exit 0
	local name=$1 db
	shift
	for db in sqlite pg; do
		local where=$tmp/cmp.db
		[ $db = pg ] && where=$CMP
		"$AN" "${@:1:1}" "${@:2:1}" "$where" "${@:3}" >"$tmp/$name.$db" 2>"$tmp/$name.$db.err" ||
			fail "$name from $db: exit $? $(cat "$tmp/$name.$db.err")"
	done
	[ -s "$tmp/$name.sqlite" ] || fail "$name: empty output"
	cmp -s "$tmp/$name.sqlite" "$tmp/$name.pg" ||
		fail "$name: PostgreSQL differs from SQLite: $(diff "$tmp/$name.sqlite" "$tmp/$name.pg" | head -5)"
}
same text compare --db
same csv compare --db --csv
same json compare --db --json
for by in testbed label scenario scenario.nic load run testbed,scenario.nic,label; do
	same "by-$by" compare --db --by "$by" --csv
	same "by-$by-text" compare --db --by "$by"
done
same filtered compare --db --by label --metric 'delta*' --phase load --json
grep -q '^lab,s1,cpu,delta,bridge,' "$tmp/csv.pg" || fail "compare from PostgreSQL: no lab/s1/cpu bridge row: $(head -3 "$tmp/csv.pg")"
grep -q '^e1000,total,.*,2,' "$tmp/by-scenario.nic.pg" || fail "compare --by scenario.nic from PostgreSQL: e1000 has 2 runs"
for db in sqlite pg; do
	where=$tmp/cmp.db
	[ $db = pg ] && where=$CMP
	mkdir -p "$tmp/plot.$db"
	"$AN" compare --db "$where" --by scenario.nic --plot "$tmp/plot.$db" >/dev/null 2>&1 ||
		fail "--plot from $db"
done
cmp -s "$tmp/plot.sqlite/compare.dat" "$tmp/plot.pg/compare.dat" || fail "--plot data differ"
same xfers tcp --transfers --json
same xfers-run tcp --transfers --run 3
grep -q '"transfers":3,"failed":2,' "$tmp/xfers.pg" || fail "tcp --transfers from PostgreSQL: $(head -c 300 "$tmp/xfers.pg")"
# a key no run has: the same usage error on both
"$AN" compare --db "$CMP" --by flavour >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q flavour "$tmp/err" || fail "compare --by flavour on PostgreSQL: $(cat "$tmp/err")"
[ "$(pg_tables_of cmp)" = "$tables_before" ] || fail "reading changed the tables of the database"

# Old runs deleted, the space VACUUM freed, then new rows: PostgreSQL puts a run's later rows on
# the freed (earlier) pages, so the order rows were stored (ctid) is no longer the order written;
# compare lists results by their index within the run (results.idx, migration 3). Run 5, a copy
# of run 4, is written half before (at the table's end) and half after the other runs were
# deleted and VACUUMed (into their pages); compare then shows run 5 alone, its rows in the order
# written. The same statements on SQLite; both outputs must stay byte-identical.
both() { # SQL...: each statement in its own session / transaction, on both stores
	local q
	for q in "$@"; do
		sqlite3 "$tmp/cmp.db" "$q" || fail "SQLite: $q"
		psql -X -q -h "$PG_SOCK" -U vmdelay -d cmp -c "$q" || fail "PostgreSQL: $q"
	done
}
half=$(sqlite3 "$tmp/cmp.db" "SELECT count(*) / 2 FROM results WHERE run_id = 4")
runs_cols="testbed_id, tool, tool_version, host, kernel_release, command_line, label, scenario, params, start_ns, end_ns, complete, status"
res_cols="vantage, metric, phase, direction, stat, value"
both "CREATE TABLE run4 AS SELECT $res_cols, idx FROM results WHERE run_id = 4" \
	"INSERT INTO runs SELECT 5, $runs_cols FROM runs WHERE id = 4" \
	"INSERT INTO run_meta SELECT 5, key, value FROM run_meta WHERE run_id = 4" \
	"INSERT INTO results SELECT 5, $res_cols, idx FROM run4 WHERE idx < $half ORDER BY idx" \
	"DELETE FROM runs WHERE id < 5" "VACUUM" \
	"INSERT INTO results SELECT 5, $res_cols, idx FROM run4 WHERE idx >= $half ORDER BY idx" \
	"DROP TABLE run4"
moved=$(psql -X -At -h "$PG_SOCK" -U vmdelay -d cmp -c "SELECT count(*) FROM (SELECT idx, lag(idx) OVER (ORDER BY ctid) AS prev FROM results WHERE run_id = 5) AS w WHERE prev > idx")
[ "${moved:-0}" -gt 0 ] || fail "after DELETE + VACUUM, run 5's rows are still in ctid order: the case is not made"
same reused-text compare --db
same reused-csv compare --db --csv
same reused-by-run compare --db --by run --csv
grep -q '^5,' "$tmp/reused-by-run.pg" || fail "compare --by run: no run 5 after the VACUUM: $(head -3 "$tmp/reused-by-run.pg")"

# An empty database: no stored results, and still no table afterwards (readers never migrate).
"$AN" compare --db "$(pgurl empty)" >"$tmp/empty.out" 2>"$tmp/empty.err" ||
	fail "empty database: exit $? $(cat "$tmp/empty.err")"
grep -q 'no stored results' "$tmp/empty.err" || fail "empty database: $(cat "$tmp/empty.err")"
"$AN" tcp --transfers "$(pgurl empty)" --json >"$tmp/empty.x" 2>"$tmp/empty.err" ||
	fail "tcp --transfers of an empty database: exit $? $(cat "$tmp/empty.err")"
[ "$(pg_tables_of empty)" = 0 ] || fail "compare made tables in an empty database"
# Another program's database, with a password in the URL (both ways of giving it): exit 1,
# the URL named with the password masked, nothing changed.
for url in "postgresql://vmdelay:s3cret@/other?host=$PG_SOCK" "$(pgurl other)&password=s3cret"; do
	for how in "compare --db" "tcp --transfers"; do
		# shellcheck disable=SC2086 # $how is two words
		"$AN" $how "$url" >/dev/null 2>"$tmp/err"
		rc=$?
		[ "$rc" = 1 ] || fail "$how another program's database: exit $rc $(cat "$tmp/err")"
		grep -q 'not a vmdelay store' "$tmp/err" && grep -q '/other?host=' "$tmp/err" ||
			fail "$how another program's database: $(cat "$tmp/err")"
		grep -q s3cret "$tmp/err" && fail "$how: the password shown: $(cat "$tmp/err")"
		grep -q '\*\*\*' "$tmp/err" || fail "$how: no masked password: $(cat "$tmp/err")"
	done
done
after=$(psql -X -At -h "$PG_SOCK" -U vmdelay -d other -c "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'")
[ "$before" = "$after" ] || fail "reading another program's database changed it: $before -> $after"
# A newer schema than this build's, and a database that does not exist: exit 1, named.
psql -X -q -h "$PG_SOCK" -U vmdelay -d newer -c "CREATE TABLE vmdelay_schema (version INTEGER NOT NULL); INSERT INTO vmdelay_schema VALUES (1), (99)"
"$AN" compare --db "$(pgurl newer)" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q 'schema version 99 is newer' "$tmp/err" || fail "newer schema: $(cat "$tmp/err")"
"$AN" compare --db "$(pgurl nosuch)" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q '/nosuch?host=.*cannot connect' "$tmp/err" || fail "missing database: $(cat "$tmp/err")"

# The store's unit tests on this server (the tests that take VMDELAY_TEST_PG).
pgq "CREATE DATABASE unit" >/dev/null
VMDELAY_TEST_PG="postgresql:///unit?host=$PG_SOCK&user=vmdelay" \
	"$VMDELAY_ROOT/build/asan/tests/test_store_writers" >"$tmp/unit.out" 2>&1 ||
	fail "unit tests on PostgreSQL: $(tail -5 "$tmp/unit.out")"
grep -q 'OK.*postgresql' "$tmp/unit.out" || fail "the PostgreSQL unit tests did not run"
head -n 3 "$tmp/text.pg" "$tmp/by-testbed,scenario.nic,label.pg"
echo "store on PostgreSQL: ok"
