/*
 * test_ns_permissions.c -- the permission checks of the namespace calls,
 * run as a user other than root (a thread switches its own credentials:
 * tests/common/testcred.h), with the errno values XFS gives on this kernel
 * for the same tree and user: search permission on every directory of a
 * walk (also through a link, but not to read the link), write and search
 * permission on the parent to create, remove or rename, the sticky bit,
 * write permission on a directory that changes parent, open by access
 * mode, O_TRUNC and O_NOATIME, chdir, opendir, O_TMPFILE, the
 * protected hard links rule of link, and O_CREAT on another user's link in
 * a sticky directory.
 */
#define _GNU_SOURCE	/* O_NOATIME, O_TMPFILE, O_PATH */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daxfile.h"
#include "testcred.h"
#include "testutil.h"

/* The pool of the running test: the functions run by as() use it. */
static struct test_pool tp;
#define P (tp.pool)

static const gid_t g1[] = {G1};
static const struct who user1 = {U1, G1, 1, g1, 0, false};

/* node -- make 'path' (a directory if 'dir') with exactly 'mode', owned by uid. */
static void
node(const char *path, bool dir, mode_t mode, uid_t uid)
{
	if (dir)
		TEST_OK(daxfile_mkdir(P, path, mode));
	else
		TEST_OK(daxfile_close(xopen(P, path, O_CREAT | O_EXCL | O_WRONLY)));
	TEST_OK(daxfile_chmod(P, path, mode));
	TEST_OK(daxfile_chown(P, path, uid, uid == 0 ? 0 : G1));
}

/*
 * The tree every test starts from (as root):
 *   nox/ 0766 (no search for others), nox/f 0644
 *   ro/ 0555 (no write), ro/f 0666
 *   sticky/ 01777, sticky/rootfile 0666
 *   rw/ 0777, rw/mine/ 0755 owned by U1
 *   sub/ 0755, sub/inner/ 0755
 *   secret 0600, pub 0666, pubro 0644
 *   lnox -> nox/f
 */
static void
setup(void)
{
	need_root();
	test_pool_create(&tp, "nsperm", TEST_POOL_SIZE);
	node("/nox", true, 0766, 0);
	node("/nox/f", false, 0644, 0);
	node("/ro", true, 0755, 0);
	node("/ro/f", false, 0666, 0);
	TEST_OK(daxfile_chmod(P, "/ro", 0555));
	node("/sticky", true, 01777, 0);
	node("/sticky/rootfile", false, 0666, 0);
	node("/rw", true, 0777, 0);
	node("/rw/mine", true, 0755, U1);
	node("/sub", true, 0755, 0);
	node("/sub/inner", true, 0755, 0);
	node("/secret", false, 0600, 0);
	node("/pub", false, 0666, 0);
	node("/pubro", false, 0644, 0);
	TEST_OK(daxfile_symlink(P, "nox/f", "/lnox"));
}

static void
teardown(void)
{
	if (P != NULL)
		test_pool_destroy(&tp);
}

TestSuite(nsperm, .init = setup, .fini = teardown);

static void
walks_need_search_permission(void)
{
	char buf[16];

	FAILS(daxfile_stat(P, "/nox/f", &(struct stat){0}), -1, EACCES);
	FAILS(daxfile_open(P, "/nox/f", O_RDONLY), NULL, EACCES);
	FAILS(daxfile_mkdir(P, "/nox/d", 0755), -1, EACCES);
	FAILS(daxfile_unlink(P, "/nox/f"), -1, EACCES);
	FAILS(daxfile_unlink(P, "/nox/missing"), -1, EACCES);
	/* through a link too; the link itself is readable */
	FAILS(daxfile_stat(P, "/lnox", &(struct stat){0}), -1, EACCES);
	TEST_OK(daxfile_lstat(P, "/lnox", &(struct stat){0}));
	cr_assert_eq(daxfile_readlink(P, "/lnox", buf, sizeof(buf)), 5);
	FAILS(daxfile_chdir(P, "/nox"), -1, EACCES);
	TEST_OK(daxfile_chdir(P, "/ro"));
	TEST_OK(daxfile_chdir(P, "/"));
}

Test(nsperm, walks_need_search_permission_on_every_directory)
{
	as(&user1, walks_need_search_permission);
}

static void
changes_need_write_permission(void)
{
	FAILS(daxfile_mkdir(P, "/ro/d", 0755), -1, EACCES);
	FAILS(daxfile_unlink(P, "/ro/f"), -1, EACCES);
	FAILS(daxfile_rmdir(P, "/sub/inner"), -1, EACCES);
	FAILS(daxfile_unlink(P, "/sub/inner"), -1, EACCES);
	FAILS(daxfile_symlink(P, "x", "/ro/l"), -1, EACCES);
	FAILS(daxfile_link(P, "/pub", "/ro/l2"), -1, EACCES);
	FAILS(daxfile_open(P, "/ro/new", O_CREAT | O_WRONLY, 0644), NULL,
		EACCES);
	FAILS(daxfile_open(P, "/ro", O_TMPFILE | O_RDWR, 0600), NULL, EACCES);
	FAILS(daxfile_rename(P, "/ro/f", "/rw/f"), -1, EACCES);
	FAILS(daxfile_rename(P, "/pub", "/ro/x"), -1, EACCES);
	/* what exists is found before the permission is asked */
	FAILS(daxfile_mkdir(P, "/ro/f", 0755), -1, EEXIST);
	FAILS(daxfile_rmdir(P, "/ro/nothere"), -1, ENOENT);
	FAILS(daxfile_unlink(P, "/ro/nothere"), -1, ENOENT);
	/* an existing file is opened, not created: its own mode decides */
	TEST_OK(daxfile_close(xopen(P, "/ro/f", O_CREAT | O_WRONLY)));
}

Test(nsperm, changes_need_write_and_search_permission_on_the_parent)
{
	as(&user1, changes_need_write_permission);
}

static void
sticky_directories_protect_others_files(void)
{
	FAILS(daxfile_unlink(P, "/sticky/rootfile"), -1, EPERM);
	FAILS(daxfile_rename(P, "/sticky/rootfile", "/sticky/x"), -1, EPERM);
	TEST_OK(daxfile_close(xopen(P, "/sticky/mine", O_CREAT | O_WRONLY)));
	FAILS(daxfile_rename(P, "/sticky/mine", "/sticky/rootfile"), -1, EPERM);
	TEST_OK(daxfile_rename(P, "/sticky/mine", "/sticky/mine2"));
	TEST_OK(daxfile_unlink(P, "/sticky/mine2"));
}

Test(nsperm, the_sticky_bit_keeps_others_from_removing_or_replacing)
{
	as(&user1, sticky_directories_protect_others_files);
	cr_assert_eq(xstat(P, "/sticky/rootfile").st_uid, 0);
}

static void
moving_a_directory_needs_write_permission_on_it(void)
{
	FAILS(daxfile_rename(P, "/rw/mine", "/sub/mine"), -1, EACCES);
	TEST_OK(daxfile_mkdir(P, "/rw/mine/x", 0755));
	/* in one directory its ".." stays: no write permission needed */
	TEST_OK(daxfile_rename(P, "/rw/mine", "/rw/mine2"));
	FAILS(daxfile_rename(P, "/sub/inner", "/rw/inner"), -1, EACCES);
}

Test(nsperm, a_directory_moved_to_another_parent_needs_write_permission)
{
	TEST_OK(daxfile_mkdir(P, "/rw/other", 0755));
	as(&user1, moving_a_directory_needs_write_permission_on_it);
	cr_assert_eq(xstat(P, "/rw/mine2/x").st_uid, U1);
}

static void
open_checks_the_access_mode(void)
{
	daxfile_file *f;

	FAILS(daxfile_open(P, "/secret", O_RDONLY), NULL, EACCES);
	FAILS(daxfile_open(P, "/pubro", O_WRONLY), NULL, EACCES);
	FAILS(daxfile_open(P, "/pubro", O_RDWR), NULL, EACCES);
	FAILS(daxfile_open(P, "/pubro", O_RDONLY | O_TRUNC), NULL, EACCES);
	FAILS(daxfile_open(P, "/pubro", O_RDONLY | O_NOATIME), NULL, EPERM);
	FAILS(daxfile_open(P, "/pub", O_RDWR | O_NOATIME), NULL, EPERM);
	TEST_OK(daxfile_close(xopen(P, "/pubro", O_RDONLY)));
	TEST_OK(daxfile_close(xopen(P, "/pub", O_RDWR | O_TRUNC)));
	/* O_PATH needs no permission on the file; a directory needs read */
	TEST_OK(daxfile_close(xopen(P, "/secret", O_PATH)));
	TEST_OK(daxfile_close(xopen(P, "/nox", O_RDONLY | O_DIRECTORY)));
	TEST_OK(daxfile_close(xopen(P, "/ro", O_RDONLY | O_DIRECTORY)));
	f = daxfile_open(P, "/rw/made", O_CREAT | O_EXCL | O_RDWR | O_TRUNC,
		0400);
	cr_assert_not_null(f, "a new file opens whatever its mode: %s",
		daxfile_errormsg());
	TEST_OK(daxfile_close(f));
	FAILS(daxfile_open(P, "/rw/made", O_RDWR), NULL, EACCES);
	TEST_OK(daxfile_close(xopen(P, "/rw/made", O_RDONLY | O_NOATIME)));
}

Test(nsperm, open_checks_the_access_mode_O_TRUNC_and_O_NOATIME)
{
	as(&user1, open_checks_the_access_mode);
}

static void
opendir_needs_read_permission(void)
{
	daxfile_dir *d;

	TEST_OK(daxfile_chmod(P, "/rw/mine", 0300));
	FAILS(daxfile_opendir(P, "/rw/mine"), NULL, EACCES);
	d = daxfile_opendir(P, "/ro");
	cr_assert_not_null(d, "opendir: %s", daxfile_errormsg());
	TEST_OK(daxfile_closedir(d));
}

Test(nsperm, opendir_needs_read_permission)
{
	as(&user1, opendir_needs_read_permission);
}

static void
links_of_others_files_are_protected(void)
{
	FAILS(daxfile_link(P, "/secret", "/rw/s2"), -1, EPERM);
	FAILS(daxfile_link(P, "/pubro", "/rw/p3"), -1, EPERM);
	FAILS(daxfile_link(P, "/lnox", "/rw/l3"), -1, EPERM);
	TEST_OK(daxfile_link(P, "/pub", "/rw/p2"));
	TEST_OK(daxfile_symlink(P, "/secret", "/rw/mylink"));
	TEST_OK(daxfile_link(P, "/rw/mylink", "/rw/mylink2"));
}

Test(nsperm, link_of_a_file_of_another_user_needs_read_and_write_on_it)
{
	as(&user1, links_of_others_files_are_protected);
	cr_assert_eq(xstat(P, "/pub").st_nlink, 2);
	cr_assert_eq(xlstat(P, "/rw/mylink2").st_uid, U1);
}

static void
created_names_belong_to_the_caller(void)
{
	TEST_OK(daxfile_symlink(P, "target", "/rw/l"));
	TEST_OK(daxfile_close(xopen(P, "/rw/f", O_CREAT | O_WRONLY)));
	TEST_OK(daxfile_mkdir(P, "/rw/d", 0700));
}

Test(nsperm, links_files_and_directories_belong_to_their_creator)
{
	struct stat st;

	as(&user1, created_names_belong_to_the_caller);
	st = xlstat(P, "/rw/l");
	cr_assert_eq(st.st_uid, U1);
	cr_assert_eq(st.st_gid, G1);
	cr_assert_eq(st.st_mode & 07777, 0777, "a link's mode is 0777");
	cr_assert_eq(xstat(P, "/rw/f").st_uid, U1);
	cr_assert_eq(xstat(P, "/rw/d").st_gid, G1);
}

static void
link_in_sticky(void)
{
	TEST_OK(daxfile_symlink(P, "target", "/sticky/ulink"));
}

Test(nsperm, O_CREAT_on_another_users_link_in_a_sticky_directory_is_refused_even_to_root)
{
	daxfile_file *f;

	as(&user1, link_in_sticky);
	/* may_create_in_sticky: the link is neither root's nor the directory owner's */
	FAILS(daxfile_open(P, "/sticky/ulink", O_CREAT | O_WRONLY | O_NOFOLLOW,
		0644), NULL, EACCES);
	FAILS(daxfile_open(P, "/sticky/ulink", O_WRONLY | O_NOFOLLOW), NULL,
		ELOOP);
	/* followed, the link leads to a new file, created as usual */
	f = daxfile_open(P, "/sticky/ulink", O_CREAT | O_WRONLY, 0644);
	cr_assert_not_null(f, "open through the link: %s", daxfile_errormsg());
	TEST_OK(daxfile_close(f));
	cr_assert(S_ISREG(xstat(P, "/sticky/target").st_mode));
}
