#!/bin/busybox sh
# mmguard guest init: mount the pseudo filesystems, run the selftests named in
# /etc/mmguard/plan as one KTAP document (like kselftest's runner), then
# reboot, which ends QEMU (-no-reboot).
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
. /etc/mmguard/plan

run_selftests() {
	set -- $SELFTESTS
	[ $# -eq 0 ] && return
	echo "KTAP version 1"
	echo "1..$#"
	n=0
	for t in "$@"; do
		n=$((n + 1))
		echo "    # Subtest: $t"
		# kselftest exit codes: 0 pass, 4 skip, anything else fail.
		# Indent with awk, not sed: busybox sed holds each line back until
		# the next one arrives (to know which is the last), so the line
		# printed just before a crash or panic would never be seen.
		set -o pipefail
		timeout "$SELFTEST_TIMEOUT" "/selftests/$t" 2>&1 </dev/null | awk '{ print "    " $0; fflush() }'
		rc=$?
		set +o pipefail
		case $rc in
		0) echo "ok $n $t" ;;
		4) echo "ok $n $t # SKIP" ;;
		124|143) echo "not ok $n $t # TIMEOUT after ${SELFTEST_TIMEOUT}s" ;;
		*) echo "not ok $n $t # exit code $rc" ;;
		esac
	done
}

run_selftests
# Harness self-test: a guest that goes silent must be caught as a hang.
case " $(cat /proc/cmdline) " in
*" mmguard.hang=1 "*) while :; do sleep 3600; done ;;
esac
echo "mmguard: guest done"
reboot -f
