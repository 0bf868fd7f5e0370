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

struct dx_mapping {
	struct dx_rb_node tnode;	/* the process table: MAPTABLE */
	struct dx_mapping *fnext;	/* the file's list: MAPLIST */
	struct daxfile_pool *pool;
	struct dx_inode *ip;		/* referenced */
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
	/* pages marked SIGBUS because a store found no space (fault.c) */
	uint64_t *nospace;
	unsigned nnospace, capnospace;
};

/* dx_mapping_find -- the mapping holding 'addr', referenced, or NULL. */
struct dx_mapping *dx_mapping_find(uint64_t addr);
void dx_mapping_put(struct dx_mapping *m);
struct dx_inode *dx_mapping_inode(const struct dx_mapping *m);

/* The file offset of address 'a' of mapping 'm'. */
static inline uint64_t
dx_mapping_foff(const struct dx_mapping *m, uintptr_t a)
{
	return m->off + (a - m->addr);
}

/*
 * dx_map_invalidate -- replace, in the mappings of the file, the resolved
 * pages of file bytes [start, end) by registered reserve memory, so the
 * next access faults and sees the file as it is then.  Private mappings
 * keep their copies unless 'private' (truncate: their pages past EOF go,
 * as the kernel zaps even private copies there).  Caller holds the iolock
 * and the mmaplock exclusive.
 */
void dx_map_invalidate(struct dx_inode *ip, uint64_t start, uint64_t end,
	bool private);

/*
 * dx_map_invalidate_others -- dx_map_invalidate for the shared mappings
 * other than 'self', from the fault path after it allocated blocks under
 * zero pages those mappings may show.  The caller holds the mmaplock
 * shared and is the one worker serving this file's faults, so no fault
 * installs in those mappings meanwhile, and no invalidation, mmap or
 * munmap of the file runs (they take the mmaplock exclusive).
 */
void dx_map_invalidate_others(struct dx_inode *ip, struct dx_mapping *self,
	uint64_t start, uint64_t end);

/*
 * dx_map_extended -- the file grew from 'old' to 'new' bytes: clear the
 * SIGBUS markers of pages now below EOF.  Caller holds the mmaplock excl.
 */
void dx_map_extended(struct dx_inode *ip, uint64_t old, uint64_t new);

/* dx_map_replace -- swap [addr, addr+len) of 'm' for registered reserve. */
int dx_map_replace(struct dx_mapping *m, uintptr_t addr, size_t len);

/* dx_map_reclaim -- give back VMAs: unmap the oldest installed windows. */
void dx_map_reclaim(unsigned nwindows);

/* dx_map_sigbus -- SIGBUS on access, when UFFDIO_POISON is missing. */
int dx_map_sigbus(void *addr, size_t len, int prot);

/*
 * dx_map_space_freed -- blocks were freed: mappings with pages marked
 * SIGBUS for want of space get them cleared by their file's worker, so the
 * next access retries.  Called with no mapping lock held.
 */
void dx_map_space_freed(void);

/* How many mappings have pages marked SIGBUS for want of space (atomic). */
extern unsigned dx_map_nospace_pending;

/* dx_map_retry_done -- a worker finished a retry job. */
void dx_map_retry_done(void);

/*
 * dx_map_retry_wait -- before a call that freed blocks returns (no lock
 * held): wait until the markers it queued for clearing are gone, so that
 * an access right after the call retries, as on the kernel.
 */
void dx_map_retry_wait(void);

/*
 * dx_map_vmas_set -- window 'w' (index in 'm') now holds 'n' VMAs of its
 * own; the process-wide count follows (caller holds the mmaplock).
 */
void dx_map_vmas_set(struct dx_mapping *m, uint64_t w, uint32_t n);

/*
 * dx_map_vmas_trim -- if installed windows hold more VMAs than the budget
 * under vm.max_map_count, unmap the oldest until they do not (no lock
 * held): installs never run into the kernel's limit, where not even a
 * window could be taken back.
 */
void dx_map_vmas_trim(void);

/* dx_map_stamp -- a new install time stamp (for reclaiming the oldest). */
uint64_t dx_map_stamp(void);

/* dx_map_install_lock -- installs against fork (pthread_atfork). */
void dx_map_install_begin(void);
void dx_map_install_end(void);

/* dx_fault_resolve -- serve a fault at 'addr' of 'm' (fault.c). */
void dx_fault_resolve(struct dx_mapping *m, uint64_t addr, unsigned flags);

#endif /* DX_MAP_H */
