/*
 * cli_bench.c -- the daxfile bench command: a short run of the data-path
 * benchmarks (bench/bench_data has the full ones) in the pool of the run,
 * or in a temporary pool on /dev/shm when no pool is named, each figure
 * beside the same work on a tmpfs file of /dev/shm.
 *
 * Every figure is the median of several repetitions, both sides on the
 * same data and offsets; the speedup is the tmpfs time over the libdaxfile
 * time (above 1: libdaxfile is faster).  In a pool on /dev/shm the figures
 * are DRAM-backed: an upper bound for real persistent memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define BENCH_SMALL	((size_t)4096)
#define BENCH_DIR	"/dev/shm"
#define BENCH_MIN_REPS	5
#define BENCH_MAX_REPS	51
#define BENCH_DEFAULT_SIZE ((uint64_t)64 << 20)
#define BENCH_MIN_SIZE	((uint64_t)4 << 20)
#define BENCH_SEQ_BYTES	((uint64_t)256 << 20)	/* per sequential repetition */

/* One run: where the two sides' files are and what they are filled with. */
struct bench_run {
	const struct cli *cli;
	daxfile_pool *pool;
	daxfile_file *file;	/* the libdaxfile side */
	int fd;			/* the tmpfs side */
	char dir[64];		/* the run's directory in the pool */
	char path[96];		/* its test file */
	char host[256];		/* the tmpfs file */
	uint64_t size;		/* of each test file */
	size_t nrand;		/* 4 KiB ops per repetition */
	int reps;
	char *chunk;		/* CLI_CHUNK bytes of data */
	char *rbuf;		/* CLI_CHUNK bytes to read into */
	uint64_t *off;		/* nrand random block offsets */
	volatile uint64_t sink;	/* keeps reads from being optimised away */
};

/* The values of one side over the repetitions. */
struct bench_sample {
	double v[BENCH_MAX_REPS];
	int n;
};

/* bench_now -- a monotonic clock in seconds. */
static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* cmp_double -- qsort() order of doubles. */
static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* median -- the median of s (sorts it). */
static double
median(struct bench_sample *s)
{
	qsort(s->v, (size_t)s->n, sizeof(s->v[0]), cmp_double);
	return s->n % 2 ? s->v[s->n / 2] :
		(s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

/* xorshift64*: the same offsets on both sides. */
static uint64_t
next_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* --- the two sides -------------------------------------------------------- */

/* side_pwrite / side_pread -- one call on either side; bytes moved or -1. */
static ssize_t
side_pwrite(struct bench_run *r, bool dx, const void *buf, size_t len,
	uint64_t off)
{
	return dx ? daxfile_pwrite(r->file, buf, len, (off_t)off) :
		pwrite(r->fd, buf, len, (off_t)off);
}

static ssize_t
side_pread(struct bench_run *r, bool dx, void *buf, size_t len, uint64_t off)
{
	return dx ? daxfile_pread(r->file, buf, len, (off_t)off) :
		pread(r->fd, buf, len, (off_t)off);
}

static int
side_fail(struct bench_run *r, bool dx, const char *what)
{
	if (dx)
		return cli_fail(r->cli, what, errno);
	return cli_fail_host(r->cli, what, errno ? errno : EIO);
}

/* fill -- write the whole test file in CLI_CHUNK writes. */
static int
fill(struct bench_run *r, bool dx)
{
	for (uint64_t off = 0; off < r->size; off += CLI_CHUNK)
		if (side_pwrite(r, dx, r->chunk, CLI_CHUNK, off) !=
		    (ssize_t)CLI_CHUNK)
			return side_fail(r, dx, dx ? r->path : r->host);
	return CLI_OK;
}

/* random_pass -- nrand 4 KiB reads or overwrites; microseconds per call. */
static int
random_pass(struct bench_run *r, bool dx, bool write, double *us)
{
	uint64_t sink = 0;
	double t = bench_now();

	for (size_t i = 0; i < r->nrand; i++) {
		ssize_t n = write ?
			side_pwrite(r, dx, r->chunk, BENCH_SMALL, r->off[i]) :
			side_pread(r, dx, r->rbuf, BENCH_SMALL, r->off[i]);

		if (n != (ssize_t)BENCH_SMALL)
			return side_fail(r, dx, dx ? r->path : r->host);
		sink += (unsigned char)r->rbuf[i & (BENCH_SMALL - 1)];
	}
	*us = (bench_now() - t) / (double)r->nrand * 1e6;
	r->sink += sink;
	return CLI_OK;
}

/*
 * sequential_pass -- the whole file in CLI_CHUNK calls, over and over
 * until BENCH_SEQ_BYTES have moved (so that a repetition outlasts a
 * preemption); GB/s.
 */
static int
sequential_pass(struct bench_run *r, bool dx, bool write, double *gbs)
{
	uint64_t total = r->size < BENCH_SEQ_BYTES ?
		BENCH_SEQ_BYTES / r->size * r->size : r->size;
	uint64_t sink = 0;
	double t = bench_now();

	for (uint64_t i = 0; i < total; i += CLI_CHUNK) {
		uint64_t off = i % r->size;
		ssize_t n = write ?
			side_pwrite(r, dx, r->chunk, CLI_CHUNK, off) :
			side_pread(r, dx, r->rbuf, CLI_CHUNK, off);

		if (n != (ssize_t)CLI_CHUNK)
			return side_fail(r, dx, dx ? r->path : r->host);
		sink += (unsigned char)r->rbuf[(off >> 20) & (CLI_CHUNK - 1)];
	}
	*gbs = (double)total / (bench_now() - t) / 1e9;
	r->sink += sink;
	return CLI_OK;
}

/*
 * append_pass -- append a quarter of the file size to a new file in 4 KiB
 * writes (each allocates, or fills what was preallocated); us per write.
 */
static int
append_pass(struct bench_run *r, bool dx, double *us)
{
	char path[128], host[300];
	size_t n = (size_t)(r->size / 4 / BENCH_SMALL);
	daxfile_file *f = NULL;
	int fd = -1, status = CLI_OK;
	double t;

	snprintf(path, sizeof(path), "%s/append", r->dir);
	snprintf(host, sizeof(host), "%s.append", r->host);
	if (dx)
		f = daxfile_open(r->pool, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	else
		fd = open(host, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (dx ? f == NULL : fd < 0)
		return side_fail(r, dx, dx ? path : host);
	t = bench_now();
	for (size_t i = 0; i < n && status == CLI_OK; i++)
		if ((dx ? daxfile_write(f, r->chunk, BENCH_SMALL) :
		    write(fd, r->chunk, BENCH_SMALL)) != (ssize_t)BENCH_SMALL)
			status = side_fail(r, dx, dx ? path : host);
	*us = (bench_now() - t) / (double)n * 1e6;
	if (dx) {
		if (daxfile_close(f) < 0 && status == CLI_OK)
			status = cli_fail(r->cli, path, errno);
		if (daxfile_unlink(r->pool, path) < 0 && status == CLI_OK)
			status = cli_fail(r->cli, path, errno);
	} else {
		close(fd);
		unlink(host);
	}
	return status;
}

/* --- the table ------------------------------------------------------------ */

/* report -- one row: both medians and the speedup. */
static void
report(const char *name, const char *unit, bool lower_better,
	struct bench_sample *dx, struct bench_sample *host)
{
	double d = median(dx), h = median(host);

	printf("  %-34s %10.3f %10.3f  %-6s %7.2fx\n", name, d, h, unit,
		lower_better ? h / d : d / h);
}

/* measure -- every test, both sides in turn, then the table. */
static int
measure(struct bench_run *r)
{
	struct bench_sample s[10];
	int status = CLI_OK;

	memset(s, 0, sizeof(s));
	/* both sides in turn in every repetition, so drift hits both alike */
	for (int rep = 0; rep < r->reps && status == CLI_OK; rep++) {
		for (int dx = 1; dx >= 0 && status == CLI_OK; dx--) {
			struct bench_sample *p = &s[dx ? 0 : 5];

			status = random_pass(r, dx, false, &p[0].v[rep]);
			if (status == CLI_OK)
				status = random_pass(r, dx, true, &p[1].v[rep]);
			if (status == CLI_OK)
				status = sequential_pass(r, dx, true, &p[2].v[rep]);
			if (status == CLI_OK)
				status = sequential_pass(r, dx, false,
					&p[3].v[rep]);
			if (status == CLI_OK)
				status = append_pass(r, dx, &p[4].v[rep]);
		}
		for (int i = 0; i < 10; i++)
			s[i].n = rep + 1;
	}
	if (status != CLI_OK)
		return status;

	printf("\n  %-34s %10s %10s  %-6s %8s\n", "test", "daxfile", "tmpfs",
		"unit", "speedup");
	report("4 KiB random pread", "us/op", true, &s[0], &s[5]);
	report("4 KiB random overwrite pwrite", "us/op", true, &s[1], &s[6]);
	report("1 MiB sequential pwrite", "GB/s", false, &s[2], &s[7]);
	report("1 MiB sequential pread", "GB/s", false, &s[3], &s[8]);
	report("4 KiB append (allocating)", "us/op", true, &s[4], &s[9]);
	return CLI_OK;
}

/* --- set-up --------------------------------------------------------------- */

/*
 * rerun_forced -- libpmem reads PMEM_IS_PMEM_FORCE when it is loaded: for
 * a pool on /dev/shm, run the same command line again with it set, so that
 * the pool is written as persistent memory.  Returns only on failure.
 */
static void
rerun_forced(void)
{
	char *buf = NULL, **argv = NULL;
	size_t len = 0, cap = 0, argc = 0;
	FILE *f = fopen("/proc/self/cmdline", "r");
	int c;

	if (f == NULL)
		return;
	while ((c = fgetc(f)) != EOF) {
		if (len + 1 >= cap) {
			char *p = realloc(buf, cap = cap ? cap * 2 : 256);

			if (p == NULL)
				goto out;
			buf = p;
		}
		buf[len++] = (char)c;
		argc += c == '\0';
	}
	if (len == 0)
		goto out;
	argv = calloc(argc + 1, sizeof(*argv));
	if (argv == NULL)
		goto out;
	for (size_t i = 0, k = 0; i < len && k < argc; k++) {
		argv[k] = buf + i;
		i += strlen(buf + i) + 1;
	}
	if (setenv("PMEM_IS_PMEM_FORCE", "1", 1) == 0) {
		fflush(stdout);
		execv("/proc/self/exe", argv);
	}
out:
	fclose(f);
	free(argv);
	free(buf);
}

/* pool_named -- whether a pool is named (-p, DAXFILE_POOL) or the default exists. */
static bool
pool_named(const struct cli *cli)
{
	const char *env = getenv("DAXFILE_POOL");

	if (env && *env)
		return true;
	if (strcmp(cli->pool_path, CLI_DEFAULT_POOL) != 0)
		return true;
	return access(cli->pool_path, F_OK) == 0;
}

/* print_header -- what runs where, and how to read the table. */
static void
print_header(const struct bench_run *r, const char *pool_path, bool temporary)
{
	const char *force = getenv("PMEM_IS_PMEM_FORCE");
	struct statfs sfs;
	char human[32];

	cli_human(r->size, human, sizeof(human));
	printf("daxfile bench -- the data path, libdaxfile vs tmpfs (%s)\n",
		BENCH_DIR);
	printf("  pool:     %s%s\n", pool_path,
		temporary ? " (temporary, removed at the end)" : "");
	if (force)
		printf("  pmem:     PMEM_IS_PMEM_FORCE=%s\n", force);
	else
		printf("  pmem:     PMEM_IS_PMEM_FORCE unset: libpmem decides whether the pool is persistent memory\n"
		       "            (if it is not: on memory backing the library flushes nothing, but libpmemobj\n"
		       "            still msyncs its transactions; on a disk every allocation is msynced)\n");
	if (statfs(pool_path, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC)
		printf("            a pool on tmpfs is DRAM-backed: the figures are an upper bound for real persistent memory\n");
	printf("  run:      %s test files, %zu random ops, median of %d repetitions, same data and offsets on both sides\n",
		human, r->nrand, r->reps);
	printf("  speedup:  tmpfs time / libdaxfile time (or libdaxfile rate / tmpfs rate): above 1, libdaxfile is faster\n");
	fflush(stdout);
}

/* parse -- the command's options into r; -1 on misuse. */
static int
parse(const struct cli *cli, int argc, char **argv, struct bench_run *r)
{
	int opt;

	while ((opt = getopt(argc, argv, "qs:r:")) != -1) {
		switch (opt) {
		case 'q':
			r->size = BENCH_MIN_SIZE * 4;
			r->nrand = 5000;
			break;
		case 's':
			if (cli_parse_size(optarg, &r->size) < 0 ||
			    r->size < BENCH_MIN_SIZE) {
				cli_msg(cli, "invalid size '%s': at least 4M, a number of bytes optionally followed by K, M, G or T",
					optarg);
				return -1;
			}
			break;
		case 'r':
			r->reps = atoi(optarg);
			if (r->reps < BENCH_MIN_REPS || r->reps > BENCH_MAX_REPS) {
				cli_msg(cli, "repetitions must be %d to %d",
					BENCH_MIN_REPS, BENCH_MAX_REPS);
				return -1;
			}
			break;
		default:
			return -1;
		}
	}
	if (optind != argc)
		return -1;
	r->size = r->size / CLI_CHUNK * CLI_CHUNK;
	return 0;
}

/* run -- set up both sides, measure, clean up. */
static int
run(struct bench_run *r)
{
	struct statvfs vfs;
	uint64_t st = 0x9E3779B97F4A7C15ULL;
	int status;

	if (daxfile_statvfs(r->pool, &vfs) == 0 &&
	    (uint64_t)vfs.f_bfree * vfs.f_bsize < r->size + r->size / 2) {
		char human[32];

		cli_human((uint64_t)vfs.f_bfree * vfs.f_bsize, human,
			sizeof(human));
		cli_msg(r->cli, "only %s free in the pool: use a smaller -s", human);
		return CLI_FAILURE;
	}
	snprintf(r->dir, sizeof(r->dir), "/.daxfile-bench-%ld", (long)getpid());
	snprintf(r->path, sizeof(r->path), "%s/data", r->dir);
	snprintf(r->host, sizeof(r->host), "%s/daxfile-bench-%ld.data",
		BENCH_DIR, (long)getpid());
	for (uint64_t i = 0; i < CLI_CHUNK / 8; i++)
		((uint64_t *)r->chunk)[i] = next_rand(&st);
	for (size_t i = 0; i < r->nrand; i++)
		r->off[i] = next_rand(&st) % (r->size / BENCH_SMALL) *
			BENCH_SMALL;

	if (daxfile_mkdir(r->pool, r->dir, 0700) < 0)
		return cli_fail(r->cli, r->dir, errno);
	r->file = daxfile_open(r->pool, r->path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (r->file == NULL) {
		status = cli_fail(r->cli, r->path, errno);
		daxfile_rmdir(r->pool, r->dir);
		return status;
	}
	r->fd = open(r->host, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (r->fd < 0)
		status = cli_fail_host(r->cli, r->host, errno);
	else
		status = fill(r, true);
	if (status == CLI_OK)
		status = fill(r, false);
	if (status == CLI_OK)
		status = measure(r);

	if (r->fd >= 0) {
		close(r->fd);
		unlink(r->host);
	}
	if (daxfile_close(r->file) < 0 && status == CLI_OK)
		status = cli_fail(r->cli, r->path, errno);
	if (daxfile_unlink(r->pool, r->path) < 0 && status == CLI_OK)
		status = cli_fail(r->cli, r->path, errno);
	if (daxfile_rmdir(r->pool, r->dir) < 0 && status == CLI_OK)
		status = cli_fail(r->cli, r->dir, errno);
	return status;
}

/* cmd_bench -- measure the data path of the pool against tmpfs. */
int
cmd_bench(const struct cli *cli, int argc, char **argv)
{
	struct bench_run r = {
		.cli = cli,
		.fd = -1,
		.size = BENCH_DEFAULT_SIZE,
		.nrand = 20000,
		.reps = BENCH_MIN_REPS,
	};
	char temp[128];
	const char *pool_path = cli->pool_path;
	bool temporary = !pool_named(cli);
	int status;

	if (parse(cli, argc, argv, &r) < 0)
		return cli_usage(cli);
	if (temporary) {
		const char *force = getenv("PMEM_IS_PMEM_FORCE");

		if (!force || strcmp(force, "1") != 0)
			rerun_forced(); /* returns only if it cannot */
		snprintf(temp, sizeof(temp), "%s/daxfile-bench-%ld.pool",
			BENCH_DIR, (long)getpid());
		pool_path = temp;
	}

	r.chunk = mmap(NULL, 2 * CLI_CHUNK, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	r.off = malloc(r.nrand * sizeof(*r.off));
	if (r.chunk == MAP_FAILED || r.off == NULL)
		return cli_fail_host(cli, "buffers", ENOMEM);
	r.rbuf = r.chunk + CLI_CHUNK;

	if (temporary) {
		uint64_t size = 2 * r.size + ((uint64_t)64 << 20);

		r.pool = daxfile_pool_create(temp, size, 0600);
		if (r.pool == NULL) {
			status = cli_fail(cli, temp, errno);
			goto out;
		}
	} else {
		r.pool = cli_pool_open(cli);
		if (r.pool == NULL) {
			status = CLI_FAILURE;
			goto out;
		}
	}
	print_header(&r, pool_path, temporary);
	status = run(&r);
	if (daxfile_pool_close(r.pool) < 0 && status == CLI_OK)
		status = cli_fail(cli, pool_path, errno);
	if (temporary)
		unlink(temp);
out:
	munmap(r.chunk, 2 * CLI_CHUNK);
	free(r.off);
	return status;
}
