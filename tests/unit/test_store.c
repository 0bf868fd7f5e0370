/*
 * test_store.c -- how the bytes of a write reach the pool (dx_pmem_store):
 * on persistent memory always through libpmem's flushing copies; on memory
 * backing that libpmem reports as persistent memory (PMEM_IS_PMEM_FORCE=1
 * on tmpfs, as `make check` runs) small writes are plain copies, which
 * nothing needs flushed, and writes of a block or more stay libpmem's
 * non-temporal copies.
 *
 * libpmem's copies are counted by defining them here: the library is
 * linked into this program, so its calls come here first.
 */
#define _GNU_SOURCE	/* RTLD_NEXT */

#include <dlfcn.h>
#include <fcntl.h>
#include <libpmem.h>
#include <stdatomic.h>

#include "pool.h"
#include "testpool.h"

static atomic_long pmem_copies;

void *
pmem_memcpy_nodrain(void *dst, const void *src, size_t len)
{
	static void *(*real)(void *, const void *, size_t);

	if (real == NULL)
		real = (void *(*)(void *, const void *, size_t))dlsym(RTLD_NEXT,
			"pmem_memcpy_nodrain");
	atomic_fetch_add(&pmem_copies, 1);
	return real(dst, src, len);
}

/* memory_pool -- a fresh pool on tmpfs that libpmem calls pmem, or skip. */
static void
memory_pool(struct test_pool *tp)
{
	test_pool_create(tp, "store", TEST_POOL_SIZE);
	cr_assert_eq(daxfile_pool_backing(tp->pool), DAXFILE_BACKING_MEMORY,
		"$DAXFILE_TEST_DIR must be on tmpfs");
	if (!tp->pool->is_pmem) {
		test_pool_destroy(tp);
		cr_skip_test("skipped: libpmem does not report the pool as "
			"persistent memory (run with PMEM_IS_PMEM_FORCE=1)");
	}
}

/* copies_of -- libpmem copies made by 'n' appends of 'len' bytes. */
static long
copies_of(daxfile_file *f, int n, size_t len)
{
	char buf[8192];
	long before;

	memset(buf, 'w', sizeof(buf));
	/* the first append allocates: its zeroing is not counted */
	cr_assert_eq(daxfile_write(f, buf, len), (ssize_t)len);
	before = atomic_load(&pmem_copies);
	for (int i = 0; i < n; i++)
		cr_assert_eq(daxfile_write(f, buf, len), (ssize_t)len,
			"append %d: %s", i, daxfile_errormsg());
	return atomic_load(&pmem_copies) - before;
}

Test(store, small_appends_to_a_memory_pool_are_plain_copies)
{
	struct test_pool tp;
	daxfile_file *f;
	char back[116];

	memory_pool(&tp);
	f = daxfile_open(tp.pool, "/log", O_CREAT | O_RDWR | O_APPEND, 0644);
	cr_assert_not_null(f, "%s", daxfile_errormsg());
	cr_assert_eq(copies_of(f, 100, sizeof(back)), 0);
	cr_assert_eq(daxfile_pread(f, back, sizeof(back), 100 * sizeof(back)),
		(ssize_t)sizeof(back));
	for (size_t i = 0; i < sizeof(back); i++)
		cr_assert_eq(back[i], 'w', "byte %zu reads %#x", i, back[i]);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(store, block_writes_to_a_memory_pool_stay_non_temporal_copies)
{
	struct test_pool tp;
	daxfile_file *f;

	memory_pool(&tp);
	f = daxfile_open(tp.pool, "/data", O_CREAT | O_RDWR | O_APPEND, 0644);
	cr_assert_not_null(f, "%s", daxfile_errormsg());
	cr_assert_geq(copies_of(f, 16, 4096), 16);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(store, small_appends_on_persistent_memory_are_flushed_by_libpmem)
{
	struct test_pool tp;
	daxfile_file *f;

	memory_pool(&tp);
	/* what pool_start decides for a pool libpmem reports off tmpfs */
	tp.pool->backing = DAXFILE_BACKING_PMEM;
	f = daxfile_open(tp.pool, "/log", O_CREAT | O_RDWR | O_APPEND, 0644);
	cr_assert_not_null(f, "%s", daxfile_errormsg());
	cr_assert_geq(copies_of(f, 100, 116), 100);
	TEST_OK(daxfile_close(f));
	tp.pool->backing = DAXFILE_BACKING_MEMORY;
	test_pool_destroy(&tp);
}
