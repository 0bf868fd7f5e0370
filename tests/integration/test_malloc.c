/*
 * test_malloc.c -- the library and the application's heap: the library's
 * DRAM structures do not come from the application's malloc, the
 * application's malloc and free work normally from many threads while
 * other threads use the library, and malloc in the application is still
 * the C library's own.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "testpool.h"

#define NFILES 2000

/* heap_in_use -- bytes the C library's malloc has handed out, all arenas. */
static size_t
heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static size_t
growth(size_t from, size_t to)
{
	return to > from ? to - from : 0;
}

static void
pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, ms % 1000 * 1000000};

	nanosleep(&ts, NULL);
}

/*
 * The whole life of a pool with NFILES files: created and written one by
 * one, then all open at once and read back while the directory is listed,
 * closed; then the pool reopened and listed again.
 */
static void
pool_workload(void)
{
	static daxfile_file *files[NFILES];
	struct test_pool tp;
	char path[64], buf[1024], rbuf[1024];
	daxfile_dir *d;
	unsigned n = 0;

	test_pool_create(&tp, "heap", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	for (unsigned i = 0; i < NFILES; i++) {
		daxfile_file *f;

		snprintf(path, sizeof(path), "/d/file-%u", i);
		f = daxfile_open(tp.pool, path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		cr_assert_not_null(f, "open %s: %s", path, daxfile_errormsg());
		memset(buf, (int)(i & 0xff), sizeof(buf));
		cr_assert_eq(daxfile_write(f, buf, 100 + i % 900),
			(ssize_t)(100 + i % 900), "write %s: %s", path,
			daxfile_errormsg());
		TEST_OK(daxfile_close(f));
	}
	for (unsigned i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "/d/file-%u", i);
		files[i] = daxfile_open(tp.pool, path, O_RDONLY);
		cr_assert_not_null(files[i], "open %s: %s", path,
			daxfile_errormsg());
		memset(buf, (int)(i & 0xff), sizeof(buf));
		cr_assert_eq(daxfile_pread(files[i], rbuf, sizeof(rbuf), 0),
			(ssize_t)(100 + i % 900));
		cr_assert_eq(memcmp(rbuf, buf, 100 + i % 900), 0);
	}
	d = daxfile_opendir(tp.pool, "/d");
	cr_assert_not_null(d, "opendir: %s", daxfile_errormsg());
	while (daxfile_readdir(d) != NULL)
		n++;
	cr_assert_eq(n, NFILES + 2);
	TEST_OK(daxfile_closedir(d));
	for (unsigned i = 0; i < NFILES; i++)
		TEST_OK(daxfile_close(files[i]));
	test_pool_reopen(&tp);
	d = daxfile_opendir(tp.pool, "/d");
	cr_assert_not_null(d, "opendir: %s", daxfile_errormsg());
	for (n = 0; daxfile_readdir(d) != NULL; n++)
		;
	cr_assert_eq(n, NFILES + 2);
	TEST_OK(daxfile_closedir(d));
	test_pool_destroy(&tp);
}

/*
 * This test knows how the library is built, unlike the others: it relies
 * on the library taking its own structures (in-core inodes, extent maps,
 * free-space indexes, directory stream buffers, and the file, stream and pool
 * handles, which it keeps for reuse and never frees) from its private
 * jemalloc arenas.  Had any of them come from the application's malloc,
 * the handles of 2,000 files open at once, kept after they close, would
 * alone leave well over 64 KiB in use in the C library's heap.
 *
 * libpmemobj, below the library, does use the C library's malloc while a
 * pool is open, and keeps a little from its first pool for the rest of the
 * process; so a first pool is opened and closed before the measurement,
 * and the measurement is taken with no pool open.  The drift of an idle
 * period of the same length is allowed on top (the test framework may
 * allocate meanwhile).
 */
Test(malloc, library_structures_do_not_come_from_the_application_heap,
	.timeout = 60)
{
	struct test_pool warm;
	size_t idle0, idle1, before, after, allowed;
	struct timespec t0, t1;
	long ms;

	test_pool_create(&warm, "heap-warm", TEST_POOL_SIZE);
	test_pool_destroy(&warm);

	before = heap_in_use();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pool_workload();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	after = heap_in_use();

	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	idle0 = heap_in_use();
	pause_ms(ms + 1);
	idle1 = heap_in_use();
	allowed = (64 << 10) + growth(idle0, idle1);
	cr_log_info("application heap: %zu bytes before, %zu after; idle drift %zu",
		before, after, growth(idle0, idle1));
	cr_assert_lt(growth(before, after), allowed,
		"the application's heap grew by %zu bytes across a pool of %d files "
		"(allowed %zu)", growth(before, after), NFILES, allowed);
}

/* --- the application's heap while the library works ---------------------- */

#define MALLOC_THREADS 8
#define FILE_THREADS 2
#define SLOTS 48
#define RUN_SECONDS 2.0

struct shared {
	daxfile_pool *pool;
	volatile int stop;
	pthread_mutex_t lock;
	char failure[512];
	unsigned long mallocs, files;
};

struct worker {
	struct shared *s;
	unsigned id;
};

static void
record_failure(struct shared *s, const char *what, unsigned id, size_t n)
{
	pthread_mutex_lock(&s->lock);
	if (s->failure[0] == '\0')
		snprintf(s->failure, sizeof(s->failure),
			"thread %u: %s (%zu; errno %d, %s)", id, what, n, errno,
			daxfile_errormsg());
	pthread_mutex_unlock(&s->lock);
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
}

static bool
stopping(struct shared *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) != 0;
}

static uint64_t
rnd(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* rand_size -- 16 B to 1 MiB, spread evenly over the powers of two. */
static size_t
rand_size(uint64_t *rs)
{
	unsigned shift = 4 + (unsigned)(rnd(rs) % 17);
	size_t lo = (size_t)1 << shift;

	return lo + (size_t)(rnd(rs) % lo) / 2;
}

struct block {
	unsigned char *p;
	size_t n;
	unsigned char fill;
};

/* block_ok -- every byte still holds the fill, the size at the start. */
static bool
block_ok(const struct block *b)
{
	size_t n;

	memcpy(&n, b->p, sizeof(n));
	if (n != b->n)
		return false;
	for (size_t i = sizeof(n); i < b->n; i++)
		if (b->p[i] != b->fill)
			return false;
	return true;
}

static void *
malloc_worker(void *p)
{
	struct worker *w = p;
	struct shared *s = w->s;
	struct block blocks[SLOTS];
	uint64_t rs = 1000 + w->id;

	memset(blocks, 0, sizeof(blocks));
	while (!stopping(s)) {
		struct block *b = &blocks[rnd(&rs) % SLOTS];

		if (b->p != NULL) {
			if (!block_ok(b)) {
				record_failure(s, "a block changed under the application",
					w->id, b->n);
				break;
			}
			free(b->p);
		}
		b->n = rand_size(&rs);
		b->fill = (unsigned char)rnd(&rs);
		b->p = malloc(b->n);
		if (b->p == NULL) {
			record_failure(s, "malloc failed", w->id, b->n);
			break;
		}
		memcpy(b->p, &b->n, sizeof(b->n));
		memset(b->p + sizeof(b->n), b->fill, b->n - sizeof(b->n));
		__atomic_fetch_add(&s->mallocs, 1, __ATOMIC_RELAXED);
	}
	for (unsigned i = 0; i < SLOTS; i++) {
		if (blocks[i].p != NULL && !block_ok(&blocks[i]))
			record_failure(s, "a block changed under the application",
				w->id, blocks[i].n);
		free(blocks[i].p);
	}
	return NULL;
}

/* file_worker -- create, write, read back and unlink files in /tN. */
static void *
file_worker(void *p)
{
	struct worker *w = p;
	struct shared *s = w->s;
	unsigned char *wbuf = malloc(65536), *rbuf = malloc(65536);
	uint64_t rs = 2000 + w->id;
	unsigned long count = 0;
	char path[64];

	if (wbuf == NULL || rbuf == NULL) {
		record_failure(s, "malloc failed", w->id, 65536);
		goto out;
	}
	while (!stopping(s)) {
		size_t n = (size_t)(rnd(&rs) % 65536) + 1;
		daxfile_file *f;

		snprintf(path, sizeof(path), "/t%u/f%lu", w->id, count % 16);
		memset(wbuf, (int)(rnd(&rs) & 0xff), n);
		f = daxfile_open(s->pool, path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (f == NULL) {
			record_failure(s, "open", w->id, count);
			break;
		}
		if (daxfile_pwrite(f, wbuf, n, 0) != (ssize_t)n ||
		    daxfile_pread(f, rbuf, 65536, 0) != (ssize_t)n ||
		    memcmp(wbuf, rbuf, n) != 0) {
			record_failure(s, "write and read back", w->id, n);
			daxfile_close(f);
			break;
		}
		if (daxfile_close(f) != 0) {
			record_failure(s, "close", w->id, count);
			break;
		}
		if (count % 3 == 0 && daxfile_unlink(s->pool, path) != 0) {
			record_failure(s, "unlink", w->id, count);
			break;
		}
		count++;
		__atomic_fetch_add(&s->files, 1, __ATOMIC_RELAXED);
	}
out:
	free(wbuf);
	free(rbuf);
	return NULL;
}

Test(malloc, application_malloc_works_while_other_threads_use_the_library,
	.timeout = 60)
{
	struct test_pool tp;
	struct shared s;
	struct worker w[MALLOC_THREADS + FILE_THREADS];
	pthread_t t[MALLOC_THREADS + FILE_THREADS];
	struct statvfs empty, end;
	char path[64];

	memset(&s, 0, sizeof(s));
	pthread_mutex_init(&s.lock, NULL);
	test_pool_create(&tp, "heap-threads", TEST_POOL_SIZE);
	s.pool = tp.pool;
	TEST_OK(daxfile_statvfs(tp.pool, &empty));
	for (unsigned i = 0; i < FILE_THREADS; i++) {
		snprintf(path, sizeof(path), "/t%u", MALLOC_THREADS + i);
		TEST_OK(daxfile_mkdir(tp.pool, path, 0755));
	}
	for (unsigned i = 0; i < MALLOC_THREADS + FILE_THREADS; i++) {
		w[i].s = &s;
		w[i].id = i;
		cr_assert_eq(pthread_create(&t[i], NULL, i < MALLOC_THREADS ?
			malloc_worker : file_worker, &w[i]), 0);
	}
	pause_ms((long)(RUN_SECONDS * 1000));
	/* a slow build (a sanitizer, a loaded machine) runs on, up to 40 s,
	   until both sides have done enough to mean something */
	for (int i = 0; i < 380 && (__atomic_load_n(&s.mallocs,
	     __ATOMIC_RELAXED) <= 1000 || __atomic_load_n(&s.files,
	     __ATOMIC_RELAXED) <= 50) && s.failure[0] == '\0'; i++)
		pause_ms(100);
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < MALLOC_THREADS + FILE_THREADS; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
	cr_assert(s.failure[0] == '\0', "%s", s.failure);
	cr_assert_gt(s.mallocs, 1000, "only %lu mallocs", s.mallocs);
	cr_assert_gt(s.files, 50, "only %lu files", s.files);
	cr_log_info("%lu mallocs and %lu files", s.mallocs, s.files);

	/* the files left over are whole too, and removing them frees all */
	for (unsigned i = 0; i < FILE_THREADS; i++) {
		for (unsigned k = 0; k < 16; k++) {
			struct stat st;

			snprintf(path, sizeof(path), "/t%u/f%u", MALLOC_THREADS + i,
				k);
			if (daxfile_stat(tp.pool, path, &st) != 0) {
				cr_assert_eq(errno, ENOENT, "stat %s: %s", path,
					daxfile_errormsg());
				continue;
			}
			cr_assert_gt(st.st_size, 0, "%s is empty", path);
			TEST_OK(daxfile_unlink(tp.pool, path));
		}
		snprintf(path, sizeof(path), "/t%u", MALLOC_THREADS + i);
		TEST_OK(daxfile_rmdir(tp.pool, path));
	}
	TEST_OK(daxfile_statvfs(tp.pool, &end));
	cr_assert_eq(end.f_bfree, empty.f_bfree);
	test_pool_destroy(&tp);
	pthread_mutex_destroy(&s.lock);
}

/* --- whose malloc ---------------------------------------------------------- */

/* provider -- the file name of the object that defines 'fn'. */
static const char *
provider(void *fn, const char *name)
{
	Dl_info info;

	cr_assert_neq(dladdr(fn, &info), 0, "dladdr(%s) finds nothing", name);
	cr_assert_not_null(info.dli_fname, "dladdr(%s) gives no file", name);
	return info.dli_fname;
}

/*
 * The program's allocator is whatever it was before the library loaded:
 * the C library's, or a sanitizer's runtime in a sanitized build; never
 * jemalloc, which the library uses only through its own entry points.
 */
Test(malloc, the_application_malloc_is_still_its_own)
{
	struct {
		const char *name;
		void *addr;
	} fns[] = {
		{"malloc", (void *)malloc},
		{"free", (void *)free},
		{"calloc", (void *)calloc},
		{"realloc", (void *)realloc},
		{"posix_memalign", (void *)posix_memalign},
	};
	struct test_pool tp;

	/* with a pool open, so that everything the library loads is in */
	test_pool_create(&tp, "heap-dladdr", TEST_POOL_SIZE);
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		const char *file = provider(fns[i].addr, fns[i].name);
		void *global = dlsym(RTLD_DEFAULT, fns[i].name);

		cr_assert(strstr(file, "libc.so") != NULL ||
			strstr(file, "libasan.so") != NULL ||
			strstr(file, "libtsan.so") != NULL,
			"%s comes from %s, not from the C library", fns[i].name,
			file);
		cr_assert(strstr(file, "jemalloc") == NULL,
			"%s comes from %s", fns[i].name, file);
		cr_assert_eq(global, fns[i].addr,
			"the global symbol %s is not the one the program calls",
			fns[i].name);
	}
	test_pool_destroy(&tp);
}
