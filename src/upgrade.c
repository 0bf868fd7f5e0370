/*
 * upgrade.c -- pools of older on-media versions, brought to
 * DX_FORMAT_VERSION in place when they are opened.
 *
 * Version 1 to 2: version 2 only added kinds of objects and uses of
 * fields that a version 1 pool does not have (symbolic links, several
 * entries for one inode, unnamed files on the orphan list, slabs and
 * the objects claimed from them, ordered hash chains, the dinode and
 * directory words that were padding and are zero in every version 1
 * pool).  The inodes and entries of a version 1 pool stay libpmemobj
 * objects of their own, freed as such, and its directories keep their
 * unordered chains until they are empty (slab.c, dir.c).  A
 * version 1 pool is therefore a valid version 2 pool once its superblock
 * says so.
 *
 * Version 2 to 3: version 3 added the undo log lanes (undo.c), named by a
 * root word that is zero in older pools; a pool without them is a valid
 * version 3 pool whose transactions all use libpmemobj's log.  So the
 * upgrade rewrites the version and the checksum (of the superblock and
 * of its copies, super.c), in one transaction, so that a crash leaves the
 * pool of its old version (the next open upgrades it) or of the new one;
 * and then, in a transaction of its own, a version 3 pool without lanes
 * gets them (where layout.h says: every pool has that room).  A
 * library of an older version refuses the upgraded pool (EPROTO): it
 * would not know its links, or would open it without putting back what a
 * crash left in the lanes.
 */
#include "config.h"

#include <errno.h>

#include "out.h"
#include "pool.h"
#include "super.h"
#include "tx.h"
#include "undo.h"
#include "upgrade.h"

/* upgrade_lanes -- undo log lanes for a pool that has none. */
static int
upgrade_lanes(struct daxfile_pool *pool)
{
	struct dx_tx tx;

	if (pool->root->undo != 0)
		return 0;
	if (dx_tx_begin(&tx, pool) != 0)
		return -1;
	if (dx_undo_make(&tx) != 0)
		dx_tx_fail(&tx, errno ? errno : EIO);
	if (dx_tx_commit(&tx) != 0)
		return dx_err_keep("cannot make the undo log of pool '%s'",
			pool->path);
	return 0;
}

int
dx_upgrade(struct daxfile_pool *pool)
{
	/* the primary, or the copy the pool opened through */
	struct dx_super *sb = dx_ptr(pool, dx_off(pool, pool->sb));
	struct dx_tx tx;

	if (sb->version == DX_FORMAT_VERSION)
		return upgrade_lanes(pool);
	if (dx_tx_begin(&tx, pool) != 0)
		return -1;
	if (DX_TX_ADD_FIELD(&tx, sb, version) == 0 &&
	    DX_TX_ADD_FIELD(&tx, sb, checksum) == 0) {
		sb->version = DX_FORMAT_VERSION;
		dx_super_seal(sb);
		dx_super_tx_copies(&tx, pool, sb); /* a failure aborts the tx */
	}
	if (dx_tx_commit(&tx) != 0)
		return dx_err_keep("cannot upgrade pool '%s' to on-media version %d",
			pool->path, DX_FORMAT_VERSION);
	return upgrade_lanes(pool);
}
