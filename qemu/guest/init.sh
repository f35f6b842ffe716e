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

# Coverage runs only (COVERAGE_PORT set): the gcov counters of the profiled
# objects leave the guest as a tar archive written in raw mode to a second
# serial port, which the host keeps in a file (not the console: its judge
# never sees the bytes), and one console line gives the archive's file
# count, size and md5 for the host to check. A guest that dies before this
# line leaves no data, and the host says so.
dump_coverage() {
	[ -n "$COVERAGE_PORT" ] || return 0
	g=/sys/kernel/debug/gcov
	if [ ! -d $g ]; then
		echo "mmguard: coverage: FAILED no $g (kernel without CONFIG_GCOV_KERNEL?)"
		return 0
	fi
	if [ ! -c "$COVERAGE_PORT" ]; then
		echo "mmguard: coverage: FAILED no serial port $COVERAGE_PORT"
		return 0
	fi
	rm -rf /tmp/gcov && mkdir -p /tmp/gcov
	n=0
	# debugfs gives the .gcda files a size of 0: copy them by reading.
	for f in $(cd $g && find . -name '*.gcda'); do
		mkdir -p "/tmp/gcov/${f%/*}"
		if ! cat "$g/$f" >"/tmp/gcov/$f"; then
			echo "mmguard: coverage: FAILED reading $g/$f"
			return 0
		fi
		n=$((n + 1))
	done
	# raw: no newline translation, no flow control characters, no echo.
	# Closing the port waits until the UART has sent everything.
	tar -C /tmp/gcov -cf /tmp/gcov.tar . &&
		stty -F "$COVERAGE_PORT" raw -echo -ixon -ixoff -crtscts &&
		cat /tmp/gcov.tar >"$COVERAGE_PORT" || {
		echo "mmguard: coverage: FAILED writing $COVERAGE_PORT"
		return 0
	}
	set -- $(wc -c </tmp/gcov.tar) $(md5sum </tmp/gcov.tar)
	echo "mmguard: coverage: $n files, $1 bytes, md5 $2"
	rm -rf /tmp/gcov /tmp/gcov.tar
}

run_selftests
dump_coverage
# Harness self-test: a guest that goes silent must be caught as a hang.
case " $(cat /proc/cmdline) " in
*" mmguard.hang=1 "*) while :; do sleep 3600; done ;;
esac
echo "mmguard: guest done"
reboot -f
