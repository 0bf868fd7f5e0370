/*
 * populate.h -- page table entries of the pool's own mapping made in bulk,
 * 2 MiB at a time, before the read and write paths copy through it.
 *
 * A process that opens a pool has no page table entries for it: each
 * first access to a 4 KiB page of the pool mapping is a page fault, one
 * per page for stores.  The kernel's own read and write copy through its
 * direct map and take none.  Where faults are dear (a virtual machine
 * whose guest page faults exit to the host: 13-20 us a page, against
 * 0.2-0.4 us a page for MADV_POPULATE_READ of the same range, measured on
 * the project's machines) a fresh process's 4 KiB random writes over a
 * 1 GiB file spent most of their time faulting.  So the first copy into
 * or out of a 2 MiB chunk of the pool in a process maps the chunk's
 * resident pages (mincore(2)) with one MADV_POPULATE_READ per run; pages
 * not in the pool file (never written, or punched) are left alone, so
 * nothing is allocated and nothing dirtied (a disk-backed pool's pages
 * stay clean: a store there still takes its write-protect fault).  A bit
 * per chunk, in DRAM, says it was done; it is a hint: entries the kernel
 * or the library drops later come back by ordinary faults.
 */
#ifndef DX_POPULATE_H
#define DX_POPULATE_H 1

#include <stddef.h>
#include <stdint.h>

#include "pool.h"

#define DX_POPULATE_SHIFT	21	/* 2 MiB chunks */

/*
 * dx_populate_init -- the chunk bits of a pool just attached (none if they
 * cannot be had: the kernel's faults serve).
 */
void dx_populate_init(struct daxfile_pool *pool);
/* dx_populate_fini -- free them. */
void dx_populate_fini(struct daxfile_pool *pool);

void dx_populate_slow(struct daxfile_pool *pool, uint64_t first, uint64_t last);

/*
 * dx_populate -- make the entries of the chunks under [addr, addr+n) of
 * the pool mapping, where that was not done yet in this process.
 */
static inline void
dx_populate(struct daxfile_pool *pool, const void *addr, size_t n)
{
	uint64_t off = (uint64_t)((const char *)addr - pool->base);
	uint64_t first = off >> DX_POPULATE_SHIFT;
	uint64_t last = (off + n - 1) >> DX_POPULATE_SHIFT;
	const uint64_t *bits = pool->populated;

	if (bits == NULL || n == 0)
		return;
	if (first == last &&
	    (__atomic_load_n(&bits[first / 64], __ATOMIC_RELAXED) >>
	    (first % 64) & 1))
		return;
	dx_populate_slow(pool, first, last);
}

#endif /* DX_POPULATE_H */
