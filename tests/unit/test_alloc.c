/*
 * test_alloc.c -- the block allocator: reservations, claims and frees in
 * transactions (commit and abort), placement (goal, 2 MiB phase of large
 * files, AG spread), the fragmentation of files appended to in turn, and
 * the quarantine of freed blocks that a shared mapping showed.
 */
#include <fcntl.h>

#include "alloc.h"
#include "bmap.h"
#include "file.h"
#include "pool.h"
#include "testpool.h"
#include "tx.h"

static uint64_t
avail(struct daxfile_pool *pool)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < pool->alloc.nags; i++)
		n += pool->alloc.ags[i].avail;
	return n;
}

static bool
marked(struct daxfile_pool *pool, uint64_t pblk)
{
	return dx_alloc_bitmap_test(
		pool->alloc.ags[dx_alloc_agno(pool, pblk)].ag, pblk);
}

Test(alloc, a_reservation_changes_dram_only_and_comes_back)
{
	struct test_pool tp;
	struct dx_resv r;
	uint64_t before, ondisk;

	test_pool_create(&tp, "alloc", TEST_POOL_SIZE);
	before = avail(tp.pool);
	ondisk = dx_alloc_free_blocks(tp.pool);
	TEST_OK(dx_alloc_reserve(tp.pool, 0, 0, 100, 100, -1, &r));
	cr_assert_eq(r.len, 100);
	cr_assert_eq(avail(tp.pool), before - 100);
	cr_assert_eq(dx_alloc_free_blocks(tp.pool), ondisk);
	cr_assert(!marked(tp.pool, r.pblk));
	dx_alloc_unreserve(tp.pool, &r);
	cr_assert_eq(avail(tp.pool), before);
	test_pool_destroy(&tp);
}

Test(alloc, a_committed_claim_marks_the_bitmap_and_a_free_returns_it)
{
	struct test_pool tp;
	struct dx_resv r;
	struct dx_tx tx;
	uint64_t ondisk;

	test_pool_create(&tp, "alloc", TEST_POOL_SIZE);
	ondisk = dx_alloc_free_blocks(tp.pool);
	TEST_OK(dx_alloc_reserve(tp.pool, 1, 0, 37, 37, -1, &r));
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	dx_alloc_claim(&tx, &r);
	TEST_OK(dx_tx_commit(&tx));
	cr_assert_eq(dx_alloc_free_blocks(tp.pool), ondisk - 37);
	for (uint64_t b = r.pblk; b < r.pblk + r.len; b++)
		cr_assert(marked(tp.pool, b));
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	dx_alloc_free(&tx, r.pblk, r.len);
	TEST_OK(dx_tx_commit(&tx));
	cr_assert_eq(dx_alloc_free_blocks(tp.pool), ondisk);
	cr_assert(!marked(tp.pool, r.pblk));
	/* blocks the pool leaves marked would make the check fail */
	test_pool_destroy(&tp);
}

Test(alloc, an_aborted_claim_leaves_nothing_behind)
{
	struct test_pool tp;
	struct dx_resv r;
	struct dx_tx tx;
	uint64_t before, ondisk;

	test_pool_create(&tp, "alloc", TEST_POOL_SIZE);
	before = avail(tp.pool);
	ondisk = dx_alloc_free_blocks(tp.pool);
	TEST_OK(dx_alloc_reserve(tp.pool, 0, 0, 512, 1, -1, &r));
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	dx_alloc_claim(&tx, &r);
	cr_assert_eq(dx_tx_abort(&tx, ENOSPC), -1);
	cr_assert_eq(dx_alloc_free_blocks(tp.pool), ondisk);
	cr_assert_eq(avail(tp.pool), before);
	cr_assert(!marked(tp.pool, r.pblk));
	test_pool_destroy(&tp);
}

Test(alloc, freed_blocks_are_not_reused_before_the_free_commits)
{
	struct test_pool tp;
	struct dx_resv r, r2;
	struct dx_tx tx;

	test_pool_create(&tp, "alloc", 16 << 20);
	/* take every free block, in pieces */
	TEST_OK(dx_alloc_reserve(tp.pool, 0, 0, 64, 64, -1, &r));
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	dx_alloc_claim(&tx, &r);
	TEST_OK(dx_tx_commit(&tx));
	while (dx_alloc_reserve(tp.pool, 0, 0, 1 << 20, 1, -1, &r2) == 0)
		;
	cr_assert_eq(errno, ENOSPC);
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	dx_alloc_free(&tx, r.pblk, r.len);
	/* inside the freeing transaction the blocks are still taken */
	cr_assert_eq(dx_alloc_reserve(tp.pool, 0, 0, 1, 1, -1, &r2), -1);
	TEST_OK(dx_tx_commit(&tx));
	TEST_OK(dx_alloc_reserve(tp.pool, 0, 0, 64, 64, -1, &r2));
	cr_assert_eq(r2.pblk, r.pblk);
	/* a never-claimed reservation vanishes with the pool: close without it */
	daxfile_pool_close(tp.pool);
	tp.pool = NULL;
	test_pool_destroy(&tp);
}

Test(alloc, only_freed_blocks_that_a_shared_mapping_showed_wait_in_quarantine)
{
	struct test_pool tp;
	struct dx_resv r, r2;
	struct dx_tx tx;
	uint64_t before;

	test_pool_create(&tp, "alloc", TEST_POOL_SIZE);
	TEST_OK(dx_alloc_reserve(tp.pool, 0, 0, 64, 64, -1, &r));
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	dx_alloc_claim(&tx, &r);
	TEST_OK(dx_tx_commit(&tx));
	/* a window showed blocks 16 to 23 of the 64 */
	dx_alloc_note_mapped(tp.pool, r.pblk + 16, 8);
	before = avail(tp.pool);
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	dx_alloc_free(&tx, r.pblk, r.len);
	TEST_OK(dx_tx_commit(&tx));
	cr_assert_eq(tp.pool->alloc.quarantined, 8);
	cr_assert_eq(avail(tp.pool), before + 56,
		"blocks no mapping showed are free again at once");
	TEST_OK(dx_alloc_reserve(tp.pool, 0, r.pblk, 16, 16, -1, &r2));
	cr_assert_eq(r2.pblk, r.pblk);
	dx_alloc_unreserve(tp.pool, &r2);
	/* asked for by a growing file: punched, unmarked, indexed */
	TEST_OK(dx_alloc_reserve(tp.pool, 0, r.pblk + 16, 8, 8, -1, &r2));
	cr_assert_eq(r2.pblk, r.pblk + 16);
	cr_assert_eq(tp.pool->alloc.quarantined, 0);
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	dx_alloc_claim(&tx, &r2);
	TEST_OK(dx_tx_commit(&tx));
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	dx_alloc_free(&tx, r2.pblk, r2.len);
	TEST_OK(dx_tx_commit(&tx));
	cr_assert_eq(tp.pool->alloc.quarantined, 0,
		"a punch forgets that the blocks were mapped");
	test_pool_destroy(&tp);
}

Test(alloc, neighbouring_frees_of_one_transaction_are_applied_as_one_run)
{
	struct test_pool tp;
	struct dx_resv r, r2;
	struct dx_tx tx;
	struct dx_agi *agi;
	uint64_t before, ondisk;

	test_pool_create(&tp, "alloc", TEST_POOL_SIZE);
	TEST_OK(dx_alloc_reserve(tp.pool, 0, 0, 64, 64, -1, &r));
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	dx_alloc_claim(&tx, &r);
	TEST_OK(dx_tx_commit(&tx));
	agi = &tp.pool->alloc.ags[dx_alloc_agno(tp.pool, r.pblk)];
	/* blocks 8 to 39 were shown by a mapping */
	dx_alloc_note_mapped(tp.pool, r.pblk + 8, 32);
	before = avail(tp.pool);
	ondisk = dx_alloc_free_blocks(tp.pool);
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	/* one block at a time, last to first, as a fragmented file's truncate */
	for (uint64_t k = r.len; k-- > 0;)
		dx_alloc_free(&tx, r.pblk + k, 1);
	TEST_OK(dx_tx_commit(&tx));
	cr_assert_eq(dx_alloc_free_blocks(tp.pool), ondisk + 64);
	for (uint64_t b = r.pblk; b < r.pblk + r.len; b++)
		cr_assert(!marked(tp.pool, b));
	cr_assert_eq(tp.pool->alloc.quarantined, 32);
	cr_assert_eq(agi->nquar, 1, "the mapped blocks wait as one range");
	cr_assert_eq(avail(tp.pool), before + 32);
	/* the unmapped blocks joined the index as whole runs */
	TEST_OK(dx_alloc_reserve(tp.pool, 0, r.pblk + 40, 24, 24, -1, &r2));
	cr_assert_eq(r2.pblk, r.pblk + 40);
	dx_alloc_unreserve(tp.pool, &r2);
	test_pool_destroy(&tp);
}

Test(alloc, a_goal_that_is_free_is_honoured)
{
	struct test_pool tp;
	struct dx_resv a, b;

	test_pool_create(&tp, "alloc", TEST_POOL_SIZE);
	TEST_OK(dx_alloc_reserve(tp.pool, 2, 0, 10, 10, -1, &a));
	dx_alloc_unreserve(tp.pool, &a);
	TEST_OK(dx_alloc_reserve(tp.pool, 0, a.pblk + 5, 3, 3, -1, &b));
	cr_assert_eq(b.pblk, a.pblk + 5);
	dx_alloc_unreserve(tp.pool, &b);
	test_pool_destroy(&tp);
}

/*
 * A run at the goal shorter than the minimum is taken when it reaches the
 * end of its AG (the file goes on at the next AG's start, contiguously),
 * and refused elsewhere.
 */
Test(alloc, a_short_run_at_the_goal_is_taken_only_up_to_the_end_of_its_ag)
{
	struct test_pool tp;
	struct dx_agi *agi;
	struct dx_resv all, tail, mid, r;

	test_pool_create(&tp, "alloc", TEST_POOL_SIZE);
	agi = &tp.pool->alloc.ags[0];
	TEST_OK(dx_alloc_reserve(tp.pool, 0, agi->start, agi->end - agi->start,
		1, -1, &all));
	cr_assert_eq(all.pblk, agi->start);
	cr_assert_eq(all.len, agi->end - agi->start);
	tail = (struct dx_resv){agi->end - 5, 5};
	mid = (struct dx_resv){agi->start + 100, 5};
	dx_alloc_unreserve(tp.pool, &tail);
	dx_alloc_unreserve(tp.pool, &mid);

	TEST_OK(dx_alloc_reserve(tp.pool, 0, mid.pblk, 100, 16, -1, &r));
	cr_assert(r.pblk < agi->start || r.pblk >= agi->end,
		"a 5-block run in the middle of the AG was taken at %#lx",
		(unsigned long)r.pblk);
	dx_alloc_unreserve(tp.pool, &r);
	TEST_OK(dx_alloc_reserve(tp.pool, 0, tail.pblk, 100, 16, -1, &r));
	cr_assert_eq(r.pblk, tail.pblk);
	cr_assert_eq(r.len, 5);
	test_pool_destroy(&tp);
}

Test(alloc, huge_reservations_start_on_a_2MiB_boundary)
{
	struct test_pool tp;
	struct dx_resv small, r;

	test_pool_create(&tp, "alloc", TEST_POOL_SIZE);
	/* misalign the free space first */
	TEST_OK(dx_alloc_reserve(tp.pool, 0, 0, 3, 3, -1, &small));
	TEST_OK(dx_alloc_reserve(tp.pool, 0, 0, DX_HUGE_BLOCKS, DX_HUGE_BLOCKS,
		0, &r));
	cr_assert_eq(r.pblk % DX_HUGE_BLOCKS, 0, "pblk %#lx", (unsigned long)r.pblk);
	cr_assert_eq(r.len, DX_HUGE_BLOCKS);
	dx_alloc_unreserve(tp.pool, &r);
	dx_alloc_unreserve(tp.pool, &small);
	test_pool_destroy(&tp);
}

Test(alloc, huge_reservations_start_at_their_phase_modulo_2MiB)
{
	struct test_pool tp;
	struct dx_resv small, r;

	test_pool_create(&tp, "alloc", TEST_POOL_SIZE);
	TEST_OK(dx_alloc_reserve(tp.pool, 0, 0, 3, 3, -1, &small));
	TEST_OK(dx_alloc_reserve(tp.pool, 0, 0, 3 * DX_HUGE_BLOCKS, 16, 100,
		&r));
	cr_assert_eq(r.pblk % DX_HUGE_BLOCKS, 100, "pblk %#lx",
		(unsigned long)r.pblk);
	cr_assert_eq(r.len, 3 * DX_HUGE_BLOCKS);
	dx_alloc_unreserve(tp.pool, &r);
	dx_alloc_unreserve(tp.pool, &small);
	test_pool_destroy(&tp);
}

/*
 * extents_off_phase -- extents of f reaching past its first 2 MiB whose
 * pool block and file block differ modulo 2 MiB (such a 2 MiB of the file
 * can never be mapped whole).
 */
static unsigned
extents_off_phase(daxfile_file *f)
{
	struct dx_inode *ip = f->ip;
	uint64_t end = (ip->di->size + 4095) / 4096;
	unsigned bad = 0;

	dx_ilock(ip, DX_ILOCK_SHARED);
	for (uint64_t lblk = 0; lblk < end;) {
		struct dx_map m;

		dx_bmap_lookup(ip, lblk, end - lblk, &m);
		if (m.pblk != 0 && m.lblk + m.len > DX_HUGE_BLOCKS &&
		    m.pblk % DX_HUGE_BLOCKS != m.lblk % DX_HUGE_BLOCKS)
			bad++;
		lblk += m.len;
	}
	dx_iunlock(ip, DX_ILOCK_SHARED);
	return bad;
}

/*
 * A file growing past 2 MiB whose goal (the block after its last extent)
 * was taken meanwhile, and a file fallocated from file block 7, still put
 * every whole 2 MiB of themselves on a whole, aligned 2 MiB of the pool.
 */
Test(alloc, large_files_keep_their_file_offsets_modulo_2MiB_in_the_pool)
{
	struct test_pool tp;
	daxfile_file *big, *fa;
	struct dx_resv taken;
	struct dx_map last;
	char *buf = malloc(1 << 20);

	cr_assert_not_null(buf);
	memset(buf, 'b', 1 << 20);
	test_pool_create(&tp, "alloc", 128 << 20);
	/* 1 MiB (+ 3 blocks, so the goal is off the phase), then steal the goal */
	big = daxfile_open(tp.pool, "/big", O_CREAT | O_WRONLY, 0644);
	cr_assert_not_null(big);
	TEST_OK(dx_alloc_reserve(tp.pool, 0, 0, 3, 3, -1, &taken));
	cr_assert_eq(daxfile_pwrite(big, buf, 1 << 20, 0), 1 << 20);
	TEST_OK(daxfile_close(big));
	big = daxfile_open(tp.pool, "/big", O_WRONLY, 0644);
	cr_assert_not_null(big);
	dx_ilock(big->ip, DX_ILOCK_SHARED);
	dx_bmap_last(big->ip, &last);
	dx_iunlock(big->ip, DX_ILOCK_SHARED);
	TEST_OK(dx_alloc_reserve(tp.pool, 0, last.pblk + last.len, 1, 1, -1,
		&taken));
	cr_assert_eq(taken.pblk, last.pblk + last.len);
	for (int i = 1; i < 8; i++)
		cr_assert_eq(daxfile_pwrite(big, buf, 1 << 20, (off_t)i << 20),
			1 << 20);
	cr_assert_eq(extents_off_phase(big), 0);
	fa = daxfile_open(tp.pool, "/fallocated", O_CREAT | O_RDWR, 0644);
	cr_assert_not_null(fa);
	TEST_OK(daxfile_fallocate(fa, 0, 4096 * 7, 6 << 20));
	cr_assert_eq(extents_off_phase(fa), 0);
	TEST_OK(daxfile_close(fa));
	TEST_OK(daxfile_close(big));
	free(buf);
	test_pool_destroy(&tp);
}

Test(alloc, new_files_start_in_different_allocation_groups)
{
	struct test_pool tp;
	uint32_t a, b;

	test_pool_create(&tp, "alloc", TEST_POOL_SIZE);
	cr_assert_geq(tp.pool->alloc.nags, 2);
	a = dx_alloc_pick_ag(tp.pool);
	b = dx_alloc_pick_ag(tp.pool);
	cr_assert_neq(a, b);
	test_pool_destroy(&tp);
}

/*
 * Appending to four files in turn, 4 KiB at a time, must not shred them:
 * preallocation ahead of each file's end keeps every file in a few
 * extents.  Measured: extents per file.
 */
Test(alloc, interleaved_appends_keep_files_in_few_extents)
{
	struct test_pool tp;
	daxfile_file *f[4];
	char buf[4096], name[32];
	uint64_t total = 0;

	test_pool_create(&tp, "alloc", 128 << 20);
	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "/f%d", i);
		f[i] = daxfile_open(tp.pool, name, O_CREAT | O_WRONLY | O_APPEND, 0644);
		cr_assert_not_null(f[i]);
	}
	for (int n = 0; n < 2048; n++) /* 8 MiB each */
		for (int i = 0; i < 4; i++)
			cr_assert_eq(daxfile_write(f[i], buf, sizeof(buf)), 4096);
	for (int i = 0; i < 4; i++) {
		struct dx_inode *ip = f[i]->ip;
		uint64_t n;

		dx_ilock(ip, DX_ILOCK_SHARED);
		n = dx_bmap_count(ip);
		dx_iunlock(ip, DX_ILOCK_SHARED);
		cr_log_info("file %d: %lu extents for 8 MiB", i, (unsigned long)n);
		total += n;
		cr_assert_leq(n, 12, "file %d has %lu extents", i, (unsigned long)n);
		TEST_OK(daxfile_close(f[i]));
	}
	cr_log_info("interleaved appends: %lu extents for 4 files of 8 MiB",
		(unsigned long)total);
	test_pool_destroy(&tp);
}

/* page_mapped -- is the page at 'p' present in this process's page tables? */
static bool
page_mapped(const void *p)
{
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	off_t at = (off_t)((uintptr_t)p / 4096 * sizeof(entry));

	cr_assert_geq(fd, 0, "/proc/self/pagemap: %s", strerror(errno));
	cr_assert_eq(pread(fd, &entry, sizeof(entry), at), (ssize_t)sizeof(entry));
	close(fd);
	return (entry >> 63) & 1;
}

/*
 * On persistent memory the pages of the blocks fallocate allocates are
 * mapped at once, as a tmpfs fallocate allocates its pages: the writes
 * into them then take no page fault each.
 */
Test(alloc, fallocate_on_pmem_maps_the_pages_of_its_blocks)
{
	struct test_pool tp;
	daxfile_file *f;
	uint64_t lblk = 0, mapped = 0;

	test_pool_create(&tp, "alloc", TEST_POOL_SIZE);
	if (!tp.pool->is_pmem) {
		test_pool_destroy(&tp);
		cr_skip_test("the pool is not on persistent memory (PMEM_IS_PMEM_FORCE=1)");
	}
	/* a pool opened afresh maps none of its pages, as one mkfs made */
	test_pool_reopen(&tp);
	f = daxfile_open(tp.pool, "/fallocated", O_CREAT | O_RDWR, 0644);
	cr_assert_not_null(f);
	TEST_OK(daxfile_fallocate(f, 0, 0, 4 << 20));
	while (lblk < 1024) {
		struct dx_map m;

		dx_ilock(f->ip, DX_ILOCK_SHARED);
		dx_bmap_lookup(f->ip, lblk, 1024 - lblk, &m);
		dx_iunlock(f->ip, DX_ILOCK_SHARED);
		cr_assert_neq(m.pblk, 0, "block %lu is a hole", (unsigned long)lblk);
		for (uint64_t i = 0; i < m.len && lblk + i < 1024; i++)
			mapped += page_mapped((char *)dx_block_ptr(tp.pool,
				m.pblk + i));
		lblk += m.len;
	}
	cr_assert_eq(mapped, 1024, "%lu of 1024 pages mapped",
		(unsigned long)mapped);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}
