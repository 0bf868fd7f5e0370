/*
 * namespace.h -- the lookup-or-create step of daxfile_open().
 */
#ifndef DX_NAMESPACE_H
#define DX_NAMESPACE_H 1

#include <sys/types.h>

struct daxfile_pool;
struct dx_inode;

/*
 * dx_open_inode -- the referenced inode 'path' names, created as a regular
 * file of 'mode' when O_CREAT asks; honours O_EXCL.
 */
struct dx_inode *dx_open_inode(struct daxfile_pool *pool, const char *path,
	int flags, mode_t mode);

#endif /* DX_NAMESPACE_H */
