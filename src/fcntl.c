/*
 * fcntl.c -- control of an open file description: daxfile_fcntl (status
 * flags, the close-on-exec flag, record locks) and daxfile_flock.
 *
 * The description keeps its open flags in 'flags'; F_SETFL changes the
 * status flags Linux lets it change, F_SETFD the O_CLOEXEC bit (the
 * close-on-exec flag lives on the description here, for a layer that maps
 * descriptors onto handles).  Both change the word atomically: they may
 * race each other, and reads and writes read it without a lock.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/file.h>

#include "file.h"
#include "locks.h"
#include "out.h"
#include "permission.h"
#include "pool.h"

/* The status flags F_SETFL changes (Linux's SETFL_MASK; O_NDELAY is O_NONBLOCK). */
#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME)

/*
 * The kernel's O_LARGEFILE, which F_GETFL reports for every file opened
 * on a 64-bit system, though <fcntl.h> defines O_LARGEFILE as 0 there.
 */
#define KERNEL_O_LARGEFILE 0100000

/* Open flags that only act at open and that F_GETFL does not report. */
#define OPEN_ONLY_FLAGS (O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)

/* fcntl_getfl -- what F_GETFL reports for open flags 'flags', as Linux. */
static int
fcntl_getfl(int flags)
{
	if (flags & O_PATH)
		return flags & (O_PATH | O_DIRECTORY | O_NOFOLLOW);
	return (flags & ~OPEN_ONLY_FLAGS) | KERNEL_O_LARGEFILE;
}

/* fcntl_update -- replace the 'mask' bits of the flags with 'bits'. */
static void
fcntl_update(daxfile_file *file, int mask, int bits)
{
	int old = __atomic_load_n(&file->flags, __ATOMIC_RELAXED), new;

	do {
		new = (old & ~mask) | (bits & mask);
	} while (!__atomic_compare_exchange_n(&file->flags, &old, new, false,
		__ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

/*
 * fcntl_setfl -- F_SETFL as Linux's setfl(): O_NOATIME only for the owner
 * or a caller with CAP_FOWNER (EPERM); O_DIRECT only on regular files
 * (EINVAL), which accept it as XFS does (their reads and writes copy
 * straight to and from the pool anyway); other bits ignored.
 */
static int
fcntl_setfl(daxfile_file *file, int arg)
{
	int flags = __atomic_load_n(&file->flags, __ATOMIC_RELAXED);
	struct dx_cred cr;

	if ((arg & O_NOATIME) && !(flags & O_NOATIME)) {
		dx_cred_init(&cr, DX_CRED_FS);
		if (!dx_perm_owner(&cr, file->ip))
			return dx_err(EPERM, "O_NOATIME needs ownership of the file or CAP_FOWNER");
	}
	if ((arg & O_DIRECT) && file->ip->isdir)
		return dx_err(EINVAL, "O_DIRECT on a directory");
	fcntl_update(file, SETFL_MASK, arg);
	return 0;
}

/* fcntl_cmd -- the command, with its argument (if any) still in 'ap'. */
static int
fcntl_cmd(daxfile_file *file, int cmd, va_list ap)
{
	int flags;

	if (dx_file_check_any(file) != 0)
		return -1;
	flags = __atomic_load_n(&file->flags, __ATOMIC_RELAXED);
	switch (cmd) {
	case F_GETFD:
		return (flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
	case F_SETFD:
		fcntl_update(file, O_CLOEXEC,
			(va_arg(ap, int) & FD_CLOEXEC) ? O_CLOEXEC : 0);
		return 0;
	case F_GETFL:
		return fcntl_getfl(flags);
	case F_SETFL:
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		break;
	default:
		return dx_err(EINVAL, "fcntl command %d is not supported", cmd);
	}
	if (flags & O_PATH)
		return dx_err(EBADF, "fcntl command %d on an O_PATH file", cmd);
	if (cmd == F_SETFL)
		return fcntl_setfl(file, va_arg(ap, int));
	return dx_locks_fcntl(file, cmd, va_arg(ap, struct flock *));
}

DX_EXPORT int
daxfile_fcntl(daxfile_file *file, int cmd, ...)
{
	va_list ap;
	int ret;

	va_start(ap, cmd);
	ret = fcntl_cmd(file, cmd, ap);
	va_end(ap);
	return ret;
}

/*
 * daxfile_flock -- flock(2), checked in the kernel's order: LOCK_MAND is
 * ignored (Linux dropped it and returns 0), an unknown operation is
 * EINVAL, then the handle is checked.
 */
DX_EXPORT int
daxfile_flock(daxfile_file *file, int operation)
{
	short type;

	dx_err_begin();
	if (operation & LOCK_MAND)
		return 0;
	switch (operation & ~LOCK_NB) {
	case LOCK_SH:
		type = F_RDLCK;
		break;
	case LOCK_EX:
		type = F_WRLCK;
		break;
	case LOCK_UN:
		type = F_UNLCK;
		break;
	default:
		return dx_err(EINVAL, "bad flock operation %#x", operation);
	}
	if (dx_file_check(file) != 0)
		return -1;
	return dx_locks_flock(file, type, !(operation & LOCK_NB));
}
