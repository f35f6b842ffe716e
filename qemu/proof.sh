#!/usr/bin/env bash
# The proof matrix: every claim of the stack, checked in one command.
#  - each reproducer of patches/reproducers on the base kernel (must fail as
#    the file says) and on the patched kernel (must pass, no report);
#  - each patches/mutations/*.patch: the patched kernel booted with the
#    mutation's Mutation-Boot words (must pass, no report) and the patched
#    kernel with the mutation applied (some report's signature must match
#    the extended regular expression Mutation-Expect; or, for a patch with
#    "Mutation-Fails: SUITE", SUITE must fail with no kernel report and one of
#    its diagnostic lines must match Mutation-Expect). Both boots run KUnit
#    only, unless the patch has a Mutation-Args line: tool options such as
#    "--selftest NAME --kunit-filter none --cpus 3" that replace
#    --no-selftests.
#  A reproducer line may end in " args: OPTIONS" (e.g. "--host-cpus 1"):
#  tool options for both of its boots.
# Base, patched and mutated kernels share one build directory and config, so
# each switch rebuilds only what differs. Writes OUT/proof.md and
# OUT/proof.json and exits non-zero if any cell is not as expected.
# Usage: proof.sh MMGUARD-COMMAND... (the tool with its global options)
set -uo pipefail
args=("$@")
. "$(dirname "$0")/check-common.sh"
out_root=$(mmguard_out_root "$@") || { echo "proof: pass the tool's --out"; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
accel=${ACCEL:-auto}
rows=()     # markdown rows
cells=()    # JSON objects
fail=0
start_all=$(date +%s)

# run LABEL ARGS...: one tool run; sets rc, json, secs.
run() {
	local label=$1
	shift
	local t0
	t0=$(date +%s)
	"${args[@]}" run --accel "$accel" --label "proof-$label" "$@" >"$out_root/proof-$label.txt" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	json=$(readlink -f "$out_root/latest")/results.json
}

# has_report RE: does some report's signature match the regular expression?
has_report() {
	[ "$(jq --arg re "$1" '[.reports[] | (.signatures // [.signature])[] | test($re)] | any' "$json" 2>/dev/null)" = true ]
}

# first_report: "signature @ printk time" of the run's first report, or "-".
first_report() {
	jq -r 'if (.reports | length) == 0 then "-" else
		(.reports | min_by(.console_lines[0]) | "\(.signature) @ \(.printk_time // "?")s") end' "$json" 2>/dev/null || echo "?"
}

# suite_says SUITE RE: does a diagnostic line of SUITE or its cases match?
suite_says() {
	[ "$(jq --arg n "$1" --arg re "$2" \
		'[.suites[] | select(.name == $n) | .. | .diagnostics? // empty | .[] | test($re)] | any' \
		"$json" 2>/dev/null)" = true ]
}

suite_status() { # NAME: the top-level test's status, or "missing"
	jq -r --arg n "$1" '([.suites[] | select(.name == $n) | .status] + ["missing"])[0]' "$json" 2>/dev/null || echo "?"
}

# cell TOPIC WHAT KERNEL EXPECTED VERDICT(ok|FAIL) DETAIL
cell() {
	local md=("${@//|/\\|}")   # a "|" inside a cell would split the table
	rows+=("| ${md[0]} | ${md[1]} | ${md[2]} | ${md[3]} | ${md[4]} | ${md[5]} | ${secs}s |")
	cells+=("$(jq -cn --arg topic "$1" --arg what "$2" --arg kernel "$3" --arg expected "$4" \
		--arg verdict "$5" --arg seen "$6" --argjson seconds "$secs" --argjson exit "$rc" \
		'{topic:$topic, what:$what, kernel:$kernel, expected:$expected, verdict:$verdict, seen:$seen, seconds:$seconds, exit:$exit}')")
	[ "$5" = ok ] || fail=1
}

while read -r kind name expect; do
	case "$kind" in '' | \#*) continue ;; esac
	case "$kind" in
	selftest) sel=(--selftest "$name" --kunit-filter none) ;;
	kunit) sel=(--no-selftests --kunit-filter "$name") ;;
	*) echo "proof: unknown kind '$kind' in patches/reproducers"; exit 2 ;;
	esac
	extra=()
	case "$expect" in *" args: "*)
		read -ra extra <<<"${expect##* args: }"
		expect=${expect% args: *} ;;
	esac
	sel+=("${extra[@]}")
	run "base-$name" --base "${sel[@]}"
	seen=$(first_report)
	if [ "$expect" != fail ]; then
		sig=${expect#report: }
		[ "$rc" -eq 2 ] && has_report "$sig" && v=ok || v=FAIL
		cell "$name" reproducer base "report /$sig/" "$v" "$seen"
	else
		status=$(suite_status "$name")
		[ "$rc" -eq 1 ] && [ "$status" = fail ] && v=ok || v=FAIL
		cell "$name" reproducer base "suite fails" "$v" "suite $status, report $seen"
	fi
	run "patched-$name" "${sel[@]}"
	seen=$(first_report)
	[ "$rc" -eq 0 ] && v=ok || v=FAIL
	cell "$name" reproducer patched "pass, no report" "$v" "exit $rc, report $seen"
done <"$here/patches/reproducers"

shopt -s nullglob
for patch in "$here"/patches/mutations/*.patch; do
	name=$(basename "$patch" .patch)
	boot=$(sed -n 's/^Mutation-Boot: *//p' "$patch" | head -n 1)
	expect=$(sed -n 's/^Mutation-Expect: *//p' "$patch" | head -n 1)
	margs=$(sed -n 's/^Mutation-Args: *//p' "$patch" | head -n 1)
	fails=$(sed -n 's/^Mutation-Fails: *//p' "$patch" | head -n 1)
	append=()
	for word in $boot; do append+=(--append "$word"); done
	read -ra what <<<"${margs:---no-selftests}"
	append+=("${what[@]}")
	run "healthy-$name" "${append[@]}"
	seen=$(first_report)
	[ "$rc" -eq 0 ] && v=ok || v=FAIL
	cell "$name" check patched "silent${boot:+ ($boot)}" "$v" "exit $rc, report $seen"
	run "mutation-$name" "${append[@]}" --mutation "$patch"
	seen=$(first_report)
	if [ -n "$fails" ]; then
		status=$(suite_status "$fails")
		[ -n "$expect" ] && [ "$rc" -eq 1 ] && [ "$status" = fail ] &&
			suite_says "$fails" "$expect" && v=ok || v=FAIL
		cell "$name" check "patched + mutation" "$fails fails: /${expect:-?}/" "$v" \
			"suite $status, report $seen"
		continue
	fi
	[ -n "$expect" ] && [ "$rc" -eq 2 ] && has_report "$expect" && v=ok || v=FAIL
	cell "$name" check "patched + mutation" "report /${expect:-?}/" "$v" "$seen"
done

{
	echo "# mmguard proof matrix"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%MZ), accel $accel, $(($(date +%s) - start_all)) s in all."
	echo "Each row is one boot; 'seconds' includes the incremental rebuild."
	echo
	echo "| topic | what | kernel | expected | verdict | seen (first report @ printk time) | seconds |"
	echo "| ----- | ---- | ------ | -------- | ------- | ---------------------------------- | ------- |"
	printf '%s\n' "${rows[@]}"
} >"$out_root/proof.md"
printf '%s\n' "${cells[@]}" | jq -s '.' >"$out_root/proof.json"
cat "$out_root/proof.md"
exit $fail
