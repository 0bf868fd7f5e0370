/*
 * uffd.h -- the userfaultfd service: one descriptor for the process, a
 * reader thread that only reads the kernel's messages, and worker threads
 * that resolve faults, one file at a time per worker.
 */
#ifndef DX_UFFD_H
#define DX_UFFD_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dx_mapping;

/* Fault flags passed to the resolver. */
#define DX_FAULT_WRITE 0x1u	/* a store */
#define DX_FAULT_WP 0x2u	/* a store to a write-protected zero page */
#define DX_FAULT_RETRY 0x4u	/* not a fault: space was freed, clear the
				   SIGBUS markers of stores that found none */

/* dx_uffd_start -- open the descriptor and start the threads (once). */
int dx_uffd_start(void);

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

/* dx_uffd_queue_retry -- queue a DX_FAULT_RETRY job for mapping 'm'. */
void dx_uffd_queue_retry(struct dx_mapping *m);

/*
 * dx_fault_blocking -- a worker is about to wait for a file lock: make
 * sure faults on other files still have a worker.
 */
void dx_fault_blocking(void);
void dx_fault_unblocked(void);

#endif /* DX_UFFD_H */
