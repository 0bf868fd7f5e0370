#!/bin/sh
# demo.sh -- a short tour of the daxfile command on a fresh pool file:
# make a pool, build a small tree, copy files in and one back out (and
# compare it with the original), look at them, reshape a file, map one,
# and check the pool.  Each command is shown as it is run.
# Usage: demo.sh DAXFILE-COMMAND POOL-FILE
set -e
DAXFILE=$1
POOL=$2
OUT=$(mktemp -d "${TMPDIR:-/tmp}/daxfile-demo.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

# run ARGS -- show and run a daxfile command
run() {
	echo "\$ $DAXFILE $*"
	"$DAXFILE" "$@"
	echo
}

# pool ARGS -- show and run a daxfile command on the demo pool
pool() {
	run -p "$POOL" "$@"
}

rm -f "$POOL"
run mkfs "$POOL" 64M
pool mkdir -p /docs/etc
for f in /etc/hostname /etc/os-release /etc/services; do
	[ -r "$f" ] && pool cp "$f" "pool:/docs/etc/$(basename "$f")"
done
pool ls -l /docs/etc
pool stat /docs/etc/os-release
pool mv /docs/etc /docs/config
pool cat /docs/config/os-release
pool cp pool:/docs/config/os-release "$OUT/os-release"
echo "\$ cmp /etc/os-release $OUT/os-release && echo same"
cmp /etc/os-release "$OUT/os-release" && echo same
echo
pool truncate /docs/config/services 1000
pool fallocate -o 0 -l 8M /docs/big
pool ls -l /docs /docs/config
pool map-demo /docs/mapped
pool info
pool check
echo "pool left at $POOL"
