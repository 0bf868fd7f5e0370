/*
 * map.c -- DAX-style mappings: daxfile_mmap, munmap and msync, the process
 * table of mappings, each file's mappings and fault queue, the window
 * state machine, and the replacement of mapped pages when a file's layout
 * changes.
 *
 * A mapping starts as anonymous memory registered with userfaultfd (MISSING,
 * and WP for writable shared mappings, whose zero pages must fault when
 * written).  Faults (fault.c) install the pool file's own pages over it, a
 * window at a time.  To take pages away again (truncate, punch, zero,
 * collapse, insert) a fresh registered reserve is mremapped over them: the
 * swap is atomic, so no access ever reaches unregistered memory, and the
 * next access faults and sees the new layout.  Zero pages and SIGBUS
 * markers, which are anonymous pages of the registered range, are simply
 * dropped (MADV_DONTNEED): that needs no new memory.
 *
 * This file owns the state of mappings: window states, install stamps,
 * VMA counts and the markers of stores that found no space change only
 * here, fault.c asks for the changes.  Work that may wait for another
 * file's locks (taking back old windows to stay under vm.max_map_count,
 * clearing SIGBUS markers after space was freed, refilling the spare
 * reserves) is deferred work (defer.h): it runs when the call or the
 * fault job that found it due ends, with no lock held.
 *
 * Every VMA the library creates is MADV_DONTFORK: a child process has no
 * mapping there and faults with SIGSEGV instead of sharing pool pages
 * without the parent's locks.  Installs hold the install lock shared, and
 * fork (pthread_atfork) takes it exclusive, so no window is between its
 * mmap and its MADV_DONTFORK when the address space is copied.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libpmem.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bmap.h"
#include "defer.h"
#include "errinj.h"
#include "file.h"
#include "iomap.h"
#include "map.h"
#include "mem.h"
#include "out.h"
#include "pool.h"
#include "uffd.h"

/* The mappings of one file, as the kernel's address_space (inode.h). */
struct dx_fmap {
	struct dx_mutex lock;		/* MAPLIST: the list */
	struct dx_mapping *maps;	/* live mappings */
	unsigned nmaps;			/* atomic: for the write path */
	struct dx_workq faults;		/* its fault jobs, served in order */
};

/* A fault queued on its file. */
struct fault_job {
	struct dx_work w;
	struct dx_mapping *m;
	uint64_t addr;
	unsigned flags;
	bool spare;		/* the mapping's own job, used when out of memory */
};

static struct {
	pthread_once_t once;
	struct dx_rwlock table_lock;	/* MAPTABLE */
	struct dx_rb_root table;	/* mappings by address */
	struct dx_rwlock install_lock;	/* WINDOW: installs against fork */
	uint64_t clock;			/* window install stamps */
	uint64_t vmas;			/* VMAs held by installed windows */
	uint64_t vma_budget;		/* at most that many */
	unsigned nospace;		/* mappings with markers for want of space */
} mt = {.once = PTHREAD_ONCE_INIT};

/* Windows this thread's call found it must give back (the kernel refused
   a VMA); the deferred reclaim takes them. */
static __thread unsigned tl_reclaim;

/*
 * Spare reserves, one per protection in use: at vm.max_map_count no new
 * VMA can be made, not even the reserve that would take a window back, so
 * one window-sized reserve waits ready.  Moving it (shrunk to size) over a
 * window frees VMAs without making one.
 */
#define SPARE_PROTS 8
static struct {
	struct dx_mutex lock;	/* LEAF */
	void *addr[SPARE_PROTS];
	bool used[SPARE_PROTS];	/* wanted: refill when taken */
} spare = {{PTHREAD_MUTEX_INITIALIZER, DX_LC_LEAF}, {NULL}, {false}};

static void spare_fill(int prot);

/*
 * Around fork: the table, the installs and the spares are consistent in
 * the child.  The parent's mappings are not in it (MADV_DONTFORK), nor its
 * spare reserves: the child starts with none.  Fork handlers take their
 * locks raw, in the order pthread_atfork runs them, outside the validator;
 * the child makes the rwlocks anew (dx_rwlock_forked).
 */
static void
atfork_prepare(void)
{
	pthread_rwlock_wrlock(&mt.table_lock.rw);
	pthread_rwlock_wrlock(&mt.install_lock.rw);
	pthread_mutex_lock(&spare.lock.m);
}

static void
atfork_parent(void)
{
	pthread_mutex_unlock(&spare.lock.m);
	pthread_rwlock_unlock(&mt.install_lock.rw);
	pthread_rwlock_unlock(&mt.table_lock.rw);
}

static void
atfork_child(void)
{
	mt.table.node = NULL;
	mt.vmas = 0;
	mt.nospace = 0;
	for (int p = 0; p < SPARE_PROTS; p++) {
		spare.addr[p] = NULL;
		spare.used[p] = false;
	}
	pthread_mutex_unlock(&spare.lock.m);
	dx_rwlock_forked(&mt.install_lock);
	dx_rwlock_forked(&mt.table_lock);
}

/*
 * vma_budget -- how many VMAs installed windows may hold: vm.max_map_count
 * less an eighth and 1024 for the application's own mappings and for the
 * reserves that take windows back.
 */
static uint64_t
vma_budget(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	unsigned long max = 65530;

	if (f != NULL) {
		if (fscanf(f, "%lu", &max) != 1)
			max = 65530;
		fclose(f);
	}
	return max > 16384 ? max - max / 8 - 1024 : max / 2;
}

static void map_vmas_set(struct dx_mapping *m, uint64_t w, uint32_t n);
static void map_reclaim_deferred(void);
static void map_spare_deferred(void);
static void map_space_freed(void);
static void fmap_destroy(struct dx_inode *ip);

static void
map_init(void)
{
	mt.vma_budget = vma_budget();
	dx_rwlock_init(&mt.table_lock, DX_LC_MAPTABLE);
	dx_rwlock_init(&mt.install_lock, DX_LC_WINDOW);
	dx_defer_register(DX_DEFER_VMA_RECLAIM, map_reclaim_deferred);
	dx_defer_register(DX_DEFER_SPARE_REFILL, map_spare_deferred);
	dx_defer_register(DX_DEFER_SPACE_FREED, map_space_freed);
	dx_inode_on_destroy(fmap_destroy);
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

void
dx_map_install_begin(void)
{
	dx_rwlock_rdlock(&mt.install_lock);
	dx_tsan_ignore_begin();
}

void
dx_map_install_end(void)
{
	dx_tsan_ignore_end();
	dx_rwlock_unlock(&mt.install_lock);
}

/* --- the mappings of a file ---------------------------------------------- */

/* fmap_of -- the file's mapping object, made at its first mapping (caller
   holds the mmaplock exclusive); NULL on ENOMEM. */
static struct dx_fmap *
fmap_of(struct dx_inode *ip)
{
	struct dx_fmap *fm = ip->fmap;

	dx_assert_held_excl(&ip->mmaplock);
	if (fm != NULL)
		return fm;
	fm = dx_zalloc(DX_ARENA_GLOBAL, sizeof(*fm));
	if (fm == NULL)
		return NULL;
	dx_mutex_init(&fm->lock, DX_LC_MAPLIST);
	__atomic_store_n(&ip->fmap, fm, __ATOMIC_RELEASE);
	return fm;
}

/* fmap_destroy -- the in-core inode goes: no mapping or job is left. */
static void
fmap_destroy(struct dx_inode *ip)
{
	struct dx_fmap *fm = ip->fmap;

	ASSERT(fm->maps == NULL && fm->faults.head == NULL);
	dx_mutex_destroy(&fm->lock);
	dx_free(DX_ARENA_GLOBAL, fm);
	ip->fmap = NULL;
}

bool
dx_map_is_mapped(struct dx_inode *ip)
{
	struct dx_fmap *fm = __atomic_load_n(&ip->fmap, __ATOMIC_ACQUIRE);

	return fm != NULL && __atomic_load_n(&fm->nmaps, __ATOMIC_SEQ_CST) != 0;
}

/* --- the table ----------------------------------------------------------- */

static struct dx_mapping *
tnode_map(struct dx_rb_node *n)
{
	return n ? dx_rb_entry(n, struct dx_mapping, tnode) : NULL;
}

static void
table_insert(struct dx_mapping *m)
{
	struct dx_rb_node **link = &mt.table.node, *parent = NULL;

	while (*link != NULL) {
		parent = *link;
		link = m->addr < tnode_map(parent)->addr ? &parent->left :
			&parent->right;
	}
	dx_rb_link(&m->tnode, parent, link);
	dx_rb_insert_color(&m->tnode, &mt.table);
}

/* table_floor -- the mapping with the greatest address <= addr. */
static struct dx_mapping *
table_floor(uintptr_t addr)
{
	struct dx_rb_node *n = mt.table.node;
	struct dx_mapping *best = NULL;

	while (n != NULL) {
		struct dx_mapping *m = tnode_map(n);

		if (m->addr <= addr) {
			best = m;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best;
}

/* table_overlap -- a mapping overlapping [a, a+len), referenced, or NULL. */
static struct dx_mapping *
table_overlap(uintptr_t a, size_t len)
{
	struct dx_mapping *m;

	dx_rwlock_rdlock(&mt.table_lock);
	m = table_floor(a);
	if (m == NULL || m->addr + m->len <= a)
		m = tnode_map(m ? dx_rb_next(&m->tnode) : dx_rb_first(&mt.table));
	if (m != NULL && m->addr >= a + len)
		m = NULL;
	if (m != NULL)
		__atomic_add_fetch(&m->refcnt, 1, __ATOMIC_RELAXED);
	dx_rwlock_unlock(&mt.table_lock);
	return m;
}

static void
mapping_free(struct dx_mapping *m)
{
	struct daxfile_pool *pool = m->pool;

	for (uint64_t w = 0; w < m->nwin; w++)
		map_vmas_set(m, w, 0);
	if (m->nnospace > 0)
		__atomic_sub_fetch(&mt.nospace, 1, __ATOMIC_RELAXED);
	dx_free(DX_ARENA_GLOBAL, m->win);
	dx_free(DX_ARENA_GLOBAL, m->stamp);
	dx_free(DX_ARENA_GLOBAL, m->vmas);
	dx_free(DX_ARENA_GLOBAL, m->nospace);
	dx_free(DX_ARENA_GLOBAL, m->spare_job);
	dx_iput(m->ip);
	dx_free(DX_ARENA_GLOBAL, m);
	dx_pool_busy_put(pool);
}

static void
mapping_get(struct dx_mapping *m)
{
	__atomic_add_fetch(&m->refcnt, 1, __ATOMIC_RELAXED);
}

static void
mapping_put(struct dx_mapping *m)
{
	if (__atomic_sub_fetch(&m->refcnt, 1, __ATOMIC_ACQ_REL) == 0)
		mapping_free(m);
}

/*
 * mapping_new -- the structure of a mapping of [addr, addr+len) at file
 * offset 'off', holding a reference to the file, with one reference.
 */
static struct dx_mapping *
mapping_new(struct dx_inode *ip, struct dx_fmap *fm, uintptr_t addr,
	size_t len, uint64_t off, int prot, bool shared)
{
	struct dx_mapping *m = dx_zalloc(DX_ARENA_GLOBAL, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->win0 = addr >> DX_WIN_SHIFT;
	m->nwin = ((addr + len - 1) >> DX_WIN_SHIFT) - m->win0 + 1;
	m->win = dx_zalloc(DX_ARENA_GLOBAL, m->nwin);
	m->stamp = dx_zalloc(DX_ARENA_GLOBAL, m->nwin * sizeof(*m->stamp));
	m->vmas = dx_zalloc(DX_ARENA_GLOBAL, m->nwin * sizeof(*m->vmas));
	m->spare_job = dx_malloc(DX_ARENA_GLOBAL, sizeof(struct fault_job));
	if (m->win == NULL || m->stamp == NULL || m->vmas == NULL ||
	    m->spare_job == NULL) {
		dx_free(DX_ARENA_GLOBAL, m->win);
		dx_free(DX_ARENA_GLOBAL, m->stamp);
		dx_free(DX_ARENA_GLOBAL, m->vmas);
		dx_free(DX_ARENA_GLOBAL, m->spare_job);
		dx_free(DX_ARENA_GLOBAL, m);
		return NULL;
	}
	m->pool = ip->pool;
	m->ip = ip;
	m->fm = fm;
	m->addr = addr;
	m->len = len;
	m->off = off;
	m->prot = prot;
	m->shared = shared;
	m->refcnt = 1;
	dx_ihold(ip);
	dx_pool_busy_get(ip->pool);
	return m;
}

/* mapping_link -- make a mapping findable (caller holds the mmaplock). */
static void
mapping_link(struct dx_mapping *m)
{
	struct dx_fmap *fm = m->fm;

	dx_assert_held_excl(&m->ip->mmaplock);
	dx_mutex_lock(&fm->lock);
	m->fnext = fm->maps;
	fm->maps = m;
	__atomic_add_fetch(&fm->nmaps, 1, __ATOMIC_SEQ_CST);
	dx_mutex_unlock(&fm->lock);
	dx_rwlock_wrlock(&mt.table_lock);
	table_insert(m);
	dx_rwlock_unlock(&mt.table_lock);
}

/* mapping_unlink -- no fault can find it any more (mmaplock excl held). */
static void
mapping_unlink(struct dx_mapping *m)
{
	struct dx_fmap *fm = m->fm;
	struct dx_mapping **pp;

	dx_assert_held_excl(&m->ip->mmaplock);
	m->dead = true;
	dx_mutex_lock(&fm->lock);
	for (pp = &fm->maps; *pp != m; pp = &(*pp)->fnext)
		;
	*pp = m->fnext;
	__atomic_sub_fetch(&fm->nmaps, 1, __ATOMIC_SEQ_CST);
	dx_mutex_unlock(&fm->lock);
	dx_rwlock_wrlock(&mt.table_lock);
	dx_rb_erase(&m->tnode, &mt.table);
	dx_rwlock_unlock(&mt.table_lock);
}

/* --- reserves ------------------------------------------------------------ */

static bool
mapping_wp(const struct dx_mapping *m)
{
	return m->shared && (m->prot & PROT_WRITE);
}

/* reserve_new -- registered anonymous memory, not inherited by fork. */
static void *
reserve_new(void *at, size_t len, int prot, int extra, bool wp)
{
	void *r = dx_ei_mmap(at, len, prot, MAP_PRIVATE | MAP_ANONYMOUS |
		MAP_NORESERVE | extra, -1, 0);

	if (r == MAP_FAILED) {
		dx_err_keep("cannot reserve %zu bytes of address space", len);
		return MAP_FAILED;
	}
	if (madvise(r, len, MADV_DONTFORK) != 0 ||
	    (prot != PROT_NONE && dx_uffd_register(r, len, wp) != 0)) {
		int err = errno;

		munmap(r, len);
		errno = err;
		return MAP_FAILED;
	}
	return r;
}

/* spare_fill -- make the spare reserve of 'prot' if it is missing. */
static void
spare_fill(int prot)
{
	if (prot < 0 || prot >= SPARE_PROTS)
		return;
	dx_mutex_lock(&spare.lock);
	spare.used[prot] = true;
	if (spare.addr[prot] == NULL) {
		void *r = reserve_new(NULL, DX_WIN_SIZE, prot, 0, true);

		spare.addr[prot] = r == MAP_FAILED ? NULL : r;
	}
	dx_mutex_unlock(&spare.lock);
}

/* spare_take -- the spare reserve of 'prot', now the caller's, or NULL. */
static void *
spare_take(int prot)
{
	void *r = NULL;

	if (prot < 0 || prot >= SPARE_PROTS)
		return NULL;
	dx_mutex_lock(&spare.lock);
	r = spare.addr[prot];
	spare.addr[prot] = NULL;
	dx_mutex_unlock(&spare.lock);
	if (r != NULL)
		dx_defer(DX_DEFER_SPARE_REFILL);
	return r;
}

/* map_spare_deferred -- refill the spare reserves taken (no lock held). */
static void
map_spare_deferred(void)
{
	for (int p = 0; p < SPARE_PROTS; p++)
		if (__atomic_load_n(&spare.used[p], __ATOMIC_RELAXED))
			spare_fill(p);
}

void
dx_map_want_vmas(void)
{
	tl_reclaim = 64;
	dx_defer(DX_DEFER_VMA_RECLAIM);
}

/* replace_spare -- move the spare over [addr, addr+len) (len <= a window). */
static int
replace_spare(struct dx_mapping *m, uintptr_t addr, size_t len)
{
	void *r = spare_take(m->prot);

	if (r == NULL)
		return dx_err(ENOMEM, "cannot replace mapped pages: out of memory for a reserve");
	/* shrink and move in one call: no VMA is made */
	if (dx_ei_mremap(r, DX_WIN_SIZE, len, MREMAP_MAYMOVE | MREMAP_FIXED,
		(void *)addr) != MAP_FAILED)
		return 0;
	munmap(r, DX_WIN_SIZE);
	return dx_err(ENOMEM, "cannot replace mapped pages");
}

/*
 * map_replace -- swap [addr, addr+len) of 'm' for registered reserve: in
 * one move, or, when the kernel refuses memory for that, a window at a
 * time (less address space at once), the spare reserve last.  -1 with
 * ENOMEM when even that failed; the deferred reclaim is then due.
 */
static int
map_replace(struct dx_mapping *m, uintptr_t addr, size_t len)
{
	void *r = reserve_new(NULL, len, m->prot, 0, mapping_wp(m));
	int err;

	if (r != MAP_FAILED) {
		if (dx_ei_mremap(r, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			(void *)addr) != MAP_FAILED)
			return 0;
		err = errno;
		munmap(r, len);
		errno = err;
	}
	if (errno != ENOMEM)
		return dx_err_keep("cannot replace mapped pages");
	dx_map_want_vmas();
	if (len <= DX_WIN_SIZE)
		return replace_spare(m, addr, len);
	for (uintptr_t a = addr; a < addr + len;) {
		uintptr_t e = DX_MIN(addr + len, DX_ALIGN_DOWN(a, DX_WIN_SIZE) +
			DX_WIN_SIZE);

		if (map_replace(m, a, e - a) != 0)
			return -1;
		a = e;
	}
	return 0;
}

/*
 * inaccessible -- anonymous memory that could not be registered (or made
 * accessible) over pages taken away: no access, say so.
 */
static void
inaccessible(uintptr_t addr, size_t len)
{
	dx_log("mapped pages at %#lx+%zu could not be replaced (%s): "
		"they are inaccessible now", (unsigned long)addr, len,
		strerror(errno));
	(void)mprotect((void *)addr, len, PROT_NONE);
}

/*
 * map_revoke -- the last resort where pages cannot be replaced: anonymous
 * memory over them (no more address space than they take), registered
 * again if the kernel lets us; else an access gets SIGSEGV, but never
 * reaches a block the file no longer owns.
 */
static int
map_revoke(struct dx_mapping *m, uintptr_t addr, size_t len)
{
	void *a = (void *)addr;

	if (dx_ei_mmap(a, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
		return dx_err_keep("cannot revoke mapped pages at %#lx",
			(unsigned long)addr);
	if (madvise(a, len, MADV_DONTFORK) != 0 ||
	    dx_uffd_register(a, len, mapping_wp(m)) != 0 ||
	    mprotect(a, len, m->prot) != 0)
		inaccessible(addr, len);
	return 0;
}

/*
 * map_discard -- [addr, addr+len) of 'm' shows only bytes the change
 * discards (punched, zeroed, past the new EOF): anonymous memory straight
 * over it, registered after, and what an access stored there meanwhile
 * dropped, which for discarded bytes is as if it came before the change.
 * A moved registered reserve (map_replace) makes its mremap wait until
 * the userfaultfd reader has read a REMAP event: most of the cost of a
 * replacement (../shared notes: 90-100 us per populated window, 18 of
 * them dropping its entries).  Where the kernel refuses the memory the
 * range is replaced as map_replace does; any other failure leaves it
 * inaccessible, as map_revoke does.
 */
static int
map_discard(struct dx_mapping *m, uintptr_t addr, size_t len)
{
	void *a = (void *)addr;
	int ret, err;

	/* as an install: no fork copies the range before MADV_DONTFORK */
	dx_map_install_begin();
	ret = dx_ei_mmap(a, len, m->prot, MAP_PRIVATE | MAP_ANONYMOUS |
		MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED ? -1 :
		madvise(a, len, MADV_DONTFORK);
	err = errno;
	dx_map_install_end();
	errno = err;
	if (ret != 0 && err == ENOMEM)
		return map_replace(m, addr, len);
	if (ret != 0 || dx_uffd_register(a, len, mapping_wp(m)) != 0 ||
	    madvise(a, len, MADV_DONTNEED) != 0)
		inaccessible(addr, len);
	return 0;
}

/*
 * zap -- drop zero pages and markers (anonymous pages of the registered
 * range): the range faults again.  Needs no memory.  Pages of the pool
 * file there would stay (MADV_DONTNEED only drops their page table
 * entries), so zap is for ranges that hold none.
 */
static int
zap(struct dx_mapping *m, uintptr_t addr, size_t len)
{
	(void)m;
	if (madvise((void *)addr, len, MADV_DONTNEED) != 0)
		return dx_err_keep("cannot drop zero pages");
	return 0;
}

/* replace_or_revoke -- map_replace, else revoke: the last resort. */
static int
replace_or_revoke(struct dx_mapping *m, uintptr_t addr, size_t len)
{
	if (map_replace(m, addr, len) == 0)
		return 0;
	return map_revoke(m, addr, len);
}

/*
 * replace_or_zap -- map_replace; where the kernel refuses the memory, zap
 * (1: pages of the pool file, of blocks the file keeps, may stay).
 */
static int
replace_or_zap(struct dx_mapping *m, uintptr_t addr, size_t len)
{
	if (map_replace(m, addr, len) == 0)
		return 0;
	return zap(m, addr, len) == 0 ? 1 : -1;
}

/*
 * map_windows -- for each run of windows of 'm' with pages in place that
 * overlaps file bytes [start, end), call fn on the overlap: 0 when it took
 * every page there away, 1 when some may stay, -1 on failure.  After 0, a
 * window whose whole part inside the mapping was covered becomes NONE, one
 * covered in part PARTIAL; otherwise PARTIAL (pages of it may be in place,
 * and a fault must resolve it anew).  -1 if fn failed anywhere.  Caller
 * holds the mmaplock exclusive, or serves the file's faults.
 */
static int
map_windows(struct dx_mapping *m, uint64_t start, uint64_t end,
	int (*fn)(struct dx_mapping *, uintptr_t, size_t))
{
	uint64_t fs = DX_MAX(DX_ALIGN_DOWN(start, 4096), m->off);
	uint64_t fe = DX_MIN(end == UINT64_MAX ? end : DX_ALIGN_UP(end, 4096),
		m->off + m->len);
	uintptr_t a0, a1;
	int ret = 0;

	dx_assert_held(&m->ip->mmaplock);
	if (fs >= fe)
		return 0;
	a0 = m->addr + (fs - m->off);
	a1 = m->addr + (fe - m->off);
	for (uint64_t w = a0 >> DX_WIN_SHIFT; w <= (a1 - 1) >> DX_WIN_SHIFT;) {
		uint64_t w1 = w;
		uintptr_t s, e;
		int r;

		if (m->win[w - m->win0] == DX_WIN_NONE) {
			w++;
			continue;
		}
		while (w1 + 1 <= (a1 - 1) >> DX_WIN_SHIFT &&
		       m->win[w1 + 1 - m->win0] != DX_WIN_NONE)
			w1++;
		s = DX_MAX(a0, w << DX_WIN_SHIFT);
		e = DX_MIN(a1, (w1 + 1) << DX_WIN_SHIFT);
		r = fn(m, s, e - s);
		if (r < 0)
			ret = -1;
		for (uint64_t i = w; i <= w1; i++) {
			uintptr_t ws = DX_MAX(m->addr, i << DX_WIN_SHIFT);
			uintptr_t we = DX_MIN(m->addr + m->len,
				(i + 1) << DX_WIN_SHIFT);

			m->win[i - m->win0] = (r == 0 && s <= ws && e >= we) ?
				DX_WIN_NONE : DX_WIN_PARTIAL;
			if (m->win[i - m->win0] == DX_WIN_NONE)
				map_vmas_set(m, i - m->win0, 0);
		}
		w = w1 + 1;
	}
	return ret;
}

/*
 * map_invalidate -- map_windows(fn) over file bytes [start, end) of every
 * shared mapping of the file (and private one, with 'private').
 */
static int
map_invalidate(struct dx_inode *ip, uint64_t start, uint64_t end,
	bool private, int (*fn)(struct dx_mapping *, uintptr_t, size_t))
{
	struct dx_fmap *fm = ip->fmap;
	int ret = 0;

	if (!dx_map_is_mapped(ip))
		return 0;
	dx_mutex_lock(&fm->lock);
	for (struct dx_mapping *m = fm->maps; m != NULL; m = m->fnext)
		if ((m->shared || private) && map_windows(m, start, end, fn) != 0)
			ret = -1;
	dx_mutex_unlock(&fm->lock);
	return ret;
}

int
dx_map_invalidate(struct dx_inode *ip, uint64_t start, uint64_t end,
	unsigned mode)
{
	bool private = mode & DX_INVAL_PRIVATE;
	uint64_t ds = DX_ALIGN_UP(start, 4096);
	uint64_t de = end == UINT64_MAX ? end : DX_ALIGN_DOWN(end, 4096);

	dx_assert_held_excl(&ip->iolock);
	dx_assert_held_excl(&ip->mmaplock);
	/* whole pages of discarded bytes first; the pages at the edges,
	   which keep bytes of the file, are replaced in one move below */
	if ((mode & DX_INVAL_DISCARD) && !(mode & DX_INVAL_REVOKE) &&
	    ds < de && map_invalidate(ip, ds, de, private, map_discard) != 0)
		return -1;
	return map_invalidate(ip, start, end, private,
		(mode & DX_INVAL_REVOKE) ? replace_or_revoke :
		(mode & DX_INVAL_ZAP) ? replace_or_zap : map_replace);
}

void
dx_map_invalidate_zeros(struct dx_inode *ip, struct dx_mapping *self,
	uint64_t start, uint64_t end)
{
	bool poison = dx_uffd_has_poison();
	struct dx_fmap *fm = ip->fmap;

	dx_assert_held(&ip->mmaplock);
	if (!dx_map_is_mapped(ip))
		return;
	dx_mutex_lock(&fm->lock);
	for (struct dx_mapping *m = fm->maps; m != NULL; m = m->fnext)
		if (m != self && m->shared && map_windows(m, start, end,
			poison ? zap : replace_or_revoke) != 0)
			dx_log("zero pages over new blocks at file offset %#lx "
				"could not be dropped: %s", (unsigned long)start,
				daxfile_errormsg());
	dx_mutex_unlock(&fm->lock);
}

int
dx_map_invalidate_moving(struct dx_inode *ip, uint64_t start, uint64_t end)
{
	dx_assert_held_excl(&ip->iolock);
	dx_assert_held(&ip->mmaplock);
	return map_invalidate(ip, start, end, false, map_replace);
}

/* unpoison -- drop SIGBUS markers (and zero pages) so the range faults again. */
static int
unpoison(struct dx_mapping *m, uintptr_t addr, size_t len)
{
	if (dx_uffd_has_poison())
		return zap(m, addr, len);
	return replace_or_revoke(m, addr, len);
}

void
dx_map_extended(struct dx_inode *ip, uint64_t old, uint64_t new)
{
	struct dx_fmap *fm = ip->fmap;

	dx_assert_held_excl(&ip->mmaplock);
	if (!dx_map_is_mapped(ip))
		return;
	dx_mutex_lock(&fm->lock);
	for (struct dx_mapping *m = fm->maps; m != NULL; m = m->fnext)
		if (map_windows(m, DX_ALIGN_UP(old, 4096), DX_ALIGN_UP(new, 4096),
			unpoison) != 0)
			dx_log("SIGBUS markers below the new end of file could not "
				"be cleared: %s", daxfile_errormsg());
	dx_mutex_unlock(&fm->lock);
}

/* --- taking windows back --------------------------------------------------- */

static void
map_vmas_set(struct dx_mapping *m, uint64_t w, uint32_t n)
{
	int64_t delta = (int64_t)n - (int64_t)m->vmas[w];

	m->vmas[w] = n;
	if (delta != 0)
		__atomic_add_fetch(&mt.vmas, (uint64_t)delta, __ATOMIC_RELAXED);
}

/*
 * victim_lock -- a victim file's mmaplock, exclusive.  A fault worker
 * first says it is about to wait, so that faults on other files get a
 * worker meanwhile.
 */
static void
victim_lock(struct dx_inode *ip)
{
	if (dx_rwlock_trywrlock(&ip->mmaplock))
		return;
	if (dx_call_worker())
		dx_fault_blocking();
	dx_ilock(ip, DX_MMAPLOCK_EXCL);
	if (dx_call_worker())
		dx_fault_unblocked();
}

/*
 * map_reclaim -- replace the least recently installed windows; they fault
 * back in when touched.  With no lock held (deferred work): it takes each
 * victim's mmaplock, alone.
 */
static void
map_reclaim(unsigned nwindows)
{
	dx_assert_lockless();
	for (unsigned i = 0; i < nwindows; i++) {
		struct dx_mapping *victim = NULL;
		uint64_t oldest = UINT64_MAX, vw = 0;

		dx_rwlock_rdlock(&mt.table_lock);
		for (struct dx_rb_node *n = dx_rb_first(&mt.table); n != NULL;
		    n = dx_rb_next(n)) {
			struct dx_mapping *m = tnode_map(n);

			for (uint64_t w = 0; w < m->nwin; w++)
				if (m->win[w] != DX_WIN_NONE &&
				    m->stamp[w] < oldest) {
					oldest = m->stamp[w];
					victim = m;
					vw = w;
				}
		}
		if (victim != NULL)
			mapping_get(victim);
		dx_rwlock_unlock(&mt.table_lock);
		if (victim == NULL)
			return;
		victim_lock(victim->ip);
		if (!victim->dead && victim->win[vw] != DX_WIN_NONE) {
			uintptr_t s = DX_MAX(victim->addr,
				(victim->win0 + vw) << DX_WIN_SHIFT);
			uintptr_t e = DX_MIN(victim->addr + victim->len,
				(victim->win0 + vw + 1) << DX_WIN_SHIFT);

			if (map_replace(victim, s, e - s) == 0) {
				victim->win[vw] = DX_WIN_NONE;
				map_vmas_set(victim, vw, 0);
			} else {
				/* pages of it may be gone: resolve it anew */
				victim->win[vw] = DX_WIN_PARTIAL;
				victim->stamp[vw] = UINT64_MAX;
			}
		}
		dx_iunlock(victim->ip, DX_MMAPLOCK_EXCL);
		spare_fill(victim->prot);
		mapping_put(victim);
	}
}

/*
 * map_reclaim_deferred -- windows asked back after a refusal, then the
 * oldest until the installed windows are within their VMA budget, so that
 * installs never run into the kernel's limit, where not even a window
 * could be taken back.
 */
static void
map_reclaim_deferred(void)
{
	unsigned want = tl_reclaim;

	tl_reclaim = 0;
	map_reclaim(want);
	for (int i = 0; i < 64 &&
	     __atomic_load_n(&mt.vmas, __ATOMIC_RELAXED) > mt.vma_budget; i++)
		map_reclaim(8);
}

/* --- the window state machine ------------------------------------------- */

static uint8_t *
win_state(const struct dx_mapping *m, uintptr_t addr)
{
	return &m->win[(addr >> DX_WIN_SHIFT) - m->win0];
}

bool
dx_map_win_resolved(const struct dx_mapping *m, uintptr_t addr)
{
	return *win_state(m, addr) == DX_WIN_INSTALLED;
}

bool
dx_map_win_empty(const struct dx_mapping *m, uintptr_t addr)
{
	return *win_state(m, addr) == DX_WIN_NONE;
}

void
dx_map_win_installed(struct dx_mapping *m, uintptr_t addr, uint32_t vmas)
{
	uint64_t w = (addr >> DX_WIN_SHIFT) - m->win0;

	dx_assert_held(&m->ip->mmaplock);
	m->win[w] = DX_WIN_INSTALLED;
	m->stamp[w] = __atomic_add_fetch(&mt.clock, 1, __ATOMIC_RELAXED);
	map_vmas_set(m, w, vmas);
	if (__atomic_load_n(&mt.vmas, __ATOMIC_RELAXED) > mt.vma_budget)
		dx_defer(DX_DEFER_VMA_RECLAIM);
}

/* nospace_note -- remember a marker set for want of space at 'addr'. */
static void
nospace_note(struct dx_mapping *m, uintptr_t addr)
{
	if (m->nnospace == m->capnospace) {
		unsigned cap = m->capnospace ? 2 * m->capnospace : 8;
		uint64_t *p = dx_realloc(DX_ARENA_GLOBAL, m->nospace,
			cap * sizeof(*p));

		if (p == NULL) {
			dx_log("out of memory: the SIGBUS marker at %#lx stays "
				"until the file's layout changes there",
				(unsigned long)addr);
			return;
		}
		m->nospace = p;
		m->capnospace = cap;
	}
	m->nospace[m->nnospace] = addr;
	if (__atomic_add_fetch(&m->nnospace, 1, __ATOMIC_RELAXED) == 1)
		__atomic_add_fetch(&mt.nospace, 1, __ATOMIC_RELAXED);
}

void
dx_map_win_failed(struct dx_mapping *m, uintptr_t addr, bool wp, bool nospace)
{
	bool poison = dx_uffd_has_poison();
	uint8_t *state = win_state(m, addr);

	dx_assert_held(&m->ip->mmaplock);
	dx_log("cannot serve a fault at %#lx: %s", (unsigned long)addr,
		daxfile_errormsg());
	/* a store to a zero page: the page is there, take it away first */
	if (wp && (poison ? zap(m, addr, 4096) : map_replace(m, addr, 4096)) != 0)
		return;
	if (poison)
		dx_uffd_poison((void *)addr, 4096);
	else
		dx_map_sigbus((void *)addr, 4096, m->prot);
	if (*state == DX_WIN_NONE)
		*state = DX_WIN_PARTIAL;
	if (nospace)
		nospace_note(m, addr);
}

/* --- jobs: faults, and markers to clear once space is freed ---------------- */

static void
fault_job_run(struct dx_work *w)
{
	struct fault_job *j = (struct fault_job *)w;

	dx_fault_resolve(j->m, j->addr, j->flags);
}

static void
fault_job_done(struct dx_work *w)
{
	struct fault_job *j = (struct fault_job *)w;
	struct dx_mapping *m = j->m;

	if (j->spare)
		__atomic_store_n(&m->spare_busy, false, __ATOMIC_RELEASE);
	else
		dx_free(DX_ARENA_GLOBAL, j);
	mapping_put(m);
}

/*
 * map_on_fault -- the reader's hook: queue the fault on its file.  Never
 * resolve here: the reader must stay free, and one worker at a time serves
 * a file (fault.c relies on it).
 */
static void
map_on_fault(uint64_t addr, unsigned flags)
{
	struct dx_mapping *m = table_overlap((uintptr_t)addr, 1);
	struct fault_job *j;

	if (m == NULL) {
		/* unmapped meanwhile: let the thread retry (and fault) */
		dx_uffd_wake((void *)addr, 4096);
		return;
	}
	/*
	 * Out of memory: the mapping's own job, or wait for it to come back
	 * (the workers that use it need no memory of the reader's).
	 */
	while ((j = dx_malloc(DX_ARENA_GLOBAL, sizeof(*j))) == NULL) {
		if (!__atomic_exchange_n(&m->spare_busy, true, __ATOMIC_ACQUIRE)) {
			j = m->spare_job;
			break;
		}
		usleep(1000);
	}
	*j = (struct fault_job){{NULL, fault_job_run, fault_job_done}, m, addr,
		flags, j == m->spare_job};
	dx_workq_push(&m->fm->faults, &j->w);
}

/* Retry jobs queued by one call, which may wait for them. */
struct retry_batch {
	pthread_mutex_t lock;
	pthread_cond_t done;
	unsigned pending;
};

struct retry_job {
	struct dx_work w;
	struct dx_mapping *m;
	struct retry_batch *batch;	/* NULL: nobody waits */
};

/*
 * retry_job_run -- clear the SIGBUS markers of stores that found no space,
 * so the next access faults again; as the file's fault worker, with its
 * mmaplock shared.
 */
static void
retry_job_run(struct dx_work *w)
{
	struct retry_job *j = (struct retry_job *)w;
	struct dx_mapping *m = j->m;

	if (!dx_rwlock_tryrdlock(&m->ip->mmaplock)) {
		dx_fault_blocking();
		dx_ilock(m->ip, DX_MMAPLOCK_SHARED);
		dx_fault_unblocked();
	}
	for (unsigned i = 0; !m->dead && i < m->nnospace; i++) {
		uintptr_t a = m->nospace[i];

		if (a < m->addr || a >= m->addr + m->len)
			continue; /* munmap took that part away */
		if (dx_uffd_has_poison())
			zap(m, a, 4096);
		else
			map_replace(m, a, 4096);
		/* the page is missing again: its window must resolve anew */
		if (*win_state(m, a) != DX_WIN_NONE)
			*win_state(m, a) = DX_WIN_PARTIAL;
	}
	if (m->nnospace > 0)
		__atomic_sub_fetch(&mt.nospace, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&m->nnospace, 0, __ATOMIC_RELAXED);
	dx_iunlock(m->ip, DX_MMAPLOCK_SHARED);
}

static void
retry_job_done(struct dx_work *w)
{
	struct retry_job *j = (struct retry_job *)w;
	struct retry_batch *b = j->batch;

	mapping_put(j->m);
	dx_free(DX_ARENA_GLOBAL, j);
	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	if (--b->pending == 0)
		pthread_cond_broadcast(&b->done);
	pthread_mutex_unlock(&b->lock);
}

/*
 * map_space_freed -- deferred work after blocks were freed: every mapping
 * with pages marked SIGBUS for want of space gets them cleared by its
 * file's worker.  An application's call waits for that, so an access right
 * after it retries, as on the kernel; a library thread does not wait.
 */
static void
map_space_freed(void)
{
	struct retry_batch batch = {PTHREAD_MUTEX_INITIALIZER,
		PTHREAD_COND_INITIALIZER, 0};
	bool wait = dx_call_app();

	if (__atomic_load_n(&mt.nospace, __ATOMIC_RELAXED) == 0)
		return;
	dx_rwlock_rdlock(&mt.table_lock);
	for (struct dx_rb_node *n = dx_rb_first(&mt.table); n != NULL;
	    n = dx_rb_next(n)) {
		struct dx_mapping *m = tnode_map(n);
		struct retry_job *j;

		if (__atomic_load_n(&m->nnospace, __ATOMIC_RELAXED) == 0)
			continue;
		j = dx_malloc(DX_ARENA_GLOBAL, sizeof(*j));
		if (j == NULL)
			break; /* the markers stay until the next free */
		mapping_get(m);
		*j = (struct retry_job){{NULL, retry_job_run, retry_job_done}, m,
			wait ? &batch : NULL};
		if (wait) {
			pthread_mutex_lock(&batch.lock);
			batch.pending++;
			pthread_mutex_unlock(&batch.lock);
		}
		dx_workq_push(&m->fm->faults, &j->w);
	}
	dx_rwlock_unlock(&mt.table_lock);
	pthread_mutex_lock(&batch.lock);
	while (batch.pending > 0)
		pthread_cond_wait(&batch.done, &batch.lock);
	pthread_mutex_unlock(&batch.lock);
	pthread_cond_destroy(&batch.done);
	pthread_mutex_destroy(&batch.lock);
}

/*
 * dx_map_sigbus -- without UFFDIO_POISON: map an empty memfd over the
 * range, which gives SIGBUS (BUS_ADRERR) on access as a mapping past EOF
 * does; dx_map_extended replaces it when the file grows.
 */
static pthread_once_t sigbus_once = PTHREAD_ONCE_INIT;
static int sigbus_memfd = -1;

static void
sigbus_init(void)
{
	sigbus_memfd = memfd_create("daxfile-past-eof", MFD_CLOEXEC);
}

int
dx_map_sigbus(void *addr, size_t len, int prot)
{
	int ret = 0;

	pthread_once(&sigbus_once, sigbus_init);
	if (sigbus_memfd < 0)
		return dx_err_keep("cannot create the past-EOF memfd");
	dx_map_install_begin();
	if (dx_ei_mmap(addr, len, prot, MAP_SHARED | MAP_FIXED, sigbus_memfd,
		0) == MAP_FAILED || madvise(addr, len, MADV_DONTFORK) != 0)
		ret = dx_err_keep("cannot mark pages past EOF");
	dx_map_install_end();
	return ret;
}

/* --- mmap ---------------------------------------------------------------- */

#define LEGACY_MAP_FLAGS (MAP_SHARED | MAP_PRIVATE | MAP_FIXED | \
	MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_GROWSDOWN | \
	MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | \
	MAP_HUGETLB | MAP_FIXED_NOREPLACE)

/* mmap_check -- mmap(2)'s argument errors. */
static int
mmap_check(void *addr, size_t length, int prot, int flags, daxfile_file *file,
	off_t offset)
{
	int type = flags & MAP_TYPE;

	if (dx_file_check(file) != 0)
		return -1;
	if (length == 0)
		return dx_err(EINVAL, "length is zero");
	if (offset < 0 || (offset & 4095))
		return dx_err(EINVAL, "offset %ld is negative or not page aligned",
			(long)offset);
	if (type != MAP_SHARED && type != MAP_PRIVATE &&
	    type != MAP_SHARED_VALIDATE)
		return dx_err(EINVAL, "flags need MAP_SHARED, MAP_SHARED_VALIDATE or MAP_PRIVATE");
	if (type == MAP_SHARED_VALIDATE && (flags & ~(LEGACY_MAP_FLAGS | MAP_SYNC)))
		return dx_err(EOPNOTSUPP, "unknown flags %#x with MAP_SHARED_VALIDATE",
			flags & ~(LEGACY_MAP_FLAGS | MAP_SYNC));
	if (flags & MAP_ANONYMOUS)
		return dx_err(EINVAL, "MAP_ANONYMOUS with a file");
	if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && ((uintptr_t)addr & 4095))
		return dx_err(EINVAL, "fixed address not page aligned");
	if (length > SIZE_MAX - DX_WIN_SIZE - 4096)
		return dx_err(ENOMEM, "length too large");
	if ((uint64_t)offset + DX_ALIGN_UP(length, 4096) < (uint64_t)offset ||
	    (uint64_t)offset + length > (uint64_t)INT64_MAX)
		return dx_err(EOVERFLOW, "offset + length overflows");
	if (file->ip->isdir)
		return dx_err(ENODEV, "cannot map a directory");
	/*
	 * MAP_SYNC: a write fault returns once the metadata that makes its
	 * block reachable is durable, which every fault here guarantees; but
	 * the stores themselves are durable only on persistent memory.
	 */
	if (type == MAP_SHARED_VALIDATE && (flags & MAP_SYNC) &&
	    !file->pool->is_pmem)
		return dx_err(EOPNOTSUPP, "MAP_SYNC needs a pool on persistent memory");
	if ((file->flags & O_ACCMODE) == O_WRONLY)
		return dx_err(EACCES, "file is not open for reading");
	if (type != MAP_PRIVATE && (prot & PROT_WRITE) &&
	    (file->flags & O_ACCMODE) != O_RDWR)
		return dx_err(EACCES, "shared writable mapping of a file not open for writing");
	return 0;
}

/*
 * mmap_place -- reserve where the mapping goes: fixed, or chosen so that
 * the address and the file offset agree modulo 2 MiB (whole windows then
 * cover whole 2 MiB extents).
 */
static void *
mmap_place(void *addr, size_t len, int prot, int flags, uint64_t off, bool wp)
{
	size_t span = len + DX_WIN_SIZE;
	uintptr_t base, a;
	char *r;

	if (flags & MAP_FIXED)
		return reserve_new(addr, len, prot, MAP_FIXED, wp);
	if (flags & MAP_FIXED_NOREPLACE)
		return reserve_new(addr, len, prot, MAP_FIXED_NOREPLACE, wp);
	r = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED) {
		dx_err(ENOMEM, "no address space for %zu bytes", len);
		return MAP_FAILED;
	}
	base = (uintptr_t)r;
	a = DX_ALIGN_DOWN(base, DX_WIN_SIZE) + (off & (DX_WIN_SIZE - 1));
	if (a < base)
		a += DX_WIN_SIZE;
	if (a > base)
		munmap(r, a - base);
	if (a + len < base + span)
		munmap((void *)(a + len), base + span - (a + len));
	return reserve_new((void *)a, len, prot, MAP_FIXED, wp);
}

static int unmap_range(uintptr_t a, size_t len);

DX_EXPORT void *
daxfile_mmap(void *addr, size_t length, int prot, int flags,
	daxfile_file *file, off_t offset)
{
	DX_CALL();
	struct dx_mapping *m = NULL;
	struct dx_inode *ip;
	struct dx_fmap *fm;
	size_t len;
	bool shared;
	void *r;

	if (mmap_check(addr, length, prot, flags, file, offset) != 0)
		return MAP_FAILED;
	pthread_once(&mt.once, map_init);
	if (dx_uffd_start(map_on_fault) != 0)
		return MAP_FAILED;
	ip = file->ip;
	len = DX_ALIGN_UP(length, 4096);
	shared = (flags & MAP_TYPE) != MAP_PRIVATE;
	if ((flags & MAP_FIXED) && unmap_range((uintptr_t)addr, len) != 0)
		return MAP_FAILED;
	dx_map_install_begin();
	r = mmap_place(addr, len, prot, flags, (uint64_t)offset,
		shared && (prot & PROT_WRITE));
	dx_map_install_end();
	if (r == MAP_FAILED)
		return MAP_FAILED;
	dx_ilock(ip, DX_MMAPLOCK_EXCL);
	fm = fmap_of(ip);
	if (fm != NULL)
		m = mapping_new(ip, fm, (uintptr_t)r, len, (uint64_t)offset, prot,
			shared);
	if (m != NULL)
		mapping_link(m);
	dx_iunlock(ip, DX_MMAPLOCK_EXCL);
	if (m == NULL) {
		munmap(r, len);
		dx_err(ENOMEM, "cannot allocate a mapping");
		return MAP_FAILED;
	}
	spare_fill(prot);
	return r;
}

/* --- munmap -------------------------------------------------------------- */

/* mapping_part -- a new mapping for [a, a+len) of m, with m's window states. */
static struct dx_mapping *
mapping_part(struct dx_mapping *m, uintptr_t a, size_t len)
{
	struct dx_mapping *p = mapping_new(m->ip, m->fm, a, len,
		dx_mapping_foff(m, a), m->prot, m->shared);

	if (p == NULL)
		return NULL;
	for (uint64_t w = 0; w < p->nwin; w++) {
		p->win[w] = m->win[p->win0 + w - m->win0];
		p->stamp[w] = m->stamp[p->win0 + w - m->win0];
		map_vmas_set(p, w, m->vmas[p->win0 + w - m->win0]);
	}
	return p;
}

/*
 * unmap_one -- take [a, a+len) out of mapping m (caller holds a reference
 * and m's file's mmaplock exclusive): what remains of m on either side
 * becomes mappings of its own.  Nothing changes if memory for them, or
 * the kernel's munmap (out of VMAs splitting one), fails: -1 with ENOMEM.
 */
static int
unmap_one(struct dx_mapping *m, uintptr_t a, size_t len)
{
	uintptr_t s = DX_MAX(a, m->addr);
	uintptr_t e = DX_MIN(a + len, m->addr + m->len);
	struct dx_mapping *left = NULL, *right = NULL;

	dx_assert_held_excl(&m->ip->mmaplock);
	if (s > m->addr)
		left = mapping_part(m, m->addr, s - m->addr);
	if (e < m->addr + m->len)
		right = mapping_part(m, e, m->addr + m->len - e);
	if ((s > m->addr && left == NULL) ||
	    (e < m->addr + m->len && right == NULL) ||
	    dx_ei_munmap((void *)s, e - s) != 0) {
		int err = errno;

		if (left != NULL)
			mapping_put(left);
		if (right != NULL)
			mapping_put(right);
		return dx_err(err == ENOMEM || err == 0 ? ENOMEM : err,
			"cannot unmap %#lx+%zu", (unsigned long)s, e - s);
	}
	mapping_unlink(m);
	if (left != NULL)
		mapping_link(left);
	if (right != NULL)
		mapping_link(right);
	dx_uffd_wake((void *)s, e - s);
	mapping_put(m); /* the table's reference */
	return 0;
}

/*
 * unmap_range -- remove the parts inside [a, a+len) of the mappings there
 * now (not of mappings another thread creates meanwhile in the addresses
 * this frees).  Returns when no queued fault holds a removed mapping any
 * more, so that the file and pool it references may be closed at once.
 * -1 with ENOMEM if some part could not be removed (the others are).
 */
static int
unmap_range(uintptr_t a, size_t len)
{
	struct dx_mapping **found = NULL;
	size_t n = 0, cap = 0;
	struct dx_mapping *m;
	int ret = 0;

	dx_rwlock_rdlock(&mt.table_lock);
	m = table_floor(a);
	if (m == NULL || m->addr + m->len <= a)
		m = tnode_map(m ? dx_rb_next(&m->tnode) : dx_rb_first(&mt.table));
	for (; m != NULL && m->addr < a + len; m = tnode_map(dx_rb_next(&m->tnode))) {
		if (n == cap) {
			size_t c = cap ? 2 * cap : 8;
			struct dx_mapping **f = dx_realloc(DX_ARENA_GLOBAL, found,
				c * sizeof(*found));

			if (f == NULL) {
				ret = dx_err(ENOMEM, "out of memory unmapping");
				break;
			}
			found = f;
			cap = c;
		}
		mapping_get(m);
		found[n++] = m;
	}
	dx_rwlock_unlock(&mt.table_lock);
	for (size_t i = 0; i < n; i++) {
		struct dx_inode *ip;
		bool mine = false;

		m = found[i];
		ip = m->ip;
		dx_ilock(ip, DX_MMAPLOCK_EXCL);
		if (!m->dead) {
			mine = unmap_one(m, a, len) == 0;
			if (!mine)
				ret = -1;
		}
		dx_iunlock(ip, DX_MMAPLOCK_EXCL);
		/* stale faults of m finish quickly: m is dead */
		while (mine && __atomic_load_n(&m->refcnt, __ATOMIC_ACQUIRE) > 1)
			sched_yield();
		mapping_put(m);
	}
	dx_free(DX_ARENA_GLOBAL, found);
	return ret;
}

DX_EXPORT int
daxfile_munmap(void *addr, size_t length)
{
	DX_CALL();

	dx_err_begin();
	if (((uintptr_t)addr & 4095) || length == 0)
		return dx_err(EINVAL, "address not page aligned or length zero");
	if ((uintptr_t)addr + length < (uintptr_t)addr)
		return dx_err(EINVAL, "range wraps around");
	pthread_once(&mt.once, map_init);
	return unmap_range((uintptr_t)addr, DX_ALIGN_UP(length, 4096));
}

/* --- msync --------------------------------------------------------------- */

/* msync_extents -- flush the written blocks behind file bytes [s, e). */
static void
msync_extents(struct dx_inode *ip, uint64_t s, uint64_t e)
{
	uint64_t lblk = dx_blk(s), end = dx_blk_up(e);

	dx_ilock(ip, DX_ILOCK_SHARED);
	while (lblk < end) {
		struct dx_map mp;

		dx_bmap_lookup(ip, lblk, end - lblk, &mp);
		if (mp.pblk != 0 && !mp.unwritten)
			dx_iomap_persist(ip->pool, dx_block_ptr(ip->pool, mp.pblk),
				mp.len << DX_BLOCK_SHIFT);
		lblk += mp.len;
	}
	dx_iunlock(ip, DX_ILOCK_SHARED);
}

DX_EXPORT int
daxfile_msync(void *addr, size_t length, int flags)
{
	DX_CALL();
	uintptr_t a = (uintptr_t)addr, end;

	dx_err_begin();
	if ((a & 4095) || (flags & ~(MS_ASYNC | MS_SYNC | MS_INVALIDATE)) ||
	    ((flags & MS_ASYNC) && (flags & MS_SYNC)))
		return dx_err(EINVAL, "bad address alignment or flags");
	pthread_once(&mt.once, map_init);
	end = a + DX_ALIGN_UP(length, 4096);
	while (a < end) {
		struct dx_mapping *m = table_overlap(a, 1);
		uintptr_t e;

		if (m == NULL)
			return dx_err(ENOMEM, "%#lx is not in a daxfile mapping",
				(unsigned long)a);
		e = DX_MIN(end, m->addr + m->len);
		if (m->shared)
			msync_extents(m->ip, dx_mapping_foff(m, a),
				dx_mapping_foff(m, e));
		mapping_put(m);
		a = e;
	}
	return 0;
}
