# summarise.awk: reads `go test -bench` output of BenchmarkFull and
# BenchmarkHeader (sub-benchmarks <parser>/<fixture>, any -count) and prints
# the median of each metric per benchmark, then the ratio of Forge ("forge")
# to every other parser on the same benchmark and fixture.
# Portable awk (mawk or gawk).

function median(list,    n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) {
		t = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
		a[j + 1] = t
	}
	if (n == 0) return ""
	if (n % 2) return a[(n + 1) / 2]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}

function human(ns) {
	if (ns == "") return "-"
	if (ns >= 1e9) return sprintf("%.2f s", ns / 1e9)
	if (ns >= 1e6) return sprintf("%.2f ms", ns / 1e6)
	if (ns >= 1e3) return sprintf("%.2f us", ns / 1e3)
	return sprintf("%.0f ns", ns)
}

function bytes(b) {
	if (b == "") return "-"
	if (b >= 1048576) return sprintf("%.1f MiB", b / 1048576)
	if (b >= 1024) return sprintf("%.1f KiB", b / 1024)
	return sprintf("%d B", b)
}

function ratio(a, b) {
	if (a == "" || b == "") return "-"
	if (b == 0) return (a == 0) ? "1.00" : "inf"
	return sprintf("%.2f", a / b)
}

/^Benchmark(Full|Header)\// {
	name = $1
	sub(/-[0-9]+$/, "", name) # GOMAXPROCS suffix
	n = split(name, part, "/")
	if (n != 3) next
	key = part[1] SUBSEP part[3] SUBSEP part[2]
	if (!(key in seen)) {
		seen[key] = 1
		order[++nkeys] = key
		if (!((part[1] SUBSEP part[3]) in cases)) {
			cases[part[1] SUBSEP part[3]] = 1
			corder[++ncases] = part[1] SUBSEP part[3]
		}
		if (!(part[2] in parsers)) { parsers[part[2]] = 1; porder[++nparsers] = part[2] }
	}
	for (i = 3; i < NF; i++) {
		unit = $(i + 1)
		if (unit == "ns/op") ns[key] = ns[key] " " $i
		else if (unit == "MB/s") mbs[key] = mbs[key] " " $i
		else if (unit == "B/op") bop[key] = bop[key] " " $i
		else if (unit == "allocs/op") aop[key] = aop[key] " " $i
	}
}

END {
	if (nkeys == 0) { print "no benchmark results"; exit 1 }
	printf "Medians of %s\n\n", "each benchmark (time per parse, file bytes per second, allocation per parse)"
	printf "%-15s %-11s %-10s %12s %11s %12s %11s\n", "benchmark", "fixture", "parser", "time/op", "MB/s", "B/op", "allocs/op"
	for (k = 1; k <= nkeys; k++) {
		split(order[k], f, SUBSEP)
		key = order[k]
		t[key] = median(ns[key]); m[key] = median(mbs[key]); bo[key] = median(bop[key]); ao[key] = median(aop[key])
		printf "%-15s %-11s %-10s %12s %11s %12s %11s\n", f[1], f[2], f[3], human(t[key]), (m[key] == "" ? "-" : sprintf("%.1f", m[key])), bytes(bo[key]), (ao[key] == "" ? "-" : sprintf("%d", ao[key]))
	}
	others = 0
	for (p = 1; p <= nparsers; p++) if (porder[p] != "forge") others++
	if (others == 0) {
		print ""
		print "(no other parser in these results: nothing to compare with forge)"
		exit 0
	}
	print ""
	print "forge compared with each other parser (medians):"
	print "  speed-up = other's time / forge's time (above 1: forge is faster)"
	print "  allocs, bytes = forge's / other's (below 1: forge allocates less)"
	print ""
	printf "%-15s %-11s %-10s %9s %9s %9s\n", "benchmark", "fixture", "vs", "speed-up", "allocs", "bytes"
	for (c = 1; c <= ncases; c++) {
		split(corder[c], f, SUBSEP)
		ours = corder[c] SUBSEP "forge"
		if (!(ours in seen)) continue
		for (p = 1; p <= nparsers; p++) {
			if (porder[p] == "forge") continue
			theirs = corder[c] SUBSEP porder[p]
			if (!(theirs in seen)) continue
			printf "%-15s %-11s %-10s %9s %9s %9s\n", f[1], f[2], porder[p], ratio(t[theirs], t[ours]), ratio(ao[ours], ao[theirs]), ratio(bo[ours], bo[theirs])
		}
	}
}
