/*
 * file.h -- open file descriptions: the handle daxfile_open() returns, with
 * its access mode and file offset.
 */
#ifndef DX_FILE_H
#define DX_FILE_H 1

#include <stdint.h>

#include "daxfile.h"
#include "handle.h"
#include "lock.h"

#define DX_FILE_MAGIC 0x454c494658414466ULL	/* "fDAXFILE" */

struct daxfile_file {
	struct dx_handle h;	/* DX_FILE_MAGIC while open */
	struct daxfile_pool *pool;
	struct dx_inode *ip;
	int flags;		/* open flags (access mode, O_APPEND, O_PATH) */
	struct dx_mutex pos_lock;	/* FPOS: the offset, across a call */
	uint64_t pos;
};

/*
 * dx_file_check -- validate a handle from the caller: EBADF for NULL, a
 * closed handle or an O_PATH handle; the _read and _write forms also give
 * EBADF when the access mode does not allow reading or writing.
 * dx_file_check_any accepts O_PATH handles (fstat, close, fchdir, the
 * directory of an *at call).
 */
int dx_file_check(const daxfile_file *file);
int dx_file_check_any(const daxfile_file *file);
int dx_file_check_read(const daxfile_file *file);
int dx_file_check_write(const daxfile_file *file);

/*
 * dx_file_open_handle -- open(2) of the live inode 'ino' of 'generation'
 * (daxfile_open_by_handle): the checks of the file itself as open's, no
 * walk; ESTALE if the inode is gone, EINVAL for O_CREAT or O_TMPFILE.
 */
daxfile_file *dx_file_open_handle(daxfile_pool *pool, uint64_t ino,
	uint64_t generation, int flags);

struct dx_inode;
/*
 * dx_file_load -- the extent map of regular file 'ip' in DRAM, where it
 * stays while the inode is referenced (open files, truncate by path).
 */
int dx_file_load(struct dx_inode *ip);

#endif /* DX_FILE_H */
