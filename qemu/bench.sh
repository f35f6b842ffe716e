#!/usr/bin/env bash
# The cost of the stack's checks on the page allocator: boots the base and
# the patched kernel (same config, DEBUG_VM=y, same build directory)
# alternately, PAIRS times, each running only the KUnit suite mmguard_bench
# (kunit/mmguard_bench_kunit.c) with mmguard_bench.run=1, and reports for
# each case (order 0 / THP order, one CPU / all CPUs) the patched/base ratio
# of the ns per alloc+free pair: the median, min and max of the per-pair
# ratios. Within a pair the order alternates (base first, then patched
# first) so that a drift of the machine's load does not favour one side.
# Writes OUT/bench.md and OUT/bench.json; exits non-zero if a boot fails.
# Usage: bench.sh MMGUARD-COMMAND... (the tool with its global options)
# Environment: PAIRS (5), CPUS (3), BENCH_MS (the suite's default), ACCEL.
set -uo pipefail
args=("$@")
. "$(dirname "$0")/check-common.sh"
out_root=$(mmguard_out_root "$@") || { echo "bench: pass the tool's --out"; exit 2; }
accel=${ACCEL:-auto}
pairs=${PAIRS:-5}
cpus=${CPUS:-3}
append=(--append mmguard_bench.run=1)
[ -n "${BENCH_MS:-}" ] && append+=(--append "mmguard_bench.ms=$BENCH_MS")
samples=$(mktemp)
trap 'rm -f "$samples"' EXIT
start_all=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# boot KERNEL PAIR: one boot; appends "kernel pair case median min" lines
# (ns/op: the median and the best of the boot's repetitions).
boot() {
	local kernel=$1 pair=$2 extra=() console
	[ "$kernel" = base ] && extra=(--base)
	echo "bench: pair $pair, $kernel"
	if ! "${args[@]}" run --accel "$accel" --label "bench-$kernel-$pair" --no-selftests \
		--kunit-filter mmguard_bench --cpus "$cpus" --tsc-clock "${append[@]}" "${extra[@]}" \
		>"$out_root/bench-$kernel-$pair.txt" 2>&1; then
		echo "bench: the $kernel boot of pair $pair failed; see $out_root/bench-$kernel-$pair.txt"
		exit 1
	fi
	console=$(readlink -f "$out_root/latest")/console.log
	# "# order0-1cpu: mmguard_bench: case=order0-1cpu order=0 cpus=1 ops=... ns_per_op=N ..."
	sed -n 's/.*mmguard_bench: case=\([^ ]*\) .* ns_per_op=\([0-9]*\) min=\([0-9]*\) .*/\1 \2 \3/p' "$console" |
		sed "s/^/$kernel $pair /" >>"$samples"
	if ! grep -q "^$kernel $pair " "$samples"; then
		echo "bench: no mmguard_bench figures in $console"
		exit 1
	fi
}

for pair in $(seq 1 "$pairs"); do
	if [ $((pair % 2)) = 1 ]; then
		boot base "$pair"
		boot patched "$pair"
	else
		boot patched "$pair"
		boot base "$pair"
	fi
done
secs=$(($(date +%s) - start_all))
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ratios COLUMN: per case, the per-pair ratios patched/base of the figure
# in COLUMN of the samples (4: the boot's median, 5: its best), and each
# side's median over the boots.
ratios() {
	awk -v col="$1" '
	{ ns[$1, $2, $3] = $col; cases[$3] = 1; if ($2 > npairs) npairs = $2 }
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		for (c in cases) {
			n = 0
			for (p = 1; p <= npairs; p++) {
				if (!(("base", p, c) in ns) || !(("patched", p, c) in ns) || ns["base", p, c] == 0) continue
				n++
				r[n] = ns["patched", p, c] / ns["base", p, c]
				b[n] = ns["base", p, c]
				q[n] = ns["patched", p, c]
				list = list sprintf("%s%.3f", n > 1 ? " " : "", r[n])
			}
			if (n == 0) continue
			lo = r[1]; hi = r[1]
			for (i = 2; i <= n; i++) { if (r[i] < lo) lo = r[i]; if (r[i] > hi) hi = r[i] }
			printf "%s %d %.0f %.0f %.3f %.3f %.3f %s\n", c, n, median(b, n), median(q, n), median(r, n), lo, hi, list
			list = ""
		}
	}' "$samples" | sort
}
table=$(ratios 4)
table_best=$(ratios 5)
# md TABLE: the markdown rows of a ratios table.
md() {
	echo "| case | pairs | base ns/op | patched ns/op | ratio median | ratio min | ratio max | per-pair ratios |"
	echo "| ---- | ----- | ---------- | ------------- | ------------ | --------- | --------- | --------------- |"
	echo "$1" | awk 'NF { list = ""; for (i = 8; i <= NF; i++) list = list (i > 8 ? " " : "") $i
		printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, list }'
}
# json TABLE: the same as a JSON array.
json() {
	echo "$1" | awk 'NF { list = ""; for (i = 8; i <= NF; i++) list = list (i > 8 ? ", " : "") $i
		printf "%s{\"case\":\"%s\",\"pairs\":%s,\"base_ns\":%s,\"patched_ns\":%s,\"ratio_median\":%s,\"ratio_min\":%s,\"ratio_max\":%s,\"ratios\":[%s]}",
			n++ ? "," : "[", $1, $2, $3, $4, $5, $6, $7, list } END { print n ? "]" : "[]" }'
}

{
	echo "# Allocation cost: patched / base"
	echo
	echo "$pairs pairs of boots (base and patched alternating), $cpus vCPUs, accel $accel,"
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), ${secs}s; host load average $load_start at the start, $load_end at the end."
	echo "ns/op = one alloc_pages() + __free_pages() pair; each boot runs every case 5 times."
	echo "The base and patched columns are medians over the boots; the ratio columns are"
	echo "over the per-pair ratios patched/base."
	echo
	echo "## The median of each boot's repetitions"
	echo
	md "$table"
	echo
	echo "## The best of each boot's repetitions (least disturbed by the host)"
	echo
	md "$table_best"
} >"$out_root/bench.md"
echo "{\"median\": $(json "$table"), \"best\": $(json "$table_best")}" >"$out_root/bench.json"
cat "$out_root/bench.md"
echo "bench: $out_root/bench.md, $out_root/bench.json"
