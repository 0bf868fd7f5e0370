/*
 * locks.h -- advisory file locks: POSIX record locks (owned by the
 * process), open file description (OFD) record locks and flock(2) locks,
 * kept in DRAM per inode, with the conflicts, waits and deadlock detection
 * of Linux's fs/locks.c.  A pool is open in one process, so the process is
 * the only owner of POSIX locks; descriptions own the others.
 */
#ifndef DX_LOCKS_H
#define DX_LOCKS_H 1

#include <fcntl.h>
#include <stdbool.h>

#include "daxfile.h"

struct dx_inode;

/*
 * dx_locks_fcntl -- F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK or
 * F_OFD_SETLKW with 'fl' on 'file' (a live handle, not O_PATH; the caller
 * holds no lock).  0, or -1 with errno as fcntl(2).
 */
int dx_locks_fcntl(daxfile_file *file, int cmd, struct flock *fl);

/*
 * dx_locks_flock -- flock(2) on 'file': 'type' F_RDLCK (LOCK_SH), F_WRLCK
 * (LOCK_EX) or F_UNLCK (LOCK_UN); 'wait' unless LOCK_NB.
 */
int dx_locks_flock(daxfile_file *file, short type, bool wait);

/*
 * dx_locks_close -- 'file' is being closed: the process's POSIX locks on
 * its inode go (any close does that, as POSIX requires), and so do the OFD
 * and flock locks of the description; its waiters give up with EBADF.
 */
void dx_locks_close(daxfile_file *file);

/* dx_locks_inode_free -- the inode's last reference is gone: free its state. */
void dx_locks_inode_free(struct dx_inode *ip);

#endif /* DX_LOCKS_H */
