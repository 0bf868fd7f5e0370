/*
 * test_permission.c -- the permission checks of src/permission.c against
 * the kernel's rules, each run in a thread of its own whose credentials
 * are switched with raw system calls (fsuid, fsgid, supplementary groups,
 * capabilities are per thread in the kernel): the class that decides
 * (owner, group, other), the capabilities that override the bits, the
 * sticky bit's EPERM after the directory's EACCES, the real ids of
 * access(2), the mode and owner of a new inode, and that a check reads
 * only the credentials that decide it.  Needs root; skipped otherwise.
 */
#define _GNU_SOURCE	/* O_NOATIME */

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "inode.h"
#include "permission.h"
#include "testcred.h"

/* A fake inode: the checks read only ino, isdir and the dinode's ids and mode. */
struct fake {
	struct dx_dinode di;
	struct dx_inode ip;
};

static void
fake_init(struct fake *f, mode_t mode, uid_t uid, gid_t gid)
{
	memset(f, 0, sizeof(*f));
	f->di.mode = mode;
	f->di.uid = uid;
	f->di.gid = gid;
	f->ip.di = &f->di;
	f->ip.isdir = S_ISDIR(mode);
	f->ip.ino = 0x1000;
}

/* check -- dx_perm_inode with fresh credentials: 0 or the errno. */
static int
check(const struct fake *f, unsigned mask)
{
	struct dx_cred cr;

	dx_cred_init(&cr, DX_CRED_FS);
	errno = 0;
	return dx_perm_inode(&cr, &f->ip, mask) == 0 ? 0 : errno;
}

#define R DX_MAY_READ
#define W DX_MAY_WRITE
#define X DX_MAY_EXEC

/* --- classes --------------------------------------------------------------- */

static void
owner_class_checks(void)
{
	struct fake f;

	fake_init(&f, S_IFREG | 0077, U1, G1);
	cr_assert_eq(check(&f, R), EACCES, "the owner class decides, not other");
	fake_init(&f, S_IFREG | 0600, U1, G1);
	cr_assert_eq(check(&f, R | W), 0);
	cr_assert_eq(check(&f, X), EACCES);
}

Test(permission, the_owner_class_decides_for_the_owner)
{
	struct who w = {.uid = U1, .gid = G2};

	need_root();
	as(&w, owner_class_checks);
}

static void
group_class_checks(void)
{
	struct fake f;

	fake_init(&f, S_IFREG | 0640, U1, G1);
	cr_assert_eq(check(&f, R), 0, "a member reads through the group class");
	cr_assert_eq(check(&f, W), EACCES);
	fake_init(&f, S_IFREG | 0604, U1, G1);
	cr_assert_eq(check(&f, R), EACCES, "the group class refuses a member");
}

static void
other_class_checks(void)
{
	struct fake f;

	fake_init(&f, S_IFREG | 0604, U1, G1);
	cr_assert_eq(check(&f, R), 0);
	fake_init(&f, S_IFREG | 0640, U1, G1);
	cr_assert_eq(check(&f, R), EACCES);
}

Test(permission, the_group_class_decides_for_a_member_by_fsgid_or_supplementary_group)
{
	gid_t groups[] = {G1};
	struct who by_fsgid = {.uid = U2, .gid = G1};
	struct who by_list = {.uid = U2, .gid = G2, .ngroups = 1, .groups = groups};
	struct who outsider = {.uid = U2, .gid = G2};

	need_root();
	as(&by_fsgid, group_class_checks);
	as(&by_list, group_class_checks);
	as(&outsider, other_class_checks);
}

static void
many_groups_checks(void)
{
	struct dx_cred cr;

	dx_cred_init(&cr, DX_CRED_FS);
	cr_assert(dx_cred_in_group(&cr, 5199), "the last of 200 groups");
	cr_assert(dx_cred_in_group(&cr, 5000));
	cr_assert(!dx_cred_in_group(&cr, 5200));
}

Test(permission, membership_is_found_among_hundreds_of_groups)
{
	gid_t groups[200];
	struct who w = {.uid = U1, .gid = G1, .ngroups = 200, .groups = groups};

	need_root();
	for (int i = 0; i < 200; i++)
		groups[i] = (gid_t)(5000 + i);
	as(&w, many_groups_checks);
}

/* --- capabilities ------------------------------------------------------------ */

static void
root_checks(void)
{
	struct fake f;

	fake_init(&f, S_IFREG | 0000, U1, G1);
	cr_assert_eq(check(&f, R | W), 0, "CAP_DAC_OVERRIDE reads and writes");
	cr_assert_eq(check(&f, X), EACCES, "no x bit anywhere: no execute");
	fake_init(&f, S_IFREG | 0010, U1, G1);
	cr_assert_eq(check(&f, X), 0, "some x bit: execute");
	fake_init(&f, S_IFDIR | 0000, U1, G1);
	cr_assert_eq(check(&f, R | W | X), 0, "directories: everything");
}

Test(permission, root_overrides_the_bits_but_executes_only_with_an_x_bit)
{
	struct who w = {.uid = 0, .gid = 0};

	need_root();
	as(&w, root_checks);
}

static void
read_search_checks(void)
{
	struct fake f;

	fake_init(&f, S_IFREG | 0000, U1, G1);
	cr_assert_eq(check(&f, R), 0, "CAP_DAC_READ_SEARCH reads");
	cr_assert_eq(check(&f, W), EACCES);
	cr_assert_eq(check(&f, R | W), EACCES);
	fake_init(&f, S_IFDIR | 0000, U1, G1);
	cr_assert_eq(check(&f, R | X), 0, "and searches directories");
	cr_assert_eq(check(&f, W | X), EACCES);
}

Test(permission, cap_dac_read_search_alone_reads_and_searches_but_never_writes)
{
	struct who w = {.uid = 0, .gid = 0,
		.drop = 1ULL << CAP_DAC_OVERRIDE};

	need_root();
	as(&w, read_search_checks);
}

static void
fs_caps_gone_checks(void)
{
	struct fake f;

	fake_init(&f, S_IFREG | 0600, 0, 0);
	cr_assert_eq(check(&f, R), EACCES,
		"euid 0 with fsuid %d keeps no file capability", U1);
}

Test(permission, a_nonzero_fsuid_drops_the_file_capabilities)
{
	struct who w = {.uid = U1, .gid = G1};

	need_root();
	as(&w, fs_caps_gone_checks);
}

/* --- sticky directories ------------------------------------------------------- */

static int
delete_check(mode_t dmode, uid_t downer, uid_t vowner)
{
	struct fake d, v;
	struct dx_cred cr;

	fake_init(&d, S_IFDIR | dmode, downer, G1);
	fake_init(&v, S_IFREG | 0644, vowner, G1);
	dx_cred_init(&cr, DX_CRED_FS);
	errno = 0;
	return dx_perm_may_delete(&cr, &d.ip, &v.ip) == 0 ? 0 : errno;
}

static void
sticky_checks_u1(void)
{
	cr_assert_eq(delete_check(01777, 0, U2), EPERM,
		"another user's file in a sticky directory");
	cr_assert_eq(delete_check(01777, 0, U1), 0, "one's own file");
	cr_assert_eq(delete_check(01777, U1, U2), 0, "in one's own directory");
	cr_assert_eq(delete_check(0777, 0, U2), 0, "no sticky bit");
	cr_assert_eq(delete_check(01755, 0, U1), EACCES,
		"the directory's write permission is checked first");
}

static void
sticky_checks_root(void)
{
	cr_assert_eq(delete_check(01777, U1, U2), 0, "CAP_FOWNER");
}

Test(permission, a_sticky_directory_refuses_with_eperm_after_the_eacces_of_its_bits)
{
	struct who u1 = {.uid = U1, .gid = G1};
	struct who root = {.uid = 0, .gid = 0};

	need_root();
	as(&u1, sticky_checks_u1);
	as(&root, sticky_checks_root);
}

/* --- real ids (access) ----------------------------------------------------------- */

static void
real_checks(void)
{
	struct fake f;
	struct dx_cred cr;

	fake_init(&f, S_IFREG | 0600, 0, 0);
	dx_cred_init(&cr, DX_CRED_REAL);
	cr_assert_eq(dx_cred_uid(&cr), U1);
	cr_assert_eq(dx_cred_gid(&cr), G1);
	cr_assert_neq(dx_perm_inode(&cr, &f.ip, R), 0,
		"the real uid %d has no capability", U1);
	cr_assert_eq(errno, EACCES);
	cr_assert_eq(check(&f, R), 0, "the effective ids (fsuid 0) read it");
}

Test(permission, real_ids_check_as_the_real_user_without_capabilities)
{
	struct who w = {.uid = U1, .gid = G1, .real = true};

	need_root();
	as(&w, real_checks);
}

/* --- laziness ------------------------------------------------------------------ */

static void
lazy_checks(void)
{
	struct fake f;
	struct dx_cred cr;

	fake_init(&f, S_IFDIR | 0755, 0, 0);
	dx_cred_init(&cr, DX_CRED_FS);
	cr_assert_eq(dx_perm_inode(&cr, &f.ip, X | R), 0);
	cr_assert_eq(cr.have, 0, "bits everyone has: no credential read");
	fake_init(&f, S_IFREG | 0640, U1, G1);
	cr_assert_eq(dx_perm_inode(&cr, &f.ip, R | W), 0);
	cr_assert_eq(cr.have, DX_CRED_HAVE_UID, "the owner: only the fsuid read");
	fake_init(&f, S_IFREG | 0611, U2, G2);
	cr_assert_eq(dx_perm_inode(&cr, &f.ip, X), 0);
	cr_assert_eq(cr.have, DX_CRED_HAVE_UID,
		"group and other agree: no group read");
	cr_assert_neq(dx_perm_inode(&cr, &f.ip, W), 0);
	cr_assert_eq(cr.have, DX_CRED_HAVE_UID | DX_CRED_HAVE_CAPS,
		"refused by the bits: capabilities read, groups not needed");
}

Test(permission, a_check_reads_only_the_credentials_that_decide_it)
{
	struct who w = {.uid = U1, .gid = G1};

	need_root();
	as(&w, lazy_checks);
}

/* --- open, creation, setgid ----------------------------------------------------- */

static void
open_checks(void)
{
	struct fake f;
	struct dx_cred cr;

	dx_cred_init(&cr, DX_CRED_FS);
	fake_init(&f, S_IFREG | 0644, U2, G2);
	cr_assert_eq(dx_perm_open(&cr, &f.ip, O_RDONLY), 0);
	cr_assert_neq(dx_perm_open(&cr, &f.ip, O_RDONLY | O_TRUNC), 0);
	cr_assert_eq(errno, EACCES, "O_TRUNC needs write");
	cr_assert_neq(dx_perm_open(&cr, &f.ip, O_RDWR), 0);
	cr_assert_eq(errno, EACCES);
	cr_assert_neq(dx_perm_open(&cr, &f.ip, O_RDONLY | O_NOATIME), 0);
	cr_assert_eq(errno, EPERM, "O_NOATIME: owner only");
	fake_init(&f, S_IFREG | 0200, U1, G2);
	cr_assert_eq(dx_perm_open(&cr, &f.ip, O_WRONLY | O_NOATIME), 0);
	cr_assert_neq(dx_perm_open(&cr, &f.ip, O_RDWR), 0);
}

Test(permission, open_checks_its_access_mode_o_trunc_and_o_noatime)
{
	struct who w = {.uid = U1, .gid = G1};

	need_root();
	as(&w, open_checks);
}

static void
create_checks(void)
{
	struct fake plain, sgid;
	struct dx_cred cr;
	mode_t m;
	uint32_t uid, gid;

	dx_cred_init(&cr, DX_CRED_FS);
	fake_init(&plain, S_IFDIR | 0777, 0, 0);
	fake_init(&sgid, S_IFDIR | 02777, 0, G2);
	cr_assert_eq(dx_perm_create_mode(&cr, &plain.ip, S_IFREG | 0666, 022),
		S_IFREG | 0644);
	cr_assert_eq(dx_perm_create_mode(&cr, &plain.ip, S_IFREG | 06777, 0),
		S_IFREG | 06777, "a new file keeps setuid and setgid");
	cr_assert_eq(dx_perm_create_mode(&cr, &sgid.ip, S_IFREG | 02755, 0),
		S_IFREG | 0755,
		"setgid dropped: group-executable, setgid directory, not a member");
	cr_assert_eq(dx_perm_create_mode(&cr, &sgid.ip, S_IFREG | 02644, 0),
		S_IFREG | 02644, "not group-executable: kept");
	m = dx_perm_create_mode(&cr, &plain.ip, S_IFDIR | 07777, 0);
	cr_assert_eq(m, S_IFDIR | 01777, "mkdir drops setuid and setgid");
	dx_perm_init_owner(&cr, &plain.ip, &m, &uid, &gid);
	cr_assert_eq(uid, U1);
	cr_assert_eq(gid, G1);
	cr_assert_eq(m, S_IFDIR | 01777);
	dx_perm_init_owner(&cr, &sgid.ip, &m, &uid, &gid);
	cr_assert_eq(gid, G2, "the group of a setgid directory");
	cr_assert_eq(m, S_IFDIR | 03777, "a subdirectory inherits setgid");
	m = S_IFREG | 0644;
	dx_perm_init_owner(&cr, &sgid.ip, &m, &uid, &gid);
	cr_assert_eq(m, S_IFREG | 0644, "a file does not");
	cr_assert(dx_perm_kill_sgid(&cr, S_IFREG | 02010, G1),
		"group-executable: always");
	cr_assert(!dx_perm_kill_sgid(&cr, S_IFREG | 02000, G1), "a member");
	cr_assert(dx_perm_kill_sgid(&cr, S_IFREG | 02000, G2), "not a member");
}

Test(permission, a_new_inode_takes_the_fsuid_the_umask_and_the_setgid_rules)
{
	struct who w = {.uid = U1, .gid = G1};

	need_root();
	as(&w, create_checks);
}

static void
owner_checks(void)
{
	struct fake f;
	struct dx_cred cr;

	dx_cred_init(&cr, DX_CRED_FS);
	fake_init(&f, S_IFREG | 0, U1, G1);
	cr_assert(dx_perm_owner(&cr, &f.ip));
	fake_init(&f, S_IFREG | 0777, U2, G1);
	cr_assert(!dx_perm_owner(&cr, &f.ip));
}

Test(permission, only_the_owner_or_cap_fowner_owns)
{
	struct who w = {.uid = U1, .gid = G1};

	need_root();
	as(&w, owner_checks);
}
