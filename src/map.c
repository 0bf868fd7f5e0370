/*
 * map.c -- DAX-style mappings: daxfile_mmap, munmap and msync, the process
 * table of mappings, and the replacement of mapped pages when a file's
 * layout changes.
 *
 * A mapping starts as anonymous memory registered with userfaultfd (MISSING,
 * and WP for writable shared mappings, whose zero pages must fault when
 * written).  Faults (fault.c) install the pool file's own pages over it, a
 * window at a time.  To take pages away again (truncate, punch, zero,
 * collapse, insert) a fresh registered reserve is mremapped over them: the
 * swap is atomic, so no access ever reaches unregistered memory, and the
 * next access faults and sees the new layout.
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

#include "bmap.h"
#include "data.h"
#include "file.h"
#include "map.h"
#include "mem.h"
#include "out.h"
#include "pool.h"
#include "uffd.h"

static struct {
	pthread_once_t once;
	struct dx_rwlock table_lock;	/* MAPTABLE */
	struct dx_rb_root table;	/* mappings by address */
	struct dx_rwlock install_lock;	/* WINDOW: installs against fork */
	uint64_t clock;			/* window install stamps */
	uint64_t vmas;			/* VMAs held by installed windows */
	uint64_t vma_budget;		/* at most that many */
} mt = {.once = PTHREAD_ONCE_INIT};

static void
atfork_prepare(void)
{
	dx_rwlock_wrlock(&mt.install_lock);
}

static void
atfork_release(void)
{
	dx_rwlock_unlock(&mt.install_lock);
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

static void
map_init(void)
{
	mt.vma_budget = vma_budget();
	dx_rwlock_init(&mt.table_lock, DX_LC_MAPTABLE);
	dx_rwlock_init(&mt.install_lock, DX_LC_WINDOW);
	pthread_atfork(atfork_prepare, atfork_release, atfork_release);
}

void
dx_map_install_begin(void)
{
	dx_rwlock_rdlock(&mt.install_lock);
}

void
dx_map_install_end(void)
{
	dx_rwlock_unlock(&mt.install_lock);
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

struct dx_mapping *
dx_mapping_find(uint64_t addr)
{
	return table_overlap((uintptr_t)addr, 1);
}

struct dx_inode *
dx_mapping_inode(const struct dx_mapping *m)
{
	return m->ip;
}

static void
mapping_free(struct dx_mapping *m)
{
	struct daxfile_pool *pool = m->pool;

	for (uint64_t w = 0; w < m->nwin; w++)
		dx_map_vmas_set(m, w, 0);
	dx_free(DX_ARENA_GLOBAL, m->win);
	dx_free(DX_ARENA_GLOBAL, m->stamp);
	dx_free(DX_ARENA_GLOBAL, m->vmas);
	dx_free(DX_ARENA_GLOBAL, m->nospace);
	dx_iput(m->ip);
	dx_free(DX_ARENA_GLOBAL, m);
	dx_pool_busy_put(pool);
}

void
dx_mapping_put(struct dx_mapping *m)
{
	if (__atomic_sub_fetch(&m->refcnt, 1, __ATOMIC_ACQ_REL) == 0)
		mapping_free(m);
}

/*
 * mapping_new -- the structure of a mapping of [addr, addr+len) at file
 * offset 'off', holding a reference to the file, with one reference.
 */
static struct dx_mapping *
mapping_new(struct dx_inode *ip, uintptr_t addr, size_t len, uint64_t off,
	int prot, bool shared)
{
	struct dx_mapping *m = dx_zalloc(DX_ARENA_GLOBAL, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->win0 = addr >> DX_WIN_SHIFT;
	m->nwin = ((addr + len - 1) >> DX_WIN_SHIFT) - m->win0 + 1;
	m->win = dx_zalloc(DX_ARENA_GLOBAL, m->nwin);
	m->stamp = dx_zalloc(DX_ARENA_GLOBAL, m->nwin * sizeof(*m->stamp));
	m->vmas = dx_zalloc(DX_ARENA_GLOBAL, m->nwin * sizeof(*m->vmas));
	if (m->win == NULL || m->stamp == NULL || m->vmas == NULL) {
		dx_free(DX_ARENA_GLOBAL, m->win);
		dx_free(DX_ARENA_GLOBAL, m->stamp);
		dx_free(DX_ARENA_GLOBAL, m->vmas);
		dx_free(DX_ARENA_GLOBAL, m);
		return NULL;
	}
	m->pool = ip->pool;
	m->ip = ip;
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
	struct dx_inode *ip = m->ip;

	dx_mutex_lock(&ip->maplist_lock);
	m->fnext = ip->maps;
	ip->maps = m;
	__atomic_add_fetch(&ip->nmaps, 1, __ATOMIC_SEQ_CST);
	dx_mutex_unlock(&ip->maplist_lock);
	dx_rwlock_wrlock(&mt.table_lock);
	table_insert(m);
	dx_rwlock_unlock(&mt.table_lock);
}

/* mapping_unlink -- no fault can find it any more (mmaplock excl held). */
static void
mapping_unlink(struct dx_mapping *m)
{
	struct dx_inode *ip = m->ip;
	struct dx_mapping **pp;

	m->dead = true;
	dx_mutex_lock(&ip->maplist_lock);
	for (pp = &ip->maps; *pp != m; pp = &(*pp)->fnext)
		;
	*pp = m->fnext;
	__atomic_sub_fetch(&ip->nmaps, 1, __ATOMIC_SEQ_CST);
	dx_mutex_unlock(&ip->maplist_lock);
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
	void *r = mmap(at, len, prot, MAP_PRIVATE | MAP_ANONYMOUS |
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
} spare = {{PTHREAD_MUTEX_INITIALIZER, DX_LC_LEAF}, {NULL}};

/* spare_fill -- make the spare reserve of 'prot' if it is missing. */
static void
spare_fill(int prot)
{
	if (prot < 0 || prot >= SPARE_PROTS)
		return;
	dx_mutex_lock(&spare.lock);
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
	return r;
}

int
dx_map_replace(struct dx_mapping *m, uintptr_t addr, size_t len)
{
	void *r = reserve_new(NULL, len, m->prot, 0, mapping_wp(m));

	if (r == MAP_FAILED && errno == ENOMEM && len <= DX_WIN_SIZE &&
	    (r = spare_take(m->prot)) != NULL) {
		/* shrink and move in one call: no VMA is made */
		if (mremap(r, DX_WIN_SIZE, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			(void *)addr) != MAP_FAILED)
			return 0;
		munmap(r, DX_WIN_SIZE);
		return dx_err(ENOMEM, "cannot replace mapped pages");
	}
	if (r == MAP_FAILED)
		return -1;
	if (mremap(r, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
		(void *)addr) == MAP_FAILED) {
		int err = errno;

		munmap(r, len);
		return dx_err(err, "cannot replace mapped pages");
	}
	return 0;
}

/*
 * replace_or_revoke -- replace, and if the kernel refuses (out of VMAs),
 * give some back and retry; as a last resort make the range inaccessible:
 * an access then faults with SIGSEGV, but never reaches a block the file
 * no longer owns.
 */
static void
replace_or_revoke(struct dx_mapping *m, uintptr_t addr, size_t len)
{
	if (dx_map_replace(m, addr, len) == 0)
		return;
	if (errno == ENOMEM) {
		dx_map_reclaim(64);
		if (dx_map_replace(m, addr, len) == 0)
			return;
	}
	fprintf(stderr, "libdaxfile: cannot replace mapped pages (%s); revoking access to %#lx+%zu\n",
		strerror(errno), (unsigned long)addr, len);
	VERIFY(mmap((void *)addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		MAP_FIXED | MAP_NORESERVE, -1, 0) != MAP_FAILED);
}

/*
 * map_windows -- for each run of windows of 'm' with pages in place that
 * overlaps file bytes [start, end), call fn on the overlap; a window whose
 * whole part inside the mapping was covered becomes NONE, one covered in
 * part PARTIAL (caller holds the mmaplock exclusive).
 */
static void
map_windows(struct dx_mapping *m, uint64_t start, uint64_t end,
	void (*fn)(struct dx_mapping *, uintptr_t, size_t))
{
	uint64_t fs = DX_MAX(DX_ALIGN_DOWN(start, 4096), m->off);
	uint64_t fe = DX_MIN(end == UINT64_MAX ? end : DX_ALIGN_UP(end, 4096),
		m->off + m->len);
	uintptr_t a0, a1;

	if (fs >= fe)
		return;
	a0 = m->addr + (fs - m->off);
	a1 = m->addr + (fe - m->off);
	for (uint64_t w = a0 >> DX_WIN_SHIFT; w <= (a1 - 1) >> DX_WIN_SHIFT;) {
		uint64_t w1 = w;
		uintptr_t s, e;

		if (m->win[w - m->win0] == DX_WIN_NONE) {
			w++;
			continue;
		}
		while (w1 + 1 <= (a1 - 1) >> DX_WIN_SHIFT &&
		       m->win[w1 + 1 - m->win0] != DX_WIN_NONE)
			w1++;
		s = DX_MAX(a0, w << DX_WIN_SHIFT);
		e = DX_MIN(a1, (w1 + 1) << DX_WIN_SHIFT);
		fn(m, s, e - s);
		for (uint64_t i = w; i <= w1; i++) {
			uintptr_t ws = DX_MAX(m->addr, i << DX_WIN_SHIFT);
			uintptr_t we = DX_MIN(m->addr + m->len,
				(i + 1) << DX_WIN_SHIFT);

			m->win[i - m->win0] = (s <= ws && e >= we) ?
				DX_WIN_NONE : DX_WIN_PARTIAL;
			if (m->win[i - m->win0] == DX_WIN_NONE)
				dx_map_vmas_set(m, i - m->win0, 0);
		}
		w = w1 + 1;
	}
}

void
dx_map_invalidate(struct dx_inode *ip, uint64_t start, uint64_t end,
	bool private)
{
	dx_assert_held_excl(&ip->mmaplock);
	if (__atomic_load_n(&ip->nmaps, __ATOMIC_SEQ_CST) == 0)
		return;
	dx_mutex_lock(&ip->maplist_lock);
	for (struct dx_mapping *m = ip->maps; m != NULL; m = m->fnext)
		if (m->shared || private)
			map_windows(m, start, end, replace_or_revoke);
	dx_mutex_unlock(&ip->maplist_lock);
}

void
dx_map_invalidate_others(struct dx_inode *ip, struct dx_mapping *self,
	uint64_t start, uint64_t end)
{
	dx_assert_held(&ip->mmaplock);
	if (__atomic_load_n(&ip->nmaps, __ATOMIC_SEQ_CST) < 2)
		return;
	dx_mutex_lock(&ip->maplist_lock);
	for (struct dx_mapping *m = ip->maps; m != NULL; m = m->fnext)
		if (m != self && m->shared)
			map_windows(m, start, end, replace_or_revoke);
	dx_mutex_unlock(&ip->maplist_lock);
}

/* unpoison -- drop SIGBUS markers (and zero pages) so the range faults again. */
static void
unpoison(struct dx_mapping *m, uintptr_t addr, size_t len)
{
	if (dx_uffd_has_poison())
		VERIFY(madvise((void *)addr, len, MADV_DONTNEED) == 0);
	else
		replace_or_revoke(m, addr, len);
}

void
dx_map_extended(struct dx_inode *ip, uint64_t old, uint64_t new)
{
	dx_assert_held_excl(&ip->mmaplock);
	if (__atomic_load_n(&ip->nmaps, __ATOMIC_SEQ_CST) == 0)
		return;
	dx_mutex_lock(&ip->maplist_lock);
	for (struct dx_mapping *m = ip->maps; m != NULL; m = m->fnext)
		map_windows(m, DX_ALIGN_UP(old, 4096), DX_ALIGN_UP(new, 4096),
			unpoison);
	dx_mutex_unlock(&ip->maplist_lock);
}

/*
 * dx_map_reclaim -- out of VMAs (vm.max_map_count): replace the least
 * recently installed windows; they fault back in when touched.  Called
 * with no lock held.
 */
void
dx_map_reclaim(unsigned nwindows)
{
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
			__atomic_add_fetch(&victim->refcnt, 1, __ATOMIC_RELAXED);
		dx_rwlock_unlock(&mt.table_lock);
		if (victim == NULL)
			return;
		dx_ilock(victim->ip, DX_MMAPLOCK_EXCL);
		if (!victim->dead && victim->win[vw] != DX_WIN_NONE) {
			uintptr_t s = DX_MAX(victim->addr,
				(victim->win0 + vw) << DX_WIN_SHIFT);
			uintptr_t e = DX_MIN(victim->addr + victim->len,
				(victim->win0 + vw + 1) << DX_WIN_SHIFT);

			if (dx_map_replace(victim, s, e - s) == 0) {
				victim->win[vw] = DX_WIN_NONE;
				dx_map_vmas_set(victim, vw, 0);
			}
		}
		dx_iunlock(victim->ip, DX_MMAPLOCK_EXCL);
		spare_fill(victim->prot);
		dx_mapping_put(victim);
	}
}

void
dx_map_vmas_set(struct dx_mapping *m, uint64_t w, uint32_t n)
{
	int64_t delta = (int64_t)n - (int64_t)m->vmas[w];

	m->vmas[w] = n;
	if (delta != 0)
		__atomic_add_fetch(&mt.vmas, (uint64_t)delta, __ATOMIC_RELAXED);
}

void
dx_map_vmas_trim(void)
{
	for (int i = 0; i < 64 &&
	     __atomic_load_n(&mt.vmas, __ATOMIC_RELAXED) > mt.vma_budget; i++)
		dx_map_reclaim(8);
}

/* Mappings with pages marked SIGBUS for want of space (fault.c). */
unsigned dx_map_nospace_pending;

/* Retry jobs not yet done, and the thread's own queued ones. */
static struct {
	struct dx_mutex lock;	/* LEAF */
	pthread_cond_t done;
	unsigned pending;
} retry = {{PTHREAD_MUTEX_INITIALIZER, DX_LC_LEAF},
	PTHREAD_COND_INITIALIZER, 0};
static __thread bool retry_queued;

void
dx_map_space_freed(void)
{
	if (__atomic_load_n(&dx_map_nospace_pending, __ATOMIC_RELAXED) == 0)
		return;
	pthread_once(&mt.once, map_init);
	dx_rwlock_rdlock(&mt.table_lock);
	for (struct dx_rb_node *n = dx_rb_first(&mt.table); n != NULL;
	    n = dx_rb_next(n)) {
		struct dx_mapping *m = tnode_map(n);

		if (__atomic_load_n(&m->nnospace, __ATOMIC_RELAXED) == 0)
			continue;
		dx_mutex_lock(&retry.lock);
		retry.pending++;
		dx_mutex_unlock(&retry.lock);
		retry_queued = true;
		dx_uffd_queue_retry(m);
	}
	dx_rwlock_unlock(&mt.table_lock);
}

void
dx_map_retry_done(void)
{
	dx_mutex_lock(&retry.lock);
	if (--retry.pending == 0)
		pthread_cond_broadcast(&retry.done);
	dx_mutex_unlock(&retry.lock);
}

void
dx_map_retry_wait(void)
{
	if (!retry_queued)
		return;
	retry_queued = false;
	dx_assert_lockless();
	dx_mutex_lock(&retry.lock);
	while (retry.pending > 0)
		pthread_cond_wait(&retry.done, &retry.lock.m);
	dx_mutex_unlock(&retry.lock);
}

uint64_t
dx_map_stamp(void)
{
	return __atomic_add_fetch(&mt.clock, 1, __ATOMIC_RELAXED);
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
	if (mmap(addr, len, prot, MAP_SHARED | MAP_FIXED, sigbus_memfd, 0) == MAP_FAILED ||
	    madvise(addr, len, MADV_DONTFORK) != 0)
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

static void unmap_range(uintptr_t a, size_t len);

DX_EXPORT void *
daxfile_mmap(void *addr, size_t length, int prot, int flags,
	daxfile_file *file, off_t offset)
{
	struct dx_mapping *m;
	struct dx_inode *ip;
	size_t len;
	bool shared;
	void *r;

	if (mmap_check(addr, length, prot, flags, file, offset) != 0)
		return MAP_FAILED;
	pthread_once(&mt.once, map_init);
	if (dx_uffd_start() != 0)
		return MAP_FAILED;
	ip = file->ip;
	len = DX_ALIGN_UP(length, 4096);
	shared = (flags & MAP_TYPE) != MAP_PRIVATE;
	if (flags & MAP_FIXED)
		unmap_range((uintptr_t)addr, len);
	dx_map_install_begin();
	r = mmap_place(addr, len, prot, flags, (uint64_t)offset,
		shared && (prot & PROT_WRITE));
	dx_map_install_end();
	if (r == MAP_FAILED)
		return MAP_FAILED;
	m = mapping_new(ip, (uintptr_t)r, len, (uint64_t)offset, prot, shared);
	if (m == NULL) {
		munmap(r, len);
		dx_err(ENOMEM, "cannot allocate a mapping");
		return MAP_FAILED;
	}
	dx_ilock(ip, DX_MMAPLOCK_EXCL);
	mapping_link(m);
	dx_iunlock(ip, DX_MMAPLOCK_EXCL);
	spare_fill(prot);
	return r;
}

/* --- munmap -------------------------------------------------------------- */

/* mapping_part -- a new mapping for [a, a+len) of m, with m's window states. */
static struct dx_mapping *
mapping_part(struct dx_mapping *m, uintptr_t a, size_t len)
{
	struct dx_mapping *p = mapping_new(m->ip, a, len,
		dx_mapping_foff(m, a), m->prot, m->shared);

	if (p == NULL)
		return NULL;
	for (uint64_t w = 0; w < p->nwin; w++) {
		p->win[w] = m->win[p->win0 + w - m->win0];
		p->stamp[w] = m->stamp[p->win0 + w - m->win0];
		dx_map_vmas_set(p, w, m->vmas[p->win0 + w - m->win0]);
	}
	return p;
}

/*
 * unmap_one -- take [a, a+len) out of mapping m (caller holds a reference
 * and m's file's mmaplock exclusive): what remains of m on either side
 * becomes mappings of its own.
 */
static void
unmap_one(struct dx_mapping *m, uintptr_t a, size_t len)
{
	uintptr_t s = DX_MAX(a, m->addr);
	uintptr_t e = DX_MIN(a + len, m->addr + m->len);
	struct dx_mapping *left = NULL, *right = NULL;

	if (s > m->addr)
		left = mapping_part(m, m->addr, s - m->addr);
	if (e < m->addr + m->len)
		right = mapping_part(m, e, m->addr + m->len - e);
	VERIFY((s == m->addr || left) && (e == m->addr + m->len || right));
	mapping_unlink(m);
	if (left != NULL)
		mapping_link(left);
	if (right != NULL)
		mapping_link(right);
	VERIFY(munmap((void *)s, e - s) == 0);
	dx_uffd_wake((void *)s, e - s);
	dx_mapping_put(m); /* the table's reference */
}

/*
 * unmap_range -- remove the parts inside [a, a+len) of the mappings there
 * now (not of mappings another thread creates meanwhile in the addresses
 * this frees).  Returns when no queued fault holds a removed mapping any
 * more, so that the file and pool it references may be closed at once.
 */
static void
unmap_range(uintptr_t a, size_t len)
{
	struct dx_mapping **found = NULL;
	size_t n = 0, cap = 0;
	struct dx_mapping *m;

	dx_rwlock_rdlock(&mt.table_lock);
	m = table_floor(a);
	if (m == NULL || m->addr + m->len <= a)
		m = tnode_map(m ? dx_rb_next(&m->tnode) : dx_rb_first(&mt.table));
	for (; m != NULL && m->addr < a + len; m = tnode_map(dx_rb_next(&m->tnode))) {
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			found = dx_realloc(DX_ARENA_GLOBAL, found, cap * sizeof(*found));
			VERIFY(found != NULL);
		}
		__atomic_add_fetch(&m->refcnt, 1, __ATOMIC_RELAXED);
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
			unmap_one(m, a, len);
			mine = true;
		}
		dx_iunlock(ip, DX_MMAPLOCK_EXCL);
		/* stale faults of m finish quickly: m is dead */
		while (mine && __atomic_load_n(&m->refcnt, __ATOMIC_ACQUIRE) > 1)
			sched_yield();
		dx_mapping_put(m);
	}
	dx_free(DX_ARENA_GLOBAL, found);
}

DX_EXPORT int
daxfile_munmap(void *addr, size_t length)
{
	dx_err_begin();
	if (((uintptr_t)addr & 4095) || length == 0)
		return dx_err(EINVAL, "address not page aligned or length zero");
	if ((uintptr_t)addr + length < (uintptr_t)addr)
		return dx_err(EINVAL, "range wraps around");
	pthread_once(&mt.once, map_init);
	unmap_range((uintptr_t)addr, DX_ALIGN_UP(length, 4096));
	dx_map_retry_wait();
	return 0;
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
			dx_data_persist(ip->pool, dx_block_ptr(ip->pool, mp.pblk),
				mp.len << DX_BLOCK_SHIFT);
		lblk += mp.len;
	}
	dx_iunlock(ip, DX_ILOCK_SHARED);
}

DX_EXPORT int
daxfile_msync(void *addr, size_t length, int flags)
{
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
		dx_mapping_put(m);
		a = e;
	}
	return 0;
}
