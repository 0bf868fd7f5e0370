/*
 * mkfs.c -- laying out a new pool: the superblock, the data segments and
 * their allocation groups, and the root directory.
 *
 * The data segments take what pmemobj's heap leaves after a reserve for
 * metadata (inodes, directories, extent records, transaction logs).  Each
 * segment is one pmemobj allocation, over-allocated by 2 MiB so that its
 * first block sits on a 2 MiB boundary of the pool file: pmemobj's own
 * large allocations are not even page aligned, and mappings of 2 MiB
 * aligned extents need 2 MiB aligned pool offsets.  It has DX_SB_COPY_SIZE
 * bytes more, past its last block (a 2 MiB boundary too), for a copy of
 * the superblock (super.c).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "defer.h"
#include "dir.h"
#include "mkfs.h"
#include "out.h"
#include "permission.h"
#include "pool.h"
#include "super.h"
#include "tx.h"
#include "undo.h"

#define MKFS_PMEMOBJ_OVERHEAD ((uint64_t)4 << 20)	/* pool header, lanes */
#define MKFS_META_MIN ((uint64_t)4 << 20)
#define MKFS_SEG_MAX ((uint64_t)15 << 30)	/* below one pmemobj zone */
#define MKFS_AG_MIN_BLOCKS DX_HUGE_BLOCKS	/* 2 MiB */
#define MKFS_AG_MAX_BLOCKS ((uint64_t)1 << 18)	/* 1 GiB */

/*
 * mkfs_meta_reserve -- heap bytes kept for metadata: 4 MiB (pmemobj gives
 * each allocation class whole 256 KiB chunks) plus 1/16 of the pool.
 */
static uint64_t
mkfs_meta_reserve(uint64_t size)
{
	return MKFS_META_MIN + size / 16;
}

/*
 * mkfs_data_bytes -- the bytes of the data segments of a pool of 'size':
 * what the reserves and one 2 MiB alignment leave, in 2 MiB units (0 if
 * nothing).  The heap holds them: the reserve for metadata covers what
 * each further segment costs (pmemobj's zone headers, alignment, the
 * superblock copy).
 */
static uint64_t
mkfs_data_bytes(uint64_t size)
{
	uint64_t reserve = mkfs_meta_reserve(size) + MKFS_PMEMOBJ_OVERHEAD;

	if (size <= reserve + DX_HUGE_SIZE)
		return 0;
	return DX_ALIGN_DOWN(size - reserve - DX_HUGE_SIZE, DX_HUGE_SIZE);
}

DX_EXPORT uint64_t
daxfile_pool_size_for(uint64_t usable)
{
	DX_CALL();
	uint64_t lo = DAXFILE_MIN_POOL_SIZE, hi = lo;

	dx_err_begin();
	if (usable > MKFS_SEG_MAX * DX_MAX_SEGS) {
		dx_err(EFBIG, "a pool holds at most %lu bytes of file data",
			(unsigned long)(MKFS_SEG_MAX * DX_MAX_SEGS));
		return 0;
	}
	if (mkfs_data_bytes(lo) >= usable)
		return lo;
	while (mkfs_data_bytes(hi) < usable)
		hi *= 2;
	/* the smallest size in whole MiB that holds 'usable' */
	while (hi - lo > (1 << 20)) {
		uint64_t mid = DX_ALIGN_DOWN(lo + (hi - lo) / 2, 1 << 20);

		if (mkfs_data_bytes(mid) >= usable)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/*
 * mkfs_ag_blocks -- AG size: a quarter of the data up to 1 GiB, but never
 * more than DX_TX_MAX_AGS groups, so that one transaction can hold the lock
 * of every AG it frees blocks in.  At least 2 MiB.
 */
static uint64_t
mkfs_ag_blocks(uint64_t data_blocks)
{
	uint64_t ag = DX_MIN(data_blocks / 4, MKFS_AG_MAX_BLOCKS);

	ag = DX_MAX(ag, (data_blocks + DX_TX_MAX_AGS - 1) / DX_TX_MAX_AGS);
	ag = DX_ALIGN_UP(ag, DX_HUGE_BLOCKS);
	return DX_MAX(ag, MKFS_AG_MIN_BLOCKS);
}

int
dx_mkfs_ag_geometry(const struct dx_super *sb, uint32_t agno, uint64_t *start,
	uint64_t *nblocks)
{
	uint64_t ag_blocks = mkfs_ag_blocks(sb->data_blocks);
	uint32_t k = 0;

	for (uint32_t s = 0; s < sb->nsegs && s < DX_MAX_SEGS; s++) {
		const struct dx_dseg *seg = &sb->segs[s];

		for (uint64_t b = 0; b < seg->nblocks && k <= agno;
		    b += ag_blocks, k++) {
			if (k != agno)
				continue;
			*start = seg->start + b;
			*nblocks = DX_MIN(ag_blocks, seg->nblocks - b);
			return 0;
		}
	}
	return -1;
}

/*
 * mkfs_segment -- reserve one data segment of up to 'bytes' (2 MiB units).
 * Not flushed at commit: its blocks hold nothing until the data path
 * writes and persists them, and flushing them here would touch every page
 * of the pool (a page fault each on memory the pool file has not mapped
 * yet: seconds per GiB).  The superblock copy at its end is persisted by
 * dx_super_write_copies.
 */
static int
mkfs_segment(struct dx_tx *tx, struct dx_super *sb, uint64_t bytes)
{
	struct dx_dseg *seg = &sb->segs[sb->nsegs];
	PMEMoid oid;

	if (dx_tx_obj(tx) != 0)
		return -1;
	for (; bytes >= DX_HUGE_SIZE; bytes -= DX_HUGE_SIZE) {
		oid = pmemobj_tx_xalloc(bytes + DX_HUGE_SIZE + DX_SB_COPY_SIZE,
			DX_TYPE_DATASEG,
			POBJ_XALLOC_NO_ABORT | POBJ_XALLOC_NO_FLUSH);
		if (!OID_IS_NULL(oid))
			break;
	}
	if (bytes < DX_HUGE_SIZE)
		return dx_err(ENOSPC, "no room for a data segment");
	seg->obj_off = oid.off;
	seg->start = DX_ALIGN_UP(oid.off, DX_HUGE_SIZE) >> DX_BLOCK_SHIFT;
	seg->nblocks = bytes >> DX_BLOCK_SHIFT;
	sb->nsegs++;
	sb->data_blocks += seg->nblocks;
	return 0;
}

/* mkfs_ags -- cut every segment into allocation groups, headers zeroed. */
static int
mkfs_ags(struct dx_tx *tx, struct dx_super *sb)
{
	uint64_t ag_blocks = mkfs_ag_blocks(sb->data_blocks);

	for (uint32_t s = 0; s < sb->nsegs; s++) {
		const struct dx_dseg *seg = &sb->segs[s];

		for (uint64_t b = 0; b < seg->nblocks; b += ag_blocks) {
			uint64_t n = DX_MIN(ag_blocks, seg->nblocks - b);
			uint64_t words = (n + 63) / 64;
			uint64_t off;
			struct dx_ag *ag;

			if (sb->nags == DX_MAX_AGS)
				return dx_err(EINVAL, "too many allocation groups");
			off = dx_tx_alloc(tx, sizeof(*ag) + words * 8,
				DX_TYPE_AG, true);
			if (off == 0)
				return dx_err(ENOSPC, "no room for AG headers");
			ag = dx_ptr(tx->pool, off);
			ag->magic = DX_AG_MAGIC;
			ag->agno = sb->nags;
			ag->start = seg->start + b;
			ag->nblocks = n;
			ag->nfree = n;
			sb->ag_off[sb->nags++] = off;
		}
	}
	return 0;
}

/* mkfs_root -- the root directory, its own parent, owned by the creator. */
static int
mkfs_root(struct dx_tx *tx, struct dx_super *sb)
{
	struct dx_cred cr;
	uint64_t ino;

	dx_cred_init(&cr, DX_CRED_FS);
	ino = dx_inode_alloc(tx, NULL, S_IFDIR | 0755, &cr);

	if (ino == 0)
		return dx_err(ENOSPC, "no room for the root directory");
	dx_dir_init(tx->pool, ino, ino);
	sb->root_ino = ino;
	return 0;
}

int
dx_mkfs(struct daxfile_pool *pool, uint64_t size)
{
	struct dx_root *root = pool->root;
	struct dx_super *sb = &root->sb;
	uint64_t data = mkfs_data_bytes(size);
	struct timespec now = dx_now();
	struct dx_tx tx;

	if (data == 0)
		return dx_err(EINVAL, "pool size %lu is too small",
			(unsigned long)size);
	if (dx_tx_begin(&tx, pool) != 0)
		return -1;
	if (dx_tx_add(&tx, root, sizeof(*root)) != 0)
		goto err;
	memset(root, 0, sizeof(*root));
	while (data >= DX_HUGE_SIZE && sb->nsegs < DX_MAX_SEGS) {
		uint64_t want = DX_MIN(data, MKFS_SEG_MAX);
		uint64_t before = sb->data_blocks;

		if (mkfs_segment(&tx, sb, want) != 0)
			break;
		data -= (sb->data_blocks - before) << DX_BLOCK_SHIFT;
		if ((sb->data_blocks - before) << DX_BLOCK_SHIFT < want)
			break; /* the heap is full */
	}
	if (sb->nsegs == 0) {
		dx_err(ENOSPC, "pool size %lu leaves no room for data",
			(unsigned long)size);
		goto err;
	}
	if (mkfs_ags(&tx, sb) != 0 || mkfs_root(&tx, sb) != 0 ||
	    dx_undo_make(&tx) != 0)
		goto err;
	sb->version = DX_FORMAT_VERSION;
	sb->block_size = DX_BLOCK_SIZE;
	sb->pool_size = size;
	sb->create_time = now.tv_sec;
	if (getrandom(sb->uuid, sizeof(sb->uuid), 0) != sizeof(sb->uuid))
		memcpy(sb->uuid, &now, DX_MIN(sizeof(now), sizeof(sb->uuid)));
	sb->feature_compat = DX_FEATURE_COMPAT_SB_COPIES;
	sb->magic = DX_SUPER_MAGIC;
	dx_super_seal(sb);
	dx_super_write_copies(pool, sb);
	return dx_tx_commit(&tx);
err:
	return dx_tx_abort(&tx, errno ? errno : EINVAL);
}
