/*
 * lock.c -- lock wrappers and the lock-order validator.
 *
 * The lock hierarchy, outermost first.  A thread may take a lock only while
 * every lock it holds is of a lower rank (class, then subclass).  Each edge:
 *
 *   FPOS -> DIR: getdents64 holds a directory handle's offset across the
 *     listing (its stream too), as the kernel's f_pos_lock before the
 *     inode lock; no namespace call takes an offset.
 *   RENAME -> DIR: cross-directory renames are serialized before either
 *     parent is locked, so the ancestor relation between the two parents
 *     cannot change while rename decides in which order to lock them.
 *   DIR -> DIR (subclasses): ancestor before descendant; unrelated
 *     directories (the two parents of a rename, two children) in inode
 *     number order.  rmdir takes parent then child.
 *   DIR -> ILOCK: a namespace change (unlink, link, rename) updates the
 *     child's link count and ctime while its directory entry is pinned by
 *     the parent.
 *   FPOS -> IOLOCK: read/write hold the file offset across the whole call
 *     (POSIX atomicity of the offset update), as the kernel's f_pos_lock.
 *     (FPOS is first in the order: a regular file's offset is never taken
 *     with a DIR or RENAME lock held, a directory's offset before its DIR.)
 *   IOLOCK -> IOLOCK (subclasses): copy_file_range locks its source and
 *     destination in inode number order, as lock_two_nondirectories.
 *   IOLOCK -> MMAPLOCK: truncate, punch, zero, collapse and insert take
 *     the iolock (no read/write runs) and then the mmaplock (no fault
 *     runs) before touching blocks.  Faults take the mmaplock alone: a
 *     fault never waits on the iolock, because read/write copy user
 *     buffers, which may be mappings, while they hold it.
 *   MMAPLOCK -> MAPLIST: invalidation walks the file's mappings while no
 *     fault can install a window.
 *   MAPLIST -> ILOCK: the extent map is read after the windows to replace
 *     are known; faults resolve blocks under ILOCK after they hold the
 *     mmaplock, so ILOCK never waits on a mapping operation.  Blocks for
 *     a range (iomap.c: placement, linking, unwritten conversion with its
 *     zeroing) are handed out under ILOCK, before any data is copied.
 *   ILOCK -> ORPHAN: unlink, last close and the link that names an
 *     O_TMPFILE file change the orphan list in the transaction that
 *     changes the inode.
 *   ORPHAN -> SLABLIST: a transaction that claims an inode or an entry
 *     and finds no slab with room makes one, and holds the slab list
 *     until it commits; an unlink or a last close may be that transaction.
 *   ILOCK -> AG, ORPHAN -> AG, SLABLIST -> AG: blocks are allocated and
 *     freed inside the transaction that changes the extent map; the AG lock
 *     is held until that transaction commits (a crash or abort rolls the
 *     bitmap back).
 *   AG -> SLAB: at commit the block bitmaps are changed first, then the
 *     slab maps, each class in its own number order; both held to the end.
 *   SLAB -> ICACHE -> MAPTABLE -> WINDOW -> LEAF: short leaf locks, never
 *     held while a lock above them is taken; LEAF -> LEAF once, with
 *     subclass 1: starting the fault service starts its first workers
 *     under the queue lock.
 *
 * No lock is held when a public call or a fault job starts or ends
 * (defer.h): work that may wait for other files' locks runs there.  Fork
 * handlers take the process-wide locks raw, outside the validator.
 *
 * The mmaplock is never held while copying to or from a user buffer (it
 * may be a mapping whose fault takes the mmaplock); dx_might_fault() checks
 * that no lock of rank MMAPLOCK or above is held at such a copy.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lock.h"

static const char *const lock_class_names[DX_LC_NCLASSES] = {
	[DX_LC_RENAME] = "RENAME",
	[DX_LC_DIR] = "DIR",
	[DX_LC_FPOS] = "FPOS",
	[DX_LC_IOLOCK] = "IOLOCK",
	[DX_LC_MMAPLOCK] = "MMAPLOCK",
	[DX_LC_MAPLIST] = "MAPLIST",
	[DX_LC_ILOCK] = "ILOCK",
	[DX_LC_ORPHAN] = "ORPHAN",
	[DX_LC_SLABLIST] = "SLABLIST",
	[DX_LC_AG] = "AG",
	[DX_LC_SLAB] = "SLAB",
	[DX_LC_ICACHE] = "ICACHE",
	[DX_LC_MAPTABLE] = "MAPTABLE",
	[DX_LC_WINDOW] = "WINDOW",
	[DX_LC_LEAF] = "LEAF",
};

const char *
dx_lock_class_name(unsigned cls)
{
	return cls < DX_LC_NCLASSES ? lock_class_names[cls] : "?";
}

#ifdef DX_LOCK_TRACK

#define LD_NODES (DX_LC_NCLASSES * DX_LOCK_SUBCLASSES)
_Static_assert(LD_NODES <= 64, "the order graph keeps a node set in 64 bits");
#define LD_MAX_HELD 64

struct ld_held {
	const void *lock;
	unsigned node;
	uint64_t key;		/* ordered classes: key + 1; else 0 */
	bool excl;
	const char *file;
	int line;
};

struct ld_edge_site {
	const char *file;
	int line;
};

static __thread struct ld_held ld_stack[LD_MAX_HELD];
static __thread unsigned ld_depth;

#ifdef DX_LOCKDEP
/* The order graph: direct edges, their first sites, and reachability. */
static pthread_mutex_t ld_graph_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t ld_edges[LD_NODES];
static uint64_t ld_reach[LD_NODES];
static struct ld_edge_site ld_edge_site[LD_NODES][LD_NODES];

/* a fork copies the graph: never while another thread changes it */
static void
ld_fork_prepare(void)
{
	pthread_mutex_lock(&ld_graph_lock);
}

static void
ld_fork_release(void)
{
	pthread_mutex_unlock(&ld_graph_lock);
}

__attribute__((constructor)) static void
ld_load(void)
{
	pthread_atfork(ld_fork_prepare, ld_fork_release, ld_fork_release);
}
#endif /* DX_LOCKDEP */

static void
ld_node_name(unsigned node, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%u", dx_lock_class_name(node / DX_LOCK_SUBCLASSES),
		node % DX_LOCK_SUBCLASSES);
}

static void
ld_dump_held(void)
{
	char name[32];

	fprintf(stderr, "libdaxfile lockdep: locks held by this thread:\n");
	for (unsigned i = 0; i < ld_depth; i++) {
		ld_node_name(ld_stack[i].node, name, sizeof(name));
		fprintf(stderr, "  #%u %s (%s) %p acquired at %s:%d\n", i, name,
			ld_stack[i].excl ? "excl" : "shared", ld_stack[i].lock,
			ld_stack[i].file, ld_stack[i].line);
	}
}

#ifdef DX_LOCKDEP
static void __attribute__((noreturn))
ld_violation(const char *what, const struct ld_held *held, unsigned node,
	const char *file, int line)
{
	char a[32], b[32];

	ld_node_name(held->node, a, sizeof(a));
	ld_node_name(node, b, sizeof(b));
	fprintf(stderr,
		"libdaxfile lockdep: %s: acquiring %s at %s:%d while holding %s acquired at %s:%d\n",
		what, b, file, line, a, held->file, held->line);
	ld_dump_held();
	abort();
}

static void __attribute__((noreturn))
ld_cycle(const struct ld_held *held, unsigned node, const char *file, int line)
{
	char a[32], b[32];
	struct ld_edge_site *s;

	ld_node_name(held->node, a, sizeof(a));
	ld_node_name(node, b, sizeof(b));
	fprintf(stderr,
		"libdaxfile lockdep: lock order cycle: acquiring %s at %s:%d while holding %s acquired at %s:%d, but %s was already taken before %s",
		b, file, line, a, held->file, held->line, b, a);
	for (unsigned mid = 0; mid < LD_NODES; mid++) {
		if ((ld_edges[node] >> mid & 1) &&
		    (mid == held->node || (ld_reach[mid] >> held->node & 1))) {
			s = &ld_edge_site[node][mid];
			fprintf(stderr, " (edge first seen at %s:%d)", s->file,
				s->line);
			break;
		}
	}
	fprintf(stderr, "\n");
	ld_dump_held();
	abort();
}

/* ld_add_edge -- record from -> to; abort if 'to' already reaches 'from'. */
static void
ld_add_edge(const struct ld_held *held, unsigned to, const char *file, int line)
{
	unsigned from = held->node;

	pthread_mutex_lock(&ld_graph_lock);
	if (ld_edges[from] >> to & 1) {
		pthread_mutex_unlock(&ld_graph_lock);
		return;
	}
	if (to == from || (ld_reach[to] >> from & 1)) {
		pthread_mutex_unlock(&ld_graph_lock);
		ld_cycle(held, to, file, line);
	}
	ld_edges[from] |= 1ULL << to;
	ld_edge_site[from][to] = (struct ld_edge_site){file, line};
	/* everything that reaches 'from' (and 'from') now reaches 'to' + beyond */
	uint64_t add = (1ULL << to) | ld_reach[to];
	for (unsigned n = 0; n < LD_NODES; n++)
		if (n == from || (ld_reach[n] >> from & 1))
			ld_reach[n] |= add;
	pthread_mutex_unlock(&ld_graph_lock);
}

static void
ld_acquire(const void *lock, unsigned cls, unsigned sub, uint64_t key,
	bool excl, bool trylock, const char *file, int line)
{
	unsigned node = cls * DX_LOCK_SUBCLASSES + sub;

	VERIFY(sub < DX_LOCK_SUBCLASSES);
	for (unsigned i = 0; i < ld_depth; i++) {
		const struct ld_held *h = &ld_stack[i];

		if (h->lock == lock)
			ld_violation("recursive locking", h, node, file, line);
		if (trylock)
			continue;
		if (h->node == node && key != 0 && h->key != 0) {
			if (h->key >= key)
				ld_violation("lock order violation (keys must increase)",
					h, node, file, line);
			continue;
		}
		/* the graph first: a cycle names the edge seen before */
		if (h->node != node)
			ld_add_edge(h, node, file, line);
		if (h->node >= node)
			ld_violation("lock order violation", h, node, file,
				line);
	}
	if (ld_depth == LD_MAX_HELD) {
		fprintf(stderr, "libdaxfile lockdep: too many locks held\n");
		ld_dump_held();
		abort();
	}
	ld_stack[ld_depth++] = (struct ld_held){lock, node, key, excl, file, line};
}
#else /* only the held locks, for the assertions */
static void
ld_acquire(const void *lock, unsigned cls, unsigned sub, uint64_t key,
	bool excl, bool trylock, const char *file, int line)
{
	(void)trylock;
	if (ld_depth == LD_MAX_HELD) {
		fprintf(stderr, "libdaxfile: too many locks held\n");
		ld_dump_held();
		abort();
	}
	ld_stack[ld_depth++] = (struct ld_held){lock,
		cls * DX_LOCK_SUBCLASSES + sub, key, excl, file, line};
}
#endif

static void
ld_release(const void *lock)
{
	for (unsigned i = ld_depth; i-- > 0;) {
		if (ld_stack[i].lock != lock)
			continue;
		memmove(&ld_stack[i], &ld_stack[i + 1],
			(ld_depth - i - 1) * sizeof(ld_stack[0]));
		ld_depth--;
		return;
	}
	fprintf(stderr, "libdaxfile lockdep: releasing %p, which is not held\n",
		lock);
	ld_dump_held();
	abort();
}

static const struct ld_held *
ld_find(const void *lock)
{
	for (unsigned i = 0; i < ld_depth; i++)
		if (ld_stack[i].lock == lock)
			return &ld_stack[i];
	return NULL;
}

void
dx_lockdep_assert_held(const void *lock)
{
	if (ld_find(lock) == NULL) {
		fprintf(stderr, "libdaxfile lockdep: lock %p not held\n", lock);
		ld_dump_held();
		abort();
	}
}

void
dx_lockdep_assert_held_excl(const void *lock)
{
	const struct ld_held *h = ld_find(lock);

	if (h == NULL || !h->excl) {
		fprintf(stderr, "libdaxfile lockdep: lock %p not held exclusively\n",
			lock);
		ld_dump_held();
		abort();
	}
}

void
dx_lockdep_assert_lockless(void)
{
	if (ld_depth != 0) {
		fprintf(stderr, "libdaxfile lockdep: locks held where none may be\n");
		ld_dump_held();
		abort();
	}
}

#ifdef DX_LOCKDEP
void
dx_might_fault_(const char *file, int line)
{
	unsigned node = DX_LC_MMAPLOCK * DX_LOCK_SUBCLASSES;

	for (unsigned i = 0; i < ld_depth; i++)
		if (ld_stack[i].node >= node)
			ld_violation("user memory access (may fault, taking MMAPLOCK)",
				&ld_stack[i], node, file, line);
}

#endif /* DX_LOCKDEP */

#ifdef DX_LOCKDEP
#define LD_ACQUIRE(l, sub, excl, try) \
	ld_acquire((l), (l)->cls, (sub), 0, (excl), (try), file, line)
#define LD_ACQUIRE_KEY(l, key) \
	ld_acquire((l), (l)->cls, 0, (key) + 1, true, false, file, line)
#else
#define LD_ACQUIRE(l, sub, excl, try) \
	ld_acquire((l), (l)->cls, (sub), 0, (excl), (try), __FILE__, 0)
#define LD_ACQUIRE_KEY(l, key) \
	ld_acquire((l), (l)->cls, 0, (key) + 1, true, false, __FILE__, 0)
#endif
#define LD_RELEASE(l) ld_release(l)

#else /* !DX_LOCK_TRACK */

#define LD_ACQUIRE(l, sub, excl, try) ((void)(sub))
#define LD_ACQUIRE_KEY(l, key) ((void)(key))
#define LD_RELEASE(l) ((void)(l))

#endif /* DX_LOCK_TRACK */

void
dx_mutex_init(struct dx_mutex *m, enum dx_lock_class cls)
{
	pthread_mutex_init(&m->m, NULL);
	m->cls = (unsigned short)cls;
}

void
dx_mutex_destroy(struct dx_mutex *m)
{
	pthread_mutex_destroy(&m->m);
}

void
dx_rwlock_init(struct dx_rwlock *l, enum dx_lock_class cls)
{
	pthread_rwlockattr_t attr;

	/* writers (truncate, punch) must not starve behind a stream of faults */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
		PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&l->rw, &attr);
	pthread_rwlockattr_destroy(&attr);
	l->cls = (unsigned short)cls;
}

void
dx_rwlock_forked(struct dx_rwlock *l)
{
	dx_rwlock_init(l, (enum dx_lock_class)l->cls);
}

void
dx_rwlock_destroy(struct dx_rwlock *l)
{
	pthread_rwlock_destroy(&l->rw);
}

void
dx_mutex_lock_(struct dx_mutex *m, unsigned sub DX_LOCK_SITE_ARGS)
{
	LD_ACQUIRE(m, sub, true, false);
	VERIFY(pthread_mutex_lock(&m->m) == 0);
}

void
dx_mutex_lock_ordered_(struct dx_mutex *m, uint64_t key DX_LOCK_SITE_ARGS)
{
	LD_ACQUIRE_KEY(m, key);
	VERIFY(pthread_mutex_lock(&m->m) == 0);
}

bool
dx_mutex_trylock_(struct dx_mutex *m, unsigned sub DX_LOCK_SITE_ARGS)
{
	if (pthread_mutex_trylock(&m->m) != 0)
		return false;
	LD_ACQUIRE(m, sub, true, true);
	return true;
}

void
dx_mutex_unlock(struct dx_mutex *m)
{
	LD_RELEASE(m);
	VERIFY(pthread_mutex_unlock(&m->m) == 0);
}

void
dx_rwlock_rdlock_(struct dx_rwlock *l, unsigned sub DX_LOCK_SITE_ARGS)
{
	LD_ACQUIRE(l, sub, false, false);
	VERIFY(pthread_rwlock_rdlock(&l->rw) == 0);
}

void
dx_rwlock_wrlock_(struct dx_rwlock *l, unsigned sub DX_LOCK_SITE_ARGS)
{
	LD_ACQUIRE(l, sub, true, false);
	VERIFY(pthread_rwlock_wrlock(&l->rw) == 0);
}

bool
dx_rwlock_tryrdlock_(struct dx_rwlock *l DX_LOCK_SITE_ARGS)
{
	if (pthread_rwlock_tryrdlock(&l->rw) != 0)
		return false;
	/* checked like a blocking acquisition: it is followed by one */
	LD_ACQUIRE(l, 0, false, false);
	return true;
}

bool
dx_rwlock_trywrlock_(struct dx_rwlock *l DX_LOCK_SITE_ARGS)
{
	if (pthread_rwlock_trywrlock(&l->rw) != 0)
		return false;
	/* a trylock cannot deadlock: no order is checked or recorded */
	LD_ACQUIRE(l, 0, true, true);
	return true;
}

#ifdef DX_LOCK_TRACK
void
dx_rwlock_owned_(struct dx_rwlock *l, unsigned sub DX_LOCK_SITE_ARGS)
{
	LD_ACQUIRE(l, sub, true, false);
}

void
dx_rwlock_disowned(struct dx_rwlock *l)
{
	LD_RELEASE(l);
}
#endif

void
dx_rwlock_unlock(struct dx_rwlock *l)
{
	LD_RELEASE(l);
	VERIFY(pthread_rwlock_unlock(&l->rw) == 0);
}
