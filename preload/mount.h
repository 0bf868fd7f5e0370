/*
 * mount.h -- the mount table (DAXFILE_MOUNTS) and each pool's attachment
 * to this process: a pool is opened at its first use, kept while anything
 * uses it, and given up when another process asks for it while it is idle.
 */
#ifndef DXP_MOUNT_H
#define DXP_MOUNT_H 1

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include <daxfile.h>

#define DXP_MAX_MOUNTS 32

struct dxp_mount {
	char *dir;		/* the mount point, normalized: "/mnt/one" */
	size_t dirlen;
	char *pool_path;	/* absolute path of the pool file */
	int index;		/* position in the table */
	pthread_mutex_t lock;	/* attach and release */
	daxfile_pool *_Atomic pool;	/* attached in this process, or NULL */
	pid_t pid;		/* the process that attached it: a child that
				   shares our memory (clone with CLONE_VM)
				   must not give it up */
	atomic_long users;	/* calls in flight plus open objects; <0 releasing */
	atomic_long objects;	/* objects that keep the pool (mappings, locks) */
	pthread_mutex_t locks_lock;	/* locks_held */
	bool locks_held;	/* the process has advisory locks here: one
				   of the objects (dxp_mount_locks_sync) */
	bool warned;		/* the EBUSY message was printed */
	atomic_int placeholder;	/* O_PATH of the pool file, hidden, that a
				   pool descriptor's number copies; -1 */
	atomic_llong handed_ns;	/* when the pool was last let go to a
				   process that asked (CLOCK_MONOTONIC); 0 */
};

extern struct dxp_mount dxp_mounts[DXP_MAX_MOUNTS];
extern int dxp_nmounts;

/*
 * dxp_mount_tryget -- a use of the pool if this process has it now, never
 * attaching it (no hand-over); true if taken (dxp_mount_put drops it).
 */
bool dxp_mount_tryget(struct dxp_mount *m);

/*
 * dxp_mount_placeholder -- the mount's O_PATH descriptor of its pool file,
 * opened at the first attach (with the credentials that opened the pool):
 * the kernel descriptors of pool files are copies of it, so that a thread
 * whose fs ids cannot reach the pool file's host directory still gets
 * them.  -1 with errno if it cannot be opened.
 */
int dxp_mount_placeholder(struct dxp_mount *m);

/* dxp_mount_init -- parse DAXFILE_MOUNTS; 0, or -1 if it is malformed. */
int dxp_mount_init(void);

/* dxp_mount_match -- the mount a normalized absolute path is at or under. */
struct dxp_mount *dxp_mount_match(const char *path, const char **rest);

/*
 * dxp_mount_get -- the pool, attached if needed, with one use taken: every
 * call, attached file description and mapping holds one.  NULL with errno
 * (EBUSY when another process holds it) on failure.
 */
daxfile_pool *dxp_mount_get(struct dxp_mount *m);

/* dxp_mount_put -- drop a use taken by dxp_mount_get. */
void dxp_mount_put(struct dxp_mount *m);

/*
 * dxp_mount_hold / dxp_mount_unhold -- a use taken by dxp_mount_get
 * becomes (or stops being) a mapping's or the advisory locks': the pool is
 * then busy for other processes, not only for the length of a call.
 */
void dxp_mount_hold(struct dxp_mount *m);
void dxp_mount_unhold(struct dxp_mount *m);

/*
 * dxp_mount_locks_sync -- after a call that may have set or released
 * advisory locks in the pool of 'm': while the process holds any, they
 * are one open object, so the pool stays (the lock table lives in the
 * holding process; giving the pool up would drop the locks silently).
 */
void dxp_mount_locks_sync(struct dxp_mount *m);

/*
 * dxp_mount_release -- give the pool up if nothing uses it: 0 if released
 * (or not attached), 1 if a call is running (ask again), -1 if something
 * of the pool is open.
 */
int dxp_mount_release(struct dxp_mount *m);

/*
 * dxp_mount_handed -- the pool was let go to a process that asked: this
 * process's next attach lets that process's open come first.
 */
void dxp_mount_handed(struct dxp_mount *m);

/*
 * dxp_mount_forget -- in a forked child: the parent's pools are not ours
 * (daxfile_pool_forget lets go of each); true if one was attached.
 */
bool dxp_mount_forget(void);

/*
 * dxp_mount_cloexec_pool_files -- after an attach: the library's own
 * descriptors of pool files get FD_CLOEXEC, so that no image after exec
 * (nor a program spawned from a child sharing our memory) keeps the lock
 * libpmemobj holds on the pool file.
 */
void dxp_mount_cloexec_pool_files(struct dxp_mount *m);

/*
 * dxp_mount_close_inherited -- in a forked child, after dxp_mount_forget:
 * close what else the library held of the parent's pools (its
 * userfaultfd, any descriptor of a pool file).
 */
void dxp_mount_close_inherited(void);

#endif /* DXP_MOUNT_H */
