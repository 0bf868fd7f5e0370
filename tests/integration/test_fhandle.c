/*
 * test_fhandle.c -- file handles: daxfile_name_to_handle_at and
 * daxfile_open_by_handle, as name_to_handle_at(2) and
 * open_by_handle_at(2): a handle follows its file through renames, across
 * a close and reopen of the pool, without search permission above it; it
 * reads ESTALE once its inode is gone, also when a new file has its
 * number; the file's own permissions and open's flags are checked; and
 * opens by handle racing with the unlink of their files never reach a
 * freed inode.
 */
#define _GNU_SOURCE	/* O_PATH, AT_EMPTY_PATH */

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daxfile.h"
#include "testcred.h"
#include "testutil.h"

static struct test_pool tp;
#define P (tp.pool)

static struct daxfile_handle
handle_of(const char *path, int flags)
{
	struct daxfile_handle h;

	cr_assert_eq(daxfile_name_to_handle_at(P, NULL, path, &h, flags), 0,
		"name_to_handle_at(%s): %s", path, daxfile_errormsg());
	return h;
}

Test(fhandle, a_handle_follows_its_file_through_renames_and_a_reopen)
{
	struct daxfile_handle h, hd;
	daxfile_file *f;
	struct stat st;
	char buf[8] = "";

	test_pool_create(&tp, "fhandle", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(P, "/d", 0755));
	put_text(P, "/d/f", "hello");
	h = handle_of("/d/f", 0);
	hd = handle_of("/d", 0);
	TEST_OK(daxfile_stat(P, "/d/f", &st));
	cr_assert_eq(h.ino, (uint64_t)st.st_ino);
	TEST_OK(daxfile_rename(P, "/d", "/e"));
	TEST_OK(daxfile_rename(P, "/e/f", "/e/g"));
	test_pool_reopen(&tp);
	f = daxfile_open_by_handle(P, &h, O_RDWR);
	cr_assert_not_null(f, "%s", daxfile_errormsg());
	cr_assert_eq(daxfile_read(f, buf, sizeof(buf)), 5);
	cr_assert_str_eq(buf, "hello");
	cr_assert_eq(daxfile_pwrite(f, "J", 1, 0), 1);
	TEST_OK(daxfile_close(f));
	check_text(P, "/e/g", "Jello");
	/* a directory: a base for the *at calls */
	f = daxfile_open_by_handle(P, &hd, O_RDONLY | O_DIRECTORY);
	cr_assert_not_null(f, "%s", daxfile_errormsg());
	TEST_OK(daxfile_fstatat(P, f, "g", &st, 0));
	TEST_OK(daxfile_close(f));
	/* the root too */
	hd = handle_of("/", 0);
	f = daxfile_open_by_handle(P, &hd, O_RDONLY | O_DIRECTORY);
	cr_assert_not_null(f, "%s", daxfile_errormsg());
	TEST_OK(daxfile_fstatat(P, f, "e/g", &st, 0));
	TEST_OK(daxfile_close(f));
	/* AT_EMPTY_PATH: the handle of an open file */
	f = xopen(P, "/e/g", O_RDONLY);
	cr_assert_eq(daxfile_name_to_handle_at(P, f, "", &hd, AT_EMPTY_PATH), 0);
	cr_assert(hd.ino == h.ino && hd.generation == h.generation);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

Test(fhandle, a_gone_inode_is_stale_also_when_a_new_file_has_its_number)
{
	struct daxfile_handle h, bad;
	daxfile_file *f, *g;
	bool reused = false;
	struct stat st;

	test_pool_create(&tp, "fhandle", TEST_POOL_SIZE);
	put_text(P, "/f", "x");
	h = handle_of("/f", 0);
	/* unlinked while open: the handle still opens it, as the kernel's */
	f = xopen(P, "/f", O_RDONLY);
	TEST_OK(daxfile_unlink(P, "/f"));
	g = daxfile_open_by_handle(P, &h, O_RDONLY);
	cr_assert_not_null(g, "%s", daxfile_errormsg());
	TEST_OK(daxfile_close(g));
	TEST_OK(daxfile_close(f));
	TEST_FAILS(daxfile_open_by_handle(P, &h, O_RDONLY), NULL, ESTALE);
	/* the freed number taken by a new file: not the handle's */
	for (int i = 0; i < 256 && !reused; i++) {
		char name[16];

		snprintf(name, sizeof(name), "/n%d", i);
		put_text(P, name, "new");
		TEST_OK(daxfile_stat(P, name, &st));
		reused = (uint64_t)st.st_ino == h.ino;
	}
	cr_assert(reused, "no new file took the freed inode's number");
	TEST_FAILS(daxfile_open_by_handle(P, &h, O_RDONLY), NULL, ESTALE);
	/* numbers that were never an inode */
	bad = (struct daxfile_handle){h.ino + 8, h.generation};
	TEST_FAILS(daxfile_open_by_handle(P, &bad, O_RDONLY), NULL, ESTALE);
	bad = (struct daxfile_handle){1ULL << 60, 0};
	TEST_FAILS(daxfile_open_by_handle(P, &bad, O_RDONLY), NULL, ESTALE);
	bad = (struct daxfile_handle){0, 0};
	TEST_FAILS(daxfile_open_by_handle(P, &bad, O_RDONLY), NULL, ESTALE);
	test_pool_destroy(&tp);
}

Test(fhandle, flags_and_arguments_as_the_kernel_checks_them)
{
	struct daxfile_handle h, hl, hd;
	daxfile_file *f;

	test_pool_create(&tp, "fhandle", TEST_POOL_SIZE);
	put_text(P, "/f", "x");
	TEST_OK(daxfile_mkdir(P, "/d", 0755));
	TEST_OK(daxfile_symlink(P, "f", "/l"));
	h = handle_of("/f", 0);
	hd = handle_of("/d", 0);
	/* a last link is the link's own handle unless AT_SYMLINK_FOLLOW */
	hl = handle_of("/l", 0);
	cr_assert_neq(hl.ino, h.ino);
	cr_assert_eq(handle_of("/l", AT_SYMLINK_FOLLOW).ino, h.ino);
	TEST_FAILS(daxfile_open_by_handle(P, &hl, O_RDONLY), NULL, ELOOP);
	f = daxfile_open_by_handle(P, &hl, O_PATH);
	cr_assert_not_null(f, "%s", daxfile_errormsg());
	TEST_OK(daxfile_close(f));
	TEST_FAILS(daxfile_open_by_handle(P, &hd, O_WRONLY), NULL, EISDIR);
	TEST_FAILS(daxfile_open_by_handle(P, &h, O_RDONLY | O_DIRECTORY), NULL,
		ENOTDIR);
	TEST_FAILS(daxfile_open_by_handle(P, &h, O_RDWR | O_CREAT), NULL, EINVAL);
	TEST_FAILS(daxfile_open_by_handle(P, &h, O_ACCMODE), NULL, EINVAL);
	TEST_FAILS(daxfile_open_by_handle(P, NULL, O_RDONLY), NULL, EFAULT);
	TEST_FAILS(daxfile_open_by_handle(NULL, &h, O_RDONLY), NULL, EINVAL);
	TEST_FAILS(daxfile_name_to_handle_at(P, NULL, "/f", NULL, 0), -1, EFAULT);
	TEST_FAILS(daxfile_name_to_handle_at(P, NULL, "/f", &h, AT_REMOVEDIR),
		-1, EINVAL);
	TEST_FAILS(daxfile_name_to_handle_at(P, NULL, "/none", &h, 0), -1, ENOENT);
	TEST_FAILS(daxfile_name_to_handle_at(P, NULL, "", &h, 0), -1, ENOENT);
	/* O_TRUNC truncates, as open(2) */
	f = daxfile_open_by_handle(P, &h, O_WRONLY | O_TRUNC);
	cr_assert_not_null(f, "%s", daxfile_errormsg());
	TEST_OK(daxfile_close(f));
	check_text(P, "/f", "");
	test_pool_destroy(&tp);
}

/* as another user: no search permission above, the file's own checked */
static struct daxfile_handle hidden, secret;

static void
open_without_search_permission(void)
{
	daxfile_file *f;

	TEST_FAILS(daxfile_open(P, "/closed/f", O_RDONLY), NULL, EACCES);
	f = daxfile_open_by_handle(P, &hidden, O_RDWR);
	cr_assert_not_null(f, "%s", daxfile_errormsg());
	TEST_OK(daxfile_close(f));
	TEST_FAILS(daxfile_open_by_handle(P, &secret, O_RDONLY), NULL, EACCES);
}

Test(fhandle, no_search_permission_is_asked_but_the_files_own_are)
{
	static const gid_t g1[] = {G1};
	static const struct who user1 = {U1, G1, 1, g1, 0, false};

	need_root();
	test_pool_create(&tp, "fhandle", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(P, "/closed", 0700));
	put_text(P, "/closed/f", "x");
	TEST_OK(daxfile_chmod(P, "/closed/f", 0666));
	put_text(P, "/closed/secret", "x");
	TEST_OK(daxfile_chmod(P, "/closed/secret", 0600));
	hidden = handle_of("/closed/f", 0);
	secret = handle_of("/closed/secret", 0);
	as(&user1, open_without_search_permission);
	test_pool_destroy(&tp);
}

/* --- opens by handle racing with unlinks ------------------------------------ */

#define RACE_ROUNDS 3000

static struct daxfile_handle race_handle;
static long race_gen;			/* of race_handle, under race_lock */
static pthread_mutex_t race_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool race_done;
static atomic_long race_opened, race_stale, race_tried;

static void *
race_opener(void *arg)
{
	(void)arg;
	while (!atomic_load(&race_done)) {
		struct daxfile_handle h;
		daxfile_file *f;
		long gen;

		pthread_mutex_lock(&race_lock);
		h = race_handle;
		gen = race_gen;
		pthread_mutex_unlock(&race_lock);
		f = daxfile_open_by_handle(P, &h, O_RDONLY);
		if (f != NULL) {
			struct stat st;

			cr_assert_eq(daxfile_fstat(f, &st), 0);
			cr_assert_eq((uint64_t)st.st_ino, h.ino);
			cr_assert_eq(daxfile_close(f), 0);
			atomic_fetch_add(&race_opened, 1);
		} else {
			cr_assert_eq(errno, ESTALE, "%s", daxfile_errormsg());
			atomic_fetch_add(&race_stale, 1);
		}
		atomic_store(&race_tried, gen);
	}
	return NULL;
}

Test(fhandle, opens_racing_with_unlinks_never_reach_a_freed_inode, .timeout = 120)
{
	pthread_t t[2];

	test_pool_create(&tp, "fhandle", TEST_POOL_SIZE);
	put_text(P, "/f", "x");
	race_handle = handle_of("/f", 0);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, race_opener, NULL), 0);
	for (int i = 0; i < RACE_ROUNDS; i++) {
		struct daxfile_handle h;

		TEST_OK(daxfile_unlink(P, "/f"));
		put_text(P, "/f", "x");
		h = handle_of("/f", 0);
		pthread_mutex_lock(&race_lock);
		race_handle = h;
		race_gen = i + 1;
		pthread_mutex_unlock(&race_lock);
		/*
		 * Every other round, wait until an open of the new handle
		 * ended: it must have found the file (nothing unlinks it
		 * meanwhile), while the other opener may still race the next
		 * unlink.  Otherwise, on a loaded machine, this loop can run
		 * through all its rounds before an opener gets a CPU.
		 */
		if (i % 2 == 0)
			while (atomic_load(&race_tried) < i + 1)
				sched_yield();
	}
	atomic_store(&race_done, true);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cr_assert_gt(atomic_load(&race_opened), 0);
	/* every inode unlinked above is freed once: the check finds no leak
	   and no double free (test_pool_destroy checks the pool) */
	test_pool_destroy(&tp);
}
