#!/usr/bin/env bash
# timeout: 400
# End to end: tperf across a veth pair and a Linux bridge in network namespaces,
# tcpdump at both ends; 100 transfers of 100 KB all complete; vmdelay-analyze tcp finds the
# 100 flows at both vantage points, each flow's throughput series (RTT and 1 s timescales)
# integrates to the 102400 bytes moved, the per-packet delay sender>receiver is measured;
# the transfer CDF is read back from the SQLite store; IPv6 works; a refused connection and a
# reset give exit 1 with a clear message.
set -u
BIN=${VMDELAY_BIN:-build/asan/bin}
skip() { echo "$*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
command -v tcpdump >/dev/null || skip "tcpdump is not installed"
command -v python3 >/dev/null || skip "python3 is not installed (used to check JSON)"
ip netns add "vdtc$$probe" 2>/dev/null || skip "cannot create network namespaces"
ip netns del "vdtc$$probe"

A=vdtc$$a B=vdtc$$b R=vdtc$$r
TMP=$(mktemp -d /tmp/vd-tcp-e2e.XXXXXX)
[ -n "${VD_KEEP:-}" ] && echo "keeping $TMP" >&2
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	ip netns del "$R" 2>/dev/null
	[ -n "${VD_KEEP:-}" ] || rm -rf "$TMP"
}
. "$(dirname "$0")/../../testbeds/on_exit.sh"
vd_on_exit cleanup

# sender (A) -- veth -- bridge (R) -- veth -- sink (B)
ip netns add "$A" && ip netns add "$B" && ip netns add "$R" || fail "netns"
ip link add va$$ netns "$A" type veth peer name ra$$ netns "$R" || fail "veth a"
ip link add vb$$ netns "$B" type veth peer name rb$$ netns "$R" || fail "veth b"
ip -n "$R" link add br$$ type bridge || fail "bridge"
ip -n "$R" link set ra$$ master br$$ && ip -n "$R" link set rb$$ master br$$
for l in ra$$ rb$$ br$$ lo; do ip -n "$R" link set "$l" up; done
ip -n "$A" addr add 10.99.0.1/24 dev va$$ && ip -n "$A" addr add fd00:99::1/64 dev va$$ nodad
ip -n "$B" addr add 10.99.0.2/24 dev vb$$ && ip -n "$B" addr add fd00:99::2/64 dev vb$$ nodad
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set va$$ up && ip -n "$B" link set vb$$ up
ip netns exec "$A" ping -c 1 -W 5 10.99.0.2 >/dev/null || fail "no connectivity across the bridge"

# waits (bounded) for a line in a file
wait_for() { # file pattern seconds
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# captures at both ends (headers only: the analysis needs no payload)
ip netns exec "$A" tcpdump -i va$$ -s 128 -B 16384 --immediate-mode -U -w "$TMP/sender.pcap" tcp 2>"$TMP/tda.err" &
pids+=($!)
ip netns exec "$B" tcpdump -i vb$$ -s 128 -B 16384 --immediate-mode -U -w "$TMP/receiver.pcap" tcp 2>"$TMP/tdb.err" &
pids+=($!)
wait_for "$TMP/tda.err" "listening on" 10 || fail "tcpdump (sender side) did not start"
wait_for "$TMP/tdb.err" "listening on" 10 || fail "tcpdump (receiver side) did not start"

ip netns exec "$B" "$BIN/tperf" sink -p 5001 -c 100 -t 120 --csv -o "$TMP/sink.csv" 2>"$TMP/sink.err" &
sink=$!
pids+=("$sink")
wait_for "$TMP/sink.err" "listening on" 10 || fail "sink did not start: $(cat "$TMP/sink.err")"

ip netns exec "$A" "$BIN/tperf" send 10.99.0.2 -p 5001 -r 100x100KB -m 16K -t 120 --csv \
	-o "$TMP/send.csv" --db "$TMP/run.db" --testbed netns-e2e --label "100x100KB" \
	2>"$TMP/send.err" || fail "tperf send failed: $(cat "$TMP/send.err")"
wait "$sink" || fail "sink exited non-zero: $(cat "$TMP/sink.err")"
sleep 1.5 # the last FIN/ACKs reach the captures (and tcpdump writes them)
for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
pids=()

ok=$(awk -F, 'NR > 1 && $2 == 102400 && $NF == "ok"' "$TMP/send.csv" | wc -l)
[ "$ok" = 100 ] || fail "sender: $ok of 100 transfers of 102400 bytes ok"
ok=$(awk -F, 'NR > 1 && $3 == 102400 && $NF == "ok"' "$TMP/sink.csv" | wc -l)
[ "$ok" = 100 ] || fail "sink: $ok of 100 connections read 102400 bytes"
rows=$(sqlite3 "$TMP/run.db" "SELECT count(*) FROM transfers t JOIN runs r ON r.id = t.run_id
	WHERE r.tool = 'tperf' AND r.complete = 1 AND t.status = 'ok' AND t.bytes = 102400")
[ "$rows" = 100 ] || fail "store: $rows transfers stored"

"$BIN/vmdelay-analyze" tcp --json --plot "$TMP/plot" --transfers "$TMP/run.db" \
	--db "$TMP/run.db" sender="$TMP/sender.pcap" receiver="$TMP/receiver.pcap" \
	>"$TMP/tcp.json" 2>"$TMP/tcp.err" || fail "vmdelay-analyze tcp: $(cat "$TMP/tcp.err")"

python3 - "$TMP" <<'PY' || fail "analysis checks failed"
import collections, csv, json, sys
d = sys.argv[1]
rows = [json.loads(l) for l in open(f"{d}/tcp.json")]
flows = [r for r in rows if r["type"] == "flow"]
bad = 0
for v in ("sender", "receiver"):
    fv = [f for f in flows if f["vantage"] == v and f["data_bytes"] > 0]
    if len(fv) != 100:
        print(f"{v}: {len(fv)} data flows, want 100"); bad = 1; continue
    for f in fv:
        a = f["ack_interarrival"]
        if f["acked_bytes"] != 102400 or f["data_receiver"].split(":")[-1] != "5001":
            print(f"{v} {f['flow']}: acked {f['acked_bytes']}"); bad = 1
        if a["acks"] < 2 or a["bin_ns"] != 10000 or a["ref_ns"] != 120000 \
           or sum(b["count"] for b in a["bins"]) + a["overflow"] + a["negative"] != a["gaps"]:
            print(f"{v} {f['flow']}: histogram does not add up: {a['gaps']}"); bad = 1
        if f["rtt_source"] != "handshake" or "mid-stream" in f["notes"]:
            print(f"{v} {f['flow']}: rtt {f['rtt_source']} notes {f['notes']}"); bad = 1
    # the throughput series (from --plot) integrate to the bytes moved, per flow
    sums = collections.defaultdict(int)
    with open(f"{d}/plot/tput_{v}.csv") as fh:
        for r in csv.DictReader(fh):
            sums[(r["flow"], r["timescale"])] += int(r["bytes"])
    for f in fv:
        for ts in ("rtt", "long"):
            if sums[(f["flow"], ts)] != 102400:
                print(f"{v} {f['flow']} {ts}: series sums to {sums[(f['flow'], ts)]}"); bad = 1
    if f["throughput"]["long"]["bytes"] != 102400:
        print("throughput.long.bytes"); bad = 1
cdf = [r for r in rows if r["type"] == "delay_cdf" and r["path"] == "sender>receiver"]
if not cdf or cdf[0]["packets"] < 100 * 5 or not (0 <= cdf[0]["p50_ns"] < 50_000_000):
    print("no per-packet delay sender>receiver", cdf); bad = 1
x = [r for r in rows if r["type"] == "transfer_cdf"]
if not x or x[0]["transfers"] != 100 or x[0]["failed"] != 0 or not x[0]["p50_bps"] > 0:
    print("transfer CDF", x); bad = 1
sys.exit(bad)
PY
for f in ackhist_sender.csv tput_receiver.csv seq_sender.csv tcp.gp transfer_cdf.csv \
	delay_cdf_sender_receiver.csv ackhist.svg tput_sender.svg seq_receiver.svg delay_cdf.svg \
	transfer_cdf.svg; do
	[ -s "$TMP/plot/$f" ] || fail "--plot did not write $f"
done
n=$(sqlite3 "$TMP/run.db" "SELECT count(*) FROM results r JOIN runs u ON u.id = r.run_id WHERE
	u.tool = 'vmdelay-analyze' AND r.metric = 'ack_interarrival' AND r.stat = 'fraction_below_ref'")
[ "$n" -ge 200 ] || fail "--db stored $n ACK results"

# IPv6
ip netns exec "$B" "$BIN/tperf" sink -B fd00:99::2 -p 5002 -c 1 -t 30 2>"$TMP/sink6.err" >/dev/null &
sink=$!
pids+=("$sink")
wait_for "$TMP/sink6.err" "listening on" 10 || fail "IPv6 sink did not start"
ip netns exec "$A" "$BIN/tperf" send fd00:99::2 -p 5002 -n 1M --json -t 30 >"$TMP/send6.json" \
	2>"$TMP/send6.err" || fail "IPv6 transfer failed: $(cat "$TMP/send6.err")"
grep -q '"bytes":1048576' "$TMP/send6.json" || fail "IPv6: $(cat "$TMP/send6.json")"
wait "$sink" || fail "IPv6 sink"
pids=()

# refused: nothing listens on 5999
ip netns exec "$A" "$BIN/tperf" send 10.99.0.2 -p 5999 -n 1K -t 10 >/dev/null 2>"$TMP/refused.err"
rc=$?
[ "$rc" = 1 ] || fail "refused connection: exit $rc, want 1"
grep -q "connection refused" "$TMP/refused.err" || fail "refused: message: $(cat "$TMP/refused.err")"

# reset: the sink is killed (SIGKILL) in the middle of a long transfer
ip netns exec "$B" "$BIN/tperf" sink -p 5003 -c 1 -t 30 2>"$TMP/sink7.err" >/dev/null &
sink=$!
pids+=("$sink")
wait_for "$TMP/sink7.err" "listening on" 10 || fail "sink (reset) did not start"
(sleep 0.5; kill -9 "$sink") &
ip netns exec "$A" "$BIN/tperf" send 10.99.0.2 -p 5003 -n 16G -t 30 >/dev/null 2>"$TMP/reset.err"
rc=$?
wait "$sink" 2>/dev/null
pids=()
[ "$rc" = 1 ] || fail "reset: exit $rc, want 1"
grep -q "reset by peer" "$TMP/reset.err" || fail "reset: message: $(cat "$TMP/reset.err")"
echo "tcp_netns: 100 x 100 KB ok, series integrate, delay and transfer CDFs, IPv6, refused, reset"
