/*
 * test_syncfs.c -- daxfile_syncfs through the public API: it succeeds on a
 * pool with writes, overwrites and stores through a mapping in flight,
 * everything is there after a close and open, and a NULL or closed pool
 * handle is EINVAL as for every call that takes a pool.
 */
#define _GNU_SOURCE

#include <fcntl.h>
#include <sys/mman.h>

#include "daxfile.h"
#include "testutil.h"

Test(syncfs, makes_writes_and_mapped_stores_durable_and_they_stay)
{
	struct test_pool tp;
	unsigned char buf[8192], back[8192];
	daxfile_file *f;
	unsigned char *m;

	test_pool_create(&tp, "syncfs", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	fill(buf, sizeof(buf), 0, 1);
	cr_assert_eq(daxfile_pwrite(f, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	fill(buf, 100, 0, 2);
	cr_assert_eq(daxfile_pwrite(f, buf, 100, 0), 100);
	m = daxfile_mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	cr_assert_neq(m, MAP_FAILED, "%s", daxfile_errormsg());
	memset(m + 4096, 0x5a, 4096);
	TEST_OK(daxfile_syncfs(tp.pool));
	TEST_OK(daxfile_syncfs(tp.pool));
	TEST_OK(daxfile_munmap(m, 8192));
	TEST_OK(daxfile_close(f));
	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/f", O_RDONLY);
	cr_assert_eq(daxfile_pread(f, back, sizeof(back), 0), (ssize_t)sizeof(back));
	cr_assert(memcmp(back, buf, 100) == 0);
	for (int i = 4096; i < 8192; i++)
		cr_assert_eq(back[i], 0x5a, "byte %d", i);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(syncfs, a_null_or_closed_pool_is_einval)
{
	struct test_pool tp;

	test_pool_create(&tp, "syncfs", TEST_POOL_SIZE);
	TEST_FAILS(daxfile_syncfs(NULL), -1, EINVAL);
	assert_errormsg();
	TEST_OK(daxfile_pool_close(tp.pool));
	TEST_FAILS(daxfile_syncfs(tp.pool), -1, EINVAL);
	tp.pool = NULL;
	test_pool_destroy(&tp);
}
