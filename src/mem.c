/*
 * mem.c -- private jemalloc arenas for the library's DRAM structures.
 *
 * jemalloc is reached only through its non-standard entry points (mallocx,
 * dallocx, mallctl): linked into a shared library its malloc() does not
 * replace libc's in the application.  Every call bypasses the thread cache
 * (MALLOCX_TCACHE_NONE), so memory is never freed through a cache that
 * belongs to another arena.
 */
#include "config.h"

/*
 * DX_DLOPENED: the build of the library that libdaxfile-preload.so loads
 * with dlopen when a program first uses a pool (preload/lib.h) takes its
 * DRAM from libc: jemalloc's thread-local storage is of the initial-exec
 * kind, which a library loaded with dlopen cannot get.
 */
#ifdef DX_DLOPENED
#undef HAVE_JEMALLOC
#endif

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include "mem.h"
#include "util.h"

#ifdef HAVE_JEMALLOC

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static unsigned global_arena;
static int global_arena_ok;

static int
arena_new(unsigned *idx)
{
	size_t sz = sizeof(*idx);
	int ret = mallctl("arenas.create", idx, &sz, NULL, 0);

	if (ret != 0) {
		errno = ret;
		return -1;
	}
	return 0;
}

static void
global_arena_init(void)
{
	global_arena_ok = arena_new(&global_arena) == 0;
}

static unsigned
arena_index(dx_arena arena)
{
	if (arena != DX_ARENA_GLOBAL)
		return arena - 1;
	pthread_once(&global_once, global_arena_init);
	VERIFY(global_arena_ok);
	return global_arena;
}

static int
arena_flags(dx_arena arena)
{
	return MALLOCX_ARENA(arena_index(arena)) | MALLOCX_TCACHE_NONE;
}

int
dx_arena_create(dx_arena *arena)
{
	unsigned idx;

	if (arena_new(&idx) != 0)
		return -1;
	*arena = idx + 1;
	return 0;
}

void
dx_arena_destroy(dx_arena arena)
{
	char name[64];

	if (arena == DX_ARENA_GLOBAL)
		return;
	snprintf(name, sizeof(name), "arena.%u.destroy", arena - 1);
	mallctl(name, NULL, NULL, NULL, 0);
}

void *
dx_malloc(dx_arena arena, size_t size)
{
	void *p = mallocx(size ? size : 1, arena_flags(arena));

	if (p == NULL)
		errno = ENOMEM;
	return p;
}

void *
dx_zalloc(dx_arena arena, size_t size)
{
	void *p = mallocx(size ? size : 1, arena_flags(arena) | MALLOCX_ZERO);

	if (p == NULL)
		errno = ENOMEM;
	return p;
}

void *
dx_realloc(dx_arena arena, void *ptr, size_t size)
{
	void *p;

	if (ptr == NULL)
		return dx_malloc(arena, size);
	p = rallocx(ptr, size ? size : 1, arena_flags(arena));
	if (p == NULL)
		errno = ENOMEM;
	return p;
}

void
dx_free(dx_arena arena, void *ptr)
{
	(void)arena;
	if (ptr != NULL)
		dallocx(ptr, MALLOCX_TCACHE_NONE);
}

#else /* !HAVE_JEMALLOC */

int
dx_arena_create(dx_arena *arena)
{
	*arena = 1;
	return 0;
}

void
dx_arena_destroy(dx_arena arena)
{
	(void)arena;
}

void *
dx_malloc(dx_arena arena, size_t size)
{
	(void)arena;
	return malloc(size ? size : 1);
}

void *
dx_zalloc(dx_arena arena, size_t size)
{
	(void)arena;
	return calloc(1, size ? size : 1);
}

void *
dx_realloc(dx_arena arena, void *ptr, size_t size)
{
	(void)arena;
	return realloc(ptr, size ? size : 1);
}

void
dx_free(dx_arena arena, void *ptr)
{
	(void)arena;
	free(ptr);
}

#endif /* HAVE_JEMALLOC */

char *
dx_strdup(dx_arena arena, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = dx_malloc(arena, n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}
