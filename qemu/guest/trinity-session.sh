#!/bin/sh
# mmguard trinity session, run by init like a selftest: one TAP result.
# Settings come from /etc/mmguard/plan (written by the host tool):
#   TRINITY_SECONDS  how long to fuzz     TRINITY_SEED      the first seed
#   TRINITY_CHILDREN child processes      TRINITY_ARGS      syscall selection
#   CHURNERS         mm churners to run beside trinity (see churn.sh)
#   STRESS_NG_SECONDS, STRESS_NG_ARGS  stress-ng beside trinity for the first
#                    seconds (0: none), as root; its bogo-ops are printed at the end
# trinity runs as user nobody. It is userspace and sometimes crashes on its
# own; then the next run starts with the next seed, until the time is up.
# Every seed used is printed. Kernel reports are caught by the host from
# the console; this script only says whether trinity ran syscalls.
# The host reads these lines (qemu/src/stress_stats.cpp): the start line
# with the guest's uptime (so a session cut by a panic has a length), the
# heartbeat every 30 s with the syscalls so far, one line per trinity run,
# the churners' counts and the closing totals.
. /etc/mmguard/plan
uptime_s() { cut -d' ' -f1 /proc/uptime; }
# Syscalls of the running trinity so far: its main process prints
# "N iterations." every 10000.
running_count() {
	sed -n 's/.* \([0-9][0-9]*\) iterations\..*/\1/p' /tmp/trinity.out 2>/dev/null | tail -n 1
}
echo "TAP version 13"
echo "1..1"
echo "# trinity: ${TRINITY_SECONDS}s from seed $TRINITY_SEED, $TRINITY_CHILDREN children, args: $TRINITY_ARGS (uptime $(uptime_s))"
mkdir -p /tmp/trinity && chmod 777 /tmp/trinity || exit 1
if [ -n "$CHURNERS" ]; then
	echo "# churners: $CHURNERS"
	/etc/mmguard/churn.sh start "$CHURNERS"
fi
if [ "${STRESS_NG_SECONDS:-0}" -gt 0 ]; then
	echo "# stress-ng: ${STRESS_NG_SECONDS}s: $STRESS_NG_ARGS"
	mkdir -p /tmp/stress-ng
	(cd /tmp/stress-ng && exec stress-ng $STRESS_NG_ARGS --timeout "${STRESS_NG_SECONDS}s" \
		--metrics-brief) >/tmp/stress-ng.out 2>&1 &
	stress_ng=$!
fi
start=$(date +%s)
beat=$start
deadline=$((start + TRINITY_SECONDS))
seed=$TRINITY_SEED
total=0
runs=0
early=0
while [ "$(date +%s)" -lt $deadline ]; do
	runs=$((runs + 1))
	su -s /bin/sh nobody -c "cd /tmp/trinity && exec trinity -q -q -l off -s $seed \
		-C $TRINITY_CHILDREN $TRINITY_ARGS" >/tmp/trinity.out 2>&1 &
	pid=$!
	while [ "$(date +%s)" -lt $deadline ] && kill -0 $pid 2>/dev/null; do
		sleep 1
		# A heartbeat, so a long quiet session is not taken for a hang.
		now=$(date +%s)
		if [ $((now - beat)) -ge 30 ]; then
			beat=$now
			cur=$(running_count)
			echo "# trinity: $((now - start))s of ${TRINITY_SECONDS}s, at least $((total + ${cur:-0})) syscalls (uptime $(uptime_s))"
			[ -n "$CHURNERS" ] && /etc/mmguard/churn.sh status
		fi
	done
	# SIGINT lets trinity stop its children and print its totals.
	kill -INT $pid 2>/dev/null
	i=0
	while [ $i -lt 30 ] && kill -0 $pid 2>/dev/null; do
		sleep 1
		i=$((i + 1))
	done
	if kill -0 $pid 2>/dev/null; then
		echo "# trinity (seed $seed) did not stop 30 s after SIGINT; killing it"
		kill -KILL $pid 2>/dev/null
	fi
	wait $pid 2>/dev/null
	rc=$?
	pkill -KILL trinity 2>/dev/null
	ran=$(sed -n 's/.*Ran \([0-9][0-9]*\) syscalls.*/\1/p' /tmp/trinity.out | tail -n 1)
	grep -v "Couldn't open socket\|Can't do protocol\|futex: 0 owner\| iterations\. " /tmp/trinity.out |
		tail -n 5 | sed -e "s/^/# trinity[$seed]: /"
	if [ -z "$ran" ]; then
		early=$((early + 1))
		echo "# trinity run $runs (seed $seed) ended with exit $rc before printing its totals"
	else
		total=$((total + ran))
		echo "# trinity run $runs (seed $seed): $ran syscalls"
	fi
	seed=$((seed + 1))
done
elapsed=$(($(date +%s) - start))
[ -n "$CHURNERS" ] && /etc/mmguard/churn.sh stop
if [ -n "$stress_ng" ]; then
	# stress-ng stops itself at its --timeout; 60 s later it is killed.
	i=0
	while [ $i -lt 60 ] && kill -0 $stress_ng 2>/dev/null; do
		sleep 1
		i=$((i + 1))
	done
	if kill -0 $stress_ng 2>/dev/null; then
		echo "# stress-ng did not stop 60 s after its timeout; killing it"
		pkill -KILL stress-ng 2>/dev/null
	fi
	wait $stress_ng 2>/dev/null
	rc=$?
	# Its per-stressor bogo-ops (the host reads them), failures, skips.
	sed -n -e 's/^stress-ng: metrc: \[[0-9]*\] /# stress-ng: /p' \
		-e 's/^stress-ng: fail: *\[[0-9]*\] /# stress-ng: fail: /p' \
		-e 's/^stress-ng: error: *\[[0-9]*\] /# stress-ng: error: /p' \
		-e '/skipp/s/^stress-ng: [a-z]*: *\[[0-9]*\] /# stress-ng: /p' /tmp/stress-ng.out
	echo "# stress-ng: exit $rc"
fi
echo "# trinity: $total syscalls in ${elapsed}s over $runs run(s), $early ended early; seeds $TRINITY_SEED..$((seed - 1))"
if [ $total -gt 0 ]; then
	echo "ok 1 trinity ran syscalls"
	exit 0
fi
echo "not ok 1 trinity ran syscalls # none in ${elapsed}s"
exit 1
