/*
 * attr.c -- inode attributes: owners, modes and times changed (chmod,
 * chown, utimensat and their variants, truncate by path, the setuid and
 * setgid bits a data change clears), queried (stat variants, statx,
 * access) and the pool's umask.
 *
 * Every change takes the inode's attribute lock exclusive (the DIR lock of
 * a directory, the ILOCK of a file), checks the caller against the kernel's
 * rules (setattr_prepare, chown_ok, chgrp_ok, notify_change) and commits
 * the new attributes with the new ctime in one transaction.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "attr.h"
#include "data.h"
#include "file.h"
#include "namei.h"
#include "out.h"
#include "permission.h"
#include "pool.h"
#include "tx.h"

/* --- resolving the target ----------------------------------------------- */

/* attr_file -- the inode of an open file; EBADF also for an O_PATH handle. */
static struct dx_inode *
attr_file(daxfile_file *file)
{
	return dx_file_check(file) == 0 ? file->ip : NULL;
}

/*
 * attr_lookup -- the referenced inode that ('dir', 'path', 'flags') names
 * for the *at calls, the walk checked for 'cr' (NULL: the thread's
 * file-system ids): AT_EMPTY_PATH with an empty path names 'dir' itself
 * (NULL: the current directory), and a last link is followed unless
 * AT_SYMLINK_NOFOLLOW.
 */
static struct dx_inode *
attr_lookup(daxfile_pool *pool, daxfile_file *dir, const char *path,
	int flags, struct dx_cred *cr)
{
	unsigned lookup = 0;
	struct dx_cred own;

	if (dx_pool_check_handle(pool) != 0)
		return NULL;
	if (cr == NULL) {
		dx_cred_init(&own, DX_CRED_FS);
		cr = &own;
	}
	if (!(flags & AT_SYMLINK_NOFOLLOW))
		lookup |= DX_LOOKUP_FOLLOW;
	if (flags & AT_EMPTY_PATH)
		lookup |= DX_LOOKUP_EMPTY;
	return dx_namei(pool, dir, path, lookup, cr);
}

/* attr_flags_check -- EINVAL for flags outside 'allowed'. */
static int
attr_flags_check(int flags, int allowed)
{
	if (flags & ~allowed)
		return dx_err(EINVAL, "unknown flags %#x", flags & ~allowed);
	return 0;
}

/* --- one attribute change --------------------------------------------------- */

/* The change setattr makes: which fields, to what. */
struct attr_set {
	bool mode, uid, gid, atime, mtime;
	uint32_t new_mode, new_uid, new_gid;
	struct dx_time new_atime, new_mtime;
};

/* attr_commit -- write 'as' and ctime = now in one transaction (lock held). */
static int
attr_commit(struct dx_inode *ip, const struct attr_set *as)
{
	struct dx_dinode *di = ip->di;
	struct dx_tx tx;

	if (dx_tx_begin(&tx, ip->pool) != 0)
		return -1;
	if (as->mode && DX_TX_ADD_FIELD(&tx, di, mode) == 0)
		__atomic_store_n(&di->mode, as->new_mode, __ATOMIC_RELAXED);
	if (as->uid && DX_TX_ADD_FIELD(&tx, di, uid) == 0)
		__atomic_store_n(&di->uid, as->new_uid, __ATOMIC_RELAXED);
	if (as->gid && DX_TX_ADD_FIELD(&tx, di, gid) == 0)
		__atomic_store_n(&di->gid, as->new_gid, __ATOMIC_RELAXED);
	if (as->atime && DX_TX_ADD_FIELD(&tx, di, atime) == 0)
		di->atime = as->new_atime;
	if (as->mtime && DX_TX_ADD_FIELD(&tx, di, mtime) == 0)
		di->mtime = as->new_mtime;
	dx_inode_touch(&tx, di, DX_TOUCH_CTIME);
	return dx_tx_commit(&tx);
}

/* --- chmod -------------------------------------------------------------------- */

static int
attr_chmod(struct dx_inode *ip, mode_t mode)
{
	struct attr_set as = {.mode = true};
	struct dx_cred cr;
	uint32_t old;
	int ret = -1;

	dx_cred_init(&cr, DX_CRED_FS);
	dx_inode_lock_attrs(ip, true);
	old = ip->di->mode;
	if (S_ISLNK(old)) {
		dx_err(EOPNOTSUPP, "the mode of a symbolic link cannot change");
		goto out;
	}
	if (!dx_perm_owner(&cr, ip)) {
		dx_err(EPERM, "chmod: not the owner of inode %#lx",
			(unsigned long)ip->ino);
		goto out;
	}
	as.new_mode = (old & S_IFMT) | (mode & 07777);
	/* setattr_prepare: setgid only for a member of the group, or CAP_FSETID */
	if ((as.new_mode & S_ISGID) && !dx_cred_in_group(&cr, ip->di->gid) &&
	    !dx_cred_capable(&cr, DX_CAP_FSETID))
		as.new_mode &= ~(uint32_t)S_ISGID;
	ret = attr_commit(ip, &as);
out:
	dx_inode_unlock_attrs(ip, true);
	return ret;
}

DX_EXPORT int
daxfile_fchmodat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	mode_t mode, int flags)
{
	struct dx_inode *ip;
	int ret;

	dx_err_begin();
	if (attr_flags_check(flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0)
		return -1;
	ip = attr_lookup(pool, dir, path, flags, NULL);
	if (ip == NULL)
		return -1;
	ret = attr_chmod(ip, mode);
	dx_iput(ip);
	return ret;
}

DX_EXPORT int
daxfile_chmod(daxfile_pool *pool, const char *path, mode_t mode)
{
	return daxfile_fchmodat(pool, NULL, path, mode, 0);
}

DX_EXPORT int
daxfile_fchmod(daxfile_file *file, mode_t mode)
{
	struct dx_inode *ip = attr_file(file);

	return ip == NULL ? -1 : attr_chmod(ip, mode);
}

/* --- chown -------------------------------------------------------------------- */

/* chown_check -- chown_ok and chgrp_ok of setattr_prepare (EPERM). */
static int
chown_check(struct dx_cred *cr, const struct dx_dinode *di, uid_t uid,
	gid_t gid)
{
	bool owner = dx_cred_uid(cr) == di->uid;

	if (uid != (uid_t)-1 && !(owner && uid == di->uid) &&
	    !dx_cred_capable(cr, DX_CAP_CHOWN))
		return dx_err(EPERM, "chown: changing the owner needs CAP_CHOWN");
	if (gid != (gid_t)-1 &&
	    !(owner && (gid == di->gid || dx_cred_in_group(cr, gid))) &&
	    !dx_cred_capable(cr, DX_CAP_CHOWN))
		return dx_err(EPERM, owner ?
			"chown: group %u is not one of the caller's groups" :
			"chown: not the owner", (unsigned)gid);
	return 0;
}

static int
attr_chown(struct dx_inode *ip, uid_t uid, gid_t gid)
{
	struct attr_set as = {0};
	struct dx_dinode *di = ip->di;
	struct dx_cred cr;
	int ret = -1;

	dx_cred_init(&cr, DX_CRED_FS);
	dx_inode_lock_attrs(ip, true);
	if (chown_check(&cr, di, uid, gid) != 0)
		goto out;
	as.uid = uid != (uid_t)-1;
	as.new_uid = uid;
	as.gid = gid != (gid_t)-1;
	as.new_gid = gid;
	/* chown_common: setuid always, setgid as setattr_should_drop_sgid */
	as.new_mode = di->mode;
	if (!S_ISDIR(di->mode)) {
		as.new_mode &= ~(uint32_t)S_ISUID;
		if (dx_perm_kill_sgid(&cr, di->mode, di->gid))
			as.new_mode &= ~(uint32_t)S_ISGID;
	}
	as.mode = as.new_mode != di->mode;
	/*
	 * notify_change turns the clearing into a mode change, which
	 * setattr_prepare checks as a chmod: owner or CAP_FOWNER, and setgid
	 * kept only for a member of the (new) group or CAP_FSETID.
	 */
	if (as.mode && !dx_perm_owner(&cr, ip)) {
		dx_err(EPERM, "chown: clearing setuid/setgid needs the owner");
		goto out;
	}
	if (as.mode && (as.new_mode & S_ISGID) &&
	    !dx_cred_in_group(&cr, as.gid ? gid : di->gid) &&
	    !dx_cred_capable(&cr, DX_CAP_FSETID))
		as.new_mode &= ~(uint32_t)S_ISGID;
	ret = attr_commit(ip, &as);
out:
	dx_inode_unlock_attrs(ip, true);
	return ret;
}

DX_EXPORT int
daxfile_fchownat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	uid_t owner, gid_t group, int flags)
{
	struct dx_inode *ip;
	int ret;

	dx_err_begin();
	if (attr_flags_check(flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0)
		return -1;
	ip = attr_lookup(pool, dir, path, flags, NULL);
	if (ip == NULL)
		return -1;
	ret = attr_chown(ip, owner, group);
	dx_iput(ip);
	return ret;
}

DX_EXPORT int
daxfile_chown(daxfile_pool *pool, const char *path, uid_t owner, gid_t group)
{
	return daxfile_fchownat(pool, NULL, path, owner, group, 0);
}

DX_EXPORT int
daxfile_lchown(daxfile_pool *pool, const char *path, uid_t owner, gid_t group)
{
	return daxfile_fchownat(pool, NULL, path, owner, group,
		AT_SYMLINK_NOFOLLOW);
}

DX_EXPORT int
daxfile_fchown(daxfile_file *file, uid_t owner, gid_t group)
{
	struct dx_inode *ip = attr_file(file);

	return ip == NULL ? -1 : attr_chown(ip, owner, group);
}

/* --- setuid and setgid after a data change ------------------------------------ */

int
dx_attr_remove_privs(struct dx_inode *ip)
{
	struct attr_set as = {.mode = true};
	struct dx_cred cr;
	uint32_t mode;
	int ret = 0;

	dx_cred_init(&cr, DX_CRED_FS);
	dx_ilock(ip, DX_ILOCK_EXCL);
	mode = ip->di->mode;
	as.new_mode = mode & ~(uint32_t)S_ISUID;
	if (dx_perm_kill_sgid(&cr, mode, ip->di->gid))
		as.new_mode &= ~(uint32_t)S_ISGID;
	if (S_ISREG(mode) && as.new_mode != mode &&
	    !dx_cred_capable(&cr, DX_CAP_FSETID))
		ret = attr_commit(ip, &as);
	dx_iunlock(ip, DX_ILOCK_EXCL);
	return ret;
}

/* --- times -------------------------------------------------------------------- */

/* time_valid -- utimensat's nsec_valid. */
static bool
time_valid(const struct timespec *t)
{
	return t->tv_nsec == UTIME_NOW || t->tv_nsec == UTIME_OMIT ||
		(t->tv_nsec >= 0 && t->tv_nsec <= 999999999);
}

/*
 * attr_utimens -- vfs_utimes: NULL times (or both UTIME_NOW) need the
 * owner, CAP_FOWNER or write permission (EACCES); anything else the owner
 * or CAP_FOWNER (EPERM).
 */
static int
attr_utimens(struct dx_inode *ip, const struct timespec *times)
{
	struct timespec now = dx_now();
	struct attr_set as = {.atime = true, .mtime = true};
	struct dx_cred cr;
	int ret = -1;

	if (times != NULL && (!time_valid(&times[0]) || !time_valid(&times[1])))
		return dx_err(EINVAL, "utimensat: invalid nanoseconds");
	if (times != NULL && times[0].tv_nsec == UTIME_NOW &&
	    times[1].tv_nsec == UTIME_NOW)
		times = NULL;
	as.new_atime = as.new_mtime = (struct dx_time){now.tv_sec, now.tv_nsec};
	if (times != NULL) {
		as.atime = times[0].tv_nsec != UTIME_OMIT;
		as.mtime = times[1].tv_nsec != UTIME_OMIT;
		if (times[0].tv_nsec != UTIME_NOW)
			as.new_atime = (struct dx_time){times[0].tv_sec,
				times[0].tv_nsec};
		if (times[1].tv_nsec != UTIME_NOW)
			as.new_mtime = (struct dx_time){times[1].tv_sec,
				times[1].tv_nsec};
	}
	dx_cred_init(&cr, DX_CRED_FS);
	dx_inode_lock_attrs(ip, true);
	if (!dx_perm_owner(&cr, ip)) {
		if (times != NULL) {
			dx_err(EPERM, "utimensat: setting times needs the owner");
			goto out;
		}
		if (dx_perm_inode(&cr, ip, DX_MAY_WRITE) != 0)
			goto out;
	}
	ret = attr_commit(ip, &as);
out:
	dx_inode_unlock_attrs(ip, true);
	return ret;
}

DX_EXPORT int
daxfile_utimensat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	const struct timespec times[2], int flags)
{
	struct dx_inode *ip;
	int ret;

	dx_err_begin();
	/* both omitted: nothing to do, not even the path is looked at */
	if (times != NULL && times[0].tv_nsec == UTIME_OMIT &&
	    times[1].tv_nsec == UTIME_OMIT)
		return 0;
	if (path == NULL && dir != NULL) {
		/* utimensat(fd, NULL, ...): the file itself, as futimens */
		if (flags != 0)
			return dx_err(EINVAL, "flags with a NULL path");
		return daxfile_futimens(dir, times);
	}
	if (attr_flags_check(flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0)
		return -1;
	ip = attr_lookup(pool, dir, path, flags, NULL);
	if (ip == NULL)
		return -1;
	ret = attr_utimens(ip, times);
	dx_iput(ip);
	return ret;
}

DX_EXPORT int
daxfile_futimens(daxfile_file *file, const struct timespec times[2])
{
	struct dx_inode *ip = attr_file(file);

	if (ip == NULL)
		return -1;
	if (times != NULL && times[0].tv_nsec == UTIME_OMIT &&
	    times[1].tv_nsec == UTIME_OMIT)
		return 0;
	return attr_utimens(ip, times);
}

/* --- access --------------------------------------------------------------------- */

DX_EXPORT int
daxfile_faccessat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	int mode, int flags)
{
	struct dx_inode *ip;
	struct dx_cred cr;
	int ret = 0;

	dx_err_begin();
	if (mode & ~(R_OK | W_OK | X_OK))
		return dx_err(EINVAL, "access: invalid mode %#x", mode);
	if (attr_flags_check(flags,
	    AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0)
		return -1;
	dx_cred_init(&cr, (flags & AT_EACCESS) ? DX_CRED_FS : DX_CRED_REAL);
	ip = attr_lookup(pool, dir, path, flags, &cr);
	if (ip == NULL)
		return -1;
	/* R_OK, W_OK, X_OK are the DX_MAY_* bits */
	if (mode != 0)
		ret = dx_perm_inode(&cr, ip, (unsigned)mode);
	dx_iput(ip);
	return ret;
}

DX_EXPORT int
daxfile_access(daxfile_pool *pool, const char *path, int mode)
{
	return daxfile_faccessat(pool, NULL, path, mode, 0);
}

/* --- truncate ------------------------------------------------------------------- */

DX_EXPORT int
daxfile_truncate(daxfile_pool *pool, const char *path, off_t length)
{
	struct dx_inode *ip;
	struct dx_cred cr;
	int ret = -1;

	dx_err_begin();
	if (length < 0)
		return dx_err(EINVAL, "negative length");
	dx_cred_init(&cr, DX_CRED_FS);
	ip = attr_lookup(pool, NULL, path, 0, &cr);
	if (ip == NULL)
		return -1;
	if (ip->isdir)
		dx_err(EISDIR, "'%s' is a directory", path);
	else if (!S_ISREG(ip->di->mode))
		dx_err(EINVAL, "'%s' is not a regular file", path);
	else if (dx_perm_inode(&cr, ip, DX_MAY_WRITE) != 0)
		dx_err_keep("truncate '%s'", path);
	else if ((uint64_t)length > DX_MAX_FILE_SIZE)
		dx_err(EFBIG, "length beyond the maximum file size");
	else if (length == 0 && ip->di->size == 0 && ip->di->nblocks == 0)
		ret = 0; /* as XFS: an empty file stays as it is, setuid included */
	else if (dx_file_load(ip) == 0)
		ret = dx_truncate(ip, (uint64_t)length);
	dx_iput(ip);
	return ret;
}

/* --- stat ------------------------------------------------------------------------ */

/* attr_stat -- dx_inode_stat under the attribute lock (shared). */
static void
attr_stat(struct dx_inode *ip, struct stat *st, int64_t *btime_ns)
{
	dx_inode_lock_attrs(ip, false);
	dx_inode_stat(ip, st);
	if (btime_ns != NULL)
		*btime_ns = ip->di->btime_ns;
	dx_inode_unlock_attrs(ip, false);
}

DX_EXPORT int
daxfile_fstatat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	struct stat *st, int flags)
{
	struct dx_inode *ip;

	dx_err_begin();
	if (attr_flags_check(flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH |
	    AT_NO_AUTOMOUNT) != 0)
		return -1;
	if (st == NULL)
		return dx_err(EFAULT, "stat buffer is NULL");
	ip = attr_lookup(pool, dir, path, flags, NULL);
	if (ip == NULL)
		return -1;
	attr_stat(ip, st, NULL);
	dx_iput(ip);
	return 0;
}

DX_EXPORT int
daxfile_lstat(daxfile_pool *pool, const char *path, struct stat *st)
{
	return daxfile_fstatat(pool, NULL, path, st, AT_SYMLINK_NOFOLLOW);
}

static struct statx_timestamp
stx_time(struct timespec t)
{
	return (struct statx_timestamp){.tv_sec = t.tv_sec,
		.tv_nsec = (uint32_t)t.tv_nsec};
}

/* statx_fill -- struct statx from struct stat and the birth time. */
static void
statx_fill(struct statx *stx, const struct stat *st, int64_t btime_ns)
{
	memset(stx, 0, sizeof(*stx));
	stx->stx_mask = STATX_BASIC_STATS;
	stx->stx_blksize = (uint32_t)st->st_blksize;
	stx->stx_nlink = (uint32_t)st->st_nlink;
	stx->stx_uid = st->st_uid;
	stx->stx_gid = st->st_gid;
	stx->stx_mode = (uint16_t)st->st_mode;
	stx->stx_ino = st->st_ino;
	stx->stx_size = (uint64_t)st->st_size;
	stx->stx_blocks = (uint64_t)st->st_blocks;
	stx->stx_attributes_mask = STATX_ATTR_DAX;
	if (S_ISREG(st->st_mode))
		stx->stx_attributes = STATX_ATTR_DAX;
	stx->stx_atime = stx_time(st->st_atim);
	stx->stx_mtime = stx_time(st->st_mtim);
	stx->stx_ctime = stx_time(st->st_ctim);
	if (btime_ns != 0) {
		stx->stx_mask |= STATX_BTIME;
		stx->stx_btime.tv_sec = btime_ns / 1000000000;
		stx->stx_btime.tv_nsec = (uint32_t)(btime_ns % 1000000000);
	}
	stx->stx_dev_major = major(st->st_dev);
	stx->stx_dev_minor = minor(st->st_dev);
}

DX_EXPORT int
daxfile_statx(daxfile_pool *pool, daxfile_file *dir, const char *path,
	int flags, unsigned mask, struct statx *stx)
{
	struct dx_inode *ip;
	struct stat st;
	int64_t btime_ns;

	dx_err_begin();
	if (attr_flags_check(flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH |
	    AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) != 0)
		return -1;
	if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
		return dx_err(EINVAL, "statx: both AT_STATX_FORCE_SYNC and AT_STATX_DONT_SYNC");
	if (mask & STATX__RESERVED)
		return dx_err(EINVAL, "statx: reserved mask bits %#x", mask);
	if (stx == NULL)
		return dx_err(EFAULT, "statx buffer is NULL");
	ip = attr_lookup(pool, dir, path, flags, NULL);
	if (ip == NULL)
		return -1;
	attr_stat(ip, &st, &btime_ns);
	dx_iput(ip);
	statx_fill(stx, &st, btime_ns);
	return 0;
}

/* --- umask --------------------------------------------------------------------- */

DX_EXPORT mode_t
daxfile_umask(daxfile_pool *pool, mode_t mask)
{
	if (dx_pool_check_handle(pool) != 0)
		return (mode_t)-1;
	return __atomic_exchange_n(&pool->umask, (unsigned)(mask & 0777),
		__ATOMIC_RELAXED);
}
