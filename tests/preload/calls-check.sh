#!/bin/sh
# calls-check.sh -- run preload_calls (the layer's contract call by call)
# through libdaxfile-preload.so on two fresh pools, compare preload_fts's
# walks in a pool with the same on tmpfs, then check the pools.
# Environment: PRELOAD, DAXFILE, DAXFILE_TEST_DIR, as apps-check.sh.
set -u
: "${PRELOAD:?PRELOAD must name libdaxfile-preload.so}"
: "${DAXFILE:?DAXFILE must name the daxfile CLI}"
here=$(dirname "$0")
prog=${PRELOAD_CALLS:-./tests/preload/preload_calls}
dir=${DAXFILE_TEST_DIR:-/dev/shm}
export PMEM_IS_PMEM_FORCE=1

if [ "${DX_TEST_SANITIZED:-no}" = yes ] || ldd "$PRELOAD" | grep -q "lib[at]san"; then
	echo "SKIP calls-check: the layer is built with a sanitizer, whose runtime cannot be preloaded into other programs"
	exit 77
fi
work=$(mktemp -d "$dir/daxfile-calls.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT
"$DAXFILE" mkfs "$work/one.pool" 256M >/dev/null || exit 99
"$DAXFILE" mkfs "$work/two.pool" 32M >/dev/null || exit 99
export MNT="$work/mnt/one" MNT2="$work/mnt/two" POOL_ONE="$work/one.pool" DAXFILE
export DAXFILE_MOUNTS="$MNT=$work/one.pool:$MNT2=$work/two.pool"
timeout 300 env LD_PRELOAD="$PRELOAD" "$prog"
rc=$?
# fts(3): the layer's walk of a tree in a pool, against the C library's
# walk of the same tree on tmpfs
fts=${PRELOAD_FTS:-./tests/preload/preload_fts}
mkdir "$work/fts-ref"
"$fts" "$work/fts-ref" >"$work/fts.ref" 2>&1 || rc=1
timeout 60 env LD_PRELOAD="$PRELOAD" sh -c "mkdir $MNT/fts && \"$fts\" $MNT/fts" \
	>"$work/fts.pool" 2>&1 || rc=1
if cmp -s "$work/fts.ref" "$work/fts.pool" && [ -s "$work/fts.ref" ]; then
	echo "ok   fts_walks_a_pool_tree_as_the_c_library_walks_tmpfs"
else
	echo "FAIL fts_walks_a_pool_tree_as_the_c_library_walks_tmpfs:"
	diff "$work/fts.ref" "$work/fts.pool" | head -20
	rc=1
fi
for p in one two; do
	"$DAXFILE" -p "$work/$p.pool" check || { echo "FAIL pool $p after the run"; rc=1; }
done
[ -d "$work/mnt" ] && { echo "FAIL something reached the host: $(ls -R "$work/mnt")"; rc=1; }
exit $rc
