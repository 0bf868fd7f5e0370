/*
 * namei.h -- path resolution: from an absolute path inside the pool to
 * inodes, taking each directory's DIR lock shared for one step at a time.
 */
#ifndef DX_NAMEI_H
#define DX_NAMEI_H 1

#include <stdbool.h>
#include <stddef.h>

struct daxfile_pool;
struct dx_inode;

/* What the last component of a path is. */
enum dx_last_kind {
	DX_LAST_NAME,	/* a name */
	DX_LAST_DOT,	/* "." */
	DX_LAST_DOTDOT,	/* ".." */
	DX_LAST_ROOT,	/* the path is "/" (no last component) */
};

struct dx_nameidata {
	struct dx_inode *dir;	/* referenced parent directory */
	const char *name;	/* last component (not NUL-terminated) */
	size_t len;
	enum dx_last_kind kind;
	bool trailing_slash;	/* "a/b/": the last must be a directory */
};

/*
 * dx_namei_parent -- resolve all but the last component of 'path'; 'nd->dir'
 * is referenced on success (release with dx_namei_done).
 */
int dx_namei_parent(struct daxfile_pool *pool, const char *path,
	struct dx_nameidata *nd);

/* dx_namei -- resolve the whole path to a referenced inode. */
struct dx_inode *dx_namei(struct daxfile_pool *pool, const char *path);

/*
 * dx_namei_child -- the referenced inode of nd's last component; the
 * caller holds nd->dir's DIR lock (shared or exclusive).  ENOENT if absent.
 */
struct dx_inode *dx_namei_child(struct dx_nameidata *nd);

void dx_namei_done(struct dx_nameidata *nd);

#endif /* DX_NAMEI_H */
