#!/bin/sh
# doc-check.sh -- the manual pages as a reader uses them, in `make check`:
#   - every page, and every link page, renders with `man -l` in the tree,
#     without a warning;
#   - the example programs of libdaxfile(3) and daxfile_mmap(3) compile
#     with -std=c11 (no GNU extensions unless the program asks for them)
#     and run, in that order, against the library of the tree, on a pool
#     on a disk (or memory), without PMEM_IS_PMEM_FORCE;
#   - the shell examples of daxfile(1) run as written, with their paths
#     moved into a directory of the test;
#   - the pages say what a program needs that a reader cannot guess:
#     _GNU_SOURCE for SEEK_DATA and MAP_SYNC, LD_LIBRARY_PATH or a run
#     path for a library under a prefix of its own.
set -u
srcdir=${srcdir:-.}
doc=$srcdir/doc
CC=${CC:-cc}
work=$(mktemp -d "${DAXFILE_TEST_DISK_DIR:-/var/tmp}/daxfile-doc.XXXXXX")
trap 'rm -rf "$work"' EXIT
status=0

fail() {
	echo "FAIL: $*" >&2
	status=1
}

# pages render, links too
for page in "$doc"/*.1 "$doc"/*.3 "$doc"/links/*.3; do
	MANWIDTH=80 man --warnings -l "$page" >"$work/page" 2>"$work/warnings"
	[ -s "$work/warnings" ] && fail "man -l $page: $(cat "$work/warnings")"
	grep -q "^NAME" "$work/page" ||
		fail "man -l $page shows no NAME section"
done

# example -- the EXAMPLES section of a page as plain text, the lines of
# its .nf blocks only
example() {
	sed -n '/^\.SH EXAMPLES/,/^\.SH /p' "$1" |
		sed -n '/^\.nf/,/^\.fi/p' |
		sed -e '/^\.nf/d' -e '/^\.fi/d' -e 's/^\.PP$//' \
			-e 's/\\e/\\/g' -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" \
			-e 's/\\(dq/"/g' -e 's/\\&//g'
}

# the example programs, run in a directory standing for /mnt/pmem
unset PMEM_IS_PMEM_FORCE
for page in libdaxfile.3 daxfile_mmap.3; do
	name=${page%.3}
	example "$doc/$page" | sed "s|/mnt/pmem|$work|g" >"$work/$name.c"
	grep -q "^main(void)" "$work/$name.c" ||
		fail "$page: EXAMPLES holds no whole program"
	if ! $CC -std=c11 -Wall -Wextra -Werror ${DOC_CFLAGS:-} \
	    -I"$srcdir/include" -o "$work/$name" "$work/$name.c" \
	    ${DOC_LDFLAGS:-} -L.libs -ldaxfile -Wl,-rpath,"$PWD/.libs" \
	    >"$work/cc.log" 2>&1; then
		fail "$page: its example does not compile: $(cat "$work/cc.log")"
		continue
	fi
	"$work/$name" >"$work/run.log" 2>&1 ||
		fail "$page: its example fails: $(cat "$work/run.log")"
done

# the shell examples of daxfile(1)
mkdir -p "$work/sh"
{
	echo "set -e"
	echo "daxfile() { \"$PWD/daxfile\" \"\$@\"; }"
	example "$doc/daxfile.1" | sed -n 's/^\$ //p' |
		sed -e "s|/mnt/pmem|@W@|g" -e "s|/var/tmp|@W@|g" \
			-e "s|/tmp|@W@|g" -e "s|@W@|$work/sh|g"
} >"$work/examples.sh"
sh "$work/examples.sh" >"$work/sh.log" 2>&1 ||
	fail "daxfile(1): its examples fail: $(tail -5 "$work/sh.log")"

# what the pages must say
grep -q "_GNU_SOURCE" "$doc/daxfile_read.3" ||
	fail "daxfile_read(3) does not say that SEEK_DATA needs _GNU_SOURCE"
grep -q "_GNU_SOURCE" "$doc/daxfile_mmap.3" ||
	fail "daxfile_mmap(3) does not say that MAP_SYNC needs _GNU_SOURCE"
for page in libdaxfile.3 daxfile.1; do
	grep -q "LD_LIBRARY_PATH" "$doc/$page" ||
		fail "$page does not say what a library under its own prefix needs"
done
exit $status
