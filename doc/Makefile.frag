# doc/Makefile.frag -- the manual pages of the library, for Makefile.am.
#
# Include it after the line that sets dist_man_MANS (it appends to it and
# defines install-data-local and uninstall-local):
#
#	dist_man_MANS = doc/daxfile.1
#	include $(srcdir)/doc/Makefile.frag
#
# The pages with the text, installed into man3 and distributed:
dist_man_MANS += \
	doc/libdaxfile.3 \
	doc/daxfile_pool_create.3 \
	doc/daxfile_open.3 \
	doc/daxfile_read.3 \
	doc/daxfile_mmap.3 \
	doc/daxfile_chmod.3 \
	doc/daxfile_access.3 \
	doc/daxfile_fcntl.3 \
	doc/daxfile_getdents64.3 \
	doc/daxfile_copy_file_range.3 \
	doc/daxfile_getxattr.3 \
	doc/daxfile_syncfs.3 \
	doc/daxfile_link.3 \
	doc/daxfile_chdir.3 \
	doc/daxfile_open_by_handle.3

# One page per other function.  doc/links/NAME.3 is a symbolic link to the
# page that describes it, so that `man -l doc/links/NAME.3` works in the
# tree (a distribution tarball holds a copy instead); installed, it is the
# usual `.so man3/PAGE.3' stub, PAGE named by the .TH line of what it
# links to, removed again by `make uninstall'.
DAXFILE_MAN_LINKS = \
	doc/links/daxfile_name_to_handle_at.3 \
	doc/links/daxfile_flock.3 \
	doc/links/daxfile_pool_locks_held.3 \
	doc/links/daxfile_fdopendir.3 \
	doc/links/daxfile_dirfile.3 \
	doc/links/daxfile_telldir.3 \
	doc/links/daxfile_seekdir.3 \
	doc/links/daxfile_rewinddir.3 \
	doc/links/daxfile_lgetxattr.3 \
	doc/links/daxfile_fgetxattr.3 \
	doc/links/daxfile_setxattr.3 \
	doc/links/daxfile_lsetxattr.3 \
	doc/links/daxfile_fsetxattr.3 \
	doc/links/daxfile_listxattr.3 \
	doc/links/daxfile_llistxattr.3 \
	doc/links/daxfile_flistxattr.3 \
	doc/links/daxfile_removexattr.3 \
	doc/links/daxfile_lremovexattr.3 \
	doc/links/daxfile_fremovexattr.3 \
	doc/links/daxfile_pool_open.3 \
	doc/links/daxfile_pool_close.3 \
	doc/links/daxfile_pool_forget.3 \
	doc/links/daxfile_pool_check.3 \
	doc/links/daxfile_pool_repair.3 \
	doc/links/daxfile_pool_salvage.3 \
	doc/links/daxfile_pool_size_for.3 \
	doc/links/daxfile_pool_backing.3 \
	doc/links/daxfile_statvfs.3 \
	doc/links/daxfile_errormsg.3 \
	doc/links/daxfile_set_log.3 \
	doc/links/daxfile_close.3 \
	doc/links/daxfile_mkdir.3 \
	doc/links/daxfile_rmdir.3 \
	doc/links/daxfile_unlink.3 \
	doc/links/daxfile_rename.3 \
	doc/links/daxfile_stat.3 \
	doc/links/daxfile_fstat.3 \
	doc/links/daxfile_opendir.3 \
	doc/links/daxfile_readdir.3 \
	doc/links/daxfile_closedir.3 \
	doc/links/daxfile_write.3 \
	doc/links/daxfile_pread.3 \
	doc/links/daxfile_pwrite.3 \
	doc/links/daxfile_preadv.3 \
	doc/links/daxfile_pwritev.3 \
	doc/links/daxfile_lseek.3 \
	doc/links/daxfile_ftruncate.3 \
	doc/links/daxfile_fallocate.3 \
	doc/links/daxfile_fsync.3 \
	doc/links/daxfile_fdatasync.3 \
	doc/links/daxfile_munmap.3 \
	doc/links/daxfile_msync.3 \
	doc/links/daxfile_fchmod.3 \
	doc/links/daxfile_fchmodat.3 \
	doc/links/daxfile_chown.3 \
	doc/links/daxfile_lchown.3 \
	doc/links/daxfile_fchown.3 \
	doc/links/daxfile_fchownat.3 \
	doc/links/daxfile_utimensat.3 \
	doc/links/daxfile_futimens.3 \
	doc/links/daxfile_truncate.3 \
	doc/links/daxfile_umask.3 \
	doc/links/daxfile_faccessat.3 \
	doc/links/daxfile_lstat.3 \
	doc/links/daxfile_fstatat.3 \
	doc/links/daxfile_statx.3 \
	doc/links/daxfile_openat.3 \
	doc/links/daxfile_mkdirat.3 \
	doc/links/daxfile_unlinkat.3 \
	doc/links/daxfile_renameat2.3 \
	doc/links/daxfile_linkat.3 \
	doc/links/daxfile_symlink.3 \
	doc/links/daxfile_symlinkat.3 \
	doc/links/daxfile_readlink.3 \
	doc/links/daxfile_readlinkat.3 \
	doc/links/daxfile_pool_set_mountpoint.3 \
	doc/links/daxfile_fchdir.3 \
	doc/links/daxfile_getcwd.3
dist_noinst_DATA = $(DAXFILE_MAN_LINKS)

install-data-local:
	@$(MKDIR_P) '$(DESTDIR)$(man3dir)'
	@for f in $(DAXFILE_MAN_LINKS); do \
	  page=`sed -n 's/^\.TH \([A-Z_0-9]*\) 3 .*/\1/p' '$(srcdir)'/$$f | tr A-Z a-z`; \
	  test -n "$$page" || { echo "$$f: no .TH line" >&2; exit 1; }; \
	  echo " $(DESTDIR)$(man3dir)/`basename $$f` -> $$page.3"; \
	  echo ".so man3/$$page.3" >'$(DESTDIR)$(man3dir)'/`basename $$f` || exit 1; \
	done

uninstall-local:
	@for f in $(DAXFILE_MAN_LINKS); do \
	  rm -f '$(DESTDIR)$(man3dir)'/`basename $$f`; \
	done
