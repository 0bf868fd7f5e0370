/*
 * test_fault.c -- faults on one file are never held up by another file's
 * locks: while files' mmaplocks are held (as long truncates hold them),
 * the workers that wait for them make sure others serve the faults of
 * other files, even when every worker there was is waiting.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "inode.h"
#include "testpool.h"

#define MIB ((size_t)1 << 20)
#define NBLOCKED 4

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static daxfile_file *
file_of(daxfile_pool *pool, const char *path)
{
	daxfile_file *f = daxfile_open(pool, path, O_RDWR | O_CREAT, 0644);
	static unsigned char buf[MIB];

	cr_assert_not_null(f, "%s", daxfile_errormsg());
	memset(buf, 0x42, sizeof(buf));
	for (size_t o = 0; o < 4 * MIB; o += MIB)
		cr_assert_eq(daxfile_pwrite(f, buf, MIB, (off_t)o), (ssize_t)MIB);
	return f;
}

/* toucher -- a load from an unresolved window: waits for its fault. */
static void *
toucher(void *p)
{
	return (void *)(uintptr_t)*(volatile unsigned char *)p;
}

Test(fault, a_fault_blocked_behind_one_files_mmaplock_does_not_delay_faults_on_another,
	.timeout = 60)
{
	struct test_pool tp;
	daxfile_file *a[NBLOCKED], *b;
	unsigned char *ma[NBLOCKED], *mb;
	pthread_t t[NBLOCKED];
	double t0, waited;
	char path[32];

	test_pool_create(&tp, "fault", TEST_POOL_SIZE);
	for (int i = 0; i < NBLOCKED; i++) {
		snprintf(path, sizeof(path), "/a%d", i);
		a[i] = file_of(tp.pool, path);
		ma[i] = daxfile_mmap(NULL, 4 * MIB, PROT_READ, MAP_SHARED, a[i], 0);
		cr_assert(ma[i] != MAP_FAILED, "%s", daxfile_errormsg());
	}
	b = file_of(tp.pool, "/b");
	mb = daxfile_mmap(NULL, 4 * MIB, PROT_READ, MAP_SHARED, b, 0);
	cr_assert(mb != MAP_FAILED, "%s", daxfile_errormsg());

	/* more files with their mmaplock held than there are workers */
	for (int i = 0; i < NBLOCKED; i++) {
		dx_ilock_nested(a[i]->ip, DX_MMAPLOCK_EXCL, (unsigned)i);
		cr_assert_eq(pthread_create(&t[i], NULL, toucher, ma[i] + MIB), 0);
	}
	usleep(200000);
	t0 = now();
	cr_assert_eq(mb[3 * MIB], 0x42);
	waited = now() - t0;
	for (int i = 0; i < NBLOCKED; i++)
		dx_iunlock(a[i]->ip, DX_MMAPLOCK_EXCL);
	for (int i = 0; i < NBLOCKED; i++)
		pthread_join(t[i], NULL);
	cr_assert_lt(waited, 2.0, "a fault on B waited %.1f s for other files",
		waited);
	for (int i = 0; i < NBLOCKED; i++) {
		TEST_OK(daxfile_munmap(ma[i], 4 * MIB));
		TEST_OK(daxfile_close(a[i]));
	}
	TEST_OK(daxfile_munmap(mb, 4 * MIB));
	TEST_OK(daxfile_close(b));
	test_pool_destroy(&tp);
}
