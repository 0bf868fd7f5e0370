/*
 * bench.c -- the helpers of the benchmark programs: options, the
 * PMEM_IS_PMEM_FORCE guarantee, timing and medians, the aligned table and
 * the CSV file, pools and host files in a work directory on /dev/shm.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <linux/magic.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

volatile uint64_t bench_sink;

static const char *prog_name = "bench";
static char work_dir[PATH_MAX];	/* removed at exit */

/* Column widths of the table. */
#define W_CASE	50
#define W_VAL	10
#define W_UNIT	6
#define W_BASE	18
#define W_RATIO	8
#define W_TGT	12

/* --- errors --------------------------------------------------------------- */

void
bench_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", prog_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void
bench_dx_die(const char *what)
{
	int err = errno;

	bench_die("%s: %s (%s)", what, strerror(err), daxfile_errormsg());
}

void
bench_sys_die(const char *what)
{
	bench_die("%s: %s", what, strerror(errno));
}

/* --- the work directory --------------------------------------------------- */

/* remove_one -- nftw() callback of work_remove(). */
static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* work_remove -- remove the work directory and all in it. */
static void
work_remove(void)
{
	if (work_dir[0] != '\0') {
		nftw(work_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
		work_dir[0] = '\0';
	}
}

/* on_signal -- an interrupted run leaves no gigabytes behind in /dev/shm. */
static void
on_signal(int sig)
{
	work_remove();
	signal(sig, SIG_DFL);
	raise(sig);
}

void
bench_path(const struct bench *b, char *buf, const char *name)
{
	if ((size_t)snprintf(buf, PATH_MAX, "%s/%s", b->work, name) >= PATH_MAX)
		bench_die("path too long: %s/%s", b->work, name);
}

/* --- options, environment and header -------------------------------------- */

/* usage -- the options every program takes. */
static void
usage(FILE *out, const char *prog, const char *what)
{
	fprintf(out,
		"usage: %s [--quick] [--reps N] [--dir DIR] [--csv FILE]\n"
		"%s\n\n"
		"  --quick     small sizes, for smoke runs (well under 20 s)\n"
		"  --reps N    repetitions of every measurement (default and minimum %d)\n"
		"  --dir DIR   where pools and baseline files go (default /dev/shm)\n"
		"  --csv FILE  the CSV output (default %s.csv)\n",
		prog, what, BENCH_MIN_REPS, prog);
}

/*
 * force_pmem -- libpmem reads PMEM_IS_PMEM_FORCE when it is loaded, before
 * main: if it is not 1, run the program again with it set.
 */
static void
force_pmem(char **argv)
{
	const char *v = getenv("PMEM_IS_PMEM_FORCE");

	if (v != NULL && strcmp(v, "1") == 0)
		return;
	if (setenv("PMEM_IS_PMEM_FORCE", "1", 1) != 0)
		bench_sys_die("setenv");
	execv("/proc/self/exe", argv);
	bench_sys_die("cannot run again with PMEM_IS_PMEM_FORCE=1");
}

/* library_path -- the libdaxfile actually loaded. */
static const char *
library_path(void)
{
	Dl_info info;

	if (dladdr((void *)daxfile_pool_open, &info) != 0 && info.dli_fname)
		return info.dli_fname;
	return "(unknown)";
}

/* cpu_model -- the first "model name" of /proc/cpuinfo. */
static void
cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown CPU");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
			snprintf(buf, len, "%s", colon + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
}

/* print_header -- what runs where, and how to read the table. */
static void
print_header(const struct bench *b, const char *what)
{
	struct utsname u;
	struct statfs sfs;
	char cpu[128];
	bool tmpfs = statfs(b->dir, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC;

	uname(&u);
	cpu_model(cpu, sizeof(cpu));
	printf("%s -- %s\n", b->prog, what);
	printf("  library:  %s\n", library_path());
	printf("  pools:    %s (%s), PMEM_IS_PMEM_FORCE=1\n", b->work,
		tmpfs ? "tmpfs" : "NOT tmpfs");
	printf("            DRAM-backed: the figures are an upper bound for real persistent memory\n");
	printf("  host:     Linux %s, %ld CPUs, %s\n", u.release,
		sysconf(_SC_NPROCESSORS_ONLN), cpu);
	printf("  run:      %s sizes, median of %d repetitions per figure, both sides on the same data\n",
		b->quick ? "quick (--quick)" : "full", b->reps);
	printf("  speedup:  baseline time / libdaxfile time (or libdaxfile rate / baseline rate):\n"
	       "            above 1 means libdaxfile is faster\n");
	printf("  csv:      %s\n", b->csv_path);
	fflush(stdout);
}

void
bench_init(struct bench *b, int argc, char **argv, const char *prog,
	const char *what)
{
	static const struct option options[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "reps", required_argument, NULL, 'r' },
		{ "dir", required_argument, NULL, 'd' },
		{ "csv", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *csv = NULL;
	int opt;

	memset(b, 0, sizeof(*b));
	prog_name = prog;
	b->prog = prog;
	b->reps = BENCH_MIN_REPS;
	b->dir = "/dev/shm";
	while ((opt = getopt_long(argc, argv, "qr:d:c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'q':
			b->quick = true;
			break;
		case 'r':
			b->reps = atoi(optarg);
			if (b->reps < BENCH_MIN_REPS || b->reps > BENCH_MAX_REPS)
				bench_die("--reps takes %d to %d", BENCH_MIN_REPS,
					BENCH_MAX_REPS);
			break;
		case 'd':
			b->dir = optarg;
			break;
		case 'c':
			csv = optarg;
			break;
		case 'h':
			usage(stdout, prog, what);
			exit(0);
		default:
			usage(stderr, prog, what);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr, prog, what);
		exit(2);
	}
	force_pmem(argv);

	if ((size_t)snprintf(b->work, sizeof(b->work), "%s/daxfile-bench-%s-%ld",
		b->dir, prog, (long)getpid()) >= sizeof(b->work))
		bench_die("--dir too long");
	if (mkdir(b->work, 0755) != 0)
		bench_sys_die(b->work);
	snprintf(work_dir, sizeof(work_dir), "%s", b->work);
	atexit(work_remove);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	snprintf(b->csv_path, sizeof(b->csv_path), "%s", csv ? csv : "");
	if (csv == NULL)
		snprintf(b->csv_path, sizeof(b->csv_path), "%s.csv", prog);
	b->csv = fopen(b->csv_path, "w");
	if (b->csv == NULL)
		bench_sys_die(b->csv_path);
	fprintf(b->csv, "program,mode,section,case,unit,better,daxfile_median,"
		"daxfile_min,daxfile_max,baseline,baseline_median,baseline_min,"
		"baseline_max,speedup,target_speedup,target_met,reps\n");
	b->start = bench_now();
	print_header(b, what);
}

void
bench_fini(struct bench *b)
{
	printf("\n%d figures", b->rows);
	if (b->targets > 0)
		printf("; targets met: %d of %d", b->targets_met, b->targets);
	printf("; %.1f s\n", bench_now() - b->start);
	if (fclose(b->csv) != 0)
		bench_sys_die(b->csv_path);
	fflush(stdout);
	work_remove();
}

/* --- timing and statistics ------------------------------------------------ */

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t
bench_thread_faults(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		bench_sys_die("getrusage");
	return (uint64_t)ru.ru_minflt + (uint64_t)ru.ru_majflt;
}

void
bench_add(struct bench_sample *s, double v)
{
	if (s->n == BENCH_MAX_REPS)
		bench_die("too many repetitions");
	s->v[s->n++] = v;
}

/* cmp_double -- qsort() order of doubles. */
static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
bench_median(const struct bench_sample *s)
{
	double v[BENCH_MAX_REPS];

	if (s->n == 0)
		return NAN;
	memcpy(v, s->v, (size_t)s->n * sizeof(v[0]));
	qsort(v, (size_t)s->n, sizeof(v[0]), cmp_double);
	return s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

double
bench_min(const struct bench_sample *s)
{
	double m = s->n ? s->v[0] : NAN;

	for (int i = 1; i < s->n; i++)
		m = s->v[i] < m ? s->v[i] : m;
	return m;
}

double
bench_max(const struct bench_sample *s)
{
	double m = s->n ? s->v[0] : NAN;

	for (int i = 1; i < s->n; i++)
		m = s->v[i] > m ? s->v[i] : m;
	return m;
}

/* --- the table and the CSV ------------------------------------------------ */

/* fmt_val -- about four significant digits, whatever the magnitude. */
static const char *
fmt_val(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (fabs(v) >= 1000)
		snprintf(buf, len, "%.0f", v);
	else if (fabs(v) >= 100)
		snprintf(buf, len, "%.1f", v);
	else if (fabs(v) >= 10)
		snprintf(buf, len, "%.2f", v);
	else
		snprintf(buf, len, "%.3f", v);
	return buf;
}

/*
 * csv_str -- a quoted CSV field.  Commas become semicolons: not every
 * reader (gnuplot for one) honours quotes around a separator.
 */
static void
csv_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s == ',' ? ';' : *s, f);
	}
	fputc('"', f);
}

/* table_head -- the column titles. */
static void
table_head(void)
{
	printf("  %-*s %*s %-*s %-*s %*s %*s  %-*s %s\n", W_CASE, "case",
		W_VAL, "daxfile", W_UNIT, "unit", W_BASE, "baseline",
		W_VAL, "value", W_RATIO, "speedup", W_TGT, "target", "met");
}

void
bench_section(struct bench *b, const char *title)
{
	b->section = title;
	printf("\n%s\n", title);
	table_head();
	fflush(stdout);
}

void
bench_report(struct bench *b, const char *name, const char *unit,
	enum bench_better better, const struct bench_sample *dx,
	const char *base_name, const struct bench_sample *base,
	double target, const char *target_text)
{
	double d = bench_median(dx), s = bench_median(base);
	double ratio = better == BENCH_LOWER ? s / d : d / s;
	char vd[32], vs[32], vr[32], tt[32];
	const char *met = "";

	if (target > 0) {
		bool ok = ratio >= target;

		b->targets++;
		b->targets_met += ok;
		met = ok ? "yes" : "NO";
		if (target_text)
			snprintf(tt, sizeof(tt), "%s", target_text);
		else
			snprintf(tt, sizeof(tt), ">=%.2gx", target);
	} else {
		snprintf(tt, sizeof(tt), "-");
	}
	fmt_val(d, vd, sizeof(vd));
	fmt_val(s, vs, sizeof(vs));
	snprintf(vr, sizeof(vr), "%.2fx", ratio);
	printf("  %-*s %*s %-*s %-*s %*s %*s  %-*s %s\n", W_CASE, name,
		W_VAL, vd, W_UNIT, unit, W_BASE, base_name, W_VAL, vs,
		W_RATIO, vr, W_TGT, tt, met);
	fflush(stdout);
	b->rows++;

	fprintf(b->csv, "%s,%s,", b->prog, b->quick ? "quick" : "full");
	csv_str(b->csv, b->section ? b->section : "");
	fputc(',', b->csv);
	csv_str(b->csv, name);
	fprintf(b->csv, ",%s,%s,%.6g,%.6g,%.6g,", unit,
		better == BENCH_LOWER ? "lower" : "higher", d, bench_min(dx),
		bench_max(dx));
	csv_str(b->csv, base_name);
	fprintf(b->csv, ",%.6g,%.6g,%.6g,%.4f,", s, bench_min(base),
		bench_max(base), ratio);
	if (target > 0)
		fprintf(b->csv, "%.4f,%s,", target, *met == 'y' ? "yes" : "no");
	else
		fprintf(b->csv, ",,");
	fprintf(b->csv, "%d\n", dx->n);
	fflush(b->csv);
}

void
bench_note(struct bench *b, const char *fmt, ...)
{
	va_list ap;

	(void)b;
	printf("  note: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* --- pools, buffers, data ------------------------------------------------- */

daxfile_pool *
bench_pool_create(const struct bench *b, const char *name, uint64_t size,
	char *path)
{
	char p[PATH_MAX];
	daxfile_pool *pool;

	bench_path(b, p, name);
	unlink(p);
	pool = daxfile_pool_create(p, size, 0600);
	if (pool == NULL)
		bench_dx_die(p);
	if (path != NULL)
		snprintf(path, PATH_MAX, "%s", p);
	return pool;
}

void
bench_pool_close(daxfile_pool *pool)
{
	if (daxfile_pool_close(pool) != 0)
		bench_dx_die("daxfile_pool_close");
}

uint64_t
bench_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

void
bench_fill(void *buf, size_t len, uint64_t seed)
{
	uint64_t st = seed * 0x9E3779B97F4A7C15ULL + 1;
	uint64_t *p = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		p[i] = bench_rand(&st);
	for (i = len & ~(size_t)7; i < len; i++)
		((unsigned char *)buf)[i] = (unsigned char)bench_rand(&st);
}

void *
bench_buf(size_t len, uint64_t seed)
{
	void *p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		bench_sys_die("buffer");
	bench_fill(p, len, seed);
	return p;
}

uint64_t *
bench_offsets(size_t n, uint64_t size, uint64_t align, uint64_t seed)
{
	uint64_t *off = malloc(n * sizeof(*off));
	uint64_t st = seed * 0x9E3779B97F4A7C15ULL + 1;
	uint64_t slots = size / align;

	if (off == NULL)
		bench_sys_die("offsets");
	for (size_t i = 0; i < n; i++)
		off[i] = (bench_rand(&st) % slots) * align;
	return off;
}

void
bench_dx_write_all(daxfile_file *f, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = daxfile_pwrite(f, p, len, (off_t)off);

		if (n <= 0)
			bench_dx_die("daxfile_pwrite");
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
}

void
bench_host_write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n <= 0)
			bench_sys_die("pwrite");
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
}

void
bench_dx_fill(daxfile_file *f, const void *buf, size_t chunk, uint64_t size)
{
	for (uint64_t off = 0; off < size; off += chunk)
		bench_dx_write_all(f, buf, (size_t)(size - off < chunk ?
			size - off : chunk), off);
}

void
bench_host_fill(int fd, const void *buf, size_t chunk, uint64_t size)
{
	for (uint64_t off = 0; off < size; off += chunk)
		bench_host_write_all(fd, buf, (size_t)(size - off < chunk ?
			size - off : chunk), off);
}

int
bench_host_create(const struct bench *b, const char *name)
{
	char path[PATH_MAX];
	int fd;

	bench_path(b, path, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		bench_sys_die(path);
	return fd;
}

void
bench_host_remove(const struct bench *b, int fd, const char *name)
{
	char path[PATH_MAX];

	bench_path(b, path, name);
	close(fd);
	if (unlink(path) != 0)
		bench_sys_die(path);
}

void
bench_dx_remove(daxfile_pool *pool, daxfile_file *f, const char *path)
{
	if (daxfile_close(f) != 0)
		bench_dx_die("daxfile_close");
	if (daxfile_unlink(pool, path) != 0)
		bench_dx_die(path);
}

const char *
bench_human(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= BENCH_GIB && bytes % BENCH_GIB == 0)
		snprintf(buf, len, "%lu GiB", (unsigned long)(bytes / BENCH_GIB));
	else if (bytes >= BENCH_MIB && bytes % BENCH_MIB == 0)
		snprintf(buf, len, "%lu MiB", (unsigned long)(bytes / BENCH_MIB));
	else if (bytes >= BENCH_KIB && bytes % BENCH_KIB == 0)
		snprintf(buf, len, "%lu KiB", (unsigned long)(bytes / BENCH_KIB));
	else
		snprintf(buf, len, "%lu B", (unsigned long)bytes);
	return buf;
}
