/*
 * testutil.h -- helpers several test files share: the first failure of any
 * worker thread (reported by the main thread), patterned file bytes, calls
 * that must succeed, the error message a failed call must leave, and free
 * blocks dirtied so that bytes a call forgets to zero show up.
 */
#ifndef DX_TESTUTIL_H
#define DX_TESTUTIL_H 1

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "testpool.h"

/* The first failure of any worker; the others see it and stop. */
static struct {
	pthread_mutex_t lock;
	int failed;
	char msg[1024];
} failure = {PTHREAD_MUTEX_INITIALIZER, 0, ""};

static inline bool
failed(void)
{
	return __atomic_load_n(&failure.failed, __ATOMIC_ACQUIRE) != 0;
}

/* thread_fail -- record a failure (with errno and the library's cause). */
static inline void __attribute__((format(printf, 1, 2)))
thread_fail(const char *fmt, ...)
{
	int err = errno;
	char what[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&failure.lock);
	if (!failure.failed) {
		snprintf(failure.msg, sizeof(failure.msg), "%s: errno %d (%s), %s",
			what, err, strerror(err), daxfile_errormsg());
		__atomic_store_n(&failure.failed, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&failure.lock);
}

static inline void
assert_no_failure(void)
{
	cr_assert(!failed(), "%s", failure.msg);
}

static inline uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* pat -- the byte a patterned file holds at 'pos' (depends on the seed). */
static inline unsigned char
pat(uint64_t pos, unsigned seed)
{
	uint64_t x = (pos + 1) * 0x9E3779B97F4A7C15ULL +
		(uint64_t)seed * 0xBF58476D1CE4E5B9ULL;

	x ^= x >> 31;
	x *= 0x94D049BB133111EBULL;
	x ^= x >> 29;
	return (unsigned char)x;
}

static inline void
fill(unsigned char *buf, size_t n, uint64_t pos, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = pat(pos + i, seed);
}

static inline unsigned char *
xmalloc(size_t n)
{
	unsigned char *p = malloc(n ? n : 1);

	cr_assert_not_null(p, "malloc(%zu)", n);
	return p;
}

static inline daxfile_file *
xopen(daxfile_pool *pool, const char *path, int flags)
{
	daxfile_file *f = daxfile_open(pool, path, flags, 0644);

	cr_assert_not_null(f, "daxfile_open(%s, %#x): %s (%s)", path, flags,
		strerror(errno), daxfile_errormsg());
	return f;
}

/* xfstat -- the status of an open file, which must be had. */
static inline struct stat
xfstat(daxfile_file *f)
{
	struct stat st;

	TEST_OK(daxfile_fstat(f, &st));
	return st;
}

/* assert_errormsg -- a failed call left a cause in daxfile_errormsg(). */
static inline void
assert_errormsg(void)
{
	const char *m = daxfile_errormsg();

	cr_assert(m != NULL && m[0] != '\0',
		"daxfile_errormsg() is empty after a failure");
}

/* FAILS -- TEST_FAILS, and the error message must name a cause. */
#define FAILS(expr, fail, e) do { \
	TEST_FAILS(expr, fail, e); \
	assert_errormsg(); \
} while (0)

/* xstat / xlstat -- the status of a path, which must be had. */
static inline struct stat
xstat(daxfile_pool *pool, const char *path)
{
	struct stat st;

	cr_assert_eq(daxfile_stat(pool, path, &st), 0, "stat(%s): %s (%s)",
		path, strerror(errno), daxfile_errormsg());
	return st;
}

static inline struct stat
xlstat(daxfile_pool *pool, const char *path)
{
	struct stat st;

	cr_assert_eq(daxfile_lstat(pool, path, &st), 0, "lstat(%s): %s (%s)",
		path, strerror(errno), daxfile_errormsg());
	return st;
}

/* put_text -- create or replace the contents of 'path' with 'text'. */
static inline void
put_text(daxfile_pool *pool, const char *path, const char *text)
{
	daxfile_file *f = xopen(pool, path, O_CREAT | O_TRUNC | O_WRONLY);
	size_t n = strlen(text);

	cr_assert_eq(daxfile_write(f, text, n), (ssize_t)n, "write(%s): %s",
		path, daxfile_errormsg());
	TEST_OK(daxfile_close(f));
}

/* check_text -- 'path' (followed if a link) holds exactly 'text'. */
static inline void
check_text(daxfile_pool *pool, const char *path, const char *text)
{
	char buf[256];
	daxfile_file *f = xopen(pool, path, O_RDONLY);
	ssize_t got = daxfile_pread(f, buf, sizeof(buf), 0);

	TEST_OK(daxfile_close(f));
	cr_assert_lt(strlen(text), sizeof(buf));
	cr_assert_eq(got, (ssize_t)strlen(text), "%s: %zd bytes, expected %zu",
		path, got, strlen(text));
	cr_assert(memcmp(buf, text, (size_t)got) == 0, "%s: '%.*s', expected '%s'",
		path, (int)got, buf, text);
}

/*
 * dirty_free_blocks -- fill every free block of the pool with 0xEE and
 * free them again, so that bytes a call forgets to zero show up.
 */
static inline void
dirty_free_blocks(daxfile_pool *pool)
{
	daxfile_file *f = xopen(pool, "/dirt", O_WRONLY | O_CREAT | O_EXCL);
	unsigned char *buf = xmalloc((size_t)1 << 20);
	struct statvfs sv;
	ssize_t w;

	memset(buf, 0xEE, (size_t)1 << 20);
	do {
		w = daxfile_write(f, buf, (size_t)1 << 20);
	} while (w == (ssize_t)((size_t)1 << 20));
	cr_assert(w >= 0 || errno == ENOSPC, "filling the pool: %s (%s)",
		strerror(errno), daxfile_errormsg());
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_unlink(pool, "/dirt"));
	TEST_OK(daxfile_statvfs(pool, &sv));
	cr_assert_eq(sv.f_bfree, sv.f_blocks);
	free(buf);
}

#endif /* DX_TESTUTIL_H */
