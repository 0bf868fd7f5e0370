/*
 * test_mmap_limits.c -- mappings at the edges of the process's resources
 * and life: out of address space (RLIMIT_AS), out of VMAs
 * (vm.max_map_count), fork(), the log function that reports what no call
 * can return, and pages an application pinned (io_uring fixed buffers).
 *
 * Each test runs in a process of its own (Criterion), so limits set here
 * end with it.  Every test has a deadline: a call that hangs fails it
 * with a message instead of hanging the suite.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daxfile.h"
#include "testpool.h"
#include "testutil.h"
#include "testmap.h"

#define PG ((size_t)4096)
#define MIB ((size_t)1024 * 1024)
#define RW (PROT_READ | PROT_WRITE)

/* probe_read / probe_store -- one access: 0, or the signal it raised. */
static int
probe_read(volatile unsigned char *p, unsigned char *v)
{
	return probe(p, false, 0, v);
}

static int
probe_store(volatile unsigned char *p, unsigned char v)
{
	return probe(p, true, v, NULL);
}

/* --- a deadline ------------------------------------------------------------- */

static void
deadline_hit(int sig)
{
	static const char msg[] = "test_mmap_limits: DEADLINE: a call hangs\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	abort();
}

/* deadline -- abort the test if it still runs after 'seconds' (0: off). */
static void
deadline(unsigned seconds)
{
	signal(SIGALRM, deadline_hit);
	alarm(seconds);
}

static void
write_pattern(daxfile_file *f, uint64_t off, size_t len, unsigned seed)
{
	unsigned char *b = xmalloc(len);

	fill(b, len, off, seed);
	cr_assert_eq(daxfile_pwrite(f, b, len, (off_t)off), (ssize_t)len,
		"pwrite: %s", daxfile_errormsg());
	free(b);
}

/* --- out of address space ------------------------------------------------- */

/* vm_bytes -- the process's address space in use now. */
static uint64_t
vm_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;

	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%lu", &pages), 1);
	fclose(f);
	return (uint64_t)pages * PG;
}

/*
 * A truncate of a mapped 8 MiB file must take its mapped pages away, which
 * needs reserve memory; with too little address space left for a reserve
 * of the whole range, it must still complete (no lock recursion, no
 * abort), and the mapping must show the new size: the old bytes below it,
 * SIGBUS past it.
 */
Test(mmap_limits, a_truncate_of_a_mapped_file_under_a_small_rlimit_as_completes)
{
	struct test_pool tp;
	struct rlimit old, small;
	daxfile_file *f;
	unsigned char *m, v;
	int sig;

	deadline(60);
	probe_install();
	test_pool_create(&tp, "limits", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	write_pattern(f, 0, 8 * MIB, 1);
	m = xmap(8 * MIB, RW, MAP_SHARED, f, 0);
	for (size_t o = 0; o < 8 * MIB; o += PG)
		cr_assert_eq(m[o], pat(o, 1));

	/* room for a window-sized reserve, not for one of the whole range */
	cr_assert_eq(getrlimit(RLIMIT_AS, &old), 0);
	small = old;
	small.rlim_cur = vm_bytes() + 4 * MIB;
	cr_assert_eq(setrlimit(RLIMIT_AS, &small), 0);
	TEST_OK(daxfile_ftruncate(f, (off_t)MIB));
	cr_assert_eq(setrlimit(RLIMIT_AS, &old), 0);

	for (size_t o = 0; o < MIB; o += PG) {
		cr_assert_eq(probe_read(m + o, &v), 0, "a read below EOF faulted");
		cr_assert_eq(v, pat(o, 1), "byte at %zu changed", o);
	}
	sig = probe_read(m + MIB, &v);
	cr_assert_eq(sig, SIGBUS, "a read past the new EOF: signal %d", sig);
	sig = probe_read(m + 8 * MIB - PG, &v);
	cr_assert_eq(sig, SIGBUS, "a read past the new EOF: signal %d", sig);
	TEST_OK(daxfile_munmap(m, 8 * MIB));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
	alarm(0);
}

/* --- out of VMAs ---------------------------------------------------------- */

/* VMAs made to use up vm.max_map_count, freed by vmas_release. */
static void **hogs;
static size_t nhogs;

/* vmas_exhaust -- make one-page mappings that cannot merge until refused. */
static void
vmas_exhaust(void)
{
	size_t cap = 1 << 17;

	hogs = calloc(cap, sizeof(*hogs));
	cr_assert_not_null(hogs);
	for (nhogs = 0; nhogs < cap; nhogs++) {
		void *p = mmap(NULL, PG, nhogs % 2 ? PROT_READ : PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			break;
		hogs[nhogs] = p;
	}
	cr_assert_lt(nhogs, cap, "vm.max_map_count was never reached");
}

static void
vmas_release(void)
{
	for (size_t i = 0; i < nhogs; i++)
		munmap(hogs[i], PG);
	free(hogs);
	hogs = NULL;
	nhogs = 0;
}

/*
 * A store into a hole that another shared mapping shows as a zero page,
 * made when the process has no VMA to spare: the fault must finish (the
 * store lands, or the storing thread gets SIGBUS), not hang its worker on
 * the file's own lock.  Once VMAs are free and blocks were freed (which
 * clears markers set for want of space or memory), stores work and both
 * mappings and pread agree.
 */
Test(mmap_limits, a_store_into_a_hole_another_mapping_shows_finishes_at_vm_max_map_count)
{
	struct test_pool tp;
	daxfile_file *f;
	unsigned char *m1, *m2, v, buf[PG];
	int sig;

	deadline(60);
	probe_install();
	test_pool_create(&tp, "limits", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	write_pattern(f, 0, 2 * MIB, 2);
	write_pattern(f, 3 * MIB, MIB, 2);	/* [2, 3) MiB is a hole */
	m1 = xmap(4 * MIB, RW, MAP_SHARED, f, 0);
	m2 = xmap(4 * MIB, RW, MAP_SHARED, f, 0);
	/*
	 * Stores that allocate first, so that the fault workers have made
	 * their first transactions on this pool: libpmemobj aborts when it
	 * cannot allocate a thread's lane record, at the limit.
	 */
	for (int i = 0; i < 16; i++) {
		TEST_OK(daxfile_fallocate(f, 0x03 /* PUNCH_HOLE|KEEP_SIZE */,
			(off_t)(MIB / 2), (off_t)(MIB / 2)));
		m1[MIB / 2 + (size_t)i * PG] = 1;
		usleep(2000);
	}
	cr_assert_eq(m1[2 * MIB + PG], 0);
	cr_assert_eq(m2[2 * MIB + PG], 0);	/* zero pages over the hole */

	vmas_exhaust();
	sig = probe_store(m1 + 2 * MIB + PG, 0x5a);
	vmas_release();
	cr_assert(sig == 0 || sig == SIGBUS,
		"a store at the VMA limit: signal %d", sig);
	TEST_OK(daxfile_fallocate(f, 0x03 /* PUNCH_HOLE|KEEP_SIZE */,
		(off_t)(2 * MIB), (off_t)MIB));

	cr_assert_eq(probe_store(m1 + 2 * MIB + PG, 0x5a), 0,
		"a store once VMAs are free faulted");
	cr_assert_eq(probe_read(m2 + 2 * MIB + PG, &v), 0);
	cr_assert_eq(v, 0x5a, "the other mapping shows %#x, not the store", v);
	cr_assert_eq(daxfile_pread(f, buf, PG, (off_t)(2 * MIB + PG)),
		(ssize_t)PG);
	cr_assert_eq(buf[0], 0x5a, "pread shows %#x, not the store", buf[0]);
	TEST_OK(daxfile_munmap(m1, 4 * MIB));
	TEST_OK(daxfile_munmap(m2, 4 * MIB));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
	alarm(0);
}

/* --- the last unmap and the pool's close ------------------------------------ */

/*
 * Faults are served by library threads; once daxfile_munmap() returns,
 * none of them may still hold the file, or a daxfile_pool_close() right
 * after it finds a file referenced (it aborted once, in a loaded run).
 */
Test(mmap_limits, a_pool_closes_right_after_the_last_munmap_of_a_faulted_file)
{
	deadline(120);
	for (int i = 0; i < 40; i++) {
		struct test_pool tp;
		daxfile_file *f;
		unsigned char *m;

		test_pool_create(&tp, "limits", DAXFILE_MIN_POOL_SIZE);
		f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
		write_pattern(f, 0, 4 * MIB, 3);
		m = xmap(4 * MIB, PROT_READ, MAP_SHARED, f, 0);
		for (size_t o = 0; o < 4 * MIB; o += MIB / 2)
			cr_assert_eq(m[o], pat(o, 3));
		TEST_OK(daxfile_close(f));
		TEST_OK(daxfile_munmap(m, 4 * MIB));
		TEST_OK(daxfile_pool_close(tp.pool));
		tp.pool = NULL;
		test_pool_destroy(&tp);
	}
	alarm(0);
}

/* --- fork -------------------------------------------------------------------- */

/*
 * The AddressSanitizer runtime of Debian 12's compilers takes none of its
 * allocator's locks around fork(): a child forked while another thread of
 * the parent is inside malloc or free deadlocks at its first allocation of
 * that size class (the library's fault service starts threads in the
 * child, and a thread's start allocates).  No library can prevent that,
 * so in such a build the busy thread pauses outside the library for each
 * fork, and the library's own threads are given time to go idle.  The
 * other builds fork with the busy thread running.
 */
#if defined(__SANITIZE_ADDRESS__)
#define FORK_WITH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FORK_WITH_ASAN 1
#endif
#endif
#ifndef FORK_WITH_ASAN
#define FORK_WITH_ASAN 0
#endif

struct busy {
	daxfile_file *f;
	unsigned char *m;
	int stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool pause;	/* asked of the busy thread (FORK_WITH_ASAN) */
	bool paused;	/* its answer */
};

/* busy_hold -- the busy thread's pause point, while the parent forks. */
static void
busy_hold(struct busy *b)
{
	pthread_mutex_lock(&b->lock);
	if (b->pause) {
		b->paused = true;
		pthread_cond_broadcast(&b->cond);
		while (b->pause)
			pthread_cond_wait(&b->cond, &b->lock);
		b->paused = false;
	}
	pthread_mutex_unlock(&b->lock);
}

/* busy_fork -- fork(), with the busy thread paused if the runtime needs it. */
static pid_t
busy_fork(struct busy *b)
{
	struct timespec idle = { 0, 50 * 1000 * 1000 };
	pid_t pid;

	if (!FORK_WITH_ASAN)
		return fork();
	pthread_mutex_lock(&b->lock);
	b->pause = true;
	while (!b->paused)
		pthread_cond_wait(&b->cond, &b->lock);
	pthread_mutex_unlock(&b->lock);
	nanosleep(&idle, NULL);
	pid = fork();
	if (pid != 0) {
		pthread_mutex_lock(&b->lock);
		b->pause = false;
		pthread_cond_broadcast(&b->cond);
		pthread_mutex_unlock(&b->lock);
	}
	return pid;
}

/* busy_main -- writes and faults, so that forks find library locks held. */
static void *
busy_main(void *arg)
{
	struct busy *b = arg;
	unsigned char buf[PG];
	uint64_t r = 1;

	memset(buf, 0x77, sizeof(buf));
	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
		uint64_t o = (mix64(r++) % (4 * MIB)) & ~(PG - 1);

		if (daxfile_pwrite(b->f, buf, PG, (off_t)o) != (ssize_t)PG)
			thread_fail("pwrite");
		b->m[(o + 2 * MIB) % (4 * MIB)]++;
		if ((r & 63) == 0 && daxfile_fallocate(b->f, 0x03 /* PUNCH|KEEP */,
			(off_t)o, (off_t)(64 * PG)) != 0)
			thread_fail("punch");
		if (FORK_WITH_ASAN)
			busy_hold(b);
	}
	return NULL;
}

/*
 * child_work -- what a child of fork() may do: the parent's pool, files
 * and mappings are not usable (closed handles, unmapped memory), and a
 * pool of its own works, mappings included.  Exit status 0, or the
 * number of the check that failed.
 */
static int
child_work(daxfile_pool *pool, daxfile_file *pf, const char *path)
{
	unsigned char buf[PG];
	daxfile_pool *p;
	daxfile_file *f;
	unsigned char *m;

	alarm(30);
	if (daxfile_pread(pf, buf, PG, 0) != -1 || errno != EBADF)
		return 1;
	if (daxfile_pool_close(pool) != -1 || errno != EINVAL)
		return 2;
	unlink(path);
	p = daxfile_pool_create(path, DAXFILE_MIN_POOL_SIZE, 0600);
	if (p == NULL)
		return 3;
	f = daxfile_open(p, "/c", O_RDWR | O_CREAT, 0600);
	memset(buf, 0x33, sizeof(buf));
	if (f == NULL || daxfile_pwrite(f, buf, PG, 0) != (ssize_t)PG)
		return 4;
	m = daxfile_mmap(NULL, PG, RW, MAP_SHARED, f, 0);
	if (m == MAP_FAILED || m[100] != 0x33)
		return 5;
	m[101] = 0x44;
	if (daxfile_pread(f, buf, PG, 0) != (ssize_t)PG || buf[101] != 0x44)
		return 6;
	if (daxfile_munmap(m, PG) != 0 || daxfile_close(f) != 0 ||
	    daxfile_pool_close(p) != 0)
		return 7;
	unlink(path);
	return 0;
}

Test(mmap_limits, a_forked_child_finds_the_parents_handles_closed_and_can_use_a_pool_of_its_own)
{
	struct test_pool tp;
	struct busy b = { .lock = PTHREAD_MUTEX_INITIALIZER,
			  .cond = PTHREAD_COND_INITIALIZER };
	pthread_t t;
	char path[256];

	deadline(120);
	test_pool_create(&tp, "limits", TEST_POOL_SIZE);
	test_pool_path(path, sizeof(path), "limits-child");
	b.f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	TEST_OK(daxfile_ftruncate(b.f, (off_t)(4 * MIB)));
	b.m = xmap(4 * MIB, RW, MAP_SHARED, b.f, 0);
	cr_assert_eq(pthread_create(&t, NULL, busy_main, &b), 0);
	for (int i = 0; i < 20 && !failed(); i++) {
		int status;
		pid_t pid = busy_fork(&b);

		cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
		if (pid == 0)
			_exit(child_work(tp.pool, b.f, path));
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			"child %d: status %#x (check %d failed, or it hung)", i,
			status, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	__atomic_store_n(&b.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	assert_no_failure();
	TEST_OK(daxfile_munmap(b.m, 4 * MIB));
	TEST_OK(daxfile_close(b.f));
	test_pool_destroy(&tp);
	alarm(0);
}

/* --- the log function ---------------------------------------------------------- */

static char logged[1024];
static int nlogged;

static void
log_fn(const char *msg, void *arg)
{
	(void)arg;
	if (__atomic_add_fetch(&nlogged, 1, __ATOMIC_RELAXED) == 1)
		snprintf(logged, sizeof(logged), "%s", msg);
}

/*
 * A store that cannot be served (the pool is full) gets SIGBUS; the
 * library says why through the application's log function, and never on
 * standard error.
 */
Test(mmap_limits, a_fault_that_cannot_be_served_is_reported_to_the_log_function_not_to_stderr)
{
	struct test_pool tp;
	daxfile_file *f, *g;
	unsigned char *m, *blk = xmalloc(MIB);
	char errbuf[256];
	uint64_t off = 0;
	int pfd[2], fd2, sig;
	ssize_t n;

	deadline(60);
	probe_install();
	test_pool_create(&tp, "limits", 32 * MIB);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	TEST_OK(daxfile_ftruncate(f, (off_t)(4 * MIB)));
	m = xmap(4 * MIB, RW, MAP_SHARED, f, 0);
	g = xopen(tp.pool, "/fill", O_RDWR | O_CREAT);
	memset(blk, 0x11, MIB);
	for (size_t k = MIB; k >= PG; k /= 2)
		while (daxfile_pwrite(g, blk, k, (off_t)off) == (ssize_t)k)
			off += k;

	daxfile_set_log(log_fn, NULL);
	cr_assert_eq(pipe2(pfd, O_NONBLOCK), 0);
	fd2 = dup(2);
	dup2(pfd[1], 2);
	sig = probe_store(m + MIB, 1);
	dup2(fd2, 2);
	close(fd2);
	n = read(pfd[0], errbuf, sizeof(errbuf) - 1);
	daxfile_set_log(NULL, NULL);
	cr_assert_eq(sig, SIGBUS, "a store in a full pool: signal %d", sig);
	cr_assert_eq(n, -1, "the library wrote to stderr: %.*s", (int)n, errbuf);
	cr_assert_gt(nlogged, 0, "nothing was logged");
	cr_assert(strstr(logged, "cannot serve a fault") != NULL,
		"logged: %s", logged);
	close(pfd[0]);
	close(pfd[1]);
	TEST_OK(daxfile_close(g));
	TEST_OK(daxfile_unlink(tp.pool, "/fill"));
	TEST_OK(daxfile_munmap(m, 4 * MIB));
	TEST_OK(daxfile_close(f));
	free(blk);
	test_pool_destroy(&tp);
	alarm(0);
}

/* --- pinned pages ------------------------------------------------------------ */

/* A minimal io_uring (no liburing): one ring, one fixed buffer. */
struct ring {
	int fd;
	struct io_uring_params p;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

/* ring_open -- a ring; false (errno set) where the kernel has none. */
static bool
ring_open(struct ring *r)
{
	char *sq, *cq;
	size_t sqlen, cqlen;

	memset(r, 0, sizeof(*r));
	r->fd = (int)syscall(__NR_io_uring_setup, 4, &r->p);
	if (r->fd < 0)
		return false;
	sqlen = r->p.sq_off.array + r->p.sq_entries * sizeof(unsigned);
	cqlen = r->p.cq_off.cqes + r->p.cq_entries * sizeof(struct io_uring_cqe);
	sq = mmap(NULL, sqlen > cqlen ? sqlen : cqlen, RW, MAP_SHARED | MAP_POPULATE,
		r->fd, IORING_OFF_SQ_RING);
	cq = sq;
	if (!(r->p.features & IORING_FEAT_SINGLE_MMAP))
		cq = mmap(NULL, cqlen, RW, MAP_SHARED | MAP_POPULATE, r->fd,
			IORING_OFF_CQ_RING);
	r->sqes = mmap(NULL, r->p.sq_entries * sizeof(struct io_uring_sqe), RW,
		MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || r->sqes == MAP_FAILED)
		return false;
	r->sq_tail = (unsigned *)(sq + r->p.sq_off.tail);
	r->sq_mask = (unsigned *)(sq + r->p.sq_off.ring_mask);
	r->sq_array = (unsigned *)(sq + r->p.sq_off.array);
	r->cq_head = (unsigned *)(cq + r->p.cq_off.head);
	r->cq_tail = (unsigned *)(cq + r->p.cq_off.tail);
	r->cq_mask = (unsigned *)(cq + r->p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + r->p.cq_off.cqes);
	return true;
}

/* ring_read_fixed -- read len bytes of fd into fixed buffer 0 at buf. */
static int
ring_read_fixed(struct ring *r, int fd, void *buf, unsigned len)
{
	unsigned tail = *r->sq_tail, idx = tail & *r->sq_mask, head;
	struct io_uring_sqe *sqe = &r->sqes[idx];
	int res;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_READ_FIXED;
	sqe->fd = fd;
	sqe->addr = (uint64_t)(uintptr_t)buf;
	sqe->len = len;
	sqe->buf_index = 0;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS,
		NULL, 0) < 0)
		return -errno;
	head = *r->cq_head;
	cr_assert_neq(head, __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE));
	res = r->cqes[head & *r->cq_mask].res;
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

/*
 * pinned_file -- a ring, a pool of 32 MiB, and its file /a of 'len' bytes
 * of pattern 5, mapped shared (returned) with every page touched; skips
 * where the kernel has no io_uring.
 */
static unsigned char *
pinned_file(struct ring *r, struct test_pool *tp, size_t len, daxfile_file **a)
{
	unsigned char *m;

	if (!ring_open(r))
		cr_skip_test("io_uring is not available here (%s): pinned pages "
			"not tested", strerror(errno));
	test_pool_create(tp, "limits", 32 * MIB);
	*a = xopen(tp->pool, "/a", O_RDWR | O_CREAT);
	write_pattern(*a, 0, len, 5);
	m = xmap(len, RW, MAP_SHARED, *a, 0);
	for (size_t o = 0; o < len; o += PG)
		cr_assert_eq(m[o], pat(o, 5));
	return m;
}

/* pin -- [p, p+len) as the ring's fixed buffer 0; skips if refused. */
static void
pin(struct ring *r, void *p, size_t len)
{
	struct iovec iov = {p, len};

	if (syscall(__NR_io_uring_register, r->fd, IORING_REGISTER_BUFFERS, &iov,
		1) != 0)
		cr_skip_test("io_uring cannot pin a daxfile mapping here (%s): "
			"pinned pages not tested", strerror(errno));
}

/* fill_pool -- /fill takes every free block of the pool; returns it. */
static daxfile_file *
fill_pool(daxfile_pool *pool)
{
	daxfile_file *g = xopen(pool, "/fill", O_RDWR | O_CREAT);
	unsigned char *buf = xmalloc(MIB);
	uint64_t off = 0;

	memset(buf, 0x11, MIB);
	for (size_t k = MIB; k >= PG; k /= 2)
		while (daxfile_pwrite(g, buf, k, (off_t)off) == (ssize_t)k)
			off += k;
	free(buf);
	return g;
}

/*
 * dma_into -- complete a read of 'len' bytes 0xd0 from a host file into
 * the fixed buffer at 'p' (the I/O that was in flight into pinned pages).
 */
static void
dma_into(struct ring *r, void *p, size_t len)
{
	unsigned char *buf = xmalloc(len);
	char src[256];
	int sfd;

	test_pool_path(src, sizeof(src), "limits-dma");
	sfd = open(src, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(sfd, 0);
	memset(buf, 0xd0, len);
	cr_assert_eq(write(sfd, buf, len), (ssize_t)len);
	cr_assert_eq(ring_read_fixed(r, sfd, p, (unsigned)len), (int)len);
	close(sfd);
	unlink(src);
	free(buf);
}

/* assert_bytes -- the first 'len' bytes of f are all 'c'. */
static void
assert_bytes(daxfile_file *f, size_t len, unsigned char c)
{
	unsigned char *got = xmalloc(len);

	cr_assert_eq(daxfile_pread(f, got, len, 0), (ssize_t)len);
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(got[i], c, "byte %zu is %#x, not %#x: the I/O into "
			"pinned pages reached the next owner of their blocks", i,
			got[i], c);
	free(got);
}

/* pinned_done -- the end of a test of pinned pages: all closed, the pool gone. */
static void
pinned_done(struct ring *r, struct test_pool *tp, unsigned char *m, size_t len,
	daxfile_file *a, daxfile_file *b, daxfile_file *g)
{
	close(r->fd);
	TEST_OK(daxfile_munmap(m, len));
	TEST_OK(daxfile_close(a));
	TEST_OK(daxfile_close(b));
	TEST_OK(daxfile_close(g));
	test_pool_destroy(tp);
	alarm(0);
}

/*
 * A window of file A, pinned as an io_uring fixed buffer, outlives A's
 * blocks: A is truncated to nothing, file B takes the blocks (the pool has
 * no others free), and only then does the I/O into the pinned pages
 * complete.  B must never see those bytes: the pinned pages are no longer
 * the pool file's (the library punched the freed range before reuse).
 */
Test(mmap_limits, io_into_pages_pinned_in_a_mapping_never_reaches_the_next_owner_of_their_blocks)
{
	const size_t len = 2 * MIB;
	struct test_pool tp;
	struct ring r;
	daxfile_file *a, *b, *g;
	unsigned char *m, *buf = xmalloc(len);

	deadline(120);
	m = pinned_file(&r, &tp, len, &a);
	pin(&r, m, len);
	g = fill_pool(tp.pool);
	TEST_OK(daxfile_ftruncate(a, 0));
	b = xopen(tp.pool, "/b", O_RDWR | O_CREAT);
	memset(buf, 0xbb, len);
	cr_assert_eq(daxfile_pwrite(b, buf, len, 0), (ssize_t)len,
		"B did not get A's blocks: %s", daxfile_errormsg());
	/* the I/O into the pinned window completes now */
	dma_into(&r, m, len);
	assert_bytes(b, len, 0xbb);
	pinned_done(&r, &tp, m, len, a, b, g);
	free(buf);
}

/* shmem_pmd_kib -- ShmemPmdMapped of the mapping holding 'addr', in KiB. */
static unsigned long
shmem_pmd_kib(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256];
	bool in = false;
	unsigned long lo, hi, kib = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, ':') > strchr(line, ' '))
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (in && sscanf(line, "ShmemPmdMapped: %lu kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

/*
 * A pin on part of a 2 MiB page: a pool on tmpfs is made of them
 * (daxfile_pool_create), and tmpfs cannot split one that holds a pinned
 * page, so a punch of the file's free half leaves the half's pages in the
 * pool file (zeroed) instead of taking them away.  Its blocks must wait
 * while the pin lasts: B, in a full pool, gets ENOSPC rather than the
 * pages that the I/O in flight still writes to; once the pin is gone, B
 * gets them.
 */
Test(mmap_limits, freed_blocks_of_a_2mib_page_with_a_pinned_page_wait_until_the_pin_goes)
{
	const size_t len = 2 * MIB, pinned = 64 * 1024;
	struct test_pool tp;
	struct ring r;
	daxfile_file *a, *b, *g;
	unsigned char *m, *buf = xmalloc(len);
	ssize_t n;

	deadline(120);
	m = pinned_file(&r, &tp, len, &a);
	if (shmem_pmd_kib(m) < len / 1024)
		cr_skip_test("the pool's pages are not 2 MiB pages here (pool "
			"directory not on tmpfs, or the kernel gave none)");
	/* a page in the half that the truncate frees */
	pin(&r, m + len / 2, pinned);
	g = fill_pool(tp.pool);
	TEST_OK(daxfile_ftruncate(a, (off_t)(len / 2)));
	b = xopen(tp.pool, "/b", O_RDWR | O_CREAT);
	memset(buf, 0xbb, len);
	n = daxfile_pwrite(b, buf, len / 2, 0);
	cr_assert(n < 0 && errno == ENOSPC, "B got blocks of a 2 MiB page with "
		"a pinned page (%zd: %s)", n, daxfile_errormsg());

	/* the I/O into the pinned page completes, then the pin goes */
	dma_into(&r, m + len / 2, pinned);
	cr_assert_eq(syscall(__NR_io_uring_register, r.fd,
		IORING_UNREGISTER_BUFFERS, NULL, 0), 0);
	for (int tries = 0; tries < 500; tries++) {
		n = daxfile_pwrite(b, buf, len / 2, 0);
		if (n >= 0 || errno != ENOSPC)
			break;
		usleep(10 * 1000);
	}
	cr_assert_eq(n, (ssize_t)(len / 2), "B never got the blocks once the "
		"pin was gone: %s", daxfile_errormsg());
	assert_bytes(b, len / 2, 0xbb);
	pinned_done(&r, &tp, m, len, a, b, g);
	free(buf);
}
