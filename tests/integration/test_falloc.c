/*
 * test_falloc.c -- daxfile_fallocate through the public API: mode 0 and
 * KEEP_SIZE preallocation, PUNCH_HOLE, ZERO_RANGE (with and without
 * KEEP_SIZE), COLLAPSE_RANGE and INSERT_RANGE, checked byte for byte and
 * through st_size, st_blocks and SEEK_DATA/SEEK_HOLE; every errno the
 * contract gives (EOPNOTSUPP, EINVAL, EFBIG, EBADF, and ENOSPC); and random
 * sequences of write/punch/zero/collapse/insert/truncate/preallocate on one
 * file compared against an in-memory model after every step, across pool
 * reopens, in a pool whose free blocks hold old bytes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "daxfile.h"
#include "testpool.h"
#include "testutil.h"

#define KIB ((uint64_t)1024)
#define MIB ((uint64_t)1024 * 1024)
#define BLK ((uint64_t)4096)
#define MAX_FILE_SIZE ((uint64_t)1 << 53)

#define KEEP FALLOC_FL_KEEP_SIZE
#define PUNCH (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)
#define ZERO FALLOC_FL_ZERO_RANGE
#define COLLAPSE FALLOC_FL_COLLAPSE_RANGE
#define INSERT FALLOC_FL_INSERT_RANGE

/* --- helpers -------------------------------------------------------------- */

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

#define FALLOC_OK(f, mode, off, len) \
	cr_assert(daxfile_fallocate((f), (mode), (off_t)(off), (off_t)(len)) \
		== 0, "fallocate(%#x, %lu, %lu): %s (%s)", (mode), \
		(unsigned long)(off), (unsigned long)(len), strerror(errno), \
		daxfile_errormsg())

/* pwrite_pat -- write 'n' patterned bytes at 'off', all of them. */
static void
pwrite_pat(daxfile_file *f, uint64_t off, size_t n, unsigned seed)
{
	unsigned char *buf = xmalloc(n);
	ssize_t w;

	fill(buf, n, off, seed);
	w = daxfile_pwrite(f, buf, n, (off_t)off);
	cr_assert_eq(w, (ssize_t)n, "pwrite(%zu at %lu) = %zd: %s (%s)", n,
		(unsigned long)off, w, strerror(errno), daxfile_errormsg());
	free(buf);
}

/* check_buf -- the file holds exactly 'want' over [off, off+n). */
static void
check_buf(daxfile_file *f, uint64_t off, const unsigned char *want, size_t n)
{
	unsigned char *buf = xmalloc(n);
	ssize_t r = daxfile_pread(f, buf, n, (off_t)off);

	cr_assert_eq(r, (ssize_t)n, "pread(%zu at %lu) = %zd: %s (%s)", n,
		(unsigned long)off, r, strerror(errno), daxfile_errormsg());
	for (size_t i = 0; i < n; i++)
		if (buf[i] != want[i])
			cr_assert_fail("byte %lu is %#x, expected %#x",
				(unsigned long)(off + i), buf[i], want[i]);
	free(buf);
}

static void
check_pat(daxfile_file *f, uint64_t off, size_t n, unsigned seed)
{
	unsigned char *want = xmalloc(n);

	fill(want, n, off, seed);
	check_buf(f, off, want, n);
	free(want);
}

static void
check_zero(daxfile_file *f, uint64_t off, size_t n)
{
	unsigned char *want = xmalloc(n);

	memset(want, 0, n);
	check_buf(f, off, want, n);
	free(want);
}

static void
seek_expect(daxfile_file *f, off_t off, int whence, off_t want)
{
	off_t r = daxfile_lseek(f, off, whence);

	cr_assert_eq(r, want, "lseek(%ld, %s) = %ld, expected %ld", (long)off,
		whence == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE", (long)r,
		(long)want);
}

/*
 * new_file -- a file of 'size' patterned bytes, closed and opened again
 * so that no allocation ahead of EOF remains.
 */
static daxfile_file *
new_file(daxfile_pool *pool, const char *path, uint64_t size, unsigned seed)
{
	daxfile_file *f = xopen(pool, path, O_RDWR | O_CREAT | O_EXCL);

	if (size > 0)
		pwrite_pat(f, 0, size, seed);
	TEST_OK(daxfile_close(f));
	f = xopen(pool, path, O_RDWR);
	cr_assert_eq(xfstat(f).st_size, (off_t)size);
	cr_assert_eq(xfstat(f).st_blocks, (blkcnt_t)((size + BLK - 1) / BLK * 8));
	return f;
}

/* --- mode 0 and KEEP_SIZE ------------------------------------------------- */

Test(falloc, mode_0_grows_the_size_and_the_new_range_reads_zero)
{
	struct test_pool tp;
	daxfile_file *f;

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", 1000, 1);
	FALLOC_OK(f, 0, 500, 20000);
	cr_assert_eq(xfstat(f).st_size, 20500);
	cr_assert_eq(xfstat(f).st_blocks, 6 * 8, "st_blocks %ld",
		(long)xfstat(f).st_blocks);
	check_pat(f, 0, 1000, 1);
	check_zero(f, 1000, 19500);
	/* preallocated blocks are holes for SEEK_HOLE */
	seek_expect(f, 0, SEEK_HOLE, 4096);

	/* a range inside the file changes neither size nor data */
	FALLOC_OK(f, 0, 0, 1000);
	cr_assert_eq(xfstat(f).st_size, 20500);
	cr_assert_eq(xfstat(f).st_blocks, 6 * 8);
	check_pat(f, 0, 1000, 1);

	/* writing into it writes that data only, with no new blocks */
	pwrite_pat(f, 9000, 100, 2);
	cr_assert_eq(xfstat(f).st_blocks, 6 * 8);
	check_zero(f, 1000, 8000);
	check_pat(f, 9000, 100, 2);
	check_zero(f, 9100, 20500 - 9100);
	TEST_OK(daxfile_close(f));

	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/f", O_RDONLY);
	cr_assert_eq(xfstat(f).st_size, 20500);
	cr_assert_eq(xfstat(f).st_blocks, 6 * 8);
	check_pat(f, 0, 1000, 1);
	check_zero(f, 1000, 8000);
	check_pat(f, 9000, 100, 2);
	check_zero(f, 9100, 20500 - 9100);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(falloc, mode_0_on_an_empty_file_far_from_zero_leaves_a_zero_prefix)
{
	struct test_pool tp;
	daxfile_file *f;

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", 0, 1);
	FALLOC_OK(f, 0, 3 * MIB + 5, 10);
	cr_assert_eq(xfstat(f).st_size, (off_t)(3 * MIB + 15));
	cr_assert_eq(xfstat(f).st_blocks, 8);
	check_zero(f, 0, 3 * MIB + 15);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(falloc, keep_size_preallocates_without_changing_the_size)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char b[16];

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", 5000, 3);
	FALLOC_OK(f, KEEP, 0, MIB);
	cr_assert_eq(xfstat(f).st_size, 5000);
	cr_assert_eq(xfstat(f).st_blocks, 2048, "st_blocks %ld",
		(long)xfstat(f).st_blocks);
	check_pat(f, 0, 5000, 3);
	/* nothing can be read past EOF */
	cr_assert_eq(daxfile_pread(f, b, sizeof(b), 5000), 0);
	cr_assert_eq(daxfile_pread(f, b, sizeof(b), 100000), 0);
	cr_assert_eq(daxfile_pread(f, b, sizeof(b), 4990), 10);

	/* the blocks stay past the last close and a pool reopen */
	TEST_OK(daxfile_close(f));
	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/f", O_RDWR);
	cr_assert_eq(xfstat(f).st_size, 5000);
	cr_assert_eq(xfstat(f).st_blocks, 2048);

	/* growing the size over them shows zeros */
	TEST_OK(daxfile_ftruncate(f, (off_t)MIB));
	cr_assert_eq(xfstat(f).st_size, (off_t)MIB);
	cr_assert_eq(xfstat(f).st_blocks, 2048);
	check_pat(f, 0, 5000, 3);
	check_zero(f, 5000, MIB - 5000);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(falloc, a_write_into_keep_size_blocks_past_eof_uses_them_and_zeroes_the_gap)
{
	struct test_pool tp;
	daxfile_file *f;

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", 5000, 3);
	FALLOC_OK(f, KEEP, 8192, MIB);
	cr_assert_eq(xfstat(f).st_blocks, 8 * (2 + 256));
	pwrite_pat(f, 500000, 100, 4);
	cr_assert_eq(xfstat(f).st_size, 500100);
	cr_assert_eq(xfstat(f).st_blocks, 8 * (2 + 256), "st_blocks %ld",
		(long)xfstat(f).st_blocks);
	check_pat(f, 0, 5000, 3);
	check_zero(f, 5000, 500000 - 5000);
	check_pat(f, 500000, 100, 4);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- PUNCH_HOLE ----------------------------------------------------------- */

Test(falloc, punch_hole_frees_whole_blocks_and_zeroes_partial_blocks_at_both_edges)
{
	struct test_pool tp;
	daxfile_file *f;
	const uint64_t size = 16 * BLK;
	unsigned char *model = xmalloc(size);

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", size, 5);
	fill(model, size, 0, 5);
	cr_assert_eq(xfstat(f).st_blocks, 16 * 8);

	/* [1000, 21480): the tail of block 0, blocks 1-4, the head of 5 */
	FALLOC_OK(f, PUNCH, 1000, 5 * BLK);
	memset(model + 1000, 0, 5 * BLK);
	cr_assert_eq(xfstat(f).st_size, (off_t)size);
	cr_assert_eq(xfstat(f).st_blocks, (16 - 4) * 8, "st_blocks %ld",
		(long)xfstat(f).st_blocks);
	check_buf(f, 0, model, size);
	seek_expect(f, 0, SEEK_HOLE, 4096);
	seek_expect(f, 4096, SEEK_DATA, 5 * 4096);

	/* whole blocks exactly: only those go */
	FALLOC_OK(f, PUNCH, 10 * BLK, 2 * BLK);
	memset(model + 10 * BLK, 0, 2 * BLK);
	cr_assert_eq(xfstat(f).st_blocks, (16 - 6) * 8);
	check_buf(f, 0, model, size);

	/* punching the hole again and a range past EOF change nothing */
	FALLOC_OK(f, PUNCH, 1000, 5 * BLK);
	FALLOC_OK(f, PUNCH, size + 100, MIB);
	cr_assert_eq(xfstat(f).st_size, (off_t)size);
	cr_assert_eq(xfstat(f).st_blocks, (16 - 6) * 8);
	check_buf(f, 0, model, size);
	TEST_OK(daxfile_close(f));

	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/f", O_RDONLY);
	cr_assert_eq(xfstat(f).st_blocks, (16 - 6) * 8);
	check_buf(f, 0, model, size);
	TEST_OK(daxfile_close(f));
	free(model);
	test_pool_destroy(&tp);
}

Test(falloc, punch_hole_inside_one_block_zeroes_only_those_bytes)
{
	struct test_pool tp;
	daxfile_file *f;
	const uint64_t size = 4 * BLK;
	unsigned char *model = xmalloc(size);

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", size, 6);
	fill(model, size, 0, 6);
	FALLOC_OK(f, PUNCH, BLK + 100, 200);
	memset(model + BLK + 100, 0, 200);
	check_buf(f, 0, model, size);
	cr_assert_eq(xfstat(f).st_blocks, 4 * 8);
	/* a single byte, and the last byte of a block */
	FALLOC_OK(f, PUNCH, 2 * BLK + 7, 1);
	model[2 * BLK + 7] = 0;
	FALLOC_OK(f, PUNCH, 3 * BLK - 1, 1);
	model[3 * BLK - 1] = 0;
	check_buf(f, 0, model, size);
	cr_assert_eq(xfstat(f).st_blocks, 4 * 8);
	cr_assert_eq(xfstat(f).st_size, (off_t)size);
	TEST_OK(daxfile_close(f));
	free(model);
	test_pool_destroy(&tp);
}

Test(falloc, a_write_inside_a_hole_punched_up_to_eof_leaves_the_rest_reading_zero)
{
	struct test_pool tp;
	daxfile_file *f;
	const uint64_t size = 256 * KIB;

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	/* free blocks hold old bytes, as in any pool in use */
	dirty_free_blocks(tp.pool);
	f = new_file(tp.pool, "/f", size, 21);
	FALLOC_OK(f, PUNCH, 64 * KIB, size - 64 * KIB);
	cr_assert_eq(xfstat(f).st_blocks, 16 * 8);
	pwrite_pat(f, 100000, 10, 22);
	cr_assert_eq(xfstat(f).st_size, (off_t)size);
	check_pat(f, 0, 64 * KIB, 21);
	check_zero(f, 64 * KIB, 100000 - 64 * KIB);
	check_pat(f, 100000, 10, 22);
	check_zero(f, 100010, size - 100010);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(falloc, punch_hole_straddling_eof_keeps_the_size)
{
	struct test_pool tp;
	daxfile_file *f;
	const uint64_t size = 3 * BLK + 500;
	unsigned char *model = xmalloc(size);

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", size, 7);
	fill(model, size, 0, 7);
	FALLOC_OK(f, PUNCH, BLK + 1, MIB);
	memset(model + BLK + 1, 0, size - BLK - 1);
	cr_assert_eq(xfstat(f).st_size, (off_t)size);
	cr_assert_eq(xfstat(f).st_blocks, 2 * 8);
	check_buf(f, 0, model, size);
	/* growing the file shows no old bytes */
	TEST_OK(daxfile_ftruncate(f, 8 * (off_t)BLK));
	check_buf(f, 0, model, size);
	check_zero(f, size, 8 * BLK - size);
	TEST_OK(daxfile_close(f));
	free(model);
	test_pool_destroy(&tp);
}

/* --- ZERO_RANGE ----------------------------------------------------------- */

Test(falloc, zero_range_inside_the_file_zeroes_it_and_keeps_size_and_blocks)
{
	struct test_pool tp;
	daxfile_file *f;
	const uint64_t size = 16 * BLK;
	unsigned char *model = xmalloc(size);

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	for (int keep = 0; keep < 2; keep++) {
		const char *path = keep ? "/keep" : "/nokeep";

		f = new_file(tp.pool, path, size, 8);
		fill(model, size, 0, 8);
		FALLOC_OK(f, ZERO | (keep ? KEEP : 0), 1000, 3 * BLK + 500);
		memset(model + 1000, 0, 3 * BLK + 500);
		cr_assert_eq(xfstat(f).st_size, (off_t)size);
		cr_assert_eq(xfstat(f).st_blocks, 16 * 8);
		check_buf(f, 0, model, size);
		/* the whole blocks zeroed read as a hole */
		seek_expect(f, 0, SEEK_HOLE, 4096);
		seek_expect(f, 4096, SEEK_DATA, 3 * 4096);
		/* a write into the zeroed blocks */
		pwrite_pat(f, BLK + 10, 10, 9);
		fill(model + BLK + 10, 10, BLK + 10, 9);
		check_buf(f, 0, model, size);
		TEST_OK(daxfile_close(f));
	}
	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/keep", O_RDONLY);
	check_buf(f, 0, model, size);
	TEST_OK(daxfile_close(f));
	free(model);
	test_pool_destroy(&tp);
}

Test(falloc, zero_range_with_keep_size_past_eof_keeps_the_size)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char b[8];

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", 10000, 10);
	/* straddling EOF: the bytes below EOF are zeroed, the size stays */
	FALLOC_OK(f, ZERO | KEEP, 8000, 100000);
	cr_assert_eq(xfstat(f).st_size, 10000);
	cr_assert_geq(xfstat(f).st_blocks, (blkcnt_t)((108000 + BLK - 1) / BLK * 8));
	check_pat(f, 0, 8000, 10);
	check_zero(f, 8000, 2000);
	cr_assert_eq(daxfile_pread(f, b, sizeof(b), 10000), 0);
	/* wholly past EOF */
	FALLOC_OK(f, ZERO | KEEP, 200000, 5000);
	cr_assert_eq(xfstat(f).st_size, 10000);
	TEST_OK(daxfile_ftruncate(f, 300000));
	check_pat(f, 0, 8000, 10);
	check_zero(f, 8000, 300000 - 8000);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(falloc, zero_range_without_keep_size_past_eof_grows_the_size)
{
	struct test_pool tp;
	daxfile_file *f;

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	/* straddling EOF */
	f = new_file(tp.pool, "/a", 10000, 11);
	FALLOC_OK(f, ZERO, 8000, 10000);
	cr_assert_eq(xfstat(f).st_size, 18000);
	check_pat(f, 0, 8000, 11);
	check_zero(f, 8000, 10000);
	TEST_OK(daxfile_close(f));

	/* wholly past EOF, with a gap between */
	f = new_file(tp.pool, "/b", 10000, 12);
	FALLOC_OK(f, ZERO, 30000, 5000);
	cr_assert_eq(xfstat(f).st_size, 35000);
	check_pat(f, 0, 10000, 12);
	check_zero(f, 10000, 25000);
	TEST_OK(daxfile_close(f));

	/* an empty file */
	f = new_file(tp.pool, "/c", 0, 0);
	FALLOC_OK(f, ZERO, 0, 3 * BLK + 1);
	cr_assert_eq(xfstat(f).st_size, (off_t)(3 * BLK + 1));
	check_zero(f, 0, 3 * BLK + 1);
	TEST_OK(daxfile_close(f));

	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/b", O_RDONLY);
	cr_assert_eq(xfstat(f).st_size, 35000);
	check_pat(f, 0, 10000, 12);
	check_zero(f, 10000, 25000);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- COLLAPSE_RANGE and INSERT_RANGE -------------------------------------- */

Test(falloc, collapse_range_removes_the_range_and_shifts_later_data_down)
{
	struct test_pool tp;
	daxfile_file *f;
	uint64_t size = 40 * BLK + 123;
	unsigned char *model = xmalloc(size);

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", size, 13);
	fill(model, size, 0, 13);

	/* three blocks from block 2 */
	FALLOC_OK(f, COLLAPSE, 2 * BLK, 3 * BLK);
	memmove(model + 2 * BLK, model + 5 * BLK, size - 5 * BLK);
	size -= 3 * BLK;
	cr_assert_eq(xfstat(f).st_size, (off_t)size);
	cr_assert_eq(xfstat(f).st_blocks, (blkcnt_t)((size + BLK - 1) / BLK * 8));
	check_buf(f, 0, model, size);

	/* the first block */
	FALLOC_OK(f, COLLAPSE, 0, BLK);
	memmove(model, model + BLK, size - BLK);
	size -= BLK;
	check_buf(f, 0, model, size);

	/* a range with a hole in it, up to the block before EOF */
	FALLOC_OK(f, PUNCH, 20 * BLK, 2 * BLK);
	memset(model + 20 * BLK, 0, 2 * BLK);
	FALLOC_OK(f, COLLAPSE, 19 * BLK, 16 * BLK);
	memmove(model + 19 * BLK, model + 35 * BLK, size - 35 * BLK);
	size -= 16 * BLK;
	cr_assert_eq(xfstat(f).st_size, (off_t)size);
	check_buf(f, 0, model, size);
	TEST_OK(daxfile_close(f));

	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/f", O_RDONLY);
	cr_assert_eq(xfstat(f).st_size, (off_t)size);
	cr_assert_eq(xfstat(f).st_blocks, (blkcnt_t)((size + BLK - 1) / BLK * 8));
	check_buf(f, 0, model, size);
	TEST_OK(daxfile_close(f));
	free(model);
	test_pool_destroy(&tp);
}

Test(falloc, insert_range_opens_a_zero_hole_and_shifts_later_data_up)
{
	struct test_pool tp;
	daxfile_file *f;
	const uint64_t size0 = 40 * BLK + 123;
	uint64_t size = size0;
	unsigned char *model = xmalloc(size0 + 64 * BLK);

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", size, 14);
	fill(model, size, 0, 14);

	/* three blocks at block 2, in the middle of one extent */
	FALLOC_OK(f, INSERT, 2 * BLK, 3 * BLK);
	memmove(model + 5 * BLK, model + 2 * BLK, size - 2 * BLK);
	memset(model + 2 * BLK, 0, 3 * BLK);
	size += 3 * BLK;
	cr_assert_eq(xfstat(f).st_size, (off_t)size);
	cr_assert_eq(xfstat(f).st_blocks, (blkcnt_t)((size0 + BLK - 1) / BLK * 8));
	check_buf(f, 0, model, size);
	seek_expect(f, 0, SEEK_HOLE, 2 * BLK);
	seek_expect(f, 2 * BLK, SEEK_DATA, 5 * BLK);

	/* at the start */
	FALLOC_OK(f, INSERT, 0, BLK);
	memmove(model + BLK, model, size);
	memset(model, 0, BLK);
	size += BLK;
	check_buf(f, 0, model, size);

	/* in the block that holds EOF */
	FALLOC_OK(f, INSERT, (size - 1) / BLK * BLK, 8 * BLK);
	{
		uint64_t at = (size - 1) / BLK * BLK;

		memmove(model + at + 8 * BLK, model + at, size - at);
		memset(model + at, 0, 8 * BLK);
	}
	size += 8 * BLK;
	cr_assert_eq(xfstat(f).st_size, (off_t)size);
	check_buf(f, 0, model, size);
	TEST_OK(daxfile_close(f));

	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/f", O_RDONLY);
	cr_assert_eq(xfstat(f).st_size, (off_t)size);
	check_buf(f, 0, model, size);
	TEST_OK(daxfile_close(f));
	free(model);
	test_pool_destroy(&tp);
}

Test(falloc, insert_then_collapse_of_the_same_range_restores_the_file)
{
	struct test_pool tp;
	daxfile_file *f;
	const uint64_t size = 64 * BLK + 5;

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", size, 15);
	FALLOC_OK(f, INSERT, 7 * BLK, 9 * BLK);
	check_zero(f, 7 * BLK, 9 * BLK);
	FALLOC_OK(f, COLLAPSE, 7 * BLK, 9 * BLK);
	cr_assert_eq(xfstat(f).st_size, (off_t)size);
	cr_assert_eq(xfstat(f).st_blocks, 65 * 8);
	check_pat(f, 0, size, 15);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- errors --------------------------------------------------------------- */

Test(falloc, unsupported_modes_give_eopnotsupp)
{
	struct test_pool tp;
	daxfile_file *f;

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", 8 * BLK, 16);
	TEST_FAILS(daxfile_fallocate(f, FALLOC_FL_PUNCH_HOLE, 0, 4096), -1,
		EOPNOTSUPP);
	assert_errormsg();
	TEST_FAILS(daxfile_fallocate(f, FALLOC_FL_PUNCH_HOLE | ZERO, 0, 4096),
		-1, EOPNOTSUPP);
	TEST_FAILS(daxfile_fallocate(f, PUNCH | ZERO, 0, 4096), -1, EOPNOTSUPP);
	TEST_FAILS(daxfile_fallocate(f, FALLOC_FL_NO_HIDE_STALE, 0, 4096), -1,
		EOPNOTSUPP);
	TEST_FAILS(daxfile_fallocate(f, 0x80, 0, 4096), -1, EOPNOTSUPP);
	TEST_FAILS(daxfile_fallocate(f, 0x100 | KEEP, 0, 4096), -1, EOPNOTSUPP);
	TEST_FAILS(daxfile_fallocate(f, 1 << 30, 0, 4096), -1, EOPNOTSUPP);
	cr_assert_eq(xfstat(f).st_size, (off_t)(8 * BLK));
	cr_assert_eq(xfstat(f).st_blocks, 8 * 8);
	check_pat(f, 0, 8 * BLK, 16);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/*
 * mode_accepted -- the modes vfs_fallocate and XFS accept (Linux 6.18):
 * one of ALLOCATE (no bit), PUNCH_HOLE, COLLAPSE_RANGE, ZERO_RANGE,
 * INSERT_RANGE, UNSHARE_RANGE, WRITE_ZEROES; KEEP_SIZE only with ALLOCATE,
 * ZERO_RANGE and UNSHARE_RANGE, and always with PUNCH_HOLE.  The VFS takes
 * WRITE_ZEROES (so a read-only descriptor gets EBADF) and XFS refuses it.
 */
static int
mode_errno(int mode, bool writable)
{
	int kind = mode & ~KEEP;
	bool keep = (mode & KEEP) != 0;

	switch (kind) {
	case 0:
	case ZERO:
	case FALLOC_FL_UNSHARE_RANGE:
		break;
	case FALLOC_FL_PUNCH_HOLE:
		if (!keep)
			return EOPNOTSUPP;
		break;
	case COLLAPSE:
	case INSERT:
	case 0x80:	/* FALLOC_FL_WRITE_ZEROES */
		if (keep)
			return EOPNOTSUPP;
		break;
	default:
		return EOPNOTSUPP;
	}
	if (!writable)
		return EBADF;
	return kind == 0x80 ? EOPNOTSUPP : 0;
}

Test(falloc, every_mode_combination_gives_what_the_kernel_gives)
{
	struct test_pool tp;
	daxfile_file *f, *ro;

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", 64 * BLK, 20);
	ro = xopen(tp.pool, "/f", O_RDONLY);
	for (int mode = 0; mode < 0x200; mode++) {
		for (int w = 0; w < 2; w++) {
			int want = mode_errno(mode, w == 1);
			int r;

			errno = 0;
			r = daxfile_fallocate(w ? f : ro, mode, 8 * BLK, BLK);
			if (want == 0) {
				cr_assert_eq(r, 0, "mode %#x: %s (%s)", mode,
					strerror(errno), daxfile_errormsg());
				if (mode & INSERT)
					FALLOC_OK(f, COLLAPSE, 8 * BLK, BLK);
				else if (mode & COLLAPSE)
					FALLOC_OK(f, INSERT, 8 * BLK, BLK);
			} else {
				cr_assert_eq(r, -1, "mode %#x succeeded", mode);
				cr_assert_eq(errno, want,
					"mode %#x (%s): errno %s, want %s", mode,
					w ? "rw" : "ro", strerror(errno),
					strerror(want));
			}
			/* a bad range is EINVAL before the mode is looked at */
			TEST_FAILS(daxfile_fallocate(w ? f : ro, mode, 0, 0),
				-1, EINVAL);
		}
	}
	cr_assert_eq(xfstat(f).st_size, (off_t)(64 * BLK));
	TEST_OK(daxfile_close(ro));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(falloc, bad_offsets_lengths_and_flag_combinations_give_einval)
{
	struct test_pool tp;
	daxfile_file *f;
	const off_t b = (off_t)BLK, size = 8 * (off_t)BLK;

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", (uint64_t)size, 17);

	/* offset < 0 or len <= 0, whatever the mode */
	TEST_FAILS(daxfile_fallocate(f, 0, -1, 4096), -1, EINVAL);
	assert_errormsg();
	TEST_FAILS(daxfile_fallocate(f, 0, 0, 0), -1, EINVAL);
	TEST_FAILS(daxfile_fallocate(f, 0, 0, -4096), -1, EINVAL);
	TEST_FAILS(daxfile_fallocate(f, KEEP, 0, 0), -1, EINVAL);
	TEST_FAILS(daxfile_fallocate(f, PUNCH, -4096, 4096), -1, EINVAL);
	TEST_FAILS(daxfile_fallocate(f, PUNCH, 0, 0), -1, EINVAL);
	TEST_FAILS(daxfile_fallocate(f, ZERO, INT64_MIN, 1), -1, EINVAL);
	TEST_FAILS(daxfile_fallocate(f, COLLAPSE, 0, 0), -1, EINVAL);
	TEST_FAILS(daxfile_fallocate(f, INSERT, -b, b), -1, EINVAL);

	/* COLLAPSE and INSERT take no other flag: EOPNOTSUPP, as on XFS */
	TEST_FAILS(daxfile_fallocate(f, COLLAPSE | KEEP, 0, b), -1, EOPNOTSUPP);
	TEST_FAILS(daxfile_fallocate(f, INSERT | KEEP, 0, b), -1, EOPNOTSUPP);
	TEST_FAILS(daxfile_fallocate(f, COLLAPSE | INSERT, 0, b), -1, EOPNOTSUPP);
	TEST_FAILS(daxfile_fallocate(f, COLLAPSE | ZERO, 0, b), -1, EOPNOTSUPP);
	TEST_FAILS(daxfile_fallocate(f, INSERT | ZERO, 0, b), -1, EOPNOTSUPP);
	/* ... but a bad range is EINVAL first, whatever the mode */
	TEST_FAILS(daxfile_fallocate(f, COLLAPSE | KEEP, 0, 0), -1, EINVAL);

	/* their offset and length are multiples of the block size */
	TEST_FAILS(daxfile_fallocate(f, COLLAPSE, 100, b), -1, EINVAL);
	TEST_FAILS(daxfile_fallocate(f, COLLAPSE, b, b - 1), -1, EINVAL);
	TEST_FAILS(daxfile_fallocate(f, COLLAPSE, b, b + 512), -1, EINVAL);
	TEST_FAILS(daxfile_fallocate(f, INSERT, 1, b), -1, EINVAL);
	TEST_FAILS(daxfile_fallocate(f, INSERT, b, 100), -1, EINVAL);

	/* COLLAPSE may not reach EOF, INSERT must start before it */
	TEST_FAILS(daxfile_fallocate(f, COLLAPSE, 4 * b, 4 * b), -1, EINVAL);
	assert_errormsg();
	TEST_FAILS(daxfile_fallocate(f, COLLAPSE, 0, size), -1, EINVAL);
	TEST_FAILS(daxfile_fallocate(f, COLLAPSE, 4 * b, 8 * b), -1, EINVAL);
	TEST_FAILS(daxfile_fallocate(f, COLLAPSE, 10 * b, b), -1, EINVAL);
	TEST_FAILS(daxfile_fallocate(f, INSERT, size, b), -1, EINVAL);
	TEST_FAILS(daxfile_fallocate(f, INSERT, size + b, b), -1, EINVAL);

	/* nothing changed */
	cr_assert_eq(xfstat(f).st_size, size);
	cr_assert_eq(xfstat(f).st_blocks, 8 * 8);
	check_pat(f, 0, (size_t)size, 17);

	/* just inside the limits both work */
	FALLOC_OK(f, COLLAPSE, 4 * b, 3 * b);
	FALLOC_OK(f, INSERT, 4 * b, 3 * b);
	cr_assert_eq(xfstat(f).st_size, size);
	check_pat(f, 0, 4 * BLK, 17);
	check_zero(f, 4 * BLK, 3 * BLK);
	check_pat(f, 7 * BLK, BLK, 17);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(falloc, ranges_beyond_the_maximum_file_size_give_efbig)
{
	struct test_pool tp;
	daxfile_file *f;
	const off_t max = (off_t)MAX_FILE_SIZE, b = (off_t)BLK;

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", 2 * BLK, 18);
	TEST_FAILS(daxfile_fallocate(f, 0, max, 1), -1, EFBIG);
	assert_errormsg();
	TEST_FAILS(daxfile_fallocate(f, 0, max - b, b + 1), -1, EFBIG);
	TEST_FAILS(daxfile_fallocate(f, KEEP, max - 1, 2), -1, EFBIG);
	TEST_FAILS(daxfile_fallocate(f, PUNCH, max, b), -1, EFBIG);
	TEST_FAILS(daxfile_fallocate(f, ZERO, 0, max + 1), -1, EFBIG);
	TEST_FAILS(daxfile_fallocate(f, ZERO | KEEP, max - b, 2 * b), -1, EFBIG);
	TEST_FAILS(daxfile_fallocate(f, INSERT, 0, max), -1, EFBIG);
	TEST_FAILS(daxfile_fallocate(f, COLLAPSE, 0, max + b), -1, EFBIG);
	/* INSERT whose range fits but which would push the size past it */
	TEST_FAILS(daxfile_fallocate(f, INSERT, 0, max - b), -1, EFBIG);
	assert_errormsg();
	TEST_FAILS(daxfile_fallocate(f, INSERT, b, max - 2 * b + b), -1, EFBIG);
	cr_assert_eq(xfstat(f).st_size, 2 * b);
	cr_assert_eq(xfstat(f).st_blocks, 2 * 8);
	check_pat(f, 0, 2 * BLK, 18);

	/* a range ending exactly at the limit is allowed */
	FALLOC_OK(f, PUNCH, max - b, b);
	FALLOC_OK(f, ZERO | KEEP, max - b, b);
	cr_assert_eq(xfstat(f).st_size, 2 * b);
	cr_assert_eq(xfstat(f).st_blocks, 3 * 8);
	check_pat(f, 0, 2 * BLK, 18);
	TEST_OK(daxfile_ftruncate(f, 0));
	cr_assert_eq(xfstat(f).st_blocks, 0);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(falloc, read_only_closed_and_null_handles_give_ebadf)
{
	struct test_pool tp;
	daxfile_file *f, *ro;

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", 3 * BLK, 19);
	ro = xopen(tp.pool, "/f", O_RDONLY);
	TEST_FAILS(daxfile_fallocate(ro, 0, 0, 4096), -1, EBADF);
	assert_errormsg();
	TEST_FAILS(daxfile_fallocate(ro, KEEP, 0, MIB), -1, EBADF);
	TEST_FAILS(daxfile_fallocate(ro, PUNCH, 0, 4096), -1, EBADF);
	TEST_FAILS(daxfile_fallocate(ro, ZERO, 0, 4096), -1, EBADF);
	TEST_FAILS(daxfile_fallocate(ro, COLLAPSE, 0, 4096), -1, EBADF);
	TEST_FAILS(daxfile_fallocate(ro, INSERT, 0, 4096), -1, EBADF);
	TEST_OK(daxfile_close(ro));
	TEST_FAILS(daxfile_fallocate(ro, 0, 0, 4096), -1, EBADF);
	TEST_FAILS(daxfile_fallocate(ro, PUNCH, 0, 4096), -1, EBADF);
	TEST_FAILS(daxfile_fallocate(NULL, 0, 0, 4096), -1, EBADF);
	TEST_FAILS(daxfile_fallocate(NULL, PUNCH, 0, 4096), -1, EBADF);
	cr_assert_eq(xfstat(f).st_size, 3 * (off_t)BLK);
	cr_assert_eq(xfstat(f).st_blocks, 3 * 8);
	check_pat(f, 0, 3 * BLK, 19);
	TEST_OK(daxfile_close(f));
	TEST_FAILS(daxfile_fallocate(f, 0, 0, 4096), -1, EBADF);
	test_pool_destroy(&tp);
}

Test(falloc, preallocating_more_than_the_free_space_gives_enospc_and_changes_nothing)
{
	struct test_pool tp;
	daxfile_file *f;
	struct statvfs before, after;

	test_pool_create(&tp, "falloc", TEST_POOL_SIZE);
	f = new_file(tp.pool, "/f", 3 * BLK, 20);
	TEST_OK(daxfile_statvfs(tp.pool, &before));
	TEST_FAILS(daxfile_fallocate(f, 0, 0, 256 * (off_t)MIB), -1, ENOSPC);
	assert_errormsg();
	TEST_FAILS(daxfile_fallocate(f, KEEP, 10 * (off_t)MIB, 256 * (off_t)MIB),
		-1, ENOSPC);
	TEST_OK(daxfile_statvfs(tp.pool, &after));
	cr_assert_eq(after.f_bfree, before.f_bfree, "f_bfree %lu, was %lu",
		(unsigned long)after.f_bfree, (unsigned long)before.f_bfree);
	cr_assert_eq(xfstat(f).st_size, 3 * (off_t)BLK);
	cr_assert_eq(xfstat(f).st_blocks, 3 * 8);
	check_pat(f, 0, 3 * BLK, 20);
	/* and a reasonable request still works */
	FALLOC_OK(f, 0, 3 * BLK, MIB);
	cr_assert_eq(xfstat(f).st_size, (off_t)(3 * BLK + MIB));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- random sequences against a model ------------------------------------- */

#define MODEL_MAX (8 * MIB)		/* the file stays below this */
#define MODEL_OPS 500
#define MODEL_REOPEN 100

struct model {
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *buf;	/* the expected bytes; zeros past 'size' */
	unsigned char *rd;	/* what the file reads */
	uint64_t size;
	uint64_t rng;
	unsigned seed;
	int step;
	char last[8][96];	/* the latest operations, for failure reports */
};

static uint64_t
rnd(struct model *m)
{
	/* xorshift64* */
	m->rng ^= m->rng >> 12;
	m->rng ^= m->rng << 25;
	m->rng ^= m->rng >> 27;
	return m->rng * 0x2545F4914F6CDD1DULL;
}

/* rnd_below -- uniform enough in [0, n), n > 0. */
static uint64_t
rnd_below(struct model *m, uint64_t n)
{
	return rnd(m) % n;
}

static void
note(struct model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note(struct model *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->last[m->step % 8], sizeof(m->last[0]), fmt, ap);
	va_end(ap);
}

static void
model_history(struct model *m, char *out, size_t n)
{
	size_t at = 0;

	out[0] = '\0';
	for (int i = m->step - 7; i <= m->step; i++) {
		if (i < 0)
			continue;
		at += (size_t)snprintf(out + at, n - at, "\n  op %d: %s", i,
			m->last[i % 8]);
		if (at >= n)
			break;
	}
}

/* model_verify -- size and every byte against the model. */
static void
model_verify(struct model *m)
{
	struct stat st = xfstat(m->f);
	char hist[1024];
	ssize_t r;

	model_history(m, hist, sizeof(hist));
	cr_assert_eq((uint64_t)st.st_size, m->size,
		"seed %u: st_size %ld, model %lu after:%s", m->seed,
		(long)st.st_size, (unsigned long)m->size, hist);
	r = daxfile_pread(m->f, m->rd, m->size + 1, 0);
	cr_assert_eq(r, (ssize_t)m->size, "seed %u: pread gave %zd, size %lu "
		"(%s) after:%s", m->seed, r, (unsigned long)m->size,
		r < 0 ? daxfile_errormsg() : "", hist);
	if (memcmp(m->rd, m->buf, m->size) != 0) {
		uint64_t i = 0;

		while (m->rd[i] == m->buf[i])
			i++;
		cr_assert_fail("seed %u: byte %lu (block %lu + %lu) is %#x, "
			"model %#x; size %lu, after:%s", m->seed,
			(unsigned long)i, (unsigned long)(i / BLK),
			(unsigned long)(i % BLK), m->rd[i], m->buf[i],
			(unsigned long)m->size, hist);
	}
}

static void
model_falloc(struct model *m, int mode, uint64_t off, uint64_t len)
{
	char hist[1024];

	if (daxfile_fallocate(m->f, mode, (off_t)off, (off_t)len) != 0) {
		model_history(m, hist, sizeof(hist));
		cr_assert_fail("seed %u: fallocate failed: %s (%s) at:%s",
			m->seed, strerror(errno), daxfile_errormsg(), hist);
	}
}

/* A random [off, off+len) near the file: in it, across EOF or past it. */
static void
pick_range(struct model *m, uint64_t maxlen, uint64_t *off, uint64_t *len)
{
	*len = 1 + rnd_below(m, rnd_below(m, 4) == 0 ? maxlen : maxlen / 16);
	*off = rnd_below(m, m->size + 64 * KIB);
	if (rnd_below(m, 3) == 0)
		*off &= ~(BLK - 1);
	if (rnd_below(m, 3) == 0)
		*len = (*len + BLK - 1) & ~(BLK - 1);
	if (*off + *len >= MODEL_MAX) {
		*len = 1 + rnd_below(m, MODEL_MAX / 4);
		*off = rnd_below(m, MODEL_MAX - *len);
	}
}

static void
op_write(struct model *m)
{
	uint64_t off, len;
	ssize_t w;

	pick_range(m, 512 * KIB, &off, &len);
	note(m, "write %lu at %lu", (unsigned long)len, (unsigned long)off);
	for (uint64_t i = 0; i < len; i++)
		m->buf[off + i] = (unsigned char)rnd(m) | 1;
	w = daxfile_pwrite(m->f, m->buf + off, len, (off_t)off);
	cr_assert_eq(w, (ssize_t)len, "seed %u op %d: pwrite = %zd: %s (%s)",
		m->seed, m->step, w, strerror(errno), daxfile_errormsg());
	if (off + len > m->size)
		m->size = off + len;
}

static void
op_punch(struct model *m)
{
	uint64_t off, len;

	pick_range(m, 1 * MIB, &off, &len);
	note(m, "punch %lu at %lu (size %lu)", (unsigned long)len,
		(unsigned long)off, (unsigned long)m->size);
	model_falloc(m, PUNCH, off, len);
	if (off < m->size)
		memset(m->buf + off, 0, min64(off + len, m->size) - off);
}

static void
op_zero(struct model *m)
{
	uint64_t off, len, size;
	bool keep = rnd_below(m, 2);

	pick_range(m, 1 * MIB, &off, &len);
	note(m, "zero%s %lu at %lu (size %lu)", keep ? "|keep" : "",
		(unsigned long)len, (unsigned long)off, (unsigned long)m->size);
	model_falloc(m, ZERO | (keep ? KEEP : 0), off, len);
	size = keep || off + len <= m->size ? m->size : off + len;
	if (off < size)
		memset(m->buf + off, 0, min64(off + len, size) - off);
	m->size = size;
}

static void
op_alloc(struct model *m)
{
	uint64_t off, len;
	bool keep = rnd_below(m, 2);

	pick_range(m, 1 * MIB, &off, &len);
	note(m, "alloc%s %lu at %lu (size %lu)", keep ? "|keep" : "",
		(unsigned long)len, (unsigned long)off, (unsigned long)m->size);
	model_falloc(m, keep ? KEEP : 0, off, len);
	if (!keep && off + len > m->size)
		m->size = off + len;
}

/* op_collapse -- needs a whole block range ending before EOF. */
static bool
op_collapse(struct model *m)
{
	uint64_t nblk = m->size / BLK, off, len;

	/* off + len < size: at most nblk - 1 blocks when size is aligned */
	if (m->size % BLK == 0 && nblk > 0)
		nblk--;
	if (nblk < 1)
		return false;
	off = rnd_below(m, nblk) * BLK;
	len = (1 + rnd_below(m, min64(nblk - off / BLK, 64))) * BLK;
	if (off + len >= m->size)
		return false;
	note(m, "collapse %lu at %lu (size %lu)", (unsigned long)len,
		(unsigned long)off, (unsigned long)m->size);
	model_falloc(m, COLLAPSE, off, len);
	memmove(m->buf + off, m->buf + off + len, m->size - off - len);
	memset(m->buf + m->size - len, 0, len);
	m->size -= len;
	return true;
}

/* op_insert -- needs a block offset before EOF and room to grow. */
static bool
op_insert(struct model *m)
{
	uint64_t nblk = (m->size + BLK - 1) / BLK, off, len;

	if (nblk == 0)
		return false;
	off = rnd_below(m, nblk) * BLK;
	len = (1 + rnd_below(m, 64)) * BLK;
	if (m->size + len >= MODEL_MAX)
		return false;
	note(m, "insert %lu at %lu (size %lu)", (unsigned long)len,
		(unsigned long)off, (unsigned long)m->size);
	model_falloc(m, INSERT, off, len);
	memmove(m->buf + off + len, m->buf + off, m->size - off);
	memset(m->buf + off, 0, len);
	m->size += len;
	return true;
}

static void
op_truncate(struct model *m)
{
	uint64_t size;
	char hist[1024];

	switch (rnd_below(m, 4)) {
	case 0:
		size = rnd_below(m, MODEL_MAX);
		break;
	case 1:
		size = m->size + rnd_below(m, 256 * KIB);
		break;
	default:
		size = m->size ? rnd_below(m, m->size) : 0;
		break;
	}
	if (size >= MODEL_MAX)
		size = MODEL_MAX - 1;
	note(m, "truncate to %lu (size %lu)", (unsigned long)size,
		(unsigned long)m->size);
	if (daxfile_ftruncate(m->f, (off_t)size) != 0) {
		model_history(m, hist, sizeof(hist));
		cr_assert_fail("seed %u: ftruncate failed: %s (%s) at:%s",
			m->seed, strerror(errno), daxfile_errormsg(), hist);
	}
	if (size < m->size)
		memset(m->buf + size, 0, m->size - size);
	m->size = size;
}

static void
model_reopen(struct model *m)
{
	TEST_OK(daxfile_close(m->f));
	cr_assert_eq(daxfile_pool_close(m->tp.pool), 0, "%s", daxfile_errormsg());
	m->tp.pool = NULL;
	cr_assert_eq(daxfile_pool_check(m->tp.path, stderr), 0,
		"seed %u: the pool check found problems after op %d", m->seed,
		m->step);
	m->tp.pool = daxfile_pool_open(m->tp.path);
	cr_assert_not_null(m->tp.pool, "reopen: %s", daxfile_errormsg());
	m->f = xopen(m->tp.pool, "/model", O_RDWR);
}

static void
model_run(unsigned seed)
{
	struct model *m = calloc(1, sizeof(*m));

	cr_assert_not_null(m);
	m->seed = seed;
	m->rng = 0x9E3779B97F4A7C15ULL * (seed + 1);
	m->buf = calloc(1, MODEL_MAX + MIB);
	m->rd = malloc(MODEL_MAX + MIB);
	cr_assert(m->buf != NULL && m->rd != NULL);
	test_pool_create(&m->tp, "model", TEST_POOL_SIZE);
	dirty_free_blocks(m->tp.pool);
	m->f = xopen(m->tp.pool, "/model", O_RDWR | O_CREAT | O_EXCL);

	for (m->step = 0; m->step < MODEL_OPS; m->step++) {
		uint64_t r = rnd_below(m, 100);

		if (r < 30)
			op_write(m);
		else if (r < 44)
			op_punch(m);
		else if (r < 58)
			op_zero(m);
		else if (r < 70) {
			if (!op_collapse(m))
				op_write(m);
		} else if (r < 82) {
			if (!op_insert(m))
				op_write(m);
		} else if (r < 92)
			op_truncate(m);
		else
			op_alloc(m);
		cr_assert_lt(m->size, MODEL_MAX);
		model_verify(m);
		if ((m->step + 1) % MODEL_REOPEN == 0) {
			model_reopen(m);
			model_verify(m);
		}
	}
	TEST_OK(daxfile_close(m->f));
	test_pool_destroy(&m->tp);
	free(m->buf);
	free(m->rd);
	free(m);
}

Test(falloc, random_operations_match_the_model_with_seed_1)
{
	model_run(1);
}

Test(falloc, random_operations_match_the_model_with_seed_2)
{
	model_run(2);
}

Test(falloc, random_operations_match_the_model_with_seed_3)
{
	model_run(3);
}

Test(falloc, random_operations_match_the_model_with_seed_4)
{
	model_run(4);
}

Test(falloc, random_operations_match_the_model_with_seed_5)
{
	model_run(5);
}
