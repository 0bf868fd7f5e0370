/*
 * daxfile-crash.c -- crash tests: a child process runs a deterministic mixed
 * workload (namespace changes: create, unlink, rename over a name and to a
 * free one, RENAME_NOREPLACE, RENAME_EXCHANGE, hard links, symbolic links,
 * O_TMPFILE files named by linkat; writes, appends, truncates, fallocate
 * modes, chmod and, as root, chown, setting and removing extended
 * attributes) on a fresh pool and dies at some instant; the parent reopens
 * the pool and checks that
 *   - daxfile_pool_check is clean before and after the reopen (no block
 *     leaked or owned twice, no dangling entry),
 *   - every operation the child completed is there, byte for byte, with
 *     every name of every file (one inode, the right link count), every
 *     attribute value and every symbolic link's target,
 *   - the operation in flight is all or nothing when it changes metadata,
 *     and for a data write leaves only old or new bytes in its range (a
 *     write is not atomic on a crash, as on XFS with DAX).
 *
 * Two ways to die:
 *   --points  deterministic: the library kills the process at its Nth
 *             persistence point (DAXFILE_CRASH_AT); the harness first
 *             counts the points of a whole run, then crashes at every Kth
 *             one;
 *   --kill    SIGKILL from the parent after a random delay.
 *
 * The child records completed operations in memory shared with the parent,
 * which survives its death.  The harness does not simulate power failure:
 * stores that were never flushed survive a killed process (see
 * doc/testing.md for what that leaves uncovered).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "daxfile.h"

#define NDIRS 4
#define NFILES 24
#define NNAMES 3	/* hard links a file may have in the model */
#define NLINKS 8	/* symbolic links */
#define MAXSZ (64 << 10)
#define BLK 4096
#define NXATTRS 4		/* names user.x0 .. user.x3 */
#define XATTR_BIG 16384		/* now and then a value this long */

enum kind {
	K_MKDIR, K_RMDIR, K_CREATE, K_WRITE, K_APPEND, K_TRUNCATE, K_UNLINK,
	K_RENAME, K_PUNCH, K_ZERO, K_COLLAPSE, K_INSERT, K_LINK, K_SYMLINK,
	K_UNSYMLINK, K_NOREPLACE, K_EXCHANGE, K_TMPFILE, K_CHMOD, K_CHOWN,
	K_SETXATTR, K_RMXATTR, K_NKINDS
};

static const char *const kind_names[K_NKINDS] = {
	"mkdir", "rmdir", "create", "write", "append", "truncate", "unlink",
	"rename", "punch", "zero", "collapse", "insert", "link", "symlink",
	"unlink-symlink", "rename-noreplace", "rename-exchange", "tmpfile",
	"chmod", "chown", "setxattr", "removexattr",
};

/* A name of a file: <dir>/f<id>. */
struct mname {
	bool live;
	int dir;		/* -1: the root */
	unsigned id;
};

struct mfile {
	bool live;		/* some name is */
	struct mname names[NNAMES];
	uint32_t mode;		/* permission bits */
	uint32_t uid, gid;
	uint64_t size;
	uint8_t data[MAXSZ];
	/* extended attributes: value i is fill(xlen[i], xseed[i]) when set */
	bool xset[NXATTRS];
	uint32_t xlen[NXATTRS];
	uint64_t xseed[NXATTRS];
};

/* A symbolic link <dir>/l<id> whose target names a file (or did). */
struct mlink {
	bool live;
	int dir;
	unsigned id;
	char target[32];
};

/* The model: what the tree holds after some number of operations. */
struct model {
	uint64_t rng;
	unsigned next_id;
	bool dirs[NDIRS];
	struct mfile files[NFILES];
	struct mlink links[NLINKS];
};

/* One operation, fully decided by the generator. */
struct op {
	enum kind kind;
	int file, file2;	/* slots */
	int name, name2;	/* name slots of file and file2 */
	int link;		/* symbolic link slot */
	int dir;
	uint64_t off, len;
	uint64_t seed;		/* data bytes */
};

/* What the child shares with the parent: survives SIGKILL. */
struct journal {
	volatile uint64_t completed;
};

static struct {
	const char *pool;
	uint64_t seed;
	unsigned nops;
	unsigned crashes;
	bool points;
	bool verbose;
} opt = {.nops = 200, .crashes = 100};

static uint64_t
rnd(struct model *m)
{
	uint64_t z = (m->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
fill(uint8_t *p, uint64_t len, uint64_t seed)
{
	for (uint64_t i = 0; i < len; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = (uint8_t)(seed >> 56) | 1; /* never zero: holes show */
	}
}

static void
name_path(const struct mname *n, char *buf, size_t len)
{
	if (n->dir < 0)
		snprintf(buf, len, "/f%u", n->id);
	else
		snprintf(buf, len, "/d%d/f%u", n->dir, n->id);
}

static void
new_path(int dir, const char *prefix, unsigned id, char *buf, size_t len)
{
	if (dir < 0)
		snprintf(buf, len, "/%s%u", prefix, id);
	else
		snprintf(buf, len, "/d%d/%s%u", dir, prefix, id);
}

static void
link_path(const struct mlink *l, char *buf, size_t len)
{
	new_path(l->dir, "l", l->id, buf, len);
}

/* first_name -- the slot of a live name of file 'f' (-1 if none). */
static int
first_name(const struct mfile *f)
{
	for (int i = 0; i < NNAMES; i++)
		if (f->names[i].live)
			return i;
	return -1;
}

static int
nlink_of(const struct mfile *f)
{
	int n = 0;

	for (int i = 0; i < NNAMES; i++)
		n += f->names[i].live;
	return n;
}

/* path_of -- a path of file slot 'slot' (its first live name). */
static void
path_of(const struct model *m, int slot, char *buf, size_t n)
{
	const struct mfile *f = &m->files[slot];

	name_path(&f->names[first_name(f)], buf, n);
}

/* --- the generator: the next operation for a model ----------------------- */

static int
pick_file(struct model *m, bool live)
{
	int start = (int)(rnd(m) % NFILES);

	for (int i = 0; i < NFILES; i++) {
		int s = (start + i) % NFILES;

		if (m->files[s].live == live)
			return s;
	}
	return -1;
}

/* pick_name -- a live name of file 'f' (live: true) or a free slot. */
static int
pick_name(struct model *m, const struct mfile *f, bool live)
{
	int start = (int)(rnd(m) % NNAMES);

	for (int i = 0; i < NNAMES; i++) {
		int s = (start + i) % NNAMES;

		if (f->names[s].live == live)
			return s;
	}
	return -1;
}

static int
pick_link(struct model *m, bool live)
{
	int start = (int)(rnd(m) % NLINKS);

	for (int i = 0; i < NLINKS; i++) {
		int s = (start + i) % NLINKS;

		if (m->links[s].live == live)
			return s;
	}
	return -1;
}

static int
pick_dir(struct model *m)
{
	int d = (int)(rnd(m) % (NDIRS + 1)) - 1;

	return d >= 0 && !m->dirs[d] ? -1 : d;
}

static bool
dir_empty(const struct model *m, int d)
{
	for (int i = 0; i < NFILES; i++)
		for (int k = 0; k < NNAMES; k++)
			if (m->files[i].names[k].live &&
			    m->files[i].names[k].dir == d)
				return false;
	for (int i = 0; i < NLINKS; i++)
		if (m->links[i].live && m->links[i].dir == d)
			return false;
	return true;
}

static bool
is_namespace_op(enum kind k)
{
	switch (k) {
	case K_WRITE:
	case K_APPEND:
	case K_TRUNCATE:
	case K_PUNCH:
	case K_ZERO:
	case K_COLLAPSE:
	case K_INSERT:
		return false;
	default:
		return true;
	}
}

/* gen_names -- a live name to act on, and for a rename what it goes onto. */
static bool
gen_names(struct model *m, struct op *o)
{
	o->file = pick_file(m, true);
	if (o->file < 0)
		return false;
	o->name = pick_name(m, &m->files[o->file], true);
	o->dir = pick_dir(m);
	if (o->kind == K_RENAME && (rnd(m) & 1)) {
		/* over an existing name, maybe one of the same file */
		o->file2 = pick_file(m, true);
		o->name2 = pick_name(m, &m->files[o->file2], true);
		if (o->file2 == o->file && o->name2 == o->name)
			o->file2 = -1;
	}
	if (o->kind == K_EXCHANGE) {
		o->file2 = pick_file(m, true);
		o->name2 = pick_name(m, &m->files[o->file2], true);
		if (o->file2 == o->file && o->name2 == o->name)
			return false;
	}
	return true;
}

/* gen_namespace -- the namespace operations; false if none fits now. */
static bool
gen_namespace(struct model *m, struct op *o)
{
	switch (o->kind) {
	case K_MKDIR:
	case K_RMDIR:
		o->dir = (int)(rnd(m) % NDIRS);
		return o->kind == K_MKDIR ? !m->dirs[o->dir] :
			(m->dirs[o->dir] && dir_empty(m, o->dir));
	case K_CREATE:
	case K_TMPFILE:
		o->file = pick_file(m, false);
		o->dir = pick_dir(m);
		o->len = 1 + rnd(m) % (MAXSZ / 4);
		return o->file >= 0;
	case K_UNLINK:
	case K_RENAME:
	case K_NOREPLACE:
	case K_EXCHANGE:
		return gen_names(m, o);
	case K_LINK:
		o->file = pick_file(m, true);
		if (o->file < 0)
			return false;
		o->name = pick_name(m, &m->files[o->file], false);
		o->dir = pick_dir(m);
		return o->name >= 0;
	case K_SYMLINK:
		o->link = pick_link(m, false);
		o->file = pick_file(m, true);
		o->dir = pick_dir(m);
		return o->link >= 0 && o->file >= 0;
	case K_UNSYMLINK:
		o->link = pick_link(m, true);
		return o->link >= 0;
	case K_CHOWN:
		if (geteuid() != 0)
			return false; /* only root may give files away */
		/* fall through */
	case K_CHMOD:
		o->file = pick_file(m, true);
		return o->file >= 0;
	case K_SETXATTR:
	case K_RMXATTR:
		o->file = pick_file(m, true);
		if (o->file < 0)
			return false;
		o->off = rnd(m) % NXATTRS;	/* the name */
		o->len = rnd(m) % 8 == 0 ? XATTR_BIG : rnd(m) % 2000;
		return o->kind == K_SETXATTR || m->files[o->file].xset[o->off];
	default:
		return false;
	}
}

/* chmod_mode -- the mode a chmod sets: any bits, the owner's rw kept. */
static uint32_t
chmod_mode(const struct op *o)
{
	return (uint32_t)(o->seed & 07777) | 0600;
}

/* chown_id -- the owner or group a chown sets: 0, 1000 or 2000. */
static uint32_t
chown_id(uint64_t seed)
{
	return (uint32_t)(seed % 3) * 1000;
}

/* gen -- decide an operation legal in the model (retries until one is). */
static struct op
gen(struct model *m)
{
	for (;;) {
		struct op o = {.kind = (enum kind)(rnd(m) % K_NKINDS),
			.file = -1, .file2 = -1, .name = -1, .name2 = -1,
			.link = -1};
		struct mfile *f;

		o.seed = rnd(m);
		if (is_namespace_op(o.kind)) {
			if (gen_namespace(m, &o))
				return o;
			continue;
		}
		o.file = pick_file(m, true);
		if (o.file < 0)
			continue;
		f = &m->files[o.file];
		o.off = rnd(m) % (MAXSZ / 2);
		o.len = 1 + rnd(m) % (MAXSZ / 4);
		switch (o.kind) {
		case K_WRITE:
			return o;
		case K_APPEND:
			if (f->size + o.len > MAXSZ)
				continue;
			return o;
		case K_TRUNCATE:
			o.off = rnd(m) % MAXSZ;
			return o;
		case K_COLLAPSE:
		case K_INSERT:
			o.off &= ~(uint64_t)(BLK - 1);
			o.len = BLK * (1 + rnd(m) % 4);
			if (o.kind == K_COLLAPSE && o.off + o.len >= f->size)
				continue;
			if (o.kind == K_INSERT &&
			    (o.off >= f->size || f->size + o.len > MAXSZ))
				continue;
			return o;
		default:
			return o;
		}
	}
}

/* name_drop -- file 'f' loses name slot 'k'. */
static void
name_drop(struct mfile *f, int k)
{
	f->names[k].live = false;
	f->live = first_name(f) >= 0;
}

/* apply_rename -- the model's side of a rename (over a name or not). */
static void
apply_rename(struct model *m, const struct op *o)
{
	struct mname *n = &m->files[o->file].names[o->name];

	if (o->file2 < 0) {
		n->dir = o->dir;
		n->id = m->next_id++;
		return;
	}
	if (o->file2 == o->file)
		return; /* two names of one file: nothing happens */
	*n = m->files[o->file2].names[o->name2];
	name_drop(&m->files[o->file2], o->name2);
}

/* apply -- the operation's effect on the model. */
static void
apply(struct model *m, const struct op *o)
{
	struct mfile *f = o->file >= 0 ? &m->files[o->file] : NULL;
	uint64_t end = o->off + o->len;

	switch (o->kind) {
	case K_MKDIR: m->dirs[o->dir] = true; break;
	case K_RMDIR: m->dirs[o->dir] = false; break;
	case K_CREATE:
	case K_TMPFILE:
		memset(f->names, 0, sizeof(f->names));
		f->live = true;
		f->names[0] = (struct mname){true, o->dir, m->next_id++};
		f->mode = 0644;		/* the harness runs with umask 022 */
		f->uid = (uint32_t)geteuid();
		f->gid = (uint32_t)getegid();
		memset(f->xset, 0, sizeof(f->xset));
		f->size = 0;
		if (o->kind == K_TMPFILE) {
			fill(f->data, o->len, o->seed);
			f->size = o->len;
		}
		break;
	case K_UNLINK: name_drop(f, o->name); break;
	case K_RENAME: apply_rename(m, o); break;
	case K_NOREPLACE:
		f->names[o->name].dir = o->dir;
		f->names[o->name].id = m->next_id++;
		break;
	case K_EXCHANGE: {
		struct mname *a = &f->names[o->name];
		struct mname *b = &m->files[o->file2].names[o->name2];
		struct mname t = *a;

		*a = *b;
		*b = t;
		break;
	}
	case K_LINK:
		f->names[o->name] = (struct mname){true, o->dir, m->next_id++};
		break;
	case K_SYMLINK: {
		struct mlink *l = &m->links[o->link];

		l->live = true;
		l->dir = o->dir;
		l->id = m->next_id++;
		path_of(m, o->file, l->target, sizeof(l->target));
		break;
	}
	case K_UNSYMLINK: m->links[o->link].live = false; break;
	case K_SETXATTR:
		f->xset[o->off] = true;
		f->xlen[o->off] = (uint32_t)o->len;
		f->xseed[o->off] = o->seed;
		break;
	case K_RMXATTR:
		f->xset[o->off] = false;
		break;
	case K_CHMOD:
		f->mode = chmod_mode(o);
		break;
	case K_CHOWN:
		f->uid = chown_id(o->seed);
		f->gid = chown_id(o->seed >> 8);
		/* chown clears setuid, and setgid of a group-executable file */
		f->mode &= ~(uint32_t)S_ISUID;
		if ((f->mode & S_IXGRP) != 0)
			f->mode &= ~(uint32_t)S_ISGID;
		break;
	case K_WRITE:
		if (o->off > f->size)
			memset(f->data + f->size, 0, o->off - f->size);
		fill(f->data + o->off, o->len, o->seed);
		if (end > f->size)
			f->size = end;
		break;
	case K_APPEND:
		fill(f->data + f->size, o->len, o->seed);
		f->size += o->len;
		break;
	case K_TRUNCATE:
		if (o->off > f->size)
			memset(f->data + f->size, 0, o->off - f->size);
		f->size = o->off;
		break;
	case K_PUNCH:
	case K_ZERO:
		if (o->off < f->size)
			memset(f->data + o->off, 0,
				(end < f->size ? end : f->size) - o->off);
		break;
	case K_COLLAPSE:
		memmove(f->data + o->off, f->data + end, f->size - end);
		f->size -= o->len;
		break;
	case K_INSERT:
		memmove(f->data + end, f->data + o->off, f->size - o->off);
		memset(f->data + o->off, 0, o->len);
		f->size += o->len;
		break;
	default:
		break;
	}
}

/* --- the child: the same operations on the pool -------------------------- */

static void __attribute__((noreturn))
child_fail(const char *what, const char *path)
{
	fprintf(stderr, "daxfile-crash: child: %s %s: %s (%s)\n", what, path,
		strerror(errno), daxfile_errormsg());
	_exit(3);
}

/* run_tmpfile -- an unnamed file with the op's bytes, then its name. */
static void
run_tmpfile(daxfile_pool *p, struct model *m, const struct op *o)
{
	char dir[16], path[64];
	uint8_t buf[MAXSZ];
	daxfile_file *f;

	if (o->dir < 0)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "/d%d", o->dir);
	new_path(o->dir, "f", m->next_id, path, sizeof(path));
	fill(buf, o->len, o->seed);
	f = daxfile_open(p, dir, O_TMPFILE | O_RDWR, 0644);
	if (f == NULL || daxfile_write(f, buf, o->len) != (ssize_t)o->len ||
	    daxfile_linkat(p, f, "", NULL, path, AT_EMPTY_PATH) != 0 ||
	    daxfile_close(f) != 0)
		child_fail("tmpfile", path);
}

/* run_namespace -- the namespace operations; false for a data one. */
static bool
run_namespace(daxfile_pool *p, struct model *m, const struct op *o)
{
	char path[64], path2[64];
	daxfile_file *f;
	int ret = 0;

	if (o->file >= 0 && o->name >= 0 && m->files[o->file].names[o->name].live)
		name_path(&m->files[o->file].names[o->name], path, sizeof(path));
	switch (o->kind) {
	case K_MKDIR:
	case K_RMDIR:
		snprintf(path, sizeof(path), "/d%d", o->dir);
		ret = o->kind == K_MKDIR ? daxfile_mkdir(p, path, 0755) :
			daxfile_rmdir(p, path);
		break;
	case K_CREATE:
		new_path(o->dir, "f", m->next_id, path, sizeof(path));
		f = daxfile_open(p, path, O_CREAT | O_EXCL | O_WRONLY, 0644);
		ret = f == NULL || daxfile_close(f) != 0 ? -1 : 0;
		break;
	case K_TMPFILE:
		run_tmpfile(p, m, o);
		break;
	case K_UNLINK:
		ret = daxfile_unlink(p, path);
		break;
	case K_RENAME:
	case K_NOREPLACE:
	case K_EXCHANGE:
		if (o->file2 >= 0)
			name_path(&m->files[o->file2].names[o->name2], path2,
				sizeof(path2));
		else
			new_path(o->dir, "f", m->next_id, path2, sizeof(path2));
		ret = daxfile_renameat2(p, NULL, path, NULL, path2,
			o->kind == K_NOREPLACE ? RENAME_NOREPLACE :
			o->kind == K_EXCHANGE ? RENAME_EXCHANGE : 0);
		break;
	case K_LINK:
		path_of(m, o->file, path, sizeof(path));
		new_path(o->dir, "f", m->next_id, path2, sizeof(path2));
		ret = daxfile_link(p, path, path2);
		break;
	case K_SYMLINK:
		path_of(m, o->file, path2, sizeof(path2));
		new_path(o->dir, "l", m->next_id, path, sizeof(path));
		ret = daxfile_symlink(p, path2, path);
		break;
	case K_UNSYMLINK:
		link_path(&m->links[o->link], path, sizeof(path));
		ret = daxfile_unlink(p, path);
		break;
	case K_CHMOD:
		path_of(m, o->file, path, sizeof(path));
		ret = daxfile_chmod(p, path, chmod_mode(o));
		break;
	case K_CHOWN:
		path_of(m, o->file, path, sizeof(path));
		ret = daxfile_chown(p, path, chown_id(o->seed),
			chown_id(o->seed >> 8));
		break;
	case K_SETXATTR:
	case K_RMXATTR: {
		static uint8_t buf[XATTR_BIG];

		path_of(m, o->file, path, sizeof(path));
		snprintf(path2, sizeof(path2), "user.x%u", (unsigned)o->off);
		fill(buf, o->len, o->seed);
		ret = o->kind == K_SETXATTR ?
			daxfile_setxattr(p, path, path2, buf, o->len, 0) :
			daxfile_removexattr(p, path, path2);
		break;
	}
	default:
		return false;
	}
	if (ret != 0)
		child_fail(kind_names[o->kind], path);
	return true;
}

static void
run_op(daxfile_pool *p, struct model *m, const struct op *o)
{
	char path[64];
	uint8_t buf[MAXSZ];
	daxfile_file *f;
	int mode = 0;

	if (run_namespace(p, m, o))
		return;
	path_of(m, o->file, path, sizeof(path));
	f = daxfile_open(p, path, o->kind == K_APPEND ? O_WRONLY | O_APPEND :
		O_RDWR);
	if (f == NULL)
		child_fail("open", path);
	switch (o->kind) {
	case K_WRITE:
		fill(buf, o->len, o->seed);
		if (daxfile_pwrite(f, buf, o->len, (off_t)o->off) != (ssize_t)o->len)
			child_fail("write", path);
		break;
	case K_APPEND:
		fill(buf, o->len, o->seed);
		if (daxfile_write(f, buf, o->len) != (ssize_t)o->len)
			child_fail("append", path);
		break;
	case K_TRUNCATE:
		if (daxfile_ftruncate(f, (off_t)o->off) != 0)
			child_fail("truncate", path);
		break;
	case K_PUNCH: mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE; goto falloc;
	case K_ZERO: mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE; goto falloc;
	case K_COLLAPSE: mode = FALLOC_FL_COLLAPSE_RANGE; goto falloc;
	case K_INSERT: mode = FALLOC_FL_INSERT_RANGE;
	falloc:
		if (daxfile_fallocate(f, mode, (off_t)o->off, (off_t)o->len) != 0)
			child_fail(kind_names[o->kind], path);
		break;
	default:
		break;
	}
	if (daxfile_close(f) != 0)
		child_fail("close", path);
}

static void __attribute__((noreturn))
child(struct journal *j)
{
	static struct model m;
	daxfile_pool *p;

	memset(&m, 0, sizeof(m));
	m.rng = opt.seed;
	p = daxfile_pool_open(opt.pool);
	if (p == NULL)
		child_fail("pool open", opt.pool);
	for (unsigned i = 0; i < opt.nops; i++) {
		struct op o = gen(&m);

		run_op(p, &m, &o);
		apply(&m, &o);
		j->completed = i + 1;
	}
	daxfile_pool_close(p);
	exit(0); /* atexit: the library writes DAXFILE_CRASH_COUNT */
}

/* --- the parent: verification ------------------------------------------- */

static struct model before, after;	/* around the operation in flight */

/* xattrs_match -- does the pool file have exactly f's attributes? */
static bool
xattrs_match(daxfile_pool *p, const char *path, const struct mfile *f)
{
	static uint8_t buf[XATTR_BIG], want[XATTR_BIG];
	ssize_t total = 0;

	for (unsigned i = 0; i < NXATTRS; i++) {
		char name[16];
		ssize_t n;

		snprintf(name, sizeof(name), "user.x%u", i);
		n = daxfile_getxattr(p, path, name, buf, sizeof(buf));
		if (!f->xset[i]) {
			if (n != -1 || errno != ENODATA)
				return false;
			continue;
		}
		fill(want, f->xlen[i], f->xseed[i]);
		if (n != (ssize_t)f->xlen[i] || memcmp(buf, want, f->xlen[i]) != 0)
			return false;
		total += (ssize_t)strlen(name) + 1;
	}
	return daxfile_listxattr(p, path, NULL, 0) == total;
}

/* file_matches -- does the pool file hold exactly f's bytes? */
static bool
file_matches(daxfile_pool *p, const char *path, const struct mfile *f,
	const struct mfile *alt, const struct op *o)
{
	static uint8_t buf[MAXSZ + BLK];
	daxfile_file *h = daxfile_open(p, path, O_RDONLY);
	struct stat st;
	ssize_t n;

	if (h == NULL || !xattrs_match(p, path, f)) {
		if (h != NULL)
			daxfile_close(h);
		return false;
	}
	daxfile_fstat(h, &st);
	n = daxfile_pread(h, buf, sizeof(buf), 0);
	daxfile_close(h);
	if (n < 0 || (uint64_t)n != (uint64_t)st.st_size)
		return false;
	if ((st.st_mode & 07777) != f->mode || st.st_uid != f->uid ||
	    st.st_gid != f->gid)
		return false;
	if ((uint64_t)n == f->size && memcmp(buf, f->data, f->size) == 0)
		return true;
	if (alt == NULL || ((uint64_t)n != f->size && (uint64_t)n != alt->size))
		return false;
	/* a data write in flight: old or new bytes in its range only */
	for (uint64_t i = 0; i < (uint64_t)n; i++) {
		bool in = i >= o->off && i < o->off + o->len;
		uint8_t b = buf[i];

		if (i < f->size && b == f->data[i])
			continue;
		if (!in || i >= alt->size || b != alt->data[i])
			return false;
	}
	return true;
}

/* count_entries -- how many names a pool directory holds. */
static int
count_entries(daxfile_pool *p, const char *dir)
{
	daxfile_dir *d = daxfile_opendir(p, dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = daxfile_readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	daxfile_closedir(d);
	return n;
}

/*
 * names_match -- every name of 'f' is there, all of one inode whose link
 * count is their number.
 */
static bool
names_match(daxfile_pool *p, const struct mfile *f, int per_dir[])
{
	ino_t ino = 0;
	char path[64];

	for (int k = 0; k < NNAMES; k++) {
		struct stat st;

		if (!f->names[k].live)
			continue;
		name_path(&f->names[k], path, sizeof(path));
		if (daxfile_lstat(p, path, &st) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_nlink != (nlink_t)nlink_of(f) ||
		    (ino != 0 && st.st_ino != ino))
			return false;
		ino = st.st_ino;
		per_dir[f->names[k].dir + 1]++;
	}
	return true;
}

/* links_match -- every symbolic link is there with its target. */
static bool
links_match(daxfile_pool *p, const struct model *m, int per_dir[])
{
	char path[64], target[64];

	for (int i = 0; i < NLINKS; i++) {
		const struct mlink *l = &m->links[i];
		ssize_t n;

		if (!l->live)
			continue;
		link_path(l, path, sizeof(path));
		n = daxfile_readlink(p, path, target, sizeof(target));
		if (n != (ssize_t)strlen(l->target) ||
		    memcmp(target, l->target, (size_t)n) != 0)
			return false;
		per_dir[l->dir + 1]++;
	}
	return true;
}

/* tree_matches -- the pool holds model 'm' (data op: bytes of 'o' may mix). */
static bool
tree_matches(daxfile_pool *p, const struct model *m, const struct model *alt,
	const struct op *o)
{
	int per_dir[NDIRS + 1] = {0};
	char path[64];

	for (int d = 0; d < NDIRS; d++) {
		struct stat st;

		snprintf(path, sizeof(path), "/d%d", d);
		if ((daxfile_stat(p, path, &st) == 0) != m->dirs[d])
			return false;
		per_dir[0] += m->dirs[d];
	}
	for (int i = 0; i < NFILES; i++) {
		const struct mfile *f = &m->files[i];
		const struct mfile *af = alt ? &alt->files[i] : NULL;

		if (!f->live)
			continue;
		path_of(m, i, path, sizeof(path));
		if (!names_match(p, f, per_dir) || !file_matches(p, path, f,
		    af && af->live ? af : NULL, o))
			return false;
	}
	if (!links_match(p, m, per_dir) || count_entries(p, "/") != per_dir[0])
		return false;
	for (int d = 0; d < NDIRS; d++) {
		snprintf(path, sizeof(path), "/d%d", d);
		if (m->dirs[d] && count_entries(p, path) != per_dir[d + 1])
			return false;
	}
	return true;
}

static bool
is_data_op(enum kind k)
{
	return k == K_WRITE || k == K_APPEND;
}

/*
 * check_pool -- daxfile_pool_check; a process the killed child started
 * (the library's open probe) may hold the pool's lock a moment longer.
 */
static int
check_pool(void)
{
	int ret = -1;

	for (int i = 0; i < 100; i++) {
		ret = daxfile_pool_check(opt.pool, stderr);
		if (ret != -1 || (errno != EBUSY && errno != EAGAIN))
			break;
		usleep(10000);
	}
	return ret;
}

/* verify -- after a crash with 'completed' operations done. */
static int
verify(uint64_t completed, const char *how)
{
	struct op inflight = {0};
	daxfile_pool *p;
	int ok;

	memset(&before, 0, sizeof(before));
	before.rng = opt.seed;
	for (uint64_t i = 0; i < completed; i++) {
		struct op o = gen(&before);

		apply(&before, &o);
	}
	after = before;
	if (completed < opt.nops) {
		inflight = gen(&after);
		apply(&after, &inflight);
	}
	if (check_pool() != 0) {
		fprintf(stderr, "daxfile-crash: %s: check failed before reopen (op %" PRIu64 " %s in flight)\n",
			how, completed + 1, kind_names[inflight.kind]);
		return -1;
	}
	p = daxfile_pool_open(opt.pool);
	if (p == NULL) {
		fprintf(stderr, "daxfile-crash: %s: reopen failed: %s\n", how,
			daxfile_errormsg());
		return -1;
	}
	ok = tree_matches(p, &before, is_data_op(inflight.kind) ? &after : NULL,
		&inflight) || tree_matches(p, &after, NULL, &inflight);
	daxfile_pool_close(p);
	if (!ok) {
		fprintf(stderr, "daxfile-crash: %s: the pool matches neither the state before nor after op %" PRIu64
			" (%s, seed %" PRIu64 ")\n", how, completed + 1,
			kind_names[inflight.kind], opt.seed);
		return -1;
	}
	if (check_pool() != 0) {
		fprintf(stderr, "daxfile-crash: %s: check failed after reopen\n", how);
		return -1;
	}
	return 0;
}

static void
fresh_pool(void)
{
	daxfile_pool *p;

	unlink(opt.pool);
	p = daxfile_pool_create(opt.pool, 32 << 20, 0600);
	if (p == NULL || daxfile_pool_close(p) != 0) {
		fprintf(stderr, "daxfile-crash: cannot create %s: %s\n", opt.pool,
			daxfile_errormsg());
		exit(1);
	}
}

/* run_child -- fork the workload; kill it after 'delay_us' if non-zero. */
static int
run_child(struct journal *j, long crash_at, long delay_us, const char *count_file)
{
	pid_t pid;
	int status;

	j->completed = 0;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		exit(1);
	if (pid == 0) {
		char at[32];

		if (crash_at > 0) {
			snprintf(at, sizeof(at), "%ld", crash_at);
			setenv("DAXFILE_CRASH_AT", at, 1);
		}
		if (count_file != NULL)
			setenv("DAXFILE_CRASH_COUNT", count_file, 1);
		child(j);
	}
	if (delay_us > 0) {
		usleep((useconds_t)delay_us);
		kill(pid, SIGKILL);
	}
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		fprintf(stderr, "daxfile-crash: the workload failed (status %d)\n",
			WEXITSTATUS(status));
		exit(1);
	}
	return status;
}

static long
count_points(struct journal *j)
{
	char file[256];
	long n = 0;
	FILE *f;

	snprintf(file, sizeof(file), "%s.count", opt.pool);
	fresh_pool();
	run_child(j, 0, 0, file);
	f = fopen(file, "r");
	if (f == NULL || fscanf(f, "%ld", &n) != 1) {
		fprintf(stderr, "daxfile-crash: no persistence points counted\n");
		exit(1);
	}
	fclose(f);
	unlink(file);
	return n;
}

static void
usage(void)
{
	fprintf(stderr, "usage: daxfile-crash (--points | --kill) [-n crashes] [-N ops] [-S seed] [-v] POOL\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"points", no_argument, NULL, 'p'},
		{"kill", no_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	struct journal *j;
	unsigned done = 0, mode = 0;
	int c;

	opt.seed = (uint64_t)time(NULL);
	while ((c = getopt_long(argc, argv, "n:N:S:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': opt.points = true; mode++; break;
		case 'k': mode++; break;
		case 'n': opt.crashes = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'N': opt.nops = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'S': opt.seed = strtoull(optarg, NULL, 0); break;
		case 'v': opt.verbose = true; break;
		default: usage();
		}
	}
	if (mode != 1 || optind != argc - 1 || opt.crashes == 0)
		usage();
	opt.pool = argv[optind];
	umask(022);	/* the pool's umask: the model's new files are 0644 */
	j = mmap(NULL, sizeof(*j), PROT_READ | PROT_WRITE,
		MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (opt.points) {
		long n = count_points(j);
		long step = n / opt.crashes > 0 ? n / opt.crashes : 1;

		for (long at = 1 + (long)(opt.seed % (uint64_t)step); at <= n;
		    at += step) {
			char how[64];

			snprintf(how, sizeof(how), "crash point %ld/%ld", at, n);
			fresh_pool();
			run_child(j, at, 0, NULL);
			if (opt.verbose)
				printf("%s: %" PRIu64 " ops done\n", how, j->completed);
			if (verify(j->completed, how) != 0)
				return 1;
			done++;
		}
		printf("daxfile-crash: %u crash points of %ld (every %ld), seed %" PRIu64 ": ok\n",
			done, n, step, opt.seed);
	} else {
		srand((unsigned)opt.seed);
		for (unsigned i = 0; i < opt.crashes; i++) {
			long delay = 1000 + rand() % 60000;
			char how[64];

			snprintf(how, sizeof(how), "SIGKILL after %ld us", delay);
			fresh_pool();
			run_child(j, 0, delay, NULL);
			if (opt.verbose)
				printf("%s: %" PRIu64 " ops done\n", how, j->completed);
			if (verify(j->completed, how) != 0)
				return 1;
			done++;
		}
		printf("daxfile-crash: %u random kills, seed %" PRIu64 ": ok\n",
			done, opt.seed);
	}
	unlink(opt.pool);
	return 0;
}
