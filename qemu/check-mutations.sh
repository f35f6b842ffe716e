#!/usr/bin/env bash
# Every DEBUG_VM check of the stack must be seen to fire and to stay silent.
# Each patches/mutations/NAME.patch reintroduces a bug on top of the stack
# and names, in its message:
#   Mutation-Boot:   kernel command line words the bug needs (optional)
#   Mutation-Expect: the report signature (prefix) the check must produce
# For each: the patched kernel booted with the same words must pass with no
# report; the mutated kernel must fail with that report.
# Usage: check-mutations.sh MMGUARD-COMMAND... (the tool with its global options)
set -uo pipefail
args=("$@")
. "$(dirname "$0")/check-common.sh"
out_root=$(mmguard_out_root "$@") || { echo "check-mutations: pass the tool's --out"; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
fail=0
shopt -s nullglob
for patch in "$here"/patches/mutations/*.patch; do
	name=$(basename "$patch" .patch)
	boot=$(sed -n 's/^Mutation-Boot: *//p' "$patch" | head -n 1)
	expect=$(sed -n 's/^Mutation-Expect: *//p' "$patch" | head -n 1)
	if [ -z "$expect" ]; then
		echo "FAIL mutation/$name: no Mutation-Expect: line"
		fail=1
		continue
	fi
	append=()
	for word in $boot; do append+=(--append "$word"); done
	"${args[@]}" run --accel "${ACCEL:-auto}" --label "healthy-$name" --no-selftests "${append[@]}" \
		>"$out_root/healthy-$name.txt" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "FAIL mutation/$name: the patched kernel with '$boot' is not clean (exit $rc, see $out_root/healthy-$name.txt)"
		fail=1
		continue
	fi
	start=$(date +%s)
	"${args[@]}" run --accel "${ACCEL:-auto}" --label "mutation-$name" --no-selftests "${append[@]}" \
		--mutation "$patch" >"$out_root/mutation-$name.txt" 2>&1
	rc=$?
	if [ "$rc" -eq 2 ] && grep -qF "\"signature\": \"$expect" "$out_root/latest/results.json"; then
		echo "ok   mutation/$name: silent on the patched kernel, fires with the mutation: $expect ($(($(date +%s) - start))s)"
	else
		echo "FAIL mutation/$name: exit $rc without '$expect' (see $out_root/mutation-$name.txt)"
		fail=1
	fi
done
exit $fail
