/*
 * iomap.h -- one path to blocks for a range of a file: write(), the fault
 * path and fallocate ask here for the blocks behind a range, and differ
 * only in what they copy into them afterwards (as XFS's xfs_iomap.c does
 * for DAX).
 *
 * dx_iomap_begin() does placement, reservation, linking, and the
 * conversion of unwritten extents with their zeroing, under the ilock and
 * before any data is copied; dx_iomap_end() links what a write filled.  So
 * once begin returns, no one else will zero or convert the blocks it
 * handed out: a store fault and a write into the same preallocated run
 * cannot wipe each other's bytes.
 */
#ifndef DX_IOMAP_H
#define DX_IOMAP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "layout.h"

struct daxfile_pool;
struct dx_inode;
struct dx_tx;

#define DX_MAX_FILE_BLOCKS (DX_MAX_FILE_SIZE >> DX_BLOCK_SHIFT)

/* dx_blk -- the block holding byte 'off'; dx_blk_up -- blocks to cover it. */
static inline uint64_t
dx_blk(uint64_t off)
{
	return off >> 12;
}

static inline uint64_t
dx_blk_up(uint64_t off)
{
	return (off + 4095) >> 12;
}

/* What the caller will do with the blocks (dx_iomap_begin 'flags'). */
#define DX_IOMAP_WRITE 0x1u	/* write(): copy data in after begin */
#define DX_IOMAP_FAULT 0x2u	/* a store fault: written, zeroed blocks */
#define DX_IOMAP_ZERO 0x4u	/* fallocate: holes become unwritten extents */

/* What backs the range begin answered for. */
enum dx_iomap_type {
	DX_IOMAP_MAPPED,	/* written blocks: copy in place */
	DX_IOMAP_NEW,		/* reserved blocks, not yet in the file: copy,
				   then dx_iomap_end links them */
	DX_IOMAP_DONE,		/* FAULT, ZERO: the whole range was handled */
};

struct dx_iomap {
	uint64_t lblk;		/* first file block of the answer */
	uint64_t len;		/* its blocks */
	uint64_t pblk;		/* its first pool block (MAPPED, NEW) */
	enum dx_iomap_type type;
	bool fresh;		/* blocks were allocated or converted: mappings
				   may show zero pages over them */
	struct dx_resv resv;	/* NEW: the reservation, past EOF included */
	uint64_t span;		/* NEW: bytes from pblk the write fills */
	struct dx_tx *tx;	/* ZERO: the caller's transaction */
};

/*
 * dx_iomap_begin -- the blocks behind bytes [off, off+len) of 'ip':
 *
 * WRITE (caller holds the iolock exclusive, not the ilock): the answer
 *   covers a prefix of the range.  Written blocks come back MAPPED.
 *   Unwritten ones are zeroed and converted first (MAPPED, fresh).  A hole
 *   gets reserved blocks (NEW, fresh), with speculative preallocation past
 *   EOF, their bytes outside [off, off+len) already zeroed.
 * FAULT (caller holds the mmaplock, not the ilock): every hole of the
 *   range gets zeroed blocks, every unwritten extent is zeroed and
 *   converted, durably, in transactions of their own (DONE).
 * ZERO (caller holds the ilock exclusive and passes its transaction in
 *   map->tx): every hole of the range gets unwritten blocks in it (DONE).
 *
 * 0, or -1 with errno (ENOSPC: no blocks; a failed transaction).
 */
int dx_iomap_begin(struct dx_inode *ip, uint64_t off, uint64_t len,
	unsigned flags, struct dx_iomap *map);

/*
 * dx_iomap_overwrite -- the common case of WRITE, without a lock: bytes
 * [off, off+len) lie in one written extent that the file's lookup cache
 * holds.  Their address in the pool, or NULL (then ask dx_iomap_begin).
 * Caller holds the iolock exclusive: nothing takes written blocks away or
 * makes them unwritten without it, so the answer holds until it lets go.
 */
void *dx_iomap_overwrite(struct dx_inode *ip, uint64_t off, uint64_t len);

/*
 * dx_iomap_end -- a write copied its bytes into a NEW answer: make them
 * durable and link the blocks in one transaction, if the range is still a
 * hole (a fault may have filled it meanwhile: then 1, and the write asks
 * again).  Nothing to do for other answers.  The reservation is used up on
 * every path.  0, 1, or -1 with errno.
 */
int dx_iomap_end(struct dx_inode *ip, struct dx_iomap *map);

/*
 * dx_iomap_persist -- make stores to pool memory durable (flush or msync;
 * nothing on memory backing, which has nothing to flush to).
 */
void dx_iomap_persist(struct daxfile_pool *pool, const void *addr, size_t len);

/*
 * dx_iomap_zero_tx -- zero the written blocks of [off, off+len) inside 'tx':
 * the bytes are snapshotted first, so an abort or a crash before the
 * commit leaves them as they were (punch, zero range and truncate stay
 * all-or-nothing).  Caller holds the ilock exclusive; keep 'len' small.
 */
void dx_iomap_zero_tx(struct dx_tx *tx, struct dx_inode *ip, uint64_t off,
	uint64_t len);

/*
 * dx_iomap_expose -- in 'tx', before bytes [old, new) come below EOF
 * without being written: the rest of the block holding old EOF is zeroed,
 * and whole blocks past it (preallocation, whose contents are undefined)
 * become unwritten, so they read zero and SEEK_DATA sees holes.  Caller
 * holds the iolock and the ilock exclusive.
 */
void dx_iomap_expose(struct dx_tx *tx, struct dx_inode *ip, uint64_t old,
	uint64_t new);

/*
 * dx_iomap_trim_eof -- give back the blocks speculative preallocation put
 * past EOF (not those fallocate put there on purpose).  Caller holds the
 * iolock and the ilock exclusive.
 */
void dx_iomap_trim_eof(struct dx_inode *ip);

/*
 * dx_iomap_fragmented -- are the blocks of [lblk, lblk+len) all written,
 * in at least 'runs' runs that are not contiguous in the pool, with room
 * in the pool to move them (dx_iomap_relocate)?  Takes the ilock shared.
 */
bool dx_iomap_fragmented(struct dx_inode *ip, uint64_t lblk, uint64_t len,
	uint64_t runs);

/*
 * dx_iomap_relocate -- move the written blocks of [lblk, lblk+len) to one
 * run of free blocks (at the file's place modulo 2 MiB): copied and
 * durable first, then one transaction swaps the extents and frees the old
 * blocks.  -1 with nothing changed: ENOSPC when no such run is free,
 * EINVAL when a block of the range is not written or it is one run.  Caller holds the iolock exclusive, and has taken every
 * mapped page of the range away; takes the ilock exclusive.
 */
int dx_iomap_relocate(struct dx_inode *ip, uint64_t lblk, uint64_t len);

#endif /* DX_IOMAP_H */
