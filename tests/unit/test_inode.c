/*
 * test_inode.c -- the in-core inode table: a file freed by its unlink (no
 * other reference) leaves the table before its number can come back, so a
 * new file that gets the same number gets a new in-core inode, not the old
 * one with its map of blocks that were just freed.
 */
#include <fcntl.h>

#include "dir.h"
#include "inode.h"
#include "namei.h"
#include "permission.h"
#include "pool.h"
#include "tx.h"
#include "testpool.h"

#define BLK 4096
#define MAX_CREATES 200000

/* namei -- the referenced inode of 'path', looked up as the caller. */
static struct dx_inode *
namei(daxfile_pool *pool, const char *path)
{
	struct dx_cred cr;

	dx_cred_init(&cr, DX_CRED_FS);
	return dx_namei(pool, NULL, path, 0, &cr);
}

/*
 * unlink_keep -- what daxfile_unlink does for the root's entry 'name', up to
 * and including the commit, with the in-core inode still referenced (the
 * moment before the unlink drops it).
 */
static struct dx_inode *
unlink_keep(daxfile_pool *pool, const char *name)
{
	struct dx_inode *root = namei(pool, "/");
	struct dx_inode *ip;
	char path[64];
	struct dx_tx tx;

	snprintf(path, sizeof(path), "/%s", name);
	ip = namei(pool, path);
	cr_assert_not_null(root);
	cr_assert_not_null(ip);
	dx_ilock(root, DX_IOLOCK_EXCL);
	dx_ilock(ip, DX_ILOCK_EXCL);
	TEST_OK(dx_tx_begin(&tx, pool));
	dx_dir_remove(&tx, root, name, strlen(name));
	DX_TX_ADD_FIELD(&tx, ip->di, nlink);
	ip->di->nlink = 0;
	dx_inode_unlinked(&tx, ip);
	TEST_OK(dx_tx_commit(&tx));
	dx_iunlock(ip, DX_ILOCK_EXCL);
	dx_iunlock(root, DX_IOLOCK_EXCL);
	dx_iput(root);
	return ip;
}

Test(inode, a_new_file_with_a_freed_inodes_number_gets_a_new_incore_inode,
	.timeout = 120)
{
	struct test_pool tp;
	unsigned char old[BLK], new[BLK], got[BLK];
	struct dx_inode *gone, *ip;
	daxfile_file *f;
	struct stat st;
	uint64_t ino;
	char path[64];
	unsigned i;

	memset(old, 0x5a, sizeof(old));
	memset(new, 0xc3, sizeof(new));
	test_pool_create(&tp, "inode", TEST_POOL_SIZE);
	f = daxfile_open(tp.pool, "/old", O_CREAT | O_EXCL | O_RDWR, 0644);
	cr_assert_not_null(f, "%s", daxfile_errormsg());
	cr_assert_eq(daxfile_write(f, old, BLK), BLK);
	TEST_OK(daxfile_fstat(f, &st));
	TEST_OK(daxfile_close(f));
	ino = st.st_ino;
	gone = unlink_keep(tp.pool, "old");

	/* create files until the allocator hands the number out again */
	for (i = 0; i < MAX_CREATES; i++) {
		snprintf(path, sizeof(path), "/n%u", i);
		f = daxfile_open(tp.pool, path, O_CREAT | O_EXCL | O_RDWR, 0644);
		cr_assert_not_null(f, "%s: %s", path, daxfile_errormsg());
		TEST_OK(daxfile_fstat(f, &st));
		if (st.st_ino == ino)
			break;
		TEST_OK(daxfile_close(f));
	}
	cr_assert_lt(i, MAX_CREATES, "inode number %#lx never came back",
		(unsigned long)ino);
	ip = namei(tp.pool, path);
	cr_assert_not_null(ip);
	cr_assert_neq(ip, gone, "%s found the freed file's in-core inode", path);
	dx_iput(ip);

	/* the new file's block is its own, and stays so after the old goes */
	cr_assert_eq(daxfile_write(f, new, BLK), BLK);
	dx_iput(gone);
	TEST_OK(daxfile_close(f));
	f = daxfile_open(tp.pool, path, O_RDONLY);
	cr_assert_not_null(f, "%s", daxfile_errormsg());
	cr_assert_eq(daxfile_pread(f, got, BLK, 0), BLK);
	cr_assert(memcmp(got, new, BLK) == 0, "%s does not read back", path);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}
