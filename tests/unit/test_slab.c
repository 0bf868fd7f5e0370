/*
 * test_slab.c -- inodes and entries claimed from slabs: a new file's inode
 * and entry share a map word, claims of an aborted transaction come back,
 * units freed in a transaction are not handed out before it commits, a
 * full slab makes the next in the transaction that needs it, an inode of a
 * pool made before slabs (its own libpmemobj object) is freed as one, and
 * the checker finds a damaged map and an entry no directory holds, and a
 * slab list that loops or meets a damaged slab is cut there.
 */
#include <fcntl.h>
#include <libpmemobj.h>

#include "dir.h"
#include "inode.h"
#include "namei.h"
#include "permission.h"
#include "pool.h"
#include "slab.h"
#include "tx.h"
#include "testpool.h"

/* The objects of the pool's slabs, as the checker sees them. */
struct objs {
	uint64_t off[8192];
	uint64_t len[8192];
	unsigned n;
};

static int
objs_add(void *arg, uint64_t off, uint64_t len)
{
	struct objs *o = arg;

	cr_assert_lt(o->n, 8192);
	o->off[o->n] = off;
	o->len[o->n++] = len;
	return 0;
}

/* objs_all -- every object of every slab of 'pool'; the number of slabs. */
static unsigned
objs_all(daxfile_pool *pool, struct objs *o)
{
	unsigned nslabs = 0;

	o->n = 0;
	for (uint64_t s = pool->root->slabs; s != 0;
	    s = ((struct dx_slab *)dx_ptr(pool, s))->next) {
		cr_assert_null(dx_slab_check(pool, s));
		cr_assert_eq(dx_slab_objects(pool, s, objs_add, o), 0);
		nslabs++;
	}
	return nslabs;
}

/* namei -- the referenced inode of 'path', looked up as the caller. */
static struct dx_inode *
namei(daxfile_pool *pool, const char *path)
{
	struct dx_cred cr;

	dx_cred_init(&cr, DX_CRED_FS);
	return dx_namei(pool, NULL, path, 0, &cr);
}

/* slab_word -- the slab and map word of the unit at 'off'. */
static uint64_t
slab_word(daxfile_pool *pool, uint64_t off)
{
	for (uint64_t s = pool->root->slabs; s != 0;
	    s = ((struct dx_slab *)dx_ptr(pool, s))->next)
		if (off >= s && off < s + DX_SLAB_SIZE)
			return s + (off - s) / DX_SLAB_UNIT / 64;
	cr_assert_fail("offset %#lx is in no slab", (unsigned long)off);
	return 0;
}

static void
create(daxfile_pool *pool, const char *path)
{
	daxfile_file *f = daxfile_open(pool, path, O_CREAT | O_EXCL | O_RDWR,
		0644);

	cr_assert_not_null(f, "%s: %s", path, daxfile_errormsg());
	TEST_OK(daxfile_close(f));
}

static uint64_t
ino_of(daxfile_pool *pool, const char *path)
{
	struct stat st;

	TEST_OK(daxfile_stat(pool, path, &st));
	return st.st_ino;
}

/* units_free -- free units of every slab, as the DRAM state counts them. */
static uint64_t
units_free(daxfile_pool *pool)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < pool->slabs.n; i++)
		n += pool->slabs.v[i]->nfree;
	return n;
}

Test(slab, a_new_files_inode_and_entry_share_one_map_word)
{
	struct test_pool tp;
	struct objs *o = malloc(sizeof(*o));
	uint64_t ino, entry = 0;

	cr_assert_not_null(o);
	test_pool_create(&tp, "slabword", TEST_POOL_SIZE);
	create(tp.pool, "/file");
	ino = ino_of(tp.pool, "/file");
	cr_assert_eq(objs_all(tp.pool, o), 1);
	for (unsigned i = 0; i < o->n; i++) {
		const struct dx_dirent *de = dx_ptr(tp.pool, o->off[i]);

		if (de->magic == DX_DIRENT_MAGIC && de->ino == ino)
			entry = o->off[i];
	}
	cr_assert_neq(entry, 0, "the entry of /file is in no slab");
	cr_assert_eq(slab_word(tp.pool, entry), slab_word(tp.pool, ino));
	free(o);
	test_pool_destroy(&tp);
}

Test(slab, an_aborted_transaction_gives_its_claims_back)
{
	struct test_pool tp;
	struct dx_slab *s;
	struct dx_slabmap before[DX_SLAB_WORDS];
	struct dx_tx tx;
	uint64_t nfree;

	test_pool_create(&tp, "slababort", TEST_POOL_SIZE);
	s = dx_ptr(tp.pool, tp.pool->root->slabs);
	memcpy(before, s->map, sizeof(before));
	nfree = units_free(tp.pool);
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	cr_assert_neq(dx_slab_alloc(&tx, sizeof(struct dx_dinode)), 0);
	cr_assert_neq(dx_slab_alloc(&tx, 100), 0);
	cr_assert_lt(units_free(tp.pool), nfree);
	dx_tx_abort(&tx, EIO);
	cr_assert_eq(units_free(tp.pool), nfree);
	cr_assert_eq(memcmp(before, s->map, sizeof(before)), 0);
	test_pool_destroy(&tp);
}

Test(slab, units_freed_in_a_transaction_wait_for_its_commit)
{
	struct test_pool tp;
	struct dx_inode *root, *ip;
	uint64_t ino, again;
	struct dx_tx tx;
	uint64_t nfree;

	test_pool_create(&tp, "slabfree", TEST_POOL_SIZE);
	nfree = units_free(tp.pool);
	create(tp.pool, "/victim");
	ino = ino_of(tp.pool, "/victim");
	root = namei(tp.pool, "/");
	ip = namei(tp.pool, "/victim");
	cr_assert_not_null(root);
	cr_assert_not_null(ip);
	dx_ilock(root, DX_IOLOCK_EXCL);
	dx_ilock(ip, DX_ILOCK_EXCL);
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	TEST_OK(dx_dir_remove(&tx, root, "victim", 6));
	dx_inode_drop_link(&tx, ip);
	/* the same size again, in the same transaction: elsewhere */
	again = dx_slab_alloc(&tx, sizeof(struct dx_dinode));
	cr_assert_neq(again, 0);
	cr_assert_neq(again, ino);
	TEST_OK(dx_tx_commit(&tx));
	dx_iunlock(ip, DX_ILOCK_EXCL);
	dx_iunlock(root, DX_IOLOCK_EXCL);
	dx_iput(ip);
	dx_iput(root);
	/* the claim of 'again' is an object no directory holds: give it back */
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	dx_slab_free(&tx, again);
	TEST_OK(dx_tx_commit(&tx));
	/* committed: every unit is free again */
	cr_assert_eq(units_free(tp.pool), nfree);
	test_pool_destroy(&tp);
}

Test(slab, a_full_slab_makes_the_next_in_the_transaction_that_needs_it,
	.timeout = 120)
{
	struct test_pool tp;
	struct objs *o = malloc(sizeof(*o));
	char path[300];
	unsigned i;

	cr_assert_not_null(o);
	test_pool_create(&tp, "slabfull", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	/* inode (3 units) and a 200-byte name (4 units) each */
	for (i = 0; tp.pool->slabs.n < 2; i++) {
		cr_assert_lt(i, 4096);
		snprintf(path, sizeof(path), "/d/%0200u", i);
		create(tp.pool, path);
	}
	cr_assert_gt(i, 500, "the first slab held only %u files", i);
	test_pool_reopen(&tp);
	cr_assert_eq(objs_all(tp.pool, o), 2);
	/* the root, "/d" and its entry, and an inode and entry per file */
	cr_assert_eq(o->n, 3 + 2 * i, "%u objects for %u files", o->n, i);
	for (unsigned k = 0; k < i; k++) {
		snprintf(path, sizeof(path), "/d/%0200u", k);
		TEST_OK(daxfile_unlink(tp.pool, path));
	}
	test_pool_reopen(&tp);
	cr_assert_eq(objs_all(tp.pool, o), 2);
	cr_assert_eq(o->n, 3, "%u objects left", o->n);
	free(o);
	test_pool_destroy(&tp);
}

Test(slab, an_inode_of_its_own_object_is_freed_by_libpmemobj)
{
	struct test_pool tp;
	struct dx_inode *root;
	struct dx_tx tx;
	PMEMoid oid;
	uint64_t ino;
	unsigned before = 0, after = 0;

	test_pool_create(&tp, "slabv1", TEST_POOL_SIZE);
	POBJ_FOREACH(tp.pool->pop, oid)
		before++;
	/* a file as the library of version 1 made it: a libpmemobj object */
	root = namei(tp.pool, "/");
	cr_assert_not_null(root);
	dx_ilock(root, DX_IOLOCK_EXCL);
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	ino = dx_tx_alloc(&tx, sizeof(struct dx_dinode), DX_TYPE_INODE, true);
	cr_assert_neq(ino, 0);
	((struct dx_dinode *)dx_ptr(tp.pool, ino))->magic = DX_INODE_MAGIC;
	((struct dx_dinode *)dx_ptr(tp.pool, ino))->mode = S_IFREG | 0644;
	((struct dx_dinode *)dx_ptr(tp.pool, ino))->nlink = 1;
	TEST_OK(dx_dir_add(&tx, root, "old", 3, ino, DT_REG));
	TEST_OK(dx_tx_commit(&tx));
	dx_iunlock(root, DX_IOLOCK_EXCL);
	dx_iput(root);
	TEST_OK(daxfile_unlink(tp.pool, "/old"));
	POBJ_FOREACH(tp.pool->pop, oid)
		after++;
	cr_assert_eq(after, before, "the inode object was not freed");
	test_pool_destroy(&tp);
}

/* check_report -- daxfile_pool_check of a closed pool: its report. */
static char *
check_report(const char *path)
{
	static char buf[8192];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	cr_assert_not_null(f);
	cr_assert_eq(daxfile_pool_check(path, f), 1, "the damage went unseen");
	fclose(f);
	return buf;
}

Test(slab, the_checker_finds_a_damaged_map_and_a_lost_entry)
{
	struct test_pool tp;
	struct dx_slab *s;
	struct dx_tx tx;
	uint64_t off;
	daxfile_pool *p;

	test_pool_create(&tp, "slabcheck", TEST_POOL_SIZE);
	create(tp.pool, "/a");
	/* an entry object claimed in no directory */
	TEST_OK(dx_tx_begin(&tx, tp.pool));
	off = dx_slab_alloc(&tx, sizeof(struct dx_dirent) + 4);
	cr_assert_neq(off, 0);
	memset(dx_ptr(tp.pool, off), 0, sizeof(struct dx_dirent) + 4);
	((struct dx_dirent *)dx_ptr(tp.pool, off))->magic = DX_DIRENT_MAGIC;
	TEST_OK(dx_tx_commit(&tx));
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;
	cr_assert_not_null(strstr(check_report(tp.path),
		"is a directory entry of no directory"));

	/* a start bit on a free unit */
	p = daxfile_pool_open(tp.path);
	cr_assert_not_null(p);
	s = dx_ptr(p, p->root->slabs);
	s->map[DX_SLAB_WORDS - 1].start |= 1ULL << 63;
	pmemobj_persist(p->pop, s, sizeof(*s));
	TEST_OK(daxfile_pool_close(p));
	cr_assert_not_null(strstr(check_report(tp.path),
		"starts an object on a free unit"));
	/* and the pool refuses to open, rather than trust the map */
	TEST_FAILS(daxfile_pool_open(tp.path), NULL, EFSCORRUPTED);
	unlink(tp.path);
}

Test(slab, a_slab_list_that_loops_or_meets_a_damaged_slab_is_cut_there,
	.timeout = 120)
{
	struct test_pool tp;
	struct dx_slab *s0, *s1;
	daxfile_pool *p;
	const char *why;
	uint64_t *v, at, next;
	char path[300];
	int64_t n;

	test_pool_create(&tp, "slabloop", TEST_POOL_SIZE);
	TEST_OK(daxfile_mkdir(tp.pool, "/d", 0755));
	for (unsigned i = 0; tp.pool->slabs.n < 2; i++) {
		cr_assert_lt(i, 4096);
		snprintf(path, sizeof(path), "/d/%0200u", i);
		create(tp.pool, path);
	}
	n = dx_slab_list(tp.pool, tp.pool->arena, &v, &why, &at);
	cr_assert_eq(n, 2);
	cr_assert_null(why, "%s", why);
	cr_assert_eq(v[0], tp.pool->root->slabs);
	s0 = dx_ptr(tp.pool, v[0]);
	s1 = dx_ptr(tp.pool, v[1]);
	cr_assert_eq(s0->next, v[1]);
	cr_assert_eq(s1->next, 0);
	dx_free(tp.pool->arena, v);

	/* the oldest slab points back at the newest: cut where it comes again */
	s1->next = tp.pool->root->slabs;
	pmemobj_persist(tp.pool->pop, &s1->next, sizeof(s1->next));
	n = dx_slab_list(tp.pool, tp.pool->arena, &v, &why, &at);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(why, "slab list loops");
	cr_assert_eq(at, tp.pool->root->slabs);
	dx_free(tp.pool->arena, v);
	TEST_OK(daxfile_pool_close(tp.pool));
	tp.pool = NULL;
	cr_assert_not_null(strstr(check_report(tp.path), "slab list loops"));
	TEST_FAILS(daxfile_pool_open(tp.path), NULL, EFSCORRUPTED);
	cr_assert_not_null(strstr(daxfile_errormsg(), "slab list loops"),
		"%s", daxfile_errormsg());

	/* a damaged slab ends the list before it */
	p = dx_pool_attach(tp.path, false);
	cr_assert_not_null(p, "%s", daxfile_errormsg());
	next = ((struct dx_slab *)dx_ptr(p, p->root->slabs))->next;
	((struct dx_slab *)dx_ptr(p, next))->magic ^= 1;
	n = dx_slab_list(p, DX_ARENA_GLOBAL, &v, &why, &at);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(why, "slab with a bad magic");
	cr_assert_eq(at, next);
	dx_free(DX_ARENA_GLOBAL, v);
	dx_pool_detach(p);
	unlink(tp.path);
}
