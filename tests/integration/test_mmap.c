/*
 * test_mmap.c -- the mapping contract of daxfile_mmap, daxfile_munmap and
 * daxfile_msync, one rule per test: coherence between shared mappings and
 * pread/pwrite in both directions; msync; MAP_SYNC with MAP_SHARED_VALIDATE
 * and EOPNOTSUPP for unknown flags under it; every errno of mmap, munmap and
 * msync; holes reading zero and stores to holes allocating (and, in a full
 * pool, giving SIGBUS rather than hanging, and working once space is back);
 * SIGBUS
 * (BUS_ADRERR, exact si_addr) past EOF, zeros past EOF in the page holding
 * it, and pages that work again once the file grows; mapped writes against
 * truncate down/up compared with a model (as xfstests generic/029 and 030);
 * punch hole, zero range, collapse and insert range under a live mapping,
 * and punched ranges that join up; windows installed around a fault,
 * untouched, under punch, pwrite and truncate; MAP_PRIVATE copy-on-fault; mappings
 * outliving daxfile_close (and unlink, until the last munmap frees the
 * blocks) and keeping the pool busy; partial munmap; MAP_FIXED over part of
 * a mapping; nonzero offsets; two mappings of one file; a 64 MiB mapping;
 * fork (the child has no access); accesses the kernel makes on behalf of
 * write(2) and read(2) on a pipe; and pread/pwrite whose buffer is a
 * mapping of the same file.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daxfile.h"
#include "testpool.h"
#include "testutil.h"
#include "testmap.h"

#define PG ((size_t)4096)
#define KIB ((size_t)1024)
#define MIB ((size_t)1024 * 1024)
#define RW (PROT_READ | PROT_WRITE)

#define MIN_SZ(a, b) ((size_t)(a) < (size_t)(b) ? (size_t)(a) : (size_t)(b))
#define MAX_SZ(a, b) ((size_t)(a) > (size_t)(b) ? (size_t)(a) : (size_t)(b))

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

/* --- patterns ------------------------------------------------------------- */

/* pat_diff -- the first index where buf differs from the pattern, or -1. */
static long
pat_diff(const void *buf, uint64_t off, size_t n, unsigned seed)
{
	const unsigned char *b = buf;

	for (size_t i = 0; i < n; i++)
		if (b[i] != pat(off + i, seed))
			return (long)i;
	return -1;
}

/* zero_diff -- the first nonzero index, or -1. */
static long
zero_diff(const void *buf, size_t n)
{
	const unsigned char *b = buf;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return (long)i;
	return -1;
}

/* mem_diff -- the first index where a and b differ, or -1. */
static long
mem_diff(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	if (memcmp(a, b, n) == 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return (long)i;
	return -1;
}

/* --- file helpers --------------------------------------------------------- */

static void
xpwrite(daxfile_file *f, const void *buf, size_t n, uint64_t off)
{
	ssize_t r = daxfile_pwrite(f, buf, n, (off_t)off);

	cr_assert_eq(r, (ssize_t)n, "pwrite %zu at %lu: %zd, %s (%s)", n,
		(unsigned long)off, r, strerror(errno), daxfile_errormsg());
}

static void
xpread(daxfile_file *f, void *buf, size_t n, uint64_t off)
{
	ssize_t r = daxfile_pread(f, buf, n, (off_t)off);

	cr_assert_eq(r, (ssize_t)n, "pread %zu at %lu: %zd, %s (%s)", n,
		(unsigned long)off, r, strerror(errno), daxfile_errormsg());
}

static void
pwrite_pat(daxfile_file *f, uint64_t off, size_t n, unsigned seed)
{
	unsigned char *b = malloc(n);

	cr_assert_not_null(b);
	fill(b, n, off, seed);
	xpwrite(f, b, n, off);
	free(b);
}

/* pread_pat -- assert that the file holds pattern 'seed' at [off, off+n). */
static void
pread_pat(daxfile_file *f, uint64_t off, size_t n, unsigned seed)
{
	unsigned char *b = malloc(n);
	long d;

	cr_assert_not_null(b);
	xpread(f, b, n, off);
	d = pat_diff(b, off, n, seed);
	cr_assert_eq(d, -1, "pread: byte at %lu is %#x, expected %#x",
		(unsigned long)(off + (uint64_t)d), b[d], pat(off + (uint64_t)d, seed));
	free(b);
}

static void
pread_zero(daxfile_file *f, uint64_t off, size_t n)
{
	unsigned char *b = malloc(n);
	long d;

	cr_assert_not_null(b);
	xpread(f, b, n, off);
	d = zero_diff(b, n);
	cr_assert_eq(d, -1, "pread: byte at %lu is %#x, expected 0",
		(unsigned long)(off + (uint64_t)d), b[d]);
	free(b);
}

static void
xtruncate(daxfile_file *f, uint64_t size)
{
	TEST_OK(daxfile_ftruncate(f, (off_t)size));
}

static void
xfallocate(daxfile_file *f, int mode, uint64_t off, uint64_t len)
{
	TEST_OK(daxfile_fallocate(f, mode, (off_t)off, (off_t)len));
}

/* map_pat -- assert that the mapping holds pattern 'seed' of file offset off. */
static void
map_pat(const unsigned char *p, uint64_t off, size_t n, unsigned seed)
{
	long d = pat_diff(p, off, n, seed);

	cr_assert_eq(d, -1, "mapping: byte of file offset %lu is %#x, expected %#x",
		(unsigned long)(off + (uint64_t)d), p[d], pat(off + (uint64_t)d, seed));
}

static void
map_zero(const unsigned char *p, uint64_t off, size_t n)
{
	long d = zero_diff(p, n);

	cr_assert_eq(d, -1, "mapping: byte of file offset %lu is %#x, expected 0",
		(unsigned long)(off + (uint64_t)d), p[d]);
}

/* assert_sigbus -- an access at p gives SIGBUS, BUS_ADRERR, si_addr == p. */
static void
assert_sigbus(unsigned char *p, bool store)
{
	unsigned char c = 0;
	int sig = probe(p, store, 0x77, &c);

	cr_assert_eq(sig, SIGBUS, "%s at %p: signal %d, expected SIGBUS (%d)",
		store ? "store" : "load", (void *)p, sig, SIGBUS);
	cr_assert_eq(probe_code, BUS_ADRERR,
		"%s at %p: si_code %d, expected BUS_ADRERR (%d)",
		store ? "store" : "load", (void *)p, probe_code, BUS_ADRERR);
	cr_assert_eq(probe_addr, (void *)p, "si_addr %p, expected %p",
		probe_addr, (void *)p);
}

/* assert_access -- a load and a store of the same byte at p work. */
static void
assert_access(unsigned char *p)
{
	unsigned char c = 0;
	int sig = probe(p, false, 0, &c);

	cr_assert_eq(sig, 0, "load at %p raised signal %d", (void *)p, sig);
	sig = probe(p, true, c, NULL);
	cr_assert_eq(sig, 0, "store at %p raised signal %d", (void *)p, sig);
}

/* --- coherence ------------------------------------------------------------ */

Test(mmap, pwrite_is_seen_at_once_through_a_shared_mapping)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 3 * MIB, 1);
	m = xmap(3 * MIB, RW, MAP_SHARED, f, 0);
	map_pat(m, 0, 3 * MIB, 1);

	/* touched pages, unaligned ranges, across the 2 MiB boundary */
	pwrite_pat(f, 3 * PG + 100, 10000, 2);
	map_pat(m + 3 * PG + 100, 3 * PG + 100, 10000, 2);
	map_pat(m, 0, 3 * PG + 100, 1);
	pwrite_pat(f, 2 * MIB - 5000, 12000, 3);
	map_pat(m + 2 * MIB - 5000, 2 * MIB - 5000, 12000, 3);
	/* a single byte */
	xpwrite(f, "\xa5", 1, MIB + 7);
	cr_assert_eq(m[MIB + 7], 0xa5);

	xunmap(m, 3 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, a_store_through_a_shared_mapping_is_seen_at_once_by_pread)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m, c;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 3 * MIB, 1);
	m = xmap(3 * MIB, RW, MAP_SHARED, f, 0);

	m[12345] = 0x5c;
	xpread(f, &c, 1, 12345);
	cr_assert_eq(c, 0x5c, "pread after one store: %#x", c);
	fill(m + PG + 17, 3 * PG, PG + 17, 4);
	pread_pat(f, PG + 17, 3 * PG, 4);
	fill(m + 2 * MIB - 3 * PG, 6 * PG, 2 * MIB - 3 * PG, 5);
	pread_pat(f, 2 * MIB - 3 * PG, 6 * PG, 5);
	pread_pat(f, 2 * MIB + 3 * PG, MIB - 3 * PG, 1);

	xunmap(m, 3 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- msync ---------------------------------------------------------------- */

Test(mmap, msync_of_a_mapping_returns_zero_and_the_stores_survive_a_reopen)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, MIB, 1);
	xtruncate(f, 3 * MIB);
	m = xmap(3 * MIB, RW, MAP_SHARED, f, 0);
	fill(m + 100, 50000, 100, 6);
	fill(m + 2 * MIB + 8, 3 * PG, 2 * MIB + 8, 7);	/* into a hole */

	TEST_OK(daxfile_msync(m, 3 * MIB, MS_SYNC));
	TEST_OK(daxfile_msync(m + PG, 2 * PG, MS_ASYNC));
	TEST_OK(daxfile_msync(m, 100, MS_SYNC));		/* partial page */
	TEST_OK(daxfile_msync(m + 2 * MIB, PG, MS_INVALIDATE));
	TEST_OK(daxfile_msync(m, MIB, MS_SYNC | MS_INVALIDATE));
	TEST_OK(daxfile_msync(m, 0, MS_SYNC));
	TEST_OK(daxfile_msync(m + 3 * MIB - PG, PG, 0));

	xunmap(m, 3 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/f", O_RDONLY);
	pread_pat(f, 0, 100, 1);
	pread_pat(f, 100, 50000, 6);
	pread_pat(f, 50100, MIB - 50100, 1);
	pread_zero(f, MIB, MIB + 8);
	pread_pat(f, 2 * MIB + 8, 3 * PG, 7);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, msync_with_bad_flags_or_an_unaligned_address_or_an_unmapped_range_fails)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m;
	void *anon;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 4 * PG, 1);
	m = xmap(4 * PG, RW, MAP_SHARED, f, 0);

	TEST_FAILS(daxfile_msync(m, PG, MS_SYNC | MS_ASYNC), -1, EINVAL);
	assert_errormsg();
	TEST_FAILS(daxfile_msync(m + 1, PG, MS_SYNC), -1, EINVAL);
	assert_errormsg();
	TEST_FAILS(daxfile_msync(m + PG + 2048, PG, MS_ASYNC), -1, EINVAL);
	TEST_FAILS(daxfile_msync(m, PG, 0x100), -1, EINVAL);
	assert_errormsg();

	/* memory that daxfile_mmap did not map */
	anon = mmap(NULL, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(anon, MAP_FAILED);
	TEST_FAILS(daxfile_msync(anon, PG, MS_SYNC), -1, ENOMEM);
	assert_errormsg();
	munmap(anon, 4 * PG);
	/* a range running past the end of the mapping */
	TEST_FAILS(daxfile_msync(m + 2 * PG, 4 * PG, MS_SYNC), -1, ENOMEM);
	TEST_OK(daxfile_msync(m, 4 * PG, MS_SYNC));

	/* after munmap */
	xunmap(m, 4 * PG);
	TEST_FAILS(daxfile_msync(m, PG, MS_SYNC), -1, ENOMEM);

	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- MAP_SYNC and MAP_SHARED_VALIDATE ------------------------------------- */

Test(mmap, map_sync_with_map_shared_validate_maps_the_file_coherently)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m;
	struct stat st0, st1;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 8 * PG, 1);
	xtruncate(f, 16 * PG);
	/* a real hole: no blocks preallocated past the old EOF */
	xfallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8 * PG, 8 * PG);
	st0 = xfstat(f);
	m = xmap(16 * PG, RW, MAP_SHARED_VALIDATE | MAP_SYNC, f, 0);
	map_pat(m, 0, 8 * PG, 1);
	map_zero(m + 8 * PG, 8 * PG, 8 * PG);

	fill(m + 3 * PG, 2 * PG, 3 * PG, 2);
	pread_pat(f, 3 * PG, 2 * PG, 2);
	fill(m + 10 * PG, PG, 10 * PG, 3);	/* a store to a hole */
	pread_pat(f, 10 * PG, PG, 3);
	st1 = xfstat(f);
	cr_assert_gt(st1.st_blocks, st0.st_blocks,
		"st_blocks %ld -> %ld after a MAP_SYNC store to a hole",
		(long)st0.st_blocks, (long)st1.st_blocks);
	pwrite_pat(f, 12 * PG, PG, 4);
	map_pat(m + 12 * PG, 12 * PG, PG, 4);
	TEST_OK(daxfile_msync(m, 16 * PG, MS_SYNC));

	xunmap(m, 16 * PG);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, map_shared_validate_with_an_unknown_flag_gives_eopnotsupp_and_map_shared_ignores_it)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m;
	void *p;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 4 * PG, 1);

	errno = 0;
	p = daxfile_mmap(NULL, 4 * PG, RW, MAP_SHARED_VALIDATE | 0x20000000, f, 0);
	cr_assert_eq(p, MAP_FAILED, "MAP_SHARED_VALIDATE with 0x20000000 mapped");
	cr_assert_eq(errno, EOPNOTSUPP, "errno %d (%s), expected EOPNOTSUPP",
		errno, strerror(errno));
	assert_errormsg();
	errno = 0;
	p = daxfile_mmap(NULL, 4 * PG, PROT_READ,
		MAP_SHARED_VALIDATE | MAP_SYNC | 0x20000000, f, 0);
	cr_assert_eq(p, MAP_FAILED);
	cr_assert_eq(errno, EOPNOTSUPP, "errno %d (%s), expected EOPNOTSUPP",
		errno, strerror(errno));

	m = xmap(4 * PG, RW, MAP_SHARED | 0x20000000, f, 0);
	map_pat(m, 0, 4 * PG, 1);
	m[5] = 0x11;
	fill(m + 5, 1, 5, 9);
	pread_pat(f, 5, 1, 9);
	xunmap(m, 4 * PG);

	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- errors of mmap and munmap -------------------------------------------- */

Test(mmap, a_shared_writable_mapping_of_a_read_only_handle_gives_eacces)
{
	struct test_pool tp;
	daxfile_file *f, *ro;
	unsigned char *m;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 4 * PG, 1);
	ro = xopen(tp.pool, "/f", O_RDONLY);

	TEST_FAILS(daxfile_mmap(NULL, 4 * PG, RW, MAP_SHARED, ro, 0), MAP_FAILED,
		EACCES);
	assert_errormsg();
	TEST_FAILS(daxfile_mmap(NULL, 4 * PG, PROT_WRITE, MAP_SHARED_VALIDATE |
		MAP_SYNC, ro, 0), MAP_FAILED, EACCES);

	/* reading is fine, and a private writable mapping too */
	m = xmap(4 * PG, PROT_READ, MAP_SHARED, ro, 0);
	map_pat(m, 0, 4 * PG, 1);
	xunmap(m, 4 * PG);
	m = xmap(4 * PG, RW, MAP_PRIVATE, ro, 0);
	m[0] = (unsigned char)~pat(0, 1);
	pread_pat(f, 0, 4 * PG, 1);
	xunmap(m, 4 * PG);

	TEST_OK(daxfile_close(ro));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, any_mapping_of_a_write_only_handle_gives_eacces)
{
	struct test_pool tp;
	daxfile_file *f;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_WRONLY | O_CREAT);
	pwrite_pat(f, 0, 4 * PG, 1);

	TEST_FAILS(daxfile_mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, f, 0),
		MAP_FAILED, EACCES);
	assert_errormsg();
	TEST_FAILS(daxfile_mmap(NULL, 4 * PG, RW, MAP_SHARED, f, 0), MAP_FAILED,
		EACCES);
	TEST_FAILS(daxfile_mmap(NULL, 4 * PG, PROT_WRITE, MAP_SHARED, f, 0),
		MAP_FAILED, EACCES);
	TEST_FAILS(daxfile_mmap(NULL, 4 * PG, PROT_READ, MAP_PRIVATE, f, 0),
		MAP_FAILED, EACCES);
	TEST_FAILS(daxfile_mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED_VALIDATE, f, 0),
		MAP_FAILED, EACCES);

	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, an_offset_that_is_not_a_multiple_of_4096_gives_einval)
{
	struct test_pool tp;
	daxfile_file *f;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 4 * PG, 1);

	TEST_FAILS(daxfile_mmap(NULL, PG, PROT_READ, MAP_SHARED, f, 1), MAP_FAILED,
		EINVAL);
	assert_errormsg();
	TEST_FAILS(daxfile_mmap(NULL, PG, PROT_READ, MAP_SHARED, f, 2048),
		MAP_FAILED, EINVAL);
	TEST_FAILS(daxfile_mmap(NULL, PG, RW, MAP_PRIVATE, f, PG + 512),
		MAP_FAILED, EINVAL);

	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, a_length_of_zero_gives_einval)
{
	struct test_pool tp;
	daxfile_file *f;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 4 * PG, 1);

	TEST_FAILS(daxfile_mmap(NULL, 0, PROT_READ, MAP_SHARED, f, 0), MAP_FAILED,
		EINVAL);
	assert_errormsg();
	TEST_FAILS(daxfile_mmap(NULL, 0, RW, MAP_PRIVATE, f, PG), MAP_FAILED,
		EINVAL);

	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, flags_without_map_shared_or_map_private_give_einval)
{
	struct test_pool tp;
	daxfile_file *f;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 4 * PG, 1);

	TEST_FAILS(daxfile_mmap(NULL, PG, PROT_READ, 0, f, 0), MAP_FAILED, EINVAL);
	assert_errormsg();
	TEST_FAILS(daxfile_mmap(NULL, PG, PROT_READ, MAP_NORESERVE, f, 0),
		MAP_FAILED, EINVAL);
	TEST_FAILS(daxfile_mmap(NULL, PG, PROT_READ, MAP_POPULATE, f, 0),
		MAP_FAILED, EINVAL);

	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, map_fixed_with_an_unaligned_address_gives_einval_and_an_aligned_one_works)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *hint, *m;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 4 * PG, 1);
	hint = mmap(NULL, 8 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(hint, MAP_FAILED);

	TEST_FAILS(daxfile_mmap(hint + 1, 4 * PG, RW, MAP_SHARED | MAP_FIXED, f,
		0), MAP_FAILED, EINVAL);
	assert_errormsg();
	TEST_FAILS(daxfile_mmap(hint + 100, 4 * PG, PROT_READ, MAP_PRIVATE |
		MAP_FIXED, f, 0), MAP_FAILED, EINVAL);

	m = daxfile_mmap(hint + 2 * PG, 4 * PG, RW, MAP_SHARED | MAP_FIXED, f, 0);
	cr_assert_eq(m, hint + 2 * PG, "MAP_FIXED mapped at %p, asked %p",
		(void *)m, (void *)(hint + 2 * PG));
	map_pat(m, 0, 4 * PG, 1);
	fill(m + PG, 10, PG, 2);
	pread_pat(f, PG, 10, 2);
	xunmap(m, 4 * PG);
	munmap(hint, 8 * PG);

	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, a_closed_or_null_handle_gives_ebadf)
{
	struct test_pool tp;
	daxfile_file *f;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 4 * PG, 1);
	TEST_OK(daxfile_close(f));

	TEST_FAILS(daxfile_mmap(NULL, PG, PROT_READ, MAP_SHARED, f, 0), MAP_FAILED,
		EBADF);
	assert_errormsg();
	TEST_FAILS(daxfile_mmap(NULL, PG, RW, MAP_PRIVATE, f, 0), MAP_FAILED,
		EBADF);
	TEST_FAILS(daxfile_mmap(NULL, PG, PROT_READ, MAP_SHARED, NULL, 0),
		MAP_FAILED, EBADF);
	assert_errormsg();

	test_pool_destroy(&tp);
}

Test(mmap, a_directory_handle_gives_enodev)
{
	struct test_pool tp;
	daxfile_file *d;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	d = xopen(tp.pool, "/d", O_RDONLY | O_DIRECTORY);

	TEST_FAILS(daxfile_mmap(NULL, PG, PROT_READ, MAP_SHARED, d, 0), MAP_FAILED,
		ENODEV);
	assert_errormsg();
	TEST_FAILS(daxfile_mmap(NULL, PG, PROT_READ, MAP_PRIVATE, d, 0),
		MAP_FAILED, ENODEV);
	TEST_OK(daxfile_close(d));
	d = xopen(tp.pool, "/", O_RDONLY);
	TEST_FAILS(daxfile_mmap(NULL, PG, PROT_READ, MAP_SHARED, d, 0), MAP_FAILED,
		ENODEV);
	TEST_OK(daxfile_close(d));
	test_pool_destroy(&tp);
}

Test(mmap, munmap_with_an_unaligned_address_or_a_length_of_zero_gives_einval)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 4 * PG, 1);
	m = xmap(4 * PG, RW, MAP_SHARED, f, 0);

	TEST_FAILS(daxfile_munmap(m + 1, PG), -1, EINVAL);
	assert_errormsg();
	TEST_FAILS(daxfile_munmap(m + 2048, PG), -1, EINVAL);
	TEST_FAILS(daxfile_munmap(m, 0), -1, EINVAL);
	assert_errormsg();
	/* the failed calls unmapped nothing */
	map_pat(m, 0, 4 * PG, 1);
	m[10] = 0x3c;
	fill(m + 10, 1, 10, 8);
	pread_pat(f, 10, 1, 8);

	xunmap(m, 4 * PG);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- holes ---------------------------------------------------------------- */

Test(mmap, holes_and_preallocated_ranges_read_zero_through_a_mapping)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m;
	struct stat st0, st1;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	xtruncate(f, 4 * MIB);
	pwrite_pat(f, MIB + 100, 5000, 1);
	xfallocate(f, FALLOC_FL_KEEP_SIZE, 3 * MIB, 256 * KIB);
	st0 = xfstat(f);
	m = xmap(4 * MIB, PROT_READ, MAP_SHARED, f, 0);

	map_zero(m, 0, MIB + 100);
	map_pat(m + MIB + 100, MIB + 100, 5000, 1);
	map_zero(m + MIB + 5100, MIB + 5100, 3 * MIB - 5100);
	st1 = xfstat(f);
	cr_assert_eq(st1.st_blocks, st0.st_blocks,
		"reading holes changed st_blocks %ld -> %ld", (long)st0.st_blocks,
		(long)st1.st_blocks);

	xunmap(m, 4 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, a_store_to_a_hole_allocates_blocks_and_pread_sees_it)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m;
	struct stat st0, st1, st2;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	xtruncate(f, 4 * MIB);
	xfallocate(f, FALLOC_FL_KEEP_SIZE, 3 * MIB, 64 * KIB);
	st0 = xfstat(f);
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_DATA), (off_t)-1);
	m = xmap(4 * MIB, RW, MAP_SHARED, f, 0);

	/* read first (zero page), then store */
	cr_assert_eq(m[5 * PG + 3], 0);
	m[5 * PG + 3] = 0xd7;
	st1 = xfstat(f);
	cr_assert_gt(st1.st_blocks, st0.st_blocks,
		"a store to a hole left st_blocks at %ld", (long)st1.st_blocks);
	{
		unsigned char b[PG];

		xpread(f, b, PG, 5 * PG);
		cr_assert_eq(b[3], 0xd7, "pread after a store to a hole: %#x", b[3]);
		b[3] = 0;
		cr_assert_eq(zero_diff(b, PG), -1, "the rest of the block is not zero");
	}
	cr_assert_geq(daxfile_lseek(f, 0, SEEK_DATA), 0);
	cr_assert_leq(daxfile_lseek(f, 0, SEEK_DATA), (off_t)(5 * PG));

	/* a store into a never-touched hole page of another window */
	fill(m + 2 * MIB + 7 * PG, 100, 2 * MIB + 7 * PG, 2);
	pread_pat(f, 2 * MIB + 7 * PG, 100, 2);
	/* a store into a preallocated (unwritten) range */
	fill(m + 3 * MIB + PG, 64, 3 * MIB + PG, 3);
	pread_pat(f, 3 * MIB + PG, 64, 3);
	pread_zero(f, 3 * MIB, PG);
	st2 = xfstat(f);
	cr_assert_gt(st2.st_blocks, st1.st_blocks);
	map_zero(m + 3 * MIB, 3 * MIB, PG);
	map_zero(m + 3 * MIB + PG + 64, 3 * MIB + PG + 64, PG);

	xunmap(m, 4 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* A store made by a thread of its own, so that a stuck fault cannot hang the test. */
struct store_job {
	unsigned char *p;
	int sig;
	int code;
};

static void *
store_main(void *arg)
{
	struct store_job *j = arg;

	j->sig = probe(j->p, true, 0x5d, NULL);
	j->code = probe_code;
	return NULL;
}

/*
 * timed_store -- store a byte at p from another thread: 0 or the signal it
 * raised; -1 if it had not returned after 3 s.  The library's complaints
 * meanwhile go to /dev/null.
 */
static int
timed_store(unsigned char *p)
{
	struct store_job j = {p, -1, 0};
	struct timespec ts;
	pthread_t t;
	int err, fd2 = dup(2), null = open("/dev/null", O_WRONLY);

	cr_assert(fd2 >= 0 && null >= 0);
	dup2(null, 2);
	cr_assert_eq(pthread_create(&t, NULL, store_main, &j), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 3;
	err = pthread_timedjoin_np(t, NULL, &ts);
	dup2(fd2, 2);
	close(fd2);
	close(null);
	if (err != 0)
		return -1;
	cr_assert(j.sig != SIGBUS || j.code == BUS_ADRERR,
		"SIGBUS with si_code %d", j.code);
	return j.sig;
}

Test(mmap, a_store_to_a_hole_of_a_full_pool_gives_sigbus_and_works_once_space_is_free)
{
	struct test_pool tp;
	daxfile_file *f, *g;
	unsigned char *m, *b = malloc(MIB), c;
	uint64_t off = 0;
	int sig;

	cr_assert_not_null(b);
	probe_install();
	test_pool_create(&tp, "mmap", 32 * MIB);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	xtruncate(f, 4 * MIB);
	m = xmap(4 * MIB, RW, MAP_SHARED, f, 0);
	cr_assert_eq(m[5 * PG], 0);	/* read first: a zero page */

	/* fill the pool */
	g = xopen(tp.pool, "/fill", O_RDWR | O_CREAT);
	memset(b, 0x11, MIB);
	for (size_t n = MIB; n >= PG; n /= 2)
		while (daxfile_pwrite(g, b, n, (off_t)off) == (ssize_t)n)
			off += n;
	cr_assert_eq(errno, ENOSPC, "filling the pool: %s", strerror(errno));

	/* a store to the zero page, and to a never-touched hole page */
	sig = timed_store(m + 5 * PG);
	cr_assert_neq(sig, -1, "a store to a hole page read before, in a full "
		"pool, did not return within 3 s");
	cr_assert_eq(sig, SIGBUS, "a store to a hole page read before, in a "
		"full pool: signal %d, expected SIGBUS", sig);
	sig = timed_store(m + 3 * MIB);
	cr_assert_neq(sig, -1, "a store to an untouched hole page in a full pool "
		"did not return within 3 s");
	cr_assert_eq(sig, SIGBUS, "a store to an untouched hole page in a full "
		"pool: signal %d, expected SIGBUS", sig);

	/*
	 * Space again: the pages are holes, which read zero, and stores work,
	 * as they do after a DAX fault failed for want of space.
	 */
	TEST_OK(daxfile_close(g));
	TEST_OK(daxfile_unlink(tp.pool, "/fill"));
	c = 0xff;
	sig = probe(m + 5 * PG, false, 0, &c);
	cr_assert(sig == 0 && c == 0, "a load from the first page after space "
		"was freed: signal %d, byte %#x", sig, c);
	c = 0xff;
	sig = probe(m + 3 * MIB, false, 0, &c);
	cr_assert(sig == 0 && c == 0, "a load from the second page after space "
		"was freed: signal %d, byte %#x", sig, c);
	sig = timed_store(m + 5 * PG);
	cr_assert_eq(sig, 0, "a store to the first page after space was freed: "
		"signal %d", sig);
	sig = timed_store(m + 3 * MIB);
	cr_assert_eq(sig, 0, "a store to the second page after space was freed: "
		"signal %d", sig);
	xpread(f, &c, 1, 5 * PG);
	cr_assert_eq(c, 0x5d);
	xpread(f, &c, 1, 3 * MIB);
	cr_assert_eq(c, 0x5d);

	xunmap(m, 4 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
	free(b);
}

/* --- EOF ------------------------------------------------------------------ */

Test(mmap, a_page_past_eof_gives_sigbus_at_the_exact_address_and_the_eof_page_reads_zero_past_eof)
{
	struct test_pool tp;
	daxfile_file *f, *g;
	unsigned char *m, *e;

	probe_install();
	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 10000, 1);
	m = xmap(4 * MIB, RW, MAP_SHARED, f, 0);

	/* the page holding EOF (page 2) */
	map_pat(m, 0, 10000, 1);
	map_zero(m + 10000, 10000, 3 * PG - 10000);
	/* pages wholly past EOF: loads and stores, the next page and far away */
	assert_sigbus(m + 3 * PG, false);
	assert_sigbus(m + 3 * PG + 123, false);
	assert_sigbus(m + 4 * PG + 4095, true);
	assert_sigbus(m + 3 * MIB + 77, false);
	assert_sigbus(m + 3 * MIB + 78, true);
	/* still so on a second touch, and nothing reached the file */
	assert_sigbus(m + 3 * PG + 5, false);
	cr_assert_eq(xfstat(f).st_size, 10000);
	pread_pat(f, 0, 10000, 1);

	/* an empty file: its first page is past EOF */
	g = xopen(tp.pool, "/empty", O_RDWR | O_CREAT);
	e = xmap(2 * PG, PROT_READ, MAP_SHARED, g, 0);
	assert_sigbus(e, false);
	assert_sigbus(e + PG + 9, false);
	xunmap(e, 2 * PG);
	TEST_OK(daxfile_close(g));

	xunmap(m, 4 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/*
 * eof_junk_then -- write 'size' bytes, store 'X' past EOF through a mapping
 * of the page holding EOF (POSIX allows the store; it must never become
 * file data), unmap, run 'mode' at [off, off+len), then map the new page
 * holding EOF: every byte past EOF reads zero, as on XFS and ext4.
 */
static void
eof_junk_then(int mode, uint64_t size, uint64_t off, uint64_t len)
{
	struct test_pool tp;
	uint64_t pg = size & ~(uint64_t)(PG - 1), nsize, npg;
	unsigned char *m;
	daxfile_file *f;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, size, 3);
	m = xmap(PG, RW, MAP_SHARED, f, pg);
	memset(m + (size - pg), 'X', PG - (size - pg));
	xunmap(m, PG);
	pread_pat(f, 0, size, 3);

	xfallocate(f, mode, off, len);
	nsize = mode == FALLOC_FL_INSERT_RANGE ? size + len : size - len;
	cr_assert_eq(xfstat(f).st_size, (off_t)nsize);
	npg = nsize & ~(uint64_t)(PG - 1);
	m = xmap(PG, PROT_READ, MAP_SHARED, f, npg);
	map_zero(m + (nsize - npg), nsize, PG - (nsize - npg));
	xunmap(m, PG);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, bytes_stored_past_eof_through_a_mapping_do_not_come_back_after_insert_range)
{
	eof_junk_then(FALLOC_FL_INSERT_RANGE, 0x3a0ec, 0x30000, 0x5000);
	eof_junk_then(FALLOC_FL_INSERT_RANGE, 0x3a0ec, 0, 0x1000);
}

Test(mmap, bytes_stored_past_eof_through_a_mapping_do_not_come_back_after_collapse_range)
{
	eof_junk_then(FALLOC_FL_COLLAPSE_RANGE, 0x3a0ec, 0x30000, 0x5000);
	eof_junk_then(FALLOC_FL_COLLAPSE_RANGE, 0x3a0ec, 0x39000, 0x1000);
}

Test(mmap, pages_past_eof_work_and_read_zero_after_the_file_grows)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m;

	probe_install();
	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 10000, 1);
	m = xmap(4 * MIB, RW, MAP_SHARED, f, 0);
	map_pat(m, 0, 10000, 1);
	assert_sigbus(m + 3 * PG, false);
	assert_sigbus(m + 8 * PG, false);
	assert_sigbus(m + 2 * MIB + 10, false);

	/* truncate up */
	xtruncate(f, 6 * PG);
	assert_access(m + 5 * PG + 500);
	map_pat(m, 0, 10000, 1);
	map_zero(m + 10000, 10000, 6 * PG - 10000);
	m[4 * PG + 1] = 0x61;
	fill(m + 3 * PG, 10, 3 * PG, 2);
	pread_pat(f, 3 * PG, 10, 2);
	pread_zero(f, 3 * PG + 10, PG + 1 - 10);
	cr_assert_eq(m[4 * PG + 1], 0x61);
	assert_sigbus(m + 6 * PG, false);
	assert_sigbus(m + 8 * PG, true);

	/* a write past EOF */
	pwrite_pat(f, 9 * PG, 100, 3);
	map_pat(m + 9 * PG, 9 * PG, 100, 3);
	map_zero(m + 6 * PG, 6 * PG, 3 * PG);
	map_zero(m + 9 * PG + 100, 9 * PG + 100, PG - 100);
	assert_sigbus(m + 10 * PG, false);
	m[8 * PG] = 0x62;
	pread_pat(f, 9 * PG, 100, 3);

	/* fallocate growing the size, into the next 2 MiB window */
	xfallocate(f, 0, 9 * PG + 100, 2 * MIB);
	map_zero(m + 9 * PG + 100, 9 * PG + 100, 2 * MIB);
	m[2 * MIB + 10] = 0x63;
	{
		unsigned char c;

		xpread(f, &c, 1, 2 * MIB + 10);
		cr_assert_eq(c, 0x63);
		xpread(f, &c, 1, 8 * PG);
		cr_assert_eq(c, 0x62);
	}
	assert_sigbus(m + 9 * PG + 2 * MIB + PG, false);

	xunmap(m, 4 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- models of mapped writes against truncate ----------------------------- */

/*
 * model_check -- the file is 'size' bytes of 'model': through the mapping
 * (the page holding EOF reads zero past it, the page after it, if mapped,
 * gives SIGBUS) and through pread.
 */
static void
model_check(daxfile_file *f, unsigned char *m, size_t maplen,
	const unsigned char *model, size_t size, int step)
{
	size_t eofpg = (size + PG - 1) / PG * PG;
	unsigned char *b = malloc(size + 1);
	long d;

	cr_assert_not_null(b);
	cr_assert_eq((size_t)xfstat(f).st_size, size, "step %d: size %ld, model %zu",
		step, (long)xfstat(f).st_size, size);
	d = mem_diff(m, model, MIN_SZ(size, maplen));
	cr_assert_eq(d, -1, "step %d: mapping byte %ld is %#x, model %#x", step, d,
		m[d], model[d]);
	if (eofpg <= maplen) {
		d = zero_diff(m + size, eofpg - size);
		cr_assert_eq(d, -1, "step %d: mapping byte %zu past EOF %zu is %#x",
			step, size + (size_t)d, size, m[size + (size_t)d]);
	}
	if (eofpg < maplen)
		assert_sigbus(m + eofpg + (size_t)step % PG, step & 1);
	cr_assert_eq(daxfile_pread(f, b, size + 1, 0), (ssize_t)size);
	d = mem_diff(b, model, size);
	cr_assert_eq(d, -1, "step %d: pread byte %ld is %#x, model %#x", step, d,
		b[d], model[d]);
	free(b);
}

Test(mmap, mapped_writes_around_a_truncate_down_and_up_match_the_model)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m, model[5120];
	const size_t maplen = 5120;

	/* xfstests generic/029: the exact sequence */
	probe_install();
	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	xtruncate(f, 5120);
	memset(model, 0x58, 5120);
	xpwrite(f, model, 5120, 0);
	m = xmap(maplen, RW, MAP_SHARED, f, 0);
	memset(m + 2048, 0x5a, 3072);
	memset(model + 2048, 0x5a, 3072);
	model_check(f, m, maplen, model, 5120, 0);
	xtruncate(f, 2048);
	model_check(f, m, 2 * PG, model, 2048, 1);
	xtruncate(f, 5120);
	memset(model + 2048, 0, 3072);
	model_check(f, m, maplen, model, 5120, 2);
	memset(m + 2048, 0x59, 3072);
	memset(model + 2048, 0x59, 3072);
	model_check(f, m, maplen, model, 5120, 3);
	xunmap(m, maplen);
	TEST_OK(daxfile_close(f));
	test_pool_reopen(&tp);
	f = xopen(tp.pool, "/f", O_RDONLY);
	{
		unsigned char b[5120];

		xpread(f, b, 5120, 0);
		cr_assert_eq(mem_diff(b, model, 5120), -1, "after reopen");
	}
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/*
 * random_model -- random mapped writes, truncates down and up and (if
 * 'with_pwrite') pwrites on one mapped file, checked against a model after
 * every step.
 */
static void
random_model(bool with_pwrite, unsigned seed, int steps)
{
	const size_t maxsize = 96 * KIB, maplen = maxsize + 2 * PG;
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m, *model = calloc(1, maplen), *buf = malloc(maplen);
	size_t size = 0;
	uint64_t r = seed;

	cr_assert(model != NULL && buf != NULL);
	probe_install();
	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	m = xmap(maplen, RW, MAP_SHARED, f, 0);
	for (int step = 0; step < steps; step++) {
		uint64_t x = mix64(r++);
		unsigned op = (unsigned)(x % 8);
		size_t a = (size_t)((x >> 8) % (maxsize + 1));
		size_t n = (size_t)((x >> 32) % (16 * KIB)) + 1;
		unsigned char v = (unsigned char)(step + 1);

		if (op <= 2 && size > 0) {
			/* a mapped write below EOF */
			a %= size;
			n = MIN_SZ(n, size - a);
			memset(m + a, v, n);
			memset(model + a, v, n);
		} else if (op == 3 || op == 4) {
			/* truncate, down as often as up */
			size_t to = (op == 3) ? (size ? (size_t)(x >> 40) % size : 0) : a;

			xtruncate(f, to);
			if (to > size)
				memset(model + size, 0, to - size);
			else
				memset(model + to, 0, size - to);
			size = to;
		} else if (with_pwrite && (op == 5 || op == 6)) {
			/* pwrite, anywhere up to maxsize (may extend) */
			n = MIN_SZ(n, maxsize - a);
			if (n == 0)
				continue;
			memset(buf, v ^ 0x80, n);
			xpwrite(f, buf, n, a);
			if (a > size)
				memset(model + size, 0, a - size);
			memcpy(model + a, buf, n);
			size = MAX_SZ(size, a + n);
		} else if (op == 7 && size < maxsize) {
			/* grow by a few bytes, through truncate */
			size_t to = MIN_SZ(maxsize, size + n % 3000);

			xtruncate(f, to);
			memset(model + size, 0, to - size);
			size = to;
		}
		model_check(f, m, maplen, model, size, step);
	}
	xunmap(m, maplen);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
	free(model);
	free(buf);
}

Test(mmap, random_mapped_writes_and_truncates_match_the_model)
{
	random_model(false, 29, 400);
}

Test(mmap, random_mapped_writes_pwrites_and_truncates_match_the_model)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m, model[8192], b[8192];

	/* xfstests generic/030 shape, with the writes through pwrite */
	probe_install();
	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	xtruncate(f, 5120);
	memset(model, 0x58, 5120);
	xpwrite(f, model, 5120, 0);
	m = xmap(8192, RW, MAP_SHARED, f, 0);
	memset(b, 0x5a, 3072);
	xpwrite(f, b, 3072, 2048);
	memset(model + 2048, 0x5a, 3072);
	model_check(f, m, 8192, model, 5120, 0);
	xtruncate(f, 2048);
	model_check(f, m, 8192, model, 2048, 1);
	xtruncate(f, 5120);
	memset(model + 2048, 0, 3072);
	model_check(f, m, 8192, model, 5120, 2);
	memset(b, 0x59, 6144);
	xpwrite(f, b, 6144, 2048);	/* grows the file into page 1 */
	memset(model + 2048, 0x59, 6144);
	model_check(f, m, 8192, model, 8192, 3);
	xunmap(m, 8192);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);

	random_model(true, 30, 400);
}

/* --- layout changes under a live mapping ---------------------------------- */

enum layout_op { OP_PUNCH, OP_ZERO, OP_COLLAPSE, OP_INSERT };

/*
 * layout_under_mapping -- an 8 MiB file with a hole, every page touched
 * (and some stored to) through a 12 MiB mapping; then the operation; then
 * the mapping, byte for byte, equals pread and the model, and stores
 * after it reach the right file offsets.
 */
static void
layout_under_mapping(enum layout_op op, uint64_t off, uint64_t len)
{
	const size_t maplen = 12 * MIB;
	size_t size = 8 * MIB;
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m, *model = calloc(1, maplen), *b = malloc(maplen);
	long d;

	cr_assert(model != NULL && b != NULL);
	probe_install();
	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	fill(model, size, 0, 11);
	memset(model + 5 * MIB, 0, MIB / 2);
	xpwrite(f, model, size, 0);
	xfallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 5 * MIB, MIB / 2);
	m = xmap(maplen, RW, MAP_SHARED, f, 0);

	/* touch everything, store into some pages and into the hole */
	d = mem_diff(m, model, size);
	cr_assert_eq(d, -1, "before: mapping byte %ld", d);
	for (size_t p = 0; p < size; p += 37 * PG) {
		m[p + 11] = (unsigned char)(p >> 12);
		model[p + 11] = (unsigned char)(p >> 12);
	}
	m[5 * MIB + 100] = 0x42;
	model[5 * MIB + 100] = 0x42;

	switch (op) {
	case OP_PUNCH:
		xfallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
		memset(model + off, 0, len);
		break;
	case OP_ZERO:
		xfallocate(f, FALLOC_FL_ZERO_RANGE, off, len);
		memset(model + off, 0, len);
		break;
	case OP_COLLAPSE:
		xfallocate(f, FALLOC_FL_COLLAPSE_RANGE, off, len);
		memmove(model + off, model + off + len, size - off - len);
		size -= len;
		memset(model + size, 0, len);
		break;
	case OP_INSERT:
		xfallocate(f, FALLOC_FL_INSERT_RANGE, off, len);
		memmove(model + off + len, model + off, size - off);
		memset(model + off, 0, len);
		size += len;
		break;
	}

	cr_assert_eq((size_t)xfstat(f).st_size, size);
	d = mem_diff(m, model, size);
	cr_assert_eq(d, -1, "after: mapping byte %ld is %#x, model %#x", d,
		d >= 0 ? m[d] : 0, d >= 0 ? model[d] : 0);
	xpread(f, b, size, 0);
	d = mem_diff(m, b, size);
	cr_assert_eq(d, -1, "after: mapping byte %ld is %#x, pread %#x", d,
		d >= 0 ? m[d] : 0, d >= 0 ? b[d] : 0);
	if (size % PG)
		map_zero(m + size, size, PG - size % PG);
	if ((size + PG - 1) / PG * PG < maplen)
		assert_sigbus(m + (size + PG - 1) / PG * PG, false);
	if (op == OP_COLLAPSE)
		assert_sigbus(m + size + len - PG, true);

	/* stores after the change go where the new layout says */
	for (size_t p = off & ~(PG - 1); p < size; p += 101 * PG + 8) {
		unsigned char c;

		m[p] = 0xee;
		xpread(f, &c, 1, p);
		cr_assert_eq(c, 0xee, "store at %zu after the change: pread %#x", p, c);
	}

	xunmap(m, maplen);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
	free(model);
	free(b);
}

Test(mmap, punch_hole_under_a_live_mapping_shows_zeros_in_the_mapping)
{
	layout_under_mapping(OP_PUNCH, MIB + 1000, 2 * MIB + 3000);
}

Test(mmap, zero_range_under_a_live_mapping_shows_zeros_in_the_mapping)
{
	layout_under_mapping(OP_ZERO, MIB + 1000, 2 * MIB + 3000);
}

Test(mmap, collapse_range_under_a_live_mapping_shows_the_shifted_data)
{
	layout_under_mapping(OP_COLLAPSE, 2 * MIB + 3 * PG, MIB + 5 * PG);
}

Test(mmap, insert_range_under_a_live_mapping_shows_the_shifted_data)
{
	layout_under_mapping(OP_INSERT, 3 * MIB - 7 * PG, 2 * MIB + PG);
}

/*
 * file_backed -- bytes of [p, p+len) that /proc/self/maps shows mapped from
 * the file 'path' (the pool file: pages installed, touched or not).
 */
static size_t
file_backed(const void *p, size_t len, const char *path)
{
	FILE *f = fopen("/proc/self/maps", "r");
	uintptr_t lo = (uintptr_t)p, hi = lo + len;
	char line[512 + 256];
	size_t n = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long a, e;
		char *name = strchr(line, '/');

		if (sscanf(line, "%lx-%lx", &a, &e) != 2 || name == NULL)
			continue;
		name[strcspn(name, "\n")] = '\0';
		if (strcmp(name, path) == 0 && a < hi && e > lo)
			n += MIN_SZ(e, hi) - MAX_SZ(a, lo);
	}
	fclose(f);
	return n;
}

/*
 * One touch installs the windows after it that the file's contiguous blocks
 * cover (fault-around), before the touch returns; those windows, never
 * touched, then follow a punch, an in-place pwrite, a truncate (SIGBUS past
 * EOF) and stores, as windows a touch installed do.
 */
Test(mmap, windows_installed_around_a_fault_follow_punch_pwrite_and_truncate)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m;
	unsigned char c;

	probe_install();
	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 16 * MIB, 3);
	m = xmap(16 * MIB, RW, MAP_SHARED, f, 0);

	cr_assert_eq(m[5], pat(5, 3));
	cr_assert_geq(file_backed(m + 2 * MIB, 14 * MIB, tp.path), 12 * MIB,
		"one touch installed %zu of the 14 MiB after its window",
		file_backed(m + 2 * MIB, 14 * MIB, tp.path));

	xfallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 9 * MIB, MIB);
	map_pat(m + 8 * MIB, 8 * MIB, MIB, 3);
	map_zero(m + 9 * MIB, 9 * MIB, MIB);
	pwrite_pat(f, 11 * MIB, PG, 4);
	map_pat(m + 11 * MIB, 11 * MIB, PG, 4);
	m[13 * MIB + 7] = 0x5e;
	xpread(f, &c, 1, 13 * MIB + 7);
	cr_assert_eq(c, 0x5e);

	xtruncate(f, 12 * MIB + 100);
	map_pat(m + 11 * MIB + PG, 11 * MIB + PG, MIB - PG + 100, 3);
	map_zero(m + 12 * MIB + 100, 12 * MIB + 100, PG - 100);
	assert_sigbus(m + 12 * MIB + PG, false);
	assert_sigbus(m + 15 * MIB + 3, true);

	xunmap(m, 16 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, punched_ranges_next_to_each_other_under_a_live_mapping_read_zero)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m, c = 0xff;
	int sig;

	/*
	 * Each punch replaces the pages of its range; touching them gives the
	 * replaced parts zero pages.  Then the range between two of them is
	 * punched too: the hole now spans all three, and the next access
	 * must see zeros across it, not SIGBUS.
	 */
	probe_install();
	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 4 * MIB, 1);
	m = xmap(4 * MIB, RW, MAP_SHARED, f, 0);
	map_pat(m, 0, 2 * MIB, 1);
	xfallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 256 * KIB,
		256 * KIB);
	cr_assert_eq(m[256 * KIB], 0);
	xfallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 768 * KIB,
		256 * KIB);
	cr_assert_eq(m[768 * KIB], 0);
	xfallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 512 * KIB,
		256 * KIB);
	sig = probe(m + 512 * KIB, false, 0, &c);
	cr_assert_eq(sig, 0, "a load from the punched range below EOF raised "
		"signal %d", sig);
	cr_assert_eq(c, 0);
	map_zero(m + 256 * KIB, 256 * KIB, 768 * KIB);
	map_pat(m, 0, 256 * KIB, 1);
	map_pat(m + MIB, MIB, 3 * MIB, 1);
	/* and a store into it allocates and reaches the file */
	sig = probe(m + 600 * KIB, true, 0x6b, NULL);
	cr_assert_eq(sig, 0, "a store to the punched range raised signal %d", sig);
	xpread(f, &c, 1, 600 * KIB);
	cr_assert_eq(c, 0x6b);

	xunmap(m, 4 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, map_fixed_over_part_of_a_mapping_replaces_that_part_only)
{
	struct test_pool tp;
	daxfile_file *f, *g;
	unsigned char *m, *n;
	struct statvfs sv;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	g = xopen(tp.pool, "/g", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 4 * MIB, 1);
	pwrite_pat(g, 0, 2 * MIB, 2);
	m = xmap(4 * MIB, RW, MAP_SHARED, f, 0);
	map_pat(m, 0, 4 * MIB, 1);

	n = daxfile_mmap(m + MIB, MIB, RW, MAP_SHARED | MAP_FIXED, g, 512 * KIB);
	cr_assert_eq(n, m + MIB, "MAP_FIXED: %p, asked %p (%s)", (void *)n,
		(void *)(m + MIB), daxfile_errormsg());
	map_pat(n, 512 * KIB, MIB, 2);
	map_pat(m, 0, MIB, 1);
	map_pat(m + 2 * MIB, 2 * MIB, 2 * MIB, 1);
	/* stores go to the file now mapped there */
	n[5] = 0x71;
	m[5] = 0x72;
	{
		unsigned char c;

		xpread(g, &c, 1, 512 * KIB + 5);
		cr_assert_eq(c, 0x71);
		xpread(f, &c, 1, 5);
		cr_assert_eq(c, 0x72);
	}
	pread_pat(f, MIB, MIB, 1);
	/* layout changes of either file reach only its own pages */
	xfallocate(g, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 512 * KIB, PG);
	cr_assert_eq(n[0], 0);
	cr_assert_eq(n[5], 0);
	xfallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, MIB, MIB);
	map_pat(n + PG, 512 * KIB + PG, MIB - PG, 2);

	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_close(g));
	xunmap(m, 3 * MIB);
	TEST_FAILS(daxfile_pool_close(tp.pool), -1, EBUSY);
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	map_pat(m + 3 * MIB, 3 * MIB, MIB, 1);
	xunmap(m + 3 * MIB, MIB);
	test_pool_destroy(&tp);
}

/* --- MAP_PRIVATE ---------------------------------------------------------- */

Test(mmap, stores_to_a_private_mapping_never_reach_the_file)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *p, *q, *s;
	struct stat st0, st1;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 3 * MIB, 1);
	xtruncate(f, 4 * MIB);
	st0 = xfstat(f);
	p = xmap(4 * MIB, RW, MAP_PRIVATE, f, 0);
	s = xmap(4 * MIB, PROT_READ, MAP_SHARED, f, 0);

	map_pat(p, 0, 3 * MIB, 1);
	memset(p, 0xab, 2 * PG);
	memset(p + 2 * MIB + 5, 0xcd, 100);
	memset(p + 3 * MIB + MIB / 2, 0xef, PG);	/* a hole */
	cr_assert_eq(p[0], 0xab);
	cr_assert_eq(p[2 * MIB + 5], 0xcd);
	cr_assert_eq(p[3 * MIB + MIB / 2], 0xef);

	pread_pat(f, 0, 3 * MIB, 1);
	pread_zero(f, 3 * MIB, MIB);
	map_pat(s, 0, 3 * MIB, 1);
	map_zero(s + 3 * MIB, 3 * MIB, MIB);
	q = xmap(4 * MIB, PROT_READ, MAP_PRIVATE, f, 0);
	map_pat(q, 0, 3 * MIB, 1);
	map_zero(q + 3 * MIB, 3 * MIB, MIB);
	st1 = xfstat(f);
	cr_assert_eq(st1.st_blocks, st0.st_blocks,
		"private stores changed st_blocks %ld -> %ld", (long)st0.st_blocks,
		(long)st1.st_blocks);
	TEST_OK(daxfile_msync(p, 4 * MIB, MS_SYNC));
	xunmap(p, 4 * MIB);
	pread_pat(f, 0, 3 * MIB, 1);

	xunmap(q, 4 * MIB);
	xunmap(s, 4 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/*
 * A private mapping copies the file's bytes a window (2 MiB of address
 * space, aligned, inside the mapping) at a time, when a page of the window
 * is first touched: daxfile_mmap(3).
 */
Test(mmap, a_private_mapping_window_holds_the_file_bytes_of_its_first_touch)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *p;

	probe_install();
	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 4 * MIB, 1);
	p = xmap(4 * MIB, RW, MAP_PRIVATE, f, 0);

	/* page 0 is touched now and keeps these bytes */
	map_pat(p, 0, PG, 1);
	pwrite_pat(f, 0, 4 * MIB, 2);
	map_pat(p, 0, PG, 1);
	/* a page of another window first touched after the pwrite sees it */
	map_pat(p + 3 * MIB, 3 * MIB, PG, 2);
	/* a page of the touched window was copied with it */
	map_pat(p + PG, PG, PG, 1);

	/* truncate still takes pages past the new EOF away */
	xtruncate(f, MIB);
	assert_sigbus(p + MIB, false);
	assert_sigbus(p + 3 * MIB, false);
	map_pat(p, 0, PG, 1);

	xunmap(p, 4 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- lifetime ------------------------------------------------------------- */

Test(mmap, a_mapping_outlives_daxfile_close_of_its_file)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m;
	struct statvfs sv0, sv1;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 3 * MIB, 1);
	m = xmap(3 * MIB, RW, MAP_SHARED, f, 0);
	map_pat(m, 0, PG, 1);
	TEST_OK(daxfile_close(f));

	map_pat(m, 0, 3 * MIB, 1);	/* touched before and never touched */
	fill(m + 2 * MIB + 10, 5000, 2 * MIB + 10, 2);
	f = xopen(tp.pool, "/f", O_RDWR);
	pread_pat(f, 2 * MIB + 10, 5000, 2);
	pwrite_pat(f, 100, 200, 3);
	map_pat(m + 100, 100, 200, 3);
	TEST_OK(daxfile_close(f));

	/* even an unlinked file lives on through its mapping... */
	TEST_OK(daxfile_statvfs(tp.pool, &sv0));
	TEST_OK(daxfile_unlink(tp.pool, "/f"));
	map_pat(m + 100, 100, 200, 3);
	m[7] = 1;
	cr_assert_eq(m[7], 1);
	TEST_OK(daxfile_statvfs(tp.pool, &sv1));
	cr_assert_eq(sv1.f_bfree, sv0.f_bfree,
		"the blocks of an unlinked but mapped file were freed");
	/* ...and its blocks are freed when the last mapping goes */
	xunmap(m, 3 * MIB);
	TEST_OK(daxfile_statvfs(tp.pool, &sv1));
	cr_assert_geq(sv1.f_bfree, sv0.f_bfree + 3 * MIB / 4096,
		"f_bfree %lu -> %lu after the last munmap of an unlinked file",
		(unsigned long)sv0.f_bfree, (unsigned long)sv1.f_bfree);
	test_pool_destroy(&tp);
}

Test(mmap, pool_close_with_a_live_mapping_gives_ebusy_until_it_is_unmapped)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m;
	struct statvfs sv;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 3 * MIB, 1);
	m = xmap(3 * MIB, RW, MAP_SHARED, f, 0);
	TEST_OK(daxfile_close(f));

	TEST_FAILS(daxfile_pool_close(tp.pool), -1, EBUSY);
	assert_errormsg();
	/* the pool stays open and the mapping works */
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	map_pat(m, 0, 3 * MIB, 1);
	m[0] = 0x17;
	f = xopen(tp.pool, "/f", O_RDONLY);
	{
		unsigned char c;

		xpread(f, &c, 1, 0);
		cr_assert_eq(c, 0x17);
	}
	TEST_OK(daxfile_close(f));

	/* a part unmapped: still busy */
	xunmap(m, MIB);
	TEST_FAILS(daxfile_pool_close(tp.pool), -1, EBUSY);
	xunmap(m + MIB, 2 * MIB);
	test_pool_destroy(&tp);
}

Test(mmap, munmap_of_a_part_leaves_the_rest_mapped_and_usable)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m, c = 0;

	probe_install();
	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 6 * MIB, 1);
	m = xmap(6 * MIB, RW, MAP_SHARED, f, 0);
	map_pat(m, 0, 4 * MIB, 1);	/* windows 0 and 1 touched, 2 not */

	/* a hole in the middle (across a window edge), the first page, a tail */
	xunmap(m + MIB, 2 * MIB);
	xunmap(m, PG);
	xunmap(m + 6 * MIB - 3 * PG, 3 * PG);
	cr_assert_eq(probe(m + MIB + 5, false, 0, &c), SIGSEGV,
		"the unmapped part is still accessible");
	cr_assert_eq(probe(m + 10, false, 0, &c), SIGSEGV);
	TEST_FAILS(daxfile_msync(m + MIB, PG, MS_SYNC), -1, ENOMEM);
	TEST_FAILS(daxfile_msync(m, PG, MS_SYNC), -1, ENOMEM);

	/* what is left reads and writes */
	map_pat(m + PG, PG, MIB - PG, 1);
	map_pat(m + 3 * MIB, 3 * MIB, 3 * MIB - 3 * PG, 1);
	fill(m + MIB - PG, PG, MIB - PG, 2);
	fill(m + 3 * MIB, PG, 3 * MIB, 3);
	fill(m + 5 * MIB, PG, 5 * MIB, 4);	/* window 2, never touched */
	pread_pat(f, MIB - PG, PG, 2);
	pread_pat(f, 3 * MIB, PG, 3);
	pread_pat(f, 5 * MIB, PG, 4);
	TEST_OK(daxfile_msync(m + 3 * MIB, PG, MS_SYNC));
	/* and follows the file's layout: punch, truncate */
	xfallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 3 * MIB, 2 * PG);
	map_zero(m + 3 * MIB, 3 * MIB, 2 * PG);
	pwrite_pat(f, PG, PG, 5);
	map_pat(m + PG, PG, PG, 5);
	xtruncate(f, 4 * MIB);
	assert_sigbus(m + 4 * MIB, false);
	assert_sigbus(m + 5 * MIB, true);
	map_pat(m + 3 * MIB + 2 * PG, 3 * MIB + 2 * PG, MIB - 2 * PG, 1);

	xunmap(m + PG, MIB - PG);
	xunmap(m + 3 * MIB, 3 * MIB - 3 * PG);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- offsets and several mappings ----------------------------------------- */

Test(mmap, a_mapping_at_a_nonzero_offset_sees_the_bytes_of_that_offset)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m, *n;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 8 * MIB, 1);

	m = xmap(2 * MIB + 12345, RW, MAP_SHARED, f, 3 * MIB);
	map_pat(m, 3 * MIB, 2 * MIB + 12345, 1);
	m[0] = 0x99;
	{
		unsigned char c;

		xpread(f, &c, 1, 3 * MIB);
		cr_assert_eq(c, 0x99);
	}
	pwrite_pat(f, 4 * MIB, 100, 2);
	map_pat(m + MIB, 4 * MIB, 100, 2);

	/* an offset that is not 2 MiB aligned either */
	n = xmap(MIB, PROT_READ, MAP_SHARED, f, 3 * MIB + 5 * PG);
	map_pat(n + 1, 3 * MIB + 5 * PG + 1, MIB - 5 * PG - 1, 1);
	cr_assert_eq(n[MIB - 5 * PG], pat(4 * MIB, 2));
	xunmap(n, MIB);

	xunmap(m, 2 * MIB + 12345);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, two_mappings_of_one_file_see_each_others_stores)
{
	struct test_pool tp;
	daxfile_file *f, *g;
	unsigned char *a, *b;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 2 * MIB, 1);
	xtruncate(f, 4 * MIB);
	g = xopen(tp.pool, "/f", O_RDWR);
	a = xmap(4 * MIB, RW, MAP_SHARED, f, 0);
	b = xmap(3 * MIB, RW, MAP_SHARED, g, MIB);

	/* data blocks, both touched first */
	cr_assert_eq(a[MIB + 10], pat(MIB + 10, 1));
	cr_assert_eq(b[10], pat(MIB + 10, 1));
	a[MIB + 10] = 0x21;
	cr_assert_eq(b[10], 0x21, "b does not see a's store");
	b[20] = 0x22;
	cr_assert_eq(a[MIB + 20], 0x22, "a does not see b's store");
	/* a hole that both have read as zero, then a store through one */
	cr_assert_eq(a[3 * MIB], 0);
	cr_assert_eq(b[2 * MIB], 0);
	a[3 * MIB] = 0x23;
	cr_assert_eq(b[2 * MIB], 0x23,
		"b still reads 0 after a's store allocated the hole");
	b[2 * MIB + PG] = 0x24;
	cr_assert_eq(a[3 * MIB + PG], 0x24,
		"a still reads 0 after b's store to the hole");
	/* a hole that only one of them has read */
	cr_assert_eq(b[2 * MIB + MIB / 2], 0);
	a[3 * MIB + MIB / 2] = 0x25;
	cr_assert_eq(b[2 * MIB + MIB / 2], 0x25);
	{
		unsigned char c;

		xpread(f, &c, 1, 3 * MIB);
		cr_assert_eq(c, 0x23);
		xpread(f, &c, 1, 3 * MIB + PG);
		cr_assert_eq(c, 0x24);
	}

	xunmap(a, 4 * MIB);
	xunmap(b, 3 * MIB);
	TEST_OK(daxfile_close(g));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, a_64_mib_file_written_through_a_mapping_reads_back_with_pread)
{
	const size_t size = 64 * MIB;
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m, *b = malloc(MIB);
	struct stat st;

	cr_assert_not_null(b);
	test_pool_create(&tp, "mmap", 160 * MIB);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	xtruncate(f, size);
	m = xmap(size, RW, MAP_SHARED, f, 0);
	for (size_t off = 0; off < size; off += PG)
		fill(m + off, PG, off, 12);
	TEST_OK(daxfile_msync(m, size, MS_SYNC));
	st = xfstat(f);
	cr_assert_geq((uint64_t)st.st_blocks * 512, size, "st_blocks %ld",
		(long)st.st_blocks);
	for (size_t off = 0; off < size; off += MIB) {
		long d;

		xpread(f, b, MIB, off);
		d = pat_diff(b, off, MIB, 12);
		cr_assert_eq(d, -1, "pread byte %zu is %#x, expected %#x",
			off + (size_t)d, b[d], pat(off + (uint64_t)d, 12));
	}
	xunmap(m, size);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
	free(b);
}

/* --- fork ----------------------------------------------------------------- */

/* child_touch -- the signal that kills a child that loads a byte at p. */
static int
child_touch(volatile unsigned char *p)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		(void)*p;
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status))
		return 0;
	return WTERMSIG(status);
}

Test(mmap, a_forked_child_touching_a_mapping_dies_with_sigsegv_and_the_parent_keeps_it)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m, *p;
	int sig;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 3 * MIB, 1);
	xtruncate(f, 3 * MIB + PG);
	m = xmap(6 * MIB, RW, MAP_SHARED, f, 0);
	p = xmap(MIB, RW, MAP_PRIVATE, f, 0);
	map_pat(m, 0, PG, 1);		/* window 0 installed */
	m[3 * MIB + 1] = 0;		/* a hole page, allocated */
	p[0] = 0x31;

	sig = child_touch(m + 10);		/* installed pool pages */
	cr_assert_eq(sig, SIGSEGV, "child touching an installed page: signal %d",
		sig);
	sig = child_touch(m + 2 * MIB + 10);	/* never touched */
	cr_assert_eq(sig, SIGSEGV, "child touching an untouched page: signal %d",
		sig);
	sig = child_touch(m + 3 * MIB + 1);	/* allocated by a store */
	cr_assert_eq(sig, SIGSEGV, "child touching a stored page: signal %d", sig);
	sig = child_touch(m + 5 * MIB);		/* past EOF */
	cr_assert_eq(sig, SIGSEGV, "child touching a page past EOF: signal %d",
		sig);
	sig = child_touch(p);			/* a private copy */
	cr_assert_eq(sig, SIGSEGV, "child touching a private page: signal %d",
		sig);

	/* the parent's mappings still work */
	map_pat(m, 0, 3 * MIB, 1);
	m[2 * MIB + 3] = 0x41;
	{
		unsigned char c;

		xpread(f, &c, 1, 2 * MIB + 3);
		cr_assert_eq(c, 0x41);
	}
	cr_assert_eq(p[0], 0x31);
	pwrite_pat(f, 5 * PG, PG, 2);
	map_pat(m + 5 * PG, 5 * PG, PG, 2);

	xunmap(p, MIB);
	xunmap(m, 6 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- kernel-mode accesses ------------------------------------------------- */

Test(mmap, write_to_a_pipe_from_an_untouched_mapped_page_sends_the_file_bytes)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m, b[2 * PG];
	int pfd[2];

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 3 * MIB, 1);
	xtruncate(f, 4 * MIB);
	m = xmap(4 * MIB, RW, MAP_SHARED, f, 0);
	cr_assert_eq(pipe(pfd), 0);

	cr_assert_eq(write(pfd[1], m + 2 * MIB + 3 * PG + 5, 2 * PG),
		(ssize_t)(2 * PG), "write(2) from a mapping: %s", strerror(errno));
	cr_assert_eq(read(pfd[0], b, 2 * PG), (ssize_t)(2 * PG));
	cr_assert_eq(pat_diff(b, 2 * MIB + 3 * PG + 5, 2 * PG, 1), -1);
	/* an untouched hole page sends zeros */
	cr_assert_eq(write(pfd[1], m + 3 * MIB + PG, PG), (ssize_t)PG,
		"write(2) from a hole: %s", strerror(errno));
	cr_assert_eq(read(pfd[0], b, PG), (ssize_t)PG);
	cr_assert_eq(zero_diff(b, PG), -1);

	close(pfd[0]);
	close(pfd[1]);
	xunmap(m, 4 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, read_from_a_pipe_into_an_untouched_mapped_hole_stores_into_the_file)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m, b[PG];
	int pfd[2];
	struct stat st0, st1;

	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, MIB, 1);
	xtruncate(f, 4 * MIB);
	st0 = xfstat(f);
	m = xmap(4 * MIB, RW, MAP_SHARED, f, 0);
	cr_assert_eq(pipe(pfd), 0);

	fill(b, PG, 2 * MIB + 5 * PG, 2);
	cr_assert_eq(write(pfd[1], b, PG), (ssize_t)PG);
	cr_assert_eq(read(pfd[0], m + 2 * MIB + 5 * PG, PG), (ssize_t)PG,
		"read(2) into a mapped hole: %s", strerror(errno));
	pread_pat(f, 2 * MIB + 5 * PG, PG, 2);
	st1 = xfstat(f);
	cr_assert_gt(st1.st_blocks, st0.st_blocks);
	/* and into an untouched data page */
	fill(b, PG, 7 * PG, 3);
	cr_assert_eq(write(pfd[1], b, PG), (ssize_t)PG);
	cr_assert_eq(read(pfd[0], m + 7 * PG, PG), (ssize_t)PG,
		"read(2) into a mapped data page: %s", strerror(errno));
	pread_pat(f, 7 * PG, PG, 3);
	map_pat(m + 2 * MIB + 5 * PG, 2 * MIB + 5 * PG, PG, 2);

	close(pfd[0]);
	close(pfd[1]);
	xunmap(m, 4 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* --- buffers that are mappings of the same file --------------------------- */

/*
 * same_file_setup -- an 8 MiB file: data [0, 2 MiB) (pattern 1), a hole
 * [2, 4 MiB), data [4, 6 MiB) (pattern 2), a hole [6, 8 MiB); mapped whole
 * and not touched.
 */
static daxfile_file *
same_file_setup(struct test_pool *tp, unsigned char **m)
{
	daxfile_file *f;

	test_pool_create(tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp->pool, "/f", O_RDWR | O_CREAT);
	pwrite_pat(f, 0, 2 * MIB, 1);
	pwrite_pat(f, 4 * MIB, 2 * MIB, 2);
	xtruncate(f, 8 * MIB);
	*m = xmap(8 * MIB, RW, MAP_SHARED, f, 0);
	return f;
}

Test(mmap, pwrite_from_a_mapping_of_the_same_file_works_from_holes_and_from_data)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m;
	ssize_t r;

	f = same_file_setup(&tp, &m);

	/* data (untouched) into a hole */
	xpwrite(f, m + 4 * MIB + PG, 64 * KIB, 2 * MIB + 8 * PG);
	{
		unsigned char *b = malloc(64 * KIB);

		xpread(f, b, 64 * KIB, 2 * MIB + 8 * PG);
		cr_assert_eq(pat_diff(b, 4 * MIB + PG, 64 * KIB, 2), -1);
		cr_assert_eq(pat_diff(m + 2 * MIB + 8 * PG, 4 * MIB + PG, 64 * KIB, 2),
			-1, "the mapping of the destination");
		free(b);
	}
	/* a hole (untouched) over data */
	xpwrite(f, m + 6 * MIB + 3 * PG, 16 * KIB, 5 * PG);
	pread_zero(f, 5 * PG, 16 * KIB);
	map_zero(m + 5 * PG, 5 * PG, 16 * KIB);
	pread_pat(f, 0, 5 * PG, 1);
	/* data into data of the same 2 MiB window, unaligned */
	xpwrite(f, m + 100, 3000, MIB + 77);
	{
		unsigned char b[3000];

		xpread(f, b, 3000, MIB + 77);
		cr_assert_eq(pat_diff(b, 100, 3000, 1), -1);
	}
	/* a hole into a hole of the same window, both untouched */
	xpwrite(f, m + 7 * MIB, 8 * KIB, 7 * MIB + 64 * KIB);
	pread_zero(f, 7 * MIB, 128 * KIB);
	/* a source touched as a zero page, destination past EOF */
	cr_assert_eq(m[3 * MIB], 0);
	r = daxfile_pwrite(f, m + 3 * MIB, 2 * PG, 8 * MIB + PG);
	cr_assert_eq(r, (ssize_t)(2 * PG), "pwrite: %s (%s)", strerror(errno),
		daxfile_errormsg());
	cr_assert_eq((size_t)xfstat(f).st_size, 8 * MIB + 3 * PG);
	pread_zero(f, 8 * MIB, 3 * PG);
	/* the sequential write(2) path too */
	cr_assert_eq(daxfile_lseek(f, 2 * MIB + MIB / 2, SEEK_SET),
		(off_t)(2 * MIB + MIB / 2));
	cr_assert_eq(daxfile_write(f, m + 4 * MIB + 9 * PG, 3 * PG),
		(ssize_t)(3 * PG));
	{
		unsigned char b[3 * PG];

		xpread(f, b, 3 * PG, 2 * MIB + MIB / 2);
		cr_assert_eq(pat_diff(b, 4 * MIB + 9 * PG, 3 * PG, 2), -1);
	}

	xunmap(m, 8 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(mmap, pread_into_a_mapping_of_the_same_file_works_into_holes_and_into_data)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m;
	struct stat st0, st1;

	f = same_file_setup(&tp, &m);
	st0 = xfstat(f);

	/* data into an untouched hole */
	xpread(f, m + 2 * MIB + 4 * PG, 64 * KIB, 4 * MIB + 3 * PG);
	{
		unsigned char *b = malloc(64 * KIB);

		xpread(f, b, 64 * KIB, 2 * MIB + 4 * PG);
		cr_assert_eq(pat_diff(b, 4 * MIB + 3 * PG, 64 * KIB, 2), -1,
			"pread into a mapped hole did not reach the file");
		free(b);
	}
	st1 = xfstat(f);
	cr_assert_gt(st1.st_blocks, st0.st_blocks);
	/* a hole into untouched data */
	xpread(f, m + 5 * PG, 16 * KIB, 7 * MIB);
	pread_zero(f, 5 * PG, 16 * KIB);
	pread_pat(f, 0, 5 * PG, 1);
	pread_pat(f, 9 * PG, MIB, 1);
	/* data into data of the same window, unaligned */
	xpread(f, m + MIB + 77, 3000, 100);
	{
		unsigned char b[3000];

		xpread(f, b, 3000, MIB + 77);
		cr_assert_eq(pat_diff(b, 100, 3000, 1), -1);
	}
	/* into a hole page read before (a write-protected zero page) */
	cr_assert_eq(m[6 * MIB + 10 * PG], 0);
	xpread(f, m + 6 * MIB + 10 * PG, PG, 4 * MIB);
	{
		unsigned char b[PG];

		xpread(f, b, PG, 6 * MIB + 10 * PG);
		cr_assert_eq(pat_diff(b, 4 * MIB, PG, 2), -1);
	}
	/* the sequential read(2) path too, into a hole */
	cr_assert_eq(daxfile_lseek(f, 4 * MIB + 20 * PG, SEEK_SET),
		(off_t)(4 * MIB + 20 * PG));
	cr_assert_eq(daxfile_read(f, m + 7 * MIB + 3 * PG, 2 * PG),
		(ssize_t)(2 * PG));
	{
		unsigned char b[2 * PG];

		xpread(f, b, 2 * PG, 7 * MIB + 3 * PG);
		cr_assert_eq(pat_diff(b, 4 * MIB + 20 * PG, 2 * PG, 2), -1);
	}

	xunmap(m, 8 * MIB);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/*
 * A file of 81,920 one-block extents, mapped whole and read page by page
 * twice: one VMA per extent is more than vm.max_map_count allows, so the
 * library must give back old windows as it goes, and every byte must still
 * be right.  The pool is left with too little free space for a fault to
 * move a window's blocks to one run (doc/design.md, "Fragmented windows"),
 * so every window is installed extent by extent.
 */
Test(mmap, a_maximally_fragmented_file_does_not_exhaust_vm_max_map_count,
	.timeout = 120)
{
	const long nb = 81920;
	struct test_pool tp;
	struct statvfs sv;
	daxfile_file *f, *filler;
	unsigned char blk[PG], *m;
	long bad = 0;

	test_pool_create(&tp, "mmap", 512 * MIB);
	f = xopen(tp.pool, "/frag", O_RDWR | O_CREAT);
	/* backwards, so that no two neighbouring blocks are contiguous */
	for (long i = nb - 1; i >= 0; i--) {
		memset(blk, (int)(i & 0xff), sizeof(blk));
		cr_assert_eq(daxfile_pwrite(f, blk, PG, (off_t)(i * PG)), (ssize_t)PG);
	}
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	filler = xopen(tp.pool, "/filler", O_RDWR | O_CREAT);
	TEST_OK(daxfile_fallocate(filler, 0, 0,
		(off_t)(sv.f_bavail * sv.f_frsize - 4 * MIB)));
	m = xmap((size_t)nb * PG, PROT_READ, MAP_SHARED, f, 0);
	for (int pass = 0; pass < 2; pass++)
		for (long i = 0; i < nb; i++)
			bad += m[i * PG] != (unsigned char)(i & 0xff);
	cr_assert_eq(bad, 0, "%ld pages read wrong", bad);
	xunmap(m, (size_t)nb * PG);
	TEST_OK(daxfile_close(filler));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/*
 * Where the process may only have a user-mode-only userfaultfd, a system
 * call that reads a never-touched mapped page fails with EFAULT; once the
 * page was touched from user mode it works (libdaxfile(3), MAPPINGS).
 * DAXFILE_UFFD_USER_MODE_ONLY gives that descriptor to a root process.
 */
Test(mmap, kernel_mode_access_without_kernel_faults_fails_until_touched)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m, buf[PG];
	volatile unsigned char c;
	int pfd[2];

	/* each test runs in a process of its own: no fault service yet */
	setenv("DAXFILE_UFFD_USER_MODE_ONLY", "1", 1);
	test_pool_create(&tp, "mmap", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	memset(buf, 0x42, sizeof(buf));
	cr_assert_eq(daxfile_pwrite(f, buf, PG, 0), (ssize_t)PG);
	m = xmap(PG, PROT_READ, MAP_SHARED, f, 0);
	cr_assert_eq(pipe(pfd), 0);
	errno = 0;
	cr_assert_eq(write(pfd[1], m, PG), -1, "a write(2) from an untouched page");
	cr_assert_eq(errno, EFAULT);
	c = m[0];
	cr_assert_eq(c, 0x42);
	cr_assert_eq(write(pfd[1], m, PG), (ssize_t)PG);
	cr_assert_eq(read(pfd[0], buf, PG), (ssize_t)PG);
	cr_assert_eq(buf[PG - 1], 0x42);
	close(pfd[0]);
	close(pfd[1]);
	xunmap(m, PG);
	TEST_OK(daxfile_close(f));
	unsetenv("DAXFILE_UFFD_USER_MODE_ONLY");
	test_pool_destroy(&tp);
}
