#!/bin/sh
# bench_apps.sh -- the same fio jobs, sqlite3 workload and db_bench
# workloads on tmpfs and through libdaxfile-preload.so, in one run; prints
# medians and the ratios (pool / tmpfs for throughput, tmpfs / pool for
# elapsed time: above 1 means the pool is faster).
#
# Pools on /dev/shm with PMEM_IS_PMEM_FORCE=1: DRAM-backed, an upper bound
# for real persistent memory.  Environment: PRELOAD, DAXFILE (as the
# tests), BENCH_DIR (default /dev/shm), REPS (default 3), QUICK=1 for a
# smoke run.
set -u
: "${PRELOAD:?PRELOAD must name libdaxfile-preload.so}"
: "${DAXFILE:?DAXFILE must name the daxfile CLI}"
dir=${BENCH_DIR:-/dev/shm}
reps=${REPS:-3}
export PMEM_IS_PMEM_FORCE=1
for p in fio sqlite3 db_bench python3; do
	command -v $p >/dev/null || { echo "bench_apps: $p is not installed (Debian: fio, sqlite3, rocksdb-tools, python3)" >&2; exit 1; }
done

work=$(mktemp -d "$dir/daxfile-bench-apps.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
mnt=$work/mnt/one
export DAXFILE_MOUNTS="$mnt=$work/one.pool"
"$DAXFILE" mkfs "$work/one.pool" 3G >/dev/null || exit 1
mkdir -p "$work/tmpfs"

fsize=256m runtime=5 rows=100000 num=200000
if [ "${QUICK:-0}" = 1 ]; then
	fsize=32m runtime=1 rows=10000 num=20000 reps=1
fi

# run TARGET CMD... -- CMD with D set to the tmpfs directory or the mount point
run() {
	target=$1
	shift
	if [ "$target" = pool ]; then
		D=$mnt LD_PRELOAD=$PRELOAD "$@"
	else
		D=$work/tmpfs "$@"
	fi
}

# median -- of the numbers on stdin
median() {
	sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# fio_iops TARGET RW -- 4 KiB random I/O, one job, psync, file read in first
fio_iops() {
	run "$1" sh -c "fio --name=b --directory=\$D --filename=fio-$2 --ioengine=psync \
		--rw=$2 --bs=4k --size=$fsize --runtime=$runtime --time_based \
		--gtod_reduce=1 --norandommap --randrepeat=0 --pre_read=1 \
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
	run "$1" sh -c "rm -rf \$D/db; db_bench --db=\$D/db --benchmarks=$2 --num=$num --seed=42 $3" 2>/dev/null |
		awk -v b="${2##*,}" '$1 == b {print $5}'
}

# measure NAME KIND CMD... -- medians on tmpfs and pool, and the ratio
measure() {
	name=$1 kind=$2
	shift 2
	for t in tmpfs pool; do
		i=0
		: >"$work/$t.v"
		while [ $i -lt "$reps" ]; do
			"$@" $t >>"$work/$t.v"
			i=$((i + 1))
		done
	done
	a=$(median <"$work/tmpfs.v") b=$(median <"$work/pool.v")
	if [ "$kind" = time ]; then
		r=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
		printf "%-34s %14.3f s %14.3f s %8sx\n" "$name" "$a" "$b" "$r"
	else
		r=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", (a > 0) ? b / a : 0}')
		printf "%-34s %14.0f /s %13.0f /s %8sx\n" "$name" "$a" "$b" "$r"
	fi
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

echo "libdaxfile-preload against tmpfs, medians of $reps (pools on $dir, PMEM_IS_PMEM_FORCE=1)"
printf "%-34s %16s %16s %9s\n" workload tmpfs pool ratio
measure "fio randread 4k psync $fsize" ops f_rr
measure "fio randwrite 4k psync $fsize" ops f_rw
measure "sqlite3 $rows rows, WAL" time s_wal
measure "sqlite3 $rows rows, rollback journal" time s_del
measure "db_bench fillseq $num" ops d_fillseq
measure "db_bench fillrandom $num" ops d_fillrandom
measure "db_bench readrandom $num" ops d_readrandom
measure "db_bench overwrite --sync=1 $num" ops d_overwrite_sync
measure "db_bench readrandom --mmap_read=1" ops d_readrandom_mmap
