/*
 * errinj.h -- error injection, for the tests that walk every failure path
 * (configure --enable-error-injection; the calls below are the plain
 * system calls otherwise).  The model is XFS's error tags and PMDK's
 * FAULT_INJECTION.
 *
 * DAXFILE_FAIL=POINT:N[,POINT:N...] makes the Nth call at each named point
 * fail as the kernel or the allocator would; DAXFILE_FAIL_COUNT=FILE
 * writes, at exit, how many calls each point saw ("POINT N" lines), so a
 * harness can try every one.  The points:
 *
 *   alloc   the library's DRAM allocations (mem.c): NULL, ENOMEM
 *   mmap    mmap of reserves, installs and markers: ENOMEM
 *   mremap  mremap of a reserve over mapped pages: ENOMEM
 *   munmap  munmap of a mapping's range: ENOMEM
 *   uffd    UFFDIO_COPY and UFFDIO_POISON: EAGAIN (the address space is
 *           changing: the caller retries)
 *   pool    libpmemobj transactions: begin (ENOMEM), snapshot and object
 *           allocation (ENOSPC)
 *   blocks  block reservations: ENOSPC
 */
#ifndef DX_ERRINJ_H
#define DX_ERRINJ_H 1

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>

enum dx_ei_point {
	DX_EI_ALLOC,
	DX_EI_MMAP,
	DX_EI_MREMAP,
	DX_EI_MUNMAP,
	DX_EI_UFFD,
	DX_EI_POOL,
	DX_EI_BLOCKS,
	DX_EI_NPOINTS
};

#ifdef DX_ERRINJ
/* dx_ei_fail -- count a call at 'p'; true if this one must fail. */
bool dx_ei_fail(enum dx_ei_point p);
#else
#define dx_ei_fail(p) ((void)(p), false)
#endif

static inline void *
dx_ei_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (dx_ei_fail(DX_EI_MMAP)) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return mmap(addr, len, prot, flags, fd, off);
}

static inline void *
dx_ei_mremap(void *old, size_t oldlen, size_t len, int flags, void *to)
{
	if (dx_ei_fail(DX_EI_MREMAP)) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return mremap(old, oldlen, len, flags, to);
}

static inline int
dx_ei_munmap(void *addr, size_t len)
{
	if (dx_ei_fail(DX_EI_MUNMAP)) {
		errno = ENOMEM;
		return -1;
	}
	return munmap(addr, len);
}

#endif /* DX_ERRINJ_H */
