/*
 * test_pool_fd.c -- the pool file is opened twice, by libpmemobj (which
 * maps it) and by the library (whose descriptor backs every mapping): if
 * the path names another file by the second open, the open fails instead
 * of letting mappings show that other file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "pool.h"
#include "testpool.h"

Test(pool_fd, the_file_behind_mappings_is_the_file_libpmemobj_mapped)
{
	struct test_pool tp;
	struct daxfile_pool *pool;

	test_pool_create(&tp, "poolfd", DAXFILE_MIN_POOL_SIZE);
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;
	pool = dx_pool_attach(tp.path, false);
	cr_assert_not_null(pool, "%s", daxfile_errormsg());
	TEST_OK(dx_pool_fd_open(pool));
	close(pool->fd);
	dx_pool_detach(pool);
	test_pool_destroy(&tp);
}

Test(pool_fd, a_pool_path_replaced_after_libpmemobj_mapped_it_is_refused)
{
	struct test_pool tp;
	struct daxfile_pool *pool;
	char other[sizeof(tp.path) + 8];
	int fd;

	test_pool_create(&tp, "poolfd", DAXFILE_MIN_POOL_SIZE);
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;
	pool = dx_pool_attach(tp.path, false);
	cr_assert_not_null(pool, "%s", daxfile_errormsg());

	/* another program puts an empty file of the same size at the path */
	snprintf(other, sizeof(other), "%s.other", tp.path);
	fd = open(other, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)DAXFILE_MIN_POOL_SIZE), 0);
	close(fd);
	cr_assert_eq(rename(other, tp.path), 0);

	errno = 0;
	cr_assert_eq(dx_pool_fd_open(pool), -1, "the replaced file was accepted");
	cr_assert_eq(errno, ESTALE, "errno %d", errno);
	cr_assert(strstr(daxfile_errormsg(), "replaced") != NULL, "%s",
		daxfile_errormsg());
	dx_pool_detach(pool);
	unlink(tp.path);
}
