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
 *
 * Pinned pages: a mapping installs the pool file's own pages, which an
 * application can pin (O_DIRECT I/O in flight into them, vmsplice, an
 * io_uring fixed buffer) and keep writing to after the file lost the
 * block.  A library cannot see pins, so blocks installed in a shared
 * mapping are marked (a bit per block, kept in DRAM: mappings end with the
 * pool's handle), and freed marked blocks go into quarantine instead of
 * the index, while blocks never installed go back at once; only when an
 * allocation finds no other free block is the quarantine emptied: its
 * ranges of the pool file are punched out (FALLOC_FL_PUNCH_HOLE), where
 * on tmpfs or a DAX file system the kernel takes the page away from the
 * file (a pinned one lives on, orphaned) and the next owner gets a fresh
 * one, their marks are cleared, and they join the index.  tmpfs cannot
 * split a 2 MiB page that holds a pinned page: it zeroes the punched
 * range and keeps it, which SEEK_DATA shows, and those blocks stay in
 * quarantine until a later try finds them gone.  So a truncate
 * of a mapped file costs what it did, punches come rarely and in batches,
 * and files that are only read and written never wait for them.  Device DAX cannot
 * punch: there the limit is documented (daxfile_mmap(3)).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "alloc.h"
#include "defer.h"
#include "layout.h"
#include "errinj.h"
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
	if (e == NULL) {
		/* free on media all the same: the next open indexes them */
		__atomic_sub_fetch(&agi->avail, len, __ATOMIC_RELAXED);
		dx_log("out of memory: %lu free blocks of pool '%s' stay unused "
			"until it is opened again", (unsigned long)len, pool->path);
		return;
	}
	e->start = start;
	e->len = len;
	addr_insert(agi, e);
	size_insert(agi, e);
}

/*
 * agi_take -- remove [start, start+len) from free extent 'e'; false (and
 * nothing taken) when there is no memory to split it in two.
 */
static bool
agi_take(struct daxfile_pool *pool, struct dx_agi *agi, struct fext *e,
	uint64_t start, uint64_t len)
{
	uint64_t end = start + len, eend = e->start + e->len;
	struct fext *tail = NULL;

	ASSERT(start >= e->start && end <= eend);
	if (start > e->start && end < eend) {
		tail = dx_malloc(pool->arena, sizeof(*tail));
		if (tail == NULL)
			return false;
	}
	__atomic_sub_fetch(&agi->avail, len, __ATOMIC_RELAXED);
	fext_unlink(agi, e);
	if (tail != NULL) {
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
		return true;
	}
	addr_insert(agi, e);
	size_insert(agi, e);
	return true;
}

/* --- quarantine ------------------------------------------------------------- */

/* mark_bits -- the bits of word 'b / 64' for blocks [b, e) of an AG. */
static inline uint64_t
mark_bits(uint64_t b, uint64_t e)
{
	uint64_t n = DX_MIN(64 - b % 64, e - b);

	return (n == 64 ? ~0ULL : (1ULL << n) - 1) << (b % 64);
}

/*
 * agi_mark -- set (or clear) the mapped bits of AG blocks [b, e) (relative
 * to the AG's start).  Atomic: faults of other files mark blocks that
 * share a word, holding no AG lock.
 */
static void
agi_mark(struct dx_agi *agi, uint64_t b, uint64_t e, bool set)
{
	while (b < e) {
		uint64_t bits = mark_bits(b, e), *w = &agi->mapped[b / 64];
		uint64_t old = __atomic_load_n(w, __ATOMIC_RELAXED);

		if (set && (old & bits) != bits)
			__atomic_fetch_or(w, bits, __ATOMIC_RELAXED);
		else if (!set && (old & bits) != 0)
			__atomic_fetch_and(w, ~bits, __ATOMIC_RELAXED);
		b = (b | 63) + 1;
	}
}

/*
 * mark_run -- where the run of AG blocks from 'b' whose mapped bits are
 * all 'set' ends, at most 'e'.
 */
static uint64_t
mark_run(const struct dx_agi *agi, uint64_t b, uint64_t e, bool set)
{
	while (b < e) {
		uint64_t w = __atomic_load_n(&agi->mapped[b / 64], __ATOMIC_RELAXED);

		/* a 1 from bit b on is a block of the other kind */
		w = (set ? ~w : w) >> (b % 64);
		if (w != 0)
			return DX_MIN(e, b + (uint64_t)__builtin_ctzll(w));
		b = (b | 63) + 1;
	}
	return e;
}

void
dx_alloc_note_mapped(struct daxfile_pool *pool, uint64_t pblk, uint64_t len)
{
	uint64_t end = pblk + len;

	while (pblk < end) {
		uint32_t agno = dx_alloc_agno(pool, pblk);
		struct dx_agi *agi;
		uint64_t e;

		if (agno == pool->alloc.nags)
			return;	/* the caller's extent map is damaged */
		agi = &pool->alloc.ags[agno];
		e = DX_MIN(end, agi->end);
		agi_mark(agi, pblk - agi->start, e - agi->start, true);
		pblk = e;
	}
	if (!__atomic_load_n(&pool->alloc.mapped, __ATOMIC_RELAXED))
		__atomic_store_n(&pool->alloc.mapped, true, __ATOMIC_RELAXED);
}

/*
 * quarantine_punch -- drop [pblk, pblk+len) from the pool file; false if
 * the file cannot (its pages stay the file's).
 */
static bool
quarantine_punch(struct daxfile_pool *pool, uint64_t pblk, uint64_t len)
{
	if (__atomic_load_n(&pool->alloc.nopunch, __ATOMIC_RELAXED))
		return false;
	if (fallocate(pool->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		(off_t)(pblk << DX_BLOCK_SHIFT), (off_t)(len << DX_BLOCK_SHIFT)) == 0)
		return true;
	if (errno == EOPNOTSUPP) {
		__atomic_store_n(&pool->alloc.nopunch, true, __ATOMIC_RELAXED);
		dx_log("pool file '%s' cannot punch holes: pages pinned in a "
			"mapping may reach the next owner of their blocks",
			pool->path);
		return false;
	}
	dx_log("cannot drop freed blocks from pool file '%s': %s", pool->path,
		strerror(errno));
	return false;
}

/*
 * quarantine_kept -- after a punch of blocks [b, e): the first run of them
 * whose pages the pool file kept, as [*kb, *ke); false if none.  tmpfs
 * keeps a range of a 2 MiB page that it cannot split (a page of it is
 * pinned), zeroed; it then reports the range as data (SEEK_DATA), where
 * it reports a punched range as a hole.  Other file systems are not asked
 * (a disk file system answers from its blocks, not its pages).
 */
static bool
quarantine_kept(struct daxfile_pool *pool, uint64_t b, uint64_t e,
	uint64_t *kb, uint64_t *ke)
{
	off_t d, h;

	if (!pool->alloc.punch_keeps)
		return false;
	d = lseek(pool->fd, (off_t)(b << DX_BLOCK_SHIFT), SEEK_DATA);
	if (d < 0 || (uint64_t)d >= e << DX_BLOCK_SHIFT)
		return false;	/* ENXIO: holes to the end of the file */
	h = lseek(pool->fd, d, SEEK_HOLE);
	if (h < 0)
		h = (off_t)(e << DX_BLOCK_SHIFT);
	*kb = DX_MAX(b, (uint64_t)d >> DX_BLOCK_SHIFT);
	*ke = DX_MIN(e, DX_ALIGN_UP((uint64_t)h, DX_BLOCK_SIZE) >>
		DX_BLOCK_SHIFT);
	return *kb < *ke;
}

/* quarantine_index -- punched blocks lose their marks and join the index. */
static void
quarantine_index(struct daxfile_pool *pool, struct dx_agi *agi, uint64_t pblk,
	uint64_t len)
{
	agi_mark(agi, pblk - agi->start, pblk + len - agi->start, false);
	agi_insert(pool, agi, pblk, len);
}

/*
 * quarantine_keep -- blocks [pblk, pblk+len) wait out of the index (caller
 * holds the AG lock); false if there is no memory to keep them.
 */
static bool
quarantine_keep(struct daxfile_pool *pool, struct dx_agi *agi, uint64_t pblk,
	uint64_t len)
{
	if (agi->nquar == agi->capquar) {
		unsigned cap = agi->capquar ? 2 * agi->capquar : 16;
		struct dx_resv *q = dx_realloc(pool->arena, agi->quar,
			cap * sizeof(*q));

		if (q == NULL)
			return false;
		agi->quar = q;
		agi->capquar = cap;
	}
	agi->quar[agi->nquar++] = (struct dx_resv){pblk, len};
	__atomic_add_fetch(&pool->alloc.quarantined, len, __ATOMIC_RELAXED);
	return true;
}

/*
 * quarantine_release -- punch blocks [pblk, pblk+len) out of the pool file
 * and index them, but for those whose pages the file kept: they wait in
 * quarantine for the next try (caller holds the AG lock).
 */
static void
quarantine_release(struct daxfile_pool *pool, struct dx_agi *agi,
	uint64_t pblk, uint64_t len)
{
	uint64_t b = pblk, e = pblk + len, kb, ke;

	if (!quarantine_punch(pool, pblk, len)) {
		quarantine_index(pool, agi, pblk, len);
		return;
	}
	while (b < e && quarantine_kept(pool, b, e, &kb, &ke)) {
		if (kb > b)
			quarantine_index(pool, agi, b, kb - b);
		if (!quarantine_keep(pool, agi, kb, ke - kb)) {
			dx_log("no memory to keep blocks %lu-%lu of pool '%s' "
				"out of use: pages pinned in a mapping may "
				"reach their next owner", (unsigned long)kb,
				(unsigned long)ke - 1, pool->path);
			quarantine_index(pool, agi, kb, ke - kb);
		}
		b = ke;
	}
	if (b < e)
		quarantine_index(pool, agi, b, e - b);
}

/*
 * quarantine_add -- freed blocks that were mapped wait out of the index
 * (caller holds the AG lock); without memory to keep them, they are
 * released at once.
 */
static void
quarantine_add(struct daxfile_pool *pool, struct dx_agi *agi, uint64_t pblk,
	uint64_t len)
{
	if (!quarantine_keep(pool, agi, pblk, len))
		quarantine_release(pool, agi, pblk, len);
}

/*
 * agi_release -- release the AG's quarantined ranges; true if there was
 * any.  Caller holds the AG lock (the punch waits for nothing of the
 * library's).
 */
static bool
agi_release(struct daxfile_pool *pool, struct dx_agi *agi)
{
	struct dx_resv *q = agi->quar;
	unsigned n = agi->nquar;

	if (n == 0)
		return false;
	/* ranges the file keeps go to a new list */
	agi->quar = NULL;
	agi->nquar = agi->capquar = 0;
	for (unsigned k = 0; k < n; k++) {
		__atomic_sub_fetch(&pool->alloc.quarantined, q[k].len,
			__ATOMIC_RELAXED);
		quarantine_release(pool, agi, q[k].pblk, q[k].len);
	}
	dx_free(pool->arena, q);
	return true;
}

/* quarantine_drain -- agi_release in every AG, in turn; true if any was. */
static bool
quarantine_drain(struct daxfile_pool *pool)
{
	bool any = false;

	if (__atomic_load_n(&pool->alloc.quarantined, __ATOMIC_RELAXED) == 0)
		return false;
	for (uint32_t i = 0; i < pool->alloc.nags; i++) {
		struct dx_agi *agi = &pool->alloc.ags[i];

		dx_mutex_lock(&agi->lock);
		any |= agi_release(pool, agi);
		dx_mutex_unlock(&agi->lock);
	}
	return any;
}

/*
 * quarantine_goal -- the block a growing file wants next is quarantined:
 * release its AG's quarantine, so the file stays contiguous (a truncated
 * file growing again takes its old blocks back, punched).
 */
static void
quarantine_goal(struct daxfile_pool *pool, uint32_t g, uint64_t goal)
{
	struct dx_agi *agi = &pool->alloc.ags[g];

	if (__atomic_load_n(&pool->alloc.quarantined, __ATOMIC_RELAXED) == 0)
		return;
	dx_mutex_lock(&agi->lock);
	for (unsigned k = 0; k < agi->nquar; k++)
		if (goal >= agi->quar[k].pblk &&
		    goal < agi->quar[k].pblk + agi->quar[k].len) {
			agi_release(pool, agi);
			break;
		}
	dx_mutex_unlock(&agi->lock);
}

/*
 * agi_free -- freed blocks [pblk, pblk+len) of the AG: runs that were
 * installed in a shared mapping into quarantine, the others into the index
 * (caller holds the AG lock).  The marks cannot change meanwhile: a fault
 * marks only blocks of its file, which the free took under the file's
 * mmaplock exclusive.
 */
static void
agi_free(struct daxfile_pool *pool, struct dx_agi *agi, uint64_t pblk,
	uint64_t len)
{
	uint64_t b = pblk - agi->start, e = b + len;

	if (!__atomic_load_n(&pool->alloc.mapped, __ATOMIC_RELAXED)) {
		agi_insert(pool, agi, pblk, len);
		return;
	}
	while (b < e) {
		bool mapped = __atomic_load_n(&agi->mapped[b / 64],
			__ATOMIC_RELAXED) >> (b % 64) & 1;
		uint64_t r = mark_run(agi, b, e, mapped);

		if (mapped)
			quarantine_add(pool, agi, agi->start + b, r - b);
		else
			agi_insert(pool, agi, agi->start + b, r - b);
		b = r;
	}
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

	dx_assert_held(&agi->lock);
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
	if (!agi_take(pool, agi, e, start, len))
		return false;
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
	if (dx_ei_fail(DX_EI_BLOCKS))
		return dx_err(ENOSPC, "no free blocks in pool '%s' (injected)",
			pool->path);
	if (g < al->nags) {
		agno = g;
		quarantine_goal(pool, g, goal);
	}
	agno %= al->nags;
	/*
	 * First pass: a whole 'minlen' run; second: whatever is left; then
	 * both again once the quarantined blocks are back in the index.
	 */
	for (int pass = 0; pass < 4; pass++) {
		if (pass == 2 && !quarantine_drain(pool))
			break;
		for (uint32_t i = 0; i < al->nags; i++) {
			struct dx_agi *agi = &al->ags[(agno + i) % al->nags];
			bool whole = pass % 2 == 0, ok;

			/* the goal's AG may hold a short run at the goal */
			uint64_t need = whole && !(i == 0 && g < al->nags) ?
				minlen : 1;

			if (__atomic_load_n(&agi->avail, __ATOMIC_RELAXED) < need)
				continue;
			dx_mutex_lock(&agi->lock);
			ok = agi_pick(pool, agi, i == 0 ? goal : 0, want,
				whole ? minlen : 1, whole ? phase : -1, r);
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

/*
 * alloc_tx_end -- after the transaction: frees become usable, or claims
 * return.  The ops are sorted and merged (alloc_precommit): each AG's lock
 * is taken once for all of its ops.
 */
static void
alloc_tx_end(void *arg, bool committed)
{
	struct dx_alloc_ops *ao = arg;
	struct daxfile_pool *pool = ao->pool;
	struct dx_agi *held = NULL;
	bool freed = false;

	for (unsigned i = 0; i < ao->n; i++) {
		struct alloc_op *op = &ao->ops[i];
		struct dx_agi *agi = &pool->alloc.ags[dx_alloc_agno(pool, op->pblk)];
		bool freeing = committed && !op->claim;

		if (op->claim == committed)
			continue;
		if (agi != held) {
			if (held != NULL)
				dx_mutex_unlock(&held->lock);
			dx_mutex_lock(&agi->lock);
			held = agi;
		}
		if (freeing)
			agi_free(pool, agi, op->pblk, op->len);
		else
			agi_insert(pool, agi, op->pblk, op->len);
		freed |= freeing;
	}
	if (held != NULL)
		dx_mutex_unlock(&held->lock);
	dx_free(pool->arena, ao->ops);
	dx_free(pool->arena, ao);
	if (freed)
		dx_defer(DX_DEFER_SPACE_FREED);
}

static void alloc_precommit(struct dx_tx *tx, void *arg);

/*
 * alloc_op_add -- record a claim or a free in tx; false (the transaction
 * failed with ENOMEM) when there is no memory to record it.
 */
static bool
alloc_op_add(struct dx_tx *tx, uint64_t pblk, uint64_t len, bool claim)
{
	struct daxfile_pool *pool = tx->pool;
	struct dx_alloc_ops *ao = dx_tx_precommit_arg(tx, DX_TX_PRE_BLOCKS);

	if (tx->err)
		return false;
	if (ao == NULL) {
		ao = dx_zalloc(pool->arena, sizeof(*ao));
		if (ao == NULL)
			goto nomem;
		ao->pool = pool;
		dx_tx_on_precommit(tx, DX_TX_PRE_BLOCKS, alloc_precommit, ao);
		dx_tx_on_end(tx, alloc_tx_end, ao);
	}
	if (ao->n == ao->cap) {
		unsigned cap = ao->cap ? ao->cap * 2 : 8;
		struct alloc_op *ops = dx_realloc(pool->arena, ao->ops,
			cap * sizeof(*ops));

		if (ops == NULL)
			goto nomem;
		ao->ops = ops;
		ao->cap = cap;
	}
	ao->ops[ao->n++] = (struct alloc_op){pblk, len, claim};
	return true;

nomem:
	dx_tx_fail(tx, ENOMEM);
	dx_err(ENOMEM, "out of memory recording a block allocation");
	return false;
}

void
dx_alloc_claim(struct dx_tx *tx, const struct dx_resv *r)
{
	/* a claim not recorded would never go back: give it back now */
	if (!alloc_op_add(tx, r->pblk, r->len, true))
		dx_alloc_unreserve(tx->pool, r);
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

/*
 * ops_merge -- sort the ops by block and merge neighbours of one kind in
 * one AG: a file of many extents laid out next to each other in the pool
 * is freed with one bitmap update and one index insert per run, not one
 * per extent.
 */
static void
ops_merge(struct daxfile_pool *pool, struct dx_alloc_ops *ao)
{
	unsigned n = 0;

	if (ao->n == 0)
		return;
	qsort(ao->ops, ao->n, sizeof(*ao->ops), op_cmp);
	for (unsigned i = 1; i < ao->n; i++) {
		struct alloc_op *last = &ao->ops[n], *op = &ao->ops[i];

		if (op->claim == last->claim &&
		    last->pblk + last->len == op->pblk &&
		    dx_alloc_agno(pool, last->pblk) ==
		    dx_alloc_agno(pool, op->pblk))
			last->len += op->len;
		else
			ao->ops[++n] = *op;
	}
	ao->n = n + 1;
}

/*
 * alloc_precommit -- apply the transaction's claims and frees to the
 * bitmaps: AG locks taken in AG order and held until the transaction ends.
 */
static void
alloc_precommit(struct dx_tx *tx, void *arg)
{
	struct dx_alloc_ops *ao = arg;
	struct daxfile_pool *pool = tx->pool;

	ops_merge(pool, ao);
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
	agi->mapped = dx_zalloc(pool->arena, (ag->nblocks + 63) / 64 * 8);
	if (agi->mapped == NULL)
		return dx_err(ENOMEM, "cannot allocate the marks of AG %u", agno);
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
	struct statfs fs;

	al->ags = dx_zalloc(pool->arena, n * sizeof(*al->ags));
	if (al->ags == NULL)
		return dx_err(ENOMEM, "cannot allocate the AG table");
	al->punch_keeps = fstatfs(pool->fd, &fs) == 0 &&
		fs.f_type == TMPFS_MAGIC;
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
	for (uint32_t i = 0; i < al->nags; i++) {
		struct dx_agi *agi = &al->ags[i];

		if (agi->ag != NULL)
			dx_mutex_destroy(&agi->lock);
		dx_free(pool->arena, agi->mapped);
		dx_free(pool->arena, agi->quar);
	}
	dx_free(pool->arena, al->ags);
	al->ags = NULL;
	al->nags = 0;
}
