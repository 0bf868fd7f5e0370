/*
 * poolfile.h -- the pool file seen from outside libpmemobj: its pmemobj
 * descriptor, the holder of its lock, its backing (poolfile.c).
 */
#ifndef DX_POOLFILE_H
#define DX_POOLFILE_H 1

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daxfile.h"

/* What a pool file's pmemobj descriptor says. */
struct dx_poolfile {
	bool pmemobj;		/* it has pmemobj's pool signature */
	bool ours;		/* its layout name is libdaxfile's */
	uint64_t made_size;	/* the size it was made with; 0 if unknown */
	uint64_t root_off;	/* its root object, if inside the file; else 0 */
};

/*
 * dx_poolfile_read -- read the descriptor of the pool file open at 'fd'
 * (of 'file_size' bytes); -1 with errno on a read error.
 */
int dx_poolfile_read(int fd, uint64_t file_size, struct dx_poolfile *pf);

/*
 * dx_poolfile_holder -- the process holding the lock libpmemobj takes on
 * the pool file at 'path' (flock), from /proc/locks; 0 if none is seen.
 */
pid_t dx_poolfile_holder(const char *path);

/*
 * dx_poolfile_backing -- what stores to the file open at 'fd' reach:
 * memory for tmpfs, ramfs and hugetlbfs (whatever libpmem says), else
 * persistent memory if libpmem says so ('is_pmem'), else a disk.
 */
enum daxfile_backing dx_poolfile_backing(int fd, bool is_pmem);

/*
 * dx_poolfile_seal -- after a clean close of the pool file open at 'fd':
 * record, in an extended attribute of the file, a hash of all libpmemobj
 * reads when it opens a pool (its header, descriptor, lanes and heap
 * header, the first zone's chunk headers).  Best effort: no record if
 * another process opened the pool meanwhile (it holds libpmemobj's
 * lock), or on a file system without user extended attributes.
 */
void dx_poolfile_seal(int fd);

/*
 * dx_poolfile_sealed -- does the pool file open at 'fd' (of 'size' bytes)
 * hold exactly what its last clean close left where libpmemobj's open
 * reads?  Then that open cannot meet damage, and needs no probe.  The
 * record is removed: it holds until the next open only.
 */
bool dx_poolfile_sealed(int fd, uint64_t size);

#endif /* DX_POOLFILE_H */
