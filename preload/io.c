/*
 * io.c -- entry points that move data or change a file's size and
 * durability: read, write and their positioned and vectored variants
 * (fortified ones too), lseek, truncate, fallocate, the sync calls,
 * posix_fadvise, readahead, copy_file_range, sendfile, splice.
 */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "entry.h"

/* FILE_OR_RETURN -- the attached handle of 'o', or return -1. */
#define FILE_OR_RETURN(o, f) do { \
	(f) = dxp_ofd_file(o); \
	if ((f) == NULL) \
		return dxp_oret((o), -1); \
	if ((o)->flags & O_PATH) { \
		errno = EBADF; \
		return dxp_oret((o), -1); \
	} \
} while (0)

DXP_EXPORT ssize_t
read(int fd, void *buf, size_t n)
{
	struct dxp_ofd *o = dxp_fd_get(fd);
	daxfile_file *f;
	ssize_t r;

	if (o == NULL)
		return REAL(read)(fd, buf, n);
	FILE_OR_RETURN(o, f);
	r = daxfile_read(f, buf, n);
	dxp_ofd_note_offset(o, f);
	return dxp_oret(o, r);
}

DXP_EXPORT ssize_t
__read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		abort();
	return read(fd, buf, n);
}

DXP_EXPORT ssize_t
write(int fd, const void *buf, size_t n)
{
	struct dxp_ofd *o = dxp_fd_get(fd);
	daxfile_file *f;
	ssize_t r;

	if (o == NULL)
		return REAL(write)(fd, buf, n);
	FILE_OR_RETURN(o, f);
	r = daxfile_write(f, buf, n);
	dxp_ofd_note_offset(o, f);
	return dxp_oret(o, r);
}

/* pread_pool / pwrite_pool -- the positioned calls on a description. */
static ssize_t
pread_pool(struct dxp_ofd *o, void *buf, size_t n, off_t off)
{
	daxfile_file *f;

	FILE_OR_RETURN(o, f);
	return dxp_oret(o, daxfile_pread(f, buf, n, off));
}

static ssize_t
pwrite_pool(struct dxp_ofd *o, const void *buf, size_t n, off_t off)
{
	daxfile_file *f;

	FILE_OR_RETURN(o, f);
	return dxp_oret(o, daxfile_pwrite(f, buf, n, off));
}

DXP_EXPORT ssize_t
pread(int fd, void *buf, size_t n, off_t off)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	return o ? pread_pool(o, buf, n, off) : REAL(pread64)(fd, buf, n, off);
}

DXP_EXPORT ssize_t
pread64(int fd, void *buf, size_t n, off_t off)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	return o ? pread_pool(o, buf, n, off) : REAL(pread64)(fd, buf, n, off);
}

DXP_EXPORT ssize_t
__pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	if (n > buflen)
		abort();
	return pread64(fd, buf, n, off);
}

DXP_EXPORT ssize_t
__pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	if (n > buflen)
		abort();
	return pread64(fd, buf, n, off);
}

DXP_EXPORT ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	return o ? pwrite_pool(o, buf, n, off) : REAL(pwrite64)(fd, buf, n, off);
}

DXP_EXPORT ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	return o ? pwrite_pool(o, buf, n, off) : REAL(pwrite64)(fd, buf, n, off);
}

/* iov_total -- the bytes of an iovec array; -1 with EINVAL if too many. */
static ssize_t
iov_total(const struct iovec *iov, int cnt)
{
	size_t total = 0;

	if (cnt < 0 || cnt > IOV_MAX)
		return errno = EINVAL, -1;
	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len > (size_t)SSIZE_MAX - total)
			return errno = EINVAL, -1;
		total += iov[i].iov_len;
	}
	return (ssize_t)total;
}

/*
 * vec_io -- readv/writev at the file offset, as one call to the library
 * (one copy through a bounce buffer), so that it is atomic as the
 * kernel's is.
 */
static ssize_t
vec_io(daxfile_file *f, const struct iovec *iov, int cnt, bool wr)
{
	ssize_t total = iov_total(iov, cnt), r;
	char *buf;

	if (total < 0)
		return -1;
	if (cnt == 1)
		return wr ? daxfile_write(f, iov[0].iov_base, iov[0].iov_len) :
			daxfile_read(f, iov[0].iov_base, iov[0].iov_len);
	buf = malloc(total ? (size_t)total : 1);
	if (buf == NULL)
		return errno = ENOMEM, -1;
	if (wr) {
		size_t at = 0;

		for (int i = 0; i < cnt; i++) {
			memcpy(buf + at, iov[i].iov_base, iov[i].iov_len);
			at += iov[i].iov_len;
		}
		r = daxfile_write(f, buf, (size_t)total);
	} else {
		r = daxfile_read(f, buf, (size_t)total);
		for (ssize_t at = 0, i = 0; r > 0 && at < r; i++) {
			size_t k = iov[i].iov_len < (size_t)(r - at) ?
				iov[i].iov_len : (size_t)(r - at);

			memcpy(iov[i].iov_base, buf + at, k);
			at += (ssize_t)k;
		}
	}
	free(buf);
	return r;
}

DXP_EXPORT ssize_t
readv(int fd, const struct iovec *iov, int cnt)
{
	struct dxp_ofd *o = dxp_fd_get(fd);
	daxfile_file *f;
	ssize_t r;

	if (o == NULL)
		return REAL(readv)(fd, iov, cnt);
	FILE_OR_RETURN(o, f);
	r = vec_io(f, iov, cnt, false);
	dxp_ofd_note_offset(o, f);
	return dxp_oret(o, r);
}

DXP_EXPORT ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	struct dxp_ofd *o = dxp_fd_get(fd);
	daxfile_file *f;
	ssize_t r;

	if (o == NULL)
		return REAL(writev)(fd, iov, cnt);
	FILE_OR_RETURN(o, f);
	r = vec_io(f, iov, cnt, true);
	dxp_ofd_note_offset(o, f);
	return dxp_oret(o, r);
}

/* RWF_* flags preadv2/pwritev2 accept on a pool file */
#define DXP_RWF (RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND)

/* pv2 -- preadv2/pwritev2 on a pool description. */
static ssize_t
pv2(struct dxp_ofd *o, const struct iovec *iov, int cnt, off_t off,
	int flags, bool wr)
{
	daxfile_file *f;
	ssize_t r;

	FILE_OR_RETURN(o, f);
	if (flags & ~DXP_RWF) {
		errno = EOPNOTSUPP;
		return dxp_oret(o, -1);
	}
	if (wr && ((flags & RWF_APPEND) || (o->flags & O_APPEND)))
		off = -1;
	if (off == -1) {
		r = vec_io(f, iov, cnt, wr);
		dxp_ofd_note_offset(o, f);
	}
	else if (off < 0)
		r = (errno = EINVAL, -1);
	else
		r = wr ? daxfile_pwritev(f, iov, cnt, off) :
			daxfile_preadv(f, iov, cnt, off);
	if (r > 0 && wr && (flags & (RWF_DSYNC | RWF_SYNC)) &&
	    daxfile_fdatasync(f) != 0)
		r = -1;
	return dxp_oret(o, r);
}

DXP_EXPORT ssize_t
preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	if (o == NULL)
		return REAL(preadv64)(fd, iov, cnt, off);
	return off < 0 ? dxp_oret(o, (errno = EINVAL, -1)) :
		pv2(o, iov, cnt, off, 0, false);
}

DXP_EXPORT ssize_t
preadv64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return preadv(fd, iov, cnt, off);
}

DXP_EXPORT ssize_t
pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	if (o == NULL)
		return REAL(pwritev64)(fd, iov, cnt, off);
	return off < 0 ? dxp_oret(o, (errno = EINVAL, -1)) :
		pv2(o, iov, cnt, off, 0, true);
}

DXP_EXPORT ssize_t
pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return pwritev(fd, iov, cnt, off);
}

DXP_EXPORT ssize_t
preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	if (o == NULL)
		return REAL(preadv64v2)(fd, iov, cnt, off, flags);
	return pv2(o, iov, cnt, off, flags, false);
}

DXP_EXPORT ssize_t
preadv64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return preadv2(fd, iov, cnt, off, flags);
}

DXP_EXPORT ssize_t
pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	if (o == NULL)
		return REAL(pwritev64v2)(fd, iov, cnt, off, flags);
	return pv2(o, iov, cnt, off, flags, true);
}

DXP_EXPORT ssize_t
pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return pwritev2(fd, iov, cnt, off, flags);
}

DXP_EXPORT off_t
lseek(int fd, off_t off, int whence)
{
	struct dxp_ofd *o = dxp_fd_get(fd);
	daxfile_file *f;

	if (o == NULL)
		return REAL(lseek64)(fd, off, whence);
	FILE_OR_RETURN(o, f);
	if (o->isdir)
		return dxp_oret(o, dxp_dir_seek(o, off, whence));
	off = daxfile_lseek(f, off, whence);
	dxp_ofd_note_offset(o, f);
	return dxp_oret(o, off);
}

DXP_EXPORT off_t
lseek64(int fd, off_t off, int whence)
{
	return lseek(fd, off, whence);
}

DXP_EXPORT int
ftruncate(int fd, off_t len)
{
	DXP_FD_CALL(fd, REAL(ftruncate64)(fd, len), daxfile_ftruncate(f, len));
}

DXP_EXPORT int
ftruncate64(int fd, off_t len)
{
	return ftruncate(fd, len);
}

DXP_EXPORT int
fallocate(int fd, int mode, off_t off, off_t len)
{
	DXP_FD_CALL(fd, REAL(fallocate64)(fd, mode, off, len),
		daxfile_fallocate(f, mode, off, len));
}

DXP_EXPORT int
fallocate64(int fd, int mode, off_t off, off_t len)
{
	return fallocate(fd, mode, off, len);
}

/* falloc_errno -- posix_fallocate's convention: the error as the result. */
static int
falloc_errno(struct dxp_ofd *o, off_t off, off_t len)
{
	daxfile_file *f = dxp_ofd_file(o);
	int r;

	if (f == NULL)
		r = errno;
	else if (o->flags & O_PATH)
		r = EBADF;
	else
		r = daxfile_fallocate(f, 0, off, len) == 0 ? 0 : errno;
	dxp_ofd_put(o);
	return r;
}

DXP_EXPORT int
posix_fallocate(int fd, off_t off, off_t len)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	if (o == NULL)
		return REAL(posix_fallocate64)(fd, off, len);
	return falloc_errno(o, off, len);
}

DXP_EXPORT int
posix_fallocate64(int fd, off_t off, off_t len)
{
	return posix_fallocate(fd, off, len);
}

DXP_EXPORT int
fsync(int fd)
{
	DXP_FD_CALL(fd, REAL(fsync)(fd), daxfile_fsync(f));
}

DXP_EXPORT int
fdatasync(int fd)
{
	DXP_FD_CALL(fd, REAL(fdatasync)(fd), daxfile_fdatasync(f));
}

DXP_EXPORT int
sync_file_range(int fd, off_t off, off_t n, unsigned flags)
{
	DXP_FD_CALL(fd, REAL(sync_file_range)(fd, off, n, flags),
		(off < 0 || n < 0) ? (errno = EINVAL, -1) :
		(flags & SYNC_FILE_RANGE_WRITE) ? daxfile_fdatasync(f) : 0);
}

/* syncfs_pool -- syncfs(2) of the pool 'f' is in. */
static int
syncfs_pool(struct dxp_ofd *o)
{
	if (!DXP_HAVE(daxfile_syncfs))
		return dxp_lib_missing("daxfile_syncfs");
	return daxfile_syncfs(atomic_load(&o->m->pool));
}

DXP_EXPORT int
syncfs(int fd)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	if (o == NULL)
		return REAL(syncfs)(fd);
	if (dxp_ofd_file(o) == NULL)
		return (int)dxp_oret(o, -1);
	return (int)dxp_oret(o, syncfs_pool(o));
}

DXP_EXPORT void
sync(void)
{
	for (int i = 0; i < dxp_nmounts; i++) {
		daxfile_pool *p = atomic_load(&dxp_mounts[i].pool);

		if (p != NULL && DXP_HAVE(daxfile_syncfs))
			daxfile_syncfs(p);
	}
	REAL(sync)();
}

/* advice_errno -- posix_fadvise on a pool file: accepted, checked. */
static int
advice_errno(struct dxp_ofd *o, off_t len, int advice)
{
	int r = 0;

	if (len < 0 || advice < POSIX_FADV_NORMAL || advice > POSIX_FADV_NOREUSE)
		r = EINVAL;
	else if (o->isdir)
		r = 0;
	dxp_ofd_put(o);
	return r;
}

DXP_EXPORT int
posix_fadvise(int fd, off_t off, off_t len, int advice)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	if (o == NULL)
		return REAL(posix_fadvise64)(fd, off, len, advice);
	return advice_errno(o, len, advice);
}

DXP_EXPORT int
posix_fadvise64(int fd, off_t off, off_t len, int advice)
{
	return posix_fadvise(fd, off, len, advice);
}

DXP_EXPORT ssize_t
readahead(int fd, off64_t off, size_t n)
{
	DXP_FD_CALL(fd, REAL(readahead)(fd, off, n),
		o_->isdir ? (errno = EINVAL, -1) : 0);
}

/*
 * copy_bytes -- move up to 'n' bytes from 'in' to 'out' through a buffer,
 * with the descriptors' own offsets or the given ones: what sendfile,
 * splice and copy_file_range do when one end is a pool file.
 */
static ssize_t
copy_bytes(int in, off_t *in_off, int out, off_t *out_off, size_t n)
{
	size_t chunk = n < (1 << 20) ? n : (1 << 20);
	ssize_t done = 0;
	char *buf;

	if (n == 0)
		return 0;
	buf = malloc(chunk);
	if (buf == NULL)
		return errno = ENOMEM, -1;
	while ((size_t)done < n) {
		size_t want = n - (size_t)done < chunk ? n - (size_t)done : chunk;
		ssize_t r = in_off ? pread(in, buf, want, *in_off) :
			read(in, buf, want);
		ssize_t w = 0;

		if (r <= 0) {
			if (r < 0 && done == 0)
				done = -1;
			break;
		}
		while (w < r) {
			ssize_t k = out_off ? pwrite(out, buf + w, (size_t)(r - w),
				*out_off + w) : write(out, buf + w, (size_t)(r - w));

			if (k <= 0)
				break;
			w += k;
		}
		if (in_off)
			*in_off += w;
		else if (w < r)
			lseek(in, w - r, SEEK_CUR);
		if (out_off)
			*out_off += w;
		if (w < r) {
			if (done == 0 && w == 0)
				done = -1;
			else
				done += w;
			break;
		}
		done += r;
		if ((size_t)r < want)
			break;
	}
	free(buf);
	return done;
}

DXP_EXPORT ssize_t
sendfile(int out, int in, off_t *off, size_t n)
{
	if (!dxp_fd_is_pool(in) && !dxp_fd_is_pool(out))
		return REAL(sendfile64)(out, in, off, n);
	return copy_bytes(in, off, out, NULL, n);
}

DXP_EXPORT ssize_t
sendfile64(int out, int in, off_t *off, size_t n)
{
	return sendfile(out, in, off, n);
}

DXP_EXPORT ssize_t
splice(int in, loff_t *in_off, int out, loff_t *out_off, size_t n,
	unsigned flags)
{
	if (!dxp_fd_is_pool(in) && !dxp_fd_is_pool(out))
		return REAL(splice)(in, in_off, out, out_off, n, flags);
	return copy_bytes(in, in_off, out, out_off, n);
}

DXP_EXPORT ssize_t
copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t n,
	unsigned flags)
{
	struct dxp_ofd *oi, *oo;
	daxfile_file *fi, *fo;
	ssize_t r;

	if (!dxp_fd_is_pool(in) && !dxp_fd_is_pool(out))
		return REAL(copy_file_range)(in, in_off, out, out_off, n, flags);
	oi = dxp_fd_get(in);
	oo = dxp_fd_get(out);
	if (oi == NULL || oo == NULL || oi->m != oo->m) {
		/* across pools or between a pool and the host: as across mounts */
		r = (errno = EXDEV, -1);
	} else if ((fi = dxp_ofd_file(oi)) == NULL ||
	    (fo = dxp_ofd_file(oo)) == NULL) {
		r = -1;
	} else if (DXP_HAVE(daxfile_copy_file_range)) {
		r = daxfile_copy_file_range(fi, in_off, fo, out_off, n, flags);
	} else {
		r = flags ? (errno = EINVAL, -1) :
			copy_bytes(in, in_off, out, out_off, n);
	}
	if (oi != NULL)
		dxp_oret(oi, 0);
	if (oo != NULL)
		dxp_oret(oo, 0);
	return r;
}

/*
 * truncate_pool -- truncate(2) of 'path' in a pool, from directory handle
 * 'dir' if not NULL.
 */
static int
truncate_pool(struct dxp_mount *m, daxfile_file *dir, const char *path,
	off_t len)
{
	daxfile_pool *pool = dxp_mount_get(m);
	daxfile_file *f;
	int r;

	if (pool == NULL)
		return -1;
	if (dir == NULL && DXP_HAVE(daxfile_truncate))
		return (int)dxp_mret(m, daxfile_truncate(pool, path, len));
	if (len < 0)
		return (int)dxp_mret(m, (errno = EINVAL, -1));
	/* the same permission check as open for writing, then ftruncate */
	f = dir != NULL ? daxfile_openat(pool, dir, path, O_WRONLY) :
		daxfile_open(pool, path, O_WRONLY);
	if (f == NULL)
		return (int)dxp_mret(m, -1);
	r = daxfile_ftruncate(f, len);
	if (r != 0) {
		int e = errno;

		daxfile_close(f);
		errno = e;
	} else {
		r = daxfile_close(f);
	}
	return (int)dxp_mret(m, r);
}

DXP_EXPORT int
truncate(const char *path, off_t len)
{
	struct dxp_where w;
	int r;

	if (dxp_resolve_at(AT_FDCWD, path, &w, 0) != 0)
		return -1;
	if (w.m == NULL)
		return REAL(truncate64)(w.host, len);
	r = truncate_pool(w.m, w.dirf, w.path, len);
	dxp_where_put(&w);
	return r;
}

DXP_EXPORT int
truncate64(const char *path, off_t len)
{
	return truncate(path, len);
}
