/*
 * test_attr.c -- owners, modes, permission checks and times through the
 * public API: the owner and mode of new files and directories (fsuid,
 * fsgid, the pool's umask, setgid directories), chmod, chown, access,
 * utimensat and their variants with their success and error paths run as
 * root and as other users (a thread switches its own credentials: see
 * tests/common/testcred.h), the setuid and setgid bits a write or truncate
 * clears, truncate by path, stat/statx with nanosecond times and the DAX
 * attribute, relatime and O_NOATIME, and all of it across a pool reopen.
 */
#define _GNU_SOURCE	/* O_NOATIME, statx */

#include <fcntl.h>
#include <linux/falloc.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daxfile.h"
#include "testcred.h"
#include "testpool.h"

/* FAILS -- TEST_FAILS, and the error message must name a cause. */
#define FAILS(expr, fail, e) do { \
	TEST_FAILS(expr, fail, e); \
	cr_assert_gt(strlen(daxfile_errormsg()), 0, \
		"%s: empty error message", #expr); \
} while (0)

/* The pool of the running test: the functions run by as() use it. */
static struct test_pool tp;
#define P (tp.pool)

static void
setup(void)
{
	test_pool_create(&tp, "attr", TEST_POOL_SIZE);
}

static void
teardown(void)
{
	test_pool_destroy(&tp);
}

TestSuite(attr, .init = setup, .fini = teardown);

static struct stat
st_of(const char *path)
{
	struct stat st;

	cr_assert_eq(daxfile_stat(P, path, &st), 0, "stat(%s): %s", path,
		daxfile_errormsg());
	return st;
}

static void
make_file(const char *path, mode_t mode)
{
	daxfile_file *f = daxfile_open(P, path, O_CREAT | O_EXCL | O_WRONLY,
		mode);

	cr_assert_not_null(f, "create(%s): %s", path, daxfile_errormsg());
	TEST_OK(daxfile_close(f));
}

/* make_owned -- a file of 'mode' (umask ignored), owned by uid:gid. */
static void
make_owned(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	make_file(path, mode);
	TEST_OK(daxfile_chown(P, path, uid, gid));
	TEST_OK(daxfile_chmod(P, path, mode));
}

static bool
ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static bool
ts_le(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec ||
		(a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
}

/* --- creation ------------------------------------------------------------------ */

static void
create_as_u1(void)
{
	struct stat st;

	make_file("/open/f", 0666);
	TEST_OK(daxfile_mkdir(P, "/open/d", 0777));
	st = st_of("/open/f");
	cr_assert_eq(st.st_uid, U1, "a new file's owner is the fsuid");
	cr_assert_eq(st.st_gid, G1, "its group the fsgid");
	cr_assert_eq(st.st_mode, S_IFREG | 0640, "mode 0666 under umask 027");
	st = st_of("/open/d");
	cr_assert_eq(st.st_uid, U1);
	cr_assert_eq(st.st_mode, S_IFDIR | 0750);
	make_file("/sgid/f", 0666);
	TEST_OK(daxfile_mkdir(P, "/sgid/d", 0700));
	st = st_of("/sgid/f");
	cr_assert_eq(st.st_gid, G2, "the group of a setgid directory");
	cr_assert_eq(st.st_mode, S_IFREG | 0640, "a file does not inherit setgid");
	st = st_of("/sgid/d");
	cr_assert_eq(st.st_gid, G2);
	cr_assert_eq(st.st_mode, S_IFDIR | 02700, "a subdirectory inherits setgid");
	make_file("/sgid/x", 02775);
	cr_assert_eq(st_of("/sgid/x").st_mode, S_IFREG | 0750,
		"setgid dropped from a group-executable file of a group the creator is not in");
}

Test(attr, new_inodes_take_the_fsuid_the_fsgid_or_a_setgid_directorys_group_and_the_umask)
{
	struct who u1 = {.uid = U1, .gid = G1};
	mode_t old;

	need_root();
	old = daxfile_umask(P, 027);
	cr_assert_eq(daxfile_umask(P, 027), 027);
	cr_assert_eq(old, umask(old), "the default is the process umask");
	TEST_OK(daxfile_mkdir(P, "/open", 0777));
	TEST_OK(daxfile_chmod(P, "/open", 0777));
	TEST_OK(daxfile_mkdir(P, "/sgid", 0777));
	TEST_OK(daxfile_chown(P, "/sgid", 0, G2));
	TEST_OK(daxfile_chmod(P, "/sgid", 02777));
	as(&u1, create_as_u1);
	test_pool_reopen(&tp);
	cr_assert_eq(st_of("/sgid/d").st_mode, S_IFDIR | 02700, "after reopen");
	cr_assert_eq(daxfile_umask(P, 0), old, "a reopened pool starts from the process umask");
	TEST_FAILS(daxfile_umask(NULL, 0), (mode_t)-1, EINVAL);
}

Test(attr, a_new_pools_root_belongs_to_its_creator)
{
	struct stat st = st_of("/");

	cr_assert_eq(st.st_uid, geteuid());
	cr_assert_eq(st.st_gid, getegid());
	cr_assert_eq(st.st_mode, S_IFDIR | 0755);
}

/* --- chmod --------------------------------------------------------------------- */

static void
chmod_as_u1(void)
{
	daxfile_file *f;

	TEST_OK(daxfile_chmod(P, "/mine", 0600));
	cr_assert_eq(st_of("/mine").st_mode, S_IFREG | 0600);
	FAILS(daxfile_chmod(P, "/theirs", 0777), -1, EPERM);
	TEST_OK(daxfile_chmod(P, "/mine", 02755));
	cr_assert_eq(st_of("/mine").st_mode, S_IFREG | 0755,
		"setgid cleared: the file's group G2 is not the caller's");
	f = daxfile_open(P, "/mine", O_RDONLY);
	cr_assert_not_null(f);
	TEST_OK(daxfile_fchmod(f, 0700));
	TEST_OK(daxfile_close(f));
	cr_assert_eq(st_of("/mine").st_mode, S_IFREG | 0700);
}

Test(attr, chmod_needs_the_owner_and_drops_setgid_for_a_non_member)
{
	struct who u1 = {.uid = U1, .gid = G1};
	struct stat before, after;

	need_root();
	make_owned("/mine", 0644, U1, G2);
	make_owned("/theirs", 0644, U2, G2);
	as(&u1, chmod_as_u1);
	TEST_OK(daxfile_chmod(P, "/theirs", 06777));
	cr_assert_eq(st_of("/theirs").st_mode, S_IFREG | 06777,
		"root (CAP_FOWNER, CAP_FSETID) keeps setgid");
	before = st_of("/theirs");
	usleep(2000);
	TEST_OK(daxfile_chmod(P, "/theirs", 0640));
	after = st_of("/theirs");
	cr_assert(ts_le(before.st_ctim, after.st_ctim) &&
		!ts_eq(before.st_ctim, after.st_ctim), "chmod changes ctime");
	cr_assert(ts_eq(before.st_mtim, after.st_mtim), "but not mtime");
	TEST_OK(daxfile_mkdir(P, "/d", 0755));
	TEST_OK(daxfile_chmod(P, "/d", 01777));
	cr_assert_eq(st_of("/d").st_mode, S_IFDIR | 01777);
}

Test(attr, chmod_and_its_variants_report_the_errors_of_linux)
{
	daxfile_file *f;

	FAILS(daxfile_chmod(P, "/nothing", 0644), -1, ENOENT);
	FAILS(daxfile_chmod(NULL, "/", 0644), -1, EINVAL);
	FAILS(daxfile_chmod(P, NULL, 0644), -1, EFAULT);
	FAILS(daxfile_fchmodat(P, NULL, "/", 0755, 0x4000000), -1, EINVAL);
	FAILS(daxfile_fchmod(NULL, 0644), -1, EBADF);
	make_file("/f", 0644);
	TEST_OK(daxfile_fchmodat(P, NULL, "/f", 0600, AT_SYMLINK_NOFOLLOW));
	cr_assert_eq(st_of("/f").st_mode, S_IFREG | 0600);
	f = daxfile_open(P, "/", O_RDONLY | O_DIRECTORY);
	cr_assert_not_null(f);
	TEST_OK(daxfile_fchmodat(P, f, "", 0711, AT_EMPTY_PATH));
	cr_assert_eq(st_of("/").st_mode, S_IFDIR | 0711);
	FAILS(daxfile_fchmodat(P, f, "", 0711, 0), -1, ENOENT);
	TEST_OK(daxfile_close(f));
	FAILS(daxfile_fchmod(f, 0644), -1, EBADF);
}

/* --- chown --------------------------------------------------------------------- */

static void
chown_as_u1(void)
{
	TEST_OK(daxfile_chown(P, "/mine", (uid_t)-1, G2));
	cr_assert_eq(st_of("/mine").st_gid, G2, "the owner gives it one of its groups");
	TEST_OK(daxfile_chown(P, "/mine", U1, (gid_t)-1));
	FAILS(daxfile_chown(P, "/mine", U2, (gid_t)-1), -1, EPERM);
	FAILS(daxfile_chown(P, "/mine", (uid_t)-1, 4242), -1, EPERM);
	FAILS(daxfile_chown(P, "/theirs", (uid_t)-1, G1), -1, EPERM);
	FAILS(daxfile_chown(P, "/theirs", U1, (gid_t)-1), -1, EPERM);
	TEST_OK(daxfile_chown(P, "/theirs", (uid_t)-1, (gid_t)-1));
}

Test(attr, chown_changes_the_group_to_the_owners_groups_and_the_owner_only_with_cap_chown)
{
	gid_t groups[] = {G2};
	struct who u1 = {.uid = U1, .gid = G1, .ngroups = 1, .groups = groups};
	daxfile_file *f;
	struct stat st;

	need_root();
	make_owned("/mine", 0644, U1, G1);
	make_owned("/theirs", 0644, U2, G2);
	as(&u1, chown_as_u1);
	TEST_OK(daxfile_chown(P, "/theirs", 7, 8));
	st = st_of("/theirs");
	cr_assert_eq(st.st_uid, 7);
	cr_assert_eq(st.st_gid, 8);
	TEST_OK(daxfile_lchown(P, "/theirs", (uid_t)-1, 9));
	cr_assert_eq(st_of("/theirs").st_uid, 7, "-1 keeps the owner");
	cr_assert_eq(st_of("/theirs").st_gid, 9);
	f = daxfile_open(P, "/theirs", O_RDONLY);
	cr_assert_not_null(f);
	TEST_OK(daxfile_fchown(f, 10, (gid_t)-1));
	TEST_OK(daxfile_close(f));
	cr_assert_eq(st_of("/theirs").st_uid, 10);
	FAILS(daxfile_chown(P, "/nothing", 0, 0), -1, ENOENT);
	FAILS(daxfile_fchownat(P, NULL, "/theirs", 0, 0, 0x4000000), -1, EINVAL);
	FAILS(daxfile_fchown(NULL, 0, 0), -1, EBADF);
}

Test(attr, chown_clears_setuid_always_and_setgid_when_group_executable)
{
	TEST_OK(daxfile_mkdir(P, "/d", 0755));
	make_owned("/a", 06755, 0, 0);
	make_owned("/b", 06745, 0, 0);
	TEST_OK(daxfile_chmod(P, "/d", 06755));
	TEST_OK(daxfile_chown(P, "/a", 1, 1));
	TEST_OK(daxfile_chown(P, "/b", (uid_t)-1, (gid_t)-1));
	TEST_OK(daxfile_chown(P, "/d", 1, 1));
	cr_assert_eq(st_of("/a").st_mode, S_IFREG | 0755, "even by root");
	cr_assert_eq(st_of("/b").st_mode, S_IFREG | 02745,
		"setgid without group-exec stays for a capable caller; chown -1 -1 still clears setuid");
	cr_assert_eq(st_of("/d").st_mode, S_IFDIR | 06755, "directories keep both");
}

/* --- access -------------------------------------------------------------------- */

static void
access_as_real_u1(void)
{
	FAILS(daxfile_access(P, "/root-only", R_OK), -1, EACCES);
	TEST_OK(daxfile_faccessat(P, NULL, "/root-only", R_OK | W_OK, AT_EACCESS));
	TEST_OK(daxfile_access(P, "/root-only", F_OK));
	TEST_OK(daxfile_access(P, "/u1-exec", R_OK | X_OK));
	FAILS(daxfile_access(P, "/u1-exec", W_OK), -1, EACCES);
}

Test(attr, access_checks_the_real_ids_unless_at_eaccess)
{
	struct who u1 = {.uid = U1, .gid = G1, .real = true};

	need_root();
	make_owned("/root-only", 0600, 0, 0);
	make_owned("/u1-exec", 0500, U1, 0);
	as(&u1, access_as_real_u1);
}

Test(attr, access_for_root_executes_only_with_an_x_bit_and_rejects_bad_arguments)
{
	daxfile_file *f;

	need_root();
	make_owned("/plain", 0644, 0, 0);
	make_owned("/group-x", 0614, U1, G1);
	TEST_OK(daxfile_access(P, "/plain", R_OK | W_OK));
	FAILS(daxfile_access(P, "/plain", X_OK), -1, EACCES);
	TEST_OK(daxfile_access(P, "/group-x", X_OK | R_OK | W_OK));
	TEST_OK(daxfile_access(P, "/", X_OK));
	FAILS(daxfile_access(P, "/nothing", F_OK), -1, ENOENT);
	FAILS(daxfile_access(P, "/plain", 8), -1, EINVAL);
	FAILS(daxfile_faccessat(P, NULL, "/plain", R_OK, 0x4000000), -1, EINVAL);
	f = daxfile_open(P, "/plain", O_RDONLY);
	cr_assert_not_null(f);
	TEST_OK(daxfile_faccessat(P, f, "", R_OK, AT_EMPTY_PATH | AT_EACCESS));
	TEST_OK(daxfile_close(f));
}

/* --- utimensat ------------------------------------------------------------------ */

static void
utimens_as_u1(void)
{
	struct timespec set[2] = {{100, 1}, {200, 2}};
	struct timespec now_omit[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};

	TEST_OK(daxfile_utimensat(P, NULL, "/writable", NULL, 0));
	FAILS(daxfile_utimensat(P, NULL, "/writable", set, 0), -1, EPERM);
	FAILS(daxfile_utimensat(P, NULL, "/writable", now_omit, 0), -1, EPERM);
	FAILS(daxfile_utimensat(P, NULL, "/readonly", NULL, 0), -1, EACCES);
	FAILS(daxfile_utimensat(P, NULL, "/readonly", set, 0), -1, EPERM);
	TEST_OK(daxfile_utimensat(P, NULL, "/mine", set, 0));
}

Test(attr, utimensat_needs_write_permission_for_now_and_ownership_for_explicit_times)
{
	struct who u1 = {.uid = U1, .gid = G1};

	need_root();
	make_owned("/writable", 0666, U2, G2);
	make_owned("/readonly", 0644, U2, G2);
	make_owned("/mine", 0400, U1, G1);
	as(&u1, utimens_as_u1);
	cr_assert_eq(st_of("/mine").st_mtim.tv_sec, 200);
}

Test(attr, utimensat_sets_nanoseconds_omits_and_stamps_now)
{
	struct timespec set[2] = {{1000000000, 123456789}, {1100000000, 987654321}};
	struct timespec omit_now[2] = {{5, UTIME_OMIT}, {5, UTIME_NOW}};
	struct timespec both_omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
	struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
	struct timespec t0;
	struct stat st, st2;
	daxfile_file *f;

	make_file("/f", 0644);
	TEST_OK(daxfile_utimensat(P, NULL, "/f", set, 0));
	st = st_of("/f");
	cr_assert(ts_eq(st.st_atim, set[0]), "atime %ld.%09ld", st.st_atim.tv_sec,
		st.st_atim.tv_nsec);
	cr_assert(ts_eq(st.st_mtim, set[1]));
	clock_gettime(CLOCK_REALTIME, &t0);
	TEST_OK(daxfile_utimensat(P, NULL, "/f", omit_now, 0));
	st2 = st_of("/f");
	cr_assert(ts_eq(st2.st_atim, set[0]), "UTIME_OMIT keeps atime");
	cr_assert(ts_le(t0, st2.st_mtim), "UTIME_NOW stamps mtime");
	cr_assert(ts_le(t0, st2.st_ctim), "every change stamps ctime");
	TEST_OK(daxfile_utimensat(P, NULL, "/nothing", both_omit, 0));
	TEST_OK(daxfile_utimensat(P, NULL, "/f", both_omit, 0x4000000));
	FAILS(daxfile_utimensat(P, NULL, "/f", bad, 0), -1, EINVAL);
	FAILS(daxfile_utimensat(P, NULL, "/f", NULL, 0x4000000), -1, EINVAL);
	FAILS(daxfile_utimensat(P, NULL, "/nothing", NULL, 0), -1, ENOENT);
	f = daxfile_open(P, "/f", O_RDONLY);
	cr_assert_not_null(f);
	TEST_OK(daxfile_futimens(f, set));
	TEST_OK(daxfile_utimensat(P, f, NULL, set, 0));
	FAILS(daxfile_utimensat(P, f, NULL, set, AT_SYMLINK_NOFOLLOW), -1, EINVAL);
	TEST_OK(daxfile_close(f));
	FAILS(daxfile_futimens(f, NULL), -1, EBADF);
	test_pool_reopen(&tp);
	st = st_of("/f");
	cr_assert(ts_eq(st.st_atim, set[0]), "times persist");
	cr_assert(ts_eq(st.st_mtim, set[1]));
}

/* --- setuid and setgid after data changes ---------------------------------------- */

static void
write_as_u1(void)
{
	daxfile_file *f = daxfile_open(P, "/s", O_WRONLY);
	daxfile_file *g = daxfile_open(P, "/g", O_WRONLY);

	cr_assert_not_null(f);
	cr_assert_not_null(g);
	cr_assert_eq(daxfile_pwrite(f, "x", 1, 0), 1);
	cr_assert_eq(daxfile_pwrite(g, "x", 1, 0), 1);
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_close(g));
	TEST_OK(daxfile_truncate(P, "/t", 10));
}

Test(attr, a_write_or_truncate_without_cap_fsetid_clears_setuid_and_setgid)
{
	struct who u1 = {.uid = U1, .gid = G1};
	daxfile_file *f;

	need_root();
	make_owned("/s", 06777, U2, G2);
	make_owned("/g", 02664, U2, G1);
	make_owned("/t", 04777, U2, G2);
	make_owned("/r", 06777, U2, G2);
	as(&u1, write_as_u1);
	cr_assert_eq(st_of("/s").st_mode, S_IFREG | 0777);
	cr_assert_eq(st_of("/g").st_mode, S_IFREG | 02664,
		"setgid without group-exec stays for a member of the group");
	cr_assert_eq(st_of("/t").st_mode, S_IFREG | 0777);
	cr_assert_eq(st_of("/t").st_size, 10);
	f = daxfile_open(P, "/r", O_WRONLY);
	cr_assert_not_null(f);
	cr_assert_eq(daxfile_write(f, "x", 1), 1);
	TEST_OK(daxfile_ftruncate(f, 0));
	TEST_OK(daxfile_close(f));
	cr_assert_eq(st_of("/r").st_mode, S_IFREG | 06777, "root keeps them");
}

/* --- truncate by path ---------------------------------------------------------- */

static void
truncate_as_u1(void)
{
	FAILS(daxfile_truncate(P, "/f", 0), -1, EACCES);
}

Test(attr, truncate_by_path_sets_the_size_and_reports_linuxs_errors)
{
	struct who u1 = {.uid = U1, .gid = G1};
	char buf[8192];
	daxfile_file *f;

	make_file("/f", 0644);
	TEST_OK(daxfile_truncate(P, "/f", 5000));
	cr_assert_eq(st_of("/f").st_size, 5000);
	f = daxfile_open(P, "/f", O_RDONLY);
	cr_assert_not_null(f);
	cr_assert_eq(daxfile_pread(f, buf, sizeof(buf), 0), 5000);
	cr_assert_eq(buf[4999], 0);
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_truncate(P, "/f", 10));
	cr_assert_eq(st_of("/f").st_size, 10);
	TEST_OK(daxfile_mkdir(P, "/d", 0755));
	FAILS(daxfile_truncate(P, "/d", 0), -1, EISDIR);
	FAILS(daxfile_truncate(P, "/f", -1), -1, EINVAL);
	FAILS(daxfile_truncate(P, "/nothing", 0), -1, ENOENT);
	FAILS(daxfile_truncate(P, "/f", (off_t)1 << 62), -1, EFBIG);
	if (geteuid() == 0)
		as(&u1, truncate_as_u1);
}

/* --- stat, statx ---------------------------------------------------------------- */

Test(attr, statx_fills_what_the_pool_knows_and_marks_regular_files_dax)
{
	struct statx sx, dx;
	struct stat st;
	daxfile_file *f;
	struct timespec t0;

	clock_gettime(CLOCK_REALTIME, &t0);
	f = daxfile_open(P, "/f", O_CREAT | O_RDWR, 0640);
	cr_assert_not_null(f);
	cr_assert_eq(daxfile_pwrite(f, "hello", 5, 8192), 5);
	TEST_OK(daxfile_statx(P, NULL, "/f", 0, STATX_ALL, &sx));
	TEST_OK(daxfile_fstat(f, &st));
	cr_assert_eq(sx.stx_mask & (STATX_BASIC_STATS | STATX_BTIME),
		STATX_BASIC_STATS | STATX_BTIME);
	cr_assert_eq(sx.stx_mode, S_IFREG | 0640);
	cr_assert_eq(sx.stx_nlink, 1);
	cr_assert_eq(sx.stx_uid, st.st_uid);
	cr_assert_eq(sx.stx_gid, st.st_gid);
	cr_assert_eq(sx.stx_ino, st.st_ino);
	cr_assert_eq(sx.stx_size, 8197);
	cr_assert_eq(sx.stx_blocks, (uint64_t)st.st_blocks);
	cr_assert_gt(sx.stx_blocks, 0);
	cr_assert_eq(sx.stx_blksize, 4096);
	cr_assert_eq(sx.stx_attributes_mask & STATX_ATTR_DAX, STATX_ATTR_DAX);
	cr_assert_eq(sx.stx_attributes & STATX_ATTR_DAX, STATX_ATTR_DAX);
	cr_assert_eq(sx.stx_mtime.tv_sec, st.st_mtim.tv_sec);
	cr_assert_eq(sx.stx_mtime.tv_nsec, (uint32_t)st.st_mtim.tv_nsec);
	cr_assert_eq(sx.stx_ctime.tv_nsec, (uint32_t)st.st_ctim.tv_nsec);
	cr_assert_eq(sx.stx_atime.tv_nsec, (uint32_t)st.st_atim.tv_nsec);
	cr_assert(sx.stx_btime.tv_sec > t0.tv_sec ||
		(sx.stx_btime.tv_sec == t0.tv_sec &&
		 sx.stx_btime.tv_nsec >= (uint32_t)t0.tv_nsec),
		"btime is the creation time");
	cr_assert(sx.stx_btime.tv_sec < sx.stx_mtime.tv_sec ||
		(sx.stx_btime.tv_sec == sx.stx_mtime.tv_sec &&
		 sx.stx_btime.tv_nsec <= sx.stx_mtime.tv_nsec), "btime <= mtime");
	TEST_OK(daxfile_statx(P, f, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
	cr_assert_eq(sx.stx_ino, st.st_ino);
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_statx(P, NULL, "/", AT_SYMLINK_NOFOLLOW, STATX_ALL, &dx));
	cr_assert(S_ISDIR(dx.stx_mode));
	cr_assert_eq(dx.stx_attributes & STATX_ATTR_DAX, 0, "directories are not DAX");
	FAILS(daxfile_statx(P, NULL, "/f", 0, STATX__RESERVED, &sx), -1, EINVAL);
	FAILS(daxfile_statx(P, NULL, "/f", 0x4000000, STATX_ALL, &sx), -1, EINVAL);
	FAILS(daxfile_statx(P, NULL, "/f",
		AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, STATX_ALL, &sx), -1, EINVAL);
	FAILS(daxfile_statx(P, NULL, "/nothing", 0, STATX_ALL, &sx), -1, ENOENT);
	FAILS(daxfile_statx(P, NULL, "/f", 0, STATX_ALL, NULL), -1, EFAULT);
}

Test(attr, lstat_and_fstatat_report_what_stat_reports)
{
	struct stat a, b, c;
	daxfile_file *d;

	make_file("/f", 0600);
	a = st_of("/f");
	TEST_OK(daxfile_lstat(P, "/f", &b));
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	d = daxfile_open(P, "/", O_RDONLY | O_DIRECTORY);
	cr_assert_not_null(d);
	TEST_OK(daxfile_fstatat(P, d, "/f", &c, AT_SYMLINK_NOFOLLOW));
	cr_assert_eq(memcmp(&a, &c, sizeof(a)), 0);
	TEST_OK(daxfile_fstatat(P, d, "", &c, AT_EMPTY_PATH));
	cr_assert_eq(c.st_ino, st_of("/").st_ino);
	FAILS(daxfile_fstatat(P, d, "/f", &c, 0x4000000), -1, EINVAL);
	FAILS(daxfile_fstatat(P, d, "/f", NULL, 0), -1, EFAULT);
	TEST_OK(daxfile_close(d));
	FAILS(daxfile_lstat(P, "/nothing", &b), -1, ENOENT);
}

/* --- times of data changes, relatime, O_NOATIME ------------------------------------ */

Test(attr, a_write_stamps_mtime_and_ctime_and_a_read_follows_relatime)
{
	struct timespec old[2] = {{1000, 0}, {1000, 0}};
	struct timespec t0;
	struct stat st;
	daxfile_file *f;
	char c;

	make_file("/f", 0644);
	f = daxfile_open(P, "/f", O_RDWR);
	cr_assert_not_null(f);
	TEST_OK(daxfile_futimens(f, old));
	clock_gettime(CLOCK_REALTIME_COARSE, &t0);
	cr_assert_eq(daxfile_pwrite(f, "x", 1, 0), 1);
	TEST_OK(daxfile_fstat(f, &st));
	cr_assert(ts_le(t0, st.st_mtim), "mtime stamped by the write");
	cr_assert(ts_le(t0, st.st_ctim), "ctime too");
	cr_assert_eq(st.st_atim.tv_sec, 1000, "a write leaves atime");
	cr_assert_eq(daxfile_pread(f, &c, 1, 0), 1);
	TEST_OK(daxfile_fstat(f, &st));
	cr_assert(ts_le(t0, st.st_atim), "atime older than mtime: the read stamps it");
	TEST_OK(daxfile_close(f));
	FAILS(daxfile_futimens(NULL, old), -1, EBADF);
	TEST_OK(daxfile_utimensat(P, NULL, "/f", old, 0));
	f = daxfile_open(P, "/f", O_RDONLY | O_NOATIME);
	cr_assert_not_null(f);
	cr_assert_eq(daxfile_pread(f, &c, 1, 0), 1);
	TEST_OK(daxfile_fstat(f, &st));
	cr_assert_eq(st.st_atim.tv_sec, 1000, "O_NOATIME: no atime update");
	TEST_OK(daxfile_close(f));
}

Test(attr, relatime_stamps_a_read_at_eof_a_listing_and_a_readlink_of_new_inodes)
{
	struct timespec t0;
	struct stat st;
	daxfile_dir *d;
	daxfile_file *f;
	char c, buf[8];

	/* new inodes: atime equals mtime and ctime, so the first read is due */
	make_file("/f", 0644);
	TEST_OK(daxfile_mkdir(P, "/d", 0755));
	TEST_OK(daxfile_symlink(P, "f", "/l"));
	usleep(20000);
	clock_gettime(CLOCK_REALTIME_COARSE, &t0);
	f = daxfile_open(P, "/f", O_RDONLY);
	cr_assert_not_null(f);
	cr_assert_eq(daxfile_pread(f, &c, 1, 0), 0, "the file is empty");
	TEST_OK(daxfile_fstat(f, &st));
	cr_assert(ts_le(t0, st.st_atim), "a read at EOF stamps atime");
	TEST_OK(daxfile_close(f));
	d = daxfile_opendir(P, "/d");
	cr_assert_not_null(d);
	while (daxfile_readdir(d) != NULL)
		;
	TEST_OK(daxfile_closedir(d));
	TEST_OK(daxfile_stat(P, "/d", &st));
	cr_assert(ts_le(t0, st.st_atim), "a listing stamps a directory's atime");
	cr_assert_eq(daxfile_readlink(P, "/l", buf, sizeof(buf)), 1);
	TEST_OK(daxfile_lstat(P, "/l", &st));
	cr_assert(ts_le(t0, st.st_atim), "readlink stamps a link's atime");
	cr_assert(!ts_le(t0, st.st_mtim), "and only its atime");
}

Test(attr, every_fallocate_stamps_mtime_and_ctime_as_xfs_does)
{
	static const int modes[] = {0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_ZERO_RANGE,
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE};
	struct timespec old[2] = {{1000, 0}, {1000, 0}}, t0;
	struct stat st;
	daxfile_file *f;

	make_file("/f", 0644);
	f = daxfile_open(P, "/f", O_RDWR);
	cr_assert_not_null(f);
	TEST_OK(daxfile_ftruncate(f, 65536));
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		TEST_OK(daxfile_futimens(f, old));
		clock_gettime(CLOCK_REALTIME_COARSE, &t0);
		/* inside the file: the size does not change */
		TEST_OK(daxfile_fallocate(f, modes[i], 4096, 8192));
		TEST_OK(daxfile_fstat(f, &st));
		cr_assert_eq(st.st_size, 65536);
		cr_assert(ts_le(t0, st.st_mtim), "mode %#x stamps mtime", modes[i]);
		cr_assert(ts_le(t0, st.st_ctim), "mode %#x stamps ctime", modes[i]);
	}
	TEST_OK(daxfile_close(f));
}

/* --- symbolic links and relative paths ------------------------------------------ */

static void
link_owner_as_u1(void)
{
	struct stat st;

	TEST_OK(daxfile_symlink(P, "f", "/mylink"));
	TEST_OK(daxfile_lstat(P, "/mylink", &st));
	cr_assert_eq(st.st_uid, U1, "a link belongs to its creator");
	cr_assert_eq(st.st_mode, S_IFLNK | 0777, "mode 0777 whatever the umask");
	TEST_OK(daxfile_lchown(P, "/mylink", (uid_t)-1, G1));
	FAILS(daxfile_lchown(P, "/link", (uid_t)-1, G1), -1, EPERM);
}

Test(attr, calls_follow_links_unless_told_and_a_links_mode_never_changes)
{
	struct who u1 = {.uid = U1, .gid = G1};
	struct timespec set[2] = {{1111, 1}, {2222, 2}};
	struct statx sx;
	struct stat st, lst;
	daxfile_file *d;

	daxfile_umask(P, 077);
	make_file("/f", 0644);
	TEST_OK(daxfile_symlink(P, "f", "/link"));
	TEST_OK(daxfile_chmod(P, "/link", 0640));
	cr_assert_eq(st_of("/f").st_mode, S_IFREG | 0640, "chmod follows the link");
	FAILS(daxfile_fchmodat(P, NULL, "/link", 0600, AT_SYMLINK_NOFOLLOW), -1,
		EOPNOTSUPP);
	TEST_OK(daxfile_lchown(P, "/link", 5, 6));
	TEST_OK(daxfile_lstat(P, "/link", &lst));
	cr_assert_eq(lst.st_uid, 5, "lchown changes the link");
	cr_assert_eq(st_of("/f").st_uid, geteuid(), "not its target");
	TEST_OK(daxfile_chown(P, "/link", 7, (gid_t)-1));
	cr_assert_eq(st_of("/f").st_uid, 7, "chown follows");
	TEST_OK(daxfile_utimensat(P, NULL, "/link", set, AT_SYMLINK_NOFOLLOW));
	TEST_OK(daxfile_lstat(P, "/link", &lst));
	cr_assert(ts_eq(lst.st_mtim, set[1]), "the link's own times");
	cr_assert(!ts_eq(st_of("/f").st_mtim, set[1]), "not the target's");
	TEST_OK(daxfile_statx(P, NULL, "/link", AT_SYMLINK_NOFOLLOW, STATX_ALL, &sx));
	cr_assert(S_ISLNK(sx.stx_mode));
	cr_assert_eq(sx.stx_size, 1, "a link's size is its target's length");
	cr_assert_eq(sx.stx_attributes & STATX_ATTR_DAX, 0, "links are not DAX");
	TEST_OK(daxfile_statx(P, NULL, "/link", 0, STATX_ALL, &sx));
	cr_assert(S_ISREG(sx.stx_mode));
	cr_assert_eq(sx.stx_attributes & STATX_ATTR_DAX, STATX_ATTR_DAX);
	TEST_OK(daxfile_access(P, "/link", R_OK));
	TEST_OK(daxfile_faccessat(P, NULL, "/link", F_OK, AT_SYMLINK_NOFOLLOW));
	TEST_OK(daxfile_symlink(P, "nothing", "/dangling"));
	FAILS(daxfile_chmod(P, "/dangling", 0600), -1, ENOENT);
	FAILS(daxfile_access(P, "/dangling", F_OK), -1, ENOENT);
	TEST_OK(daxfile_faccessat(P, NULL, "/dangling", F_OK, AT_SYMLINK_NOFOLLOW));
	/* relative paths: from a directory handle, and from the current directory */
	TEST_OK(daxfile_mkdir(P, "/d", 0777));
	make_file("/d/g", 0666);
	cr_assert_eq(st_of("/d/g").st_mode, S_IFREG | 0600, "the umask set above");
	d = daxfile_open(P, "/d", O_RDONLY | O_DIRECTORY);
	cr_assert_not_null(d);
	TEST_OK(daxfile_fchmodat(P, d, "g", 0604, 0));
	TEST_OK(daxfile_fchownat(P, d, "g", 3, 4, 0));
	TEST_OK(daxfile_faccessat(P, d, "g", R_OK, 0));
	TEST_OK(daxfile_utimensat(P, d, "g", set, 0));
	TEST_OK(daxfile_statx(P, d, "g", 0, STATX_BASIC_STATS, &sx));
	cr_assert_eq(sx.stx_mode, S_IFREG | 0604);
	cr_assert_eq(sx.stx_uid, 3);
	cr_assert_eq(sx.stx_mtime.tv_sec, 2222);
	TEST_OK(daxfile_close(d));
	TEST_OK(daxfile_chdir(P, "/d"));
	TEST_OK(daxfile_chmod(P, "g", 0644));
	TEST_OK(daxfile_truncate(P, "g", 100));
	st = st_of("/d/g");
	cr_assert_eq(st.st_mode, S_IFREG | 0644);
	cr_assert_eq(st.st_size, 100);
	TEST_OK(daxfile_chdir(P, "/"));
	if (geteuid() == 0) {
		TEST_OK(daxfile_chmod(P, "/", 0777));
		as(&u1, link_owner_as_u1);
	}
}
