#!/bin/sh
# mmguard churners: background loops that change mm state under trinity.
#   churn.sh start "min_free_kbytes compaction thp cpu_hotplug cma memory drop_caches kpageflags"
#   churn.sh stop      (stops them and prints how many rounds each did)
# Each churner runs until stopped, counts its rounds in /tmp/churn/NAME and
# ignores the errors its writes may get (an offline that is refused is part
# of the point).
dir=/tmp/churn

count() { n=$(cat "$dir/$1" 2>/dev/null || echo 0); echo $((n + 1)) >"$dir/$1"; }

churn_min_free_kbytes() {
	orig=$(cat /proc/sys/vm/min_free_kbytes)
	while :; do
		for mul in 2 4 1; do
			echo $((orig * mul)) >/proc/sys/vm/min_free_kbytes 2>/dev/null
			sleep 0.3
		done
		count min_free_kbytes
	done
}

churn_compaction() {
	echo 20 >/proc/sys/vm/compaction_proactiveness 2>/dev/null
	while :; do
		echo 1 >/proc/sys/vm/compact_memory 2>/dev/null
		sleep 0.5
		count compaction
	done
}

churn_thp() {
	t=/sys/kernel/mm/transparent_hugepage
	echo 10 >$t/khugepaged/scan_sleep_millisecs 2>/dev/null
	while :; do
		for mode in always madvise never always; do
			echo $mode >$t/enabled 2>/dev/null
			echo $mode >$t/defrag 2>/dev/null
			sleep 0.5
		done
		count thp
	done
}

churn_cpu_hotplug() {
	while :; do
		for c in /sys/devices/system/cpu/cpu[1-9]*/online; do
			[ -e "$c" ] || continue
			echo 0 >"$c" 2>/dev/null
			sleep 0.2
			echo 1 >"$c" 2>/dev/null
		done
		sleep 0.2
		count cpu_hotplug
	done
}

churn_cma() {
	while :; do
		for a in /sys/kernel/debug/cma/*/; do
			[ -e "$a/alloc" ] || continue
			echo 256 >"$a/alloc" 2>/dev/null && echo 256 >"$a/free" 2>/dev/null
		done
		sleep 0.3
		count cma
	done
}

churn_memory() {
	while :; do
		for m in /sys/devices/system/memory/memory*; do
			[ -e "$m/state" ] || continue
			if echo offline >"$m/state" 2>/dev/null; then
				echo online >"$m/state" 2>/dev/null
			fi
		done
		sleep 0.5
		count memory
	done
}

churn_drop_caches() {
	while :; do
		echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
		sleep 1
		count drop_caches
	done
}

churn_kpageflags() {
	while :; do
		cat /proc/kpageflags >/dev/null 2>&1
		cat /proc/kpagecount >/dev/null 2>&1
		count kpageflags
	done
}

case "$1" in
start)
	mkdir -p $dir
	for name in $2; do
		if ! command -v "churn_$name" >/dev/null 2>&1; then
			echo "# churn: unknown churner '$name'"
			continue
		fi
		echo 0 >"$dir/$name"
		"churn_$name" </dev/null >/dev/null 2>&1 &
		echo $! >"$dir/$name.pid"
	done
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
		echo "# churn: $name: $(cat "$dir/$name") rounds"
		rm -f "$p"
	done
	# Leave the machine as trinity's successors expect it.
	for c in /sys/devices/system/cpu/cpu[1-9]*/online; do
		[ -e "$c" ] && echo 1 >"$c" 2>/dev/null
	done
	;;
esac
