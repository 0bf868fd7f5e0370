/*
 * fdtable.c -- the descriptor table (fdtable.h).
 *
 * Lookups take no lock: the table is two levels of atomic pointers, and a
 * description's memory is never given back (freed descriptions go on a
 * free list), so a lookup that races a close can always read the
 * reference count it increments; it takes a reference only while the
 * count is not zero, and then checks that the slot still names the same
 * description.
 *
 * Giving the pool up closes the handles of descriptions no call is using:
 * the one giving up sets 'detaching' and then reads the reference count;
 * a lookup takes its reference and then reads 'detaching' (both in the
 * single total order of sequentially consistent operations), so either
 * the lookup sees the flag and waits, or the count shows the call.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdtable.h"
#include "hidefd.h"
#include "lib.h"
#include "path.h"
#include "real.h"
#include "shared.h"

#define CHUNK_SHIFT 10
#define CHUNK_SIZE (1 << CHUNK_SHIFT)
#define NCHUNKS 1024	/* up to 2^20 descriptors */

struct slot {
	struct dxp_ofd *_Atomic ofd;
	atomic_bool cloexec;
};

static struct slot *_Atomic chunks[NCHUNKS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dxp_ofd *free_list;
atomic_int dxp_nfds;

/* slot_of -- the slot of 'fd', created if 'create'; NULL if none. */
static struct slot *
slot_of(int fd, bool create)
{
	struct slot *c;

	if (fd < 0 || (fd >> CHUNK_SHIFT) >= NCHUNKS)
		return NULL;
	c = atomic_load_explicit(&chunks[fd >> CHUNK_SHIFT], memory_order_acquire);
	if (c == NULL && create) {
		c = calloc(CHUNK_SIZE, sizeof(*c));
		if (c == NULL)
			return NULL;
		atomic_store(&chunks[fd >> CHUNK_SHIFT], c);
	}
	return c ? &c[fd & (CHUNK_SIZE - 1)] : NULL;
}

bool
dxp_fd_is_pool(int fd)
{
	struct slot *s;

	if (atomic_load_explicit(&dxp_nfds, memory_order_relaxed) == 0)
		return false;
	s = slot_of(fd, false);
	return s != NULL && atomic_load(&s->ofd) != NULL;
}

struct dxp_ofd *
dxp_fd_get(int fd)
{
	struct slot *s;
	struct dxp_ofd *o;

	if (atomic_load_explicit(&dxp_nfds, memory_order_relaxed) == 0)
		return NULL;
	s = slot_of(fd, false);
	if (s == NULL)
		return NULL;
	for (;;) {
		long r;

		o = atomic_load(&s->ofd);
		if (o == NULL)
			return NULL;
		r = atomic_load(&o->refs);
		while (r > 0 && !atomic_compare_exchange_weak(&o->refs, &r, r + 1))
			;
		if (r <= 0)
			continue;
		if (atomic_load(&s->ofd) == o && !atomic_load(&o->detaching))
			return o;
		dxp_ofd_put(o);
		/* a detach holds the lock while it works */
		pthread_mutex_lock(&o->lock);
		pthread_mutex_unlock(&o->lock);
	}
}

void
dxp_ofd_put(struct dxp_ofd *o)
{
	daxfile_file *f;

	if (atomic_fetch_sub(&o->refs, 1) != 1)
		return;
	if (o->dir != NULL)
		daxfile_closedir(o->dir);
	f = atomic_load(&o->file);
	if (f != NULL) {
		daxfile_close(f);
		dxp_mount_put(o->m);
	}
	pthread_mutex_lock(&table_lock);
	o->next_free = free_list;
	free_list = o;
	pthread_mutex_unlock(&table_lock);
}

/* Which file an open file is, and whether it is a directory. */
struct file_id {
	ino_t ino;
	int64_t btime_ns;	/* 0: the library cannot say */
	uint64_t gen;		/* its handle's generation (0: no handles) */
	bool isdir;
};

/*
 * ofd_offset_shared -- does the handle's offset go to the shared record?
 * A file's always; a directory's when getdents64 reads the handle, whose
 * offset is then a position that stays valid (a library without
 * daxfile_getdents64 counts entries in o->dir_pos instead).
 */
static bool
ofd_offset_shared(bool isdir)
{
	return !isdir || DXP_HAVE(daxfile_getdents64);
}

/*
 * file_identify -- one statx of 'f' (fstat for a library without it), and
 * its handle
 */
static int
file_identify(daxfile_pool *pool, daxfile_file *f, struct file_id *id)
{
	struct daxfile_handle h;
	struct statx stx;
	struct stat st;

	id->gen = pool != NULL && DXP_HAVE(daxfile_name_to_handle_at) &&
		daxfile_name_to_handle_at(pool, f, "", &h, AT_EMPTY_PATH) == 0 ?
		h.generation : 0;

	if (pool != NULL && DXP_HAVE(daxfile_statx) &&
	    daxfile_statx(pool, f, "", AT_EMPTY_PATH,
	    STATX_BASIC_STATS | STATX_BTIME, &stx) == 0) {
		id->ino = stx.stx_ino;
		id->isdir = S_ISDIR(stx.stx_mode);
		id->btime_ns = (stx.stx_mask & STATX_BTIME) ?
			(int64_t)stx.stx_btime.tv_sec * 1000000000 +
			stx.stx_btime.tv_nsec : 0;
		return 0;
	}
	if (daxfile_fstat(f, &st) != 0)
		return -1;
	id->ino = st.st_ino;
	id->isdir = S_ISDIR(st.st_mode);
	id->btime_ns = 0;
	return 0;
}

struct dxp_ofd *
dxp_ofd_new(struct dxp_mount *m, daxfile_file *file, const char *path,
	int flags)
{
	struct dxp_ofd *o;
	struct file_id id;

	pthread_mutex_lock(&table_lock);
	o = free_list;
	if (o != NULL)
		free_list = o->next_free;
	pthread_mutex_unlock(&table_lock);
	if (o == NULL) {
		o = calloc(1, sizeof(*o));
		if (o == NULL)
			return errno = ENOMEM, NULL;
		pthread_mutex_init(&o->lock, NULL);
	}
	o->m = m;
	atomic_store(&o->file, file);
	atomic_store(&o->nslots, 0);
	atomic_store(&o->nstreams, 0);
	atomic_store(&o->detaching, false);
	atomic_store(&o->crossed, false);
	o->sh = dxp_shared_alloc();
	if (o->sh == NULL)
		o->sh = &o->priv;
	o->flags = flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	o->isdir = false;
	o->ino = 0;
	o->btime_ns = 0;
	o->gen = 0;
	if (file != NULL && file_identify(atomic_load(&m->pool), file, &id) == 0) {
		o->isdir = id.isdir;
		o->ino = id.ino;
		o->btime_ns = id.btime_ns;
		o->gen = id.gen;
	}
	atomic_store(&o->sh->offset, 0);
	atomic_store(&o->sh->flags, o->flags);
	o->dir = NULL;
	o->dir_pos = 0;
	o->has_pending = false;
	snprintf(o->path, sizeof(o->path), "%s", path);
	o->renames_seen = dxp_shared_renames();
	atomic_store(&o->refs, 1);
	return o;
}

void
dxp_ofd_follow(struct dxp_ofd *o)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", o->path);
	if (dxp_shared_follow(o->m->index, o->renames_seen, path,
	    sizeof(path)) == 0 && strcmp(path, o->path) != 0)
		snprintf(o->path, sizeof(o->path), "%s", path);
	o->renames_seen = dxp_shared_renames();
}

/*
 * ofd_name_now -- before the pool or the process changes: the path of
 * attached description 'o' as it is now, through the renames logged since
 * it was opened or attached, or, for a directory, from the library.
 */
static void
ofd_name_now(struct dxp_ofd *o, daxfile_file *f)
{
	dxp_ofd_follow(o);
	dxp_dir_path_refresh(o, atomic_load(&o->m->pool), f);
}

/*
 * ofd_attach -- open the file again after fork or exec, or after the pool
 * came back from another process; o->lock held.  By its handle where the
 * library has them (daxfile_open_by_handle(3)): as the kernel's open file
 * description, it then needs no search permission above the file and
 * follows every rename; else by its path (brought through the renames
 * made meanwhile, dxp_ofd_follow).  A file without a name (unlinked, or
 * made by O_TMPFILE) was freed when the pool was last given up or
 * opened, and a new file may have its number: the handle's generation, or
 * the number and the birth time, tell (ESTALE otherwise).  The path is
 * kept current either way: it names the file to getcwd and /proc.
 */
static int
ofd_attach(struct dxp_ofd *o)
{
	daxfile_pool *pool = dxp_mount_get(o->m);
	daxfile_file *f;
	struct file_id id;

	if (pool == NULL)
		return -1;
	o->flags = atomic_load(&o->sh->flags);
	dxp_ofd_follow(o);
	if (o->gen != 0 && DXP_HAVE(daxfile_open_by_handle)) {
		struct daxfile_handle h = {o->ino, o->gen};

		f = daxfile_open_by_handle(pool, &h,
			o->flags & ~(O_PATH | O_TMPFILE));
		if (f == NULL)
			goto err_put;
		goto opened;
	}
	if ((o->flags & O_TMPFILE) == O_TMPFILE) {
		/* opening its directory so would make another file */
		errno = ESTALE;
		goto err_put;
	}
	f = daxfile_open(pool, o->path, o->flags & ~O_PATH);
	if (f == NULL)
		goto err_put;
opened:
	if (file_identify(pool, f, &id) != 0 ||
	    (o->ino != 0 && id.ino != o->ino) ||
	    (id.btime_ns != 0 && o->btime_ns != 0 && id.btime_ns != o->btime_ns)) {
		daxfile_close(f);
		errno = ESTALE;
		goto err_put;
	}
	if (ofd_offset_shared(id.isdir) &&
	    daxfile_lseek(f, atomic_load(&o->sh->offset), SEEK_SET) < 0) {
		daxfile_close(f);
		goto err_put;
	}
	o->ino = id.ino;
	o->gen = id.gen;
	o->isdir = id.isdir;
	atomic_store(&o->file, f);
	return 0;

err_put:
	dxp_mount_put(o->m);
	return -1;
}

daxfile_file *
dxp_ofd_file(struct dxp_ofd *o)
{
	daxfile_file *f = atomic_load(&o->file);

	if (__builtin_expect(f != NULL, 1))
		return f;
	pthread_mutex_lock(&o->lock);
	if (atomic_load(&o->file) == NULL && ofd_attach(o) != 0) {
		pthread_mutex_unlock(&o->lock);
		return NULL;
	}
	pthread_mutex_unlock(&o->lock);
	return atomic_load(&o->file);
}

daxfile_pool *
dxp_ofd_pool(struct dxp_ofd *o)
{
	if (dxp_ofd_file(o) == NULL)
		return NULL;
	return atomic_load(&o->m->pool);
}

int
dxp_fd_reserve(struct dxp_mount *m, int min, bool cloexec)
{
	int p = dxp_mount_placeholder(m);

	if (p < 0)
		return -1;
	return REAL(fcntl64)(p, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, min);
}

void
dxp_fd_install(int fd, struct dxp_ofd *o, bool cloexec)
{
	struct slot *s;
	struct dxp_ofd *old;

	pthread_mutex_lock(&table_lock);
	s = slot_of(fd, true);
	if (s == NULL) {
		pthread_mutex_unlock(&table_lock);
		dxp_ofd_put(o);
		return;
	}
	atomic_store(&s->cloexec, cloexec);
	atomic_fetch_add(&o->nslots, 1);
	old = atomic_exchange(&s->ofd, o);
	if (old == NULL)
		atomic_fetch_add(&dxp_nfds, 1);
	else
		atomic_fetch_sub(&old->nslots, 1);
	pthread_mutex_unlock(&table_lock);
	if (old != NULL)
		dxp_ofd_put(old);
}

int
dxp_fd_install_hidden(struct dxp_ofd *o)
{
	int fd = dxp_fd_reserve(o->m, dxp_fd_hidden_floor(), true);

	if (fd < 0) {
		int e = errno;

		dxp_ofd_put(o);
		errno = e;
		return -1;
	}
	dxp_fd_install(fd, o, true);
	dxp_fd_hide_number(fd);
	return fd;
}

struct dxp_ofd *
dxp_fd_remove(int fd)
{
	struct slot *s;
	struct dxp_ofd *o = NULL;

	if (atomic_load(&dxp_nfds) == 0)
		return NULL;
	pthread_mutex_lock(&table_lock);
	s = slot_of(fd, false);
	if (s != NULL)
		o = atomic_exchange(&s->ofd, NULL);
	if (o != NULL) {
		atomic_fetch_sub(&dxp_nfds, 1);
		atomic_fetch_sub(&o->nslots, 1);
	}
	pthread_mutex_unlock(&table_lock);
	return o;
}

bool
dxp_fd_cloexec(int fd)
{
	struct slot *s = slot_of(fd, false);

	return s != NULL && atomic_load(&s->cloexec);
}

void
dxp_fd_set_cloexec(int fd, bool on)
{
	struct slot *s = slot_of(fd, false);

	if (s != NULL)
		atomic_store(&s->cloexec, on);
}

int
dxp_ofd_vpath(int fd, char *buf, size_t size)
{
	struct dxp_ofd *o = dxp_fd_get(fd);
	int n;

	if (o == NULL)
		return -1;
	n = snprintf(buf, size, "%s%s", o->m->dir,
		strcmp(o->path, "/") == 0 ? "" : o->path);
	dxp_ofd_put(o);
	return n < (int)size ? 0 : (errno = ENAMETOOLONG, -1);
}

void
dxp_fd_each(void (*fn)(int fd, struct dxp_ofd *o, bool cloexec, void *),
	void *arg)
{
	pthread_mutex_lock(&table_lock);
	for (int c = 0; c < NCHUNKS; c++) {
		struct slot *ch = atomic_load(&chunks[c]);

		if (ch == NULL)
			continue;
		for (int i = 0; i < CHUNK_SIZE; i++) {
			struct dxp_ofd *o = atomic_load(&ch[i].ofd);

			if (o != NULL)
				fn(c * CHUNK_SIZE + i, o, ch[i].cloexec, arg);
		}
	}
	pthread_mutex_unlock(&table_lock);
}

static void
save_offset(int fd, struct dxp_ofd *o, bool cloexec, void *arg)
{
	daxfile_file *f = atomic_load(&o->file);

	atomic_store(&o->crossed, true);
	if (f != NULL)
		ofd_name_now(o, f);
	if (f != NULL && ofd_offset_shared(o->isdir)) {
		off_t off = daxfile_lseek(f, 0, SEEK_CUR);

		if (off >= 0)
			atomic_store(&o->sh->offset, off);
	}
}

void
dxp_fd_save_offsets(void)
{
	dxp_fd_each(save_offset, NULL);
}

static void
detach(int fd, struct dxp_ofd *o, bool cloexec, void *arg)
{
	dxp_ofd_follow(o);
	atomic_store(&o->file, NULL);
	atomic_store(&o->detaching, false);
	o->dir = NULL;
	pthread_mutex_init(&o->lock, NULL);
}

void
dxp_fd_forked(void)
{
	pthread_mutex_init(&table_lock, NULL);
}

void
dxp_fd_detach_all(void)
{
	dxp_fd_each(detach, NULL);
}

/* the descriptions of one mount, collected for a detach */
struct collect {
	struct dxp_mount *m;
	struct dxp_ofd **v;
	size_t n, cap;
	bool oom;
};

static void
collect(int fd, struct dxp_ofd *o, bool cloexec, void *arg)
{
	struct collect *c = arg;

	if (o->m != c->m || atomic_load(&o->file) == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i] == o)
			return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct dxp_ofd **v = realloc(c->v, cap * sizeof(*v));

		if (v == NULL) {
			c->oom = true;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	atomic_fetch_add(&o->refs, 1);
	c->v[c->n++] = o;
}

/* ofd_detach -- close the handle, the offset to the shared record; o->lock held. */
static void
ofd_detach(struct dxp_ofd *o)
{
	daxfile_file *f = atomic_load(&o->file);

	if (f == NULL)
		return;
	ofd_name_now(o, f);
	if (ofd_offset_shared(o->isdir)) {
		off_t off = daxfile_lseek(f, 0, SEEK_CUR);

		if (off >= 0)
			atomic_store(&o->sh->offset, off);
	}
	if (o->dir != NULL) {
		/* getdents64 goes on after the entries it returned */
		daxfile_closedir(o->dir);
		o->dir = NULL;
		o->has_pending = false;
	}
	atomic_store(&o->file, NULL);
	daxfile_close(f);
	dxp_mount_put(o->m);
}

int
dxp_fd_detach_mount(struct dxp_mount *m)
{
	struct collect c = {m, NULL, 0, 0, false};
	size_t locked = 0;
	int ret = 0;

	dxp_fd_each(collect, &c);
	if (c.oom)
		ret = 1;
	for (; ret == 0 && locked < c.n; locked++) {
		struct dxp_ofd *o = c.v[locked];

		pthread_mutex_lock(&o->lock);
		atomic_store(&o->detaching, true);
		/* our collect reference, one per descriptor and stream: no call */
		if (atomic_load(&o->refs) != atomic_load(&o->nslots) +
		    atomic_load(&o->nstreams) + 1)
			ret = 1;
	}
	for (size_t i = 0; i < locked; i++) {
		struct dxp_ofd *o = c.v[i];

		if (ret == 0)
			ofd_detach(o);
		atomic_store(&o->detaching, false);
		pthread_mutex_unlock(&o->lock);
	}
	for (size_t i = 0; i < c.n; i++)
		dxp_ofd_put(c.v[i]);
	free(c.v);
	return ret;
}
