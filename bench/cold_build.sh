#!/usr/bin/env bash
# A user's cold build: a new crate with one `#[retry]` async fn on tokio
# (`macros` feature), against the same program written with backon, each
# built from an empty target directory, alternately, RUNS times each.
# Prints the median wall time of each and their ratio, measured in one run.
#
#   bench/cold_build.sh [RUNS] [RETRY_CHECKOUT ...]
#
# RUNS defaults to 3. Each RETRY_CHECKOUT (default: this repository) is a
# checkout of the retry workspace to measure, so an older commit can be
# measured beside the current one (`git worktree add /tmp/old <rev>`).
# Dependencies are fetched before timing; the timed builds run --offline.
set -euo pipefail

runs="${1:-3}"
shift || true
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
checkouts=("$@")
[ "${#checkouts[@]}" -gt 0 ] || checkouts=("$here")

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# new_crate <dir> <dependency lines> <main.rs>
new_crate() {
    mkdir -p "$1/src"
    cat >"$1/Cargo.toml" <<TOML
[package]
name = "user-app"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
tokio = { version = "1", features = ["macros", "rt", "time"] }
$2

[workspace]
TOML
    printf '%s\n' "$3" >"$1/src/main.rs"
    (cd "$1" && cargo generate-lockfile -q && cargo fetch -q)
}

names=()
dirs=()
for i in "${!checkouts[@]}"; do
    co="$(cd "${checkouts[$i]}" && pwd)"
    dir="$work/retry$i"
    new_crate "$dir" "retry-runtime = { path = \"$co/retry-runtime\" }" '
use retry_runtime::retry;

#[retry(attempts = 3, backoff = "exp(10ms,40ms)")]
async fn fetch(n: u32) -> Result<u32, std::io::Error> {
    if n == 0 {
        return Err(std::io::Error::other("zero"));
    }
    Ok(n * 2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("{}", fetch(21).await.unwrap());
}'
    names+=("retry-runtime ($(git -C "$co" rev-parse --short HEAD 2>/dev/null || echo "$co"))")
    dirs+=("$dir")
done
new_crate "$work/backon" 'backon = "1"' '
use std::time::Duration;
use backon::{ExponentialBuilder, Retryable};

async fn fetch_once(n: u32) -> Result<u32, std::io::Error> {
    if n == 0 {
        return Err(std::io::Error::other("zero"));
    }
    Ok(n * 2)
}

async fn fetch(n: u32) -> Result<u32, std::io::Error> {
    let policy = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(10))
        .with_max_delay(Duration::from_millis(40))
        .with_max_times(2);
    (|| fetch_once(n)).retry(policy).await
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("{}", fetch(21).await.unwrap());
}'
names+=("backon 1")
dirs+=("$work/backon")

declare -A times
for run in $(seq "$runs"); do
    for i in "${!dirs[@]}"; do
        rm -rf "${dirs[$i]}/target"
        start=$(date +%s.%N)
        (cd "${dirs[$i]}" && cargo build -q --offline)
        end=$(date +%s.%N)
        times[$i]+="$(echo "$end - $start" | bc) "
        echo "run $run: ${names[$i]}: $(echo "$end - $start" | bc | xargs printf '%.2f') s" >&2
    done
done

median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
last=$((${#dirs[@]} - 1))
base=$(median "${times[$last]}")
echo
echo "| program | cold build, median of $runs | x backon |"
echo "|---|---:|---:|"
for i in "${!dirs[@]}"; do
    m=$(median "${times[$i]}")
    printf '| %s | %.2f s | %.2fx |\n' "${names[$i]}" "$m" "$(echo "$m / $base" | bc -l)"
done
echo
echo "$(nproc) cores, $(rustc --version); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
