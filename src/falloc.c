/*
 * falloc.c -- changing a file's size and layout: truncate and fallocate
 * (allocate, punch hole, zero range, collapse range, insert range).
 *
 * Each takes the iolock (no read or write runs) and the mmaplock (no fault
 * runs) exclusively, replaces the mapped pages of the range it changes in
 * every mapping of the file, and then changes the extent map in one
 * transaction, so a crash leaves the call done or not done: even the
 * zeroing of partial blocks is in it (snapshotted bytes), and freed blocks
 * become reusable only after it commits.  If the kernel refuses the memory
 * to replace mapped pages, nothing has changed yet: the call lets go of its
 * locks, lets the deferred VMA reclaim run, and starts again (falloc_run).
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
#include "defer.h"
#include "file.h"
#include "iomap.h"
#include "map.h"
#include "out.h"
#include "pool.h"
#include "tx.h"

/* set_size -- the new size and times, in tx (caller holds ilock excl). */
static void
set_size(struct dx_tx *tx, struct dx_inode *ip, uint64_t size)
{
	dx_assert_held_excl(&ip->ilock);
	if (ip->di->size != size && DX_TX_ADD_FIELD(tx, ip->di, size) == 0)
		ip->di->size = size;
}

static void
set_flags(struct dx_tx *tx, struct dx_inode *ip, uint64_t flags)
{
	dx_assert_held_excl(&ip->ilock);
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
		dx_iomap_zero_tx(tx, ip, size,
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

	dx_assert_held_excl(&ip->ilock);
	*fb = dx_blk_up(off);
	*eb = dx_blk(end);
	if (*fb > *eb) {
		/* inside one block */
		dx_iomap_zero_tx(tx, ip, off, len);
		*eb = *fb;
		return;
	}
	if (off < (*fb << DX_BLOCK_SHIFT))
		dx_iomap_zero_tx(tx, ip, off, (*fb << DX_BLOCK_SHIFT) - off);
	if ((*eb << DX_BLOCK_SHIFT) < end)
		dx_iomap_zero_tx(tx, ip, *eb << DX_BLOCK_SHIFT,
			end - (*eb << DX_BLOCK_SHIFT));
}

/*
 * alloc_holes -- unwritten extents for every hole of [off, off+len), in tx
 * (caller holds ilock excl).  The reservations are claimed at once, so an
 * abort gives them all back.
 */
static int
alloc_holes(struct dx_tx *tx, struct dx_inode *ip, uint64_t off, uint64_t len)
{
	struct dx_iomap map = {.tx = tx};

	dx_assert_held_excl(&ip->ilock);
	return dx_iomap_begin(ip, off, len, DX_IOMAP_ZERO, &map);
}

/* An operation's arguments, and how it may replace mapped pages. */
struct falloc_req {
	int mode;
	uint64_t off, len;
	unsigned inval;		/* dx_map_invalidate mode bits to add */
};

#define FALLOC_TRIES 3

/*
 * falloc_inval -- take the mapped pages of [start, end) away before blocks
 * change; 1 when the kernel refused the memory for it (falloc_run tries
 * again).
 */
static int
falloc_inval(struct dx_inode *ip, uint64_t start, uint64_t end,
	const struct falloc_req *rq, unsigned mode)
{
	if (dx_map_invalidate(ip, start, end, mode | rq->inval) == 0)
		return 0;
	if (errno != ENOMEM || (rq->inval & DX_INVAL_REVOKE))
		return dx_err_keep("cannot take mapped pages away");
	return 1;
}

/*
 * falloc_run -- run 'op' under the iolock and the mmaplock exclusive, after
 * clearing setuid/setgid as every data change does; when it could not
 * replace mapped pages (1), let go of every lock, let the deferred VMA
 * reclaim and spare refill run, and try again, at last revoking what
 * cannot be replaced.
 */
static int
falloc_run(struct dx_inode *ip, int (*op)(struct dx_inode *,
	const struct falloc_req *), struct falloc_req *rq)
{
	for (int attempt = 1;; attempt++) {
		int ret;

		rq->inval = attempt < FALLOC_TRIES ? 0 : DX_INVAL_REVOKE;
		dx_ilock(ip, DX_IOLOCK_EXCL | DX_MMAPLOCK_EXCL);
		ret = dx_attr_file_modified(ip);
		if (ret == 0)
			ret = op(ip, rq);
		dx_iunlock(ip, DX_IOLOCK_EXCL | DX_MMAPLOCK_EXCL);
		if (ret <= 0)
			return ret;
		dx_defer_run();
	}
}

/* --- truncate -------------------------------------------------------------- */

static int
truncate_locked(struct dx_inode *ip, const struct falloc_req *rq)
{
	uint64_t old = ip->di->size, size = rq->off;
	uint64_t eof_blk = dx_blk_up(size);
	struct dx_tx tx;
	int ret;

	if (size < old &&
	    (ret = falloc_inval(ip, size, UINT64_MAX, rq,
		DX_INVAL_PRIVATE | DX_INVAL_DISCARD)) != 0)
		return ret;
	dx_ilock(ip, DX_ILOCK_EXCL);
	ret = dx_tx_begin(&tx, ip->pool);
	if (ret == 0) {
		if (size < old) {
			/* the page holding EOF reads zeros past it */
			zero_eof_tail(&tx, ip, size);
			dx_bmap_punch(&tx, ip, eof_blk, DX_MAX_FILE_BLOCKS - eof_blk);
			set_flags(&tx, ip, ip->di->flags & ~DX_DIFLAG_PREALLOC);
		}
		dx_iomap_expose(&tx, ip, old, size);
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
	struct falloc_req rq = {.off = size};

	return falloc_run(ip, truncate_locked, &rq);
}

DX_EXPORT int
daxfile_ftruncate(daxfile_file *file, off_t length)
{
	DX_CALL();
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
falloc_punch(struct dx_inode *ip, const struct falloc_req *rq)
{
	uint64_t off = rq->off, len = rq->len;
	uint64_t fb, eb;
	struct dx_tx tx;
	int ret;

	if ((ret = falloc_inval(ip, off, off + len, rq, DX_INVAL_DISCARD)) != 0)
		return ret;
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
falloc_alloc(struct dx_inode *ip, const struct falloc_req *rq)
{
	int mode = rq->mode;
	uint64_t off = rq->off, len = rq->len;
	uint64_t end = off + len, old = ip->di->size;
	bool grow = !(mode & FALLOC_FL_KEEP_SIZE) && end > old;
	struct dx_tx tx;
	int ret;

	dx_ilock(ip, DX_ILOCK_EXCL);
	ret = dx_tx_begin(&tx, ip->pool);
	if (ret == 0) {
		if (grow)
			dx_iomap_expose(&tx, ip, old, end);
		alloc_holes(&tx, ip, off, len);
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
falloc_zero(struct dx_inode *ip, const struct falloc_req *rq)
{
	int mode = rq->mode;
	uint64_t off = rq->off, len = rq->len;
	uint64_t end = off + len, old = ip->di->size;
	bool grow = !(mode & FALLOC_FL_KEEP_SIZE) && end > old;
	uint64_t fb, eb;
	struct dx_tx tx;
	int ret;

	if ((ret = falloc_inval(ip, off, end, rq, DX_INVAL_DISCARD)) != 0)
		return ret;
	dx_ilock(ip, DX_ILOCK_EXCL);
	ret = dx_tx_begin(&tx, ip->pool);
	if (ret == 0) {
		if (grow)
			dx_iomap_expose(&tx, ip, old, end);
		zero_partial(&tx, ip, off, len, &fb, &eb);
		if (eb > fb)
			dx_bmap_convert(&tx, ip, fb, eb - fb, true);
		alloc_holes(&tx, ip, off, len);
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
falloc_collapse(struct dx_inode *ip, const struct falloc_req *rq)
{
	uint64_t off = rq->off, len = rq->len;
	uint64_t size = ip->di->size;
	uint64_t lblk = dx_blk(off), n = dx_blk(len);
	struct dx_tx tx;
	int ret;

	if (off + len >= size)
		return dx_err(EINVAL, "collapse range reaches EOF");
	if ((ret = falloc_inval(ip, off, UINT64_MAX, rq, 0)) != 0)
		return ret;
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
falloc_insert(struct dx_inode *ip, const struct falloc_req *rq)
{
	uint64_t off = rq->off, len = rq->len;
	uint64_t size = ip->di->size;
	uint64_t lblk = dx_blk(off), n = dx_blk(len);
	struct dx_tx tx;
	int ret;

	if (off >= size)
		return dx_err(EINVAL, "insert range at or past EOF");
	if (len > DX_MAX_FILE_SIZE - size)
		return dx_err(EFBIG, "insert range beyond the maximum file size");
	if ((ret = falloc_inval(ip, off, UINT64_MAX, rq, 0)) != 0)
		return ret;
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
	DX_CALL();
	struct falloc_req rq = {mode, (uint64_t)offset, (uint64_t)len, 0};
	int (*op)(struct dx_inode *, const struct falloc_req *);
	struct dx_inode *ip;

	if (dx_file_check(file) != 0 || falloc_check(file, mode, offset, len))
		return -1;
	ip = file->ip;
	if (mode & FALLOC_FL_PUNCH_HOLE)
		op = falloc_punch;
	else if (mode & FALLOC_FL_ZERO_RANGE)
		op = falloc_zero;
	else if (mode & FALLOC_FL_COLLAPSE_RANGE)
		op = falloc_collapse;
	else if (mode & FALLOC_FL_INSERT_RANGE)
		op = falloc_insert;
	else
		op = falloc_alloc;
	return falloc_run(ip, op, &rq);
}
