# tcpmon_bpf_check.awk — assertions of tests/e2e/tcpmon_bpf.sh on a bpf-backend recording of
# traffic between two network namespaces of one host (both ends recorded, one clock):
#   awk -F, -v mode=icmp|tcp [-v echoes=N] [-v bytes=N] -f tcpmon_bpf_check.awk records.csv
# records.csv: `tcpmon dump --csv`, sorted by mono_ns (tcpmon_bpf.sh by_time): a sock-copy is
#   checked against the trans-rx read before it.
# icmp: every echo request and reply passes ip-local-out, ip-post, dev-queue, dev-tx on the
#   sender, then dev-rx, ip-pre, ip-local-in on the receiver, and a reply also sock-copy (ping
#   reads it), each exactly once and in that order by mono_ns; `echoes` requests and as many
#   replies (when given).
# tcp: every segment passes the same transmit and receive layers in order; a data segment also
#   trans-rx (tcp:tcp_probe) after ip-local-in; every sock-copy record follows its segment's
#   trans-rx; sock-send records exist and the first one's seq is the first data byte's; the data
#   segments carry `bytes` payload bytes in total.
# Prints one line per failure (40 at most) and a summary; exits 1 on any failure.
function fail(msg) {
	nfail++
	if (nfail <= 40)
		print "FAIL " msg
}
BEGIN {
	ntx = split("ip-local-out ip-post dev-queue dev-tx", tx, " ")
	nrx = split("dev-rx ip-pre ip-local-in", rx, " ")
}
NR == 1 {
	for (i = 1; i <= NF; i++)
		col[$i] = i
	next
}
{
	layer = $col["layer"]; proto = $col["proto"]
	t = $col["mono_ns"] + 0
	if ($col["tsc"] != 0)
		fail("record " NR - 1 ": tsc " $col["tsc"] " in a ktime-only file")
	if (mode == "icmp") {
		type = $col["icmp_type"]
		if (type != 0 && type != 8 && type != 128 && type != 129)
			next # neighbour discovery and others: the kernel's own
		key = proto "|" type "|" $col["icmp_id"] "|" $col["icmp_seq"] "|" $col["src"] "|" $col["dst"]
	} else {
		if (proto != "tcp")
			next
		if (layer == "sock-send") {
			nsend++
			if (nsend == 1)
				send_seq = $col["seq"]
			next
		}
		key = $col["src"] "|" $col["dst"] "|" $col["sport"] "|" $col["dport"] "|" $col["seq"] "|" $col["ack"]
	}
	if (!(key in first)) {
		first[key] = NR
		keys[++nkeys] = key
		ktype[key] = mode == "icmp" ? type : ""
	}
	if (layer == "sock-copy" && mode == "tcp") {
		ncopy++
		if (!((key, "trans-rx") in at) || at[key, "trans-rx"] > t)
			fail("sock-copy of " key " without an earlier trans-rx")
		next
	}
	n[key, layer]++
	at[key, layer] = t
	if (mode == "tcp" && $col["len"] + 0 > 0 && !(key in dlen)) {
		dlen[key] = $col["len"] + 0
		if (first_data == "")
			first_data = $col["seq"]
	}
}
function check_path(key, names, cnt, prev,    i, l) {
	for (i = 1; i <= cnt; i++) {
		l = names[i]
		if (!((key, l) in n)) {
			fail(key ": no record at " l)
			return -1
		}
		if (mode == "icmp" && n[key, l] != 1)
			fail(key ": " n[key, l] " records at " l)
		if (at[key, l] < prev)
			fail(key ": " l " at " at[key, l] " before the previous layer (" prev ")")
		prev = at[key, l]
	}
	return prev
}
END {
	for (k = 1; k <= nkeys; k++) {
		key = keys[k]
		p = check_path(key, tx, ntx, 0)
		if (p < 0)
			continue
		p = check_path(key, rx, nrx, p)
		if (p < 0)
			continue
		if (mode == "icmp") {
			if (ktype[key] == 0 || ktype[key] == 129) {
				replies++
				last[1] = "sock-copy"
				check_path(key, last, 1, p)
			} else {
				requests++
			}
		} else if (key in dlen) {
			last[1] = "trans-rx"
			check_path(key, last, 1, p)
			data += dlen[key]
		}
	}
	if (mode == "icmp") {
		if (echoes != "" && (requests != echoes || replies != echoes))
			fail(requests + 0 " complete requests and " replies + 0 " replies, expected " echoes " each")
		printf "icmp: %d echo requests, %d replies checked\n", requests, replies
	} else {
		if (!ncopy)
			fail("no sock-copy record")
		if (!nsend)
			fail("no sock-send record")
		else if (send_seq != first_data)
			fail("first sock-send seq " send_seq " is not the first data segment's " first_data)
		if (bytes != "" && data != bytes)
			fail("data segments carry " data + 0 " bytes, expected " bytes)
		printf "tcp: %d segments, %d payload bytes, %d sock-copy, %d sock-send records\n", nkeys, data, ncopy, nsend
	}
	printf "%d failures\n", nfail
	exit nfail > 0
}
