#!/usr/bin/env bash
# The `memcpy` calls of one contestant's calls, by size and by the source
# line that made them: the large copies (a request, a future) that
# callgrind counts as instructions of libc and perf as stalls.
#
#   bench/memcpy.sh CONTESTANT [FAILURES]
#
# CONTESTANT is a name of the bench's hidden `--calls` mode (src/counted.rs)
# or tower:NAME for `--tower-calls` (src/tower_stack.rs), as in callgrind.sh.
# Builds the bench with line tables (perf.sh's target directory) and a small
# `LD_PRELOAD` shim (C, compiled with cc) that wraps `memcpy`, makes 100,000
# calls each failing FAILURES times first (default 0), and prints every
# (size, call site) seen at least once per call, per call, with the site's
# source line. Copies that LLVM writes inline as moves are not seen: only
# those it leaves to libc (about 128 bytes and up).
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ "$#" -ge 1 ] || { echo "usage: bench/memcpy.sh CONTESTANT [FAILURES]" >&2; exit 2; }
command -v cc >/dev/null || { echo "memcpy.sh needs a C compiler (apt-get install gcc)" >&2; exit 1; }
command -v addr2line >/dev/null || { echo "memcpy.sh needs addr2line (apt-get install binutils)" >&2; exit 1; }
build_with_line_tables
contestant_mode "$1"
failures="${2:-0}"
calls=100000

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cat >"$out/shim.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SITES 256
static void *site[SITES];
static size_t size[SITES];
static unsigned long count[SITES];
static int on;
static void *(*real)(void *, const void *, size_t);

void *memcpy(void *d, const void *s, size_t n) {
    if (!real) real = (void *(*)(void *, const void *, size_t))dlsym(RTLD_NEXT, "memcpy");
    if (on) {
        void *ra = __builtin_return_address(0);
        for (int i = 0; i < SITES; i++) {
            if (site[i] == ra && size[i] == n) { count[i]++; break; }
            if (!site[i]) { site[i] = ra; size[i] = n; count[i] = 1; break; }
        }
    }
    return real(d, s, n);
}

static uintptr_t base;
static int first_object(struct dl_phdr_info *info, size_t len, void *data) {
    (void)len; (void)data;
    if (!base) base = info->dlpi_addr;
    return 1;
}

__attribute__((constructor)) static void start(void) { on = 1; }
__attribute__((destructor)) static void stop(void) {
    on = 0;
    dl_iterate_phdr(first_object, 0);
    const char *min = getenv("MEMCPY_MIN_COUNT");
    unsigned long least = min ? strtoul(min, 0, 10) : 1;
    for (int i = 0; i < SITES && site[i]; i++)
        if (count[i] >= least)
            fprintf(stderr, "%zu %lu 0x%lx\n", size[i], count[i],
                    (unsigned long)((uintptr_t)site[i] - base - 1));
}
EOF
cc -O2 -shared -fPIC -o "$out/shim.so" "$out/shim.c" -ldl
MEMCPY_MIN_COUNT="$calls" LD_PRELOAD="$out/shim.so" \
    "$bin" "$mode" "$name" "$failures" "$calls" >/dev/null 2>"$out/sites"

printf '%6s %9s  %s\n' bytes "per call" "call site"
sort -k1,1nr "$out/sites" | while read -r bytes count addr; do
    where="$(addr2line -C -i -e "$bin" "$addr" | grep -v '^??' | head -1 \
        | sed -e "s|$here/||" -e 's|.*/registry/src/[^/]*/||' -e 's|^/rustc/[0-9a-f]*/||')"
    printf '%6d %9s  %s\n' "$bytes" "$(awk -v c="$count" -v n="$calls" 'BEGIN { printf "%.1f", c / n }')" "${where:-?}"
done
