/*
 * shared.c -- shared file description records (shared.h).  Records are
 * taken in order and never given back: the region (4 MiB of a memfd, of
 * which only touched pages take memory) holds about 258,000 of them; when
 * it is full, new descriptions keep their offset to themselves, and only
 * their sharing across processes is lost.  Before them, the rename log: a
 * ring of the last 64 renames, each entry published seqlock-fashion (its
 * number + 1 once written, 0 while being written).
 */
#define _GNU_SOURCE 1
#include <pthread.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"
#include "shared.h"
#include "hidefd.h"

#define REGION_SIZE (4ul << 20)

#define RENAMES 64
#define RENAME_PATH 496

struct rename_entry {
	atomic_ulong seq;	/* its number + 1 when complete, else 0 */
	int mount;
	bool exchange;
	char from[RENAME_PATH];
	char to[RENAME_PATH];
};

struct region {
	atomic_long next;	/* records handed out */
	atomic_ulong renames;	/* renames logged */
	struct rename_entry ring[RENAMES];
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

void
dxp_shared_rename(int mount, const char *from, const char *to, bool exchange)
{
	struct rename_entry *e;
	unsigned long n;

	if (region == NULL)
		return;		/* no description in the tree to follow it */
	n = atomic_fetch_add(&region->renames, 1);
	e = &region->ring[n % RENAMES];
	atomic_store(&e->seq, 0);
	e->mount = mount;
	e->exchange = exchange;
	/* a path too long for the entry matches nothing ("" is no path) */
	if (strlen(from) >= RENAME_PATH || strlen(to) >= RENAME_PATH)
		from = to = "";
	memcpy(e->from, from, strlen(from) + 1);
	memcpy(e->to, to, strlen(to) + 1);
	atomic_store_explicit(&e->seq, n + 1, memory_order_release);
}

unsigned long
dxp_shared_renames(void)
{
	return region != NULL ? atomic_load(&region->renames) : 0;
}

/* under -- is 'path' 'dir' or below it? */
static bool
under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return n > 0 && strncmp(path, dir, n) == 0 &&
		(path[n] == '\0' || path[n] == '/');
}

int
dxp_shared_follow(int mount, unsigned long since, char *path, size_t size)
{
	char cur[PATH_MAX], from[RENAME_PATH], to[RENAME_PATH];
	unsigned long end;

	if (region == NULL)
		return 0;
	end = atomic_load(&region->renames);
	if (end - since > RENAMES)
		return -1;
	snprintf(cur, sizeof(cur), "%s", path);
	for (unsigned long n = since; n != end; n++) {
		struct rename_entry *e = &region->ring[n % RENAMES];
		const char *a = NULL, *b = NULL;
		bool exchange;
		int m;

		if (atomic_load_explicit(&e->seq, memory_order_acquire) != n + 1)
			return -1;	/* overwritten, or still being written */
		m = e->mount;
		exchange = e->exchange;
		memcpy(from, e->from, sizeof(from));
		memcpy(to, e->to, sizeof(to));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load(&e->seq) != n + 1)
			return -1;
		from[sizeof(from) - 1] = to[sizeof(to) - 1] = '\0';
		if (m != mount)
			continue;
		if (under(cur, from))
			a = from, b = to;
		else if (exchange && under(cur, to))
			a = to, b = from;
		if (a != NULL) {
			char next[PATH_MAX];
			int k = snprintf(next, sizeof(next), "%s%s", b,
				cur + strlen(a));

			if (k < 0 || (size_t)k >= sizeof(next))
				return -1;
			memcpy(cur, next, (size_t)k + 1);
		}
	}
	if (strlen(cur) >= size)
		return -1;
	strcpy(path, cur);
	return 0;
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
