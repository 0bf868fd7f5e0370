/*
 * attr.h -- inode attributes changed on the data path: a write, truncate
 * or fallocate by a caller without CAP_FSETID clears setuid and setgid
 * (the kernel's file_remove_privs).
 */
#ifndef DX_ATTR_H
#define DX_ATTR_H 1

#include <sys/stat.h>

#include "inode.h"

/* dx_attr_remove_privs -- the slow path of dx_attr_file_modified. */
int dx_attr_remove_privs(struct dx_inode *ip);

/*
 * dx_attr_file_modified -- before a data change of regular file 'ip'
 * (caller holds its iolock exclusive, not its ilock): clear setuid, and
 * setgid where the kernel would, unless the caller has CAP_FSETID.  A
 * file without those bits costs one load.  -1 with errno if the change
 * could not be committed.
 */
static inline int
dx_attr_file_modified(struct dx_inode *ip)
{
	if (likely(!(__atomic_load_n(&ip->di->mode, __ATOMIC_RELAXED) &
	    (S_ISUID | S_ISGID))))
		return 0;
	return dx_attr_remove_privs(ip);
}

#endif /* DX_ATTR_H */
