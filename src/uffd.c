/*
 * uffd.c -- the userfaultfd service.
 *
 * One descriptor serves every mapping of the process.  A reader thread reads
 * the kernel's messages and never waits for a file lock: the kernel makes a
 * thread that mremaps a registered range wait until the REMAP event is read,
 * and invalidation mremaps while it holds a file's mmaplock.  It hands each
 * page fault to the mapping layer's hook, which queues it on its file's
 * work queue; worker threads take one queue at a time and run its jobs in
 * order, so a fault held up behind a truncate of one file never stalls
 * faults on other files: a worker about to wait for a lock makes sure
 * another worker is free, starting one if needed.
 *
 * Each job runs in a call context of its own (defer.h): the work it defers
 * (VMA reclaim, inode reclaim) runs when it ends, with no lock held.
 *
 * A forked child starts the service anew: the parent's threads are not in
 * it, and its mappings are not either (MADV_DONTFORK).
 *
 * The ABI constants of UFFDIO_POISON and the newer feature bits are fixed
 * by the kernel; they are defined here when the installed header is older.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "defer.h"
#include "errinj.h"
#include "lock.h"
#include "out.h"
#include "uffd.h"

#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)
#endif
#ifndef _UFFDIO_POISON
#define _UFFDIO_POISON (0x08)
struct uffdio_poison {
	struct uffdio_range range;
#define UFFDIO_POISON_MODE_DONTWAKE ((__u64)1 << 0)
	__u64 mode;
	__s64 updated;
};
#define UFFDIO_POISON _IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
#endif

#define UFFD_MAX_WORKERS 64
#define UFFD_MSG_BATCH 64
#define DX_HUGE_COPY (2u << 20)

/* Work queue states. */
#define WQ_IDLE 0	/* no job queued */
#define WQ_READY 1	/* jobs queued, waiting for a worker */
#define WQ_ACTIVE 2	/* a worker serves it */

static struct {
	struct dx_mutex start_lock;	/* LEAF: starting the service */
	bool started;
	int err;		/* why the start failed, or 0 */
	int fd;
	uint64_t features;
	bool kernel_faults;
	bool poison;
	void (*on_fault)(uint64_t addr, unsigned flags);

	struct dx_mutex lock;	/* LEAF: the queues and worker counts */
	pthread_cond_t cond;
	struct dx_workq *ready, *ready_tail;	/* queues with jobs */
	unsigned workers, idle, blocked;
} uf = {.start_lock = {PTHREAD_MUTEX_INITIALIZER, DX_LC_LEAF}, .fd = -1,
	.lock = {PTHREAD_MUTEX_INITIALIZER, DX_LC_LEAF},
	.cond = PTHREAD_COND_INITIALIZER};

/* --- the descriptor ------------------------------------------------------ */

/*
 * uffd_open -- a userfaultfd: the system call, or /dev/userfaultfd (Linux
 * 6.1+), which gives one that also takes kernel faults to whoever may open
 * the device, without CAP_SYS_PTRACE.
 */
static int
uffd_open(int flags)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | flags);
	int dev;

	if (fd >= 0 || flags != 0)
		return fd;
	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -1;
	fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC);
	close(dev);
	return fd;
}

/*
 * uffd_create -- a descriptor that also serves faults the kernel takes on
 * behalf of a system call, where this process may have one (CAP_SYS_PTRACE,
 * or access to /dev/userfaultfd); else a user-mode-only one.
 */
static int
uffd_create(void)
{
	struct uffdio_api api = {.api = UFFD_API};
	int fd = uffd_open(0);

	uf.kernel_faults = fd >= 0;
	if (fd < 0)
		fd = uffd_open(UFFD_USER_MODE_ONLY);
	if (fd < 0)
		return dx_err_keep("userfaultfd is not available");
	/* ask what the kernel has, then open again asking for what we use */
	if (ioctl(fd, UFFDIO_API, &api) != 0) {
		close(fd);
		return dx_err_keep("UFFDIO_API failed");
	}
	close(fd);
	fd = uffd_open(uf.kernel_faults ? 0 : UFFD_USER_MODE_ONLY);
	if (fd < 0)
		return dx_err_keep("userfaultfd is not available");
	uf.features = api.features & (UFFD_FEATURE_EVENT_REMAP |
		UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_POISON);
	if (getenv("DAXFILE_NO_UFFD_POISON") != NULL)
		uf.features &= ~(uint64_t)UFFD_FEATURE_POISON;
	if (getenv("DAXFILE_UFFD_USER_MODE_ONLY") != NULL && uf.kernel_faults) {
		close(fd);
		uf.kernel_faults = false;
		fd = uffd_open(UFFD_USER_MODE_ONLY);
		if (fd < 0)
			return dx_err_keep("userfaultfd is not available");
	}
	api = (struct uffdio_api){.api = UFFD_API, .features = uf.features};
	if (ioctl(fd, UFFDIO_API, &api) != 0) {
		close(fd);
		return dx_err_keep("UFFDIO_API failed");
	}
	if (!(uf.features & UFFD_FEATURE_EVENT_REMAP)) {
		close(fd);
		return dx_err(EOPNOTSUPP,
			"userfaultfd lacks UFFD_FEATURE_EVENT_REMAP (Linux 4.11+)");
	}
	uf.poison = uf.features & UFFD_FEATURE_POISON;
	return fd;
}

bool
dx_uffd_has_poison(void)
{
	return uf.poison;
}

int
dx_uffd_register(void *addr, size_t len, bool wp)
{
	struct uffdio_register reg = {
		.range = {(uintptr_t)addr, len},
		.mode = UFFDIO_REGISTER_MODE_MISSING |
			(wp ? UFFDIO_REGISTER_MODE_WP : 0),
	};

	if (ioctl(uf.fd, UFFDIO_REGISTER, &reg) != 0)
		return dx_err_keep("cannot register a mapping with userfaultfd");
	return 0;
}

void
dx_uffd_wake(void *addr, size_t len)
{
	struct uffdio_range r = {(uintptr_t)addr, len};

	/* ENOENT-like failures mean nobody waits there any more */
	(void)ioctl(uf.fd, UFFDIO_WAKE, &r);
}

int
dx_uffd_copy(void *dst, const void *src, size_t len, bool wp)
{
	static char zeros[DX_HUGE_COPY] __attribute__((aligned(4096)));
	size_t done = 0;

	while (done < len) {
		size_t n = DX_MIN(len - done, (size_t)DX_HUGE_COPY);
		struct uffdio_copy c = {
			.dst = (uintptr_t)dst + done,
			.src = src ? (uintptr_t)src + done : (uintptr_t)zeros,
			.len = n,
			.mode = UFFDIO_COPY_MODE_DONTWAKE |
				(wp ? UFFDIO_COPY_MODE_WP : 0),
		};

		c.copy = 0;
		if (dx_ei_fail(DX_EI_UFFD))
			errno = EAGAIN;
		else if (ioctl(uf.fd, UFFDIO_COPY, &c) == 0) {
			done += n;
			continue;
		}
		if (errno == EAGAIN) {
			/*
			 * The address space is changing (an mremap waits for
			 * its REMAP event to be read): retry once it settled.
			 */
			if (c.copy > 0)
				done += (size_t)c.copy;
			else
				sched_yield();
			continue;
		}
		if (errno == EEXIST) {
			/* a page already present: skip past it */
			done += (c.copy > 0 ? (size_t)c.copy : 0) + 4096;
			continue;
		}
		if (errno == ENOENT && n > 4096) {
			/*
			 * The range crosses VMAs (replaced ranges that did
			 * not merge): one page at a time to find the edge.
			 */
			if (c.copy > 0)
				done += (size_t)c.copy;
			else if (dx_uffd_copy((char *)dst + done,
				src ? (const char *)src + done : NULL, 4096, wp) == 0)
				done += 4096;
			else
				return -1;
			continue;
		}
		return dx_err_keep("UFFDIO_COPY failed");
	}
	return 0;
}

int
dx_uffd_poison(void *addr, size_t len)
{
	struct uffdio_poison p = {
		.range = {(uintptr_t)addr, len},
		.mode = UFFDIO_POISON_MODE_DONTWAKE,
	};

	for (;;) {
		p.updated = 0;
		if (dx_ei_fail(DX_EI_UFFD))
			errno = EAGAIN;
		else if (ioctl(uf.fd, UFFDIO_POISON, &p) == 0)
			return 0;
		if (errno == EAGAIN) {
			/* the address space is changing: as in dx_uffd_copy */
			if (p.updated > 0) {
				p.range.start += (uint64_t)p.updated;
				p.range.len -= (uint64_t)p.updated;
			} else {
				sched_yield();
			}
			continue;
		}
		if (errno == EEXIST || (errno == ENOENT && p.range.len > 4096)) {
			/*
			 * EEXIST: a page already present, skip it.  ENOENT:
			 * the range crosses VMAs: poison this page alone.
			 */
			uint64_t skip = (p.updated > 0 ? (uint64_t)p.updated : 0);

			if (errno == ENOENT && skip == 0 &&
			    dx_uffd_poison((void *)p.range.start, 4096) != 0)
				return -1;
			skip += 4096;
			if (skip >= p.range.len)
				return 0;
			p.range.start += skip;
			p.range.len -= skip;
			continue;
		}
		return dx_err_keep("UFFDIO_POISON failed");
	}
}

/* --- workers ------------------------------------------------------------- */

static void *worker_main(void *arg);

/* worker_spawn -- one more worker (caller holds uf.lock). */
static void
worker_spawn(void)
{
	dx_assert_held(&uf.lock);
	pthread_attr_t attr;
	pthread_t t;

	if (uf.workers >= UFFD_MAX_WORKERS)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, worker_main, NULL) == 0)
		uf.workers++;
	pthread_attr_destroy(&attr);
}

void
dx_fault_blocking(void)
{
	dx_mutex_lock(&uf.lock);
	uf.blocked++;
	if (uf.ready != NULL && uf.idle == 0 && uf.blocked >= uf.workers)
		worker_spawn();
	dx_mutex_unlock(&uf.lock);
}

void
dx_fault_unblocked(void)
{
	dx_mutex_lock(&uf.lock);
	uf.blocked--;
	dx_mutex_unlock(&uf.lock);
}

/* ready_push -- a queue with jobs waits for a worker (caller holds uf.lock). */
static void
ready_push(struct dx_workq *q)
{
	dx_assert_held(&uf.lock);
	q->ready_next = NULL;
	if (uf.ready_tail != NULL)
		uf.ready_tail->ready_next = q;
	else
		uf.ready = q;
	uf.ready_tail = q;
	q->state = WQ_READY;
}

/*
 * job_run -- one job, in a call context of its own: its deferred work runs
 * at the end, after the job let go of what it held.  Returns whether the
 * queue went idle: then it may be gone once the job let go.
 */
static bool
job_run(struct dx_workq *q, struct dx_work *w)
{
	DX_JOB();
	bool idle;

	w->run(w);
	dx_mutex_lock(&uf.lock);
	idle = q->head == NULL;
	if (idle)
		q->state = WQ_IDLE;
	dx_mutex_unlock(&uf.lock);
	w->done(w);
	return idle;
}

static void *
worker_main(void *arg)
{
	(void)arg;
	dx_mutex_lock(&uf.lock);
	for (;;) {
		struct dx_workq *q;
		struct dx_work *w;
		bool idle;

		while (uf.ready == NULL) {
			uf.idle++;
			pthread_cond_wait(&uf.cond, &uf.lock.m);
			uf.idle--;
		}
		q = uf.ready;
		uf.ready = q->ready_next;
		if (uf.ready == NULL)
			uf.ready_tail = NULL;
		q->state = WQ_ACTIVE;
		/*
		 * One job at a time, in order, until the queue is empty; the
		 * jobs still queued keep it alive meanwhile.
		 */
		do {
			w = q->head;
			q->head = w->next;
			if (q->head == NULL)
				q->tail = NULL;
			dx_mutex_unlock(&uf.lock);
			idle = job_run(q, w);
			dx_mutex_lock(&uf.lock);
		} while (!idle);
	}
	return NULL;
}

void
dx_workq_push(struct dx_workq *q, struct dx_work *w)
{
	w->next = NULL;
	dx_mutex_lock(&uf.lock);
	if (q->tail != NULL)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
	if (q->state == WQ_IDLE) {
		ready_push(q);
		if (uf.idle > 0)
			pthread_cond_signal(&uf.cond);
		else if (uf.blocked >= uf.workers)
			worker_spawn();
	}
	dx_mutex_unlock(&uf.lock);
}

/* --- the reader ---------------------------------------------------------- */

static void
reader_pagefault(const struct uffd_msg *msg)
{
	uint64_t addr = msg->arg.pagefault.address & ~(uint64_t)4095;
	unsigned flags = 0;

	if (msg->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE)
		flags |= DX_FAULT_WRITE;
	if (msg->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP)
		flags |= DX_FAULT_WP | DX_FAULT_WRITE;
	uf.on_fault(addr, flags);
}

static void *
reader_main(void *arg)
{
	struct uffd_msg msgs[UFFD_MSG_BATCH];

	(void)arg;
	for (;;) {
		ssize_t n = read(uf.fd, msgs, sizeof(msgs));

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			/* say so, and read on: faults wait for this thread */
			dx_log("cannot read the userfaultfd (%s); retrying",
				strerror(errno));
			usleep(10000);
			continue;
		}
		for (size_t i = 0; i < (size_t)n / sizeof(msgs[0]); i++)
			if (msgs[i].event == UFFD_EVENT_PAGEFAULT)
				reader_pagefault(&msgs[i]);
		/* UFFD_EVENT_REMAP: reading it was all that was needed */
	}
	return NULL;
}

/* uffd_init -- the descriptor and the threads (caller holds start_lock). */
static int
uffd_init(void)
{
	dx_assert_held(&uf.start_lock);
	pthread_attr_t attr;
	pthread_t t;
	int ret;

	uf.fd = uffd_create();
	if (uf.fd < 0)
		return -1;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&t, &attr, reader_main, NULL);
	pthread_attr_destroy(&attr);
	if (ret != 0) {
		close(uf.fd);
		uf.fd = -1;
		return dx_err(EAGAIN, "cannot start the userfaultfd reader thread");
	}
	dx_mutex_lock_nested(&uf.lock, DX_LSC_1);
	worker_spawn();
	worker_spawn();
	dx_mutex_unlock(&uf.lock);
	return 0;
}

int
dx_uffd_start(void (*on_fault)(uint64_t addr, unsigned flags))
{
	int ret = 0;

	dx_mutex_lock(&uf.start_lock);
	if (!uf.started) {
		uf.on_fault = on_fault;
		uf.started = true;
		if (uffd_init() != 0)
			uf.err = errno;
	}
	if (uf.err != 0)
		ret = dx_err(uf.err, "the userfaultfd service could not start");
	dx_mutex_unlock(&uf.start_lock);
	return ret;
}

/*
 * Around fork: the child must find the service's locks free, and none of
 * its threads; it starts its own service at its first mapping (the
 * parent's registered ranges are not in it: MADV_DONTFORK).  Taken raw, as
 * every fork handler's locks (map.c).
 */
static void
uffd_fork_prepare(void)
{
	pthread_mutex_lock(&uf.start_lock.m);
	pthread_mutex_lock(&uf.lock.m);
}

static void
uffd_fork_parent(void)
{
	pthread_mutex_unlock(&uf.lock.m);
	pthread_mutex_unlock(&uf.start_lock.m);
}

static void
uffd_fork_child(void)
{
	if (uf.fd >= 0)
		close(uf.fd);
	uf.fd = -1;
	uf.started = false;
	uf.err = 0;
	uf.ready = uf.ready_tail = NULL;
	uf.workers = uf.idle = uf.blocked = 0;
	pthread_cond_init(&uf.cond, NULL);
	pthread_mutex_unlock(&uf.lock.m);
	pthread_mutex_unlock(&uf.start_lock.m);
}

__attribute__((constructor)) static void
uffd_load(void)
{
	pthread_atfork(uffd_fork_prepare, uffd_fork_parent, uffd_fork_child);
}
