/*
 * test_paths.c -- where paths start, through the public API: relative
 * paths from the pool's current directory (daxfile_chdir, daxfile_fchdir,
 * daxfile_getcwd, a current directory that is moved or removed), the *at
 * calls with a directory handle (O_RDONLY | O_DIRECTORY or O_PATH), NULL
 * for the current directory, and absolute paths that ignore the handle;
 * fstatat and lstat with their flags (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH),
 * mkdirat, unlinkat (AT_REMOVEDIR), openat, and truncate by path; each
 * with the errno values Linux gives on XFS.
 */
#define _GNU_SOURCE	/* O_PATH, AT_* */

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daxfile.h"
#include "testutil.h"

static void
touch(daxfile_pool *pool, const char *path)
{
	TEST_OK(daxfile_close(xopen(pool, path, O_CREAT | O_WRONLY)));
}

/* check_cwd -- getcwd gives 'want'. */
static void
check_cwd(daxfile_pool *pool, const char *want)
{
	char buf[PATH_MAX];

	cr_assert_not_null(daxfile_getcwd(pool, buf, sizeof(buf)),
		"getcwd: %s (%s)", strerror(errno), daxfile_errormsg());
	cr_assert_str_eq(buf, want);
}

/* --- the current directory ------------------------------------------------- */

Test(paths, relative_paths_start_at_the_current_directory)
{
	struct test_pool tp;
	ino_t a, b;

	test_pool_create(&tp, "cwd", TEST_POOL_SIZE);
	check_cwd(tp.pool, "/");
	TEST_OK(daxfile_mkdir(tp.pool, "a", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "a/b", 0755));
	a = xstat(tp.pool, "/a").st_ino;
	b = xstat(tp.pool, "/a/b").st_ino;
	TEST_OK(daxfile_chdir(tp.pool, "/a"));
	check_cwd(tp.pool, "/a");
	cr_assert_eq(xstat(tp.pool, ".").st_ino, a);
	cr_assert_eq(xstat(tp.pool, "b").st_ino, b);
	cr_assert_eq(xstat(tp.pool, "./b/.").st_ino, b);
	cr_assert_eq(xstat(tp.pool, "..").st_ino, xstat(tp.pool, "/").st_ino);
	/* every call that takes a path resolves it from here */
	touch(tp.pool, "b/f");
	TEST_OK(daxfile_rename(tp.pool, "b/f", "g"));
	TEST_OK(daxfile_link(tp.pool, "g", "b/h"));
	TEST_OK(daxfile_symlink(tp.pool, "g", "lg"));
	cr_assert_eq(xstat(tp.pool, "/a/lg").st_ino, xstat(tp.pool, "/a/b/h").st_ino);
	TEST_OK(daxfile_truncate(tp.pool, "lg", 100));
	cr_assert_eq(xstat(tp.pool, "/a/g").st_size, 100);
	daxfile_dir *d = daxfile_opendir(tp.pool, "b");
	cr_assert_not_null(d);
	TEST_OK(daxfile_closedir(d));
	TEST_OK(daxfile_unlink(tp.pool, "b/h"));
	TEST_OK(daxfile_unlink(tp.pool, "lg"));
	TEST_OK(daxfile_unlink(tp.pool, "g"));
	TEST_OK(daxfile_rmdir(tp.pool, "b"));
	/* absolute paths still start at the root */
	cr_assert_eq(xstat(tp.pool, "/a").st_ino, a);
	TEST_OK(daxfile_chdir(tp.pool, ".."));
	check_cwd(tp.pool, "/");
	TEST_OK(daxfile_chdir(tp.pool, "a/"));
	check_cwd(tp.pool, "/a");
	TEST_OK(daxfile_chdir(tp.pool, "/"));
	/* a pool opens with the root as its current directory */
	TEST_OK(daxfile_chdir(tp.pool, "a"));
	test_pool_reopen(&tp);
	check_cwd(tp.pool, "/");
	test_pool_destroy(&tp);
}

Test(paths, chdir_through_a_link_lands_in_its_target)
{
	struct test_pool tp;

	test_pool_create(&tp, "cwdlink", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/p", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/p/q", 0755));
	TEST_OK(daxfile_symlink(tp.pool, "p/q", "/lq"));
	TEST_OK(daxfile_chdir(tp.pool, "/lq"));
	check_cwd(tp.pool, "/p/q");
	TEST_OK(daxfile_chdir(tp.pool, ".."));
	check_cwd(tp.pool, "/p");
	test_pool_destroy(&tp);
}

Test(paths, chdir_and_fchdir_fail_with_the_errno_of_each_bad_case)
{
	struct test_pool tp;
	daxfile_file *f;

	test_pool_create(&tp, "cwdbad", TEST_POOL_SIZE);
	touch(tp.pool, "/f");
	TEST_OK(daxfile_symlink(tp.pool, "nowhere", "/dangling"));
	FAILS(daxfile_chdir(tp.pool, "/f"), -1, ENOTDIR);
	FAILS(daxfile_chdir(tp.pool, "/f/"), -1, ENOTDIR);
	FAILS(daxfile_chdir(tp.pool, "/missing"), -1, ENOENT);
	FAILS(daxfile_chdir(tp.pool, "/dangling"), -1, ENOENT);
	FAILS(daxfile_chdir(tp.pool, ""), -1, ENOENT);
	FAILS(daxfile_chdir(tp.pool, NULL), -1, EFAULT);
	FAILS(daxfile_chdir(NULL, "/"), -1, EINVAL);
	f = xopen(tp.pool, "/f", O_RDONLY);
	FAILS(daxfile_fchdir(f), -1, ENOTDIR);
	TEST_OK(daxfile_close(f));
	FAILS(daxfile_fchdir(f), -1, EBADF);
	FAILS(daxfile_fchdir(NULL), -1, EBADF);
	check_cwd(tp.pool, "/");
	test_pool_destroy(&tp);
}

Test(paths, fchdir_takes_a_directory_handle_or_an_O_PATH_one)
{
	struct test_pool tp;
	daxfile_file *d;

	test_pool_create(&tp, "fchdir", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/d/e", 0755));
	d = xopen(tp.pool, "/d", O_RDONLY | O_DIRECTORY);
	TEST_OK(daxfile_fchdir(d));
	TEST_OK(daxfile_close(d));
	check_cwd(tp.pool, "/d");
	d = xopen(tp.pool, "e", O_PATH);
	TEST_OK(daxfile_fchdir(d));
	TEST_OK(daxfile_close(d));
	check_cwd(tp.pool, "/d/e");
	/* the current directory does not keep the pool busy */
	test_pool_destroy(&tp);
}

Test(paths, getcwd_follows_renames_and_checks_its_buffer)
{
	struct test_pool tp;
	char buf[64], *p;

	test_pool_create(&tp, "getcwd", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/one", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/one/two", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/other", 0755));
	TEST_OK(daxfile_chdir(tp.pool, "/one/two"));
	check_cwd(tp.pool, "/one/two");
	TEST_OK(daxfile_rename(tp.pool, "/one", "/other/uno"));
	check_cwd(tp.pool, "/other/uno/two");
	TEST_OK(daxfile_rename(tp.pool, "/other/uno/two", "/other/uno/dos"));
	check_cwd(tp.pool, "/other/uno/dos");

	/* the buffer: exact fit, one byte short, none, or allocated */
	cr_assert_not_null(daxfile_getcwd(tp.pool, buf, 15));
	FAILS(daxfile_getcwd(tp.pool, buf, 14), NULL, ERANGE);
	FAILS(daxfile_getcwd(tp.pool, buf, 0), NULL, EINVAL);
	p = daxfile_getcwd(tp.pool, NULL, 0);
	cr_assert_not_null(p);
	cr_assert_str_eq(p, "/other/uno/dos");
	free(p);
	p = daxfile_getcwd(tp.pool, NULL, 100);
	cr_assert_not_null(p);
	cr_assert_str_eq(p, "/other/uno/dos");
	free(p);
	FAILS(daxfile_getcwd(tp.pool, NULL, 5), NULL, ERANGE);
	FAILS(daxfile_getcwd(NULL, buf, sizeof(buf)), NULL, EINVAL);
	test_pool_destroy(&tp);
}

Test(paths, a_removed_current_directory_stays_current_but_empty)
{
	struct test_pool tp;
	char buf[64];
	struct stat st;
	daxfile_file *f;

	test_pool_create(&tp, "cwdgone", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/p", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/p/gone", 0755));
	TEST_OK(daxfile_chdir(tp.pool, "/p/gone"));
	TEST_OK(daxfile_rmdir(tp.pool, "/p/gone"));
	FAILS(daxfile_getcwd(tp.pool, buf, sizeof(buf)), NULL, ENOENT);
	TEST_OK(daxfile_stat(tp.pool, ".", &st));
	cr_assert_eq(st.st_nlink, 0);
	FAILS(daxfile_open(tp.pool, "x", O_CREAT | O_WRONLY, 0644), NULL, ENOENT);
	FAILS(daxfile_mkdir(tp.pool, "y", 0755), -1, ENOENT);
	FAILS(daxfile_symlink(tp.pool, "a", "z"), -1, ENOENT);
	/* an unnamed file needs no entry */
	f = daxfile_open(tp.pool, ".", O_TMPFILE | O_RDWR, 0600);
	cr_assert_not_null(f, "O_TMPFILE: %s", daxfile_errormsg());
	TEST_OK(daxfile_close(f));
	/* ".." is the parent it had, even after that goes too */
	cr_assert_eq(xstat(tp.pool, "..").st_ino, xstat(tp.pool, "/p").st_ino);
	TEST_OK(daxfile_rmdir(tp.pool, "/p"));
	TEST_OK(daxfile_stat(tp.pool, "..", &st));
	cr_assert_eq(st.st_nlink, 0);
	TEST_OK(daxfile_stat(tp.pool, "../..", &st));
	cr_assert_eq(st.st_ino, xstat(tp.pool, "/").st_ino);
	TEST_OK(daxfile_chdir(tp.pool, ".."));
	FAILS(daxfile_getcwd(tp.pool, buf, sizeof(buf)), NULL, ENOENT);
	TEST_OK(daxfile_chdir(tp.pool, "../"));
	check_cwd(tp.pool, "/");
	/* the removed directories were freed: the checker finds no orphan */
	test_pool_destroy(&tp);
}

/* --- the *at calls --------------------------------------------------------- */

Test(paths, at_calls_resolve_from_their_handle_and_absolute_paths_ignore_it)
{
	struct test_pool tp;
	daxfile_file *d, *p, *f;
	struct stat st;
	char buf[8];

	test_pool_create(&tp, "at", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/e", 0755));
	d = xopen(tp.pool, "/d", O_RDONLY | O_DIRECTORY);
	p = xopen(tp.pool, "/e", O_PATH);
	TEST_OK(daxfile_mkdirat(tp.pool, d, "sub", 0700));
	cr_assert(S_ISDIR(xfstat(d).st_mode));
	cr_assert_eq(xstat(tp.pool, "/d/sub").st_size, 80, "an empty directory");
	f = daxfile_openat(tp.pool, d, "sub/f", O_CREAT | O_RDWR, 0600);
	cr_assert_not_null(f, "openat: %s", daxfile_errormsg());
	cr_assert_eq(daxfile_write(f, "abc", 3), 3);
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_fstatat(tp.pool, d, "sub/f", &st, 0));
	cr_assert_eq(st.st_size, 3);
	cr_assert_eq(st.st_mode & 07777, 0600);
	TEST_OK(daxfile_renameat2(tp.pool, d, "sub/f", p, "g", 0));
	TEST_OK(daxfile_linkat(tp.pool, p, "g", d, "h", 0));
	TEST_OK(daxfile_symlinkat(tp.pool, "../e/g", d, "lg"));
	cr_assert_eq(daxfile_readlinkat(tp.pool, d, "lg", buf, sizeof(buf)), 6);
	TEST_OK(daxfile_fstatat(tp.pool, d, "lg", &st, 0));
	cr_assert(S_ISREG(st.st_mode));
	TEST_OK(daxfile_fstatat(tp.pool, d, "lg", &st, AT_SYMLINK_NOFOLLOW));
	cr_assert(S_ISLNK(st.st_mode));
	cr_assert_eq(st.st_nlink, 1);
	TEST_OK(daxfile_fstatat(tp.pool, p, "g", &st, 0));
	cr_assert_eq(st.st_nlink, 2);
	/* an absolute path ignores the handle, even a closed one */
	f = xopen(tp.pool, "/e/g", O_RDONLY);
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_fstatat(tp.pool, f, "/e/g", &st, 0));
	TEST_OK(daxfile_fstatat(tp.pool, d, "/d", &st, 0));
	cr_assert_eq(st.st_ino, xstat(tp.pool, "/d").st_ino);
	/* NULL is the current directory */
	TEST_OK(daxfile_chdir(tp.pool, "/e"));
	TEST_OK(daxfile_fstatat(tp.pool, NULL, "g", &st, 0));
	TEST_OK(daxfile_unlinkat(tp.pool, d, "h", 0));
	TEST_OK(daxfile_unlinkat(tp.pool, d, "lg", 0));
	TEST_OK(daxfile_unlinkat(tp.pool, NULL, "g", 0));
	TEST_OK(daxfile_unlinkat(tp.pool, d, "sub", AT_REMOVEDIR));
	TEST_OK(daxfile_unlinkat(tp.pool, NULL, "/e", AT_REMOVEDIR));
	TEST_OK(daxfile_close(d));
	TEST_OK(daxfile_close(p));
	test_pool_destroy(&tp);
}

Test(paths, at_calls_fail_with_the_errno_of_each_bad_case)
{
	struct test_pool tp;
	daxfile_file *d, *f, *closed;
	struct stat st;

	test_pool_create(&tp, "atbad", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	touch(tp.pool, "/d/f");
	d = xopen(tp.pool, "/d", O_RDONLY | O_DIRECTORY);
	f = xopen(tp.pool, "/d/f", O_RDONLY);
	closed = xopen(tp.pool, "/d", O_RDONLY);
	TEST_OK(daxfile_close(closed));
	/* a handle that is not a directory, or not a handle */
	FAILS(daxfile_fstatat(tp.pool, f, "x", &st, 0), -1, ENOTDIR);
	FAILS(daxfile_fstatat(tp.pool, f, ".", &st, 0), -1, ENOTDIR);
	FAILS(daxfile_openat(tp.pool, f, "x", O_RDONLY), NULL, ENOTDIR);
	FAILS(daxfile_mkdirat(tp.pool, f, "x", 0755), -1, ENOTDIR);
	FAILS(daxfile_fstatat(tp.pool, closed, "f", &st, 0), -1, EBADF);
	FAILS(daxfile_mkdirat(tp.pool, closed, "x", 0755), -1, EBADF);
	FAILS(daxfile_unlinkat(tp.pool, closed, "f", 0), -1, EBADF);
	FAILS(daxfile_openat(tp.pool, closed, "f", O_RDONLY), NULL, EBADF);
	/* unlinkat's flags and kinds */
	FAILS(daxfile_unlinkat(tp.pool, d, "f", 0x1), -1, EINVAL);
	FAILS(daxfile_unlinkat(tp.pool, d, "f", AT_REMOVEDIR), -1, ENOTDIR);
	FAILS(daxfile_unlinkat(tp.pool, NULL, "/d", 0), -1, EISDIR);
	FAILS(daxfile_unlinkat(tp.pool, d, ".", AT_REMOVEDIR), -1, EINVAL);
	FAILS(daxfile_unlinkat(tp.pool, d, "missing", 0), -1, ENOENT);
	/* fstatat's flags and empty paths */
	FAILS(daxfile_fstatat(tp.pool, d, "f", &st, 0x4000000), -1, EINVAL);
	FAILS(daxfile_fstatat(tp.pool, f, "", &st, 0), -1, ENOENT);
	FAILS(daxfile_fstatat(tp.pool, NULL, "", &st, 0), -1, ENOENT);
	FAILS(daxfile_fstatat(tp.pool, d, "f", NULL, 0), -1, EFAULT);
	FAILS(daxfile_fstatat(tp.pool, d, NULL, &st, 0), -1, EFAULT);
	FAILS(daxfile_fstatat(NULL, d, "f", &st, 0), -1, EINVAL);
	TEST_OK(daxfile_close(d));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(paths, fstatat_with_AT_EMPTY_PATH_describes_the_handle_itself)
{
	struct test_pool tp;
	daxfile_file *f, *l;
	struct stat st;

	test_pool_create(&tp, "emptypath", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	touch(tp.pool, "/d/f");
	TEST_OK(daxfile_symlink(tp.pool, "f", "/d/l"));
	f = xopen(tp.pool, "/d/f", O_RDONLY);
	l = xopen(tp.pool, "/d/l", O_PATH | O_NOFOLLOW);
	TEST_OK(daxfile_fstatat(tp.pool, f, "", &st, AT_EMPTY_PATH));
	cr_assert_eq(st.st_ino, xstat(tp.pool, "/d/f").st_ino);
	TEST_OK(daxfile_fstatat(tp.pool, l, "", &st, AT_EMPTY_PATH));
	cr_assert(S_ISLNK(st.st_mode));
	TEST_OK(daxfile_fstatat(tp.pool, l, "", &st,
		AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
	cr_assert(S_ISLNK(st.st_mode));
	TEST_OK(daxfile_chdir(tp.pool, "/d"));
	TEST_OK(daxfile_fstatat(tp.pool, NULL, "", &st, AT_EMPTY_PATH));
	cr_assert_eq(st.st_ino, xstat(tp.pool, "/d").st_ino);
	/* with a path, AT_EMPTY_PATH changes nothing */
	TEST_OK(daxfile_fstatat(tp.pool, NULL, "f", &st, AT_EMPTY_PATH));
	cr_assert(S_ISREG(st.st_mode));
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_close(l));
	test_pool_destroy(&tp);
}

Test(paths, truncate_by_path_follows_links_and_fails_as_on_linux)
{
	struct test_pool tp;
	char buf[16];
	daxfile_file *f;

	test_pool_create(&tp, "truncpath", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	f = xopen(tp.pool, "/d/f", O_CREAT | O_RDWR);
	cr_assert_eq(daxfile_write(f, "0123456789", 10), 10);
	TEST_OK(daxfile_symlink(tp.pool, "d/f", "/lf"));
	TEST_OK(daxfile_truncate(tp.pool, "/lf", 4));
	cr_assert_eq(xfstat(f).st_size, 4);
	TEST_OK(daxfile_truncate(tp.pool, "/d/f", 8));
	cr_assert_eq(daxfile_pread(f, buf, sizeof(buf), 0), 8);
	cr_assert(memcmp(buf, "0123\0\0\0\0", 8) == 0);
	TEST_OK(daxfile_close(f));
	FAILS(daxfile_truncate(tp.pool, "/d", 0), -1, EISDIR);
	FAILS(daxfile_truncate(tp.pool, "/d/f", -1), -1, EINVAL);
	FAILS(daxfile_truncate(tp.pool, "/missing", -1), -1, EINVAL);
	FAILS(daxfile_truncate(tp.pool, "/missing", 0), -1, ENOENT);
	FAILS(daxfile_truncate(tp.pool, "/d/f/", 0), -1, ENOTDIR);
	FAILS(daxfile_truncate(tp.pool, "/d/f", (off_t)1 << 62), -1, EFBIG);
	FAILS(daxfile_truncate(tp.pool, "", 0), -1, ENOENT);
	test_pool_reopen(&tp);
	cr_assert_eq(xstat(tp.pool, "/d/f").st_size, 8);
	test_pool_destroy(&tp);
}
