/*
 * mmap.c -- mappings of pool files: mmap of a pool descriptor goes to
 * daxfile_mmap (pages served through userfaultfd, the pool's own pages
 * mapped), and munmap, msync, mprotect, mremap, madvise and posix_madvise
 * over such a mapping go to the library too.  The layer keeps the ranges
 * it made; each holds a reference on its file description (a mapping
 * outlives the descriptor) and so keeps its pool attached.  The library's
 * own calls to these functions (its workers install and replace pages)
 * are told apart by their return address and go straight to the kernel.
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <link.h>
#include <linux/falloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "entry.h"

struct range {
	uintptr_t start, end;
	off_t off;		/* file offset of 'start' */
	int prot, flags;
	struct dxp_ofd *o;
};

static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct range *maps;
static size_t nmaps, capmaps;
static atomic_size_t nmaps_fast;

/* the text of libdaxfile.so, once it is loaded */
static _Atomic uintptr_t lib_lo, lib_hi;

static int
lib_phdr(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t base = (uintptr_t)arg;

	if (info->dlpi_addr != base)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			atomic_store(&lib_hi, base + ph->p_vaddr + ph->p_memsz);
			atomic_store(&lib_lo, base + ph->p_vaddr);
		}
	}
	return 1;
}

bool
dxp_from_lib(void *ret)
{
	uintptr_t lo = atomic_load(&lib_lo);

	if (lo == 0) {
		Dl_info info;

		if (dxp_lib.daxfile_mmap == NULL ||
		    dladdr((void *)dxp_lib.daxfile_mmap, &info) == 0)
			return false;
		dl_iterate_phdr(lib_phdr, info.dli_fbase);
		lo = atomic_load(&lib_lo);
	}
	return (uintptr_t)ret >= lo && (uintptr_t)ret < atomic_load(&lib_hi);
}

/* overlaps -- does [a, b) meet any pool mapping? (maps_lock not needed) */
static bool
overlaps_any(uintptr_t a, uintptr_t b)
{
	bool r = false;

	if (atomic_load(&nmaps_fast) == 0)
		return false;
	pthread_mutex_lock(&maps_lock);
	for (size_t i = 0; i < nmaps && !r; i++)
		r = maps[i].start < b && a < maps[i].end;
	pthread_mutex_unlock(&maps_lock);
	return r;
}

/* add_range -- note a mapping (maps_lock held). */
static int
add_range(const struct range *r)
{
	if (nmaps == capmaps) {
		size_t cap = capmaps ? 2 * capmaps : 16;
		struct range *n = realloc(maps, cap * sizeof(*n));

		if (n == NULL)
			return -1;
		maps = n;
		capmaps = cap;
	}
	maps[nmaps++] = *r;
	atomic_store(&nmaps_fast, nmaps);
	return 0;
}

/*
 * cut_range -- forget [a, b) of the pool mappings (maps_lock held); the
 * references of ranges that vanish go on 'drop' (put after unlock).
 */
static void
cut_range(uintptr_t a, uintptr_t b, struct dxp_ofd **drop, size_t *ndrop)
{
	for (size_t i = 0; i < nmaps; i++) {
		struct range *r = &maps[i];

		if (r->end <= a || b <= r->start)
			continue;
		if (a > r->start && b < r->end) {
			struct range tail = *r;

			tail.off += (off_t)(b - r->start);
			tail.start = b;
			atomic_fetch_add(&r->o->refs, 1);
			r->end = a;
			if (add_range(&tail) != 0)
				drop[(*ndrop)++] = tail.o;
			return;
		}
		if (a <= r->start && b >= r->end) {
			drop[(*ndrop)++] = r->o;
			maps[i--] = maps[--nmaps];
			continue;
		}
		if (a <= r->start) {
			r->off += (off_t)(b - r->start);
			r->start = b;
		} else {
			r->end = a;
		}
	}
	atomic_store(&nmaps_fast, nmaps);
}

/* forget -- cut [a, b) and drop the references that went with it. */
static void
forget(uintptr_t a, uintptr_t b)
{
	struct dxp_ofd *drop[64];
	size_t ndrop = 0;

	pthread_mutex_lock(&maps_lock);
	cut_range(a, b, drop, &ndrop);
	pthread_mutex_unlock(&maps_lock);
	for (size_t i = 0; i < ndrop; i++) {
		dxp_mount_unhold(drop[i]->m);
		dxp_mount_put(drop[i]->m);
		dxp_ofd_put(drop[i]);
	}
}

/* map_pool -- mmap of a pool description. */
static void *
map_pool(struct dxp_ofd *o, void *addr, size_t len, int prot, int flags,
	off_t off)
{
	daxfile_file *f = dxp_ofd_file(o);
	struct range r;
	void *p;

	if (f == NULL)
		return (void *)dxp_oret(o, (long)MAP_FAILED);
	if ((o->flags & O_PATH) || ((prot & PROT_READ) &&
	    (o->flags & O_ACCMODE) == O_WRONLY) ||
	    ((prot & PROT_WRITE) && (flags & MAP_TYPE) != MAP_PRIVATE &&
	    (o->flags & O_ACCMODE) != O_RDWR)) {
		errno = (o->flags & O_PATH) ? EBADF : EACCES;
		return (void *)dxp_oret(o, (long)MAP_FAILED);
	}
	if (dxp_mount_get(o->m) == NULL)
		return (void *)dxp_oret(o, (long)MAP_FAILED);
	p = daxfile_mmap(addr, len, prot, flags, f, off);
	if (p == MAP_FAILED) {
		dxp_mret(o->m, 0);
		return (void *)dxp_oret(o, (long)MAP_FAILED);
	}
	dxp_mount_hold(o->m);
	r.start = (uintptr_t)p;
	r.end = r.start + ((len + 4095) & ~(size_t)4095);
	r.off = off;
	r.prot = prot;
	r.flags = flags;
	r.o = o;
	if (flags & MAP_FIXED)
		forget(r.start, r.end);
	pthread_mutex_lock(&maps_lock);
	if (add_range(&r) != 0) {
		pthread_mutex_unlock(&maps_lock);
		daxfile_munmap(p, len);
		dxp_mount_unhold(o->m);
		dxp_mret(o->m, 0);
		errno = ENOMEM;
		return (void *)dxp_oret(o, (long)MAP_FAILED);
	}
	pthread_mutex_unlock(&maps_lock);
	return p;
}

DXP_EXPORT void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct dxp_ofd *o;
	void *p;

	if (!(flags & MAP_ANONYMOUS) && (o = dxp_fd_get(fd)) != NULL)
		return map_pool(o, addr, len, prot, flags, off);
	p = REAL(mmap64)(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED && (flags & MAP_FIXED) &&
	    !dxp_from_lib(__builtin_return_address(0)) &&
	    overlaps_any((uintptr_t)p, (uintptr_t)p + len)) {
		/* the kernel replaced (part of) a pool mapping */
		forget((uintptr_t)p, (uintptr_t)p + ((len + 4095) & ~(size_t)4095));
	}
	return p;
}

DXP_EXPORT void *
mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
	__attribute__((alias("mmap")));

/* pool_parts -- call 'fn' on each part of [a, b) in a pool mapping. */
static int
pool_parts(uintptr_t a, uintptr_t b, int (*fn)(const struct range *, uintptr_t,
	uintptr_t, void *), void *arg)
{
	struct range parts[64];
	size_t n = 0;
	int ret = 0;

	pthread_mutex_lock(&maps_lock);
	for (size_t i = 0; i < nmaps && n < 64; i++) {
		struct range *r = &maps[i];

		if (r->end <= a || b <= r->start)
			continue;
		parts[n] = *r;
		atomic_fetch_add(&r->o->refs, 1);
		n++;
	}
	pthread_mutex_unlock(&maps_lock);
	for (size_t i = 0; i < n; i++) {
		uintptr_t s = parts[i].start > a ? parts[i].start : a;
		uintptr_t e = parts[i].end < b ? parts[i].end : b;

		if (ret == 0 && fn(&parts[i], s, e, arg) != 0)
			ret = -1;
		dxp_oret(parts[i].o, 0);
	}
	return ret;
}

static int
part_unmap(const struct range *r, uintptr_t s, uintptr_t e, void *arg)
{
	return daxfile_munmap((void *)s, e - s);
}

DXP_EXPORT int
munmap(void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr, b = a + ((len + 4095) & ~(size_t)4095);

	if (dxp_from_lib(__builtin_return_address(0)) || !overlaps_any(a, b))
		return REAL(munmap)(addr, len);
	if ((a & 4095) || len == 0)
		return errno = EINVAL, -1;
	if (pool_parts(a, b, part_unmap, NULL) != 0)
		return -1;
	forget(a, b);
	return REAL(munmap)(addr, len);
}

static int
part_msync(const struct range *r, uintptr_t s, uintptr_t e, void *arg)
{
	return daxfile_msync((void *)s, e - s, *(int *)arg);
}

DXP_EXPORT int
msync(void *addr, size_t len, int flags)
{
	uintptr_t a = (uintptr_t)addr, b = a + len;

	if (dxp_from_lib(__builtin_return_address(0)) || !overlaps_any(a, b))
		return REAL(msync)(addr, len, flags);
	if (pool_parts(a, b, part_msync, &flags) != 0)
		return -1;
	return REAL(msync)(addr, len, flags);
}

/*
 * part_reprotect -- mprotect of a shared mapping's part: mapped again
 * from the file with the new protection (the library installs pages with
 * a mapping's protection, so it must know it).
 */
static int
part_reprotect(const struct range *r, uintptr_t s, uintptr_t e, void *arg)
{
	int prot = *(int *)arg;
	daxfile_file *f;
	struct range nr = *r;

	if (prot == r->prot)
		return 0;
	if ((r->flags & MAP_TYPE) == MAP_PRIVATE)
		return errno = ENOTSUP, -1;
	if ((prot & PROT_WRITE) && (r->o->flags & O_ACCMODE) != O_RDWR)
		return errno = EACCES, -1;
	f = dxp_ofd_file(r->o);
	if (f == NULL)
		return -1;
	nr.start = s;
	nr.end = e;
	nr.off = r->off + (off_t)(s - r->start);
	nr.prot = prot;
	if (daxfile_mmap((void *)s, e - s, prot, (r->flags & MAP_TYPE) | MAP_FIXED,
	    f, nr.off) == MAP_FAILED)
		return -1;
	forget(s, e);
	atomic_fetch_add(&r->o->refs, 1);
	dxp_mount_get(r->o->m);
	dxp_mount_hold(r->o->m);
	pthread_mutex_lock(&maps_lock);
	add_range(&nr);
	pthread_mutex_unlock(&maps_lock);
	return 0;
}

DXP_EXPORT int
mprotect(void *addr, size_t len, int prot)
{
	uintptr_t a = (uintptr_t)addr, b = a + len;

	if (dxp_from_lib(__builtin_return_address(0)) || !overlaps_any(a, b))
		return REAL(mprotect)(addr, len, prot);
	if (a & 4095)
		return errno = EINVAL, -1;
	return pool_parts(a, (b + 4095) & ~(uintptr_t)4095, part_reprotect, &prot);
}

DXP_EXPORT void *
mremap(void *old, size_t oldlen, size_t newlen, int flags, ...)
{
	uintptr_t a = (uintptr_t)old;
	struct range r = {0};
	void *fixed = NULL, *p;
	bool found = false;
	va_list ap;

	va_start(ap, flags);
	if (flags & MREMAP_FIXED)
		fixed = va_arg(ap, void *);
	va_end(ap);
	if (dxp_from_lib(__builtin_return_address(0)) ||
	    !overlaps_any(a, a + (oldlen ? oldlen : 1)))
		return REAL(mremap)(old, oldlen, newlen, flags, fixed);
	pthread_mutex_lock(&maps_lock);
	for (size_t i = 0; i < nmaps; i++)
		if (maps[i].start <= a && a < maps[i].end) {
			r = maps[i];
			atomic_fetch_add(&r.o->refs, 1);
			found = true;
			break;
		}
	pthread_mutex_unlock(&maps_lock);
	if (!found || (a & 4095) || a + oldlen > r.end || newlen == 0)
		goto einval;
	r.off += (off_t)(a - r.start);
	oldlen = (oldlen + 4095) & ~(size_t)4095;
	newlen = (newlen + 4095) & ~(size_t)4095;
	if (newlen <= oldlen && !(flags & MREMAP_FIXED)) {
		if (newlen < oldlen &&
		    munmap((void *)(a + newlen), oldlen - newlen) != 0)
			goto err;
		dxp_oret(r.o, 0);
		return old;
	}
	if (!(flags & MREMAP_MAYMOVE)) {
		errno = ENOMEM;
		goto err;
	}
	/* a new mapping of the file, then the old one goes (private pages copied) */
	p = map_pool(r.o, fixed, newlen, r.prot, (r.flags & ~(MAP_FIXED |
		MAP_FIXED_NOREPLACE)) | (fixed ? MAP_FIXED : 0), r.off);
	if (p == MAP_FAILED)
		return MAP_FAILED;
	if ((r.flags & MAP_TYPE) == MAP_PRIVATE && (r.prot & PROT_WRITE))
		memcpy(p, old, oldlen);
	munmap(old, oldlen);
	return p;
einval:
	errno = EINVAL;
err:
	if (found)
		dxp_oret(r.o, 0);
	return MAP_FAILED;
}

static int
part_madvise(const struct range *r, uintptr_t s, uintptr_t e, void *arg)
{
	int advice = *(int *)arg;
	daxfile_file *f;

	switch (advice) {
	case MADV_DOFORK:
		/* a child must never reach pool pages without the library */
		return 0;
	case MADV_REMOVE:
		if ((r->flags & MAP_TYPE) == MAP_PRIVATE)
			return errno = EINVAL, -1;
		f = dxp_ofd_file(r->o);
		if (f == NULL)
			return -1;
		return daxfile_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			r->off + (off_t)(s - r->start), (off_t)(e - s));
	default:
		return REAL(madvise)((void *)s, e - s, advice);
	}
}

DXP_EXPORT int
madvise(void *addr, size_t len, int advice)
{
	uintptr_t a = (uintptr_t)addr, b = a + len;

	if (dxp_from_lib(__builtin_return_address(0)) || !overlaps_any(a, b))
		return REAL(madvise)(addr, len, advice);
	if (advice == MADV_DOFORK || advice == MADV_REMOVE)
		return pool_parts(a, b, part_madvise, &advice);
	return REAL(madvise)(addr, len, advice);
}

DXP_EXPORT int
posix_madvise(void *addr, size_t len, int advice)
{
	int r = madvise(addr, len, advice == POSIX_MADV_DONTNEED ? MADV_NORMAL :
		advice);

	return r == 0 ? 0 : errno;
}

void
dxp_mmap_forget(void)
{
	/* the child has none of the mappings (MADV_DONTFORK) nor the pools */
	free(maps);
	maps = NULL;
	nmaps = capmaps = 0;
	atomic_store(&nmaps_fast, 0);
	pthread_mutex_init(&maps_lock, NULL);
}
