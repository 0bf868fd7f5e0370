#!/bin/sh
# install-check.sh -- `make installcheck`: the installed tree works, away
# from the build tree and with no DAXFILE_PROBE, as a user has it:
#   - the installed daxfile starts (its run path finds the library) and
#     does its work;
#   - the installed library runs the installed daxfile-probe: a pool
#     libpmemobj crashes on is refused with EUCLEAN, not a crash;
#   - a program built with pkg-config against the installed header and
#     library runs (with LD_LIBRARY_PATH, as libdaxfile(3) says), and,
#     when libdaxfile.a was installed, linked statically too;
#   - the installed LD_PRELOAD layer loads the installed library build of
#     its own, whose helper is found: an unmodified program reads a pool;
#   - the installed link pages open with man.
# Usage: install-check.sh PREFIX BINDIR LIBDIR MANDIR SRCDIR
set -eu
prefix=$1 bindir=$2 libdir=$3 mandir=$4 srcdir=$5
CC=${CC:-cc}
unset DAXFILE_PROBE DAXFILE_POOL
work=$(mktemp -d "${TMPDIR:-/tmp}/daxfile-installcheck.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

daxfile=$bindir/daxfile
"$daxfile" --version >out || fail "the installed daxfile does not start"
"$daxfile" mkfs "$work/p.pool" 32M >out || fail "mkfs"
"$daxfile" -p "$work/p.pool" cp /etc/hostname pool:/h || fail "cp"
"$daxfile" -p "$work/p.pool" cat /h | cmp -s - /etc/hostname || fail "cat"
"$daxfile" -p "$work/p.pool" check >out || fail "check"

# the LD_PRELOAD layer, installed: its own build of the library, and the helper
mkdir "$work/mnt"
LD_PRELOAD=$libdir/libdaxfile-preload.so DAXFILE_MOUNTS=$work/mnt=$work/p.pool \
	cat "$work/mnt/h" >out 2>err ||
	fail "cat through the installed libdaxfile-preload.so: $(cat err)"
cmp -s out /etc/hostname || fail "cat through libdaxfile-preload.so read other bytes"

# libpmemobj crashes on this pool: only the helper keeps daxfile alive
head -c 65536 /dev/zero | tr '\0' '\377' |
	dd of="$work/p.pool" bs=4096 seek=2 conv=notrunc status=none
if "$daxfile" -p "$work/p.pool" ls >out 2>err; then
	fail "ls of a pool libpmemobj crashes on succeeded"
fi
grep -q "Structure needs cleaning" err ||
	fail "the installed library did not run its helper: $(cat err)"

# a program built with pkg-config
PKG_CONFIG_PATH=$libdir/pkgconfig
export PKG_CONFIG_PATH
flags=$(pkg-config --cflags --libs libdaxfile) || fail "pkg-config"
$CC -std=c11 -o app "$srcdir/tests/install/app.c" $flags || fail "cc $flags"
LD_LIBRARY_PATH=$libdir ./app "$work/app.pool" || fail "the program fails"
rm -f "$work/app.pool"
if [ -f "$libdir/libdaxfile.a" ]; then
	$CC -std=c11 -o app-static "$srcdir/tests/install/app.c" \
		$(pkg-config --cflags libdaxfile) "$libdir/libdaxfile.a" \
		$(pkg-config --static --libs libdaxfile | sed 's/-ldaxfile//') ||
		fail "a static link against libdaxfile.a"
	./app-static "$work/app.pool" || fail "the static program fails"
fi

# link pages
MANWIDTH=80 man -M "$mandir" daxfile_close 2>/dev/null | grep -q "daxfile_open" ||
	fail "man daxfile_close does not show daxfile_open(3)"
echo "installed in $prefix: ok"
