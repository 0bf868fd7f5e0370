/*
 * poolfile.c -- the pool file seen from outside libpmemobj (poolfile.h):
 * what its pmemobj descriptor says, who holds its lock, what backs it,
 * and whether it is as its last clean close left it.
 *
 * libpmemobj's messages say why it refuses a pool but not whether the
 * file was ever one of ours, and its errno is not always an errno (-1 for
 * a damaged heap).  These answer that from the bytes of libpmemobj 1.x's
 * on-media pool descriptor (PMDK src/libpmemobj/obj.h, struct pmemobjpool,
 * after the 4 KiB pool header), which is part of its stable pool format.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "hash.h"
#include "layout.h"
#include "poolfile.h"

/* Where libpmemobj 1.x keeps what we read (checked against pool files). */
#define PF_SIGNATURE "PMEMOBJ"		/* pool header, offset 0 */
#define PF_LAYOUT_OFF 4096		/* char layout[1024] */
#define PF_HEAP_OFFSET_OFF 5136		/* uint64_t heap_offset */
#define PF_ROOT_OFFSET_OFF 6144		/* uint64_t root_offset */
#define PF_HEAP_SIZE_OFF 6176		/* uint64_t heap_size */
#define PF_READ_SIZE 8192
/*
 * What libpmemobj reads of the heap when it opens a pool, after its pool
 * header, descriptor and lanes: the heap header (1 KiB), the first zone's
 * header (64 bytes) and its chunk headers (65528 of 8 bytes), in pages.
 */
#define PF_HEAP_OPEN_READS (((1024 + 64 + 65528 * 8) + 4095) & ~4095ULL)
#define PF_HEAP_OFFSET_MAX (64ULL << 20)	/* more lanes than 1.x makes */

/* The record of a clean close, in the pool file's extended attribute. */
#define PF_SEAL_NAME "user.libdaxfile.closed"
#define PF_SEAL_MAGIC 0x44584c45414e4331ULL	/* "DXLEANC1" */

struct pf_seal {
	uint64_t magic;
	uint64_t size;		/* of the pool file */
	uint64_t len;		/* bytes hashed, from offset 0 */
	uint64_t hash;		/* dx_hash64 of them */
};

int
dx_poolfile_read(int fd, uint64_t file_size, struct dx_poolfile *pf)
{
	char buf[PF_READ_SIZE];
	uint64_t heap_off, heap_size, root;
	ssize_t n;

	memset(pf, 0, sizeof(*pf));
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(buf))
		memset(buf + n, 0, sizeof(buf) - (size_t)n);
	pf->pmemobj = memcmp(buf, PF_SIGNATURE, sizeof(PF_SIGNATURE)) == 0;
	pf->ours = strncmp(buf + PF_LAYOUT_OFF, DX_LAYOUT_NAME,
		sizeof(DX_LAYOUT_NAME)) == 0;
	memcpy(&heap_off, buf + PF_HEAP_OFFSET_OFF, sizeof(heap_off));
	memcpy(&heap_size, buf + PF_HEAP_SIZE_OFF, sizeof(heap_size));
	memcpy(&root, buf + PF_ROOT_OFFSET_OFF, sizeof(root));
	if (pf->ours && heap_off != 0 && heap_off < UINT64_MAX - heap_size)
		pf->made_size = heap_off + heap_size;
	if (pf->ours && root >= PF_READ_SIZE && root < file_size &&
	    sizeof(struct dx_root) <= file_size - root && (root & 7) == 0)
		pf->root_off = root;
	return 0;
}

pid_t
dx_poolfile_holder(const char *path)
{
	char line[256], want[64];
	struct stat st;
	FILE *locks;
	long pid = 0;

	if (stat(path, &st) != 0)
		return 0;
	snprintf(want, sizeof(want), "%02x:%02x:%lu", major(st.st_dev),
		minor(st.st_dev), (unsigned long)st.st_ino);
	locks = fopen("/proc/locks", "re");
	if (locks == NULL)
		return 0;
	/* "1: FLOCK  ADVISORY  WRITE 1234 fd:00:5678 0 EOF" */
	while (pid == 0 && fgets(line, sizeof(line), locks) != NULL) {
		char kind[16], rw[16], id[64];
		long p;

		if (sscanf(line, "%*s %15s %*s %15s %ld %63s", kind, rw, &p,
		    id) == 4 && strcmp(kind, "FLOCK") == 0 &&
		    strcmp(id, want) == 0 && p > 0)
			pid = p;
	}
	fclose(locks);
	return (pid_t)pid;
}

enum daxfile_backing
dx_poolfile_backing(int fd, bool is_pmem)
{
	struct statfs fs;

	if (fstatfs(fd, &fs) == 0 && (fs.f_type == TMPFS_MAGIC ||
	    fs.f_type == RAMFS_MAGIC || fs.f_type == HUGETLBFS_MAGIC))
		return DAXFILE_BACKING_MEMORY;
	return is_pmem ? DAXFILE_BACKING_PMEM : DAXFILE_BACKING_DISK;
}

/*
 * pf_seal_of -- the record for the pool file open at 'fd' as it is now;
 * false if its descriptor does not say where its heap is.
 */
static bool
pf_seal_of(int fd, uint64_t size, struct pf_seal *seal)
{
	uint64_t heap_off;
	void *map;

	if (pread(fd, &heap_off, sizeof(heap_off), PF_HEAP_OFFSET_OFF) !=
	    sizeof(heap_off) || heap_off < PF_READ_SIZE ||
	    heap_off > PF_HEAP_OFFSET_MAX || heap_off % 4096 != 0 ||
	    heap_off + PF_HEAP_OPEN_READS > size)
		return false;
	seal->magic = PF_SEAL_MAGIC;
	seal->size = size;
	seal->len = heap_off + PF_HEAP_OPEN_READS;
	/* populated: one call instead of a fault per 64 KiB of it */
	map = mmap(NULL, seal->len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (map == MAP_FAILED)
		return false;
	seal->hash = dx_hash64(map, seal->len);
	munmap(map, seal->len);
	return true;
}

void
dx_poolfile_seal(int fd)
{
	struct pf_seal seal;
	struct stat st;

	/* the lock libpmemobj holds while a pool is open */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		return;
	if (fstat(fd, &st) == 0 && pf_seal_of(fd, (uint64_t)st.st_size, &seal))
		(void)fsetxattr(fd, PF_SEAL_NAME, &seal, sizeof(seal), 0);
	flock(fd, LOCK_UN);
}

bool
dx_poolfile_sealed(int fd, uint64_t size)
{
	struct pf_seal was, now;

	if (fgetxattr(fd, PF_SEAL_NAME, &was, sizeof(was)) != sizeof(was))
		return false;
	(void)fremovexattr(fd, PF_SEAL_NAME);
	return was.magic == PF_SEAL_MAGIC && pf_seal_of(fd, size, &now) &&
		memcmp(&was, &now, sizeof(was)) == 0;
}
