/*
 * LD_PRELOAD fault injection for the storage-fault tests (crates/cli/tests/faults.rs): fsync and
 * fdatasync fail with EIO, as a dying disk makes them, while the file named by
 * HOOKGATE_FAULT_TRIGGER exists, for descriptors whose path ends with HOOKGATE_FAULT_SUFFIX.
 * Everything else passes through to libc. Built by the test with the system C compiler.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int should_fail(int fd) {
    const char *trigger = getenv("HOOKGATE_FAULT_TRIGGER");
    const char *suffix = getenv("HOOKGATE_FAULT_SUFFIX");
    if (!trigger || !suffix || access(trigger, F_OK) != 0) {
        return 0;
    }
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0) {
        return 0;
    }
    path[n] = '\0';
    size_t len = (size_t)n, slen = strlen(suffix);
    return len >= slen && strcmp(path + len - slen, suffix) == 0;
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) {
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    }
    if (should_fail(fd)) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) {
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    }
    if (should_fail(fd)) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}
