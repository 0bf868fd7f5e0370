/*
 * iomap.c -- blocks for a range of a file: placement, reservation,
 * linking, and conversion of unwritten extents with their zeroing, for
 * write(), the fault path and fallocate alike (iomap.h).
 *
 * Placement: a file with no blocks starts in the next AG round robin; a
 * growing file asks for the block after the extent before the range (the
 * goal), so it stays contiguous; files of 2 MiB and more keep their file
 * offsets modulo 2 MiB in the pool, so mappings install whole windows; a
 * write that reaches EOF allocates ahead of it (speculative preallocation).
 * A fault may move a mapped range scattered over the pool to one run
 * (dx_iomap_relocate), which a mapping then installs as one VMA.
 *
 * Order: blocks a file gains are filled (data or zeros) and durable before
 * the transaction that links them or marks them written commits, and
 * nothing zeroes or converts blocks after begin handed them out, so a copy
 * (write) and stores (through a mapping) into the same blocks never undo
 * each other.
 */
#include "config.h"

#include <errno.h>
#include <libpmem.h>
#include <string.h>

#include "bmap.h"
#include "crash.h"
#include "iomap.h"
#include "out.h"
#include "pool.h"
#include "tx.h"

#define PREALLOC_MIN_BLOCKS 16			/* 64 KiB */
#define PREALLOC_MAX_BLOCKS (8 * DX_HUGE_BLOCKS)	/* 16 MiB */

/* --- persistence and zeroing --------------------------------------------- */

void
dx_iomap_persist(struct daxfile_pool *pool, const void *addr, size_t len)
{
	if (pool->backing == DAXFILE_BACKING_MEMORY)
		return; /* nothing to flush to */
	if (pool->is_pmem)
		pmem_persist(addr, len);
	else
		pmem_msync(addr, len);
}

/* zero_nodrain -- zero pool bytes, flushed on pmem; the caller drains. */
static void
zero_nodrain(struct daxfile_pool *pool, void *dst, size_t n)
{
	if (dx_pmem_store(pool, n))
		pmem_memset_nodrain(dst, 0, n);
	else
		memset(dst, 0, n);
}

/* zero_blocks -- zero pool bytes, durably. */
static void
zero_blocks(struct daxfile_pool *pool, void *dst, size_t n)
{
	if (n == 0)
		return;
	if (dx_pmem_store(pool, n)) {
		pmem_memset_persist(dst, 0, n);
		return;
	}
	memset(dst, 0, n);
	dx_iomap_persist(pool, dst, n);
}

void
dx_iomap_zero_tx(struct dx_tx *tx, struct dx_inode *ip, uint64_t off,
	uint64_t len)
{
	uint64_t end = off + len;

	dx_assert_held_excl(&ip->ilock);
	while (off < end && !tx->err) {
		uint64_t boff = off & (DX_BLOCK_SIZE - 1);
		struct dx_map m;
		uint64_t n;

		dx_bmap_lookup(ip, dx_blk(off), dx_blk_up(end) - dx_blk(off), &m);
		n = DX_MIN((m.len << DX_BLOCK_SHIFT) - boff, end - off);
		if (m.pblk != 0 && !m.unwritten) {
			char *p = (char *)dx_block_ptr(ip->pool, m.pblk) + boff;

			/* pmemobj persists added ranges at commit */
			if (dx_tx_add(tx, p, n) == 0)
				memset(p, 0, n);
		}
		off += n;
	}
}

void
dx_iomap_expose(struct dx_tx *tx, struct dx_inode *ip, uint64_t old,
	uint64_t new)
{
	uint64_t fb = dx_blk_up(old), eb = dx_blk_up(new);

	dx_assert_held_excl(&ip->iolock);
	dx_assert_held_excl(&ip->ilock);
	if (new <= old)
		return;
	if (old & (DX_BLOCK_SIZE - 1))
		dx_iomap_zero_tx(tx, ip, old, DX_MIN(new, fb << DX_BLOCK_SHIFT) - old);
	if (eb > fb)
		dx_bmap_convert(tx, ip, fb, eb - fb, true);
}

/* --- placement ------------------------------------------------------------- */

/*
 * iomap_reserve -- reserve up to 'want' blocks (at least 'minlen' unless
 * less is free) for the hole at 'lblk': after the extent before it when
 * that block is free, else in the file's AG (or the next new file's).  In
 * a file of 2 MiB or more the blocks go at the same place modulo 2 MiB as
 * in the file, and a goal that is not is given up (once, where the file
 * grows past 2 MiB), so every whole 2 MiB of the file lies on a whole,
 * aligned 2 MiB of the pool file and mappings install it as one window
 * (one huge page where the backing has them).  Caller holds the ilock.
 */
static int
iomap_reserve(struct dx_inode *ip, uint64_t lblk, uint64_t want,
	uint64_t minlen, struct dx_resv *r)
{
	struct daxfile_pool *pool = ip->pool;
	struct dx_map prev, last;
	uint64_t goal = 0;
	uint32_t agno;
	bool large;

	dx_assert_held(&ip->ilock);
	if (lblk > 0) {
		dx_bmap_lookup(ip, lblk - 1, 1, &prev);
		if (prev.pblk != 0)
			goal = prev.pblk + 1;
	}
	dx_bmap_last(ip, &last);
	agno = last.len != 0 ? dx_alloc_agno(pool, last.pblk) :
		dx_alloc_pick_ag(pool);
	large = lblk + want >= DX_HUGE_BLOCKS || ip->di->size >= DX_HUGE_SIZE;
	if (large && goal % DX_HUGE_BLOCKS != lblk % DX_HUGE_BLOCKS)
		goal = 0;
	return dx_alloc_reserve(pool, agno, goal, want, minlen,
		dx_alloc_phase(lblk, large), r);
}

/*
 * prealloc_blocks -- how far past a growing file's end to allocate ahead:
 * as much as the file already has, between 64 KiB and 16 MiB, as XFS does,
 * so that appends to several files at once do not interleave their blocks;
 * never more than 1/64 of the free space (XFS too allocates ahead less as
 * free space runs low).
 */
static uint64_t
prealloc_blocks(const struct dx_inode *ip)
{
	uint64_t have = dx_blk_up(ip->di->size);
	uint64_t p = DX_MIN(DX_MAX(have, PREALLOC_MIN_BLOCKS), PREALLOC_MAX_BLOCKS);

	return DX_MIN(p, dx_alloc_avail(ip->pool) / 64);
}

void
dx_iomap_trim_eof(struct dx_inode *ip)
{
	uint64_t eof_blk = dx_blk_up(ip->di->size);
	struct dx_map last;
	struct dx_tx tx;

	dx_assert_held_excl(&ip->iolock);
	dx_assert_held_excl(&ip->ilock);
	if (ip->di->flags & DX_DIFLAG_PREALLOC)
		return;
	dx_bmap_last(ip, &last);
	if (last.len == 0 || last.lblk + last.len <= eof_blk)
		return;
	if (dx_tx_begin(&tx, ip->pool) == 0) {
		dx_bmap_punch(&tx, ip, eof_blk, DX_MAX_FILE_BLOCKS - eof_blk);
		dx_tx_commit(&tx);
	}
}

/*
 * reclaim_eofblocks -- out of space: take back the preallocation of other
 * files open for writing, as XFS does before it reports ENOSPC (to a write
 * or a fault).  Their iolocks are only tried (the caller holds its own
 * iolock or mmaplock), so a busy file is skipped rather than waited for.
 */
static void
reclaim_eofblocks(struct dx_inode *self)
{
	struct dx_inode *ips[64];
	unsigned n = dx_icache_writers(self->pool, ips, DX_ARRAY_SIZE(ips));

	for (unsigned i = 0; i < n; i++) {
		struct dx_inode *ip = ips[i];

		if (ip != self && dx_itrylock_io_excl(ip)) {
			dx_ilock(ip, DX_ILOCK_EXCL);
			dx_iomap_trim_eof(ip);
			dx_iunlock(ip, DX_ILOCK_EXCL | DX_IOLOCK_EXCL);
		}
		dx_iput(ip);
	}
}

/* --- relocation of fragmented ranges -------------------------------------- */

/* Relocation needs this many times the blocks it moves free in the index. */
#define RELOCATE_SLACK 4

/*
 * iomap_runs -- the runs of blocks contiguous in the pool (one VMA each
 * in a shared mapping) behind [lblk, lblk+len), or 0 when a block of it
 * is a hole or unwritten.  Caller holds the ilock.
 */
static uint64_t
iomap_runs(const struct dx_inode *ip, uint64_t lblk, uint64_t len,
	uint64_t *first)
{
	uint64_t runs = 0, next = 0;

	for (uint64_t b = lblk; b < lblk + len;) {
		struct dx_map m;

		dx_bmap_lookup(ip, b, lblk + len - b, &m);
		if (m.pblk == 0 || m.unwritten)
			return 0;
		if (b == lblk)
			*first = m.pblk;
		runs += m.pblk != next;
		next = m.pblk + m.len;
		b += m.len;
	}
	return runs;
}

bool
dx_iomap_fragmented(struct dx_inode *ip, uint64_t lblk, uint64_t len,
	uint64_t runs)
{
	uint64_t first = 0, n;

	if (dx_alloc_avail(ip->pool) < RELOCATE_SLACK * len)
		return false;
	dx_ilock(ip, DX_ILOCK_SHARED);
	n = iomap_runs(ip, lblk, len, &first);
	dx_iunlock(ip, DX_ILOCK_SHARED);
	return n >= runs;
}

/* relocate_copy -- copy the file's blocks of the range to 'dst' (durable). */
static void
relocate_copy(struct dx_inode *ip, uint64_t lblk, uint64_t len, char *dst)
{
	struct daxfile_pool *pool = ip->pool;

	for (uint64_t b = lblk; b < lblk + len;) {
		struct dx_map m;

		dx_bmap_lookup(ip, b, lblk + len - b, &m);
		memcpy(dst + ((b - lblk) << DX_BLOCK_SHIFT),
			dx_block_ptr(pool, m.pblk), m.len << DX_BLOCK_SHIFT);
		b += m.len;
	}
	dx_iomap_persist(pool, dst, len << DX_BLOCK_SHIFT);
}

int
dx_iomap_relocate(struct dx_inode *ip, uint64_t lblk, uint64_t len)
{
	struct daxfile_pool *pool = ip->pool;
	uint64_t first = 0;
	struct dx_resv r;
	struct dx_tx tx;
	int ret = -1;

	dx_assert_held_excl(&ip->iolock);
	dx_ilock(ip, DX_ILOCK_EXCL);
	if (iomap_runs(ip, lblk, len, &first) < 2) {
		dx_err(EINVAL, "blocks to relocate are not all written, or one run");
		goto out;
	}
	/* never the last free space: writers must not find none meanwhile */
	if (dx_alloc_avail(pool) < RELOCATE_SLACK * len) {
		dx_err(ENOSPC, "too little free space to relocate blocks");
		goto out;
	}
	if (dx_alloc_reserve(pool, dx_alloc_agno(pool, first), 0, len, len,
		dx_alloc_phase(lblk, true), &r) != 0)
		goto out;
	if (r.len < len) {
		dx_alloc_unreserve(pool, &r);
		dx_err(ENOSPC, "no free run of %lu blocks", (unsigned long)len);
		goto out;
	}
	relocate_copy(ip, lblk, len, dx_block_ptr(pool, r.pblk));
	if (dx_tx_begin(&tx, pool) != 0) {
		dx_alloc_unreserve(pool, &r);
		goto out;
	}
	dx_bmap_punch(&tx, ip, lblk, len);
	dx_alloc_claim(&tx, &r);
	dx_bmap_insert(&tx, ip, lblk, r.pblk, len, false);
	ret = dx_tx_commit(&tx);
out:
	dx_iunlock(ip, DX_ILOCK_EXCL);
	return ret;
}

/* --- linking ------------------------------------------------------------- */

/*
 * iomap_link -- link reserved blocks at 'lblk' into the file in one
 * transaction, if the range is still a hole (else 1).  The reservation is
 * used up on every path: claimed (an abort gives it back) or given back.
 * Caller holds the ilock exclusive.
 */
static int
iomap_link(struct dx_inode *ip, uint64_t lblk, const struct dx_resv *r,
	bool unwritten)
{
	struct dx_map m;
	struct dx_tx tx;

	dx_assert_held_excl(&ip->ilock);
	dx_bmap_lookup(ip, lblk, r->len, &m);
	if (m.pblk != 0 || m.len < r->len) {
		dx_alloc_unreserve(ip->pool, r);
		return 1;
	}
	if (dx_tx_begin(&tx, ip->pool) != 0) {
		dx_alloc_unreserve(ip->pool, r);
		return -1;
	}
	dx_alloc_claim(&tx, r);
	dx_bmap_insert(&tx, ip, lblk, r->pblk, r->len, unwritten);
	return dx_tx_commit(&tx);
}

/*
 * iomap_convert -- zero the unwritten blocks [lblk, lblk+len) at 'pblk'
 * durably, then mark them written.  Caller holds the ilock exclusive.
 */
static int
iomap_convert(struct dx_inode *ip, uint64_t lblk, uint64_t pblk, uint64_t len)
{
	struct daxfile_pool *pool = ip->pool;
	struct dx_tx tx;

	dx_assert_held_excl(&ip->ilock);
	zero_blocks(pool, dx_block_ptr(pool, pblk), len << DX_BLOCK_SHIFT);
	if (dx_tx_begin(&tx, pool) != 0)
		return -1;
	dx_bmap_convert(&tx, ip, lblk, len, false);
	return dx_tx_commit(&tx);
}

/* --- the three ways in ---------------------------------------------------- */

/*
 * iomap_fault -- every block of [lblk, end) written and zeroed: holes get
 * new zeroed blocks, unwritten extents are zeroed and converted.  Caller
 * holds the ilock exclusive.
 */
static int
iomap_fault(struct dx_inode *ip, uint64_t lblk, uint64_t end,
	struct dx_iomap *map)
{
	struct daxfile_pool *pool = ip->pool;

	dx_assert_held_excl(&ip->ilock);
	while (lblk < end) {
		struct dx_map m;
		struct dx_resv r;

		dx_bmap_lookup(ip, lblk, end - lblk, &m);
		if (m.pblk != 0 && !m.unwritten) {
			lblk += m.len;
			continue;
		}
		map->fresh = true;
		if (m.pblk != 0) {
			if (iomap_convert(ip, lblk, m.pblk, m.len) != 0)
				return -1;
			lblk += m.len;
			continue;
		}
		if (iomap_reserve(ip, lblk, m.len, 1, &r) != 0)
			return -1;
		zero_blocks(pool, dx_block_ptr(pool, r.pblk),
			r.len << DX_BLOCK_SHIFT);
		/* the ilock is held: the hole cannot have filled */
		if (iomap_link(ip, lblk, &r, false) != 0)
			return -1;
		lblk += r.len;
	}
	return 0;
}

/*
 * iomap_zero -- every hole of [lblk, end) gets unwritten blocks, claimed in
 * map->tx, so an abort gives them all back.  Caller holds ilock excl.
 */
static int
iomap_zero(struct dx_inode *ip, uint64_t lblk, uint64_t end,
	struct dx_iomap *map)
{
	struct dx_tx *tx = map->tx;

	dx_assert_held_excl(&ip->ilock);
	while (lblk < end && !tx->err) {
		struct dx_map m;
		struct dx_resv r;

		dx_bmap_lookup(ip, lblk, end - lblk, &m);
		if (m.pblk != 0) {
			lblk += m.len;
			continue;
		}
		if (iomap_reserve(ip, lblk, m.len, DX_MIN(m.len, DX_HUGE_BLOCKS),
			&r) != 0) {
			dx_tx_fail(tx, ENOSPC);
			return -1;
		}
		map->fresh = true;
		dx_alloc_claim(tx, &r);
		dx_bmap_insert(tx, ip, lblk, r.pblk, r.len, true);
		lblk += r.len;
	}
	return tx->err ? -1 : 0;
}

/*
 * iomap_write_hole -- reserve blocks for a write into the hole 'hole' at
 * 'off' (preallocation past EOF when the write reaches it and nothing lies
 * after), and zero their bytes around the write.  Caller holds the iolock.
 */
static int
iomap_write_hole(struct dx_inode *ip, uint64_t off, uint64_t len,
	const struct dx_map *hole, struct dx_iomap *map)
{
	struct daxfile_pool *pool = ip->pool;
	uint64_t boff = off & (DX_BLOCK_SIZE - 1);
	uint64_t need = dx_blk_up(boff + len);
	uint64_t want = need, dlen;
	char *base;
	int ret;

	dx_assert_held_excl(&ip->iolock);
	dx_ilock(ip, DX_ILOCK_SHARED);
	if (hole->lblk + hole->len == DX_MAX_FILE_BLOCKS &&
	    off + len >= ip->di->size)
		want += prealloc_blocks(ip);
	want = DX_MIN(want, hole->len);
	ret = iomap_reserve(ip, hole->lblk, want, DX_MIN(want, 16), &map->resv);
	dx_iunlock(ip, DX_ILOCK_SHARED);
	if (ret != 0 && errno == ENOSPC) {
		reclaim_eofblocks(ip);
		dx_ilock(ip, DX_ILOCK_SHARED);
		ret = iomap_reserve(ip, hole->lblk, DX_MIN(need, hole->len), 1,
			&map->resv);
		dx_iunlock(ip, DX_ILOCK_SHARED);
	}
	if (ret != 0)
		return -1;
	map->lblk = hole->lblk;
	map->pblk = map->resv.pblk;
	map->len = map->resv.len;
	map->type = DX_IOMAP_NEW;
	map->fresh = true;
	/* the blocks are ours alone until linked: zeros around the data */
	base = dx_block_ptr(pool, map->pblk);
	dlen = DX_MIN(len, (map->len << DX_BLOCK_SHIFT) - boff);
	map->span = DX_ALIGN_UP(boff + dlen, DX_BLOCK_SIZE);
	zero_nodrain(pool, base, boff);
	zero_nodrain(pool, base + boff + dlen,
		DX_ALIGN_UP(boff + dlen, DX_BLOCK_SIZE) - (boff + dlen));
	return 0;
}

/*
 * iomap_write -- the blocks for a write at 'off': written ones as they
 * are, unwritten ones zeroed and converted now (under the ilock, before
 * the copy), a hole reserved.  Caller holds the iolock exclusive.
 */
static int
iomap_write(struct dx_inode *ip, uint64_t off, uint64_t len,
	struct dx_iomap *map)
{
	uint64_t lblk = dx_blk(off), nblk = dx_blk_up(off + len) - lblk;
	struct dx_map m;
	int ret = 0;

	dx_assert_held_excl(&ip->iolock);
	if (!dx_bmap_lookup_fast(dx_bmap_lcache_of(ip->bmap), lblk,
	    DX_MAX_FILE_BLOCKS - lblk, &m))
		dx_bmap_lookup_remember(ip, lblk, DX_MAX_FILE_BLOCKS - lblk, &m);
	if (m.pblk == 0)
		return iomap_write_hole(ip, off, len, &m, map);
	if (m.unwritten) {
		dx_ilock(ip, DX_ILOCK_EXCL);
		/* a store fault may have converted it meanwhile (nothing frees
		   blocks without the iolock, which the caller holds) */
		dx_bmap_lookup(ip, lblk, nblk, &m);
		if (m.pblk != 0 && m.unwritten) {
			ret = iomap_convert(ip, lblk, m.pblk, m.len);
			map->fresh = true;
		}
		dx_iunlock(ip, DX_ILOCK_EXCL);
		if (ret != 0)
			return -1;
	}
	map->lblk = lblk;
	map->len = m.len;
	map->pblk = m.pblk;
	map->type = DX_IOMAP_MAPPED;
	return 0;
}

void *
dx_iomap_overwrite(struct dx_inode *ip, uint64_t off, uint64_t len)
{
	uint64_t lblk = dx_blk(off), nblk = dx_blk_up(off + len) - lblk;
	struct dx_map m;

	dx_assert_held_excl(&ip->iolock);
	if (!dx_bmap_lookup_fast(dx_bmap_lcache_of(ip->bmap), lblk, nblk, &m) ||
	    m.unwritten || m.len < nblk)
		return NULL;
	return (char *)dx_block_ptr(ip->pool, m.pblk) +
		(off & (DX_BLOCK_SIZE - 1));
}

int
dx_iomap_begin(struct dx_inode *ip, uint64_t off, uint64_t len,
	unsigned flags, struct dx_iomap *map)
{
	uint64_t lblk = dx_blk(off), end = dx_blk_up(off + len);
	int ret;

	map->fresh = false;
	map->lblk = lblk;
	map->len = end - lblk;
	map->pblk = 0;
	map->type = DX_IOMAP_DONE;
	if (flags & DX_IOMAP_WRITE)
		return iomap_write(ip, off, len, map);
	if (flags & DX_IOMAP_ZERO) {
		dx_assert_held_excl(&ip->ilock);
		return iomap_zero(ip, lblk, end, map);
	}
	dx_assert_held(&ip->mmaplock);
	dx_ilock(ip, DX_ILOCK_EXCL);
	ret = iomap_fault(ip, lblk, end, map);
	dx_iunlock(ip, DX_ILOCK_EXCL);
	if (ret != 0 && errno == ENOSPC) {
		/* XFS too frees speculative preallocation before a fault's ENOSPC */
		reclaim_eofblocks(ip);
		dx_ilock(ip, DX_ILOCK_EXCL);
		ret = iomap_fault(ip, lblk, end, map);
		dx_iunlock(ip, DX_ILOCK_EXCL);
	}
	return ret;
}

int
dx_iomap_end(struct dx_inode *ip, struct dx_iomap *map)
{
	struct daxfile_pool *pool = ip->pool;
	int ret;

	if (map->type != DX_IOMAP_NEW)
		return 0;
	if (pool->is_pmem)
		pmem_drain();
	else
		dx_iomap_persist(pool, dx_block_ptr(pool, map->pblk), map->span);
	dx_crash_point("data-new");
	dx_ilock(ip, DX_ILOCK_EXCL);
	ret = iomap_link(ip, map->lblk, &map->resv, false);
	dx_iunlock(ip, DX_ILOCK_EXCL);
	return ret;
}
