#!/usr/bin/env bash
# timeout: 120
# tcpmon --backend bpf record --stats-every and --prometheus on this kernel: pings across a veth
# pair between two namespaces; the per-second CSV rows give per-layer percentiles in order
# (p50 <= p90 <= p99 <= max) with every layer a ping passes after its first; a real HTTP client
# (python3 urllib) scrapes the loopback endpoint: histograms well formed (buckets never
# decreasing, +Inf = _count), exactly 2 x pings delays into dev-rx, the record counters equal to
# the file's, no loss; 404 and 405 for other paths and methods; the endpoint is on 127.0.0.1
# when no address is given. Skips (77) when not root, without BTF or python3.
set -u
. "$(dirname "$0")/lib/tcpmon_bpf.bash"
bpf_test_setup tcpmon_bpf_live python3
veth_up vdlva$$ vdlvb$$ 10.203.0 || die "veth pair"

"$bin/tcpmon" --backend bpf record -w "$work/x.tcm" --prometheus 127.0.0.1:99999 2>"$work/bad.err"
[ $? = 2 ] && grep -q "bad port" "$work/bad.err" || die "port 99999 not a usage error: $(cat "$work/bad.err")"
"$bin/tcpmon" --backend kmod record -w "$work/x.tcm" --stats-every 1s 2>/dev/null
[ $? = 2 ] || die "--stats-every with the module: not a usage error"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
n=200
rec_start "$work/live.tcm" --stats-every 1s --csv --prometheus "$port" icmp host 10.203.0.1 >"$work/stats.csv"
ss -ltn | grep -q "127.0.0.1:$port " || die "not listening on 127.0.0.1:$port"
ip netns exec "$veth_a" ping -q -c $n -i 0.01 10.203.0.2 >/dev/null || die "ping"
sleep 1.5 # the ring drained and one more statistics interval printed
python3 - "$port" "$n" >"$work/scrape.out" <<'PY' || { cat "$work/scrape.out"; die "scrape"; }
import re, sys, urllib.request, urllib.error
port, n = sys.argv[1], int(sys.argv[2])
url = "http://127.0.0.1:%s/metrics" % port
with urllib.request.urlopen(url, timeout=5) as r:
    assert r.status == 200, r.status
    ctype = r.headers["Content-Type"]
    assert ctype.startswith("text/plain; version=0.0.4"), ctype
    body = r.read().decode()
for path, method, want in (("/nothing", "GET", 404), ("/metrics", "POST", 405)):
    try:
        urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%s%s" % (port, path), method=method, data=b"" if method == "POST" else None), timeout=5)
        sys.exit("%s %s: no error" % (method, path))
    except urllib.error.HTTPError as e:
        assert e.code == want, (method, path, e.code)
samples = {}
for line in body.splitlines():
    if not line or line.startswith("#"):
        continue
    m = re.fullmatch(r'([a-z_]+)(\{[^}]*\})? (\S+)', line)
    assert m, "bad line: " + line
    samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
layers = sorted({re.search(r'layer="([^"]+)"', k).group(1) for k in samples if k.startswith("tcpmon_layer_delay_seconds_count")})
for l in layers:
    buckets = [(k, v) for k, v in samples.items() if k.startswith('tcpmon_layer_delay_seconds_bucket{layer="%s",' % l)]
    vals = [v for _, v in buckets]
    assert vals == sorted(vals), (l, vals)
    count = samples['tcpmon_layer_delay_seconds_count{layer="%s"}' % l]
    assert samples['tcpmon_layer_delay_seconds_bucket{layer="%s",le="+Inf"}' % l] == count, l
    assert (count > 0) == (samples['tcpmon_layer_delay_seconds_sum{layer="%s"}' % l] > 0), l
rx = samples['tcpmon_layer_delay_seconds_count{layer="dev-rx"}']
assert rx == 2 * n, "dev-rx delays %d, expected %d" % (rx, 2 * n)
lost = sum(v for k, v in samples.items() if k.startswith("tcpmon_records_lost_total"))
assert lost == 0, lost
assert samples["tcpmon_records_total"] == samples["tcpmon_records_read_total"], samples
print("scrape ok: %d records, layers with delays: %s" % (samples["tcpmon_records_total"], " ".join(l for l in layers if samples['tcpmon_layer_delay_seconds_count{layer="%s"}' % l] > 0)))
print("records_total=%d" % samples["tcpmon_records_total"])
PY
cat "$work/scrape.out"
rec_stop || die "tcpmon record exited $?"
cat "$work/live.tcm.log"
total=$(sed -n 's/^records_total=//p' "$work/scrape.out")
"$bin/tcpmon" dump --header --csv "$work/live.tcm" | awk -F, -v t="$total" 'NR==1{for(i=1;i<=NF;i++)c[$i]=i} NR==2 && $c["records"] != t { print "file has " $c["records"] " records, the scrape said " t; exit 1 }' ||
	die "records in the file differ from the scrape"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	{ seen[$c["layer"]] += $c["n"]
	  if (!($c["p50_ns"] <= $c["p90_ns"] && $c["p90_ns"] <= $c["p99_ns"] && $c["p99_ns"] <= $c["max_ns"])) { print "percentiles out of order: " $0; bad = 1 } }
	END { split("ip-post dev-queue dev-tx dev-rx ip-pre ip-local-in sock-copy", want, " ")
	      for (i in want) if (!seen[want[i]]) { print "no statistics row for " want[i]; bad = 1 }
	      exit bad }' "$work/stats.csv" || { cat "$work/stats.csv"; die "--stats-every rows"; }
echo "stats rows: $(($(wc -l <"$work/stats.csv") - 1))"
echo "tcpmon_bpf_live: PASS"
