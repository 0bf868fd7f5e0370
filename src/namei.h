/*
 * namei.h -- path resolution as Linux does it: from the root (absolute
 * paths), the pool's current directory or a directory handle (relative
 * paths), following symbolic links, checking search permission on every
 * directory it looks in, taking each directory's DIR lock shared for one
 * step at a time.
 */
#ifndef DX_NAMEI_H
#define DX_NAMEI_H 1

#include <stdbool.h>
#include <stddef.h>

struct daxfile_pool;
struct daxfile_file;
struct dx_cred;
struct dx_inode;

/* Symbolic links one resolution follows before it fails with ELOOP. */
#define DX_MAXSYMLINKS 40

/* What the last component of a path is. */
enum dx_last_kind {
	DX_LAST_NAME,	/* a name */
	DX_LAST_DOT,	/* "." */
	DX_LAST_DOTDOT,	/* ".." */
	DX_LAST_ROOT,	/* no last component: the path is "/" (or a link to it) */
};

struct dx_nameidata {
	struct daxfile_pool *pool;
	struct dx_cred *cred;	/* the caller's: searches are checked for it */
	struct dx_inode *dir;	/* referenced parent directory */
	const char *name;	/* last component (not NUL-terminated) */
	size_t len;
	enum dx_last_kind kind;
	bool trailing_slash;	/* "a/b/": the last must be a directory */
	unsigned nlinks;	/* symbolic links followed */
	/* referenced links whose targets the walk reads (name may point there) */
	struct dx_inode *links[DX_MAXSYMLINKS];
};

/*
 * dx_namei_at -- the directory a relative path starts from: 'dir' (a
 * directory handle, EBADF if it is not a live handle of 'pool'), or the
 * pool's current directory when 'dir' is NULL.  Referenced.
 */
struct dx_inode *dx_namei_at(struct daxfile_pool *pool,
	struct daxfile_file *dir);

/*
 * dx_namei_parent -- resolve all but the last component of 'path', which
 * starts at 'at' when relative (NULL: the current directory), following
 * every symbolic link on the way, checking that 'cr' may search every
 * directory it looks in (the last component's too).  'nd->dir' is
 * referenced on success (release with dx_namei_done).  An empty path is
 * ENOENT.
 */
int dx_namei_parent(struct daxfile_pool *pool, struct daxfile_file *at,
	const char *path, struct dx_cred *cr, struct dx_nameidata *nd);

/*
 * dx_namei_child -- the referenced inode of nd's last component, not
 * followed if it is a link and not checked against a trailing slash; the
 * caller holds nd->dir's DIR lock (shared or exclusive).  ENOENT if absent.
 */
struct dx_inode *dx_namei_child(struct dx_nameidata *nd);

/*
 * dx_namei_follow -- the last component was the link 'link' (a reference
 * the call takes over): walk its target from nd->dir, so that nd names
 * the target's last component.  ELOOP past DX_MAXSYMLINKS links.
 */
int dx_namei_follow(struct dx_nameidata *nd, struct dx_inode *link);

/* Flags of dx_namei(). */
#define DX_LOOKUP_FOLLOW 0x1u	/* follow a link that is the last component */
#define DX_LOOKUP_EMPTY 0x2u	/* an empty path names 'at' (AT_EMPTY_PATH) */

/*
 * dx_namei_last -- the inode nd's last component names, as dx_namei()
 * resolves it; consumes nd (dx_namei_done is called).
 */
struct dx_inode *dx_namei_last(struct dx_nameidata *nd, unsigned flags);

/*
 * dx_namei -- resolve 'path' (from 'at' when relative) to a referenced
 * inode.  A trailing slash requires a directory, and follows a link as
 * the kernel does; a link as the last component is followed only with
 * DX_LOOKUP_FOLLOW.
 */
struct dx_inode *dx_namei(struct daxfile_pool *pool, struct daxfile_file *at,
	const char *path, unsigned flags, struct dx_cred *cr);

/* dx_namei_done -- release what nd references. */
void dx_namei_done(struct dx_nameidata *nd);

#endif /* DX_NAMEI_H */
