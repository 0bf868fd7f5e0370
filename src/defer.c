/*
 * defer.c -- the per-call context and its deferred work (defer.h).
 *
 * The context is the calling thread's own: a depth (library calls do not
 * nest, but a call may run inside another, or a job's work inside a
 * fault), the kinds of work due, and the items due.  Only the outermost
 * call runs the work, after the call's own result is settled, so errno and
 * the error message of the call are kept.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>

#include "defer.h"
#include "lock.h"
#include "out.h"
#include "util.h"

static void (*defer_fn[DX_DEFER_NKINDS])(void);

struct defer_ctx {
	unsigned depth;
	bool worker;		/* the outermost call is a library thread's job */
	bool running;		/* dx_defer_run is at work: no recursion */
	unsigned due;		/* kinds due, 1 << kind */
	struct dx_deferred *items, **tail;
};

static __thread struct defer_ctx ctx DX_TLS_FAST;

unsigned dx_fork_gen;

void
dx_defer_register(enum dx_defer_kind kind, void (*fn)(void))
{
	defer_fn[kind] = fn;
}

void
dx_defer(enum dx_defer_kind kind)
{
	ctx.due |= 1u << kind;
}

void
dx_defer_item(struct dx_deferred *d)
{
	d->next = NULL;
	if (ctx.items == NULL)
		ctx.tail = &ctx.items;
	*ctx.tail = d;
	ctx.tail = &d->next;
}

/* defer_pending -- anything due? */
static inline bool
defer_pending(void)
{
	return ctx.due != 0 || ctx.items != NULL;
}

void
dx_defer_run(void)
{
	if (ctx.running)
		return;
	dx_assert_lockless();
	ctx.running = true;
	while (defer_pending()) {
		struct dx_deferred *d = ctx.items;

		if (d != NULL) {
			/* items first: an inode reclaim frees blocks */
			ctx.items = d->next;
			d->fn(d);
			continue;
		}
		for (unsigned k = 0; k < DX_DEFER_NKINDS; k++) {
			if (!(ctx.due & (1u << k)))
				continue;
			ctx.due &= ~(1u << k);
			if (defer_fn[k] != NULL)
				defer_fn[k]();
		}
	}
	ctx.running = false;
	dx_assert_lockless();
}

struct dx_call
dx_call_begin(bool worker)
{
	struct dx_call c = {ctx.depth == 0};

	if (c.outermost) {
		dx_assert_lockless();
		ctx.worker = worker;
	}
	ctx.depth++;
	return c;
}

void
dx_call_end(struct dx_call *c)
{
	int err;
	struct dx_errsave save;

	ctx.depth--;
	if (!c->outermost)
		return;
	if (!defer_pending()) {
		dx_assert_lockless();
		return;
	}
	/* the work must not change what the call reports */
	err = errno;
	dx_err_save(&save);
	ctx.depth++;
	dx_defer_run();
	ctx.depth--;
	dx_err_restore(&save);
	errno = err;
}

bool
dx_call_worker(void)
{
	return ctx.depth > 0 && ctx.worker;
}

bool
dx_call_app(void)
{
	return ctx.depth > 0 && !ctx.worker;
}

/*
 * defer_fork_child -- a new generation: handles of the parent no longer
 * match (handle.h), and the work due belongs to the parent's pools.
 */
static void
defer_fork_child(void)
{
	__atomic_add_fetch(&dx_fork_gen, 1, __ATOMIC_RELAXED);
	ctx.due = 0;
	ctx.items = NULL;
}

__attribute__((constructor)) static void
defer_load(void)
{
	pthread_atfork(NULL, NULL, defer_fork_child);
}
