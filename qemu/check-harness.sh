#!/usr/bin/env bash
# Harness self-test on real boots: the tool must catch what it claims to.
#   1. a BUG() injected in a KUnit case: exit 2, signature names the function,
#      the crashed case is failed;
#   2. a WARN() injected the same way: exit 2, WARNING signature;
#   3. a guest whose console goes silent: killed at the silence timeout,
#      reported as a hang, exit 2.
# Usage: check-harness.sh MMGUARD-COMMAND... (the tool with its global options)
set -uo pipefail
args=("$@")
. "$(dirname "$0")/check-common.sh"
out_root=$(mmguard_out_root "$@") || { echo "check-harness: pass the tool's --out"; exit 2; }
fail=0

expect() { # name, wanted exit code, jq-free grep pattern on results.json, boot args...
	local name=$1 want=$2 pattern=$3
	shift 3
	"${args[@]}" boot --accel "${ACCEL:-auto}" --label "harness-$name" --no-selftests --kunit-filter mmguard_harness "$@" >"$out_root/harness-$name.txt" 2>&1
	local rc=$?
	local json="$out_root/latest/results.json"
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL harness/$name: exit $rc, wanted $want (see $out_root/harness-$name.txt)"
		fail=1
	elif ! grep -Eq "$pattern" "$json"; then
		echo "FAIL harness/$name: $json lacks /$pattern/"
		fail=1
	else
		echo "ok   harness/$name: exit $rc, $(grep -Eo "$pattern" "$json" | head -1)"
	fi
}

expect bug 2 '"signature": "kernel BUG in mmguard_harness_injected_bug[^"]*"' \
	--append mmguard_harness_kunit.inject=bug
expect warn 2 '"signature": "WARNING in mmguard_harness_injected_warning[^"]*"' \
	--append mmguard_harness_kunit.inject=warn
expect hang 2 '"outcome": "hang[^"]*"' --append mmguard.hang=1 --silence-timeout 10
exit $fail
