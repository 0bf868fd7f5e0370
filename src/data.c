/*
 * data.c -- reading and writing file data: copies straight between the
 * caller's buffer and the pool, and the offset calls (read, write, lseek).
 * A write gets its blocks from iomap.c (placement, zeroing, conversion of
 * unwritten extents) and only copies.
 *
 * Locks: write takes the iolock exclusive (by the writer's bias, bias.h,
 * when one thread writes the file alone); read copies first with no lock
 * and keeps the copy if the iolock's sequence shows that no exclusive
 * holder ran meanwhile, else copies again under the iolock shared
 * (read_copy).  Neither holds the mmaplock or the ilock while it copies
 * (the buffer may be a mapping whose fault takes them).  The ilock is taken
 * briefly to look up or change the extent map; reads and overwrites mostly
 * find extents in its lock-free lookup cache.  A write never frees blocks,
 * and nothing frees blocks without the iolock exclusive, so a block found
 * in a lookup stays the file's while a copy under the iolock runs, and a
 * lock-free copy that raced a free is detected and redone.
 *
 * Persistence: on persistent memory a write's bytes are flushed before it
 * returns; on a disk overwrites wait for fsync; memory backing (tmpfs) has
 * nothing to flush to, so nothing is.  Always: new blocks hold
 * their data (or zeros) durably before the transaction that links them
 * commits, and bytes below a new size are durable before the size is.
 *
 * Past EOF: the rest of the block holding EOF reads zero (a mapped page
 * holding EOF shows zeros past it); whole blocks past EOF, which speculative
 * preallocation hands out uncleared, are undefined.  Everything that raises
 * the size without writing the bytes (truncate up, fallocate, the gap of a
 * write past EOF) first turns those blocks unwritten (dx_iomap_expose).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libpmem.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "attr.h"
#include "bmap.h"
#include "crash.h"
#include "data.h"
#include "defer.h"
#include "file.h"
#include "iomap.h"
#include "map.h"
#include "out.h"
#include "pool.h"
#include "populate.h"
#include "tx.h"

/* --- persistence --------------------------------------------------------- */

/* copy_in -- user bytes into the pool; flushed now on pmem (drain later). */
static void
copy_in(struct daxfile_pool *pool, void *dst, const void *src, size_t n)
{
	dx_might_fault();
	dx_populate(pool, dst, n);
	if (dx_pmem_store(pool, n))
		pmem_memcpy_nodrain(dst, src, n);
	else
		memcpy(dst, src, n);
}

/* --- timestamps and size ------------------------------------------------- */

static int
ts_cmp(const struct dx_time *a, const struct timespec *b)
{
	if (a->sec != b->tv_sec)
		return a->sec < b->tv_sec ? -1 : 1;
	return a->nsec < b->tv_nsec ? -1 : a->nsec > b->tv_nsec;
}

/*
 * touch_due -- would data_touch change the times?  Read without the ilock:
 * an overwrite that changes neither size nor times takes no lock but the
 * iolock.
 */
static bool
touch_due(struct dx_inode *ip)
{
	struct timespec now;

	if (__atomic_load_n(&ip->ts_seen, __ATOMIC_RELAXED))
		return true;
	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	return ts_cmp(&ip->di->mtime, &now) < 0;
}

/*
 * data_touch -- mtime and ctime after a data change.  As Linux, a coarse
 * clock (one update per tick at most) unless someone looked at the times
 * since the last change, who then sees a fresh one.  Caller holds ilock excl.
 */
static void
data_touch(struct dx_inode *ip)
{
	struct dx_dinode *di = ip->di;
	struct timespec now;
	bool seen = __atomic_exchange_n(&ip->ts_seen, false, __ATOMIC_RELAXED);

	dx_assert_held_excl(&ip->ilock);
	clock_gettime(seen ? CLOCK_REALTIME : CLOCK_REALTIME_COARSE, &now);
	if (ts_cmp(&di->mtime, &now) >= 0)
		return;
	di->mtime = (struct dx_time){now.tv_sec, now.tv_nsec};
	di->ctime = di->mtime;
	dx_persist_times(ip->pool, &di->mtime, sizeof(di->mtime) * 2);
}

/*
 * size_set -- publish a new size: one failure-atomic 8-byte store, after
 * everything below it is durable (caller holds ilock excl).
 */
static void
size_set(struct dx_inode *ip, uint64_t size)
{
	dx_assert_held_excl(&ip->ilock);
	dx_crash_point("size-update");
	__atomic_store_n(&ip->di->size, size, __ATOMIC_RELEASE);
	dx_persist(ip->pool, &ip->di->size, sizeof(ip->di->size));
}

/* --- write ---------------------------------------------------------------- */

/* A write in progress: the source iovecs and where we are in them. */
struct wsrc {
	const struct iovec *iov;
	int iovcnt;
	int i;
	size_t ioff;
};

/* wsrc_copy -- copy the next n bytes of the source to 'dst' in the pool. */
static void
wsrc_copy(struct daxfile_pool *pool, struct wsrc *s, char *dst, size_t n)
{
	while (n > 0) {
		const struct iovec *v = &s->iov[s->i];
		size_t k = DX_MIN(n, v->iov_len - s->ioff);

		copy_in(pool, dst, (const char *)v->iov_base + s->ioff, k);
		dst += k;
		n -= k;
		s->ioff += k;
		if (s->ioff == v->iov_len) {
			s->i++;
			s->ioff = 0;
		}
	}
}

/*
 * write_extent -- copy the next bytes of the write at 'off' (at most n)
 * into the blocks iomap.c hands out.  Bytes past the old EOF 'eof' become
 * visible when the size is published, so off persistent memory those of
 * an overwrite are msynced now, before it.  Returns bytes written, 0 when
 * a fault filled the hole meanwhile (rewind the source, retry), -1 on
 * error; *fresh says whether the blocks were new or converted.
 */
static ssize_t
write_extent(struct dx_inode *ip, struct wsrc *src, uint64_t off, uint64_t n,
	uint64_t eof, bool *fresh)
{
	struct daxfile_pool *pool = ip->pool;
	uint64_t boff = off & (DX_BLOCK_SIZE - 1);
	struct dx_iomap map;
	uint64_t dlen;
	char *dst;
	int ret;

	if (dx_iomap_begin(ip, off, n, DX_IOMAP_WRITE, &map) != 0)
		return -1;
	dlen = DX_MIN(n, ((map.lblk + map.len) << DX_BLOCK_SHIFT) - off);
	dst = (char *)dx_block_ptr(pool, map.pblk) +
		((dx_blk(off) - map.lblk) << DX_BLOCK_SHIFT) + boff;
	wsrc_copy(pool, src, dst, dlen);
	*fresh = map.fresh;
	if (map.type == DX_IOMAP_NEW) {
		ret = dx_iomap_end(ip, &map);
		return ret < 0 ? -1 : ret > 0 ? 0 : (ssize_t)dlen;
	}
	if (!pool->is_pmem && off + dlen > eof)
		dx_iomap_persist(pool, dst, dlen);
	dx_crash_point("data-overwrite");
	return (ssize_t)dlen;
}

/*
 * write_mapped -- after a write to a mapped file: zero pages that mappings
 * show for blocks the write allocated must go (as the kernel tears down
 * DAX hole pages), and pages the write brought below EOF lose their SIGBUS
 * markers.  The mmaplock is taken after the copy, never across it, and
 * not at all by an overwrite, which changes neither.
 */
static void
write_mapped(struct dx_inode *ip, uint64_t alo, uint64_t ahi, uint64_t old,
	uint64_t new)
{
	if ((ahi <= alo && new <= old) || !dx_map_is_mapped(ip))
		return;
	dx_ilock(ip, DX_MMAPLOCK_EXCL);
	if (ahi > alo && dx_map_invalidate(ip, alo, ahi, DX_INVAL_ZAP) != 0)
		dx_log("zero pages over blocks a write filled at file offset "
			"%#lx could not be dropped: %s", (unsigned long)alo,
			daxfile_errormsg());
	if (new > old)
		dx_map_extended(ip, old, new);
	dx_iunlock(ip, DX_MMAPLOCK_EXCL);
}

/*
 * write_gap -- a write past EOF: the bytes between the old EOF and the
 * write read zero (dx_iomap_expose), in a transaction of their own.
 */
static int
write_gap(struct dx_inode *ip, uint64_t size, uint64_t off)
{
	struct dx_tx tx;
	int ret;

	dx_ilock(ip, DX_ILOCK_EXCL);
	ret = dx_tx_begin(&tx, ip->pool);
	if (ret == 0) {
		dx_iomap_expose(&tx, ip, size, off);
		ret = dx_tx_commit(&tx);
	}
	dx_iunlock(ip, DX_ILOCK_EXCL);
	return ret;
}

/*
 * eof_tail_zero -- the write moved EOF into the middle of a block, which
 * may be preallocated: zero the rest of it (caller holds ilock excl).
 */
static void
eof_tail_zero(struct dx_inode *ip, uint64_t eof)
{
	uint64_t boff = eof & (DX_BLOCK_SIZE - 1);
	struct dx_map m;
	char *p;

	dx_assert_held_excl(&ip->ilock);
	if (boff == 0)
		return;
	dx_bmap_lookup(ip, dx_blk(eof), 1, &m);
	if (m.pblk == 0 || m.unwritten)
		return;
	p = (char *)dx_block_ptr(ip->pool, m.pblk) + boff;
	/* appends find it zeroed by the one before: no store, no flush */
	if (p[0] == 0 && memcmp(p, p + 1, DX_BLOCK_SIZE - boff - 1) == 0)
		return;
	memset(p, 0, DX_BLOCK_SIZE - boff);
	dx_iomap_persist(ip->pool, p, DX_BLOCK_SIZE - boff);
}

/*
 * write_locked -- the write proper (caller holds iolock excl): zero any gap
 * past the old EOF, copy extent by extent, then publish the size.
 */
static ssize_t
write_locked(struct dx_inode *ip, const struct iovec *iov, int iovcnt,
	uint64_t off, uint64_t count)
{
	struct daxfile_pool *pool = ip->pool;
	struct wsrc src = {iov, iovcnt, 0, 0};
	uint64_t done = 0, size = ip->di->size;
	uint64_t alo = UINT64_MAX, ahi = 0;

	dx_assert_held_excl(&ip->iolock);
	if (iovcnt == 1 && off + count <= size) {
		char *dst = dx_iomap_overwrite(ip, off, count);

		if (dst != NULL) {
			/* below EOF, in written blocks: the copy is all */
			copy_in(pool, dst, iov[0].iov_base, count);
			dx_crash_point("data-overwrite");
			done = count;
			goto copied;
		}
	}
	if (off > size && write_gap(ip, size, off) != 0)
		return -1;
	while (done < count) {
		uint64_t pos = off + done, n = count - done;
		struct wsrc saved = src;
		bool fresh = false;
		ssize_t w;

		w = write_extent(ip, &src, pos, n, size, &fresh);
		if (w < 0)
			break;
		if (w > 0 && fresh) {
			alo = DX_MIN(alo, pos);
			ahi = DX_MAX(ahi, pos + (uint64_t)w);
		}
		if (w == 0)
			src = saved;
		done += (uint64_t)w;
	}
copied:
	if (pool->is_pmem)
		pmem_drain();
	if (done > 0) {
		if (off + done > size || touch_due(ip)) {
			dx_ilock(ip, DX_ILOCK_EXCL);
			if (off + done > size) {
				eof_tail_zero(ip, off + done);
				size_set(ip, off + done);
			}
			data_touch(ip);
			dx_iunlock(ip, DX_ILOCK_EXCL);
		}
		write_mapped(ip, alo, ahi, size, DX_MAX(size, off + done));
		return (ssize_t)done;
	}
	return -1;
}

/* iov_total -- the byte count of an iovec array; -1 with EINVAL if bad. */
static inline ssize_t
iov_total(const struct iovec *iov, int iovcnt)
{
	size_t total = 0;

	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return dx_err(EINVAL, "iovcnt %d out of range", iovcnt);
	if (iovcnt > 0 && iov == NULL)
		return dx_err(EFAULT, "iovec array is NULL");
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > (size_t)SSIZE_MAX - total)
			return dx_err(EINVAL, "iovec lengths overflow");
		if (iov[i].iov_len != 0 && iov[i].iov_base == NULL)
			return dx_err(EFAULT, "iovec %d has a NULL buffer", i);
		total += iov[i].iov_len;
	}
	return (ssize_t)total;
}

/*
 * data_write -- pwritev semantics; 'pos' non-NULL for write(2) (the offset
 * advances), O_APPEND writes at EOF atomically with other appenders.
 */
static ssize_t
data_write(daxfile_file *file, const struct iovec *iov, int iovcnt,
	int64_t offset, uint64_t *pos)
{
	struct dx_inode *ip;
	ssize_t total = iov_total(iov, iovcnt);
	uint64_t off;
	ssize_t ret;
	bool biased;

	if (total < 0)
		return -1;
	ip = file->ip;
	if (ip->isdir)
		return dx_err(EISDIR, "cannot write a directory");
	if (offset < 0)
		return dx_err(EINVAL, "negative offset %ld", (long)offset);
	biased = dx_iolock_write(ip);
	off = (file->flags & O_APPEND) ? ip->di->size : (uint64_t)offset;
	if (total == 0) {
		ret = 0;
		goto out;
	}
	ret = dx_attr_file_modified(ip);
	if (ret != 0)
		goto out;
	if (off >= DX_MAX_FILE_SIZE) {
		ret = dx_err(EFBIG, "offset %lu beyond the maximum file size",
			(unsigned long)off);
		goto out;
	}
	if ((uint64_t)total > DX_MAX_FILE_SIZE - off)
		total = (ssize_t)(DX_MAX_FILE_SIZE - off);
	ret = write_locked(ip, iov, iovcnt, off, (uint64_t)total);
	if (ret > 0 && pos != NULL)
		*pos = off + (uint64_t)ret;
out:
	dx_iounlock_write(ip, biased);
	return ret;
}

DX_EXPORT ssize_t
daxfile_pwritev(daxfile_file *file, const struct iovec *iov, int iovcnt,
	off_t offset)
{
	DX_CALL();
	if (dx_file_check_write(file) != 0)
		return -1;
	return data_write(file, iov, iovcnt, offset, NULL);
}

DX_EXPORT ssize_t
daxfile_pwrite(daxfile_file *file, const void *buf, size_t count, off_t offset)
{
	DX_CALL();
	struct iovec v = {(void *)buf, count};

	if (dx_file_check_write(file) != 0)
		return -1;
	if (buf == NULL && count != 0)
		return dx_err(EFAULT, "buffer is NULL");
	return data_write(file, &v, 1, offset, NULL);
}

DX_EXPORT ssize_t
daxfile_write(daxfile_file *file, const void *buf, size_t count)
{
	DX_CALL();
	struct iovec v = {(void *)buf, count};
	ssize_t ret;

	if (dx_file_check_write(file) != 0)
		return -1;
	if (buf == NULL && count != 0)
		return dx_err(EFAULT, "buffer is NULL");
	dx_mutex_lock(&file->pos_lock);
	if (file->pos > (uint64_t)INT64_MAX)
		ret = dx_err(EFBIG, "file offset too large");
	else
		ret = data_write(file, &v, 1, (int64_t)file->pos, &file->pos);
	dx_mutex_unlock(&file->pos_lock);
	return ret;
}

/* --- read ----------------------------------------------------------------- */

/*
 * prefetch_head -- ask for the first lines of a copy from the pool (at most
 * 4 KiB) into the L2 cache before the copy.  A read of a few KiB at a
 * random place of a big file finds none of its lines in a cache, and the
 * hardware prefetcher has not yet seen a stream there: asked for all at
 * once, the memory fetches them side by side.  On the project's machines
 * a 4 KiB copy from an uncached place took 10-13 % less time so (with
 * 4 KiB and 2 MiB pages alike); longer copies gained nothing and lost
 * nothing from a 4 KiB head, and lost from a prefetch of all their lines.
 */
static inline void
prefetch_head(const char *src, uint64_t n)
{
	const char *end = src + DX_MIN(n, (uint64_t)4096);

	for (const char *p = src; p < end; p += 64)
		__builtin_prefetch(p, 0, 2);
}

/* read_span -- copy [off, off+len), all below EOF, into 'buf'. */
static void
read_span(struct dx_inode *ip, char *buf, uint64_t off, uint64_t len)
{
	struct daxfile_pool *pool = ip->pool;
	uint64_t end = off + len;

	while (off < end) {
		uint64_t boff = off & (DX_BLOCK_SIZE - 1);
		uint64_t maxlen = dx_blk_up(end) - dx_blk(off);
		struct dx_map m;
		uint64_t n;

		if (!dx_bmap_lookup_fast(dx_bmap_lcache_of(ip->bmap), dx_blk(off), maxlen, &m))
			dx_bmap_lookup_remember(ip, dx_blk(off), maxlen, &m);
		n = DX_MIN((m.len << DX_BLOCK_SHIFT) - boff, end - off);
		if (m.pblk == 0 || m.unwritten) {
			memset(buf, 0, n);
		} else {
			const char *src = (const char *)dx_block_ptr(pool,
				m.pblk) + boff;

			dx_populate(pool, src, n);
			prefetch_head(src, n);
			memcpy(buf, src, n);
		}
		buf += n;
		off += n;
	}
}

/*
 * read_locked -- copy [off, off+count) out: the caller holds the iolock
 * shared, or checks its sequence (read_copy).
 */
static ssize_t
read_locked(struct dx_inode *ip, const struct iovec *iov, int iovcnt,
	uint64_t off, uint64_t count)
{
	uint64_t size = __atomic_load_n(&ip->di->size, __ATOMIC_ACQUIRE);
	uint64_t done = 0;

	if (off >= size)
		return 0;
	count = DX_MIN(count, size - off);
	dx_might_fault();
	for (int i = 0; i < iovcnt && done < count; i++) {
		uint64_t n = DX_MIN(iov[i].iov_len, count - done);

		read_span(ip, iov[i].iov_base, off + done, n);
		done += n;
	}
	return (ssize_t)done;
}

/* iov_zero -- clear bytes [from, to) of the buffers. */
static void
iov_zero(const struct iovec *iov, int iovcnt, uint64_t from, uint64_t to)
{
	uint64_t at = 0;

	for (int i = 0; i < iovcnt && at < to; i++) {
		uint64_t b = DX_MAX(at, from), e = DX_MIN(at + iov[i].iov_len, to);

		if (b < e)
			memset((char *)iov[i].iov_base + (b - at), 0, e - b);
		at += iov[i].iov_len;
	}
}

/*
 * read_copy -- the copy of a read.  First without the iolock, as a seqlock
 * reader: the copy counts if no holder of the iolock exclusive (write,
 * truncate, fallocate) was at work during it.  Otherwise it is done again
 * under the iolock shared.  Blocks stay mapped in the pool whoever owns
 * them, so a copy that loses the race reads stale bytes and never faults;
 * the second copy overwrites them and clears those past its own count (a
 * truncate may have shortened it), so no byte of a block freed meanwhile is
 * left in the buffers.  The iolock's exclusion of writers is what makes a
 * read see a write whole; the sequence keeps that.
 */
static ssize_t
read_copy(struct dx_inode *ip, const struct iovec *iov, int iovcnt,
	uint64_t off, uint64_t count)
{
	ssize_t first = 0, ret;
	uint64_t seq;

	if (dx_ioseq_begin(ip, &seq)) {
		first = read_locked(ip, iov, iovcnt, off, count);
		if (!dx_ioseq_changed(ip, seq))
			return first;
	}
	dx_ilock(ip, DX_IOLOCK_SHARED);
	ret = read_locked(ip, iov, iovcnt, off, count);
	dx_iunlock(ip, DX_IOLOCK_SHARED);
	if (first > ret)
		iov_zero(iov, iovcnt, (uint64_t)DX_MAX(ret, 0), (uint64_t)first);
	return ret;
}

static ssize_t
data_read(daxfile_file *file, const struct iovec *iov, int iovcnt,
	int64_t offset, uint64_t *pos)
{
	struct dx_inode *ip = file->ip;
	ssize_t total = iov_total(iov, iovcnt);
	ssize_t ret;

	if (total < 0)
		return -1;
	if (ip->isdir)
		return dx_err(EISDIR, "cannot read a directory");
	if (offset < 0)
		return dx_err(EINVAL, "negative offset %ld", (long)offset);
	if (total == 0)
		return 0;
	ret = read_copy(ip, iov, iovcnt, (uint64_t)offset, (uint64_t)total);
	/* as Linux: a read that reaches EOF reads nothing but still accesses */
	if (ret >= 0 && !(file->flags & O_NOATIME))
		dx_inode_accessed(ip);
	if (ret > 0 && pos != NULL)
		*pos = (uint64_t)offset + (uint64_t)ret;
	return ret;
}

DX_EXPORT ssize_t
daxfile_preadv(daxfile_file *file, const struct iovec *iov, int iovcnt,
	off_t offset)
{
	DX_CALL();
	if (dx_file_check_read(file) != 0)
		return -1;
	return data_read(file, iov, iovcnt, offset, NULL);
}

DX_EXPORT ssize_t
daxfile_pread(daxfile_file *file, void *buf, size_t count, off_t offset)
{
	DX_CALL();
	struct iovec v = {buf, count};

	if (dx_file_check_read(file) != 0)
		return -1;
	if (buf == NULL && count != 0)
		return dx_err(EFAULT, "buffer is NULL");
	return data_read(file, &v, 1, offset, NULL);
}

DX_EXPORT ssize_t
daxfile_read(daxfile_file *file, void *buf, size_t count)
{
	DX_CALL();
	struct iovec v = {buf, count};
	ssize_t ret;

	if (dx_file_check_read(file) != 0)
		return -1;
	if (buf == NULL && count != 0)
		return dx_err(EFAULT, "buffer is NULL");
	dx_mutex_lock(&file->pos_lock);
	ret = data_read(file, &v, 1, (int64_t)file->pos, &file->pos);
	dx_mutex_unlock(&file->pos_lock);
	return ret;
}

/* --- lseek ---------------------------------------------------------------- */

/*
 * seek_data_hole -- the first data (written extent) or hole at or after
 * 'off'; unwritten extents are holes, as on XFS with DAX.  Caller holds
 * ilock shared.
 */
static int64_t
seek_data_hole(struct dx_inode *ip, uint64_t off, bool data)
{
	uint64_t size = ip->di->size;
	uint64_t pos = off;

	dx_assert_held(&ip->ilock);
	if (off >= size)
		return dx_err(ENXIO, "offset %lu is at or past EOF", (unsigned long)off);
	while (pos < size) {
		struct dx_map m;
		bool is_data;

		dx_bmap_lookup(ip, dx_blk(pos), DX_MAX_FILE_BLOCKS - dx_blk(pos), &m);
		is_data = m.pblk != 0 && !m.unwritten;
		if (is_data == data)
			return (int64_t)pos;
		if (m.len == 0)
			break;	/* past the largest file: no block maps there */
		pos = (m.lblk + m.len) << DX_BLOCK_SHIFT;
	}
	if (data)
		return dx_err(ENXIO, "no data at or after offset %lu",
			(unsigned long)off);
	return (int64_t)size; /* the implicit hole at EOF */
}

DX_EXPORT off_t
daxfile_lseek(daxfile_file *file, off_t offset, int whence)
{
	DX_CALL();
	struct dx_inode *ip;
	int64_t base, res;

	if (dx_file_check(file) != 0)
		return -1;
	ip = file->ip;
	dx_mutex_lock(&file->pos_lock);
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)file->pos;
		break;
	case SEEK_END:
		base = ip->isdir ? 0 : (int64_t)ip->di->size;
		break;
	case SEEK_DATA:
	case SEEK_HOLE:
		if (ip->isdir) {
			res = dx_err(EINVAL, "SEEK_DATA/SEEK_HOLE on a directory");
		} else if (offset < 0) {
			res = dx_err(ENXIO, "negative offset");
		} else {
			dx_ilock(ip, DX_ILOCK_SHARED);
			res = seek_data_hole(ip, (uint64_t)offset,
				whence == SEEK_DATA);
			dx_iunlock(ip, DX_ILOCK_SHARED);
		}
		goto done;
	default:
		res = dx_err(EINVAL, "bad whence %d", whence);
		goto done;
	}
	if (__builtin_add_overflow(base, (int64_t)offset, &res) || res < 0)
		res = dx_err(EINVAL, "resulting offset is negative or overflows");
done:
	if (res >= 0)
		file->pos = (uint64_t)res;
	dx_mutex_unlock(&file->pos_lock);
	return (off_t)res;
}

/* --- fsync ---------------------------------------------------------------- */

static int
fsync_extent(void *arg, uint64_t lblk, uint64_t pblk, uint64_t len,
	bool unwritten)
{
	struct daxfile_pool *pool = arg;

	(void)lblk;
	if (!unwritten &&
	    pmem_msync(dx_block_ptr(pool, pblk), len << DX_BLOCK_SHIFT) != 0)
		return dx_err(EIO, "msync of the file's blocks failed");
	return 0;
}

/*
 * data_sync -- on pmem every write was flushed and every metadata change
 * committed durably, and memory backing has nothing to flush to: nothing
 * is left.  On a disk, msync the file's blocks and its inode.
 */
static int
data_sync(daxfile_file *file)
{
	struct dx_inode *ip;
	struct daxfile_pool *pool;
	int ret;

	if (dx_file_check(file) != 0)
		return -1;
	ip = file->ip;
	pool = ip->pool;
	if (pool->is_pmem || pool->backing == DAXFILE_BACKING_MEMORY) {
		pmem_drain();
		return 0;
	}
	dx_inode_lock_attrs(ip, false);
	ret = ip->isdir ? 0 : dx_bmap_foreach(ip, fsync_extent, pool);
	if (ret == 0 && pmem_msync(ip->di, sizeof(*ip->di)) != 0)
		ret = dx_err(EIO, "msync of the inode failed");
	dx_inode_unlock_attrs(ip, false);
	return ret;
}

DX_EXPORT int
daxfile_fsync(daxfile_file *file)
{
	DX_CALL();
	return data_sync(file);
}

DX_EXPORT int
daxfile_fdatasync(daxfile_file *file)
{
	DX_CALL();
	return data_sync(file);
}

/* --- writers and preallocation ------------------------------------------- */

void
dx_data_writer_open(struct dx_inode *ip)
{
	dx_ilock(ip, DX_ILOCK_EXCL);
	ip->nwriters++;
	dx_iunlock(ip, DX_ILOCK_EXCL);
}

/* dx_data_writer_close -- the last writer is gone: trim preallocation. */
void
dx_data_writer_close(struct dx_inode *ip)
{
	dx_ilock(ip, DX_IOLOCK_EXCL | DX_ILOCK_EXCL);
	if (--ip->nwriters == 0)
		dx_iomap_trim_eof(ip);
	dx_iunlock(ip, DX_IOLOCK_EXCL | DX_ILOCK_EXCL);
}
