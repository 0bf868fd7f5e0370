#!/bin/sh
# bench_apps.sh -- the same fio jobs, sqlite3 workload and db_bench
# workloads on tmpfs and through libdaxfile-preload.so, in one run; prints
# for each row the tmpfs baseline and the pool's figure (medians, with the
# spread: min-max), the ratio (pool / tmpfs for throughput, tmpfs / pool
# for elapsed time: above 1 means the pool is faster) and the goal of
# libdaxfile-preload(7)'s issue: fio 4 KiB random reads and writes at least
# 2x tmpfs, sqlite3 and db_bench at least 1x.
#
# The repetitions alternate the sides (tmpfs, pool, then pool, tmpfs, ...)
# so that a load that changes during the run weighs on both alike.
#
# Pools on /dev/shm with PMEM_IS_PMEM_FORCE=1: DRAM-backed, an upper bound
# for real persistent memory.  Then, as root, the same rows once more with
# both sides on a tmpfs mounted huge=always by the script (2 MiB pages:
# the configuration daxfile_mmap(3) recommends, and where a process's
# first touch of the pool costs one fault per 2 MiB instead of one per
# 4 KiB page).  Environment: PRELOAD, DAXFILE (as the tests), BENCH_DIR
# (default /dev/shm), REPS (default 5: fio's rows, 5 s a run), REPS_SHORT
# (default 15: sqlite3's rows, under a second a run, whose times swing by
# half from run to run on a shared machine), REPS_DB (default 9:
# db_bench's, 1 to 4 s a run), QUICK=1 for a smoke run, HUGE=0 to leave
# out the huge-page table.
set -u
: "${PRELOAD:?PRELOAD must name libdaxfile-preload.so}"
: "${DAXFILE:?DAXFILE must name the daxfile CLI}"
dir=${BENCH_DIR:-/dev/shm}
reps=${REPS:-5}
reps_short=${REPS_SHORT:-15}
reps_db=${REPS_DB:-9}
export PMEM_IS_PMEM_FORCE=1
for p in fio sqlite3 db_bench python3; do
	command -v $p >/dev/null || { echo "bench_apps: $p is not installed (Debian: fio, sqlite3, rocksdb-tools, python3)" >&2; exit 1; }
done

work=$(mktemp -d "$dir/daxfile-bench-apps.XXXXXX") || exit 1
trap 'mountpoint -q "$work/huge" && umount "$work/huge"; rm -rf "$work"' EXIT
mnt=$work/mnt/one

# backing DIR -- the pool (3 GiB) and the tmpfs side's directory go to DIR
backing() {
	base=$1
	export DAXFILE_MOUNTS="$mnt=$base/one.pool"
	"$DAXFILE" mkfs "$base/one.pool" 3G >/dev/null || exit 1
	mkdir -p "$base/tmpfs"
}

# fio: a 1 GiB file, as big as a file worth mapping; db_bench: 4 MiB
# write buffers (db_bench's default of 64 MiB holds all $num keys in the
# memtable, and reads would never reach a file)
fsize=1g runtime=5 rows=100000 num=200000
if [ "${QUICK:-0}" = 1 ]; then
	fsize=32m runtime=1 rows=10000 num=20000 reps=1 reps_short=1 reps_db=1
fi

# run TARGET CMD... -- CMD with D set to the tmpfs directory or the mount point
run() {
	target=$1
	shift
	if [ "$target" = pool ]; then
		D=$mnt LD_PRELOAD=$PRELOAD "$@"
	else
		D=$base/tmpfs "$@"
	fi
}

# stats -- "median min max" of the numbers on stdin
stats() {
	sort -g | awk '{v[NR] = $1}
		END {if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR]}'
}

# fio_iops TARGET RW -- the issue's fio run: 4 KiB random reads or writes,
# one job, psync (fio's defaults otherwise); the file is laid out by the
# first run and kept for the row's repetitions
fio_iops() {
	run "$1" sh -c "fio --name=b --directory=\$D --filename=fio-$2 --ioengine=psync \
		--rw=$2 --bs=4k --size=$fsize --runtime=$runtime --time_based \
		--output-format=json" 2>/dev/null |
		python3 -c "import json, sys; j = json.load(sys.stdin)['jobs'][0]; print(j['read' if '$2' == 'randread' else 'write']['iops'])"
}

# sqlite_secs TARGET MODE -- $rows rows in transactions of 1,000, queries,
# integrity check; the pool's opening (its "mount") is not timed
sqlite_secs() {
	run "$1" sh -c "rm -f \$D/b.db*; python3 - \"\$D/b.db\" $2 $rows <<'PY'
import sqlite3, sys, time
path, mode, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
db = sqlite3.connect(path, isolation_level=None)
db.execute('pragma journal_mode=' + mode)
# timed from here: the pool is open, as a file system is mounted
t = time.perf_counter()
db.execute('create table t(a integer primary key, b text, c real)')
for base in range(0, rows, 1000):
    db.execute('begin')
    db.executemany('insert into t(b, c) values (?, ?)',
        (('row %08d' % i, i * 0.5) for i in range(base, base + 1000)))
    db.execute('commit')
db.execute('create index tb on t(b)')
for i in range(0, rows, rows // 100):
    db.execute('select c from t where b = ?', ('row %08d' % i,)).fetchone()
assert db.execute('pragma integrity_check').fetchone()[0] == 'ok'
db.close()
print(time.perf_counter() - t)
PY"
}

# db_bench_ops TARGET BENCHES FLAGS -- operations per second of the last
db_bench_ops() {
	run "$1" sh -c "rm -rf \$D/db; db_bench --db=\$D/db --benchmarks=$2 --num=$num --seed=42 --write_buffer_size=4194304 $3" 2>/dev/null |
		awk -v b="${2##*,}" '$1 == b {print $5}'
}

# measure NAME KIND GOAL REPS CMD... -- medians and spreads of REPS runs
# on tmpfs and pool, the ratio and the goal; the sides alternate from one
# repetition to the next
measure() {
	name=$1 kind=$2 goal=$3 n=$4
	shift 4
	: >"$work/tmpfs.v"
	: >"$work/pool.v"
	i=0
	while [ $i -lt "$n" ]; do
		order="tmpfs pool"
		[ $((i % 2)) = 1 ] && order="pool tmpfs"
		for t in $order; do
			v=$("$@" $t)
			case $v in
			[0-9]*) echo "$v" >>"$work/$t.v" ;;
			*) echo "bench_apps: $name on $t gave no figure" >&2 ;;
			esac
		done
		i=$((i + 1))
	done
	set -- $(stats <"$work/tmpfs.v") $(stats <"$work/pool.v")
	if [ $# -ne 6 ]; then
		printf "%-36s %s\n" "$name" "failed (see the messages above)"
		return
	fi
	awk -v n="$name" -v k="$kind" -v g="$goal" -v a="$1" -v alo="$2" -v ahi="$3" \
	    -v b="$4" -v blo="$5" -v bhi="$6" 'BEGIN {
		r = (k == "time") ? ((b > 0) ? a / b : 0) : ((a > 0) ? b / a : 0)
		if (k == "time")
			f = "%.3f s (%.3f-%.3f)"
		else
			f = "%.0f/s (%.0f-%.0f)"
		printf "%-36s %28s %28s %6.2fx %5s %s\n", n, sprintf(f, a, alo, ahi),
			sprintf(f, b, blo, bhi), r, ">=" g "x", (r >= g) ? "met" : "NOT met"
	}'
}

f_rr() { fio_iops "$1" randread; }
f_rw() { fio_iops "$1" randwrite; }
s_wal() { sqlite_secs "$1" wal; }
s_del() { sqlite_secs "$1" delete; }
d_fillseq() { db_bench_ops "$1" fillseq ""; }
d_fillrandom() { db_bench_ops "$1" fillrandom ""; }
d_readrandom() { db_bench_ops "$1" fillrandom,readrandom ""; }
d_overwrite_sync() { db_bench_ops "$1" fillrandom,overwrite --sync=1; }
d_readrandom_mmap() { db_bench_ops "$1" fillrandom,readrandom --mmap_read=1; }

# fio_done -- a fio row is over: its files go (1 GiB on each side)
fio_done() {
	rm -f "$base/tmpfs/fio-$1"
	D=$mnt LD_PRELOAD=$PRELOAD sh -c "rm -f \$D/fio-$1"
}

# table -- every row, on the backing set up last
table() {
	printf "%-36s %28s %28s %7s %5s\n" workload tmpfs pool ratio goal
	measure "fio randread 4k psync $fsize" ops 2 "$reps" f_rr
	fio_done randread
	measure "fio randwrite 4k psync $fsize" ops 2 "$reps" f_rw
	fio_done randwrite
	measure "sqlite3 $rows rows, WAL" time 1 "$reps_short" s_wal
	measure "sqlite3 $rows rows, rollback journal" time 1 "$reps_short" s_del
	measure "db_bench fillseq $num" ops 1 "$reps_db" d_fillseq
	measure "db_bench fillrandom $num" ops 1 "$reps_db" d_fillrandom
	measure "db_bench readrandom $num" ops 1 "$reps_db" d_readrandom
	measure "db_bench overwrite --sync=1 $num" ops 1 "$reps_db" d_overwrite_sync
	measure "db_bench readrandom --mmap_read=1 $num" ops 1 "$reps_db" d_readrandom_mmap
}

echo "libdaxfile-preload against tmpfs: medians (min-max) of $reps runs (fio), $reps_short (sqlite3), $reps_db (db_bench), sides alternating; PMEM_IS_PMEM_FORCE=1"
echo "pool and tmpfs side on $dir"
backing "$work"
table
rm -f "$work/one.pool"
[ "${HUGE:-1}" = 1 ] || exit 0
echo
if [ "$(id -u)" != 0 ]; then
	echo "pool and tmpfs side on a tmpfs mounted huge=always: left out (mounting one needs root)"
	exit 0
fi
mkdir -p "$work/huge"
if ! mount -t tmpfs -o huge=always,size=6G none "$work/huge" 2>/dev/null; then
	echo "pool and tmpfs side on a tmpfs mounted huge=always: left out (mount failed)"
	exit 0
fi
echo "pool and tmpfs side on a tmpfs mounted huge=always (2 MiB pages)"
backing "$work/huge"
table
