/*
 * mount.c -- the mount table and pool attachment (mount.h).
 *
 * One process at a time uses a pool: libpmemobj holds a lock on the pool
 * file while it is open.  A process attaches a pool at its first use and
 * keeps it while a mapping or an advisory lock of it is held or a call is
 * running (open descriptors detach and come back); an idle pool
 * stays attached (opening one takes milliseconds) until another process
 * asks for it through the holder's service socket (service.c), which gives
 * it up at once.  A process that wants a pool held by a busy process gets
 * EBUSY at once, with a message naming the holder.
 */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "fdtable.h"
#include "hidefd.h"
#include "lib.h"
#include "mount.h"
#include "path.h"
#include "real.h"
#include "service.h"

struct dxp_mount dxp_mounts[DXP_MAX_MOUNTS];
int dxp_nmounts;

/* mount_add -- one "dir=pool" entry. */
static int
mount_add(const char *dir, size_t dlen, const char *pool, size_t plen)
{
	struct dxp_mount *m = &dxp_mounts[dxp_nmounts];
	char raw[PATH_MAX], norm[PATH_MAX];

	if (dxp_nmounts == DXP_MAX_MOUNTS || dlen == 0 || plen == 0 ||
	    dlen >= sizeof(raw) || dir[0] != '/')
		return -1;
	memcpy(raw, dir, dlen);
	raw[dlen] = '\0';
	if (dxp_path_normalize(raw, norm, sizeof(norm)) != 0 ||
	    strcmp(norm, "/") == 0)
		return -1;
	m->dir = strdup(norm);
	m->dirlen = strlen(norm);
	if (pool[0] == '/') {
		m->pool_path = strndup(pool, plen);
	} else {
		char cwd[PATH_MAX];

		if (REAL(getcwd)(cwd, sizeof(cwd)) == NULL)
			return -1;
		if (asprintf(&m->pool_path, "%s/%.*s", cwd, (int)plen, pool) < 0)
			return -1;
	}
	if (m->dir == NULL || m->pool_path == NULL)
		return -1;
	m->index = dxp_nmounts++;
	atomic_store(&m->placeholder, -1);
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->locks_lock, NULL);
	return 0;
}

int
dxp_mount_init(void)
{
	const char *s = getenv("DAXFILE_MOUNTS");

	if (s == NULL)
		return 0;
	while (*s != '\0') {
		const char *end = strchrnul(s, ':');
		const char *eq = memchr(s, '=', (size_t)(end - s));

		if (end == s) {
			s++;
			continue;
		}
		if (eq == NULL || mount_add(s, (size_t)(eq - s), eq + 1,
		    (size_t)(end - eq - 1)) != 0) {
			dprintf(2, "libdaxfile-preload: DAXFILE_MOUNTS: cannot use '%.*s' "
				"(expected /mount/point=/path/to/pool)\n",
				(int)(end - s), s);
			return -1;
		}
		s = *end ? end + 1 : end;
	}
	return 0;
}

struct dxp_mount *
dxp_mount_match(const char *path, const char **rest)
{
	for (int i = 0; i < dxp_nmounts; i++) {
		struct dxp_mount *m = &dxp_mounts[i];

		if (strncmp(path, m->dir, m->dirlen) == 0 &&
		    (path[m->dirlen] == '\0' || path[m->dirlen] == '/')) {
			*rest = path + m->dirlen;
			return m;
		}
	}
	return NULL;
}

/*
 * mount_holder -- the process holding the lock on the pool file, from
 * /proc/locks; 0 if none is found.
 */
static pid_t
mount_holder(const struct dxp_mount *m)
{
	char line[256];
	struct stat st;
	pid_t pid = 0;
	FILE *f;

	if (REAL(stat64)(m->pool_path, (struct stat64 *)&st) != 0)
		return 0;
	f = REAL(fopen64)("/proc/locks", "re");
	if (f == NULL)
		return 0;
	while (pid == 0 && fgets(line, sizeof(line), f) != NULL) {
		unsigned maj, min;
		unsigned long ino;
		int p;

		if (sscanf(line, "%*d: FLOCK %*s %*s %d %x:%x:%lu", &p, &maj,
		    &min, &ino) == 4 && ino == st.st_ino &&
		    makedev(maj, min) == st.st_dev)
			pid = p;
	}
	fclose(f);
	return pid;
}

/* mount_busy -- EBUSY naming the holder and 'why', said once on stderr. */
static void
mount_busy(struct dxp_mount *m, pid_t holder, const char *why)
{
	char comm[64] = "?";
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)holder);
	fd = REAL(open)(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = REAL(read)(fd, comm, sizeof(comm) - 1);

		comm[n > 0 ? n - 1 : 0] = '\0';
		REAL(close)(fd);
	}
	if (!m->warned && !dxp_fd_is_pool(2)) {
		m->warned = true;
		dprintf(2, "libdaxfile-preload: %s (pool %s) is in use by process %d (%s), %s: EBUSY\n",
			m->dir, m->pool_path, (int)holder, comm, why);
	}
	errno = EBUSY;
}

/*
 * How long an attach waits, after this process let the pool go to an
 * asker, for the asker to open it.  Without the wait, a process whose
 * next call came while its service thread let the pool go reopened it
 * first, every time: in .ci/run, xz writing an archive that tar fed it
 * let the pool go 666 times in 5 s and took it back each time before
 * tar's open.
 */
#define HANDED_WAIT_NS (200LL * 1000 * 1000)

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void
dxp_mount_handed(struct dxp_mount *m)
{
	atomic_store(&m->handed_ns, now_ns());
}

/*
 * mount_wait_handed -- if the pool was just let go to an asker, wait
 * until some process holds it (the asker, whom the attach then asks as
 * any holder) or the wait is over.
 */
static void
mount_wait_handed(struct dxp_mount *m)
{
	long long t = atomic_exchange(&m->handed_ns, 0);

	while (t != 0 && now_ns() - t < HANDED_WAIT_NS && mount_holder(m) == 0)
		usleep(1000);
}

/* mount_attach -- open the pool; m->lock held. */
static int
mount_attach(struct dxp_mount *m)
{
	/* what each ask met, for the message if none got the pool */
	int in_call = 0, taken_again = 0, unheld = 0, no_listener = 0;
	daxfile_pool *pool;
	pid_t holder;

	if (dxp_lib_load() != 0)
		return -1;
	mount_wait_handed(m);
	pool = daxfile_pool_open(m->pool_path);
	for (int tries = 0; pool == NULL && errno == EBUSY; tries++) {
		int r = -1;

		holder = mount_holder(m);
		if (holder == 0)
			r = 1;	/* let go between our open and our look */
		else if (holder != getpid())
			r = dxp_service_request(holder, m->pool_path);
		in_call += holder != 0 && r == 1;
		taken_again += r == 0;
		unheld += holder == 0;
		no_listener += r == 2;
		/*
		 * a holder in the middle of a call, or one without a listener
		 * (the probe of another process's attach, a process still
		 * attaching, one outside the layer), is asked again, for 5 s
		 */
		if (r < 0 || (r >= 1 && tries >= 500)) {
			char why[256];

			snprintf(why, sizeof(why), "which did not let it go in "
				"5 s: of %d asks, %d found it in a call, %d got it "
				"let go but another open took it first, %d found no "
				"holder, %d no listener", tries + 1, in_call,
				taken_again, unheld, no_listener);
			mount_busy(m, holder != 0 ? holder : mount_holder(m),
				holder == getpid() ? "this process, through a descriptor the library does not know" :
				r == -1 ? "which has a mapping or an advisory lock of it" :
				r == -2 ? "which did not answer in 5 s" : why);
			return -1;
		}
		if (r >= 1)
			usleep(10000);
		pool = daxfile_pool_open(m->pool_path);
	}
	if (pool == NULL) {
		int err = errno;

		if (!dxp_fd_is_pool(2))
			dprintf(2, "libdaxfile-preload: %s: %s\n", m->dir,
				daxfile_errormsg());
		errno = err;
		return -1;
	}
	/* absolute link targets under the mount point stay in the pool (an
	   older library without the call follows them from the pool's root) */
	if (DXP_HAVE(daxfile_pool_set_mountpoint))
		daxfile_pool_set_mountpoint(pool, m->dir);
	dxp_mount_cloexec_pool_files(m);
	(void)dxp_mount_placeholder(m);
	m->pid = getpid();
	atomic_store(&m->pool, pool);
	dxp_service_start();
	return 0;
}

bool
dxp_mount_tryget(struct dxp_mount *m)
{
	if (atomic_fetch_add(&m->users, 1) >= 0 && atomic_load(&m->pool) != NULL)
		return true;
	atomic_fetch_sub(&m->users, 1);
	return false;
}

int
dxp_mount_placeholder(struct dxp_mount *m)
{
	int fd = atomic_load(&m->placeholder), none = -1;

	if (fd >= 0)
		return fd;
	fd = dxp_fd_hide(REAL(open)(m->pool_path, O_PATH | O_CLOEXEC));
	if (fd < 0)
		return -1;
	if (!atomic_compare_exchange_strong(&m->placeholder, &none, fd)) {
		dxp_fd_unhide(fd);
		REAL(close)(fd);
		fd = none;
	}
	return fd;
}

daxfile_pool *
dxp_mount_get(struct dxp_mount *m)
{
	daxfile_pool *pool;

	if (atomic_fetch_add(&m->users, 1) >= 0) {
		pool = atomic_load(&m->pool);
		if (pool != NULL)
			return pool;
	}
	atomic_fetch_sub(&m->users, 1);
	pthread_mutex_lock(&m->lock);
	if (atomic_load(&m->pool) == NULL && mount_attach(m) != 0) {
		pthread_mutex_unlock(&m->lock);
		return NULL;
	}
	atomic_fetch_add(&m->users, 1);
	pool = atomic_load(&m->pool);
	pthread_mutex_unlock(&m->lock);
	return pool;
}

void
dxp_mount_put(struct dxp_mount *m)
{
	atomic_fetch_sub(&m->users, 1);
}

void
dxp_mount_hold(struct dxp_mount *m)
{
	atomic_fetch_add(&m->objects, 1);
}

void
dxp_mount_unhold(struct dxp_mount *m)
{
	atomic_fetch_sub(&m->objects, 1);
}

void
dxp_mount_locks_sync(struct dxp_mount *m)
{
	daxfile_pool *pool = atomic_load(&m->pool);
	int n;

	if (pool == NULL || !DXP_HAVE(daxfile_pool_locks_held))
		return;
	pthread_mutex_lock(&m->locks_lock);
	n = daxfile_pool_locks_held(pool);
	if (n > 0 && !m->locks_held) {
		m->locks_held = true;
		dxp_mount_hold(m);
	} else if (n == 0 && m->locks_held) {
		m->locks_held = false;
		dxp_mount_unhold(m);
	}
	pthread_mutex_unlock(&m->locks_lock);
}

int
dxp_mount_release(struct dxp_mount *m)
{
	long idle = 0;
	daxfile_pool *pool;
	int ret = 1;

	if (atomic_load(&m->pool) == NULL)
		return 0;
	if (atomic_load(&m->objects) > 0)
		return -1;
	/* descriptions first: an attach takes a description's lock, then ours */
	if (dxp_fd_detach_mount(m) != 0)
		return 1;
	pthread_mutex_lock(&m->lock);
	pool = atomic_load(&m->pool);
	if (pool == NULL) {
		ret = 0;
	} else if (atomic_load(&m->objects) > 0) {
		ret = -1;
	} else if (atomic_compare_exchange_strong(&m->users, &idle,
	    LONG_MIN / 2)) {
		if (daxfile_pool_close(pool) == 0) {
			atomic_store(&m->pool, NULL);
			ret = 0;
		} else {
			ret = -1;
		}
		atomic_store(&m->users, 0);
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

bool
dxp_mount_forget(void)
{
	bool any = false;

	for (int i = 0; i < dxp_nmounts; i++) {
		struct dxp_mount *m = &dxp_mounts[i];
		daxfile_pool *pool = atomic_load(&m->pool);

		if (pool != NULL) {
			daxfile_pool_forget(pool);
			any = true;
		}
		pthread_mutex_init(&m->lock, NULL);
		/* the parent's locks are not the child's (they went with it) */
		pthread_mutex_init(&m->locks_lock, NULL);
		m->locks_held = false;
		atomic_store(&m->pool, NULL);
		atomic_store(&m->users, 0);
		atomic_store(&m->objects, 0);
		atomic_store(&m->handed_ns, 0);
	}
	return any;
}

/* mount_is_placeholder -- is 'fd' a mount's placeholder (the layer's)? */
static bool
mount_is_placeholder(int fd)
{
	for (int i = 0; i < dxp_nmounts; i++)
		if (atomic_load(&dxp_mounts[i].placeholder) == fd)
			return true;
	return false;
}

/*
 * mount_each_library_fd -- call 'fn' on every descriptor the library holds
 * on the pool files of attached pools (libpmemobj's and its own) and on
 * every userfaultfd: descriptors that are not in the descriptor table, nor
 * the mounts' placeholders.
 */
static void
mount_each_library_fd(void (*fn)(int fd))
{
	struct stat pst[DXP_MAX_MOUNTS];
	int n = 0, dfd;
	struct dirent64 *de;
	DIR *d;

	for (int i = 0; i < dxp_nmounts; i++)
		if (REAL(stat64)(dxp_mounts[i].pool_path,
		    (struct stat64 *)&pst[n]) == 0)
			n++;
	d = REAL(opendir)("/proc/self/fd");
	if (d == NULL)
		return;
	dfd = REAL(dirfd)(d);
	while ((de = REAL(readdir64)(d)) != NULL) {
		int fd = atoi(de->d_name);
		char link[64] = "";
		struct stat st;

		if (de->d_name[0] == '.' || fd == dfd || dxp_fd_is_pool(fd) ||
		    mount_is_placeholder(fd))
			continue;
		if (REAL(fstat64)(fd, (struct stat64 *)&st) != 0)
			continue;
		for (int i = 0; i < n; i++)
			if (st.st_dev == pst[i].st_dev &&
			    st.st_ino == pst[i].st_ino) {
				fn(fd);
				break;
			}
		if (readlinkat(dfd, de->d_name, link, sizeof(link) - 1) > 0 &&
		    strcmp(link, "anon_inode:[userfaultfd]") == 0)
			fn(fd);
	}
	REAL(closedir)(d);
}

static void
mount_set_cloexec(int fd)
{
	int fl = REAL(fcntl64)(fd, F_GETFD);

	if (fl >= 0 && !(fl & FD_CLOEXEC))
		REAL(fcntl64)(fd, F_SETFD, fl | FD_CLOEXEC);
}

static void
mount_close_fd(int fd)
{
	dxp_fd_unhide(fd);
	REAL(close)(fd);
}

void
dxp_mount_cloexec_pool_files(struct dxp_mount *m)
{
	(void)m;
	mount_each_library_fd(mount_set_cloexec);
}

void
dxp_mount_close_inherited(void)
{
	mount_each_library_fd(mount_close_fd);
}
