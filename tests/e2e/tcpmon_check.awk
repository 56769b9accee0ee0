# tcpmon_check.awk — assertions of tests/e2e/tcpmon_qemu.sh on a guest recording and the host's
# capture of the same traffic:
#   awk -F, -v guest=10.0.2.10 -v guest6=fd00:2::10 -f tcpmon_check.awk records.csv pcap.txt
# records.csv: `tcpmon dump --csv`; pcap.txt: `tcpdump -nn -S -tt -r tap.pcap`.
# Checks (the raw TSC is compared between layers on the same CPU, ktime everywhere): every ICMP echo and TCP segment is seen at every layer, in stack order (other ICMP
# messages, e.g. neighbour discovery, are sent and consumed by the kernel: only the order of the
# layers they pass is checked); TSC strictly
# and ktime (real, mono) never decreasing along its path; the TSC-derived time within 2 ms of
# ktime; seq/ack of every TCP segment and id/seq of every ICMP echo equal on both sides.
# Prints one line per failure and a summary; exits 1 on any failure.
function fail(msg) {
	nfail++
	if (nfail <= 40)
		print "FAIL " msg
}
function u32diff(a, b) { return (a - b + 4294967296) % 4294967296 }
BEGIN {
	# stack order per direction and protocol (raw ICMP sockets are served before icmp_rcv:
	# ip_local_deliver_finish -> raw_local_deliver, then the protocol handler)
	order["tx"] = "trans-tx ip-local-out ip-post dev-tx"
	order["rx-tcp"] = "dev-rx ip-pre ip-local-in trans-rx"
	order["rx-icmp"] = "dev-rx ip-pre ip-local-in sock-queue trans-rx sock-copy"
	order["rx-icmp6"] = order["rx-icmp"]
}
FNR == 1 { file++ }
file == 1 && FNR == 1 {
	for (i = 1; i <= NF; i++)
		col[$i] = i
	next
}
file == 1 {
	n++
	layer = $col["layer"]; dir = $col["dir"]; proto = $col["proto"]
	# TCP: no flags in the key, since software GSO below ip-post cuts a super-packet (flags PA)
	# into segments (A ... PA) that reach dev-tx one by one
	if (proto == "tcp")
		key = dir "|tcp|" $col["sport"] "|" $col["dport"] "|" $col["seq"] "|" $col["ack"]
	else
		key = dir "|" proto "|" $col["icmp_type"] "|" $col["icmp_id"] "|" $col["icmp_seq"]
	if (!(key in kproto)) {
		keys[++nkeys] = key
		kproto[key] = proto; kdir[key] = dir; kflags[key] = $col["flags"]
		kconn[key] = $col["sport"] "|" $col["dport"] "|" $col["ack"]; kseq[key] = $col["seq"]
	}
	# A key seen twice at a layer: a retransmission (or a GSO segment of an earlier super-packet
	# with the seq a retransmission starts at, or a second recvmsg copy). The last passage
	# counts: it is the one that went through every layer last.
	if ((key, layer) in tsc)
		dups++
	tsc[key, layer] = $col["tsc"]; real[key, layer] = $col["real_ns"]
	mono[key, layer] = $col["mono_ns"]; cpu[key, layer] = $col["cpu"]
	if (proto == "tcp" && $col["len"] + 0 > tlen[key] + 0)
		tlen[key] = $col["len"]	# the super-packet's payload above dev-tx
	# The TSC converted through the calibration pairs against ktime read in the same hook with
	# interrupts off. Not every record: a vCPU the host deschedules between the two reads (TCG
	# on a loaded machine) really puts milliseconds between them; the bulk must agree.
	if ($col["tsc_ns"] == "")
		fail("record " n ": no TSC-derived time")
	d = $col["tsc_ns"] - $col["real_ns"]
	if (d < 0) d = -d
	if (d > 2000000)
		nfar++
	dev[n] = d
	if (proto == "tcp" && (layer == "dev-tx" || layer == "dev-rx")) {
		nd = ++ndev[dir]
		dseq[dir, nd] = $col["seq"]; dack[dir, nd] = $col["ack"]
		dlen[dir, nd] = $col["len"]; dfl[dir, nd] = $col["flags"]
	}
	if (proto != "tcp" && (layer == "dev-tx" || layer == "dev-rx"))
		icmpdev[dir, $col["icmp_type"], $col["icmp_id"], $col["icmp_seq"]] = 1
	next
}
# tcpdump lines: TIME IP SRC.PORT > DST.PORT: Flags [..], seq A[:B], ack C, ... length L
file == 2 && / IP6? / {
	split($0, w, " ")
	src = w[3]
	dir = (index(src, guest ".") == 1 || src == guest || (guest6 != "" && (index(src, guest6 ".") == 1 || src == guest6))) ? "tx" : "rx"
	if ($0 ~ /ICMP6, echo (request|reply)/) {
		type = ($0 ~ /echo request/) ? 128 : 129
		match($0, /id [0-9]+/); id = substr($0, RSTART + 3, RLENGTH - 3)
		match($0, /seq [0-9]+/); sq = substr($0, RSTART + 4, RLENGTH - 4)
		npi++
		if (!((dir, type, id, sq) in icmpdev))
			fail("pcap ICMP6 " dir " type " type " id " id " seq " sq " not recorded at the device layer")
		next
	}
	if ($0 ~ /ICMP echo (request|reply)/) {
		type = ($0 ~ /echo request/) ? 8 : 0
		match($0, /id [0-9]+/); id = substr($0, RSTART + 3, RLENGTH - 3)
		match($0, /seq [0-9]+/); sq = substr($0, RSTART + 4, RLENGTH - 4)
		npi++
		if (!((dir, type, id, sq) in icmpdev))
			fail("pcap ICMP " dir " type " type " id " id " seq " sq " not recorded at the device layer")
		next
	}
	if ($0 !~ /Flags \[/)
		next
	np++
	# tcpdump prints no seq for a segment without payload, SYN, FIN or RST (a pure ACK)
	s = ""
	if (match($0, /seq [0-9]+/))
		s = substr($0, RSTART + 4, RLENGTH - 4)
	a = ""
	if (match($0, /ack [0-9]+/))
		a = substr($0, RSTART + 4, RLENGTH - 4)
	ok = 0
	for (i = 1; i <= ndev[dir] && !ok; i++) {
		if (a != "" && dack[dir, i] + 0 != a + 0)
			continue
		if (s == "") {
			ok = dlen[dir, i] == 0
			continue
		}
		off = u32diff(s + 0, dseq[dir, i] + 0)
		if (off == 0 || off < dlen[dir, i])
			ok = 1
	}
	if (!ok)
		fail("pcap TCP " dir " seq " s " ack " a " has no guest record with that seq and ack")
	next
}
END {
	for (i = 1; i <= nkeys; i++) {
		k = keys[i]
		o = kdir[k] == "tx" ? order["tx"] : order["rx-" kproto[k]]
		nl = split(o, L, " ")
		# a TCP segment the guest received without payload stops at the transport layer
		prev = ""
		split(k, kf, "|")
		required = kproto[k] == "tcp" || kf[3] == 0 || kf[3] == 8 || kf[3] == 128 || kf[3] == 129
		if (kproto[k] == "tcp" && kdir[k] == "tx" && ((k, "dev-tx") in tsc) &&
		    !((k, "ip-post") in tsc) && !((k, "trans-tx") in tsc)) {
			# a segment cut from a GSO super-packet: its parent is the packet of the same
			# connection and ack whose payload covers its seq; it leaves after the parent
			parent = ""
			for (q = 1; q <= nkeys && parent == ""; q++) {
				p = keys[q]
				if (p != k && kdir[p] == "tx" && kconn[p] == kconn[k] && ((p, "ip-post") in tsc) &&
				    u32diff(kseq[k] + 0, kseq[p] + 0) < tlen[p] + 0)
					parent = p
			}
			if (parent == "")
				fail(k ": at dev-tx only, and no super-packet covers it")
			else if (tsc[k, "dev-tx"] + 0 <= tsc[parent, "ip-post"] + 0)
				fail(k ": GSO segment leaves before its super-packet passed ip-post")
			nseg++
			continue
		}
		for (j = 1; j <= nl; j++) {
			if (!((k, L[j]) in tsc) && !required)
				continue
			if (!((k, L[j]) in tsc)) {
				# resets and time-wait ACKs leave through ip_send_unicast_reply, which has
				# no transport hook (docs/formats/tcpmon.md)
				if (!(L[j] == "trans-tx" && kflags[k] ~ /R/))
					fail(k ": not seen at layer " L[j])
				continue
			}
			# A raw ICMP socket's reader can copy the packet out on another CPU as soon as it
			# is queued, before icmp_rcv (trans-rx) runs here: sock-copy follows sock-queue.
			if (L[j] == "sock-copy" && ((k, "sock-queue") in tsc))
				prev = "sock-queue"
			if (prev != "") {
				# raw TSCs compare on one CPU only (a guest's TSCs may be unsynchronized:
				# TCG marks them unstable); across CPUs ktime orders the layers
				if (cpu[k, L[j]] == cpu[k, prev] && tsc[k, L[j]] + 0 <= tsc[k, prev] + 0)
					fail(k ": TSC at " L[j] " (" tsc[k, L[j]] ") not after " prev " (" tsc[k, prev] ")")
				if (cpu[k, L[j]] != cpu[k, prev])
					ncross++
				if (real[k, L[j]] + 0 < real[k, prev] + 0 || mono[k, L[j]] + 0 < mono[k, prev] + 0)
					fail(k ": ktime at " L[j] " before " prev)
			}
			prev = L[j]
		}
		if (kproto[k] == "icmp6")
			nicmp6[kdir[k]]++
		else if (kproto[k] == "icmp")
			nicmp[kdir[k]]++
		else
			ntcp[kdir[k]]++
	}
	nd = 0
	for (i = 1; i <= n; i++)
		sd[++nd] = dev[i]
	# median by counting (no asort in mawk)
	lo = 0; hi = 100000000
	while (hi - lo > 1000) {
		mid = int((lo + hi) / 2); c = 0
		for (i = 1; i <= nd; i++) if (sd[i] <= mid) c++
		if (c >= nd / 2) hi = mid; else lo = mid
	}
	printf "TSC-derived vs ktime: median |diff| <= %d ns, %d of %d records beyond 2 ms\n", hi, nfar, n
	if (hi > 200000)
		fail("TSC-derived times: median distance to ktime " hi " ns (> 200 us)")
	if (nfar > n / 20)
		fail("TSC-derived times: " nfar " of " n " records more than 2 ms from ktime")
	printf "checked: %d records, %d packets (tcp tx %d rx %d, icmp tx %d rx %d, icmp6 tx %d rx %d, %d GSO segments), %d pcap tcp + %d icmp, %d duplicates\n",
		n, nkeys, ntcp["tx"], ntcp["rx"], nicmp["tx"], nicmp["rx"], nicmp6["tx"], nicmp6["rx"], nseg, np, npi, dups
	printf "layer steps that changed CPU: %d\n", ncross
	if (np < 10 || npi < 2 || ntcp["tx"] < 5 || nicmp["rx"] < 2 || (guest6 != "" && nicmp6["rx"] < 2)) {
		print "FAIL too little traffic to check"
		nfail++
	}
	print (nfail ? "check: " nfail " failures" : "check: ok")
	exit nfail ? 1 : 0
}
