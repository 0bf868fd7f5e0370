/*
 * cwd.c -- the pool's current directory: daxfile_chdir, daxfile_fchdir and
 * daxfile_getcwd.
 *
 * The pool keeps a reference to its current directory (NULL: the root),
 * read and replaced under the ICACHE lock (dx_islot_*), so relative walks
 * take their own reference and never see it freed.  A removed current
 * directory stays current, as on Linux: names in it are not found, ".."
 * leads to the parent it had, and getcwd fails with ENOENT.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dir.h"
#include "file.h"
#include "namei.h"
#include "out.h"
#include "permission.h"
#include "pool.h"

/*
 * cwd_set -- make the directory 'ip' (a reference it takes) current, if
 * the caller may search it.
 */
static int
cwd_set(struct daxfile_pool *pool, struct dx_inode *ip, struct dx_cred *cr)
{
	struct dx_inode *old;

	if (!ip->isdir) {
		dx_iput(ip);
		return dx_err(ENOTDIR, "not a directory");
	}
	if (dx_perm_inode(cr, ip, DX_MAY_EXEC) != 0) {
		dx_iput(ip);
		return -1;
	}
	old = dx_islot_swap(pool, &pool->cwd, ip);
	if (old != NULL)
		dx_iput(old);
	return 0;
}

DX_EXPORT int
daxfile_chdir(daxfile_pool *pool, const char *path)
{
	struct dx_inode *ip;
	struct dx_cred cr;

	if (dx_pool_check_handle(pool) != 0)
		return -1;
	dx_cred_init(&cr, DX_CRED_FS);
	ip = dx_namei(pool, NULL, path, DX_LOOKUP_FOLLOW, &cr);
	if (ip == NULL)
		return -1;
	if (cwd_set(pool, ip, &cr) != 0)
		return dx_err_keep("cannot change to '%s'", path);
	return 0;
}

DX_EXPORT int
daxfile_fchdir(daxfile_file *dir)
{
	struct dx_cred cr;

	if (dx_file_check_any(dir) != 0)
		return -1;
	dx_cred_init(&cr, DX_CRED_FS);
	dx_ihold(dir->ip);
	return cwd_set(dir->pool, dir->ip, &cr);
}

struct cwd_search {
	uint64_t ino;
	char *name;	/* the entry's name, NUL-terminated */
};

static int
cwd_visit(void *arg, const char *name, size_t len, uint64_t ino,
	unsigned type)
{
	struct cwd_search *cs = arg;

	(void)type;
	if (ino != cs->ino)
		return 0;
	memcpy(cs->name, name, len);
	cs->name[len] = '\0';
	return 1;
}

/*
 * cwd_name -- the name of directory 'ip' in its parent, into 'name'
 * (DX_NAME_MAX + 1 bytes); the parent, referenced.
 */
static struct dx_inode *
cwd_name(struct dx_inode *ip, char *name)
{
	struct daxfile_pool *pool = ip->pool;
	struct cwd_search cs = {ip->ino, name};
	struct dx_inode *parent;
	uint64_t pino;
	int ret;

	dx_ilock(ip, DX_IOLOCK_SHARED);
	pino = dx_dir_hdr(ip)->parent;
	dx_iunlock(ip, DX_IOLOCK_SHARED);
	parent = dx_iget(pool, pino);
	if (parent == NULL)
		return NULL;
	dx_ilock(parent, DX_IOLOCK_SHARED);
	ret = dx_dir_foreach(pool, dx_dir_hdr(parent), cwd_visit, &cs);
	dx_iunlock(parent, DX_IOLOCK_SHARED);
	if (ret == 1)
		return parent;
	dx_iput(parent);
	if (ret == 0)
		dx_corrupt(pool, "directory missing from its parent", ip->ino);
	return NULL;
}

/*
 * cwd_path -- the path of 'ip' from the root, built backwards at the end
 * of 'path' (DX_PATH_MAX bytes); its start.  The caller holds the RENAME
 * lock, so no directory moves to another parent meanwhile.
 */
static char *
cwd_path(struct dx_inode *ip, char *path)
{
	struct daxfile_pool *pool = ip->pool;
	char *p = path + DX_PATH_MAX - 1, name[DX_NAME_MAX + 1];
	uint64_t limit = pool->size / sizeof(struct dx_dinode);

	*p = '\0';
	if (ip->di->nlink == 0) {
		dx_err(ENOENT, "the current directory was removed");
		return NULL;
	}
	dx_ihold(ip);
	while (ip->ino != pool->sb->root_ino) {
		struct dx_inode *parent = cwd_name(ip, name);
		size_t len = strlen(name);

		dx_iput(ip);
		if (parent == NULL)
			return NULL;
		ip = parent;
		if (limit-- == 0 || (size_t)(p - path) < len + 1) {
			dx_iput(ip);
			dx_err(ENAMETOOLONG, "the current directory's path is longer than %d bytes",
				DX_PATH_MAX - 1);
			return NULL;
		}
		p -= len;
		memcpy(p, name, len);
		*--p = '/';
	}
	dx_iput(ip);
	if (*p == '\0')
		*--p = '/';
	return p;
}

DX_EXPORT char *
daxfile_getcwd(daxfile_pool *pool, char *buf, size_t size)
{
	struct dx_inode *ip;
	char path[DX_PATH_MAX], *p;
	size_t len;

	if (dx_pool_check_handle(pool) != 0)
		return NULL;
	if (buf != NULL && size == 0) {
		dx_err(EINVAL, "buffer size is zero");
		return NULL;
	}
	ip = dx_namei_at(pool, NULL);
	if (ip == NULL)
		return NULL;
	dx_mutex_lock(&pool->rename_lock);
	p = cwd_path(ip, path);
	dx_mutex_unlock(&pool->rename_lock);
	dx_iput(ip);
	if (p == NULL)
		return NULL;
	len = strlen(p);
	if (size != 0 && size < len + 1) {
		dx_err(ERANGE, "the path takes %zu bytes, the buffer %zu", len + 1,
			size);
		return NULL;
	}
	if (buf == NULL) {
		/* as glibc: the caller frees it with free(3) */
		size = DX_MAX(size, len + 1);
		buf = malloc(size);
		if (buf == NULL) {
			dx_err(ENOMEM, "cannot allocate %zu bytes for the path", size);
			return NULL;
		}
	}
	dx_might_fault();
	memcpy(buf, p, len + 1);
	return buf;
}
