/*
 * test_xattr.c -- extended attributes through the public API: set, get,
 * list and remove in their path, l- and f- forms on files and
 * directories; values of 0 bytes and of 64 KiB; the size-0 queries;
 * XATTR_CREATE and XATTR_REPLACE as XFS answers them; every errno of
 * getxattr(2) and friends in the kernel's order (names before paths and
 * handles, permission before namespace); ENOTSUP for security.* and
 * system.*; trusted.* for CAP_SYS_ADMIN only; permission checks run with
 * other credentials; ctime changes and mtime does not; attributes across
 * a pool reopen; their space given back when the inode goes; concurrent
 * changes; and the checker finding a damaged attribute.
 */
#define _GNU_SOURCE

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>

#include "daxfile.h"
#include "testcred.h"
#include "testutil.h"

#define SIZE_MAX_VALUE 65536

static void
touch(daxfile_pool *pool, const char *path)
{
	TEST_OK(daxfile_close(xopen(pool, path, O_CREAT | O_EXCL | O_WRONLY)));
}

/* get_str -- the value of 'name' of 'path', as a string. */
static void
expect_value(daxfile_pool *pool, const char *path, const char *name,
	const char *want)
{
	char buf[256];
	ssize_t n = daxfile_getxattr(pool, path, name, buf, sizeof(buf));

	cr_assert_eq(n, (ssize_t)strlen(want), "getxattr(%s, %s): %zd (%s)",
		path, name, n, daxfile_errormsg());
	cr_assert(memcmp(buf, want, (size_t)n) == 0, "%s %s: '%.*s', expected '%s'",
		path, name, (int)n, buf, want);
}

/* names_of -- listxattr as one string of "name;" items, sorted. */
static void
expect_names(daxfile_pool *pool, const char *path, const char *const *want,
	size_t n)
{
	char list[4096];
	ssize_t len = daxfile_listxattr(pool, path, list, sizeof(list));
	size_t count = 0;

	cr_assert_geq(len, 0, "listxattr(%s): %s", path, daxfile_errormsg());
	cr_assert_eq(daxfile_listxattr(pool, path, NULL, 0), len);
	for (ssize_t at = 0; at < len; at += (ssize_t)strlen(list + at) + 1) {
		size_t i;

		for (i = 0; i < n; i++)
			if (strcmp(list + at, want[i]) == 0)
				break;
		cr_assert_lt(i, n, "%s: unexpected '%s'", path, list + at);
		count++;
	}
	cr_assert_eq(count, n, "%s: %zu names, expected %zu", path, count, n);
}

static struct timespec
ctime_of(daxfile_pool *pool, const char *path, struct timespec *mtime)
{
	struct stat st;

	TEST_OK(daxfile_stat(pool, path, &st));
	if (mtime != NULL)
		*mtime = st.st_mtim;
	return st.st_ctim;
}

static bool
ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static void
tick(void)
{
	nanosleep(&(struct timespec){0, 5000000}, NULL);
}

Test(xattr, set_get_list_and_remove_on_files_and_directories)
{
	struct test_pool tp;
	daxfile_file *f, *d;
	char buf[64];

	test_pool_create(&tp, "xattr", TEST_POOL_SIZE);
	touch(tp.pool, "/f");
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	expect_names(tp.pool, "/f", NULL, 0);
	TEST_OK(daxfile_setxattr(tp.pool, "/f", "user.one", "1", 1, 0));
	TEST_OK(daxfile_lsetxattr(tp.pool, "/f", "user.two", "22", 2, 0));
	f = xopen(tp.pool, "/f", O_RDONLY);
	TEST_OK(daxfile_fsetxattr(f, "trusted.three", "333", 3, 0));
	TEST_OK(daxfile_setxattr(tp.pool, "/d", "user.dir", "dd", 2, 0));
	d = xopen(tp.pool, "/d", O_RDONLY | O_DIRECTORY);
	expect_value(tp.pool, "/f", "user.one", "1");
	expect_value(tp.pool, "/f", "user.two", "22");
	expect_value(tp.pool, "/f", "trusted.three", "333");
	cr_assert_eq(daxfile_lgetxattr(tp.pool, "/f", "user.two", buf, 64), 2);
	cr_assert_eq(daxfile_fgetxattr(f, "user.one", buf, 64), 1);
	cr_assert_eq(daxfile_fgetxattr(d, "user.dir", buf, 64), 2);
	expect_names(tp.pool, "/f", (const char *[]){"user.one", "user.two",
		"trusted.three"}, 3);
	expect_names(tp.pool, "/d", (const char *[]){"user.dir"}, 1);
	cr_assert_eq(daxfile_flistxattr(f, buf, sizeof(buf)),
		(ssize_t)sizeof("user.one") + (ssize_t)sizeof("user.two") +
		(ssize_t)sizeof("trusted.three"));
	cr_assert_eq(daxfile_llistxattr(tp.pool, "/d", buf, sizeof(buf)), 9);
	/* replacing keeps the others */
	TEST_OK(daxfile_setxattr(tp.pool, "/f", "user.one", "uno", 3, 0));
	expect_value(tp.pool, "/f", "user.one", "uno");
	expect_value(tp.pool, "/f", "user.two", "22");
	TEST_OK(daxfile_removexattr(tp.pool, "/f", "user.two"));
	TEST_OK(daxfile_fremovexattr(f, "trusted.three"));
	TEST_OK(daxfile_lremovexattr(tp.pool, "/d", "user.dir"));
	expect_names(tp.pool, "/f", (const char *[]){"user.one"}, 1);
	expect_names(tp.pool, "/d", NULL, 0);
	TEST_FAILS(daxfile_getxattr(tp.pool, "/f", "user.two", buf, 64), -1,
		ENODATA);
	TEST_FAILS(daxfile_removexattr(tp.pool, "/f", "user.two"), -1, ENODATA);
	assert_errormsg();
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_close(d));
	/* they stay across a close and open of the pool */
	test_pool_reopen(&tp);
	expect_value(tp.pool, "/f", "user.one", "uno");
	test_pool_destroy(&tp);
}

Test(xattr, sizes_zero_queries_and_small_buffers)
{
	struct test_pool tp;
	unsigned char *big = xmalloc(SIZE_MAX_VALUE + 1), *back = xmalloc(SIZE_MAX_VALUE);
	char name[300], buf[16];

	test_pool_create(&tp, "xattr", TEST_POOL_SIZE);
	touch(tp.pool, "/f");
	fill(big, SIZE_MAX_VALUE + 1, 0, 1);
	TEST_OK(daxfile_setxattr(tp.pool, "/f", "user.big", big, SIZE_MAX_VALUE, 0));
	cr_assert_eq(daxfile_getxattr(tp.pool, "/f", "user.big", NULL, 0),
		SIZE_MAX_VALUE);
	cr_assert_eq(daxfile_getxattr(tp.pool, "/f", "user.big", back,
		SIZE_MAX_VALUE), SIZE_MAX_VALUE);
	cr_assert(memcmp(big, back, SIZE_MAX_VALUE) == 0);
	TEST_FAILS(daxfile_getxattr(tp.pool, "/f", "user.big", buf, sizeof(buf)),
		-1, ERANGE);
	TEST_FAILS(daxfile_setxattr(tp.pool, "/f", "user.big2", big,
		SIZE_MAX_VALUE + 1, 0), -1, E2BIG);
	/* an empty value, given as NULL */
	TEST_OK(daxfile_setxattr(tp.pool, "/f", "user.empty", NULL, 0, 0));
	cr_assert_eq(daxfile_getxattr(tp.pool, "/f", "user.empty", buf, sizeof(buf)), 0);
	cr_assert_eq(daxfile_getxattr(tp.pool, "/f", "user.empty", NULL, 0), 0);
	TEST_FAILS(daxfile_setxattr(tp.pool, "/f", "user.x", NULL, 5, 0), -1,
		EFAULT);
	TEST_FAILS(daxfile_getxattr(tp.pool, "/f", "user.big", NULL, 70000), -1,
		EFAULT);
	/* names: 255 bytes in all, not 256, not empty */
	memset(name, 'n', sizeof(name));
	memcpy(name, "user.", 5);
	name[255] = '\0';
	TEST_OK(daxfile_setxattr(tp.pool, "/f", name, "v", 1, 0));
	expect_value(tp.pool, "/f", name, "v");
	name[255] = 'n';
	name[256] = '\0';
	TEST_FAILS(daxfile_setxattr(tp.pool, "/f", name, "v", 1, 0), -1, ERANGE);
	TEST_FAILS(daxfile_getxattr(tp.pool, "/f", name, buf, 16), -1, ERANGE);
	TEST_FAILS(daxfile_removexattr(tp.pool, "/f", name), -1, ERANGE);
	TEST_FAILS(daxfile_setxattr(tp.pool, "/f", "", "v", 1, 0), -1, ERANGE);
	TEST_FAILS(daxfile_getxattr(tp.pool, "/f", NULL, buf, 16), -1, EFAULT);
	/* the list: size 0 gives its length, a small buffer ERANGE */
	cr_assert_eq(daxfile_listxattr(tp.pool, "/f", NULL, 0),
		(ssize_t)(sizeof("user.big") + sizeof("user.empty") + 256));
	TEST_FAILS(daxfile_listxattr(tp.pool, "/f", buf, sizeof(buf)), -1, ERANGE);
	free(big);
	free(back);
	test_pool_destroy(&tp);
}

Test(xattr, a_list_beyond_64_kib_is_e2big_with_a_large_buffer)
{
	struct test_pool tp;
	size_t room = 128 << 10;
	char *list = malloc(room), name[256];
	ssize_t need;

	test_pool_create(&tp, "xattr", TEST_POOL_SIZE);
	touch(tp.pool, "/f");
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "user.%03d-%0240d", i, 0);
		TEST_OK(daxfile_setxattr(tp.pool, "/f", name, "", 0, 0));
	}
	need = daxfile_listxattr(tp.pool, "/f", NULL, 0);
	cr_assert_eq(need, 300 * 250);
	TEST_FAILS(daxfile_listxattr(tp.pool, "/f", list, 1000), -1, ERANGE);
	TEST_FAILS(daxfile_listxattr(tp.pool, "/f", list, room), -1, E2BIG);
	free(list);
	test_pool_destroy(&tp);
}

Test(xattr, create_and_replace_flags_answer_as_xfs)
{
	struct test_pool tp;

	test_pool_create(&tp, "xattr", TEST_POOL_SIZE);
	touch(tp.pool, "/f");
	TEST_FAILS(daxfile_setxattr(tp.pool, "/f", "user.a", "1", 1,
		XATTR_REPLACE), -1, ENODATA);
	TEST_OK(daxfile_setxattr(tp.pool, "/f", "user.a", "1", 1, XATTR_CREATE));
	TEST_FAILS(daxfile_setxattr(tp.pool, "/f", "user.a", "2", 1,
		XATTR_CREATE), -1, EEXIST);
	TEST_OK(daxfile_setxattr(tp.pool, "/f", "user.a", "3", 1, XATTR_REPLACE));
	expect_value(tp.pool, "/f", "user.a", "3");
	/* both: CREATE decides */
	TEST_FAILS(daxfile_setxattr(tp.pool, "/f", "user.a", "4", 1,
		XATTR_CREATE | XATTR_REPLACE), -1, EEXIST);
	TEST_OK(daxfile_setxattr(tp.pool, "/f", "user.b", "5", 1,
		XATTR_CREATE | XATTR_REPLACE));
	expect_value(tp.pool, "/f", "user.b", "5");
	TEST_FAILS(daxfile_setxattr(tp.pool, "/f", "user.a", "6", 1, 4), -1,
		EINVAL);
	test_pool_destroy(&tp);
}

Test(xattr, other_namespaces_are_enotsup_and_a_bare_prefix_einval)
{
	struct test_pool tp;
	char buf[16];
	const char *unsupported[] = {"security.selinux", "security.capability",
		"system.posix_acl_access", "system.posix_acl_default",
		"system.foo", "foo.bar", "user", "security."};

	test_pool_create(&tp, "xattr", TEST_POOL_SIZE);
	touch(tp.pool, "/f");
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		TEST_FAILS(daxfile_getxattr(tp.pool, "/f", unsupported[i], buf,
			sizeof(buf)), -1, ENOTSUP);
		TEST_FAILS(daxfile_setxattr(tp.pool, "/f", unsupported[i], "v", 1,
			0), -1, ENOTSUP);
		TEST_FAILS(daxfile_removexattr(tp.pool, "/f", unsupported[i]), -1,
			ENOTSUP);
	}
	TEST_FAILS(daxfile_setxattr(tp.pool, "/f", "user.", "v", 1, 0), -1,
		EINVAL);
	TEST_FAILS(daxfile_getxattr(tp.pool, "/f", "trusted.", buf, 16), -1,
		EINVAL);
	test_pool_destroy(&tp);
}

Test(xattr, names_and_flags_are_checked_before_paths_and_handles)
{
	struct test_pool tp;
	daxfile_file *closed, *p;
	char buf[16];

	test_pool_create(&tp, "xattr", TEST_POOL_SIZE);
	touch(tp.pool, "/f");
	closed = xopen(tp.pool, "/f", O_RDONLY);
	TEST_OK(daxfile_close(closed));
	TEST_FAILS(daxfile_setxattr(tp.pool, "/missing", "user.a", "v", 1, 8),
		-1, EINVAL);
	TEST_FAILS(daxfile_setxattr(tp.pool, "/missing", "", "v", 1, 0), -1,
		ERANGE);
	TEST_FAILS(daxfile_setxattr(tp.pool, "/missing", "user.a", "v",
		SIZE_MAX_VALUE + 1, 0), -1, E2BIG);
	TEST_FAILS(daxfile_getxattr(tp.pool, "/missing", "", buf, 16), -1, ERANGE);
	TEST_FAILS(daxfile_fsetxattr(closed, "", "v", 1, 0), -1, ERANGE);
	TEST_FAILS(daxfile_fsetxattr(NULL, "user.a", "v", 1, 8), -1, EINVAL);
	TEST_FAILS(daxfile_getxattr(tp.pool, "/missing", "user.a", buf, 16), -1,
		ENOENT);
	TEST_FAILS(daxfile_listxattr(tp.pool, "/missing", buf, 16), -1, ENOENT);
	TEST_FAILS(daxfile_removexattr(tp.pool, "/f/x", "user.a"), -1, ENOTDIR);
	TEST_FAILS(daxfile_fgetxattr(closed, "user.a", buf, 16), -1, EBADF);
	TEST_FAILS(daxfile_flistxattr(NULL, buf, 16), -1, EBADF);
	TEST_FAILS(daxfile_fremovexattr(closed, "user.a"), -1, EBADF);
	TEST_FAILS(daxfile_getxattr(NULL, "/f", "user.a", buf, 16), -1, EINVAL);
	p = daxfile_open(tp.pool, "/f", O_PATH);
	if (p != NULL) {
		TEST_FAILS(daxfile_fgetxattr(p, "user.a", buf, 16), -1, EBADF);
		TEST_FAILS(daxfile_fsetxattr(p, "user.a", "v", 1, 0), -1, EBADF);
		TEST_OK(daxfile_close(p));
	}
	test_pool_destroy(&tp);
}

Test(xattr, set_and_remove_change_ctime_and_not_mtime)
{
	struct test_pool tp;
	struct timespec c0, m0, c1, m1, c2, m2;

	test_pool_create(&tp, "xattr", TEST_POOL_SIZE);
	touch(tp.pool, "/f");
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	for (int i = 0; i < 2; i++) {
		const char *p = i ? "/d" : "/f";

		c0 = ctime_of(tp.pool, p, &m0);
		tick();
		TEST_OK(daxfile_setxattr(tp.pool, p, "user.t", "1", 1, 0));
		c1 = ctime_of(tp.pool, p, &m1);
		cr_assert(!ts_eq(c0, c1), "%s: setxattr left ctime", p);
		cr_assert(ts_eq(m0, m1), "%s: setxattr changed mtime", p);
		tick();
		TEST_OK(daxfile_removexattr(tp.pool, p, "user.t"));
		c2 = ctime_of(tp.pool, p, &m2);
		cr_assert(!ts_eq(c1, c2), "%s: removexattr left ctime", p);
		cr_assert(ts_eq(m0, m2));
		/* a failed change changes nothing */
		tick();
		TEST_FAILS(daxfile_removexattr(tp.pool, p, "user.t"), -1, ENODATA);
		cr_assert(ts_eq(c2, ctime_of(tp.pool, p, NULL)));
	}
	test_pool_destroy(&tp);
}

/*
 * 200 files, each with two 64 KiB attributes, made and removed in turn:
 * 25 MiB in all, three times what the metadata of this pool holds, so
 * the attributes of a removed file must come back.  Half of the files are
 * open when removed (the orphan's last close frees them).
 */
Test(xattr, the_attributes_of_a_removed_file_give_their_space_back,
	.timeout = 120)
{
	struct test_pool tp;
	unsigned char *v = xmalloc(SIZE_MAX_VALUE);

	test_pool_create(&tp, "xattr", TEST_POOL_SIZE);
	fill(v, SIZE_MAX_VALUE, 0, 2);
	for (int i = 0; i < 200; i++) {
		daxfile_file *f = xopen(tp.pool, "/f", O_CREAT | O_RDWR);

		TEST_OK(daxfile_fsetxattr(f, "user.a", v, SIZE_MAX_VALUE, 0));
		TEST_OK(daxfile_fsetxattr(f, "trusted.b", v, SIZE_MAX_VALUE, 0));
		if (i % 2 == 0)
			TEST_OK(daxfile_close(f));
		TEST_OK(daxfile_unlink(tp.pool, "/f"));
		if (i % 2 == 1)
			TEST_OK(daxfile_close(f));
	}
	/* a directory too */
	for (int i = 0; i < 100; i++) {
		TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
		TEST_OK(daxfile_setxattr(tp.pool, "/d", "user.a", v, SIZE_MAX_VALUE, 0));
		TEST_OK(daxfile_setxattr(tp.pool, "/d", "user.b", v, SIZE_MAX_VALUE, 0));
		TEST_OK(daxfile_rmdir(tp.pool, "/d"));
	}
	/* replacing a value frees the old one */
	touch(tp.pool, "/g");
	for (int i = 0; i < 200; i++)
		TEST_OK(daxfile_setxattr(tp.pool, "/g", "user.a", v, SIZE_MAX_VALUE, 0));
	free(v);
	test_pool_destroy(&tp);
}

Test(xattr, the_l_forms_name_a_symbolic_link_and_the_others_its_target)
{
	struct test_pool tp;
	char buf[64];

	test_pool_create(&tp, "xattr", TEST_POOL_SIZE);
	touch(tp.pool, "/f");
	TEST_OK(daxfile_symlink(tp.pool, "f", "/l"));
	TEST_OK(daxfile_setxattr(tp.pool, "/l", "user.t", "target", 6, 0));
	expect_value(tp.pool, "/f", "user.t", "target");
	expect_value(tp.pool, "/l", "user.t", "target");
	/* user.* lives only on regular files and directories */
	TEST_FAILS(daxfile_lgetxattr(tp.pool, "/l", "user.t", buf, 64), -1,
		ENODATA);
	TEST_FAILS(daxfile_lsetxattr(tp.pool, "/l", "user.t", "v", 1, 0), -1,
		EPERM);
	TEST_FAILS(daxfile_lremovexattr(tp.pool, "/l", "user.t"), -1, EPERM);
	/* trusted.* may sit on the link itself */
	TEST_OK(daxfile_lsetxattr(tp.pool, "/l", "trusted.l", "link", 4, 0));
	cr_assert_eq(daxfile_lgetxattr(tp.pool, "/l", "trusted.l", buf, 64), 4);
	TEST_FAILS(daxfile_getxattr(tp.pool, "/l", "trusted.l", buf, 64), -1,
		ENODATA);
	cr_assert_eq(daxfile_llistxattr(tp.pool, "/l", buf, sizeof(buf)),
		(ssize_t)sizeof("trusted.l"));
	cr_assert_eq(daxfile_listxattr(tp.pool, "/l", buf, sizeof(buf)),
		(ssize_t)sizeof("user.t"));
	TEST_OK(daxfile_lremovexattr(tp.pool, "/l", "trusted.l"));
	/* a relative path starts at the pool's current directory */
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	touch(tp.pool, "/d/g");
	TEST_OK(daxfile_chdir(tp.pool, "/d"));
	TEST_OK(daxfile_setxattr(tp.pool, "g", "user.rel", "r", 1, 0));
	expect_value(tp.pool, "/d/g", "user.rel", "r");
	/* the link goes with its attributes */
	TEST_OK(daxfile_lsetxattr(tp.pool, "/l", "trusted.gone", "x", 1, 0));
	TEST_OK(daxfile_unlink(tp.pool, "/l"));
	test_pool_destroy(&tp);
}

/* --- permissions ------------------------------------------------------------- */

static daxfile_pool *perm_pool;

static void
as_other_user(void)
{
	char buf[64];

	/* no read permission: EACCES to read; listing needs none */
	TEST_FAILS(daxfile_getxattr(perm_pool, "/secret", "user.a", buf, 64), -1,
		EACCES);
	cr_assert_eq(daxfile_listxattr(perm_pool, "/secret", buf, 64),
		(ssize_t)sizeof("user.a"), "listxattr: %s", daxfile_errormsg());
	/* readable but not writable: EACCES to write */
	expect_value(perm_pool, "/public", "user.a", "v");
	TEST_FAILS(daxfile_setxattr(perm_pool, "/public", "user.b", "v", 1, 0),
		-1, EACCES);
	TEST_FAILS(daxfile_removexattr(perm_pool, "/public", "user.a"), -1,
		EACCES);
	/* trusted.*: hidden and ENODATA to read, EPERM to write */
	TEST_FAILS(daxfile_getxattr(perm_pool, "/public", "trusted.t", buf, 64),
		-1, ENODATA);
	TEST_FAILS(daxfile_setxattr(perm_pool, "/open", "trusted.t", "v", 1, 0),
		-1, EPERM);
	/* writable by all: user.* goes in */
	TEST_OK(daxfile_setxattr(perm_pool, "/open", "user.mine", "m", 1, 0));
	/* a sticky directory writable by all: only its owner sets user.* */
	TEST_FAILS(daxfile_setxattr(perm_pool, "/sticky", "user.s", "v", 1, 0),
		-1, EPERM);
	/* security.* is ENOTSUP whatever the permissions */
	TEST_FAILS(daxfile_getxattr(perm_pool, "/secret", "security.x", buf, 64),
		-1, ENOTSUP);
}

static void
as_other_user_list(void)
{
	char buf[64];

	cr_assert_eq(daxfile_listxattr(perm_pool, "/public", buf, sizeof(buf)),
		(ssize_t)sizeof("user.a"), "trusted.* listed without CAP_SYS_ADMIN");
}

Test(xattr, permissions_decide_as_the_kernel_with_other_credentials)
{
	struct test_pool tp;
	/* a fsuid that is not 0 drops the file capabilities, not CAP_SYS_ADMIN */
	const struct who other = {.uid = U1, .gid = G1,
		.drop = 1ULL << CAP_SYS_ADMIN};

	need_root();
	test_pool_create(&tp, "xattr", TEST_POOL_SIZE);
	perm_pool = tp.pool;
	touch(tp.pool, "/secret");
	touch(tp.pool, "/public");
	touch(tp.pool, "/open");
	TEST_OK(daxfile_mkdir(tp.pool, "/sticky", 01777));
	TEST_OK(daxfile_chmod(tp.pool, "/secret", 0600));
	TEST_OK(daxfile_chmod(tp.pool, "/public", 0644));
	TEST_OK(daxfile_chmod(tp.pool, "/open", 0666));
	TEST_OK(daxfile_chmod(tp.pool, "/sticky", 01777));
	TEST_OK(daxfile_setxattr(tp.pool, "/secret", "user.a", "v", 1, 0));
	TEST_OK(daxfile_setxattr(tp.pool, "/public", "user.a", "v", 1, 0));
	TEST_OK(daxfile_setxattr(tp.pool, "/public", "trusted.t", "t", 1, 0));
	as(&other, as_other_user);
	as(&other, as_other_user_list);
	expect_value(tp.pool, "/open", "user.mine", "m");
	test_pool_destroy(&tp);
}

/* --- concurrency ------------------------------------------------------------- */

struct churn {
	daxfile_pool *pool;
	int id;
};

static void *
churn_main(void *arg)
{
	struct churn *c = arg;
	char name[32], val[64], buf[64], list[4096];

	for (int i = 0; i < 2000 && !failed(); i++) {
		int k = i % 7;
		ssize_t n;

		snprintf(name, sizeof(name), "user.t%d.%d", c->id, k);
		snprintf(val, sizeof(val), "%d:%d", c->id, i);
		if (i % 3 == 2) {
			if (daxfile_removexattr(c->pool, "/f", name) != 0 &&
			    errno != ENODATA)
				thread_fail("removexattr");
		} else if (daxfile_setxattr(c->pool, "/f", name, val, strlen(val),
		    0) != 0) {
			thread_fail("setxattr");
		}
		n = daxfile_getxattr(c->pool, "/f", name, buf, sizeof(buf));
		if (n < 0 && errno != ENODATA)
			thread_fail("getxattr");
		if (n >= 0 && (n < 2 || buf[0] - '0' != c->id))
			thread_fail("getxattr: a value of another thread");
		if (daxfile_listxattr(c->pool, "/f", list, sizeof(list)) < 0)
			thread_fail("listxattr");
	}
	return NULL;
}

Test(xattr, concurrent_changes_of_one_file_keep_its_attributes_sound,
	.timeout = 120)
{
	struct test_pool tp;
	struct churn c[4];
	pthread_t t[4];

	test_pool_create(&tp, "xattr", TEST_POOL_SIZE);
	touch(tp.pool, "/f");
	for (int i = 0; i < 4; i++) {
		c[i] = (struct churn){tp.pool, i};
		cr_assert_eq(pthread_create(&t[i], NULL, churn_main, &c[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
	assert_no_failure();
	test_pool_destroy(&tp);
}

/* --- damage ------------------------------------------------------------------ */

/*
 * patch_xattr -- find the attribute object in the pool file by its magic
 * and overwrite the owner field that follows magic and next.
 */
static void
patch_xattr(const char *path)
{
	static const char magic[8] = {'D', 'X', 'X', 'A', 'T', 'T', 'R', 0};
	FILE *f = fopen(path, "r+b");
	static char buf[1 << 16];
	long base = 0, found = -1;
	size_t n;

	cr_assert_not_null(f);
	while (found < 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		for (size_t i = 0; i + 8 <= n; i += 8)
			if (memcmp(buf + i, magic, 8) == 0) {
				found = base + (long)i;
				break;
			}
		base += (long)n;
	}
	cr_assert_geq(found, 0, "no attribute object in the pool file");
	cr_assert_eq(fseek(f, found + 16, SEEK_SET), 0);
	cr_assert_eq(fwrite("\x01\x02\x03\x04\x05\x06\x07\x08", 1, 8, f), 8);
	fclose(f);
}

Test(xattr, the_checker_finds_a_damaged_attribute_and_calls_fail_cleanly)
{
	struct test_pool tp;
	char buf[64];
	FILE *out = tmpfile();

	test_pool_create(&tp, "xattr", TEST_POOL_SIZE);
	touch(tp.pool, "/f");
	TEST_OK(daxfile_setxattr(tp.pool, "/f", "user.a", "v", 1, 0));
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;
	cr_assert_eq(daxfile_pool_check(tp.path, NULL), 0);
	patch_xattr(tp.path);
	cr_assert_eq(daxfile_pool_check(tp.path, out), 1);
	rewind(out);
	cr_assert_not_null(fgets(buf, sizeof(buf), out));
	cr_assert_not_null(strstr(buf, "extended attribute"), "report: %s", buf);
	fclose(out);
	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool);
	TEST_FAILS(daxfile_getxattr(tp.pool, "/f", "user.a", buf, 64), -1,
		EUCLEAN);
	TEST_FAILS(daxfile_listxattr(tp.pool, "/f", buf, 64), -1, EUCLEAN);
	TEST_FAILS(daxfile_setxattr(tp.pool, "/f", "user.b", "v", 1, 0), -1,
		EUCLEAN);
	TEST_OK(daxfile_pool_close(tp.pool));
	unlink(tp.path);
}

/*
 * cut_xattr_chain -- in the pool file at 'path', end the chain of
 * attributes at the first object that has a next one: that one is then
 * reached by no inode.
 */
static void
cut_xattr_chain(const char *path)
{
	static const char magic[8] = {'D', 'X', 'X', 'A', 'T', 'T', 'R', 0};
	static char buf[1 << 16];
	FILE *f = fopen(path, "r+b");
	long base = 0, found = -1;
	uint64_t next;
	size_t n;

	cr_assert_not_null(f);
	while (found < 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		for (size_t i = 0; i + 16 <= n; i += 8) {
			if (memcmp(buf + i, magic, 8) != 0)
				continue;
			memcpy(&next, buf + i + 8, sizeof(next));
			if (next != 0) {
				found = base + (long)i;
				break;
			}
		}
		base += (long)n;
	}
	cr_assert_geq(found, 0, "no chained attribute in the pool file");
	next = 0;
	cr_assert_eq(fseek(f, found + 8, SEEK_SET), 0);
	cr_assert_eq(fwrite(&next, sizeof(next), 1, f), 1);
	fclose(f);
}

Test(xattr, the_checker_finds_an_attribute_that_belongs_to_no_inode)
{
	struct test_pool tp;
	char buf[128];
	FILE *out = tmpfile();

	test_pool_create(&tp, "xattr", TEST_POOL_SIZE);
	touch(tp.pool, "/f");
	TEST_OK(daxfile_setxattr(tp.pool, "/f", "user.a", "v", 1, 0));
	TEST_OK(daxfile_setxattr(tp.pool, "/f", "user.b", "w", 1, 0));
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;
	cr_assert_eq(daxfile_pool_check(tp.path, NULL), 0);
	cut_xattr_chain(tp.path);
	cr_assert_eq(daxfile_pool_check(tp.path, out), 1);
	rewind(out);
	cr_assert_not_null(fgets(buf, sizeof(buf), out));
	cr_assert_not_null(strstr(buf, "belongs to no inode"), "report: %s", buf);
	fclose(out);
	unlink(tp.path);
}
