/*
 * test_undo.c -- the undo log lanes (src/undo.c) across crashes: a child
 * runs a fixed sequence of metadata changes and the library kills it at
 * its n-th persistence point, for every n until the sequence finishes.
 * After each crash the checker finds the pool clean, and the pool holds
 * the result of a prefix of the sequence, never a part of a change.
 *
 * The sequence covers the three ways a transaction uses the logs: only
 * its lane (a create, a rename, a mkdir), its lane and then libpmemobj's
 * (an attribute set after the inode's snapshot: libpmemobj allocates the
 * attribute), and a lane that fills and hands over to libpmemobj (a
 * truncate that frees the hundreds of extents of a fragmented file).
 * Many threads then run creates and unlinks at once, more than there are
 * lanes, so that some transactions find no lane free.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daxfile.h"
#include "testpool.h"
#include "testutil.h"

#define FRAG_EXTENTS 400	/* a file of this many one-block extents */
#define XATTR_SIZE 3000
#define NSTEPS 6

/* make_base -- the pool every crash starts from. */
static void
make_base(const char *path)
{
	daxfile_pool *pool = daxfile_pool_create(path, 64 << 20, 0600);
	unsigned char block[4096];
	daxfile_file *f;

	cr_assert_not_null(pool, "create: %s", daxfile_errormsg());
	TEST_OK(daxfile_mkdir(pool, "/d", 0755));
	put_text(pool, "/d/a", "the file a\n");
	/* every other block, written last to first: no two extents merge */
	f = xopen(pool, "/frag", O_CREAT | O_RDWR);
	fill(block, sizeof(block), 0, 7);
	for (int i = 2 * FRAG_EXTENTS - 2; i >= 0; i -= 2)
		cr_assert_eq(daxfile_pwrite(f, block, sizeof(block),
			(off_t)i * 4096), (ssize_t)sizeof(block));
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_pool_close(pool));
}

/* steps -- the sequence; each step is one transaction. */
static int
step(daxfile_pool *pool, int k)
{
	static char big[XATTR_SIZE];

	switch (k) {
	case 0: {
		daxfile_file *f = daxfile_open(pool, "/d/new",
			O_CREAT | O_EXCL | O_WRONLY, 0644);

		return f != NULL ? daxfile_close(f) : -1;
	}
	case 1:
		memset(big, 'x', sizeof(big));
		return daxfile_setxattr(pool, "/d/a", "user.big", big,
			sizeof(big), 0);
	case 2:
		return daxfile_rename(pool, "/d/a", "/d/b");
	case 3:
		return daxfile_truncate(pool, "/frag", 0);
	case 4:
		return daxfile_mkdir(pool, "/e", 0700);
	case 5:
		return daxfile_unlink(pool, "/d/new");
	}
	return -1;
}

/* exists -- does 'path' name something in the pool? */
static bool
exists(daxfile_pool *pool, const char *path)
{
	struct stat st;

	return daxfile_lstat(pool, path, &st) == 0;
}

/*
 * steps_done -- how many steps of the sequence the pool shows done,
 * checking that they are a prefix and that each is whole.
 */
static int
steps_done(daxfile_pool *pool)
{
	bool done[NSTEPS];
	const char *a;
	struct stat st;
	ssize_t n;
	int k;

	done[0] = exists(pool, "/d/new");
	done[2] = exists(pool, "/d/b");
	cr_assert_neq(done[2], exists(pool, "/d/a"),
		"a rename shows both names or neither");
	a = done[2] ? "/d/b" : "/d/a";
	check_text(pool, a, "the file a\n");
	n = daxfile_getxattr(pool, a, "user.big", NULL, 0);
	cr_assert(n == XATTR_SIZE || (n < 0 && errno == ENODATA),
		"the attribute is whole or absent: %zd (%s)", n,
		n < 0 ? strerror(errno) : "");
	done[1] = n == XATTR_SIZE;
	st = xstat(pool, "/frag");
	cr_assert(st.st_size == 0 ||
		st.st_size == (off_t)(2 * FRAG_EXTENTS - 1) * 4096,
		"the truncate is whole or not done: size %ld", (long)st.st_size);
	done[3] = st.st_size == 0;
	if (!done[3])
		cr_assert_eq(st.st_blocks, (blkcnt_t)FRAG_EXTENTS * 8,
			"blocks freed by a truncate that did not happen");
	done[4] = exists(pool, "/e");
	/* the last step undoes the first */
	done[5] = done[4] && !done[0];
	if (done[5])
		done[0] = true;
	for (k = 0; k < NSTEPS && done[k]; k++)
		;
	for (int j = k; j < NSTEPS; j++)
		cr_assert(!done[j], "step %d done after step %d was not", j, k);
	return k;
}

/* run_steps -- open the pool at 'path' and run the sequence. */
static int
run_steps(void *path)
{
	daxfile_pool *pool = daxfile_pool_open(path);

	if (pool == NULL)
		return -1;
	for (int k = 0; k < NSTEPS; k++)
		if (step(pool, k) != 0)
			return -1;
	return daxfile_pool_close(pool);
}

Test(undo, a_crash_at_any_point_leaves_a_whole_prefix_of_the_changes)
{
	char base[256], path[256], cmd[600];
	int seen[NSTEPS + 1] = {0};
	unsigned n;

	test_pool_path(base, sizeof(base), "undo-base");
	test_pool_path(path, sizeof(path), "undo");
	make_base(base);
	for (n = 1; n < 1000; n++) {
		daxfile_pool *pool;
		bool died;
		int k;

		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", base, path);
		cr_assert_eq(system(cmd), 0);
		died = test_crash_run(n, run_steps, path);
		cr_assert_eq(daxfile_pool_check(path, stderr), 0,
			"a crash at point %u left a pool that is not clean", n);
		pool = daxfile_pool_open(path);
		cr_assert_not_null(pool, "open after a crash at point %u: %s", n,
			daxfile_errormsg());
		k = steps_done(pool);
		seen[k]++;
		/* what a crash left can be changed again */
		for (int j = k; j < NSTEPS; j++)
			cr_assert_eq(step(pool, j), 0, "step %d after a crash at "
				"point %u: %s", j, n, daxfile_errormsg());
		cr_assert_eq(steps_done(pool), NSTEPS);
		TEST_OK(daxfile_pool_close(pool));
		cr_assert_eq(daxfile_pool_check(path, stderr), 0);
		if (!died)
			break;
	}
	cr_assert_lt(n, 1000, "the sequence never finished");
	for (int k = 0; k <= NSTEPS; k++)
		cr_assert_gt(seen[k], 0, "no crash left exactly %d steps done", k);
	unlink(base);
	unlink(path);
}

struct churn {
	daxfile_pool *pool;
	int id;
};

static void *
churn(void *arg)
{
	struct churn *c = arg;
	char name[64];

	for (int i = 0; i < 300 && !failed(); i++) {
		daxfile_file *f;

		snprintf(name, sizeof(name), "/t%d-%d", c->id, i);
		f = daxfile_open(c->pool, name, O_CREAT | O_EXCL | O_WRONLY,
			0600);
		if (f == NULL || daxfile_close(f) != 0) {
			thread_fail("create %s: %s", name, daxfile_errormsg());
			break;
		}
		if (i % 3 == 0 && daxfile_unlink(c->pool, name) != 0)
			thread_fail("unlink %s: %s", name, daxfile_errormsg());
	}
	return NULL;
}

Test(undo, many_threads_at_once_all_commit)
{
	enum { NT = 48 };	/* more than the pool has lanes (32) */
	struct test_pool tp;
	struct churn c[NT];
	pthread_t t[NT];
	struct statvfs sv;

	test_pool_create(&tp, "undo-threads", 128 << 20);
	for (int i = 0; i < NT; i++) {
		c[i].pool = tp.pool;
		c[i].id = i;
		cr_assert_eq(pthread_create(&t[i], NULL, churn, &c[i]), 0);
	}
	for (int i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	assert_no_failure();
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_eq(sv.f_files - sv.f_ffree, 1 + NT * 200,
		"the root and the files left: %lu",
		(unsigned long)(sv.f_files - sv.f_ffree));
	test_pool_reopen(&tp);
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0);
	test_pool_destroy(&tp);
}
