/*
 * namespace.h -- the namespace calls' shared steps: the lookup-or-create
 * step of daxfile_openat(), unnamed files, and the checks and link-count
 * changes that mkdir, unlink, link and rename share.
 */
#ifndef DX_NAMESPACE_H
#define DX_NAMESPACE_H 1

#include <sys/types.h>

struct daxfile_file;
struct daxfile_pool;
struct dx_inode;
struct dx_tx;

/*
 * dx_open_inode -- the referenced inode 'path' names (from 'dir' when
 * relative), created as a regular file of 'mode' when O_CREAT asks;
 * honours O_EXCL and O_NOFOLLOW (a link is returned unfollowed, for the
 * caller to refuse or, with O_PATH, to open).
 */
struct dx_inode *dx_open_inode(struct daxfile_pool *pool,
	struct daxfile_file *dir, const char *path, int flags, mode_t mode);

/*
 * dx_open_tmpfile -- a new regular file of 'mode' with no name, in the
 * directory 'path' names (O_TMPFILE): on the orphan list until linkat
 * names it, freed at its last close otherwise.
 */
struct dx_inode *dx_open_tmpfile(struct daxfile_pool *pool,
	struct daxfile_file *dir, const char *path, int flags, mode_t mode);

/* dx_ns_alive -- ENOENT for a directory removed while we walked. */
int dx_ns_alive(struct dx_inode *dir);

/* dx_ns_nlink -- change the link count of 'ip' by 'delta' (in tx). */
void dx_ns_nlink(struct dx_tx *tx, struct dx_inode *ip, int delta);

/*
 * dx_ns_removed -- 'ip', a directory whose last link a committed
 * transaction removed from 'parent', stays referenced by others: it keeps
 * 'parent' for "..".  Caller holds ip's DIR lock exclusive.
 */
void dx_ns_removed(struct dx_inode *ip, struct dx_inode *parent);

#endif /* DX_NAMESPACE_H */
