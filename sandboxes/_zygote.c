/*
 * The fork server's two hot paths in C: the zygote's clone loop and a cloned
 * child's confinement. See zygote.py for why (every page the zygote or a
 * fresh child writes is a copy-on-write fault of a few microseconds; the
 * Python versions of these two paths wrote about 55 and 110 pages a trial,
 * these write a handful). zygote.py and confine.py hold the same logic in
 * Python for machines where this module could not be built, and say what
 * each step is for.
 *
 * Third, a place for Python's object arenas that huge pages can back (see
 * hugepages.py for why); that one has no Python version: without it, trials
 * are only slower.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FDS_PER_CHILD 3
#define MAX_MESSAGE 4096
#define MAX_LIMITS 8

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

struct clone3_args {  /* struct clone_args up to tls (CLONE_ARGS_SIZE_VER0) */
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static long clone_child(uint64_t flags)
{
    struct clone3_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags;  /* with CLONE_PARENT the exit signal must be 0: the server is signalled */
    long pid = syscall(SYS_clone3, &args, sizeof args);
#ifdef SYS_clone
    if (pid == -1 && errno == ENOSYS) {  /* a seccomp filter that knows only clone(2) */
#if defined(__s390x__)
        pid = syscall(SYS_clone, 0, flags | SIGCHLD);
#else
        pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
#endif
    }
#endif
    return pid;
}

static int received_fds(struct msghdr *message, int *fds, int capacity)
{
    int count = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(message); c != NULL; c = CMSG_NXTHDR(message, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (count < capacity)
                fds[count++] = fd;
            else
                close(fd);
        }
    }
    return count;
}

static void reply(int channel, const char *text)
{
    ssize_t ignored = send(channel, text, strlen(text), MSG_NOSIGNAL);
    (void)ignored;
}

/* serve(channel, flags) -> ("child", (fds...)) in a new child, ("import", names) or ("eof", b"") */
static PyObject *serve(PyObject *self, PyObject *args)
{
    int channel;
    unsigned long long flags;
    if (!PyArg_ParseTuple(args, "iK", &channel, &flags))
        return NULL;
    static char buffer[MAX_MESSAGE];
    static char control[CMSG_SPACE(sizeof(int) * FDS_PER_CHILD * 2)];
    for (;;) {
        struct iovec iov = {buffer, sizeof buffer};
        struct msghdr message;
        memset(&message, 0, sizeof message);
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        ssize_t size = recvmsg(channel, &message, 0);
        if (size < 0 && errno == EINTR)
            continue;
        if (size < 0)
            return PyErr_SetFromErrno(PyExc_OSError);
        if (size == 0)
            return Py_BuildValue("(sy)", "eof", "");
        int fds[FDS_PER_CHILD * 2];
        int count = received_fds(&message, fds, FDS_PER_CHILD * 2);
        if (buffer[0] == 'I') {
            for (int i = 0; i < count; i++)
                close(fds[i]);
            return Py_BuildValue("(sy#)", "import", buffer + 1, (Py_ssize_t)(size - 1));
        }
        char text[32];
        if (buffer[0] != 'C' || count != FDS_PER_CHILD) {
            snprintf(text, sizeof text, "E%d", EBADF);
        } else {
            long pid = clone_child(flags);
            if (pid == 0)
                return Py_BuildValue("(s(iii))", "child", fds[0], fds[1], fds[2]);
            if (pid > 0)
                snprintf(text, sizeof text, "P%ld", pid);
            else
                snprintf(text, sizeof text, "E%d", errno);
        }
        for (int i = 0; i < count; i++)
            close(fds[i]);
        reply(channel, text);
    }
}

static PyObject *fail(const char *step)
{
    int saved = errno;
    PyErr_Format(PyExc_OSError, "%s: %s", step, strerror(saved));
    return NULL;
}

/* confine(request, output, result, limits, drop_to_uid) -- see confine.confine_child */
static PyObject *confine(PyObject *self, PyObject *args)
{
    int request, output, result, uid;
    PyObject *limits;
    if (!PyArg_ParseTuple(args, "iiiOi", &request, &output, &result, &limits, &uid))
        return NULL;
    int kinds[MAX_LIMITS];
    struct rlimit values[MAX_LIMITS];
    Py_ssize_t count = PySequence_Length(limits);
    if (count < 0 || count > MAX_LIMITS)
        return PyErr_Format(PyExc_ValueError, "at most %d limits", MAX_LIMITS);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PySequence_GetItem(limits, i);
        unsigned long long soft, hard;
        int ok = item && PyArg_ParseTuple(item, "iKK", &kinds[i], &soft, &hard);
        Py_XDECREF(item);
        if (!ok)
            return NULL;
        values[i].rlim_cur = (rlim_t)soft;
        values[i].rlim_max = (rlim_t)hard;
    }
    if (setsid() < 0)
        return fail("setsid");
    if (dup2(request, 0) < 0 || dup2(output, 1) < 0 || dup2(output, 2) < 0 || dup2(result, 3) < 0)
        return fail("dup2");
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 4, ~0U, 0) < 0)
#endif
        for (int fd = 4; fd < 65536; fd++)
            close(fd);
    for (Py_ssize_t i = 0; i < count; i++)
        if (setrlimit(kinds[i], &values[i]) < 0)
            return fail("setrlimit");
    if (uid >= 0) {
        if (setgroups(0, NULL) < 0)
            return fail("setgroups");
        if (setgid(uid) < 0)
            return fail("setgid");
        if (setuid(uid) < 0)
            return fail("setuid");
    }
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)  /* after the uid change, which clears it */
        return fail("prctl");
    Py_RETURN_NONE;
}

/*
 * Python's object arenas (1 MiB each in 3.11) are separate mmaps wherever the
 * kernel puts them, so no 2 MiB-aligned range of them can become one huge
 * page. Arenas taken from one 2 MiB-aligned reserve can. Only the server,
 * before it forks its zygote, takes arenas from the reserve: `seal_arenas`
 * ends that and unmaps the untouched rest, so that a trial's own arenas are
 * ordinary mappings that its address-space limit counts.
 */
#define HUGE_PAGE ((size_t)2 << 20)
#define MAX_SLOTS 4096

static char *reserve_base;
static size_t slot_size, slot_count, high_water;  /* slots handed out ever: [0, high_water) */
static int sealed;
static unsigned char slot_used[MAX_SLOTS];
static PyObjectArenaAllocator system_arenas;

static void *arena_alloc(void *context, size_t size)
{
    if (!sealed && size == slot_size)
        for (size_t i = 0; i < slot_count; i++)
            if (!slot_used[i]) {
                slot_used[i] = 1;
                if (i + 1 > high_water)
                    high_water = i + 1;
                return reserve_base + i * slot_size;
            }
    return system_arenas.alloc(system_arenas.ctx, size);
}

static void arena_free(void *context, void *pointer, size_t size)
{
    char *at = pointer;
    if (reserve_base != NULL && at >= reserve_base && at < reserve_base + slot_count * slot_size) {
        slot_used[(size_t)(at - reserve_base) / slot_size] = 0;
        madvise(at, slot_size, MADV_DONTNEED);  /* what munmap would free; the slot stays mapped */
        return;
    }
    system_arenas.free(system_arenas.ctx, pointer, size);
}

/* reserve_arenas([total_bytes, arena_bytes]): later arenas come from one aligned reserve until sealed.
 * The reserve is address space only (MAP_NORESERVE); memory comes as arenas fill it. 1 MiB is
 * CPython's arena size on 64-bit builds; arenas of any other size come from mmap as before. */
static PyObject *reserve_arenas(PyObject *self, PyObject *args)
{
    unsigned long long total = 256ULL << 20, arena = 1ULL << 20;
    if (!PyArg_ParseTuple(args, "|KK", &total, &arena))
        return NULL;
    if (reserve_base != NULL)
        Py_RETURN_NONE;
    if (arena == 0 || total % arena != 0 || total / arena > MAX_SLOTS)
        return PyErr_Format(PyExc_ValueError, "a reserve of at most %d whole arenas", MAX_SLOTS);
    size_t span = (size_t)total + HUGE_PAGE;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED)
        return fail("mmap");
    char *base = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (base > raw)
        munmap(raw, (size_t)(base - raw));
    munmap(base + total, (size_t)(raw + span - (base + total)));
    reserve_base = base;
    slot_size = (size_t)arena;
    slot_count = (size_t)(total / arena);
    PyObjectArenaAllocator ours = {NULL, arena_alloc, arena_free};
    PyObject_GetArenaAllocator(&system_arenas);
    PyObject_SetArenaAllocator(&ours);
    Py_RETURN_NONE;
}

/* seal_arenas() -> (start, end) of the reserve still mapped, what the zygote's huge pages cover */
static PyObject *seal_arenas(PyObject *self, PyObject *args)
{
    if (reserve_base == NULL)
        return Py_BuildValue("(KK)", 0ULL, 0ULL);
    if (!sealed) {
        sealed = 1;
        size_t kept = high_water * slot_size;
        if (kept < slot_count * slot_size)
            munmap(reserve_base + kept, slot_count * slot_size - kept);
        slot_count = high_water;
    }
    return Py_BuildValue("(KK)", (unsigned long long)(uintptr_t)reserve_base,
                         (unsigned long long)(uintptr_t)(reserve_base + slot_count * slot_size));
}

/* program_break() -> the end of the brk heap, where malloc's small allocations live */
static PyObject *program_break(PyObject *self, PyObject *args)
{
    return PyLong_FromUnsignedLongLong((unsigned long long)(uintptr_t)sbrk(0));
}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

/* collapse(start, end) -> how many aligned 2 MiB ranges inside became huge pages */
static PyObject *collapse(PyObject *self, PyObject *args)
{
    unsigned long long start, end;
    if (!PyArg_ParseTuple(args, "KK", &start, &end))
        return NULL;
    long done = 0;
    uintptr_t at = ((uintptr_t)start + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    for (; at + HUGE_PAGE <= (uintptr_t)end; at += HUGE_PAGE)
        if (madvise((void *)at, HUGE_PAGE, MADV_COLLAPSE) == 0)  /* fails before Linux 6.1: no matter */
            done++;
    return PyLong_FromLong(done);
}

static PyMethodDef methods[] = {
    {"reserve_arenas", reserve_arenas, METH_VARARGS, "Take Python's arenas from one huge-page-aligned reserve."},
    {"seal_arenas", seal_arenas, METH_NOARGS, "Stop using the reserve; the part in use, as (start, end)."},
    {"program_break", program_break, METH_NOARGS, "The end of the brk heap."},
    {"collapse", collapse, METH_VARARGS, "Back the aligned 2 MiB ranges of [start, end) by huge pages."},
    {"serve", serve, METH_VARARGS, "Clone a child per request; returns in the child, or for other work."},
    {"confine", confine, METH_VARARGS, "A cloned child's streams, limits, uid drop and death signal."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_zygote", NULL, -1, methods};

PyMODINIT_FUNC PyInit__zygote(void)
{
    return PyModule_Create(&module);
}
