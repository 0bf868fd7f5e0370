/*
 * test_super.c -- the superblock's copies and the upgrade: a pool of
 * on-media version 1 that has copies (made by a library of version 1 that
 * kept them) is upgraded with its copies, so that it checks clean after
 * the upgrade and a damaged primary falls back to a copy of the new
 * version, not of the old one.
 */
#include "pool.h"
#include "super.h"
#include "testpool.h"

/* make_version_1 -- rewrite the closed pool at 'path' as version 1. */
static void
make_version_1(const char *path)
{
	struct daxfile_pool *pool = dx_pool_attach(path, true);
	struct dx_super *sb;

	cr_assert_not_null(pool, "attach: %s", daxfile_errormsg());
	cr_assert_eq(dx_super_find(pool), 0);
	cr_assert(pool->sb->feature_compat & DX_FEATURE_COMPAT_SB_COPIES);
	sb = &pool->root->sb;
	sb->version = 1;
	dx_super_seal(sb);
	dx_persist(pool, sb, sizeof(*sb));
	dx_super_write_copies(pool, sb);
	dx_pool_detach(pool);
}

/* damage_primary -- break the primary superblock's checksum. */
static void
damage_primary(const char *path)
{
	struct daxfile_pool *pool = dx_pool_attach(path, true);

	cr_assert_not_null(pool, "attach: %s", daxfile_errormsg());
	pool->root->sb.checksum ^= 1;
	dx_persist(pool, &pool->root->sb.checksum, sizeof(uint64_t));
	dx_pool_detach(pool);
}

/* version_read -- the version of the superblock the pool opens through. */
static uint32_t
version_read(const char *path, uint64_t *copy)
{
	struct daxfile_pool *pool = dx_pool_attach_raw(path);
	uint32_t v;

	cr_assert_not_null(pool, "attach: %s", daxfile_errormsg());
	cr_assert_geq(dx_super_find(pool), 0, "%s", daxfile_errormsg());
	v = pool->sb->version;
	*copy = pool->sb_copy;
	dx_pool_detach(pool);
	return v;
}

Test(super, an_upgrade_rewrites_the_superblock_copies_with_the_primary)
{
	struct test_pool tp;
	uint64_t copy;

	test_pool_create(&tp, "supercopies", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;
	make_version_1(tp.path);
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0,
		"a version 1 pool with copies is clean as it is");
	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool, "open: %s", daxfile_errormsg());
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;
	cr_assert_eq(version_read(tp.path, &copy), DX_FORMAT_VERSION);
	cr_assert_eq(copy, 0);
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0,
		"the copies were upgraded with the primary");
	damage_primary(tp.path);
	cr_assert_eq(version_read(tp.path, &copy), DX_FORMAT_VERSION);
	cr_assert_neq(copy, 0, "read through a copy");
	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool, "open through a copy: %s",
		daxfile_errormsg());
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;
	cr_assert_eq(daxfile_pool_repair(tp.path, NULL), 1);
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0,
		"repair wrote the primary back");
	unlink(tp.path);
}
