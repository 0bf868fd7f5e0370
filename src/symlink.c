/*
 * symlink.c -- the targets of symbolic links, and the pool's mount point:
 * the path at which a program shows the pool's root, past which absolute
 * targets that start with it are followed from that root.
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

#include <errno.h>
#include <string.h>

#include "inode.h"
#include "layout.h"
#include "mem.h"
#include "out.h"
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

/* --- the pool's mount point ---------------------------------------------------- */

/* A mount point: an absolute path without a trailing slash ("" for "/"). */
struct dx_mountpoint {
	struct dx_mountpoint *next;	/* on mountpoints_old */
	size_t len;
	char path[];
};

const char *
dx_symlink_absolute(const struct daxfile_pool *pool, const char *target)
{
	const struct dx_mountpoint *mp =
		__atomic_load_n(&pool->mountpoint, __ATOMIC_ACQUIRE);

	if (mp != NULL && strncmp(target, mp->path, mp->len) == 0 &&
	    (target[mp->len] == '/' || target[mp->len] == '\0'))
		return target + mp->len;
	return target;
}

void
dx_symlink_fini(struct daxfile_pool *pool)
{
	struct dx_mountpoint *lists[] = {pool->mountpoint, pool->mountpoints_old};

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		for (struct dx_mountpoint *mp = lists[i], *next; mp != NULL;
		    mp = next) {
			next = mp->next;
			dx_free(DX_ARENA_GLOBAL, mp);
		}
	}
	pool->mountpoint = pool->mountpoints_old = NULL;
}

DX_EXPORT int
daxfile_pool_set_mountpoint(daxfile_pool *pool, const char *path)
{
	DX_CALL();
	struct dx_mountpoint *mp = NULL, *old;
	size_t len;

	if (dx_pool_check_handle(pool) != 0)
		return -1;
	if (path != NULL) {
		if (path[0] != '/')
			return dx_err(EINVAL, "mount point '%s' is not an absolute path",
				path);
		len = strnlen(path, DX_PATH_MAX);
		if (len >= DX_PATH_MAX)
			return dx_err(ENAMETOOLONG, "mount point longer than %d bytes",
				DX_PATH_MAX - 1);
		while (len > 0 && path[len - 1] == '/')
			len--;
		mp = dx_malloc(DX_ARENA_GLOBAL, sizeof(*mp) + len + 1);
		if (mp == NULL)
			return dx_err(ENOMEM, "cannot keep the mount point");
		mp->next = NULL;
		mp->len = len;
		memcpy(mp->path, path, len);
		mp->path[len] = '\0';
	}
	/* walks may still read the old one: it goes at close */
	old = __atomic_exchange_n(&pool->mountpoint, mp, __ATOMIC_ACQ_REL);
	if (old != NULL) {
		old->next = __atomic_load_n(&pool->mountpoints_old,
			__ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&pool->mountpoints_old,
		    &old->next, old, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			;
	}
	return 0;
}
