#!/usr/bin/env bash
# Instructions per call, counted exactly by valgrind's callgrind (the
# machine's load does not move them, where the timed tables of
# `cargo run --release -p retry-bench` move by a nanosecond or two):
#
#   bench/callgrind.sh [CONTESTANT ...]
#
# For each contestant (names in bench/src/counted.rs, and tower:alone,
# tower:tower, tower:tower-same, tower:ours for the tower table,
# bench/src/tower_stack.rs), runs the bench's hidden `--calls` (or
# `--tower-calls`) mode with 0 and with 4 failures per call, at
# 100,000 and 200,000 calls, and prints (count at 200k - count at 100k) /
# 100k: the instructions of one call, setup and runtime start-up cancelled
# out. "per retry" is (4 failures - success) / 4. Needs valgrind.
#
# BENCH_FEATURES="smol futures-timer" bench/callgrind.sh counts a build
# with those features of retry-runtime on as well (beside `tokio`).
#
# Without arguments: our forms and the hand loops only (hand attr fn
# hand-async attr-async fn-async shape-hand shape-attr shape-fn), what a
# change to the runtime or the macro is judged by. Every instruction row
# of README's Performance tables (the peers' success column and the tower
# table's too):
#
#   bench/callgrind.sh hand attr fn backon backoff hand-async attr-async \
#       fn-async backon-async backoff-async tokio-retry2-async shape-hand \
#       shape-attr shape-fn shape-backon shape-backoff shape-tokio-retry2 \
#       tower:tower tower:tower-same tower:ours
set -euo pipefail
# a failed count inside `$(...)` stops the script (bash does not carry
# `set -e` into command substitutions without this)
shopt -s inherit_errexit

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v valgrind >/dev/null || {
    echo "callgrind.sh needs valgrind (apt-get install valgrind)" >&2
    exit 1
}
# BENCH_FEATURES: more of retry-runtime's features, e.g. "smol
# futures-timer" (each is turned on as retry-runtime/<feature>), to show
# that a feature costs nothing to a path that does not use it
features=()
for f in ${BENCH_FEATURES:-}; do
    features+=(--features "retry-runtime/$f")
done
(cd "$here" && cargo build --release -q -p retry-bench "${features[@]}")
bin="${CARGO_TARGET_DIR:-$here/target}/release/retry-bench"
[ "$#" -gt 0 ] || set -- hand attr fn hand-async attr-async fn-async shape-hand shape-attr shape-fn

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# count <contestant> <failures> <calls>: total instructions of the run
count() {
    local mode name
    contestant_mode "$1"
    valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bin" "$mode" "$name" "$2" "$3" \
        2>"$out/log" >/dev/null || { cat "$out/log" >&2; exit 1; }
    local total
    total="$(sed -n 's/^summary: //p' "$out/cg")"
    [ -n "$total" ] || {
        cat "$out/log" >&2
        echo "callgrind.sh: no instruction count for $1 ($2 failures, $3 calls)" >&2
        exit 1
    }
    echo "$total"
}

per_call() {
    local a b
    a="$(count "$1" "$2" 100000)"
    b="$(count "$1" "$2" 200000)"
    echo $(( (b - a) / 100000 ))
}

printf '%-16s %10s %12s %10s\n' contestant success "4 failures" "per retry"
for c in "$@"; do
    ok="$(per_call "$c" 0)"
    case "$c" in
    # the async peers sleep on tokio's timer even for a zero wait, which
    # the counted runtime has not enabled: their success column only (the
    # sync peers' zero wait is `std::thread::sleep(0)`, which returns at
    # once: their retries count)
    shape-backon | shape-backoff | shape-tokio-retry2 | backon-async | backoff-async | tokio-retry2-async)
        printf '%-16s %10d %12s %10s\n' "$c" "$ok" - -
        continue
        ;;
    esac
    four="$(per_call "$c" 4)"
    printf '%-16s %10d %12d %10d\n' "$c" "$ok" "$four" $(( (four - ok) / 4 ))
done
