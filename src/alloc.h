/*
 * alloc.h -- the block allocator: the pool's data segments in 4 KiB blocks,
 * split into allocation groups (AGs), each with a persistent bitmap and a
 * DRAM index of free extents by address and by size.
 *
 * Allocation has two steps.  dx_alloc_reserve() takes blocks out of the
 * DRAM index (nothing persistent changes: a crash forgets it), so a writer
 * can fill them before they become reachable.  dx_alloc_claim() then marks
 * them used in the transaction that links them into a file.  Frees are
 * likewise recorded in the transaction and reach the DRAM index only after
 * it commits, so no block is handed out twice while a transaction that
 * freed it could still roll back.
 */
#ifndef DX_ALLOC_H
#define DX_ALLOC_H 1

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"
#include "lock.h"
#include "rbtree.h"

struct daxfile_pool;
struct dx_tx;
struct dx_ag;

/* An allocation group in DRAM. */
struct dx_agi {
	struct dx_mutex lock;		/* AG: the index; the bitmap to commit */
	struct dx_ag *ag;		/* on media */
	uint32_t agno;
	uint64_t start, end;		/* [start, end) pblks */
	uint64_t avail;			/* blocks in the DRAM index (atomic) */
	struct dx_rb_root by_addr;	/* free extents by start */
	struct dx_rb_root by_size;	/* free extents by (length, start) */
	uint64_t *mapped;		/* a bit per block: installed in a shared
					   mapping since last punched (atomic) */
	struct dx_resv *quar;		/* freed mapped blocks: out of the index
					   until punched (alloc.c) */
	unsigned nquar, capquar;
};

struct dx_alloc {
	uint32_t nags;
	struct dx_agi *ags;
	unsigned rotor;			/* AG for the next new file */
	bool mapped;			/* some block's mapped bit was ever set */
	bool nopunch;			/* the pool file cannot punch holes */
	bool punch_keeps;		/* a punch may keep pages of a huge
					   page it cannot split (tmpfs) */
	uint64_t quarantined;		/* blocks in quarantine (atomic) */
};

/* A reservation: blocks taken from the DRAM index, not yet persistent. */
struct dx_resv {
	uint64_t pblk;
	uint64_t len;
};

int dx_alloc_init(struct daxfile_pool *pool);
void dx_alloc_fini(struct daxfile_pool *pool);

/* dx_alloc_pick_ag -- an AG for a file with no blocks yet (round robin). */
uint32_t dx_alloc_pick_ag(struct daxfile_pool *pool);
/* dx_alloc_agno -- the AG holding block 'pblk' (nags if none). */
uint32_t dx_alloc_agno(const struct daxfile_pool *pool, uint64_t pblk);

/*
 * dx_alloc_reserve -- reserve up to 'want' blocks, at least 'minlen' unless
 * less is free, as one extent: at 'goal' if that block is free (0: none),
 * else in AG 'agno' or the next ones.  'phase' is -1, or where the first
 * block must fall modulo 2 MiB (DX_HUGE_BLOCKS): for an extent at file
 * block lblk, lblk % DX_HUGE_BLOCKS puts every whole 2 MiB of the file on
 * an aligned 2 MiB of the pool file; when no free extent allows it, the
 * phase is given up.  Returns 0, or -1 with ENOSPC when no block is free.
 */
int dx_alloc_reserve(struct daxfile_pool *pool, uint32_t agno, uint64_t goal,
	uint64_t want, uint64_t minlen, int64_t phase, struct dx_resv *r);

/*
 * dx_alloc_phase -- the 'phase' for blocks at file block 'lblk' of a file
 * that is or becomes 'large' (2 MiB or more), else -1.
 */
static inline int64_t
dx_alloc_phase(uint64_t lblk, bool large)
{
	return large ? (int64_t)(lblk % DX_HUGE_BLOCKS) : -1;
}

/* dx_alloc_unreserve -- give reserved blocks back. */
void dx_alloc_unreserve(struct daxfile_pool *pool, const struct dx_resv *r);

/*
 * dx_alloc_claim -- mark reserved blocks used in 'tx'; if the transaction
 * aborts they go back to the DRAM index.
 */
void dx_alloc_claim(struct dx_tx *tx, const struct dx_resv *r);

/* dx_alloc_free -- free blocks in 'tx'; reusable once it commits. */
void dx_alloc_free(struct dx_tx *tx, uint64_t pblk, uint64_t len);

/*
 * dx_alloc_note_mapped -- blocks [pblk, pblk+len) are about to be installed
 * in a shared mapping, where an application can pin their pages (O_DIRECT,
 * vmsplice, io_uring fixed buffers): when they are freed, they wait in
 * quarantine and are dropped from the pool file before they are handed out
 * again, so a pinned page never becomes another file's.  Blocks never
 * installed go back to the index at once.  The caller owns the blocks (a
 * fault holding the file's mmaplock), so no free of them runs meanwhile.
 */
void dx_alloc_note_mapped(struct daxfile_pool *pool, uint64_t pblk,
	uint64_t len);

/* dx_alloc_avail -- blocks free in the DRAM index (not reserved). */
uint64_t dx_alloc_avail(struct daxfile_pool *pool);

/* dx_alloc_free_blocks -- free blocks as the bitmaps record them. */
uint64_t dx_alloc_free_blocks(struct daxfile_pool *pool);

/* dx_alloc_bitmap_test -- is block 'pblk' marked used?  (checker, tests) */
bool dx_alloc_bitmap_test(const struct dx_ag *ag, uint64_t pblk);

#endif /* DX_ALLOC_H */
