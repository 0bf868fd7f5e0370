/*
 * map.h -- DAX-style mappings: a mapping is reserved anonymous memory
 * registered with userfaultfd, into which faults install the pool's own
 * pages (or zero pages, or SIGBUS markers past EOF) one window at a time.
 */
#ifndef DX_MAP_H
#define DX_MAP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rbtree.h"

struct daxfile_pool;
struct dx_inode;

#define DX_WIN_SHIFT 21		/* a window: 2 MiB of address space */
#define DX_WIN_SIZE ((uintptr_t)1 << DX_WIN_SHIFT)

/*
 * Window states.  Invalidation must visit every window that still has a
 * page in place, so a window emptied only in part is PARTIAL, not NONE.
 */
#define DX_WIN_NONE 0		/* nothing in place: the next fault resolves it */
#define DX_WIN_INSTALLED 1	/* every page resolved (pages, zeros, SIGBUS) */
#define DX_WIN_PARTIAL 2	/* some pages in place: a fault resolves it again */

struct dx_fmap;

/*
 * A mapping.  Its fields are map.c's: fault.c reads them, and changes the
 * window states and markers only through the dx_map_win_* calls below.
 */
struct dx_mapping {
	struct dx_rb_node tnode;	/* the process table: MAPTABLE */
	struct dx_mapping *fnext;	/* the file's list: MAPLIST */
	struct daxfile_pool *pool;
	struct dx_inode *ip;		/* referenced */
	struct dx_fmap *fm;		/* the file's mappings and fault queue */
	uintptr_t addr;			/* page aligned */
	size_t len;			/* page multiple */
	uint64_t off;			/* file offset at addr */
	int prot;
	bool shared;			/* MAP_SHARED: the pool's pages themselves */
	bool dead;			/* being unmapped: set under mmaplock excl */
	unsigned refcnt;		/* atomic */
	uint64_t win0;			/* addr >> DX_WIN_SHIFT */
	uint64_t nwin;
	uint8_t *win;			/* window states: under the mmaplock */
	uint64_t *stamp;		/* when each window was installed */
	uint32_t *vmas;			/* VMAs each window's install made */
	/* pages marked SIGBUS because a store found no space */
	uint64_t *nospace;
	unsigned nnospace, capnospace;
	struct fault_job *spare_job;	/* queues a fault when out of memory */
	bool spare_busy;		/* atomic: spare_job is queued */
};

/* The file offset of address 'a' of mapping 'm'. */
static inline uint64_t
dx_mapping_foff(const struct dx_mapping *m, uintptr_t a)
{
	return m->off + (a - m->addr);
}

/* dx_map_is_mapped -- has the file live mappings?  (no lock needed) */
bool dx_map_is_mapped(struct dx_inode *ip);

/* Modes of dx_map_invalidate. */
#define DX_INVAL_PRIVATE 0x1u	/* private mappings too (truncate: their
				   pages past EOF go, as the kernel zaps even
				   private copies there) */
#define DX_INVAL_REVOKE 0x2u	/* last resort where pages cannot be
				   replaced: make them inaccessible */
#define DX_INVAL_ZAP 0x4u	/* where pages cannot be replaced, drop the
				   zero pages and markers (a write over holes,
				   which keeps every block it leaves mapped) */
#define DX_INVAL_DISCARD 0x8u	/* the change discards the bytes (punch,
				   zero range, truncate down): whole pages of
				   them need no atomic move (map.c,
				   map_discard) */

/*
 * dx_map_invalidate -- take the resolved pages of file bytes [start, end)
 * away from the shared mappings of the file (and the private ones with
 * DX_INVAL_PRIVATE): a fresh registered reserve is moved over them, so the
 * next access faults and sees the file as it is then.  Caller holds the
 * iolock and the mmaplock exclusive.  0, or -1 with ENOMEM when the kernel
 * refused the memory for a reserve (no spare was left): the caller lets go
 * of its locks, runs the deferred VMA reclaim, and tries again, at last
 * with DX_INVAL_REVOKE.  Windows already replaced stay so.
 */
int dx_map_invalidate(struct dx_inode *ip, uint64_t start, uint64_t end,
	unsigned mode);

/*
 * dx_map_invalidate_zeros -- blocks were linked or converted under file
 * bytes [start, end), a hole or unwritten run until then, where shared
 * mappings (but 'self') can only show zero pages or SIGBUS markers: drop
 * them, so the next access sees the blocks.  Needs no new memory where the
 * kernel has UFFDIO_POISON (MADV_DONTNEED).  Caller holds the mmaplock
 * shared as the worker serving the file's faults (no other fault of the
 * file runs then, and no invalidation, mmap or munmap: they hold it
 * exclusive).
 */
void dx_map_invalidate_zeros(struct dx_inode *ip, struct dx_mapping *self,
	uint64_t start, uint64_t end);

/*
 * dx_map_invalidate_moving -- the blocks under file bytes [start, end) are
 * about to move (dx_iomap_relocate): take the pages every shared mapping
 * shows there away, as dx_map_invalidate does, so that no store reaches
 * the old blocks after their copy.  Caller holds the iolock exclusive and
 * the mmaplock shared as the worker serving the file's faults (see
 * dx_map_invalidate_zeros).  0, or -1 when some could not be replaced
 * (they may stay: the blocks must not move then).
 */
int dx_map_invalidate_moving(struct dx_inode *ip, uint64_t start,
	uint64_t end);

/*
 * dx_map_extended -- the file grew from 'old' to 'new' bytes: clear the
 * SIGBUS markers of pages now below EOF.  Caller holds the mmaplock excl.
 */
void dx_map_extended(struct dx_inode *ip, uint64_t old, uint64_t new);

/* dx_map_sigbus -- SIGBUS on access, when UFFDIO_POISON is missing. */
int dx_map_sigbus(void *addr, size_t len, int prot);

/*
 * dx_map_win_resolved -- is the window of 'addr' resolved whole (a fault
 * that waited in the queue while another resolved it is stale)?
 */
bool dx_map_win_resolved(const struct dx_mapping *m, uintptr_t addr);

/* dx_map_win_empty -- has the window of 'addr' nothing in place (NONE)? */
bool dx_map_win_empty(const struct dx_mapping *m, uintptr_t addr);

/*
 * dx_map_win_installed -- the window of 'addr' is resolved whole, its
 * install made 'vmas' VMAs of its own.  Caller holds the mmaplock and
 * serves the file's faults.
 */
void dx_map_win_installed(struct dx_mapping *m, uintptr_t addr, uint32_t vmas);

/*
 * dx_map_win_failed -- the fault at 'addr' cannot be served: the page gets
 * a SIGBUS marker (the woken thread gets SIGBUS, as the kernel gives when a
 * DAX fault cannot allocate); one set for want of space or memory
 * ('nospace') goes when blocks are freed, so a later access retries.
 * Caller as above.
 */
void dx_map_win_failed(struct dx_mapping *m, uintptr_t addr, bool wp,
	bool nospace);

/*
 * dx_map_want_vmas -- the kernel refused memory for an install: windows
 * are taken back when the call ends (deferred work).
 */
void dx_map_want_vmas(void);

/* dx_map_install_lock -- installs against fork (pthread_atfork). */
void dx_map_install_begin(void);
void dx_map_install_end(void);

/* dx_fault_resolve -- serve a fault at 'addr' of 'm' (fault.c). */
void dx_fault_resolve(struct dx_mapping *m, uint64_t addr, unsigned flags);

#endif /* DX_MAP_H */
