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
 * (fault_around), and first moves the blocks of a window scattered over the
 * pool to one run (fwin_defragment), so that it takes one VMA.
 *
 * Locks: the file's mmaplock shared for the whole resolution (no truncate or
 * punch can change blocks meanwhile), the ilock shared to read the extent
 * map; a store's blocks come from iomap.c, which takes the ilock exclusive.
 * The worker of one file resolves its faults in order, so window states
 * (map.c's, changed through dx_map_win_*) are never written by two threads
 * at once.  A fault the kernel refused memory for is tried again after the
 * deferred VMA reclaim ran, with no lock held.
 *
 * Reading one fault: uffd.c (the message, the file's queue), this file, and
 * iomap.c (the blocks behind a store).
 */
#include "config.h"

#include <errno.h>
#include <libpmem.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc.h"
#include "bmap.h"
#include "defer.h"
#include "errinj.h"
#include "iomap.h"
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
	dx_alloc_note_mapped(pool, pblk, n >> DX_BLOCK_SHIFT);
	dx_map_install_begin();
	if (dx_ei_mmap((void *)a, n, m->prot, MAP_SHARED | MAP_FIXED |
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

	dx_assert_held(&m->ip->ilock);
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
	if (fw->eof < fw->end &&
	    (dx_uffd_has_poison() ? dx_uffd_poison((void *)fw->eof,
		fw->end - fw->eof) : dx_map_sigbus((void *)fw->eof,
		fw->end - fw->eof, m->prot)) != 0)
		return -1;
	dx_map_win_installed(m, fw->start, vmas);
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
	struct dx_iomap map;
	int ret;

	dx_ilock(ip, DX_ILOCK_SHARED);
	/* the run holding lblk: walk from the window start */
	for (;;) {
		struct dx_map mp;

		dx_bmap_lookup(ip, s, end - s, &mp);
		if (lblk < s + mp.len) {
			e = s + mp.len;
			if (mp.pblk != 0 && !mp.unwritten) {
				dx_iunlock(ip, DX_ILOCK_SHARED);
				return 0; /* already written */
			}
			break;
		}
		s += mp.len;
	}
	dx_iunlock(ip, DX_ILOCK_SHARED);
	ret = dx_iomap_begin(ip, s << DX_BLOCK_SHIFT, (e - s) << DX_BLOCK_SHIFT,
		DX_IOMAP_FAULT, &map);
	/* other mappings may show zero pages over the new blocks */
	if (ret == 0 && map.fresh)
		dx_map_invalidate_zeros(ip, m, s << DX_BLOCK_SHIFT,
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
		if (!dx_map_win_empty(m, i << DX_WIN_SHIFT))
			break;
	end = DX_MIN(end, i << DX_WIN_SHIFT);
	if (end <= a || install_file(m, a, end - a, pblk, false) != 0)
		goto out;
	/* one VMA, counted in every window it covers */
	for (i = w + 1; i << DX_WIN_SHIFT < end; i++)
		dx_map_win_installed(m, i << DX_WIN_SHIFT, 1);
out:
	dx_iunlock(m->ip, DX_ILOCK_SHARED);
}

/*
 * Fragmented windows.  A window of a file written out of order (last block
 * first, or many files in turn) lies on scattered pool blocks, and a
 * shared mapping needs one VMA per run of blocks contiguous in the pool:
 * up to 512 per window and per mapping.  The kernel's cost of taking a
 * VMA away (about 1 us each) then dwarfs everything else a truncate or a
 * punch does under N mappings, and the installs cost two system calls
 * per run.  So a fault that finds its window (inside EOF, all written) in
 * DEFRAG_MIN_RUNS runs or more first moves those blocks to one free run
 * at the file's place modulo 2 MiB, as an online defragmenter would, and
 * installs the window as one VMA.  Moving needs the iolock exclusive (no
 * write copies into the old blocks, reads without the iolock retry), which
 * a fault must never wait for (a read or write holding it may be copying
 * from this very mapping): it is only tried, and a busy file is installed
 * run by run.  The pages other shared mappings show there are taken away
 * before the copy, so no store reaches the old blocks after it; the old
 * blocks are freed in the transaction that links the new ones (to the
 * quarantine where a mapping showed them).
 */
#define DEFRAG_MIN_RUNS 16

/*
 * fwin_defragment -- move a fragmented window's blocks to one run before
 * it is installed (mmaplock shared held, by the file's worker).
 */
static void
fwin_defragment(struct fwin *fw)
{
	struct dx_mapping *m = fw->m;
	struct dx_inode *ip = m->ip;
	uint64_t s = dx_mapping_foff(m, fw->start);
	uint64_t e = dx_mapping_foff(m, fw->eof);

	/* look first: the iolock is only taken for a window worth moving */
	if (!m->shared || ((e - s) >> DX_BLOCK_SHIFT) < DEFRAG_MIN_RUNS ||
	    !dx_iomap_fragmented(ip, s >> DX_BLOCK_SHIFT,
		(e - s) >> DX_BLOCK_SHIFT, DEFRAG_MIN_RUNS) ||
	    !dx_itrylock_io_excl(ip))
		return;
	/* nothing changed the blocks meanwhile: that needs the iolock or
	   this file's worker; relocate looks again under the ilock */
	if (dx_map_invalidate_moving(ip, s, e) == 0)
		(void)dx_iomap_relocate(ip, s >> DX_BLOCK_SHIFT,
			(e - s) >> DX_BLOCK_SHIFT);
	dx_iunlock(ip, DX_IOLOCK_EXCL);
}

/*
 * fault_window -- resolve the window of 'addr' (mmaplock shared held):
 * 1 when it installed it, 0 when there was nothing to do, -1 on error.
 */
static int
fault_window(struct dx_mapping *m, uint64_t addr, unsigned flags)
{
	struct fwin fw;
	int ret;

	dx_assert_held(&m->ip->mmaplock);
	fwin_init(&fw, m, addr);
	if (!(flags & DX_FAULT_WP) && dx_map_win_resolved(m, addr))
		return 0; /* resolved while this fault waited in the queue */
	if (addr < fw.eof && (flags & DX_FAULT_WRITE) && m->shared &&
	    fwin_alloc(&fw, addr) != 0)
		return -1;
	if (addr < fw.eof)
		fwin_defragment(&fw);
	dx_ilock(m->ip, DX_ILOCK_SHARED);
	ret = fwin_install(&fw);
	dx_iunlock(m->ip, DX_ILOCK_SHARED);
	if (ret != 0)
		return -1;
	return 1;
}

/*
 * fault_lock -- the file's mmaplock, shared.  A worker about to wait for it
 * (a truncate holds it) first makes sure faults on other files have a
 * worker.
 */
static void
fault_lock(struct dx_inode *ip)
{
	if (dx_rwlock_tryrdlock(&ip->mmaplock))
		return;
	dx_fault_blocking();
	dx_ilock(ip, DX_MMAPLOCK_SHARED);
	dx_fault_unblocked();
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

	for (int attempt = 0; attempt < 2; attempt++) {
		int ret;

		fault_lock(ip);
		ret = m->dead ? 0 : fault_window(m, addr, flags);
		if (ret < 0 && attempt == 0 && errno == ENOMEM) {
			/* out of VMAs: give some back with no lock held, retry */
			dx_iunlock(ip, DX_MMAPLOCK_SHARED);
			dx_map_want_vmas();
			dx_defer_run();
			continue;
		}
		if (ret < 0)
			dx_map_win_failed(m, addr, flags & DX_FAULT_WP,
				errno == ENOSPC || errno == ENOMEM);
		if (ret > 0)
			fault_around(m, addr >> DX_WIN_SHIFT);
		dx_iunlock(ip, DX_MMAPLOCK_SHARED);
		break;
	}
	fault_wake(m, addr);
}
