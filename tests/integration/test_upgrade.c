/*
 * test_upgrade.c -- a pool of on-media version 1, made by the library of
 * that version (tests/fixtures/make-pool-v1.c made pool-v1.gz), opens with
 * this one: the checker finds it clean as it is, the open upgrades it to
 * the current version (3) in place, the tree and the bytes are all there,
 * the file it left unlinked and open is reclaimed, and the new kinds of
 * objects can be made in it.  A crash at every persistence point of that
 * open leaves a pool of version 1 or 3, clean, that opens with the same
 * tree.
 *
 * The version is read from the closed pool file, once libpmemobj has
 * rolled back or finished the transaction a crash interrupted (any open
 * does, the checker's too): the uint32 right after the superblock's magic
 * "DAXFILE!".
 */
#define _GNU_SOURCE	/* memmem */

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daxfile.h"
#include "testutil.h"

#define BIG_SIZE 300000
/* the on-media version of this library's pools */
#define CURRENT 3
/* the data blocks of a slab of inodes and entries (252 KiB) */
#define SLAB_BLOCKS 63

/* fixture -- a fresh copy of the version 1 pool at 'path'. */
static void
fixture(const char *path)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "gzip -dc '%s/pool-v1.gz' > '%s'",
		DX_FIXTURE_DIR, path);
	cr_assert_eq(system(cmd), 0, "%s failed", cmd);
}

/* version_of -- the on-media version of the closed pool file 'path'. */
static uint32_t
version_of(const char *path)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	const char *map, *p;
	uint32_t v;

	cr_assert_geq(fd, 0, "open(%s): %s", path, strerror(errno));
	cr_assert_eq(fstat(fd, &st), 0);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	cr_assert_neq(map, MAP_FAILED);
	p = memmem(map, (size_t)st.st_size, "DAXFILE!", 8);
	cr_assert_not_null(p, "%s: no superblock", path);
	memcpy(&v, p + 8, sizeof(v));
	munmap((void *)map, (size_t)st.st_size);
	close(fd);
	return v;
}

/*
 * check_tree -- the tree make-pool-v1.c left, with its orphan gone;
 * 'slabs' slabs of data blocks made since (DX_SLAB_BLOCKS blocks each).
 */
static void
check_tree(daxfile_pool *pool, unsigned slabs)
{
	unsigned char *buf = xmalloc(BIG_SIZE + 1);
	struct statvfs sv;
	struct stat st;
	daxfile_file *f;

	st = xstat(pool, "/dir");
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0750);
	cr_assert_eq(st.st_nlink, 3);
	cr_assert(S_ISDIR(xstat(pool, "/dir/sub").st_mode));
	check_text(pool, "/dir/file", "hello, version 1\n");
	cr_assert_eq(xstat(pool, "/empty").st_size, 0);
	f = xopen(pool, "/big", O_RDONLY);
	cr_assert_eq(daxfile_pread(f, buf, BIG_SIZE + 1, 0), BIG_SIZE);
	TEST_OK(daxfile_close(f));
	for (size_t i = 0; i < BIG_SIZE; i++)
		cr_assert_eq(buf[i], (unsigned char)(i * 7 % 251), "byte %zu", i);
	free(buf);
	FAILS(daxfile_stat(pool, "/orphan", &st), -1, ENOENT);
	/* only the two files with data (and new slabs) hold blocks: the
	   orphan's are free */
	TEST_OK(daxfile_statvfs(pool, &sv));
	cr_assert_eq(sv.f_blocks - sv.f_bfree,
		(xstat(pool, "/big").st_blocks + xstat(pool, "/dir/file").st_blocks) / 8 +
		slabs * SLAB_BLOCKS);
}

Test(upgrade, a_version_1_pool_opens_upgraded_with_its_tree)
{
	struct test_pool tp;
	daxfile_file *f;

	test_pool_path(tp.path, sizeof(tp.path), "upgrade");
	fixture(tp.path);
	cr_assert_eq(version_of(tp.path), 1);
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0,
		"a version 1 pool is clean as it is");
	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool, "open: %s", daxfile_errormsg());
	check_tree(tp.pool, 0);
	/* what version 2 added works in it */
	TEST_OK(daxfile_symlink(tp.pool, "dir/file", "/link"));
	TEST_OK(daxfile_link(tp.pool, "/big", "/dir/big2"));
	check_text(tp.pool, "/link", "hello, version 1\n");
	cr_assert_eq(xstat(tp.pool, "/big").st_nlink, 2);
	f = daxfile_open(tp.pool, "/dir", O_TMPFILE | O_RDWR, 0600);
	cr_assert_not_null(f, "O_TMPFILE: %s", daxfile_errormsg());
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;
	cr_assert_eq(version_of(tp.path), CURRENT);
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0);
	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool, "reopen: %s", daxfile_errormsg());
	check_tree(tp.pool, 1);
	cr_assert(S_ISLNK(xlstat(tp.pool, "/link").st_mode));
	test_pool_destroy(&tp);
}

/*
 * A version 1 pool's inodes and entries are libpmemobj objects of their
 * own and its directories' hash chains are unordered; the upgraded pool
 * claims new ones from slabs and keeps old chains as they are.  Files of
 * both kinds live side by side in an old directory that grows and splits,
 * and each kind is freed as what it is: the checker finds the pool clean,
 * and the space of the old ones comes back.
 */
Test(upgrade, new_files_live_beside_the_old_ones_and_both_are_freed)
{
	struct test_pool tp;
	struct statvfs before, after;
	char name[64];

	test_pool_path(tp.path, sizeof(tp.path), "upgrade-mixed");
	fixture(tp.path);
	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool, "open: %s", daxfile_errormsg());
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "/dir/new-%d", i);
		TEST_OK(daxfile_close(xopen(tp.pool, name,
			O_CREAT | O_EXCL | O_WRONLY)));
	}
	TEST_OK(daxfile_mkdir(tp.pool, "/dir/sub/newdir", 0755));
	check_text(tp.pool, "/dir/file", "hello, version 1\n");
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0);
	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool, "reopen: %s", daxfile_errormsg());
	TEST_OK(daxfile_statvfs(tp.pool, &before));
	TEST_OK(daxfile_unlink(tp.pool, "/dir/file"));
	TEST_OK(daxfile_rmdir(tp.pool, "/dir/sub/newdir"));
	TEST_OK(daxfile_rmdir(tp.pool, "/dir/sub"));
	TEST_OK(daxfile_unlink(tp.pool, "/empty"));
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "/dir/new-%d", i);
		TEST_OK(daxfile_unlink(tp.pool, name));
	}
	TEST_OK(daxfile_rmdir(tp.pool, "/dir"));
	TEST_OK(daxfile_statvfs(tp.pool, &after));
	cr_assert_eq((before.f_files - before.f_ffree) -
		(after.f_files - after.f_ffree), 305,
		"the 305 inodes removed are free again");
	cr_assert_gt(after.f_bfree, before.f_bfree, "the old file's block is free");
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0);
	test_pool_destroy(&tp);
}

/* open_close -- open the pool at 'path' (the upgrade) and close it. */
static int
open_close(void *path)
{
	daxfile_pool *pool = daxfile_pool_open(path);

	return pool != NULL && daxfile_pool_close(pool) == 0 ? 0 : -1;
}

Test(upgrade, a_crash_during_the_upgrade_leaves_version_1_or_3_never_a_broken_pool)
{
	bool seen[CURRENT + 1] = {false};
	struct test_pool tp;
	unsigned n;

	test_pool_path(tp.path, sizeof(tp.path), "upgradecrash");
	for (n = 1; n < 100; n++) {
		uint32_t v;
		bool died;

		fixture(tp.path);
		died = test_crash_run(n, open_close, tp.path);
		/* the check opens the pool: libpmemobj rolls back or finishes */
		cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0,
			"crash at point %u left a pool that is not clean", n);
		v = version_of(tp.path);
		cr_assert(v == 1 || v == CURRENT, "crash at point %u left version %u",
			n, v);
		seen[v] = true;
		tp.pool = daxfile_pool_open(tp.path);
		cr_assert_not_null(tp.pool, "open after a crash at point %u: %s",
			n, daxfile_errormsg());
		check_tree(tp.pool, 0);
		TEST_OK(daxfile_pool_close(tp.pool));
		tp.pool = NULL;
		cr_assert_eq(version_of(tp.path), CURRENT);
		if (!died)
			break;
	}
	cr_assert_lt(n, 100, "the open never finished");
	cr_assert(seen[1] && seen[CURRENT],
		"crashes left only version %d: the upgrade's own points were missed",
		seen[1] ? 1 : CURRENT);
	unlink(tp.path);
}
