#!/usr/bin/env bash
# timeout: 300
# The run store under real use: 8 tping processes writing into one store at once (a new file,
# then the same file again), runs streamed as they go (kill -9 after ~2 s leaves the probes
# committed so far and the run marked 'running'; SIGINT leaves every probe and the run marked
# 'interrupted'), a read-only store compared by an unprivileged user, and refused files left
# byte-identical.
set -u
. "$VMDELAY_ROOT/tests/e2e/lib/tping_topo.bash"
topo_need sqlite3 setpriv sha256sum
[ -x /usr/bin/time ] || skip "needs /usr/bin/time (package time)"
tmp=$(mktemp -d)
tp_pid=
cleanup() {
	[ -n "$tp_pid" ] && kill -9 "$tp_pid" 2>/dev/null
	umount "$tmp/full" 2>/dev/null
	topo_cleanup
	chmod -R u+w "$tmp" 2>/dev/null
	rm -rf "$tmp"
}
. "$VMDELAY_ROOT/testbeds/on_exit.sh"
vd_on_exit cleanup
topo_up
TP=$VMDELAY_BIN/tping
AN=$VMDELAY_BIN/vmdelay-analyze
inS() { ip netns exec "$S" "$@"; }
q() { sqlite3 -batch -noheader "$1" "$2"; }

# 1. Eight writers at once into a store that does not exist yet, then into the existing one.
writers() { # db round
	local pids=() i
	for i in $(seq 8); do
		inS "$TP" -q -c 30 -i 0.01 --db "$1" --testbed e2e --label "r$2w$i" "$V4" \
			>"$tmp/w$2.$i.out" 2>&1 &
		pids+=($!)
	done
	for i in $(seq 8); do
		wait "${pids[$((i - 1))]}" || fail "round $2 writer $i failed: $(tail -3 "$tmp/w$2.$i.out")"
	done
}
writers "$tmp/many.db" 1
[ "$(q "$tmp/many.db" "SELECT count(*) FROM runs WHERE complete = 1 AND status = 'complete'")" = 8 ] ||
	fail "new store: $(q "$tmp/many.db" 'SELECT id, label, status FROM runs')"
writers "$tmp/many.db" 2
[ "$(q "$tmp/many.db" "SELECT count(*) FROM runs WHERE complete = 1")" = 16 ] ||
	fail "existing store: $(q "$tmp/many.db" 'SELECT id, label, status FROM runs')"
bad=$(q "$tmp/many.db" "SELECT r.label || ':' || count(p.idx) FROM runs r LEFT JOIN probes p ON p.run_id = r.id GROUP BY r.id HAVING count(p.idx) != 30")
[ -z "$bad" ] || fail "runs without their 30 probes: $bad"

# 2. kill -9 in the middle of a 100 Hz run: the probes of the batches committed are there (one
#    batch a second: at least ~1 s of the ~2.5 s), the run is not complete.
# (ip netns exec, not a shell function: $! must be tping itself, which ip netns exec becomes)
ip netns exec "$S" "$TP" -q -c 2000 -i 0.01 --db "$tmp/kill.db" --label killed "$V4" >"$tmp/kill.out" 2>&1 &
tp_pid=$!
sleep 2.5
kill -9 "$tp_pid"
wait "$tp_pid" 2>/dev/null
tp_pid=
row=$(q "$tmp/kill.db" "SELECT status || ' ' || complete || ' ' || (end_ns IS NULL) FROM runs WHERE label = 'killed'")
[ "$row" = "running 0 1" ] || fail "killed run: '$row' (want status running, not complete, no end)"
n=$(q "$tmp/kill.db" "SELECT count(*) FROM probes")
[ "$n" -ge 80 ] && [ "$n" -le 260 ] || fail "killed after 2.5 s at 100 Hz: $n probes stored"
[ "$(q "$tmp/kill.db" "SELECT count(*) FROM probes WHERE idx != seq - 1")" = 0 ] ||
	fail "the stored probes are not the first ones in order"

# 3. SIGINT and SIGTERM: tping stops sending, finishes what is in flight, stores every probe it
#    printed and marks the run interrupted (not complete).
for sig in INT TERM; do
	ip netns exec "$S" "$TP" -c 2000 -i 0.01 --csv -o "$tmp/$sig.csv" --db "$tmp/$sig.db" \
		--label "$sig" "$V4" >"$tmp/$sig.out" 2>&1 &
	tp_pid=$!
	sleep 2.5
	kill -"$sig" "$tp_pid"
	wait "$tp_pid"
	rc=$?
	tp_pid=
	[ "$rc" = 0 ] || fail "SIG$sig: exit $rc: $(tail -3 "$tmp/$sig.out")"
	row=$(q "$tmp/$sig.db" "SELECT status || ' ' || complete || ' ' || (end_ns IS NOT NULL) FROM runs")
	[ "$row" = "interrupted 0 1" ] || fail "SIG$sig: run '$row'"
	rows=$(($(wc -l <"$tmp/$sig.csv") - 1))
	n=$(q "$tmp/$sig.db" "SELECT count(*) FROM probes")
	[ "$rows" -gt 100 ] && [ "$n" = "$rows" ] || fail "SIG$sig: $rows rows printed, $n stored"
	[ "$(q "$tmp/$sig.db" "SELECT value FROM run_meta WHERE key = 'interrupted'")" = 1 ] ||
		fail "SIG$sig: run_meta interrupted not 1"
done

# 4. A read-only store (0444 file in a 0555 directory, WAL mode) compared by another user:
#    read, not written, nothing created next to it.
mkdir "$tmp/ro"
cp "$tmp/many.db" "$tmp/ro/runs.db"
chmod 0444 "$tmp/ro/runs.db"
chmod 0555 "$tmp/ro"
chmod 0755 "$tmp"
sum=$(sha256sum <"$tmp/ro/runs.db")
setpriv --reuid=nobody --regid=nogroup --clear-groups "$AN" compare --db "$tmp/ro/runs.db" \
	--by label >"$tmp/cmp.out" 2>&1 || fail "compare of a read-only store: $(tail -3 "$tmp/cmp.out")"
grep -q r1w1 "$tmp/cmp.out" || fail "compare output lacks run r1w1: $(head -5 "$tmp/cmp.out")"
[ "$(sha256sum <"$tmp/ro/runs.db")" = "$sum" ] || fail "compare changed the read-only store"
[ "$(ls "$tmp/ro")" = runs.db ] || fail "compare created files: $(ls "$tmp/ro")"
# the same store read as a tping vantage point by the analyzer
setpriv --reuid=nobody --regid=nogroup --clear-groups "$AN" --csv "user:vm=$tmp/ro/runs.db" \
	>"$tmp/an-ro.out" 2>&1 || fail "analyze of a read-only tping store: $(tail -3 "$tmp/an-ro.out")"
grep -q '^user.kernel,' "$tmp/an-ro.out" || fail "analyze of a read-only store printed no vantage row: $(head -3 "$tmp/an-ro.out")"
[ "$(sha256sum <"$tmp/ro/runs.db")" = "$sum" ] || fail "analyze changed the read-only store"
[ "$(ls "$tmp/ro")" = runs.db ] || fail "analyze created files: $(ls "$tmp/ro")"
# the 0444 file in a writable directory, same user
chmod 0777 "$tmp/ro"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$AN" compare --db "$tmp/ro/runs.db" \
	--by label >"$tmp/cmp2.out" 2>&1 || fail "compare of a 0444 store: $(tail -3 "$tmp/cmp2.out")"
[ "$(sha256sum <"$tmp/ro/runs.db")" = "$sum" ] || fail "compare changed the 0444 store"

# 5. Refused files stay byte-identical; the message names the file and what was found; exit 1.
sqlite3 "$tmp/other.db" "PRAGMA application_id = 42; CREATE TABLE notes(x); INSERT INTO notes VALUES ('mine');"
sqlite3 "$tmp/newer.db" "PRAGMA application_id = 1986872396; PRAGMA user_version = 999; CREATE TABLE runs(id);"
for f in other newer; do
	sum=$(sha256sum <"$tmp/$f.db")
	inS "$TP" -q -c 3 -i 0.01 --db "$tmp/$f.db" "$V4" >"$tmp/$f.out" 2>&1
	rc=$?
	[ "$rc" = 1 ] || fail "tping --db $f.db: exit $rc"
	grep -q "$tmp/$f.db" "$tmp/$f.out" || fail "tping --db $f.db: message names no file: $(cat "$tmp/$f.out")"
	"$AN" compare --db "$tmp/$f.db" >"$tmp/$f.cmp" 2>&1
	rc=$?
	[ "$rc" = 1 ] || fail "compare --db $f.db: exit $rc"
	[ "$(sha256sum <"$tmp/$f.db")" = "$sum" ] || fail "$f.db was modified"
	[ ! -e "$tmp/$f.db-wal" ] || fail "$f.db-wal created"
done
grep -q "application_id 0x0000002a" "$tmp/other.out" || fail "other.db: $(cat "$tmp/other.out")"
grep -q "schema version 999 is newer" "$tmp/newer.cmp" || fail "newer.db: $(cat "$tmp/newer.cmp")"

# 6. A run longer than tping's ring of probes in flight (65536): every probe stored once, in
#    order (the slots are reused as the run goes).
ip netns exec "$S" "$TP" -q -c 70000 -i 0.00002 --db "$tmp/long.db" "$V4" >"$tmp/long.out" 2>&1 ||
	fail "70000 probes: $(tail -3 "$tmp/long.out")"
[ "$(q "$tmp/long.db" "SELECT count(*) || ' ' || count(DISTINCT seq) || ' ' || max(seq) || ' ' || sum(idx = seq - 1) FROM probes")" = "70000 70000 70000 70000" ] ||
	fail "70000 probes stored as: $(q "$tmp/long.db" "SELECT count(*), count(DISTINCT seq), max(seq) FROM probes")"

# 7. Memory does not grow with the run: 4 times the probes, about the same peak (before,
#    ~290 bytes per probe: +44 MB here).
rss() { # count -> max RSS in KB of a run of that many probes
	/usr/bin/time -f '%M' -o "$tmp/rss" ip netns exec "$S" "$TP" -q -c "$1" -i 0.00002 "$V4" \
		>/dev/null 2>&1 || fail "$1 probes: exit $?"
	tail -1 "$tmp/rss"
}
small=$(rss 50000)
big=$(rss 200000)
[ "$big" -lt $((small + 8192)) ] || fail "memory grows with the run: $small KB for 50000 probes, $big KB for 200000"

# 8. tping -o on a full disk: exit 1, the message names the file and the reason, no file left.
mkdir "$tmp/full"
mount -t tmpfs -o size=64k tmpfs "$tmp/full" || fail "cannot mount a tmpfs"
dd if=/dev/zero of="$tmp/full/fill" bs=4k 2>/dev/null
ip netns exec "$S" "$TP" -q -c 20 -i 0.01 --csv -o "$tmp/full/rows.csv" "$V4" >"$tmp/full.out" 2>&1
rc=$?
left=$(ls -A "$tmp/full")
umount "$tmp/full"
[ "$left" = fill ] || fail "tping -o on a full disk left: $left"
[ "$rc" = 1 ] || fail "tping -o on a full disk: exit $rc"
grep -q "^tping: $tmp/full/rows.csv: write error: No space left on device" "$tmp/full.out" ||
	fail "tping -o on a full disk: $(cat "$tmp/full.out")"
echo "store e2e: ok"
