/*
 * test_differential.c -- random sequences of namespace and attribute
 * operations (ops[]: creation, removal, rename and renameat2 flags, hard
 * and symbolic links, open flags through links, chmod, chown, utimensat,
 * access, truncate, write, stat, lstat, readlink) applied both to a pool
 * and to a loop-mounted XFS file
 * system, each by the same user (a worker thread switches its fsuid,
 * fsgid and groups with raw system calls before each operation, so the
 * kernel checks the XFS side with the same credentials, and runs chrooted
 * into the XFS mount, so that '/' and '..' mean the same on both sides),
 * comparing the
 * result and errno of every operation, what stat says after it, and
 * every so often the whole tree: types, modes, owners, link counts, sizes,
 * link targets.
 *
 * The operations are a table (ops[]); each names a library and a kernel
 * implementation.  Every operation runs on both sides for every user: the
 * library's own permission checks (search on every directory of a walk,
 * write and search on parents, the sticky bit, open's access mode) must
 * refuse exactly what the kernel refuses, with the same errno.
 *
 * Needs root and a loop mount (mkfs.xfs, mount -o loop); skipped with a
 * message otherwise.  DIFF_SEEDS (default 1 to 16) and DIFF_OPS (default
 * 8,000 per seed: about ten seconds) set the run; a
 * failure prints the seed, the operation number and the last operations.
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <sched.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daxfile.h"
#include "testcred.h"
#include "testpool.h"

#define DIFF_POOL_SIZE ((uint64_t)64 << 20)
#define LOG_KEEP 24
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The state of one run. */
struct diff {
	daxfile_pool *pool;
	int host;			/* the XFS directory the tree lives in */
	uint64_t rng;
	unsigned seed, opno;
	char log[LOG_KEEP][320];	/* the last operations */
};

/* One operation's arguments, drawn once and applied to both sides. */
struct args {
	char path[64], path2[64];	/* "/a/b" (the host uses "a/b") */
	char target[64];		/* a symbolic link's (relative) target */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	int flags;
	off_t len;
	struct timespec times[2];
	bool null_times;
};

/* What an operation returned: a value (-1 on failure) and errno. */
struct res {
	long ret;
	int err;
};

struct op {
	const char *name;
	void (*draw)(struct diff *d, struct args *a);
	struct res (*lib)(struct diff *d, const struct args *a);
	struct res (*sys)(struct diff *d, const struct args *a);
	bool follow;	/* the call follows a final symbolic link of 'path' */
};

static void fail_dump(struct diff *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* --- randomness and paths --------------------------------------------------- */

static uint64_t
rnd(struct diff *d, uint64_t n)
{
	d->rng ^= d->rng << 13;
	d->rng ^= d->rng >> 7;
	d->rng ^= d->rng << 17;
	return d->rng % n;
}

/* draw_path -- "/x", "/x/y" or "/x/y/z" over the names a, b, c. */
static void
draw_path(struct diff *d, char *buf)
{
	static const char *const names[] = {"a", "b", "c"};
	uint64_t r = rnd(d, 20);
	unsigned depth = r < 9 ? 1 : r < 17 ? 2 : 3;	/* shallow paths exist more often */

	buf[0] = '\0';
	for (unsigned i = 0; i < depth; i++) {
		strcat(buf, "/");
		strcat(buf, names[rnd(d, 3)]);
	}
}

static const char *
host_path(const char *p)
{
	return p + 1;
}

static mode_t
draw_mode(struct diff *d)
{
	static const mode_t common[] = {0755, 0700, 0644, 0600, 0777, 0711,
		01777, 02775, 04755, 06711, 0070, 0000};

	uint64_t r = rnd(d, 8);

	/* mostly modes that let others work below, sometimes anything */
	if (r < 4)
		return r == 0 ? 0777 : r == 1 ? 01777 : r == 2 ? 02777 : 0755;
	return r < 7 ? common[rnd(d, NELEM(common))] : (mode_t)rnd(d, 010000);
}

static uid_t
draw_uid(struct diff *d)
{
	static const uid_t u[] = {0, U1, U2, (uid_t)-1};

	return u[rnd(d, 4)];
}

static gid_t
draw_gid(struct diff *d)
{
	static const gid_t g[] = {0, G1, G2, (gid_t)-1};

	return g[rnd(d, 4)];
}

static struct res
res_of(long ret)
{
	return (struct res){ret, ret < 0 ? errno : 0};
}

/* --- the operations ------------------------------------------------------------ */

static void
draw_path_mode(struct diff *d, struct args *a)
{
	draw_path(d, a->path);
	a->mode = draw_mode(d);
	a->flags = rnd(d, 2) ? O_EXCL : 0;
}

static void
draw_one(struct diff *d, struct args *a)
{
	draw_path(d, a->path);
}

static void
draw_two(struct diff *d, struct args *a)
{
	draw_path(d, a->path);
	draw_path(d, a->path2);
}

static struct res
lib_create(struct diff *d, const struct args *a)
{
	daxfile_file *f = daxfile_open(d->pool, a->path,
		O_CREAT | O_WRONLY | a->flags, a->mode);

	if (f == NULL)
		return res_of(-1);
	return res_of(daxfile_close(f));
}

static struct res
sys_create(struct diff *d, const struct args *a)
{
	int fd = openat(d->host, host_path(a->path), O_CREAT | O_WRONLY | a->flags,
		a->mode);

	if (fd < 0)
		return res_of(-1);
	return res_of(close(fd));
}

static struct res
lib_mkdir(struct diff *d, const struct args *a)
{
	return res_of(daxfile_mkdir(d->pool, a->path, a->mode));
}

static struct res
sys_mkdir(struct diff *d, const struct args *a)
{
	return res_of(mkdirat(d->host, host_path(a->path), a->mode));
}

static struct res
lib_rmdir(struct diff *d, const struct args *a)
{
	return res_of(daxfile_rmdir(d->pool, a->path));
}

static struct res
sys_rmdir(struct diff *d, const struct args *a)
{
	return res_of(unlinkat(d->host, host_path(a->path), AT_REMOVEDIR));
}

static struct res
lib_unlink(struct diff *d, const struct args *a)
{
	return res_of(daxfile_unlink(d->pool, a->path));
}

static struct res
sys_unlink(struct diff *d, const struct args *a)
{
	return res_of(unlinkat(d->host, host_path(a->path), 0));
}

static struct res
lib_rename(struct diff *d, const struct args *a)
{
	return res_of(daxfile_rename(d->pool, a->path, a->path2));
}

static struct res
sys_rename(struct diff *d, const struct args *a)
{
	return res_of(renameat(d->host, host_path(a->path), d->host,
		host_path(a->path2)));
}

static struct res
lib_chmod(struct diff *d, const struct args *a)
{
	return res_of(daxfile_chmod(d->pool, a->path, a->mode));
}

static struct res
sys_chmod(struct diff *d, const struct args *a)
{
	return res_of(fchmodat(d->host, host_path(a->path), a->mode, 0));
}

static void
draw_chown(struct diff *d, struct args *a)
{
	draw_path(d, a->path);
	a->uid = draw_uid(d);
	a->gid = draw_gid(d);
}

static struct res
lib_chown(struct diff *d, const struct args *a)
{
	return res_of(daxfile_chown(d->pool, a->path, a->uid, a->gid));
}

static struct res
sys_chown(struct diff *d, const struct args *a)
{
	return res_of(fchownat(d->host, host_path(a->path), a->uid, a->gid, 0));
}

static void
draw_times(struct diff *d, struct args *a)
{
	static const long special[] = {UTIME_NOW, UTIME_OMIT, 5, 999999999};

	draw_path(d, a->path);
	a->null_times = rnd(d, 3) == 0;
	for (int i = 0; i < 2; i++) {
		a->times[i].tv_sec = 1000000000 + (time_t)rnd(d, 1000);
		a->times[i].tv_nsec = special[rnd(d, 4)];
	}
}

static struct res
lib_utimens(struct diff *d, const struct args *a)
{
	return res_of(daxfile_utimensat(d->pool, NULL, a->path,
		a->null_times ? NULL : a->times, 0));
}

static struct res
sys_utimens(struct diff *d, const struct args *a)
{
	return res_of(utimensat(d->host, host_path(a->path),
		a->null_times ? NULL : a->times, 0));
}

static void
draw_access(struct diff *d, struct args *a)
{
	draw_path(d, a->path);
	a->mode = (mode_t)rnd(d, 8);
	a->flags = rnd(d, 2) ? AT_EACCESS : 0;
}

static struct res
lib_access(struct diff *d, const struct args *a)
{
	return res_of(daxfile_faccessat(d->pool, NULL, a->path, (int)a->mode,
		a->flags));
}

static struct res
sys_access(struct diff *d, const struct args *a)
{
	return res_of(faccessat(d->host, host_path(a->path), (int)a->mode,
		a->flags));
}

static void
draw_len(struct diff *d, struct args *a)
{
	draw_path(d, a->path);
	a->len = (off_t)rnd(d, 3) * 3000;
}

static struct res
lib_truncate(struct diff *d, const struct args *a)
{
	return res_of(daxfile_truncate(d->pool, a->path, a->len));
}

/* sys_truncate -- truncate(2) has no *at form: the thread's root is the mount. */
static struct res
sys_truncate(struct diff *d, const struct args *a)
{
	(void)d;
	return res_of(truncate(a->path, a->len));
}

static struct res
lib_write(struct diff *d, const struct args *a)
{
	daxfile_file *f = daxfile_open(d->pool, a->path, O_WRONLY);
	struct res r;

	if (f == NULL)
		return res_of(-1);
	r = res_of(daxfile_pwrite(f, "x", 1, a->len));
	daxfile_close(f);
	return r;
}

static struct res
sys_write(struct diff *d, const struct args *a)
{
	int fd = openat(d->host, host_path(a->path), O_WRONLY);
	struct res r;

	if (fd < 0)
		return res_of(-1);
	r = res_of(pwrite(fd, "x", 1, a->len));
	close(fd);
	return r;
}

static struct res
lib_stat(struct diff *d, const struct args *a)
{
	struct stat st;

	return res_of(daxfile_stat(d->pool, a->path, &st));
}

static struct res
sys_stat(struct diff *d, const struct args *a)
{
	struct stat st;

	return res_of(fstatat(d->host, host_path(a->path), &st, 0));
}

static void
draw_flags2(struct diff *d, struct args *a)
{
	static const unsigned f[] = {0, RENAME_NOREPLACE, RENAME_EXCHANGE};

	draw_two(d, a);
	a->flags = (int)f[rnd(d, 3)];
}

static struct res
lib_rename2(struct diff *d, const struct args *a)
{
	return res_of(daxfile_renameat2(d->pool, NULL, a->path, NULL, a->path2,
		(unsigned)a->flags));
}

static struct res
sys_rename2(struct diff *d, const struct args *a)
{
	return res_of(renameat2(d->host, host_path(a->path), d->host,
		host_path(a->path2), (unsigned)a->flags));
}

static struct res
lib_link(struct diff *d, const struct args *a)
{
	return res_of(daxfile_link(d->pool, a->path, a->path2));
}

static struct res
sys_link(struct diff *d, const struct args *a)
{
	return res_of(linkat(d->host, host_path(a->path), d->host,
		host_path(a->path2), 0));
}

/*
 * draw_symlink -- a target, relative or absolute (the worker runs chrooted
 * into the XFS mount, so '/' and '..' of it mean what they mean in the
 * pool), often dangling.
 */
static void
draw_symlink(struct diff *d, struct args *a)
{
	static const char *const targets[] = {"a", "b", "c", "a/b", "../a",
		"..", ".", "c/../a", "x/y", "b/", "../../c", "/a", "/b/c", "/"};

	draw_path(d, a->path);
	snprintf(a->target, sizeof(a->target), "%s",
		targets[rnd(d, NELEM(targets))]);
}

static struct res
lib_symlink(struct diff *d, const struct args *a)
{
	return res_of(daxfile_symlink(d->pool, a->target, a->path));
}

static struct res
sys_symlink(struct diff *d, const struct args *a)
{
	return res_of(symlinkat(a->target, d->host, host_path(a->path)));
}

/* lib_readlink -- the length must agree, and the bytes too (checked here). */
static struct res
lib_readlink(struct diff *d, const struct args *a)
{
	char buf[128], hbuf[128];
	ssize_t n = daxfile_readlink(d->pool, a->path, buf, sizeof(buf));
	struct res r = res_of(n);

	if (n >= 0 && (readlinkat(d->host, host_path(a->path), hbuf,
	    sizeof(hbuf)) != n || memcmp(buf, hbuf, (size_t)n) != 0))
		fail_dump(d, "readlink %s: the pool says '%.*s'", a->path,
			(int)n, buf);
	return r;
}

static struct res
sys_readlink(struct diff *d, const struct args *a)
{
	char buf[128];

	return res_of(readlinkat(d->host, host_path(a->path), buf, sizeof(buf)));
}

/* draw_open -- open flags that follow links or not, create or not. */
static void
draw_open(struct diff *d, struct args *a)
{
	static const int f[] = {O_RDONLY, O_RDONLY | O_NOFOLLOW,
		O_WRONLY | O_CREAT, O_RDONLY | O_DIRECTORY, O_WRONLY | O_TRUNC,
		O_RDONLY | O_PATH, O_WRONLY | O_CREAT | O_EXCL,
		O_RDONLY | O_PATH | O_NOFOLLOW};

	draw_path(d, a->path);
	a->flags = f[rnd(d, NELEM(f))];
	a->mode = draw_mode(d);
}

static struct res
lib_open(struct diff *d, const struct args *a)
{
	daxfile_file *f = daxfile_openat(d->pool, NULL, a->path, a->flags,
		a->mode);

	if (f == NULL)
		return res_of(-1);
	return res_of(daxfile_close(f));
}

static struct res
sys_open(struct diff *d, const struct args *a)
{
	int fd = openat(d->host, host_path(a->path), a->flags, a->mode);

	if (fd < 0)
		return res_of(-1);
	return res_of(close(fd));
}

static struct res
lib_lstat(struct diff *d, const struct args *a)
{
	struct stat st;

	return res_of(daxfile_lstat(d->pool, a->path, &st));
}

static struct res
sys_lstat(struct diff *d, const struct args *a)
{
	struct stat st;

	return res_of(fstatat(d->host, host_path(a->path), &st,
		AT_SYMLINK_NOFOLLOW));
}

/*
 * The operations.  A new one is a draw function (its arguments), a library
 * and a kernel implementation, and a line here.  After each
 * operation lstat of its first path is compared, and compare_tree()
 * compares what every entry is.
 */
static const struct op ops[] = {
	{"create", draw_path_mode, lib_create, sys_create, true},
	{"mkdir", draw_path_mode, lib_mkdir, sys_mkdir, false},
	{"rmdir", draw_one, lib_rmdir, sys_rmdir, false},
	{"unlink", draw_one, lib_unlink, sys_unlink, false},
	{"rename", draw_two, lib_rename, sys_rename, false},
	{"renameat2", draw_flags2, lib_rename2, sys_rename2, false},
	{"link", draw_two, lib_link, sys_link, false},
	{"symlink", draw_symlink, lib_symlink, sys_symlink, false},
	{"readlink", draw_one, lib_readlink, sys_readlink, false},
	{"open", draw_open, lib_open, sys_open, true},
	{"chmod", draw_path_mode, lib_chmod, sys_chmod, true},
	{"chown", draw_chown, lib_chown, sys_chown, true},
	{"utimensat", draw_times, lib_utimens, sys_utimens, true},
	{"access", draw_access, lib_access, sys_access, true},
	{"truncate", draw_len, lib_truncate, sys_truncate, true},
	{"write", draw_len, lib_write, sys_write, true},
	{"stat", draw_one, lib_stat, sys_stat, true},
	{"lstat", draw_one, lib_lstat, sys_lstat, false},
};

/* --- users ---------------------------------------------------------------------- */

static const gid_t u1_groups[] = {G1, G2};
static const gid_t u2_groups[] = {G2};
static const struct who users[] = {
	{.uid = 0, .gid = 0},
	{.uid = U1, .gid = G1, .ngroups = 2, .groups = u1_groups},
	{.uid = U2, .gid = G2, .ngroups = 1, .groups = u2_groups},
};

/*
 * The run's parameters, for the worker thread; its first failure.  It
 * lives in memory shared with the test's process: the run goes on in a
 * child process, so that the mount is removed even if the run dies.
 */
static struct run {
	int host;
	unsigned nops;
	char seeds[256];
	char mnt[300];		/* the XFS mount: the worker's root */
	char fail[4096];
	unsigned ok[32], failed[32];	/* per operation */
} *runp;
#define run (*runp)

/* --- comparing -------------------------------------------------------------------- */

/*
 * fail_dump -- record the failure with the last operations and end the
 * worker thread (the main thread reports it after unmounting).
 */
static void
fail_dump(struct diff *d, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	n = (size_t)snprintf(run.fail, sizeof(run.fail),
		"seed %u, operation %u: ", d->seed, d->opno);
	va_start(ap, fmt);
	vsnprintf(run.fail + n, sizeof(run.fail) - n, fmt, ap);
	va_end(ap);
	n = strlen(run.fail);
	n += (size_t)snprintf(run.fail + n, sizeof(run.fail) - n,
		"\nlast operations:\n");
	for (unsigned i = d->opno > LOG_KEEP - 1 ? d->opno - (LOG_KEEP - 1) : 0;
	    i <= d->opno && n < sizeof(run.fail); i++)
		n += (size_t)snprintf(run.fail + n, sizeof(run.fail) - n, "  %s\n",
			d->log[i % LOG_KEEP]);
	pthread_exit(NULL);
}

/* same_inode -- the attributes both sides must agree on. */
static void
same_inode(struct diff *d, const char *path, const struct stat *l,
	const struct stat *h)
{
	if (l->st_mode != h->st_mode || l->st_uid != h->st_uid ||
	    l->st_gid != h->st_gid || l->st_nlink != h->st_nlink ||
	    (!S_ISDIR(l->st_mode) && l->st_size != h->st_size))
		fail_dump(d, "%s: pool mode %o %u:%u nlink %lu size %ld, xfs mode %o %u:%u nlink %lu size %ld",
			path, l->st_mode, l->st_uid, l->st_gid,
			(unsigned long)l->st_nlink, (long)l->st_size, h->st_mode,
			h->st_uid, h->st_gid, (unsigned long)h->st_nlink,
			(long)h->st_size);
}

/* same_target -- both links name the same target. */
static void
same_target(struct diff *d, const char *path)
{
	char lt[128], ht[128];
	ssize_t ln = daxfile_readlink(d->pool, path, lt, sizeof(lt));
	ssize_t hn = readlinkat(d->host, host_path(path), ht, sizeof(ht));

	if (ln < 0 || ln != hn || memcmp(lt, ht, (size_t)ln) != 0)
		fail_dump(d, "%s: link to '%.*s' in the pool, '%.*s' on xfs", path,
			(int)(ln > 0 ? ln : 0), lt, (int)(hn > 0 ? hn : 0), ht);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* list_names -- the sorted names of a directory on one side; count. */
static int
list_names(struct diff *d, const char *path, bool pool, char names[][256])
{
	int n = 0;

	if (pool) {
		daxfile_dir *dir = daxfile_opendir(d->pool, path);
		struct dirent *e;

		if (dir == NULL)
			fail_dump(d, "opendir(%s): %s", path, daxfile_errormsg());
		while ((e = daxfile_readdir(dir)) != NULL)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				snprintf(names[n++], 256, "%s", e->d_name);
		daxfile_closedir(dir);
	} else {
		int fd = openat(d->host, path[1] ? host_path(path) : ".",
			O_RDONLY | O_DIRECTORY);
		DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
		struct dirent *e;

		if (dir == NULL)
			fail_dump(d, "host opendir(%s): %s", path, strerror(errno));
		while ((e = readdir(dir)) != NULL)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				snprintf(names[n++], 256, "%s", e->d_name);
		closedir(dir);
	}
	qsort(names, (size_t)n, 256, name_cmp);
	return n;
}

/* compare_tree -- both trees, from 'path' down, entry by entry. */
static void
compare_tree(struct diff *d, const char *path)
{
	char ln[8][256], hn[8][256];
	int n = list_names(d, path, true, ln);

	if (n != list_names(d, path, false, hn))
		fail_dump(d, "%s: %d entries in the pool, not as on xfs", path, n);
	for (int i = 0; i < n; i++) {
		char child[300];
		struct stat l, h;

		if (strcmp(ln[i], hn[i]) != 0)
			fail_dump(d, "%s: pool has '%s', xfs '%s'", path, ln[i], hn[i]);
		snprintf(child, sizeof(child), "%.200s/%.63s", path[1] ? path : "", ln[i]);
		if (daxfile_lstat(d->pool, child, &l) != 0 ||
		    fstatat(d->host, host_path(child), &h, AT_SYMLINK_NOFOLLOW) != 0)
			fail_dump(d, "%s: listed but cannot be stat'ed", child);
		same_inode(d, child, &l, &h);
		if (S_ISLNK(l.st_mode))
			same_target(d, child);
		if (S_ISDIR(l.st_mode))
			compare_tree(d, child);
	}
}

/* --- the run ----------------------------------------------------------------------- */

/* one_op -- draw, apply to both sides as a random user, compare. */
static void
one_op(struct diff *d)
{
	const struct op *op = &ops[rnd(d, NELEM(ops))];
	const struct who *w = &users[rnd(d, NELEM(users))];
	struct args a;
	struct res l, h;

	memset(&a, 0, sizeof(a));
	op->draw(d, &a);
	snprintf(d->log[d->opno % LOG_KEEP], sizeof(d->log[0]),
		"#%u uid %u: %s %s %s%s%.24s mode %o uid %d gid %d flags %#x len %d",
		d->opno, w->uid, op->name, a.path, a.path2,
		a.target[0] ? " -> " : "", a.target, a.mode, (int)a.uid,
		(int)a.gid, a.flags, (int)a.len);
	become(w);
	h = op->sys(d, &a);
	l = op->lib(d, &a);
	become(&users[0]);
	if (h.ret < 0)
		run.failed[op - ops]++;
	else
		run.ok[op - ops]++;
	if ((l.ret < 0) != (h.ret < 0) || (l.ret < 0 && l.err != h.err))
		fail_dump(d, "%s %s: pool %ld (%s: %s), xfs %ld (%s)", op->name,
			a.path, l.ret, strerror(l.err), daxfile_errormsg(), h.ret,
			strerror(h.err));
	if (l.ret >= 0 || op->lib == lib_stat) {
		struct stat ls, hs;
		bool lok = daxfile_lstat(d->pool, a.path, &ls) == 0;
		bool hok = fstatat(d->host, host_path(a.path), &hs,
			AT_SYMLINK_NOFOLLOW) == 0;

		if (lok != hok)
			fail_dump(d, "after %s: %s exists %s", op->name, a.path,
				lok ? "only in the pool" : "only on xfs");
		if (lok)
			same_inode(d, a.path, &ls, &hs);
	}
}

/* clear_host -- empty the XFS directory (as root). */
static void
clear_host(struct diff *d, const char *path)
{
	char names[8][256];
	int n = list_names(d, path, false, names);

	for (int i = 0; i < n; i++) {
		char child[300];
		struct stat st;

		snprintf(child, sizeof(child), "%.200s/%.63s", path[1] ? path : "", names[i]);
		if (fstatat(d->host, host_path(child), &st, AT_SYMLINK_NOFOLLOW) != 0)
			fail_dump(d, "cleaning %s: %s", child, strerror(errno));
		if (S_ISDIR(st.st_mode))
			clear_host(d, child);
		if (unlinkat(d->host, host_path(child),
		    S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0)
			fail_dump(d, "cleaning %s: %s", child, strerror(errno));
	}
}

/*
 * root_enter -- make 'path' (relative to 'fd' when not -1) the thread's
 * root: the XFS mount while operations run, so that '/' and '..' of the
 * tree mean on the host what they mean in the pool; the old root again
 * for the pool files on /dev/shm.
 */
static void
root_enter(struct diff *d, const char *path, int fd)
{
	if ((fd >= 0 && fchdir(fd) != 0) || chroot(path) != 0 || chdir("/") != 0)
		fail_dump(d, "chroot to %s: %s", path, strerror(errno));
}

static void
run_seeds(void)
{
	char *save, *tok, seeds[256];
	int oldroot;

	snprintf(seeds, sizeof(seeds), "%s", run.seeds);
	/* this thread's root is its own to change (see root_enter) */
	oldroot = open("/", O_RDONLY | O_DIRECTORY);
	if (unshare(CLONE_FS) != 0 || oldroot < 0) {
		snprintf(run.fail, sizeof(run.fail), "unshare(CLONE_FS): %s",
			strerror(errno));
		return;
	}
	for (tok = strtok_r(seeds, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		struct diff d = {.host = run.host};
		char path[256];

		d.seed = (unsigned)strtoul(tok, NULL, 0);
		d.rng = 0x9E3779B97F4A7C15ULL * (d.seed + 1);
		test_pool_path(path, sizeof(path), "diff");
		d.pool = daxfile_pool_create(path, DIFF_POOL_SIZE, 0600);
		if (d.pool == NULL)
			fail_dump(&d, "pool create: %s", daxfile_errormsg());
		/* a link to '/' may have changed the root: as a new pool's */
		if (fchown(d.host, 0, 0) != 0 || fchmod(d.host, 0755) != 0)
			fail_dump(&d, "resetting the xfs root: %s", strerror(errno));
		root_enter(&d, run.mnt, -1);
		for (d.opno = 0; d.opno < run.nops; d.opno++) {
			one_op(&d);
			if (d.opno % 64 == 63)
				compare_tree(&d, "/");
		}
		compare_tree(&d, "/");
		clear_host(&d, "/");
		root_enter(&d, ".", oldroot);
		if (daxfile_pool_close(d.pool) != 0 ||
		    daxfile_pool_check(path, stderr) != 0)
			fail_dump(&d, "the pool is not clean after the run");
		unlink(path);
	}
}

/* sh -- run a shell command quietly; its exit status. */
static int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(differential, random_operations_give_the_same_results_and_tree_as_xfs,
	.timeout = 600)
{
	char base[] = "/tmp/daxfile-diff-XXXXXX";
	char img[300], mnt[300];
	const char *seeds = getenv("DIFF_SEEDS");
	const char *nops = getenv("DIFF_OPS");
	struct who root = {.uid = 0, .gid = 0};
	int ok, status = 0;
	pid_t child;

	if (geteuid() != 0)
		cr_skip_test("SKIPPED: the differential test needs root to loop-mount XFS");
	cr_assert_not_null(mkdtemp(base));
	snprintf(img, sizeof(img), "%s/xfs.img", base);
	snprintf(mnt, sizeof(mnt), "%s/mnt", base);
	ok = mkdir(mnt, 0755) == 0 &&
		sh("truncate -s 512M %s && mkfs.xfs -q %s >/dev/null 2>&1", img,
			img) == 0 &&
		sh("mount -o loop %s %s >/dev/null 2>&1", img, mnt) == 0;
	if (!ok) {
		sh("rm -rf %s", base);
		cr_skip_test("SKIPPED: cannot loop-mount an XFS file system here (mkfs.xfs, mount -o loop)");
	}
	runp = mmap(NULL, sizeof(*runp), PROT_READ | PROT_WRITE,
		MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(runp, MAP_FAILED);
	run.host = open(mnt, O_RDONLY | O_DIRECTORY);
	snprintf(run.mnt, sizeof(run.mnt), "%s", mnt);
	run.nops = nops ? (unsigned)atoi(nops) : 8000;
	snprintf(run.seeds, sizeof(run.seeds), "%s",
		seeds ? seeds : "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16");
	umask(022);
	child = fork();
	if (child == 0) {
		as(&root, run_seeds);
		_exit(0);
	}
	waitpid(child, &status, 0);
	close(run.host);
	/* lazily if something still holds it: never leave a mount behind */
	if (sh("umount %s >/dev/null 2>&1", mnt) != 0)
		sh("umount -l %s", mnt);
	sh("rm -rf %s", base);
	cr_assert(child > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"differential: the run died (status %#x): %s", status, run.fail);
	cr_assert(run.fail[0] == '\0', "differential: %s", run.fail);
	for (unsigned i = 0; i < NELEM(ops); i++) {
		cr_log_info("%-10s %5u succeeded, %5u failed alike",
			ops[i].name, run.ok[i], run.failed[i]);
		cr_assert_gt(run.ok[i], 0, "%s never succeeded: the run tests little",
			ops[i].name);
	}
}
