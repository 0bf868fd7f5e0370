/*
 * tx.h -- transactions as the library uses them: every metadata change is
 * one transaction; locks that protect snapshotted ranges are held until the
 * transaction ends; DRAM state follows the outcome through end callbacks.
 *
 * A transaction logs its snapshots in an undo log lane of its own (undo.h)
 * and opens a libpmemobj transaction only when it allocates or frees a
 * libpmemobj object or outgrows the lane (dx_tx_obj); from then on its
 * snapshots go to libpmemobj's undo log, and libpmemobj's commit retires
 * the lane with it.
 *
 * Errors are sticky: after a failed step, later steps do nothing and
 * dx_tx_commit() aborts and reports the first error.
 */
#ifndef DX_TX_H
#define DX_TX_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lock.h"

struct daxfile_pool;

/* AGs one transaction may touch: mkfs keeps pools within it */
#define DX_TX_MAX_AGS 32
#define DX_TX_MAX_LOCKS (8 + DX_TX_MAX_AGS)
#define DX_TX_MAX_CALLBACKS 8
#define DX_TX_MAX_RANGES 8	/* snapshots remembered for dx_tx_add */
#define DX_TX_MAX_SLAB_OPS 8	/* slab claims and frees (slab.c) */

typedef void (*dx_tx_end_fn)(void *arg, bool committed);
typedef void (*dx_tx_precommit_fn)(struct dx_tx *tx, void *arg);

/*
 * The stages of the work done just before a commit, in the order they run:
 * it is the order of their locks (AG -> SLAB in doc/locking.md).
 */
enum dx_tx_stage {
	DX_TX_PRE_BLOCKS,	/* the allocator's block bitmaps (AG locks) */
	DX_TX_PRE_SLABS,	/* the slabs' maps (SLAB locks) */
	DX_TX_PRE_STAGES
};

/* A range libpmemobj could not snapshot, kept in DRAM for the abort. */
struct dx_tx_save {
	struct dx_tx_save *next;
	void *ptr;
	size_t len;
	unsigned char bytes[];
};

struct dx_slabi;

/* A claim or a free of a slab object, applied at commit (slab.c). */
struct dx_tx_slab_op {
	struct dx_slabi *slab;
	uint64_t off;		/* the object */
	uint64_t mask;		/* its units in map word 'word' */
	uint32_t word;
	uint32_t len;		/* bytes to flush: a claim; 0: a free */
};

struct dx_undo_lane;

struct dx_tx {
	struct daxfile_pool *pool;
	int err;
	struct dx_undo_lane *lane;	/* NULL: libpmemobj's log from the start */
	uint32_t lane_pos;	/* bytes of the lane's log in use */
	bool obj;		/* a libpmemobj transaction is open */
	struct dx_tx_save *saved;	/* restored if the transaction aborts */
	struct {
		dx_tx_precommit_fn fn;
		void *arg;
	} pre[DX_TX_PRE_STAGES];	/* last before the commit */
	unsigned nlocks;
	struct dx_mutex *locks[DX_TX_MAX_LOCKS];
	unsigned ncb;
	struct {
		dx_tx_end_fn fn;
		void *arg;
	} cb[DX_TX_MAX_CALLBACKS];
	unsigned nranges;
	struct {
		uintptr_t start, end;
	} ranges[DX_TX_MAX_RANGES];	/* snapshotted: a range inside one
					   costs dx_tx_add nothing more */
	unsigned nslab;
	struct dx_tx_slab_op slab[DX_TX_MAX_SLAB_OPS];
	struct dx_slabi *slab_new;	/* a slab this transaction made */
	unsigned ifree;		/* inodes it frees at once (inode.c) */
};

/* dx_tx_begin -- start a transaction on 'pool'; -1 with errno on failure. */
int dx_tx_begin(struct dx_tx *tx, struct daxfile_pool *pool);

/*
 * dx_tx_add -- snapshot 'len' bytes at 'ptr' before changing them.  Every
 * snapshot costs a drain, whatever its size: callers that change several
 * fields of one object snapshot the object (or the part of it their lock
 * covers) first, and the field-sized calls that follow find their range
 * taken already and return at once.  When libpmemobj cannot snapshot (its
 * undo log is out of room), the transaction fails and will abort; the
 * bytes are kept in DRAM and put back by the abort, so a caller that
 * changes them all the same leaves no trace.
 */
int dx_tx_add(struct dx_tx *tx, const void *ptr, size_t len);
#define DX_TX_ADD_FIELD(tx, obj, field) \
	dx_tx_add((tx), &(obj)->field, sizeof((obj)->field))

/*
 * dx_tx_obj -- open the libpmemobj transaction now, if it is not open yet
 * (before a libpmemobj call that needs one); 0, or -1 (the transaction
 * fails).
 */
int dx_tx_obj(struct dx_tx *tx);
/* dx_tx_alloc -- a new object of 'size' bytes; its offset, or 0 (ENOSPC). */
uint64_t dx_tx_alloc(struct dx_tx *tx, size_t size, unsigned type, bool zero);

/* dx_tx_free -- free the object at 'off' when the transaction commits. */
void dx_tx_free(struct dx_tx *tx, uint64_t off);

/* dx_tx_hold -- lock 'm' now (if not yet) and release it when the tx ends. */
void dx_tx_hold(struct dx_tx *tx, struct dx_mutex *m);
/* dx_tx_hold_ordered -- dx_tx_hold for an ordered class (AG by number). */
void dx_tx_hold_ordered(struct dx_tx *tx, struct dx_mutex *m, uint64_t key);
/* dx_tx_holds -- is 'm' held by this transaction? */
bool dx_tx_holds(const struct dx_tx *tx, const struct dx_mutex *m);

/*
 * dx_tx_on_precommit -- call fn(tx, arg) just before the commit (after
 * every other change), in stage order: the allocator applies its claims
 * and frees to the bitmaps there, taking the AG locks last, and the slabs
 * their maps after it.  One function per stage; registering it again is
 * harmless.
 */
void dx_tx_on_precommit(struct dx_tx *tx, enum dx_tx_stage stage,
	dx_tx_precommit_fn fn, void *arg);

/* dx_tx_precommit_arg -- the argument registered for 'stage', or NULL. */
static inline void *
dx_tx_precommit_arg(const struct dx_tx *tx, enum dx_tx_stage stage)
{
	return tx->pre[stage].arg;
}

/* dx_tx_on_end -- call fn(arg, committed) after the transaction ends. */
void dx_tx_on_end(struct dx_tx *tx, dx_tx_end_fn fn, void *arg);

/* dx_tx_fail -- record an error: the transaction will abort. */
void dx_tx_fail(struct dx_tx *tx, int err);

/* dx_tx_commit -- commit (or abort after an error); 0, or -1 with errno. */
int dx_tx_commit(struct dx_tx *tx);

/* dx_tx_abort -- abort with 'err'; always returns -1 with errno = err. */
int dx_tx_abort(struct dx_tx *tx, int err);

#endif /* DX_TX_H */
