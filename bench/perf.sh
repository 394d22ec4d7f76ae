#!/usr/bin/env bash
# Where the time of one contestant goes, instruction by instruction, sampled
# by `perf` on the kernel's timer (`-e cpu-clock`: no hardware counters
# needed, which this project's virtual machines do not have):
#
#   bench/perf.sh CONTESTANT [CALLS]
#
# CONTESTANT is a name of the bench's hidden `--calls` mode (src/counted.rs)
# or tower:NAME for `--tower-calls` (src/tower_stack.rs), as in callgrind.sh;
# each call succeeds at once. Builds the bench with line tables into its own
# target directory (the normal one keeps its release build), records
# CALLS calls (default 3,000,000), and prints the functions by samples, then
# the hottest instructions of the top function with their source lines.
#
# A sample lands on the instruction after the one that waited. An ordinary
# instruction with ten times its neighbours' samples is a stall that
# callgrind's counts do not show: often a load that reads bytes written
# just before by smaller or differently placed stores (store-to-load
# forwarding fails, and the load waits for the stores to leave the core).
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ "$#" -ge 1 ] || { echo "usage: bench/perf.sh CONTESTANT [CALLS]" >&2; exit 2; }
command -v perf >/dev/null || {
    echo "perf.sh needs perf (apt-get install linux-perf)" >&2
    exit 1
}
build_with_line_tables
contestant_mode "$1"
calls="${2:-3000000}"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
perf record -q -e cpu-clock -F 20000 -o "$out/perf.data" \
    "$bin" "$mode" "$name" 0 "$calls" >/dev/null 2>"$out/log" || { cat "$out/log" >&2; exit 1; }

# Each report into a file, then its first lines: `report | head` under
# pipefail ends the script with 141 when head stops reading early.
perf report -i "$out/perf.data" --stdio --sort symbol 2>/dev/null |
    grep -v '^#' | grep -v '^$' | sed 's/[ -]*$//' >"$out/report"
echo "## functions by samples"
sed -n 1,12p "$out/report"
top="$(sed -n '1{s/^ *[0-9.]*% *\[\.\] *//;p}' "$out/report")"
echo
echo "## the hottest instructions of $top (percent of its samples)"
perf annotate -i "$out/perf.data" --stdio -l -s "$top" 2>/dev/null |
    grep -E '^ +[0-9]+\.[0-9]+ :' | sort -rn >"$out/annotate"
sed -n 1,12p "$out/annotate"
