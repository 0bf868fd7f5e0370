/*
 * test_backing.c -- what backs a pool, and what a call costs there, through
 * the public API: a pool on tmpfs is memory-backed without
 * PMEM_IS_PMEM_FORCE and small appends to it never call msync; on a disk
 * a small append calls msync at most twice (its bytes, then its size) and
 * an overwrite not at all until fsync, which then makes both durable.
 *
 * msync is counted by defining it here: the program exports it (see
 * Makefile.am), so that libpmem's and libpmemobj's calls come here first.
 * The program runs itself again without PMEM_IS_PMEM_FORCE, which
 * `make check` sets and libpmem reads only once, when it is loaded.  The
 * disk pools go to $DAXFILE_TEST_DISK_DIR (default /var/tmp); the tests
 * that need them are skipped, saying so, when that is not a disk.
 */
#define _GNU_SOURCE	/* RTLD_NEXT */

#include <dlfcn.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/statfs.h>

#include "testpool.h"

#define APPENDS 200
#define RECORD 34

static atomic_long msyncs;

int
msync(void *addr, size_t len, int flags)
{
	static int (*real)(void *, size_t, int);

	if (real == NULL)
		real = (int (*)(void *, size_t, int))dlsym(RTLD_NEXT, "msync");
	atomic_fetch_add(&msyncs, 1);
	return real(addr, len, flags);
}

/* disk_dir -- a directory on a disk file system, or NULL. */
static const char *
disk_dir(void)
{
	const char *dir = getenv("DAXFILE_TEST_DISK_DIR");
	struct statfs fs;

	if (dir == NULL)
		dir = "/var/tmp";
	if (statfs(dir, &fs) != 0 || fs.f_type == TMPFS_MAGIC ||
	    fs.f_type == RAMFS_MAGIC || fs.f_type == HUGETLBFS_MAGIC)
		return NULL;
	return dir;
}

/* pool_in -- a fresh pool in directory 'dir'. */
static void
pool_in(struct test_pool *tp, const char *dir, const char *tag)
{
	snprintf(tp->path, sizeof(tp->path), "%s/daxfile-test-%s-%d.pool", dir,
		tag, (int)getpid());
	unlink(tp->path);
	tp->pool = daxfile_pool_create(tp->path, 32 << 20, 0600);
	cr_assert_not_null(tp->pool, "create %s: %s", tp->path,
		daxfile_errormsg());
}

/* appends -- APPENDS small appends; the msyncs they called, per append. */
static double
appends(daxfile_file *f)
{
	char rec[RECORD];
	long before;

	memset(rec, 'r', sizeof(rec));
	/* the first append allocates (a transaction): not counted */
	cr_assert_eq(daxfile_write(f, rec, sizeof(rec)), (ssize_t)sizeof(rec));
	before = atomic_load(&msyncs);
	for (int i = 0; i < APPENDS; i++)
		cr_assert_eq(daxfile_write(f, rec, sizeof(rec)),
			(ssize_t)sizeof(rec), "append %d: %s", i,
			daxfile_errormsg());
	return (double)(atomic_load(&msyncs) - before) / APPENDS;
}

Test(backing, a_pool_on_tmpfs_is_memory_without_pmem_is_pmem_force)
{
	struct test_pool tp;

	cr_assert_null(getenv("PMEM_IS_PMEM_FORCE"));
	pool_in(&tp, "/dev/shm", "memory");
	cr_assert_eq(daxfile_pool_backing(tp.pool), DAXFILE_BACKING_MEMORY);
	test_pool_reopen(&tp);
	cr_assert_eq(daxfile_pool_backing(tp.pool), DAXFILE_BACKING_MEMORY);
	test_pool_destroy(&tp);
}

Test(backing, small_appends_to_a_memory_pool_never_call_msync)
{
	struct test_pool tp;
	daxfile_file *f;
	double per;

	pool_in(&tp, "/dev/shm", "memappend");
	f = daxfile_open(tp.pool, "/log", O_CREAT | O_WRONLY | O_APPEND, 0644);
	cr_assert_not_null(f);
	per = appends(f);
	cr_assert_eq(per, 0, "%.2f msyncs per append", per);
	TEST_OK(daxfile_fsync(f));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(backing, a_small_append_on_a_disk_msyncs_at_most_its_bytes_and_its_size)
{
	const char *dir = disk_dir();
	struct test_pool tp;
	daxfile_file *f;
	double per;

	if (dir == NULL)
		cr_skip_test("skipped: no disk file system at $DAXFILE_TEST_DISK_DIR or /var/tmp");
	pool_in(&tp, dir, "diskappend");
	cr_assert_eq(daxfile_pool_backing(tp.pool), DAXFILE_BACKING_DISK);
	f = daxfile_open(tp.pool, "/log", O_CREAT | O_WRONLY | O_APPEND, 0644);
	cr_assert_not_null(f);
	per = appends(f);
	cr_assert_leq(per, 2.0, "%.2f msyncs per append", per);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(backing, an_overwrite_on_a_disk_waits_for_fsync)
{
	const char *dir = disk_dir();
	struct test_pool tp;
	daxfile_file *f;
	char buf[4096];
	long before;

	if (dir == NULL)
		cr_skip_test("skipped: no disk file system at $DAXFILE_TEST_DISK_DIR or /var/tmp");
	pool_in(&tp, dir, "diskover");
	f = daxfile_open(tp.pool, "/f", O_CREAT | O_RDWR, 0644);
	cr_assert_not_null(f);
	memset(buf, 'a', sizeof(buf));
	cr_assert_eq(daxfile_pwrite(f, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	TEST_OK(daxfile_fsync(f));
	before = atomic_load(&msyncs);
	for (int i = 0; i < 50; i++) {
		buf[0] = (char)i;
		cr_assert_eq(daxfile_pwrite(f, buf, 100, 0), 100);
		/* let the clock pass a tick: the times change too */
		usleep(2000);
	}
	cr_assert_eq(atomic_load(&msyncs) - before, 0,
		"%ld msyncs for 50 overwrites", atomic_load(&msyncs) - before);
	TEST_OK(daxfile_fsync(f));
	cr_assert_gt(atomic_load(&msyncs) - before, 0, "fsync called no msync");
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/*
 * main -- Criterion's, run again first without PMEM_IS_PMEM_FORCE (its
 * workers are this program run again, with this environment).
 */
int
main(int argc, char **argv)
{
	struct criterion_test_set *tests;
	int ret = 0;

	if (getenv("PMEM_IS_PMEM_FORCE") != NULL) {
		unsetenv("PMEM_IS_PMEM_FORCE");
		execv("/proc/self/exe", argv);
		perror("execv /proc/self/exe");
		return 1;
	}
	tests = criterion_initialize();
	if (criterion_handle_args(argc, argv, true))
		ret = !criterion_run_all_tests(tests);
	criterion_finalize(tests);
	return ret;
}
