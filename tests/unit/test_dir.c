/*
 * test_dir.c -- the linear-hash directory: it grows one bucket at a time
 * (two entries per bucket at most, on average), finds every name among
 * 100,000, and lists each entry exactly once; a directory of version 1,
 * whose chains are in no order, splits them by rebuilding them; renames
 * move entries (rewritten in place, or claimed anew for a longer name)
 * without losing or doubling one; the checker finds a wrong entry count
 * and the repair sets it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <time.h>

#include "dir.h"
#include "namei.h"
#include "permission.h"
#include "pool.h"
#include "tx.h"
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

/*
 * dir_clear_ordered -- make "/d" a directory of version 1 (chains in no
 * order), as a version 1 pool has it.
 */
static void
dir_clear_ordered(daxfile_pool *pool)
{
	struct dx_inode *dp;
	struct dx_dirhdr *hdr;
	struct dx_cred cr;
	struct dx_tx tx;

	dx_cred_init(&cr, DX_CRED_FS);
	dp = dx_namei(pool, NULL, "/d", 0, &cr);
	cr_assert_not_null(dp);
	hdr = dx_dir_hdr(dp);
	dx_ilock(dp, DX_IOLOCK_EXCL);
	TEST_OK(dx_tx_begin(&tx, pool));
	TEST_OK(DX_TX_ADD_FIELD(&tx, hdr, flags));
	hdr->flags &= ~DX_DIRF_ORDERED;
	TEST_OK(dx_tx_commit(&tx));
	dx_iunlock(dp, DX_IOLOCK_EXCL);
	dx_iput(dp);
}

Test(dir, chains_of_a_version_1_directory_split_too, .timeout = 60)
{
	struct test_pool tp;
	char name[32];
	struct stat st;

	test_pool_create(&tp, "dirv1", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/d/first", 0755));
	dir_clear_ordered(tp.pool);
	for (unsigned i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "/d/%u", i);
		TEST_OK(daxfile_mkdir(tp.pool, name, 0755));
	}
	for (unsigned i = 0; i < 3000; i += 3) {
		snprintf(name, sizeof(name), "/d/%u", i);
		TEST_OK(daxfile_rmdir(tp.pool, name));
	}
	test_pool_reopen(&tp);
	for (unsigned i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "/d/%u", i);
		if (i % 3)
			TEST_OK(daxfile_stat(tp.pool, name, &st));
		else
			TEST_FAILS(daxfile_stat(tp.pool, name, &st), -1, ENOENT);
	}
	/* emptied, it orders its chains from its next entry on */
	for (unsigned i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "/d/%u", i);
		if (i % 3)
			TEST_OK(daxfile_rmdir(tp.pool, name));
	}
	TEST_OK(daxfile_rmdir(tp.pool, "/d/first"));
	TEST_OK(daxfile_mkdir(tp.pool, "/d/again", 0755));
	test_pool_destroy(&tp);	/* the checker checks buckets and order */
}

/* move_name -- the name of file i after 'round' renames ("f"/"g" + i). */
static void
move_name(char *buf, size_t n, unsigned round, unsigned i)
{
	static const char *const dirs[] = { "/a", "/a", "/b", "/c" };
	const char *dir = dirs[round % 4];

	/* every third round a name of two slab units, then back to one */
	if (round % 3 == 2)
		snprintf(buf, n, "%s/a-name-long-enough-for-two-units-%u-%u",
			dir, round, i);
	else
		snprintf(buf, n, "%s/%c%u", dir, round % 2 ? 'g' : 'f', i);
}

Test(dir, renames_keep_every_entry_once, .timeout = 60)
{
	enum { N = 3000, ROUNDS = 9 };
	struct test_pool tp;
	uint64_t ino[N];
	char a[96], b[96];
	struct stat st;

	test_pool_create(&tp, "dir", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/a", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/b", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/c", 0755));
	for (unsigned i = 0; i < N; i++) {
		daxfile_file *f;

		move_name(a, sizeof(a), 0, i);
		f = daxfile_open(tp.pool, a, O_CREAT | O_EXCL | O_WRONLY, 0644);
		cr_assert_not_null(f, "%s: %s", a, daxfile_errormsg());
		TEST_OK(daxfile_close(f));
		TEST_OK(daxfile_stat(tp.pool, a, &st));
		ino[i] = st.st_ino;
	}
	/* same directory, to another directory (an empty one too), longer
	 * and shorter names; every file keeps its inode */
	for (unsigned r = 1; r < ROUNDS; r++) {
		for (unsigned i = 0; i < N; i++) {
			move_name(a, sizeof(a), r - 1, i);
			move_name(b, sizeof(b), r, i);
			cr_assert_eq(daxfile_rename(tp.pool, a, b), 0,
				"rename %s %s: %s", a, b, daxfile_errormsg());
		}
		if (r == ROUNDS / 2)
			test_pool_reopen(&tp);
		for (unsigned i = 0; i < N; i++) {
			move_name(a, sizeof(a), r - 1, i);
			move_name(b, sizeof(b), r, i);
			TEST_FAILS(daxfile_stat(tp.pool, a, &st), -1, ENOENT);
			TEST_OK(daxfile_stat(tp.pool, b, &st));
			cr_assert_eq(st.st_ino, ino[i], "%s names another file",
				b);
		}
	}
	for (unsigned k = 0; k < 3; k++) {
		static const char *const dirs[] = { "/a", "/b", "/c" };
		daxfile_dir *d = daxfile_opendir(tp.pool, dirs[k]);
		struct dirent *de;
		unsigned count = 0;
		bool here;

		move_name(a, sizeof(a), ROUNDS - 1, 0);
		here = strncmp(a, dirs[k], 2) == 0;
		cr_assert_not_null(d);
		errno = 0;
		while ((de = daxfile_readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				count++;
		cr_assert_eq(errno, 0);
		cr_assert_eq(count, here ? N : 0u, "%s lists %u entries",
			dirs[k], count);
		TEST_OK(daxfile_closedir(d));
	}
	test_pool_destroy(&tp);
}

Test(dir, a_wrong_entry_count_is_found_and_repaired, .timeout = 30)
{
	struct test_pool tp;
	struct dx_inode *dp;
	struct dx_cred cr;
	struct dx_tx tx;
	char *report = NULL;
	size_t len = 0;
	FILE *f;

	test_pool_create(&tp, "dir", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	TEST_OK(daxfile_mkdir(tp.pool, "/d/x", 0755));
	TEST_OK(daxfile_rmdir(tp.pool, "/d/x"));
	/* the count says one entry where the chains hold none */
	dx_cred_init(&cr, DX_CRED_FS);
	dp = dx_namei(tp.pool, NULL, "/d", 0, &cr);
	cr_assert_not_null(dp);
	dx_ilock(dp, DX_IOLOCK_EXCL);
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	TEST_OK(DX_TX_ADD_FIELD(&tx, dx_dir_hdr(dp), nentries));
	dx_dir_hdr(dp)->nentries = 1;
	TEST_OK(dx_tx_commit(&tx));
	dx_iunlock(dp, DX_IOLOCK_EXCL);
	dx_iput(dp);
	TEST_FAILS(daxfile_rmdir(tp.pool, "/d"), -1, ENOTEMPTY);
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;

	f = open_memstream(&report, &len);
	cr_assert_eq(daxfile_pool_check(tp.path, f), 1);
	fclose(f);
	cr_assert_not_null(strstr(report, "counts 1 entries, its chains hold 0"),
		"report: %s", report);
	free(report);
	cr_assert_eq(daxfile_pool_repair(tp.path, NULL), 1);
	cr_assert_eq(daxfile_pool_check(tp.path, NULL), 0);
	tp.pool = daxfile_pool_open(tp.path);
	cr_assert_not_null(tp.pool);
	TEST_OK(daxfile_rmdir(tp.pool, "/d"));
	test_pool_destroy(&tp);
}
