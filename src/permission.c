/*
 * permission.c -- the kernel's permission checks against the calling
 * thread's credentials, which are read lazily: a check reads only what
 * decides it (permission.h says in what order), because each read is a
 * system call that costs as much as a lookup in a large directory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "inode.h"
#include "out.h"
#include "permission.h"

/* The attributes a check reads, each loaded once. */
struct perm_attrs {
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
};

static inline struct perm_attrs
perm_attrs(const struct dx_inode *ip)
{
	const struct dx_dinode *di = ip->di;

	return (struct perm_attrs){
		__atomic_load_n(&di->mode, __ATOMIC_RELAXED),
		__atomic_load_n(&di->uid, __ATOMIC_RELAXED),
		__atomic_load_n(&di->gid, __ATOMIC_RELAXED),
	};
}

/* --- credentials ---------------------------------------------------------- */

uid_t
dx_cred_uid(struct dx_cred *cr)
{
	if (!(cr->have & DX_CRED_HAVE_UID)) {
		uid_t r, e, s;

		if (cr->kind == DX_CRED_REAL) {
			getresuid(&r, &e, &s);
			cr->uid = r;
		} else {
			/* an invalid id changes nothing and returns the fsuid */
			cr->uid = (uint32_t)setfsuid((uid_t)-1);
		}
		cr->have |= DX_CRED_HAVE_UID;
	}
	return cr->uid;
}

gid_t
dx_cred_gid(struct dx_cred *cr)
{
	if (!(cr->have & DX_CRED_HAVE_GID)) {
		gid_t r, e, s;

		if (cr->kind == DX_CRED_REAL) {
			getresgid(&r, &e, &s);
			cr->gid = r;
		} else {
			cr->gid = (uint32_t)setfsgid((gid_t)-1);
		}
		cr->have |= DX_CRED_HAVE_GID;
	}
	return cr->gid;
}

mode_t
dx_cred_umask(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	unsigned m;
	mode_t old;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Umask: %o", &m) == 1) {
			fclose(f);
			return (mode_t)(m & 0777);
		}
	}
	if (f != NULL)
		fclose(f);
	old = umask(022);
	umask(old);
	return old;
}

/* cred_read_caps -- the thread's effective (or, for real ids, permitted) set. */
static void
cred_read_caps(struct dx_cred *cr)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	cr->caps = 0;
	cr->have |= DX_CRED_HAVE_CAPS;
	/* access_override_creds: no capability for a non-root real uid */
	if (cr->kind == DX_CRED_REAL && dx_cred_uid(cr) != 0)
		return;
	if (syscall(SYS_capget, &h, d) != 0)
		return;
	if (cr->kind == DX_CRED_REAL)
		cr->caps = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	else
		cr->caps = (uint64_t)d[1].effective << 32 | d[0].effective;
}

bool
dx_cred_capable(struct dx_cred *cr, unsigned cap)
{
	if (!(cr->have & DX_CRED_HAVE_CAPS))
		cred_read_caps(cr);
	return (cr->caps >> cap) & 1;
}

/* groups_search -- is 'gid' among the thread's supplementary groups? */
static bool
groups_search(gid_t gid)
{
	gid_t small[64], *g = small;
	bool found = false;
	int n = getgroups((int)DX_ARRAY_SIZE(small), small);

	if (n < 0 && errno == EINVAL) {
		/* more than fit: ask for the count, then for all of them */
		n = getgroups(0, NULL);
		g = n > 0 ? malloc((size_t)n * sizeof(*g)) : NULL;
		n = g != NULL ? getgroups(n, g) : -1;
	}
	for (int i = 0; i < n && !found; i++)
		found = g[i] == gid;
	if (g != small)
		free(g);
	return found;
}

bool
dx_cred_in_group(struct dx_cred *cr, gid_t gid)
{
	return dx_cred_gid(cr) == gid || groups_search(gid);
}

/* --- checks --------------------------------------------------------------- */

/*
 * mode_permission -- acl_permission_check: the mode bits alone.  Everyone
 * having the bits decides without any credential; then the owner class,
 * then the group class only where group and other bits differ.
 */
static bool
mode_permission(struct dx_cred *cr, const struct perm_attrs *a, unsigned mask)
{
	uint32_t mode = a->mode;

	if (((mask & 7) * 0111 & ~mode) == 0)
		return true;
	if (dx_cred_uid(cr) == a->uid)
		return (mask & ~(mode >> 6) & 7) == 0;
	if ((mask & (mode ^ (mode >> 3))) && dx_cred_in_group(cr, a->gid))
		mode >>= 3;
	return (mask & ~mode & 7) == 0;
}

/* cap_override -- the capabilities generic_permission lets override the bits. */
static bool
cap_override(struct dx_cred *cr, const struct perm_attrs *a, unsigned mask)
{
	if (S_ISDIR(a->mode)) {
		if (!(mask & DX_MAY_WRITE) &&
		    dx_cred_capable(cr, DX_CAP_DAC_READ_SEARCH))
			return true;
		return dx_cred_capable(cr, DX_CAP_DAC_OVERRIDE);
	}
	if (mask == DX_MAY_READ && dx_cred_capable(cr, DX_CAP_DAC_READ_SEARCH))
		return true;
	/* execute is overridable only when some x bit is set */
	if (!(mask & DX_MAY_EXEC) || (a->mode & 0111))
		return dx_cred_capable(cr, DX_CAP_DAC_OVERRIDE);
	return false;
}

/* perm_denied -- the EACCES of a refused check, naming what was asked. */
static int
perm_denied(const struct dx_inode *ip, unsigned mask)
{
	return dx_err(EACCES, "permission denied: %s%s%s on inode %#lx",
		(mask & DX_MAY_READ) ? "r" : "", (mask & DX_MAY_WRITE) ? "w" : "",
		(mask & DX_MAY_EXEC) ? (ip->isdir ? "x (search)" : "x") : "",
		(unsigned long)ip->ino);
}

int
dx_perm_inode(struct dx_cred *cr, const struct dx_inode *ip, unsigned mask)
{
	struct perm_attrs a = perm_attrs(ip);

	mask &= DX_MAY_READ | DX_MAY_WRITE | DX_MAY_EXEC;
	if (likely(mode_permission(cr, &a, mask)) || cap_override(cr, &a, mask))
		return 0;
	return perm_denied(ip, mask);
}

int
dx_perm_may_create(struct dx_cred *cr, const struct dx_inode *dir)
{
	return dx_perm_inode(cr, dir, DX_MAY_WRITE | DX_MAY_EXEC);
}

int
dx_perm_may_delete(struct dx_cred *cr, const struct dx_inode *dir,
	const struct dx_inode *victim)
{
	struct perm_attrs d, v;
	uid_t me;

	if (dx_perm_inode(cr, dir, DX_MAY_WRITE | DX_MAY_EXEC) != 0)
		return -1;
	d = perm_attrs(dir);
	if (!(d.mode & S_ISVTX))
		return 0;
	/* check_sticky */
	v = perm_attrs(victim);
	me = dx_cred_uid(cr);
	if (v.uid == me || d.uid == me || dx_cred_capable(cr, DX_CAP_FOWNER))
		return 0;
	return dx_err(EPERM, "sticky directory: inode %#lx belongs to another user",
		(unsigned long)victim->ino);
}

bool
dx_perm_owner(struct dx_cred *cr, const struct dx_inode *ip)
{
	uint32_t uid = __atomic_load_n(&ip->di->uid, __ATOMIC_RELAXED);

	return dx_cred_uid(cr) == uid || dx_cred_capable(cr, DX_CAP_FOWNER);
}

int
dx_perm_open(struct dx_cred *cr, const struct dx_inode *ip, int flags)
{
	unsigned mask = 0;

	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		mask = DX_MAY_READ;
		break;
	case O_WRONLY:
		mask = DX_MAY_WRITE;
		break;
	default:
		mask = DX_MAY_READ | DX_MAY_WRITE;
		break;
	}
	if (flags & O_TRUNC)
		mask |= DX_MAY_WRITE;
	if (dx_perm_inode(cr, ip, mask) != 0)
		return -1;
	if ((flags & O_NOATIME) && !dx_perm_owner(cr, ip))
		return dx_err(EPERM, "O_NOATIME: not the owner of inode %#lx",
			(unsigned long)ip->ino);
	return 0;
}

/* in_group_or_capable -- in the group 'gid', or CAP_FSETID. */
static bool
in_group_or_capable(struct dx_cred *cr, gid_t gid)
{
	return dx_cred_in_group(cr, gid) || dx_cred_capable(cr, DX_CAP_FSETID);
}

mode_t
dx_perm_create_mode(struct dx_cred *cr, const struct dx_inode *dir,
	mode_t mode, mode_t umask)
{
	struct perm_attrs d = perm_attrs(dir);
	mode_t type = mode & S_IFMT;

	/* mode_strip_sgid */
	if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
	    !S_ISDIR(mode) && (d.mode & S_ISGID) &&
	    !in_group_or_capable(cr, d.gid))
		mode &= ~(mode_t)S_ISGID;
	mode &= ~(umask & 0777);
	return type | (mode & (S_ISDIR(mode) ? 01777 : 07777));
}

void
dx_perm_init_owner(struct dx_cred *cr, const struct dx_inode *dir,
	mode_t *mode, uint32_t *uid, uint32_t *gid)
{
	struct perm_attrs d = {0, 0, 0};

	if (dir != NULL)
		d = perm_attrs(dir);
	*uid = dx_cred_uid(cr);
	if (d.mode & S_ISGID) {
		*gid = d.gid;
		if (S_ISDIR(*mode))
			*mode |= S_ISGID;
	} else {
		*gid = dx_cred_gid(cr);
	}
}

bool
dx_perm_kill_sgid(struct dx_cred *cr, mode_t mode, gid_t gid)
{
	if (!(mode & S_ISGID))
		return false;
	if (mode & S_IXGRP)
		return true;
	return !in_group_or_capable(cr, gid);
}

/* --- the protected_* rules of fs/namei.c ---------------------------------- */

/*
 * perm_sysctl -- /proc/sys/fs/<name>, read once per process; 'dflt' where
 * it cannot be read.  The host's setting is what the kernel applies to the
 * same caller, so the pool follows it.
 */
static int
perm_sysctl(const char *name, int *cache, int dflt)
{
	int v = __atomic_load_n(cache, __ATOMIC_RELAXED);
	char path[64];
	FILE *f;

	if (v >= 0)
		return v;
	snprintf(path, sizeof(path), "/proc/sys/fs/%s", name);
	f = fopen(path, "re");
	if (f == NULL || fscanf(f, "%d", &v) != 1 || v < 0)
		v = dflt;
	if (f != NULL)
		fclose(f);
	__atomic_store_n(cache, v, __ATOMIC_RELAXED);
	return v;
}

int
dx_perm_may_linkat(struct dx_cred *cr, const struct dx_inode *ip)
{
	static int protected_hardlinks = -1;
	struct perm_attrs a = perm_attrs(ip);

	if (perm_sysctl("protected_hardlinks", &protected_hardlinks, 1) == 0 ||
	    dx_perm_owner(cr, ip))
		return 0;
	/* safe_hardlink_source */
	if (S_ISREG(a.mode) && !(a.mode & S_ISUID) &&
	    (a.mode & (S_ISGID | S_IXGRP)) != (S_ISGID | S_IXGRP) &&
	    dx_perm_inode(cr, ip, DX_MAY_READ | DX_MAY_WRITE) == 0)
		return 0;
	return dx_err(EPERM, "protected hard links: only the owner may link inode %#lx",
		(unsigned long)ip->ino);
}

int
dx_perm_create_in_sticky(struct dx_cred *cr, const struct dx_inode *dir,
	const struct dx_inode *ip)
{
	static int protected_regular = -1;
	struct perm_attrs d = perm_attrs(dir), a = perm_attrs(ip);
	int regular;

	if (!(d.mode & S_ISVTX))
		return 0;
	regular = perm_sysctl("protected_regular", &protected_regular, 0);
	if (S_ISREG(a.mode) && regular == 0)
		return 0;
	if (a.uid == d.uid || a.uid == dx_cred_uid(cr))
		return 0;
	if ((d.mode & 0002) ||
	    ((d.mode & 0020) && S_ISREG(a.mode) && regular >= 2))
		return dx_err(EACCES, "O_CREAT in a sticky directory: inode %#lx belongs to another user",
			(unsigned long)ip->ino);
	return 0;
}
