#!/bin/sh
# crash-check.sh -- the crash tests' share of `make check`: crashes at
# persistence points chosen by the library itself, then SIGKILLs at random
# instants.  CRASH_POINTS and CRASH_KILLS scale it up (.ci/run to 250 and
# 60, `make stress` to 5,000 and 1,000).
crash=${CRASH:-./tests/crash/daxfile-crash}
dir=${DAXFILE_TEST_DIR:-/dev/shm}
pool="$dir/daxfile-crash-$$.pool"
trap 'rm -f "$pool" "$pool.count"' EXIT

set -e
# 498 files of 8 units (inode and a 240-byte name) leave the pool's first
# slab 20 units: the workload makes the second slab early on
"$crash" --points -n "${CRASH_POINTS:-30}" -S 1 --fill 498 "$pool"
"$crash" --kill -n "${CRASH_KILLS:-10}" -S 2 "$pool"
