#!/bin/sh
# mmguard churners: background loops that change mm state under trinity.
#   churn.sh start "min_free_kbytes compaction thp cpu_hotplug cma memory drop_caches kpageflags thp_fork"
#   churn.sh status    (one line: rounds/effective of each churner so far)
#   churn.sh stop      (stops them, prints what each did and the vmstat deltas)
# Each churner runs until stopped and counts its rounds in /tmp/churn/NAME
# and the rounds in which its action took effect in /tmp/churn/NAME.eff (a
# refused offline is part of the point, but a churner whose action never
# takes effect tests nothing: the host shows both numbers). Errors of the
# writes are ignored.
dir=/tmp/churn

# A churner killed by "stop" in the middle of a bump must not leave an
# empty counter: write a new file and rename it over the old one.
bump() {
	n=$(cat "$dir/$1" 2>/dev/null)
	echo $((${n:-0} + 1)) >"$dir/$1.new" && mv "$dir/$1.new" "$dir/$1"
}
get() { n=$(cat "$dir/$1" 2>/dev/null); echo "${n:-0}"; }
count() { bump "$1"; }
effective() { bump "$1.eff"; }

churn_min_free_kbytes() {
	orig=$(cat /proc/sys/vm/min_free_kbytes)
	while :; do
		ok=1
		for mul in 2 4 1; do
			v=$((orig * mul))
			echo $v >/proc/sys/vm/min_free_kbytes 2>/dev/null
			[ "$(cat /proc/sys/vm/min_free_kbytes)" = $v ] || ok=0
			sleep 0.3
		done
		count min_free_kbytes
		[ $ok = 1 ] && effective min_free_kbytes
	done
}

churn_compaction() {
	echo 20 >/proc/sys/vm/compaction_proactiveness 2>/dev/null
	while :; do
		ok=0
		echo 1 >/proc/sys/vm/compact_memory 2>/dev/null && ok=1
		count compaction
		[ $ok = 1 ] && effective compaction
		sleep 0.5
	done
}

churn_thp() {
	t=/sys/kernel/mm/transparent_hugepage
	echo 10 >$t/khugepaged/scan_sleep_millisecs 2>/dev/null
	echo 10 >$t/khugepaged/alloc_sleep_millisecs 2>/dev/null
	while :; do
		ok=1
		for mode in always madvise never always; do
			echo $mode >$t/enabled 2>/dev/null
			echo $mode >$t/defrag 2>/dev/null
			grep -q "\[$mode\]" $t/enabled 2>/dev/null || ok=0
			sleep 0.5
		done
		count thp
		[ $ok = 1 ] && effective thp
	done
}

churn_cpu_hotplug() {
	while :; do
		did=0
		for c in /sys/devices/system/cpu/cpu[1-9]*/online; do
			[ -e "$c" ] || continue
			echo 0 >"$c" 2>/dev/null && did=1
			sleep 0.2
			echo 1 >"$c" 2>/dev/null
		done
		count cpu_hotplug
		[ $did = 1 ] && effective cpu_hotplug
		sleep 0.2
	done
}

# Needs a CMA area: the host boots with cma=... when this churner runs.
churn_cma() {
	while :; do
		did=0
		for a in /sys/kernel/debug/cma/*/; do
			[ -e "$a/alloc" ] || continue
			if echo 256 >"$a/alloc" 2>/dev/null; then
				did=1
				echo 256 >"$a/free" 2>/dev/null
			fi
		done
		count cma
		[ $did = 1 ] && effective cma
		sleep 0.3
	done
}

# Offlines the blocks of ZONE_MOVABLE (the host boots with movablecore=...
# when this churner runs), whose pages can all migrate; without such blocks,
# every block. A block refused 3 times without ever going offline (it holds
# reserved pages: each refusal dumps one, 8 console lines) is left alone.
churn_memory() {
	blocks=""
	for m in /sys/devices/system/memory/memory*; do
		[ -e "$m/state" ] || continue
		grep -q Movable "$m/valid_zones" 2>/dev/null && blocks="$blocks $m"
	done
	[ -n "$blocks" ] || blocks=$(echo /sys/devices/system/memory/memory*)
	mkdir -p $dir/memory.refused
	while :; do
		did=0
		for m in $blocks; do
			[ -e "$m/state" ] || continue
			f=$dir/memory.refused/$(basename "$m")
			[ "$(cat "$f" 2>/dev/null)" = 3 ] && continue
			if echo offline >"$m/state" 2>/dev/null; then
				did=1
				echo ok >"$f"
				echo online_movable >"$m/state" 2>/dev/null || echo online >"$m/state" 2>/dev/null
			elif [ "$(cat "$f" 2>/dev/null)" != ok ]; then
				echo $(($(cat "$f" 2>/dev/null || echo 0) + 1)) >"$f"
			fi
		done
		count memory
		[ $did = 1 ] && effective memory
		sleep 0.5
	done
}

churn_drop_caches() {
	while :; do
		ok=0
		echo 3 >/proc/sys/vm/drop_caches 2>/dev/null && ok=1
		count drop_caches
		[ $ok = 1 ] && effective drop_caches
		sleep 1
	done
}

churn_kpageflags() {
	while :; do
		ok=0
		cat /proc/kpageflags >/dev/null 2>&1 && cat /proc/kpagecount >/dev/null 2>&1 && ok=1
		count kpageflags
		[ $ok = 1 ] && effective kpageflags
	done
}

# THP faults, MADV_COLLAPSE, fork with COW of a THP, MADV_DONTNEED of half
# of it: /etc/mmguard/thp_fork does one round per run and exits 0 when the
# range was THP-backed at some point (AnonHugePages in smaps).
churn_thp_fork() {
	while :; do
		ok=0
		/etc/mmguard/thp_fork >/dev/null 2>&1 && ok=1
		count thp_fork
		[ $ok = 1 ] && effective thp_fork
	done
}

# The counters that show whether the churners did anything.
vmstat_keys="compact_stall compact_success compact_fail compact_migrate_scanned compact_isolated
compact_daemon_wake pgmigrate_success pgmigrate_fail thp_fault_alloc thp_fault_fallback
thp_collapse_alloc thp_split_page thp_deferred_split_page thp_migration_success cma_alloc_success
cma_alloc_fail drop_pagecache drop_slab"

case "$1" in
start)
	mkdir -p $dir
	cat /proc/vmstat >$dir/vmstat.start
	cat /sys/kernel/mm/transparent_hugepage/khugepaged/full_scans >$dir/full_scans.start 2>/dev/null
	for name in $2; do
		if ! command -v "churn_$name" >/dev/null 2>&1; then
			echo "# churn: unknown churner '$name'"
			continue
		fi
		echo 0 >"$dir/$name"
		echo 0 >"$dir/$name.eff"
		"churn_$name" </dev/null >/dev/null 2>&1 &
		echo $! >"$dir/$name.pid"
	done
	;;
status)
	line=""
	for p in $dir/*.pid; do
		[ -e "$p" ] || continue
		name=$(basename "$p" .pid)
		line="$line $name=$(get "$name")/$(get "$name.eff")"
	done
	[ -n "$line" ] && echo "# churn: so far (rounds/effective):$line"
	;;
stop)
	for p in $dir/*.pid; do
		[ -e "$p" ] || continue
		kill "$(cat "$p")" 2>/dev/null
	done
	for p in $dir/*.pid; do
		[ -e "$p" ] || continue
		name=$(basename "$p" .pid)
		wait "$(cat "$p")" 2>/dev/null
		echo "# churn: $name: $(get "$name") rounds, $(get "$name.eff") effective"
		rm -f "$p"
	done
	# Leave the machine as trinity's successors expect it.
	for c in /sys/devices/system/cpu/cpu[1-9]*/online; do
		[ -e "$c" ] && echo 1 >"$c" 2>/dev/null
	done
	cat /proc/vmstat >$dir/vmstat.stop
	for k in $vmstat_keys; do
		a=$(sed -n "s/^$k //p" $dir/vmstat.start)
		b=$(sed -n "s/^$k //p" $dir/vmstat.stop)
		[ -n "$a" ] && [ -n "$b" ] && echo "# vmstat delta: $k $((b - a))"
	done
	a=$(cat $dir/full_scans.start 2>/dev/null)
	b=$(cat /sys/kernel/mm/transparent_hugepage/khugepaged/full_scans 2>/dev/null)
	[ -n "$a" ] && [ -n "$b" ] && echo "# vmstat delta: khugepaged_full_scans $((b - a))"
	;;
esac
