/*
 * test_links.c -- hard and symbolic links through the public API, with the
 * errno values Linux gives on XFS: link/linkat (link counts, data kept
 * while a name is left, EPERM for directories, EMLINK at the limit,
 * AT_SYMLINK_FOLLOW, AT_EMPTY_PATH and naming an O_TMPFILE file),
 * symlink/symlinkat/readlink/readlinkat (short and long targets, lstat,
 * DT_LNK), and how every walk follows links: relative and absolute
 * targets, ".." after a link, trailing slashes, dangling links, loops and
 * the limit of 40, O_NOFOLLOW, O_CREAT through a dangling link; all of it
 * across a pool close and open, and clean for the checker.
 */
#define _GNU_SOURCE	/* O_PATH, O_TMPFILE, AT_* */

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "daxfile.h"
#include "testutil.h"

/*
 * link_tree -- a new pool holding the directory /d, the file /f ("f"), and
 * the links /ld -> d and /lf -> f.
 */
static void
link_tree(struct test_pool *tp, const char *tag)
{
	test_pool_create(tp, tag, TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp->pool, "/d", 0755));
	put_text(tp->pool, "/f", "f");
	TEST_OK(daxfile_symlink(tp->pool, "d", "/ld"));
	TEST_OK(daxfile_symlink(tp->pool, "f", "/lf"));
}

/* check_link -- 'path' is a link whose target is 'target'. */
static void
check_link(daxfile_pool *pool, const char *path, const char *target)
{
	char buf[4200];
	struct stat st = xlstat(pool, path);
	ssize_t n = daxfile_readlink(pool, path, buf, sizeof(buf));

	cr_assert(S_ISLNK(st.st_mode), "%s: mode %o", path, st.st_mode);
	cr_assert_eq(st.st_mode & 07777, 0777);
	cr_assert_eq(st.st_size, (off_t)strlen(target));
	cr_assert_eq(n, (ssize_t)strlen(target), "readlink(%s): %zd (%s)", path,
		n, daxfile_errormsg());
	cr_assert(memcmp(buf, target, (size_t)n) == 0, "%s: wrong target", path);
}

/* dtype_of -- the d_type readdir gives 'name' in 'dir'. */
static unsigned
dtype_of(daxfile_pool *pool, const char *dir, const char *name)
{
	daxfile_dir *d = daxfile_opendir(pool, dir);
	struct dirent *de;
	unsigned type = DT_UNKNOWN;

	cr_assert_not_null(d, "opendir(%s): %s", dir, daxfile_errormsg());
	while ((de = daxfile_readdir(d)) != NULL)
		if (strcmp(de->d_name, name) == 0)
			type = de->d_type;
	TEST_OK(daxfile_closedir(d));
	return type;
}

/* --- hard links ------------------------------------------------------------ */

Test(links, link_gives_a_file_a_second_name_and_counts_it)
{
	struct test_pool tp;
	struct stat a, b, dir;

	test_pool_create(&tp, "link", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	put_text(tp.pool, "/f", "shared");
	dir = xstat(tp.pool, "/d");
	usleep(2000);
	TEST_OK(daxfile_link(tp.pool, "/f", "/d/g"));
	a = xstat(tp.pool, "/f");
	b = xstat(tp.pool, "/d/g");
	cr_assert_eq(a.st_ino, b.st_ino);
	cr_assert_eq(a.st_nlink, 2);
	cr_assert_eq(b.st_nlink, 2);
	cr_assert_eq(dtype_of(tp.pool, "/d", "g"), DT_REG);
	/* the directory changed; its own link count did not */
	cr_assert_eq(xstat(tp.pool, "/d").st_nlink, 2);
	cr_assert(xstat(tp.pool, "/d").st_mtim.tv_nsec != dir.st_mtim.tv_nsec ||
		xstat(tp.pool, "/d").st_mtim.tv_sec != dir.st_mtim.tv_sec);

	/* a write through one name shows through the other */
	put_text(tp.pool, "/d/g", "changed");
	check_text(tp.pool, "/f", "changed");

	/* unlink of one name keeps the data under the other */
	TEST_OK(daxfile_unlink(tp.pool, "/f"));
	cr_assert_eq(xstat(tp.pool, "/d/g").st_nlink, 1);
	check_text(tp.pool, "/d/g", "changed");

	/* and a third and fourth name, relative ones, survive a reopen */
	TEST_OK(daxfile_link(tp.pool, "d/g", "h"));
	TEST_OK(daxfile_link(tp.pool, "h", "d/../i"));
	test_pool_reopen(&tp);
	cr_assert_eq(xstat(tp.pool, "/i").st_nlink, 3);
	cr_assert_eq(xstat(tp.pool, "/h").st_ino, b.st_ino);
	check_text(tp.pool, "/i", "changed");
	TEST_OK(daxfile_unlink(tp.pool, "/h"));
	TEST_OK(daxfile_unlink(tp.pool, "/i"));
	TEST_OK(daxfile_unlink(tp.pool, "/d/g"));
	FAILS(daxfile_stat(tp.pool, "/d/g", &a), -1, ENOENT);
	test_pool_destroy(&tp);
}

Test(links, the_last_unlink_of_a_hard_linked_file_frees_its_blocks)
{
	struct test_pool tp;
	struct statvfs before, sv;
	char big[3 * 4096];
	daxfile_file *f;

	memset(big, 'x', sizeof(big));
	test_pool_create(&tp, "linkfree", TEST_POOL_SIZE);
	TEST_OK(daxfile_statvfs(tp.pool, &before));
	f = xopen(tp.pool, "/a", O_CREAT | O_WRONLY);
	cr_assert_eq(daxfile_write(f, big, sizeof(big)), (ssize_t)sizeof(big));
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_link(tp.pool, "/a", "/b"));
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_eq(sv.f_files - sv.f_ffree, before.f_files - before.f_ffree + 1,
		"two names of one file count one inode");
	TEST_OK(daxfile_unlink(tp.pool, "/a"));
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_eq(sv.f_bfree, before.f_bfree - 3);
	/* open while its last name goes: freed at the close */
	f = xopen(tp.pool, "/b", O_RDONLY);
	TEST_OK(daxfile_unlink(tp.pool, "/b"));
	cr_assert_eq(xfstat(f).st_nlink, 0);
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_eq(sv.f_bfree, before.f_bfree);
	test_pool_destroy(&tp);
}

Test(links, link_fails_with_the_errno_of_each_bad_case)
{
	struct test_pool tp;

	test_pool_create(&tp, "linkbad", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	put_text(tp.pool, "/f", "f");
	TEST_OK(daxfile_symlink(tp.pool, "d", "/ld"));
	FAILS(daxfile_link(tp.pool, "/d", "/dl"), -1, EPERM);
	FAILS(daxfile_link(tp.pool, "/ld/", "/dl"), -1, EPERM);
	FAILS(daxfile_link(tp.pool, "/", "/dl"), -1, EPERM);
	FAILS(daxfile_link(tp.pool, "/d", "/f"), -1, EEXIST);
	FAILS(daxfile_link(tp.pool, "/f", "/f"), -1, EEXIST);
	FAILS(daxfile_link(tp.pool, "/f", "/d"), -1, EEXIST);
	FAILS(daxfile_link(tp.pool, "/f", "/ld"), -1, EEXIST);
	FAILS(daxfile_link(tp.pool, "/f", "/d/."), -1, EEXIST);
	FAILS(daxfile_link(tp.pool, "/f", "/"), -1, EEXIST);
	FAILS(daxfile_link(tp.pool, "/f", "/new/"), -1, ENOENT);
	FAILS(daxfile_link(tp.pool, "/f/", "/new"), -1, ENOTDIR);
	FAILS(daxfile_link(tp.pool, "/missing", "/new"), -1, ENOENT);
	FAILS(daxfile_link(tp.pool, "/f", "/missing/new"), -1, ENOENT);
	FAILS(daxfile_link(tp.pool, "/f", "/f/new"), -1, ENOTDIR);
	FAILS(daxfile_link(tp.pool, "", "/new"), -1, ENOENT);
	FAILS(daxfile_link(tp.pool, "/f", ""), -1, ENOENT);
	FAILS(daxfile_link(tp.pool, NULL, "/new"), -1, EFAULT);
	FAILS(daxfile_linkat(tp.pool, NULL, "/f", NULL, "/new", 0x12345), -1,
		EINVAL);
	FAILS(daxfile_link(NULL, "/f", "/new"), -1, EINVAL);
	FAILS(daxfile_stat(tp.pool, "/new", &(struct stat){0}), -1, ENOENT);
	cr_assert_eq(xstat(tp.pool, "/f").st_nlink, 1);
	test_pool_destroy(&tp);
}

Test(links, link_of_a_symbolic_link_links_the_link_unless_asked_to_follow)
{
	struct test_pool tp;
	struct stat st;

	test_pool_create(&tp, "linksym", TEST_POOL_SIZE);
	put_text(tp.pool, "/f", "f");
	TEST_OK(daxfile_symlink(tp.pool, "f", "/lf"));
	TEST_OK(daxfile_symlink(tp.pool, "nowhere", "/dangling"));
	TEST_OK(daxfile_link(tp.pool, "/lf", "/lf2"));
	st = xlstat(tp.pool, "/lf2");
	cr_assert(S_ISLNK(st.st_mode));
	cr_assert_eq(st.st_nlink, 2);
	cr_assert_eq(st.st_ino, xlstat(tp.pool, "/lf").st_ino);
	cr_assert_eq(dtype_of(tp.pool, "/", "lf2"), DT_LNK);
	check_text(tp.pool, "/lf2", "f");

	TEST_OK(daxfile_linkat(tp.pool, NULL, "/lf", NULL, "/f2",
		AT_SYMLINK_FOLLOW));
	st = xlstat(tp.pool, "/f2");
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_nlink, 2);
	cr_assert_eq(st.st_ino, xstat(tp.pool, "/f").st_ino);
	FAILS(daxfile_linkat(tp.pool, NULL, "/dangling", NULL, "/x",
		AT_SYMLINK_FOLLOW), -1, ENOENT);
	TEST_OK(daxfile_link(tp.pool, "/dangling", "/dangling2"));
	cr_assert_eq(xlstat(tp.pool, "/dangling").st_nlink, 2);
	/* unlink of a link name leaves the other and the target */
	TEST_OK(daxfile_unlink(tp.pool, "/lf"));
	check_link(tp.pool, "/lf2", "f");
	cr_assert_eq(xlstat(tp.pool, "/lf2").st_nlink, 1);
	test_pool_reopen(&tp);
	check_link(tp.pool, "/dangling2", "nowhere");
	cr_assert_eq(xlstat(tp.pool, "/dangling2").st_nlink, 2);
	test_pool_destroy(&tp);
}

Test(links, link_stops_with_EMLINK_at_the_link_limit)
{
	struct test_pool tp;
	char name[32];
	int n;

	test_pool_create(&tp, "emlink", (uint64_t)256 << 20);
	put_text(tp.pool, "/f", "f");
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	TEST_OK(daxfile_chdir(tp.pool, "/d"));
	for (n = 1; n < 70000; n++) {
		snprintf(name, sizeof(name), "%d", n);
		if (daxfile_link(tp.pool, "/f", name) != 0)
			break;
	}
	cr_assert_eq(errno, EMLINK, "link %d: %s", n, daxfile_errormsg());
	assert_errormsg();
	cr_assert_eq(n, 65000, "the limit is 65000 links, stopped at %d", n);
	cr_assert_eq(xstat(tp.pool, "/f").st_nlink, 65000);
	FAILS(daxfile_stat(tp.pool, name, &(struct stat){0}), -1, ENOENT);
	/* one name fewer makes room for one more */
	TEST_OK(daxfile_unlink(tp.pool, "1"));
	TEST_OK(daxfile_link(tp.pool, "/f", name));
	FAILS(daxfile_link(tp.pool, "/f", "again"), -1, EMLINK);
	test_pool_destroy(&tp);
}

Test(links, linkat_with_AT_EMPTY_PATH_names_an_open_file)
{
	struct test_pool tp;
	daxfile_file *f, *g, *d;

	test_pool_create(&tp, "linkempty", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	put_text(tp.pool, "/f", "f");
	f = xopen(tp.pool, "/f", O_RDONLY);
	d = xopen(tp.pool, "/d", O_RDONLY | O_DIRECTORY);
	TEST_OK(daxfile_linkat(tp.pool, f, "", d, "g", AT_EMPTY_PATH));
	cr_assert_eq(xstat(tp.pool, "/d/g").st_ino, xfstat(f).st_ino);
	cr_assert_eq(xfstat(f).st_nlink, 2);
	/* without the flag an empty path names nothing */
	FAILS(daxfile_linkat(tp.pool, f, "", d, "h", 0), -1, ENOENT);
	/* a directory handle, or the current directory, is a directory */
	FAILS(daxfile_linkat(tp.pool, d, "", NULL, "/dl", AT_EMPTY_PATH), -1,
		EPERM);
	FAILS(daxfile_linkat(tp.pool, NULL, "", NULL, "/dl", AT_EMPTY_PATH), -1,
		EPERM);
	/* a file whose last name is gone cannot get one again */
	g = xopen(tp.pool, "/d/g", O_RDONLY);
	TEST_OK(daxfile_unlink(tp.pool, "/d/g"));
	TEST_OK(daxfile_unlink(tp.pool, "/f"));
	FAILS(daxfile_linkat(tp.pool, g, "", NULL, "/back", AT_EMPTY_PATH), -1,
		ENOENT);
	TEST_OK(daxfile_close(g));
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_close(d));
	test_pool_destroy(&tp);
}

Test(links, an_O_TMPFILE_file_is_unnamed_until_linkat_names_it)
{
	struct test_pool tp;
	struct statvfs before, sv;
	char big[2 * 4096];
	daxfile_file *f;
	struct stat st;

	memset(big, 't', sizeof(big));
	test_pool_create(&tp, "tmpfile", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	TEST_OK(daxfile_statvfs(tp.pool, &before));
	f = daxfile_open(tp.pool, "/d", O_TMPFILE | O_RDWR, 0640);
	cr_assert_not_null(f, "O_TMPFILE: %s", daxfile_errormsg());
	st = xfstat(f);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0640);
	cr_assert_eq(st.st_nlink, 0);
	cr_assert_eq(daxfile_write(f, big, sizeof(big)), (ssize_t)sizeof(big));
	daxfile_dir *dd = daxfile_opendir(tp.pool, "/d");
	struct dirent *de;
	int n = 0;
	while ((de = daxfile_readdir(dd)) != NULL)
		n++;
	TEST_OK(daxfile_closedir(dd));
	cr_assert_eq(n, 2, "an unnamed file has no entry");

	TEST_OK(daxfile_linkat(tp.pool, f, "", NULL, "/d/named", AT_EMPTY_PATH));
	cr_assert_eq(xfstat(f).st_nlink, 1);
	cr_assert_eq(xstat(tp.pool, "/d/named").st_ino, st.st_ino);
	TEST_OK(daxfile_linkat(tp.pool, f, "", NULL, "/d/again", AT_EMPTY_PATH));
	cr_assert_eq(xfstat(f).st_nlink, 2);
	TEST_OK(daxfile_close(f));
	test_pool_reopen(&tp);
	cr_assert_eq(xstat(tp.pool, "/d/named").st_size, (off_t)sizeof(big));
	cr_assert_eq(xstat(tp.pool, "/d/again").st_nlink, 2);

	/* with O_EXCL it can never be named */
	f = daxfile_open(tp.pool, "/d", O_TMPFILE | O_WRONLY | O_EXCL, 0600);
	cr_assert_not_null(f, "O_TMPFILE|O_EXCL: %s", daxfile_errormsg());
	FAILS(daxfile_linkat(tp.pool, f, "", NULL, "/d/x", AT_EMPTY_PATH), -1,
		ENOENT);
	TEST_OK(daxfile_close(f));

	/* one never named is gone at its close, its blocks free */
	TEST_OK(daxfile_unlink(tp.pool, "/d/named"));
	TEST_OK(daxfile_unlink(tp.pool, "/d/again"));
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_eq(sv.f_bfree, before.f_bfree);
	f = daxfile_open(tp.pool, "d/", O_TMPFILE | O_WRONLY, 0600);
	cr_assert_not_null(f);
	cr_assert_eq(daxfile_write(f, big, sizeof(big)), (ssize_t)sizeof(big));
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_lt(sv.f_bfree, before.f_bfree);
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_eq(sv.f_bfree, before.f_bfree);
	cr_assert_eq(sv.f_files - sv.f_ffree, before.f_files - before.f_ffree);
	test_pool_destroy(&tp);
}

Test(links, O_TMPFILE_fails_with_the_errno_of_each_bad_case)
{
	struct test_pool tp;

	link_tree(&tp, "tmpfilebad");
	FAILS(daxfile_open(tp.pool, "/f", O_TMPFILE | O_WRONLY, 0600), NULL,
		ENOTDIR);
	FAILS(daxfile_open(tp.pool, "/lf", O_TMPFILE | O_WRONLY, 0600), NULL,
		ENOTDIR);
	FAILS(daxfile_open(tp.pool, "/d", O_TMPFILE | O_RDONLY, 0600), NULL,
		EINVAL);
	FAILS(daxfile_open(tp.pool, "/d", O_TMPFILE | O_CREAT | O_RDWR, 0600),
		NULL, EINVAL);
	FAILS(daxfile_open(tp.pool, "/missing", O_TMPFILE | O_RDWR, 0600), NULL,
		ENOENT);
	/* through a link to a directory it works */
	daxfile_file *f = daxfile_open(tp.pool, "/ld", O_TMPFILE | O_RDWR, 0600);
	cr_assert_not_null(f, "O_TMPFILE through a link: %s", daxfile_errormsg());
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(links, rename_between_two_names_of_one_file_does_nothing)
{
	struct test_pool tp;

	test_pool_create(&tp, "renamehard", TEST_POOL_SIZE);
	put_text(tp.pool, "/a", "a");
	TEST_OK(daxfile_link(tp.pool, "/a", "/b"));
	TEST_OK(daxfile_rename(tp.pool, "/a", "/b"));
	cr_assert_eq(xstat(tp.pool, "/a").st_nlink, 2);
	cr_assert_eq(xstat(tp.pool, "/b").st_nlink, 2);
	/* over another file's second name: only that name goes */
	put_text(tp.pool, "/c", "c");
	TEST_OK(daxfile_rename(tp.pool, "/c", "/b"));
	cr_assert_eq(xstat(tp.pool, "/a").st_nlink, 1);
	check_text(tp.pool, "/a", "a");
	check_text(tp.pool, "/b", "c");
	test_pool_destroy(&tp);
}

/* --- symbolic links --------------------------------------------------------- */

Test(links, symlink_stores_short_and_long_targets_as_given)
{
	struct test_pool tp;
	char target[4096];

	test_pool_create(&tp, "symlink", TEST_POOL_SIZE);
	TEST_OK(daxfile_symlink(tp.pool, "x", "/one"));
	TEST_OK(daxfile_symlink(tp.pool, "/any/where/../at all", "/spaces"));
	for (size_t len = 100; len <= 4095; len = len < 4000 ? len + 7 : len + 1) {
		char name[32];

		for (size_t i = 0; i < len; i++)
			target[i] = (char)('a' + (i * 7 + len) % 26);
		target[len] = '\0';
		snprintf(name, sizeof(name), "/long%zu", len);
		TEST_OK(daxfile_symlink(tp.pool, target, name));
		check_link(tp.pool, name, target);
	}
	check_link(tp.pool, "/one", "x");
	check_link(tp.pool, "/spaces", "/any/where/../at all");
	cr_assert_eq(dtype_of(tp.pool, "/", "one"), DT_LNK);
	cr_assert_eq(xlstat(tp.pool, "/one").st_nlink, 1);
	cr_assert_eq(xlstat(tp.pool, "/one").st_uid, geteuid());
	test_pool_reopen(&tp);
	check_link(tp.pool, "/one", "x");
	check_link(tp.pool, "/long4095", target);
	/* removing them frees their storage (the checker counts it) */
	TEST_OK(daxfile_unlink(tp.pool, "/long4095"));
	TEST_OK(daxfile_unlink(tp.pool, "/one"));
	test_pool_destroy(&tp);
}

Test(links, symlink_fails_with_the_errno_of_each_bad_case)
{
	struct test_pool tp;
	char target[4097];

	test_pool_create(&tp, "symlinkbad", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	put_text(tp.pool, "/f", "f");
	TEST_OK(daxfile_symlink(tp.pool, "nowhere", "/dangling"));
	memset(target, 'a', 4096);
	target[4096] = '\0';
	FAILS(daxfile_symlink(tp.pool, target, "/x"), -1, ENAMETOOLONG);
	FAILS(daxfile_symlink(tp.pool, "", "/x"), -1, ENOENT);
	FAILS(daxfile_symlink(tp.pool, NULL, "/x"), -1, EFAULT);
	FAILS(daxfile_symlink(tp.pool, "t", "/f"), -1, EEXIST);
	FAILS(daxfile_symlink(tp.pool, "t", "/d"), -1, EEXIST);
	FAILS(daxfile_symlink(tp.pool, "t", "/d/"), -1, EEXIST);
	FAILS(daxfile_symlink(tp.pool, "t", "/dangling"), -1, EEXIST);
	FAILS(daxfile_symlink(tp.pool, "t", "/"), -1, EEXIST);
	FAILS(daxfile_symlink(tp.pool, "t", "/d/.."), -1, EEXIST);
	FAILS(daxfile_symlink(tp.pool, "t", "/new/"), -1, ENOENT);
	FAILS(daxfile_symlink(tp.pool, "t", "/missing/x"), -1, ENOENT);
	FAILS(daxfile_symlink(tp.pool, "t", "/f/x"), -1, ENOTDIR);
	FAILS(daxfile_symlink(tp.pool, "t", ""), -1, ENOENT);
	FAILS(daxfile_symlink(NULL, "t", "/x"), -1, EINVAL);
	/* target errors come first */
	FAILS(daxfile_symlink(tp.pool, "", "/f"), -1, ENOENT);
	FAILS(daxfile_lstat(tp.pool, "/x", &(struct stat){0}), -1, ENOENT);
	test_pool_destroy(&tp);
}

Test(links, readlink_truncates_silently_and_fails_on_what_is_not_a_link)
{
	struct test_pool tp;
	char buf[16];
	daxfile_file *h;

	link_tree(&tp, "readlink");
	TEST_OK(daxfile_symlink(tp.pool, "target-name", "/l"));
	memset(buf, '#', sizeof(buf));
	cr_assert_eq(daxfile_readlink(tp.pool, "/l", buf, 4), 4);
	cr_assert(memcmp(buf, "targ#", 5) == 0, "no NUL is written");
	cr_assert_eq(daxfile_readlink(tp.pool, "l", buf, sizeof(buf)), 11);
	FAILS(daxfile_readlink(tp.pool, "/l", buf, 0), (ssize_t)-1, EINVAL);
	FAILS(daxfile_readlink(tp.pool, "/f", buf, sizeof(buf)), (ssize_t)-1,
		EINVAL);
	FAILS(daxfile_readlink(tp.pool, "/d", buf, sizeof(buf)), (ssize_t)-1,
		EINVAL);
	FAILS(daxfile_readlink(tp.pool, "/ld/", buf, sizeof(buf)), (ssize_t)-1,
		EINVAL);
	FAILS(daxfile_readlink(tp.pool, "/lf/", buf, sizeof(buf)), (ssize_t)-1,
		ENOTDIR);
	FAILS(daxfile_readlink(tp.pool, "/missing", buf, sizeof(buf)),
		(ssize_t)-1, ENOENT);
	FAILS(daxfile_readlink(tp.pool, "", buf, sizeof(buf)), (ssize_t)-1,
		ENOENT);
	FAILS(daxfile_readlink(tp.pool, "/l", NULL, sizeof(buf)), (ssize_t)-1,
		EFAULT);
	FAILS(daxfile_readlink(tp.pool, NULL, buf, sizeof(buf)), (ssize_t)-1,
		EFAULT);

	/* readlinkat: relative to a handle; "" names an O_PATH link handle */
	h = xopen(tp.pool, "/d", O_RDONLY | O_DIRECTORY);
	cr_assert_eq(daxfile_readlinkat(tp.pool, h, "../lf", buf, sizeof(buf)), 1);
	FAILS(daxfile_readlinkat(tp.pool, h, "", buf, sizeof(buf)), (ssize_t)-1,
		ENOENT);
	TEST_OK(daxfile_close(h));
	h = xopen(tp.pool, "/l", O_PATH | O_NOFOLLOW);
	cr_assert_eq(daxfile_readlinkat(tp.pool, h, "", buf, sizeof(buf)), 11);
	cr_assert(memcmp(buf, "target-name", 11) == 0);
	TEST_OK(daxfile_close(h));
	FAILS(daxfile_readlinkat(tp.pool, NULL, "", buf, sizeof(buf)),
		(ssize_t)-1, ENOENT);
	test_pool_destroy(&tp);
}

Test(links, walks_follow_links_as_linux_does)
{
	struct test_pool tp;
	ino_t d, q, root;
	struct stat st;

	test_pool_create(&tp, "follow", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/p", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/p/q", 0755));
	put_text(tp.pool, "/d/f", "in d");
	d = xstat(tp.pool, "/d").st_ino;
	q = xstat(tp.pool, "/p/q").st_ino;
	root = xstat(tp.pool, "/").st_ino;
	TEST_OK(daxfile_symlink(tp.pool, "d", "/ld"));		/* relative */
	TEST_OK(daxfile_symlink(tp.pool, "/d/f", "/p/abs"));	/* absolute */
	TEST_OK(daxfile_symlink(tp.pool, "q", "/p/lq"));
	TEST_OK(daxfile_symlink(tp.pool, "p/q", "/lq"));
	TEST_OK(daxfile_symlink(tp.pool, "../../d/f", "/p/q/up"));
	TEST_OK(daxfile_symlink(tp.pool, "/", "/lroot"));
	TEST_OK(daxfile_symlink(tp.pool, ".", "/p/self"));
	TEST_OK(daxfile_symlink(tp.pool, "ld/", "/ldd"));	/* a link to a link */
	TEST_OK(daxfile_symlink(tp.pool, "lq/../..", "/p/back"));

	cr_assert_eq(xstat(tp.pool, "/ld").st_ino, d);
	cr_assert_eq(xstat(tp.pool, "/ld/").st_ino, d);
	cr_assert_eq(xstat(tp.pool, "/ldd").st_ino, d);
	check_text(tp.pool, "/ld/f", "in d");
	check_text(tp.pool, "/ldd/f", "in d");
	check_text(tp.pool, "/p/abs", "in d");
	check_text(tp.pool, "p/q/up", "in d");
	check_text(tp.pool, "/lroot/lroot/d/f", "in d");
	/* ".." after a link is the target's parent, not the link's */
	cr_assert_eq(xstat(tp.pool, "/lq/..").st_ino, xstat(tp.pool, "/p").st_ino);
	cr_assert_eq(xstat(tp.pool, "/p/lq/../q").st_ino, q);
	cr_assert_eq(xstat(tp.pool, "/p/back").st_ino, root);
	cr_assert_eq(xstat(tp.pool, "/p/self/self/q").st_ino, q);
	cr_assert_eq(xstat(tp.pool, "/lroot").st_ino, root);
	cr_assert_eq(xstat(tp.pool, "/lroot/..").st_ino, root);
	/* lstat and readdir see the link itself */
	st = xlstat(tp.pool, "/ld");
	cr_assert(S_ISLNK(st.st_mode));
	cr_assert_eq(st.st_size, 1);
	cr_assert_eq(st.st_blocks, 0);
	cr_assert(S_ISDIR(xlstat(tp.pool, "/ld/").st_mode),
		"a trailing slash follows the link even for lstat");
	cr_assert(S_ISLNK(xlstat(tp.pool, "/p/q/up").st_mode));
	cr_assert_eq(dtype_of(tp.pool, "/p", "lq"), DT_LNK);
	/* the directory and the link are different inodes */
	cr_assert_neq(xlstat(tp.pool, "/ld").st_ino, d);
	test_pool_destroy(&tp);
}

Test(links, trailing_slashes_dangling_links_and_loops_fail_as_on_linux)
{
	struct test_pool tp;
	char name[16], prev[16];
	daxfile_file *f;

	link_tree(&tp, "followbad");
	TEST_OK(daxfile_symlink(tp.pool, "nowhere", "/dangling"));
	TEST_OK(daxfile_symlink(tp.pool, "loop", "/loop"));
	TEST_OK(daxfile_symlink(tp.pool, "b", "/a"));
	TEST_OK(daxfile_symlink(tp.pool, "a", "/b"));

	FAILS(daxfile_stat(tp.pool, "/lf/", &(struct stat){0}), -1, ENOTDIR);
	FAILS(daxfile_lstat(tp.pool, "/lf/", &(struct stat){0}), -1, ENOTDIR);
	FAILS(daxfile_stat(tp.pool, "/lf/x", &(struct stat){0}), -1, ENOTDIR);
	FAILS(daxfile_stat(tp.pool, "/dangling", &(struct stat){0}), -1, ENOENT);
	FAILS(daxfile_stat(tp.pool, "/dangling/", &(struct stat){0}), -1, ENOENT);
	FAILS(daxfile_lstat(tp.pool, "/dangling/", &(struct stat){0}), -1,
		ENOENT);
	TEST_OK(daxfile_lstat(tp.pool, "/dangling", &(struct stat){0}));
	FAILS(daxfile_open(tp.pool, "/dangling", O_RDONLY), NULL, ENOENT);
	FAILS(daxfile_stat(tp.pool, "/loop", &(struct stat){0}), -1, ELOOP);
	FAILS(daxfile_lstat(tp.pool, "/loop/", &(struct stat){0}), -1, ELOOP);
	FAILS(daxfile_stat(tp.pool, "/a", &(struct stat){0}), -1, ELOOP);
	FAILS(daxfile_open(tp.pool, "/loop", O_CREAT | O_WRONLY, 0644), NULL,
		ELOOP);
	FAILS(daxfile_mkdir(tp.pool, "/loop/x", 0755), -1, ELOOP);
	FAILS(daxfile_chdir(tp.pool, "/b"), -1, ELOOP);

	/* 40 links in a row are followed, 41 are too many */
	TEST_OK(daxfile_mkdir(tp.pool, "/c", 0755));
	TEST_OK(daxfile_chdir(tp.pool, "/c"));
	put_text(tp.pool, "end", "end");
	strcpy(prev, "end");
	for (int i = 1; i <= 41; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		TEST_OK(daxfile_symlink(tp.pool, prev, name));
		strcpy(prev, name);
	}
	check_text(tp.pool, "l40", "end");
	FAILS(daxfile_stat(tp.pool, "l41", &(struct stat){0}), -1, ELOOP);
	/* links inside links' targets: 40 nested are followed, 41 are too many */
	TEST_OK(daxfile_mkdir(tp.pool, "n0", 0755));
	for (int i = 1; i <= 41; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		snprintf(prev, sizeof(prev), "n%d/.", i - 1);
		TEST_OK(daxfile_symlink(tp.pool, prev, name));
	}
	TEST_OK(daxfile_stat(tp.pool, "n40/.", &(struct stat){0}));
	FAILS(daxfile_stat(tp.pool, "n41/.", &(struct stat){0}), -1, ELOOP);
	FAILS(daxfile_stat(tp.pool, "n41", &(struct stat){0}), -1, ELOOP);
	FAILS(daxfile_open(tp.pool, "l41", O_RDONLY), NULL, ELOOP);
	TEST_OK(daxfile_lstat(tp.pool, "l41", &(struct stat){0}));
	f = daxfile_open(tp.pool, "l41", O_PATH | O_NOFOLLOW);
	cr_assert_not_null(f);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(links, open_follows_links_unless_O_NOFOLLOW_and_creates_through_dangling_ones)
{
	struct test_pool tp;
	daxfile_file *f;
	struct stat st;

	link_tree(&tp, "openlink");
	TEST_OK(daxfile_symlink(tp.pool, "d/created", "/dl"));
	TEST_OK(daxfile_symlink(tp.pool, "/d/abs", "/dlabs"));
	TEST_OK(daxfile_symlink(tp.pool, "sub/x", "/dlmissing"));
	TEST_OK(daxfile_symlink(tp.pool, "newfile/", "/dlslash"));

	f = xopen(tp.pool, "/lf", O_RDWR);
	cr_assert_eq(xfstat(f).st_ino, xstat(tp.pool, "/f").st_ino);
	TEST_OK(daxfile_close(f));
	FAILS(daxfile_open(tp.pool, "/lf", O_RDONLY | O_NOFOLLOW), NULL, ELOOP);
	FAILS(daxfile_open(tp.pool, "/ld", O_RDONLY | O_NOFOLLOW), NULL, ELOOP);
	FAILS(daxfile_open(tp.pool, "/ld", O_RDONLY | O_NOFOLLOW | O_DIRECTORY),
		NULL, ENOTDIR);
	f = xopen(tp.pool, "/ld/", O_RDONLY | O_NOFOLLOW);
	cr_assert(S_ISDIR(xfstat(f).st_mode), "a trailing slash follows");
	TEST_OK(daxfile_close(f));
	FAILS(daxfile_open(tp.pool, "/lf/", O_RDONLY), NULL, ENOTDIR);

	/* O_CREAT: through a dangling link the target is made */
	f = daxfile_open(tp.pool, "/dl", O_CREAT | O_WRONLY, 0600);
	cr_assert_not_null(f, "create through a link: %s", daxfile_errormsg());
	TEST_OK(daxfile_close(f));
	st = xstat(tp.pool, "/d/created");
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert(S_ISLNK(xlstat(tp.pool, "/dl").st_mode));
	f = daxfile_open(tp.pool, "/dlabs", O_CREAT | O_WRONLY, 0600);
	cr_assert_not_null(f, "create through an absolute link: %s",
		daxfile_errormsg());
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_stat(tp.pool, "/d/abs", &st));
	/* ... and an existing target is opened, not replaced */
	put_text(tp.pool, "/lf", "through");
	check_text(tp.pool, "/f", "through");
	cr_assert(S_ISLNK(xlstat(tp.pool, "/lf").st_mode));
	FAILS(daxfile_open(tp.pool, "/dlmissing", O_CREAT | O_WRONLY, 0600),
		NULL, ENOENT);
	FAILS(daxfile_open(tp.pool, "/dlslash", O_CREAT | O_WRONLY, 0600), NULL,
		EISDIR);
	FAILS(daxfile_open(tp.pool, "/dangling-nowhere/", O_CREAT | O_WRONLY,
		0600), NULL, EISDIR);
	/* O_EXCL never follows; O_NOFOLLOW refuses a link */
	FAILS(daxfile_open(tp.pool, "/dl", O_CREAT | O_EXCL | O_WRONLY, 0600),
		NULL, EEXIST);
	TEST_OK(daxfile_unlink(tp.pool, "/d/created"));
	FAILS(daxfile_open(tp.pool, "/dl", O_CREAT | O_NOFOLLOW | O_WRONLY, 0600),
		NULL, ELOOP);
	FAILS(daxfile_stat(tp.pool, "/d/created", &st), -1, ENOENT);
	/* O_CREAT of a link to a directory */
	FAILS(daxfile_open(tp.pool, "/ld", O_CREAT | O_WRONLY, 0600), NULL,
		EISDIR);
	FAILS(daxfile_open(tp.pool, "/ld", O_CREAT | O_RDONLY, 0600), NULL,
		EISDIR);
	FAILS(daxfile_open(tp.pool, "/ld", O_CREAT | O_EXCL | O_RDONLY, 0600),
		NULL, EEXIST);
	FAILS(daxfile_open(tp.pool, "/lf/", O_CREAT | O_RDONLY, 0600), NULL,
		EISDIR);
	test_pool_destroy(&tp);
}

Test(links, unlink_rmdir_and_rename_act_on_the_link_not_its_target)
{
	struct test_pool tp;

	link_tree(&tp, "linkns");
	FAILS(daxfile_rmdir(tp.pool, "/ld"), -1, ENOTDIR);
	FAILS(daxfile_rmdir(tp.pool, "/ld/"), -1, ENOTDIR);
	FAILS(daxfile_unlink(tp.pool, "/ld/"), -1, ENOTDIR);
	FAILS(daxfile_unlink(tp.pool, "/lf/"), -1, ENOTDIR);
	FAILS(daxfile_mkdir(tp.pool, "/ld", 0755), -1, EEXIST);
	FAILS(daxfile_mkdir(tp.pool, "/ld/", 0755), -1, EEXIST);
	/* a rename moves the link, a file replaces it */
	TEST_OK(daxfile_rename(tp.pool, "/ld", "/d/ld2"));
	cr_assert(S_ISLNK(xlstat(tp.pool, "/d/ld2").st_mode));
	FAILS(daxfile_stat(tp.pool, "/d/ld2", &(struct stat){0}), -1, ENOENT);
	TEST_OK(daxfile_rename(tp.pool, "/d/ld2", "/ld"));
	cr_assert(S_ISDIR(xstat(tp.pool, "/ld").st_mode));
	put_text(tp.pool, "/g", "g");
	TEST_OK(daxfile_rename(tp.pool, "/g", "/ld"));
	cr_assert(S_ISREG(xlstat(tp.pool, "/ld").st_mode));
	cr_assert(S_ISDIR(xstat(tp.pool, "/d").st_mode));
	FAILS(daxfile_rename(tp.pool, "/d", "/lf"), -1, ENOTDIR);
	TEST_OK(daxfile_unlink(tp.pool, "/lf"));
	check_text(tp.pool, "/f", "f");
	test_pool_destroy(&tp);
}

Test(links, O_PATH_opens_a_link_itself_for_fstat_and_the_at_calls)
{
	struct test_pool tp;
	daxfile_file *h;
	char buf[8];

	test_pool_create(&tp, "opath", TEST_POOL_SIZE);
	put_text(tp.pool, "/f", "data");
	TEST_OK(daxfile_symlink(tp.pool, "f", "/lf"));
	h = xopen(tp.pool, "/lf", O_PATH | O_NOFOLLOW);
	cr_assert(S_ISLNK(xfstat(h).st_mode));
	FAILS(daxfile_read(h, buf, 1), (ssize_t)-1, EBADF);
	FAILS(daxfile_pread(h, buf, 1, 0), (ssize_t)-1, EBADF);
	FAILS(daxfile_write(h, "x", 1), (ssize_t)-1, EBADF);
	FAILS(daxfile_fchdir(h), -1, ENOTDIR);
	TEST_OK(daxfile_linkat(tp.pool, h, "", NULL, "/lf2", AT_EMPTY_PATH));
	cr_assert(S_ISLNK(xlstat(tp.pool, "/lf2").st_mode));
	TEST_OK(daxfile_close(h));
	/* without O_NOFOLLOW it names the target */
	h = xopen(tp.pool, "/lf", O_PATH);
	cr_assert(S_ISREG(xfstat(h).st_mode));
	FAILS(daxfile_read(h, buf, 1), (ssize_t)-1, EBADF);
	FAILS(daxfile_lseek(h, 0, SEEK_SET), (off_t)-1, EBADF);
	FAILS(daxfile_ftruncate(h, 0), -1, EBADF);
	FAILS(daxfile_fsync(h), -1, EBADF);
	TEST_OK(daxfile_close(h));
	test_pool_destroy(&tp);
}

Test(links, absolute_targets_under_the_pools_mount_point_stay_in_the_pool)
{
	struct test_pool tp;
	struct stat st;

	link_tree(&tp, "mountpoint");
	put_text(tp.pool, "/d/g", "g");
	TEST_OK(daxfile_symlink(tp.pool, "/mnt/one/d/g", "/abs"));
	TEST_OK(daxfile_symlink(tp.pool, "/mnt/one", "/absroot"));
	TEST_OK(daxfile_symlink(tp.pool, "/mnt/onex/d/g", "/other"));
	/* without a mount point, absolute targets start at the pool's root */
	TEST_FAILS(daxfile_stat(tp.pool, "/abs", &st), -1, ENOENT);
	TEST_OK(daxfile_pool_set_mountpoint(tp.pool, "/mnt/one/"));
	check_text(tp.pool, "/abs", "g");
	check_text(tp.pool, "/absroot/d/g", "g");
	TEST_OK(daxfile_stat(tp.pool, "/absroot", &st));
	cr_assert(S_ISDIR(st.st_mode));
	/* a name that only begins like the mount point is not under it */
	TEST_FAILS(daxfile_stat(tp.pool, "/other", &st), -1, ENOENT);
	/* what the link holds is what was given */
	check_link(tp.pool, "/abs", "/mnt/one/d/g");
	/* "/" shows the root itself: every absolute target is under it */
	TEST_OK(daxfile_pool_set_mountpoint(tp.pool, "/"));
	TEST_FAILS(daxfile_stat(tp.pool, "/abs", &st), -1, ENOENT);
	TEST_OK(daxfile_symlink(tp.pool, "/d/g", "/rooted"));
	check_text(tp.pool, "/rooted", "g");
	TEST_OK(daxfile_pool_set_mountpoint(tp.pool, NULL));
	TEST_FAILS(daxfile_stat(tp.pool, "/abs", &st), -1, ENOENT);
	TEST_FAILS(daxfile_pool_set_mountpoint(tp.pool, "mnt/one"), -1, EINVAL);
	TEST_FAILS(daxfile_pool_set_mountpoint(NULL, "/mnt/one"), -1, EINVAL);
	test_pool_destroy(&tp);
}
