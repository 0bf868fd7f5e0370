/*
 * test_copy.c -- daxfile_copy_file_range through the public API: data
 * copied byte for byte at unaligned offsets, holes and unwritten ranges of
 * the source kept as holes in the destination (also over data it had),
 * the destination grown with zeros between its old end and the copy,
 * offsets given or taken from the file positions, copies inside one file,
 * a mapping of the destination seeing the new bytes, copies in both
 * directions at once, and the errnos of copy_file_range(2) as Linux gives
 * them (EXDEV only between two pools).
 */
#define _GNU_SOURCE

#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <sys/mman.h>

#include "daxfile.h"
#include "testutil.h"

#define MAX_FILE_SIZE ((off_t)1 << 53)

static ssize_t
cfr(daxfile_file *in, off_t pin, daxfile_file *out, off_t pout, size_t len)
{
	return daxfile_copy_file_range(in, &pin, out, &pout, len, 0);
}

/* put -- 'n' patterned bytes (seed) at 'off'. */
static void
put(daxfile_file *f, off_t off, size_t n, unsigned seed)
{
	unsigned char *b = xmalloc(n);

	fill(b, n, (uint64_t)off, seed);
	cr_assert_eq(daxfile_pwrite(f, b, n, off), (ssize_t)n, "pwrite: %s",
		daxfile_errormsg());
	free(b);
}

/* expect -- [off, off+n) of 'f' holds the pattern of 'seed' shifted by 'shift', or zeros (seed 0). */
static void
expect(daxfile_file *f, off_t off, size_t n, unsigned seed, int64_t shift)
{
	unsigned char *b = xmalloc(n);

	cr_assert_eq(daxfile_pread(f, b, n, off), (ssize_t)n);
	for (size_t i = 0; i < n; i++) {
		unsigned char want = seed == 0 ? 0 :
			pat((uint64_t)((int64_t)off + (int64_t)i + shift), seed);

		cr_assert_eq(b[i], want, "byte %ld: %#x, expected %#x",
			(long)(off + (off_t)i), b[i], want);
	}
	free(b);
}

static off_t
seek(daxfile_file *f, off_t off, int whence)
{
	return daxfile_lseek(f, off, whence);
}

Test(copy, data_and_holes_are_copied_and_holes_stay_holes)
{
	struct test_pool tp;
	daxfile_file *a, *b;
	struct stat st;

	test_pool_create(&tp, "copy", TEST_POOL_SIZE);
	a = xopen(tp.pool, "/a", O_RDWR | O_CREAT);
	b = xopen(tp.pool, "/b", O_RDWR | O_CREAT);
	/* data [0,10000), hole to 1 MiB, data [1 MiB, 1 MiB + 5000) */
	put(a, 0, 10000, 1);
	put(a, 1 << 20, 5000, 1);
	cr_assert_eq(cfr(a, 0, b, 0, 4 << 20), (1 << 20) + 5000);
	st = xfstat(b);
	cr_assert_eq(st.st_size, (1 << 20) + 5000);
	expect(b, 0, 10000, 1, 0);
	expect(b, 10000, (1 << 20) - 10000, 0, 0);
	expect(b, 1 << 20, 5000, 1, 0);
	cr_assert_eq(seek(b, 0, SEEK_HOLE), 12288, "the hole was filled");
	cr_assert_eq(seek(b, 12288, SEEK_DATA), 1 << 20);
	cr_assert_leq(st.st_blocks, (3 + 2) * 8, "%ld blocks: the hole got blocks",
		(long)st.st_blocks);
	/* unwritten (fallocated) ranges read zero and stay holes too */
	TEST_OK(daxfile_fallocate(a, 0, 2 << 20, 1 << 20));
	cr_assert_eq(cfr(a, 2 << 20, b, 8 << 20, 1 << 20), 1 << 20);
	cr_assert_eq(xfstat(b).st_size, 9 << 20);
	cr_assert_eq(seek(b, 1 << 20, SEEK_HOLE), (1 << 20) + 8192);
	cr_assert_eq(seek(b, (1 << 20) + 8192, SEEK_DATA), -1);
	expect(b, 8 << 20, 4096, 0, 0);
	TEST_OK(daxfile_close(a));
	TEST_OK(daxfile_close(b));
	test_pool_destroy(&tp);
}

Test(copy, unaligned_ranges_copy_exactly_and_leave_the_rest_alone)
{
	struct test_pool tp;
	daxfile_file *a, *b;

	test_pool_create(&tp, "copy", TEST_POOL_SIZE);
	a = xopen(tp.pool, "/a", O_RDWR | O_CREAT);
	b = xopen(tp.pool, "/b", O_RDWR | O_CREAT);
	put(a, 0, 40000, 3);
	put(b, 0, 60000, 4);
	cr_assert_eq(cfr(a, 123, b, 5001, 20000), 20000);
	expect(b, 0, 5001, 4, 0);
	expect(b, 5001, 20000, 3, 123 - 5001);
	expect(b, 25001, 60000 - 25001, 4, 0);
	cr_assert_eq(xfstat(b).st_size, 60000);
	/* a hole of the source zeroes data of the destination, to the byte */
	TEST_OK(daxfile_ftruncate(a, 100000));
	cr_assert_eq(cfr(a, 50000, b, 1000, 30000), 30000);
	expect(b, 0, 1000, 4, 0);
	expect(b, 1000, 30000, 0, 0);
	expect(b, 31000, 60000 - 31000, 4, 0);
	/* whole blocks inside became holes */
	cr_assert_eq(seek(b, 0, SEEK_HOLE), 4096);
	cr_assert_eq(seek(b, 4096, SEEK_DATA), 28672);
	TEST_OK(daxfile_close(a));
	TEST_OK(daxfile_close(b));
	test_pool_destroy(&tp);
}

Test(copy, a_copy_past_the_end_grows_the_file_with_zeros_before_it)
{
	struct test_pool tp;
	daxfile_file *a, *b;

	test_pool_create(&tp, "copy", TEST_POOL_SIZE);
	a = xopen(tp.pool, "/a", O_RDWR | O_CREAT);
	b = xopen(tp.pool, "/b", O_RDWR | O_CREAT);
	put(a, 0, 8192, 5);
	/* the appends leave blocks allocated ahead of b's end */
	for (int i = 0; i < 20; i++)
		put(b, i * 100, 100, 6);
	cr_assert_eq(cfr(a, 0, b, 300000, 8192), 8192);
	cr_assert_eq(xfstat(b).st_size, 308192);
	expect(b, 0, 2000, 6, 0);
	expect(b, 2000, 298000, 0, 0);
	expect(b, 300000, 8192, 5, -300000);
	TEST_OK(daxfile_close(a));
	TEST_OK(daxfile_close(b));
	test_pool_destroy(&tp);
}

Test(copy, offsets_come_from_the_pointers_or_the_file_positions)
{
	struct test_pool tp;
	daxfile_file *a, *b;
	off_t oi = 100, oo = 7;

	test_pool_create(&tp, "copy", TEST_POOL_SIZE);
	a = xopen(tp.pool, "/a", O_RDWR | O_CREAT);
	b = xopen(tp.pool, "/b", O_RDWR | O_CREAT);
	put(a, 0, 1000, 7);
	cr_assert_eq(daxfile_copy_file_range(a, &oi, b, &oo, 50, 0), 50);
	cr_assert_eq(oi, 150);
	cr_assert_eq(oo, 57);
	cr_assert_eq(seek(a, 0, SEEK_CUR), 0, "the pointer form moved the position");
	cr_assert_eq(seek(b, 0, SEEK_CUR), 0);
	cr_assert_eq(seek(a, 200, SEEK_SET), 200);
	cr_assert_eq(seek(b, 10, SEEK_SET), 10);
	cr_assert_eq(daxfile_copy_file_range(a, NULL, b, NULL, 300, 0), 300);
	cr_assert_eq(seek(a, 0, SEEK_CUR), 500);
	cr_assert_eq(seek(b, 0, SEEK_CUR), 310);
	expect(b, 10, 300, 7, 190);
	/* short at the source's end, 0 past it */
	cr_assert_eq(daxfile_copy_file_range(a, NULL, b, NULL, 100000, 0), 500);
	cr_assert_eq(daxfile_copy_file_range(a, NULL, b, NULL, 100000, 0), 0);
	cr_assert_eq(seek(b, 0, SEEK_CUR), 810);
	cr_assert_eq(cfr(a, 0, b, 0, 0), 0);
	TEST_OK(daxfile_close(a));
	TEST_OK(daxfile_close(b));
	test_pool_destroy(&tp);
}

Test(copy, a_copy_inside_one_file_needs_disjoint_ranges)
{
	struct test_pool tp;
	daxfile_file *a, *a2;

	test_pool_create(&tp, "copy", TEST_POOL_SIZE);
	a = xopen(tp.pool, "/a", O_RDWR | O_CREAT);
	a2 = xopen(tp.pool, "/a", O_RDWR);
	put(a, 0, 16384, 8);
	TEST_FAILS(cfr(a, 0, a, 100, 200), -1, EINVAL);
	TEST_FAILS(cfr(a, 0, a2, 0, 10), -1, EINVAL);
	TEST_FAILS(cfr(a, 5000, a, 4000, 2000), -1, EINVAL);
	cr_assert_eq(cfr(a, 0, a, 8192, 8192), 8192);
	cr_assert_eq(cfr(a, 100, a2, 20000, 5000), 5000);
	expect(a, 0, 8192, 8, 0);
	expect(a, 8192, 8192, 8, -8192);
	expect(a, 20000, 5000, 8, 100 - 20000);
	/* a range past the source's end copies nothing and overlaps nothing */
	cr_assert_eq(cfr(a, 100000, a, 100000, 10), 0);
	TEST_OK(daxfile_close(a));
	TEST_OK(daxfile_close(a2));
	test_pool_destroy(&tp);
}

Test(copy, bad_calls_give_the_errnos_of_linux)
{
	struct test_pool tp;
	daxfile_file *a, *b, *rd, *wr, *ap, *d, *closed;

	test_pool_create(&tp, "copy", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	a = xopen(tp.pool, "/a", O_RDWR | O_CREAT);
	b = xopen(tp.pool, "/b", O_RDWR | O_CREAT);
	rd = xopen(tp.pool, "/b", O_RDONLY);
	wr = xopen(tp.pool, "/a", O_WRONLY);
	ap = xopen(tp.pool, "/b", O_WRONLY | O_APPEND);
	d = xopen(tp.pool, "/d", O_RDONLY | O_DIRECTORY);
	closed = xopen(tp.pool, "/a", O_RDONLY);
	TEST_OK(daxfile_close(closed));
	put(a, 0, 100, 9);
	TEST_FAILS(daxfile_copy_file_range(a, NULL, b, NULL, 10, 1), -1, EINVAL);
	assert_errormsg();
	TEST_FAILS(daxfile_copy_file_range(closed, NULL, b, NULL, 10, 1), -1,
		EBADF);
	TEST_FAILS(cfr(NULL, 0, b, 0, 10), -1, EBADF);
	TEST_FAILS(cfr(a, 0, NULL, 0, 10), -1, EBADF);
	TEST_FAILS(cfr(wr, 0, b, 0, 10), -1, EBADF);
	TEST_FAILS(cfr(a, 0, rd, 0, 10), -1, EBADF);
	TEST_FAILS(cfr(a, 0, ap, 0, 10), -1, EBADF);
	{
		daxfile_file *p = xopen(tp.pool, "/a", O_PATH);

		TEST_FAILS(cfr(p, 0, b, 0, 10), -1, EBADF);
		TEST_FAILS(cfr(a, 0, p, 0, 10), -1, EBADF);
		TEST_OK(daxfile_close(p));
	}
	TEST_FAILS(cfr(d, 0, b, 0, 10), -1, EISDIR);
	TEST_FAILS(cfr(a, 0, d, 0, 10), -1, EISDIR);
	/* the directory is found before the access mode */
	TEST_FAILS(cfr(d, 0, rd, 0, 10), -1, EISDIR);
	TEST_FAILS(cfr(a, -1, b, 0, 10), -1, EOVERFLOW);
	TEST_FAILS(cfr(a, 0, b, -1, 10), -1, EOVERFLOW);
	TEST_FAILS(cfr(a, 1, b, 0, SIZE_MAX), -1, EOVERFLOW);
	TEST_FAILS(cfr(a, -1, b, 0, 0), -1, EINVAL);
	TEST_FAILS(cfr(a, 0, b, MAX_FILE_SIZE, 10), -1, EFBIG);
	{
		struct test_pool other;
		daxfile_file *o;

		test_pool_create(&other, "copy2", TEST_POOL_SIZE);
		o = xopen(other.pool, "/o", O_RDWR | O_CREAT);
		TEST_FAILS(cfr(a, 0, o, 0, 10), -1, EXDEV);
		TEST_OK(daxfile_close(o));
		test_pool_destroy(&other);
	}
	TEST_FAILS(cfr(a, 1000, b, MAX_FILE_SIZE, 10), -1, EFBIG);
	/* near the largest size it is shortened */
	cr_assert_eq(cfr(a, 0, b, MAX_FILE_SIZE - 5, 10), 5);
	cr_assert_eq(xfstat(b).st_size, MAX_FILE_SIZE);
	TEST_OK(daxfile_ftruncate(b, 0));
	TEST_OK(daxfile_close(a));
	TEST_OK(daxfile_close(b));
	TEST_OK(daxfile_close(rd));
	TEST_OK(daxfile_close(wr));
	TEST_OK(daxfile_close(ap));
	TEST_OK(daxfile_close(d));
	test_pool_destroy(&tp);
}

Test(copy, a_mapping_of_the_destination_sees_the_copied_bytes)
{
	struct test_pool tp;
	daxfile_file *a, *b;
	unsigned char *m;

	test_pool_create(&tp, "copy", TEST_POOL_SIZE);
	a = xopen(tp.pool, "/a", O_RDWR | O_CREAT);
	b = xopen(tp.pool, "/b", O_RDWR | O_CREAT);
	put(a, 0, 16384, 10);
	TEST_OK(daxfile_ftruncate(b, 16384));
	m = daxfile_mmap(NULL, 16384, PROT_READ, MAP_SHARED, b, 0);
	cr_assert_neq(m, MAP_FAILED, "%s", daxfile_errormsg());
	cr_assert_eq(m[5000], 0);
	cr_assert_eq(cfr(a, 0, b, 0, 16384), 16384);
	for (int i = 0; i < 16384; i++)
		cr_assert_eq(m[i], pat((uint64_t)i, 10), "byte %d", i);
	TEST_OK(daxfile_munmap(m, 16384));
	TEST_OK(daxfile_close(a));
	TEST_OK(daxfile_close(b));
	test_pool_destroy(&tp);
}

struct pingpong {
	daxfile_pool *pool;
	const char *from, *to;
};

static void *
pingpong_main(void *arg)
{
	struct pingpong *p = arg;
	daxfile_file *in = daxfile_open(p->pool, p->from, O_RDONLY);
	daxfile_file *out = daxfile_open(p->pool, p->to, O_WRONLY);

	if (in == NULL || out == NULL) {
		thread_fail("open");
		return NULL;
	}
	for (int i = 0; i < 300 && !failed(); i++)
		if (cfr(in, (i % 8) * 4096, out, 65536 + (i % 5) * 4096,
		    20000) != 20000)
			thread_fail("copy %s -> %s", p->from, p->to);
	daxfile_close(in);
	daxfile_close(out);
	return NULL;
}

Test(copy, copies_in_both_directions_at_once_do_not_deadlock, .timeout = 120)
{
	struct test_pool tp;
	struct pingpong p[2];
	pthread_t t[2];
	daxfile_file *a, *b;

	test_pool_create(&tp, "copy", TEST_POOL_SIZE);
	a = xopen(tp.pool, "/a", O_RDWR | O_CREAT);
	b = xopen(tp.pool, "/b", O_RDWR | O_CREAT);
	put(a, 0, 65536, 11);
	put(b, 0, 65536, 11);
	TEST_OK(daxfile_close(a));
	TEST_OK(daxfile_close(b));
	p[0] = (struct pingpong){tp.pool, "/a", "/b"};
	p[1] = (struct pingpong){tp.pool, "/b", "/a"};
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, pingpong_main, &p[i]), 0);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
	assert_no_failure();
	a = xopen(tp.pool, "/a", O_RDONLY);
	expect(a, 0, 65536, 11, 0);
	TEST_OK(daxfile_close(a));
	test_pool_destroy(&tp);
}
