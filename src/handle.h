/*
 * handle.h -- recycled handles for pools, files and directory streams.
 *
 * A handle's memory is never returned to the allocator: a closed handle
 * keeps a dead magic until a later open reuses it, so a call on a closed
 * handle fails with EBADF (or EINVAL for pools) instead of touching freed
 * memory.  As with file descriptors, a reused handle names the newer object.
 *
 * A live magic is the handle type's magic mixed with the process's fork
 * generation (defer.h): in a child of fork() every handle of the parent
 * reads as closed, since the parent's pools, files and streams cannot be
 * shared with it (libdaxfile(3), fork).
 */
#ifndef DX_HANDLE_H
#define DX_HANDLE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "defer.h"
#include "lock.h"

#define DX_HANDLE_DEAD 0xdeaddeaddeaddeadULL

/* The first member of every handle. */
struct dx_handle {
	uint64_t magic;
	struct dx_handle *free_next;
};

struct dx_handle_cache {
	struct dx_mutex lock;
	struct dx_handle *free;
	size_t size;		/* bytes of the handle structure */
	bool known;		/* its lock is taken around fork */
};

#define DX_HANDLE_CACHE_INIT(type) \
	{{PTHREAD_MUTEX_INITIALIZER, DX_LC_LEAF}, NULL, sizeof(type), false}

/* dx_handle_get -- a zeroed handle (magic not yet live); NULL on ENOMEM. */
void *dx_handle_get(struct dx_handle_cache *c);
/* dx_handle_live -- publish the handle with its magic. */
void dx_handle_live(void *h, uint64_t magic);
/* dx_handle_put -- mark dead and keep for reuse. */
void dx_handle_put(struct dx_handle_cache *c, void *h);
/* dx_handle_is -- is 'h' a live handle with 'magic'? (NULL: no) */
static inline bool
dx_handle_is(const void *hp, uint64_t magic)
{
	const struct dx_handle *h = hp;

	return h != NULL && __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) ==
		(magic ^ __atomic_load_n(&dx_fork_gen, __ATOMIC_RELAXED));
}

/*
 * dx_handle_inherited -- is 'h' a live handle with 'magic' of this process
 * or of one it descends from by fork()?  (A dead or foreign magic mixes
 * to far more than any fork count.)
 */
static inline bool
dx_handle_inherited(const void *hp, uint64_t magic)
{
	const struct dx_handle *h = hp;

	return h != NULL && (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) ^
		magic) <= __atomic_load_n(&dx_fork_gen, __ATOMIC_RELAXED);
}

#endif /* DX_HANDLE_H */
