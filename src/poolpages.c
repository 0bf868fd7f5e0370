/*
 * poolpages.c -- a new pool file on tmpfs made of 2 MiB pages.
 *
 * A pool on persistent memory is mapped as a DAX file or device is: the
 * kernel installs 2 MiB (or 1 GiB) pages where the file's blocks allow, so
 * a load anywhere in a big pool costs no more than one TLB entry per
 * 2 MiB.  A pool on tmpfs is mapped with the file's own pages, which
 * /dev/shm (mounted without huge=, shmem_enabled "never" by default)
 * makes 4 KiB each: every random access to a big file then misses the
 * TLB (the kernel's read(2) on the same tmpfs copies through its direct
 * map, where it does not), and every process that opens the pool takes a
 * fault per 4 KiB it touches.
 *
 * MADV_COLLAPSE (Linux 6.1) gathers a 2 MiB range of a tmpfs file into one
 * 2 MiB page whatever the mount option and the sysfs setting say.  So a
 * pool on tmpfs is made here, before libpmemobj writes to it: one byte is
 * written in each 2 MiB of the sparse file and the range collapsed, which
 * allocates the huge page and clears it (what posix_fallocate(3) costs
 * for 4 KiB pages); where the kernel refuses (no 2 MiB of free memory,
 * THP "deny", an older kernel), the range is left, and after eight
 * refusals in a row so is the rest: posix_fallocate gives what was left
 * 4 KiB pages.  The pages stay: tmpfs splits a huge page only where a
 * range of it is punched out (alloc.c's quarantine does, rarely).  The
 * mapping then installs them whole: libpmemobj maps a pool at an address
 * aligned to 2 MiB, and the data segments' blocks start on 2 MiB of the
 * file (mkfs.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "poolpages.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define HUGE_SIZE ((uint64_t)2 << 20)
#define COLLAPSE_TRIES 8	/* failures in a row before 4 KiB pages */

/* on_tmpfs -- would a file at 'path' live on tmpfs? */
static bool
on_tmpfs(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct statfs fs;
	char *dir;
	int ret;

	if (slash == NULL)
		return statfs(".", &fs) == 0 && fs.f_type == TMPFS_MAGIC;
	if (slash == path)
		return statfs("/", &fs) == 0 && fs.f_type == TMPFS_MAGIC;
	dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return false;
	ret = statfs(dir, &fs);
	free(dir);
	return ret == 0 && fs.f_type == TMPFS_MAGIC;
}

/*
 * collapse -- 2 MiB pages for the file open at 'fd' of 'size' bytes, as
 * far as the kernel gives them; the rest is left to posix_fallocate.
 */
static void
collapse(int fd, uint64_t size)
{
	uint64_t len = size & ~(HUGE_SIZE - 1);
	char *map, *base;

	if (len == 0)
		return;
	/* an address aligned to 2 MiB: MADV_COLLAPSE works on whole PMDs */
	map = mmap(NULL, len + HUGE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return;
	base = (char *)(((uintptr_t)map + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1));
	if (mmap(base, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) ==
	    MAP_FAILED) {
		munmap(map, len + HUGE_SIZE);
		return;
	}
	for (uint64_t off = 0, failed = 0; off < len; off += HUGE_SIZE) {
		/* the kernel collapses a range that holds at least one page */
		if (pwrite(fd, "", 1, (off_t)off) != 1)
			break;	/* the file system is full */
		if (madvise(base + off, HUGE_SIZE, MADV_COLLAPSE) == 0) {
			failed = 0;
			continue;
		}
		/*
		 * EINVAL: no MADV_COLLAPSE here (before Linux 6.1, THP
		 * "deny"); EAGAIN may pass (a page locked a moment); ENOMEM
		 * may too, where compaction frees a 2 MiB block later on
		 */
		if (errno == EINVAL || ++failed == COLLAPSE_TRIES)
			break;
	}
	munmap(map, len + HUGE_SIZE);
}

int
dx_poolpages_create(const char *path, uint64_t size, mode_t mode)
{
	int fd, err;

	if (!on_tmpfs(path))
		return 0;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) != 0)
		goto err;
	collapse(fd, size);
	err = posix_fallocate(fd, 0, (off_t)size);
	if (err != 0) {
		errno = err;
		goto err;
	}
	close(fd);
	return 1;
err:
	err = errno;
	close(fd);
	unlink(path);
	errno = err;
	return -1;
}
