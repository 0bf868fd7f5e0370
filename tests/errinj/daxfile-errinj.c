/*
 * daxfile-errinj.c -- the workload of the error-injection tests: faults
 * (loads and stores into data, holes and preallocated blocks, through two
 * shared mappings and a private one), invalidations (truncate, punch, zero,
 * collapse and insert under those mappings, partial munmap) and
 * transactions (writes, fallocate, namespace changes), run once with one
 * failure injected (DAXFILE_FAIL, errinj.h).
 *
 * Every call must succeed or fail with an errno that says what failed
 * (ENOMEM, ENOSPC, EAGAIN); an access to a mapping may get SIGBUS (a fault
 * that could not be served), nothing else; nothing may abort or hang (the
 * harness kills a run that takes too long).  Then the pool must close,
 * check clean, open again and read back every file whole.
 *
 *   daxfile-errinj run POOL     the workload (with DAXFILE_FAIL set)
 *   daxfile-errinj check POOL   then, in a process of its own: the pool
 *                               checks clean and reads back
 *
 * Exit 0, or 1 naming the first problem.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daxfile.h"

#define PG 4096UL
#define MIB (1024UL * 1024)
#define FSIZE (6 * MIB)
#define RW (PROT_READ | PROT_WRITE)

static const char *pool_path;
static unsigned long calls_failed, sigbus;

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "daxfile-errinj: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (errno %d: %s; %s)\n", errno, strerror(errno),
		daxfile_errormsg());
	exit(1);
}

/* ok -- a call's result: success, or a failure that says what failed. */
static bool
ok(long ret, const char *what)
{
	if (ret != -1)
		return true;
	if (errno != ENOMEM && errno != ENOSPC && errno != EAGAIN)
		die("%s failed with an unexpected errno", what);
	if (daxfile_errormsg()[0] == '\0')
		die("%s failed without a message", what);
	calls_failed++;
	return false;
}

/* --- mapped accesses: SIGBUS allowed ------------------------------------- */

static sigjmp_buf probe_env;
static volatile sig_atomic_t probe_armed;

static void
on_signal(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	if (!probe_armed || sig != SIGBUS) {
		fprintf(stderr, "daxfile-errinj: signal %d at %p\n", sig,
			si->si_addr);
		_exit(1);
	}
	probe_armed = 0;
	siglongjmp(probe_env, 1);
}

/* probe -- one load or store: false if it raised SIGBUS. */
static __attribute__((noinline)) bool
probe(volatile unsigned char *p, bool store)
{
	if (sigsetjmp(probe_env, 1) != 0)
		return false;
	probe_armed = 1;
	if (store)
		*p = (unsigned char)((uintptr_t)p >> 12);
	else
		(void)*p;
	probe_armed = 0;
	return true;
}

/* touch -- load (or store into) every 'step'th byte of [p, p+len). */
static void
touch(volatile unsigned char *p, size_t len, size_t step, bool store)
{
	for (size_t o = 0; o < len; o += step)
		if (!probe(p + o, store))
			sigbus++;
}

/* --- the workload ------------------------------------------------------------ */

static void *
map(daxfile_file *f, size_t len, int flags)
{
	void *m = daxfile_mmap(NULL, len, RW, flags, f, 0);

	return ok(m == MAP_FAILED ? -1 : 0, "daxfile_mmap") ? m : NULL;
}

static void
unmap(void *m, size_t len)
{
	/* a failed munmap leaves the mapping: try again, as an application would */
	for (int i = 0; m != NULL && i < 3; i++)
		if (ok(daxfile_munmap(m, len), "daxfile_munmap"))
			return;
	if (m != NULL)
		die("daxfile_munmap keeps failing");
}

static void
workload(daxfile_pool *pool)
{
	static unsigned char buf[MIB];
	daxfile_file *f, *g;
	unsigned char *m1, *m2, *mp;

	memset(buf, 0x5a, sizeof(buf));
	f = daxfile_open(pool, "/f", O_RDWR | O_CREAT, 0644);
	if (f == NULL) {
		ok(-1, "daxfile_open");
		return;
	}
	/* data, a hole, preallocated blocks */
	ok(daxfile_pwrite(f, buf, MIB, 0), "daxfile_pwrite");
	ok(daxfile_ftruncate(f, FSIZE), "daxfile_ftruncate");
	ok(daxfile_fallocate(f, FALLOC_FL_KEEP_SIZE, 3 * MIB, MIB),
		"fallocate");
	m1 = map(f, FSIZE, MAP_SHARED);
	m2 = map(f, FSIZE, MAP_SHARED);
	mp = map(f, FSIZE, MAP_PRIVATE);
	if (m2 != NULL)
		touch(m2, FSIZE, PG, false);	/* zero pages over holes */
	if (m1 != NULL) {
		touch(m1, FSIZE, 64 * 1024, true);	/* stores allocate */
		touch(m1, FSIZE, PG, false);
	}
	if (mp != NULL)
		touch(mp, FSIZE, 256 * 1024, true);
	/* writes into holes and preallocated blocks under mappings */
	ok(daxfile_pwrite(f, buf, MIB / 2, 4 * MIB + 100), "daxfile_pwrite");
	ok(daxfile_fallocate(f, FALLOC_FL_ZERO_RANGE, MIB, MIB), "zero range");
	ok(daxfile_pwrite(f, buf, 12345, MIB + 777), "daxfile_pwrite");
	/* invalidations */
	ok(daxfile_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		2 * MIB + PG, MIB), "punch");
	if (m2 != NULL)
		touch(m2, FSIZE, PG, true);
	ok(daxfile_fallocate(f, FALLOC_FL_COLLAPSE_RANGE, MIB, 64 * PG),
		"collapse");
	ok(daxfile_fallocate(f, FALLOC_FL_INSERT_RANGE, 2 * MIB, 64 * PG),
		"insert");
	ok(daxfile_ftruncate(f, 3 * MIB / 2), "truncate down");
	if (m1 != NULL)
		touch(m1, 2 * MIB, PG, false);
	ok(daxfile_ftruncate(f, FSIZE), "truncate up");
	if (m1 != NULL)
		touch(m1, FSIZE, 128 * 1024, true);
	if (m2 != NULL) {
		unmap(m2 + 2 * MIB, MIB);	/* splits it */
		unmap(m2, 2 * MIB);
		unmap(m2 + 3 * MIB, FSIZE - 3 * MIB);
	}
	unmap(m1, FSIZE);
	unmap(mp, FSIZE);
	/*
	 * Transactions of the namespace, each step only if the one before
	 * worked; an open that failed may have created the file (as open(2)
	 * may), so the directory is emptied by name before it goes.
	 */
	if (ok(daxfile_mkdir(pool, "/d", 0755), "mkdir")) {
		const char *at = "/d/g";

		g = daxfile_open(pool, at, O_RDWR | O_CREAT, 0644);
		if (ok(g == NULL ? -1 : 0, "daxfile_open")) {
			ok(daxfile_pwrite(g, buf, MIB, 0), "daxfile_pwrite");
			ok(daxfile_close(g), "daxfile_close");
			if (ok(daxfile_rename(pool, at, "/g"), "rename"))
				at = "/g";
		}
		if ((daxfile_unlink(pool, at) == 0 || errno == ENOENT ||
		     !ok(-1, "unlink")) &&
		    (at[1] == 'g' || daxfile_unlink(pool, "/d/g") == 0 ||
		     errno == ENOENT))
			ok(daxfile_rmdir(pool, "/d"), "rmdir");
	}
	ok(daxfile_close(f), "daxfile_close");
}

/* read_back -- every byte of /f reads (a damaged extent map would not). */
static void
read_back(daxfile_pool *pool)
{
	static unsigned char buf[MIB];
	daxfile_file *f = daxfile_open(pool, "/f", O_RDONLY);
	struct stat st;

	if (f == NULL) {
		if (errno == ENOENT)
			return;
		die("open /f after the run");
	}
	if (daxfile_fstat(f, &st) != 0)
		die("fstat /f");
	for (off_t o = 0; o < st.st_size; o += (off_t)sizeof(buf))
		if (daxfile_pread(f, buf, sizeof(buf), o) < 0)
			die("pread /f at %ld", (long)o);
	if (daxfile_close(f) != 0)
		die("close /f");
}

/* run -- the workload in a fresh pool; no pool left is fine (create failed). */
static int
run(void)
{
	struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO};
	daxfile_pool *pool;

	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	unlink(pool_path);
	pool = daxfile_pool_create(pool_path, 64 * MIB, 0600);
	if (pool == NULL) {
		ok(-1, "daxfile_pool_create");
		return 0;
	}
	workload(pool);
	if (daxfile_pool_close(pool) != 0)
		die("pool close after the run");
	printf("daxfile-errinj: ran (%lu calls failed, %lu SIGBUS)\n",
		calls_failed, sigbus);
	return 0;
}

/* check -- the pool left by a run checks clean, opens, and reads back. */
static int
check(void)
{
	daxfile_pool *pool;

	if (access(pool_path, F_OK) != 0)
		return 0;
	if (daxfile_pool_check(pool_path, stderr) != 0)
		die("the pool does not check clean");
	pool = daxfile_pool_open(pool_path);
	if (pool == NULL)
		die("the pool does not open again");
	read_back(pool);
	if (daxfile_pool_close(pool) != 0)
		die("pool close");
	if (daxfile_pool_check(pool_path, stderr) != 0)
		die("the pool does not check clean after a reopen");
	unlink(pool_path);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "run") && strcmp(argv[1], "check"))) {
		fprintf(stderr, "usage: daxfile-errinj run|check POOL\n");
		return 2;
	}
	pool_path = argv[2];
	return strcmp(argv[1], "run") == 0 ? run() : check();
}
