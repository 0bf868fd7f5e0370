/*
 * undo.c -- the undo log lanes: a transaction copies the bytes it is about
 * to change into its lane and makes the copy durable before the change;
 * its commit makes the changed ranges durable and then raises the lane's
 * generation, which retires every entry at once.  A crash leaves live
 * entries (their generation the lane's, their checksum right) that the
 * next open puts back, the last first, so that the pool holds what it held
 * before the transaction began.
 *
 * Why not libpmemobj's own undo log for these: a transaction there costs
 * about 0.6-0.8 us more than its copies on this library's namespace calls
 * (a lane taken under a lock, a tree of ranges, entries with checksums
 * and a clobber of the log at the end), the largest single cost of a
 * create or an unlink.  A lane costs the copy, a checksum, and on
 * persistent memory a drain per entry and two at the commit; on memory
 * backing (tmpfs, where a crash can only be the process's) no flush at all:
 * the CPU keeps the order of a thread's stores.
 *
 * Entries are checksummed rather than followed by a count, so that logging
 * one is one drain, not two: a torn entry fails its checksum and ends the
 * log, and the change it would have covered had not begun.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "hash.h"
#include "out.h"
#include "pool.h"
#include "tx.h"
#include "undo.h"
#include "util.h"

#define UNDO_ALIGN 32	/* entry bytes are hashed 32 at a time */
#define UNDO_MAX_ENTRIES (sizeof(((struct dx_undo_lane *)0)->log) / \
	sizeof(struct dx_undo_entry))

static size_t
undo_area_size(void)
{
	return sizeof(struct dx_undo_area) +
		DX_UNDO_LANES * sizeof(struct dx_undo_lane);
}

/*
 * undo_persist -- durable, except on memory backing (nothing to flush to);
 * 'always' where the backing is not known yet (recovery, at attach).
 */
static void
undo_persist(struct daxfile_pool *pool, const void *p, size_t len,
	bool always)
{
	if (always || pool->backing != DAXFILE_BACKING_MEMORY)
		pmemobj_persist(pool->pop, p, len);
	else
		atomic_signal_fence(memory_order_seq_cst);
}

static uint64_t
entry_csum(const struct dx_undo_entry *e)
{
	size_t padded = DX_ALIGN_UP(e->len, UNDO_ALIGN);
	uint64_t h = padded != 0 ? dx_hash64(e->bytes, padded) : 0;

	h ^= e->gen * 0x9e3779b97f4a7c15ULL;
	h = (h ^ h >> 29) * 0xbf58476d1ce4e5b9ULL;
	h ^= e->off * 0xc2b2ae3d27d4eb4fULL;
	h = (h ^ h >> 32) * 0x94d049bb133111ebULL;
	h ^= (uint64_t)e->len << 17 | e->pad;
	return h ^ h >> 31;
}

/*
 * lane_entries -- the positions of the lane's live entries below 'limit'
 * (checked as a damaged pool could have them when 'check'); their count.
 */
static unsigned
lane_entries(const struct daxfile_pool *pool, const struct dx_undo_lane *lane,
	uint32_t limit, bool check, uint32_t *at)
{
	unsigned n = 0;
	uint32_t pos = 0;

	while (pos + sizeof(struct dx_undo_entry) <= limit) {
		const struct dx_undo_entry *e = (const void *)(lane->log + pos);
		uint64_t padded = DX_ALIGN_UP((uint64_t)e->len, UNDO_ALIGN);

		if (check && (lane->gen == 0 || e->gen != lane->gen ||
		    padded > limit - pos - sizeof(*e) || e->off < 4096 ||
		    e->off >= pool->size || e->len > pool->size - e->off ||
		    e->csum != entry_csum(e)))
			break;
		at[n++] = pos;
		pos += (uint32_t)(sizeof(*e) + padded);
	}
	return n;
}

/* lane_put_back -- the entries' bytes back where they were, the last first. */
static void
lane_put_back(struct daxfile_pool *pool, struct dx_undo_lane *lane,
	const uint32_t *at, unsigned n, bool always)
{
	while (n-- > 0) {
		const struct dx_undo_entry *e = (const void *)(lane->log + at[n]);
		void *dst = dx_ptr(pool, e->off);

		memcpy(dst, e->bytes, e->len);
		undo_persist(pool, dst, e->len, always);
	}
}

static void
lane_retire(struct daxfile_pool *pool, struct dx_undo_lane *lane, bool always)
{
	uint64_t gen = lane->gen + 1;

	lane->gen = gen != 0 ? gen : 1;
	undo_persist(pool, &lane->gen, sizeof(lane->gen), always);
}

/*
 * undo_place -- where the area goes in the first data segment's
 * allocation: before its first block, or after its superblock copy,
 * whichever has room (their sizes add up to 2 MiB); 0 if neither has.
 */
static uint64_t
undo_place(struct daxfile_pool *pool)
{
	const struct dx_dseg *seg = &pool->sb->segs[0];
	uint64_t need = DX_ALIGN_UP(undo_area_size(), DX_BLOCK_SIZE);
	uint64_t first = seg->start << DX_BLOCK_SHIFT;
	uint64_t tail = ((seg->start + seg->nblocks) << DX_BLOCK_SHIFT) +
		DX_SB_COPY_SIZE;
	uint64_t end;

	if (pool->sb->nsegs == 0 || first < seg->obj_off)
		return 0;
	end = seg->obj_off + pmemobj_alloc_usable_size(dx_oid(pool,
		seg->obj_off));
	if (first - seg->obj_off >= need)
		return first - need;
	if (tail <= end && end - tail >= need)
		return tail;
	return 0;
}

int
dx_undo_make(struct dx_tx *tx)
{
	struct daxfile_pool *pool = tx->pool;
	struct dx_undo_area *area;
	uint64_t off = undo_place(pool);

	if (off == 0)
		return dx_err(ENOSPC, "no room for the undo log lanes");
	area = dx_ptr(pool, off);
	memset(area, 0, undo_area_size());
	area->magic = DX_UNDO_MAGIC;
	area->nlanes = DX_UNDO_LANES;
	area->lane_size = DX_UNDO_LANE_SIZE;
	for (unsigned i = 0; i < DX_UNDO_LANES; i++)
		area->lanes[i].gen = 1;
	pmemobj_persist(pool->pop, area, undo_area_size());
	if (DX_TX_ADD_FIELD(tx, pool->root, undo) != 0)
		return -1;
	pool->root->undo = off;
	return 0;
}

int
dx_undo_rebuild(struct daxfile_pool *pool)
{
	struct dx_tx tx;

	/* no lane is started: the transaction logs in libpmemobj's log */
	if (dx_tx_begin(&tx, pool) != 0)
		return -1;
	if (dx_undo_make(&tx) != 0)
		return dx_tx_abort(&tx, errno);
	if (dx_tx_commit(&tx) != 0)
		return -1;
	pool->undo.damaged = false;
	return 0;
}

void
dx_undo_recover(struct daxfile_pool *pool)
{
	uint64_t off = pool->root->undo;
	struct dx_undo_area *area;
	uint32_t at[UNDO_MAX_ENTRIES];
	unsigned cut = 0;

	pool->undo.damaged = false;
	if (off == 0)
		return;
	area = dx_ptr(pool, off);
	if (!dx_obj_ok(pool, off, undo_area_size()) ||
	    area->magic != DX_UNDO_MAGIC || area->nlanes != DX_UNDO_LANES ||
	    area->lane_size != DX_UNDO_LANE_SIZE) {
		pool->undo.damaged = true;
		return;
	}
	for (unsigned i = 0; i < DX_UNDO_LANES; i++) {
		struct dx_undo_lane *lane = &area->lanes[i];
		unsigned n = lane_entries(pool, lane, sizeof(lane->log), true,
			at);

		if (n == 0)
			continue;
		lane_put_back(pool, lane, at, n, true);
		lane_retire(pool, lane, true);
		cut++;
	}
	if (cut != 0)
		dx_log("pool '%s': undid %u metadata change%s a crash cut short",
			pool->path, cut, cut == 1 ? "" : "s");
}

const char *
dx_undo_problem(struct daxfile_pool *pool)
{
	uint64_t off = pool->root->undo;
	struct dx_undo_area *area;
	uint32_t at[UNDO_MAX_ENTRIES];

	if (off == 0)
		return NULL;
	if (pool->undo.damaged)
		return "the root names an area that is not one: changes a crash "
			"cut short cannot be undone";
	if (off != undo_place(pool))
		return "the area is not where the first data segment leaves room for it";
	area = dx_ptr(pool, off);
	for (unsigned i = 0; i < DX_UNDO_LANES; i++)
		if (lane_entries(pool, &area->lanes[i],
		    sizeof(area->lanes[i].log), true, at) != 0)
			return "a lane holds entries that the open did not put back";
	return NULL;
}

void
dx_undo_start(struct daxfile_pool *pool)
{
	uint64_t off = pool->root->undo;

	_Static_assert(DX_UNDO_LANES <= 32, "a bit per lane in an unsigned");
	if (off == 0 || pool->undo.damaged)
		return;
	pool->undo.area = dx_ptr(pool, off);
	atomic_store(&pool->undo.free, DX_UNDO_LANES == 32 ? ~0u :
		(1u << DX_UNDO_LANES) - 1);
}

struct dx_undo_lane *
dx_undo_claim(struct daxfile_pool *pool)
{
	static __thread unsigned hint;
	unsigned free = atomic_load_explicit(&pool->undo.free,
		memory_order_relaxed);

	while (free != 0) {
		unsigned i = (free >> hint & 1) ? hint :
			(unsigned)__builtin_ctz(free);

		if (atomic_compare_exchange_weak(&pool->undo.free, &free,
		    free & ~(1u << i))) {
			hint = i;
			return &pool->undo.area->lanes[i];
		}
	}
	return NULL;
}

void
dx_undo_release(struct daxfile_pool *pool, struct dx_undo_lane *lane)
{
	unsigned i = (unsigned)(lane - pool->undo.area->lanes);

	atomic_fetch_or(&pool->undo.free, 1u << i);
}

int
dx_undo_log(struct daxfile_pool *pool, struct dx_undo_lane *lane,
	uint32_t *pos, const void *ptr, size_t len)
{
	size_t padded = DX_ALIGN_UP(len, UNDO_ALIGN);
	struct dx_undo_entry *e;

	if (len > sizeof(lane->log) ||
	    sizeof(*e) + padded > sizeof(lane->log) - *pos)
		return -1;
	e = (void *)(lane->log + *pos);
	e->gen = lane->gen;
	e->off = dx_off(pool, ptr);
	e->len = (uint32_t)len;
	e->pad = 0;
	memcpy(e->bytes, ptr, len);
	memset(e->bytes + len, 0, padded - len);
	e->csum = entry_csum(e);
	undo_persist(pool, e, sizeof(*e) + padded, false);
	*pos += (uint32_t)(sizeof(*e) + padded);
	return 0;
}

void
dx_undo_flush(struct daxfile_pool *pool, struct dx_undo_lane *lane,
	uint32_t pos)
{
	uint32_t at[UNDO_MAX_ENTRIES];
	unsigned n;

	if (pool->backing == DAXFILE_BACKING_MEMORY) {
		atomic_signal_fence(memory_order_seq_cst);
		return;
	}
	n = lane_entries(pool, lane, pos, false, at);
	for (unsigned i = 0; i < n; i++) {
		const struct dx_undo_entry *e = (const void *)(lane->log + at[i]);

		pmemobj_flush(pool->pop, dx_ptr(pool, e->off), e->len);
	}
	pmemobj_drain(pool->pop);
}

void
dx_undo_retire(struct daxfile_pool *pool, struct dx_undo_lane *lane)
{
	lane_retire(pool, lane, false);
}

uint64_t *
dx_undo_gen(struct dx_undo_lane *lane)
{
	return &lane->gen;
}

void
dx_undo_rollback(struct daxfile_pool *pool, struct dx_undo_lane *lane,
	uint32_t pos)
{
	uint32_t at[UNDO_MAX_ENTRIES];
	unsigned n = lane_entries(pool, lane, pos, false, at);

	lane_put_back(pool, lane, at, n, false);
	lane_retire(pool, lane, false);
}
