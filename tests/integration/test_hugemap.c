/*
 * test_hugemap.c -- huge-page mappings: with the pool on a tmpfs mounted
 * huge=always, a mapping of a file of 2 MiB or more is mapped with 2 MiB
 * page table entries (per /proc/self/smaps), also at a nonzero offset of a
 * file whose blocks began at an offset that is not a multiple of 2 MiB;
 * and on a tmpfs mounted huge=never too, where daxfile_pool_create makes
 * the pool file of 2 MiB pages itself.
 *
 * Each test mounts a tmpfs of its own, which needs root; where that is
 * impossible, or where the kernel itself gives that tmpfs no 2 MiB pages
 * (transparent huge pages disabled, memory too fragmented), the test is
 * skipped and says why.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daxfile.h"
#include "testpool.h"
#include "testutil.h"

#define MIB ((size_t)1 << 20)
#define HUGE ((size_t)2 << 20)
#define RW (PROT_READ | PROT_WRITE)

/* The tmpfs of the running test, and why it could not be had. */
static char huge_dir[64];
static char huge_skip[256];

/* tmpfs_setup -- mount a tmpfs with option 'huge' on a fresh directory. */
static void
tmpfs_setup(const char *huge)
{
	char opts[64];

	snprintf(huge_dir, sizeof(huge_dir), "/tmp/daxfile-hugemap-XXXXXX");
	huge_skip[0] = '\0';
	if (geteuid() != 0) {
		snprintf(huge_skip, sizeof(huge_skip),
			"mounting a tmpfs with %s needs root", huge);
		huge_dir[0] = '\0';
		return;
	}
	cr_assert_not_null(mkdtemp(huge_dir), "mkdtemp: %s", strerror(errno));
	snprintf(opts, sizeof(opts), "%s,size=64m", huge);
	if (mount("none", huge_dir, "tmpfs", 0, opts) != 0) {
		snprintf(huge_skip, sizeof(huge_skip),
			"cannot mount a tmpfs with %s on %s: %s", huge,
			huge_dir, strerror(errno));
		rmdir(huge_dir);
		huge_dir[0] = '\0';
	}
}

static void
huge_setup(void)
{
	tmpfs_setup("huge=always");
}

static void
never_setup(void)
{
	tmpfs_setup("huge=never");
}

/* huge_teardown -- unmount (lazily: a failed test may leave files open). */
static void
huge_teardown(void)
{
	if (huge_dir[0] == '\0')
		return;
	umount2(huge_dir, MNT_DETACH);
	rmdir(huge_dir);
}

TestSuite(hugemap, .init = huge_setup, .fini = huge_teardown);
TestSuite(hugepool, .init = never_setup, .fini = huge_teardown);

/*
 * pmd_mapped -- bytes of [p, p+len) mapped with 2 MiB page table entries,
 * per /proc/self/smaps.
 */
static size_t
pmd_mapped(const void *p, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	uintptr_t lo = (uintptr_t)p, hi = lo + len;
	bool in = false;
	char line[512];
	size_t kib = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long a, e, k;

		if (sscanf(line, "%lx-%lx ", &a, &e) == 2 &&
		    line[strspn(line, "0123456789abcdef")] == '-')
			in = a >= lo && e <= hi;
		else if (in && (sscanf(line, "ShmemPmdMapped: %lu kB", &k) == 1 ||
		    sscanf(line, "FilePmdMapped: %lu kB", &k) == 1))
			kib += k;
	}
	fclose(f);
	return kib << 10;
}

/* touch -- read one byte of every page of [p, p+len). */
static void
touch(const unsigned char *p, size_t len)
{
	volatile unsigned char sink = 0;

	for (size_t off = 0; off < len; off += 4096)
		sink ^= p[off];
	(void)sink;
}

/*
 * require_kernel_huge_pages -- skip unless the kernel maps 2 MiB pages of a
 * file of this tmpfs when the file is mapped directly.
 */
/*
 * probe_map -- a file of 2 MiB on the test's tmpfs ('written': its first
 * byte written), mapped shared at an address aligned to 2 MiB inside the
 * reservation '*r' (2 x 2 MiB, for munmap); skips if there is no tmpfs.
 */
static unsigned char *
probe_map(int prot, bool written, unsigned char **r, int *fd, char *path,
	size_t len)
{
	unsigned char *p;

	if (huge_skip[0] != '\0')
		cr_skip_test("skipped: %s", huge_skip);
	snprintf(path, len, "%s/probe", huge_dir);
	*fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(*fd, 0);
	cr_assert_eq(ftruncate(*fd, (off_t)HUGE), 0);
	if (written)
		cr_assert_eq(pwrite(*fd, "", 1, 0), 1);
	*r = mmap(NULL, 2 * HUGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(*r, MAP_FAILED);
	p = (unsigned char *)(((uintptr_t)*r + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
	cr_assert_neq(mmap(p, HUGE, prot, MAP_SHARED | MAP_FIXED, *fd, 0),
		MAP_FAILED);
	return p;
}

static void
require_kernel_huge_pages(void)
{
	char path[128];
	unsigned char *r, *p;
	size_t mapped;
	int fd;

	p = probe_map(RW, false, &r, &fd, path, sizeof(path));
	p[0] = 1;
	mapped = pmd_mapped(p, HUGE);
	munmap(r, 2 * HUGE);
	close(fd);
	unlink(path);
	if (mapped != HUGE)
		cr_skip_test("skipped: the kernel maps no 2 MiB page of a file of the huge=always tmpfs here (transparent huge pages disabled, or no free 2 MiB page)");
}

/* pool_on_huge -- a pool of 'size' bytes on the test's tmpfs. */
static daxfile_pool *
pool_on_huge(char *path, size_t len, size_t size)
{
	daxfile_pool *pool;

	snprintf(path, len, "%s/files.pool", huge_dir);
	pool = daxfile_pool_create(path, size, 0600);
	cr_assert_not_null(pool, "daxfile_pool_create(%s): %s (%s)", path,
		strerror(errno), daxfile_errormsg());
	return pool;
}

static void
pool_done(daxfile_pool *pool, const char *path)
{
	TEST_OK(daxfile_pool_close(pool));
	cr_assert_eq(daxfile_pool_check(path, stderr), 0);
	unlink(path);
}

/* assert_pattern -- the mapping holds pattern 'seed' of file offset 'off'. */
static void
assert_pattern(const unsigned char *p, uint64_t off, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i += 4093)
		cr_assert_eq(p[i], pat(off + i, seed),
			"byte of file offset %lu is %#x, expected %#x",
			(unsigned long)(off + i), p[i], pat(off + i, seed));
}

/*
 * assert_big_file_huge -- a file of 8 MiB written in a new pool of 40 MiB
 * on the test's tmpfs is mapped with 2 MiB pages and holds what was written.
 */
static void
assert_big_file_huge(unsigned seed)
{
	char path[128];
	daxfile_pool *pool;
	daxfile_file *f;
	unsigned char *buf = xmalloc(MIB), *m;

	pool = pool_on_huge(path, sizeof(path), 40 * MIB);
	f = xopen(pool, "/big", O_RDWR | O_CREAT);
	for (size_t off = 0; off < 8 * MIB; off += MIB) {
		fill(buf, MIB, off, seed);
		cr_assert_eq(daxfile_pwrite(f, buf, MIB, (off_t)off), (ssize_t)MIB);
	}
	m = daxfile_mmap(NULL, 8 * MIB, RW, MAP_SHARED, f, 0);
	cr_assert_neq(m, MAP_FAILED, "daxfile_mmap: %s", daxfile_errormsg());
	touch(m, 8 * MIB);
	cr_assert_eq(pmd_mapped(m, 8 * MIB), 8 * MIB,
		"%zu KiB of the 8 MiB mapping have 2 MiB page table entries",
		pmd_mapped(m, 8 * MIB) >> 10);
	assert_pattern(m, 0, 8 * MIB, seed);

	TEST_OK(daxfile_munmap(m, 8 * MIB));
	TEST_OK(daxfile_close(f));
	pool_done(pool, path);
	free(buf);
}

Test(hugemap, a_file_of_2MiB_or_more_on_a_huge_page_tmpfs_is_mapped_with_2MiB_pages)
{
	require_kernel_huge_pages();
	assert_big_file_huge(7);
}

/*
 * assert_huge_at_2MiB -- a read-only mapping of file bytes [2 MiB, 6 MiB)
 * of f is mapped with 2 MiB pages and holds pattern 'seed'.
 */
static void
assert_huge_at_2MiB(daxfile_file *f, unsigned seed)
{
	unsigned char *m = daxfile_mmap(NULL, 4 * MIB, PROT_READ, MAP_SHARED,
		f, (off_t)HUGE);

	cr_assert_neq(m, MAP_FAILED, "daxfile_mmap: %s", daxfile_errormsg());
	touch(m, 4 * MIB);
	cr_assert_eq(pmd_mapped(m, 4 * MIB), 4 * MIB,
		"%zu KiB of the 4 MiB mapping have 2 MiB page table entries",
		pmd_mapped(m, 4 * MIB) >> 10);
	assert_pattern(m, HUGE, 4 * MIB, seed);
	TEST_OK(daxfile_munmap(m, 4 * MIB));
}

/*
 * Files whose first block is not at a multiple of 2 MiB (written from
 * 28 KiB on, or fallocated from there and then written) still have their
 * blocks at their file offsets modulo 2 MiB in the pool: a mapping of
 * their 2 MiB to 6 MiB is mapped with 2 MiB pages.
 */
Test(hugemap, files_begun_at_an_offset_that_is_not_a_multiple_of_2MiB_get_2MiB_pages)
{
	const size_t start = 7 * 4096, len = 7 * MIB;
	char path[128];
	daxfile_pool *pool;
	daxfile_file *f, *g;
	unsigned char *buf = xmalloc(len);

	require_kernel_huge_pages();
	pool = pool_on_huge(path, sizeof(path), 40 * MIB);
	f = xopen(pool, "/written", O_RDWR | O_CREAT);
	fill(buf, len, start, 9);
	for (size_t off = 0; off < len; off += MIB)
		cr_assert_eq(daxfile_pwrite(f, buf + off, MIB, (off_t)(start + off)),
			(ssize_t)MIB);
	assert_huge_at_2MiB(f, 9);

	g = xopen(pool, "/fallocated", O_RDWR | O_CREAT);
	TEST_OK(daxfile_fallocate(g, 0, (off_t)start, (off_t)len));
	fill(buf, len, start, 11);
	cr_assert_eq(daxfile_pwrite(g, buf, len, (off_t)start), (ssize_t)len);
	assert_huge_at_2MiB(g, 11);

	TEST_OK(daxfile_close(g));
	TEST_OK(daxfile_close(f));
	pool_done(pool, path);
	free(buf);
}

/*
 * require_collapse -- skip unless the kernel gathers a range of a file of
 * the test's tmpfs into a 2 MiB page on request (MADV_COLLAPSE, Linux 6.1;
 * refused when shmem_enabled is deny).
 */
static void
require_collapse(void)
{
	char path[128];
	unsigned char *r, *p;
	int fd, ret, err;

	p = probe_map(PROT_READ, true, &r, &fd, path, sizeof(path));
	ret = madvise(p, HUGE, 25 /* MADV_COLLAPSE */);
	err = errno;
	munmap(r, 2 * HUGE);
	close(fd);
	unlink(path);
	if (ret != 0)
		cr_skip_test("skipped: the kernel does not collapse a range of a "
			"tmpfs file into a 2 MiB page here (MADV_COLLAPSE: %s)",
			strerror(err));
}

/*
 * A pool created on a tmpfs that gives files no 2 MiB pages of its own
 * (huge=never, as /dev/shm is mounted by default) is still made of them:
 * its files' mappings get 2 MiB entries, and the pool is sound.
 */
Test(hugepool, a_pool_made_on_a_tmpfs_mounted_huge_never_has_2MiB_pages)
{
	require_collapse();
	assert_big_file_huge(13);
}

/*
 * A pool file the size of which is not a multiple of 2 MiB: its tail gets
 * 4 KiB pages, and every byte of the file is there (st_blocks).
 */
Test(hugepool, a_pool_whose_size_is_not_a_multiple_of_2MiB_is_whole)
{
	const size_t size = 40 * MIB + 12 * 4096;
	char path[128];
	daxfile_pool *pool;
	struct stat st;

	require_collapse();
	pool = pool_on_huge(path, sizeof(path), size);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq((size_t)st.st_size, size);
	cr_assert_geq((size_t)st.st_blocks * 512, size,
		"%zu of %zu bytes allocated", (size_t)st.st_blocks * 512, size);
	pool_done(pool, path);
}
