/*
 * copy.c -- daxfile_copy_file_range: copying a range between two files of
 * a pool (or within one) from block to block, with no bounce buffer, and
 * with the holes of the source kept as holes in the destination.
 *
 * Both files are locked as the kernel's lock_two_nondirectories does: the
 * iolocks in inode number order (subclasses 0 and 1; exclusive for the
 * destination, shared for the source; once, exclusive, for a copy inside
 * one file), then the destination's mmaplock exclusive, so no read, write,
 * truncate or fault of the destination runs, and no truncate or punch can
 * free a source block while its bytes are copied.  The mapped pages of the
 * destination range are replaced first, as fallocate does.  Then, chunk by
 * chunk: where the source has data, the destination's blocks are made
 * written as a store fault makes them (dx_iomap_begin: holes get zeroed
 * blocks, unwritten ones are converted) and the source's bytes copied over
 * them; where the source
 * has a hole or unwritten blocks, the destination range is punched
 * (partial blocks zeroed) in a transaction.  The size and times change in
 * a last transaction, after the data is durable.  Like write(2), the copy
 * is not atomic across a crash; each step leaves a consistent file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libpmem.h>
#include <limits.h>

#include "attr.h"
#include "bmap.h"
#include "defer.h"
#include "file.h"
#include "iomap.h"
#include "map.h"
#include "out.h"
#include "pool.h"
#include "populate.h"
#include "tx.h"

/* Linux caps one copy at MAX_RW_COUNT bytes */
#define COPY_MAX ((uint64_t)(INT_MAX & ~(DX_BLOCK_SIZE - 1)))
/* Bytes copied under one hold of the destination's ilock. */
#define COPY_CHUNK ((uint64_t)DX_HUGE_SIZE)
/* Tries at replacing the destination's mapped pages (as fallocate). */
#define COPY_TRIES 3
/* copy_locked could not replace mapped pages: unlock, reclaim, again */
#define COPY_RETRY (-2)

/* The two files of a copy and what is locked. */
struct copy {
	struct dx_inode *in, *out;
	uint64_t old_size;	/* of the destination, before the copy */
};

/* copy_lock -- the iolocks in inode number order, then out's mmaplock. */
static void
copy_lock(struct copy *c)
{
	if (c->in == c->out) {
		dx_ilock(c->out, DX_IOLOCK_EXCL | DX_MMAPLOCK_EXCL);
		return;
	}
	if (c->in->ino < c->out->ino) {
		dx_ilock_nested(c->in, DX_IOLOCK_SHARED, DX_LSC_0);
		dx_ilock_nested(c->out, DX_IOLOCK_EXCL, DX_LSC_1);
	} else {
		dx_ilock_nested(c->out, DX_IOLOCK_EXCL, DX_LSC_0);
		dx_ilock_nested(c->in, DX_IOLOCK_SHARED, DX_LSC_1);
	}
	dx_ilock(c->out, DX_MMAPLOCK_EXCL);
}

static void
copy_unlock(struct copy *c)
{
	if (c->in == c->out) {
		dx_iunlock(c->out, DX_IOLOCK_EXCL | DX_MMAPLOCK_EXCL);
		return;
	}
	dx_iunlock(c->out, DX_MMAPLOCK_EXCL | DX_IOLOCK_EXCL);
	dx_iunlock(c->in, DX_IOLOCK_SHARED);
}

/*
 * copy_data -- the source has data for [src, src+n): copy it to [dst,
 * dst+n) of the destination, whose blocks are made written first.  The
 * source blocks stay the source's: its iolock is held (no truncate or
 * punch), and faults never take blocks away.
 */
static int
copy_data(struct copy *c, const struct dx_map *sm, uint64_t src, uint64_t dst,
	uint64_t n)
{
	struct daxfile_pool *pool = c->out->pool;
	const char *from = (const char *)dx_block_ptr(pool, sm->pblk) +
		(src - (sm->lblk << DX_BLOCK_SHIFT));
	uint64_t end = dst + n;
	struct dx_iomap map;
	int ret;

	/* the destination's mmaplock is held exclusive: no fault runs */
	ret = dx_iomap_begin(c->out, dst, n, DX_IOMAP_FAULT, &map);
	dx_ilock(c->out, DX_ILOCK_SHARED);
	while (ret == 0 && dst < end) {
		uint64_t boff = dst & (DX_BLOCK_SIZE - 1);
		struct dx_map dm;
		uint64_t k;
		char *to;

		dx_bmap_lookup(c->out, dx_blk(dst), dx_blk_up(end) - dx_blk(dst),
			&dm);
		k = DX_MIN((dm.len << DX_BLOCK_SHIFT) - boff, end - dst);
		to = (char *)dx_block_ptr(pool, dm.pblk) + boff;
		dx_populate(pool, from, k);
		dx_populate(pool, to, k);
		if (dx_pmem_store(pool, k))
			pmem_memcpy_persist(to, from, k);
		else
			dx_iomap_persist(pool, memcpy(to, from, k), k);
		from += k;
		dst += k;
	}
	dx_iunlock(c->out, DX_ILOCK_SHARED);
	return ret;
}

/*
 * copy_hole -- the source reads zero in [dst, dst+n) of the destination:
 * punch the whole blocks there and zero the parts of blocks, in one
 * transaction.
 */
static int
copy_hole(struct copy *c, uint64_t dst, uint64_t n)
{
	uint64_t fb = dx_blk_up(dst), eb = dx_blk(dst + n);
	struct dx_tx tx;
	int ret;

	dx_ilock(c->out, DX_ILOCK_EXCL);
	ret = dx_tx_begin(&tx, c->out->pool);
	if (ret == 0) {
		if (fb >= eb) {
			dx_iomap_zero_tx(&tx, c->out, dst, n);
		} else {
			dx_iomap_zero_tx(&tx, c->out, dst, (fb << DX_BLOCK_SHIFT) - dst);
			dx_iomap_zero_tx(&tx, c->out, eb << DX_BLOCK_SHIFT,
				dst + n - (eb << DX_BLOCK_SHIFT));
			dx_bmap_punch(&tx, c->out, fb, eb - fb);
		}
		ret = dx_tx_commit(&tx);
	}
	dx_iunlock(c->out, DX_ILOCK_EXCL);
	return ret;
}

/*
 * copy_size -- the last step: the destination's size reaches 'end' if it
 * was smaller, mtime and ctime change.  Bytes between the old size and the
 * copy were made to read zero by copy_expose.
 */
static int
copy_size(struct copy *c, uint64_t end)
{
	struct dx_inode *out = c->out;
	struct dx_tx tx;
	int ret;

	dx_ilock(out, DX_ILOCK_EXCL);
	ret = dx_tx_begin(&tx, out->pool);
	if (ret == 0) {
		if (end > out->di->size && DX_TX_ADD_FIELD(&tx, out->di, size) == 0)
			out->di->size = end;
		dx_inode_touch(&tx, out->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
		ret = dx_tx_commit(&tx);
	}
	dx_iunlock(out, DX_ILOCK_EXCL);
	if (ret == 0 && end > c->old_size)
		dx_map_extended(out, c->old_size, end);
	return ret;
}

/*
 * copy_expose -- a copy that ends past the destination's EOF: the bytes
 * from the old EOF on must read zero wherever the copy does not write
 * them (speculative preallocation there holds old bytes).
 */
static int
copy_expose(struct copy *c, uint64_t end)
{
	struct dx_tx tx;
	int ret;

	if (end <= c->old_size)
		return 0;
	dx_ilock(c->out, DX_ILOCK_EXCL);
	ret = dx_tx_begin(&tx, c->out->pool);
	if (ret == 0) {
		dx_iomap_expose(&tx, c->out, c->old_size, end);
		ret = dx_tx_commit(&tx);
	}
	dx_iunlock(c->out, DX_ILOCK_EXCL);
	return ret;
}

/*
 * copy_locked -- copy 'count' bytes (caller holds the locks of
 * copy_lock), replacing the destination's mapped pages with the
 * dx_map_invalidate mode bits 'inval' added; the bytes copied, -1 with
 * errno if none were, or COPY_RETRY when the kernel refused the memory to
 * replace mapped pages (nothing changed yet).
 */
static ssize_t
copy_locked(struct copy *c, uint64_t src, uint64_t dst, uint64_t count,
	unsigned inval)
{
	uint64_t done = 0;
	int ret;

	if (dx_map_invalidate(c->out, dst, dst + count, inval) != 0) {
		if (errno != ENOMEM || (inval & DX_INVAL_REVOKE))
			return dx_err_keep("cannot take mapped pages away");
		return COPY_RETRY;
	}
	/* as a write: setuid and setgid go unless the caller has CAP_FSETID */
	if (dx_attr_file_modified(c->out) != 0)
		return -1;
	c->old_size = c->out->di->size;
	ret = copy_expose(c, dst + count);
	while (ret == 0 && done < count) {
		uint64_t s = src + done, boff = s & (DX_BLOCK_SIZE - 1);
		uint64_t n = DX_MIN(count - done, COPY_CHUNK);
		struct dx_map sm;

		dx_ilock(c->in, DX_ILOCK_SHARED);
		dx_bmap_lookup(c->in, dx_blk(s), DX_MAX_FILE_BLOCKS - dx_blk(s),
			&sm);
		dx_iunlock(c->in, DX_ILOCK_SHARED);
		n = DX_MIN(n, (sm.len << DX_BLOCK_SHIFT) - boff);
		if (sm.pblk != 0 && !sm.unwritten)
			ret = copy_data(c, &sm, s, dst + done, n);
		else
			ret = copy_hole(c, dst + done, n);
		if (ret == 0)
			done += n;
	}
	if (done == 0)
		return ret == 0 ? 0 : -1;
	if (copy_size(c, dst + done) != 0)
		return -1;
	return (ssize_t)done;
}

/* copy_pos -- the offset a copy starts at: '*off', or the file offset. */
static int64_t
copy_pos(daxfile_file *f, const off_t *off)
{
	int64_t pos;

	if (off != NULL)
		return *off;
	dx_mutex_lock(&f->pos_lock);
	pos = (int64_t)f->pos;
	dx_mutex_unlock(&f->pos_lock);
	return pos;
}

/* copy_advance -- after 'n' bytes: '*off' moves, or the file offset. */
static void
copy_advance(daxfile_file *f, off_t *off, ssize_t n)
{
	if (off != NULL) {
		*off += n;
		return;
	}
	dx_mutex_lock(&f->pos_lock);
	f->pos += (uint64_t)n;
	dx_mutex_unlock(&f->pos_lock);
}

/*
 * copy_check -- what generic_copy_file_checks and rw_verify_area refuse
 * before a byte moves, in the kernel's order (the size-dependent ones wait
 * for the locks).
 */
static int
copy_check(daxfile_file *in, daxfile_file *out, unsigned flags)
{
	if (dx_file_check(in) != 0 || dx_file_check(out) != 0)
		return -1;
	if (flags != 0)
		return dx_err(EINVAL, "flags %#x: none are defined", flags);
	if (in->ip->isdir || out->ip->isdir)
		return dx_err(EISDIR, "cannot copy from or to a directory");
	if (!S_ISREG(in->ip->di->mode) || !S_ISREG(out->ip->di->mode))
		return dx_err(EINVAL, "copy_file_range needs regular files");
	if ((in->flags & O_ACCMODE) == O_WRONLY)
		return dx_err(EBADF, "the source is not open for reading");
	if ((out->flags & O_ACCMODE) == O_RDONLY)
		return dx_err(EBADF, "the destination is not open for writing");
	if (out->flags & O_APPEND)
		return dx_err(EBADF, "the destination is open with O_APPEND");
	/* two pools are two file systems to the kernel's checks */
	if (in->pool != out->pool)
		return dx_err(EXDEV, "the files are in two pools");
	return 0;
}

/*
 * copy_count -- the bytes to copy, shortened and refused as the kernel
 * does: to the source's EOF, to the largest file size (EFBIG at or past
 * it), EINVAL for overlapping ranges in one file, then for a negative
 * offset (reached only with len 0).  Caller holds the locks, so the
 * source's size stays.
 */
static int64_t
copy_count(const struct copy *c, int64_t pin, int64_t pout, uint64_t len)
{
	uint64_t size = c->in->di->size, count;

	count = pin < 0 || (uint64_t)pin >= size ? 0 :
		DX_MIN(len, size - (uint64_t)pin);
	if (pout >= 0) {
		if ((uint64_t)pout >= DX_MAX_FILE_SIZE)
			return dx_err(EFBIG, "offset %ld beyond the maximum file size",
				(long)pout);
		count = DX_MIN(count, DX_MAX_FILE_SIZE - (uint64_t)pout);
	}
	if (c->in == c->out && pin >= 0 && pout >= 0 &&
	    (uint64_t)pout + count > (uint64_t)pin &&
	    (uint64_t)pout < (uint64_t)pin + count)
		return dx_err(EINVAL, "overlapping ranges in one file");
	if (pin < 0 || pout < 0)
		return dx_err(EINVAL, "negative offset");
	return (int64_t)DX_MIN(count, COPY_MAX);
}

DX_EXPORT ssize_t
daxfile_copy_file_range(daxfile_file *in, off_t *off_in, daxfile_file *out,
	off_t *off_out, size_t len, unsigned flags)
{
	DX_CALL();
	struct copy c;
	int64_t pin, pout, count;
	ssize_t ret;

	if (copy_check(in, out, flags) != 0)
		return -1;
	pin = copy_pos(in, off_in);
	pout = copy_pos(out, off_out);
	if ((uint64_t)pin + len < (uint64_t)pin ||
	    (uint64_t)pout + len < (uint64_t)pout)
		return dx_err(EOVERFLOW, "the range wraps past the largest offset");
	c = (struct copy){.in = in->ip, .out = out->ip};
	for (int attempt = 1;; attempt++) {
		copy_lock(&c);
		count = copy_count(&c, pin, pout, len);
		ret = count <= 0 ? count : copy_locked(&c, (uint64_t)pin,
			(uint64_t)pout, (uint64_t)count,
			attempt < COPY_TRIES ? 0 : DX_INVAL_REVOKE);
		copy_unlock(&c);
		if (ret != COPY_RETRY)
			break;
		/* with no lock held: take windows back, refill the spares */
		dx_defer_run();
	}
	if (ret > 0) {
		copy_advance(in, off_in, ret);
		copy_advance(out, off_out, ret);
	}
	return ret;
}
