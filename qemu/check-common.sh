# Shared by the check-*.sh scripts, which get the tool's command line (the
# binary and its global options) as their arguments.

# Prints the value of the tool's --out option.
mmguard_out_root() {
	local prev="" arg
	for arg in "$@"; do
		if [ "$prev" = "--out" ]; then
			echo "$arg"
			return 0
		fi
		prev=$arg
	done
	return 1
}
