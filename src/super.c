/*
 * super.c -- the superblock: its seal and its checks, its copies after the
 * data segments, and finding an intact one when the primary (in the
 * pmemobj root object) is damaged.
 *
 * The superblock changes only in mkfs and in an upgrade (upgrade.c), which
 * rewrites the copies in the same transaction, so any intact copy is as
 * good as the primary: a pool whose primary is damaged opens through a copy,
 * and `daxfile check` reports it (daxfile_pool_repair() writes it back).
 * A copy is found without trusting the primary: at each 2 MiB boundary of
 * the pool file, a block that holds an intact superblock whose own segment
 * table puts a copy exactly there.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "hash.h"
#include "out.h"
#include "pool.h"
#include "super.h"
#include "tx.h"

void
dx_super_seal(struct dx_super *sb)
{
	sb->checksum = dx_checksum64(sb, offsetof(struct dx_super, checksum));
}

bool
dx_super_intact(const struct dx_super *sb)
{
	return sb->magic == DX_SUPER_MAGIC &&
		sb->checksum == dx_checksum64(sb, offsetof(struct dx_super, checksum));
}

uint64_t
dx_super_copy_off(const struct dx_super *sb, uint32_t seg)
{
	return (sb->segs[seg].start + sb->segs[seg].nblocks) << DX_BLOCK_SHIFT;
}

int
dx_super_tx_copies(struct dx_tx *tx, struct daxfile_pool *pool,
	const struct dx_super *sb)
{
	if (!(sb->feature_compat & DX_FEATURE_COMPAT_SB_COPIES))
		return 0;
	for (uint32_t i = 0; i < sb->nsegs; i++) {
		void *copy = dx_ptr(pool, dx_super_copy_off(sb, i));

		if (copy == sb)
			continue;
		if (dx_tx_add(tx, copy, sizeof(*sb)) != 0)
			return -1;
		memcpy(copy, sb, sizeof(*sb));
	}
	return 0;
}

void
dx_super_write_copies(struct daxfile_pool *pool, const struct dx_super *sb)
{
	for (uint32_t i = 0; i < sb->nsegs; i++) {
		void *copy = dx_ptr(pool, dx_super_copy_off(sb, i));

		memcpy(copy, sb, sizeof(*sb));
		dx_persist(pool, copy, sizeof(*sb));
	}
}

/*
 * super_copy_fits -- is the superblock at pool offset 'off' a copy that its
 * own segment table puts there?
 */
static bool
super_copy_fits(const struct daxfile_pool *pool, uint64_t off)
{
	const struct dx_super *sb = dx_ptr(pool, off);

	if (!dx_super_intact(sb) ||
	    !(sb->feature_compat & DX_FEATURE_COMPAT_SB_COPIES) ||
	    sb->nsegs > DX_MAX_SEGS)
		return false;
	for (uint32_t i = 0; i < sb->nsegs; i++)
		if (dx_super_copy_off(sb, i) == off)
			return true;
	return false;
}

/* super_copy_scan -- the first intact copy in the pool file, or 0. */
static uint64_t
super_copy_scan(const struct daxfile_pool *pool)
{
	for (uint64_t off = DX_HUGE_SIZE;
	    off + sizeof(struct dx_super) <= pool->size; off += DX_HUGE_SIZE)
		if (super_copy_fits(pool, off))
			return off;
	return 0;
}

int
dx_super_find(struct daxfile_pool *pool)
{
	uint64_t copy;

	pool->sb_copy = 0;
	if (pool->root != NULL && dx_super_intact(&pool->root->sb)) {
		pool->sb = &pool->root->sb;
		return 0;
	}
	copy = super_copy_scan(pool);
	if (copy == 0) {
		pool->sb = NULL;
		return dx_err(EFSCORRUPTED, "pool '%s' is damaged: its superblock and every copy of it are damaged",
			pool->path);
	}
	pool->sb = dx_ptr(pool, copy);
	pool->sb_copy = copy;
	return 1;
}

unsigned
dx_super_copies_damaged(const struct daxfile_pool *pool, uint64_t *first)
{
	const struct dx_super *sb = pool->sb;
	unsigned bad = 0;

	if (!(sb->feature_compat & DX_FEATURE_COMPAT_SB_COPIES))
		return 0;
	for (uint32_t i = 0; i < sb->nsegs; i++) {
		uint64_t off = dx_super_copy_off(sb, i);

		if (off == pool->sb_copy)
			continue;
		if (dx_obj_ok(pool, off, sizeof(*sb)) &&
		    memcmp(dx_ptr(pool, off), sb, sizeof(*sb)) == 0)
			continue;
		if (bad++ == 0)
			*first = off;
	}
	return bad;
}

int
dx_super_readable(struct daxfile_pool *pool)
{
	const struct dx_super *sb;

	if (dx_super_find(pool) < 0)
		return -1;
	sb = pool->sb;
	if (sb->version < DX_FORMAT_VERSION_MIN ||
	    sb->version > DX_FORMAT_VERSION)
		return dx_err(EPROTO, "pool '%s' has on-media version %u; this library reads versions %u to %u",
			pool->path, sb->version, DX_FORMAT_VERSION_MIN,
			DX_FORMAT_VERSION);
	if (sb->feature_incompat & ~DX_FEATURE_INCOMPAT_SUPP)
		return dx_err(EPROTO, "pool '%s' uses unknown features %#lx",
			pool->path, (unsigned long)sb->feature_incompat);
	if (sb->block_size != DX_BLOCK_SIZE || sb->nsegs == 0 ||
	    sb->nsegs > DX_MAX_SEGS || sb->nags == 0 || sb->nags > DX_MAX_AGS)
		return dx_err(EFSCORRUPTED, "pool '%s' is damaged: its superblock's geometry is wrong",
			pool->path);
	return 0;
}

int
dx_super_check(struct daxfile_pool *pool)
{
	const struct dx_super *sb;

	if (dx_super_readable(pool) != 0)
		return -1;
	sb = pool->sb;
	if (sb->pool_size > pool->size)
		return dx_err(EFSCORRUPTED, "pool file '%s' is truncated (%lu of %lu bytes)",
			pool->path, (unsigned long)pool->size,
			(unsigned long)sb->pool_size);
	for (uint32_t i = 0; i < sb->nsegs; i++) {
		const struct dx_dseg *s = &sb->segs[i];

		if (s->nblocks == 0 || s->start > pool->size >> DX_BLOCK_SHIFT ||
		    s->nblocks > (pool->size >> DX_BLOCK_SHIFT) - s->start)
			return dx_err(EFSCORRUPTED, "pool '%s' is damaged: its superblock's segment %u is wrong",
				pool->path, i);
	}
	return 0;
}
