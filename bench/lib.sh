# Shared by the bench's scripts (sourced, not run): where the repository
# is, the bench built with line tables, and a contestant's mode.

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The builds run in $here, `bin` from where the script was started: a
# relative target directory, which cargo reads from its working directory,
# is made absolute first, so that both name the same one.
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    CARGO_TARGET_DIR="$(realpath -m -- "$CARGO_TARGET_DIR")"
    export CARGO_TARGET_DIR
fi
if [ -n "${PERF_TARGET_DIR:-}" ]; then
    PERF_TARGET_DIR="$(realpath -m -- "$PERF_TARGET_DIR")"
fi

# Builds the bench with line tables into its own target directory (the
# normal one keeps its release build) and sets `bin` to it.
build_with_line_tables() {
    local target="${PERF_TARGET_DIR:-${CARGO_TARGET_DIR:-$here/target}/perf}"
    (cd "$here" && CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
        cargo build --release -q -p retry-bench --target-dir "$target")
    bin="$target/release/retry-bench"
}

# Sets `mode` and `name` for CONTESTANT: a name of the hidden `--calls`
# mode (src/counted.rs), or tower:NAME for `--tower-calls`
# (src/tower_stack.rs).
contestant_mode() {
    mode=--calls name="$1"
    case "$name" in tower:*) mode=--tower-calls name="${name#tower:}" ;; esac
}
