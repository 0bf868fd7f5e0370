/*
 * test_rename_flags.c -- renameat2 through the public API: RENAME_NOREPLACE
 * (EEXIST, also for a second name of the same file), RENAME_EXCHANGE (two
 * files, two directories in different parents with their ".." and link
 * counts fixed, a file with a directory, links), each one atomic and kept
 * across a pool close and open; flags rejected as Linux rejects them; the
 * order of the errors when several apply, as the kernel checks them.
 */
#define _GNU_SOURCE	/* RENAME_*, AT_* */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daxfile.h"
#include "testutil.h"

#define X(pool, a, b, f) daxfile_renameat2((pool), NULL, (a), NULL, (b), (f))

Test(rename_flags, noreplace_moves_only_onto_a_free_name)
{
	struct test_pool tp;
	ino_t f;

	test_pool_create(&tp, "noreplace", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	put_text(tp.pool, "/f", "f");
	put_text(tp.pool, "/g", "g");
	TEST_OK(daxfile_link(tp.pool, "/f", "/f2"));
	TEST_OK(daxfile_symlink(tp.pool, "nowhere", "/dangling"));
	f = xlstat(tp.pool, "/f").st_ino;
	FAILS(X(tp.pool, "/f", "/g", RENAME_NOREPLACE), -1, EEXIST);
	FAILS(X(tp.pool, "/f", "/f2", RENAME_NOREPLACE), -1, EEXIST);
	FAILS(X(tp.pool, "/f", "/f", RENAME_NOREPLACE), -1, EEXIST);
	FAILS(X(tp.pool, "/f", "/dangling", RENAME_NOREPLACE), -1, EEXIST);
	FAILS(X(tp.pool, "/f", "/d", RENAME_NOREPLACE), -1, EEXIST);
	FAILS(X(tp.pool, "/f", "/d/.", RENAME_NOREPLACE), -1, EEXIST);
	FAILS(X(tp.pool, "/f", "/", RENAME_NOREPLACE), -1, EEXIST);
	FAILS(X(tp.pool, "/d/.", "/x", RENAME_NOREPLACE), -1, EBUSY);
	check_text(tp.pool, "/g", "g");
	TEST_OK(X(tp.pool, "/f", "/d/h", RENAME_NOREPLACE));
	cr_assert_eq(xlstat(tp.pool, "/d/h").st_ino, f);
	FAILS(daxfile_lstat(tp.pool, "/f", &(struct stat){0}), -1, ENOENT);
	TEST_OK(X(tp.pool, "/d", "/e", RENAME_NOREPLACE));
	test_pool_reopen(&tp);
	check_text(tp.pool, "/e/h", "f");
	test_pool_destroy(&tp);
}

Test(rename_flags, exchange_swaps_two_files_atomically)
{
	struct test_pool tp;
	ino_t a, b;

	test_pool_create(&tp, "exchfiles", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	put_text(tp.pool, "/a", "aaa");
	put_text(tp.pool, "/d/b", "b");
	a = xlstat(tp.pool, "/a").st_ino;
	b = xlstat(tp.pool, "/d/b").st_ino;
	TEST_OK(X(tp.pool, "/a", "/d/b", RENAME_EXCHANGE));
	cr_assert_eq(xlstat(tp.pool, "/a").st_ino, b);
	cr_assert_eq(xlstat(tp.pool, "/d/b").st_ino, a);
	check_text(tp.pool, "/a", "b");
	check_text(tp.pool, "/d/b", "aaa");
	cr_assert_eq(xlstat(tp.pool, "/a").st_nlink, 1);
	/* in one directory, and with a link */
	TEST_OK(daxfile_symlink(tp.pool, "a", "/l"));
	TEST_OK(X(tp.pool, "/l", "/a", RENAME_EXCHANGE));
	cr_assert(S_ISLNK(xlstat(tp.pool, "/a").st_mode));
	cr_assert(S_ISREG(xlstat(tp.pool, "/l").st_mode));
	/* two names of one file: nothing to do */
	TEST_OK(daxfile_link(tp.pool, "/l", "/l2"));
	TEST_OK(X(tp.pool, "/l", "/l2", RENAME_EXCHANGE));
	cr_assert_eq(xlstat(tp.pool, "/l").st_nlink, 2);
	test_pool_reopen(&tp);
	check_text(tp.pool, "/l", "b");
	check_text(tp.pool, "/d/b", "aaa");
	test_pool_destroy(&tp);
}

Test(rename_flags, exchange_of_directories_fixes_dotdot_and_link_counts)
{
	struct test_pool tp;
	ino_t x, y, p, q;

	test_pool_create(&tp, "exchdirs", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/p", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/q", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/p/x", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/p/x/inner", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/q/y", 0755));
	put_text(tp.pool, "/q/file", "file");
	x = xlstat(tp.pool, "/p/x").st_ino;
	y = xlstat(tp.pool, "/q/y").st_ino;
	p = xlstat(tp.pool, "/p").st_ino;
	q = xlstat(tp.pool, "/q").st_ino;

	/* two directories of different parents: the links stay as they were */
	TEST_OK(X(tp.pool, "/p/x", "/q/y", RENAME_EXCHANGE));
	cr_assert_eq(xlstat(tp.pool, "/p/x").st_ino, y);
	cr_assert_eq(xlstat(tp.pool, "/q/y").st_ino, x);
	cr_assert_eq(xlstat(tp.pool, "/p/x/..").st_ino, p);
	cr_assert_eq(xlstat(tp.pool, "/q/y/..").st_ino, q);
	cr_assert_eq(xlstat(tp.pool, "/q/y/inner/../..").st_ino, q);
	cr_assert_eq(xlstat(tp.pool, "/p").st_nlink, 3);
	cr_assert_eq(xlstat(tp.pool, "/q").st_nlink, 3);

	/* a directory with a file: the parents' link counts move */
	TEST_OK(X(tp.pool, "/p/x", "/q/file", RENAME_EXCHANGE));
	cr_assert(S_ISREG(xlstat(tp.pool, "/p/x").st_mode));
	cr_assert_eq(xlstat(tp.pool, "/q/file").st_ino, y);
	cr_assert_eq(xlstat(tp.pool, "/q/file/..").st_ino, q);
	cr_assert_eq(xlstat(tp.pool, "/p").st_nlink, 2);
	cr_assert_eq(xlstat(tp.pool, "/q").st_nlink, 4);
	check_text(tp.pool, "/p/x", "file");
	/* a non-empty directory may be exchanged: it is not replaced */
	TEST_OK(X(tp.pool, "/q/y", "/p/x", RENAME_EXCHANGE));
	cr_assert_eq(xlstat(tp.pool, "/p/x").st_ino, x);
	cr_assert_eq(xlstat(tp.pool, "/p/x/..").st_ino, p);
	cr_assert_eq(xlstat(tp.pool, "/p").st_nlink, 3);
	cr_assert_eq(xlstat(tp.pool, "/q").st_nlink, 3);
	test_pool_reopen(&tp);
	cr_assert_eq(xlstat(tp.pool, "/p/x/inner/..").st_ino, x);
	cr_assert_eq(xlstat(tp.pool, "/p/x/..").st_ino, p);
	check_text(tp.pool, "/q/y", "file");
	test_pool_destroy(&tp);
}

Test(rename_flags, renameat2_fails_with_the_errno_of_each_bad_case)
{
	struct test_pool tp;

	test_pool_create(&tp, "renameat2bad", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/e", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/e/sub", 0755));
	put_text(tp.pool, "/f", "f");
	put_text(tp.pool, "/g", "g");
	/* flags */
	FAILS(X(tp.pool, "/f", "/g", RENAME_EXCHANGE | RENAME_NOREPLACE), -1,
		EINVAL);
	FAILS(X(tp.pool, "/f", "/g", RENAME_EXCHANGE | RENAME_WHITEOUT), -1,
		EINVAL);
	FAILS(X(tp.pool, "/f", "/g", 0x80), -1, EINVAL);
	FAILS(X(tp.pool, "/f", "/g", RENAME_WHITEOUT), -1, EINVAL);
	/* as a file system without whiteouts: after the walk */
	FAILS(X(tp.pool, "/nope", "/g", RENAME_WHITEOUT), -1, ENOENT);
	FAILS(X(tp.pool, "/nodir/f", "/g", RENAME_WHITEOUT), -1, ENOENT);
	/* exchange needs both */
	FAILS(X(tp.pool, "/f", "/nope", RENAME_EXCHANGE), -1, ENOENT);
	FAILS(X(tp.pool, "/nope", "/f", RENAME_EXCHANGE), -1, ENOENT);
	FAILS(X(tp.pool, "/nope", "/f/x", RENAME_EXCHANGE), -1, ENOTDIR);
	/* a directory and its own descendant or ancestor */
	FAILS(X(tp.pool, "/e", "/e/sub", RENAME_EXCHANGE), -1, EINVAL);
	FAILS(X(tp.pool, "/e/sub", "/e", RENAME_EXCHANGE), -1, EINVAL);
	FAILS(X(tp.pool, "/e/sub", "/e", 0), -1, ENOTEMPTY);
	/* trailing slashes */
	FAILS(X(tp.pool, "/f", "/g/", RENAME_EXCHANGE), -1, ENOTDIR);
	FAILS(X(tp.pool, "/f/", "/g", RENAME_EXCHANGE), -1, ENOTDIR);
	FAILS(X(tp.pool, "/d", "/f/", RENAME_EXCHANGE), -1, ENOTDIR);
	FAILS(X(tp.pool, "/f", "/d/", 0), -1, ENOTDIR);
	FAILS(X(tp.pool, "/f", "/new/", 0), -1, ENOTDIR);
	FAILS(X(tp.pool, "/f", "/..", 0), -1, EBUSY);
	FAILS(X(tp.pool, "/..", "/x", 0), -1, EBUSY);
	FAILS(X(tp.pool, "/f", "/d", 0), -1, EISDIR);
	FAILS(X(tp.pool, "/d", "/f", 0), -1, ENOTDIR);
	FAILS(X(NULL, "/f", "/g", 0), -1, EINVAL);
	check_text(tp.pool, "/f", "f");
	check_text(tp.pool, "/g", "g");
	/* and what trailing slashes allow */
	TEST_OK(X(tp.pool, "/d", "/e/", RENAME_EXCHANGE));
	TEST_OK(X(tp.pool, "/d/", "/e", RENAME_EXCHANGE));
	TEST_OK(X(tp.pool, "/f", "/d/", RENAME_EXCHANGE));
	cr_assert(S_ISREG(xlstat(tp.pool, "/d").st_mode));
	TEST_OK(X(tp.pool, "/f/", "/new/", 0));
	cr_assert(S_ISDIR(xlstat(tp.pool, "/new").st_mode));
	test_pool_destroy(&tp);
}

Test(rename_flags, a_replaced_directory_target_with_a_handle_keeps_its_dotdot)
{
	struct test_pool tp;
	daxfile_file *h;
	struct stat st;

	test_pool_create(&tp, "renamedirgone", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/a", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/b", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/b/t", 0755));
	h = xopen(tp.pool, "/b/t", O_RDONLY | O_DIRECTORY);
	TEST_OK(daxfile_rename(tp.pool, "/a", "/b/t"));
	cr_assert_eq(xfstat(h).st_nlink, 0);
	TEST_OK(daxfile_fstatat(tp.pool, h, "..", &st, 0));
	cr_assert_eq(st.st_ino, xlstat(tp.pool, "/b").st_ino);
	FAILS(daxfile_openat(tp.pool, h, "x", O_CREAT | O_WRONLY, 0600), NULL,
		ENOENT);
	TEST_OK(daxfile_close(h));
	cr_assert_eq(xlstat(tp.pool, "/b").st_nlink, 3);
	test_pool_destroy(&tp);
}
