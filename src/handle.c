/*
 * handle.c -- recycling of pool, file and directory-stream handles.
 */
#include "config.h"

#include <string.h>

#include "handle.h"
#include "mem.h"

void *
dx_handle_get(struct dx_handle_cache *c)
{
	struct dx_handle *h;

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
	__atomic_store_n(&((struct dx_handle *)h)->magic, magic,
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
