/*
 * test_readdir.c -- listing directories through the public API:
 * daxfile_getdents64 (records, d_off cookies that lseek resumes at, "."
 * and "..", the errnos of getdents64(2) as Linux gives them), directory
 * streams over a handle (fdopendir owns it, dirfile, telldir/seekdir
 * cookies that stay valid while the directory grows, rewinddir), and the
 * stress: walks by readdir, by getdents64 with small buffers and by
 * streams closed and reopened at a saved cookie, while other threads
 * create and remove names and the hash table splits under them; every
 * name that exists for the whole walk must come back exactly once and no
 * name twice.  The stress runs 3 seconds, or DAXFILE_STRESS_SECONDS.
 */
#define _GNU_SOURCE	/* O_DIRECTORY, O_PATH */

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include "daxfile.h"
#include "testutil.h"

/* The record getdents64 fills (struct linux_dirent64). */
struct rec {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

static void
touch(daxfile_pool *pool, const char *path)
{
	TEST_OK(daxfile_close(xopen(pool, path, O_CREAT | O_EXCL | O_WRONLY)));
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
env_seconds(double def)
{
	const char *s = getenv("DAXFILE_STRESS_SECONDS");
	double v = s != NULL ? strtod(s, NULL) : 0;

	return v > 0 ? v : def;
}

/* index_of -- n for a name "<prefix><n>", else -1. */
static long
index_of(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	char *end;
	long v;

	if (strncmp(name, prefix, n) != 0)
		return -1;
	v = strtol(name + n, &end, 10);
	return *end == '\0' ? v : -1;
}

/* --- getdents64 ------------------------------------------------------------ */

Test(readdir, getdents64_returns_dot_dotdot_and_every_entry_with_its_type)
{
	struct test_pool tp;
	char buf[4096];
	bool seen[10] = {false};
	daxfile_file *d;
	struct stat st, root;
	int dots = 0;
	ssize_t n;

	test_pool_create(&tp, "readdir", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	for (int i = 0; i < 10; i++) {
		char p[32];

		snprintf(p, sizeof(p), "/d/e%d", i);
		if (i % 3 == 0)
			TEST_OK(daxfile_mkdir(tp.pool, p, 0755));
		else if (i % 3 == 1)
			touch(tp.pool, p);
		else
			TEST_OK(daxfile_symlink(tp.pool, "e0", p));
	}
	TEST_OK(daxfile_stat(tp.pool, "/d", &st));
	TEST_OK(daxfile_stat(tp.pool, "/", &root));
	d = xopen(tp.pool, "/d", O_RDONLY | O_DIRECTORY);
	n = daxfile_getdents64(d, buf, sizeof(buf));
	cr_assert_gt(n, 0, "getdents64: %s", daxfile_errormsg());
	for (ssize_t o = 0; o < n;) {
		struct rec *r = (struct rec *)(buf + o);
		long i = index_of(r->d_name, "e");
		char p[300];
		struct stat es;

		cr_assert_eq(r->d_reclen % 8, 0, "reclen %u", r->d_reclen);
		cr_assert_geq(r->d_reclen,
			offsetof(struct rec, d_name) + strlen(r->d_name) + 1);
		cr_assert_gt(r->d_off, 0);
		o += r->d_reclen;
		if (strcmp(r->d_name, ".") == 0) {
			cr_assert_eq(r->d_ino, st.st_ino);
			cr_assert_eq(r->d_type, DT_DIR);
			dots++;
			continue;
		}
		if (strcmp(r->d_name, "..") == 0) {
			cr_assert_eq(r->d_ino, root.st_ino);
			cr_assert_eq(r->d_type, DT_DIR);
			dots++;
			continue;
		}
		cr_assert(i >= 0 && i < 10, "unexpected '%s'", r->d_name);
		cr_assert(!seen[i], "'%s' twice", r->d_name);
		seen[i] = true;
		snprintf(p, sizeof(p), "/d/%s", r->d_name);
		TEST_OK(daxfile_lstat(tp.pool, p, &es));
		cr_assert_eq(r->d_ino, es.st_ino);
		cr_assert_eq(r->d_type, i % 3 == 0 ? DT_DIR :
			i % 3 == 1 ? DT_REG : DT_LNK, "%s: d_type %u", p,
			r->d_type);
	}
	cr_assert_eq(dots, 2);
	for (int i = 0; i < 10; i++)
		cr_assert(seen[i], "e%d missing", i);
	/* the end: 0, again and again */
	cr_assert_eq(daxfile_getdents64(d, buf, sizeof(buf)), 0);
	cr_assert_eq(daxfile_getdents64(d, buf, sizeof(buf)), 0);
	/* offset 0 lists everything again */
	cr_assert_eq(daxfile_lseek(d, 0, SEEK_SET), 0);
	cr_assert_eq(daxfile_getdents64(d, buf, sizeof(buf)), n);
	TEST_OK(daxfile_close(d));
	test_pool_destroy(&tp);
}

Test(readdir, getdents64_resumes_at_the_d_off_of_any_record)
{
	struct test_pool tp;
	char all[65536], one[512], name[64];
	int64_t offs[300];
	char names[300][16];
	daxfile_file *d;
	int count = 0;
	ssize_t n;

	test_pool_create(&tp, "readdir", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	for (int i = 0; i < 250; i++) {
		snprintf(name, sizeof(name), "/d/name-%d", i);
		touch(tp.pool, name);
	}
	d = xopen(tp.pool, "/d", O_RDONLY | O_DIRECTORY);
	n = daxfile_getdents64(d, all, sizeof(all));
	cr_assert_gt(n, 0);
	cr_assert_eq(daxfile_getdents64(d, all + n, sizeof(all) - (size_t)n), 0,
		"one call did not hold the whole directory");
	for (ssize_t o = 0; o < n; count++) {
		struct rec *r = (struct rec *)(all + o);

		cr_assert_lt(count, 300);
		offs[count] = r->d_off;
		snprintf(names[count], sizeof(names[count]), "%s", r->d_name);
		o += r->d_reclen;
	}
	cr_assert_eq(count, 252);
	/* one record at a time, through the offset the previous call left */
	cr_assert_eq(daxfile_lseek(d, 0, SEEK_SET), 0);
	for (int i = 0; i < count; i++) {
		struct rec *r = (struct rec *)one;
		ssize_t k = daxfile_getdents64(d, one, 24 + 16);

		cr_assert_eq(k, r->d_reclen, "record %d: %zd bytes", i, k);
		cr_assert_str_eq(r->d_name, names[i]);
		cr_assert_eq(daxfile_lseek(d, 0, SEEK_CUR), r->d_off);
	}
	cr_assert_eq(daxfile_getdents64(d, one, sizeof(one)), 0);
	/* any d_off resumes right after its record */
	for (int i = 0; i + 1 < count; i += 7) {
		cr_assert_eq(daxfile_lseek(d, offs[i], SEEK_SET), offs[i]);
		cr_assert_gt(daxfile_getdents64(d, one, sizeof(one)), 0);
		cr_assert_str_eq(((struct rec *)one)->d_name, names[i + 1],
			"after the d_off of '%s'", names[i]);
	}
	/* an offset past every entry lists nothing */
	cr_assert_eq(daxfile_lseek(d, INT64_MAX, SEEK_SET), INT64_MAX);
	cr_assert_eq(daxfile_getdents64(d, one, sizeof(one)), 0);
	TEST_OK(daxfile_close(d));
	test_pool_destroy(&tp);
}

Test(readdir, getdents64_gives_the_errnos_of_linux)
{
	struct test_pool tp;
	char buf[256];
	daxfile_file *d, *f, *closed, *p;

	test_pool_create(&tp, "readdir", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/gone", 0755));
	touch(tp.pool, "/f");
	d = xopen(tp.pool, "/d", O_RDONLY | O_DIRECTORY);
	f = xopen(tp.pool, "/f", O_RDONLY);
	closed = xopen(tp.pool, "/d", O_RDONLY);
	TEST_OK(daxfile_close(closed));
	/* "." needs 24 bytes */
	TEST_FAILS(daxfile_getdents64(d, buf, 23), -1, EINVAL);
	assert_errormsg();
	TEST_FAILS(daxfile_getdents64(d, buf, 0), -1, EINVAL);
	cr_assert_eq(daxfile_getdents64(d, buf, 24), 24);
	TEST_FAILS(daxfile_getdents64(d, NULL, sizeof(buf)), -1, EFAULT);
	TEST_FAILS(daxfile_getdents64(f, buf, sizeof(buf)), -1, ENOTDIR);
	TEST_FAILS(daxfile_getdents64(closed, buf, sizeof(buf)), -1, EBADF);
	TEST_FAILS(daxfile_getdents64(NULL, buf, sizeof(buf)), -1, EBADF);
	p = daxfile_open(tp.pool, "/d", O_PATH);
	if (p != NULL) {
		TEST_FAILS(daxfile_getdents64(p, buf, sizeof(buf)), -1, EBADF);
		TEST_OK(daxfile_close(p));
	}
	TEST_OK(daxfile_close(d));
	d = xopen(tp.pool, "/gone", O_RDONLY | O_DIRECTORY);
	TEST_OK(daxfile_rmdir(tp.pool, "/gone"));
	TEST_FAILS(daxfile_getdents64(d, buf, sizeof(buf)), -1, ENOENT);
	TEST_OK(daxfile_close(d));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(readdir, a_listing_moves_atime_as_relatime_does_unless_o_noatime)
{
	struct test_pool tp;
	struct stat st0, st1, st2;
	char buf[256];
	daxfile_file *d;
	daxfile_dir *s;

	test_pool_create(&tp, "readdir", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	TEST_OK(daxfile_stat(tp.pool, "/d", &st0));
	nanosleep(&(struct timespec){0, 20000000}, NULL);
	/* O_NOATIME: no change */
	d = xopen(tp.pool, "/d", O_RDONLY | O_DIRECTORY | O_NOATIME);
	cr_assert_gt(daxfile_getdents64(d, buf, sizeof(buf)), 0);
	TEST_OK(daxfile_close(d));
	TEST_OK(daxfile_stat(tp.pool, "/d", &st1));
	cr_assert(st1.st_atim.tv_sec == st0.st_atim.tv_sec &&
		st1.st_atim.tv_nsec == st0.st_atim.tv_nsec, "O_NOATIME moved atime");
	/* atime equal to mtime: the first listing moves it, the next not */
	s = daxfile_opendir(tp.pool, "/d");
	cr_assert_not_null(daxfile_readdir(s));
	TEST_OK(daxfile_stat(tp.pool, "/d", &st1));
	cr_assert(st1.st_atim.tv_sec > st0.st_atim.tv_sec ||
		(st1.st_atim.tv_sec == st0.st_atim.tv_sec &&
		 st1.st_atim.tv_nsec > st0.st_atim.tv_nsec), "atime did not move");
	cr_assert_eq(st1.st_mtim.tv_nsec, st0.st_mtim.tv_nsec);
	nanosleep(&(struct timespec){0, 20000000}, NULL);
	daxfile_rewinddir(s);
	cr_assert_not_null(daxfile_readdir(s));
	TEST_OK(daxfile_closedir(s));
	TEST_OK(daxfile_stat(tp.pool, "/d", &st2));
	cr_assert(st2.st_atim.tv_sec == st1.st_atim.tv_sec &&
		st2.st_atim.tv_nsec == st1.st_atim.tv_nsec, "relatime moved atime twice");
	test_pool_destroy(&tp);
}

/* --- streams ------------------------------------------------------------------ */

Test(readdir, a_stream_owns_its_handle_and_dirfile_returns_it)
{
	struct test_pool tp;
	daxfile_file *d, *f;
	daxfile_dir *s;
	int n = 0;

	test_pool_create(&tp, "readdir", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	touch(tp.pool, "/d/x");
	d = xopen(tp.pool, "/d", O_RDONLY | O_DIRECTORY);
	s = daxfile_fdopendir(d);
	cr_assert_not_null(s, "%s", daxfile_errormsg());
	cr_assert_eq(daxfile_dirfile(s), d);
	while (daxfile_readdir(s) != NULL)
		n++;
	cr_assert_eq(n, 3);
	/* the pool stays busy while the stream is open */
	TEST_FAILS(daxfile_pool_close(tp.pool), -1, EBUSY);
	TEST_OK(daxfile_closedir(s));
	TEST_FAILS(daxfile_fstat(d, &(struct stat){0}), -1, EBADF);
	TEST_FAILS(daxfile_dirfile(s), NULL, EINVAL);
	TEST_FAILS(daxfile_telldir(s), -1, EBADF);
	TEST_FAILS(daxfile_dirfile(NULL), NULL, EINVAL);
	f = xopen(tp.pool, "/d/x", O_RDONLY);
	TEST_FAILS(daxfile_fdopendir(f), NULL, ENOTDIR);
	TEST_OK(daxfile_close(f));
	TEST_FAILS(daxfile_fdopendir(f), NULL, EBADF);
	TEST_FAILS(daxfile_fdopendir(NULL), NULL, EBADF);
	/* as glibc: a stream over an O_PATH handle, whose reads fail */
	d = xopen(tp.pool, "/d", O_PATH | O_DIRECTORY);
	s = daxfile_fdopendir(d);
	cr_assert_not_null(s, "%s", daxfile_errormsg());
	TEST_FAILS(daxfile_readdir(s), NULL, EBADF);
	cr_assert_eq(daxfile_telldir(s), 0);
	TEST_OK(daxfile_closedir(s));
	test_pool_destroy(&tp);
}

Test(readdir, telldir_cookies_stay_valid_while_the_directory_grows)
{
	enum { FIRST = 64, MORE = 3000 };
	struct test_pool tp;
	long cookies[FIRST + 2];
	char names[FIRST + 2][32], path[64];
	struct dirent *de;
	daxfile_dir *s;
	int n = 0;

	test_pool_create(&tp, "readdir", (uint64_t)128 << 20);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	for (int i = 0; i < FIRST; i++) {
		snprintf(path, sizeof(path), "/d/a%d", i);
		touch(tp.pool, path);
	}
	s = daxfile_opendir(tp.pool, "/d");
	cr_assert_not_null(s);
	cr_assert_eq(daxfile_telldir(s), 0);
	while ((de = daxfile_readdir(s)) != NULL) {
		cr_assert_lt(n, FIRST + 2);
		snprintf(names[n], sizeof(names[n]), "%.31s", de->d_name);
		cookies[n] = daxfile_telldir(s);
		cr_assert_eq(cookies[n], de->d_off);
		n++;
	}
	cr_assert_eq(n, FIRST + 2);
	/* the table splits many times over */
	for (int i = 0; i < MORE; i++) {
		snprintf(path, sizeof(path), "/d/b%d", i);
		touch(tp.pool, path);
	}
	/* after each cookie the next old entry still comes, new ones between */
	for (int i = 0; i + 1 < n; i++) {
		daxfile_seekdir(s, cookies[i]);
		while ((de = daxfile_readdir(s)) != NULL &&
		    index_of(de->d_name, "b") >= 0)
			;
		cr_assert_not_null(de, "nothing after the cookie of '%s'",
			names[i]);
		cr_assert_str_eq(de->d_name, names[i + 1],
			"after the cookie of '%s': '%s'", names[i], de->d_name);
	}
	daxfile_rewinddir(s);
	de = daxfile_readdir(s);
	cr_assert_not_null(de);
	cr_assert_str_eq(de->d_name, ".");
	for (n = 1; daxfile_readdir(s) != NULL; n++)
		;
	cr_assert_eq(n, FIRST + MORE + 2);
	TEST_OK(daxfile_closedir(s));
	test_pool_destroy(&tp);
}

/* --- the stress ------------------------------------------------------------- */

#define STABLE 1500
#define CHURNERS 2
#define WALKERS 3

struct stress {
	daxfile_pool *pool;
	double until;
	unsigned long walks[WALKERS];
	unsigned long created[CHURNERS];
};

struct job {
	struct stress *st;
	int id;
};

/*
 * A churner's names stop growing the directory after this many creates, so
 * that a fast machine does not fill the pool's inode space within the run.
 */
#define CHURN_GROW 20000

/*
 * churn -- create names "c<id>_<k>" and remove every other one: the
 * directory keeps growing, so its hash table keeps splitting.  After
 * CHURN_GROW creates, every create removes the name before it, so the
 * directory keeps its size while names still come and go.
 */
static void *
churn(void *arg)
{
	struct job *j = arg;
	char path[64];
	unsigned long k;

	for (k = 0; now_s() < j->st->until && !failed(); k++) {
		daxfile_file *f;

		snprintf(path, sizeof(path), "/d/c%d_%lu", j->id, k);
		f = daxfile_open(j->st->pool, path, O_CREAT | O_EXCL | O_WRONLY,
			0644);
		if (f == NULL || daxfile_close(f) != 0) {
			thread_fail("create %s", path);
			break;
		}
		if (k % 2 == 1 || k > CHURN_GROW) {
			snprintf(path, sizeof(path), "/d/c%d_%lu", j->id, k - 1);
			if (daxfile_unlink(j->st->pool, path) != 0)
				thread_fail("unlink %s", path);
		}
	}
	j->st->created[j->id] = k;
	return NULL;
}

/* A walk's record of what it saw. */
struct seen {
	uint8_t stable[STABLE];
	/* churn names seen, to find one seen twice: (id, k) packed */
	uint64_t *churn;
	size_t n, cap;
};

static void
saw(struct seen *s, const char *name)
{
	long i;
	int id;
	unsigned long k;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return;
	if ((i = index_of(name, "s")) >= 0 && i < STABLE) {
		if (s->stable[i]++ != 0)
			thread_fail("stable name '%s' listed twice in one walk", name);
		return;
	}
	if (sscanf(name, "c%d_%lu", &id, &k) != 2) {
		thread_fail("unexpected name '%s'", name);
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 4096;
		s->churn = realloc(s->churn, s->cap * sizeof(*s->churn));
	}
	s->churn[s->n++] = (uint64_t)k << 8 | (uint64_t)id;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* walk_check -- every stable name once, no churn name twice. */
static void
walk_check(struct seen *s, int kind)
{
	for (int i = 0; i < STABLE; i++)
		if (s->stable[i] != 1)
			thread_fail("walk kind %d: stable name s%d listed %u times",
				kind, i, s->stable[i]);
	qsort(s->churn, s->n, sizeof(*s->churn), u64_cmp);
	for (size_t i = 1; i < s->n; i++)
		if (s->churn[i] == s->churn[i - 1])
			thread_fail("walk kind %d: churn name c%u_%lu listed twice",
				kind, (unsigned)(s->churn[i] & 0xff),
				(unsigned long)(s->churn[i] >> 8));
	memset(s->stable, 0, sizeof(s->stable));
	s->n = 0;
}

/*
 * walker -- kind 0: readdir on a stream; kind 1: getdents64 with a buffer
 * of a few records; kind 2: a stream closed after every few entries and
 * opened again at the cookie telldir gave.
 */
static void *
walker(void *arg)
{
	struct job *j = arg;
	struct seen s = {0};
	char buf[200];

	while (now_s() < j->st->until && !failed()) {
		if (j->id == 0) {
			daxfile_dir *d = daxfile_opendir(j->st->pool, "/d");
			struct dirent *de;

			if (d == NULL) {
				thread_fail("opendir");
				break;
			}
			while ((de = daxfile_readdir(d)) != NULL)
				saw(&s, de->d_name);
			daxfile_closedir(d);
		} else if (j->id == 1) {
			daxfile_file *d = daxfile_open(j->st->pool, "/d",
				O_RDONLY | O_DIRECTORY);
			ssize_t n;

			if (d == NULL) {
				thread_fail("open");
				break;
			}
			while ((n = daxfile_getdents64(d, buf, sizeof(buf))) > 0)
				for (ssize_t o = 0; o < n;) {
					struct rec *r = (struct rec *)(buf + o);

					saw(&s, r->d_name);
					o += r->d_reclen;
				}
			if (n < 0)
				thread_fail("getdents64");
			daxfile_close(d);
		} else {
			long cookie = 0;
			bool end = false;

			while (!end && !failed()) {
				daxfile_dir *d = daxfile_opendir(j->st->pool, "/d");
				struct dirent *de = NULL;

				if (d == NULL) {
					thread_fail("opendir");
					break;
				}
				daxfile_seekdir(d, cookie);
				for (int i = 0; i < 17 &&
				    (de = daxfile_readdir(d)) != NULL; i++)
					saw(&s, de->d_name);
				end = de == NULL;
				cookie = daxfile_telldir(d);
				daxfile_closedir(d);
			}
		}
		walk_check(&s, j->id);
		j->st->walks[j->id]++;
	}
	free(s.churn);
	return NULL;
}

Test(readdir, walks_under_concurrent_creates_and_deletes_list_every_stable_name_once,
	.timeout = 600)
{
	struct test_pool tp;
	struct stress st = {0};
	struct job cj[CHURNERS], wj[WALKERS];
	pthread_t ct[CHURNERS], wt[WALKERS];
	char path[64];

	test_pool_create(&tp, "readdir", (uint64_t)512 << 20);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	for (int i = 0; i < STABLE; i++) {
		snprintf(path, sizeof(path), "/d/s%d", i);
		touch(tp.pool, path);
	}
	st.pool = tp.pool;
	st.until = now_s() + env_seconds(3.0);
	for (int i = 0; i < CHURNERS; i++) {
		cj[i] = (struct job){&st, i};
		cr_assert_eq(pthread_create(&ct[i], NULL, churn, &cj[i]), 0);
	}
	for (int i = 0; i < WALKERS; i++) {
		wj[i] = (struct job){&st, i};
		cr_assert_eq(pthread_create(&wt[i], NULL, walker, &wj[i]), 0);
	}
	for (int i = 0; i < CHURNERS; i++)
		cr_assert_eq(pthread_join(ct[i], NULL), 0);
	for (int i = 0; i < WALKERS; i++)
		cr_assert_eq(pthread_join(wt[i], NULL), 0);
	assert_no_failure();
	for (int i = 0; i < WALKERS; i++)
		cr_assert_gt(st.walks[i], 0, "walker %d finished no walk", i);
	cr_log_info("walks %lu/%lu/%lu while %lu + %lu names were created",
		st.walks[0], st.walks[1], st.walks[2], st.created[0],
		st.created[1]);
	test_pool_destroy(&tp);
}
