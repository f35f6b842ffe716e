#!/usr/bin/env bash
# A/B for the live 6.12 bugs the stack fixes (patches/reproducers): each
# reproducer must make the base kernel (same config, no patches) report the
# named bug. The patched side is check-pipeline, which runs every selftest.
# Usage: check-ab.sh MMGUARD-COMMAND... (the tool with its global options)
set -uo pipefail
args=("$@")
out_root=""
for ((i = 0; i < ${#args[@]}; i++)); do
	[ "${args[i]}" = "--out" ] && out_root=${args[i + 1]}
done
[ -n "$out_root" ] || { echo "check-ab: pass the tool's --out"; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
fail=0
while read -r selftest signature; do
	case "$selftest" in '' | \#*) continue ;; esac
	log="$out_root/ab-base-$selftest.txt"
	start=$(date +%s)
	"${args[@]}" run --base --accel "${ACCEL:-auto}" --label "ab-base-$selftest" --selftest "$selftest" \
		--kunit-filter none >"$log" 2>&1
	rc=$?
	json="$out_root/latest/results.json"
	if [ "$rc" -eq 2 ] && grep -q "\"signature\": \"$signature" "$json"; then
		echo "ok   ab/$selftest: base kernel reports '$signature' (exit $rc, $(($(date +%s) - start))s incl. rebuild)"
	else
		echo "FAIL ab/$selftest: base kernel exit $rc without '$signature' (see $log)"
		fail=1
	fi
done <"$here/patches/reproducers"
exit $fail
