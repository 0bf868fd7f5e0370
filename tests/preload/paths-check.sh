#!/bin/sh
# paths-check.sh -- differential test of the layer's path walk: path_ops.py
# makes the same random operations (open, mkdir, rmdir, unlink, rename,
# renameat2, link, symlink, readlink, stat, lstat, chmod, truncate,
# utimensat, listdir, access, I/O on what it opened) on paths full of ".",
# "..", trailing slashes, symbolic links and missing components, once on
# tmpfs and once in a pool through libdaxfile-preload.so, with the same
# seed; results, errno values and the trees left must be the same.
# Environment: PRELOAD, DAXFILE, DAXFILE_TEST_DIR, as apps-check.sh;
# PATH_SEEDS (default 8) runs of PATH_OPS (default 3000) operations.
set -u
: "${PRELOAD:?PRELOAD must name libdaxfile-preload.so}"
: "${DAXFILE:?DAXFILE must name the daxfile CLI}"
here=$(dirname "$0")
dir=${DAXFILE_TEST_DIR:-/dev/shm}
export PMEM_IS_PMEM_FORCE=1

if [ "${DX_TEST_SANITIZED:-no}" = yes ] || ldd "$PRELOAD" | grep -q "lib[at]san"; then
	echo "SKIP paths-check: the layer is built with a sanitizer, whose runtime cannot be preloaded into other programs"
	exit 77
fi
# Debian's python3, not a wrapper found first on PATH
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3) || {
	echo "SKIP paths-check: no python3 (Debian: apt-get install python3)"
	exit 77
}
work=$(mktemp -d "$dir/daxfile-paths.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT
"$DAXFILE" mkfs "$work/one.pool" 256M >/dev/null || exit 99
mnt=$work/mnt/one
export DAXFILE_MOUNTS="$mnt=$work/one.pool"
rc=0
seed=1
while [ "$seed" -le "${PATH_SEEDS:-8}" ]; do
	mkdir "$work/ref$seed"
	"$py" "$here/path_ops.py" "$work/ref$seed" "$seed" "${PATH_OPS:-3000}" \
		>"$work/ref.out" 2>&1 || { echo "FAIL seed $seed on tmpfs: $(tail -3 "$work/ref.out")"; rc=1; }
	timeout 120 env LD_PRELOAD="$PRELOAD" sh -c \
		"mkdir $mnt/run$seed && exec \"$py\" \"$here/path_ops.py\" $mnt/run$seed $seed ${PATH_OPS:-3000}" \
		>"$work/pool.out" 2>&1 || { echo "FAIL seed $seed in the pool: $(tail -3 "$work/pool.out")"; rc=1; }
	if cmp -s "$work/ref.out" "$work/pool.out"; then
		echo "ok   seed $seed: $(wc -l <"$work/ref.out") lines the same, $(grep -c ' err ' "$work/ref.out") of them errors"
	else
		echo "FAIL seed $seed: the pool differs from tmpfs:"
		diff "$work/ref.out" "$work/pool.out" | head -10
		rc=1
	fi
	seed=$((seed + 1))
done
"$DAXFILE" -p "$work/one.pool" check || { echo "FAIL the pool after the runs"; rc=1; }
[ -d "$work/mnt" ] && { echo "FAIL something reached the host: $(ls -R "$work/mnt")"; rc=1; }
exit $rc
