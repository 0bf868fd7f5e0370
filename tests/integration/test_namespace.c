/*
 * test_namespace.c -- the namespace through the public API: mkdir, rmdir,
 * unlink, rename, stat, fstat, open (its flags) and directory streams, each
 * with the errnos of the contract; the forms a path may take ("/a/./b",
 * "/a/../a/b", "//a//b", trailing slashes, "." and ".." as the last
 * component, relative and empty paths, names of 255 and 256 bytes, paths
 * of 4095 and 4096 bytes); the tree across a pool close and open; unlink of
 * an open file; link counts of directories as subdirectories come and go;
 * rename across directories (a moved directory's ".." names its new
 * parent) and over an existing file; readdir listing exactly the entries;
 * a directory of 20,000 entries, every one found (the lookup time is only
 * reported: bench/bench_namespace measures it); a
 * directory that keeps growing until the pool itself is full; and the times
 * of a directory when its entries change.
 */
#define _GNU_SOURCE	/* O_DIRECTORY */

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "daxfile.h"
#include "testpool.h"

/* FAILS -- TEST_FAILS, and the error message must name a cause. */
#define FAILS(expr, fail, e) do { \
	TEST_FAILS(expr, fail, e); \
	cr_assert_not_null(daxfile_errormsg(), "%s: no error message", #expr); \
	cr_assert_gt(strlen(daxfile_errormsg()), 0, \
		"%s: empty error message", #expr); \
} while (0)

#define NAME_MAX_BYTES 255
#define PATH_MAX_BYTES 4096	/* including the NUL */

/* --- helpers -------------------------------------------------------------- */

static struct stat
stat_of(daxfile_pool *pool, const char *path)
{
	struct stat st;

	cr_assert_eq(daxfile_stat(pool, path, &st), 0, "stat(%s): %s (%s)",
		path, strerror(errno), daxfile_errormsg());
	return st;
}

static ino_t
ino_of(daxfile_pool *pool, const char *path)
{
	return stat_of(pool, path).st_ino;
}

static nlink_t
nlink_of(daxfile_pool *pool, const char *path)
{
	return stat_of(pool, path).st_nlink;
}

/* put_file -- create (or replace the contents of) 'path' with 'text'. */
static void
put_file(daxfile_pool *pool, const char *path, const char *text)
{
	daxfile_file *f = daxfile_open(pool, path,
		O_CREAT | O_TRUNC | O_WRONLY, 0644);
	size_t n = strlen(text);

	cr_assert_not_null(f, "open(%s): %s", path, daxfile_errormsg());
	cr_assert_eq(daxfile_write(f, text, n), (ssize_t)n, "write(%s): %s",
		path, daxfile_errormsg());
	TEST_OK(daxfile_close(f));
}

/* check_text -- 'path' holds exactly 'text'. */
static void
check_text(daxfile_pool *pool, const char *path, const char *text)
{
	size_t n = strlen(text);
	char buf[4096];
	daxfile_file *f = daxfile_open(pool, path, O_RDONLY);
	ssize_t got;

	cr_assert_lt(n, sizeof(buf));
	cr_assert_not_null(f, "open(%s): %s", path, daxfile_errormsg());
	got = daxfile_pread(f, buf, sizeof(buf), 0);
	TEST_OK(daxfile_close(f));
	cr_assert_eq(got, (ssize_t)n, "%s: read %zd bytes, expected %zu", path,
		got, n);
	cr_assert(memcmp(buf, text, n) == 0, "%s: '%.*s', expected '%s'", path,
		(int)got, buf, text);
}

static void
touch(daxfile_pool *pool, const char *path)
{
	daxfile_file *f = daxfile_open(pool, path, O_CREAT | O_EXCL | O_WRONLY,
		0644);

	cr_assert_not_null(f, "create(%s): %s", path, daxfile_errormsg());
	TEST_OK(daxfile_close(f));
}

static bool
ts_after(struct timespec a, struct timespec b)
{
	return a.tv_sec > b.tv_sec ||
		(a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

static bool
ts_equal(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* tick -- let the clock move on, so that a new timestamp is larger. */
static void
tick(void)
{
	struct timespec ts = {0, 5 * 1000 * 1000};

	nanosleep(&ts, NULL);
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * expect_entries -- readdir of 'dir' returns exactly ".", ".." and the
 * 'n' names, each once, with d_ino and d_type matching stat.
 */
static void
expect_entries(daxfile_pool *pool, const char *dir, const char *const *names,
	size_t n)
{
	bool seen[64] = {false};
	bool dot = false, dotdot = false;
	char path[8192];
	struct dirent *de;
	daxfile_dir *d;
	struct stat st;
	size_t count = 0;

	cr_assert_leq(n, 64);
	d = daxfile_opendir(pool, dir);
	cr_assert_not_null(d, "opendir(%s): %s", dir, daxfile_errormsg());
	errno = 0;
	while ((de = daxfile_readdir(d)) != NULL) {
		size_t i;

		count++;
		if (strcmp(de->d_name, ".") == 0) {
			cr_assert(!dot, "%s: '.' twice", dir);
			dot = true;
			cr_assert_eq(de->d_ino, ino_of(pool, dir));
			cr_assert_eq(de->d_type, DT_DIR);
			continue;
		}
		if (strcmp(de->d_name, "..") == 0) {
			cr_assert(!dotdot, "%s: '..' twice", dir);
			dotdot = true;
			snprintf(path, sizeof(path), "%s/..", dir);
			cr_assert_eq(de->d_ino, ino_of(pool, path),
				"%s: '..' names the wrong directory", dir);
			cr_assert_eq(de->d_type, DT_DIR);
			continue;
		}
		for (i = 0; i < n; i++)
			if (strcmp(de->d_name, names[i]) == 0)
				break;
		cr_assert_lt(i, n, "%s: unexpected entry '%s'", dir, de->d_name);
		cr_assert(!seen[i], "%s: '%s' listed twice", dir, de->d_name);
		seen[i] = true;
		snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "",
			de->d_name);
		st = stat_of(pool, path);
		cr_assert_eq(de->d_ino, st.st_ino, "%s: wrong d_ino", path);
		cr_assert_eq(de->d_type, S_ISDIR(st.st_mode) ? DT_DIR : DT_REG,
			"%s: wrong d_type %u", path, de->d_type);
	}
	cr_assert_eq(errno, 0, "readdir(%s) ended with errno %d", dir, errno);
	TEST_OK(daxfile_closedir(d));
	cr_assert(dot && dotdot, "%s: '.' or '..' missing", dir);
	cr_assert_eq(count, n + 2, "%s: %zu entries, expected %zu", dir, count,
		n + 2);
}

/* long_name -- 'len' copies of 'c'. */
static char *
long_name(char *buf, size_t len, char c)
{
	memset(buf, c, len);
	buf[len] = '\0';
	return buf;
}

/* --- mkdir and rmdir ------------------------------------------------------ */

Test(namespace, mkdir_creates_a_directory_with_the_mode_given)
{
	struct test_pool tp;
	struct stat st, root;
	mode_t old = umask(022);

	test_pool_create(&tp, "mkdir", TEST_POOL_SIZE);
	root = stat_of(tp.pool, "/");
	cr_assert(S_ISDIR(root.st_mode));
	cr_assert_eq(root.st_nlink, 2);
	TEST_OK(daxfile_mkdir(tp.pool, "/a", 0777));
	TEST_OK(daxfile_mkdir(tp.pool, "/b", 0700));
	TEST_OK(daxfile_mkdir(tp.pool, "/a/sticky", 01777));
	umask(old);
	st = stat_of(tp.pool, "/a");
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0755,
		"mode %o: the pool's umask is the process umask at open (022)",
		st.st_mode & 07777);
	cr_assert_eq(st.st_nlink, 3);
	cr_assert_eq(st.st_blksize, 4096);
	cr_assert_eq(st.st_uid, geteuid());
	cr_assert_eq(st.st_gid, getegid());
	cr_assert_neq(st.st_ino, root.st_ino);
	cr_assert_neq(st.st_ino, ino_of(tp.pool, "/b"));
	cr_assert_eq(stat_of(tp.pool, "/b").st_mode & 07777, 0700);
	cr_assert_eq(stat_of(tp.pool, "/a/sticky").st_mode & 07777, 01755);
	cr_assert_eq(stat_of(tp.pool, "/a/sticky").st_nlink, 2);
	cr_assert_eq(nlink_of(tp.pool, "/"), 4);
	test_pool_destroy(&tp);
}

Test(namespace, mkdir_fails_with_the_errno_of_each_bad_case)
{
	struct test_pool tp;

	test_pool_create(&tp, "mkdirbad", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	touch(tp.pool, "/f");
	FAILS(daxfile_mkdir(tp.pool, "/d", 0755), -1, EEXIST);
	FAILS(daxfile_mkdir(tp.pool, "/f", 0755), -1, EEXIST);
	FAILS(daxfile_mkdir(tp.pool, "/d/", 0755), -1, EEXIST);
	FAILS(daxfile_mkdir(tp.pool, "/", 0755), -1, EEXIST);
	FAILS(daxfile_mkdir(tp.pool, "/d/.", 0755), -1, EEXIST);
	FAILS(daxfile_mkdir(tp.pool, "/d/..", 0755), -1, EEXIST);
	FAILS(daxfile_mkdir(tp.pool, "/missing/x", 0755), -1, ENOENT);
	FAILS(daxfile_mkdir(tp.pool, "/f/x", 0755), -1, ENOTDIR);
	FAILS(daxfile_mkdir(tp.pool, "missing/x", 0755), -1, ENOENT);
	FAILS(daxfile_mkdir(tp.pool, "d", 0755), -1, EEXIST);
	FAILS(daxfile_mkdir(tp.pool, "", 0755), -1, ENOENT);
	/* nothing was made by the failures */
	expect_entries(tp.pool, "/", (const char *[]){"d", "f"}, 2);
	expect_entries(tp.pool, "/d", NULL, 0);
	cr_assert_eq(nlink_of(tp.pool, "/"), 3);
	test_pool_destroy(&tp);
}

Test(namespace, rmdir_removes_an_empty_directory_and_fails_otherwise)
{
	struct test_pool tp;

	test_pool_create(&tp, "rmdir", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/d/sub", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/e", 0755));
	touch(tp.pool, "/e/f");
	touch(tp.pool, "/f");

	FAILS(daxfile_rmdir(tp.pool, "/d"), -1, ENOTEMPTY);
	FAILS(daxfile_rmdir(tp.pool, "/e"), -1, ENOTEMPTY);
	FAILS(daxfile_rmdir(tp.pool, "/f"), -1, ENOTDIR);
	FAILS(daxfile_rmdir(tp.pool, "/e/f"), -1, ENOTDIR);
	FAILS(daxfile_rmdir(tp.pool, "/"), -1, EBUSY);
	FAILS(daxfile_rmdir(tp.pool, "/missing"), -1, ENOENT);
	FAILS(daxfile_rmdir(tp.pool, "/missing/x"), -1, ENOENT);
	FAILS(daxfile_rmdir(tp.pool, "/f/x"), -1, ENOTDIR);
	FAILS(daxfile_rmdir(tp.pool, "/d/sub/."), -1, EINVAL);
	FAILS(daxfile_rmdir(tp.pool, "/d/sub/.."), -1, ENOTEMPTY);
	FAILS(daxfile_rmdir(tp.pool, "d"), -1, ENOTEMPTY);
	FAILS(daxfile_rmdir(tp.pool, ""), -1, ENOENT);
	cr_assert(S_ISDIR(stat_of(tp.pool, "/d/sub").st_mode));

	TEST_OK(daxfile_rmdir(tp.pool, "/d/sub/"));
	FAILS(daxfile_stat(tp.pool, "/d/sub", &(struct stat){0}), -1, ENOENT);
	cr_assert_eq(nlink_of(tp.pool, "/d"), 2);
	TEST_OK(daxfile_rmdir(tp.pool, "/d"));
	TEST_OK(daxfile_unlink(tp.pool, "/e/f"));
	TEST_OK(daxfile_rmdir(tp.pool, "//e"));
	FAILS(daxfile_rmdir(tp.pool, "/e"), -1, ENOENT);
	expect_entries(tp.pool, "/", (const char *[]){"f"}, 1);
	cr_assert_eq(nlink_of(tp.pool, "/"), 2);
	test_pool_destroy(&tp);
}

/* --- unlink --------------------------------------------------------------- */

Test(namespace, unlink_removes_a_file_and_fails_on_directories)
{
	struct test_pool tp;

	test_pool_create(&tp, "unlink", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	put_file(tp.pool, "/d/f", "data");
	put_file(tp.pool, "/g", "more");

	FAILS(daxfile_unlink(tp.pool, "/d"), -1, EISDIR);
	FAILS(daxfile_unlink(tp.pool, "/d/"), -1, EISDIR);
	FAILS(daxfile_unlink(tp.pool, "/"), -1, EISDIR);
	FAILS(daxfile_unlink(tp.pool, "/d/."), -1, EISDIR);
	FAILS(daxfile_unlink(tp.pool, "/d/.."), -1, EISDIR);
	FAILS(daxfile_unlink(tp.pool, "/missing"), -1, ENOENT);
	FAILS(daxfile_unlink(tp.pool, "/missing/f"), -1, ENOENT);
	FAILS(daxfile_unlink(tp.pool, "/g/"), -1, ENOTDIR);
	FAILS(daxfile_unlink(tp.pool, "/g/x"), -1, ENOTDIR);
	FAILS(daxfile_unlink(tp.pool, "d"), -1, EISDIR);
	FAILS(daxfile_unlink(tp.pool, ""), -1, ENOENT);
	check_text(tp.pool, "/g", "more");
	check_text(tp.pool, "/d/f", "data");

	TEST_OK(daxfile_unlink(tp.pool, "/d/f"));
	FAILS(daxfile_stat(tp.pool, "/d/f", &(struct stat){0}), -1, ENOENT);
	FAILS(daxfile_open(tp.pool, "/d/f", O_RDONLY), NULL, ENOENT);
	FAILS(daxfile_unlink(tp.pool, "/d/f"), -1, ENOENT);
	expect_entries(tp.pool, "/d", NULL, 0);
	TEST_OK(daxfile_unlink(tp.pool, "/d/../g"));
	expect_entries(tp.pool, "/", (const char *[]){"d"}, 1);
	test_pool_destroy(&tp);
}

Test(namespace, an_unlinked_open_file_stays_usable_until_close)
{
	struct test_pool tp;
	struct statvfs before, sv;
	char big[20000], back[20000];
	daxfile_file *f, *g;
	struct stat st;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 3);
	test_pool_create(&tp, "unlinkopen", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	TEST_OK(daxfile_statvfs(tp.pool, &before));
	f = daxfile_open(tp.pool, "/d/f", O_CREAT | O_RDWR, 0644);
	cr_assert_not_null(f, "open: %s", daxfile_errormsg());
	cr_assert_eq(daxfile_write(f, big, sizeof(big)), (ssize_t)sizeof(big));
	g = daxfile_open(tp.pool, "/d/f", O_RDONLY);
	cr_assert_not_null(g);

	TEST_OK(daxfile_unlink(tp.pool, "/d/f"));
	/* the name is gone */
	FAILS(daxfile_stat(tp.pool, "/d/f", &st), -1, ENOENT);
	FAILS(daxfile_open(tp.pool, "/d/f", O_RDONLY), NULL, ENOENT);
	expect_entries(tp.pool, "/d", NULL, 0);
	TEST_OK(daxfile_fstat(f, &st));
	cr_assert_eq(st.st_nlink, 0);
	cr_assert_eq(st.st_size, (off_t)sizeof(big));

	/* the data is readable and writable through the handles */
	cr_assert_eq(daxfile_pread(g, back, sizeof(back), 0),
		(ssize_t)sizeof(back));
	cr_assert(memcmp(back, big, sizeof(big)) == 0);
	cr_assert_eq(daxfile_pwrite(f, "tail", 4, sizeof(big)), 4);
	cr_assert_eq(daxfile_pread(g, back, 8, sizeof(big) - 4), 8);
	cr_assert(memcmp(back, big + sizeof(big) - 4, 4) == 0);
	cr_assert(memcmp(back + 4, "tail", 4) == 0);

	/* a new file of that name is another file */
	put_file(tp.pool, "/d/f", "new");
	cr_assert_neq(ino_of(tp.pool, "/d/f"), st.st_ino);
	check_text(tp.pool, "/d/f", "new");
	cr_assert_eq(daxfile_pread(g, back, 3, 0), 3);
	cr_assert(memcmp(back, big, 3) == 0);
	TEST_OK(daxfile_unlink(tp.pool, "/d/f"));

	TEST_OK(daxfile_close(f));
	cr_assert_eq(daxfile_pread(g, back, sizeof(back), 0),
		(ssize_t)sizeof(back));
	cr_assert(memcmp(back, big, sizeof(big)) == 0);
	TEST_OK(daxfile_close(g));

	/* after the last close the blocks are free again */
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_eq(sv.f_bfree, before.f_bfree, "%lu blocks free, expected %lu",
		(unsigned long)sv.f_bfree, (unsigned long)before.f_bfree);
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0,
		"the pool is not clean after the last close");
	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool, "open: %s", daxfile_errormsg());
	FAILS(daxfile_stat(tp.pool, "/d/f", &st), -1, ENOENT);
	expect_entries(tp.pool, "/d", NULL, 0);
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_eq(sv.f_bfree, before.f_bfree);
	test_pool_destroy(&tp);
}

/* --- rename --------------------------------------------------------------- */

Test(namespace, rename_moves_a_file_within_and_across_directories)
{
	struct test_pool tp;
	struct stat st, d1, d2;
	ino_t ino;

	test_pool_create(&tp, "renamefile", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d1", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/d2", 0755));
	put_file(tp.pool, "/d1/f", "contents");
	ino = ino_of(tp.pool, "/d1/f");

	TEST_OK(daxfile_rename(tp.pool, "/d1/f", "/d1/g"));
	FAILS(daxfile_stat(tp.pool, "/d1/f", &st), -1, ENOENT);
	cr_assert_eq(ino_of(tp.pool, "/d1/g"), ino);
	check_text(tp.pool, "/d1/g", "contents");

	d1 = stat_of(tp.pool, "/d1");
	d2 = stat_of(tp.pool, "/d2");
	tick();
	TEST_OK(daxfile_rename(tp.pool, "/d1/g", "/d2/h"));
	FAILS(daxfile_stat(tp.pool, "/d1/g", &st), -1, ENOENT);
	st = stat_of(tp.pool, "/d2/h");
	cr_assert_eq(st.st_ino, ino);
	cr_assert_eq(st.st_nlink, 1);
	check_text(tp.pool, "/d2/h", "contents");
	expect_entries(tp.pool, "/d1", NULL, 0);
	expect_entries(tp.pool, "/d2", (const char *[]){"h"}, 1);
	/* both directories changed; no link counts did */
	cr_assert(ts_after(stat_of(tp.pool, "/d1").st_mtim, d1.st_mtim));
	cr_assert(ts_after(stat_of(tp.pool, "/d2").st_mtim, d2.st_mtim));
	cr_assert_eq(nlink_of(tp.pool, "/d1"), 2);
	cr_assert_eq(nlink_of(tp.pool, "/d2"), 2);

	/* and back up to the root, through odd path forms */
	TEST_OK(daxfile_rename(tp.pool, "//d2/./h", "/d1/../top"));
	cr_assert_eq(ino_of(tp.pool, "/top"), ino);
	expect_entries(tp.pool, "/", (const char *[]){"d1", "d2", "top"}, 3);
	test_pool_reopen(&tp);
	check_text(tp.pool, "/top", "contents");
	expect_entries(tp.pool, "/d2", NULL, 0);
	test_pool_destroy(&tp);
}

Test(namespace, rename_moves_a_directory_and_its_dotdot_names_the_new_parent)
{
	struct test_pool tp;
	struct stat st;
	ino_t dir, oldp, newp, root;

	test_pool_create(&tp, "renamedir", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/oldparent", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/newparent", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/oldparent/dir", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/oldparent/dir/sub", 0755));
	put_file(tp.pool, "/oldparent/dir/f", "inside");
	dir = ino_of(tp.pool, "/oldparent/dir");
	oldp = ino_of(tp.pool, "/oldparent");
	newp = ino_of(tp.pool, "/newparent");
	root = ino_of(tp.pool, "/");
	cr_assert_eq(ino_of(tp.pool, "/oldparent/dir/.."), oldp);
	cr_assert_eq(nlink_of(tp.pool, "/oldparent"), 3);
	cr_assert_eq(nlink_of(tp.pool, "/newparent"), 2);
	cr_assert_eq(nlink_of(tp.pool, "/"), 4);

	/* up to the root, renamed on the way */
	TEST_OK(daxfile_rename(tp.pool, "/oldparent/dir", "/moved"));
	FAILS(daxfile_stat(tp.pool, "/oldparent/dir", &st), -1, ENOENT);
	cr_assert_eq(ino_of(tp.pool, "/moved"), dir);
	cr_assert_eq(ino_of(tp.pool, "/moved/.."), root,
		"'..' of the moved directory names its old parent");
	cr_assert_eq(ino_of(tp.pool, "/moved/sub/../.."), root);
	cr_assert_eq(nlink_of(tp.pool, "/oldparent"), 2);
	cr_assert_eq(nlink_of(tp.pool, "/"), 5);
	cr_assert_eq(nlink_of(tp.pool, "/moved"), 3);
	expect_entries(tp.pool, "/moved", (const char *[]){"sub", "f"}, 2);
	expect_entries(tp.pool, "/oldparent", NULL, 0);
	TEST_OK(daxfile_rmdir(tp.pool, "/oldparent"));
	cr_assert_eq(nlink_of(tp.pool, "/"), 4);

	/* down into another directory */
	TEST_OK(daxfile_rename(tp.pool, "/moved", "/newparent/dir"));
	FAILS(daxfile_stat(tp.pool, "/moved", &st), -1, ENOENT);
	cr_assert_eq(ino_of(tp.pool, "/newparent/dir"), dir);
	cr_assert_eq(ino_of(tp.pool, "/newparent/dir/.."), newp,
		"'..' of the moved directory names its old parent");
	cr_assert_eq(ino_of(tp.pool, "/newparent/dir/sub/../.."), newp);
	cr_assert_eq(nlink_of(tp.pool, "/newparent"), 3);
	cr_assert_eq(nlink_of(tp.pool, "/"), 3);
	check_text(tp.pool, "/newparent/dir/f", "inside");
	expect_entries(tp.pool, "/newparent/dir", (const char *[]){"sub", "f"}, 2);

	/* across two subdirectories, and it all persists */
	TEST_OK(daxfile_mkdir(tp.pool, "/third", 0755));
	TEST_OK(daxfile_rename(tp.pool, "/newparent/dir", "/third/dir"));
	cr_assert_eq(ino_of(tp.pool, "/third/dir/.."), ino_of(tp.pool, "/third"));
	cr_assert_eq(nlink_of(tp.pool, "/newparent"), 2);
	cr_assert_eq(nlink_of(tp.pool, "/third"), 3);
	test_pool_reopen(&tp);
	cr_assert_eq(ino_of(tp.pool, "/third/dir"), dir);
	cr_assert_eq(ino_of(tp.pool, "/third/dir/.."), ino_of(tp.pool, "/third"));
	cr_assert_eq(nlink_of(tp.pool, "/third"), 3);
	cr_assert_eq(nlink_of(tp.pool, "/newparent"), 2);
	cr_assert_eq(nlink_of(tp.pool, "/"), 4);
	check_text(tp.pool, "/third/dir/f", "inside");
	test_pool_destroy(&tp);
}

Test(namespace, rename_replaces_an_existing_file)
{
	struct test_pool tp;
	struct statvfs empty, sv;
	char big[3 * 4096], back[sizeof(big)];
	daxfile_file *old;
	ino_t src, tgt;
	daxfile_file *f;

	memset(big, 'T', sizeof(big));
	test_pool_create(&tp, "renamereplace", TEST_POOL_SIZE);
	TEST_OK(daxfile_statvfs(tp.pool, &empty));
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	put_file(tp.pool, "/d/src", "new contents");
	f = daxfile_open(tp.pool, "/tgt", O_CREAT | O_WRONLY, 0600);
	cr_assert_not_null(f);
	cr_assert_eq(daxfile_write(f, big, sizeof(big)), (ssize_t)sizeof(big));
	TEST_OK(daxfile_close(f));
	src = ino_of(tp.pool, "/d/src");
	tgt = ino_of(tp.pool, "/tgt");

	/* across directories, over a file that is open */
	old = daxfile_open(tp.pool, "/tgt", O_RDONLY);
	cr_assert_not_null(old);
	TEST_OK(daxfile_rename(tp.pool, "/d/src", "/tgt"));
	FAILS(daxfile_stat(tp.pool, "/d/src", &(struct stat){0}), -1, ENOENT);
	cr_assert_eq(ino_of(tp.pool, "/tgt"), src);
	cr_assert_neq(ino_of(tp.pool, "/tgt"), tgt);
	cr_assert_eq(stat_of(tp.pool, "/tgt").st_mode & 07777, 0644);
	check_text(tp.pool, "/tgt", "new contents");
	expect_entries(tp.pool, "/", (const char *[]){"d", "tgt"}, 2);
	expect_entries(tp.pool, "/d", NULL, 0);
	/* the old target lives on only through its handle */
	cr_assert_eq(daxfile_pread(old, back, sizeof(back), 0),
		(ssize_t)sizeof(back));
	cr_assert(memcmp(back, big, sizeof(big)) == 0);
	TEST_OK(daxfile_close(old));

	/* within one directory, over a closed file: its blocks are freed */
	f = daxfile_open(tp.pool, "/d/x", O_CREAT | O_WRONLY, 0600);
	cr_assert_not_null(f);
	cr_assert_eq(daxfile_write(f, big, sizeof(big)), (ssize_t)sizeof(big));
	TEST_OK(daxfile_close(f));
	put_file(tp.pool, "/d/y", "why");
	TEST_OK(daxfile_rename(tp.pool, "/d/y", "/d/x"));
	check_text(tp.pool, "/d/x", "why");
	cr_assert_eq(stat_of(tp.pool, "/d/x").st_size, 3);
	expect_entries(tp.pool, "/d", (const char *[]){"x"}, 1);
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	/* "new contents" and "why": one block each */
	cr_assert_eq(sv.f_bfree, empty.f_bfree - 2,
		"%lu blocks free, expected %lu", (unsigned long)sv.f_bfree,
		(unsigned long)(empty.f_bfree - 2));

	test_pool_reopen(&tp);
	check_text(tp.pool, "/tgt", "new contents");
	check_text(tp.pool, "/d/x", "why");
	expect_entries(tp.pool, "/d", (const char *[]){"x"}, 1);
	test_pool_destroy(&tp);
}

Test(namespace, rename_replaces_an_empty_directory)
{
	struct test_pool tp;
	struct stat st;
	ino_t src;

	test_pool_create(&tp, "renameemptydir", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/a", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/a/src", 0755));
	put_file(tp.pool, "/a/src/f", "f");
	TEST_OK(daxfile_mkdir(tp.pool, "/a/empty", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/b", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/b/tgt", 0755));
	src = ino_of(tp.pool, "/a/src");
	cr_assert_eq(nlink_of(tp.pool, "/a"), 4);

	/* in one directory */
	TEST_OK(daxfile_rename(tp.pool, "/a/src", "/a/empty/"));
	cr_assert_eq(ino_of(tp.pool, "/a/empty"), src);
	FAILS(daxfile_stat(tp.pool, "/a/src", &st), -1, ENOENT);
	check_text(tp.pool, "/a/empty/f", "f");
	cr_assert_eq(nlink_of(tp.pool, "/a"), 3);
	expect_entries(tp.pool, "/a", (const char *[]){"empty"}, 1);

	/* across directories */
	TEST_OK(daxfile_rename(tp.pool, "/a/empty", "/b/tgt"));
	cr_assert_eq(ino_of(tp.pool, "/b/tgt"), src);
	cr_assert_eq(ino_of(tp.pool, "/b/tgt/.."), ino_of(tp.pool, "/b"));
	check_text(tp.pool, "/b/tgt/f", "f");
	cr_assert_eq(nlink_of(tp.pool, "/a"), 2);
	cr_assert_eq(nlink_of(tp.pool, "/b"), 3);
	expect_entries(tp.pool, "/a", NULL, 0);
	expect_entries(tp.pool, "/b", (const char *[]){"tgt"}, 1);
	test_pool_destroy(&tp);
}

/* rename_bad_tree -- the tree the failing renames work on. */
static void
rename_bad_tree(struct test_pool *tp, const char *tag)
{
	test_pool_create(tp, tag, TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp->pool, "/a", 0755));
	TEST_OK(daxfile_mkdir(tp->pool, "/a/b", 0755));
	TEST_OK(daxfile_mkdir(tp->pool, "/a/b/c", 0755));
	TEST_OK(daxfile_mkdir(tp->pool, "/full", 0755));
	TEST_OK(daxfile_mkdir(tp->pool, "/empty", 0755));
	put_file(tp->pool, "/full/f", "full");
	put_file(tp->pool, "/file", "file");
}

/* rename_bad_tree_unchanged -- the failures moved nothing. */
static void
rename_bad_tree_unchanged(struct test_pool *tp)
{
	expect_entries(tp->pool, "/",
		(const char *[]){"a", "full", "empty", "file"}, 4);
	expect_entries(tp->pool, "/a", (const char *[]){"b"}, 1);
	expect_entries(tp->pool, "/a/b", (const char *[]){"c"}, 1);
	expect_entries(tp->pool, "/a/b/c", NULL, 0);
	expect_entries(tp->pool, "/full", (const char *[]){"f"}, 1);
	expect_entries(tp->pool, "/empty", NULL, 0);
	check_text(tp->pool, "/file", "file");
	check_text(tp->pool, "/full/f", "full");
	cr_assert_eq(nlink_of(tp->pool, "/"), 5);
	cr_assert_eq(nlink_of(tp->pool, "/a"), 3);
	cr_assert_eq(nlink_of(tp->pool, "/a/b"), 3);
}

Test(namespace, rename_fails_with_the_errno_of_each_bad_case)
{
	struct test_pool tp;

	rename_bad_tree(&tp, "renamebad");
	/* a directory into itself */
	FAILS(daxfile_rename(tp.pool, "/a", "/a/x"), -1, EINVAL);
	/* a directory over a non-empty one (EEXIST, as XFS), over its own parent */
	FAILS(daxfile_rename(tp.pool, "/empty", "/full"), -1, EEXIST);
	FAILS(daxfile_rename(tp.pool, "/a/b", "/a"), -1, ENOTEMPTY);
	/* a trailing slash on a file */
	FAILS(daxfile_rename(tp.pool, "/file", "/newname/"), -1, ENOTDIR);
	FAILS(daxfile_rename(tp.pool, "/file/", "/newname"), -1, ENOTDIR);
	/* missing source or target directory */
	FAILS(daxfile_rename(tp.pool, "/missing", "/x"), -1, ENOENT);
	FAILS(daxfile_rename(tp.pool, "/missing/x", "/x"), -1, ENOENT);
	FAILS(daxfile_rename(tp.pool, "/file", "/missing/x"), -1, ENOENT);
	FAILS(daxfile_rename(tp.pool, "/file", "/file/x"), -1, ENOTDIR);
	FAILS(daxfile_rename(tp.pool, "", "/x"), -1, ENOENT);
	FAILS(daxfile_rename(tp.pool, "/file", ""), -1, ENOENT);
	FAILS(daxfile_rename(tp.pool, "missing", "/x"), -1, ENOENT);
	FAILS(daxfile_rename(tp.pool, "/file", "missing/x"), -1, ENOENT);
	rename_bad_tree_unchanged(&tp);
	test_pool_destroy(&tp);
}

Test(namespace, rename_of_a_file_over_a_directory_or_back_fails)
{
	struct test_pool tp;

	rename_bad_tree(&tp, "renamekinds");
	/* in one directory */
	FAILS(daxfile_rename(tp.pool, "/file", "/empty"), -1, EISDIR);
	/* a trailing slash on a file's new name is refused first */
	FAILS(daxfile_rename(tp.pool, "/file", "/empty/"), -1, ENOTDIR);
	FAILS(daxfile_rename(tp.pool, "/empty", "/file"), -1, ENOTDIR);
	/* across directories */
	FAILS(daxfile_rename(tp.pool, "/full/f", "/a/b"), -1, EISDIR);
	FAILS(daxfile_rename(tp.pool, "/a/b/c", "/full/f"), -1, ENOTDIR);
	rename_bad_tree_unchanged(&tp);
	test_pool_destroy(&tp);
}

Test(namespace, rename_across_directories_fails_with_the_errno_of_each_bad_case)
{
	struct test_pool tp;

	rename_bad_tree(&tp, "renamebadx");
	/* a directory into its own subtree, at any depth */
	FAILS(daxfile_rename(tp.pool, "/a", "/a/b/x"), -1, EINVAL);
	FAILS(daxfile_rename(tp.pool, "/a", "/a/b/c/x"), -1, EINVAL);
	FAILS(daxfile_rename(tp.pool, "/a/b", "/a/b/c/x"), -1, EINVAL);
	FAILS(daxfile_rename(tp.pool, "/a/b", "/a/b/c"), -1, EINVAL);
	/* a directory over one of its ancestors: not empty */
	FAILS(daxfile_rename(tp.pool, "/a/b/c", "/a"), -1, ENOTEMPTY);
	/* across directories: a non-empty target (EEXIST, as XFS) */
	FAILS(daxfile_rename(tp.pool, "/a/b/c", "/full"), -1, EEXIST);
	FAILS(daxfile_rename(tp.pool, "/empty", "/a/b"), -1, EEXIST);
	rename_bad_tree_unchanged(&tp);
	test_pool_destroy(&tp);
}

Test(namespace, rename_to_itself_succeeds_and_changes_nothing)
{
	struct test_pool tp;
	struct stat f0, d0, r0, st;

	test_pool_create(&tp, "renameself", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	put_file(tp.pool, "/d/f", "same");
	f0 = stat_of(tp.pool, "/d/f");
	d0 = stat_of(tp.pool, "/d");
	r0 = stat_of(tp.pool, "/");
	tick();
	TEST_OK(daxfile_rename(tp.pool, "/d/f", "/d/f"));
	TEST_OK(daxfile_rename(tp.pool, "/d/f", "/d/./f"));
	TEST_OK(daxfile_rename(tp.pool, "/d", "/d"));
	TEST_OK(daxfile_rename(tp.pool, "/d", "//d/../d"));

	st = stat_of(tp.pool, "/d/f");
	cr_assert_eq(st.st_ino, f0.st_ino);
	cr_assert_eq(st.st_nlink, 1);
	cr_assert(ts_equal(st.st_ctim, f0.st_ctim), "the file's ctime changed");
	st = stat_of(tp.pool, "/d");
	cr_assert_eq(st.st_ino, d0.st_ino);
	cr_assert_eq(st.st_nlink, 2);
	cr_assert(ts_equal(st.st_mtim, d0.st_mtim), "the directory's mtime changed");
	st = stat_of(tp.pool, "/");
	cr_assert_eq(st.st_nlink, r0.st_nlink);
	cr_assert(ts_equal(st.st_mtim, r0.st_mtim), "the root's mtime changed");
	check_text(tp.pool, "/d/f", "same");
	expect_entries(tp.pool, "/d", (const char *[]){"f"}, 1);
	expect_entries(tp.pool, "/", (const char *[]){"d"}, 1);
	test_pool_destroy(&tp);
}

/* --- stat, fstat, open ---------------------------------------------------- */

Test(namespace, stat_and_fstat_agree_and_fail_on_bad_paths_or_handles)
{
	struct test_pool tp;
	struct stat st, fst;
	daxfile_file *f, *d;

	test_pool_create(&tp, "stat", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	f = daxfile_open(tp.pool, "/d/f", O_CREAT | O_RDWR, 0640);
	cr_assert_not_null(f);
	cr_assert_eq(daxfile_write(f, "0123456789", 10), 10);
	st = stat_of(tp.pool, "/d/f");
	TEST_OK(daxfile_fstat(f, &fst));
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode, S_IFREG | 0640);
	cr_assert_eq(st.st_size, 10);
	cr_assert_eq(st.st_nlink, 1);
	cr_assert_eq(st.st_blksize, 4096);
	cr_assert_eq(st.st_blocks % 8, 0, "st_blocks %ld is not whole blocks",
		(long)st.st_blocks);
	cr_assert_geq(st.st_blocks, 8);
	cr_assert_eq(fst.st_ino, st.st_ino);
	cr_assert_eq(fst.st_mode, st.st_mode);
	cr_assert_eq(fst.st_size, st.st_size);
	cr_assert_eq(fst.st_nlink, st.st_nlink);
	cr_assert_eq(fst.st_dev, st.st_dev);
	cr_assert(ts_equal(fst.st_mtim, st.st_mtim));
	TEST_OK(daxfile_close(f));

	d = daxfile_open(tp.pool, "/d", O_RDONLY | O_DIRECTORY);
	cr_assert_not_null(d, "open of a directory: %s", daxfile_errormsg());
	TEST_OK(daxfile_fstat(d, &fst));
	cr_assert(S_ISDIR(fst.st_mode));
	cr_assert_eq(fst.st_ino, ino_of(tp.pool, "/d"));
	cr_assert_eq(fst.st_nlink, 2);
	TEST_OK(daxfile_close(d));

	FAILS(daxfile_stat(tp.pool, "/missing", &st), -1, ENOENT);
	FAILS(daxfile_stat(tp.pool, "/d/missing", &st), -1, ENOENT);
	FAILS(daxfile_stat(tp.pool, "/missing/x", &st), -1, ENOENT);
	FAILS(daxfile_stat(tp.pool, "/d/f/x", &st), -1, ENOTDIR);
	FAILS(daxfile_stat(tp.pool, "/d/f/", &st), -1, ENOTDIR);
	FAILS(daxfile_stat(tp.pool, "/d/f/.", &st), -1, ENOTDIR);
	FAILS(daxfile_stat(tp.pool, "/d/f/..", &st), -1, ENOTDIR);
	FAILS(daxfile_stat(tp.pool, "d/f/", &st), -1, ENOTDIR);
	FAILS(daxfile_stat(tp.pool, "./d/missing", &st), -1, ENOENT);
	FAILS(daxfile_stat(tp.pool, "", &st), -1, ENOENT);
	FAILS(daxfile_fstat(NULL, &st), -1, EBADF);
	FAILS(daxfile_fstat(f, &st), -1, EBADF);
	FAILS(daxfile_close(f), -1, EBADF);
	FAILS(daxfile_close(NULL), -1, EBADF);
	test_pool_destroy(&tp);
}

Test(namespace, open_honours_each_flag)
{
	struct test_pool tp;
	mode_t old;
	daxfile_file *f;
	struct stat st;
	char buf[16];
	ino_t ino;

	test_pool_create(&tp, "openflags", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));

	/* O_CREAT: a new file with the mode as given, less the pool's umask */
	daxfile_umask(tp.pool, 0);
	old = umask(077);
	f = daxfile_open(tp.pool, "/d/f", O_CREAT | O_WRONLY, 0666);
	umask(old);
	cr_assert_not_null(f, "open: %s", daxfile_errormsg());
	TEST_OK(daxfile_fstat(f, &st));
	cr_assert_eq(st.st_mode, S_IFREG | 0666, "mode %o", st.st_mode);
	cr_assert_eq(st.st_size, 0);
	cr_assert_eq(st.st_uid, geteuid());
	cr_assert_eq(daxfile_write(f, "hello", 5), 5);
	TEST_OK(daxfile_close(f));
	ino = ino_of(tp.pool, "/d/f");
	put_file(tp.pool, "/d/odd", "");
	f = daxfile_open(tp.pool, "/d/setuid", O_CREAT | O_RDONLY, 04751);
	cr_assert_not_null(f);
	TEST_OK(daxfile_close(f));
	cr_assert_eq(stat_of(tp.pool, "/d/setuid").st_mode, S_IFREG | 04751);

	/* O_CREAT of an existing file opens it and keeps its data */
	f = daxfile_open(tp.pool, "/d/f", O_CREAT | O_RDWR, 0600);
	cr_assert_not_null(f);
	TEST_OK(daxfile_fstat(f, &st));
	cr_assert_eq(st.st_ino, ino);
	cr_assert_eq(st.st_mode & 07777, 0666, "O_CREAT changed the mode");
	cr_assert_eq(daxfile_read(f, buf, sizeof(buf)), 5);
	cr_assert(memcmp(buf, "hello", 5) == 0);
	TEST_OK(daxfile_close(f));

	/* O_EXCL */
	FAILS(daxfile_open(tp.pool, "/d/f", O_CREAT | O_EXCL | O_RDWR, 0600),
		NULL, EEXIST);
	FAILS(daxfile_open(tp.pool, "/d", O_CREAT | O_EXCL | O_RDONLY, 0600),
		NULL, EEXIST);
	FAILS(daxfile_open(tp.pool, "/", O_CREAT | O_EXCL | O_RDONLY, 0600),
		NULL, EEXIST);
	check_text(tp.pool, "/d/f", "hello");

	/* without O_CREAT nothing is made */
	FAILS(daxfile_open(tp.pool, "/d/none", O_RDWR), NULL, ENOENT);
	FAILS(daxfile_open(tp.pool, "/none/f", O_CREAT | O_RDWR, 0600), NULL,
		ENOENT);
	FAILS(daxfile_open(tp.pool, "/d/f/x", O_CREAT | O_RDWR, 0600), NULL,
		ENOTDIR);
	FAILS(daxfile_stat(tp.pool, "/d/none", &st), -1, ENOENT);

	/* O_TRUNC */
	f = daxfile_open(tp.pool, "/d/f", O_WRONLY | O_TRUNC);
	cr_assert_not_null(f);
	TEST_OK(daxfile_fstat(f, &st));
	cr_assert_eq(st.st_size, 0);
	cr_assert_eq(st.st_ino, ino);
	cr_assert_eq(st.st_blocks, 0);
	cr_assert_eq(daxfile_write(f, "abc", 3), 3);
	TEST_OK(daxfile_close(f));
	check_text(tp.pool, "/d/f", "abc");

	/* O_APPEND */
	f = daxfile_open(tp.pool, "/d/f", O_WRONLY | O_APPEND);
	cr_assert_not_null(f);
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_SET), 0);
	cr_assert_eq(daxfile_write(f, "de", 2), 2);
	TEST_OK(daxfile_close(f));
	check_text(tp.pool, "/d/f", "abcde");

	/* access modes */
	f = daxfile_open(tp.pool, "/d/f", O_RDONLY);
	cr_assert_not_null(f);
	cr_assert_eq(daxfile_read(f, buf, 2), 2);
	FAILS(daxfile_write(f, "x", 1), -1, EBADF);
	FAILS(daxfile_pwrite(f, "x", 1, 0), -1, EBADF);
	TEST_OK(daxfile_close(f));
	f = daxfile_open(tp.pool, "/d/f", O_WRONLY);
	cr_assert_not_null(f);
	FAILS(daxfile_read(f, buf, 2), -1, EBADF);
	FAILS(daxfile_pread(f, buf, 2, 0), -1, EBADF);
	cr_assert_eq(daxfile_write(f, "A", 1), 1);
	TEST_OK(daxfile_close(f));
	f = daxfile_open(tp.pool, "/d/f", O_RDWR);
	cr_assert_not_null(f);
	cr_assert_eq(daxfile_pwrite(f, "B", 1, 1), 1);
	cr_assert_eq(daxfile_pread(f, buf, 5, 0), 5);
	cr_assert(memcmp(buf, "ABcde", 5) == 0);
	TEST_OK(daxfile_close(f));
	FAILS(daxfile_open(tp.pool, "/d/f", O_ACCMODE), NULL, EINVAL);
	FAILS(daxfile_open(tp.pool, "/d/new", O_ACCMODE | O_CREAT, 0600), NULL,
		EINVAL);
	FAILS(daxfile_stat(tp.pool, "/d/new", &st), -1, ENOENT);

	/* directories: read-only, and O_DIRECTORY only on them */
	FAILS(daxfile_open(tp.pool, "/d", O_WRONLY), NULL, EISDIR);
	FAILS(daxfile_open(tp.pool, "/d", O_RDWR), NULL, EISDIR);
	FAILS(daxfile_open(tp.pool, "/", O_RDWR), NULL, EISDIR);
	FAILS(daxfile_open(tp.pool, "/d", O_CREAT | O_RDONLY, 0600), NULL,
		EISDIR);
	FAILS(daxfile_open(tp.pool, "/d/f", O_RDONLY | O_DIRECTORY), NULL,
		ENOTDIR);
	FAILS(daxfile_open(tp.pool, "/d/f/", O_RDONLY), NULL, ENOTDIR);
	f = daxfile_open(tp.pool, "/d", O_RDONLY);
	cr_assert_not_null(f);
	FAILS(daxfile_read(f, buf, 1), -1, EISDIR);
	FAILS(daxfile_write(f, "x", 1), -1, EBADF);
	TEST_OK(daxfile_close(f));
	f = daxfile_open(tp.pool, "/d/", O_RDONLY | O_DIRECTORY);
	cr_assert_not_null(f);
	TEST_OK(daxfile_close(f));
	f = daxfile_open(tp.pool, "/", O_RDONLY | O_DIRECTORY);
	cr_assert_not_null(f);
	TEST_OK(daxfile_fstat(f, &st));
	cr_assert_eq(st.st_ino, ino_of(tp.pool, "/"));
	TEST_OK(daxfile_close(f));

	FAILS(daxfile_open(tp.pool, "d/f/", O_RDONLY), NULL, ENOTDIR);
	FAILS(daxfile_open(tp.pool, "", O_RDONLY), NULL, ENOENT);
	FAILS(daxfile_open(tp.pool, "", O_CREAT | O_RDWR, 0600), NULL, ENOENT);
	expect_entries(tp.pool, "/d", (const char *[]){"f", "odd", "setuid"}, 3);
	test_pool_destroy(&tp);
}

/* --- path forms and lengths ----------------------------------------------- */

Test(namespace, every_path_form_names_the_same_entry)
{
	static const char *const file_forms[] = {
		"/a/b/f", "/a/./b/f", "/a/../a/b/f", "//a//b//f", "/a/b/./f",
		"/./a/b/f", "/../a/b/f", "/a/b/../b/f", "/a/b/../../a/b/f",
		"///a/b/f",
	};
	static const char *const dir_forms[] = {
		"/a/b", "/a/b/", "/a/b//", "/a/b/.", "/a/b/./", "/a/b/c/..",
		"/a/b/c/../", "//a/b", "/a/../a/b/.",
	};
	static const char *const root_forms[] = {
		"/", "//", "/.", "/..", "/../..", "/a/..", "/a/b/../..",
		"/a/b/c/../../../", "/./.",
	};
	struct test_pool tp;
	ino_t f, b, root;
	daxfile_file *h;
	daxfile_dir *d;

	test_pool_create(&tp, "pathforms", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/a", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/a//b/", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/a/./b/c", 0755));
	put_file(tp.pool, "/a/b/f", "file");
	f = ino_of(tp.pool, "/a/b/f");
	b = ino_of(tp.pool, "/a/b");
	root = ino_of(tp.pool, "/");

	for (size_t i = 0; i < sizeof(file_forms) / sizeof(file_forms[0]); i++) {
		cr_assert_eq(ino_of(tp.pool, file_forms[i]), f, "%s",
			file_forms[i]);
		h = daxfile_open(tp.pool, file_forms[i], O_RDONLY);
		cr_assert_not_null(h, "open(%s): %s", file_forms[i],
			daxfile_errormsg());
		TEST_OK(daxfile_close(h));
	}
	for (size_t i = 0; i < sizeof(dir_forms) / sizeof(dir_forms[0]); i++) {
		cr_assert_eq(ino_of(tp.pool, dir_forms[i]), b, "%s",
			dir_forms[i]);
		d = daxfile_opendir(tp.pool, dir_forms[i]);
		cr_assert_not_null(d, "opendir(%s): %s", dir_forms[i],
			daxfile_errormsg());
		TEST_OK(daxfile_closedir(d));
	}
	for (size_t i = 0; i < sizeof(root_forms) / sizeof(root_forms[0]); i++)
		cr_assert_eq(ino_of(tp.pool, root_forms[i]), root, "%s",
			root_forms[i]);

	/* a trailing slash or a dot after a file */
	FAILS(daxfile_stat(tp.pool, "/a/b/f/", &(struct stat){0}), -1, ENOTDIR);
	FAILS(daxfile_stat(tp.pool, "/a/b/f//", &(struct stat){0}), -1, ENOTDIR);
	FAILS(daxfile_stat(tp.pool, "/a/b/f/.", &(struct stat){0}), -1, ENOTDIR);
	FAILS(daxfile_opendir(tp.pool, "/a/b/f"), NULL, ENOTDIR);
	FAILS(daxfile_opendir(tp.pool, "/a/b/f/"), NULL, ENOTDIR);
	/* relative paths start at the current directory, the root */
	cr_assert_eq(ino_of(tp.pool, "a/b"), b);
	cr_assert_eq(ino_of(tp.pool, "."), root);
	cr_assert_eq(ino_of(tp.pool, ".."), root);
	cr_assert_eq(ino_of(tp.pool, "a/./b/f"), f);
	d = daxfile_opendir(tp.pool, "a");
	cr_assert_not_null(d, "opendir(a): %s", daxfile_errormsg());
	TEST_OK(daxfile_closedir(d));
	/* the empty path names nothing */
	FAILS(daxfile_stat(tp.pool, "", &(struct stat){0}), -1, ENOENT);
	FAILS(daxfile_opendir(tp.pool, ""), NULL, ENOENT);

	/* changes through the odd forms land in the same place */
	TEST_OK(daxfile_mkdir(tp.pool, "/a/b/c/../new/", 0700));
	cr_assert_eq(ino_of(tp.pool, "/a/b/new/.."), b);
	put_file(tp.pool, "//a/./b/new/../g", "g");
	check_text(tp.pool, "/a/b/g", "g");
	TEST_OK(daxfile_unlink(tp.pool, "/a/b/new/../g"));
	TEST_OK(daxfile_rmdir(tp.pool, "/a/../a/b/new/"));
	expect_entries(tp.pool, "/a/b", (const char *[]){"c", "f"}, 2);
	test_pool_destroy(&tp);
}

Test(namespace, names_of_255_bytes_work_and_256_give_enametoolong)
{
	struct test_pool tp;
	char n255[NAME_MAX_BYTES + 1], m255[NAME_MAX_BYTES + 1];
	char n256[NAME_MAX_BYTES + 2];
	char path[1024], path2[1024];
	daxfile_file *f;
	struct stat st;

	long_name(n255, NAME_MAX_BYTES, 'n');
	long_name(m255, NAME_MAX_BYTES, 'm');
	long_name(n256, NAME_MAX_BYTES + 1, 'n');
	test_pool_create(&tp, "namelen", TEST_POOL_SIZE);

	/* 255 bytes: a directory and a file */
	snprintf(path, sizeof(path), "/%s", n255);
	TEST_OK(daxfile_mkdir(tp.pool, path, 0755));
	snprintf(path, sizeof(path), "/%s/%s", n255, m255);
	put_file(tp.pool, path, "long");
	check_text(tp.pool, path, "long");
	snprintf(path2, sizeof(path2), "/%s", m255);
	TEST_OK(daxfile_rename(tp.pool, path, path2));
	check_text(tp.pool, path2, "long");
	expect_entries(tp.pool, "/", (const char *[]){n255, m255}, 2);
	test_pool_reopen(&tp);
	check_text(tp.pool, path2, "long");
	snprintf(path, sizeof(path), "/%s", n255);
	cr_assert(S_ISDIR(stat_of(tp.pool, path).st_mode));

	/* 256 bytes, as the last component and on the way */
	snprintf(path, sizeof(path), "/%s", n256);
	FAILS(daxfile_mkdir(tp.pool, path, 0755), -1, ENAMETOOLONG);
	FAILS(daxfile_open(tp.pool, path, O_CREAT | O_RDWR, 0600), NULL,
		ENAMETOOLONG);
	FAILS(daxfile_stat(tp.pool, path, &st), -1, ENAMETOOLONG);
	FAILS(daxfile_unlink(tp.pool, path), -1, ENAMETOOLONG);
	FAILS(daxfile_rmdir(tp.pool, path), -1, ENAMETOOLONG);
	FAILS(daxfile_opendir(tp.pool, path), NULL, ENAMETOOLONG);
	FAILS(daxfile_rename(tp.pool, path2, path), -1, ENAMETOOLONG);
	FAILS(daxfile_rename(tp.pool, path, path2), -1, ENAMETOOLONG);
	snprintf(path, sizeof(path), "/%s/x", n256);
	FAILS(daxfile_stat(tp.pool, path, &st), -1, ENAMETOOLONG);
	FAILS(daxfile_mkdir(tp.pool, path, 0755), -1, ENAMETOOLONG);
	snprintf(path, sizeof(path), "/%s/%s", n255, n256);
	FAILS(daxfile_open(tp.pool, path, O_CREAT | O_RDWR, 0600), NULL,
		ENAMETOOLONG);
	snprintf(path, sizeof(path), "/%s/", n256);
	FAILS(daxfile_mkdir(tp.pool, path, 0755), -1, ENAMETOOLONG);

	/* nothing was made; the 255-byte entries remain */
	expect_entries(tp.pool, "/", (const char *[]){n255, m255}, 2);
	snprintf(path, sizeof(path), "/%s", n255);
	expect_entries(tp.pool, path, NULL, 0);
	f = daxfile_open(tp.pool, path2, O_RDONLY);
	cr_assert_not_null(f);
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_unlink(tp.pool, path2));
	TEST_OK(daxfile_rmdir(tp.pool, path));
	expect_entries(tp.pool, "/", NULL, 0);
	test_pool_destroy(&tp);
}

Test(namespace, paths_of_4095_bytes_work_and_4096_give_enametoolong)
{
	struct test_pool tp;
	char path[PATH_MAX_BYTES + 64], to[PATH_MAX_BYTES + 64];
	char name[NAME_MAX_BYTES + 1];
	size_t len = 0;
	struct stat st;

	test_pool_create(&tp, "pathlen", TEST_POOL_SIZE);
	/* 15 directories of 255-byte names: 15 * 256 = 3840 bytes */
	for (int i = 0; i < 15; i++) {
		path[len++] = '/';
		memset(path + len, 'a' + i, NAME_MAX_BYTES);
		len += NAME_MAX_BYTES;
		path[len] = '\0';
		TEST_OK(daxfile_mkdir(tp.pool, path, 0755));
	}
	cr_assert_eq(len, 3840);
	/* and a file of 254 bytes: 3840 + 1 + 254 = 4095 */
	path[len] = '/';
	memset(path + len + 1, 'z', 254);
	path[len + 255] = '\0';
	cr_assert_eq(strlen(path), PATH_MAX_BYTES - 1);
	put_file(tp.pool, path, "deep");
	check_text(tp.pool, path, "deep");
	st = stat_of(tp.pool, path);
	cr_assert(S_ISREG(st.st_mode));

	/* one byte more */
	path[len + 255] = 'z';
	path[len + 256] = '\0';
	cr_assert_eq(strlen(path), PATH_MAX_BYTES);
	FAILS(daxfile_stat(tp.pool, path, &st), -1, ENAMETOOLONG);
	FAILS(daxfile_open(tp.pool, path, O_CREAT | O_RDWR, 0600), NULL,
		ENAMETOOLONG);
	FAILS(daxfile_mkdir(tp.pool, path, 0755), -1, ENAMETOOLONG);
	FAILS(daxfile_unlink(tp.pool, path), -1, ENAMETOOLONG);
	path[len + 255] = '\0';
	snprintf(to, sizeof(to), "%s", path);
	strcat(to, "x");
	FAILS(daxfile_rename(tp.pool, path, to), -1, ENAMETOOLONG);
	/* a long path of short components: "/." repeated */
	for (size_t i = 0; i < PATH_MAX_BYTES; i += 2)
		memcpy(to + i, "/.", 2);
	to[PATH_MAX_BYTES] = '\0';
	FAILS(daxfile_stat(tp.pool, to, &st), -1, ENAMETOOLONG);
	to[PATH_MAX_BYTES - 1] = '\0';	/* "/./././.../" : 4095 bytes */
	cr_assert_eq(stat_of(tp.pool, to).st_ino, ino_of(tp.pool, "/"));

	TEST_OK(daxfile_unlink(tp.pool, path));
	long_name(name, NAME_MAX_BYTES, 'a');
	expect_entries(tp.pool, "/", (const char *[]){name}, 1);
	test_pool_destroy(&tp);
}

/* --- persistence, link counts, streams ------------------------------------ */

Test(namespace, the_tree_persists_across_close_and_open)
{
	struct test_pool tp;
	struct stat before[6], st;
	static const char *const paths[] = {
		"/", "/etc", "/etc/conf", "/usr", "/usr/lib", "/usr/lib/libx",
	};
	char name[32];

	test_pool_create(&tp, "persist", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/etc", 0755));
	put_file(tp.pool, "/etc/conf", "key=value\n");
	TEST_OK(daxfile_mkdir(tp.pool, "/usr", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/usr/lib", 0700));
	put_file(tp.pool, "/usr/lib/libx", "ELF");
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "/usr/lib/f%02d", i);
		put_file(tp.pool, name, name);
	}
	TEST_OK(daxfile_mkdir(tp.pool, "/tmp", 0777));
	TEST_OK(daxfile_rmdir(tp.pool, "/tmp"));
	for (size_t i = 0; i < 6; i++)
		before[i] = stat_of(tp.pool, paths[i]);

	for (int round = 0; round < 2; round++) {
		test_pool_reopen(&tp);
		for (size_t i = 0; i < 6; i++) {
			st = stat_of(tp.pool, paths[i]);
			cr_assert_eq(st.st_ino, before[i].st_ino, "%s", paths[i]);
			cr_assert_eq(st.st_mode, before[i].st_mode, "%s", paths[i]);
			cr_assert_eq(st.st_nlink, before[i].st_nlink, "%s",
				paths[i]);
			cr_assert_eq(st.st_size, before[i].st_size, "%s",
				paths[i]);
			cr_assert(ts_equal(st.st_mtim, before[i].st_mtim), "%s",
				paths[i]);
			cr_assert(ts_equal(st.st_ctim, before[i].st_ctim), "%s",
				paths[i]);
		}
		check_text(tp.pool, "/etc/conf", "key=value\n");
		check_text(tp.pool, "/usr/lib/libx", "ELF");
		for (int i = 0; i < 40; i++) {
			snprintf(name, sizeof(name), "/usr/lib/f%02d", i);
			check_text(tp.pool, name, name);
		}
		FAILS(daxfile_stat(tp.pool, "/tmp", &st), -1, ENOENT);
		expect_entries(tp.pool, "/", (const char *[]){"etc", "usr"}, 2);
		expect_entries(tp.pool, "/etc", (const char *[]){"conf"}, 1);
		cr_assert_eq(nlink_of(tp.pool, "/"), 4);
	}
	test_pool_destroy(&tp);
}

Test(namespace, directory_link_counts_follow_subdirectories)
{
	struct test_pool tp;

	test_pool_create(&tp, "nlink", TEST_POOL_SIZE);
	cr_assert_eq(nlink_of(tp.pool, "/"), 2);
	TEST_OK(daxfile_mkdir(tp.pool, "/a", 0755));
	cr_assert_eq(nlink_of(tp.pool, "/"), 3);
	cr_assert_eq(nlink_of(tp.pool, "/a"), 2);
	TEST_OK(daxfile_mkdir(tp.pool, "/a/b", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/a/c", 0755));
	cr_assert_eq(nlink_of(tp.pool, "/a"), 4);
	cr_assert_eq(nlink_of(tp.pool, "/"), 3);
	/* files do not count */
	touch(tp.pool, "/a/f");
	touch(tp.pool, "/f");
	cr_assert_eq(nlink_of(tp.pool, "/a"), 4);
	cr_assert_eq(nlink_of(tp.pool, "/"), 3);
	cr_assert_eq(nlink_of(tp.pool, "/a/f"), 1);
	/* a directory moving out takes its link along */
	TEST_OK(daxfile_rename(tp.pool, "/a/c", "/c"));
	cr_assert_eq(nlink_of(tp.pool, "/a"), 3);
	cr_assert_eq(nlink_of(tp.pool, "/"), 4);
	/* a rename inside one directory changes nothing */
	TEST_OK(daxfile_rename(tp.pool, "/a/b", "/a/bb"));
	cr_assert_eq(nlink_of(tp.pool, "/a"), 3);
	test_pool_reopen(&tp);
	cr_assert_eq(nlink_of(tp.pool, "/a"), 3);
	cr_assert_eq(nlink_of(tp.pool, "/"), 4);
	TEST_OK(daxfile_rmdir(tp.pool, "/a/bb"));
	cr_assert_eq(nlink_of(tp.pool, "/a"), 2);
	TEST_OK(daxfile_unlink(tp.pool, "/a/f"));
	TEST_OK(daxfile_rmdir(tp.pool, "/a"));
	cr_assert_eq(nlink_of(tp.pool, "/"), 3);
	TEST_OK(daxfile_rmdir(tp.pool, "/c"));
	cr_assert_eq(nlink_of(tp.pool, "/"), 2);
	test_pool_destroy(&tp);
}

Test(namespace, readdir_lists_exactly_the_entries)
{
	struct test_pool tp;
	daxfile_dir *d, *root;
	struct dirent *de;
	int n, saw_new;

	test_pool_create(&tp, "readdir", TEST_POOL_SIZE);
	expect_entries(tp.pool, "/", NULL, 0);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/d/sub", 0755));
	touch(tp.pool, "/d/file");
	touch(tp.pool, "/d/.hidden");
	touch(tp.pool, "/d/...");
	expect_entries(tp.pool, "/d",
		(const char *[]){"sub", "file", ".hidden", "..."}, 4);
	expect_entries(tp.pool, "/d/sub", NULL, 0);
	/* ".." of the root is the root */
	expect_entries(tp.pool, "/", (const char *[]){"d"}, 1);

	/*
	 * entries made or removed after opendir may or may not be listed
	 * (POSIX leaves it open); the ones that stay are listed once
	 */
	d = daxfile_opendir(tp.pool, "/d");
	cr_assert_not_null(d);
	touch(tp.pool, "/d/later");
	TEST_OK(daxfile_unlink(tp.pool, "/d/file"));
	n = 0;
	saw_new = 0;
	while ((de = daxfile_readdir(d)) != NULL) {
		bool changed = strcmp(de->d_name, "later") == 0 ||
			strcmp(de->d_name, "file") == 0;

		n += !changed;
		saw_new += changed;
	}
	TEST_OK(daxfile_closedir(d));
	cr_assert_eq(n, 5, "%d entries that stayed, expected 5", n);
	cr_assert_leq(saw_new, 2, "an entry made or removed was listed twice");
	expect_entries(tp.pool, "/d",
		(const char *[]){"sub", "later", ".hidden", "..."}, 4);

	/* the end stays the end, and errno is left alone */
	root = daxfile_opendir(tp.pool, "/");
	cr_assert_not_null(root);
	for (n = 0; daxfile_readdir(root) != NULL; n++)
		;
	cr_assert_eq(n, 3);
	errno = EXDEV;
	cr_assert_null(daxfile_readdir(root));
	cr_assert_eq(errno, EXDEV, "readdir at the end changed errno to %d",
		errno);
	TEST_OK(daxfile_closedir(root));

	/* two streams of one directory are independent */
	d = daxfile_opendir(tp.pool, "/d");
	root = daxfile_opendir(tp.pool, "/d");
	cr_assert_not_null(d);
	cr_assert_not_null(root);
	cr_assert_not_null(daxfile_readdir(d));
	cr_assert_not_null(daxfile_readdir(d));
	for (n = 0; daxfile_readdir(root) != NULL; n++)
		;
	cr_assert_eq(n, 6);
	for (n = 2; daxfile_readdir(d) != NULL; n++)
		;
	cr_assert_eq(n, 6);
	TEST_OK(daxfile_closedir(d));
	TEST_OK(daxfile_closedir(root));

	/* bad paths and handles */
	FAILS(daxfile_opendir(tp.pool, "/d/later"), NULL, ENOTDIR);
	FAILS(daxfile_opendir(tp.pool, "/missing"), NULL, ENOENT);
	FAILS(daxfile_opendir(tp.pool, "/d/later/x"), NULL, ENOTDIR);
	FAILS(daxfile_opendir(tp.pool, "d/later"), NULL, ENOTDIR);
	FAILS(daxfile_closedir(NULL), -1, EBADF);
	FAILS(daxfile_closedir(d), -1, EBADF);
	FAILS(daxfile_readdir(NULL), NULL, EBADF);
	FAILS(daxfile_readdir(d), NULL, EBADF);

	/* a directory removed while a stream of it is open: ENOENT, as Linux */
	TEST_OK(daxfile_mkdir(tp.pool, "/gone", 0755));
	d = daxfile_opendir(tp.pool, "/gone");
	cr_assert_not_null(d);
	TEST_OK(daxfile_rmdir(tp.pool, "/gone"));
	FAILS(daxfile_readdir(d), NULL, ENOENT);
	TEST_OK(daxfile_closedir(d));
	FAILS(daxfile_opendir(tp.pool, "/gone"), NULL, ENOENT);
	test_pool_destroy(&tp);
}

/* --- a large directory ---------------------------------------------------- */

#define BIG_DIR_ENTRIES 20000
#define BIG_DIR_POOL_SIZE ((uint64_t)256 << 20)

Test(namespace, a_directory_of_20000_entries_works_and_lookups_stay_fast)
{
	struct test_pool tp;
	char path[64];
	bool *seen = calloc(BIG_DIR_ENTRIES, sizeof(bool));
	daxfile_dir *d;
	struct dirent *de;
	struct stat st;
	size_t count = 0;
	double start, mean_us;

	cr_assert_not_null(seen);
	/* room for 20,000 inodes and entries (see the test after this one) */
	test_pool_create(&tp, "bigdir", BIG_DIR_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/big", 0755));
	for (int i = 0; i < BIG_DIR_ENTRIES; i++) {
		snprintf(path, sizeof(path), "/big/entry-%05d", i);
		if (i % 1000 == 999) {
			TEST_OK(daxfile_mkdir(tp.pool, path, 0755));
		} else {
			daxfile_file *f = daxfile_open(tp.pool, path,
				O_CREAT | O_EXCL | O_WRONLY, 0644);

			cr_assert_not_null(f, "create(%s): %s", path,
				daxfile_errormsg());
			TEST_OK(daxfile_close(f));
		}
	}
	cr_assert_eq(nlink_of(tp.pool, "/big"), 2 + BIG_DIR_ENTRIES / 1000);

	/* every entry is found, with the right kind */
	for (int i = 0; i < BIG_DIR_ENTRIES; i++) {
		snprintf(path, sizeof(path), "/big/entry-%05d", i);
		TEST_OK(daxfile_stat(tp.pool, path, &st));
		cr_assert_eq(!!S_ISDIR(st.st_mode), i % 1000 == 999, "%s", path);
	}
	FAILS(daxfile_stat(tp.pool, "/big/entry-20000", &st), -1, ENOENT);
	FAILS(daxfile_open(tp.pool, "/big/entry-00000",
		O_CREAT | O_EXCL | O_RDWR, 0600), NULL, EEXIST);

	/* every name is found, in a scattered order */
	start = now_seconds();
	for (int i = 0; i < BIG_DIR_ENTRIES; i++) {
		snprintf(path, sizeof(path), "/big/entry-%05d",
			(int)((i * 7919u) % BIG_DIR_ENTRIES));
		if (daxfile_stat(tp.pool, path, &st) != 0)
			cr_assert_fail("stat(%s): %s", path, daxfile_errormsg());
	}
	mean_us = (now_seconds() - start) * 1e6 / BIG_DIR_ENTRIES;
	/* speed is for bench/bench_namespace; here it is only reported */
	cr_log_info("mean stat time in a directory of %d entries: %.2f us",
		BIG_DIR_ENTRIES, mean_us);

	/* readdir returns each entry once, and "." and ".." */
	d = daxfile_opendir(tp.pool, "/big");
	cr_assert_not_null(d);
	while ((de = daxfile_readdir(d)) != NULL) {
		int i;

		count++;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		cr_assert_eq(sscanf(de->d_name, "entry-%d", &i), 1, "'%s'",
			de->d_name);
		cr_assert(i >= 0 && i < BIG_DIR_ENTRIES, "'%s'", de->d_name);
		cr_assert(!seen[i], "'%s' listed twice", de->d_name);
		seen[i] = true;
		cr_assert_eq(de->d_type, i % 1000 == 999 ? DT_DIR : DT_REG,
			"'%s'", de->d_name);
	}
	TEST_OK(daxfile_closedir(d));
	cr_assert_eq(count, BIG_DIR_ENTRIES + 2, "%zu entries", count);

	/* it all persists */
	test_pool_reopen(&tp);
	TEST_OK(daxfile_stat(tp.pool, "/big/entry-12345", &st));
	cr_assert(S_ISREG(st.st_mode));

	/* and goes away */
	for (int i = 0; i < BIG_DIR_ENTRIES; i++) {
		snprintf(path, sizeof(path), "/big/entry-%05d", i);
		if (i % 1000 == 999)
			TEST_OK(daxfile_rmdir(tp.pool, path));
		else
			TEST_OK(daxfile_unlink(tp.pool, path));
	}
	expect_entries(tp.pool, "/big", NULL, 0);
	cr_assert_eq(nlink_of(tp.pool, "/big"), 2);
	TEST_OK(daxfile_rmdir(tp.pool, "/big"));
	expect_entries(tp.pool, "/", NULL, 0);
	free(seen);
	test_pool_destroy(&tp);
}

/*
 * When a create in one directory fails with ENOSPC, the pool must be out of
 * room: a create in another directory fails too.  A directory must not stop
 * growing (at a power of two of entries, when its hash table needs its next,
 * larger segment) while the pool still takes entries elsewhere.
 */
Test(namespace, a_directory_grows_until_the_pool_is_full)
{
	struct test_pool tp;
	char path[64];
	daxfile_file *f;
	int n;

	test_pool_create(&tp, "dirfull", (uint64_t)128 << 20);
	TEST_OK(daxfile_mkdir(tp.pool, "/big", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/other", 0755));
	for (n = 0; n < 1000000; n++) {
		snprintf(path, sizeof(path), "/big/entry-%06d", n);
		f = daxfile_open(tp.pool, path, O_CREAT | O_EXCL | O_WRONLY,
			0644);
		if (f == NULL)
			break;
		TEST_OK(daxfile_close(f));
	}
	cr_assert_eq(errno, ENOSPC, "create %d: %s", n, daxfile_errormsg());
	cr_log_info("one directory took %d entries", n);
	errno = 0;
	f = daxfile_open(tp.pool, "/other/x", O_CREAT | O_EXCL | O_WRONLY, 0644);
	if (f != NULL)
		TEST_OK(daxfile_close(f));
	cr_assert_null(f, "'/big' is full at %d entries, yet the pool still "
		"takes entries in another directory", n);
	cr_assert_eq(errno, ENOSPC);
	/* the full pool is consistent, and empties again */
	test_pool_reopen(&tp);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/big/entry-%06d", i);
		TEST_OK(daxfile_unlink(tp.pool, path));
	}
	expect_entries(tp.pool, "/big", NULL, 0);
	test_pool_destroy(&tp);
}

/* --- times ---------------------------------------------------------------- */

Test(namespace, a_directory_mtime_and_ctime_change_when_entries_change)
{
	struct test_pool tp;
	struct timespec wall;
	struct stat before, after, f;

	test_pool_create(&tp, "times", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/other", 0755));

	/* a new file */
	before = stat_of(tp.pool, "/d");
	tick();
	touch(tp.pool, "/d/f");
	after = stat_of(tp.pool, "/d");
	cr_assert(ts_after(after.st_mtim, before.st_mtim), "mtime after create");
	cr_assert(ts_after(after.st_ctim, before.st_ctim), "ctime after create");
	/* the new file's times are now */
	clock_gettime(CLOCK_REALTIME, &wall);
	f = stat_of(tp.pool, "/d/f");
	cr_assert_leq(f.st_mtim.tv_sec, wall.tv_sec);
	cr_assert_geq(f.st_mtim.tv_sec, wall.tv_sec - 5);
	cr_assert(!ts_after(before.st_mtim, f.st_mtim));

	/* a new directory */
	before = after;
	tick();
	TEST_OK(daxfile_mkdir(tp.pool, "/d/sub", 0755));
	after = stat_of(tp.pool, "/d");
	cr_assert(ts_after(after.st_mtim, before.st_mtim), "mtime after mkdir");
	cr_assert(ts_after(after.st_ctim, before.st_ctim), "ctime after mkdir");

	/* an entry renamed in */
	touch(tp.pool, "/other/g");
	before = stat_of(tp.pool, "/d");
	tick();
	TEST_OK(daxfile_rename(tp.pool, "/other/g", "/d/g"));
	after = stat_of(tp.pool, "/d");
	cr_assert(ts_after(after.st_mtim, before.st_mtim), "mtime after rename");
	cr_assert(ts_after(after.st_ctim, before.st_ctim), "ctime after rename");

	/* entries removed */
	before = after;
	tick();
	TEST_OK(daxfile_unlink(tp.pool, "/d/f"));
	after = stat_of(tp.pool, "/d");
	cr_assert(ts_after(after.st_mtim, before.st_mtim), "mtime after unlink");
	cr_assert(ts_after(after.st_ctim, before.st_ctim), "ctime after unlink");
	before = after;
	tick();
	TEST_OK(daxfile_rmdir(tp.pool, "/d/sub"));
	after = stat_of(tp.pool, "/d");
	cr_assert(ts_after(after.st_mtim, before.st_mtim), "mtime after rmdir");

	/* a lookup or a failed call changes nothing */
	before = after;
	tick();
	(void)stat_of(tp.pool, "/d/g");
	FAILS(daxfile_mkdir(tp.pool, "/d/g", 0755), -1, EEXIST);
	FAILS(daxfile_unlink(tp.pool, "/d/none"), -1, ENOENT);
	after = stat_of(tp.pool, "/d");
	cr_assert(ts_equal(after.st_mtim, before.st_mtim));
	cr_assert(ts_equal(after.st_ctim, before.st_ctim));

	/* and the times persist */
	test_pool_reopen(&tp);
	after = stat_of(tp.pool, "/d");
	cr_assert(ts_equal(after.st_mtim, before.st_mtim));
	cr_assert(ts_equal(after.st_ctim, before.st_ctim));
	test_pool_destroy(&tp);
}
