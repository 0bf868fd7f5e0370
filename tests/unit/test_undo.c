/*
 * test_undo.c -- the undo log lanes from inside (src/undo.c): what the next
 * attach does with the entries a transaction left (put back when whole,
 * ignored when torn or retired), how a damaged or misplaced lane area
 * is reported and repaired; a pool as the previous release made it (version 2, no
 * lanes) opens upgraded with them.  tests/integration/test_undo.c crashes
 * real calls.
 */
#include <string.h>
#include <sys/stat.h>

#include "pool.h"
#include "super.h"
#include "undo.h"
#include "testpool.h"

/* attach -- the pool at 'path', its lanes usable. */
static struct daxfile_pool *
attach(const char *path)
{
	struct daxfile_pool *pool = dx_pool_attach(path, true);

	cr_assert_not_null(pool, "attach: %s", daxfile_errormsg());
	cr_assert_neq(pool->root->undo, 0, "a new pool has lanes");
	dx_undo_start(pool);
	return pool;
}

/* made -- a new, closed pool at tp->path. */
static void
made(struct test_pool *tp, const char *tag)
{
	test_pool_create(tp, tag, 64 << 20);
	cr_assert_eq(daxfile_pool_close(tp->pool), 0);
	tp->pool = NULL;
}

/*
 * The root's padding words are bytes the library never reads: a lane can
 * log them and the test can see what the next attach made of them.
 */
Test(undo, an_entry_left_in_a_lane_is_put_back_at_the_next_attach)
{
	struct test_pool tp;
	struct daxfile_pool *pool;
	struct dx_undo_lane *lane;
	uint64_t *w;
	uint32_t pos = 0;

	made(&tp, "undo-left");
	pool = attach(tp.path);
	w = &pool->root->pad[0];
	*w = 1111;
	dx_persist(pool, w, sizeof(*w));
	lane = dx_undo_claim(pool);
	cr_assert_not_null(lane);
	cr_assert_eq(dx_undo_log(pool, lane, &pos, w, sizeof(*w)), 0);
	cr_assert_eq(dx_undo_log(pool, lane, &pos, &pool->root->pad[1], 8), 0);
	*w = 2222;
	pool->root->pad[1] = 3333;
	dx_undo_flush(pool, lane, pos);
	/* no retire: the process is gone before its commit */
	dx_pool_detach(pool);

	pool = attach(tp.path);
	cr_assert_eq(pool->root->pad[0], 1111, "the first entry put back");
	cr_assert_eq(pool->root->pad[1], 0, "the second entry put back");
	cr_assert_null(dx_undo_problem(pool));
	dx_pool_detach(pool);
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0);
	test_pool_destroy(&tp);
}

Test(undo, retired_and_torn_entries_are_not_put_back)
{
	struct test_pool tp;
	struct daxfile_pool *pool;
	struct dx_undo_lane *lane;
	struct dx_undo_entry *e;
	uint32_t pos = 0;

	made(&tp, "undo-dead");
	pool = attach(tp.path);
	/* retired: the commit raised the lane's generation */
	lane = dx_undo_claim(pool);
	cr_assert_eq(dx_undo_log(pool, lane, &pos, &pool->root->pad[0], 8), 0);
	pool->root->pad[0] = 4444;
	dx_undo_flush(pool, lane, pos);
	dx_undo_retire(pool, lane);
	/* torn: the same lane's next entry, one byte of it wrong */
	pos = 0;
	cr_assert_eq(dx_undo_log(pool, lane, &pos, &pool->root->pad[1], 8), 0);
	e = (struct dx_undo_entry *)lane->log;
	e->bytes[3] ^= 0x40;
	pool->root->pad[1] = 5555;
	dx_undo_flush(pool, lane, pos);
	dx_pool_detach(pool);

	pool = attach(tp.path);
	cr_assert_eq(pool->root->pad[0], 4444, "a committed change stays");
	cr_assert_eq(pool->root->pad[1], 5555,
		"an entry that fails its checksum is not put back");
	dx_pool_detach(pool);
	test_pool_destroy(&tp);
}

/* file_there -- the pool at 'path' opens and holds /kept. */
static void
file_there(const char *path)
{
	daxfile_pool *pool = daxfile_pool_open(path);
	struct stat st;

	cr_assert_not_null(pool, "open: %s", daxfile_errormsg());
	cr_assert_eq(daxfile_stat(pool, "/kept", &st), 0, "%s",
		daxfile_errormsg());
	cr_assert_eq(daxfile_pool_close(pool), 0);
}

Test(undo, a_misplaced_area_is_reported_and_the_repair_puts_it_back)
{
	struct test_pool tp;
	struct daxfile_pool *pool;
	struct dx_undo_area *area;
	const struct dx_dseg *seg;
	uint64_t moved, place;

	test_pool_create(&tp, "undo-moved", 64 << 20);
	cr_assert_eq(daxfile_mkdir(tp.pool, "/kept", 0755), 0);
	cr_assert_eq(daxfile_pool_close(tp.pool), 0);
	tp.pool = NULL;
	/* the area moved to the other side of the first segment's blocks */
	pool = attach(tp.path);
	seg = &pool->sb->segs[0];
	place = pool->root->undo;
	area = dx_ptr(pool, place);
	moved = place < (seg->start << DX_BLOCK_SHIFT) ?
		((seg->start + seg->nblocks) << DX_BLOCK_SHIFT) +
		DX_SB_COPY_SIZE : seg->obj_off + DX_BLOCK_SIZE;
	memcpy(dx_ptr(pool, moved), area, DX_BLOCK_SIZE);
	pool->root->undo = moved;
	dx_persist(pool, &pool->root->undo, sizeof(uint64_t));
	dx_pool_detach(pool);
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 1,
		"the checker reports lanes out of their place");
	cr_assert_eq(daxfile_pool_repair(tp.path, stderr), 1);
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0);
	pool = dx_pool_attach(tp.path, true);
	cr_assert_not_null(pool);
	cr_assert_eq(pool->root->undo, place, "the lanes are back in place");
	dx_pool_detach(pool);
	file_there(tp.path);
	test_pool_destroy(&tp);
}

Test(undo, a_damaged_area_refuses_the_open_and_the_repair_makes_it_anew)
{
	struct test_pool tp;
	struct daxfile_pool *pool;

	test_pool_create(&tp, "undo-damaged", 64 << 20);
	cr_assert_eq(daxfile_mkdir(tp.pool, "/kept", 0755), 0);
	cr_assert_eq(daxfile_pool_close(tp.pool), 0);
	tp.pool = NULL;
	/* no area where the root says */
	pool = dx_pool_attach(tp.path, true);
	cr_assert_not_null(pool);
	((struct dx_undo_area *)dx_ptr(pool, pool->root->undo))->magic ^= 1;
	dx_persist(pool, dx_ptr(pool, pool->root->undo), sizeof(uint64_t));
	dx_pool_detach(pool);
	cr_assert_null(daxfile_pool_open(tp.path));
	cr_assert_eq(errno, EUCLEAN, "errno %d (%s)", errno, daxfile_errormsg());
	cr_assert(strstr(daxfile_errormsg(), "undo") != NULL &&
		strstr(daxfile_errormsg(), "check -r") != NULL, "%s",
		daxfile_errormsg());
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 1,
		"the checker reports the damaged area");
	cr_assert_eq(daxfile_pool_repair(tp.path, stderr), 1);
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0,
		"the repair made the lanes anew");
	file_there(tp.path);
	test_pool_destroy(&tp);
}

/* The previous release's pools: version 2, the root's undo word padding. */
Test(undo, a_version_2_pool_opens_upgraded_with_lanes)
{
	struct test_pool tp;
	struct daxfile_pool *pool;
	struct dx_super *sb;

	made(&tp, "undo-v2");
	pool = dx_pool_attach(tp.path, true);
	cr_assert_not_null(pool, "attach: %s", daxfile_errormsg());
	sb = &pool->root->sb;
	sb->version = 2;
	dx_super_seal(sb);
	dx_persist(pool, sb, sizeof(*sb));
	dx_super_write_copies(pool, sb);
	pool->root->undo = 0;
	dx_persist(pool, &pool->root->undo, sizeof(uint64_t));
	dx_pool_detach(pool);
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0,
		"a version 2 pool without lanes is clean as it is");

	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool, "open: %s", daxfile_errormsg());
	TEST_OK(daxfile_mkdir(tp.pool, "/after", 0755));
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;
	pool = dx_pool_attach(tp.path, true);
	cr_assert_not_null(pool, "attach: %s", daxfile_errormsg());
	cr_assert_eq(pool->sb->version, DX_FORMAT_VERSION);
	cr_assert_neq(pool->root->undo, 0, "the upgrade made the lanes");
	cr_assert_null(dx_undo_problem(pool));
	dx_pool_detach(pool);
	test_pool_destroy(&tp);
}
