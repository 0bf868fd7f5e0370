/*
 * test_data.c -- the data calls of the public API: read, write, pread,
 * pwrite, preadv, pwritev, lseek (SEEK_SET/CUR/END/DATA/HOLE), fsync,
 * fdatasync and ftruncate.  Round trips of odd sizes at unaligned offsets,
 * persistence across a pool close and open, holes, short reads at EOF,
 * atomic O_APPEND from two threads, the file offset, truncation down and
 * up, st_blocks accounting, a full pool (ENOSPC), a first read mapping the
 * 2 MiB of the pool around it at once, and every errno the
 * contract gives these calls (EBADF, EINVAL, EFBIG, ENXIO).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>

#include "daxfile.h"
#include "testpool.h"
#include "testutil.h"

#define KIB ((uint64_t)1024)
#define MIB ((uint64_t)1024 * 1024)
#define BLK ((uint64_t)4096)
#define MAX_FILE_SIZE ((uint64_t)1 << 53)

/* --- helpers -------------------------------------------------------------- */

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

/* check_pat -- the file holds the pattern over [off, off+n). */
static void
check_pat(daxfile_file *f, uint64_t off, size_t n, unsigned seed)
{
	size_t chunk = n < 4 * MIB ? n : 4 * MIB;
	unsigned char *buf = xmalloc(chunk);

	for (size_t done = 0; done < n;) {
		size_t k = n - done < chunk ? n - done : chunk;
		ssize_t r = daxfile_pread(f, buf, k, (off_t)(off + done));

		cr_assert_eq(r, (ssize_t)k, "pread(%zu at %lu) = %zd: %s (%s)",
			k, (unsigned long)(off + done), r, strerror(errno),
			daxfile_errormsg());
		for (size_t i = 0; i < k; i++)
			if (buf[i] != pat(off + done + i, seed))
				cr_assert_fail("byte %lu is %#x, expected %#x",
					(unsigned long)(off + done + i), buf[i],
					pat(off + done + i, seed));
		done += k;
	}
	free(buf);
}

/* check_byte -- the file holds byte 'c' over [off, off+n). */
static void
check_byte(daxfile_file *f, uint64_t off, size_t n, unsigned char c)
{
	size_t chunk = n < 4 * MIB ? n : 4 * MIB;
	unsigned char *buf = xmalloc(chunk);

	for (size_t done = 0; done < n;) {
		size_t k = n - done < chunk ? n - done : chunk;
		ssize_t r = daxfile_pread(f, buf, k, (off_t)(off + done));

		cr_assert_eq(r, (ssize_t)k, "pread(%zu at %lu) = %zd: %s (%s)",
			k, (unsigned long)(off + done), r, strerror(errno),
			daxfile_errormsg());
		for (size_t i = 0; i < k; i++)
			if (buf[i] != c)
				cr_assert_fail("byte %lu is %#x, expected %#x",
					(unsigned long)(off + done + i), buf[i],
					c);
		done += k;
	}
	free(buf);
}

/* --- round trips ---------------------------------------------------------- */

static const size_t rt_sizes[] = {0, 1, 4095, 4096, 4097, MIB + 3};
static const uint64_t rt_offs[] = {0, 1, 4095, 4097, 12345, 3 * MIB + 7};
#define NSIZES (sizeof(rt_sizes) / sizeof(rt_sizes[0]))
#define NOFFS (sizeof(rt_offs) / sizeof(rt_offs[0]))

static void
rt_path(char *buf, size_t n, unsigned i, unsigned j)
{
	snprintf(buf, n, "/rt-%u-%u", i, j);
}

/* rt_write_all -- one file per (size, offset), written with pwrite. */
static void
rt_write_all(daxfile_pool *pool)
{
	for (unsigned i = 0; i < NSIZES; i++) {
		for (unsigned j = 0; j < NOFFS; j++) {
			char path[64];
			daxfile_file *f;
			unsigned seed = i * 16 + j;

			rt_path(path, sizeof(path), i, j);
			f = xopen(pool, path, O_RDWR | O_CREAT | O_EXCL);
			pwrite_pat(f, rt_offs[j], rt_sizes[i], seed);
			TEST_OK(daxfile_close(f));
		}
	}
}

/* rt_check_all -- every file reads back exactly, with zeros before. */
static void
rt_check_all(daxfile_pool *pool)
{
	for (unsigned i = 0; i < NSIZES; i++) {
		for (unsigned j = 0; j < NOFFS; j++) {
			char path[64];
			daxfile_file *f;
			unsigned seed = i * 16 + j;
			uint64_t off = rt_offs[j];
			size_t n = rt_sizes[i];
			uint64_t size = n == 0 ? 0 : off + n;
			unsigned char extra[16];
			struct stat st;

			rt_path(path, sizeof(path), i, j);
			f = xopen(pool, path, O_RDONLY);
			st = xfstat(f);
			cr_assert_eq(st.st_size, (off_t)size,
				"%s: st_size %ld, expected %lu", path,
				(long)st.st_size, (unsigned long)size);
			check_pat(f, off, n, seed);
			if (n != 0)
				check_byte(f, 0, off, 0);
			/* a read running past the end stops at it */
			if (n != 0) {
				ssize_t r = daxfile_pread(f, extra, sizeof(extra),
					(off_t)(size - 1));

				cr_assert_eq(r, 1, "%s: read across EOF gave %zd",
					path, r);
				cr_assert_eq(extra[0], pat(size - 1, seed));
			}
			cr_assert_eq(daxfile_pread(f, extra, sizeof(extra),
				(off_t)size), 0);
			TEST_OK(daxfile_close(f));
		}
	}
}

Test(data, round_trips_of_odd_sizes_at_unaligned_offsets_read_back_exactly)
{
	struct test_pool tp;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	rt_write_all(tp.pool);
	rt_check_all(tp.pool);
	test_pool_destroy(&tp);
}

Test(data, written_data_survives_a_pool_close_and_open)
{
	struct test_pool tp;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	rt_write_all(tp.pool);
	test_pool_reopen(&tp);
	rt_check_all(tp.pool);
	test_pool_reopen(&tp);
	rt_check_all(tp.pool);
	test_pool_destroy(&tp);
}

Test(data, overwrites_in_place_replace_exactly_the_bytes_written)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char buf[5000];

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 64 * KIB, 1);
	/* 5000 bytes of another pattern straddling two block boundaries */
	fill(buf, sizeof(buf), 4000, 2);
	cr_assert_eq(daxfile_pwrite(f, buf, sizeof(buf), 4000), (ssize_t)sizeof(buf));
	check_pat(f, 0, 4000, 1);
	check_pat(f, 4000, sizeof(buf), 2);
	check_pat(f, 9000, 64 * KIB - 9000, 1);
	cr_assert_eq(xfstat(f).st_size, (off_t)(64 * KIB));
	TEST_OK(daxfile_close(f));
	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/f", O_RDONLY);
	check_pat(f, 0, 4000, 1);
	check_pat(f, 4000, sizeof(buf), 2);
	check_pat(f, 9000, 64 * KIB - 9000, 1);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- holes and EOF -------------------------------------------------------- */

/*
 * Overwrites find their blocks in the lookup cache that reads and writes
 * fill: after a punch, a zero range and a collapse, an overwrite must land
 * in the blocks the file has now, never in those it had (which another
 * file may have taken meanwhile).
 */
Test(data, an_overwrite_after_the_extent_map_changed_lands_in_the_files_own_blocks)
{
	struct test_pool tp;
	daxfile_file *f, *g;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 64 * KIB, 1);
	check_pat(f, 0, 64 * KIB, 1);
	pwrite_pat(f, 0, 64 * KIB, 2);

	/* a hole where blocks were: the freed blocks go to another file */
	TEST_OK(daxfile_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		16 * KIB, 16 * KIB));
	g = xopen(tp.pool, "/g", O_RDWR | O_CREAT);
	pwrite_pat(g, 0, 256 * KIB, 7);
	check_pat(f, 0, 16 * KIB, 2);
	check_byte(f, 16 * KIB, 16 * KIB, 0);
	pwrite_pat(f, 20 * KIB, 4 * KIB, 3);
	check_byte(f, 16 * KIB, 4 * KIB, 0);
	check_pat(f, 20 * KIB, 4 * KIB, 3);
	check_byte(f, 24 * KIB, 8 * KIB, 0);

	/*
	 * unwritten blocks, which a read just put in the lookup cache: the
	 * overwrite converts them, zeroing around what it writes
	 */
	TEST_OK(daxfile_fallocate(f, FALLOC_FL_ZERO_RANGE, 32 * KIB, 16 * KIB));
	check_byte(f, 32 * KIB, 16 * KIB, 0);
	pwrite_pat(f, 36 * KIB, 4 * KIB, 4);
	check_byte(f, 32 * KIB, 4 * KIB, 0);
	check_pat(f, 36 * KIB, 4 * KIB, 4);
	check_byte(f, 40 * KIB, 8 * KIB, 0);

	/* a collapse moves the blocks after it to lower file offsets */
	TEST_OK(daxfile_fallocate(f, FALLOC_FL_COLLAPSE_RANGE, 48 * KIB,
		4 * KIB));
	cr_assert_eq(xfstat(f).st_size, (off_t)(60 * KIB));
	check_byte(f, 40 * KIB, 8 * KIB, 0);
	pwrite_pat(f, 48 * KIB, 4 * KIB, 5);
	check_pat(f, 48 * KIB, 4 * KIB, 5);
	{
		unsigned char b[4096];

		/* the block that followed the collapsed one is now at 52 KiB */
		fill(b, sizeof(b), 56 * KIB, 2);
		cr_assert_eq(daxfile_pread(f, b, sizeof(b), 52 * KIB), 4096);
		for (size_t i = 0; i < sizeof(b); i++)
			cr_assert_eq(b[i], pat(56 * KIB + i, 2),
				"byte %zu after the collapse", 52 * KIB + i);
	}
	check_pat(f, 0, 16 * KIB, 2);
	check_pat(g, 0, 256 * KIB, 7);
	TEST_OK(daxfile_close(g));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(data, a_write_far_past_the_end_of_an_empty_file_leaves_a_hole_reading_zero)
{
	struct test_pool tp;
	daxfile_file *f;
	struct stat st;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/sparse", O_RDWR | O_CREAT);
	pwrite_pat(f, 10 * MIB, 4096, 7);
	st = xfstat(f);
	cr_assert_eq(st.st_size, (off_t)(10 * MIB + 4096));
	/* no more than a little preallocation, nowhere near 10 MiB */
	cr_assert_geq(st.st_blocks, 8);
	cr_assert_lt(st.st_blocks, (blkcnt_t)(1 * MIB / 512),
		"st_blocks %ld for one written block", (long)st.st_blocks);
	check_byte(f, 0, 10 * MIB, 0);
	check_pat(f, 10 * MIB, 4096, 7);
	TEST_OK(daxfile_close(f));

	/* once the writer is gone, exactly the one block remains */
	TEST_OK(daxfile_stat(tp.pool, "/sparse", &st));
	cr_assert_eq(st.st_blocks, 8, "st_blocks %ld", (long)st.st_blocks);
	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/sparse", O_RDONLY);
	check_byte(f, 0, 10 * MIB, 0);
	check_pat(f, 10 * MIB, 4096, 7);
	cr_assert_eq(xfstat(f).st_blocks, 8);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(data, a_write_past_eof_of_a_non_empty_file_zeroes_the_gap)
{
	struct test_pool tp;
	daxfile_file *f;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/gap", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 5000, 3);
	pwrite_pat(f, 100000, 3000, 3);
	cr_assert_eq(xfstat(f).st_size, 103000);
	check_pat(f, 0, 5000, 3);
	check_byte(f, 5000, 100000 - 5000, 0);
	check_pat(f, 100000, 3000, 3);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(data, a_write_inside_the_hole_at_the_end_of_a_file_leaves_the_rest_reading_zero)
{
	struct test_pool tp;
	daxfile_file *f;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	/* free blocks hold old bytes, as in any pool in use */
	dirty_free_blocks(tp.pool);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, BLK, 1);
	TEST_OK(daxfile_close(f));
	f = xopen(tp.pool, "/f", O_RDWR);
	/* the file ends in a hole; a small write lands inside it */
	TEST_OK(daxfile_ftruncate(f, (off_t)MIB));
	pwrite_pat(f, 100000, 10, 2);
	cr_assert_eq(xfstat(f).st_size, (off_t)MIB);
	check_pat(f, 0, BLK, 1);
	check_byte(f, BLK, 100000 - BLK, 0);
	check_pat(f, 100000, 10, 2);
	check_byte(f, 100010, MIB - 100010, 0);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(data, reads_are_short_only_at_eof_and_return_zero_at_or_past_it)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *buf = xmalloc(200000);
	const uint64_t size = 20 * BLK + 1808;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	/* data, a hole, preallocated blocks and data again */
	pwrite_pat(f, 0, 2 * BLK, 4);
	pwrite_pat(f, 10 * BLK, size - 10 * BLK, 4);
	TEST_OK(daxfile_fallocate(f, 0, 5 * BLK, 3 * BLK));
	cr_assert_eq(xfstat(f).st_size, (off_t)size);

	/* one read over every kind of range is whole */
	cr_assert_eq(daxfile_pread(f, buf, size, 0), (ssize_t)size);
	for (uint64_t i = 0; i < size; i++) {
		unsigned char want = (i < 2 * BLK || i >= 10 * BLK) ? pat(i, 4) : 0;

		if (buf[i] != want)
			cr_assert_fail("byte %lu is %#x, expected %#x",
				(unsigned long)i, buf[i], want);
	}
	cr_assert_eq(daxfile_pread(f, buf, 4096, 0), 4096);
	cr_assert_eq(daxfile_pread(f, buf, 4096, 3 * BLK), 4096);
	cr_assert_eq(daxfile_pread(f, buf, 4096, 20 * BLK), 1808);
	cr_assert_eq(daxfile_pread(f, buf, 200000, 5000), (ssize_t)(size - 5000));
	cr_assert_eq(daxfile_pread(f, buf, 1, (off_t)size - 1), 1);
	cr_assert_eq(daxfile_pread(f, buf, 1, (off_t)size), 0);
	cr_assert_eq(daxfile_pread(f, buf, 4096, (off_t)size + 1), 0);
	cr_assert_eq(daxfile_pread(f, buf, 4096, 100 * (off_t)MIB), 0);

	/* read() at the file offset: whole blocks, the tail, then 0 */
	cr_assert_eq(daxfile_lseek(f, 12 * BLK, SEEK_SET), (off_t)(12 * BLK));
	for (int i = 12; i < 20; i++)
		cr_assert_eq(daxfile_read(f, buf, 4096), 4096, "read %d", i);
	cr_assert_eq(daxfile_read(f, buf, 4096), 1808);
	cr_assert_eq(daxfile_read(f, buf, 4096), 0);
	cr_assert_eq(daxfile_read(f, buf, 4096), 0);
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_CUR), (off_t)size);
	cr_assert_eq(daxfile_lseek(f, 50000, SEEK_END), (off_t)size + 50000);
	cr_assert_eq(daxfile_read(f, buf, 4096), 0);
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_CUR), (off_t)size + 50000,
		"a read at EOF moved the offset");
	TEST_OK(daxfile_close(f));
	free(buf);
	test_pool_destroy(&tp);
}

Test(data, a_zero_length_read_or_write_returns_zero_and_changes_nothing)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char c = 0;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	cr_assert_eq(daxfile_pwrite(f, &c, 0, 1 * (off_t)MIB), 0);
	cr_assert_eq(daxfile_write(f, &c, 0), 0);
	cr_assert_eq(xfstat(f).st_size, 0);
	cr_assert_eq(xfstat(f).st_blocks, 0);
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_CUR), 0);
	pwrite_pat(f, 0, 100, 1);
	cr_assert_eq(daxfile_pread(f, &c, 0, 10), 0);
	cr_assert_eq(daxfile_read(f, &c, 0), 0);
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_CUR), 0);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- O_APPEND ------------------------------------------------------------- */

#define APPEND_RECORDS 2000
#define APPEND_RECLEN 4096

struct appender {
	daxfile_file *f;
	uint32_t tid;
	int failures;
	int err;
};

static void
record_fill(unsigned char *rec, uint32_t tid, uint32_t seq)
{
	memcpy(rec, &tid, 4);
	memcpy(rec + 4, &seq, 4);
	for (size_t i = 8; i < APPEND_RECLEN; i++)
		rec[i] = (unsigned char)(tid * 151 + seq * 7 + i * 13 + (i >> 8));
}

static void *
appender_run(void *arg)
{
	struct appender *a = arg;
	unsigned char rec[APPEND_RECLEN];

	for (uint32_t seq = 0; seq < APPEND_RECORDS; seq++) {
		record_fill(rec, a->tid, seq);
		if (daxfile_write(a->f, rec, sizeof(rec)) != (ssize_t)sizeof(rec)) {
			a->failures++;
			a->err = errno;
		}
	}
	return NULL;
}

Test(data, o_append_from_two_threads_keeps_every_record_whole_and_the_size_exact)
{
	struct test_pool tp;
	struct appender a[2];
	pthread_t th[2];
	daxfile_file *f;
	uint32_t next[2] = {0, 0};
	const uint64_t total = 2ULL * APPEND_RECORDS * APPEND_RECLEN;
	unsigned char *buf, want[APPEND_RECLEN];

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/log", O_WRONLY | O_CREAT | O_EXCL);
	TEST_OK(daxfile_close(f));
	for (uint32_t t = 0; t < 2; t++) {
		a[t] = (struct appender){xopen(tp.pool, "/log",
			O_WRONLY | O_APPEND), t, 0, 0};
		cr_assert_eq(pthread_create(&th[t], NULL, appender_run, &a[t]), 0);
	}
	for (int t = 0; t < 2; t++) {
		cr_assert_eq(pthread_join(th[t], NULL), 0);
		cr_assert_eq(a[t].failures, 0, "thread %d: %d failed writes (%s)",
			t, a[t].failures, strerror(a[t].err));
		TEST_OK(daxfile_close(a[t].f));
	}

	f = xopen(tp.pool, "/log", O_RDONLY);
	cr_assert_eq(xfstat(f).st_size, (off_t)total);
	buf = xmalloc(total);
	cr_assert_eq(daxfile_pread(f, buf, total, 0), (ssize_t)total);
	for (uint64_t r = 0; r < total / APPEND_RECLEN; r++) {
		const unsigned char *rec = buf + r * APPEND_RECLEN;
		uint32_t tid, seq;

		memcpy(&tid, rec, 4);
		memcpy(&seq, rec + 4, 4);
		cr_assert(tid < 2, "record %lu: bad thread id %u",
			(unsigned long)r, tid);
		cr_assert_eq(seq, next[tid], "record %lu: thread %u seq %u, "
			"expected %u", (unsigned long)r, tid, seq, next[tid]);
		record_fill(want, tid, seq);
		cr_assert(memcmp(rec, want, APPEND_RECLEN) == 0,
			"record %lu (thread %u seq %u) is torn", (unsigned long)r,
			tid, seq);
		next[tid]++;
	}
	cr_assert_eq(next[0], APPEND_RECORDS);
	cr_assert_eq(next[1], APPEND_RECORDS);
	free(buf);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(data, o_append_writes_at_eof_whatever_the_file_offset)
{
	struct test_pool tp;
	daxfile_file *f, *g;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	g = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(g, 0, 1000, 5);
	f = xopen(tp.pool, "/f", O_RDWR | O_APPEND);
	cr_assert_eq(daxfile_lseek(f, 10, SEEK_SET), 10);
	{
		unsigned char b[500];

		fill(b, sizeof(b), 1000, 5);
		cr_assert_eq(daxfile_write(f, b, sizeof(b)), 500);
	}
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_CUR), 1500);
	/* another handle grows the file: the next append follows it */
	pwrite_pat(g, 1500, 2500, 5);
	{
		unsigned char b[96];

		fill(b, sizeof(b), 4000, 5);
		cr_assert_eq(daxfile_write(f, b, sizeof(b)), 96);
	}
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_CUR), 4096);
	cr_assert_eq(xfstat(f).st_size, 4096);
	check_pat(f, 0, 4096, 5);
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_close(g));
	test_pool_destroy(&tp);
}

/* --- the file offset and lseek -------------------------------------------- */

Test(data, read_and_write_advance_the_file_offset)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char w[300], r[300];

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	fill(w, sizeof(w), 0, 9);
	cr_assert_eq(daxfile_write(f, w, 100), 100);
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_CUR), 100);
	cr_assert_eq(daxfile_write(f, w + 100, 200), 200);
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_CUR), 300);
	/* pread and pwrite leave it alone */
	cr_assert_eq(daxfile_pwrite(f, w, 10, 0), 10);
	cr_assert_eq(daxfile_pread(f, r, 10, 0), 10);
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_CUR), 300);

	cr_assert_eq(daxfile_lseek(f, 10, SEEK_SET), 10);
	cr_assert_eq(daxfile_read(f, r, 20), 20);
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_CUR), 30);
	cr_assert(memcmp(r, w + 10, 20) == 0);
	cr_assert_eq(daxfile_read(f, r, 300), 270);
	cr_assert(memcmp(r, w + 30, 270) == 0);
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_CUR), 300);

	/* each handle has its own offset */
	{
		daxfile_file *g = xopen(tp.pool, "/f", O_RDONLY);

		cr_assert_eq(daxfile_lseek(g, 0, SEEK_CUR), 0);
		cr_assert_eq(daxfile_read(g, r, 50), 50);
		cr_assert(memcmp(r, w, 50) == 0);
		cr_assert_eq(daxfile_lseek(f, 0, SEEK_CUR), 300);
		TEST_OK(daxfile_close(g));
	}
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(data, lseek_set_cur_and_end_compute_offsets_and_a_negative_result_is_einval)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char b[10];

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 1000, 2);
	cr_assert_eq(daxfile_lseek(f, 123, SEEK_SET), 123);
	cr_assert_eq(daxfile_lseek(f, 7, SEEK_CUR), 130);
	cr_assert_eq(daxfile_lseek(f, -30, SEEK_CUR), 100);
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_END), 1000);
	cr_assert_eq(daxfile_lseek(f, -1, SEEK_END), 999);
	cr_assert_eq(daxfile_read(f, b, sizeof(b)), 1);
	cr_assert_eq(b[0], pat(999, 2));
	cr_assert_eq(daxfile_lseek(f, 24, SEEK_END), 1024);

	TEST_FAILS(daxfile_lseek(f, -1, SEEK_SET), (off_t)-1, EINVAL);
	assert_errormsg();
	TEST_FAILS(daxfile_lseek(f, -1025, SEEK_CUR), (off_t)-1, EINVAL);
	TEST_FAILS(daxfile_lseek(f, -1001, SEEK_END), (off_t)-1, EINVAL);
	TEST_FAILS(daxfile_lseek(f, 0, 12345), (off_t)-1, EINVAL);
	/* a failed seek leaves the offset where it was */
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_CUR), 1024);
	cr_assert_eq(daxfile_lseek(f, -1000, SEEK_END), 0);

	/* seeking past EOF is allowed; a write there leaves a hole */
	cr_assert_eq(daxfile_lseek(f, 5000, SEEK_SET), 5000);
	cr_assert_eq(xfstat(f).st_size, 1000, "a seek changed the size");
	memset(b, 0x5A, sizeof(b));
	cr_assert_eq(daxfile_write(f, b, sizeof(b)), 10);
	cr_assert_eq(xfstat(f).st_size, 5010);
	check_pat(f, 0, 1000, 2);
	check_byte(f, 1000, 4000, 0);
	check_byte(f, 5000, 10, 0x5A);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/*
 * seek_expect -- lseek(whence) from 'off' gives 'want' (>= 0) or fails
 * with ENXIO (want == -1).
 */
static void
seek_expect(daxfile_file *f, off_t off, int whence, off_t want)
{
	off_t r;

	errno = 0;
	r = daxfile_lseek(f, off, whence);
	if (want >= 0) {
		cr_assert_eq(r, want, "lseek(%ld, %s) = %ld (%s), expected %ld",
			(long)off, whence == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE",
			(long)r, r < 0 ? strerror(errno) : "ok", (long)want);
	} else {
		cr_assert_eq(r, (off_t)-1, "lseek(%ld, %s) = %ld, expected ENXIO",
			(long)off, whence == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE",
			(long)r);
		cr_assert_eq(errno, ENXIO, "lseek(%ld, %s): errno %d",
			(long)off, whence == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE",
			errno);
	}
}

Test(data, seek_data_and_seek_hole_see_data_holes_unwritten_ranges_and_eof)
{
	struct test_pool tp;
	daxfile_file *f;
	const off_t b = (off_t)BLK;
	const off_t size = 8 * b + 100;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	/*
	 * Layout by block: 0-1 data, 2-3 hole, 4-5 preallocated, 6-8 data
	 * (block 8 partial).  The last range is written first so that no
	 * allocation for the file's end lands in the middle.
	 */
	pwrite_pat(f, 6 * BLK, 2 * BLK + 100, 1);
	pwrite_pat(f, 0, 2 * BLK, 1);
	TEST_OK(daxfile_fallocate(f, 0, 4 * b, 2 * b));
	cr_assert_eq(xfstat(f).st_size, size);

	seek_expect(f, 0, SEEK_DATA, 0);
	seek_expect(f, 5000, SEEK_DATA, 5000);
	seek_expect(f, 0, SEEK_HOLE, 2 * b);
	seek_expect(f, 2 * b - 1, SEEK_HOLE, 2 * b);
	seek_expect(f, 2 * b, SEEK_HOLE, 2 * b);
	seek_expect(f, 2 * b, SEEK_DATA, 6 * b);
	seek_expect(f, 3 * b + 17, SEEK_DATA, 6 * b);
	/* preallocated blocks are a hole */
	seek_expect(f, 4 * b, SEEK_HOLE, 4 * b);
	seek_expect(f, 5 * b + 1, SEEK_HOLE, 5 * b + 1);
	seek_expect(f, 4 * b, SEEK_DATA, 6 * b);
	/* the implicit hole at EOF */
	seek_expect(f, 6 * b, SEEK_HOLE, size);
	seek_expect(f, size - 1, SEEK_HOLE, size);
	seek_expect(f, size - 1, SEEK_DATA, size - 1);
	/* at or after EOF: ENXIO */
	seek_expect(f, size, SEEK_DATA, -1);
	seek_expect(f, size, SEEK_HOLE, -1);
	seek_expect(f, size + 1, SEEK_DATA, -1);
	seek_expect(f, 100 * b, SEEK_HOLE, -1);
	assert_errormsg();
	/* a successful SEEK_DATA/SEEK_HOLE sets the offset */
	seek_expect(f, 2 * b, SEEK_DATA, 6 * b);
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_CUR), 6 * b);

	/* writing the preallocated blocks turns them into data */
	pwrite_pat(f, 4 * BLK, BLK, 2);
	seek_expect(f, 3 * b, SEEK_DATA, 4 * b);
	seek_expect(f, 4 * b, SEEK_HOLE, 5 * b);

	TEST_OK(daxfile_close(f));

	/* the same answers after a reopen */
	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/f", O_RDWR);
	seek_expect(f, 0, SEEK_HOLE, 2 * b);
	seek_expect(f, 2 * b, SEEK_DATA, 4 * b);
	seek_expect(f, 5 * b, SEEK_HOLE, 5 * b);
	seek_expect(f, 5 * b, SEEK_DATA, 6 * b);
	seek_expect(f, 6 * b, SEEK_HOLE, size);
	seek_expect(f, size, SEEK_DATA, -1);

	/* a file ending in a hole: no data after the last written block */
	TEST_OK(daxfile_ftruncate(f, 20 * b));
	seek_expect(f, 10 * b, SEEK_DATA, -1);
	seek_expect(f, 10 * b, SEEK_HOLE, 10 * b);
	seek_expect(f, 6 * b, SEEK_HOLE, 9 * b);
	seek_expect(f, 20 * b - 1, SEEK_HOLE, 20 * b - 1);
	seek_expect(f, 20 * b, SEEK_HOLE, -1);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(data, seek_hole_finds_the_gap_that_a_write_past_eof_leaves)
{
	struct test_pool tp;
	daxfile_file *f;
	const off_t b = (off_t)BLK;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	/* in the natural order: the start first, then a block further on */
	pwrite_pat(f, 0, 2 * BLK, 1);
	pwrite_pat(f, 6 * BLK, BLK, 1);
	cr_assert_eq(xfstat(f).st_size, 7 * b);
	check_byte(f, 2 * BLK, 4 * BLK, 0);
	seek_expect(f, 0, SEEK_HOLE, 2 * b);
	seek_expect(f, 2 * b, SEEK_DATA, 6 * b);
	seek_expect(f, 6 * b, SEEK_HOLE, 7 * b);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(data, seek_data_and_seek_hole_on_an_empty_file_give_enxio)
{
	struct test_pool tp;
	daxfile_file *f;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	seek_expect(f, 0, SEEK_DATA, -1);
	seek_expect(f, 0, SEEK_HOLE, -1);
	/* only preallocated blocks: all hole */
	TEST_OK(daxfile_fallocate(f, 0, 0, 3 * (off_t)BLK));
	seek_expect(f, 0, SEEK_DATA, -1);
	seek_expect(f, 0, SEEK_HOLE, 0);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- ftruncate ------------------------------------------------------------ */

Test(data, ftruncate_down_then_up_reads_zero_in_the_re_extended_range)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char buf[8192];

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	memset(buf, 0xAA, sizeof(buf));
	cr_assert_eq(daxfile_pwrite(f, buf, sizeof(buf), 0), 8192);
	TEST_OK(daxfile_ftruncate(f, 5000));
	cr_assert_eq(xfstat(f).st_size, 5000);
	TEST_OK(daxfile_ftruncate(f, 8192));
	cr_assert_eq(xfstat(f).st_size, 8192);
	check_byte(f, 0, 5000, 0xAA);
	/* the tail of the block that held EOF too */
	check_byte(f, 5000, 8192 - 5000, 0);

	/* several blocks: down to one partial block, then far up */
	pwrite_pat(f, 0, 10 * BLK, 3);
	TEST_OK(daxfile_ftruncate(f, 1234));
	TEST_OK(daxfile_ftruncate(f, (off_t)MIB));
	check_pat(f, 0, 1234, 3);
	check_byte(f, 1234, MIB - 1234, 0);
	TEST_OK(daxfile_close(f));

	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/f", O_RDONLY);
	cr_assert_eq(xfstat(f).st_size, (off_t)MIB);
	check_pat(f, 0, 1234, 3);
	check_byte(f, 1234, MIB - 1234, 0);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(data, ftruncate_down_frees_blocks_and_a_read_past_the_new_end_returns_zero)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char b[16];

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, MIB, 8);
	TEST_OK(daxfile_close(f));
	f = xopen(tp.pool, "/f", O_RDWR);
	cr_assert_eq(xfstat(f).st_blocks, 2048);
	TEST_OK(daxfile_ftruncate(f, 3 * (off_t)BLK + 1));
	cr_assert_eq(xfstat(f).st_size, 3 * (off_t)BLK + 1);
	cr_assert_eq(xfstat(f).st_blocks, 4 * 8);
	cr_assert_eq(daxfile_pread(f, b, sizeof(b), 3 * (off_t)BLK + 1), 0);
	cr_assert_eq(daxfile_pread(f, b, sizeof(b), 3 * (off_t)BLK), 1);
	cr_assert_eq(b[0], pat(3 * BLK, 8));
	TEST_OK(daxfile_ftruncate(f, 0));
	cr_assert_eq(xfstat(f).st_blocks, 0);
	cr_assert_eq(daxfile_pread(f, b, sizeof(b), 0), 0);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(data, ftruncate_up_creates_a_hole)
{
	struct test_pool tp;
	daxfile_file *f;
	struct stat before, after;
	const off_t b = (off_t)BLK;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 2 * BLK, 4);
	before = xfstat(f);
	TEST_OK(daxfile_ftruncate(f, 4 * (off_t)MIB));
	after = xfstat(f);
	cr_assert_eq(after.st_size, 4 * (off_t)MIB);
	cr_assert_eq(after.st_blocks, before.st_blocks,
		"st_blocks %ld before, %ld after", (long)before.st_blocks,
		(long)after.st_blocks);
	check_pat(f, 0, 2 * BLK, 4);
	check_byte(f, 2 * BLK, 4 * MIB - 2 * BLK, 0);
	seek_expect(f, 0, SEEK_HOLE, 2 * b);
	seek_expect(f, 2 * b, SEEK_DATA, -1);
	TEST_OK(daxfile_close(f));
	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/f", O_RDONLY);
	cr_assert_eq(xfstat(f).st_size, 4 * (off_t)MIB);
	check_pat(f, 0, 2 * BLK, 4);
	check_byte(f, 2 * BLK, 4 * MIB - 2 * BLK, 0);
	seek_expect(f, 0, SEEK_HOLE, 2 * b);
	seek_expect(f, 2 * b, SEEK_DATA, -1);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(data, ftruncate_to_the_same_size_changes_no_data)
{
	struct test_pool tp;
	daxfile_file *f;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 10000, 6);
	TEST_OK(daxfile_ftruncate(f, 10000));
	cr_assert_eq(xfstat(f).st_size, 10000);
	check_pat(f, 0, 10000, 6);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- errors --------------------------------------------------------------- */

Test(data, the_wrong_access_mode_gives_ebadf)
{
	struct test_pool tp;
	daxfile_file *ro, *wo;
	unsigned char b[64] = {0};
	struct iovec v = {b, sizeof(b)};

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	wo = xopen(tp.pool, "/f", O_WRONLY | O_CREAT);
	cr_assert_eq(daxfile_write(wo, b, sizeof(b)), (ssize_t)sizeof(b));
	ro = xopen(tp.pool, "/f", O_RDONLY);

	TEST_FAILS(daxfile_read(wo, b, sizeof(b)), (ssize_t)-1, EBADF);
	assert_errormsg();
	TEST_FAILS(daxfile_pread(wo, b, sizeof(b), 0), (ssize_t)-1, EBADF);
	TEST_FAILS(daxfile_preadv(wo, &v, 1, 0), (ssize_t)-1, EBADF);
	TEST_FAILS(daxfile_write(ro, b, sizeof(b)), (ssize_t)-1, EBADF);
	assert_errormsg();
	TEST_FAILS(daxfile_pwrite(ro, b, sizeof(b), 0), (ssize_t)-1, EBADF);
	TEST_FAILS(daxfile_pwritev(ro, &v, 1, 0), (ssize_t)-1, EBADF);
	/* the failed calls changed nothing */
	cr_assert_eq(daxfile_lseek(wo, 0, SEEK_CUR), 64);
	cr_assert_eq(daxfile_lseek(ro, 0, SEEK_CUR), 0);
	cr_assert_eq(xfstat(ro).st_size, 64);
	/* what each mode allows still works */
	cr_assert_eq(daxfile_read(ro, b, sizeof(b)), (ssize_t)sizeof(b));
	TEST_OK(daxfile_close(ro));
	TEST_OK(daxfile_close(wo));
	test_pool_destroy(&tp);
}

Test(data, every_call_on_a_closed_or_null_handle_gives_ebadf)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char b[64] = {0};
	struct iovec v = {b, sizeof(b)};
	struct stat st;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 100, 1);
	TEST_OK(daxfile_close(f));

	TEST_FAILS(daxfile_read(f, b, sizeof(b)), (ssize_t)-1, EBADF);
	assert_errormsg();
	TEST_FAILS(daxfile_write(f, b, sizeof(b)), (ssize_t)-1, EBADF);
	TEST_FAILS(daxfile_pread(f, b, sizeof(b), 0), (ssize_t)-1, EBADF);
	TEST_FAILS(daxfile_pwrite(f, b, sizeof(b), 0), (ssize_t)-1, EBADF);
	TEST_FAILS(daxfile_preadv(f, &v, 1, 0), (ssize_t)-1, EBADF);
	TEST_FAILS(daxfile_pwritev(f, &v, 1, 0), (ssize_t)-1, EBADF);
	TEST_FAILS(daxfile_lseek(f, 0, SEEK_SET), (off_t)-1, EBADF);
	TEST_FAILS(daxfile_lseek(f, 0, SEEK_DATA), (off_t)-1, EBADF);
	TEST_FAILS(daxfile_fsync(f), -1, EBADF);
	TEST_FAILS(daxfile_fdatasync(f), -1, EBADF);
	TEST_FAILS(daxfile_ftruncate(f, 0), -1, EBADF);
	TEST_FAILS(daxfile_fallocate(f, 0, 0, 4096), -1, EBADF);
	TEST_FAILS(daxfile_fstat(f, &st), -1, EBADF);
	TEST_FAILS(daxfile_close(f), -1, EBADF);

	TEST_FAILS(daxfile_read(NULL, b, sizeof(b)), (ssize_t)-1, EBADF);
	TEST_FAILS(daxfile_write(NULL, b, sizeof(b)), (ssize_t)-1, EBADF);
	TEST_FAILS(daxfile_pread(NULL, b, sizeof(b), 0), (ssize_t)-1, EBADF);
	TEST_FAILS(daxfile_pwrite(NULL, b, sizeof(b), 0), (ssize_t)-1, EBADF);
	TEST_FAILS(daxfile_preadv(NULL, &v, 1, 0), (ssize_t)-1, EBADF);
	TEST_FAILS(daxfile_pwritev(NULL, &v, 1, 0), (ssize_t)-1, EBADF);
	TEST_FAILS(daxfile_lseek(NULL, 0, SEEK_SET), (off_t)-1, EBADF);
	TEST_FAILS(daxfile_fsync(NULL), -1, EBADF);
	TEST_FAILS(daxfile_fdatasync(NULL), -1, EBADF);
	TEST_FAILS(daxfile_ftruncate(NULL, 0), -1, EBADF);
	TEST_FAILS(daxfile_fallocate(NULL, 0, 0, 4096), -1, EBADF);
	TEST_FAILS(daxfile_fstat(NULL, &st), -1, EBADF);
	TEST_FAILS(daxfile_close(NULL), -1, EBADF);

	/* the file itself is untouched */
	TEST_OK(daxfile_stat(tp.pool, "/f", &st));
	cr_assert_eq(st.st_size, 100);
	test_pool_destroy(&tp);
}

Test(data, ftruncate_read_only_and_negative_lengths_or_offsets_give_einval)
{
	struct test_pool tp;
	daxfile_file *f, *ro;
	unsigned char b[64] = {0};
	struct iovec v = {b, sizeof(b)};

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 1000, 1);
	ro = xopen(tp.pool, "/f", O_RDONLY);

	TEST_FAILS(daxfile_ftruncate(ro, 0), -1, EINVAL);
	assert_errormsg();
	TEST_FAILS(daxfile_ftruncate(ro, 5000), -1, EINVAL);
	TEST_FAILS(daxfile_ftruncate(f, -1), -1, EINVAL);
	TEST_FAILS(daxfile_ftruncate(f, INT64_MIN), -1, EINVAL);
	TEST_FAILS(daxfile_pread(f, b, sizeof(b), -1), (ssize_t)-1, EINVAL);
	TEST_FAILS(daxfile_pwrite(f, b, sizeof(b), -1), (ssize_t)-1, EINVAL);
	TEST_FAILS(daxfile_preadv(f, &v, 1, -4096), (ssize_t)-1, EINVAL);
	TEST_FAILS(daxfile_pwritev(f, &v, 1, -4096), (ssize_t)-1, EINVAL);
	TEST_FAILS(daxfile_pread(ro, b, sizeof(b), INT64_MIN), (ssize_t)-1, EINVAL);

	/* nothing changed */
	cr_assert_eq(xfstat(f).st_size, 1000);
	check_pat(f, 0, 1000, 1);
	TEST_OK(daxfile_close(ro));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(data, writes_and_truncates_beyond_the_maximum_file_size_give_efbig)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char b[16] = {1, 2, 3};
	struct iovec v = {b, sizeof(b)};

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 100, 1);

	TEST_FAILS(daxfile_pwrite(f, b, sizeof(b), (off_t)MAX_FILE_SIZE),
		(ssize_t)-1, EFBIG);
	assert_errormsg();
	TEST_FAILS(daxfile_pwrite(f, b, 1, (off_t)MAX_FILE_SIZE + 4096),
		(ssize_t)-1, EFBIG);
	TEST_FAILS(daxfile_pwritev(f, &v, 1, (off_t)MAX_FILE_SIZE),
		(ssize_t)-1, EFBIG);
	TEST_FAILS(daxfile_ftruncate(f, (off_t)MAX_FILE_SIZE + 1), -1, EFBIG);
	assert_errormsg();
	TEST_FAILS(daxfile_ftruncate(f, INT64_MAX), -1, EFBIG);
	cr_assert_eq(daxfile_lseek(f, (off_t)MAX_FILE_SIZE, SEEK_SET),
		(off_t)MAX_FILE_SIZE);
	TEST_FAILS(daxfile_write(f, b, sizeof(b)), (ssize_t)-1, EFBIG);
	cr_assert_eq(xfstat(f).st_size, 100);

	/* a write ending beyond the limit is cut short at it */
	cr_assert_eq(daxfile_pwrite(f, b, 2, (off_t)MAX_FILE_SIZE - 1), 1);
	cr_assert_eq(xfstat(f).st_size, (off_t)MAX_FILE_SIZE);
	{
		unsigned char r[4] = {0xFF, 0xFF, 0xFF, 0xFF};

		cr_assert_eq(daxfile_pread(f, r, sizeof(r),
			(off_t)MAX_FILE_SIZE - 2), 2);
		cr_assert_eq(r[0], 0);
		cr_assert_eq(r[1], 1);
	}
	/* exactly the limit is fine for ftruncate */
	TEST_OK(daxfile_ftruncate(f, 0));
	TEST_OK(daxfile_ftruncate(f, (off_t)MAX_FILE_SIZE));
	cr_assert_eq(xfstat(f).st_size, (off_t)MAX_FILE_SIZE);
	cr_assert_eq(xfstat(f).st_blocks, 0);
	TEST_OK(daxfile_ftruncate(f, 0));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- a full pool ---------------------------------------------------------- */

Test(data, a_full_pool_gives_enospc_keeps_the_data_and_recovers_after_unlink)
{
	struct test_pool tp;
	daxfile_file *f;
	const size_t chunk = 64 * KIB;
	unsigned char *buf = xmalloc(chunk);
	uint64_t written = 0;
	bool full = false;
	struct statvfs sv;

	test_pool_create(&tp, "enospc", DAXFILE_MIN_POOL_SIZE);
	f = xopen(tp.pool, "/big", O_RDWR | O_CREAT);
	for (int i = 0; i < 100000 && !full; i++) {
		ssize_t w;

		fill(buf, chunk, written, 11);
		errno = 0;
		w = daxfile_write(f, buf, chunk);
		if (w < 0) {
			cr_assert_eq(errno, ENOSPC, "write failed with %s (%s)",
				strerror(errno), daxfile_errormsg());
			assert_errormsg();
			full = true;
		} else {
			cr_assert_gt(w, 0, "write returned 0");
			written += (uint64_t)w;
			full = (size_t)w < chunk;
		}
	}
	cr_assert(full, "a 16 MiB pool took %lu bytes", (unsigned long)written);
	/* the data blocks were (nearly) all used, no more */
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_leq(written, (uint64_t)sv.f_blocks * sv.f_bsize);
	cr_assert_geq(written, (uint64_t)sv.f_blocks * sv.f_bsize / 2,
		"only %lu bytes fit in %lu data blocks", (unsigned long)written,
		(unsigned long)sv.f_blocks);
	/* once full, writing more fails with ENOSPC */
	fill(buf, chunk, written, 11);
	TEST_FAILS(daxfile_write(f, buf, chunk), (ssize_t)-1, ENOSPC);
	cr_assert_eq(xfstat(f).st_size, (off_t)written);
	check_pat(f, 0, written, 11);
	TEST_OK(daxfile_close(f));

	/* the pool is consistent, and the data is there after a reopen */
	cr_assert_eq(daxfile_pool_close(tp.pool), 0, "%s", daxfile_errormsg());
	tp.pool = NULL;
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0,
		"the pool check found problems after ENOSPC");
	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool, "reopen: %s", daxfile_errormsg());
	f = xopen(tp.pool, "/big", O_RDONLY);
	cr_assert_eq(xfstat(f).st_size, (off_t)written);
	check_pat(f, 0, written, 11);
	TEST_OK(daxfile_close(f));

	/* after unlink there is room again */
	TEST_OK(daxfile_unlink(tp.pool, "/big"));
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_eq(sv.f_bfree, sv.f_blocks, "%lu of %lu blocks free after "
		"unlink", (unsigned long)sv.f_bfree, (unsigned long)sv.f_blocks);
	f = xopen(tp.pool, "/again", O_RDWR | O_CREAT);
	for (uint64_t off = 0; off < written / 2; off += chunk)
		pwrite_pat(f, off, chunk, 12);
	check_pat(f, 0, written / 2, 12);
	TEST_OK(daxfile_close(f));
	free(buf);
	test_pool_destroy(&tp);
}

/* --- vectored I/O --------------------------------------------------------- */

Test(data, preadv_and_pwritev_with_several_odd_iovecs_round_trip)
{
	struct test_pool tp;
	daxfile_file *f;
	static const size_t wl[] = {1, 7, 4095, 0, 4097, 333, 10000};
	static const size_t rl[] = {3, 5000, 1, 0, 8000, 4};
	struct iovec wv[7], rv[7];
	unsigned char *wb[7], *rb[7];
	size_t total = 0, rtotal = 0, at;
	const off_t off = 777;
	unsigned char *flat;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/v", O_RDWR | O_CREAT);
	for (int i = 0; i < 7; i++) {
		wb[i] = xmalloc(wl[i]);
		fill(wb[i], wl[i], (uint64_t)off + total, 13);
		wv[i] = (struct iovec){wb[i], wl[i]};
		total += wl[i];
	}
	cr_assert_eq(daxfile_pwritev(f, wv, 7, off), (ssize_t)total);
	cr_assert_eq(xfstat(f).st_size, off + (off_t)total);
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_CUR), 0, "pwritev moved the offset");
	check_byte(f, 0, (size_t)off, 0);
	check_pat(f, (uint64_t)off, total, 13);

	/* read back with another split, one iovec longer than the rest */
	for (int i = 0; i < 6; i++) {
		rb[i] = xmalloc(rl[i]);
		memset(rb[i], 0xCC, rl[i]);
		rv[i] = (struct iovec){rb[i], rl[i]};
		rtotal += rl[i];
	}
	cr_assert_lt(rtotal, total);
	cr_assert_eq(daxfile_preadv(f, rv, 6, off), (ssize_t)rtotal);
	at = (size_t)off;
	for (int i = 0; i < 6; i++) {
		for (size_t k = 0; k < rl[i]; k++)
			if (rb[i][k] != pat(at + k, 13))
				cr_assert_fail("iovec %d byte %zu is %#x", i, k,
					rb[i][k]);
		at += rl[i];
	}
	/* a vectored read past EOF is short at EOF */
	for (int i = 0; i < 6; i++)
		memset(rb[i], 0xCC, rl[i]);
	{
		off_t from = off + (off_t)total - 5003;

		cr_assert_eq(daxfile_preadv(f, rv, 6, from), 5003);
		for (size_t k = 0; k < 3; k++)
			cr_assert_eq(rb[0][k], pat((uint64_t)from + k, 13));
		for (size_t k = 0; k < 5000; k++)
			if (rb[1][k] != pat((uint64_t)from + 3 + k, 13))
				cr_assert_fail("iovec 1 byte %zu", k);
		cr_assert_eq(rb[2][0], 0xCC, "preadv wrote past EOF");
	}

	/* the whole file through one flat buffer agrees */
	flat = xmalloc(total);
	cr_assert_eq(daxfile_pread(f, flat, total, off), (ssize_t)total);
	at = 0;
	for (int i = 0; i < 7; i++) {
		cr_assert(memcmp(flat + at, wb[i], wl[i]) == 0, "iovec %d", i);
		at += wl[i];
	}

	/* iovcnt 0 does nothing; iovcnt -1 is EINVAL */
	cr_assert_eq(daxfile_pwritev(f, wv, 0, 0), 0);
	cr_assert_eq(daxfile_preadv(f, rv, 0, 0), 0);
	cr_assert_eq(daxfile_pwritev(f, wv, 0, 10 * (off_t)MIB), 0);
	cr_assert_eq(xfstat(f).st_size, off + (off_t)total);
	TEST_FAILS(daxfile_pwritev(f, wv, -1, 0), (ssize_t)-1, EINVAL);
	assert_errormsg();
	TEST_FAILS(daxfile_preadv(f, rv, -1, 0), (ssize_t)-1, EINVAL);
	check_pat(f, (uint64_t)off, total, 13);

	free(flat);
	for (int i = 0; i < 7; i++)
		free(wb[i]);
	for (int i = 0; i < 6; i++)
		free(rb[i]);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- sync ----------------------------------------------------------------- */

Test(data, fsync_and_fdatasync_return_zero_and_the_data_stays)
{
	struct test_pool tp;
	daxfile_file *f, *ro;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	TEST_OK(daxfile_fsync(f));
	TEST_OK(daxfile_fdatasync(f));
	pwrite_pat(f, 100, 3 * BLK, 5);
	TEST_OK(daxfile_fsync(f));
	pwrite_pat(f, 10 * BLK, 100, 5);
	TEST_OK(daxfile_fdatasync(f));
	ro = xopen(tp.pool, "/f", O_RDONLY);
	TEST_OK(daxfile_fsync(ro));
	TEST_OK(daxfile_fdatasync(ro));
	TEST_OK(daxfile_close(ro));
	TEST_OK(daxfile_close(f));
	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/f", O_RDONLY);
	cr_assert_eq(xfstat(f).st_size, (off_t)(10 * BLK + 100));
	check_pat(f, 100, 3 * BLK, 5);
	check_byte(f, 100 + 3 * BLK, 7 * BLK - 100, 0);
	check_pat(f, 10 * BLK, 100, 5);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- large files and st_blocks -------------------------------------------- */

Test(data, a_64_mib_file_written_in_1_mib_writes_reads_back_whole)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *buf = xmalloc(MIB), *want = xmalloc(MIB);
	struct stat st;

	test_pool_create(&tp, "big", 160 * MIB);
	f = xopen(tp.pool, "/big", O_WRONLY | O_CREAT);
	for (uint64_t i = 0; i < 64; i++) {
		fill(buf, MIB, i * MIB, 21);
		cr_assert_eq(daxfile_write(f, buf, MIB), (ssize_t)MIB,
			"write %lu: %s (%s)", (unsigned long)i, strerror(errno),
			daxfile_errormsg());
	}
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_CUR), (off_t)(64 * MIB));
	TEST_OK(daxfile_close(f));

	TEST_OK(daxfile_stat(tp.pool, "/big", &st));
	cr_assert_eq(st.st_size, (off_t)(64 * MIB));
	cr_assert_eq(st.st_blocks, (blkcnt_t)(64 * MIB / 512));
	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/big", O_RDONLY);
	for (uint64_t i = 0; i < 64; i++) {
		fill(want, MIB, i * MIB, 21);
		cr_assert_eq(daxfile_read(f, buf, MIB), (ssize_t)MIB);
		cr_assert(memcmp(buf, want, MIB) == 0, "MiB %lu differs",
			(unsigned long)i);
	}
	cr_assert_eq(daxfile_read(f, buf, MIB), 0);
	TEST_OK(daxfile_close(f));
	free(buf);
	free(want);
	test_pool_destroy(&tp);
}

Test(data, st_blocks_after_writing_1_mib_and_closing_is_2048)
{
	struct test_pool tp;
	daxfile_file *f;
	struct stat st;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_WRONLY | O_CREAT);
	for (uint64_t off = 0; off < MIB; off += 64 * KIB)
		pwrite_pat(f, off, 64 * KIB, 3);
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_stat(tp.pool, "/f", &st));
	cr_assert_eq(st.st_size, (off_t)MIB);
	cr_assert_eq(st.st_blocks, 2048, "st_blocks %ld", (long)st.st_blocks);
	cr_assert_eq(st.st_blksize, 4096);
	test_pool_reopen(&tp);
	TEST_OK(daxfile_stat(tp.pool, "/f", &st));
	cr_assert_eq(st.st_blocks, 2048);
	test_pool_destroy(&tp);
}

/* pool_rss -- kB of the pool file's pages mapped in this process (smaps). */
static long
pool_rss(const char *path)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	bool in = false;
	long kb, sum = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;

		/* a mapping's first line names its file, if it has one */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = strstr(line, path) != NULL;
		else if (in && sscanf(line, "Rss: %ld kB", &kb) == 1)
			sum += kb;
	}
	fclose(f);
	return sum;
}

Test(data, a_read_in_a_fresh_process_maps_the_2_mib_around_it_at_once)
{
	struct test_pool tp;
	daxfile_file *f;
	char buf[4096];
	long before, after;

	test_pool_create(&tp, "data", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_WRONLY | O_CREAT);
	for (uint64_t off = 0; off < 16 * MIB; off += MIB)
		pwrite_pat(f, off, MIB, 5);
	TEST_OK(daxfile_close(f));
	/* a new mapping of the pool, as a new process has */
	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/f", O_RDONLY);
	before = pool_rss(tp.path);
	cr_assert_eq(daxfile_pread(f, buf, sizeof(buf), (off_t)(8 * MIB)),
		(ssize_t)sizeof(buf));
	after = pool_rss(tp.path);
	/* one fault would map 4 KiB, or 64 KiB with the kernel's fault-around */
	cr_assert_geq(after - before, 1024, "a 4 KiB read mapped %ld kB",
		after - before);
	check_pat(f, 0, 16 * MIB, 5);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}
