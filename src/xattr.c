/*
 * xattr.c -- extended attributes: getxattr, setxattr, listxattr,
 * removexattr in their path, l- and f- forms, for the user.* and trusted.*
 * namespaces, with the checks and errnos of Linux's fs/xattr.c and XFS.
 *
 * Storage: one pool object per attribute (struct dx_xattr: the full name,
 * then the value), chained from the dinode's 'xattr' word.  A set
 * allocates the new object, links it where the old one was (or at the
 * head) and frees the old one; a remove unlinks and frees: each change,
 * with the new ctime, is one transaction.  An inode has few attributes, so
 * a lookup walks the chain.  The chain is freed with the inode
 * (dx_xattr_free_all, from inode.c) and checked by the checker.
 *
 * Other namespaces are refused with ENOTSUP: security.* (no security
 * module labels files here) and system.* (no POSIX ACLs), which is the
 * answer ls, cp and tar expect from a file system without them.
 *
 * Locks: the chain is covered by the inode's iolock (a directory's DIR
 * lock): shared to read, exclusive to change, with the ilock of a regular
 * file taken inside for the ctime.  Values and names are copied to and
 * from the caller's buffers under the iolock only, as read and write do.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "file.h"
#include "namei.h"
#include "out.h"
#include "permission.h"
#include "pool.h"
#include "tx.h"
#include "xattr.h"

/* CAP_SYS_ADMIN (<linux/capability.h>): what trusted.* needs */
#define XATTR_CAP_SYS_ADMIN 21

/* Linux's limit on the list listxattr returns (XATTR_LIST_MAX) */
#define XATTR_LIST_LIMIT 65536

#define PREFIX_USER "user."
#define PREFIX_TRUSTED "trusted."
#define PREFIX_SECURITY "security."
#define PREFIX_SYSTEM "system."

static bool
has_prefix(const char *name, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(name, prefix, n) == 0;
}

/* A checked name: the full name, not NUL-terminated in the pool. */
struct xname {
	const char *s;
	size_t len;
	bool user;		/* user.*, else trusted.* (once resolved) */
};

bool
dx_xattr_name_ok(const char *name, size_t len)
{
	size_t plen;

	if (has_prefix(name, len, PREFIX_USER))
		plen = strlen(PREFIX_USER);
	else if (has_prefix(name, len, PREFIX_TRUSTED))
		plen = strlen(PREFIX_TRUSTED);
	else
		return false;
	return len > plen && len <= DX_XATTR_NAME_MAX &&
		memchr(name, '\0', len) == NULL;
}

const struct dx_xattr *
dx_xattr_entry(const struct daxfile_pool *pool, uint64_t off, uint64_t owner)
{
	const struct dx_xattr *x;

	if (!dx_obj_ok(pool, off, sizeof(*x)))
		return NULL;
	x = dx_ptr(pool, off);
	if (x->magic != DX_XATTR_MAGIC || x->owner != owner ||
	    x->namelen == 0 || x->namelen > DX_XATTR_NAME_MAX ||
	    x->valuelen > DX_XATTR_SIZE_MAX ||
	    !dx_obj_ok(pool, off, sizeof(*x) + x->namelen + x->valuelen))
		return NULL;
	return x;
}

/*
 * xattr_name -- the checks on a name before anything is looked up, as
 * the kernel's import of it: EFAULT for NULL, ERANGE for an empty name or
 * one longer than 255 bytes.
 */
static int
xattr_name(const char *name, struct xname *xn)
{
	if (name == NULL)
		return dx_err(EFAULT, "attribute name is NULL");
	xn->s = name;
	xn->len = strnlen(name, DX_XATTR_NAME_MAX + 1);
	if (xn->len == 0 || xn->len > DX_XATTR_NAME_MAX)
		return dx_err(ERANGE, "attribute name of %s bytes",
			xn->len == 0 ? "0" : "more than 255");
	xn->user = has_prefix(name, xn->len, PREFIX_USER);
	return 0;
}

/*
 * xattr_permission -- Linux's xattr_permission for the caller: nothing to
 * check for security.* and system.*; trusted.* needs CAP_SYS_ADMIN (else
 * EPERM to write, ENODATA to read); user.* lives only on regular files
 * and directories (else EPERM to write, ENODATA to read) and, in a sticky
 * directory, is written only by its owner or with CAP_FOWNER (EPERM);
 * then read or write permission on the inode (EACCES).
 */
static int
xattr_permission(struct dx_cred *cr, const struct dx_inode *ip,
	const struct xname *xn, bool write)
{
	uint32_t mode = __atomic_load_n(&ip->di->mode, __ATOMIC_RELAXED);

	if (has_prefix(xn->s, xn->len, PREFIX_SECURITY) ||
	    has_prefix(xn->s, xn->len, PREFIX_SYSTEM))
		return 0;
	if (has_prefix(xn->s, xn->len, PREFIX_TRUSTED)) {
		if (dx_cred_capable(cr, XATTR_CAP_SYS_ADMIN))
			return 0;
		return write ?
			dx_err(EPERM, "trusted.* attributes need CAP_SYS_ADMIN") :
			dx_err(ENODATA, "no attribute '%s' (trusted.* needs CAP_SYS_ADMIN)",
				xn->s);
	}
	if (xn->user) {
		if (!S_ISREG(mode) && !S_ISDIR(mode))
			return write ?
				dx_err(EPERM, "user.* attributes only on regular files and directories") :
				dx_err(ENODATA, "no attribute '%s'", xn->s);
		if (write && S_ISDIR(mode) && (mode & S_ISVTX) &&
		    !dx_perm_owner(cr, ip))
			return dx_err(EPERM, "user.* attributes of a sticky directory: owner only");
	}
	return dx_perm_inode(cr, ip, write ? DX_MAY_WRITE : DX_MAY_READ);
}

/*
 * xattr_resolve -- after the permission check, as the kernel's handler
 * lookup: user.* and trusted.* with a suffix are ours; no suffix is
 * EINVAL; any other namespace ENOTSUP.
 */
static int
xattr_resolve(const struct xname *xn)
{
	if (xn->user || has_prefix(xn->s, xn->len, PREFIX_TRUSTED)) {
		if (xn->len == strlen(xn->user ? PREFIX_USER : PREFIX_TRUSTED))
			return dx_err(EINVAL, "attribute name '%s' has no name after its namespace",
				xn->s);
		return 0;
	}
	return dx_err(ENOTSUP, "attribute namespace of '%s' is not supported",
		xn->s);
}

/*
 * xattr_find -- the attribute called 'xn' of 'ip' and the link that
 * points at it; NULL with ENODATA if it has none, EFSCORRUPTED if the
 * chain is damaged (caller holds the iolock).
 */
static const struct dx_xattr *
xattr_find(struct dx_inode *ip, const struct xname *xn, uint64_t **linkp)
{
	struct daxfile_pool *pool = ip->pool;
	uint64_t *link = &ip->di->xattr;
	uint64_t limit = pool->size / sizeof(struct dx_xattr);

	while (*link != 0) {
		const struct dx_xattr *x = dx_xattr_entry(pool, *link, ip->ino);

		if (x == NULL || limit-- == 0) {
			dx_corrupt(pool, "damaged extended attribute", *link);
			return NULL;
		}
		if (x->namelen == xn->len && memcmp(x->data, xn->s, xn->len) == 0) {
			*linkp = link;
			return x;
		}
		link = (uint64_t *)&x->next;
	}
	dx_err(ENODATA, "no attribute '%s'", xn->s);
	return NULL;
}

/* --- the operations on an inode ------------------------------------------- */

static ssize_t
xattr_get(struct dx_inode *ip, const struct xname *xn, void *value,
	size_t size)
{
	const struct dx_xattr *x;
	uint64_t *link;
	struct dx_cred cr;
	ssize_t ret;

	dx_cred_init(&cr, DX_CRED_FS);
	if (xattr_permission(&cr, ip, xn, false) != 0 || xattr_resolve(xn) != 0)
		return -1;
	dx_ilock(ip, DX_IOLOCK_SHARED);
	x = xattr_find(ip, xn, &link);
	if (x == NULL) {
		ret = -1;
	} else if (size == 0) {
		ret = x->valuelen;
	} else if (x->valuelen > size) {
		ret = dx_err(ERANGE, "value of '%s' is %u bytes, the buffer %zu",
			xn->s, x->valuelen, size);
	} else if (x->valuelen == 0) {
		ret = 0;
	} else if (value == NULL) {
		ret = dx_err(EFAULT, "value buffer is NULL");
	} else {
		dx_might_fault();
		memcpy(value, x->data + x->namelen, x->valuelen);
		ret = x->valuelen;
	}
	dx_iunlock(ip, DX_IOLOCK_SHARED);
	return ret;
}

/* xattr_commit -- the ctime, and the change of 'tx' committed. */
static int
xattr_commit(struct dx_tx *tx, struct dx_inode *ip)
{
	int ret;

	if (!ip->isdir)
		dx_ilock(ip, DX_ILOCK_EXCL);
	dx_inode_touch(tx, ip->di, DX_TOUCH_CTIME);
	ret = dx_tx_commit(tx);
	if (!ip->isdir)
		dx_iunlock(ip, DX_ILOCK_EXCL);
	return ret;
}

/*
 * xattr_store -- set the value in one transaction: a new object where the
 * old one was, or at the head of the chain (caller holds the iolock
 * exclusive).
 */
static int
xattr_store(struct dx_inode *ip, const struct xname *xn, const void *value,
	size_t size, const struct dx_xattr *old, uint64_t *link)
{
	struct daxfile_pool *pool = ip->pool;
	struct dx_xattr *x;
	struct dx_tx tx;
	uint64_t off;

	if (dx_tx_begin(&tx, pool) != 0)
		return -1;
	off = dx_tx_alloc(&tx, sizeof(*x) + xn->len + size, DX_TYPE_XATTR,
		false);
	if (off == 0)
		return dx_tx_commit(&tx);
	x = dx_ptr(pool, off);
	*x = (struct dx_xattr){.magic = DX_XATTR_MAGIC, .owner = ip->ino,
		.valuelen = (uint32_t)size, .namelen = (uint16_t)xn->len};
	memcpy(x->data, xn->s, xn->len);
	if (size > 0) {
		dx_might_fault();
		memcpy(x->data + xn->len, value, size);
	}
	if (old != NULL) {
		x->next = old->next;
		dx_tx_free(&tx, *link);
	} else {
		link = &ip->di->xattr;
		x->next = *link;
	}
	if (dx_tx_add(&tx, link, sizeof(*link)) == 0)
		*link = off;
	return xattr_commit(&tx, ip);
}

/*
 * xattr_set -- as XFS: XATTR_CREATE fails with EEXIST when the name
 * exists (and wins over XATTR_REPLACE), XATTR_REPLACE alone with ENODATA
 * when it does not.
 */
static int
xattr_set(struct dx_inode *ip, const struct xname *xn, const void *value,
	size_t size, int flags)
{
	const struct dx_xattr *old;
	uint64_t *link = NULL;
	struct dx_cred cr;
	int ret = -1;

	dx_cred_init(&cr, DX_CRED_FS);
	if (xattr_permission(&cr, ip, xn, true) != 0 || xattr_resolve(xn) != 0)
		return -1;
	dx_ilock(ip, DX_IOLOCK_EXCL);
	old = xattr_find(ip, xn, &link);
	if (old == NULL && errno != ENODATA)
		goto out;
	if (old != NULL && (flags & XATTR_CREATE)) {
		dx_err(EEXIST, "attribute '%s' exists", xn->s);
		goto out;
	}
	if (old == NULL && (flags & XATTR_REPLACE) && !(flags & XATTR_CREATE))
		goto out;
	ret = xattr_store(ip, xn, value, size, old, link);
	if (ret != 0)
		dx_err_keep("cannot set attribute '%s'", xn->s);
out:
	dx_iunlock(ip, DX_IOLOCK_EXCL);
	return ret;
}

static int
xattr_remove(struct dx_inode *ip, const struct xname *xn)
{
	const struct dx_xattr *x;
	uint64_t *link;
	struct dx_cred cr;
	struct dx_tx tx;
	int ret = -1;

	dx_cred_init(&cr, DX_CRED_FS);
	if (xattr_permission(&cr, ip, xn, true) != 0 || xattr_resolve(xn) != 0)
		return -1;
	dx_ilock(ip, DX_IOLOCK_EXCL);
	x = xattr_find(ip, xn, &link);
	if (x != NULL && dx_tx_begin(&tx, ip->pool) == 0) {
		uint64_t off = *link;

		if (dx_tx_add(&tx, link, sizeof(*link)) == 0)
			*link = x->next;
		dx_tx_free(&tx, off);
		ret = xattr_commit(&tx, ip);
		if (ret != 0)
			dx_err_keep("cannot remove attribute '%s'", xn->s);
	}
	dx_iunlock(ip, DX_IOLOCK_EXCL);
	return ret;
}

/*
 * xattr_list -- the names, each with its NUL; trusted.* only for a caller
 * with CAP_SYS_ADMIN, as XFS lists them.  No permission on the inode is
 * needed.  ERANGE when they do not fit, E2BIG when they would not fit in
 * Linux's 64 KiB limit either.
 */
static ssize_t
xattr_list(struct dx_inode *ip, char *list, size_t size)
{
	struct daxfile_pool *pool = ip->pool;
	uint64_t limit = pool->size / sizeof(struct dx_xattr);
	size_t total = 0, room = DX_MIN(size, (size_t)XATTR_LIST_LIMIT);
	struct dx_cred cr;
	ssize_t ret = 0;
	bool pass2 = false;

	dx_cred_init(&cr, DX_CRED_FS);
	dx_ilock(ip, DX_IOLOCK_SHARED);
	/* pass 1 counts; pass 2 copies, once the whole list is known to fit */
	for (;;) {
		uint64_t off = ip->di->xattr, n = limit;
		size_t at = 0;

		while (off != 0) {
			const struct dx_xattr *x = dx_xattr_entry(pool, off,
				ip->ino);

			if (x == NULL || n-- == 0) {
				ret = dx_corrupt(pool, "damaged extended attribute", off);
				goto out;
			}
			off = x->next;
			if (!has_prefix(x->data, x->namelen, PREFIX_USER) &&
			    !dx_cred_capable(&cr, XATTR_CAP_SYS_ADMIN))
				continue;
			if (pass2) {
				memcpy(list + at, x->data, x->namelen);
				list[at + x->namelen] = '\0';
			}
			at += x->namelen + 1u;
		}
		if (pass2 || size == 0) {
			ret = (ssize_t)at;
			goto out;
		}
		total = at;
		if (total > room) {
			ret = size >= XATTR_LIST_LIMIT ?
				dx_err(E2BIG, "the names take %zu bytes, more than 64 KiB",
					total) :
				dx_err(ERANGE, "the names take %zu bytes, the buffer %zu",
					total, size);
			goto out;
		}
		if (list == NULL && total > 0) {
			ret = dx_err(EFAULT, "list buffer is NULL");
			goto out;
		}
		dx_might_fault();
		pass2 = true;
	}
out:
	dx_iunlock(ip, DX_IOLOCK_SHARED);
	return ret;
}

/* --- freeing ------------------------------------------------------------ */

void
dx_xattr_free_all(struct dx_tx *tx, struct dx_inode *ip)
{
	struct daxfile_pool *pool = ip->pool;
	uint64_t limit = pool->size / sizeof(struct dx_xattr);
	uint64_t off = ip->di->xattr;

	while (off != 0 && limit-- > 0) {
		const struct dx_xattr *x = dx_xattr_entry(pool, off, ip->ino);

		if (x == NULL)
			return;
		dx_tx_free(tx, off);
		off = x->next;
	}
}

/* --- the public calls ----------------------------------------------------- */

/*
 * xattr_path -- the referenced inode of 'path' (the l- forms name a
 * symbolic link itself, the others what it points to).
 */
static struct dx_inode *
xattr_path(daxfile_pool *pool, const char *path, bool follow)
{
	struct dx_cred cr;

	if (dx_pool_check_handle(pool) != 0)
		return NULL;
	dx_cred_init(&cr, DX_CRED_FS);
	return dx_namei(pool, NULL, path, follow ? DX_LOOKUP_FOLLOW : 0, &cr);
}

/* xattr_file -- the referenced inode of an open file (not O_PATH: EBADF). */
static struct dx_inode *
xattr_file(daxfile_file *file)
{
	if (dx_file_check(file) != 0)
		return NULL;
	dx_ihold(file->ip);
	return file->ip;
}

/* set_args -- setxattr's checks before the lookup, in the kernel's order. */
static int
set_args(const char *name, const void *value, size_t size, int flags,
	struct xname *xn)
{
	dx_err_begin();
	if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
		return dx_err(EINVAL, "unknown flags %#x", flags);
	if (xattr_name(name, xn) != 0)
		return -1;
	if (size > DX_XATTR_SIZE_MAX)
		return dx_err(E2BIG, "value of %zu bytes, more than 64 KiB", size);
	if (value == NULL && size > 0)
		return dx_err(EFAULT, "value is NULL");
	return 0;
}

static ssize_t
get_on(struct dx_inode *ip, const struct xname *xn, void *value, size_t size)
{
	ssize_t ret;

	if (ip == NULL)
		return -1;
	ret = xattr_get(ip, xn, value, size);
	dx_iput(ip);
	return ret;
}

static int
set_on(struct dx_inode *ip, const struct xname *xn, const void *value,
	size_t size, int flags)
{
	int ret;

	if (ip == NULL)
		return -1;
	ret = xattr_set(ip, xn, value, size, flags);
	dx_iput(ip);
	return ret;
}

static ssize_t
list_on(struct dx_inode *ip, char *list, size_t size)
{
	ssize_t ret;

	if (ip == NULL)
		return -1;
	ret = xattr_list(ip, list, size);
	dx_iput(ip);
	return ret;
}

static int
remove_on(struct dx_inode *ip, const struct xname *xn)
{
	int ret;

	if (ip == NULL)
		return -1;
	ret = xattr_remove(ip, xn);
	dx_iput(ip);
	return ret;
}

DX_EXPORT ssize_t
daxfile_getxattr(daxfile_pool *pool, const char *path, const char *name,
	void *value, size_t size)
{
	struct xname xn;

	dx_err_begin();
	if (xattr_name(name, &xn) != 0)
		return -1;
	return get_on(xattr_path(pool, path, true), &xn, value, size);
}

DX_EXPORT ssize_t
daxfile_lgetxattr(daxfile_pool *pool, const char *path, const char *name,
	void *value, size_t size)
{
	struct xname xn;

	dx_err_begin();
	if (xattr_name(name, &xn) != 0)
		return -1;
	return get_on(xattr_path(pool, path, false), &xn, value, size);
}

DX_EXPORT ssize_t
daxfile_fgetxattr(daxfile_file *file, const char *name, void *value,
	size_t size)
{
	struct xname xn;

	dx_err_begin();
	if (xattr_name(name, &xn) != 0)
		return -1;
	return get_on(xattr_file(file), &xn, value, size);
}

DX_EXPORT int
daxfile_setxattr(daxfile_pool *pool, const char *path, const char *name,
	const void *value, size_t size, int flags)
{
	struct xname xn;

	if (set_args(name, value, size, flags, &xn) != 0)
		return -1;
	return set_on(xattr_path(pool, path, true), &xn, value, size, flags);
}

DX_EXPORT int
daxfile_lsetxattr(daxfile_pool *pool, const char *path, const char *name,
	const void *value, size_t size, int flags)
{
	struct xname xn;

	if (set_args(name, value, size, flags, &xn) != 0)
		return -1;
	return set_on(xattr_path(pool, path, false), &xn, value, size, flags);
}

DX_EXPORT int
daxfile_fsetxattr(daxfile_file *file, const char *name, const void *value,
	size_t size, int flags)
{
	struct xname xn;

	if (set_args(name, value, size, flags, &xn) != 0)
		return -1;
	return set_on(xattr_file(file), &xn, value, size, flags);
}

DX_EXPORT ssize_t
daxfile_listxattr(daxfile_pool *pool, const char *path, char *list,
	size_t size)
{
	return list_on(xattr_path(pool, path, true), list, size);
}

DX_EXPORT ssize_t
daxfile_llistxattr(daxfile_pool *pool, const char *path, char *list,
	size_t size)
{
	return list_on(xattr_path(pool, path, false), list, size);
}

DX_EXPORT ssize_t
daxfile_flistxattr(daxfile_file *file, char *list, size_t size)
{
	return list_on(xattr_file(file), list, size);
}

DX_EXPORT int
daxfile_removexattr(daxfile_pool *pool, const char *path, const char *name)
{
	struct xname xn;

	dx_err_begin();
	if (xattr_name(name, &xn) != 0)
		return -1;
	return remove_on(xattr_path(pool, path, true), &xn);
}

DX_EXPORT int
daxfile_lremovexattr(daxfile_pool *pool, const char *path, const char *name)
{
	struct xname xn;

	dx_err_begin();
	if (xattr_name(name, &xn) != 0)
		return -1;
	return remove_on(xattr_path(pool, path, false), &xn);
}

DX_EXPORT int
daxfile_fremovexattr(daxfile_file *file, const char *name)
{
	struct xname xn;

	dx_err_begin();
	if (xattr_name(name, &xn) != 0)
		return -1;
	return remove_on(xattr_file(file), &xn);
}
