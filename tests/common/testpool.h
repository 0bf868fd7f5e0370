/*
 * testpool.h -- what every test needs: a pool file of its own under
 * $DAXFILE_TEST_DIR (default /dev/shm), removed when the test ends, and
 * assertions that report daxfile_errormsg() on failure.
 */
#ifndef DX_TESTPOOL_H
#define DX_TESTPOOL_H 1

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/wait.h>

#include "daxfile.h"

#define TEST_POOL_SIZE ((uint64_t)64 << 20)

/* Pool files of this process, removed at exit even when a test fails. */
static char test_pool_paths[16][256];
static unsigned test_pool_npaths;

static void
test_pool_cleanup(void)
{
	for (unsigned i = 0; i < test_pool_npaths; i++)
		unlink(test_pool_paths[i]);
}

/* test_pool_path -- a fresh pool path, unique per process and call. */
static inline void
test_pool_path(char *buf, size_t n, const char *tag)
{
	static unsigned seq;
	const char *dir = getenv("DAXFILE_TEST_DIR");

	snprintf(buf, n, "%s/daxfile-test-%s-%d-%u.pool", dir ? dir : "/dev/shm",
		tag, (int)getpid(), seq++);
	unlink(buf);
	if (test_pool_npaths == 0)
		atexit(test_pool_cleanup);
	if (test_pool_npaths < 16)
		snprintf(test_pool_paths[test_pool_npaths++], 256, "%s", buf);
}

/* A pool made for one test, removed by test_pool_destroy. */
struct test_pool {
	char path[256];
	daxfile_pool *pool;
};

static inline void
test_pool_create(struct test_pool *tp, const char *tag, uint64_t size)
{
	test_pool_path(tp->path, sizeof(tp->path), tag);
	tp->pool = daxfile_pool_create(tp->path, size, 0600);
	cr_assert_not_null(tp->pool, "daxfile_pool_create(%s): %s (%s)",
		tp->path, strerror(errno), daxfile_errormsg());
}

/* test_pool_reopen -- close and open again (persistence checks). */
static inline void
test_pool_reopen(struct test_pool *tp)
{
	cr_assert_eq(daxfile_pool_close(tp->pool), 0, "close: %s",
		daxfile_errormsg());
	tp->pool = daxfile_pool_open(tp->path);
	cr_assert_not_null(tp->pool, "reopen: %s", daxfile_errormsg());
}

/* test_pool_destroy -- close (if open), check it is clean, remove it. */
static inline void
test_pool_destroy(struct test_pool *tp)
{
	int ret;

	if (tp->pool != NULL) {
		cr_assert_eq(daxfile_pool_close(tp->pool), 0, "close: %s",
			daxfile_errormsg());
		tp->pool = NULL;
	}
	ret = daxfile_pool_check(tp->path, stderr);
	unlink(tp->path);
	cr_assert_eq(ret, 0, "pool check after the test found problems");
}

/* TEST_OK -- a call that must succeed (0 or a handle). */
#define TEST_OK(expr) \
	cr_assert((expr) == 0, "%s failed: %s (%s)", #expr, strerror(errno), \
		daxfile_errormsg())

/* TEST_ERRNO -- a call that must fail with errno 'e' and return 'fail'. */
#define TEST_FAILS(expr, fail, e) do { \
	errno = 0; \
	__typeof__(expr) r_ = (expr); \
	cr_assert(r_ == (fail), "%s should fail", #expr); \
	cr_assert_eq(errno, (e), "%s: errno %d (%s), expected %d (%s)", #expr, \
		errno, strerror(errno), (e), strerror(e)); \
} while (0)

/*
 * test_crash_run -- run fn(arg) in a child that the library kills at its
 * 'n'th persistence point (DAXFILE_CRASH_AT); true if it died there, false
 * if fn returned 0 first (anything else fails the test).
 */
static inline bool
test_crash_run(unsigned n, int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		char at[16];

		snprintf(at, sizeof(at), "%u", n);
		setenv("DAXFILE_CRASH_AT", at, 1);
		_exit(fn(arg) == 0 ? 0 : 3);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status)) {
		cr_assert_eq(WTERMSIG(status), SIGKILL, "child died of signal %d",
			WTERMSIG(status));
		return true;
	}
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"the child failed (exit status %d)", WEXITSTATUS(status));
	return false;
}

#endif /* DX_TESTPOOL_H */
