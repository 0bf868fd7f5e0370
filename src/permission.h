/*
 * permission.h -- who may do what to an inode: the calling thread's
 * credentials, read when a check needs them, and the kernel's checks
 * (generic_permission, may_create, may_delete with the sticky bit,
 * owner-or-CAP_FOWNER, in_group_p).
 *
 * A public call declares one struct dx_cred on its stack with
 * dx_cred_init() and passes it to every check it makes.  Nothing is read
 * at init: the first check that needs the fsuid reads it (one system
 * call), the groups are read only when the group class decides, and the
 * capabilities only when the mode bits refuse.  A check whose answer the
 * mode bits give for everybody (a 0755 directory searched) reads nothing.
 * Credentials are per thread on Linux (raw setfsuid/setresuid system
 * calls change only the calling thread), and so are the ones read here.
 *
 * The checks read an inode's mode, uid and gid with relaxed atomic loads:
 * a caller that does not hold the inode's attribute lock is checked
 * against the mode before or after a concurrent chmod, as in the kernel's
 * lock-free path walk.  Failures return -1 with errno EACCES or EPERM and
 * a message (dx_err).
 */
#ifndef DX_PERMISSION_H
#define DX_PERMISSION_H 1

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct dx_inode;

/* What a check asks for (the kernel's MAY_* values). */
#define DX_MAY_EXEC	0x1u	/* execute, or search a directory */
#define DX_MAY_WRITE	0x2u
#define DX_MAY_READ	0x4u

/* Capabilities the checks use (numbers of <linux/capability.h>). */
#define DX_CAP_CHOWN		0
#define DX_CAP_DAC_OVERRIDE	1
#define DX_CAP_DAC_READ_SEARCH	2
#define DX_CAP_FOWNER		3
#define DX_CAP_FSETID		4

/* Which ids a call acts with. */
enum dx_cred_kind {
	DX_CRED_FS,	/* fsuid, fsgid, effective capabilities: every call */
	DX_CRED_REAL,	/* access(2) without AT_EACCESS: real uid and gid;
			   capabilities: none for a real uid other than 0,
			   the permitted set for 0 (as the kernel's
			   access_override_creds) */
};

/* The credentials of one call; fields valid once their 'have' bit is set. */
struct dx_cred {
	unsigned kind;		/* enum dx_cred_kind */
	unsigned have;		/* DX_CRED_HAVE_* */
	uint32_t uid;
	uint32_t gid;
	uint64_t caps;		/* bit n: capability n */
};

#define DX_CRED_HAVE_UID	0x1u
#define DX_CRED_HAVE_GID	0x2u
#define DX_CRED_HAVE_CAPS	0x4u

/* dx_cred_init -- the calling thread's credentials of 'kind'; reads nothing yet. */
static inline void
dx_cred_init(struct dx_cred *cr, enum dx_cred_kind kind)
{
	cr->kind = kind;
	cr->have = 0;
}

/* dx_cred_uid / dx_cred_gid -- the fsuid / fsgid (real ids for DX_CRED_REAL). */
uid_t dx_cred_uid(struct dx_cred *cr);
gid_t dx_cred_gid(struct dx_cred *cr);

/*
 * dx_cred_umask -- the process's umask, read without changing it (from
 * /proc/self/status; where that is missing, set and set back).
 */
mode_t dx_cred_umask(void);

/* dx_cred_capable -- is capability 'cap' (DX_CAP_*) in the set the call acts with? */
bool dx_cred_capable(struct dx_cred *cr, unsigned cap);

/* dx_cred_in_group -- in_group_p: 'gid' is the fsgid or a supplementary group. */
bool dx_cred_in_group(struct dx_cred *cr, gid_t gid);

/*
 * dx_perm_inode -- generic_permission: may the caller 'mask' (DX_MAY_*)
 * the inode?  The owner class, else the group class when the caller is in
 * the inode's group, else the other class; then CAP_DAC_READ_SEARCH (read,
 * and search of directories) and CAP_DAC_OVERRIDE (anything on
 * directories; read and write on files, execute when some x bit is set).
 * EACCES when refused.
 */
int dx_perm_inode(struct dx_cred *cr, const struct dx_inode *ip,
	unsigned mask);

/* dx_perm_may_create -- may_create: write and search on 'dir' (EACCES). */
int dx_perm_may_create(struct dx_cred *cr, const struct dx_inode *dir);

/*
 * dx_perm_may_delete -- may_delete, for unlink, rmdir and both ends of a
 * rename: write and search on 'dir' (EACCES), then the sticky bit of
 * 'dir': only the owner of 'victim' or of 'dir', or CAP_FOWNER, may remove
 * it (EPERM).
 */
int dx_perm_may_delete(struct dx_cred *cr, const struct dx_inode *dir,
	const struct dx_inode *victim);

/* dx_perm_owner -- inode_owner_or_capable: the fsuid owns it, or CAP_FOWNER. */
bool dx_perm_owner(struct dx_cred *cr, const struct dx_inode *ip);

/*
 * dx_perm_open -- may_open for an existing inode: read and/or write by the
 * access mode, write for O_TRUNC (EACCES); O_NOATIME only for the owner or
 * CAP_FOWNER (EPERM).  Not for a file the open just created (the kernel
 * checks nothing more then).
 */
int dx_perm_open(struct dx_cred *cr, const struct dx_inode *ip, int flags);

/*
 * dx_perm_create_mode -- the mode of a new inode of type and permission
 * bits 'mode' in 'dir' (vfs_prepare_mode): setgid dropped from a
 * group-executable file created in a setgid directory by a caller outside
 * its group without CAP_FSETID, the 'umask' bits cleared, setuid and
 * setgid dropped from a new directory (it inherits setgid from 'dir' in
 * dx_perm_init_owner).
 */
mode_t dx_perm_create_mode(struct dx_cred *cr, const struct dx_inode *dir,
	mode_t mode, mode_t umask);

/*
 * dx_perm_init_owner -- inode_init_owner: the owner of a new inode is the
 * fsuid; its group the fsgid, or the group of a setgid 'dir', whose
 * setgid bit a new directory inherits ('*mode' gains it).  'dir' is NULL
 * for the root directory of a new pool.
 */
void dx_perm_init_owner(struct dx_cred *cr, const struct dx_inode *dir,
	mode_t *mode, uint32_t *uid, uint32_t *gid);

/*
 * dx_perm_kill_sgid -- setattr_should_drop_sgid: must a chown (or a write)
 * clear the setgid bit of an inode of 'mode' and group 'gid'?  Yes when it
 * is group-executable, or when the caller is outside that group without
 * CAP_FSETID.
 */
bool dx_perm_kill_sgid(struct dx_cred *cr, mode_t mode, gid_t gid);

/*
 * dx_perm_may_linkat -- may_linkat with fs.protected_hardlinks (read from
 * the host once): the owner (or CAP_FOWNER) may link anything; others only
 * a regular file that is neither setuid nor setgid-executable and that
 * they may read and write (EPERM).
 */
int dx_perm_may_linkat(struct dx_cred *cr, const struct dx_inode *ip);

/*
 * dx_perm_create_in_sticky -- may_create_in_sticky: an open with O_CREAT
 * that finds 'ip' existing in the sticky, world-writable directory 'dir'
 * (other-writable for fs.protected_regular = 2) may open it only if the
 * caller or the directory's owner owns it, when it is not a regular file
 * or fs.protected_regular is set (EACCES).
 */
int dx_perm_create_in_sticky(struct dx_cred *cr, const struct dx_inode *dir,
	const struct dx_inode *ip);

#endif /* DX_PERMISSION_H */
