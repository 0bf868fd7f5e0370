/*
 * fault.c -- resolving a fault on a mapping: from the kernel's message to
 * the pool's pages installed in place.
 *
 * A fault resolves its whole window (2 MiB of address space, aligned),
 * clipped to the mapping and to the page holding EOF, run by run: written
 * extents are mapped from the pool file (MAP_SHARED) or copied (MAP_PRIVATE);
 * holes and unwritten extents get zero pages, write-protected in writable
 * shared mappings so that a store faults again; pages past EOF get SIGBUS
 * markers.  A store to a hole or an unwritten extent first gets its blocks
 * (zeroed, linked in a transaction: durable before the store proceeds, which
 * is what MAP_SYNC promises).  A fault in a shared mapping also installs
 * the windows after its own that the same run of written blocks covers
 * (fault_around).
 *
 * Locks: the file's mmaplock shared for the whole resolution (no truncate or
 * punch can change blocks meanwhile), the ilock shared to read the extent
 * map, exclusive to allocate.  The worker of one file resolves its faults in
 * order, so window states are never written by two threads at once.
 */
#include "config.h"

#include <errno.h>
#include <libpmem.h>
#include <string.h>
#include <sys/mman.h>

#include "bmap.h"
#include "data.h"
#include "map.h"
#include "out.h"
#include "pool.h"
#include "uffd.h"

/* A window being resolved: the part of it the mapping covers, and EOF. */
struct fwin {
	struct dx_mapping *m;
	uint64_t w;		/* window number */
	uintptr_t start, end;	/* the window inside the mapping */
	uintptr_t eof;		/* addresses from here are past EOF */
};

/* mapping_eof -- the address in 'm' from which pages lie past EOF. */
static uintptr_t
mapping_eof(const struct dx_mapping *m)
{
	uint64_t size = __atomic_load_n(&m->ip->di->size, __ATOMIC_ACQUIRE);
	uint64_t eof_page = DX_ALIGN_UP(size, 4096);

	if (eof_page <= m->off)
		return m->addr;
	if (eof_page - m->off >= m->len)
		return m->addr + m->len;
	return m->addr + (eof_page - m->off);
}

static void
fwin_init(struct fwin *fw, struct dx_mapping *m, uint64_t addr)
{
	fw->m = m;
	fw->w = addr >> DX_WIN_SHIFT;
	fw->start = DX_MAX(m->addr, fw->w << DX_WIN_SHIFT);
	fw->end = DX_MIN(m->addr + m->len, (fw->w + 1) << DX_WIN_SHIFT);
	fw->eof = DX_MIN(DX_MAX(mapping_eof(m), fw->start), fw->end);
}

/*
 * install_file -- map pool blocks at 'a' (shared; with their page table
 * entries filled when 'populate') or copy them (private).
 */
static int
install_file(struct dx_mapping *m, uintptr_t a, size_t n, uint64_t pblk,
	bool populate)
{
	struct daxfile_pool *pool = m->pool;
	int ret = 0;

	if (!m->shared)
		return dx_uffd_copy((void *)a, dx_block_ptr(pool, pblk), n, false);
	dx_map_install_begin();
	if (mmap((void *)a, n, m->prot, MAP_SHARED | MAP_FIXED |
		(populate ? MAP_POPULATE : 0), pool->fd,
		(off_t)(pblk << DX_BLOCK_SHIFT)) == MAP_FAILED)
		ret = dx_err_keep("cannot install pool pages");
	else if (madvise((void *)a, n, MADV_DONTFORK) != 0)
		ret = dx_err_keep("cannot keep pool pages from forks");
	dx_map_install_end();
	return ret;
}

/*
 * fwin_install -- resolve every page of the window below EOF from the
 * extent map (caller holds the ilock shared), and mark the rest SIGBUS.
 */
static int
fwin_install(struct fwin *fw)
{
	struct dx_mapping *m = fw->m;
	bool wp = m->shared && (m->prot & PROT_WRITE);
	uint32_t vmas = 0;

	for (uintptr_t a = fw->start; a < fw->eof;) {
		uint64_t lblk = dx_mapping_foff(m, a) >> DX_BLOCK_SHIFT;
		struct dx_map mp;
		size_t n;
		int ret;

		dx_bmap_lookup(m->ip, lblk, (fw->eof - a) >> DX_BLOCK_SHIFT, &mp);
		n = mp.len << DX_BLOCK_SHIFT;
		if (mp.pblk != 0 && !mp.unwritten) {
			ret = install_file(m, a, n, mp.pblk, true);
			vmas += m->shared;
		} else {
			ret = dx_uffd_copy((void *)a, NULL, n, wp);
		}
		if (ret != 0)
			return -1;
		a += n;
	}
	dx_map_vmas_set(m, fw->w - m->win0, vmas);
	if (fw->eof < fw->end && dx_uffd_has_poison())
		return dx_uffd_poison((void *)fw->eof, fw->end - fw->eof);
	if (fw->eof < fw->end)
		return dx_map_sigbus((void *)fw->eof, fw->end - fw->eof, m->prot);
	return 0;
}

/*
 * fwin_alloc -- a store at 'addr' of a shared mapping: give the hole or
 * unwritten run around it (inside the window, below EOF) written, zeroed
 * blocks, as page_mkwrite does for the kernel.
 */
static int
fwin_alloc(struct fwin *fw, uintptr_t addr)
{
	struct dx_mapping *m = fw->m;
	struct dx_inode *ip = m->ip;
	uint64_t first = dx_mapping_foff(m, fw->start) >> DX_BLOCK_SHIFT;
	uint64_t end = dx_mapping_foff(m, fw->eof) >> DX_BLOCK_SHIFT;
	uint64_t lblk = dx_mapping_foff(m, addr) >> DX_BLOCK_SHIFT;
	uint64_t s = first, e;
	int ret;

	dx_ilock(ip, DX_ILOCK_EXCL);
	/* the run holding lblk: walk from the window start */
	for (;;) {
		struct dx_map mp;

		dx_bmap_lookup(ip, s, end - s, &mp);
		if (lblk < s + mp.len) {
			e = s + mp.len;
			if (mp.pblk != 0 && !mp.unwritten) {
				dx_iunlock(ip, DX_ILOCK_EXCL);
				return 0; /* already written */
			}
			break;
		}
		s += mp.len;
	}
	ret = dx_data_make_written(ip, s, e - s);
	dx_iunlock(ip, DX_ILOCK_EXCL);
	/* other mappings may show zero pages over the new blocks */
	if (ret == 0)
		dx_map_invalidate_others(ip, m, s << DX_BLOCK_SHIFT,
			e << DX_BLOCK_SHIFT);
	return ret;
}

/*
 * Fault-around.  A fault costs a round trip through the reader and a worker
 * (tens of microseconds), the kernel's own fault on a page cache page a few:
 * served window by window, a first touch would pay the round trip for every
 * 2 MiB.  So a fault also installs the windows after its own that one run
 * of written blocks, contiguous in the file and in the pool, covers whole,
 * up to FAULT_AROUND_MAX, before the faulting thread is woken: with one
 * mmap and nothing populated, which costs the same however many windows it
 * covers.  The kernel then fills their page table entries itself at the
 * first access of each page, as for any tmpfs file (fault-around, or one
 * 2 MiB entry where the pool's pages are huge), and the passes after the
 * first find the entries a tmpfs mapping would have.  A contiguous file
 * takes one fault per FAULT_AROUND_MAX windows, whatever the order of its
 * accesses.
 */
#define FAULT_AROUND_MAX 512	/* windows: 1 GiB */

/*
 * fault_around -- window 'w' of 'm' was just resolved by a fault: install
 * the windows after it that one run of written blocks covers whole, below
 * EOF, with nothing in place (mmaplock shared held, by the file's worker).
 */
static void
fault_around(struct dx_mapping *m, uint64_t w)
{
	uintptr_t a = (w + 1) << DX_WIN_SHIFT, end;
	uintptr_t limit = DX_MIN(m->addr + m->len,
		(w + 1 + FAULT_AROUND_MAX) << DX_WIN_SHIFT);
	struct dx_map mp;
	uint64_t i, pblk;

	if (!m->shared || a >= limit)
		return;
	dx_ilock(m->ip, DX_ILOCK_SHARED);
	limit = DX_MIN(limit, mapping_eof(m));
	if (a >= limit)
		goto out;
	dx_bmap_lookup(m->ip, dx_mapping_foff(m, a) >> DX_BLOCK_SHIFT,
		(limit - a) >> DX_BLOCK_SHIFT, &mp);
	if (mp.pblk == 0 || mp.unwritten)
		goto out;
	pblk = mp.pblk;
	end = a + (mp.len << DX_BLOCK_SHIFT);
	/* extents that continue it in the pool (across AGs) join the run */
	while (end < limit) {
		dx_bmap_lookup(m->ip, dx_mapping_foff(m, end) >> DX_BLOCK_SHIFT,
			(limit - end) >> DX_BLOCK_SHIFT, &mp);
		if (mp.unwritten ||
		    mp.pblk != pblk + ((end - a) >> DX_BLOCK_SHIFT))
			break;
		end += mp.len << DX_BLOCK_SHIFT;
	}
	/* whole windows only, unless the run reaches the mapping's end */
	if (end < m->addr + m->len)
		end = DX_ALIGN_DOWN(end, DX_WIN_SIZE);
	for (i = w + 1; i << DX_WIN_SHIFT < end; i++)
		if (m->win[i - m->win0] != DX_WIN_NONE)
			break;
	end = DX_MIN(end, i << DX_WIN_SHIFT);
	if (end <= a || install_file(m, a, end - a, pblk, false) != 0)
		goto out;
	for (i = w + 1; i << DX_WIN_SHIFT < end; i++) {
		m->win[i - m->win0] = DX_WIN_INSTALLED;
		m->stamp[i - m->win0] = dx_map_stamp();
		dx_map_vmas_set(m, i - m->win0, 1);
	}
out:
	dx_iunlock(m->ip, DX_ILOCK_SHARED);
}

/*
 * fault_window -- resolve the window of 'addr' (mmaplock shared held):
 * 1 when it installed it, 0 when there was nothing to do, -1 on error.
 */
static int
fault_window(struct dx_mapping *m, uint64_t addr, unsigned flags)
{
	uint8_t *state = &m->win[(addr >> DX_WIN_SHIFT) - m->win0];
	struct fwin fw;
	int ret;

	fwin_init(&fw, m, addr);
	if (!(flags & DX_FAULT_WP) && *state == DX_WIN_INSTALLED)
		return 0; /* resolved while this fault waited in the queue */
	if (addr < fw.eof && (flags & DX_FAULT_WRITE) && m->shared &&
	    fwin_alloc(&fw, addr) != 0)
		return -1;
	dx_ilock(m->ip, DX_ILOCK_SHARED);
	ret = fwin_install(&fw);
	dx_iunlock(m->ip, DX_ILOCK_SHARED);
	if (ret != 0)
		return -1;
	*state = DX_WIN_INSTALLED;
	m->stamp[fw.w - m->win0] = dx_map_stamp();
	return 1;
}

/*
 * fault_fail -- a fault that cannot be served (no space for the store, the
 * pool damaged): the page gets a SIGBUS marker, and the faulting thread,
 * woken, gets SIGBUS (BUS_ADRERR) as the kernel gives when a DAX fault
 * cannot allocate.  A marker for want of space goes when blocks are freed
 * (fault_retry), so a later access tries again; other markers go with the
 * next change of the file's layout there.
 */
static void
fault_fail(struct dx_mapping *m, uint64_t addr, unsigned flags)
{
	uint8_t *state = &m->win[(addr >> DX_WIN_SHIFT) - m->win0];
	bool nospace = errno == ENOSPC;

	fprintf(stderr, "libdaxfile: cannot serve a fault at %#lx: %s\n",
		(unsigned long)addr, daxfile_errormsg());
	/* a store to a zero page: the page is there, take it away first */
	if ((flags & DX_FAULT_WP) && dx_map_replace(m, addr, 4096) != 0)
		return;
	if (dx_uffd_has_poison())
		dx_uffd_poison((void *)addr, 4096);
	else
		dx_map_sigbus((void *)addr, 4096, m->prot);
	if (*state == DX_WIN_NONE)
		*state = DX_WIN_PARTIAL;
	if (!nospace)
		return;
	if (m->nnospace == m->capnospace) {
		unsigned cap = m->capnospace ? 2 * m->capnospace : 8;
		uint64_t *p = dx_realloc(DX_ARENA_GLOBAL, m->nospace,
			cap * sizeof(*p));

		if (p == NULL)
			return;
		m->nospace = p;
		m->capnospace = cap;
	}
	m->nospace[m->nnospace] = addr;
	if (__atomic_add_fetch(&m->nnospace, 1, __ATOMIC_RELAXED) == 1)
		__atomic_add_fetch(&dx_map_nospace_pending, 1, __ATOMIC_RELAXED);
}

/*
 * fault_retry -- space was freed: clear the SIGBUS markers of stores that
 * found none, so the next access faults again (caller holds the mmaplock
 * shared and is the file's worker).
 */
static void
fault_retry(struct dx_mapping *m)
{
	for (unsigned i = 0; i < m->nnospace; i++) {
		uintptr_t a = m->nospace[i];

		if (a < m->addr || a >= m->addr + m->len)
			continue; /* munmap took that part away */
		if (dx_uffd_has_poison())
			madvise((void *)a, 4096, MADV_DONTNEED);
		else
			dx_map_replace(m, a, 4096);
		/* the page is missing again: its window must resolve anew */
		if (m->win[(a >> DX_WIN_SHIFT) - m->win0] != DX_WIN_NONE)
			m->win[(a >> DX_WIN_SHIFT) - m->win0] = DX_WIN_PARTIAL;
	}
	if (m->nnospace > 0)
		__atomic_sub_fetch(&dx_map_nospace_pending, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&m->nnospace, 0, __ATOMIC_RELAXED);
}

/* fault_wake -- wake the threads waiting in the window of 'addr'. */
static void
fault_wake(struct dx_mapping *m, uint64_t addr)
{
	uintptr_t ws = addr & ~(DX_WIN_SIZE - 1);

	dx_uffd_wake((void *)DX_MAX(ws, m->addr),
		DX_MIN(ws + DX_WIN_SIZE, m->addr + m->len) - DX_MAX(ws, m->addr));
}

void
dx_fault_resolve(struct dx_mapping *m, uint64_t addr, unsigned flags)
{
	struct dx_inode *ip = m->ip;
	int ret = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (!dx_rwlock_tryrdlock(&ip->mmaplock)) {
			dx_fault_blocking();
			dx_rwlock_rdlock(&ip->mmaplock);
			dx_fault_unblocked();
		}
		if (flags & DX_FAULT_RETRY) {
			if (!m->dead)
				fault_retry(m);
			dx_rwlock_unlock(&ip->mmaplock);
			dx_map_retry_done();
			return;
		}
		ret = m->dead ? 0 : fault_window(m, addr, flags);
		if (ret < 0 && attempt == 0 && errno == ENOMEM) {
			/* out of VMAs: give some back with no lock held, retry */
			dx_rwlock_unlock(&ip->mmaplock);
			dx_map_reclaim(64);
			continue;
		}
		if (ret < 0)
			fault_fail(m, addr, flags);
		if (ret > 0)
			fault_around(m, addr >> DX_WIN_SHIFT);
		fault_wake(m, addr);
		dx_rwlock_unlock(&ip->mmaplock);
		break;
	}
	/* with no lock held: keep clear of vm.max_map_count */
	dx_map_vmas_trim();
}
