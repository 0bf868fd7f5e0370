/*
 * fdtable.h -- the descriptor table: which descriptor numbers are pool
 * files, and the open file descriptions behind them.  Each pool file holds
 * a real descriptor reserved from the kernel (an O_PATH descriptor of the
 * pool file), so numbers never collide with the kernel's and
 * /proc/self/fd shows which pool a descriptor belongs to.
 */
#ifndef DXP_FDTABLE_H
#define DXP_FDTABLE_H 1

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include <daxfile.h>

#include "mount.h"
#include "shared.h"

/*
 * An open file description of a pool file.  'file' is the library's
 * handle while this process has the pool; it is NULL (detached) after
 * fork, after exec, and after the pool went to another process, until the
 * first use opens the file again at 'path' (checked by inode number) and
 * restores the offset from the shared record.
 */
struct dxp_ofd {
	atomic_long refs;	/* descriptors, streams, mappings, calls */
	atomic_long nslots;	/* descriptors naming it */
	atomic_long nstreams;	/* directory streams on it (dir.c) */
	atomic_bool detaching;	/* the pool is being given up */
	struct dxp_mount *m;
	pthread_mutex_t lock;	/* attach, detach, the directory stream */
	daxfile_file *_Atomic file;
	int flags;		/* open(2) status and access flags */
	bool isdir;
	ino_t ino;		/* with btime_ns, which file it is: a */
	int64_t btime_ns;	/* number is reused (0: unknown) */
	uint64_t gen;		/* with ino, the library's handle of it
				   (daxfile_open_by_handle; 0: none) */
	struct dxp_shofd *sh;	/* offset and flags, shared across processes */
	atomic_bool crossed;	/* another process may use it: keep sh current */
	struct dxp_shofd priv;	/* ... or kept here if no record was left */
	char path[PATH_MAX];	/* the path inside the pool at open */
	unsigned long renames_seen;	/* the rename log's count 'path' has
					   been brought through (shared.h) */
	daxfile_dir *dir;	/* getdents64's stream, opened at first use */
	off_t dir_pos;		/* entries getdents64 returned */
	struct dirent64 pending;	/* read but did not fit the last buffer */
	bool has_pending;
	struct dxp_ofd *next_free;
};

/* the number of descriptors that are pool files (a fast test) */
extern atomic_int dxp_nfds;

/* dxp_fd_is_pool -- is 'fd' a pool file? */
bool dxp_fd_is_pool(int fd);

/* dxp_fd_get -- the description behind 'fd' with a reference, or NULL. */
struct dxp_ofd *dxp_fd_get(int fd);

/* dxp_ofd_put -- drop a reference; the last closes the library's handle. */
void dxp_ofd_put(struct dxp_ofd *o);

/* dxp_ofd_new -- a description of 'file' (one reference) on mount 'm'. */
struct dxp_ofd *dxp_ofd_new(struct dxp_mount *m, daxfile_file *file,
	const char *path, int flags);

/*
 * dxp_ofd_follow -- a description's path brought through the renames
 * logged since it last was (shared.h); o->lock held, or the description
 * not yet shared.
 */
void dxp_ofd_follow(struct dxp_ofd *o);

/*
 * dxp_ofd_file -- the library's handle, opened again first if the
 * description is detached; NULL with errno on failure.
 */
daxfile_file *dxp_ofd_file(struct dxp_ofd *o);

/* dxp_ofd_pool -- the attached pool of an attached description. */
daxfile_pool *dxp_ofd_pool(struct dxp_ofd *o);

/*
 * dxp_fd_reserve -- a kernel descriptor for a new pool file: the lowest
 * free number (at least 'min'), with FD_CLOEXEC if 'cloexec'.
 */
int dxp_fd_reserve(struct dxp_mount *m, int min, bool cloexec);

/* dxp_fd_install -- 'fd' now names 'o' (the table takes a reference). */
void dxp_fd_install(int fd, struct dxp_ofd *o, bool cloexec);

/*
 * dxp_fd_install_hidden -- a number of the layer's own (hidefd.h) for 'o',
 * FD_CLOEXEC, taking the caller's reference; -1 (errno set) if none.
 */
int dxp_fd_install_hidden(struct dxp_ofd *o);

/* dxp_fd_remove -- forget 'fd'; returns its description (the caller puts it). */
struct dxp_ofd *dxp_fd_remove(int fd);

/* dxp_fd_cloexec / dxp_fd_set_cloexec -- the FD_CLOEXEC flag of a pool fd. */
bool dxp_fd_cloexec(int fd);
void dxp_fd_set_cloexec(int fd, bool on);

/*
 * dxp_ofd_note_offset -- after a call that moved the offset of a
 * description another process may use: the offset to the shared record
 * (a process can end with _exit, or be killed, while it holds the pool).
 */
static inline void
dxp_ofd_note_offset(struct dxp_ofd *o, daxfile_file *f)
{
	if (__builtin_expect(atomic_load_explicit(&o->crossed,
	    memory_order_relaxed), 0)) {
		off_t off = daxfile_lseek(f, 0, SEEK_CUR);

		if (off >= 0)
			atomic_store(&o->sh->offset, off);
	}
}

/* dxp_ofd_vpath -- the path 'fd' was opened at, if it is a pool file. */
int dxp_ofd_vpath(int fd, char *buf, size_t size);

/* dxp_fd_each -- call 'fn' on every pool descriptor (table locked). */
void dxp_fd_each(void (*fn)(int fd, struct dxp_ofd *o, bool cloexec, void *),
	void *arg);

/*
 * dxp_fd_forked -- first in a forked child: the table's lock, which a
 * thread of the parent may have held, is the child's.
 */
void dxp_fd_forked(void);

/* dxp_fd_detach_all -- fork child: every description becomes detached. */
void dxp_fd_detach_all(void);

/* dxp_fd_save_offsets -- before fork and at exit: note every offset. */
void dxp_fd_save_offsets(void);

/*
 * dxp_fd_detach_mount -- close every handle of mount 'm' (the pool is
 * being given up), offsets to the shared records: 0, or 1 if a call is
 * running on one (nothing changed).  The caller has checked that no
 * stream or mapping of the pool is open.
 */
int dxp_fd_detach_mount(struct dxp_mount *m);

#endif /* DXP_FDTABLE_H */
