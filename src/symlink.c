/*
 * symlink.c -- the targets of symbolic links.
 *
 * A target of up to DX_SYMLINK_INLINE - 1 bytes is kept in the inode object
 * itself, right after the dinode (every link inode has that room), so that
 * following a short link reads one object.  A longer one, up to
 * DX_PATH_MAX - 1 bytes, gets a struct dx_symblk of its own, which names
 * its owner.  The dinode's size is the target's length.  Targets are
 * written once, in the transaction that creates the link, and never
 * change: path walks read them with no lock.
 */
#include "config.h"

#include <string.h>

#include "inode.h"
#include "layout.h"
#include "pool.h"
#include "symlink.h"
#include "tx.h"

/* symlink_inline -- the inline target area of link inode 'di'. */
static inline char *
symlink_inline(const struct dx_dinode *di)
{
	return (char *)(di + 1);
}

void
dx_symlink_init(struct dx_tx *tx, uint64_t ino, const char *target,
	size_t len)
{
	struct daxfile_pool *pool = tx->pool;
	struct dx_dinode *di = dx_ptr(pool, ino);
	struct dx_symblk *blk;
	uint64_t off;

	/* the inode was zero-allocated in this transaction: no snapshot */
	di->size = len;
	if (len < DX_SYMLINK_INLINE) {
		memcpy(symlink_inline(di), target, len);
		return;
	}
	off = dx_tx_alloc(tx, sizeof(*blk) + len + 1, DX_TYPE_SYMBLK, false);
	if (off == 0)
		return;
	blk = dx_ptr(pool, off);
	blk->magic = DX_SYMBLK_MAGIC;
	blk->owner = ino;
	memcpy(blk->target, target, len);
	blk->target[len] = '\0';
	di->extents = off;
}

const char *
dx_symlink_stored(const struct daxfile_pool *pool, const struct dx_dinode *di)
{
	if (di->extents == 0)
		return symlink_inline(di);
	return ((const struct dx_symblk *)dx_ptr(pool, di->extents))->target;
}

const char *
dx_symlink_target(const struct dx_inode *ip)
{
	return dx_symlink_stored(ip->pool, ip->di);
}

const char *
dx_symlink_check(const struct daxfile_pool *pool, uint64_t ino)
{
	const struct dx_dinode *di = dx_ptr(pool, ino);
	const struct dx_symblk *blk;
	uint64_t len = di->size;
	const char *target;

	if (len == 0 || len >= DX_PATH_MAX)
		return "target length out of range";
	if (di->extents == 0) {
		if (len >= DX_SYMLINK_INLINE)
			return "long target stored inline";
		target = symlink_inline(di);
	} else {
		if (len < DX_SYMLINK_INLINE)
			return "short target stored in a block";
		if (!dx_obj_ok(pool, di->extents, sizeof(*blk) + len + 1))
			return "target block outside the pool";
		blk = dx_ptr(pool, di->extents);
		if (blk->magic != DX_SYMBLK_MAGIC || blk->owner != ino)
			return "damaged target block";
		target = blk->target;
	}
	if (strnlen(target, len + 1) != len)
		return "target length does not match its size";
	return NULL;
}

void
dx_symlink_free(struct dx_tx *tx, const struct dx_dinode *di)
{
	if (di->extents != 0)
		dx_tx_free(tx, di->extents);
}
