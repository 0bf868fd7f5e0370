/*
 * test_locks.c -- advisory locks and the description's flags through the
 * public API: POSIX record locks (one owner, the process: they never
 * conflict with each other, any close releases them), OFD locks (one
 * owner per description), their conflicts and F_GETLK reports, splitting
 * and merging of ranges against a model, l_whence and l_len forms, every
 * errno of fcntl(2) and flock(2) as Linux gives them, F_SETLKW and flock
 * waits in threads (woken by a release, ended by EINTR or restarted after
 * SA_RESTART, ended by EBADF when the description is closed), EDEADLK as
 * Linux detects it, flock conversion, and F_GETFL/F_SETFL/F_GETFD/F_SETFD.
 */
#define _GNU_SOURCE	/* F_OFD_*, O_NOATIME, O_DIRECT */

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "daxfile.h"
#include "testutil.h"

#define KERNEL_O_LARGEFILE 0100000

static int
lk(daxfile_file *f, int cmd, short type, short whence, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = whence,
		.l_start = start, .l_len = len};

	return daxfile_fcntl(f, cmd, &fl);
}

/* probe -- F_OFD_GETLK for a write lock on [start, start+len) through 'f'. */
static struct flock
probe(daxfile_file *f, off_t start, off_t len)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
		.l_start = start, .l_len = len};

	TEST_OK(daxfile_fcntl(f, F_OFD_GETLK, &fl));
	return fl;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct fixture {
	struct test_pool tp;
	daxfile_file *a, *b, *c;	/* three descriptions of /f */
};

static void
setup(struct fixture *fx)
{
	test_pool_create(&fx->tp, "locks", TEST_POOL_SIZE);
	fx->a = xopen(fx->tp.pool, "/f", O_RDWR | O_CREAT);
	fx->b = xopen(fx->tp.pool, "/f", O_RDWR);
	fx->c = xopen(fx->tp.pool, "/f", O_RDWR);
}

static void
teardown(struct fixture *fx)
{
	TEST_OK(daxfile_close(fx->a));
	TEST_OK(daxfile_close(fx->b));
	TEST_OK(daxfile_close(fx->c));
	test_pool_destroy(&fx->tp);
}

/* --- conflicts and reports ------------------------------------------------ */

Test(locks, posix_locks_of_the_process_never_conflict_with_each_other)
{
	struct fixture fx;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	setup(&fx);
	TEST_OK(lk(fx.a, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
	TEST_OK(lk(fx.b, F_SETLK, F_WRLCK, SEEK_SET, 0, 100));
	TEST_OK(lk(fx.c, F_SETLKW, F_RDLCK, SEEK_SET, 50, 10));
	TEST_OK(daxfile_fcntl(fx.b, F_GETLK, &fl));
	cr_assert_eq(fl.l_type, F_UNLCK, "the process's own lock was reported");
	teardown(&fx);
}

Test(locks, ofd_locks_of_two_descriptions_conflict_and_getlk_reports_the_holder)
{
	struct fixture fx;
	struct flock fl;

	setup(&fx);
	TEST_OK(lk(fx.a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 10, 20));
	TEST_FAILS(lk(fx.b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 11), -1, EAGAIN);
	assert_errormsg();
	TEST_OK(lk(fx.b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 10));
	TEST_OK(lk(fx.a, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 5));
	fl = probe(fx.b, 25, 0);
	cr_assert_eq(fl.l_type, F_WRLCK);
	cr_assert_eq(fl.l_whence, SEEK_SET);
	cr_assert_eq(fl.l_start, 10);
	cr_assert_eq(fl.l_len, 20);
	cr_assert_eq(fl.l_pid, -1, "an OFD lock reports l_pid -1, not %d",
		fl.l_pid);
	/* a read request conflicts only with the write lock */
	fl = (struct flock){.l_type = F_RDLCK, .l_whence = SEEK_SET,
		.l_start = 0, .l_len = 10};
	TEST_OK(daxfile_fcntl(fx.c, F_OFD_GETLK, &fl));
	cr_assert_eq(fl.l_type, F_UNLCK);
	cr_assert_eq(fl.l_start, 0, "F_UNLCK changed the other fields");
	cr_assert_eq(fl.l_len, 10);
	/* the process (F_GETLK) conflicts with OFD locks too */
	fl = (struct flock){.l_type = F_RDLCK, .l_whence = SEEK_SET,
		.l_start = 29, .l_len = 1};
	TEST_OK(daxfile_fcntl(fx.c, F_GETLK, &fl));
	cr_assert_eq(fl.l_type, F_WRLCK);
	cr_assert_eq(fl.l_start, 10);
	TEST_FAILS(lk(fx.c, F_SETLK, F_RDLCK, SEEK_SET, 29, 1), -1, EAGAIN);
	teardown(&fx);
}

Test(locks, a_posix_lock_blocks_ofd_locks_and_reports_the_process_id)
{
	struct fixture fx;
	struct flock fl;

	setup(&fx);
	TEST_OK(lk(fx.a, F_SETLK, F_RDLCK, SEEK_SET, 100, 0));
	TEST_OK(lk(fx.b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 100, 10));
	TEST_FAILS(lk(fx.b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 200, 1), -1, EAGAIN);
	fl = probe(fx.c, 150, 1);
	cr_assert_eq(fl.l_type, F_RDLCK);
	cr_assert_eq(fl.l_start, 100);
	cr_assert_eq(fl.l_len, 0, "a lock to EOF reports l_len 0");
	cr_assert_eq(fl.l_pid, getpid());
	teardown(&fx);
}

Test(locks, ofd_getlk_with_f_unlck_reports_a_lock_of_the_description_itself)
{
	struct fixture fx;
	struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET};

	setup(&fx);
	TEST_OK(lk(fx.a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 2, 4));
	TEST_OK(daxfile_fcntl(fx.a, F_OFD_GETLK, &fl));
	cr_assert_eq(fl.l_type, F_WRLCK);
	cr_assert_eq(fl.l_start, 2);
	cr_assert_eq(fl.l_len, 4);
	cr_assert_eq(fl.l_pid, -1);
	fl = (struct flock){.l_type = F_UNLCK, .l_whence = SEEK_SET};
	TEST_OK(daxfile_fcntl(fx.b, F_OFD_GETLK, &fl));
	cr_assert_eq(fl.l_type, F_UNLCK);
	teardown(&fx);
}

/*
 * Random F_SETLK calls of the process over bytes [0, 64) with ranges to
 * EOF and negative lengths, against a model of each byte; after each, a
 * probe of every byte through another description (an OFD lock, which
 * conflicts with the process) must find the model's type, and report the
 * maximal run of that type: adjacent locks of one type merged, a lock cut
 * where another type or an unlock went.
 */
Test(locks, posix_ranges_split_and_merge_as_a_byte_model_says)
{
	enum { N = 80 };
	struct fixture fx;
	short model[N];
	uint64_t rng = 42;

	setup(&fx);
	for (int i = 0; i < N; i++)
		model[i] = F_UNLCK;
	for (int op = 0; op < 400; op++) {
		short types[3] = {F_RDLCK, F_WRLCK, F_UNLCK};
		short type = types[(rng = mix64(rng)) % 3];
		off_t start = (off_t)((rng = mix64(rng)) % 64);
		off_t len = (off_t)((rng = mix64(rng)) % 24) - 4;
		off_t s = start, e;

		if (len < 0 && start + len < 0)
			len = 0;
		if (len > 0)
			e = start + len;
		else if (len < 0)
			s = start + len, e = start;
		else
			e = N;
		TEST_OK(lk(fx.a, F_SETLK, type, SEEK_SET, start, len));
		for (off_t i = s; i < e && i < N; i++)
			model[i] = type;
		for (int i = 0; i < N; i++) {
			struct flock fl = probe(fx.b, i, 1);
			int lo = i, hi = i;

			cr_assert_eq(fl.l_type, model[i],
				"op %d: byte %d has type %d, model %d", op, i,
				fl.l_type, model[i]);
			if (model[i] == F_UNLCK)
				continue;
			while (lo > 0 && model[lo - 1] == model[i])
				lo--;
			while (hi + 1 < N && model[hi + 1] == model[i])
				hi++;
			cr_assert_eq(fl.l_start, lo, "op %d: byte %d: lock starts at %ld, run at %d",
				op, i, (long)fl.l_start, lo);
			if (hi == N - 1)
				cr_assert(fl.l_len == 0 || fl.l_start + fl.l_len >= N,
					"op %d: byte %d: run to the end, lock length %ld",
					op, i, (long)fl.l_len);
			else
				cr_assert_eq(fl.l_start + fl.l_len, hi + 1,
					"op %d: byte %d: lock ends at %ld, run at %d",
					op, i, (long)(fl.l_start + fl.l_len), hi + 1);
		}
	}
	teardown(&fx);
}

Test(locks, whence_cur_and_end_and_negative_lengths_place_the_range)
{
	struct fixture fx;
	struct flock fl;
	char buf[100] = {0};

	setup(&fx);
	cr_assert_eq(daxfile_pwrite(fx.a, buf, sizeof(buf), 0), 100);
	cr_assert_eq(daxfile_lseek(fx.a, 40, SEEK_SET), 40);
	TEST_OK(lk(fx.a, F_OFD_SETLK, F_WRLCK, SEEK_CUR, 5, 5));
	fl = probe(fx.b, 0, 0);
	cr_assert_eq(fl.l_start, 45);
	cr_assert_eq(fl.l_len, 5);
	TEST_OK(lk(fx.a, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	TEST_OK(lk(fx.a, F_OFD_SETLK, F_WRLCK, SEEK_END, -10, 0));
	fl = probe(fx.b, 0, 0);
	cr_assert_eq(fl.l_start, 90);
	cr_assert_eq(fl.l_len, 0);
	TEST_OK(lk(fx.a, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	TEST_OK(lk(fx.a, F_OFD_SETLK, F_RDLCK, SEEK_SET, 30, -10));
	fl = probe(fx.b, 0, 0);
	cr_assert_eq(fl.l_start, 20);
	cr_assert_eq(fl.l_len, 10);
	TEST_OK(lk(fx.a, F_OFD_SETLK, F_RDLCK, SEEK_SET, INT64_MAX, 1));
	fl = probe(fx.b, INT64_MAX, 1);
	cr_assert_eq(fl.l_type, F_RDLCK);
	cr_assert_eq(fl.l_start, INT64_MAX);
	teardown(&fx);
}

/* --- errors ----------------------------------------------------------------- */

Test(locks, bad_requests_give_the_errnos_of_linux)
{
	struct fixture fx;
	daxfile_file *rd, *wr, *closed;
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_pid = 7};

	setup(&fx);
	rd = xopen(fx.tp.pool, "/f", O_RDONLY);
	wr = xopen(fx.tp.pool, "/f", O_WRONLY);
	closed = xopen(fx.tp.pool, "/f", O_RDONLY);
	TEST_OK(daxfile_close(closed));
	TEST_FAILS(lk(fx.a, F_SETLK, 7, SEEK_SET, 0, 0), -1, EINVAL);
	TEST_FAILS(lk(fx.a, F_SETLK, F_WRLCK, 7, 0, 0), -1, EINVAL);
	TEST_FAILS(lk(fx.a, F_SETLK, F_WRLCK, SEEK_SET, -1, 0), -1, EINVAL);
	TEST_FAILS(lk(fx.a, F_SETLK, F_WRLCK, SEEK_SET, 3, -5), -1, EINVAL);
	TEST_FAILS(lk(fx.a, F_SETLK, F_WRLCK, SEEK_SET, INT64_MAX, 2), -1,
		EOVERFLOW);
	cr_assert_eq(daxfile_lseek(fx.a, 100, SEEK_SET), 100);
	TEST_FAILS(lk(fx.a, F_SETLK, F_WRLCK, SEEK_CUR, INT64_MAX, 0), -1,
		EOVERFLOW);
	TEST_FAILS(daxfile_fcntl(fx.a, F_SETLK, (struct flock *)NULL), -1,
		EFAULT);
	TEST_FAILS(lk(rd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0), -1, EBADF);
	TEST_FAILS(lk(wr, F_SETLK, F_RDLCK, SEEK_SET, 0, 0), -1, EBADF);
	TEST_FAILS(lk(rd, F_OFD_SETLKW, F_WRLCK, SEEK_SET, 0, 0), -1, EBADF);
	/* an unlock needs no access */
	TEST_OK(lk(rd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	/* the range is checked before the access mode, that before l_pid */
	TEST_FAILS(lk(rd, F_SETLK, F_WRLCK, SEEK_SET, -1, 0), -1, EINVAL);
	fl.l_type = F_WRLCK;
	TEST_FAILS(daxfile_fcntl(rd, F_OFD_SETLK, &fl), -1, EBADF);
	fl.l_type = F_RDLCK;
	TEST_FAILS(daxfile_fcntl(rd, F_OFD_SETLK, &fl), -1, EINVAL);
	TEST_FAILS(daxfile_fcntl(rd, F_OFD_GETLK, &fl), -1, EINVAL);
	fl.l_pid = 0;
	fl.l_type = F_UNLCK;
	TEST_FAILS(daxfile_fcntl(rd, F_GETLK, &fl), -1, EINVAL);
	/* F_GETLK needs no access mode */
	fl.l_type = F_WRLCK;
	TEST_OK(daxfile_fcntl(rd, F_GETLK, &fl));
	TEST_FAILS(lk(closed, F_SETLK, F_RDLCK, SEEK_SET, 0, 0), -1, EBADF);
	TEST_FAILS(lk(NULL, F_GETLK, F_RDLCK, SEEK_SET, 0, 0), -1, EBADF);
	TEST_FAILS(daxfile_fcntl(fx.a, 12345), -1, EINVAL);
	TEST_FAILS(daxfile_fcntl(fx.a, F_DUPFD, 0), -1, EINVAL);
	assert_errormsg();
	TEST_OK(daxfile_close(rd));
	TEST_OK(daxfile_close(wr));
	teardown(&fx);
}

Test(locks, an_o_path_handle_has_flags_but_takes_no_locks)
{
	struct fixture fx;
	daxfile_file *p;
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};

	setup(&fx);
	p = xopen(fx.tp.pool, "/f", O_PATH | O_CLOEXEC);
	cr_assert_eq(daxfile_fcntl(p, F_GETFL), O_PATH);
	cr_assert_eq(daxfile_fcntl(p, F_GETFD), FD_CLOEXEC);
	TEST_OK(daxfile_fcntl(p, F_SETFD, 0));
	TEST_FAILS(daxfile_fcntl(p, F_SETFL, O_APPEND), -1, EBADF);
	TEST_FAILS(daxfile_fcntl(p, F_SETLK, &fl), -1, EBADF);
	TEST_FAILS(daxfile_fcntl(p, F_GETLK, &fl), -1, EBADF);
	TEST_FAILS(daxfile_fcntl(p, F_OFD_SETLK, &fl), -1, EBADF);
	TEST_FAILS(daxfile_flock(p, LOCK_SH), -1, EBADF);
	/* closing it leaves the process's POSIX locks, as on Linux */
	TEST_OK(lk(fx.a, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
	TEST_OK(daxfile_close(p));
	TEST_FAILS(lk(fx.b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 1), -1, EAGAIN);
	teardown(&fx);
}

Test(locks, a_directory_takes_read_locks_and_flock_but_no_write_record_locks)
{
	struct test_pool tp;
	daxfile_file *d, *d2;

	test_pool_create(&tp, "locks", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	d = xopen(tp.pool, "/d", O_RDONLY | O_DIRECTORY);
	d2 = xopen(tp.pool, "/d", O_RDONLY | O_DIRECTORY);
	TEST_OK(lk(d, F_SETLK, F_RDLCK, SEEK_SET, 0, 0));
	TEST_FAILS(lk(d, F_SETLK, F_WRLCK, SEEK_SET, 0, 0), -1, EBADF);
	TEST_OK(daxfile_flock(d, LOCK_EX));
	TEST_FAILS(daxfile_flock(d2, LOCK_SH | LOCK_NB), -1, EWOULDBLOCK);
	TEST_OK(daxfile_close(d));
	TEST_OK(daxfile_flock(d2, LOCK_SH | LOCK_NB));
	TEST_OK(daxfile_close(d2));
	test_pool_destroy(&tp);
}

/* --- release at close ------------------------------------------------------ */

Test(locks, any_close_of_the_file_releases_the_posix_locks_of_the_process)
{
	struct fixture fx;
	daxfile_file *other;

	setup(&fx);
	TEST_OK(daxfile_mkdir(fx.tp.pool, "/d", 0755));
	TEST_OK(lk(fx.a, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
	TEST_FAILS(lk(fx.b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 1), -1, EAGAIN);
	/* closing a description of another file changes nothing */
	other = xopen(fx.tp.pool, "/d", O_RDONLY);
	TEST_OK(daxfile_close(other));
	TEST_FAILS(lk(fx.b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 1), -1, EAGAIN);
	/* a read-only description of the same file, never used for locks */
	other = xopen(fx.tp.pool, "/f", O_RDONLY);
	TEST_OK(daxfile_close(other));
	TEST_OK(lk(fx.b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10));
	teardown(&fx);
}

Test(locks, ofd_and_flock_locks_live_until_their_own_description_is_closed)
{
	struct fixture fx;
	daxfile_file *d;

	setup(&fx);
	d = xopen(fx.tp.pool, "/f", O_RDWR);
	TEST_OK(lk(d, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 0));
	TEST_OK(daxfile_flock(d, LOCK_EX));
	TEST_OK(daxfile_close(fx.c));
	fx.c = xopen(fx.tp.pool, "/f", O_RDWR);
	TEST_FAILS(lk(fx.a, F_SETLK, F_RDLCK, SEEK_SET, 5, 1), -1, EAGAIN);
	TEST_FAILS(daxfile_flock(fx.a, LOCK_SH | LOCK_NB), -1, EWOULDBLOCK);
	TEST_OK(daxfile_close(d));
	TEST_OK(lk(fx.a, F_SETLK, F_WRLCK, SEEK_SET, 5, 1));
	TEST_OK(daxfile_flock(fx.a, LOCK_EX | LOCK_NB));
	teardown(&fx);
}

/* --- waits ------------------------------------------------------------------ */

struct waiter {
	daxfile_file *f;
	int cmd;		/* a fcntl command, or 0 for flock */
	short type;
	off_t start, len;
	int ret, err;
	volatile bool started, done;
	double waited;
};

static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;
	double t0 = now_s();

	w->started = true;
	if (w->cmd == 0)
		w->ret = daxfile_flock(w->f, w->type);
	else
		w->ret = lk(w->f, w->cmd, w->type, SEEK_SET, w->start, w->len);
	w->err = errno;
	w->waited = now_s() - t0;
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static pthread_t
start_waiter(struct waiter *w)
{
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, waiter_main, w), 0);
	while (!w->started)
		sleep_ms(1);
	sleep_ms(100);
	return t;
}

Test(locks, f_setlkw_waits_for_the_release_of_a_conflicting_lock, .timeout = 30)
{
	struct fixture fx;
	struct waiter w = {0};
	pthread_t t;

	setup(&fx);
	TEST_OK(lk(fx.a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 100));
	w = (struct waiter){.f = fx.b, .cmd = F_OFD_SETLKW, .type = F_WRLCK,
		.start = 50, .len = 10};
	t = start_waiter(&w);
	cr_assert(!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE),
		"F_OFD_SETLKW did not wait");
	/* a release elsewhere does not let it through */
	TEST_OK(lk(fx.a, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 10));
	sleep_ms(50);
	cr_assert(!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE));
	TEST_OK(lk(fx.a, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(w.ret, 0, "F_OFD_SETLKW: errno %d", w.err);
	cr_assert_geq(w.waited, 0.1);
	cr_assert_eq(probe(fx.c, 0, 0).l_start, 50);
	/* a POSIX wait on a lock whose holder waits for nothing: no EDEADLK */
	w = (struct waiter){.f = fx.a, .cmd = F_SETLKW, .type = F_RDLCK,
		.start = 55, .len = 1};
	t = start_waiter(&w);
	cr_assert(!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE));
	TEST_OK(daxfile_close(fx.b));
	fx.b = xopen(fx.tp.pool, "/f", O_RDWR);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(w.ret, 0, "F_SETLKW: errno %d", w.err);
	teardown(&fx);
}

Test(locks, a_posix_wait_for_a_description_that_waits_for_the_process_is_edeadlk,
	.timeout = 30)
{
	struct fixture fx;
	struct waiter w;
	pthread_t t;

	setup(&fx);
	/* the process holds [0,9]; description b holds [10,19] and waits for [0,9] */
	TEST_OK(lk(fx.a, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
	TEST_OK(lk(fx.b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 10, 10));
	w = (struct waiter){.f = fx.b, .cmd = F_OFD_SETLKW, .type = F_WRLCK,
		.start = 0, .len = 10};
	t = start_waiter(&w);
	TEST_FAILS(lk(fx.a, F_SETLKW, F_WRLCK, SEEK_SET, 10, 10), -1, EDEADLK);
	assert_errormsg();
	/* F_SETLK does not wait, so it is plain EAGAIN */
	TEST_FAILS(lk(fx.a, F_SETLK, F_WRLCK, SEEK_SET, 10, 10), -1, EAGAIN);
	TEST_OK(lk(fx.a, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(w.ret, 0, "F_OFD_SETLKW: errno %d", w.err);
	teardown(&fx);
}

static volatile sig_atomic_t handled;

static void
on_signal(int sig)
{
	(void)sig;
	handled++;
}

/*
 * interrupt -- run a waiter that a signal with a handler reaches
 * ('restart': installed with SA_RESTART) until it has been handled
 * three times or the waiter returned.
 */
static void
interrupt(struct waiter *w, pthread_t *t, bool restart)
{
	struct sigaction sa = {.sa_handler = on_signal,
		.sa_flags = restart ? SA_RESTART : 0};

	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	handled = 0;
	*t = start_waiter(w);
	for (int i = 0; i < 200 && handled < 3 &&
	    !__atomic_load_n(&w->done, __ATOMIC_ACQUIRE); i++) {
		pthread_kill(*t, SIGUSR1);
		sleep_ms(20);
	}
}

Test(locks, a_signal_ends_a_lock_wait_with_eintr_unless_its_handler_asks_for_restart,
	.timeout = 30)
{
	struct fixture fx;
	struct waiter w;
	pthread_t t;

	setup(&fx);
	TEST_OK(lk(fx.a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 0));
	TEST_OK(daxfile_flock(fx.a, LOCK_EX));
	w = (struct waiter){.f = fx.b, .cmd = F_OFD_SETLKW, .type = F_RDLCK};
	interrupt(&w, &t, false);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(w.ret, -1);
	cr_assert_eq(w.err, EINTR, "errno %d", w.err);
	w = (struct waiter){.f = fx.b, .cmd = 0, .type = LOCK_SH};
	interrupt(&w, &t, false);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(w.ret, -1);
	cr_assert_eq(w.err, EINTR, "flock: errno %d", w.err);
	/* with SA_RESTART the wait goes on until the lock is free */
	w = (struct waiter){.f = fx.b, .cmd = F_SETLKW, .type = F_WRLCK,
		.start = 5, .len = 1};
	interrupt(&w, &t, true);
	cr_assert_geq(handled, 3);
	cr_assert(!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE),
		"the wait ended at a signal whose handler has SA_RESTART");
	TEST_OK(lk(fx.a, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(w.ret, 0, "errno %d", w.err);
	signal(SIGUSR1, SIG_DFL);
	teardown(&fx);
}

Test(locks, closing_the_description_of_a_waiter_ends_its_wait_with_ebadf,
	.timeout = 30)
{
	struct fixture fx;
	struct waiter w;
	pthread_t t;

	setup(&fx);
	TEST_OK(lk(fx.a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 0));
	w = (struct waiter){.f = fx.b, .cmd = F_OFD_SETLKW, .type = F_WRLCK};
	t = start_waiter(&w);
	TEST_OK(daxfile_close(fx.b));
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(w.ret, -1);
	cr_assert_eq(w.err, EBADF);
	fx.b = xopen(fx.tp.pool, "/f", O_RDWR);
	teardown(&fx);
}

/*
 * The waiter's handle and then the holder's, the last of the file, close
 * at once: the inode must outlive the waiter's way out.
 */
Test(locks, closing_every_handle_while_one_waits_is_safe, .timeout = 60)
{
	struct test_pool tp;

	test_pool_create(&tp, "locks", TEST_POOL_SIZE);
	for (int i = 0; i < 40; i++) {
		daxfile_file *a = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
		daxfile_file *b = xopen(tp.pool, "/f", O_RDWR);
		struct waiter w = {.f = b, .cmd = i % 2 ? 0 : F_OFD_SETLKW,
			.type = i % 2 ? LOCK_EX : F_WRLCK};
		pthread_t t;

		TEST_OK(lk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 0));
		TEST_OK(daxfile_flock(a, LOCK_EX));
		cr_assert_eq(pthread_create(&t, NULL, waiter_main, &w), 0);
		while (!w.started)
			sleep_ms(1);
		sleep_ms(5);
		TEST_OK(daxfile_close(b));
		TEST_OK(daxfile_close(a));
		TEST_OK(daxfile_unlink(tp.pool, "/f"));
		cr_assert_eq(pthread_join(t, NULL), 0);
		cr_assert_eq(w.ret, -1);
		cr_assert_eq(w.err, EBADF, "errno %d", w.err);
	}
	test_pool_destroy(&tp);
}

/* Threads of one description take turns on a counter under F_OFD_SETLKW. */
struct counter {
	daxfile_pool *pool;
	int iters;
};

static void *
counter_main(void *arg)
{
	struct counter *c = arg;
	daxfile_file *f = daxfile_open(c->pool, "/f", O_RDWR);

	if (f == NULL) {
		thread_fail("open");
		return NULL;
	}
	for (int i = 0; i < c->iters && !failed(); i++) {
		uint64_t v;

		if (lk(f, F_OFD_SETLKW, F_WRLCK, SEEK_SET, 0, 8) != 0) {
			thread_fail("F_OFD_SETLKW");
			break;
		}
		if (daxfile_pread(f, &v, 8, 0) != 8)
			thread_fail("pread");
		v++;
		if (daxfile_pwrite(f, &v, 8, 0) != 8)
			thread_fail("pwrite");
		if (lk(f, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 8) != 0)
			thread_fail("unlock");
	}
	daxfile_close(f);
	return NULL;
}

Test(locks, ofd_locks_serialize_read_modify_write_between_threads, .timeout = 60)
{
	struct fixture fx;
	struct counter c;
	pthread_t t[4];
	uint64_t v = 0;

	setup(&fx);
	c = (struct counter){fx.tp.pool, 2000};
	cr_assert_eq(daxfile_pwrite(fx.a, &v, 8, 0), 8);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, counter_main, &c), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
	assert_no_failure();
	cr_assert_eq(daxfile_pread(fx.a, &v, 8, 0), 8);
	cr_assert_eq(v, 4 * 2000, "counter %lu: a lock let two threads in",
		(unsigned long)v);
	teardown(&fx);
}

/* --- flock ------------------------------------------------------------------ */

Test(locks, flock_shares_read_locks_and_excludes_write_locks_per_description)
{
	struct fixture fx;
	daxfile_file *rd;

	setup(&fx);
	rd = xopen(fx.tp.pool, "/f", O_RDONLY);
	TEST_OK(daxfile_flock(fx.a, LOCK_SH));
	TEST_OK(daxfile_flock(fx.b, LOCK_SH | LOCK_NB));
	TEST_FAILS(daxfile_flock(rd, LOCK_EX | LOCK_NB), -1, EWOULDBLOCK);
	assert_errormsg();
	/* the same description asks again: nothing changes */
	TEST_OK(daxfile_flock(fx.a, LOCK_SH | LOCK_NB));
	TEST_OK(daxfile_flock(fx.a, LOCK_UN));
	TEST_OK(daxfile_flock(fx.b, LOCK_UN));
	/* a read-only description may take an exclusive lock */
	TEST_OK(daxfile_flock(rd, LOCK_EX | LOCK_NB));
	TEST_FAILS(daxfile_flock(fx.c, LOCK_SH | LOCK_NB), -1, EWOULDBLOCK);
	/* flock and record locks do not meet */
	TEST_OK(lk(fx.c, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 0));
	TEST_OK(daxfile_flock(rd, LOCK_UN | LOCK_NB));
	TEST_OK(daxfile_flock(fx.c, LOCK_EX | LOCK_NB));
	TEST_OK(daxfile_close(rd));
	teardown(&fx);
}

Test(locks, a_flock_conversion_that_fails_loses_the_lock_it_had)
{
	struct fixture fx;

	setup(&fx);
	TEST_OK(daxfile_flock(fx.a, LOCK_SH));
	TEST_OK(daxfile_flock(fx.b, LOCK_SH));
	TEST_FAILS(daxfile_flock(fx.a, LOCK_EX | LOCK_NB), -1, EWOULDBLOCK);
	TEST_OK(daxfile_flock(fx.b, LOCK_UN));
	/* a no longer holds its shared lock */
	TEST_OK(daxfile_flock(fx.c, LOCK_EX | LOCK_NB));
	TEST_OK(daxfile_flock(fx.c, LOCK_SH));
	TEST_OK(daxfile_flock(fx.a, LOCK_SH | LOCK_NB));
	teardown(&fx);
}

Test(locks, flock_waits_for_an_exclusive_lock_to_go, .timeout = 30)
{
	struct fixture fx;
	struct waiter w;
	pthread_t t;

	setup(&fx);
	TEST_OK(daxfile_flock(fx.a, LOCK_EX));
	w = (struct waiter){.f = fx.b, .cmd = 0, .type = LOCK_EX};
	t = start_waiter(&w);
	cr_assert(!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE));
	/* a conversion to shared keeps b waiting; the unlock lets it in */
	TEST_OK(daxfile_flock(fx.a, LOCK_SH));
	sleep_ms(50);
	cr_assert(!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE));
	TEST_OK(daxfile_flock(fx.a, LOCK_UN));
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(w.ret, 0, "errno %d", w.err);
	TEST_FAILS(daxfile_flock(fx.c, LOCK_SH | LOCK_NB), -1, EWOULDBLOCK);
	teardown(&fx);
}

Test(locks, flock_checks_the_operation_before_the_handle)
{
	struct fixture fx;

	setup(&fx);
	TEST_FAILS(daxfile_flock(fx.a, 0), -1, EINVAL);
	TEST_FAILS(daxfile_flock(fx.a, LOCK_SH | LOCK_EX), -1, EINVAL);
	TEST_FAILS(daxfile_flock(fx.a, 64), -1, EINVAL);
	TEST_FAILS(daxfile_flock(NULL, LOCK_SH | LOCK_EX), -1, EINVAL);
	TEST_FAILS(daxfile_flock(NULL, LOCK_SH), -1, EBADF);
	/* LOCK_MAND is ignored, as Linux ignores it now */
	TEST_OK(daxfile_flock(fx.a, LOCK_MAND | LOCK_READ));
	TEST_OK(daxfile_flock(NULL, LOCK_MAND));
	teardown(&fx);
}

/* --- status and descriptor flags ---------------------------------------- */

Test(locks, f_getfl_reports_the_access_mode_and_status_flags_as_linux)
{
	struct test_pool tp;
	daxfile_file *f, *d;
	int fl;

	test_pool_create(&tp, "locks", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	f = daxfile_open(tp.pool, "/f",
		O_RDWR | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	cr_assert_not_null(f, "%s", daxfile_errormsg());
	fl = daxfile_fcntl(f, F_GETFL);
	cr_assert_eq(fl, O_RDWR | O_APPEND | KERNEL_O_LARGEFILE, "F_GETFL %#o",
		fl);
	cr_assert_eq(daxfile_fcntl(f, F_GETFD), FD_CLOEXEC);
	TEST_OK(daxfile_fcntl(f, F_SETFD, 0));
	cr_assert_eq(daxfile_fcntl(f, F_GETFD), 0);
	TEST_OK(daxfile_fcntl(f, F_SETFD, 0xff));
	cr_assert_eq(daxfile_fcntl(f, F_GETFD), FD_CLOEXEC);
	cr_assert_eq(daxfile_fcntl(f, F_GETFL), fl, "F_SETFD changed F_GETFL");
	/* F_SETFL changes O_APPEND, O_NONBLOCK, O_NOATIME, O_DIRECT only */
	TEST_OK(daxfile_fcntl(f, F_SETFL, O_RDONLY | O_NONBLOCK | O_NOATIME |
		O_SYNC | O_CREAT | O_TRUNC));
	cr_assert_eq(daxfile_fcntl(f, F_GETFL),
		O_RDWR | O_NONBLOCK | O_NOATIME | KERNEL_O_LARGEFILE,
		"F_GETFL %#o", daxfile_fcntl(f, F_GETFL));
	TEST_OK(daxfile_fcntl(f, F_SETFL, O_DIRECT));
	cr_assert_eq(daxfile_fcntl(f, F_GETFL),
		O_RDWR | O_DIRECT | KERNEL_O_LARGEFILE);
	cr_assert_eq(daxfile_fcntl(f, F_GETFD), FD_CLOEXEC);
	TEST_OK(daxfile_close(f));
	d = xopen(tp.pool, "/d", O_RDONLY | O_DIRECTORY | O_NONBLOCK);
	cr_assert_eq(daxfile_fcntl(d, F_GETFL),
		O_RDONLY | O_DIRECTORY | O_NONBLOCK | KERNEL_O_LARGEFILE);
	cr_assert_eq(daxfile_fcntl(d, F_GETFD), 0);
	TEST_FAILS(daxfile_fcntl(d, F_SETFL, O_DIRECT), -1, EINVAL);
	TEST_OK(daxfile_close(d));
	TEST_FAILS(daxfile_fcntl(d, F_GETFL), -1, EBADF);
	test_pool_destroy(&tp);
}

struct noatime {
	daxfile_file *f;
	int ret, err;
};

static void *
noatime_main(void *arg)
{
	struct noatime *n = arg;

	/* a non-zero fsuid drops the file-system capabilities of the thread */
	syscall(SYS_setfsuid, 4321);
	n->ret = daxfile_fcntl(n->f, F_SETFL, O_NOATIME);
	n->err = errno;
	return NULL;
}

Test(locks, o_noatime_by_f_setfl_needs_ownership_or_cap_fowner)
{
	struct test_pool tp;
	struct noatime n = {0};
	pthread_t t;

	if (geteuid() != 0)
		cr_skip_test("SKIPPED: switching the fsuid needs root");
	test_pool_create(&tp, "locks", TEST_POOL_SIZE);
	n.f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	cr_assert_eq(pthread_create(&t, NULL, noatime_main, &n), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(n.ret, -1);
	cr_assert_eq(n.err, EPERM, "errno %d", n.err);
	cr_assert_eq(daxfile_fcntl(n.f, F_GETFL) & O_NOATIME, 0);
	TEST_OK(daxfile_fcntl(n.f, F_SETFL, O_NOATIME));
	cr_assert_neq(daxfile_fcntl(n.f, F_GETFL) & O_NOATIME, 0);
	TEST_OK(daxfile_close(n.f));
	test_pool_destroy(&tp);
}

/* --- the pool's count of locked files ------------------------------------- */

Test(locks, the_pool_counts_the_files_that_have_locks)
{
	struct fixture fx;
	daxfile_file *g;

	setup(&fx);
	cr_assert_eq(daxfile_pool_locks_held(fx.tp.pool), 0);
	g = xopen(fx.tp.pool, "/g", O_RDWR | O_CREAT);
	TEST_OK(lk(fx.a, F_SETLK, F_RDLCK, SEEK_SET, 0, 10));
	TEST_OK(lk(fx.b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 20, 10));
	cr_assert_eq(daxfile_pool_locks_held(fx.tp.pool), 1,
		"two locks on one file are one locked file");
	TEST_OK(daxfile_flock(g, LOCK_EX));
	cr_assert_eq(daxfile_pool_locks_held(fx.tp.pool), 2);
	TEST_FAILS(lk(fx.c, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 0), -1, EAGAIN);
	cr_assert_eq(daxfile_pool_locks_held(fx.tp.pool), 2,
		"a refused lock counts nothing");
	TEST_OK(lk(fx.a, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	cr_assert_eq(daxfile_pool_locks_held(fx.tp.pool), 2,
		"the OFD lock of /f is still held");
	TEST_OK(daxfile_close(fx.b));
	fx.b = xopen(fx.tp.pool, "/f", O_RDWR);
	cr_assert_eq(daxfile_pool_locks_held(fx.tp.pool), 1,
		"closing its description released the OFD lock");
	TEST_OK(daxfile_close(g));
	cr_assert_eq(daxfile_pool_locks_held(fx.tp.pool), 0);
	TEST_FAILS(daxfile_pool_locks_held(NULL), -1, EINVAL);
	teardown(&fx);
}
