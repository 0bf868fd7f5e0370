/*
 * namespace.h -- the namespace calls' shared steps: the lookup-or-create
 * step of daxfile_openat(), unnamed files, and the checks and link-count
 * changes that mkdir, unlink, link and rename share.
 */
#ifndef DX_NAMESPACE_H
#define DX_NAMESPACE_H 1

#include <stdbool.h>
#include <sys/types.h>

struct daxfile_file;
struct daxfile_pool;
struct dx_cred;
struct dx_inode;
struct dx_nameidata;
struct dx_tx;

/*
 * dx_open_inode -- the referenced inode 'path' names (from 'dir' when
 * relative), created as a regular file of 'mode' when O_CREAT asks (then
 * '*created' is set); honours O_EXCL and O_NOFOLLOW (a link is returned
 * unfollowed, for the caller to refuse or, with O_PATH, to open).  The
 * walk and a creation are checked for 'cr'; opening an existing file is
 * the caller's to check.
 */
struct dx_inode *dx_open_inode(struct daxfile_pool *pool,
	struct daxfile_file *dir, const char *path, int flags, mode_t mode,
	struct dx_cred *cr, bool *created);

/*
 * dx_open_tmpfile -- a new regular file of 'mode' with no name, in the
 * directory 'path' names (O_TMPFILE), which 'cr' may write and search: on
 * the orphan list until linkat names it, freed at its last close
 * otherwise.
 */
struct dx_inode *dx_open_tmpfile(struct daxfile_pool *pool,
	struct daxfile_file *dir, const char *path, int flags, mode_t mode,
	struct dx_cred *cr);

/*
 * dx_ns_create_begin -- lock nd->dir (exclusive) for a new entry that nd
 * names, a directory or not: 0, or -1 (the lock released) with the errors
 * of the kernel's filename_create: EEXIST for a name that exists ('.',
 * '..' and '/' do), ENOENT for a trailing slash on what is not a
 * directory.
 */
int dx_ns_create_begin(struct dx_nameidata *nd, const char *path,
	bool isdir);

/*
 * dx_ns_may_create -- may_create, nd->dir locked: ENOENT for a removed
 * directory, EACCES without write and search permission on it.
 */
int dx_ns_may_create(struct dx_nameidata *nd);

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
