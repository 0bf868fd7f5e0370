/*
 * falloc.c -- changing a file's size and layout: truncate and fallocate
 * (allocate, punch hole, zero range, collapse range, insert range).
 *
 * Each takes the iolock (no read or write runs) and the mmaplock (no fault
 * runs) exclusively, replaces the mapped pages of the range it changes in
 * every mapping of the file, and then changes the extent map in one
 * transaction, so a crash leaves the call done or not done: even the
 * zeroing of partial blocks is in it (snapshotted bytes), and freed blocks
 * become reusable only after it commits.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc.h"
#include "attr.h"
#include "bmap.h"
#include "data.h"
#include "file.h"
#include "map.h"
#include "out.h"
#include "pool.h"
#include "tx.h"

#define DX_MAX_FILE_BLOCKS (DX_MAX_FILE_SIZE >> DX_BLOCK_SHIFT)

/* set_size -- the new size and times, in tx (caller holds ilock excl). */
static void
set_size(struct dx_tx *tx, struct dx_inode *ip, uint64_t size)
{
	if (ip->di->size != size && DX_TX_ADD_FIELD(tx, ip->di, size) == 0)
		ip->di->size = size;
}

static void
set_flags(struct dx_tx *tx, struct dx_inode *ip, uint64_t flags)
{
	if (ip->di->flags != flags && DX_TX_ADD_FIELD(tx, ip->di, flags) == 0)
		ip->di->flags = flags;
}

/*
 * zero_eof_tail -- zero, in tx, the rest of the block holding EOF at 'size'.
 * Stores through a mapping may have put bytes past EOF in that block (the
 * page holding EOF is mapped whole); collapse and insert move the block to
 * a new place where they would show as file data's neighbours, so they
 * clear it as truncate does.  Caller holds the ilock exclusive.
 */
static void
zero_eof_tail(struct dx_tx *tx, struct dx_inode *ip, uint64_t size)
{
	if (size & (DX_BLOCK_SIZE - 1))
		dx_data_zero_tx(tx, ip, size,
			(dx_blk_up(size) << DX_BLOCK_SHIFT) - size);
}

/*
 * zero_partial -- zero, in tx, the parts of [off, off+len) that do not fill
 * whole blocks; returns the whole blocks [*fb, *eb) in between (may be
 * empty).  Caller holds the ilock exclusive.
 */
static void
zero_partial(struct dx_tx *tx, struct dx_inode *ip, uint64_t off,
	uint64_t len, uint64_t *fb, uint64_t *eb)
{
	uint64_t end = off + len;

	*fb = dx_blk_up(off);
	*eb = dx_blk(end);
	if (*fb > *eb) {
		/* inside one block */
		dx_data_zero_tx(tx, ip, off, len);
		*eb = *fb;
		return;
	}
	if (off < (*fb << DX_BLOCK_SHIFT))
		dx_data_zero_tx(tx, ip, off, (*fb << DX_BLOCK_SHIFT) - off);
	if ((*eb << DX_BLOCK_SHIFT) < end)
		dx_data_zero_tx(tx, ip, *eb << DX_BLOCK_SHIFT,
			end - (*eb << DX_BLOCK_SHIFT));
}

/*
 * alloc_holes -- allocate unwritten extents for every hole in [lblk, end),
 * in tx (caller holds ilock excl).  The reservations are claimed at once,
 * so an abort gives them all back.
 */
static int
alloc_holes(struct dx_tx *tx, struct dx_inode *ip, uint64_t lblk, uint64_t end)
{
	struct daxfile_pool *pool = ip->pool;

	while (lblk < end && !tx->err) {
		struct dx_map m, last;
		struct dx_resv r;
		uint32_t agno;
		uint64_t goal = 0;
		bool large;

		dx_bmap_lookup(ip, lblk, end - lblk, &m);
		if (m.pblk != 0) {
			lblk += m.len;
			continue;
		}
		if (lblk > 0) {
			struct dx_map prev;

			dx_bmap_lookup(ip, lblk - 1, 1, &prev);
			if (prev.pblk != 0)
				goal = prev.pblk + 1;
		}
		dx_bmap_last(ip, &last);
		agno = last.len ? dx_alloc_agno(pool, last.pblk) :
			dx_alloc_pick_ag(pool);
		/* as data_reserve: whole 2 MiB of the file on whole 2 MiB */
		large = m.len >= DX_HUGE_BLOCKS || ip->di->size >= DX_HUGE_SIZE;
		if (large && goal % DX_HUGE_BLOCKS != lblk % DX_HUGE_BLOCKS)
			goal = 0;
		if (dx_alloc_reserve(pool, agno, goal, m.len,
			DX_MIN(m.len, DX_HUGE_BLOCKS), dx_alloc_phase(lblk, large),
			&r) != 0) {
			dx_tx_fail(tx, ENOSPC);
			return -1;
		}
		dx_alloc_claim(tx, &r);
		dx_bmap_insert(tx, ip, lblk, r.pblk, r.len, true);
		lblk += r.len;
	}
	return tx->err ? -1 : 0;
}

/* --- truncate -------------------------------------------------------------- */

static int
truncate_locked(struct dx_inode *ip, uint64_t size)
{
	uint64_t old = ip->di->size;
	uint64_t eof_blk = dx_blk_up(size);
	struct dx_tx tx;
	int ret;

	if (size < old)
		dx_map_invalidate(ip, size, UINT64_MAX, true);
	dx_ilock(ip, DX_ILOCK_EXCL);
	ret = dx_tx_begin(&tx, ip->pool);
	if (ret == 0) {
		if (size < old) {
			/* the page holding EOF reads zeros past it */
			zero_eof_tail(&tx, ip, size);
			dx_bmap_punch(&tx, ip, eof_blk, DX_MAX_FILE_BLOCKS - eof_blk);
			set_flags(&tx, ip, ip->di->flags & ~DX_DIFLAG_PREALLOC);
		}
		dx_data_expose(&tx, ip, old, size);
		set_size(&tx, ip, size);
		dx_inode_touch(&tx, ip->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
		ret = dx_tx_commit(&tx);
	}
	dx_iunlock(ip, DX_ILOCK_EXCL);
	if (ret == 0 && size > old)
		dx_map_extended(ip, old, size);
	return ret;
}

int
dx_truncate(struct dx_inode *ip, uint64_t size)
{
	int ret;

	dx_ilock(ip, DX_IOLOCK_EXCL | DX_MMAPLOCK_EXCL);
	ret = dx_attr_file_modified(ip);
	if (ret == 0)
		ret = truncate_locked(ip, size);
	dx_iunlock(ip, DX_IOLOCK_EXCL | DX_MMAPLOCK_EXCL);
	dx_map_retry_wait();
	return ret;
}

DX_EXPORT int
daxfile_ftruncate(daxfile_file *file, off_t length)
{
	if (dx_file_check(file) != 0)
		return -1;
	if (file->ip->isdir || (file->flags & O_ACCMODE) == O_RDONLY)
		return dx_err(EINVAL, "file is not open for writing");
	if (length < 0)
		return dx_err(EINVAL, "negative length");
	if ((uint64_t)length > DX_MAX_FILE_SIZE)
		return dx_err(EFBIG, "length beyond the maximum file size");
	return dx_truncate(file->ip, (uint64_t)length);
}

/* --- fallocate modes ----------------------------------------------------- */

static int
falloc_punch(struct dx_inode *ip, uint64_t off, uint64_t len)
{
	uint64_t fb, eb;
	struct dx_tx tx;
	int ret;

	dx_map_invalidate(ip, off, off + len, false);
	dx_ilock(ip, DX_ILOCK_EXCL);
	ret = dx_tx_begin(&tx, ip->pool);
	if (ret == 0) {
		zero_partial(&tx, ip, off, len, &fb, &eb);
		if (eb > fb)
			dx_bmap_punch(&tx, ip, fb, eb - fb);
		dx_inode_touch(&tx, ip->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
		ret = dx_tx_commit(&tx);
	}
	dx_iunlock(ip, DX_ILOCK_EXCL);
	return ret;
}

/*
 * populate_blocks -- on persistent memory, have the pages of the pool
 * mapping that back the allocated blocks of [lblk, end) present and
 * writable now, as a tmpfs fallocate allocates its pages: a pool file on
 * a tmpfs is sparse, and each first write to a block would otherwise take
 * a page fault.  Nothing is written; a kernel without MADV_POPULATE_WRITE
 * (before 5.14) leaves the faults to the writes.  Caller holds the iolock
 * excl (the blocks stay the file's).
 */
static void
populate_blocks(struct dx_inode *ip, uint64_t lblk, uint64_t end)
{
	struct daxfile_pool *pool = ip->pool;

	if (!pool->is_pmem)
		return;	/* a write fault on a disk file's page dirties it */
	while (lblk < end) {
		struct dx_map m;

		dx_ilock(ip, DX_ILOCK_SHARED);
		dx_bmap_lookup(ip, lblk, end - lblk, &m);
		dx_iunlock(ip, DX_ILOCK_SHARED);
		m.len = DX_MIN(m.len, end - lblk);
		if (m.pblk != 0 && madvise(dx_block_ptr(pool, m.pblk),
		    m.len << DX_BLOCK_SHIFT, MADV_POPULATE_WRITE) != 0 &&
		    errno == EINVAL)
			return;
		lblk += m.len;
	}
}

/*
 * falloc_alloc -- preallocate [off, off+len) as unwritten extents (reads
 * zero); the size grows unless KEEP_SIZE.
 */
static int
falloc_alloc(struct dx_inode *ip, int mode, uint64_t off, uint64_t len)
{
	uint64_t end = off + len, old = ip->di->size;
	bool grow = !(mode & FALLOC_FL_KEEP_SIZE) && end > old;
	struct dx_tx tx;
	int ret;

	dx_ilock(ip, DX_ILOCK_EXCL);
	ret = dx_tx_begin(&tx, ip->pool);
	if (ret == 0) {
		if (grow)
			dx_data_expose(&tx, ip, old, end);
		alloc_holes(&tx, ip, dx_blk(off), dx_blk_up(end));
		if (grow)
			set_size(&tx, ip, end);
		else if (end > old)
			set_flags(&tx, ip, ip->di->flags | DX_DIFLAG_PREALLOC);
		/* as XFS: every fallocate is a modification, size or not */
		dx_inode_touch(&tx, ip->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
		ret = dx_tx_commit(&tx);
		if (ret != 0)
			dx_err_keep("cannot preallocate");
	}
	dx_iunlock(ip, DX_ILOCK_EXCL);
	if (ret == 0)
		populate_blocks(ip, dx_blk(off), dx_blk_up(end));
	if (ret == 0 && grow)
		dx_map_extended(ip, old, end);
	return ret;
}

/*
 * falloc_zero -- ZERO_RANGE: partial blocks zeroed, whole blocks turned
 * unwritten (no data is written, nothing freed), holes allocated.
 */
static int
falloc_zero(struct dx_inode *ip, int mode, uint64_t off, uint64_t len)
{
	uint64_t end = off + len, old = ip->di->size;
	bool grow = !(mode & FALLOC_FL_KEEP_SIZE) && end > old;
	uint64_t fb, eb;
	struct dx_tx tx;
	int ret;

	dx_map_invalidate(ip, off, end, false);
	dx_ilock(ip, DX_ILOCK_EXCL);
	ret = dx_tx_begin(&tx, ip->pool);
	if (ret == 0) {
		if (grow)
			dx_data_expose(&tx, ip, old, end);
		zero_partial(&tx, ip, off, len, &fb, &eb);
		if (eb > fb)
			dx_bmap_convert(&tx, ip, fb, eb - fb, true);
		alloc_holes(&tx, ip, dx_blk(off), dx_blk_up(end));
		if (grow)
			set_size(&tx, ip, end);
		else if (end > old)
			set_flags(&tx, ip, ip->di->flags | DX_DIFLAG_PREALLOC);
		dx_inode_touch(&tx, ip->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
		ret = dx_tx_commit(&tx);
		if (ret != 0)
			dx_err_keep("cannot zero range");
	}
	dx_iunlock(ip, DX_ILOCK_EXCL);
	if (ret == 0 && grow)
		dx_map_extended(ip, old, end);
	return ret;
}

/* falloc_collapse -- remove [off, off+len) and shift the rest down. */
static int
falloc_collapse(struct dx_inode *ip, uint64_t off, uint64_t len)
{
	uint64_t size = ip->di->size;
	uint64_t lblk = dx_blk(off), n = dx_blk(len);
	struct dx_tx tx;
	int ret;

	if (off + len >= size)
		return dx_err(EINVAL, "collapse range reaches EOF");
	dx_map_invalidate(ip, off, UINT64_MAX, false);
	dx_ilock(ip, DX_ILOCK_EXCL);
	ret = dx_tx_begin(&tx, ip->pool);
	if (ret == 0) {
		dx_bmap_punch(&tx, ip, lblk, n);
		dx_bmap_shift(&tx, ip, lblk + n, -(int64_t)n);
		zero_eof_tail(&tx, ip, size - len);
		set_size(&tx, ip, size - len);
		dx_inode_touch(&tx, ip->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
		ret = dx_tx_commit(&tx);
	}
	dx_iunlock(ip, DX_ILOCK_EXCL);
	return ret;
}

/* falloc_insert -- open a hole of 'len' at 'off', shifting the rest up. */
static int
falloc_insert(struct dx_inode *ip, uint64_t off, uint64_t len)
{
	uint64_t size = ip->di->size;
	uint64_t lblk = dx_blk(off), n = dx_blk(len);
	struct dx_tx tx;
	int ret;

	if (off >= size)
		return dx_err(EINVAL, "insert range at or past EOF");
	if (len > DX_MAX_FILE_SIZE - size)
		return dx_err(EFBIG, "insert range beyond the maximum file size");
	dx_map_invalidate(ip, off, UINT64_MAX, false);
	dx_ilock(ip, DX_ILOCK_EXCL);
	ret = dx_tx_begin(&tx, ip->pool);
	if (ret == 0) {
		dx_bmap_split(&tx, ip, lblk);
		dx_bmap_shift(&tx, ip, lblk, (int64_t)n);
		zero_eof_tail(&tx, ip, size + len);
		set_size(&tx, ip, size + len);
		dx_inode_touch(&tx, ip->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
		ret = dx_tx_commit(&tx);
	}
	dx_iunlock(ip, DX_ILOCK_EXCL);
	return ret;
}

#ifndef FALLOC_FL_WRITE_ZEROES
#define FALLOC_FL_WRITE_ZEROES 0x80	/* Linux 6.17; <linux/falloc.h> may lack it */
#endif

/*
 * falloc_check -- the argument checks of vfs_fallocate and XFS, in the
 * kernel's order: the range, then the mode (the modes exclude each other,
 * and only ALLOCATE, ZERO_RANGE and UNSHARE_RANGE take KEEP_SIZE; PUNCH_HOLE
 * needs it), then the descriptor, then the file type and size, then what
 * XFS itself refuses (WRITE_ZEROES; collapse and insert off block bounds).
 */
static int
falloc_check(daxfile_file *file, int mode, off_t offset, off_t len)
{
	const int modes = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE |
		FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE |
		FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_WRITE_ZEROES;

	if (offset < 0 || len <= 0)
		return dx_err(EINVAL, "negative offset or non-positive length");
	if (mode & ~(modes | FALLOC_FL_KEEP_SIZE))
		return dx_err(EOPNOTSUPP, "unsupported fallocate mode %#x", mode);
	switch (mode & modes) {
	case 0:
	case FALLOC_FL_ZERO_RANGE:
	case FALLOC_FL_UNSHARE_RANGE:
		break;
	case FALLOC_FL_PUNCH_HOLE:
		if (!(mode & FALLOC_FL_KEEP_SIZE))
			return dx_err(EOPNOTSUPP, "PUNCH_HOLE needs KEEP_SIZE");
		break;
	case FALLOC_FL_COLLAPSE_RANGE:
	case FALLOC_FL_INSERT_RANGE:
	case FALLOC_FL_WRITE_ZEROES:
		if (mode & FALLOC_FL_KEEP_SIZE)
			return dx_err(EOPNOTSUPP,
				"fallocate mode %#x does not take KEEP_SIZE", mode);
		break;
	default:
		return dx_err(EOPNOTSUPP, "fallocate modes %#x exclude each other",
			mode);
	}
	if ((file->flags & O_ACCMODE) == O_RDONLY)
		return dx_err(EBADF, "file is not open for writing");
	if (file->ip->isdir)
		return dx_err(EISDIR, "cannot fallocate a directory");
	if ((uint64_t)offset + (uint64_t)len > DX_MAX_FILE_SIZE)
		return dx_err(EFBIG, "range beyond the maximum file size");
	if (mode & FALLOC_FL_WRITE_ZEROES)
		return dx_err(EOPNOTSUPP, "WRITE_ZEROES is not supported");
	if ((mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)) &&
	    ((offset | len) & (DX_BLOCK_SIZE - 1)))
		return dx_err(EINVAL, "collapse/insert range must be block aligned");
	return 0;
}

DX_EXPORT int
daxfile_fallocate(daxfile_file *file, int mode, off_t offset, off_t len)
{
	struct dx_inode *ip;
	uint64_t off = (uint64_t)offset, n = (uint64_t)len;
	int ret;

	if (dx_file_check(file) != 0 || falloc_check(file, mode, offset, len))
		return -1;
	ip = file->ip;
	dx_ilock(ip, DX_IOLOCK_EXCL | DX_MMAPLOCK_EXCL);
	if (dx_attr_file_modified(ip) != 0)
		ret = -1;
	else if (mode & FALLOC_FL_PUNCH_HOLE)
		ret = falloc_punch(ip, off, n);
	else if (mode & FALLOC_FL_ZERO_RANGE)
		ret = falloc_zero(ip, mode, off, n);
	else if (mode & FALLOC_FL_COLLAPSE_RANGE)
		ret = falloc_collapse(ip, off, n);
	else if (mode & FALLOC_FL_INSERT_RANGE)
		ret = falloc_insert(ip, off, n);
	else
		ret = falloc_alloc(ip, mode, off, n);
	dx_iunlock(ip, DX_IOLOCK_EXCL | DX_MMAPLOCK_EXCL);
	dx_map_retry_wait();
	return ret;
}
