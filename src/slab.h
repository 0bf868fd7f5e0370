/*
 * slab.h -- inodes and directory entries claimed from slabs: runs of 64-byte
 * units in 252 KiB objects made ahead of need (layout.h: struct dx_slab).
 *
 * A libpmemobj allocation in a transaction costs a redo log and heap work
 * at commit, and a free as much again; a create made two of them (inode,
 * entry) and an unlink two frees.  A slab claim changes bits of one map
 * word, snapshotted once, and the objects a transaction claims go to one
 * word when they fit, so a create's inode and entry cost one snapshot
 * between them.
 *
 * Claims follow the block allocator's two steps (alloc.h): dx_slab_alloc
 * takes units out of the slab's DRAM map of free units (nothing persistent
 * changes), the caller fills the object, and at commit (a precommit stage
 * of tx.h, after the block allocator's) the slab sets the map bits, takes the SLAB locks in slab order and holds them
 * until the transaction ends (libpmemobj restores whole map words on an
 * abort).  Frees are recorded and clear the map bits at commit; their units
 * become free in DRAM once it has committed.  A transaction that finds no
 * room makes a new slab in itself, under the SLABLIST lock: of free data
 * blocks claimed in that transaction, or from the metadata heap where no
 * free extent is long enough.
 */
#ifndef DX_SLAB_H
#define DX_SLAB_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "lock.h"
#include "mem.h"

struct daxfile_pool;
struct dx_tx;

/* A slab in DRAM. */
struct dx_slabi {
	struct dx_mutex lock;		/* SLAB: avail; the map to commit */
	struct dx_slab *s;		/* on media */
	uint64_t off;
	uint32_t index;			/* order of the SLAB locks */
	uint32_t nfree;			/* units in avail (atomic reads) */
	unsigned rotor;			/* word of the last claim */
	uint64_t avail[DX_SLAB_WORDS];	/* free and not reserved */
};

/* The pool's slabs. */
struct dx_slabs {
	struct dx_mutex list_lock;	/* SLABLIST: the persistent list head,
					   until the transaction ends */
	struct dx_rwlock index_lock;	/* LEAF: the arrays below */
	struct dx_slabi **v;		/* by index */
	struct dx_slabi **byoff;	/* by offset, for frees */
	uint32_t n, cap;
	uint32_t next_index;		/* of the next slab made (SLABLIST) */
};

/* dx_slab_init / dx_slab_fini -- the pool's slab state, empty / gone. */
void dx_slab_init(struct daxfile_pool *pool);
void dx_slab_fini(struct daxfile_pool *pool);

/*
 * dx_slab_load -- the DRAM state of every slab of the pool (at open);
 * EFSCORRUPTED for a damaged slab list.
 */
int dx_slab_load(struct daxfile_pool *pool);

/*
 * dx_slab_alloc -- claim an object of 'size' bytes (at most 4 KiB) in
 * 'tx': its pool offset, or 0 (ENOSPC, the transaction fails).  Its bytes
 * are undefined; the caller writes all of them that matter before the
 * commit, which flushes them.
 */
uint64_t dx_slab_alloc(struct dx_tx *tx, size_t size);

/*
 * dx_slab_free -- free the object at 'off' when 'tx' commits: a slab
 * object, or a libpmemobj object of its own (inodes and entries of a pool
 * made before slabs).
 */
void dx_slab_free(struct dx_tx *tx, uint64_t off);

/*
 * dx_slab_is_object -- does an object of one of the pool's slabs start at
 * 'off' (for the repair of entries that name damaged inodes)?
 */
bool dx_slab_is_object(struct daxfile_pool *pool, uint64_t off);

/*
 * dx_slab_follows -- do slab objects start at 'a' and at 'b', 'b' where
 * the units of 'a' end?  Then nothing of anyone else lies between them.
 */
bool dx_slab_follows(struct daxfile_pool *pool, uint64_t a, uint64_t b);

/*
 * dx_slab_fits -- does a slab object start at 'off' whose units are exactly
 * those an object of 'size' bytes takes?  Then a change may rewrite it in
 * place instead of claiming a new object and freeing this one.
 */
bool dx_slab_fits(struct daxfile_pool *pool, uint64_t off, size_t size);

/* dx_slab_free_units -- the units free in every slab (a snapshot). */
uint64_t dx_slab_free_units(struct daxfile_pool *pool);

/*
 * dx_slab_check -- NULL if the slab header at 'off' is sound (magic,
 * bounds, a map whose start bits are used units and whose header units are
 * used), else what is wrong.
 */
const char *dx_slab_check(const struct daxfile_pool *pool, uint64_t off);

/*
 * dx_slab_list -- the slabs of the pool's list, newest first, sound ones
 * only, each once: the list ends at the first damaged slab or at the first
 * slab met again, which *why says and *at names (*why NULL: the whole
 * list).  Their number, with '*out' an array of 'arena' for dx_free, or -1
 * with errno (ENOMEM).
 */
int64_t dx_slab_list(const struct daxfile_pool *pool, dx_arena arena,
	uint64_t **out, const char **why, uint64_t *at);

/*
 * dx_slab_objects -- call fn(arg, off, len) for every object of the sound
 * slab at 'slab' (len: the bytes of its run of units); stops at and
 * returns fn's first non-zero value.
 */
int dx_slab_objects(const struct daxfile_pool *pool, uint64_t slab,
	int (*fn)(void *arg, uint64_t off, uint64_t len), void *arg);

#endif /* DX_SLAB_H */
