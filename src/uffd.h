/*
 * uffd.h -- the userfaultfd service: one descriptor for the process, a
 * reader thread that only reads the kernel's messages and hands each fault
 * to the hook the mapping layer registered, and worker threads that serve
 * work queues, one queue at a time per worker (map.c keeps one per file).
 */
#ifndef DX_UFFD_H
#define DX_UFFD_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fault flags passed to the hook. */
#define DX_FAULT_WRITE 0x1u	/* a store */
#define DX_FAULT_WP 0x2u	/* a store to a write-protected zero page */

/*
 * A job for the workers.  run() does the work, inside a call context of
 * its own (defer.h); done() lets go of what the job held, after its queue
 * let go of the job: a job's reference is what keeps its queue alive.
 */
struct dx_work {
	struct dx_work *next;
	void (*run)(struct dx_work *w);
	void (*done)(struct dx_work *w);
};

/* A queue of jobs served in order by one worker at a time. */
struct dx_workq {
	struct dx_work *head, *tail;
	struct dx_workq *ready_next;
	unsigned state;		/* idle, ready, or being served */
};

/* dx_workq_push -- queue a job (any thread, the reader included). */
void dx_workq_push(struct dx_workq *q, struct dx_work *w);

/*
 * dx_uffd_start -- open the descriptor and start the threads (once per
 * process, and again in a forked child); the reader passes each page
 * fault to 'on_fault', which must queue it and never wait for a lock.
 */
int dx_uffd_start(void (*on_fault)(uint64_t addr, unsigned flags));

/* dx_uffd_has_poison -- does the kernel have UFFDIO_POISON? */
bool dx_uffd_has_poison(void);

/* dx_uffd_register -- register [addr, addr+len) for missing (and wp) faults. */
int dx_uffd_register(void *addr, size_t len, bool wp);

/* dx_uffd_wake -- wake threads waiting on faults in the range. */
void dx_uffd_wake(void *addr, size_t len);

/*
 * dx_uffd_copy -- fill missing pages with 'src' (NULL: zeros), write-
 * protected if 'wp'; pages already present are skipped.  0 or -1.
 */
int dx_uffd_copy(void *dst, const void *src, size_t len, bool wp);

/* dx_uffd_poison -- make accesses to the range get SIGBUS. */
int dx_uffd_poison(void *addr, size_t len);

/*
 * dx_fault_blocking -- a worker is about to wait for a file lock: make
 * sure faults on other files still have a worker.
 */
void dx_fault_blocking(void);
void dx_fault_unblocked(void);

#endif /* DX_UFFD_H */
