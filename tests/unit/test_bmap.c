/*
 * test_bmap.c -- the extent map: a punch of many extents, committed or
 * aborted, leaves the same map in DRAM and in the records a reopen reads.
 */
#include <fcntl.h>
#include <linux/falloc.h>

#include "bmap.h"
#include "file.h"
#include "pool.h"
#include "testpool.h"
#include "tx.h"

#define NBLK 1024u

/* fragmented -- a file of NBLK one-block extents: written last to first. */
static daxfile_file *
fragmented(daxfile_pool *pool, const char *path)
{
	daxfile_file *f = daxfile_open(pool, path, O_CREAT | O_RDWR, 0644);
	char buf[4096];

	cr_assert_not_null(f);
	for (unsigned k = NBLK; k-- > 0;) {
		memset(buf, (int)(k & 0xff), sizeof(buf));
		cr_assert_eq(daxfile_pwrite(f, buf, sizeof(buf), (off_t)k * 4096),
			4096);
	}
	/* the last close trims the preallocation */
	TEST_OK(daxfile_close(f));
	f = daxfile_open(pool, path, O_RDWR);
	cr_assert_not_null(f);
	cr_assert_eq(dx_bmap_count(f->ip), NBLK);
	return f;
}

/* layout -- the pool block behind each of the NBLK file blocks (0: hole). */
static void
layout(daxfile_file *f, uint64_t *pblk)
{
	struct dx_inode *ip = f->ip;

	dx_ilock(ip, DX_ILOCK_SHARED);
	for (uint64_t b = 0; b < NBLK; b++) {
		struct dx_map m;

		dx_bmap_lookup(ip, b, 1, &m);
		pblk[b] = m.pblk;
	}
	dx_iunlock(ip, DX_ILOCK_SHARED);
}

/* reopened -- the file again, from the records of a reopened pool. */
static daxfile_file *
reopened(struct test_pool *tp, daxfile_file *f, const char *path)
{
	TEST_OK(daxfile_close(f));
	test_pool_reopen(tp);
	f = daxfile_open(tp->pool, path, O_RDWR);
	cr_assert_not_null(f);
	return f;
}

Test(bmap, a_punch_of_many_extents_leaves_the_records_a_reopen_reads)
{
	static uint64_t before[NBLK], after[NBLK];
	struct test_pool tp;
	daxfile_file *f;
	char buf[4096];

	test_pool_create(&tp, "bmap", TEST_POOL_SIZE);
	f = fragmented(tp.pool, "/frag");
	layout(f, before);
	/* a range that starts and ends inside the extents' run of records */
	TEST_OK(daxfile_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		100 * 4096, 700 * 4096));
	TEST_OK(daxfile_ftruncate(f, 1000 * 4096));
	cr_assert_eq(dx_bmap_count(f->ip), 100 + 200);
	f = reopened(&tp, f, "/frag");
	cr_assert_eq(dx_bmap_count(f->ip), 100 + 200);
	layout(f, after);
	for (unsigned b = 0; b < NBLK; b++)
		cr_assert_eq(after[b], (b < 100 || (b >= 800 && b < 1000)) ?
			before[b] : 0, "file block %u", b);
	cr_assert_eq(daxfile_pread(f, buf, sizeof(buf), 900 * 4096), 4096);
	cr_assert_eq(buf[0], (char)(900 & 0xff));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(bmap, an_aborted_punch_of_many_extents_brings_every_record_back)
{
	static uint64_t before[NBLK], after[NBLK];
	struct test_pool tp;
	daxfile_file *f;
	struct dx_tx tx;

	test_pool_create(&tp, "bmap", TEST_POOL_SIZE);
	f = fragmented(tp.pool, "/frag");
	layout(f, before);
	dx_ilock(f->ip, DX_ILOCK_EXCL);
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	TEST_OK(dx_bmap_punch(&tx, f->ip, 10, 1000));
	cr_assert_eq(dx_bmap_count(f->ip), 24);
	cr_assert_eq(dx_tx_abort(&tx, EIO), -1);
	dx_iunlock(f->ip, DX_ILOCK_EXCL);
	cr_assert_eq(dx_bmap_count(f->ip), NBLK);
	layout(f, after);
	cr_assert_arr_eq(after, before, sizeof(before));
	f = reopened(&tp, f, "/frag");
	cr_assert_eq(dx_bmap_count(f->ip), NBLK);
	layout(f, after);
	cr_assert_arr_eq(after, before, sizeof(before));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}
