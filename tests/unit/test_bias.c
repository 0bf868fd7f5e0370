/*
 * test_bias.c -- the writer's bias of an exclusive lock (src/bias.h): the
 * revokers wait until the owner is out, and several revokers at once (the
 * holders of an iolock shared, as two readers of one file) neither miss
 * the owner nor fault on an owner another revoker has just cleared.
 */
#include <criterion/criterion.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bias.h"

#ifdef DX_BIAS

#define REVOKERS 3
#define ROUNDS 50000

struct race {
	struct dx_bias bias;
	unsigned round;		/* the owner opens a round: all start */
	unsigned done;		/* revokers through with the round */
	int owner_out;		/* the owner has left the lock this round */
	unsigned hold;		/* this round, the owner is inside */
	unsigned long early;	/* revokers back while the owner was inside */
	unsigned long cleared;	/* rounds that ended with no owner */
};

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

/* spin -- a delay of about n loop turns, the start jitter of a revoker. */
static void
spin(uint64_t n)
{
	for (volatile uint64_t i = 0; i < n; i++)
		;
}

static void *
revoker(void *arg)
{
	struct race *r = arg;
	uintptr_t id = (uintptr_t)pthread_self();

	for (unsigned k = 1; k <= ROUNDS; k++) {
		while (__atomic_load_n(&r->round, __ATOMIC_ACQUIRE) != k)
			sched_yield();
		/* a spread over the first revoker's membarrier and wait */
		spin(mix64(k * 31 + id) % 4096);
		dx_bias_revoke(&r->bias, true);
		if (__atomic_load_n(&r->hold, __ATOMIC_RELAXED) == k &&
		    !__atomic_load_n(&r->owner_out, __ATOMIC_ACQUIRE))
			__atomic_add_fetch(&r->early, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&r->done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

Test(bias, concurrent_revokers_wait_for_the_owner_and_never_fault)
{
	static struct race r;
	pthread_t th[REVOKERS];
	long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
		/* a kernel or seccomp policy without it: no bias, ever */
		dx_bias_grant(&r.bias);
		cr_assert_null(r.bias.owner, "a bias granted without membarrier");
		return;
	}
	for (unsigned i = 0; i < REVOKERS; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, revoker, &r), 0);
	for (unsigned k = 1; k <= ROUNDS; k++) {
		bool inside = false;

		/* the grant: as under the rwlock exclusive, with grants left */
		r.bias.grants = 0;
		dx_bias_grant(&r.bias);
		cr_assert_not_null(r.bias.owner, "round %u: no bias granted", k);
		r.owner_out = 0;
		if (k % 2 == 0) {
			inside = dx_bias_enter(&r.bias);
			cr_assert(inside, "round %u: the owner could not enter", k);
			__atomic_store_n(&r.hold, k, __ATOMIC_RELAXED);
		}
		__atomic_store_n(&r.round, k, __ATOMIC_RELEASE);
		if (inside) {
			spin(mix64(k) % 8192);
			__atomic_store_n(&r.owner_out, 1, __ATOMIC_RELEASE);
			dx_bias_exit(&r.bias);
		}
		while (__atomic_load_n(&r.done, __ATOMIC_ACQUIRE) != k * REVOKERS)
			sched_yield();
		if (r.bias.owner == NULL && r.bias.revoked)
			r.cleared++;
	}
	for (unsigned i = 0; i < REVOKERS; i++)
		pthread_join(th[i], NULL);
	cr_expect_eq(r.early, 0, "%lu revokers came back while the owner was "
		"inside", r.early);
	cr_expect_eq(r.cleared, ROUNDS, "%lu of %u rounds ended with the bias "
		"taken back", r.cleared, ROUNDS);
}

#else

/* builds without the bias (bias.h): nobody is ever granted one */
Test(bias, no_bias_is_granted_where_the_build_has_none)
{
	static struct dx_bias b;

	dx_bias_grant(&b);
	cr_assert_null(b.owner);
	cr_assert(!dx_bias_enter(&b));
	cr_assert(dx_bias_revoke(&b, false));
}

#endif
