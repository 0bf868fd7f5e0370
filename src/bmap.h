/*
 * bmap.h -- a regular file's extent map: where each range of the file lives
 * in the pool, persistent as an unordered list of extent records and cached
 * in DRAM as a tree ordered by file block.
 *
 * Lookups need the inode's ilock (shared); changes need it exclusive and a
 * transaction.  The map is loaded when the file is opened or mapped.
 *
 * Reads also keep a few extents they found in a lookup cache that is read
 * without the ilock (a seqlock): every change to the map empties it first.
 */
#ifndef DX_BMAP_H
#define DX_BMAP_H 1

#include <stdbool.h>
#include <stdint.h>

struct dx_inode;
struct dx_bmap;
struct dx_tx;

/* Longest extent one record holds, in blocks. */
#define DX_BEXT_MAX ((uint64_t)1 << 31)

/* One mapping answer: a range that is all hole, or all in one extent. */
struct dx_map {
	uint64_t lblk;		/* first file block */
	uint64_t len;		/* blocks */
	uint64_t pblk;		/* first pool block, 0 for a hole */
	bool unwritten;		/* allocated but reads as zeros */
};

/* Extents in the lookup cache. */
#define DX_BMAP_LCACHE_SLOTS 8

/* The lookup cache of one file, at the start of its extent map. */
struct dx_bmap_lcache {
	uint64_t seq;		/* odd while a slot is being written */
	unsigned hand;		/* next slot to fill (under an odd seq) */
	struct {
		uint64_t lblk;
		uint64_t len;		/* 0: empty */
		uint64_t pblk;
		uint64_t unwritten;
	} slot[DX_BMAP_LCACHE_SLOTS];
};

/* dx_bmap_load -- read the records into DRAM (ilock excl; idempotent). */
int dx_bmap_load(struct dx_inode *ip);
/* dx_bmap_destroy -- drop the DRAM cache. */
void dx_bmap_destroy(struct dx_inode *ip);

/*
 * dx_bmap_lcache_of -- the lookup cache of a loaded map: its first member,
 * so that readers reach it without the map's definition.  A map stays in
 * place while its file is open (an aborted transaction rebuilds it there).
 */
static inline const struct dx_bmap_lcache *
dx_bmap_lcache_of(const struct dx_bmap *bm)
{
	return (const struct dx_bmap_lcache *)(const void *)bm;
}

/*
 * dx_bmap_lookup -- what backs file block 'lblk': a hole (up to the next
 * extent, at most 'maxlen' blocks) or part of one extent.
 */
void dx_bmap_lookup(const struct dx_inode *ip, uint64_t lblk, uint64_t maxlen,
	struct dx_map *m);

/*
 * dx_bmap_lookup_fast -- dx_bmap_lookup from the lookup cache, without any
 * lock; false when the cache does not hold 'lblk' (then take the ilock and
 * call dx_bmap_lookup_remember).  Only for callers that hold the iolock
 * (a read shared, an overwrite exclusive) or check its sequence (data.c,
 * iomap.c): they exclude every change but faults filling holes and writing
 * unwritten extents.  The acquire loads
 * keep the second read of the sequence after the slots'.
 */
static inline bool
dx_bmap_lookup_fast(const struct dx_bmap_lcache *c, uint64_t lblk,
	uint64_t maxlen, struct dx_map *m)
{
	uint64_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
	uint64_t elblk = 0, elen = 0, epblk, euw;
	unsigned i;

	if (seq & 1)
		return false;
	for (i = 0; i < DX_BMAP_LCACHE_SLOTS; i++) {
		elblk = __atomic_load_n(&c->slot[i].lblk, __ATOMIC_ACQUIRE);
		elen = __atomic_load_n(&c->slot[i].len, __ATOMIC_ACQUIRE);
		if (lblk >= elblk && lblk - elblk < elen)
			break;
	}
	if (i == DX_BMAP_LCACHE_SLOTS)
		return false;
	epblk = __atomic_load_n(&c->slot[i].pblk, __ATOMIC_ACQUIRE);
	euw = __atomic_load_n(&c->slot[i].unwritten, __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) != seq)
		return false;
	m->lblk = lblk;
	m->len = maxlen < elblk + elen - lblk ? maxlen : elblk + elen - lblk;
	m->pblk = epblk + (lblk - elblk);
	m->unwritten = euw != 0;
	return true;
}

/*
 * dx_bmap_lookup_remember -- dx_bmap_lookup under the ilock (shared, taken
 * here), keeping the extent found in the lookup cache.
 */
void dx_bmap_lookup_remember(struct dx_inode *ip, uint64_t lblk,
	uint64_t maxlen, struct dx_map *m);

/* dx_bmap_last -- the last extent (m->len == 0 if the file has none). */
void dx_bmap_last(const struct dx_inode *ip, struct dx_map *m);

/* dx_bmap_count -- number of extents. */
uint64_t dx_bmap_count(const struct dx_inode *ip);

/* dx_bmap_insert -- map the hole [lblk, lblk+len) to pblk (merging). */
int dx_bmap_insert(struct dx_tx *tx, struct dx_inode *ip, uint64_t lblk,
	uint64_t pblk, uint64_t len, bool unwritten);

/* dx_bmap_punch -- unmap [lblk, lblk+len) and free its blocks. */
int dx_bmap_punch(struct dx_tx *tx, struct dx_inode *ip, uint64_t lblk,
	uint64_t len);

/*
 * dx_bmap_convert -- set the state of the allocated parts of [lblk,
 * lblk+len): unwritten (reads as zeros) or written.
 */
int dx_bmap_convert(struct dx_tx *tx, struct dx_inode *ip, uint64_t lblk,
	uint64_t len, bool unwritten);

/* dx_bmap_split -- make 'lblk' an extent boundary. */
int dx_bmap_split(struct dx_tx *tx, struct dx_inode *ip, uint64_t lblk);

/*
 * dx_bmap_shift -- move every extent at or after 'from' by 'delta' blocks
 * (negative for collapse: the range it moves into must be a hole).
 */
int dx_bmap_shift(struct dx_tx *tx, struct dx_inode *ip, uint64_t from,
	int64_t delta);

/* dx_bmap_free_all -- free every block and record (inode reclaim). */
void dx_bmap_free_all(struct dx_tx *tx, struct dx_inode *ip);

/*
 * dx_bmap_foreach -- visit every extent in file order (ilock held): fn gets
 * lblk, pblk, len, unwritten; a non-zero return stops the walk.
 */
typedef int (*dx_bmap_visit_fn)(void *arg, uint64_t lblk, uint64_t pblk,
	uint64_t len, bool unwritten);
int dx_bmap_foreach(const struct dx_inode *ip, dx_bmap_visit_fn fn, void *arg);

#endif /* DX_BMAP_H */
