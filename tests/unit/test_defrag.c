/*
 * test_defrag.c -- a fault on a window of scattered blocks moves them to
 * one run first and installs the window as one VMA; a mapping that still
 * showed the old blocks loses them before they move, so its stores reach
 * the new ones; a busy file (iolock held) is installed run by run.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>

#include "bmap.h"
#include "file.h"
#include "inode.h"
#include "testpool.h"

#define NBLK 1024u
#define SIZE ((size_t)NBLK * 4096)

/* fragmented -- NBLK one-block extents, written last to first; block k
   holds the byte k * 7 + 1. */
static daxfile_file *
fragmented(daxfile_pool *pool)
{
	daxfile_file *f = daxfile_open(pool, "/frag", O_CREAT | O_RDWR, 0644);
	char buf[4096];

	cr_assert_not_null(f);
	for (unsigned k = NBLK; k-- > 0;) {
		memset(buf, (int)((k * 7 + 1) & 0xff), sizeof(buf));
		cr_assert_eq(daxfile_pwrite(f, buf, sizeof(buf), (off_t)k * 4096),
			4096);
	}
	TEST_OK(daxfile_close(f));
	f = daxfile_open(pool, "/frag", O_RDWR);
	cr_assert_not_null(f);
	cr_assert_eq(dx_bmap_count(f->ip), NBLK);
	return f;
}

/* vmas -- the VMAs of the pool file inside [p, p+len). */
static unsigned
vmas(const char *pool_path, const void *p, size_t len)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	uintptr_t lo = (uintptr_t)p, hi = lo + len;
	char line[512];
	unsigned n = 0;

	cr_assert_not_null(maps);
	while (fgets(line, sizeof(line), maps) != NULL) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s >= lo && e <= hi &&
		    strstr(line, pool_path) != NULL)
			n++;
	}
	fclose(maps);
	return n;
}

/* check_pattern -- every page of the mapping holds its block's byte. */
static void
check_pattern(const volatile unsigned char *m)
{
	for (unsigned k = 0; k < NBLK; k++)
		cr_assert_eq(m[(size_t)k * 4096 + 4095],
			(unsigned char)(k * 7 + 1), "block %u", k);
}

Test(defrag, a_fault_on_a_fragmented_window_installs_it_as_one_vma)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m;
	char buf[4096];

	test_pool_create(&tp, "defrag", TEST_POOL_SIZE);
	f = fragmented(tp.pool);
	m = daxfile_mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	cr_assert_neq(m, MAP_FAILED, "%s", daxfile_errormsg());
	check_pattern(m);
	cr_assert_leq(vmas(tp.path, m, SIZE), 2, "one VMA per window at most");
	cr_assert_leq(dx_bmap_count(f->ip), 2);
	for (unsigned k = 0; k < NBLK; k += 97) {
		cr_assert_eq(daxfile_pread(f, buf, sizeof(buf), (off_t)k * 4096),
			4096);
		cr_assert_eq((unsigned char)buf[0], (unsigned char)(k * 7 + 1));
	}
	TEST_OK(daxfile_munmap(m, SIZE));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(defrag, stores_through_a_mapping_that_showed_the_old_blocks_reach_the_moved_ones)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *a, *b;
	char buf[1];

	test_pool_create(&tp, "defrag", TEST_POOL_SIZE);
	f = fragmented(tp.pool);
	a = daxfile_mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	b = daxfile_mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	cr_assert_neq(a, MAP_FAILED, "%s", daxfile_errormsg());
	cr_assert_neq(b, MAP_FAILED, "%s", daxfile_errormsg());
	/* a busy file: its faults install the old blocks run by run */
	dx_ilock(f->ip, DX_IOLOCK_EXCL);
	check_pattern(b);
	dx_iunlock(f->ip, DX_IOLOCK_EXCL);
	cr_assert_gt(vmas(tp.path, b, SIZE), NBLK / 2);
	cr_assert_eq(dx_bmap_count(f->ip), NBLK);
	/* now the blocks move, and b must let go of the old ones */
	check_pattern(a);
	cr_assert_leq(dx_bmap_count(f->ip), 2);
	for (unsigned k = 0; k < NBLK; k += 61)
		b[(size_t)k * 4096 + 17] = 'Z';
	for (unsigned k = 0; k < NBLK; k++) {
		unsigned char want = k % 61 == 0 ? 'Z' : (unsigned char)(k * 7 + 1);

		cr_assert_eq(a[(size_t)k * 4096 + 17], want, "block %u", k);
		cr_assert_eq(daxfile_pread(f, buf, 1, (off_t)k * 4096 + 17), 1);
		cr_assert_eq((unsigned char)buf[0], want, "block %u", k);
	}
	check_pattern(b);
	TEST_OK(daxfile_munmap(a, SIZE));
	TEST_OK(daxfile_munmap(b, SIZE));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}
