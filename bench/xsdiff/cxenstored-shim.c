/*
 * LD_PRELOAD shim that lets Debian's cxenstored (xen-utils-4.17) serve its Unix socket on a
 * machine with no hypervisor, for the differential fuzz (bench/xsdiff). Only domain 0 exists;
 * its "ring" is a zeroed page and its event channel never fires, so every client is a socket
 * client. Built at run time: gcc -shared -fPIC -o shim.so cxenstored-shim.c -ldl
 * (against libxen-dev's headers).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <errno.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

static char handle_xc, handle_gnt;

/* libxenctrl: a host whose only domain is dom0. */
xc_interface *xc_interface_open(xentoollog_logger *l, xentoollog_logger *dl, unsigned f)
{ (void)l; (void)dl; (void)f; return (xc_interface *)&handle_xc; }
int xc_interface_close(xc_interface *x) { (void)x; return 0; }
int xc_domain_getinfo(xc_interface *x, uint32_t first, unsigned int max, xc_dominfo_t *info)
{
    (void)x;
    if (first != 0 || max == 0)
        return 0;
    memset(info, 0, sizeof(*info));
    info->running = 1;
    info->nr_online_vcpus = 1;
    return 1;
}

/* libxengnttab: a "mapped" page is fresh anonymous memory. */
xengnttab_handle *xengnttab_open(struct xentoollog_logger *l, unsigned f)
{ (void)l; (void)f; return (xengnttab_handle *)&handle_gnt; }
int xengnttab_close(xengnttab_handle *h) { (void)h; return 0; }
int xengnttab_set_max_grants(xengnttab_handle *h, uint32_t n) { (void)h; (void)n; return 0; }
void *xengnttab_map_grant_ref(xengnttab_handle *h, uint32_t domid, uint32_t ref, int prot)
{
    (void)h; (void)domid; (void)ref; (void)prot;
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}
int xengnttab_unmap(xengnttab_handle *h, void *addr, uint32_t count)
{ (void)h; return munmap(addr, 4096 * (size_t)count); }

/* libxenevtchn: an eventfd nobody signals; ports are handed out in order. */
struct evtchn { int fd; int port; };
static xenevtchn_handle *evtchn_new(int fd)
{
    struct evtchn *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->fd = fd >= 0 ? fd : eventfd(0, EFD_NONBLOCK);
    e->port = 1;
    return (xenevtchn_handle *)e;
}
xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *l, unsigned f)
{ (void)l; (void)f; return evtchn_new(-1); }
xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *l, int fd, unsigned f)
{ (void)l; (void)f; return evtchn_new(fd); }
int xenevtchn_close(xenevtchn_handle *h)
{ struct evtchn *e = (struct evtchn *)h; if (e) { close(e->fd); free(e); } return 0; }
int xenevtchn_fd(xenevtchn_handle *h) { return ((struct evtchn *)h)->fd; }
int xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t p) { (void)h; (void)p; return 0; }
xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *h, uint32_t d, evtchn_port_t p)
{ (void)d; (void)p; return ((struct evtchn *)h)->port++; }
xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *h, unsigned int v)
{ (void)v; return ((struct evtchn *)h)->port++; }
int xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t p) { (void)h; (void)p; return 0; }
xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *h) { (void)h; errno = EAGAIN; return -1; }
int xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t p) { (void)h; (void)p; return 0; }

/* A container may refuse to raise limits; cxenstored need not care. */
int setrlimit(__rlimit_resource_t r, const struct rlimit *l)
{
    int (*real)(__rlimit_resource_t, const struct rlimit *) = dlsym(RTLD_NEXT, "setrlimit");
    (void)real(r, l);
    return 0;
}

/* dom0's ring page and event channel port, which xenstored reads from /proc/xen. */
static int proc_xen(const char *path)
{
    int fd;
    if (!strcmp(path, "/proc/xen/xsd_kva")) {
        fd = memfd_create("xsd_kva", 0);
        if (fd >= 0 && ftruncate(fd, 4096) < 0) { close(fd); fd = -1; }
        return fd;
    }
    if (!strcmp(path, "/proc/xen/xsd_port")) {
        fd = memfd_create("xsd_port", 0);
        if (fd >= 0 && (write(fd, "1", 1) != 1 || lseek(fd, 0, SEEK_SET) != 0)) { close(fd); fd = -1; }
        return fd;
    }
    return -2;
}

#define WRAP_OPEN(fn)                                                          \
    int fn(const char *path, int flags, ...)                                   \
    {                                                                          \
        mode_t mode = 0;                                                       \
        if (flags & (O_CREAT | O_TMPFILE)) {                                   \
            va_list ap;                                                        \
            va_start(ap, flags);                                               \
            mode = va_arg(ap, mode_t);                                         \
            va_end(ap);                                                        \
        }                                                                      \
        if (!strncmp(path, "/proc/xen/", 10)) {                        \
            int fd = proc_xen(path);                                           \
            if (fd != -2)                                                      \
                return fd;                                                     \
        }                                                                      \
        int (*real)(const char *, int, ...) = dlsym(RTLD_NEXT, #fn);           \
        return real(path, flags, mode);                                        \
    }
WRAP_OPEN(open)
WRAP_OPEN(open64)
