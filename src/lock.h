/*
 * lock.h -- the library's locks, their classes and ranks, and the hooks of
 * the lock-order validator (configure --enable-lockdep).
 *
 * The hierarchy, outermost first (doc/locking.md gives the reason for each
 * edge; the same text stands above the rank table in lock.c):
 *
 *   FPOS -> RENAME -> DIR -> IOLOCK -> MMAPLOCK -> MAPLIST -> ILOCK
 *        -> ORPHAN -> SLABLIST -> AG -> SLAB -> ICACHE -> MAPTABLE
 *        -> (leaves)
 *
 * A lock may be taken only while every lock the thread holds has a lower
 * rank.  Two locks of one class are taken together only with different
 * subclasses, in the order the subclass numbers give (ancestor directory
 * before descendant, lower inode number before higher), or, for ordered
 * classes (AG, SLAB), with increasing order keys (AG and slab numbers).
 */
#ifndef DX_LOCK_H
#define DX_LOCK_H 1

#include <pthread.h>
#include <stdbool.h>

#include <stdint.h>

#include "util.h"

enum dx_lock_class {
	DX_LC_FPOS,	/* file description: the file offset */
	DX_LC_RENAME,	/* pool: serializes cross-directory renames */
	DX_LC_DIR,	/* directory: its entries and attributes */
	DX_LC_IOLOCK,	/* file: read/write/truncate serialization */
	DX_LC_MMAPLOCK,	/* file: faults (shared) vs invalidation (excl) */
	DX_LC_MAPLIST,	/* file: its list of live mappings */
	DX_LC_ILOCK,	/* file: extent map, size, attributes */
	DX_LC_ORPHAN,	/* pool: the persistent orphan list */
	DX_LC_SLABLIST,	/* pool: the persistent list of slabs */
	DX_LC_AG,	/* allocation group: free-space index and bitmap */
	DX_LC_SLAB,	/* slab: its free units and its map */
	DX_LC_ICACHE,	/* pool: in-core inode table, current directory */
	DX_LC_MAPTABLE,	/* process: address -> mapping table */
	DX_LC_WINDOW,	/* mapping: its installed windows */
	DX_LC_LEAF,	/* any lock that never nests another */
	DX_LC_NCLASSES
};

#define DX_LOCK_SUBCLASSES 4

/* Subclasses for nesting two locks of one class. */
enum dx_lock_subclass {
	DX_LSC_0 = 0,	/* the first (ancestor, or lower inode number) */
	DX_LSC_1 = 1,	/* the second */
	DX_LSC_2 = 2,
	DX_LSC_3 = 3,
};

struct dx_mutex {
	pthread_mutex_t m;
	unsigned short cls;
};

struct dx_rwlock {
	pthread_rwlock_t rw;
	unsigned short cls;
};

void dx_mutex_init(struct dx_mutex *m, enum dx_lock_class cls);
void dx_mutex_destroy(struct dx_mutex *m);
void dx_rwlock_init(struct dx_rwlock *l, enum dx_lock_class cls);
void dx_rwlock_destroy(struct dx_rwlock *l);

#ifdef DX_LOCKDEP
#define DX_LOCK_SITE , __FILE__, __LINE__
#define DX_LOCK_SITE_ARGS , const char *file, int line
#else
#define DX_LOCK_SITE
#define DX_LOCK_SITE_ARGS
#endif

void dx_mutex_lock_(struct dx_mutex *m, unsigned sub DX_LOCK_SITE_ARGS);
void dx_mutex_lock_ordered_(struct dx_mutex *m, uint64_t key DX_LOCK_SITE_ARGS);
bool dx_mutex_trylock_(struct dx_mutex *m, unsigned sub DX_LOCK_SITE_ARGS);
void dx_mutex_unlock(struct dx_mutex *m);
void dx_rwlock_rdlock_(struct dx_rwlock *l, unsigned sub DX_LOCK_SITE_ARGS);
void dx_rwlock_wrlock_(struct dx_rwlock *l, unsigned sub DX_LOCK_SITE_ARGS);
bool dx_rwlock_tryrdlock_(struct dx_rwlock *l DX_LOCK_SITE_ARGS);
bool dx_rwlock_trywrlock_(struct dx_rwlock *l DX_LOCK_SITE_ARGS);
void dx_rwlock_unlock(struct dx_rwlock *l);

/*
 * dx_rwlock_forked -- in a child of fork(), release a lock the fork's
 * prepare handler took for writing (raw, outside the validator): glibc's
 * unlock would not recognize the writer (its thread id changed), so the
 * lock is made anew.
 */
void dx_rwlock_forked(struct dx_rwlock *l);

#define dx_mutex_lock(m) dx_mutex_lock_((m), 0 DX_LOCK_SITE)
#define dx_mutex_lock_nested(m, s) dx_mutex_lock_((m), (s) DX_LOCK_SITE)
/* several locks of one ordered class: strictly increasing keys */
#define dx_mutex_lock_ordered(m, k) dx_mutex_lock_ordered_((m), (k) DX_LOCK_SITE)
#define dx_mutex_trylock(m) dx_mutex_trylock_((m), 0 DX_LOCK_SITE)
#define dx_rwlock_rdlock(l) dx_rwlock_rdlock_((l), 0 DX_LOCK_SITE)
#define dx_rwlock_wrlock(l) dx_rwlock_wrlock_((l), 0 DX_LOCK_SITE)
#define dx_rwlock_tryrdlock(l) dx_rwlock_tryrdlock_((l) DX_LOCK_SITE)
#define dx_rwlock_trywrlock(l) dx_rwlock_trywrlock_((l) DX_LOCK_SITE)
#define dx_rwlock_rdlock_nested(l, s) dx_rwlock_rdlock_((l), (s) DX_LOCK_SITE)
#define dx_rwlock_wrlock_nested(l, s) dx_rwlock_wrlock_((l), (s) DX_LOCK_SITE)

/*
 * Ownership assertions (debug and lockdep builds; no-ops otherwise):
 * "caller holds this lock", "caller holds it exclusively", "caller holds
 * no lock".  Both builds keep each thread's held locks for them.
 */
#if defined(DX_LOCKDEP) || defined(DX_DEBUG)
#define DX_LOCK_TRACK 1
void dx_lockdep_assert_held(const void *lock);
void dx_lockdep_assert_held_excl(const void *lock);
void dx_lockdep_assert_lockless(void);
#define dx_assert_held(l) dx_lockdep_assert_held(l)
#define dx_assert_held_excl(l) dx_lockdep_assert_held_excl(l)
#define dx_assert_lockless() dx_lockdep_assert_lockless()
#else
#define dx_assert_held(l) ((void)(l))
#define dx_assert_held_excl(l) ((void)(l))
#define dx_assert_lockless() ((void)0)
#endif

/*
 * dx_rwlock_owned / dx_rwlock_disowned -- the caller holds 'l' exclusive
 * without having locked it (the owner of a bias, bias.h), or no longer:
 * the validator and the ownership assertions see it as taken.
 */
#ifdef DX_LOCK_TRACK
void dx_rwlock_owned_(struct dx_rwlock *l, unsigned sub DX_LOCK_SITE_ARGS);
void dx_rwlock_disowned(struct dx_rwlock *l);
#define dx_rwlock_owned(l, s) dx_rwlock_owned_((l), (s) DX_LOCK_SITE)
#else
#define dx_rwlock_owned(l, s) ((void)(l), (void)(s))
#define dx_rwlock_disowned(l) ((void)(l))
#endif

/*
 * dx_might_fault -- annotate a copy to or from a user buffer: the buffer may
 * be a mapping whose fault takes a MMAPLOCK, so no lock of that rank or
 * above may be held here.
 */
#ifdef DX_LOCKDEP
void dx_might_fault_(const char *file, int line);
#define dx_might_fault() dx_might_fault_(__FILE__, __LINE__)
#else
#define dx_might_fault() ((void)0)
#endif

/* dx_lock_class_name -- "ILOCK" etc., for messages and tracing. */
const char *dx_lock_class_name(unsigned cls);

#endif /* DX_LOCK_H */
