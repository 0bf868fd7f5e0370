/*
 * bench.h -- what the benchmark programs share: options, timing, medians,
 * the result table and its CSV file, pools and host files on /dev/shm.
 *
 * Every figure is reported beside a baseline measured in the same run, on
 * the same data, as the median of several repetitions; the ratio printed is
 * a speedup (above 1: libdaxfile is faster).  Pools live on /dev/shm with
 * PMEM_IS_PMEM_FORCE=1, so the figures are DRAM-backed: an upper bound for
 * real persistent memory.
 */
#ifndef DAXFILE_BENCH_H
#define DAXFILE_BENCH_H 1

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "daxfile.h"

#define BENCH_MIN_REPS 5	/* the contract: medians of at least 5 */
#define BENCH_MAX_REPS 101
#define BENCH_KIB ((uint64_t)1 << 10)
#define BENCH_MIB ((uint64_t)1 << 20)
#define BENCH_GIB ((uint64_t)1 << 30)
#define BENCH_BLOCK 4096

/* Which way a unit is better: times and counts lower, rates higher. */
enum bench_better {
	BENCH_LOWER,
	BENCH_HIGHER,
};

/* bench_sample -- the values of one side over the repetitions. */
struct bench_sample {
	double v[BENCH_MAX_REPS];
	int n;
};

/* bench -- the state of one program run. */
struct bench {
	const char *prog;		/* "bench_data" */
	bool quick;			/* --quick: small sizes, CI smoke run */
	int reps;			/* repetitions of every measurement */
	const char *dir;		/* where pools and host files go */
	char work[PATH_MAX];		/* dir/daxfile-bench-<prog>-<pid> */
	char csv_path[PATH_MAX];
	FILE *csv;
	const char *section;		/* current table section */
	int rows;
	int targets, targets_met;
	double start;			/* bench_now() at bench_init */
};

/*
 * bench_init -- parse the common options (--quick, --reps N, --dir DIR,
 * --csv FILE, --help), make sure PMEM_IS_PMEM_FORCE=1 is in effect (the
 * program runs itself again with it when it is not), create the work
 * directory, open the CSV file and print the header.  'what' is one line
 * saying what the program measures.
 */
void bench_init(struct bench *b, int argc, char **argv, const char *prog,
	const char *what);

/* bench_fini -- print the summary, close the CSV, remove the work directory. */
void bench_fini(struct bench *b);

/* bench_now -- a monotonic clock in seconds. */
double bench_now(void);

/* bench_thread_faults -- page faults (minor + major) of the calling thread. */
uint64_t bench_thread_faults(void);

/* bench_median -- the median of s (the mean of the middle two when even). */
double bench_median(const struct bench_sample *s);
double bench_min(const struct bench_sample *s);
double bench_max(const struct bench_sample *s);

/* bench_add -- append one repetition's value to s. */
void bench_add(struct bench_sample *s, double v);

/* bench_section -- start a section of the table (a heading line). */
void bench_section(struct bench *b, const char *title);

/*
 * bench_report -- one row: 'name' measured as 'dx' (libdaxfile) beside
 * 'base' (the baseline called 'base_name'), both in 'unit'.  The speedup
 * is base/dx for units where lower is better, dx/base otherwise.  'target'
 * is the speedup the row should reach (0: none); 'target_text' says it in
 * words for the table ("2x tmpfs", "<=1.5x raw"...), NULL for ">=<target>x".
 */
void bench_report(struct bench *b, const char *name, const char *unit,
	enum bench_better better, const struct bench_sample *dx,
	const char *base_name, const struct bench_sample *base,
	double target, const char *target_text);

/* bench_note -- a free-form line under the table (also a CSV comment). */
void bench_note(struct bench *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* bench_die -- print "prog: message" and exit 1. */
void bench_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* bench_dx_die -- a libdaxfile call on 'what' failed: errno and its cause. */
void bench_dx_die(const char *what) __attribute__((noreturn));

/* bench_sys_die -- a host call on 'what' failed: errno. */
void bench_sys_die(const char *what) __attribute__((noreturn));

/* bench_path -- "<work>/<name>" into buf of PATH_MAX bytes. */
void bench_path(const struct bench *b, char *buf, const char *name);

/*
 * bench_pool_create -- create a pool of 'size' bytes at "<work>/<name>"
 * (its path goes to path[PATH_MAX] when not NULL).
 */
daxfile_pool *bench_pool_create(const struct bench *b, const char *name,
	uint64_t size, char *path);

/* bench_pool_close -- close a pool, dying on failure. */
void bench_pool_close(daxfile_pool *pool);

/* bench_buf -- page-aligned memory of 'len' bytes filled with a pattern. */
void *bench_buf(size_t len, uint64_t seed);

/* bench_fill -- fill buf with a pattern that depends on 'seed'. */
void bench_fill(void *buf, size_t len, uint64_t seed);

/* bench_rand -- xorshift64*; *state must not be 0. */
uint64_t bench_rand(uint64_t *state);

/*
 * bench_offsets -- n random multiples of 'align' below 'size' (a
 * fixed seed: every side of a comparison gets the same sequence).
 */
uint64_t *bench_offsets(size_t n, uint64_t size, uint64_t align,
	uint64_t seed);

/* bench_dx_write_all / bench_host_write_all -- pwrite all of buf at off. */
void bench_dx_write_all(daxfile_file *f, const void *buf, size_t len,
	uint64_t off);
void bench_host_write_all(int fd, const void *buf, size_t len, uint64_t off);

/*
 * bench_dx_fill / bench_host_fill -- write [0, size) with 'chunk'-byte
 * pwrites from 'buf' (chunk bytes), in ascending order.
 */
void bench_dx_fill(daxfile_file *f, const void *buf, size_t chunk,
	uint64_t size);
void bench_host_fill(int fd, const void *buf, size_t chunk, uint64_t size);

/* bench_host_create -- a new, empty file 'name' of the work directory. */
int bench_host_create(const struct bench *b, const char *name);
/* bench_host_remove -- close and unlink a file of the work directory. */
void bench_host_remove(const struct bench *b, int fd, const char *name);
/* bench_dx_remove -- close and unlink a file of the pool. */
void bench_dx_remove(daxfile_pool *pool, daxfile_file *f, const char *path);

/* bench_human -- "1 GiB", "64 MiB", "4 KiB" for a size. */
const char *bench_human(uint64_t bytes, char *buf, size_t len);

/* A sink for bytes read, so that no read is optimised away. */
extern volatile uint64_t bench_sink;

#endif /* DAXFILE_BENCH_H */
