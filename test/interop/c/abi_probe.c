/*
 * Reference side of test/interop/abi-conformance.test.ts, built against the installed Xen
 * public headers (libxen-dev).
 *
 *   abi_probe layout
 *       Prints "expr<TAB>value" for every line of probe_layout.inc, a list of N(expr) (numbers)
 *       and S(expr) (strings) that the test generates from its table of TS values.
 *
 *   abi_probe ring blkif|probe FILE BYTES OP...
 *       Loads FILE (BYTES of ring memory), runs OPs with the RING_* macros, prints one line per
 *       observable result and writes the memory back. The test runs the same OPs through the TS
 *       FrontRing/BackRing and hands the memory back and forth between the two.
 */

/* Latest interface version: the full start_info, and ring.h then leaves the barriers to us. */
#define __XEN_TOOLS__

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Full fences, like the seq-cst Atomics on the TS side. */
#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() xen_mb()
#define xen_wmb() xen_mb()

#include <xen/xen.h>
#include <xen/sched.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>
#include <xen/io/ring.h>
#include <xen/io/blkif.h>
/* The reference Toeplitz hash the header offers, checked against src/abi/netif.ts's. */
#define XEN_NETIF_DEFINE_TOEPLITZ
#include <xen/io/netif.h>
#include <xen/io/console.h>
#include <xen/io/xenbus.h>
#include <xen/io/xs_wire.h>
#include <xen/errno.h>

/* A second ring type whose 20-byte slot is not a power of two. */
struct probe_req {
    uint32_t id;
    uint32_t data[4];
};
struct probe_rsp {
    uint32_t id;
    int32_t status;
};
DEFINE_RING_TYPES(probe, struct probe_req, struct probe_rsp);

static void layout(void)
{
#define N(expr) printf("%s\t%lld\n", #expr, (long long)(expr));
#define S(expr) printf("%s\t%s\n", #expr, (expr));
#include "probe_layout.inc"
#undef N
#undef S
}

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "abi_probe: %s%s\n", msg, arg ? arg : "");
    exit(2);
}

/* "name:a:b" -> argument i (0-based after the name) as an unsigned 32-bit value. */
static RING_IDX arg(const char *op, int i)
{
    const char *p = op;
    for (int n = 0; n <= i; n++) {
        p = strchr(p, ':');
        if (!p)
            die("missing argument in ", op);
        p++;
    }
    return (RING_IDX)strtoull(p, NULL, 0);
}

static int is_op(const char *op, const char *name)
{
    size_t n = strlen(name);
    return strncmp(op, name, n) == 0 && (op[n] == '\0' || op[n] == ':');
}

/*
 * TS decodes 64-bit sector counts to numbers, exact below 2^53 and unsafe integers above, so
 * large values (garbage in a hostile slot) print as "unsafe" on both sides.
 */
static const char *u53(uint64_t v)
{
    static char buf[4][24];
    static int next;
    char *b = buf[next++ % 4];
    if (v >> 53)
        return "unsafe";
    snprintf(b, sizeof(buf[0]), "%" PRIu64, v);
    return b;
}

/* The deterministic contents each side writes for ring index k. */

static void blkif_fill_req(blkif_request_t *r, RING_IDX k, RING_IDX seed)
{
    uint64_t id = ((uint64_t)seed << 32) | k;
    uint64_t sector = (uint64_t)k * 8 + ((uint64_t)seed << 20);
    uint16_t handle = (uint16_t)seed;

    switch ((RING_IDX)(k + seed) % 5) {
    case 2: {
        blkif_request_discard_t *d = (blkif_request_discard_t *)r;
        d->operation = BLKIF_OP_DISCARD;
        d->flag = k & 1;
        d->handle = handle;
        d->id = id;
        d->sector_number = sector;
        d->nr_sectors = ((uint64_t)1 << 33) + k;
        break;
    }
    case 3: {
        blkif_request_indirect_t *ind = (blkif_request_indirect_t *)r;
        ind->operation = BLKIF_OP_INDIRECT;
        ind->indirect_op = BLKIF_OP_WRITE;
        ind->nr_segments = k % 4096;
        ind->id = id;
        ind->sector_number = sector;
        ind->handle = handle;
        for (int i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
            ind->indirect_grefs[i] = k + (RING_IDX)i * 0x10000;
        break;
    }
    default: {
        int flush = (RING_IDX)(k + seed) % 5 == 4;
        r->operation = flush ? BLKIF_OP_FLUSH_DISKCACHE : (RING_IDX)(k + seed) % 5;
        r->nr_segments = flush ? 0 : 1 + k % BLKIF_MAX_SEGMENTS_PER_REQUEST;
        r->handle = handle;
        r->id = id;
        r->sector_number = sector;
        for (int i = 0; i < r->nr_segments; i++) {
            r->seg[i].gref = k * 16 + i;
            r->seg[i].first_sect = i % 8;
            r->seg[i].last_sect = 7;
        }
    }
    }
}

static void blkif_print_req(const blkif_request_t *r, RING_IDX k)
{
    if (r->operation == BLKIF_OP_DISCARD) {
        const blkif_request_discard_t *d = (const blkif_request_discard_t *)r;
        printf("req k=%u op=%u flag=%u handle=%u id=%" PRIu64 " sector=%s nr_sectors=%s\n",
               k, d->operation, d->flag, d->handle, d->id, u53(d->sector_number), u53(d->nr_sectors));
    } else if (r->operation == BLKIF_OP_INDIRECT) {
        const blkif_request_indirect_t *ind = (const blkif_request_indirect_t *)r;
        printf("req k=%u op=%u indirect_op=%u nseg=%u handle=%u id=%" PRIu64 " sector=%s grefs=",
               k, ind->operation, ind->indirect_op, ind->nr_segments, ind->handle, ind->id, u53(ind->sector_number));
        for (int i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
            printf("%s%u", i ? "," : "", ind->indirect_grefs[i]);
        printf("\n");
    } else {
        printf("req k=%u op=%u nseg=%u handle=%u id=%" PRIu64 " sector=%s seg=",
               k, r->operation, r->nr_segments, r->handle, r->id, u53(r->sector_number));
        int n = r->nr_segments < BLKIF_MAX_SEGMENTS_PER_REQUEST ? r->nr_segments : BLKIF_MAX_SEGMENTS_PER_REQUEST;
        for (int i = 0; i < n; i++)
            printf("%s%u/%u/%u", i ? "," : "", r->seg[i].gref, r->seg[i].first_sect, r->seg[i].last_sect);
        printf("\n");
    }
}

static void blkif_fill_rsp(blkif_response_t *r, RING_IDX k)
{
    r->id = 0xFEED000000000000ULL + k;
    r->operation = k % 7;
    r->status = (int16_t)(k % 3) - 2;
}

static void blkif_print_rsp(const blkif_response_t *r, RING_IDX k)
{
    printf("rsp k=%u id=%" PRIu64 " op=%u status=%d\n", k, r->id, r->operation, r->status);
}

static void probe_fill_req(struct probe_req *r, RING_IDX k, RING_IDX seed)
{
    r->id = k;
    for (int i = 0; i < 4; i++)
        r->data[i] = (RING_IDX)(k + seed) * (RING_IDX)(i + 1);
}

static void probe_print_req(const struct probe_req *r, RING_IDX k)
{
    printf("req k=%u id=%u data=%u,%u,%u,%u\n", k, r->id, r->data[0], r->data[1], r->data[2], r->data[3]);
}

static void probe_fill_rsp(struct probe_rsp *r, RING_IDX k)
{
    r->id = k;
    r->status = (int32_t)(k ^ 0x80000000u);
}

static void probe_print_rsp(const struct probe_rsp *r, RING_IDX k)
{
    printf("rsp k=%u id=%u status=%d\n", k, r->id, r->status);
}

/*
 * The interpreter, once per ring type. finalreq:K/finalrsp:K with K > 1 are the batching
 * variant ring.h invites callers to write: the macro with the event set K ahead instead of 1.
 */
#define DEFINE_INTERPRETER(tag, req_t, rsp_t)                                          \
static void run_##tag(void *mem, unsigned int bytes, int nops, char **ops)             \
{                                                                                     \
    tag##_sring_t *s = mem;                                                            \
    tag##_front_ring_t f;                                                              \
    tag##_back_ring_t b;                                                               \
    memset(&f, 0, sizeof(f));                                                          \
    memset(&b, 0, sizeof(b));                                                          \
    for (int o = 0; o < nops; o++) {                                                   \
        const char *op = ops[o];                                                       \
        if (is_op(op, "init")) {                                                       \
            SHARED_RING_INIT(s);                                                       \
        } else if (is_op(op, "front")) {                                              \
            FRONT_RING_ATTACH(&f, s, arg(op, 0), bytes);                               \
            f.rsp_cons = arg(op, 1);                                                   \
        } else if (is_op(op, "back")) {                                               \
            BACK_RING_ATTACH(&b, s, arg(op, 0), bytes);                                \
            b.req_cons = arg(op, 1);                                                   \
        } else if (is_op(op, "poke")) {                                               \
            RING_IDX v = arg(op, 1);                                                   \
            switch (arg(op, 0)) {                                                      \
            case 0: s->req_prod = v; break;                                            \
            case 1: s->req_event = v; break;                                           \
            case 2: s->rsp_prod = v; break;                                            \
            default: s->rsp_event = v; break;                                          \
            }                                                                          \
        } else if (is_op(op, "produce")) {                                            \
            RING_IDX n = arg(op, 0), seed = arg(op, 1);                                \
            for (RING_IDX i = 0; i < n; i++) {                                         \
                tag##_fill_req(RING_GET_REQUEST(&f, f.req_prod_pvt), f.req_prod_pvt, seed); \
                f.req_prod_pvt++;                                                      \
            }                                                                          \
        } else if (is_op(op, "pushreq")) {                                            \
            int notify;                                                                \
            RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f, notify);                           \
            printf("pushreq notify=%d\n", notify);                                     \
        } else if (is_op(op, "consume")) {                                            \
            RING_IDX n = 0, max = arg(op, 0);                                          \
            while (n < max && RING_HAS_UNCONSUMED_REQUESTS(&b)) {                      \
                req_t req;                                                             \
                RING_COPY_REQUEST(&b, b.req_cons, &req);                               \
                tag##_print_req(&req, b.req_cons);                                     \
                b.req_cons++;                                                          \
                n++;                                                                   \
            }                                                                          \
            printf("consumed %u\n", n);                                                \
        } else if (is_op(op, "respond")) {                                            \
            RING_IDX n = arg(op, 0);                                                   \
            for (RING_IDX i = 0; i < n; i++) {                                         \
                tag##_fill_rsp(RING_GET_RESPONSE(&b, b.rsp_prod_pvt), b.rsp_prod_pvt); \
                b.rsp_prod_pvt++;                                                      \
            }                                                                          \
        } else if (is_op(op, "pushrsp")) {                                            \
            int notify;                                                                \
            RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&b, notify);                          \
            printf("pushrsp notify=%d\n", notify);                                     \
        } else if (is_op(op, "collect")) {                                            \
            RING_IDX n = 0, max = arg(op, 0);                                          \
            while (n < max && RING_HAS_UNCONSUMED_RESPONSES(&f)) {                     \
                rsp_t rsp;                                                             \
                RING_COPY_RESPONSE(&f, f.rsp_cons, &rsp);                              \
                tag##_print_rsp(&rsp, f.rsp_cons);                                     \
                f.rsp_cons++;                                                          \
                n++;                                                                   \
            }                                                                          \
            printf("collected %u\n", n);                                               \
        } else if (is_op(op, "finalreq")) {                                           \
            int work;                                                                  \
            RING_IDX k = arg(op, 0);                                                   \
            if (k == 1) {                                                              \
                RING_FINAL_CHECK_FOR_REQUESTS(&b, work);                               \
            } else {                                                                   \
                work = !!RING_HAS_UNCONSUMED_REQUESTS(&b);                             \
                if (!work) {                                                           \
                    s->req_event = b.req_cons + k;                                     \
                    xen_mb();                                                          \
                    work = !!RING_HAS_UNCONSUMED_REQUESTS(&b);                         \
                }                                                                      \
            }                                                                          \
            printf("finalreq work=%d\n", !!work);                                      \
        } else if (is_op(op, "finalrsp")) {                                           \
            int work;                                                                  \
            RING_IDX k = arg(op, 0);                                                   \
            if (k == 1) {                                                              \
                RING_FINAL_CHECK_FOR_RESPONSES(&f, work);                              \
            } else {                                                                   \
                work = !!RING_HAS_UNCONSUMED_RESPONSES(&f);                            \
                if (!work) {                                                           \
                    s->rsp_event = f.rsp_cons + k;                                     \
                    xen_mb();                                                          \
                    work = !!RING_HAS_UNCONSUMED_RESPONSES(&f);                        \
                }                                                                      \
            }                                                                          \
            printf("finalrsp work=%d\n", !!work);                                      \
        } else if (is_op(op, "unconsumed")) {                                         \
            printf("unconsumed req=%u rsp=%u\n", (RING_IDX)RING_HAS_UNCONSUMED_REQUESTS(&b), \
                   (RING_IDX)RING_HAS_UNCONSUMED_RESPONSES(&f));                      \
        } else if (is_op(op, "free")) {                                               \
            printf("free %u full=%d\n", (RING_IDX)RING_FREE_REQUESTS(&f), !!RING_FULL(&f)); \
        } else if (is_op(op, "overflow")) {                                           \
            RING_IDX v = arg(op, 0);                                                   \
            printf("overflow %u cons=%d reqprod=%d rspprod=%d\n", v,                   \
                   !!RING_REQUEST_CONS_OVERFLOW(&b, v),                                \
                   !!RING_REQUEST_PROD_OVERFLOW(&b, v),                                \
                   !!RING_RESPONSE_PROD_OVERFLOW(&f, v));                              \
        } else if (is_op(op, "state")) {                                              \
            printf("state size=%u front=%u:%u back=%u:%u shared=%u:%u:%u:%u\n",       \
                   RING_SIZE(&f), f.req_prod_pvt, f.rsp_cons, b.rsp_prod_pvt, b.req_cons, \
                   s->req_prod, s->req_event, s->rsp_prod, s->rsp_event);             \
        } else {                                                                       \
            die("unknown op ", op);                                                    \
        }                                                                              \
    }                                                                                  \
}

DEFINE_INTERPRETER(blkif, blkif_request_t, blkif_response_t)
DEFINE_INTERPRETER(probe, struct probe_req, struct probe_rsp)

static void ring(int argc, char **argv)
{
    if (argc < 5)
        die("usage: abi_probe ring blkif|probe FILE BYTES OP...", NULL);
    const char *file = argv[3];
    unsigned int bytes = (unsigned int)strtoul(argv[4], NULL, 0);
    /* Page-aligned, as a ring page is. */
    void *mem = aligned_alloc(4096, (bytes + 4095) & ~4095u);
    FILE *fp = fopen(file, "rb");
    if (!mem || !fp || fread(mem, 1, bytes, fp) != bytes)
        die("cannot read ", file);
    fclose(fp);

    if (strcmp(argv[2], "blkif") == 0)
        run_blkif(mem, bytes, argc - 5, argv + 5);
    else if (strcmp(argv[2], "probe") == 0)
        run_probe(mem, bytes, argc - 5, argv + 5);
    else
        die("unknown ring type ", argv[2]);

    fp = fopen(file, "wb");
    if (!fp || fwrite(mem, 1, bytes, fp) != bytes || fclose(fp) != 0)
        die("cannot write ", file);
    free(mem);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "layout") == 0)
        layout();
    else if (argc >= 2 && strcmp(argv[1], "ring") == 0)
        ring(argc, argv);
    else
        die("usage: abi_probe layout | abi_probe ring blkif|probe FILE BYTES OP...", NULL);
    return 0;
}
