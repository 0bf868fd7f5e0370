#!/bin/sh
# fsx-check.sh -- the exerciser's share of `make check`: a few seeds
# single-threaded (every operation kind, pool reopens included) and one
# concurrent run with mapped readers racing truncate and punch.
# FSX_OPS and FSX_SEEDS scale it up (.ci/run to 8,000 operations a run,
# `make stress` to 16 seeds of 200,000).
set -e
fsx=${FSX:-./tests/fsx/daxfile-fsx}
dir=${DAXFILE_TEST_DIR:-/dev/shm}
ops=${FSX_OPS:-3000}
seeds=${FSX_SEEDS:-"1 2 3 4"}
pool="$dir/daxfile-fsx-$$.pool"
trap 'rm -f "$pool"' EXIT
total=0
for s in $seeds; do
	"$fsx" -q -N "$ops" -S "$s" "$pool"
	total=$((total + ops))
done
"$fsx" -N "$ops" -t 3 -S 7 "$pool"
total=$((total + 3 * ops))
echo "fsx-check: $total operations ok"
