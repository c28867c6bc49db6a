/* Atomic output files, output folders and path building (see report/out.h): POSIX file calls
 * and two common extensions, flock and fopencookie (glibc and musl have both). Nothing here
 * keeps global state. */
#define _GNU_SOURCE /* fopencookie, flock */
#include "report/out.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/alloc.h"

/* ---- Atomic output files ---------------------------------------------------------------- */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir that accepts an existing directory. Checks with stat after any failure because mkdir
 * on an existing directory may report EACCES or EROFS instead of EEXIST on some systems. */
static int mkdir1(const char *path, ifb_err *err)
{
    if (mkdir(path, 0777) == 0)
        return 0;
    int e = errno;
    if (is_dir(path))
        return 0;
    if (e == EEXIST)
        e = ENOTDIR; /* something else is in the way */
    return ifb_err_msg(err, "cannot create directory '%s': %s", path, strerror(e));
}

int ifb_mkdirs(const char *path, ifb_err *err)
{
    if (!path || !*path)
        return ifb_err_msg(err, "cannot create directory '': empty path");
    size_t len = strlen(path);
    char *buf = ifb_xstrdup(path, "a folder path");
    int rc = 0;
    /* every prefix ending just before a '/', then the whole path */
    for (size_t i = 1; i <= len && rc == 0; i++) {
        if (i < len && buf[i] != '/')
            continue;
        if (i < len && buf[i - 1] == '/')
            continue; /* "a//b" */
        char saved = buf[i];
        buf[i] = '\0';
        rc = mkdir1(buf, err);
        buf[i] = saved;
    }
    free(buf);
    return rc;
}

/* NULL only when the text cannot be formatted (longer than INT_MAX bytes: errno EOVERFLOW). */
static char *vprintf_alloc(size_t *len, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *s = ifb_xmalloc((size_t)n + 1, "an output path");
    (void)vsnprintf(s, (size_t)n + 1, fmt, ap);
    *len = (size_t)n;
    return s;
}

/* asprintf through the wrapper: NULL only as vprintf_alloc. */
static char *xstrdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xstrdup_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t len;
    char *s = vprintf_alloc(&len, fmt, ap);
    va_end(ap);
    return s;
}

char *ifb_path_printf(ifb_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t len = 0;
    char *s = vprintf_alloc(&len, fmt, ap);
    va_end(ap);
    if (!s) {
        ifb_err_msg(err, "cannot build an output path: %s", strerror(errno));
        return NULL;
    }
    if (len >= PATH_MAX) {
        ifb_err_msg(err,
                    "output path too long: %zu bytes, the system allows %d (PATH_MAX): '%.200s...'",
                    len, PATH_MAX - 1, s);
        free(s);
        return NULL;
    }
    return s;
}

/* The stream under an ifb_ofile writes through these (fopencookie), so the errno of the first
 * failed write is kept: stdio only remembers that a write failed. */
typedef struct sink {
    int fd;
    int err; /* errno of the first failed write, 0 if none */
} sink;

static ssize_t sink_write(void *cookie, const char *buf, size_t n)
{
    sink *k = cookie;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(k->fd, buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (!k->err)
                k->err = w < 0 ? errno : ENOSPC;
            errno = k->err;
            return done ? (ssize_t)done : -1;
        }
        done += (size_t)w;
    }
    return (ssize_t)done;
}

static int sink_close(void *cookie)
{
    sink *k = cookie;
    int rc = k->fd >= 0 ? close(k->fd) : 0;
    k->fd = -1;
    return rc;
}

static void ofile_release(ifb_ofile *o)
{
    free(o->path);
    free(o->tmp);
    free(o->sink);
    memset(o, 0, sizeof *o);
}

int ifb_ofile_open(ifb_ofile *o, const char *path, ifb_err *err)
{
    memset(o, 0, sizeof *o);
    if (!path || !*path)
        return ifb_err_msg(err, "cannot create output file '': empty path");
    const char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        char *dir = ifb_xstrndup(path, (size_t)(slash - path), "an output folder path");
        int rc = ifb_mkdirs(dir, err);
        free(dir);
        if (rc)
            return -1;
    }
    o->path = ifb_xstrdup(path, "an output file path");
    o->tmp = xstrdup_printf("%s.tmp.%ld", path, (long)getpid());
    sink *k = ifb_xcalloc(1, sizeof *k, "an output file");
    o->sink = k;
    if (!o->tmp) {
        int e = errno;
        ofile_release(o);
        return ifb_err_msg(err, "cannot create output file '%.200s...': %s", path, strerror(e));
    }
    k->fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (k->fd < 0) {
        int e = errno;
        ifb_err_msg(err, "cannot create output file '%s' (as '%s'): %s", path, o->tmp, strerror(e));
        ofile_release(o);
        return -1;
    }
    o->f = fopencookie(k, "w", (cookie_io_functions_t){.write = sink_write, .close = sink_close});
    if (!o->f) {
        int e = errno;
        ifb_err_msg(err, "cannot create output file '%s': %s", path, strerror(e));
        close(k->fd);
        (void)remove(o->tmp);
        ofile_release(o);
        return -1;
    }
    return 0;
}

int ifb_ofile_commit(ifb_ofile *o, ifb_err *err)
{
    if (!o->f) {
        ofile_release(o);
        return ifb_err_msg(err, "output file committed twice or never opened");
    }
    sink *k = o->sink;
    const char *what = NULL;
    int e = 0;
    if (fflush(o->f) != 0 || ferror(o->f)) {
        what = "write";
        e = k->err ? k->err : EIO;
    } else if (fsync(k->fd) != 0 && errno != EINVAL && errno != EROFS) {
        what = "sync"; /* EINVAL/EROFS: the file cannot be synced (pipe, special fs): fine */
        e = errno;
    }
    if (fclose(o->f) != 0 && !what) {
        what = "close";
        e = k->err ? k->err : errno;
    }
    o->f = NULL;
    if (!what && rename(o->tmp, o->path) != 0) {
        what = "rename temporary file onto";
        e = errno;
    }
    if (what) {
        ifb_err_msg(err, "cannot %s output file '%s': %s", what, o->path, strerror(e));
        (void)remove(o->tmp);
        ofile_release(o);
        return -1;
    }
    ofile_release(o);
    return 0;
}

void ifb_ofile_abort(ifb_ofile *o)
{
    if (o->f) {
        (void)fclose(o->f);
        o->f = NULL;
    }
    if (o->tmp)
        (void)remove(o->tmp);
    ofile_release(o);
}

int ifb_ofile_fail(ifb_ofile *o, ifb_err *err)
{
    if (o->f) {
        sink *k = o->sink;
        (void)fflush(o->f); /* a write error may still wait in the buffer */
        if (k->err || ferror(o->f))
            ifb_err_msg(err, "cannot write output file '%s': %s", o->path,
                        strerror(k->err ? k->err : EIO));
    }
    ifb_ofile_abort(o);
    return -1;
}

/* ---- Output folders --------------------------------------------------------------------- */

int ifb_outdir_open(ifb_outdir *d, const char *path, size_t longest, ifb_err *err)
{
    d->path = NULL;
    d->fd = -1;
    if (!path || !*path)
        return ifb_err_msg(err, "-o: expected an output folder, found '' (an empty path)");
    size_t len = strlen(path);
    if (len + longest + 1 > PATH_MAX)
        return ifb_err_msg(err,
                           "-o: expected an output folder path of at most %zu bytes (files "
                           "under it would pass the system's PATH_MAX of %d), found %zu bytes: "
                           "'%.120s...'",
                           longest < PATH_MAX - 1 ? (size_t)PATH_MAX - 1 - longest : 0, PATH_MAX,
                           len, path);
    if (ifb_mkdirs(path, err))
        return -1;
    if (access(path, W_OK | X_OK) != 0)
        return ifb_err_msg(err, "cannot write to output folder '%s': %s", path, strerror(errno));
    char *lock = ifb_path_printf(err, "%s/%s", path, IFB_OUTDIR_LOCK);
    if (!lock)
        return -1;
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = errno;
        ifb_err_msg(err, "cannot write to output folder '%s' (lock file '%s'): %s", path, lock,
                    strerror(e));
        free(lock);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char owner[32] = "";
        ssize_t n = pread(fd, owner, sizeof owner - 1, 0);
        owner[n > 0 ? n : 0] = '\0';
        owner[strcspn(owner, "\n")] = '\0';
        close(fd);
        free(lock);
        if (e == EWOULDBLOCK) {
            ifb_err_msg(err,
                        "-o: output folder '%s' is in use by another infabric command (pid %s "
                        "holds its lock %s); wait for it or choose another folder",
                        path, owner[0] ? owner : "unknown", IFB_OUTDIR_LOCK);
            return -2;
        }
        return ifb_err_msg(err, "cannot lock output folder '%s': %s", path, strerror(e));
    }
    free(lock);
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        int e = errno;
        close(fd);
        return ifb_err_msg(err, "cannot write to output folder '%s': %s", path, strerror(e));
    }
    d->path = ifb_xstrdup(path, "the output folder path");
    d->fd = fd;
    return 0;
}

void ifb_outdir_close(ifb_outdir *d)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
    free(d->path);
    d->path = NULL;
}
