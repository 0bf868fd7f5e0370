/*
 * alloc.c -- the block allocator: allocation groups with a persistent bitmap
 * (the truth, changed only in transactions) and a DRAM index of free extents
 * (rebuilt from the bitmap at open).
 *
 * Placement: a new file starts in the next AG round robin, so writers of
 * different files work in different AGs and do not share a lock; a growing
 * file asks for the block after its last one ('goal') so that sequential
 * writes stay contiguous; files past 2 MiB ask for extents whose blocks
 * agree with their file blocks modulo 2 MiB, so that every whole 2 MiB of
 * the file lies on a whole, aligned 2 MiB of the pool file, which the
 * mapping layer installs whole (one huge page where the pool's backing
 * has them).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "map.h"
#include "mem.h"
#include "out.h"
#include "pool.h"
#include "tx.h"

struct fext {
	struct dx_rb_node by_addr;
	struct dx_rb_node by_size;
	uint64_t start;
	uint64_t len;
};

/* A claim or free recorded in a transaction. */
struct alloc_op {
	uint64_t pblk;
	uint64_t len;
	bool claim;
};

struct dx_alloc_ops {
	struct daxfile_pool *pool;
	unsigned n, cap;
	struct alloc_op *ops;
};

/* --- the DRAM index ----------------------------------------------------- */

static struct fext *
addr_entry(struct dx_rb_node *n)
{
	return n ? dx_rb_entry(n, struct fext, by_addr) : NULL;
}

static struct fext *
size_entry(struct dx_rb_node *n)
{
	return n ? dx_rb_entry(n, struct fext, by_size) : NULL;
}

static void
size_insert(struct dx_agi *agi, struct fext *e)
{
	struct dx_rb_node **link = &agi->by_size.node, *parent = NULL;

	while (*link != NULL) {
		struct fext *x = size_entry(*link);

		parent = *link;
		if (e->len < x->len || (e->len == x->len && e->start < x->start))
			link = &parent->left;
		else
			link = &parent->right;
	}
	dx_rb_link(&e->by_size, parent, link);
	dx_rb_insert_color(&e->by_size, &agi->by_size);
}

static void
addr_insert(struct dx_agi *agi, struct fext *e)
{
	struct dx_rb_node **link = &agi->by_addr.node, *parent = NULL;

	while (*link != NULL) {
		parent = *link;
		if (e->start < addr_entry(parent)->start)
			link = &parent->left;
		else
			link = &parent->right;
	}
	dx_rb_link(&e->by_addr, parent, link);
	dx_rb_insert_color(&e->by_addr, &agi->by_addr);
}

static void
fext_unlink(struct dx_agi *agi, struct fext *e)
{
	dx_rb_erase(&e->by_addr, &agi->by_addr);
	dx_rb_erase(&e->by_size, &agi->by_size);
}

/* addr_floor -- the free extent with the greatest start <= pblk. */
static struct fext *
addr_floor(struct dx_agi *agi, uint64_t pblk)
{
	struct dx_rb_node *n = agi->by_addr.node;
	struct fext *best = NULL;

	while (n != NULL) {
		struct fext *e = addr_entry(n);

		if (e->start <= pblk) {
			best = e;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best;
}

/* size_ceil -- the smallest free extent of at least 'len' blocks. */
static struct fext *
size_ceil(struct dx_agi *agi, uint64_t len)
{
	struct dx_rb_node *n = agi->by_size.node;
	struct fext *best = NULL;

	while (n != NULL) {
		struct fext *e = size_entry(n);

		if (e->len >= len) {
			best = e;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

/*
 * agi_insert -- put [start, start+len) into the index, merged with free
 * neighbours (caller holds the AG lock).
 */
static void
agi_insert(struct daxfile_pool *pool, struct dx_agi *agi, uint64_t start,
	uint64_t len)
{
	struct fext *prev = addr_floor(agi, start);
	struct fext *next = addr_entry(prev ? dx_rb_next(&prev->by_addr) :
		dx_rb_first(&agi->by_addr));
	struct fext *e;

	__atomic_add_fetch(&agi->avail, len, __ATOMIC_RELAXED);
	if (prev != NULL && prev->start + prev->len == start) {
		dx_rb_erase(&prev->by_size, &agi->by_size);
		prev->len += len;
		if (next != NULL && prev->start + prev->len == next->start) {
			fext_unlink(agi, next);
			prev->len += next->len;
			dx_free(pool->arena, next);
		}
		size_insert(agi, prev);
		return;
	}
	if (next != NULL && start + len == next->start) {
		dx_rb_erase(&next->by_size, &agi->by_size);
		next->start = start;
		next->len += len;
		size_insert(agi, next);
		return;
	}
	e = dx_malloc(pool->arena, sizeof(*e));
	VERIFY(e != NULL); /* the index must hold every free block */
	e->start = start;
	e->len = len;
	addr_insert(agi, e);
	size_insert(agi, e);
}

/* agi_take -- remove [start, start+len) from free extent 'e'. */
static void
agi_take(struct daxfile_pool *pool, struct dx_agi *agi, struct fext *e,
	uint64_t start, uint64_t len)
{
	uint64_t end = start + len, eend = e->start + e->len;

	ASSERT(start >= e->start && end <= eend);
	__atomic_sub_fetch(&agi->avail, len, __ATOMIC_RELAXED);
	fext_unlink(agi, e);
	if (start > e->start && end < eend) {
		struct fext *tail = dx_malloc(pool->arena, sizeof(*tail));

		VERIFY(tail != NULL);
		tail->start = end;
		tail->len = eend - end;
		addr_insert(agi, tail);
		size_insert(agi, tail);
		e->len = start - e->start;
	} else if (start > e->start) {
		e->len = start - e->start;
	} else if (end < eend) {
		e->start = end;
		e->len = eend - end;
	} else {
		dx_free(pool->arena, e);
		return;
	}
	addr_insert(agi, e);
	size_insert(agi, e);
}

/* phase_start -- the first block from 'start' on at 'phase' modulo 2 MiB. */
static uint64_t
phase_start(uint64_t start, int64_t phase)
{
	uint64_t a = DX_ALIGN_DOWN(start, DX_HUGE_BLOCKS) + (uint64_t)phase;

	return a < start ? a + DX_HUGE_BLOCKS : a;
}

/* agi_pick -- choose blocks in one AG (caller holds its lock). */
static bool
agi_pick(struct daxfile_pool *pool, struct dx_agi *agi, uint64_t goal,
	uint64_t want, uint64_t minlen, int64_t phase, struct dx_resv *r)
{
	struct fext *e;
	uint64_t start, len;

	if (__atomic_load_n(&agi->avail, __ATOMIC_RELAXED) == 0)
		return false;
	if (goal >= agi->start && goal < agi->end) {
		e = addr_floor(agi, goal);
		if (e != NULL && goal < e->start + e->len) {
			len = DX_MIN(want, e->start + e->len - goal);
			/*
			 * Short runs are refused, unless the run goes to the
			 * AG's end: the file then goes on at the next AG's
			 * first block, contiguous in the pool.
			 */
			if (len >= minlen || len == want ||
			    e->start + e->len == agi->end) {
				start = goal;
				goto take;
			}
		}
	}
	if (phase >= 0) {
		e = size_ceil(agi, want + DX_HUGE_BLOCKS - 1);
		if (e != NULL) {
			start = phase_start(e->start, phase);
			len = want;
			goto take;
		}
	}
	e = size_ceil(agi, want);
	if (e == NULL)
		e = size_entry(dx_rb_last(&agi->by_size));
	if (e == NULL || e->len < DX_MIN(minlen, want))
		return false;
	start = e->start;
	len = DX_MIN(want, e->len);
	if (phase >= 0 && len >= DX_HUGE_BLOCKS) {
		/* the part at the phase, if a whole 2 MiB fits in it */
		uint64_t a = phase_start(start, phase);

		if (a + DX_HUGE_BLOCKS <= e->start + e->len) {
			start = a;
			len = DX_MIN(want, e->start + e->len - a);
		}
	}
take:
	agi_take(pool, agi, e, start, len);
	r->pblk = start;
	r->len = len;
	return true;
}

/* --- public entry points ------------------------------------------------- */

uint32_t
dx_alloc_agno(const struct daxfile_pool *pool, uint64_t pblk)
{
	const struct dx_alloc *al = &pool->alloc;
	uint32_t lo = 0, hi = al->nags;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (pblk < al->ags[mid].start)
			hi = mid;
		else if (pblk >= al->ags[mid].end)
			lo = mid + 1;
		else
			return mid;
	}
	return al->nags;
}

uint32_t
dx_alloc_pick_ag(struct daxfile_pool *pool)
{
	return __atomic_fetch_add(&pool->alloc.rotor, 1, __ATOMIC_RELAXED) %
		pool->alloc.nags;
}

int
dx_alloc_reserve(struct daxfile_pool *pool, uint32_t agno, uint64_t goal,
	uint64_t want, uint64_t minlen, int64_t phase, struct dx_resv *r)
{
	struct dx_alloc *al = &pool->alloc;
	uint32_t g = goal ? dx_alloc_agno(pool, goal) : al->nags;

	ASSERT(want > 0);
	if (g < al->nags)
		agno = g;
	agno %= al->nags;
	/* first pass: a whole 'minlen' run; second: whatever is left */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < al->nags; i++) {
			struct dx_agi *agi = &al->ags[(agno + i) % al->nags];
			bool ok;

			/* the goal's AG may hold a short run at the goal */
			uint64_t need = pass == 0 && !(i == 0 && g < al->nags) ?
				minlen : 1;

			if (__atomic_load_n(&agi->avail, __ATOMIC_RELAXED) < need)
				continue;
			dx_mutex_lock(&agi->lock);
			ok = agi_pick(pool, agi, i == 0 ? goal : 0, want,
				pass == 0 ? minlen : 1, pass == 0 ? phase : -1, r);
			dx_mutex_unlock(&agi->lock);
			if (ok)
				return 0;
		}
	}
	return dx_err(ENOSPC, "no free blocks in pool '%s'", pool->path);
}

void
dx_alloc_unreserve(struct daxfile_pool *pool, const struct dx_resv *r)
{
	struct dx_agi *agi = &pool->alloc.ags[dx_alloc_agno(pool, r->pblk)];

	dx_mutex_lock(&agi->lock);
	agi_insert(pool, agi, r->pblk, r->len);
	dx_mutex_unlock(&agi->lock);
}

/* alloc_tx_end -- after the transaction: frees become usable, or claims return. */
static void
alloc_tx_end(void *arg, bool committed)
{
	struct dx_alloc_ops *ao = arg;
	struct daxfile_pool *pool = ao->pool;
	bool freed = false;

	for (unsigned i = 0; i < ao->n; i++) {
		struct alloc_op *op = &ao->ops[i];
		struct dx_resv r = {op->pblk, op->len};

		if (op->claim != committed)
			dx_alloc_unreserve(pool, &r);
		freed |= committed && !op->claim;
	}
	dx_free(pool->arena, ao->ops);
	dx_free(pool->arena, ao);
	if (freed)
		dx_map_space_freed();
}

static void
alloc_op_add(struct dx_tx *tx, uint64_t pblk, uint64_t len, bool claim)
{
	struct daxfile_pool *pool = tx->pool;
	struct dx_alloc_ops *ao = tx->aops;

	if (ao == NULL) {
		ao = dx_zalloc(pool->arena, sizeof(*ao));
		VERIFY(ao != NULL);
		ao->pool = pool;
		tx->aops = ao;
		dx_tx_on_end(tx, alloc_tx_end, ao);
	}
	if (ao->n == ao->cap) {
		ao->cap = ao->cap ? ao->cap * 2 : 8;
		ao->ops = dx_realloc(pool->arena, ao->ops,
			ao->cap * sizeof(*ao->ops));
		VERIFY(ao->ops != NULL);
	}
	ao->ops[ao->n++] = (struct alloc_op){pblk, len, claim};
}

void
dx_alloc_claim(struct dx_tx *tx, const struct dx_resv *r)
{
	alloc_op_add(tx, r->pblk, r->len, true);
}

void
dx_alloc_free(struct dx_tx *tx, uint64_t pblk, uint64_t len)
{
	if (len != 0)
		alloc_op_add(tx, pblk, len, false);
}

bool
dx_alloc_bitmap_test(const struct dx_ag *ag, uint64_t pblk)
{
	uint64_t bit = pblk - ag->start;

	return ag->bitmap[bit / 64] >> (bit % 64) & 1;
}

/*
 * bitmap_apply -- set (claim) or clear (free) the bits of [pblk, pblk+len)
 * inside one AG, in tx; EFSCORRUPTED if any bit already has that value.
 */
static int
bitmap_apply(struct dx_tx *tx, struct dx_ag *ag, uint64_t pblk, uint64_t len,
	bool set)
{
	uint64_t first = pblk - ag->start, last = first + len - 1;
	uint64_t w0 = first / 64, w1 = last / 64;

	if (dx_tx_add(tx, &ag->bitmap[w0], (w1 - w0 + 1) * 8) != 0 ||
	    DX_TX_ADD_FIELD(tx, ag, nfree) != 0)
		return -1;
	for (uint64_t w = w0; w <= w1; w++) {
		uint64_t lo = w == w0 ? first % 64 : 0;
		uint64_t hi = w == w1 ? last % 64 : 63;
		uint64_t mask = (hi == 63 ? ~0ULL : (1ULL << (hi + 1)) - 1) &
			~((1ULL << lo) - 1);
		uint64_t cur = ag->bitmap[w] & mask;

		if (set ? cur != 0 : cur != mask) {
			dx_tx_fail(tx, EFSCORRUPTED);
			return dx_corrupt(tx->pool, set ?
				"allocating a block the bitmap marks used" :
				"freeing a block the bitmap marks free", pblk);
		}
		ag->bitmap[w] = set ? ag->bitmap[w] | mask : ag->bitmap[w] & ~mask;
	}
	ag->nfree = set ? ag->nfree - len : ag->nfree + len;
	return 0;
}

static int
op_cmp(const void *a, const void *b)
{
	const struct alloc_op *x = a, *y = b;

	return x->pblk < y->pblk ? -1 : x->pblk > y->pblk;
}

void
dx_alloc_precommit(struct dx_tx *tx)
{
	struct dx_alloc_ops *ao = tx->aops;
	struct daxfile_pool *pool = tx->pool;

	if (ao == NULL || tx->err)
		return;
	qsort(ao->ops, ao->n, sizeof(*ao->ops), op_cmp);
	for (unsigned i = 0; i < ao->n && !tx->err; i++) {
		struct alloc_op *op = &ao->ops[i];
		uint32_t agno = dx_alloc_agno(pool, op->pblk);
		struct dx_agi *agi;

		if (agno == pool->alloc.nags ||
		    op->pblk + op->len > pool->alloc.ags[agno].end) {
			dx_tx_fail(tx, EFSCORRUPTED);
			dx_corrupt(pool, "extent outside every AG", op->pblk);
			return;
		}
		agi = &pool->alloc.ags[agno];
		dx_tx_hold_ordered(tx, &agi->lock, agno);
		bitmap_apply(tx, agi->ag, op->pblk, op->len, op->claim);
	}
}

uint64_t
dx_alloc_avail(struct daxfile_pool *pool)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < pool->alloc.nags; i++)
		n += __atomic_load_n(&pool->alloc.ags[i].avail, __ATOMIC_RELAXED);
	return n;
}

uint64_t
dx_alloc_free_blocks(struct daxfile_pool *pool)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < pool->alloc.nags; i++)
		n += __atomic_load_n(&pool->alloc.ags[i].ag->nfree,
			__ATOMIC_RELAXED);
	return n;
}

/* --- open and close ------------------------------------------------------ */

/* agi_load -- check an AG header and index its free runs. */
static int
agi_load(struct daxfile_pool *pool, struct dx_agi *agi, uint32_t agno)
{
	const struct dx_super *sb = pool->sb;
	uint64_t off = sb->ag_off[agno];
	struct dx_ag *ag;
	uint64_t run = 0, nfree = 0;

	if (!dx_obj_ok(pool, off, sizeof(*ag)))
		return dx_corrupt(pool, "AG header outside the pool", off);
	ag = dx_ptr(pool, off);
	if (ag->magic != DX_AG_MAGIC || ag->agno != agno || ag->nblocks == 0 ||
	    ag->start > pool->size >> DX_BLOCK_SHIFT ||
	    ag->nblocks > (pool->size >> DX_BLOCK_SHIFT) - ag->start ||
	    !dx_obj_ok(pool, off, sizeof(*ag) + (ag->nblocks + 63) / 64 * 8) ||
	    (agno > 0 && ag->start < pool->alloc.ags[agno - 1].end))
		return dx_corrupt(pool, "damaged AG header", off);
	dx_mutex_init(&agi->lock, DX_LC_AG);
	agi->ag = ag;
	agi->agno = agno;
	agi->start = ag->start;
	agi->end = ag->start + ag->nblocks;
	for (uint64_t b = 0; b <= ag->nblocks; b++) {
		bool used = b == ag->nblocks ||
			(ag->bitmap[b / 64] >> (b % 64) & 1);

		if (!used) {
			run++;
			continue;
		}
		if (run != 0)
			agi_insert(pool, agi, ag->start + b - run, run);
		nfree += run;
		run = 0;
	}
	if (nfree != ag->nfree)
		return dx_corrupt(pool, "AG free count disagrees with its bitmap",
			off);
	return 0;
}

int
dx_alloc_init(struct daxfile_pool *pool)
{
	struct dx_alloc *al = &pool->alloc;
	uint32_t n = pool->sb->nags;

	al->ags = dx_zalloc(pool->arena, n * sizeof(*al->ags));
	if (al->ags == NULL)
		return dx_err(ENOMEM, "cannot allocate the AG table");
	for (uint32_t i = 0; i < n; i++) {
		if (agi_load(pool, &al->ags[i], i) != 0) {
			al->nags = i + 1;
			dx_alloc_fini(pool);
			return -1;
		}
		al->nags = i + 1;
	}
	return 0;
}

void
dx_alloc_fini(struct daxfile_pool *pool)
{
	struct dx_alloc *al = &pool->alloc;

	/* the extents live in the pool's arena, destroyed with it */
	for (uint32_t i = 0; i < al->nags; i++)
		if (al->ags[i].ag != NULL)
			dx_mutex_destroy(&al->ags[i].lock);
	dx_free(pool->arena, al->ags);
	al->ags = NULL;
	al->nags = 0;
}
