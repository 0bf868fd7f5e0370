#!/bin/sh
# apps-check.sh -- unmodified Debian programs through libdaxfile-preload.so,
# each compared with the same run on tmpfs: coreutils, tar, sqlite3, fio,
# RocksDB's db_bench, shell scripts; the process rules (a pipeline whose two
# ends use one pool, processes that take turns, exec, fork); nothing reaching the host under a mount
# point.  Every test prints "ok", "FAIL" or "SKIP" with its reason, and the
# last line is "N passed, N failed, N skipped".
#
# Environment: PRELOAD (the layer), DAXFILE (the CLI), DAXFILE_TEST_DIR
# (where pools go), APPS_SCALE=long for the long runs of `make stress`.
# As root, missing Debian packages (fio, rocksdb-tools, sqlite3) are
# installed with apt-get.
set -u

: "${PRELOAD:?PRELOAD must name libdaxfile-preload.so}"
: "${DAXFILE:?DAXFILE must name the daxfile CLI}"
dir=${DAXFILE_TEST_DIR:-/dev/shm}
scale=${APPS_SCALE:-short}
export PMEM_IS_PMEM_FORCE=1

if [ "${DX_TEST_SANITIZED:-no}" = yes ] || ldd "$PRELOAD" | grep -q "lib[at]san"; then
	echo "SKIP apps-check: the layer is built with a sanitizer, whose runtime cannot be preloaded into other programs"
	exit 77
fi
work=$(mktemp -d "$dir/daxfile-apps.XXXXXX") || exit 99
pool=$work/one.pool
pool2=$work/two.pool
mnt=$work/mnt/one	# the host has no directory there
mnt2=$work/mnt/two
tmp=$work/tmpfs		# the reference: the same runs on tmpfs
export DAXFILE_MOUNTS="$mnt=$pool:$mnt2=$pool2"
trap 'rm -rf "$work"' EXIT
mkdir -p "$tmp" "$work/out"
"$DAXFILE" mkfs "$pool" 1G >/dev/null || exit 99
"$DAXFILE" mkfs "$pool2" 64M >/dev/null || exit 99

passed=0 failed=0 skipped=0

ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
skip() { echo "SKIP $1: $2"; skipped=$((skipped + 1)); }

# pl -- run a command through the layer
pl() { LD_PRELOAD=$PRELOAD "$@"; }

# need -- the programs a test needs, installed with apt-get when root
need() {
	pkgs=""
	for p in "$@"; do
		case $p in
		fio) command -v fio >/dev/null || pkgs="$pkgs fio" ;;
		db_bench) command -v db_bench >/dev/null || pkgs="$pkgs rocksdb-tools" ;;
		sqlite3) command -v sqlite3 >/dev/null || pkgs="$pkgs sqlite3" ;;
		esac
	done
	[ -z "$pkgs" ] && return 0
	[ "$(id -u)" = 0 ] || return 1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null 2>&1; }
}

# lib_has -- does the library the layer loads define 'fn'?
lib_has() {
	core=${DAXFILE_PRELOAD_CORE:-$(dirname "$PRELOAD")/libdaxfile-preload-core.so}
	nm -D --defined-only "$core" 2>/dev/null | grep -q " $1\$\| $1@"
}

# same -- run script $2 with D=tmpfs dir and D=mount point (through the
# layer) and compare the outputs; $1 names the test.
same() {
	name=$1 script=$2
	rm -rf "$tmp/$name"; mkdir -p "$tmp/$name"
	( cd "$tmp/$name" && D=$tmp/$name sh -c "$script" ) >"$work/out/$name.ref" 2>&1
	rref=$?
	pl mkdir -p "$mnt/$name"
	( cd / && D=$mnt/$name LD_PRELOAD=$PRELOAD sh -c "cd \"\$D\" && $script" ) \
		>"$work/out/$name.pool" 2>&1
	rpool=$?
	sed -i "s|$tmp/$name|D|g" "$work/out/$name.ref"
	sed -i "s|$mnt/$name|D|g" "$work/out/$name.pool"
	if [ $rref != $rpool ]; then
		fail "$name" "exit $rpool, on tmpfs $rref: $(tail -3 "$work/out/$name.pool")"
	elif ! cmp -s "$work/out/$name.ref" "$work/out/$name.pool"; then
		fail "$name" "output differs from tmpfs: $(diff "$work/out/$name.ref" \
			"$work/out/$name.pool" | head -8)
	lines only the pool's side has: $(grep -vxFf "$work/out/$name.ref" \
			"$work/out/$name.pool" | head -8)"
	else
		ok "$name"
	fi
}

# listing -- what a tree holds, without times or inode numbers
# (a directory's size is its file system's own business: files only)
listing='find . -printf "%y %m %n %p %l\n" | LC_ALL=C sort; find . -type f -printf "%s %p\n" | LC_ALL=C sort; find . -type f | LC_ALL=C sort | xargs -r sha256sum'

# the source tree: files, a big one, symlinks, a hard link
src=$work/src
mkdir -p "$src/a/b/c" "$src/e" "$src/l"
echo hello >"$src/a/f"
seq 1 20000 >"$src/a/b/numbers"
head -c 3000000 /dev/urandom >"$src/a/b/c/random"
chmod 640 "$src/a/b/numbers"
: >"$src/e/empty"
echo linked >"$src/l/f"
ln -s ../a/b/numbers "$src/l/rel-link"
ln -s f "$src/l/num-link"
ln "$src/l/f" "$src/l/hard"

# a wider tree, for walks long enough to overlap a child's work
many=$work/many
for d in 0 1 2 3 4 5 6 7 8 9; do
	mkdir -p "$many/d$d"
	for f in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19; do
		seq "$d$f" 4000 >"$many/d$d/f$f"
	done
done
cp -a "$src" "$many/src"

if lib_has daxfile_utimensat && lib_has daxfile_symlink && lib_has daxfile_linkat &&
   lib_has daxfile_fchmodat; then
	same cp_a_and_listing "cp -a $src tree && $listing && cat tree/a/f tree/l/num-link tree/l/rel-link | tail -2"
	same tar_create_extract "tar -C $src -cf t.tar . && mkdir x && tar -C x -xf t.tar && cd x && $listing && cd .. && tar -tvf t.tar | awk '{print \$1, \$3, \$6, \$7, \$8}' | LC_ALL=C sort"
	# compressed archives of a tree in the pool: tar walks the tree while
	# its child writes the archive, and gzip or xz reads the archive while
	# tar extracts it: the processes use the pool in turns
	same tar_compressed "cp -a $many m && tar -czf t.tgz m && tar -cJf t.txz m && mkdir x y && tar -C x -xzf t.tgz && tar -C y -xJf t.txz && cd x && $listing && cd ../y && $listing && cd .. && tar -tzf t.tgz | LC_ALL=C sort && tar -tJf t.txz | wc -l"
	same ln_chmod_touch "echo a > f && ln -s f l && readlink l && cat l && chmod 600 f && stat -c '%a %s %F' f l && touch -d @1000000000 f && stat -c %Y f && ln f h && stat -c %h f"
else
	skip cp_a_and_listing "this libdaxfile lacks symlinks, links, chmod or utimensat"
	skip tar_create_extract "this libdaxfile lacks symlinks, links, chmod or utimensat"
	skip tar_compressed "this libdaxfile lacks symlinks, links, chmod or utimensat"
	skip ln_chmod_touch "this libdaxfile lacks symlinks, links, chmod or utimensat"
fi
same cp_cat_sha "cp -r $src/a tree && cat tree/f && sha256sum tree/b/c/random < /dev/null && cat tree/b/numbers | wc -l && ls -R tree | wc -l"
same ls_lR "cp -r $src/a tree && ls -lR tree | awk '{print \$1, \$2, (\$1 ~ /^d/ ? \"-\" : \$5), \$NF}'"
same mv_rm "mkdir -p d/e && echo x > d/e/f && mv d/e/f d/g && mv d n && ls -R n && rm -r n && ls"
same dd_truncate_stat "dd if=$src/a/b/c/random of=f bs=4k count=100 skip=3 2>/dev/null && dd if=/dev/zero of=f bs=1 count=7 seek=5000 conv=notrunc 2>/dev/null && sha256sum f && truncate -s 1M f && stat -c '%s %b %F' f && truncate -s 10 f && od -An -tx1 f && truncate -s 0 f && stat -c %s f"
same du_find "cp -r $src/a tree && find tree -type f -printf '%s\\n' | awk '{s += \$1} END {print s}' && du -s tree | cut -f2 && find tree -type f -size +1k | LC_ALL=C sort && find tree -name '*link*' | LC_ALL=C sort"
same shell_redirections "echo one > f; echo two >> f; cat < f; { echo a; echo b; } > g; cat g | sort -r; sort < g > h; cat h; exec 3>k; echo three >&3; exec 3>&-; cat k; while read l; do echo \"<\$l>\"; done < f; cat f g | wc -l; printf 'x\ny\n' | tee t > /dev/null; cat t"
same heredoc_and_subshell "cat > s <<'X'
line 1
line 2
X
wc -l < s; (cd / && pwd); pwd | sed 's|.*/||'; ls"
# programs that make temporary files in the directory they work in
# (sed -i: mkstemp inside the C library) and Python's subprocess, whose
# vfork child dup2s a pool file onto its standard output
# Debian's python3, not a wrapper found first on PATH (pyenv's shim is a
# shell script of some thirty processes, each taking the pool in turn)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
same temp_files_and_subprocess "printf 'b\\na\\n' > f && sed -i 's/a/A/' f && cat f && ls && $py -c \"
import subprocess
with open('o', 'w') as f:
    subprocess.run(['echo', 'sub'], stdout=f, check=True)
print('read:', open('o').read().strip())
p = subprocess.Popen(['sort'], stdin=subprocess.PIPE, stdout=open('s', 'w'))
p.communicate(b'y\\nx\\n')
print('sorted:', open('s').read().split())
\" && ls"

# df on the mount point: the pool's size and use, under its mount point
if pl df -P "$mnt" >"$work/out/df" 2>&1 && grep -q " $mnt\$" "$work/out/df"; then
	ok df_mount_point
else
	fail df_mount_point "$(cat "$work/out/df")"
fi

# ls of the mount point's parent lists it; cd into it works; getcwd reports it
out=$(pl sh -c "ls $work/mnt; cd $mnt && pwd && /bin/pwd" 2>&1)
if [ "$out" = "one
two
$mnt
$mnt" ]; then
	ok mount_points_listed_and_cwd
else
	fail mount_points_listed_and_cwd "$out"
fi

# a pipeline whose two ends use one pool: works or fails fast, pool intact
pl sh -c "seq 1 100000 > $mnt/pipe-a"
start=$(date +%s)
timeout 60 env LD_PRELOAD="$PRELOAD" sh -c "cat $mnt/pipe-a | tee $mnt/pipe-b > /dev/null" \
	>"$work/out/pipe" 2>&1
rc=$? end=$(date +%s)
if [ $rc = 124 ] || [ $((end - start)) -gt 20 ]; then
	fail pipeline_same_pool "took $((end - start)) s (rc $rc)"
elif [ $rc = 0 ] && pl cmp -s "$mnt/pipe-a" "$mnt/pipe-b"; then
	ok "pipeline_same_pool (worked)"
elif grep -q "in use by process [0-9]" "$work/out/pipe"; then
	ok "pipeline_same_pool (failed fast: $(grep -o 'in use by process [0-9]* ([^)]*)' "$work/out/pipe" | head -1))"
else
	fail pipeline_same_pool "rc $rc: $(cat "$work/out/pipe")"
fi

# processes that use one pool at the same time, none holding a stream or a
# mapping, take turns: each waits for the holder, its attach's probe or a
# holder that exits without answering, and none fails with EBUSY
pl sh -c "echo turns > $mnt/turns"
bad=0
for round in 1 2 3 4 5; do
	for i in 1 2 3 4 5 6; do
		pl stat -c %s "$mnt/turns" >"$work/out/turns.$i" 2>&1 &
	done
	wait
	for i in 1 2 3 4 5 6; do
		[ "$(cat "$work/out/turns.$i")" = 6 ] || { bad=$((bad + 1)); msg=$(tr '\n' '|' <"$work/out/turns.$i"); }
	done
done
if [ $bad = 0 ]; then
	ok concurrent_users_take_turns
else
	fail concurrent_users_take_turns "$bad of 30 failed: $msg"
fi

# a shell whose current directory, and a file it holds open, are renamed
# by its children (mv) while they have the pool: both follow the file, as
# the kernel's do (the shell opens them again through the renames logged)
same renamed_by_a_child "mkdir -p a/b/c && cd a/b/c && echo hi > f && mv ../../../a ../../../z && ls && /bin/pwd && cd -P .. && /bin/pwd && ls && exec 3>log && echo a >&3 && mv log log.1 && echo b >&3 && mv ../b ../y && echo c >&3 && cat log.1 && /bin/pwd && cd \"\$D\" && find . | LC_ALL=C sort"

# shells that fork while their own pool is being asked for by the others
# (xargs -P 4 of a pipeline each): a fork never catches a hand-over half
# done, so no child waits forever for a lock of its parent's; and the
# hand-over never takes a descriptor number a shell is about to dup2 onto
# (its redirection's file then went out as the connection: EBADF)
same parallel_shells "mkdir par && seq 1 24 | timeout 240 xargs -P 4 -I{} sh -c 'seq 1 {} > par/f{}; cat par/f{} | wc -l >> par/counts'; echo rc \$?; LC_ALL=C sort -n par/counts | md5sum; ls par | wc -l"

# a pool given up at exit, before an exec and on another process's request
# is closed cleanly, so the next process opens it without the probe (a
# process of its own: tens of milliseconds, every command of a script).
# (dash leaves with _exit, which runs nothing: a pool it held is probed
# at its next open, hence the cat after it.)
if [ -n "${DAXFILE_PROBE:-}" ]; then
	printf '#!/bin/sh\necho "$$" >> %s\nexec %s "$@"\n' "$work/probes" \
		"$DAXFILE_PROBE" > "$work/probe"
	chmod 755 "$work/probe"
	pl sh -c "echo sealed > $mnt/sealed"
	pl cat "$mnt/sealed" > /dev/null
	: > "$work/probes"
	out=$(DAXFILE_PROBE=$work/probe pl sh -c "cd $mnt && ls sealed && (cat sealed) &&
		x=\$(cat sealed) && echo \$x && exec cat sealed" 2>&1;
		DAXFILE_PROBE=$work/probe pl cat "$mnt/sealed" 2>&1)
	n=$(wc -l < "$work/probes")
	if [ "$out" = "sealed
sealed
sealed
sealed
sealed" ] && [ "$n" = 0 ]; then
		ok pool_handed_over_without_probe
	else
		fail pool_handed_over_without_probe "the probe ran $n times; output: $out"
	fi
else
	skip pool_handed_over_without_probe "DAXFILE_PROBE does not name the probe"
fi

# descriptors without FD_CLOEXEC survive exec, with their offsets
out=$(pl sh -c "exec 3>$mnt/exec-f; echo x >&3; exec 3>&-; exec 4<$mnt/exec-f; cat <&4; exec 5>>$mnt/exec-f; exec sh -c 'echo y >&5'"; pl cat "$mnt/exec-f")
if [ "$out" = "x
x
y" ]; then ok exec_keeps_descriptors; else fail exec_keeps_descriptors "$out"; fi

# a program stored in a pool runs
printf '#!/bin/sh\necho "script ran: $1"\n' | pl sh -c "cat > $mnt/prog.sh && chmod 755 $mnt/prog.sh" 2>/dev/null
if lib_has daxfile_fchmodat; then
	out=$(pl sh -c "$mnt/prog.sh arg" 2>&1)
	[ "$out" = "script ran: arg" ] && ok program_in_pool_runs || fail program_in_pool_runs "$out"
else
	skip program_in_pool_runs "this libdaxfile lacks chmod"
fi

# cross-pool and pool-to-host rename and link fail with EXDEV
out=$(pl sh -c "echo a > $mnt/x1; for to in $mnt2/x1 $work/x1; do
	perl -e 'rename(\$ARGV[0], \$ARGV[1]) or print \"\$!\\n\"' $mnt/x1 \$to
	ln $mnt/x1 \$to 2>&1; done" | grep -c "Invalid cross-device link")
[ "$out" = 4 ] && ok exdev_across_pools || fail exdev_across_pools "$out EXDEV errors, expected 4"

# nothing falls through to the host under a mount point's path
mkdir -p "$work/mnt/one"
pl sh -c "cd $mnt && echo a > h1 && mkdir hd && cp h1 hd/h2 && touch hd/h3 2>/dev/null; mv h1 h4; cat h4 > /dev/null; ls > /dev/null" >/dev/null 2>&1
pl cp "$src/a/f" "$mnt/h5"
left=$(ls -A "$work/mnt/one")
rmdir "$work/mnt/one"
[ -z "$left" ] && ok nothing_reaches_the_host || fail nothing_reaches_the_host "host has: $left"

# sqlite3: 100,000 rows in transactions, WAL and rollback journal
if need sqlite3; then
	rows=100000
	for mode in wal delete; do
		sql="pragma journal_mode=$mode;
create table t(a integer primary key, b text, c real);
create index tb on t(b);
begin;
with recursive n(x) as (select 1 union all select x + 1 from n where x < $rows / 2)
insert into t(b, c) select printf('row %08d', x), x * 0.5 from n;
commit;
begin;
with recursive n(x) as (select $rows / 2 + 1 union all select x + 1 from n where x < $rows)
insert into t(b, c) select printf('row %08d', x), x * 0.5 from n;
commit;
begin; update t set c = c + 1 where a % 7 = 0; delete from t where a % 1000 = 0; commit;
select count(*), sum(c), min(b), max(b) from t;
pragma integrity_check;"
		same "sqlite_$mode" "sqlite3 db.sqlite \"$sql\" && sqlite3 db.sqlite 'select count(*) from t where b like \"row 0009%\"'"
	done
else
	skip sqlite_wal "sqlite3 not installed (not root)"
fi

# fio: every engine the issue names, with verification
if need fio; then
	size=16m
	[ "$scale" = long ] && size=256m
	for e in psync pvsync2 mmap posixaio; do
		if pl fio --name=v --directory="$mnt" --filename="fio-$e" --ioengine=$e \
		    --rw=randrw --bs=4k --size=$size --verify=crc32c --do_verify=1 \
		    --verify_fatal=1 --verify_state_save=0 --output="$work/out/fio-$e" >/dev/null 2>&1 &&
		   grep -q "err= 0" "$work/out/fio-$e"; then
			ok "fio_$e"
		else
			fail "fio_$e" "$(grep -i err "$work/out/fio-$e" | head -3)"
		fi
	done
else
	skip fio "fio not installed (not root)"
fi

# db_bench: the workloads of the issue; the keys found match tmpfs's
if need db_bench; then
	num=20000
	[ "$scale" = long ] && num=500000
	for flags in "--sync=1" "--mmap_read=1"; do
		tag=$(echo "$flags" | tr -dc 'a-z_')
		same "db_bench_$tag" "db_bench --db=\$D/db --benchmarks=fillseq,fillrandom,readrandom,overwrite,readrandom --num=$num --seed=42 --threads=1 $flags 2>&1 | grep -o '([0-9]* of [0-9]* found)'"
	done
else
	skip db_bench "rocksdb-tools not installed (not root)"
fi

# the pools are sound after all of it
for p in "$pool" "$pool2"; do
	if "$DAXFILE" -p "$p" check >"$work/out/check" 2>&1; then
		ok "pool_check_$(basename "$p")"
	else
		fail "pool_check_$(basename "$p")" "$(head -5 "$work/out/check")"
	fi
done

echo "$passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ]
