/*
 * locks.c -- advisory file locks, as Linux's fs/locks.c keeps them.
 *
 * Record locks (fcntl) and flock locks live in two lists of one DRAM
 * context per inode, made at the first lock and freed with the in-core
 * inode.  Owners: the process for POSIX record locks (F_SETLK: all of the
 * process's locks are one owner's, so they never conflict with each other
 * and any close of the file releases them), the open file description for
 * OFD record locks and for flock locks (released at its close).  Record
 * locks of different owners conflict when they overlap and one of them is
 * a write lock; flock locks only meet flock locks.  An owner's record locks
 * are split and merged so that each byte has at most one lock of an owner,
 * and adjacent locks of one type merge, as on Linux.
 *
 * Waits (F_SETLKW, F_OFD_SETLKW, flock without LOCK_NB) sleep in the kernel
 * on a futex word of the context that every release bumps: a signal whose
 * handler was installed without SA_RESTART ends the wait with EINTR, with
 * SA_RESTART the kernel restarts it, exactly as for a lock wait in the
 * kernel.  A woken waiter checks again from the start.
 *
 * Deadlock detection is Linux's posix_locks_deadlock: a POSIX request
 * about to wait for a lock of owner X fails with EDEADLK when a request of
 * X is itself waiting for a POSIX lock.  In one process that lock is the
 * caller's (the process is the only POSIX owner), so the kernel's chain
 * walk ends there.  OFD and flock requests are never refused so, as on
 * Linux.
 *
 * Locks: the context's mutex (LEAF) covers its lists and waiters; nothing
 * else is held with it, and a waiter holds nothing at all while it sleeps.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dir.h"
#include "file.h"
#include "locks.h"
#include "mem.h"
#include "out.h"
#include "pool.h"

/* The end of a lock that runs to EOF and beyond (Linux's OFFSET_MAX). */
#define LK_EOF ((uint64_t)INT64_MAX)

/* The owner of every POSIX record lock: the process. */
static const char lk_process_owner;
#define LK_PROCESS ((const void *)&lk_process_owner)

/* A lock held: a byte range of a record lock, or a flock lock (0..EOF). */
struct dx_flk {
	struct dx_flk *next;
	const void *owner;	/* LK_PROCESS, or the description */
	uint64_t start, end;	/* inclusive */
	pid_t pid;		/* the setter's, for F_GETLK */
	short type;		/* F_RDLCK or F_WRLCK */
};

/* A request waiting for a lock; on its thread's stack while it waits. */
struct dx_lkwait {
	struct dx_lkwait *next;
	const void *owner;
	const daxfile_file *file;	/* the description it came through */
	const struct dx_flk *blocker;	/* the record lock it waits for, until
					   that lock changes (deadlock check) */
	bool closed;		/* the description was closed meanwhile */
};

struct dx_lockctx {
	struct dx_mutex lock;	/* LEAF: everything below */
	struct dx_flk *records;	/* POSIX and OFD record locks */
	struct dx_flk *flocks;	/* flock locks */
	struct dx_lkwait *waiters;
	bool released;		/* a lock shrank or went: wake the waiters */
	bool held;		/* counted in the pool's locked_files */
	uint32_t wake;		/* futex word: bumped by every release */
};

/* A record lock request, as Linux's struct file_lock after the checks. */
struct lk_req {
	const void *owner;
	uint64_t start, end;
	short type;		/* F_RDLCK, F_WRLCK or F_UNLCK */
	bool ofd;
	bool wait;
};

/* --- the context -------------------------------------------------------- */

/* lk_ctx -- the inode's lock context; made on first use with 'create'. */
static struct dx_lockctx *
lk_ctx(struct dx_inode *ip, bool create)
{
	struct dx_lockctx *ctx = __atomic_load_n(&ip->locks, __ATOMIC_ACQUIRE);
	struct dx_lockctx *none = NULL;

	if (ctx != NULL || !create)
		return ctx;
	ctx = dx_zalloc(ip->pool->arena, sizeof(*ctx));
	if (ctx == NULL) {
		dx_err(ENOLCK, "cannot allocate the lock state of a file");
		return NULL;
	}
	dx_mutex_init(&ctx->lock, DX_LC_LEAF);
	if (!__atomic_compare_exchange_n(&ip->locks, &none, ctx, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		dx_mutex_destroy(&ctx->lock);
		dx_free(ip->pool->arena, ctx);
		ctx = none;
	}
	return ctx;
}

void
dx_locks_inode_free(struct dx_inode *ip)
{
	struct dx_lockctx *ctx = ip->locks;

	if (ctx == NULL)
		return;
	/* every lock went with the close of a description that held the inode */
	VERIFY(ctx->records == NULL && ctx->flocks == NULL &&
		ctx->waiters == NULL);
	dx_mutex_destroy(&ctx->lock);
	dx_free(ip->pool->arena, ctx);
	ip->locks = NULL;
}

/*
 * lk_release -- lock 'l' is about to shrink or go (caller holds the
 * context's lock): its waiters forget it until they find it again, as
 * Linux unhooks the waiters of a lock it changes, so that the deadlock
 * check never follows a wait that is over.
 */
static void
lk_release(struct dx_lockctx *ctx, const struct dx_flk *l)
{
	for (struct dx_lkwait *w = ctx->waiters; w != NULL; w = w->next)
		if (w->blocker == l)
			w->blocker = NULL;
	ctx->released = true;
}

/*
 * lk_account -- after a change of the context's locks (context locked):
 * the pool counts the files that have any (daxfile_pool_locks_held).
 */
static void
lk_account(struct dx_lockctx *ctx, struct daxfile_pool *pool)
{
	bool held = ctx->records != NULL || ctx->flocks != NULL;

	if (held == ctx->held)
		return;
	ctx->held = held;
	__atomic_add_fetch(&pool->locked_files, held ? 1 : -1, __ATOMIC_RELEASE);
}

/* lk_wake -- after releases, every waiter checks again (context locked). */
static void
lk_wake(struct dx_lockctx *ctx)
{
	if (!ctx->released)
		return;
	ctx->released = false;
	if (ctx->waiters == NULL)
		return;
	__atomic_fetch_add(&ctx->wake, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &ctx->wake, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL,
		0);
}

/*
 * lk_sleep -- wait for the next release (caller holds the context's lock,
 * and nothing else; it is held again on return).  -1 with EINTR when a
 * signal handler interrupted the wait and asked for no restart.
 */
static int
lk_sleep(struct dx_lockctx *ctx)
{
	uint32_t seen = __atomic_load_n(&ctx->wake, __ATOMIC_RELAXED);
	long ret;
	int err;

	dx_mutex_unlock(&ctx->lock);
	dx_assert_lockless();
	/* no timeout: the kernel restarts the wait after an SA_RESTART handler */
	ret = syscall(SYS_futex, &ctx->wake, FUTEX_WAIT_PRIVATE, seen, NULL,
		NULL, 0);
	err = ret != 0 ? errno : 0;
	dx_mutex_lock(&ctx->lock);
	if (err == EINTR)
		return dx_err(EINTR, "lock wait interrupted by a signal");
	return 0;
}

static void
lk_waiter_remove(struct dx_lockctx *ctx, struct dx_lkwait *w)
{
	struct dx_lkwait **pp = &ctx->waiters;

	while (*pp != w)
		pp = &(*pp)->next;
	*pp = w->next;
}

/*
 * lk_wait -- the request 'w' must wait: it becomes a waiter of the
 * context the first time ('*waiting' says it is one), then sleeps once.
 * -1 with errno EINTR (signal) or EBADF (its description was closed).
 */
static int
lk_wait(struct dx_lockctx *ctx, struct dx_lkwait *w, bool *waiting)
{
	if (!*waiting) {
		w->next = ctx->waiters;
		ctx->waiters = w;
		*waiting = true;
	}
	if (lk_sleep(ctx) != 0)
		return -1;
	if (w->closed)
		return dx_err(EBADF, "the file was closed during the lock wait");
	return 0;
}

static void
lk_free_list(struct daxfile_pool *pool, struct dx_flk *l)
{
	while (l != NULL) {
		struct dx_flk *next = l->next;

		dx_free(pool->arena, l);
		l = next;
	}
}

/* --- record locks ------------------------------------------------------- */

static bool
lk_conflicts(const struct dx_flk *l, const struct lk_req *r)
{
	return l->owner != r->owner && l->start <= r->end &&
		r->start <= l->end && (l->type == F_WRLCK || r->type == F_WRLCK);
}

/* rec_conflict -- a record lock of another owner that 'r' conflicts with. */
static struct dx_flk *
rec_conflict(struct dx_lockctx *ctx, const struct lk_req *r)
{
	for (struct dx_flk *l = ctx->records; l != NULL; l = l->next)
		if (lk_conflicts(l, r))
			return l;
	return NULL;
}

/*
 * rec_deadlock -- would the process's request wait for itself by waiting
 * for 'blocker'?  As posix_locks_deadlock: a request of the blocker's
 * owner waits for a POSIX lock, and the only POSIX owner is the caller.
 * Waiters for a lock on this inode come through descriptions of it, so
 * this context lists them all.
 */
static bool
rec_deadlock(struct dx_lockctx *ctx, const struct dx_flk *blocker)
{
	for (struct dx_lkwait *w = ctx->waiters; w != NULL; w = w->next)
		if (w->owner == blocker->owner && w->blocker != NULL &&
		    w->blocker->owner == LK_PROCESS)
			return true;
	return false;
}

/*
 * rec_carve -- take [s, e] out of the owner's record locks; a lock that
 * spans it is split, using '*spare'.
 */
static void
rec_carve(struct dx_lockctx *ctx, struct daxfile_pool *pool,
	const void *owner, uint64_t s, uint64_t e, struct dx_flk **spare)
{
	struct dx_flk **pp = &ctx->records, *l;

	while ((l = *pp) != NULL) {
		if (l->owner != owner || l->end < s || l->start > e) {
			pp = &l->next;
			continue;
		}
		lk_release(ctx, l);
		if (l->start < s && l->end > e) {
			struct dx_flk *right = *spare;

			*spare = NULL;
			*right = *l;
			right->start = e + 1;
			l->end = s - 1;
			l->next = right;
			pp = &right->next;
		} else if (l->start < s) {
			l->end = s - 1;
			pp = &l->next;
		} else if (l->end > e) {
			l->start = e + 1;
			pp = &l->next;
		} else {
			*pp = l->next;
			dx_free(pool->arena, l);
		}
	}
}

/* rec_insert -- add 'n', merged with the owner's adjacent locks of its type. */
static void
rec_insert(struct dx_lockctx *ctx, struct daxfile_pool *pool,
	struct dx_flk *n)
{
	struct dx_flk **pp = &ctx->records, *l;

	while ((l = *pp) != NULL) {
		bool before = n->start > 0 && l->end == n->start - 1;
		bool after = n->end != LK_EOF && l->start == n->end + 1;

		if (l->owner == n->owner && l->type == n->type &&
		    (before || after)) {
			lk_release(ctx, l);
			if (before)
				n->start = l->start;
			else
				n->end = l->end;
			*pp = l->next;
			dx_free(pool->arena, l);
			continue;
		}
		pp = &l->next;
	}
	n->next = ctx->records;
	ctx->records = n;
}

/*
 * rec_set -- F_SETLK / F_SETLKW and their OFD forms: wait (if asked)
 * until nothing conflicts, then set the range for the owner.
 */
static int
rec_set(struct dx_inode *ip, const daxfile_file *file, const struct lk_req *r)
{
	struct daxfile_pool *pool = ip->pool;
	struct dx_lkwait w = {.owner = r->owner, .file = file};
	struct dx_flk *spare[2] = {NULL, NULL}, *blocker;
	struct dx_lockctx *ctx;
	bool waiting = false;
	int ret = 0;

	ctx = lk_ctx(ip, r->type != F_UNLCK);
	if (ctx == NULL)
		return r->type == F_UNLCK ? 0 : -1;
	/* a split and the new lock: taken before, so a change never half fails */
	for (int i = 0; i < 2; i++) {
		spare[i] = dx_malloc(pool->arena, sizeof(*spare[i]));
		if (spare[i] == NULL) {
			dx_free(pool->arena, spare[0]);
			return dx_err(ENOLCK, "cannot allocate a file lock");
		}
	}
	dx_mutex_lock(&ctx->lock);
	while (r->type != F_UNLCK && (blocker = rec_conflict(ctx, r)) != NULL) {
		if (!r->wait) {
			ret = dx_err(EAGAIN, "the range is locked by %s",
				blocker->owner == LK_PROCESS ? "the process" :
				"another open file description");
			goto out;
		}
		if (!r->ofd && rec_deadlock(ctx, blocker)) {
			ret = dx_err(EDEADLK, "waiting would deadlock: the holder waits for a lock of this process");
			goto out;
		}
		w.blocker = blocker;
		if (lk_wait(ctx, &w, &waiting) != 0) {
			ret = -1;
			goto out;
		}
	}
	rec_carve(ctx, pool, r->owner, r->start, r->end, &spare[0]);
	if (r->type != F_UNLCK) {
		struct dx_flk *n = spare[1];

		spare[1] = NULL;
		*n = (struct dx_flk){.owner = r->owner, .start = r->start,
			.end = r->end, .type = r->type,
			.pid = r->ofd ? -1 : getpid()};
		rec_insert(ctx, pool, n);
	}
	lk_wake(ctx);
	lk_account(ctx, pool);
out:
	if (waiting)
		lk_waiter_remove(ctx, &w);
	dx_mutex_unlock(&ctx->lock);
	dx_free(pool->arena, spare[0]);
	dx_free(pool->arena, spare[1]);
	return ret;
}

/*
 * rec_get -- F_GETLK / F_OFD_GETLK: the first lock that would block the
 * request, or F_UNLCK in l_type.  F_OFD_GETLK with F_UNLCK asks for a lock
 * of the description itself (Linux 6.7).
 */
static void
rec_get(struct dx_inode *ip, const struct lk_req *r, struct flock *fl)
{
	struct dx_lockctx *ctx = lk_ctx(ip, false);
	const struct dx_flk *found = NULL;

	if (ctx != NULL) {
		dx_mutex_lock(&ctx->lock);
		for (const struct dx_flk *l = ctx->records; l != NULL;
		    l = l->next) {
			bool hit = r->type == F_UNLCK ?
				l->owner == r->owner && l->start <= r->end &&
				r->start <= l->end : lk_conflicts(l, r);

			if (hit) {
				found = l;
				break;
			}
		}
		if (found != NULL) {
			fl->l_type = found->type;
			fl->l_whence = SEEK_SET;
			fl->l_start = (off_t)found->start;
			fl->l_len = found->end == LK_EOF ? 0 :
				(off_t)(found->end - found->start + 1);
			fl->l_pid = found->pid;
		}
		dx_mutex_unlock(&ctx->lock);
	}
	if (found == NULL)
		fl->l_type = F_UNLCK;
}

/* lk_size -- the size SEEK_END counts from. */
static uint64_t
lk_size(struct dx_inode *ip)
{
	uint64_t size;

	if (!ip->isdir)
		return __atomic_load_n(&ip->di->size, __ATOMIC_ACQUIRE);
	dx_ilock(ip, DX_IOLOCK_SHARED);
	size = dx_dir_size(ip);
	dx_iunlock(ip, DX_IOLOCK_SHARED);
	return size;
}

/*
 * lk_range -- the byte range of 'fl', as Linux's flock64_to_posix_lock:
 * EINVAL for a bad whence or a range that starts before 0, EOVERFLOW past
 * the largest offset.  l_len 0 means up to EOF and beyond; a negative
 * l_len the bytes before l_start.
 */
static int
lk_range(daxfile_file *file, const struct flock *fl, struct lk_req *r)
{
	int64_t base, start;

	switch (fl->l_whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		dx_mutex_lock(&file->pos_lock);
		base = (int64_t)file->pos;
		dx_mutex_unlock(&file->pos_lock);
		break;
	case SEEK_END:
		base = (int64_t)lk_size(file->ip);
		break;
	default:
		return dx_err(EINVAL, "bad l_whence %d", fl->l_whence);
	}
	if (fl->l_start > INT64_MAX - base)
		return dx_err(EOVERFLOW, "lock start beyond the largest offset");
	start = base + fl->l_start;
	if (start < 0)
		return dx_err(EINVAL, "lock starts before offset 0");
	if (fl->l_len > 0) {
		if (fl->l_len - 1 > INT64_MAX - start)
			return dx_err(EOVERFLOW, "lock end beyond the largest offset");
		r->start = (uint64_t)start;
		r->end = (uint64_t)start + (uint64_t)(fl->l_len - 1);
	} else if (fl->l_len < 0) {
		if (start + fl->l_len < 0)
			return dx_err(EINVAL, "lock starts before offset 0");
		r->start = (uint64_t)(start + fl->l_len);
		r->end = (uint64_t)start - 1;
	} else {
		r->start = (uint64_t)start;
		r->end = LK_EOF;
	}
	if (fl->l_type != F_RDLCK && fl->l_type != F_WRLCK &&
	    fl->l_type != F_UNLCK)
		return dx_err(EINVAL, "bad l_type %d", fl->l_type);
	r->type = fl->l_type;
	return 0;
}

/*
 * lk_hold -- a call that may wait keeps its inode: a close of the handle
 * from another thread ends the wait (EBADF), and the inode and its lock
 * state must outlive the waiter's way out.
 */
static void
lk_hold(struct dx_inode *ip, bool wait)
{
	if (wait)
		dx_ihold(ip);
}

static void
lk_unhold(struct dx_inode *ip, bool wait)
{
	if (wait)
		dx_iput(ip);
}

int
dx_locks_fcntl(daxfile_file *file, int cmd, struct flock *fl)
{
	struct dx_inode *ip = file->ip;
	int ret;

	bool get = cmd == F_GETLK || cmd == F_OFD_GETLK;
	bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK ||
		cmd == F_OFD_SETLKW;
	struct lk_req r = {.owner = ofd ? (const void *)file : LK_PROCESS,
		.ofd = ofd, .wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW};
	int acc = file->flags & O_ACCMODE;

	if (fl == NULL)
		return dx_err(EFAULT, "struct flock is NULL");
	if (cmd == F_GETLK && fl->l_type != F_RDLCK && fl->l_type != F_WRLCK)
		return dx_err(EINVAL, "F_GETLK needs F_RDLCK or F_WRLCK");
	if (lk_range(file, fl, &r) != 0)
		return -1;
	if (!get && r.type == F_RDLCK && acc == O_WRONLY)
		return dx_err(EBADF, "a read lock needs a file open for reading");
	if (!get && r.type == F_WRLCK && acc == O_RDONLY)
		return dx_err(EBADF, "a write lock needs a file open for writing");
	if (ofd && fl->l_pid != 0)
		return dx_err(EINVAL, "l_pid must be 0 for OFD locks");
	if (get) {
		rec_get(ip, &r, fl);
		return 0;
	}
	lk_hold(ip, r.wait);
	ret = rec_set(ip, file, &r);
	lk_unhold(ip, r.wait);
	return ret;
}

/* --- flock locks -------------------------------------------------------- */

/*
 * flock_set -- as Linux's flock_lock_inode: a description holds one
 * flock lock; asking for another type first drops the one it has (so a
 * conversion that cannot be granted loses the old lock), then waits for
 * the new one unless told not to.
 */
static int
flock_set(daxfile_file *file, short type, bool wait)
{
	struct dx_inode *ip = file->ip;
	struct daxfile_pool *pool = ip->pool;
	struct lk_req r = {.owner = file, .start = 0, .end = LK_EOF,
		.type = type};
	struct dx_lkwait w = {.owner = file, .file = file};
	struct dx_flk **pp, *n = NULL, *l;
	struct dx_lockctx *ctx;
	bool waiting = false;
	int ret = 0;

	ctx = lk_ctx(ip, type != F_UNLCK);
	if (ctx == NULL)
		return type == F_UNLCK ? 0 : -1;
	if (type != F_UNLCK) {
		n = dx_malloc(pool->arena, sizeof(*n));
		if (n == NULL)
			return dx_err(ENOLCK, "cannot allocate a file lock");
	}
	dx_mutex_lock(&ctx->lock);
	for (pp = &ctx->flocks; (l = *pp) != NULL; pp = &l->next)
		if (l->owner == file)
			break;
	if (l != NULL && l->type == type)
		goto out;
	if (l != NULL) {
		*pp = l->next;
		lk_release(ctx, l);
		lk_wake(ctx);
		dx_free(pool->arena, l);
	}
	if (type == F_UNLCK)
		goto out;
	for (;;) {
		for (l = ctx->flocks; l != NULL && !lk_conflicts(l, &r);
		    l = l->next)
			;
		if (l == NULL)
			break;
		if (!wait) {
			ret = dx_err(EWOULDBLOCK, "another open file description holds a flock lock");
			goto out;
		}
		if (lk_wait(ctx, &w, &waiting) != 0) {
			ret = -1;
			goto out;
		}
	}
	*n = (struct dx_flk){.next = ctx->flocks, .owner = file, .start = 0,
		.end = LK_EOF, .type = type, .pid = getpid()};
	ctx->flocks = n;
	n = NULL;
out:
	lk_account(ctx, pool);
	if (waiting)
		lk_waiter_remove(ctx, &w);
	dx_mutex_unlock(&ctx->lock);
	dx_free(pool->arena, n);
	return ret;
}

int
dx_locks_flock(daxfile_file *file, short type, bool wait)
{
	struct dx_inode *ip = file->ip;
	int ret;

	lk_hold(ip, wait);
	ret = flock_set(file, type, wait);
	lk_unhold(ip, wait);
	return ret;
}

/* --- close -------------------------------------------------------------- */

/* lk_take_owned -- move the locks of owner 'a' or 'b' from '*pp' to '*out'. */
static void
lk_take_owned(struct dx_lockctx *ctx, struct dx_flk **pp, const void *a,
	const void *b, struct dx_flk **out)
{
	struct dx_flk *l;

	while ((l = *pp) != NULL) {
		if (l->owner == a || l->owner == b) {
			lk_release(ctx, l);
			*pp = l->next;
			l->next = *out;
			*out = l;
		} else {
			pp = &l->next;
		}
	}
}

void
dx_locks_close(daxfile_file *file)
{
	struct dx_lockctx *ctx = lk_ctx(file->ip, false);
	struct dx_flk *gone = NULL;

	if (ctx == NULL)
		return;
	dx_mutex_lock(&ctx->lock);
	/* closing an O_PATH handle leaves the process's locks, as on Linux */
	lk_take_owned(ctx, &ctx->records, file,
		(file->flags & O_PATH) ? (const void *)file : LK_PROCESS, &gone);
	lk_take_owned(ctx, &ctx->flocks, file, file, &gone);
	for (struct dx_lkwait *w = ctx->waiters; w != NULL; w = w->next)
		if (w->file == file) {
			w->closed = true;
			ctx->released = true;
		}
	lk_wake(ctx);
	lk_account(ctx, file->ip->pool);
	dx_mutex_unlock(&ctx->lock);
	lk_free_list(file->ip->pool, gone);
}

DX_EXPORT int
daxfile_pool_locks_held(daxfile_pool *pool)
{
	DX_CALL();
	if (dx_pool_check_handle(pool) != 0)
		return -1;
	return (int)__atomic_load_n(&pool->locked_files, __ATOMIC_ACQUIRE);
}
