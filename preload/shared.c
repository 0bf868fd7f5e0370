/*
 * shared.c -- shared file description records (shared.h).  Records are
 * taken in order and never given back: the region (4 MiB of a memfd, of
 * which only touched pages take memory) holds 262,144 of them; when it is
 * full, new descriptions keep their offset to themselves, and only their
 * sharing across processes is lost.
 */
#define _GNU_SOURCE 1
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"
#include "shared.h"
#include "hidefd.h"

#define REGION_SIZE (4ul << 20)

struct region {
	atomic_long next;	/* records handed out */
	long pad;
	struct dxp_shofd rec[];
};

#define NRECS ((REGION_SIZE - sizeof(struct region)) / sizeof(struct dxp_shofd))

static struct region *region;
static int region_fd = -1;
static pthread_mutex_t region_lock = PTHREAD_MUTEX_INITIALIZER;

/* region_map -- map memfd 'fd' as the region. */
static int
region_map(int fd)
{
	void *p = REAL(mmap64)(NULL, REGION_SIZE, PROT_READ | PROT_WRITE,
		MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -1;
	region = p;
	region_fd = fd;
	return 0;
}

struct dxp_shofd *
dxp_shared_alloc(void)
{
	long i;

	pthread_mutex_lock(&region_lock);
	if (region == NULL) {
		int fd = dxp_fd_hide((int)REAL(syscall)(SYS_memfd_create,
			"daxfile-preload-ofd", MFD_CLOEXEC));

		if (fd >= 0 && (ftruncate(fd, REGION_SIZE) != 0 ||
		    region_map(fd) != 0))
			REAL(close)(fd);
	}
	pthread_mutex_unlock(&region_lock);
	if (region == NULL)
		return NULL;
	i = atomic_fetch_add(&region->next, 1);
	if (i >= (long)NRECS)
		return NULL;
	return &region->rec[i];
}

long
dxp_shared_index(const struct dxp_shofd *s)
{
	if (region == NULL || s < region->rec || s >= region->rec + NRECS)
		return -1;
	return s - region->rec;
}

struct dxp_shofd *
dxp_shared_at(long index)
{
	if (region == NULL || index < 0 || index >= (long)NRECS)
		return NULL;
	return &region->rec[index];
}

int
dxp_shared_fd(void)
{
	return region_fd;
}

void
dxp_shared_adopt(int fd)
{
	REAL(fcntl64)(fd, F_SETFD, FD_CLOEXEC);
	fd = dxp_fd_hide(fd);
	if (region_map(fd) != 0) {
		dxp_fd_unhide(fd);
		REAL(close)(fd);
	}
}
