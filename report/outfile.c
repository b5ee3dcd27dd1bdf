/* Report files on disk (see outfile.h).
 *
 * Leftovers of a killed run are told from the temporary file of a run still
 * writing by an flock(2) lock: a writer holds LOCK_EX on its temporary file
 * from creation to rename, and the kernel drops the lock when the process
 * dies, however it dies.  A later run removes a .NAME.partial-XXXXXX file
 * only after it got the lock itself (LOCK_NB), so never one of a live
 * writer, in any pid namespace or container sharing the directory.  (A pid
 * in the name would not do: a pid is reused, and means nothing across pid
 * namespaces or hosts sharing the directory.)  A writer could lose its file
 * to a sweeper between creating it and locking it; it checks after locking
 * that the name still holds its file and else makes another. */
#include "report/outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scanner/result.h"

#define OUTFILE_MAX_LINKS 40 /* symbolic links followed, as the kernel does */
#define OUTFILE_TRIES 8      /* temporary files made before giving up */
#define OUTFILE_SUFFIX "XXXXXX"

/* The target of the symbolic link at path, or NULL with errno set. */
static char *outfile_readlink(const char *path)
{
    for (size_t cap = 256;; cap *= 2) {
        char *buf = cs_xmalloc(cap);
        ssize_t n = readlink(path, buf, cap);
        if (n < 0) {
            int err = errno;
            free(buf);
            errno = err;
            return NULL;
        }
        if ((size_t)n < cap) {
            buf[n] = '\0';
            return buf;
        }
        free(buf);
        if (cap > 65536) {
            errno = ENAMETOOLONG;
            return NULL;
        }
    }
}

/* path with its last component's symbolic links followed to the file they
   name (which need not exist yet), or NULL with errno set.  *fd is set when
   a link is one of /proc's links to an open descriptor (/dev/stdout,
   /dev/fd/N): what it names is already open, and is written as it is. */
static char *outfile_resolve(const char *path, bool *fd)
{
    struct stat proc;
    bool have_proc = lstat("/proc/self", &proc) == 0;
    char *cur = cs_strdup(path);
    *fd = false;
    for (int hops = 0; hops <= OUTFILE_MAX_LINKS; hops++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
            return cur;
        if (have_proc && st.st_dev == proc.st_dev) {
            *fd = true;
            return cur;
        }
        char *link = outfile_readlink(cur);
        if (!link) {
            int err = errno;
            free(cur);
            errno = err;
            return NULL;
        }
        char *next;
        const char *slash = strrchr(cur, '/');
        if (link[0] == '/' || !slash) /* absolute, or relative to the link's directory */
            next = cs_strdup(link);
        else
            next = cs_asprintf("%.*s/%s", (int)(slash - cur), cur, link);
        free(link);
        free(cur);
        cur = next;
    }
    free(cur);
    errno = ELOOP;
    return NULL;
}

/* The process's umask, read without changing it (umask(2) can only be read
 * by setting it, which would briefly give every file another thread creates
 * meanwhile the wrong mode).  Linux says it in /proc/self/status since 4.7;
 * without that, the common 022. */
static mode_t outfile_umask(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    unsigned mask = 022;
    if (f != NULL) {
        char line[256];
        while (fgets(line, sizeof(line), f) != NULL)
            if (sscanf(line, "Umask: %o", &mask) == 1)
                break;
        fclose(f);
    }
    return (mode_t)(mask & 0777);
}

static bool outfile_same(int fd, int dirfd, const char *name)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Removes the temporary files of report `base` in dir that no live writer
   holds locked. */
static void outfile_sweep(const char *dir, const char *base, const char *mine)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char *prefix = cs_asprintf(".%s" CS_OUTFILE_PARTIAL, base);
    size_t plen = strlen(prefix);
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *sfx = de->d_name + plen;
        if (strncmp(de->d_name, prefix, plen) != 0 || strlen(sfx) != strlen(OUTFILE_SUFFIX) ||
            strspn(sfx, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") !=
                strlen(sfx) ||
            strcmp(de->d_name, mine) == 0)
            continue;
        int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            outfile_same(fd, dirfd(d), de->d_name))
            unlinkat(dirfd(d), de->d_name, 0);
        close(fd);
    }
    free(prefix);
    closedir(d);
}

static void outfile_free(struct cs_outfile *o)
{
    free(o->dest);
    free(o->dir);
    free(o->tmp);
    memset(o, 0, sizeof(*o));
}

/* Writes to path as it is: standard output, a FIFO, a device, an open
   descriptor.  Appends: what the shell opened with >> keeps its start. */
static int outfile_direct(struct cs_outfile *o, const char *path)
{
    o->direct = true;
    o->f = strcmp(path, "-") == 0 ? stdout : fopen(path, "a");
    if (!o->f)
        return errno;
    setvbuf(o->f, NULL, _IOLBF, 0); /* each record as it finishes */
    return 0;
}

/* cs_outfile_open, with a positive errno */
static int outfile_open(struct cs_outfile *o, const char *path)
{
    memset(o, 0, sizeof(*o));
    struct stat st;
    if (strcmp(path, "-") == 0 || (stat(path, &st) == 0 && !S_ISREG(st.st_mode)))
        return outfile_direct(o, path);
    bool open_fd;
    o->dest = outfile_resolve(path, &open_fd);
    if (!o->dest)
        return errno;
    if (open_fd) {
        outfile_free(o);
        return outfile_direct(o, path);
    }
    const char *slash = strrchr(o->dest, '/');
    const char *base = slash ? slash + 1 : o->dest;
    if (!*base) {
        cs_outfile_abandon(o);
        return EISDIR;
    }
    o->dir = !slash             ? cs_strdup(".")
             : slash == o->dest ? cs_strdup("/")
                                : cs_strndup(o->dest, (size_t)(slash - o->dest));
    bool exists = stat(o->dest, &st) == 0;
    mode_t mask = outfile_umask();
    mode_t mode = exists ? st.st_mode & 0777 : 0666 & ~mask;

    int fd = -1, dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        int err = errno;
        cs_outfile_abandon(o);
        return err;
    }
    for (int tries = 0; fd < 0; tries++) {
        free(o->tmp);
        o->tmp = cs_asprintf("%s/.%s" CS_OUTFILE_PARTIAL OUTFILE_SUFFIX, o->dir, base);
        fd = mkostemp(o->tmp, O_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            close(dfd);
            free(o->tmp);
            o->tmp = NULL;
            cs_outfile_abandon(o);
            return err;
        }
        /* a filesystem without locks (ENOLCK) is swept by nobody: go on */
        while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
            ;
        if (!outfile_same(fd, dfd, strrchr(o->tmp, '/') + 1)) {
            close(fd); /* a sweeper took it between mkstemp and flock */
            fd = -1;
            if (tries + 1 == OUTFILE_TRIES) {
                close(dfd);
                free(o->tmp);
                o->tmp = NULL;
                cs_outfile_abandon(o);
                return EAGAIN;
            }
        }
    }
    close(dfd);
    /* the replaced file's owner where we may (root), then its mode */
    if (exists && (st.st_uid != geteuid() || st.st_gid != getegid()) &&
        fchown(fd, st.st_uid, st.st_gid) != 0) {
        /* not ours to give away: the new report is ours, with the same mode */
    }
    if (fchmod(fd, mode) != 0 || !(o->f = fdopen(fd, "w"))) {
        int err = errno;
        unlink(o->tmp);
        close(fd);
        cs_outfile_abandon(o);
        return err;
    }
    outfile_sweep(o->dir, base, strrchr(o->tmp, '/') + 1);
    return 0;
}

/* cs_outfile_commit, with a positive errno */
static int outfile_commit(struct cs_outfile *o)
{
    int err = 0;
    if (!o->f) {
        outfile_free(o);
        return EBADF;
    }
    if (fflush(o->f) != 0 || ferror(o->f))
        err = errno ? errno : EIO;
    if (o->direct) {
        if (o->f != stdout && fclose(o->f) != 0 && !err)
            err = errno;
        outfile_free(o);
        return err;
    }
    /* the data on disk before the name: after a power cut the report under
       its name is the old one or the new one, whole */
    if (!err && fsync(fileno(o->f)) != 0)
        err = errno;
    if (!err && rename(o->tmp, o->dest) != 0)
        err = errno;
    if (err) {
        cs_outfile_abandon(o);
        return err;
    }
    /* ... and the rename on disk before the scan says it is done */
    int dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd); /* some filesystems refuse (EINVAL); the report is whole either way */
        close(dfd);
    }
    fclose(o->f); /* drops the lock; the data is already on disk */
    outfile_free(o);
    return 0;
}

void cs_outfile_abandon(struct cs_outfile *o)
{
    if (o->tmp && o->f)
        unlink(o->tmp); /* while still locked: no sweeper races us */
    if (o->f && o->f != stdout)
        fclose(o->f);
    outfile_free(o);
}

int cs_outfile_open(struct cs_outfile *o, const char *path)
{
    return -outfile_open(o, path);
}

int cs_outfile_commit(struct cs_outfile *o)
{
    return -outfile_commit(o);
}
