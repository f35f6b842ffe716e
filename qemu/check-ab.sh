#!/usr/bin/env bash
# A/B for the live 6.12 bugs the stack fixes (patches/reproducers): on the
# base kernel (same config, no patches) each selftest reproducer must make
# the kernel report the named bug, and each KUnit reproducer suite must
# fail. The patched side is check-pipeline, which runs everything.
# Usage: check-ab.sh MMGUARD-COMMAND... (the tool with its global options)
set -uo pipefail
args=("$@")
. "$(dirname "$0")/check-common.sh"
out_root=$(mmguard_out_root "$@") || { echo "check-ab: pass the tool's --out"; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
fail=0
while read -r kind name expect; do
	case "$kind" in '' | \#*) continue ;; esac
	log="$out_root/ab-base-$name.txt"
	start=$(date +%s)
	case "$kind" in
	selftest)
		"${args[@]}" run --base --accel "${ACCEL:-auto}" --label "ab-base-$name" --selftest "$name" \
			--kunit-filter none >"$log" 2>&1
		rc=$?
		signature=${expect#report: }
		if [ "$rc" -eq 2 ] && grep -q "\"signature\": \"$signature" "$out_root/latest/results.json"; then
			echo "ok   ab/$name: base kernel reports '$signature' ($(($(date +%s) - start))s incl. rebuild)"
		else
			echo "FAIL ab/$name: base kernel gave exit $rc without '$signature' (see $log)"
			fail=1
		fi
		;;
	kunit)
		"${args[@]}" run --base --accel "${ACCEL:-auto}" --label "ab-base-$name" --no-selftests \
			--kunit-filter "$name" >"$log" 2>&1
		rc=$?
		if [ "$rc" -eq 1 ] && grep -Eq "^$name +.* fail$" "$log"; then
			echo "ok   ab/$name: the suite fails on the base kernel ($(($(date +%s) - start))s incl. rebuild)"
		else
			echo "FAIL ab/$name: base kernel gave exit $rc, the suite did not fail as expected (see $log)"
			fail=1
		fi
		;;
	*)
		echo "FAIL ab: unknown kind '$kind' in patches/reproducers"
		fail=1
		;;
	esac
done <"$here/patches/reproducers"
exit $fail
