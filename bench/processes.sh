#!/usr/bin/env bash
# The bench's round medians over several processes:
#
#   bench/processes.sh PROCESSES --tower-rounds N
#   bench/processes.sh PROCESSES --rounds N
#
# Runs `retry-bench --tower-rounds N` (or `--rounds N`) PROCESSES times,
# each in a process of its own, and prints each process's medians, then
# the median of them over the processes.
#
# Why: each process gets its own address layout (ASLR places the stack,
# the heap and the code anew), and with it its own set of loads that wait
# on earlier stores, so one process's medians are steady within it and
# move from one process to the next. Eight processes of one binary gave
# the tower contest's per-call ratio from 0.92x to 1.11x; the same binary
# with ASLR off (`setarch -R`) gave 0.941x-0.948x in five. A user's
# process lands anywhere in that spread: the median over processes is the
# figure to judge a target by, not one process's.
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
usage() {
    echo "usage: bench/processes.sh PROCESSES --tower-rounds N | --rounds N" >&2
    exit 2
}
[ "$#" -eq 3 ] || usage
processes="$1" mode="$2" rounds="$3"
case "$mode" in --tower-rounds | --rounds) ;; *) usage ;; esac
[[ "$processes" =~ ^[1-9][0-9]*$ && "$rounds" =~ ^[1-9][0-9]*$ ]] || usage

(cd "$here" && cargo build --release -q -p retry-bench)
bin="${CARGO_TARGET_DIR:-$here/target}/release/retry-bench"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# One "name<TAB>value" line per median a process prints.
medians() {
    awk '
        /^ours \/ tower.s same work, median/ {
            for (i = 1; i <= NF; i++) {
                if ($i == "call") { v = $(i + 1); sub(/x,?$/, "", v); print "tower per call (x)\t" v }
                if ($i == "retry") { v = $(i + 1); sub(/x,?$/, "", v); print "tower per retry (x)\t" v }
            }
        }
        /^success path, .*: median/ { table = $3; sub(/:$/, "", table); if ($4 == "shape:") table = "shape" }
        /^  .*: [+-][0-9.]+ ns$/ {
            name = $0; sub(/^  /, "", name); sub(/: [+-][0-9.]+ ns$/, "", name)
            print table ", " name " (ns over the hand loop)\t" $(NF - 1)
        }
    '
}

for p in $(seq 1 "$processes"); do
    "$bin" "$mode" "$rounds" >"$out/run" 2>&1 || { cat "$out/run" >&2; exit 1; }
    medians <"$out/run" >"$out/$p"
    # at least one median, each a number: output the awk above no longer
    # reads must stop the script, not print an empty table and succeed
    if [ ! -s "$out/$p" ] ||
        awk -F'\t' '$2 !~ /^[+-]?[0-9]+(\.[0-9]+)?$/ { bad = 1 } END { exit !bad }' "$out/$p"; then
        cat "$out/run" >&2
        echo "processes.sh: no medians, or one not a number, in process $p's output (above): has its format changed?" >&2
        exit 1
    fi
    printf 'process %s: %s\n' "$p" "$(cut -f2 "$out/$p" | paste -sd' ')"
done

echo
echo "medians over $processes processes (each the median of its $rounds rounds; for an even count, the lower middle):"
cut -f1 "$out/1" | while IFS= read -r name; do
    values=$(cat "$out"/[0-9]* | awk -F'\t' -v n="$name" '$1 == n { print $2 }' | sort -g)
    count=$(printf '%s\n' "$values" | wc -l)
    median=$(printf '%s\n' "$values" | sed -n "$(((count + 1) / 2))p")
    printf '  %s: %s (from %s to %s)\n' "$name" "$median" \
        "$(printf '%s\n' "$values" | head -1)" "$(printf '%s\n' "$values" | tail -1)"
done
