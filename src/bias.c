/*
 * bias.c -- granting and revoking the bias of an exclusive lock (bias.h):
 * the process's membarrier registration, the threads' slots, the
 * revoker's barrier and wait.
 */
#include "config.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bias.h"
#include "mem.h"

__thread struct dx_bias_slot *dx_bias_me DX_TLS_FAST;

#ifdef DX_BIAS
/* How a revoker waits for the owner to leave: yields, then short sleeps. */
#define BIAS_YIELDS 100
#define BIAS_SLEEP_NS 50000

static bool bias_usable;
static pthread_key_t bias_key;	/* gives a slot back when its thread ends */
static pthread_mutex_t bias_slots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dx_bias_slot *bias_free_slots;

/* slot_put -- the thread ended: its slot goes to the next thread. */
static void
slot_put(void *p)
{
	struct dx_bias_slot *s = p;

	pthread_mutex_lock(&bias_slots_lock);
	s->next_free = bias_free_slots;
	bias_free_slots = s;
	pthread_mutex_unlock(&bias_slots_lock);
}

/*
 * bias_init -- register for the expedited private membarrier at load:
 * while the process has one thread that costs microseconds, once it has
 * more an RCU grace period (15 to 20 ms measured), which the first write
 * of a program would otherwise wait.  A process whose kernel (or seccomp
 * policy) refuses it never grants a bias.  The registration belongs to
 * the address space: fork children keep it, exec drops it along with
 * this library's state.
 */
__attribute__((constructor)) static void
bias_init(void)
{
	bias_usable = pthread_key_create(&bias_key, slot_put) == 0 &&
		syscall(SYS_membarrier,
			MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

/*
 * slot_get -- this thread's slot, taken at its first grant.  Slots are
 * never freed: a revoker may read one after its thread ended (it then
 * reads NULL, or the next thread's word, which owns the bias in turn).
 */
static struct dx_bias_slot *
slot_get(void)
{
	struct dx_bias_slot *s = dx_bias_me;

	if (s != NULL)
		return s;
	pthread_mutex_lock(&bias_slots_lock);
	s = bias_free_slots;
	if (s != NULL)
		bias_free_slots = s->next_free;
	pthread_mutex_unlock(&bias_slots_lock);
	if (s == NULL)
		s = dx_zalloc(DX_ARENA_GLOBAL, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->next_free = NULL;
	if (pthread_setspecific(bias_key, s) != 0) {
		slot_put(s);
		return NULL;
	}
	dx_bias_me = s;
	return s;
}

void
dx_bias_grant(struct dx_bias *b)
{
	struct dx_bias_slot *o = b->owner, *me;

	if ((o != NULL && o != dx_bias_me) || b->grants >= DX_BIAS_GRANTS)
		return;
	if (o != NULL && !b->revoked)
		return;
	if (!bias_usable || (me = slot_get()) == NULL)
		return;
	b->grants++;
	__atomic_store_n(&b->owner, me, __ATOMIC_RELAXED);
	/* after the owner: a thread that reads 'revoked' clear and then an
	   owner, reads this one (x86 keeps stores in order) */
	__atomic_store_n(&b->revoked, 0, __ATOMIC_RELEASE);
}

bool
dx_bias_revoke_(struct dx_bias *b, struct dx_bias_slot *o, bool wait)
{
	__atomic_store_n(&b->revoked, 1, __ATOMIC_SEQ_CST);
	/* every thread of the process runs a full barrier: from here on the
	   owner sees 'revoked', or its store into its slot is visible */
	VERIFY(syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0,
		0) == 0);
	/* the owner is inside one call at most: yield to it, then sleep */
	for (unsigned n = 0;
	     __atomic_load_n(&o->inside, __ATOMIC_ACQUIRE) == b; n++) {
		if (!wait)
			return false;
		if (n < BIAS_YIELDS)
			sched_yield();
		else
			nanosleep(&(struct timespec){0, BIAS_SLEEP_NS}, NULL);
	}
	__atomic_store_n(&b->owner, NULL, __ATOMIC_RELAXED);
	return true;
}
#else
void
dx_bias_grant(struct dx_bias *b)
{
	(void)b;
}

bool
dx_bias_revoke_(struct dx_bias *b, struct dx_bias_slot *o, bool wait)
{
	(void)b, (void)o, (void)wait;
	return true;
}
#endif
