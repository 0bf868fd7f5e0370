/*
 * test_dir.c -- the linear-hash directory: it grows one bucket at a time
 * (two entries per bucket at most, on average), finds every name among
 * 100,000, and lists each entry exactly once.
 */
#include <dirent.h>
#include <fcntl.h>
#include <time.h>

#include "dir.h"
#include "namei.h"
#include "permission.h"
#include "pool.h"
#include "testpool.h"

#define NAMES 100000

struct count_arg {
	uint64_t n;
	uint8_t *seen;
};

static int
count_entry(void *arg, const char *name, size_t len, uint64_t ino,
	unsigned type)
{
	struct count_arg *c = arg;
	unsigned idx = (unsigned)strtoul(name + 1, NULL, 10);

	(void)len;
	(void)ino;
	cr_assert_eq(type, DT_REG);
	cr_assert_lt(idx, NAMES);
	cr_assert_eq(c->seen[idx], 0, "entry %s listed twice", name);
	c->seen[idx] = 1;
	c->n++;
	return 0;
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

Test(dir, a_hundred_thousand_names_are_found_quickly_and_listed_once,
	.timeout = 120)
{
	struct test_pool tp;
	struct dx_inode *root;
	struct dx_dirhdr *hdr;
	struct count_arg c = {0, calloc(NAMES, 1)};
	char name[32];
	struct dx_cred cr;
	double t0, per;
	unsigned type;

	test_pool_create(&tp, "dir", 1024 << 20);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	for (unsigned i = 0; i < NAMES; i++) {
		daxfile_file *f;

		snprintf(name, sizeof(name), "/d/f%u", i);
		f = daxfile_open(tp.pool, name, O_CREAT | O_EXCL | O_WRONLY, 0644);
		cr_assert_not_null(f, "%s: %s", name, daxfile_errormsg());
		TEST_OK(daxfile_close(f));
	}
	dx_cred_init(&cr, DX_CRED_FS);
	root = dx_namei(tp.pool, NULL, "/d", 0, &cr);
	cr_assert_not_null(root);
	hdr = dx_dir_hdr(root);
	cr_assert_eq(hdr->nentries, NAMES);
	/* at most two entries per bucket on average: the table grew */
	cr_assert_geq(((uint64_t)DX_DIR_B0 << hdr->level) + hdr->split,
		NAMES / 2);
	t0 = now_us();
	dx_ilock(root, DX_IOLOCK_SHARED);
	for (unsigned i = 0; i < NAMES; i++) {
		int len = snprintf(name, sizeof(name), "f%u", i);

		cr_assert_neq(dx_dir_lookup(root, name, (size_t)len, &type), 0,
			"%s not found", name);
	}
	per = (now_us() - t0) / NAMES;
	cr_assert_eq(dx_dir_lookup(root, "nope", 4, &type), 0);
	cr_assert_eq(errno, ENOENT);
	TEST_OK(dx_dir_foreach(tp.pool, hdr, count_entry, &c));
	dx_iunlock(root, DX_IOLOCK_SHARED);
	cr_assert_eq(c.n, NAMES);
	/* speed is for bench/bench_namespace; here it is only reported */
	cr_log_info("lookup in a directory of %d entries: %.3f us", NAMES, per);
	dx_iput(root);
	free(c.seen);
	test_pool_destroy(&tp);
}

Test(dir, removing_half_the_names_keeps_the_rest_reachable, .timeout = 60)
{
	struct test_pool tp;
	char name[32];
	struct stat st;

	test_pool_create(&tp, "dir", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "/d/%u", i);
		TEST_OK(daxfile_mkdir(tp.pool, name, 0755));
	}
	for (unsigned i = 0; i < 5000; i += 2) {
		snprintf(name, sizeof(name), "/d/%u", i);
		TEST_OK(daxfile_rmdir(tp.pool, name));
	}
	test_pool_reopen(&tp);
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "/d/%u", i);
		if (i % 2)
			TEST_OK(daxfile_stat(tp.pool, name, &st));
		else
			TEST_FAILS(daxfile_stat(tp.pool, name, &st), -1, ENOENT);
	}
	TEST_OK(daxfile_stat(tp.pool, "/d", &st));
	cr_assert_eq(st.st_nlink, 2 + 2500);
	test_pool_destroy(&tp);
}
