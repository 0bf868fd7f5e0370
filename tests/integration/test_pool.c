/*
 * test_pool.c -- pools through the public API: the create/close/open round
 * trip keeps the tree and the file contents; every bad input to create and
 * open fails with its errno (an existing file, a size below the minimum, a
 * missing file, a file of random bytes, a truncated pool, a pool whose
 * superblock and every copy of it have a bad magic or a byte the checksum
 * covers changed, another on-media version, metadata libpmemobj refuses or
 * crashes on, a pool that is already open, which names the process that
 * has it); a damaged superblock is read through its copy; close refuses
 * while files or directory streams are open and the pool keeps working; a
 * NULL or closed pool handle gives EINVAL everywhere; daxfile_pool_check
 * tells a clean pool from a damaged one; statvfs counts blocks exactly;
 * daxfile_errormsg() names the cause of every failure, and of that failure
 * only; a missing helper refuses the open rather than opening unprobed;
 * daxfile_pool_repair mends a damaged superblock, an entry that names a
 * damaged inode and a damaged AG header; daxfile_pool_salvage copies files
 * out of a pool libpmemobj crashes on, and what a damaged entry cut off
 * into lost+found; and daxfile_pool_size_for sizes a pool for its data.
 *
 * The superblock is found by its 8-byte magic "DAXFILE!" in the closed pool
 * file, first the primary, then its copies; the version is the uint32 right
 * after the magic and the pool size field lies 32 bytes after it, both
 * covered by the superblock checksum (Fletcher-64 of the bytes before it).
 * libpmemobj's pool descriptor gives the heap's offset.
 */
#define _GNU_SOURCE	/* memmem, open_memstream */

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "daxfile.h"
#include "testpool.h"

#define MIB ((size_t)1 << 20)

#define SB_MAGIC "DAXFILE!"
#define SB_VERSION_OFF 8	/* uint32 on-media version */
#define SB_POOL_SIZE_OFF 32	/* uint64 pool size, checksummed */
#define SB_UUID_OFF 40		/* 16 bytes of uuid, checksummed */
#define SB_CHECKSUM_OFF 9816	/* uint64 checksum of the bytes before it */
#define SB_MAX 64		/* the primary and a copy per data segment */
#define PMEMOBJ_HEAP_OFFSET_OFF 5136	/* uint64 in pmemobj's descriptor */

/* FAILS -- TEST_FAILS, and the error message must name a cause. */
#define FAILS(expr, fail, e) do { \
	TEST_FAILS(expr, fail, e); \
	cr_assert_not_null(daxfile_errormsg(), "%s: no error message", #expr); \
	cr_assert_gt(strlen(daxfile_errormsg()), 0, \
		"%s: empty error message", #expr); \
} while (0)

static uint64_t rng_state;

/* rng_next -- splitmix64 from a fixed seed: failures replay exactly. */
static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
fill_pattern(unsigned char *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)((i * 131 + seed * 7 + i / 4096) & 0xff);
}

/* write_file -- create 'path' in the pool holding 'n' bytes of 'buf'. */
static void
write_file(daxfile_pool *pool, const char *path, const void *buf, size_t n)
{
	daxfile_file *f = daxfile_open(pool, path, O_CREAT | O_EXCL | O_WRONLY,
		0644);

	cr_assert_not_null(f, "open(%s): %s", path, daxfile_errormsg());
	if (n > 0)
		cr_assert_eq(daxfile_write(f, buf, n), (ssize_t)n,
			"write(%s): %s", path, daxfile_errormsg());
	TEST_OK(daxfile_close(f));
}

/* check_file -- 'path' holds exactly the 'n' bytes of 'want'. */
static void
check_file(daxfile_pool *pool, const char *path, const void *want, size_t n)
{
	unsigned char *buf = malloc(n + 1);
	daxfile_file *f;
	struct stat st;

	cr_assert_not_null(buf);
	TEST_OK(daxfile_stat(pool, path, &st));
	cr_assert(S_ISREG(st.st_mode), "%s is not a regular file", path);
	cr_assert_eq(st.st_size, (off_t)n, "%s: size %ld, expected %zu", path,
		(long)st.st_size, n);
	f = daxfile_open(pool, path, O_RDONLY);
	cr_assert_not_null(f, "open(%s): %s", path, daxfile_errormsg());
	cr_assert_eq(daxfile_pread(f, buf, n + 1, 0), (ssize_t)n,
		"pread(%s): %s", path, daxfile_errormsg());
	cr_assert(n == 0 || memcmp(buf, want, n) == 0, "%s: contents differ",
		path);
	TEST_OK(daxfile_close(f));
	free(buf);
}

/* file_bytes -- the size of a host file. */
static off_t
file_bytes(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "stat(%s): %s", path, strerror(errno));
	return st.st_size;
}

/*
 * sb_offsets -- the offsets of the superblock and its copies in the closed
 * pool file at 'path', where its magic is (the primary first, then at least
 * one copy); their number.
 */
static int
sb_offsets(const char *path, off_t *offs)
{
	int fd = open(path, O_RDONLY);
	off_t size = file_bytes(path);
	const char *map, *p, *end;
	int count = 0;

	cr_assert_geq(fd, 0, "open(%s): %s", path, strerror(errno));
	map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	cr_assert_neq(map, MAP_FAILED, "mmap(%s): %s", path, strerror(errno));
	end = map + size;
	for (p = map; p < end && count < SB_MAX; p++) {
		p = memmem(p, (size_t)(end - p), SB_MAGIC, 8);
		if (p == NULL)
			break;
		offs[count++] = p - map;
	}
	munmap((void *)map, (size_t)size);
	close(fd);
	cr_assert_geq(count, 2, "the superblock magic appears %d times in %s",
		count, path);
	return count;
}

/* sb_offset -- the offset of the primary superblock. */
static off_t
sb_offset(const char *path)
{
	off_t offs[SB_MAX];

	sb_offsets(path, offs);
	return offs[0];
}

static void
file_pread(const char *path, void *buf, size_t n, off_t off)
{
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0, "open(%s): %s", path, strerror(errno));
	cr_assert_eq(pread(fd, buf, n, off), (ssize_t)n);
	close(fd);
}

static void
file_pwrite(const char *path, const void *buf, size_t n, off_t off)
{
	int fd = open(path, O_WRONLY);

	cr_assert_geq(fd, 0, "open(%s): %s", path, strerror(errno));
	cr_assert_eq(pwrite(fd, buf, n, off), (ssize_t)n);
	cr_assert_eq(fsync(fd), 0);
	close(fd);
}

/* damage -- XOR 'mask' into the byte at 'off'; returns the old byte. */
static unsigned char
damage(const char *path, off_t off, unsigned char mask)
{
	unsigned char old, b;

	file_pread(path, &old, 1, off);
	b = old ^ mask;
	file_pwrite(path, &b, 1, off);
	return old;
}

static void
restore(const char *path, off_t off, unsigned char old)
{
	file_pwrite(path, &old, 1, off);
}

/* sb_seal -- give the superblock at 'off' a right checksum again. */
static void
sb_seal(const char *path, off_t off)
{
	static uint32_t w[SB_CHECKSUM_OFF / 4];
	uint64_t lo = 0, hi = 0, sum;

	file_pread(path, w, sizeof(w), off);
	for (size_t i = 0; i < sizeof(w) / 4; i++) {
		lo += w[i];
		hi += lo;
	}
	sum = hi << 32 | (lo & 0xffffffffu);
	file_pwrite(path, &sum, sizeof(sum), off + SB_CHECKSUM_OFF);
}

/* check_reports -- daxfile_pool_check finds damage and says 'what'. */
static void
check_reports(const char *path, const char *what)
{
	char *report = NULL;
	size_t report_len = 0;
	FILE *out = open_memstream(&report, &report_len);

	cr_assert_not_null(out);
	cr_assert_eq(daxfile_pool_check(path, out), 1, "check: %s",
		daxfile_errormsg());
	fclose(out);
	cr_assert(strstr(report, what) != NULL, "the report does not say '%s': %s",
		what, report);
	free(report);
}

/* close_pool -- close the pool of 'tp', which must work. */
static void
close_pool(struct test_pool *tp)
{
	TEST_OK(daxfile_pool_close(tp->pool));
	tp->pool = NULL;
}

/* closed_pool -- a fresh pool holding one directory, closed. */
static void
closed_pool(struct test_pool *tp, const char *tag)
{
	test_pool_create(tp, tag, TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp->pool, "/kept", 0755));
	close_pool(tp);
}

/* repair_cleans -- the repair of the pool at 'path' mends, check is clean. */
static void
repair_cleans(const char *path)
{
	cr_assert_eq(daxfile_pool_repair(path, NULL), 1, "repair: %s",
		daxfile_errormsg());
	cr_assert_eq(daxfile_pool_check(path, stderr), 0,
		"the pool is not clean after the repair");
}

/*
 * forget_clean_close -- remove the record of the pool's last clean close
 * (daxfile_pool_create(3), NOTES), so that its next open runs the helper.
 */
static void
forget_clean_close(const char *path)
{
	cr_assert_eq(removexattr(path, "user.libdaxfile.closed"), 0,
		"%s has no record of its clean close: %s", path, strerror(errno));
}

/* open_again -- open the closed pool of 'tp', which must work. */
static void
open_again(struct test_pool *tp)
{
	tp->pool = daxfile_pool_open(tp->path);
	cr_assert_not_null(tp->pool, "open(%s): %s", tp->path,
		daxfile_errormsg());
}

/* open_kept -- open the closed pool made by closed_pool: all is there. */
static void
open_kept(struct test_pool *tp)
{
	struct stat st;

	open_again(tp);
	TEST_OK(daxfile_stat(tp->pool, "/kept", &st));
	cr_assert(S_ISDIR(st.st_mode));
}

/* --- the round trip ------------------------------------------------------- */

Test(pool, create_close_open_round_trip_keeps_the_tree_and_file_contents)
{
	struct test_pool tp;
	size_t big_n = 3 * MIB + 12345;
	unsigned char *big = malloc(big_n), small[1000];
	daxfile_dir *d;
	struct dirent *de;
	struct stat st, st_a, st_big;
	int seen = 0;

	cr_assert_not_null(big);
	fill_pattern(big, big_n, 1);
	fill_pattern(small, sizeof(small), 2);
	test_pool_create(&tp, "roundtrip", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/a", 0750));
	TEST_OK(daxfile_mkdir(tp.pool, "/a/b", 0700));
	TEST_OK(daxfile_mkdir(tp.pool, "/empty", 0755));
	write_file(tp.pool, "/a/big", big, big_n);
	write_file(tp.pool, "/a/b/small", small, sizeof(small));
	write_file(tp.pool, "/zero", NULL, 0);
	TEST_OK(daxfile_stat(tp.pool, "/a", &st_a));
	TEST_OK(daxfile_stat(tp.pool, "/a/big", &st_big));

	/* twice: a reopened pool closes and opens again as well */
	for (int round = 0; round < 2; round++) {
		test_pool_reopen(&tp);
		TEST_OK(daxfile_stat(tp.pool, "/a", &st));
		cr_assert(S_ISDIR(st.st_mode));
		cr_assert_eq(st.st_mode & 07777, 0750);
		cr_assert_eq(st.st_ino, st_a.st_ino);
		cr_assert_eq(st.st_nlink, 3);
		cr_assert_eq(st.st_mtim.tv_sec, st_a.st_mtim.tv_sec);
		cr_assert_eq(st.st_mtim.tv_nsec, st_a.st_mtim.tv_nsec);
		TEST_OK(daxfile_stat(tp.pool, "/a/b", &st));
		cr_assert(S_ISDIR(st.st_mode));
		cr_assert_eq(st.st_mode & 07777, 0700);
		TEST_OK(daxfile_stat(tp.pool, "/empty", &st));
		cr_assert(S_ISDIR(st.st_mode));
		TEST_OK(daxfile_stat(tp.pool, "/", &st));
		cr_assert_eq(st.st_nlink, 4, "root has %lu links",
			(unsigned long)st.st_nlink);
		check_file(tp.pool, "/a/big", big, big_n);
		check_file(tp.pool, "/a/b/small", small, sizeof(small));
		check_file(tp.pool, "/zero", NULL, 0);
		TEST_OK(daxfile_stat(tp.pool, "/a/big", &st));
		cr_assert_eq(st.st_ino, st_big.st_ino);
		cr_assert_eq(st.st_blocks, st_big.st_blocks);
		cr_assert_eq(st.st_mode & 07777, 0644);

		d = daxfile_opendir(tp.pool, "/a");
		cr_assert_not_null(d, "opendir: %s", daxfile_errormsg());
		seen = 0;
		while ((de = daxfile_readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0)
				seen |= 1;
			else if (strcmp(de->d_name, "..") == 0)
				seen |= 2;
			else if (strcmp(de->d_name, "b") == 0)
				seen |= 4;
			else if (strcmp(de->d_name, "big") == 0)
				seen |= 8;
			else
				cr_assert_fail("unexpected entry '%s'", de->d_name);
		}
		TEST_OK(daxfile_closedir(d));
		cr_assert_eq(seen, 15, "entries seen: %#x", seen);
	}

	/* the reopened pool takes changes that last too */
	TEST_OK(daxfile_unlink(tp.pool, "/a/big"));
	TEST_OK(daxfile_rmdir(tp.pool, "/empty"));
	test_pool_reopen(&tp);
	FAILS(daxfile_stat(tp.pool, "/a/big", &st), -1, ENOENT);
	FAILS(daxfile_stat(tp.pool, "/empty", &st), -1, ENOENT);
	check_file(tp.pool, "/a/b/small", small, sizeof(small));
	free(big);
	test_pool_destroy(&tp);
}

Test(pool, the_minimum_size_is_accepted)
{
	struct test_pool tp;
	struct statvfs sv;

	test_pool_create(&tp, "minsize", DAXFILE_MIN_POOL_SIZE);
	cr_assert_eq(file_bytes(tp.path), (off_t)DAXFILE_MIN_POOL_SIZE);
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_gt(sv.f_blocks, 0);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	test_pool_reopen(&tp);
	test_pool_destroy(&tp);
}

/* --- bad input to create and open ----------------------------------------- */

Test(pool, create_over_an_existing_file_fails_with_eexist)
{
	struct test_pool tp;
	char path[256];
	struct stat st;
	int fd;

	/* a plain file */
	test_pool_path(path, sizeof(path), "exist");
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "keep", 4), 4);
	close(fd);
	FAILS(daxfile_pool_create(path, TEST_POOL_SIZE, 0600), NULL, EEXIST);
	cr_assert_eq(file_bytes(path), 4, "the existing file was changed");
	unlink(path);

	/* a pool, closed and then open */
	test_pool_create(&tp, "exist", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	FAILS(daxfile_pool_create(tp.path, TEST_POOL_SIZE, 0600), NULL, EEXIST);
	TEST_OK(daxfile_stat(tp.pool, "/d", &st));
	test_pool_reopen(&tp);
	close_pool(&tp);
	FAILS(daxfile_pool_create(tp.path, TEST_POOL_SIZE, 0600), NULL, EEXIST);
	open_again(&tp);
	TEST_OK(daxfile_stat(tp.pool, "/d", &st));
	test_pool_destroy(&tp);
}

Test(pool, create_below_the_minimum_size_fails_with_einval)
{
	const uint64_t sizes[] = {0, 4096, DAXFILE_MIN_POOL_SIZE - 1};
	char path[256];
	struct stat st;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		test_pool_path(path, sizeof(path), "small");
		FAILS(daxfile_pool_create(path, sizes[i], 0600), NULL, EINVAL);
		cr_assert_neq(stat(path, &st), 0,
			"a failed create left a file of size %lu",
			(unsigned long)sizes[i]);
	}
}

Test(pool, open_of_a_missing_path_fails_with_enoent)
{
	char path[256];

	test_pool_path(path, sizeof(path), "missing");
	FAILS(daxfile_pool_open(path), NULL, ENOENT);
	FAILS(daxfile_pool_check(path, NULL), -1, ENOENT);
}

Test(pool, open_of_a_file_of_random_bytes_fails_with_einval)
{
	size_t n = 16 * MIB;
	uint64_t *buf = malloc(n), *again = malloc(n);
	char path[256];
	int fd;

	cr_assert_not_null(buf);
	cr_assert_not_null(again);
	rng_state = 0x5eed;
	for (size_t i = 0; i < n / 8; i++)
		buf[i] = rng_next();
	test_pool_path(path, sizeof(path), "random");
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, buf, n), (ssize_t)n);
	close(fd);

	FAILS(daxfile_pool_open(path), NULL, EINVAL);
	/* the failed open left the file as it was */
	file_pread(path, again, n, 0);
	cr_assert(memcmp(buf, again, n) == 0, "open changed the file");
	FAILS(daxfile_pool_create(path, TEST_POOL_SIZE, 0600), NULL, EEXIST);

	/* an empty file is not a pool either */
	cr_assert_eq(truncate(path, 0), 0);
	FAILS(daxfile_pool_open(path), NULL, EINVAL);
	unlink(path);
	free(buf);
	free(again);
}

Test(pool, a_damaged_superblock_is_read_through_its_copy_and_check_reports_it)
{
	const off_t offs[] = {0, 7, SB_VERSION_OFF, SB_POOL_SIZE_OFF,
		SB_UUID_OFF + 15};
	struct test_pool tp;
	unsigned char old;
	off_t sb;

	closed_pool(&tp, "sbcopy");
	sb = sb_offset(tp.path);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		old = damage(tp.path, sb + offs[i], 0x21);
		open_kept(&tp);
		close_pool(&tp);
		check_reports(tp.path, "its copy");
		restore(tp.path, sb + offs[i], old);
	}
	open_kept(&tp);
	test_pool_destroy(&tp);
}

Test(pool, check_reports_a_damaged_copy_of_the_superblock)
{
	struct test_pool tp;
	off_t offs[SB_MAX];
	unsigned char old;

	closed_pool(&tp, "sbcopybad");
	sb_offsets(tp.path, offs);
	old = damage(tp.path, offs[1] + SB_UUID_OFF, 0x10);
	check_reports(tp.path, "copies damaged");
	open_kept(&tp);
	close_pool(&tp);
	restore(tp.path, offs[1] + SB_UUID_OFF, old);
	open_kept(&tp);
	test_pool_destroy(&tp);
}

Test(pool, open_of_a_pool_whose_superblock_and_copies_are_damaged_fails_with_euclean)
{
	const off_t where[] = {0, SB_POOL_SIZE_OFF + 7, SB_UUID_OFF};
	struct test_pool tp;
	unsigned char old[SB_MAX];
	off_t offs[SB_MAX];
	int n;

	closed_pool(&tp, "sball");
	n = sb_offsets(tp.path, offs);
	for (size_t w = 0; w < sizeof(where) / sizeof(where[0]); w++) {
		for (int i = 0; i < n; i++)
			old[i] = damage(tp.path, offs[i] + where[w], 0x01);
		FAILS(daxfile_pool_open(tp.path), NULL, EUCLEAN);
		cr_assert(strstr(daxfile_errormsg(), "superblock") != NULL,
			"'%s' does not name the superblock", daxfile_errormsg());
		check_reports(tp.path, "superblock");
		for (int i = 0; i < n; i++)
			restore(tp.path, offs[i] + where[w], old[i]);
	}
	open_kept(&tp);
	test_pool_destroy(&tp);
}

Test(pool, open_of_a_pool_of_another_version_fails_with_eproto)
{
	struct test_pool tp;
	uint32_t version, other;
	off_t offs[SB_MAX];
	int n;

	closed_pool(&tp, "version");
	n = sb_offsets(tp.path, offs);
	file_pread(tp.path, &version, sizeof(version), offs[0] + SB_VERSION_OFF);
	cr_assert_gt(version, 0, "on-media version %u", version);
	for (int v = 0; v < 2; v++) {
		other = v == 0 ? version + 1 : 0;
		for (int i = 0; i < n; i++) {
			file_pwrite(tp.path, &other, sizeof(other),
				offs[i] + SB_VERSION_OFF);
			sb_seal(tp.path, offs[i]);
		}
		FAILS(daxfile_pool_open(tp.path), NULL, EPROTO);
		/* nothing to check of a format this library does not read */
		FAILS(daxfile_pool_check(tp.path, NULL), -1, EPROTO);
	}
	for (int i = 0; i < n; i++) {
		file_pwrite(tp.path, &version, sizeof(version),
			offs[i] + SB_VERSION_OFF);
		sb_seal(tp.path, offs[i]);
	}
	open_kept(&tp);
	test_pool_destroy(&tp);
}

Test(pool, open_of_a_truncated_pool_fails_with_euclean_and_says_truncated)
{
	struct test_pool tp;
	off_t size;

	closed_pool(&tp, "truncated");
	size = file_bytes(tp.path);
	/* past libpmemobj's minimum, then short of it */
	for (off_t cut = size / 2; cut > 0; cut = cut > (4 << 20) ? 3 << 20 : 0) {
		cr_assert_eq(truncate(tp.path, cut), 0, "truncate: %s",
			strerror(errno));
		FAILS(daxfile_pool_open(tp.path), NULL, EUCLEAN);
		cr_assert(strstr(daxfile_errormsg(), "truncated") != NULL,
			"'%s' does not say truncated", daxfile_errormsg());
		check_reports(tp.path, "truncated");
	}
	unlink(tp.path);
}

/* heap_offset -- where libpmemobj's heap starts in the pool file. */
static off_t
heap_offset(const char *path)
{
	uint64_t off;

	file_pread(path, &off, sizeof(off), PMEMOBJ_HEAP_OFFSET_OFF);
	cr_assert_gt(off, 4096, "heap offset %lu", (unsigned long)off);
	return (off_t)off;
}

Test(pool, open_of_a_pool_libpmemobj_refuses_or_crashes_on_fails_with_euclean)
{
	struct test_pool tp;
	unsigned char junk[256];
	off_t at[2];

	closed_pool(&tp, "pmemobjbad");
	/* the heap header (checksummed) and the first lanes */
	at[0] = heap_offset(tp.path);
	at[1] = 2 * 4096;
	memset(junk, 0xa5, sizeof(junk));
	for (int i = 0; i < 2; i++) {
		char *copy = malloc(sizeof(junk));

		cr_assert_not_null(copy);
		file_pread(tp.path, copy, sizeof(junk), at[i]);
		file_pwrite(tp.path, junk, sizeof(junk), at[i]);
		FAILS(daxfile_pool_open(tp.path), NULL, EUCLEAN);
		cr_assert(strstr(daxfile_errormsg(), "damaged") != NULL &&
			strstr(daxfile_errormsg(), "Unknown error") == NULL,
			"damage at %ld: '%s'", (long)at[i], daxfile_errormsg());
		check_reports(tp.path, "libpmemobj");
		file_pwrite(tp.path, copy, sizeof(junk), at[i]);
		free(copy);
	}
	open_kept(&tp);
	test_pool_destroy(&tp);
}

Test(pool, a_second_open_of_an_open_pool_fails_with_ebusy)
{
	struct test_pool tp;
	struct stat st;

	test_pool_create(&tp, "busy", TEST_POOL_SIZE);
	FAILS(daxfile_pool_open(tp.path), NULL, EBUSY);
	cr_assert(strstr(daxfile_errormsg(), "this process") != NULL,
		"'%s' does not say who has it open", daxfile_errormsg());
	/* the first handle is unharmed */
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	test_pool_reopen(&tp);
	FAILS(daxfile_pool_open(tp.path), NULL, EBUSY);
	TEST_OK(daxfile_stat(tp.pool, "/d", &st));
	/* the checker does not open a pool in use */
	FAILS(daxfile_pool_check(tp.path, NULL), -1, EBUSY);
	TEST_OK(daxfile_mkdir(tp.pool, "/d/e", 0755));
	test_pool_destroy(&tp);
}

Test(pool, an_open_of_a_pool_another_process_has_open_names_that_process)
{
	struct test_pool tp;
	char pid[32];
	int ready[2], go[2];
	pid_t child;
	char c;

	closed_pool(&tp, "busyother");
	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(go), 0);
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		daxfile_pool *p;

		/* a failed test's parent dies: then read() sees EOF */
		close(ready[0]);
		close(go[1]);
		p = daxfile_pool_open(tp.path);
		c = p != NULL ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(p != NULL && daxfile_pool_close(p) == 0 ? 0 : 1);
	}
	close(ready[1]);
	close(go[0]);
	cr_assert_eq(read(ready[0], &c, 1), 1);
	cr_assert_eq(c, 'y', "the child could not open the pool");
	FAILS(daxfile_pool_open(tp.path), NULL, EBUSY);
	snprintf(pid, sizeof(pid), "process %d", (int)child);
	cr_assert(strstr(daxfile_errormsg(), pid) != NULL,
		"'%s' does not name %s", daxfile_errormsg(), pid);
	FAILS(daxfile_pool_check(tp.path, NULL), -1, EBUSY);
	cr_assert_eq(write(go[1], "x", 1), 1);
	cr_assert_eq(waitpid(child, NULL, 0), child);
	open_kept(&tp);
	test_pool_destroy(&tp);
}

Test(pool, an_open_without_its_helper_is_refused_and_says_why)
{
	struct test_pool tp;
	char *saved = getenv("DAXFILE_PROBE");

	closed_pool(&tp, "nohelper");
	forget_clean_close(tp.path);
	saved = saved != NULL ? strdup(saved) : NULL;
	setenv("DAXFILE_PROBE", "/nonexistent/daxfile-probe", 1);
	FAILS(daxfile_pool_open(tp.path), NULL, ENOENT);
	cr_assert(strstr(daxfile_errormsg(), "DAXFILE_PROBE") != NULL,
		"'%s' does not say what is missing", daxfile_errormsg());
	FAILS(daxfile_pool_check(tp.path, NULL), -1, ENOENT);
	if (saved != NULL)
		setenv("DAXFILE_PROBE", saved, 1);
	else
		unsetenv("DAXFILE_PROBE");
	free(saved);
	open_kept(&tp);
	test_pool_destroy(&tp);
}

Test(pool, a_pool_closed_cleanly_opens_without_the_helper_once)
{
	struct test_pool tp;
	char *saved = getenv("DAXFILE_PROBE");
	pid_t child;
	int status;

	closed_pool(&tp, "sealed");
	saved = saved != NULL ? strdup(saved) : NULL;
	setenv("DAXFILE_PROBE", "/nonexistent/daxfile-probe", 1);
	/* what libpmemobj reads at open is as the clean close left it */
	open_kept(&tp);
	close_pool(&tp);
	/* a process that ends with the pool open: the next open is probed */
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0)
		_exit(daxfile_pool_open(tp.path) != NULL ? 0 : 1);
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"the child could not open the pool");
	FAILS(daxfile_pool_open(tp.path), NULL, ENOENT);
	if (saved != NULL)
		setenv("DAXFILE_PROBE", saved, 1);
	else
		unsetenv("DAXFILE_PROBE");
	free(saved);
	open_kept(&tp);
	test_pool_destroy(&tp);
}

Test(pool, the_helper_s_verdict_holds_in_a_process_that_ignores_sigchld)
{
	unsigned char lanes[65536];
	struct test_pool tp;

	closed_pool(&tp, "sigign");
	cr_assert_neq(signal(SIGCHLD, SIG_IGN), SIG_ERR);
	open_kept(&tp);
	close_pool(&tp);
	/* libpmemobj crashes on it: only the helper's words can say so */
	memset(lanes, 0xff, sizeof(lanes));
	file_pwrite(tp.path, lanes, sizeof(lanes), 8192);
	FAILS(daxfile_pool_open(tp.path), NULL, EUCLEAN);
	cr_assert(strstr(daxfile_errormsg(), "crashes") != NULL, "%s",
		daxfile_errormsg());
	cr_assert_eq(daxfile_pool_check(tp.path, NULL), 1);
	signal(SIGCHLD, SIG_DFL);
	unlink(tp.path);
}

/* with_helper -- run the helper through a shell 'script' of its own. */
static char *
with_helper(const char *tag, const char *script)
{
	static char path[300];
	char *saved = getenv("DAXFILE_PROBE");
	FILE *f;

	snprintf(path, sizeof(path), "%s/daxfile-test-%s-%d.sh",
		getenv("DAXFILE_TEST_DIR") ? getenv("DAXFILE_TEST_DIR") : "/dev/shm",
		tag, (int)getpid());
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", script);
	fclose(f);
	cr_assert_eq(chmod(path, 0700), 0);
	saved = saved != NULL ? strdup(saved) : NULL;
	setenv("DAXFILE_PROBE", path, 1);
	return saved;
}

/* helper_back -- undo with_helper. */
static void
helper_back(char *saved)
{
	char path[300];

	snprintf(path, sizeof(path), "%s", getenv("DAXFILE_PROBE"));
	unlink(path);
	if (saved != NULL)
		setenv("DAXFILE_PROBE", saved, 1);
	else
		unsetenv("DAXFILE_PROBE");
	free(saved);
}

/* seconds_since -- the time since 't0' (CLOCK_MONOTONIC). */
static double
seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
		(double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

Test(pool, an_open_that_libpmemobj_stalls_on_is_given_up_within_seconds)
{
	struct test_pool tp;
	struct timespec t0;
	char *saved;

	closed_pool(&tp, "stall");
	forget_clean_close(tp.path);
	/* a helper that starts, then never says more: a looping libpmemobj */
	saved = with_helper("stall", "head -c 8 /dev/zero; exec sleep 60");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	FAILS(daxfile_pool_open(tp.path), NULL, EUCLEAN);
	cr_assert(strstr(daxfile_errormsg(), "stalls") != NULL, "%s",
		daxfile_errormsg());
	cr_assert_lt(seconds_since(&t0), 6.0, "the open waited %.1f s",
		seconds_since(&t0));
	helper_back(saved);
	open_kept(&tp);
	test_pool_destroy(&tp);
}

Test(pool, a_helper_slow_to_start_is_waited_for)
{
	char script[600];
	struct test_pool tp;
	char *saved;

	cr_assert_not_null(getenv("DAXFILE_PROBE"), "make check names the helper");
	closed_pool(&tp, "slowstart");
	forget_clean_close(tp.path);
	snprintf(script, sizeof(script), "sleep 4; exec '%s' \"$@\"",
		getenv("DAXFILE_PROBE"));
	saved = with_helper("slowstart", script);
	open_kept(&tp);
	close_pool(&tp);
	helper_back(saved);
	open_kept(&tp);
	test_pool_destroy(&tp);
}

Test(pool, close_with_an_open_file_fails_with_ebusy_and_the_pool_keeps_working)
{
	struct test_pool tp;
	unsigned char buf[5000], back[5000];
	daxfile_file *f;
	struct stat st;

	fill_pattern(buf, sizeof(buf), 3);
	test_pool_create(&tp, "closebusy", TEST_POOL_SIZE);
	f = daxfile_open(tp.pool, "/f", O_CREAT | O_RDWR, 0644);
	cr_assert_not_null(f, "open: %s", daxfile_errormsg());
	FAILS(daxfile_pool_close(tp.pool), -1, EBUSY);

	/* the pool and the file still work */
	cr_assert_eq(daxfile_write(f, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	TEST_OK(daxfile_stat(tp.pool, "/f", &st));
	cr_assert_eq(st.st_size, (off_t)sizeof(buf));
	cr_assert_eq(daxfile_pread(f, back, sizeof(back), 0),
		(ssize_t)sizeof(back));
	cr_assert(memcmp(buf, back, sizeof(buf)) == 0);
	FAILS(daxfile_pool_close(tp.pool), -1, EBUSY);
	TEST_OK(daxfile_close(f));

	/* once the file is closed the pool closes, and kept everything */
	test_pool_reopen(&tp);
	check_file(tp.pool, "/f", buf, sizeof(buf));
	TEST_OK(daxfile_stat(tp.pool, "/d", &st));
	test_pool_destroy(&tp);
}

Test(pool, close_with_an_open_directory_stream_fails_with_ebusy)
{
	struct test_pool tp;
	daxfile_dir *d;
	daxfile_file *f1, *f2;
	struct stat st;

	test_pool_create(&tp, "closedir", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	d = daxfile_opendir(tp.pool, "/d");
	cr_assert_not_null(d, "opendir: %s", daxfile_errormsg());
	FAILS(daxfile_pool_close(tp.pool), -1, EBUSY);
	cr_assert_not_null(daxfile_readdir(d), "readdir: %s",
		daxfile_errormsg());
	TEST_OK(daxfile_mkdir(tp.pool, "/d/e", 0755));
	TEST_OK(daxfile_closedir(d));

	/* two handles of one file and a directory handle: all must go */
	f1 = daxfile_open(tp.pool, "/g", O_CREAT | O_WRONLY, 0644);
	cr_assert_not_null(f1);
	f2 = daxfile_open(tp.pool, "/g", O_RDONLY);
	cr_assert_not_null(f2);
	TEST_OK(daxfile_close(f1));
	FAILS(daxfile_pool_close(tp.pool), -1, EBUSY);
	TEST_OK(daxfile_close(f2));
	f1 = daxfile_open(tp.pool, "/d", O_RDONLY | O_DIRECTORY);
	cr_assert_not_null(f1, "open of a directory: %s", daxfile_errormsg());
	FAILS(daxfile_pool_close(tp.pool), -1, EBUSY);
	TEST_OK(daxfile_close(f1));

	test_pool_reopen(&tp);
	TEST_OK(daxfile_stat(tp.pool, "/d/e", &st));
	test_pool_destroy(&tp);
}

Test(pool, a_null_or_closed_pool_handle_fails_with_einval_everywhere)
{
	struct test_pool tp;
	daxfile_pool *handles[2];
	struct statvfs sv;
	struct stat st;

	test_pool_create(&tp, "nullpool", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	handles[0] = NULL;
	handles[1] = tp.pool;	/* a handle that was open once */
	close_pool(&tp);
	for (int i = 0; i < 2; i++) {
		daxfile_pool *p = handles[i];

		FAILS(daxfile_pool_close(p), -1, EINVAL);
		FAILS(daxfile_statvfs(p, &sv), -1, EINVAL);
		FAILS(daxfile_open(p, "/d", O_RDONLY), NULL, EINVAL);
		FAILS(daxfile_open(p, "/f", O_CREAT | O_RDWR, 0644), NULL, EINVAL);
		FAILS(daxfile_mkdir(p, "/x", 0755), -1, EINVAL);
		FAILS(daxfile_rmdir(p, "/d"), -1, EINVAL);
		FAILS(daxfile_unlink(p, "/f"), -1, EINVAL);
		FAILS(daxfile_rename(p, "/d", "/e"), -1, EINVAL);
		FAILS(daxfile_stat(p, "/", &st), -1, EINVAL);
		FAILS(daxfile_opendir(p, "/"), NULL, EINVAL);
	}

	/* nothing reached the closed pool */
	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool, "open: %s", daxfile_errormsg());
	TEST_OK(daxfile_stat(tp.pool, "/d", &st));
	FAILS(daxfile_stat(tp.pool, "/x", &st), -1, ENOENT);
	FAILS(daxfile_stat(tp.pool, "/e", &st), -1, ENOENT);
	FAILS(daxfile_stat(tp.pool, "/f", &st), -1, ENOENT);
	test_pool_destroy(&tp);
}

Test(pool, error_messages_name_each_failure)
{
	char path[256], first[512];

	test_pool_path(path, sizeof(path), "errmsg");
	FAILS(daxfile_pool_create(path, 4096, 0600), NULL, EINVAL);
	snprintf(first, sizeof(first), "%s", daxfile_errormsg());
	FAILS(daxfile_pool_open(path), NULL, ENOENT);
	cr_assert_str_neq(daxfile_errormsg(), first,
		"the message of an earlier failure was kept: '%s'", first);
}

Test(pool, an_error_message_names_only_its_own_failure)
{
	char first[256], second[256], nodir[256];

	test_pool_path(first, sizeof(first), "errfirst");
	test_pool_path(second, sizeof(second), "errsecond");
	test_pool_path(nodir, sizeof(nodir), "errnodir");
	strcat(nodir, ".d/pool");
	/* three failures with one errno, each about another path */
	FAILS(daxfile_pool_open(first), NULL, ENOENT);
	cr_assert(strstr(daxfile_errormsg(), first) != NULL,
		"'%s' does not name %s", daxfile_errormsg(), first);
	FAILS(daxfile_pool_open(second), NULL, ENOENT);
	cr_assert(strstr(daxfile_errormsg(), first) == NULL,
		"the message of a later failure names the earlier one: '%s'",
		daxfile_errormsg());
	FAILS(daxfile_pool_create(nodir, TEST_POOL_SIZE, 0600), NULL, ENOENT);
	cr_assert(strstr(daxfile_errormsg(), second) == NULL,
		"the message of a later failure names the earlier one: '%s'",
		daxfile_errormsg());
	FAILS(daxfile_pool_open(second), NULL, ENOENT);
	cr_assert(strstr(daxfile_errormsg(), nodir) == NULL,
		"the message of a later failure names the earlier one: '%s'",
		daxfile_errormsg());
}

/* --- the checker ---------------------------------------------------------- */

Test(pool, check_is_clean_on_a_fresh_and_on_a_used_pool)
{
	struct test_pool tp;
	unsigned char buf[70000];
	char *report = NULL;
	size_t report_len = 0;
	FILE *out;

	fill_pattern(buf, sizeof(buf), 4);
	test_pool_create(&tp, "checkclean", TEST_POOL_SIZE);
	close_pool(&tp);
	out = open_memstream(&report, &report_len);
	cr_assert_not_null(out);
	cr_assert_eq(daxfile_pool_check(tp.path, out), 0, "fresh pool: %s",
		daxfile_errormsg());
	fclose(out);
	cr_assert_eq(report_len, 0, "report of a clean pool: %s", report);
	free(report);

	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool);
	TEST_OK(daxfile_mkdir(tp.pool, "/a", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/a/b", 0755));
	write_file(tp.pool, "/a/b/f", buf, sizeof(buf));
	write_file(tp.pool, "/g", buf, 100);
	TEST_OK(daxfile_rename(tp.pool, "/a/b", "/b"));
	TEST_OK(daxfile_unlink(tp.pool, "/g"));
	close_pool(&tp);
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0);
	cr_assert_eq(daxfile_pool_check(tp.path, NULL), 0);
	/* checking changes nothing: the pool opens and is the same */
	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool);
	check_file(tp.pool, "/b/f", buf, sizeof(buf));
	test_pool_destroy(&tp);
}

/* --- damage: repair and salvage ---------------------------------------------- */

/* magic_offset -- where the first 8-byte 'magic' is in the pool file. */
static off_t
magic_offset(const char *path, const char *magic)
{
	off_t size = file_bytes(path);
	int fd = open(path, O_RDONLY);
	const char *map, *p;
	off_t off;

	cr_assert_geq(fd, 0);
	map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	cr_assert_neq(map, MAP_FAILED);
	p = memmem(map, (size_t)size, magic, 8);
	cr_assert_not_null(p, "no %s in %s", magic, path);
	off = p - map;
	munmap((void *)map, (size_t)size);
	close(fd);
	return off;
}

/* host_file_is -- the host file 'path' holds exactly 'n' bytes of 'want'. */
static void
host_file_is(const char *path, const void *want, size_t n)
{
	unsigned char *buf = malloc(n + 1);

	cr_assert_not_null(buf);
	cr_assert_eq(file_bytes(path), (off_t)n, "%s has the wrong size", path);
	file_pread(path, buf, n, 0);
	cr_assert(memcmp(buf, want, n) == 0, "%s differs", path);
	free(buf);
}

/* salvage_dir -- a fresh name for a salvage's directory on the host. */
static void
salvage_dir(char *buf, size_t n, const struct test_pool *tp)
{
	snprintf(buf, n, "%s.saved", tp->path);
}

/* rm_tree -- remove a host directory tree. */
static void
rm_tree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(pool, salvage_copies_every_file_of_a_pool_libpmemobj_crashes_on)
{
	static unsigned char a[100000], b[5000];
	unsigned char lanes[65536];
	struct test_pool tp;
	char dir[300], path[400];
	FILE *report;
	char *text = NULL;
	size_t len = 0;

	fill_pattern(a, sizeof(a), 1);
	fill_pattern(b, sizeof(b), 2);
	test_pool_create(&tp, "salvage", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0750));
	write_file(tp.pool, "/d/a", a, sizeof(a));
	write_file(tp.pool, "/b", b, sizeof(b));
	close_pool(&tp);
	/* libpmemobj's lanes, from 8 KiB on */
	memset(lanes, 0xff, sizeof(lanes));
	file_pwrite(tp.path, lanes, sizeof(lanes), 8192);
	FAILS(daxfile_pool_open(tp.path), NULL, EUCLEAN);

	salvage_dir(dir, sizeof(dir), &tp);
	report = open_memstream(&text, &len);
	cr_assert_eq(daxfile_pool_salvage(tp.path, dir, report), 0, "%s",
		daxfile_errormsg());
	fclose(report);
	cr_assert(strstr(text, "without libpmemobj") != NULL, "%s", text);
	free(text);
	snprintf(path, sizeof(path), "%s/d/a", dir);
	host_file_is(path, a, sizeof(a));
	snprintf(path, sizeof(path), "%s/b", dir);
	host_file_is(path, b, sizeof(b));
	/* into a directory that is not empty: refused */
	FAILS(daxfile_pool_salvage(tp.path, dir, NULL), -1, EEXIST);
	rm_tree(dir);
	unlink(tp.path);
}

Test(pool, salvage_keeps_links_symbolic_links_owners_and_extended_attributes)
{
	static unsigned char a[30000];
	static char longtarget[300];
	unsigned char lanes[65536];
	struct test_pool tp;
	char dir[300], path[400], path2[400], buf[400];
	struct stat st, st2;
	ssize_t n;

	fill_pattern(a, sizeof(a), 5);
	memset(longtarget, 'x', sizeof(longtarget) - 1);
	test_pool_create(&tp, "salvagelinks", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0750));
	write_file(tp.pool, "/d/a", a, sizeof(a));
	TEST_OK(daxfile_link(tp.pool, "/d/a", "/a2"));
	TEST_OK(daxfile_symlink(tp.pool, "d/a", "/short"));
	TEST_OK(daxfile_symlink(tp.pool, longtarget, "/long"));
	TEST_OK(daxfile_setxattr(tp.pool, "/d/a", "user.colour", "blue", 4, 0));
	TEST_OK(daxfile_chown(tp.pool, "/d/a", 1234, 5678));
	close_pool(&tp);
	/* libpmemobj's lanes: the pool is read without it */
	memset(lanes, 0xff, sizeof(lanes));
	file_pwrite(tp.path, lanes, sizeof(lanes), 8192);

	salvage_dir(dir, sizeof(dir), &tp);
	cr_assert_eq(daxfile_pool_salvage(tp.path, dir, stderr), 0, "%s",
		daxfile_errormsg());
	snprintf(path, sizeof(path), "%s/d/a", dir);
	snprintf(path2, sizeof(path2), "%s/a2", dir);
	host_file_is(path, a, sizeof(a));
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(stat(path2, &st2), 0);
	cr_assert_eq(st.st_ino, st2.st_ino, "a second name is a hard link");
	cr_assert_eq(st.st_nlink, 2);
	cr_assert_eq(st.st_uid, 1234);
	cr_assert_eq(st.st_gid, 5678);
	n = getxattr(path, "user.colour", buf, sizeof(buf));
	cr_assert_eq(n, 4, "user.colour: %s", strerror(errno));
	cr_assert(memcmp(buf, "blue", 4) == 0);
	snprintf(path, sizeof(path), "%s/short", dir);
	n = readlink(path, buf, sizeof(buf));
	cr_assert_eq(n, 3, "readlink %s: %s", path, strerror(errno));
	cr_assert(memcmp(buf, "d/a", 3) == 0);
	snprintf(path, sizeof(path), "%s/long", dir);
	n = readlink(path, buf, sizeof(buf));
	cr_assert_eq(n, (ssize_t)strlen(longtarget));
	cr_assert(memcmp(buf, longtarget, (size_t)n) == 0);
	rm_tree(dir);
	unlink(tp.path);
}

Test(pool, salvage_puts_what_a_damaged_entry_cut_off_into_lost_and_found)
{
	static unsigned char a[20000];
	struct test_pool tp;
	char dir[300], path[400];
	struct stat st;
	off_t dirent;

	fill_pattern(a, sizeof(a), 3);
	test_pool_create(&tp, "lostfound", TEST_POOL_SIZE);
	write_file(tp.pool, "/only", a, sizeof(a));
	TEST_OK(daxfile_stat(tp.pool, "/only", &st));
	close_pool(&tp);
	/* the one directory entry: its magic */
	dirent = magic_offset(tp.path, "DXDENT\0\0");
	damage(tp.path, dirent, 0xff);
	check_reports(tp.path, "damaged entry chains");

	salvage_dir(dir, sizeof(dir), &tp);
	cr_assert_eq(daxfile_pool_salvage(tp.path, dir, NULL), 1);
	snprintf(path, sizeof(path), "%s/lost+found/#%lu", dir,
		(unsigned long)st.st_ino);
	host_file_is(path, a, sizeof(a));
	rm_tree(dir);
	unlink(tp.path);
}

Test(pool, check_reports_one_damaged_entry_once_not_once_per_file_it_hides)
{
	struct test_pool tp;
	char *report = NULL, path[64];
	size_t report_len = 0, lines = 0;
	FILE *out;

	test_pool_create(&tp, "overreport", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	for (int i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "/d/f%d", i);
		write_file(tp.pool, path, "x", 1);
	}
	close_pool(&tp);
	damage(tp.path, magic_offset(tp.path, "DXDENT\0\0"), 0xff);
	out = open_memstream(&report, &report_len);
	cr_assert_not_null(out);
	cr_assert_eq(daxfile_pool_check(tp.path, out), 1);
	fclose(out);
	for (size_t i = 0; i < report_len; i++)
		lines += report[i] == '\n';
	cr_assert_leq(lines, 2, "one damaged entry, %zu lines: %s", lines,
		report);
	cr_assert(strstr(report, "damaged entry chains") != NULL, "%s", report);
	free(report);
	unlink(tp.path);
}

Test(pool, repair_removes_an_entry_that_names_a_damaged_inode_and_frees_its_blocks_and_attributes)
{
	static unsigned char a[200000];
	struct statvfs before, after;
	struct test_pool tp;
	struct stat st;

	fill_pattern(a, sizeof(a), 4);
	test_pool_create(&tp, "repairino", TEST_POOL_SIZE);
	write_file(tp.pool, "/kept", a, 100);
	TEST_OK(daxfile_statvfs(tp.pool, &before));
	write_file(tp.pool, "/lost", a, sizeof(a));
	TEST_OK(daxfile_setxattr(tp.pool, "/lost", "user.a", "1", 1, 0));
	TEST_OK(daxfile_setxattr(tp.pool, "/lost", "trusted.b", "2", 1, 0));
	TEST_OK(daxfile_stat(tp.pool, "/lost", &st));
	close_pool(&tp);
	/* an inode number is the inode's offset: damage its magic */
	damage(tp.path, (off_t)st.st_ino, 0xff);
	check_reports(tp.path, "not a live inode");
	open_again(&tp);
	FAILS(daxfile_stat(tp.pool, "/lost", &st), -1, EUCLEAN);
	close_pool(&tp);

	repair_cleans(tp.path);
	open_again(&tp);
	FAILS(daxfile_stat(tp.pool, "/lost", &st), -1, ENOENT);
	check_file(tp.pool, "/kept", a, 100);
	TEST_OK(daxfile_statvfs(tp.pool, &after));
	cr_assert_eq(after.f_bfree, before.f_bfree,
		"%lu blocks free after the repair, %lu before /lost was written",
		(unsigned long)after.f_bfree, (unsigned long)before.f_bfree);
	test_pool_destroy(&tp);
}

Test(pool, repair_rebuilds_a_damaged_ag_header)
{
	static unsigned char a[300000];
	struct test_pool tp;
	off_t ag;

	fill_pattern(a, sizeof(a), 5);
	test_pool_create(&tp, "repairag", TEST_POOL_SIZE);
	write_file(tp.pool, "/f", a, sizeof(a));
	close_pool(&tp);
	ag = magic_offset(tp.path, "DXAGHDR\0");
	for (int i = 0; i < 48; i++)
		damage(tp.path, ag + i, 0x5a);
	FAILS(daxfile_pool_open(tp.path), NULL, EUCLEAN);
	check_reports(tp.path, "damaged header");
	repair_cleans(tp.path);
	open_again(&tp);
	check_file(tp.pool, "/f", a, sizeof(a));
	write_file(tp.pool, "/g", a, sizeof(a));
	check_file(tp.pool, "/f", a, sizeof(a));
	test_pool_destroy(&tp);
}

Test(pool, repair_writes_a_damaged_superblock_again_from_its_copy)
{
	struct test_pool tp;
	off_t sb;

	closed_pool(&tp, "repairsb");
	sb = sb_offset(tp.path);
	damage(tp.path, sb + SB_UUID_OFF, 0x10);
	repair_cleans(tp.path);
	cr_assert_eq(daxfile_pool_repair(tp.path, NULL), 0);
	open_kept(&tp);
	test_pool_destroy(&tp);
}

Test(pool, size_for_gives_the_smallest_pool_that_holds_the_bytes_asked)
{
	const uint64_t asks[] = {1 << 20, 20 << 20, 100 << 20};

	for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
		uint64_t size = daxfile_pool_size_for(asks[i]);
		struct test_pool tp;
		struct statvfs sv;

		cr_assert_geq(size, DAXFILE_MIN_POOL_SIZE);
		test_pool_create(&tp, "sizefor", size);
		TEST_OK(daxfile_statvfs(tp.pool, &sv));
		cr_assert_geq((uint64_t)sv.f_blocks * sv.f_frsize, asks[i],
			"a pool of %lu bytes holds %lu, not %lu",
			(unsigned long)size,
			(unsigned long)(sv.f_blocks * sv.f_frsize),
			(unsigned long)asks[i]);
		test_pool_destroy(&tp);
		if (size > DAXFILE_MIN_POOL_SIZE) {
			test_pool_create(&tp, "sizefor", size - (1 << 20));
			TEST_OK(daxfile_statvfs(tp.pool, &sv));
			cr_assert_lt((uint64_t)sv.f_blocks * sv.f_frsize, asks[i],
				"a smaller pool holds %lu bytes too",
				(unsigned long)asks[i]);
			test_pool_destroy(&tp);
		}
	}
	errno = 0;
	cr_assert_eq(daxfile_pool_size_for(UINT64_MAX / 2), 0);
	cr_assert_eq(errno, EFBIG);
}

/* --- statvfs -------------------------------------------------------------- */

Test(pool, statvfs_counts_blocks_exactly)
{
	struct test_pool tp;
	size_t n = MIB;
	unsigned char *buf = malloc(n);
	struct statvfs fresh, sv;

	cr_assert_not_null(buf);
	fill_pattern(buf, n, 5);
	test_pool_create(&tp, "statvfs", TEST_POOL_SIZE);
	TEST_OK(daxfile_statvfs(tp.pool, &fresh));
	cr_assert_eq(fresh.f_bsize, 4096);
	cr_assert_gt(fresh.f_blocks, 0);
	cr_assert_lt((uint64_t)fresh.f_blocks * 4096, TEST_POOL_SIZE,
		"%lu blocks do not fit the pool", (unsigned long)fresh.f_blocks);
	cr_assert_eq(fresh.f_bfree, fresh.f_blocks,
		"a fresh pool has %lu of %lu blocks free",
		(unsigned long)fresh.f_bfree, (unsigned long)fresh.f_blocks);

	/* directories and empty files take no data blocks */
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	write_file(tp.pool, "/d/empty", NULL, 0);
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_eq(sv.f_bfree, fresh.f_bfree);

	write_file(tp.pool, "/d/f", buf, n);
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_eq(sv.f_bsize, 4096);
	cr_assert_eq(sv.f_blocks, fresh.f_blocks);
	cr_assert_eq(sv.f_bfree, fresh.f_bfree - 256,
		"after a 1 MiB file: %lu free, expected %lu",
		(unsigned long)sv.f_bfree, (unsigned long)(fresh.f_bfree - 256));

	/* the count lasts across a reopen */
	test_pool_reopen(&tp);
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_eq(sv.f_blocks, fresh.f_blocks);
	cr_assert_eq(sv.f_bfree, fresh.f_bfree - 256);

	TEST_OK(daxfile_unlink(tp.pool, "/d/f"));
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_eq(sv.f_bfree, fresh.f_bfree,
		"after unlink: %lu free, expected %lu",
		(unsigned long)sv.f_bfree, (unsigned long)fresh.f_bfree);
	free(buf);
	test_pool_destroy(&tp);
}

/*
 * Inodes and entries are not bounded by the metadata reserve: a 32 MiB
 * pool keeps 6 MiB for metadata, where 24,576 files of 256 bytes would
 * fill it, and takes 40,000 empty files, their slabs made of data blocks.
 * statvfs counts them, the checker finds every slab's blocks owned, and
 * removing the files gives their inodes back.
 */
Test(pool, the_number_of_files_grows_with_free_space_not_the_metadata_reserve,
	.timeout = 120)
{
	enum { N = 40000 };
	struct test_pool tp;
	struct statvfs fresh, full, empty;
	char name[32];

	test_pool_create(&tp, "inodes", 32 << 20);
	TEST_OK(daxfile_statvfs(tp.pool, &fresh));
	cr_assert_gt(fresh.f_ffree, N, "a 32 MiB pool offers %lu inodes",
		(unsigned long)fresh.f_ffree);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	for (int i = 0; i < N; i++) {
		daxfile_file *f;

		snprintf(name, sizeof(name), "/d/f%d", i);
		f = daxfile_open(tp.pool, name, O_CREAT | O_EXCL | O_WRONLY, 0644);
		cr_assert_not_null(f, "%s: %s", name, daxfile_errormsg());
		TEST_OK(daxfile_close(f));
	}
	TEST_OK(daxfile_statvfs(tp.pool, &full));
	cr_assert_eq(full.f_files - full.f_ffree, fresh.f_files - fresh.f_ffree + N + 1);
	cr_assert_lt(full.f_bfree, fresh.f_bfree, "slabs took data blocks");
	close_pool(&tp);
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0);
	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool, "reopen: %s", daxfile_errormsg());
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "/d/f%d", i);
		TEST_OK(daxfile_unlink(tp.pool, name));
	}
	TEST_OK(daxfile_rmdir(tp.pool, "/d"));
	TEST_OK(daxfile_statvfs(tp.pool, &empty));
	cr_assert_eq(empty.f_files - empty.f_ffree, fresh.f_files - fresh.f_ffree);
	cr_assert_gt(empty.f_ffree, N);
	close_pool(&tp);
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0);
	test_pool_destroy(&tp);
}

/*
 * A process dies with an unlinked file still open: the file is an orphan
 * in the pool, which the check accounts for, and the next open reclaims
 * its inode and blocks.
 */
Test(pool, an_orphan_left_by_a_crash_is_reclaimed_at_the_next_open)
{
	struct test_pool tp;
	struct statvfs before, after;
	int status;
	pid_t pid;

	test_pool_create(&tp, "pool", TEST_POOL_SIZE);
	TEST_OK(daxfile_statvfs(tp.pool, &before));
	close_pool(&tp);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		static char buf[1 << 20];
		daxfile_pool *p = daxfile_pool_open(tp.path);
		daxfile_file *f;

		if (p == NULL)
			_exit(2);
		f = daxfile_open(p, "/doomed", O_CREAT | O_RDWR, 0644);
		memset(buf, 0x5a, sizeof(buf));
		if (f == NULL || daxfile_pwrite(f, buf, sizeof(buf), 0) !=
		    (ssize_t)sizeof(buf) || daxfile_unlink(p, "/doomed") != 0)
			_exit(3);
		raise(SIGKILL); /* with the file open and unlinked */
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		"the child failed before its crash (status %#x)", status);
	/* the orphan holds its blocks, and the pool is consistent */
	cr_assert_eq(daxfile_pool_check(tp.path, stderr), 0);
	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool, "reopen: %s", daxfile_errormsg());
	TEST_OK(daxfile_statvfs(tp.pool, &after));
	cr_assert_eq(after.f_bfree, before.f_bfree,
		"the orphan's blocks were not reclaimed (%lu free, %lu before)",
		(unsigned long)after.f_bfree, (unsigned long)before.f_bfree);
	cr_assert_eq(after.f_ffree, before.f_ffree);
	test_pool_destroy(&tp);
}
