# path_ops.py -- random path operations for paths-check.sh: run in a
# directory on tmpfs and in the same place in a pool through the layer, it
# prints one line per operation (the result or the errno name) and, at the
# end, the tree it left; the two outputs must be the same.  Paths mix
# ".", "..", trailing slashes, symbolic links (relative, some dangling,
# some to directories) and missing components, from the current directory
# or from directory descriptors (the *at calls) that stay on the
# directories they were opened as while names change around them, two
# levels below the run's top, so that ".." never leaves the tree compared;
# and from a current directory that moves (chdir, fchdir) and is renamed
# or removed under the process, never less than two levels below the top.
# Usage: python3 path_ops.py DIR SEED COUNT
import ctypes
import errno
import os
import random
import stat
import sys

top, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
names = ["a", "b", "c", "d", "..", ".", "a/b", "b/c", "l1", "l2", "a/l3",
         "x/", "a/", "l1/", "c/d/e"]
root = os.path.join(top, "r", "s")
os.makedirs(root)
os.chdir(root)
libc = ctypes.CDLL(None, use_errno=True)
fds = []
dfds = []
args = []
renaming = [False]


def path():
    p = rnd.choice(names)
    if rnd.random() < 0.2:
        p = rnd.choice(names) + "/" + p
    args.append(p)
    return p


def status(p, follow=True):
    s = os.stat(p, follow_symlinks=follow)
    d = stat.S_ISDIR(s.st_mode)
    # a directory's size and link count are its file system's business
    return (stat.S_IFMT(s.st_mode), oct(s.st_mode & 0o7777),
            0 if d else s.st_nlink, 0 if d else s.st_size)


def target():
    # relative only: an absolute one would lead out of the tree on tmpfs
    # (and O_CREAT through a dangling one would make a host file)
    t = rnd.choice(names + ["nothing", "a/../b", "missing/x"])
    args.append(t)
    return t


def an_fd():
    return rnd.choice(fds) if fds else None


def op_open():
    fl = rnd.choice([os.O_RDONLY, os.O_WRONLY, os.O_RDWR]) | rnd.choice([
        0, os.O_CREAT, os.O_CREAT | os.O_EXCL, os.O_TRUNC, os.O_APPEND,
        os.O_DIRECTORY, os.O_NOFOLLOW, os.O_CREAT | os.O_DIRECTORY])
    args.append(fl)
    fds.append(os.open(path(), fl, 0o644))


def op_write():
    fd = an_fd()
    return None if fd is None else os.write(fd, b"x" * rnd.randint(0, 5000))


def op_read():
    fd = an_fd()
    return None if fd is None else len(os.read(fd, rnd.randint(0, 5000)))


def op_lseek():
    fd = an_fd()
    if fd is None or stat.S_ISDIR(os.fstat(fd).st_mode):
        return None  # a directory's offsets are its file system's own
    return os.lseek(fd, rnd.randint(-10, 9000), rnd.choice([0, 1, 2]))


def op_close():
    if fds:
        os.close(fds.pop(rnd.randrange(len(fds))))


def op_fstat():
    fd = an_fd()
    if fd is None:
        return None
    s = os.fstat(fd)
    return (stat.S_IFMT(s.st_mode), 0 if stat.S_ISDIR(s.st_mode) else s.st_size)


def op_ftruncate():
    fd = an_fd()
    if fd is not None:
        os.ftruncate(fd, rnd.randint(0, 10000))


def op_renameat2():
    renaming[0] = True
    a, b, fl = path(), path(), rnd.choice([1, 2])  # NOREPLACE, EXCHANGE
    args.append(fl)
    if libc.renameat2(-100, a.encode(), -100, b.encode(), fl) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def op_utime():
    p = path()
    os.utime(p, ns=(10**18, 2 * 10**18))
    return os.stat(p).st_mtime_ns


def a_dfd():
    return rnd.choice(dfds) if dfds and rnd.random() < 0.7 else None


def op_opendir():
    # a base for the *at calls: it stays the directory it was opened as
    dfds.append(os.open(path(), os.O_RDONLY | os.O_DIRECTORY))


def op_at():
    d = a_dfd()
    k = rnd.randrange(8)
    args.extend(["dfd" if d is not None else "cwd", k])
    if k == 0:
        return os.mkdir(path(), 0o755, dir_fd=d)
    if k == 1:
        return os.unlink(path(), dir_fd=d)
    if k == 2:
        return os.rmdir(path(), dir_fd=d)
    if k == 3:
        s = os.stat(path(), dir_fd=d, follow_symlinks=False)
        return (stat.S_IFMT(s.st_mode), oct(s.st_mode & 0o7777),
                0 if stat.S_ISDIR(s.st_mode) else s.st_size)
    if k == 4:
        fds.append(os.open(path(), os.O_RDWR | os.O_CREAT, 0o600, dir_fd=d))
        return None
    if k == 5:
        renaming[0] = True
        return os.rename(path(), path(), src_dir_fd=d, dst_dir_fd=a_dfd())
    if k == 6:
        return os.symlink(target(), path(), dir_fd=d)
    return os.readlink(path(), dir_fd=d)


top_id = None


def depth(fd):
    # how many levels directory descriptor fd is below the top (closing
    # fd); None if the top is not found above it within 12
    for level in range(12):
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) == top_id:
            os.close(fd)
            return level
        try:
            up = os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        except OSError:
            break
        os.close(fd)
        fd = up
    os.close(fd)
    return None


def cwd_depth():
    try:
        return depth(os.open(".", os.O_RDONLY | os.O_DIRECTORY))
    except OSError as e:
        return errno.errorcode.get(e.errno, e.errno)


def keep_cwd_deep():
    # before every operation: a current directory less than two levels
    # below the top (or removed) goes back to the root of the run, so that
    # ".." never leaves the tree compared
    d = cwd_depth()
    if not isinstance(d, int) or d < 2:
        os.fchdir(root_fd)
        return d
    return None


def op_chdir():
    k = rnd.randrange(3)
    args.append(k)
    if k == 0:
        os.fchdir(root_fd)
    elif k == 1:
        d = a_dfd()
        if d is None:
            return "none"
        os.fchdir(d)
    else:
        os.chdir(path())
    return cwd_depth(), keep_cwd_deep()


def op_rename():
    renaming[0] = True
    os.rename(path(), path())


ops = [op_opendir, op_at, op_at, op_at, op_rename, op_chdir,
    op_open, op_write, op_read, op_lseek, op_close, op_fstat, op_ftruncate,
    op_renameat2, op_utime,
    lambda: os.mkdir(path(), 0o755),
    lambda: os.rmdir(path()),
    lambda: os.unlink(path()),
    lambda: os.link(path(), path()),
    lambda: os.symlink(target(), path()),
    lambda: os.readlink(path()),
    lambda: status(path()),
    lambda: status(path(), False),
    lambda: os.chmod(path(), rnd.choice([0o600, 0o755, 0o4755, 0o1777])),
    lambda: os.truncate(path(), rnd.randint(0, 10000)),
    lambda: sorted(os.listdir(path())),
    lambda: os.access(path(), rnd.choice([os.R_OK, os.W_OK, os.X_OK, os.F_OK])),
]
st = os.stat(top)
top_id = (st.st_dev, st.st_ino)
root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
for i in range(count):
    try:
        back = keep_cwd_deep()
    except OSError as e:
        # without search permission on the root of the run (not as root)
        print(i, "cannot go back to the root:", errno.errorcode[e.errno])
        break
    if back is not None:
        print(i, "cwd back to the root from", back)
    k = rnd.randrange(len(ops))
    args.clear()
    renaming[0] = False
    try:
        print(i, k, "ok", ops[k](), args)
    except OSError as e:
        err = e.errno
        if renaming[0] and err == errno.ENOTEMPTY:
            err = errno.EEXIST  # rename onto a full directory: XFS's answer
        print(i, k, "err", errno.errorcode.get(err, err), args)
for fd in fds + dfds + [root_fd]:
    os.close(fd)
os.chdir(top)
for d, dirs, files in sorted(os.walk(".")):
    for n in sorted(dirs + files):
        p = os.path.join(d, n)
        t = os.readlink(p) if os.path.islink(p) else ""
        print(p, status(p, False), t)
