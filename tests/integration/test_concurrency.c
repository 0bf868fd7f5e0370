/*
 * test_concurrency.c -- several threads on one pool: the namespace under
 * racing creates, renames (of files and of directories between parents),
 * unlinks, mkdir/rmdir, stat and readdir, checked afterwards by the pool
 * checker and a walk of the whole tree; appends from two threads to
 * separate files and to one file; readers against a writer on one file
 * (a read never sees part of a write); two writers taking turns on one
 * file (the writer's bias of the iolock and its revocation); an unlink while another thread
 * still reads and writes the file, which gives its blocks back at the last
 * close; and reads racing truncate and hole punch while another file takes
 * the freed blocks (a read never returns them).
 *
 * Worker threads never assert (Criterion's assertions belong to the test's
 * own thread): they record the first failure, stop, and the test asserts
 * on it after joining them.  The namespace stress also fails if the
 * library writes anything to stderr meanwhile; it runs for 3 seconds or
 * 20,000 operations per thread, whichever comes first, and
 * DAXFILE_STRESS_SECONDS and DAXFILE_STRESS_OPS make it run longer
 * (`make stress`).  The reader/writer races run 2 and 3 seconds, or
 * DAXFILE_STRESS_SECONDS.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>

#include "testpool.h"
#include "testutil.h"

#define BLK 4096

/* --- shared helpers -------------------------------------------------------- */


static uint64_t
rnd(uint64_t *state)
{
	return mix64(*state += 0x9e3779b97f4a7c15ULL);
}

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
start_threads(pthread_t *t, int n, void *(*fn)(void *), void *args,
	size_t argsize)
{
	for (int i = 0; i < n; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, fn,
			(char *)args + (size_t)i * argsize), 0);
}

static void
join_threads(pthread_t *t, int n)
{
	for (int i = 0; i < n; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
}

/*
 * The library reports some failures only on stderr (an inode it cannot
 * reclaim at the last close).  While a stress runs, stderr goes through a
 * child process that copies everything to the real stderr at once (so that
 * nothing is lost if the test crashes) and notes whether the library
 * complained.
 */
struct stderr_watch {
	int saved;
	pid_t pid;
};

static void
stderr_watch_begin(struct stderr_watch *w)
{
	int p[2];

	fflush(stderr);
	cr_assert_eq(pipe(p), 0);
	w->pid = fork();
	cr_assert_neq(w->pid, -1);
	if (w->pid == 0) {
		static const char key[] = "libdaxfile";
		char buf[4096 + sizeof(key)];
		size_t keep = 0;
		int found = 0;
		ssize_t n;

		close(p[1]);
		while ((n = read(p[0], buf + keep, 4096)) > 0) {
			if (write(2, buf + keep, (size_t)n) < 0)
				break;
			n += (ssize_t)keep;
			if (memmem(buf, (size_t)n, key, sizeof(key) - 1) != NULL)
				found = 1;
			keep = (size_t)n < sizeof(key) ? (size_t)n : sizeof(key);
			memmove(buf, buf + n - keep, keep);
		}
		_exit(found);
	}
	close(p[0]);
	w->saved = dup(2);
	cr_assert_geq(w->saved, 0);
	cr_assert_geq(dup2(p[1], 2), 0);
	close(p[1]);
}

/* stderr_watch_end -- did the library write anything to stderr? */
static bool
stderr_watch_end(struct stderr_watch *w)
{
	int status;

	fflush(stderr);
	cr_assert_geq(dup2(w->saved, 2), 0);
	close(w->saved);
	cr_assert_eq(waitpid(w->pid, &status, 0), w->pid);
	return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

/* env_number -- a positive number from the environment, else 'def'. */
static double
env_number(const char *name, double def)
{
	const char *s = getenv(name);
	double v = s != NULL ? strtod(s, NULL) : 0;

	return v > 0 ? v : def;
}

/* --- (1) the namespace under four threads ----------------------------------- */

#define NS_THREADS 4
#define NS_DIRS 4
#define NS_NAMES 12
/* the defaults; DAXFILE_STRESS_OPS and DAXFILE_STRESS_SECONDS raise them */
#define NS_MAX_OPS 1000000
#define NS_SECONDS 3.0
#define NS_MAGIC 0x4e534649u	/* "IFSN" */
#define NS_MAX_PAYLOAD 200

/*
 * A file's contents say what they must be: a header with the file's unique
 * id and payload length, then a payload derived from the id.  Renames change
 * names, not contents, so the check needs no name.
 */
struct ns_header {
	uint32_t magic;
	uint32_t len;
	uint64_t id;
};

static unsigned char
ns_byte(uint64_t id, uint32_t i)
{
	return (unsigned char)(mix64(id * 1000003 + i / 8) >> (i % 8 * 8));
}

static size_t
ns_content(uint64_t id, uint32_t len, unsigned char *buf)
{
	struct ns_header h = {NS_MAGIC, len, id};

	memcpy(buf, &h, sizeof(h));
	for (uint32_t i = 0; i < len; i++)
		buf[sizeof(h) + i] = ns_byte(id, i);
	return sizeof(h) + len;
}

/* ns_valid -- do these n bytes make a whole, correct file? */
static bool
ns_valid(const unsigned char *buf, size_t n, char *why, size_t whylen)
{
	struct ns_header h;

	if (n < sizeof(h)) {
		snprintf(why, whylen, "%zu bytes, shorter than the header", n);
		return false;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.magic != NS_MAGIC || h.len > NS_MAX_PAYLOAD) {
		snprintf(why, whylen, "bad header (magic %#x, length %u)",
			h.magic, h.len);
		return false;
	}
	if (n != sizeof(h) + h.len) {
		snprintf(why, whylen, "%zu bytes, the header says %zu", n,
			sizeof(h) + h.len);
		return false;
	}
	for (uint32_t i = 0; i < h.len; i++) {
		if (buf[sizeof(h) + i] != ns_byte(h.id, i)) {
			snprintf(why, whylen, "payload byte %u of file %#llx is wrong",
				i, (unsigned long long)h.id);
			return false;
		}
	}
	return true;
}

struct ns_arg {
	daxfile_pool *pool;
	unsigned tid;
	unsigned long max_ops;
	double seconds;
	unsigned long ops;
	unsigned long done[16];	/* successful operations per kind */
};

/* a directory the operations address: /dN, /dN/sub or /dN/sub/sub */
static void
ns_dir(uint64_t *rs, char *buf, size_t n)
{
	static const char *const depth[] = {"", "/sub", "/sub/sub"};

	snprintf(buf, n, "/d%u%s", (unsigned)(rnd(rs) % NS_DIRS),
		depth[rnd(rs) % 3]);
}

static void
ns_file(uint64_t *rs, char *buf, size_t n)
{
	char dir[64];

	ns_dir(rs, dir, sizeof(dir));
	snprintf(buf, n, "%s/f%u", dir, (unsigned)(rnd(rs) % NS_NAMES));
}

/* ns_subdir -- "/dN/sub" or "/dN/sub/sub": the directories that move. */
static void
ns_subdir(uint64_t *rs, char *buf, size_t n)
{
	snprintf(buf, n, "/d%u/sub%s", (unsigned)(rnd(rs) % NS_DIRS),
		rnd(rs) % 3 == 0 ? "/sub" : "");
}

/* tolerated -- is errno one of the (up to 4) errors a race may give? */
static bool
tolerated(int e1, int e2, int e3, int e4)
{
	int e = errno;

	return e != 0 && (e == e1 || e == e2 || e == e3 || e == e4);
}

/* ns_name_kind -- 'f' for file names, 'd' for directory names, 0 else. */
static int
ns_name_kind(const char *name)
{
	if (strcmp(name, "sub") == 0 || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return 'd';
	if (name[0] == 'f' && name[1] >= '0' && name[1] <= '9')
		return 'f';
	return 0;
}

static void
ns_create(struct ns_arg *a, uint64_t *rs)
{
	unsigned char buf[sizeof(struct ns_header) + NS_MAX_PAYLOAD];
	uint64_t id = ((uint64_t)a->tid << 32) | a->ops;
	char path[128];
	daxfile_file *f;
	size_t n;

	ns_file(rs, path, sizeof(path));
	errno = 0;
	f = daxfile_open(a->pool, path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (f == NULL) {
		if (!tolerated(EEXIST, ENOENT, 0, 0))
			thread_fail("create %s", path);
		return;
	}
	n = ns_content(id, (uint32_t)(rnd(rs) % NS_MAX_PAYLOAD + 1), buf);
	if (daxfile_write(f, buf, n) != (ssize_t)n)
		thread_fail("write of new file %s", path);
	if (daxfile_close(f) != 0)
		thread_fail("close of new file %s", path);
	a->done[0]++;
}

static void
ns_read(struct ns_arg *a, uint64_t *rs)
{
	unsigned char buf[sizeof(struct ns_header) + NS_MAX_PAYLOAD + 16];
	char path[128], why[128];
	daxfile_file *f;
	ssize_t n;

	ns_file(rs, path, sizeof(path));
	errno = 0;
	f = daxfile_open(a->pool, path, O_RDONLY);
	if (f == NULL) {
		if (!tolerated(ENOENT, 0, 0, 0))
			thread_fail("open %s", path);
		return;
	}
	n = daxfile_pread(f, buf, sizeof(buf), 0);
	/* empty while its creator has not written it yet, else whole */
	if (n < 0)
		thread_fail("read %s", path);
	else if (n > 0 && !ns_valid(buf, (size_t)n, why, sizeof(why)))
		thread_fail("%s while the tree changes: %s", path, why);
	if (daxfile_close(f) != 0)
		thread_fail("close %s", path);
	a->done[1]++;
}

static void
ns_unlink(struct ns_arg *a, uint64_t *rs)
{
	char path[128];

	ns_file(rs, path, sizeof(path));
	errno = 0;
	if (daxfile_unlink(a->pool, path) != 0) {
		if (!tolerated(ENOENT, 0, 0, 0))
			thread_fail("unlink %s", path);
		return;
	}
	a->done[2]++;
}

static void
ns_rename_file(struct ns_arg *a, uint64_t *rs)
{
	char from[128], to[128];

	ns_file(rs, from, sizeof(from));
	ns_file(rs, to, sizeof(to));
	errno = 0;
	if (daxfile_rename(a->pool, from, to) != 0) {
		if (!tolerated(ENOENT, 0, 0, 0))
			thread_fail("rename %s %s", from, to);
		return;
	}
	a->done[3]++;
}

static void
ns_mkdir(struct ns_arg *a, uint64_t *rs)
{
	char path[128];

	ns_subdir(rs, path, sizeof(path));
	errno = 0;
	if (daxfile_mkdir(a->pool, path, 0755) != 0) {
		if (!tolerated(EEXIST, ENOENT, 0, 0))
			thread_fail("mkdir %s", path);
		return;
	}
	a->done[4]++;
}

static void
ns_rmdir(struct ns_arg *a, uint64_t *rs)
{
	char path[128];

	ns_subdir(rs, path, sizeof(path));
	errno = 0;
	if (daxfile_rmdir(a->pool, path) == 0) {
		a->done[5]++;
		return;
	}
	if (!tolerated(ENOENT, ENOTEMPTY, 0, 0))
		thread_fail("rmdir %s", path);
	if (errno != ENOTEMPTY)
		return;
	/*
	 * Creates fill the directories faster than unlinks empty them: empty
	 * this one (racing the others) and try again, so that rmdir of a
	 * directory that was just full is exercised too, and succeeds
	 * whatever the threads' schedule.
	 */
	for (unsigned i = 0; i < NS_NAMES; i++) {
		char file[160];

		snprintf(file, sizeof(file), "%s/f%u", path, i);
		errno = 0;
		if (daxfile_unlink(a->pool, file) != 0 &&
		    !tolerated(ENOENT, 0, 0, 0))
			thread_fail("unlink %s", file);
	}
	errno = 0;
	if (daxfile_rmdir(a->pool, path) != 0) {
		if (!tolerated(ENOENT, ENOTEMPTY, 0, 0))
			thread_fail("rmdir %s", path);
		return;
	}
	a->done[5]++;
}

/*
 * ns_rename_dir -- move a directory between parents, sometimes into its
 * own subtree (EINVAL) or onto its parent (ENOTEMPTY).
 */
static void
ns_rename_dir(struct ns_arg *a, uint64_t *rs)
{
	char from[128], to[160];

	ns_subdir(rs, from, sizeof(from));
	switch (rnd(rs) % 4) {
	case 0:
		/* into itself */
		snprintf(to, sizeof(to), "%s/sub", from);
		break;
	case 1:
		/* one level deeper elsewhere */
		snprintf(to, sizeof(to), "/d%u/sub/sub",
			(unsigned)(rnd(rs) % NS_DIRS));
		break;
	default:
		snprintf(to, sizeof(to), "/d%u/sub",
			(unsigned)(rnd(rs) % NS_DIRS));
		break;
	}
	errno = 0;
	if (daxfile_rename(a->pool, from, to) != 0) {
		if (!tolerated(ENOENT, ENOTEMPTY, EEXIST, EINVAL))
			thread_fail("rename %s %s", from, to);
		return;
	}
	a->done[6]++;
}

static void
ns_stat(struct ns_arg *a, uint64_t *rs)
{
	char path[128];
	struct stat st;
	bool dir = rnd(rs) % 3 == 0;

	if (dir)
		ns_dir(rs, path, sizeof(path));
	else
		ns_file(rs, path, sizeof(path));
	errno = 0;
	if (daxfile_stat(a->pool, path, &st) != 0) {
		if (!tolerated(ENOENT, 0, 0, 0))
			thread_fail("stat %s", path);
		return;
	}
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		errno = 0;
		thread_fail("stat %s: mode %#o", path, (unsigned)st.st_mode);
	}
	/* 0: removed while the stat ran (Linux's rmdir clears the count
	   under a stat that found the directory too); never 1 */
	if (dir && st.st_nlink == 1) {
		errno = 0;
		thread_fail("stat %s: a directory with %lu links", path,
			(unsigned long)st.st_nlink);
	}
	a->done[7]++;
}

static void
ns_readdir(struct ns_arg *a, uint64_t *rs)
{
	char path[128];
	daxfile_dir *d;
	struct dirent *de;
	unsigned dots = 0;

	ns_dir(rs, path, sizeof(path));
	errno = 0;
	d = daxfile_opendir(a->pool, path);
	if (d == NULL) {
		if (!tolerated(ENOENT, 0, 0, 0))
			thread_fail("opendir %s", path);
		return;
	}
	errno = 0;
	while ((de = daxfile_readdir(d)) != NULL) {
		int kind = ns_name_kind(de->d_name);

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			dots++;
		if (kind == 0 || (kind == 'd' && de->d_type != DT_DIR) ||
		    (kind == 'f' && de->d_type != DT_REG)) {
			errno = 0;
			thread_fail("readdir %s: entry '%s' of type %u", path,
				de->d_name, de->d_type);
		}
	}
	if (errno == ENOENT) {
		/* removed while listed: getdents64 on Linux answers a dead
		 * directory so, whatever the stream had read before */
	} else if (errno != 0) {
		thread_fail("readdir %s ends with an error", path);
	} else if (dots != 2) {
		errno = 0;
		thread_fail("readdir %s: %u of '.' and '..'", path, dots);
	}
	if (daxfile_closedir(d) != 0)
		thread_fail("closedir %s", path);
	a->done[8]++;
}

static void *
ns_worker(void *p)
{
	struct ns_arg *a = p;
	uint64_t rs = 0xc0ffee00ULL + a->tid;
	double end = now_sec() + a->seconds;

	for (a->ops = 0; a->ops < a->max_ops && !failed(); a->ops++) {
		unsigned k = (unsigned)(rnd(&rs) % 100);

		if ((a->ops & 63) == 0 && now_sec() > end)
			break;
		if (k < 20)
			ns_create(a, &rs);
		else if (k < 28)
			ns_read(a, &rs);
		else if (k < 38)
			ns_unlink(a, &rs);
		else if (k < 52)
			ns_rename_file(a, &rs);
		else if (k < 60)
			ns_mkdir(a, &rs);
		else if (k < 66)
			ns_rmdir(a, &rs);
		else if (k < 78)
			ns_rename_dir(a, &rs);
		else if (k < 89)
			ns_stat(a, &rs);
		else
			ns_readdir(a, &rs);
	}
	return NULL;
}

/* What the walk found. */
struct walk {
	unsigned long files, dirs;
	unsigned long depth_max;
};

/*
 * walk_tree -- every directory: '.' and '..' name it and its parent, its
 * link count is 2 + its subdirectories, entries have the type their name
 * says; every file holds whole, correct contents.
 */
static void
walk_tree(daxfile_pool *pool, const char *path, ino_t parent, unsigned depth,
	struct walk *w)
{
	unsigned char buf[sizeof(struct ns_header) + NS_MAX_PAYLOAD + 16];
	struct stat st, cst;
	unsigned long subdirs = 0;
	bool dot = false, dotdot = false;
	daxfile_dir *d;
	struct dirent *de;

	TEST_OK(daxfile_stat(pool, path, &st));
	cr_assert(S_ISDIR(st.st_mode), "%s is not a directory", path);
	cr_assert_lt(depth, 64, "%s: the tree is too deep", path);
	w->dirs++;
	if (depth > w->depth_max)
		w->depth_max = depth;
	d = daxfile_opendir(pool, path);
	cr_assert_not_null(d, "opendir %s: %s", path, daxfile_errormsg());
	while ((de = daxfile_readdir(d)) != NULL) {
		char child[1024];
		char why[128];
		daxfile_file *f;
		ssize_t n;

		if (strcmp(de->d_name, ".") == 0) {
			cr_assert_eq(de->d_ino, st.st_ino, "%s: '.' is %lu",
				path, (unsigned long)de->d_ino);
			dot = true;
			continue;
		}
		if (strcmp(de->d_name, "..") == 0) {
			cr_assert_eq(de->d_ino, parent, "%s: '..' is %lu, not %lu",
				path, (unsigned long)de->d_ino,
				(unsigned long)parent);
			dotdot = true;
			continue;
		}
		snprintf(child, sizeof(child), "%s%s%s", path,
			strcmp(path, "/") == 0 ? "" : "/", de->d_name);
		TEST_OK(daxfile_stat(pool, child, &cst));
		cr_assert_eq(cst.st_ino, de->d_ino, "%s: entry and inode differ",
			child);
		if (de->d_type == DT_DIR) {
			cr_assert(depth == 0 || strcmp(de->d_name, "sub") == 0,
				"unexpected directory %s", child);
			subdirs++;
			walk_tree(pool, child, st.st_ino, depth + 1, w);
			continue;
		}
		cr_assert_eq(de->d_type, DT_REG, "%s: type %u", child,
			de->d_type);
		cr_assert_eq(ns_name_kind(de->d_name), 'f',
			"unexpected file %s", child);
		cr_assert_eq(cst.st_nlink, 1, "%s: %lu links", child,
			(unsigned long)cst.st_nlink);
		f = daxfile_open(pool, child, O_RDONLY);
		cr_assert_not_null(f, "open %s: %s", child, daxfile_errormsg());
		n = daxfile_pread(f, buf, sizeof(buf), 0);
		cr_assert_eq(n, cst.st_size, "%s: read %zd of %lld bytes", child,
			n, (long long)cst.st_size);
		cr_assert(ns_valid(buf, (size_t)n, why, sizeof(why)), "%s: %s",
			child, why);
		TEST_OK(daxfile_close(f));
		w->files++;
	}
	TEST_OK(daxfile_closedir(d));
	cr_assert(dot && dotdot, "%s lacks '.' or '..'", path);
	cr_assert_eq(st.st_nlink, 2 + subdirs,
		"%s: %lu links with %lu subdirectories", path,
		(unsigned long)st.st_nlink, subdirs);
}

Test(concurrency, racing_namespace_operations_leave_a_consistent_tree,
	.timeout = 60)
{
	struct test_pool tp;
	struct ns_arg args[NS_THREADS];
	pthread_t t[NS_THREADS];
	struct statvfs sv;
	struct walk w = {0, 0, 0};
	unsigned long total = 0, kinds[9] = {0};
	struct stat root;
	struct stderr_watch watch;
	bool complained;
	char path[64];

	test_pool_create(&tp, "ns-stress", TEST_POOL_SIZE);
	for (unsigned i = 0; i < NS_DIRS; i++) {
		snprintf(path, sizeof(path), "/d%u", i);
		TEST_OK(daxfile_mkdir(tp.pool, path, 0755));
		snprintf(path, sizeof(path), "/d%u/sub", i);
		TEST_OK(daxfile_mkdir(tp.pool, path, 0755));
	}
	memset(args, 0, sizeof(args));
	for (unsigned i = 0; i < NS_THREADS; i++) {
		args[i].pool = tp.pool;
		args[i].tid = i;
		args[i].max_ops = (unsigned long)env_number("DAXFILE_STRESS_OPS",
			NS_MAX_OPS);
		args[i].seconds = env_number("DAXFILE_STRESS_SECONDS", NS_SECONDS);
	}
	stderr_watch_begin(&watch);
	start_threads(t, NS_THREADS, ns_worker, args, sizeof(args[0]));
	join_threads(t, NS_THREADS);
	complained = stderr_watch_end(&watch);
	assert_no_failure();
	cr_assert(!complained,
		"the library reported a failure on stderr during the stress");
	for (unsigned i = 0; i < NS_THREADS; i++) {
		total += args[i].ops;
		for (unsigned k = 0; k < 9; k++)
			kinds[k] += args[i].done[k];
	}
	/* every kind of operation succeeded some of the time */
	for (unsigned k = 0; k < 9; k++)
		cr_assert_gt(kinds[k], 0, "operation kind %u never succeeded "
			"(%lu operations in all)", k, total);
	cr_log_info("%lu namespace operations; created %lu, renamed %lu files "
		"and %lu directories", total, kinds[0], kinds[3], kinds[6]);

	/* the closed pool is clean, and the tree is whole after reopening */
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0,
		"the pool check finds problems after the stress");
	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool, "reopen: %s", daxfile_errormsg());
	TEST_OK(daxfile_stat(tp.pool, "/", &root));
	walk_tree(tp.pool, "/", root.st_ino, 0, &w);
	for (unsigned i = 0; i < NS_DIRS; i++) {
		snprintf(path, sizeof(path), "/d%u", i);
		TEST_OK(daxfile_stat(tp.pool, path, &root));
	}
	/* no inode is left over that the tree does not reach */
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_eq(sv.f_files - sv.f_ffree, w.files + w.dirs,
		"%lu inodes in use, the tree holds %lu files and %lu directories",
		(unsigned long)(sv.f_files - sv.f_ffree), w.files, w.dirs);
	test_pool_destroy(&tp);
}

/* --- (2) appends --------------------------------------------------------- */

#define APPENDS 8000

/* block_word -- word j of block 'blk' written by 'who'. */
static uint64_t
block_word(uint64_t who, uint64_t blk, uint64_t j)
{
	return mix64((who << 48) ^ (blk << 12) ^ j);
}

static void
block_fill(uint64_t *b, uint64_t who, uint64_t blk)
{
	for (uint64_t j = 0; j < BLK / 8; j++)
		b[j] = block_word(who, blk, j);
	/* the first word names the record, readable without knowing it */
	b[0] = who << 32 | blk;
}

/* block_check -- is this block record (who, blk) as block_fill made it? */
static bool
block_check(const uint64_t *b, uint64_t *who, uint64_t *blk)
{
	*who = b[0] >> 32;
	*blk = b[0] & 0xffffffffu;
	for (uint64_t j = 1; j < BLK / 8; j++)
		if (b[j] != block_word(*who, *blk, j))
			return false;
	return true;
}

struct append_arg {
	daxfile_file *f;
	unsigned who;
	unsigned n;
};

static void *
appender(void *p)
{
	struct append_arg *a = p;
	uint64_t *b = malloc(BLK);

	if (b == NULL) {
		thread_fail("malloc");
		return NULL;
	}
	for (unsigned i = 0; i < a->n && !failed(); i++) {
		block_fill(b, a->who, i);
		if (daxfile_write(a->f, b, BLK) != BLK)
			thread_fail("append %u of writer %u", i, a->who);
	}
	free(b);
	return NULL;
}

Test(concurrency, appends_from_two_threads_to_separate_files_all_land_in_order,
	.timeout = 60)
{
	struct test_pool tp;
	struct append_arg args[2];
	pthread_t t[2];
	uint64_t *buf = malloc((size_t)APPENDS * BLK);

	cr_assert_not_null(buf);
	test_pool_create(&tp, "append2", (uint64_t)128 << 20);
	for (unsigned i = 0; i < 2; i++) {
		char path[16];

		snprintf(path, sizeof(path), "/a%u", i);
		args[i].f = daxfile_open(tp.pool, path,
			O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0644);
		cr_assert_not_null(args[i].f, "open: %s", daxfile_errormsg());
		args[i].who = i + 1;
		args[i].n = APPENDS;
	}
	start_threads(t, 2, appender, args, sizeof(args[0]));
	join_threads(t, 2);
	assert_no_failure();
	for (unsigned i = 0; i < 2; i++)
		TEST_OK(daxfile_close(args[i].f));
	test_pool_reopen(&tp);
	for (unsigned i = 0; i < 2; i++) {
		char path[16];
		daxfile_file *f;
		struct stat st;

		snprintf(path, sizeof(path), "/a%u", i);
		f = daxfile_open(tp.pool, path, O_RDONLY);
		cr_assert_not_null(f, "open: %s", daxfile_errormsg());
		TEST_OK(daxfile_fstat(f, &st));
		cr_assert_eq(st.st_size, (off_t)APPENDS * BLK);
		cr_assert_eq(daxfile_pread(f, buf, (size_t)APPENDS * BLK, 0),
			(ssize_t)APPENDS * BLK);
		for (uint64_t k = 0; k < APPENDS; k++) {
			uint64_t who, blk;

			cr_assert(block_check(buf + k * (BLK / 8), &who, &blk) &&
				who == i + 1 && blk == k,
				"%s: block %llu holds record %llu of writer %llu",
				path, (unsigned long long)k,
				(unsigned long long)blk, (unsigned long long)who);
		}
		TEST_OK(daxfile_close(f));
	}
	free(buf);
	test_pool_destroy(&tp);
}

Test(concurrency, appends_from_two_threads_to_one_file_never_overlap,
	.timeout = 60)
{
	const unsigned per = APPENDS / 2;
	struct test_pool tp;
	struct append_arg args[2];
	pthread_t t[2];
	uint64_t *buf = malloc((size_t)per * 2 * BLK);
	uint64_t next[2] = {0, 0};
	daxfile_file *f;
	struct stat st;

	cr_assert_not_null(buf);
	test_pool_create(&tp, "append1", TEST_POOL_SIZE);
	for (unsigned i = 0; i < 2; i++) {
		/* one O_APPEND handle per thread */
		args[i].f = daxfile_open(tp.pool, "/shared",
			O_WRONLY | O_CREAT | O_APPEND, 0644);
		cr_assert_not_null(args[i].f, "open: %s", daxfile_errormsg());
		args[i].who = i + 1;
		args[i].n = per;
	}
	start_threads(t, 2, appender, args, sizeof(args[0]));
	join_threads(t, 2);
	assert_no_failure();
	for (unsigned i = 0; i < 2; i++)
		TEST_OK(daxfile_close(args[i].f));
	test_pool_reopen(&tp);
	f = daxfile_open(tp.pool, "/shared", O_RDONLY);
	cr_assert_not_null(f, "open: %s", daxfile_errormsg());
	TEST_OK(daxfile_fstat(f, &st));
	cr_assert_eq(st.st_size, (off_t)per * 2 * BLK);
	cr_assert_eq(daxfile_pread(f, buf, (size_t)per * 2 * BLK, 0),
		(ssize_t)per * 2 * BLK);
	/* every record whole, each writer's in its own order, none lost */
	for (uint64_t k = 0; k < (uint64_t)per * 2; k++) {
		uint64_t who, blk;

		cr_assert(block_check(buf + k * (BLK / 8), &who, &blk),
			"block %llu is not one whole record (a torn append)",
			(unsigned long long)k);
		cr_assert(who == 1 || who == 2, "block %llu: writer %llu",
			(unsigned long long)k, (unsigned long long)who);
		cr_assert_eq(blk, next[who - 1],
			"block %llu: record %llu of writer %llu, expected %llu",
			(unsigned long long)k, (unsigned long long)blk,
			(unsigned long long)who,
			(unsigned long long)next[who - 1]);
		next[who - 1]++;
	}
	cr_assert(next[0] == per && next[1] == per);
	TEST_OK(daxfile_close(f));
	free(buf);
	test_pool_destroy(&tp);
}

/* --- (3) readers against a writer ------------------------------------------ */

#define RW_BLOCKS 64
#define RW_SECONDS 2.0
#define RW_READERS 2

/*
 * Every 8-byte word of a block written by one pwrite says which pwrite
 * (version, first block and block count of the write) and where it belongs
 * (block, word index), with a checksum over those fields:
 *   version 24 bits | gstart 8 | glen 3 | block 8 | word 9 | check 12.
 */
struct rw_word {
	uint32_t version;
	unsigned gstart, glen, blk, j;
};

static uint64_t
rw_encode(uint32_t version, unsigned gstart, unsigned glen, unsigned blk,
	unsigned j)
{
	uint64_t v = (uint64_t)(version & 0xffffff) << 40 |
		(uint64_t)gstart << 32 | (uint64_t)glen << 29 |
		(uint64_t)blk << 21 | (uint64_t)j << 12;

	return v | (mix64(v) & 0xfff);
}

static bool
rw_decode(uint64_t w, struct rw_word *d)
{
	if ((mix64(w & ~0xfffULL) & 0xfff) != (w & 0xfff))
		return false;
	d->version = (uint32_t)(w >> 40);
	d->gstart = (unsigned)(w >> 32) & 0xff;
	d->glen = (unsigned)(w >> 29) & 7;
	d->blk = (unsigned)(w >> 21) & 0xff;
	d->j = (unsigned)(w >> 12) & 0x1ff;
	return true;
}

struct rw_shared {
	daxfile_file *f;
	volatile int stop;
	uint64_t writes, reads;
};

static void
rw_fill(uint64_t *b, uint32_t version, unsigned gstart, unsigned glen)
{
	for (unsigned k = 0; k < glen; k++)
		for (unsigned j = 0; j < BLK / 8; j++)
			b[k * (BLK / 8) + j] = rw_encode(version, gstart, glen,
				gstart + k, j);
}

static void *
rw_writer(void *p)
{
	struct rw_shared *s = p;
	uint64_t *b = malloc(7 * BLK);
	uint64_t rs = 77;
	uint32_t version = 1;
	double end = now_sec() + env_number("DAXFILE_STRESS_SECONDS", RW_SECONDS);

	if (b == NULL) {
		thread_fail("malloc");
		return NULL;
	}
	while (!failed() && now_sec() < end && version < 0xffffff) {
		unsigned glen = (unsigned)(rnd(&rs) % 4) + 1;
		unsigned gstart = (unsigned)(rnd(&rs) % (RW_BLOCKS - glen + 1));

		rw_fill(b, version, gstart, glen);
		if (daxfile_pwrite(s->f, b, (size_t)glen * BLK,
			(off_t)gstart * BLK) != (ssize_t)glen * BLK)
			thread_fail("pwrite version %u", version);
		version++;
	}
	s->writes = version - 1;
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	free(b);
	return NULL;
}

/*
 * rw_check_read -- the words read from [off, off+len): in each block one
 * version, every word in its place; a block showing version v of a write
 * that covered other blocks of this read shows them at v or later there
 * (the read is one snapshot); and no block goes back to an older version
 * than this reader saw before.
 */
static void
rw_check_read(const uint64_t *w, uint64_t off, uint64_t len, uint32_t *seen)
{
	uint32_t ver[RW_BLOCKS];
	struct rw_word gw[RW_BLOCKS];
	bool have[RW_BLOCKS] = {false};
	uint64_t first = off / BLK, last = (off + len - 1) / BLK;

	for (uint64_t i = 0; i < len / 8; i++) {
		uint64_t pos = off + i * 8;
		unsigned blk = (unsigned)(pos / BLK), j = (unsigned)(pos % BLK / 8);
		struct rw_word d;

		if (!rw_decode(w[i], &d) || d.blk != blk || d.j != j) {
			errno = 0;
			thread_fail("offset %llu reads %#llx, not word %u of block %u",
				(unsigned long long)pos, (unsigned long long)w[i],
				j, blk);
			return;
		}
		if (!have[blk]) {
			have[blk] = true;
			ver[blk] = d.version;
			gw[blk] = d;
		} else if (ver[blk] != d.version) {
			errno = 0;
			thread_fail("block %u mixes versions %u and %u (a torn write)",
				blk, ver[blk], d.version);
			return;
		}
	}
	for (uint64_t b = first; b <= last; b++) {
		if (!have[b])
			continue;
		if (ver[b] < seen[b]) {
			errno = 0;
			thread_fail("block %llu went back from version %u to %u",
				(unsigned long long)b, seen[b], ver[b]);
			return;
		}
		seen[b] = ver[b];
		for (unsigned k = 0; k < gw[b].glen; k++) {
			unsigned o = gw[b].gstart + k;

			if (o < RW_BLOCKS && have[o] && ver[o] < ver[b]) {
				errno = 0;
				thread_fail("block %llu shows version %u but block %u "
					"of the same write shows %u (a read saw half a write)",
					(unsigned long long)b, ver[b], o, ver[o]);
				return;
			}
		}
	}
}

static void *
rw_reader(void *p)
{
	struct rw_shared *s = p;
	uint64_t *w = malloc(RW_BLOCKS * BLK);
	uint32_t seen[RW_BLOCKS] = {0};
	uint64_t rs = (uint64_t)(uintptr_t)&seen;
	uint64_t reads = 0;

	if (w == NULL) {
		thread_fail("malloc");
		return NULL;
	}
	while (!failed() && !__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		uint64_t off = rnd(&rs) % (RW_BLOCKS * BLK / 8) * 8;
		uint64_t len = (rnd(&rs) % (8 * BLK / 8) + 1) * 8;
		ssize_t n;

		if (len > RW_BLOCKS * BLK - off)
			len = RW_BLOCKS * BLK - off;
		n = daxfile_pread(s->f, w, len, (off_t)off);
		if (n != (ssize_t)len) {
			thread_fail("pread %llu at %llu gives %zd",
				(unsigned long long)len, (unsigned long long)off, n);
			break;
		}
		rw_check_read(w, off, len, seen);
		reads++;
	}
	__atomic_fetch_add(&s->reads, reads, __ATOMIC_RELAXED);
	free(w);
	return NULL;
}

Test(concurrency, readers_never_see_part_of_a_concurrent_write, .timeout = 60)
{
	struct test_pool tp;
	struct rw_shared s;
	pthread_t t[RW_READERS + 1];
	uint64_t *b = malloc(BLK);

	cr_assert_not_null(b);
	memset(&s, 0, sizeof(s));
	test_pool_create(&tp, "rw", TEST_POOL_SIZE);
	s.f = daxfile_open(tp.pool, "/rw", O_RDWR | O_CREAT | O_EXCL, 0644);
	cr_assert_not_null(s.f, "open: %s", daxfile_errormsg());
	/* version 0 of every block, written one by one */
	for (unsigned k = 0; k < RW_BLOCKS; k++) {
		rw_fill(b, 0, k, 1);
		cr_assert_eq(daxfile_pwrite(s.f, b, BLK, (off_t)k * BLK), BLK);
	}
	cr_assert_eq(pthread_create(&t[0], NULL, rw_writer, &s), 0);
	for (int i = 1; i <= RW_READERS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, rw_reader, &s), 0);
	join_threads(t, RW_READERS + 1);
	assert_no_failure();
	cr_assert_gt(s.writes, 100, "only %llu writes",
		(unsigned long long)s.writes);
	cr_assert_gt(s.reads, 100, "only %llu reads",
		(unsigned long long)s.reads);
	cr_log_info("%llu writes against %llu reads",
		(unsigned long long)s.writes, (unsigned long long)s.reads);
	TEST_OK(daxfile_close(s.f));
	free(b);
	test_pool_destroy(&tp);
}

/* --- (3b) writers taking turns on one file --------------------------------- */

#define WT_BLOCKS 16
#define WT_OPS 400		/* per thread and round */
#define WT_SECONDS 2.0
#define WT_THREADS 3		/* two writers, one reader that truncates */

/*
 * Two threads overwrite the whole of one file, every word of a write the
 * same (writer, round, write number), while a third reads it whole and
 * now and then truncates it to its own size.  The first writer of a file
 * takes its iolock by bias (src/bias.h) and the others revoke the bias,
 * which is granted again a bounded number of times per file: so every
 * round takes a new file.  Every read, and the file after each round,
 * must show one write whole: two writers inside the iolock at once, or a
 * read that missed a writer's sequence, mix words of two writes.
 */
struct wt_shared {
	daxfile_file *f;
	uint64_t round;
	volatile int stop;
	pthread_barrier_t start, end;
};

struct wt_arg {
	struct wt_shared *s;
	uint64_t id;
};

static uint64_t
wt_word(uint64_t id, uint64_t round, uint64_t op)
{
	return id << 56 | (round & 0xffffff) << 32 | op;
}

/* wt_uniform -- the index of a word unlike the first, or n. */
static size_t
wt_uniform(const uint64_t *w, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (w[i] != w[0])
			return i;
	return n;
}

static void
wt_round(struct wt_arg *a, uint64_t *b)
{
	struct wt_shared *s = a->s;
	size_t n = WT_BLOCKS * BLK / 8, bad;

	for (uint64_t op = 1; op <= WT_OPS && !failed(); op++) {
		if (a->id < 2) {
			for (size_t i = 0; i < n; i++)
				b[i] = wt_word(a->id, s->round, op);
			if (daxfile_pwrite(s->f, b, n * 8, 0) != (ssize_t)n * 8)
				thread_fail("pwrite");
			continue;
		}
		if (daxfile_pread(s->f, b, n * 8, 0) != (ssize_t)n * 8) {
			thread_fail("pread");
			break;
		}
		bad = wt_uniform(b, n);
		if (bad != n) {
			errno = 0;
			thread_fail("round %llu: word %zu reads %#llx, word 0 %#llx "
				"(two writes mixed)", (unsigned long long)s->round,
				bad, (unsigned long long)b[bad],
				(unsigned long long)b[0]);
			break;
		}
		if (op % 16 == 0 &&
		    daxfile_ftruncate(s->f, WT_BLOCKS * BLK) != 0)
			thread_fail("ftruncate");
	}
}

static void *
wt_thread(void *p)
{
	struct wt_arg *a = p;
	uint64_t *b = malloc(WT_BLOCKS * BLK);

	for (;;) {
		pthread_barrier_wait(&a->s->start);
		if (a->s->stop)
			break;
		if (b == NULL)
			thread_fail("malloc");
		else
			wt_round(a, b);
		pthread_barrier_wait(&a->s->end);
	}
	free(b);
	return NULL;
}

Test(concurrency, writers_taking_turns_on_one_file_never_mix, .timeout = 60)
{
	struct test_pool tp;
	struct wt_shared s;
	struct wt_arg args[WT_THREADS];
	pthread_t t[WT_THREADS];
	size_t n = WT_BLOCKS * BLK / 8, bad;
	uint64_t *b = malloc(WT_BLOCKS * BLK);
	double end = now_sec() + env_number("DAXFILE_STRESS_SECONDS", WT_SECONDS);
	char name[32];

	cr_assert_not_null(b);
	memset(&s, 0, sizeof(s));
	test_pool_create(&tp, "wt", TEST_POOL_SIZE);
	cr_assert_eq(pthread_barrier_init(&s.start, NULL, WT_THREADS + 1), 0);
	cr_assert_eq(pthread_barrier_init(&s.end, NULL, WT_THREADS + 1), 0);
	for (int i = 0; i < WT_THREADS; i++)
		args[i] = (struct wt_arg){&s, (uint64_t)i};
	start_threads(t, WT_THREADS, wt_thread, args, sizeof(args[0]));
	do {
		snprintf(name, sizeof(name), "/wt%llu",
			(unsigned long long)s.round);
		s.f = daxfile_open(tp.pool, name, O_RDWR | O_CREAT | O_EXCL,
			0644);
		cr_assert_not_null(s.f, "open: %s", daxfile_errormsg());
		for (size_t i = 0; i < n; i++)
			b[i] = wt_word(WT_THREADS, s.round, 0);
		cr_assert_eq(daxfile_pwrite(s.f, b, n * 8, 0), (ssize_t)n * 8);
		pthread_barrier_wait(&s.start);
		pthread_barrier_wait(&s.end);
		cr_assert_eq(daxfile_pread(s.f, b, n * 8, 0), (ssize_t)n * 8);
		bad = wt_uniform(b, n);
		cr_assert_eq(bad, n, "round %llu: word %zu is %#llx, word 0 "
			"%#llx (two writes mixed)", (unsigned long long)s.round,
			bad, (unsigned long long)b[bad < n ? bad : 0],
			(unsigned long long)b[0]);
		cr_assert(b[0] >> 56 < 2, "the writers' last write is missing");
		TEST_OK(daxfile_close(s.f));
		TEST_OK(daxfile_unlink(tp.pool, name));
		s.round++;
	} while (!failed() && now_sec() < end);
	s.stop = 1;
	pthread_barrier_wait(&s.start);
	join_threads(t, WT_THREADS);
	assert_no_failure();
	cr_assert_gt(s.round, 10, "only %llu rounds",
		(unsigned long long)s.round);
	cr_log_info("%llu rounds", (unsigned long long)s.round);
	pthread_barrier_destroy(&s.start);
	pthread_barrier_destroy(&s.end);
	free(b);
	test_pool_destroy(&tp);
}

/* --- (4) unlink under an open handle ------------------------------------- */

#define UL_SIZE (1 << 20)

struct ul_shared {
	daxfile_file *rw;	/* O_RDWR: the writer's handle */
	daxfile_file *ro;	/* O_RDONLY: a reader's */
	volatile int stop;
	uint64_t ops;
};

/*
 * ul_writer -- writes and reads back through its handle, keeping its own
 * copy of the contents: the file must behave the same before and after
 * the unlink.  The file also grows, so blocks are allocated after it.
 */
static void *
ul_writer(void *p)
{
	struct ul_shared *s = p;
	unsigned char *model = calloc(1, 4 * UL_SIZE);
	unsigned char *buf = malloc(65536);
	uint64_t size = UL_SIZE, rs = 5;

	if (model == NULL || buf == NULL) {
		thread_fail("malloc");
		goto out;
	}
	memset(model, 0xab, UL_SIZE);
	while (!failed() && !__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		uint64_t len = rnd(&rs) % 65536 + 1;
		uint64_t off = rnd(&rs) % (size + 8192);
		ssize_t n;

		if (off + len > 4 * UL_SIZE)
			off = 0;
		if (rnd(&rs) % 2 == 0) {
			memset(buf, (int)(rnd(&rs) & 0xff), len);
			if (daxfile_pwrite(s->rw, buf, len, (off_t)off) !=
			    (ssize_t)len) {
				thread_fail("pwrite %llu at %llu",
					(unsigned long long)len,
					(unsigned long long)off);
				break;
			}
			memcpy(model + off, buf, len);
			if (off + len > size)
				size = off + len;
		} else {
			uint64_t want = off >= size ? 0 :
				(size - off < len ? size - off : len);

			n = daxfile_pread(s->rw, buf, len, (off_t)off);
			if (n != (ssize_t)want ||
			    memcmp(buf, model + off, want) != 0) {
				thread_fail("pread %llu at %llu gives %zd, wrong",
					(unsigned long long)len,
					(unsigned long long)off, n);
				break;
			}
		}
		s->ops++;
	}
out:
	free(model);
	free(buf);
	return NULL;
}

static void *
ul_reader(void *p)
{
	struct ul_shared *s = p;
	unsigned char *buf = malloc(65536);
	uint64_t rs = 9;

	if (buf == NULL) {
		thread_fail("malloc");
		return NULL;
	}
	while (!failed() && !__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		struct stat st;

		if (daxfile_pread(s->ro, buf, 65536,
			(off_t)(rnd(&rs) % UL_SIZE)) <= 0 ||
		    daxfile_fstat(s->ro, &st) != 0 || st.st_size < UL_SIZE) {
			thread_fail("read through the second handle");
			break;
		}
	}
	free(buf);
	return NULL;
}

Test(concurrency, unlink_of_a_file_in_use_by_other_threads_frees_it_at_last_close,
	.timeout = 60)
{
	struct test_pool tp;
	struct ul_shared s;
	struct statvfs before, during, after;
	pthread_t t[2];
	unsigned char *buf = malloc(UL_SIZE);
	struct timespec pause = {0, 300 * 1000 * 1000};
	struct stat st;
	uint64_t ops_at_unlink;

	cr_assert_not_null(buf);
	memset(&s, 0, sizeof(s));
	test_pool_create(&tp, "unlink-busy", TEST_POOL_SIZE);
	TEST_OK(daxfile_statvfs(tp.pool, &before));
	s.rw = daxfile_open(tp.pool, "/victim", O_RDWR | O_CREAT | O_EXCL, 0644);
	cr_assert_not_null(s.rw, "open: %s", daxfile_errormsg());
	memset(buf, 0xab, UL_SIZE);
	cr_assert_eq(daxfile_pwrite(s.rw, buf, UL_SIZE, 0), UL_SIZE);
	s.ro = daxfile_open(tp.pool, "/victim", O_RDONLY);
	cr_assert_not_null(s.ro, "open: %s", daxfile_errormsg());
	cr_assert_eq(pthread_create(&t[0], NULL, ul_writer, &s), 0);
	cr_assert_eq(pthread_create(&t[1], NULL, ul_reader, &s), 0);

	nanosleep(&pause, NULL);
	TEST_OK(daxfile_unlink(tp.pool, "/victim"));
	ops_at_unlink = __atomic_load_n(&s.ops, __ATOMIC_RELAXED);
	TEST_FAILS(daxfile_stat(tp.pool, "/victim", &st), -1, ENOENT);
	TEST_FAILS(daxfile_open(tp.pool, "/victim", O_RDONLY),
		(daxfile_file *)NULL, ENOENT);
	nanosleep(&pause, NULL);
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	join_threads(t, 2);
	assert_no_failure();
	cr_assert_gt(s.ops, ops_at_unlink, "no operation ran after the unlink");

	/* the handles still work; the blocks stay until the last close */
	TEST_OK(daxfile_fstat(s.rw, &st));
	cr_assert_eq(st.st_nlink, 0);
	TEST_OK(daxfile_close(s.rw));
	TEST_OK(daxfile_statvfs(tp.pool, &during));
	cr_assert_lt(during.f_bfree, before.f_bfree,
		"the blocks are free while a handle is open");
	cr_assert_gt(daxfile_pread(s.ro, buf, UL_SIZE, 0), 0);
	TEST_OK(daxfile_close(s.ro));
	TEST_OK(daxfile_statvfs(tp.pool, &after));
	cr_assert_eq(after.f_bfree, before.f_bfree,
		"%lu blocks free after the last close, %lu before the file",
		(unsigned long)after.f_bfree, (unsigned long)before.f_bfree);
	cr_assert_eq(after.f_files - after.f_ffree, before.f_files - before.f_ffree,
		"the inode was not freed");
	free(buf);
	test_pool_destroy(&tp);
}

/* --- (5) reads racing the freeing of blocks ------------------------------- */

/*
 * A victim file whose every word names its own offset is read by two
 * threads while a third truncates it, punches and zeroes ranges of it and
 * writes it back, and a fourth keeps rewriting a foreign file that gets the
 * blocks the victim frees.  Reads run without the iolock (they check its
 * sequence), so this is the test that they never hand out a block after it
 * was freed: every word read is zero or the victim's own word for that
 * offset, never a foreign one, and the buffer past the count returned
 * holds what the reader put there, or zeros.
 */
#define FR_BLOCKS 256
#define FR_SECONDS 3.0
#define FR_VICTIM 0x5649435449000000ULL	/* "VICTI" + word index */
#define FR_FOREIGN 0x464f524549000000ULL	/* "FOREI" + anything */
#define FR_UNREAD 0x554e524541440000ULL	/* what the reader put there */

struct fr_shared {
	daxfile_file *victim, *foreign;
	int stop;
	uint64_t reads, frees;
};

static void
fr_fill(uint64_t *w, uint64_t off, uint64_t len)
{
	for (uint64_t i = 0; i < len / 8; i++)
		w[i] = FR_VICTIM | ((off / 8 + i) & 0xffffff);
}

static void *
fr_mutator(void *p)
{
	struct fr_shared *s = p;
	uint64_t *w = malloc(FR_BLOCKS * BLK);
	uint64_t rs = 31, frees = 0;
	double end = now_sec() + env_number("DAXFILE_STRESS_SECONDS", FR_SECONDS);

	if (w == NULL) {
		thread_fail("malloc");
		goto out;
	}
	fr_fill(w, 0, FR_BLOCKS * BLK);
	while (!failed() && now_sec() < end) {
		uint64_t a = rnd(&rs) % FR_BLOCKS * BLK;
		uint64_t len = (rnd(&rs) % 16 + 1) * BLK;
		int r;

		switch (rnd(&rs) % 3) {
		case 0:
			r = daxfile_ftruncate(s->victim, (off_t)a);
			break;
		case 1:
			r = daxfile_fallocate(s->victim,
				FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				(off_t)a, (off_t)len);
			break;
		default:
			r = daxfile_fallocate(s->victim, FALLOC_FL_ZERO_RANGE,
				(off_t)a, (off_t)len);
			break;
		}
		if (r != 0) {
			thread_fail("free blocks at %llu", (unsigned long long)a);
			break;
		}
		frees++;
		/* back to whole: every word its own again */
		if (daxfile_pwrite(s->victim, w, FR_BLOCKS * BLK, 0) !=
		    FR_BLOCKS * BLK) {
			thread_fail("rewrite of the victim");
			break;
		}
	}
	__atomic_store_n(&s->frees, frees, __ATOMIC_RELAXED);
out:
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	free(w);
	return NULL;
}

static void *
fr_foreigner(void *p)
{
	struct fr_shared *s = p;
	uint64_t *w = malloc(16 * BLK);
	uint64_t rs = 47;

	if (w == NULL) {
		thread_fail("malloc");
		return NULL;
	}
	for (size_t i = 0; i < 16 * BLK / 8; i++)
		w[i] = FR_FOREIGN | i;
	while (!failed() && !__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		uint64_t off = rnd(&rs) % 64 * 16 * BLK;

		if (daxfile_pwrite(s->foreign, w, 16 * BLK, (off_t)off) !=
		    16 * BLK || (rnd(&rs) % 8 == 0 &&
		    daxfile_ftruncate(s->foreign, 0) != 0)) {
			thread_fail("foreign file");
			break;
		}
	}
	free(w);
	return NULL;
}

static void *
fr_reader(void *p)
{
	struct fr_shared *s = p;
	uint64_t *w = malloc(32 * BLK);
	uint64_t rs = (uint64_t)(uintptr_t)&rs, reads = 0;

	if (w == NULL) {
		thread_fail("malloc");
		return NULL;
	}
	while (!failed() && !__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		uint64_t off = rnd(&rs) % (FR_BLOCKS * BLK / 8) * 8;
		uint64_t len = (rnd(&rs) % (32 * BLK / 8) + 1) * 8;
		ssize_t n;

		for (uint64_t i = 0; i < len / 8; i++)
			w[i] = FR_UNREAD;
		n = daxfile_pread(s->victim, w, len, (off_t)off);
		if (n < 0 || (uint64_t)n > len) {
			thread_fail("pread %llu at %llu gives %zd",
				(unsigned long long)len, (unsigned long long)off, n);
			break;
		}
		for (uint64_t i = 0; i < (uint64_t)n / 8; i++) {
			uint64_t want = FR_VICTIM | ((off / 8 + i) & 0xffffff);

			if (w[i] != 0 && w[i] != want) {
				errno = 0;
				thread_fail("offset %llu of the victim reads %#llx "
					"(%s)", (unsigned long long)(off + i * 8),
					(unsigned long long)w[i],
					(w[i] & ~0xffffffULL) == FR_FOREIGN ?
					"a block of another file" : "garbage");
				break;
			}
		}
		/* past the count: untouched, or cleared after a lost race */
		for (uint64_t i = (uint64_t)n / 8; i < len / 8; i++) {
			if (w[i] != FR_UNREAD && w[i] != 0) {
				errno = 0;
				thread_fail("pread of %llu at %llu returned %zd and "
					"left %#llx at byte %llu of the buffer",
					(unsigned long long)len,
					(unsigned long long)off, n,
					(unsigned long long)w[i],
					(unsigned long long)i * 8);
				break;
			}
		}
		reads++;
	}
	__atomic_fetch_add(&s->reads, reads, __ATOMIC_RELAXED);
	free(w);
	return NULL;
}

Test(concurrency, reads_never_return_blocks_freed_under_them, .timeout = 60)
{
	struct test_pool tp;
	struct fr_shared s;
	pthread_t t[4];
	uint64_t *w = malloc(FR_BLOCKS * BLK);

	cr_assert_not_null(w);
	memset(&s, 0, sizeof(s));
	test_pool_create(&tp, "free-race", TEST_POOL_SIZE);
	s.victim = daxfile_open(tp.pool, "/victim", O_RDWR | O_CREAT | O_EXCL,
		0644);
	s.foreign = daxfile_open(tp.pool, "/foreign", O_RDWR | O_CREAT | O_EXCL,
		0644);
	cr_assert(s.victim != NULL && s.foreign != NULL, "open: %s",
		daxfile_errormsg());
	fr_fill(w, 0, FR_BLOCKS * BLK);
	cr_assert_eq(daxfile_pwrite(s.victim, w, FR_BLOCKS * BLK, 0),
		FR_BLOCKS * BLK);
	cr_assert_eq(pthread_create(&t[0], NULL, fr_mutator, &s), 0);
	cr_assert_eq(pthread_create(&t[1], NULL, fr_foreigner, &s), 0);
	cr_assert_eq(pthread_create(&t[2], NULL, fr_reader, &s), 0);
	cr_assert_eq(pthread_create(&t[3], NULL, fr_reader, &s), 0);
	join_threads(t, 4);
	assert_no_failure();
	cr_assert_gt(s.frees, 100, "only %llu frees", (unsigned long long)s.frees);
	cr_assert_gt(s.reads, 1000, "only %llu reads", (unsigned long long)s.reads);
	cr_log_info("%llu frees against %llu reads", (unsigned long long)s.frees,
		(unsigned long long)s.reads);
	TEST_OK(daxfile_close(s.victim));
	TEST_OK(daxfile_close(s.foreign));
	free(w);
	test_pool_destroy(&tp);
}
