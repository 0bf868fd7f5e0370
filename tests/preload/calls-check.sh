#!/bin/sh
# calls-check.sh -- run preload_calls (the layer's contract call by call)
# through libdaxfile-preload.so on two fresh pools, then check the pools.
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
export MNT="$work/mnt/one" MNT2="$work/mnt/two"
export DAXFILE_MOUNTS="$MNT=$work/one.pool:$MNT2=$work/two.pool"
timeout 300 env LD_PRELOAD="$PRELOAD" "$prog"
rc=$?
for p in one two; do
	"$DAXFILE" -p "$work/$p.pool" check || { echo "FAIL pool $p after the run"; rc=1; }
done
[ -d "$work/mnt" ] && { echo "FAIL something reached the host: $(ls -R "$work/mnt")"; rc=1; }
exit $rc
