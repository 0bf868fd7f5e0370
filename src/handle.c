/*
 * handle.c -- recycling of pool, file and directory-stream handles.
 */
#include "config.h"

#include <string.h>

#include "handle.h"
#include "mem.h"

/* The caches in use, whose locks fork takes (one per handle type). */
#define HANDLE_CACHES 8
static struct {
	pthread_mutex_t lock;
	struct dx_handle_cache *c[HANDLE_CACHES];
	unsigned n;
} caches = {PTHREAD_MUTEX_INITIALIZER, {NULL}, 0};

/* the caches' locks are leaves, never nested but here: taken raw */
static void
caches_prepare(void)
{
	pthread_mutex_lock(&caches.lock);
	for (unsigned i = 0; i < caches.n; i++)
		pthread_mutex_lock(&caches.c[i]->lock.m);
}

static void
caches_release(void)
{
	for (unsigned i = caches.n; i-- > 0;)
		pthread_mutex_unlock(&caches.c[i]->lock.m);
	pthread_mutex_unlock(&caches.lock);
}

__attribute__((constructor)) static void
caches_load(void)
{
	pthread_atfork(caches_prepare, caches_release, caches_release);
}

/* cache_known -- count the cache among those fork locks. */
static void
cache_known(struct dx_handle_cache *c)
{
	if (__atomic_load_n(&c->known, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&caches.lock);
	if (!c->known && caches.n < HANDLE_CACHES) {
		caches.c[caches.n++] = c;
		__atomic_store_n(&c->known, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&caches.lock);
}

void *
dx_handle_get(struct dx_handle_cache *c)
{
	struct dx_handle *h;

	cache_known(c);
	dx_mutex_lock(&c->lock);
	h = c->free;
	if (h != NULL)
		c->free = h->free_next;
	dx_mutex_unlock(&c->lock);
	if (h == NULL)
		return dx_zalloc(DX_ARENA_GLOBAL, c->size);
	/* keep the dead magic visible to racing callers while clearing */
	memset((char *)h + sizeof(h->magic), 0, c->size - sizeof(h->magic));
	return h;
}

void
dx_handle_live(void *h, uint64_t magic)
{
	__atomic_store_n(&((struct dx_handle *)h)->magic,
		magic ^ __atomic_load_n(&dx_fork_gen, __ATOMIC_RELAXED),
		__ATOMIC_RELEASE);
}

void
dx_handle_put(struct dx_handle_cache *c, void *hp)
{
	struct dx_handle *h = hp;

	__atomic_store_n(&h->magic, DX_HANDLE_DEAD, __ATOMIC_RELEASE);
	dx_mutex_lock(&c->lock);
	h->free_next = c->free;
	c->free = h;
	dx_mutex_unlock(&c->lock);
}
