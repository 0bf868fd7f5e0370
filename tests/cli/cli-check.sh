#!/bin/sh
# cli-check.sh -- the daxfile command as a user meets it, in `make check`:
# each function below is one behaviour, named as a sentence, run on pools
# of its own under $DAXFILE_TEST_DIR; the first that fails stops the run
# with what it expected and what it got.
set -u
DAXFILE=${DAXFILE:-./daxfile}
dir=$(mktemp -d "${DAXFILE_TEST_DIR:-/dev/shm}/daxfile-cli.XXXXXX")
trap 'rm -rf "$dir"' EXIT
out=$dir/out
err=$dir/err

fail() {
	echo "FAIL: $current: $*" >&2
	echo "--- stdout:" >&2
	cat "$out" >&2
	echo "--- stderr:" >&2
	cat "$err" >&2
	exit 1
}

# dx STATUS ARGS -- run daxfile with ARGS; it must exit with STATUS
dx() {
	expect=$1
	shift
	"$DAXFILE" "$@" >"$out" 2>"$err"
	got=$?
	[ "$got" = "$expect" ] || fail "daxfile $* exited $got, not $expect"
}

# says FILE TEXT -- FILE (out or err) contains TEXT
says() {
	grep -q -- "$2" "$1" || fail "no '$2' in $(basename "$1")"
}

# pool NAME -- a fresh 32 MiB pool, its path in $P
pool() {
	P=$dir/$1.pool
	rm -f "$P"
	dx 0 mkfs "$P" 32M
}

version_and_help_answer() {
	dx 0 --version
	says "$out" "^daxfile (libdaxfile) [0-9]"
	dx 0 help
	says "$out" "^commands:"
	says "$out" "salvage DIR"
	dx 0 help cp
	says "$out" "usage: daxfile cp \[-r\] \[-k\] SRC DST"
	dx 2 help nosuch
	says "$err" "unknown command 'nosuch'"
}

a_bad_size_lists_the_suffixes() {
	dx 2 mkfs "$dir/x.pool" 12Q
	says "$err" "invalid size '12Q'.*K, M, G or T"
	pool sizes
	dx 0 -p "$P" mkdir /d
	dx 2 -p "$P" truncate /d 1Z
	says "$err" "K, M, G or T"
	dx 2 -p "$P" fallocate -l 3X /f
	says "$err" "invalid length '3X'.*K, M, G or T"
}

mkfs_prints_the_usable_size_and_the_backing() {
	rm -f "$dir/u.pool"
	dx 0 mkfs "$dir/u.pool" 64M
	says "$out" "^usable: *50.0 MiB (12800 blocks"
	says "$out" "^backing: "
	if [ "$(stat -f -c %T "$dir")" = tmpfs ]; then
		says "$out" "^backing: *memory (tmpfs)"
	fi
	dx 0 -p "$dir/u.pool" info
	says "$out" "^backing: "
	rm -f "$dir/u.pool"
}

mkfs_sizes_a_pool_for_the_usable_bytes_asked() {
	for want in 20M 100M 300M; do
		rm -f "$dir/w.pool"
		dx 0 mkfs -u "$want" "$dir/w.pool"
		usable=$(sed -n 's/^usable: .*(\([0-9]*\) blocks.*/\1/p' "$out")
		bytes=$(sed -n 's/^file size: .*(\([0-9]*\) bytes)/\1/p' "$out")
		case $want in
		20M) need=$((20 << 20)) ;;
		100M) need=$((100 << 20)) ;;
		*) need=$((300 << 20)) ;;
		esac
		[ $((usable * 4096)) -ge "$need" ] ||
			fail "-u $want gave $usable blocks"
		# not more than a MiB of pool file more than needed: one
		# MiB less holds less
		[ $((usable * 4096)) -lt $((need + (4 << 20))) ] ||
			fail "-u $want gave $usable blocks, too many"
		rm -f "$dir/w.pool"
		dx 0 mkfs "$dir/w.pool" $((bytes - (1 << 20)))
		smaller=$(sed -n 's/^usable: .*(\([0-9]*\) blocks.*/\1/p' "$out")
		[ $((smaller * 4096)) -lt "$need" ] ||
			fail "a pool 1 MiB smaller than -u $want chose also holds it"
	done
	rm -f "$dir/w.pool"
}

a_message_says_its_cause_once() {
	dx 1 -p "$dir/none.pool" ls
	says "$err" "No such file or directory"
	n=$(grep -o "No such file or directory" "$err" | wc -l)
	[ "$n" = 1 ] || fail "the cause appears $n times"
}

relative_paths_start_at_the_root() {
	pool rel
	dx 0 -p "$P" mkdir -p a/b
	dx 0 -p "$P" cp /etc/hostname pool:a/b/h
	dx 0 -p "$P" ls /a/b
	says "$out" "^h$"
	dx 0 -p "$P" stat a/b/h
	says "$out" "File: /a/b/h"
	dx 0 -p "$P" mv a/b/h a/h2
	dx 0 -p "$P" cat a/h2
	dx 0 -p "$P" rm -r a
	dx 0 -p "$P" ls
	[ -s "$out" ] && fail "the pool is not empty"
	true
}

stat_prints_the_device_as_a_person_reads_it() {
	pool dev
	dx 0 -p "$P" stat /
	says "$out" "^Device: [0-9a-f]*h	Inode:"
}

check_prints_a_line_for_a_clean_pool_and_exits_0() {
	pool clean
	dx 0 -p "$P" check
	says "$out" "clean, 1 inodes"
}

check_exits_1_on_damage_and_2_when_it_cannot_check() {
	pool hurt
	dx 0 -p "$P" mkdir /d
	# the primary superblock: the first "DAXFILE!" of the file
	off=$(grep -obUa "DAXFILE!" "$P" | head -1 | cut -d: -f1)
	printf 'XXXXXXXX' | dd of="$P" bs=1 seek="$off" conv=notrunc status=none
	dx 1 -p "$P" check
	says "$out" "superblock: damaged"
	says "$out" "damaged; see"
	dx 2 -p "$dir/none.pool" check
	head -c 20000000 /dev/zero >"$dir/zeros"
	dx 2 -p "$dir/zeros" check
	says "$err" "not a libdaxfile pool"
	dx 2 -p "$P" check extra
}

check_r_repairs_a_damaged_superblock() {
	pool fix
	dx 0 -p "$P" mkdir /kept
	off=$(grep -obUa "DAXFILE!" "$P" | head -1 | cut -d: -f1)
	printf 'XXXXXXXX' | dd of="$P" bs=1 seek="$off" conv=notrunc status=none
	dx 1 -p "$P" check -r
	says "$out" "repaired: the superblock"
	says "$out" "is clean now"
	dx 0 -p "$P" check
	dx 0 -p "$P" ls
	says "$out" "^kept$"
}

salvage_copies_files_out_of_a_pool_libpmemobj_cannot_open() {
	pool salv
	dx 0 -p "$P" mkdir -p /a/b
	dx 0 -p "$P" cp /etc/services pool:/a/b/services
	dx 0 -p "$P" cp /etc/os-release pool:/a/os-release
	# libpmemobj's lanes, from 8 KiB on: it crashes opening the pool
	head -c 65536 /dev/zero | tr '\0' '\377' |
		dd of="$P" bs=4096 seek=2 conv=notrunc status=none
	dx 1 -p "$P" ls
	says "$err" "Structure needs cleaning"
	dx 1 -p "$P" check
	says "$out" "daxfile salvage can copy out"
	dx 0 -p "$P" salvage "$dir/saved"
	says "$out" "salvaged 2 files and 3 directories"
	cmp /etc/services "$dir/saved/a/b/services" || fail "services differs"
	cmp /etc/os-release "$dir/saved/a/os-release" || fail "os-release differs"
	dx 1 -p "$P" salvage "$dir/saved"
	says "$err" "not empty"
}

cp_r_copies_a_tree_in_and_out() {
	pool tree
	mkdir -p "$dir/src/x/y"
	echo one >"$dir/src/one"
	echo two >"$dir/src/x/y/two"
	dx 0 -p "$P" cp -r "$dir/src" pool:/t
	dx 0 -p "$P" cat /t/x/y/two
	says "$out" "^two$"
	dx 0 -p "$P" cp -r pool:/t "$dir/back"
	diff -r "$dir/src" "$dir/back" >"$out" 2>&1 || fail "the tree came back changed"
	dx 1 -p "$P" cp pool:/t "$dir/nor"
	says "$err" "is a directory (-r copies it)"
	dx 1 -p "$P" cp -r pool:/t pool:/t/x
	says "$err" "into itself"
}

a_failed_cp_into_a_full_pool_removes_its_partial_copy() {
	pool full
	head -c $((40 << 20)) /dev/zero >"$dir/big"
	dx 1 -p "$P" cp "$dir/big" pool:/big
	says "$err" "No space left on device"
	says "$err" "removed the partial copy"
	dx 1 -p "$P" stat /big
	dx 0 -p "$P" check
	dx 1 -p "$P" cp -k "$dir/big" pool:/big
	says "$err" "kept the partial copy"
	dx 0 -p "$P" stat /big
	rm -f "$dir/big"
}

map_demo_refuses_to_overwrite_a_file_without_f() {
	pool map
	dx 0 -p "$P" cp /etc/hostname pool:/h
	dx 1 -p "$P" map-demo /h
	says "$err" "exists: map-demo would overwrite it"
	dx 0 -p "$P" cat /h
	cmp "$out" /etc/hostname || fail "map-demo changed /h"
	dx 0 -p "$P" map-demo -f /h
	dx 0 -p "$P" map-demo /new
	says "$out" "raises SIGBUS"
}

busy_names_the_process_that_has_the_pool() {
	pool busy
	# a map-demo cannot be held open; a check from a second shell can be
	# simulated with flock, which is the lock libpmemobj takes
	flock -x "$P" sleep 3 &
	holder=$!
	sleep 1
	dx 1 -p "$P" ls
	says "$err" "Device or resource busy"
	says "$err" "open in process"
	wait "$holder"
}

for current in \
	version_and_help_answer \
	a_bad_size_lists_the_suffixes \
	mkfs_prints_the_usable_size_and_the_backing \
	mkfs_sizes_a_pool_for_the_usable_bytes_asked \
	a_message_says_its_cause_once \
	relative_paths_start_at_the_root \
	stat_prints_the_device_as_a_person_reads_it \
	check_prints_a_line_for_a_clean_pool_and_exits_0 \
	check_exits_1_on_damage_and_2_when_it_cannot_check \
	check_r_repairs_a_damaged_superblock \
	salvage_copies_files_out_of_a_pool_libpmemobj_cannot_open \
	cp_r_copies_a_tree_in_and_out \
	a_failed_cp_into_a_full_pool_removes_its_partial_copy \
	map_demo_refuses_to_overwrite_a_file_without_f \
	busy_names_the_process_that_has_the_pool; do
	$current
	echo "ok: $current"
done
