/*
 * bias.h -- an exclusive lock biased to one thread.  Beside a rwlock, the
 * thread that keeps taking it exclusive alone (the writer of a file) is
 * granted a bias and from then on takes and releases the lock with plain
 * stores: no locked instruction, which on x86 would wait until the
 * previous call's non-temporal copy has reached memory and so put
 * everything between two copies on the critical path.  Any other thread
 * first takes the rwlock, then revokes the bias: it raises 'revoked',
 * makes every thread of the process execute a full barrier
 * (membarrier(2), MEMBARRIER_CMD_PRIVATE_EXPEDITED), and waits until the
 * owner is out.  That barrier is what the owner's fast path leaves out
 * (an asymmetric Dekker: the owner stores "inside" then loads 'revoked',
 * the revoker stores 'revoked' then loads "inside"; the barrier makes one
 * of them see the other's store).  The owner of a revoked bias takes the
 * rwlock like everyone else; a bias is granted again, under the rwlock
 * exclusive, at most DX_BIAS_GRANTS times per lock.
 *
 * "Inside" is a word of the owner's own (its thread's slot), never of the
 * lock: a thread that read itself as the owner just before a revocation
 * and a grant to another thread stores into its own slot, not over the
 * new owner's.  Slots outlive their threads (a new thread takes a free
 * one), so a revoker never reads freed memory.
 *
 * x86-64 only (the fast path leans on its store order); elsewhere, and in
 * builds for ThreadSanitizer, which does not model the barrier, no bias
 * is ever granted.  doc/locking.md ("The writer's bias") has the argument.
 */
#ifndef DX_BIAS_H
#define DX_BIAS_H 1

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#if defined(__x86_64__) && !defined(DX_TSAN)
#define DX_BIAS 1
#endif

/* Grants per lock: a lock two threads keep taking ends unbiased. */
#define DX_BIAS_GRANTS 16

struct dx_bias;

/* A thread's slot: the biased lock it is inside, written by it only. */
struct dx_bias_slot {
	struct dx_bias *inside;
	struct dx_bias_slot *next_free;
} __attribute__((aligned(64)));

struct dx_bias {
	struct dx_bias_slot *owner;	/* may take the lock by bias */
	int revoked;			/* the owner must take the rwlock */
	unsigned grants;		/* biases granted so far */
};

/* This thread's slot, from its first grant on. */
extern __thread struct dx_bias_slot *dx_bias_me DX_TLS_FAST;

/*
 * dx_bias_revoke_ -- dx_bias_revoke when 'o', another thread's slot, owns
 * the bias (the caller's one read of the owner: see dx_bias_revoke).
 */
bool dx_bias_revoke_(struct dx_bias *b, struct dx_bias_slot *o, bool wait);

#ifdef DX_BIAS
/*
 * dx_bias_enter -- take the lock by bias: true if this thread is the owner
 * and no revoker is at work (then it holds the lock exclusive), false if
 * the caller must take the rwlock.
 */
static inline bool
dx_bias_enter(struct dx_bias *b)
{
	struct dx_bias_slot *me = dx_bias_me;

	if (me == NULL || __atomic_load_n(&b->owner, __ATOMIC_RELAXED) != me ||
	    __atomic_load_n(&b->revoked, __ATOMIC_RELAXED))
		return false;
	__atomic_store_n(&me->inside, b, __ATOMIC_RELAXED);
	/* the revoker's membarrier() is this store's fence */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	/*
	 * Both again, in this order: a revoker may have come and gone since
	 * the first look, and a grant to another thread cleared 'revoked'
	 * again; the grant stores the owner first, so whoever sees the
	 * cleared flag sees the new owner.
	 */
	if (!__atomic_load_n(&b->revoked, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&b->owner, __ATOMIC_ACQUIRE) == me)
		return true;
	__atomic_store_n(&me->inside, NULL, __ATOMIC_RELEASE);
	return false;
}

/*
 * dx_bias_exit -- release a lock taken by dx_bias_enter: one store, which
 * a revoker polls for (a load after it, to know whether to wake one, would
 * wait on the copy's stores before it).
 */
static inline void
dx_bias_exit(struct dx_bias *b)
{
	(void)b;
	__atomic_store_n(&dx_bias_me->inside, NULL, __ATOMIC_RELEASE);
}
#else
static inline bool
dx_bias_enter(struct dx_bias *b)
{
	return (void)b, false;
}

static inline void
dx_bias_exit(struct dx_bias *b)
{
	(void)b;
}
#endif

/*
 * dx_bias_grant -- the caller, holding the rwlock exclusive, becomes the
 * owner if nobody is and the lock has grants left (and the process can
 * use membarrier).
 */
void dx_bias_grant(struct dx_bias *b);

/*
 * dx_bias_revoke -- the caller holds the rwlock (either mode): take the
 * bias from its owner, if another thread, waiting until the owner is out
 * if 'wait'.  False when !wait and the owner is in (the owner takes the
 * rwlock from its next call on; the caller must release the rwlock).
 *
 * Holders of the rwlock shared revoke at the same time, and the first to
 * finish clears the owner: the owner is read once, here, and that slot is
 * the one waited for (slots are never freed, and no grant can come while
 * the caller holds the rwlock, so the owner only goes from it to NULL).
 */
static inline bool
dx_bias_revoke(struct dx_bias *b, bool wait)
{
	struct dx_bias_slot *o = __atomic_load_n(&b->owner, __ATOMIC_RELAXED);

	if (o == NULL)
		return true;
	if (o == dx_bias_me) {
		/* the owner holds it by bias: taking it again cannot end */
		VERIFY(o->inside != b);
		return true;
	}
	return dx_bias_revoke_(b, o, wait);
}

#endif /* DX_BIAS_H */
