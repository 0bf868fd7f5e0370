#!/bin/sh
# demo.sh -- a short tour of the daxfile command on a fresh pool file:
# make a pool, build a small tree, copy files in and out, check it.
# Usage: demo.sh DAXFILE-COMMAND POOL-FILE
set -e
DAXFILE=$1
POOL=$2
export DAXFILE_POOL="$POOL"

run() {
	echo "\$ daxfile $*"
	"$DAXFILE" "$@"
	echo
}

rm -f "$POOL"
run mkfs "$POOL" 64M
run mkdir -p /docs/etc
for f in /etc/hostname /etc/os-release /etc/services; do
	[ -r "$f" ] && run cp "$f" "pool:/docs/etc/$(basename "$f")"
done
run ls -l /docs/etc
run stat /docs/etc/os-release
run mv /docs/etc /docs/config
run cat /docs/config/os-release
run truncate /docs/config/services 1000
run fallocate -o 0 -l 8M /docs/big
run ls -l /docs /docs/config
run map-demo /docs/mapped
run info
run check
echo "pool left at $POOL"
