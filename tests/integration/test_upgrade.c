/*
 * test_upgrade.c -- a pool of on-media version 1, made by the library of
 * that version (tests/fixtures/make-pool-v1.c made pool-v1.gz), opens with
 * this one: the checker finds it clean as it is, the open upgrades it to
 * version 2 in place, the tree and the bytes are all there, the file it
 * left unlinked and open is reclaimed, and the new kinds of objects can be
 * made in it.  A crash at every persistence point of that open leaves a
 * pool of version 1 or 2, clean, that opens with the same tree.
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

/* check_tree -- the tree make-pool-v1.c left, with its orphan gone. */
static void
check_tree(daxfile_pool *pool)
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
	/* only the two files with data hold blocks: the orphan's are free */
	TEST_OK(daxfile_statvfs(pool, &sv));
	cr_assert_eq(sv.f_blocks - sv.f_bfree,
		(xstat(pool, "/big").st_blocks + xstat(pool, "/dir/file").st_blocks) / 8);
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
	check_tree(tp.pool);
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
	cr_assert_eq(version_of(tp.path), 2);
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0);
	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool, "reopen: %s", daxfile_errormsg());
	check_tree(tp.pool);
	cr_assert(S_ISLNK(xlstat(tp.pool, "/link").st_mode));
	test_pool_destroy(&tp);
}

/*
 * open_crashing -- open the pool at 'path' in a child that the library
 * kills at its 'n'th persistence point; true if it died there, false if
 * the open and close finished first.
 */
static bool
open_crashing(const char *path, unsigned n)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		char at[16];
		daxfile_pool *pool;

		snprintf(at, sizeof(at), "%u", n);
		setenv("DAXFILE_CRASH_AT", at, 1);
		pool = daxfile_pool_open(path);
		_exit(pool != NULL && daxfile_pool_close(pool) == 0 ? 0 : 3);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status)) {
		cr_assert_eq(WTERMSIG(status), SIGKILL, "child died of signal %d",
			WTERMSIG(status));
		return true;
	}
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"the open failed in the child");
	return false;
}

Test(upgrade, a_crash_during_the_upgrade_leaves_version_1_or_2_never_a_broken_pool)
{
	bool seen[3] = {false, false, false};
	struct test_pool tp;
	unsigned n;

	test_pool_path(tp.path, sizeof(tp.path), "upgradecrash");
	for (n = 1; n < 100; n++) {
		uint32_t v;
		bool died;

		fixture(tp.path);
		died = open_crashing(tp.path, n);
		/* the check opens the pool: libpmemobj rolls back or finishes */
		cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0,
			"crash at point %u left a pool that is not clean", n);
		v = version_of(tp.path);
		cr_assert(v == 1 || v == 2, "crash at point %u left version %u",
			n, v);
		seen[v] = true;
		tp.pool = daxfile_pool_open(tp.path);
		cr_assert_not_null(tp.pool, "open after a crash at point %u: %s",
			n, daxfile_errormsg());
		check_tree(tp.pool);
		TEST_OK(daxfile_pool_close(tp.pool));
		tp.pool = NULL;
		cr_assert_eq(version_of(tp.path), 2);
		if (!died)
			break;
	}
	cr_assert_lt(n, 100, "the open never finished");
	cr_assert(seen[1] && seen[2],
		"crashes left only version %d: the upgrade's own points were missed",
		seen[1] ? 1 : 2);
	unlink(tp.path);
}
