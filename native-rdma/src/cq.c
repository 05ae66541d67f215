/* Completion queue: open with a usable wait strategy, batched reads, errors,
 * timed waits and the target-side progress helper (traps 1 and 6). */
#include "internal.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(size_t) == sizeof(uint64_t), "LP64 only");
_Static_assert(sizeof(RmRdmaCompletion) == sizeof(struct fi_cq_msg_entry) &&
                   offsetof(RmRdmaCompletion, context) ==
                       offsetof(struct fi_cq_msg_entry, op_context) &&
                   offsetof(RmRdmaCompletion, flags) == offsetof(struct fi_cq_msg_entry, flags) &&
                   offsetof(RmRdmaCompletion, len) == offsetof(struct fi_cq_msg_entry, len),
               "RmRdmaCompletion must match fi_cq_msg_entry");
_Static_assert(sizeof(RmRdmaCompletionError) == 160, "documented layout");

/* Emulated waits: yield this long after the wait begins or after the last sign of traffic, then sleep
 * in steps of EMU_SLEEP_NS. */
#define EMU_YIELD_NS 200000LL
#define EMU_SLEEP_NS 50000LL

/* A wait object is usable when its timed wait honours the timeout: it must be
 * retrievable (fd / mutex+cond) and not FI_WAIT_YIELD, whose wait loops until
 * signalled and ignores the timeout (shm turns FI_WAIT_UNSPEC into it). */
static int wait_object_usable(struct fid_cq* cq, const struct fi_cq_attr* attr)
{
    union {
        int fd;
        struct fi_mutex_cond mc;
    } obj;
    memset(&obj, 0, sizeof(obj));
    if (attr->wait_obj == FI_WAIT_YIELD || attr->wait_obj == FI_WAIT_NONE)
        return 0;
    return fi_control(&cq->fid, FI_GETWAIT, &obj) == 0;
}

int32_t RmRdma_CqOpen(RmRdmaDomain* domain, int32_t size, int32_t waitMode, RmRdmaCq** out)
{
    if (domain == NULL || out == NULL ||
        (waitMode != RMRDMA_WAIT_SPIN && waitMode != RMRDMA_WAIT_BLOCK))
        return -FI_EINVAL;
    *out = NULL;
    RmRdmaCq* c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -FI_ENOMEM;
    atomic_init(&c->signaled, 0);
    atomic_init(&c->remoteAccess, NULL);

    struct fi_cq_attr attr = {0};
    attr.format = FI_CQ_FORMAT_MSG;
    attr.size = size > 0 ? (size_t)size : 0;
    int ret = -FI_ENOSYS;
    if (waitMode == RMRDMA_WAIT_BLOCK) {
        attr.wait_obj = FI_WAIT_UNSPEC;
        ret = fi_cq_open(domain->domain, &attr, &c->cq, NULL);
        if (ret == 0 && !wait_object_usable(c->cq, &attr)) {
            fi_close(&c->cq->fid);
            ret = -FI_ENOSYS;
        }
        c->waitKind = RMRDMA_WAITKIND_NATIVE;
    }
    if (ret != 0) { /* spinning, or the provider's wait object is refused/unusable */
        attr.wait_obj = FI_WAIT_NONE;
        ret = fi_cq_open(domain->domain, &attr, &c->cq, NULL);
        c->waitKind = waitMode == RMRDMA_WAIT_BLOCK ? RMRDMA_WAITKIND_EMULATED
                                                    : RMRDMA_WAITKIND_NONE;
    }
    if (ret != 0) {
        free(c);
        return ret;
    }
    *out = c;
    return 0;
}

int32_t RmRdma_CqGetWaitKind(const RmRdmaCq* cq, int32_t* kind)
{
    if (cq == NULL || kind == NULL)
        return -FI_EINVAL;
    *kind = cq->waitKind;
    return 0;
}

int32_t RmRdma_CqRead(RmRdmaCq* cq, RmRdmaCompletion* entries, int32_t max, int32_t* count)
{
    if (cq == NULL || count == NULL || max < 0 || (entries == NULL && max != 0))
        return -FI_EINVAL;
    *count = 0;
    if (max == 0)
        return 0;
    ssize_t ret = fi_cq_read(cq->cq, entries, (size_t)max);
    if (ret > 0) {
        *count = (int32_t)ret;
        return 0;
    }
    return ret == -FI_EAGAIN ? 0 : (int32_t)ret;
}

int32_t RmRdma_CqReadError(RmRdmaCq* cq, RmRdmaCompletionError* out)
{
    if (cq == NULL || out == NULL)
        return -FI_EINVAL;
    struct fi_cq_err_entry e;
    memset(&e, 0, sizeof(e)); /* err_data_size 0: provider keeps err_data */
    ssize_t ret = fi_cq_readerr(cq->cq, &e, 0);
    if (ret < 0)
        return (int32_t)ret;
    if (ret == 0)
        return -FI_EAGAIN;
    memset(out, 0, sizeof(*out));
    out->context = e.op_context;
    out->flags = e.flags;
    out->len = e.len;
    out->err = e.err < 0 ? -e.err : e.err; /* shm 1.17 reports fast-RMA errors negated */
    out->provErrno = e.prov_errno;
    const char* text =
        fi_cq_strerror(cq->cq, e.prov_errno, e.err_data, out->message, sizeof(out->message));
    if (text == NULL || text[0] == '\0')
        text = fi_strerror(e.err);
    if (text != out->message)
        snprintf(out->message, sizeof(out->message), "%s", text);
    out->message[sizeof(out->message) - 1] = '\0';
    return 0;
}

/* Zero-count read: drives progress; on util-based providers 0 means "an entry
 * is there" without consuming it. Maps the result to a wait status. */
static int32_t probe(RmRdmaCq* cq)
{
    struct fi_cq_msg_entry dummy;
    ssize_t ret = fi_cq_read(cq->cq, &dummy, 0);
    if (ret >= 0 || ret == -FI_EAVAIL)
        return 0;
    return (int32_t)ret; /* -FI_EAGAIN: nothing yet */
}

static void pause_until(int64_t started, int64_t now, int64_t deadline)
{
    if (now - started < EMU_YIELD_NS) {
        sched_yield();
        return;
    }
    int64_t ns = deadline - now < EMU_SLEEP_NS ? deadline - now : EMU_SLEEP_NS;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ns};
    nanosleep(&ts, NULL);
}

/* Remote accesses the CQ's endpoint has served so far; 0 when they are not counted. */
static uint64_t remote_accesses(RmRdmaCq* cq)
{
    struct fid_cntr* cntr = atomic_load(&cq->remoteAccess);
    return cntr == NULL ? 0 : fi_cntr_read(cntr);
}

/* A target's CQ gets no entries for the reads and writes it serves, so without the counter a donor
 * under steady traffic would sleep between probes (shm 4 KiB writes: 0.03 GB/s at depth 16); with it,
 * the yield window restarts with every access served and the donor sleeps only once traffic stops. */
static int32_t wait_emulated(RmRdmaCq* cq, int32_t timeoutMs)
{
    int64_t active = rmrdma_now_ns();
    const int64_t deadline = rmrdma_deadline_ns(timeoutMs);
    uint64_t served = remote_accesses(cq);
    for (;;) {
        int32_t ret = probe(cq);
        if (ret != -FI_EAGAIN)
            return ret;
        if (atomic_exchange(&cq->signaled, 0))
            return -FI_EAGAIN;
        int64_t now = rmrdma_now_ns();
        if (now >= deadline)
            return -FI_EAGAIN;
        uint64_t count = remote_accesses(cq);
        if (count != served) {
            served = count;
            active = now;
        }
        pause_until(active, now, deadline);
    }
}

static int32_t wait_native(RmRdmaCq* cq, int32_t timeoutMs)
{
    struct fi_cq_msg_entry dummy;
    ssize_t ret = fi_cq_sread(cq->cq, &dummy, 0, NULL, timeoutMs < 0 ? -1 : timeoutMs);
    atomic_store(&cq->signaled, 0);
    if (ret >= 0 || ret == -FI_EAVAIL)
        return 0;
    if (ret == -FI_ETIMEDOUT || ret == -FI_ECANCELED) /* timeout / signalled */
        return -FI_EAGAIN;
    return (int32_t)ret;
}

int32_t RmRdma_CqWait(RmRdmaCq* cq, int32_t timeoutMs)
{
    if (cq == NULL)
        return -FI_EINVAL;
    return cq->waitKind == RMRDMA_WAITKIND_NATIVE ? wait_native(cq, timeoutMs)
                                                  : wait_emulated(cq, timeoutMs);
}

int32_t RmRdma_CqSignal(RmRdmaCq* cq)
{
    if (cq == NULL)
        return -FI_EINVAL;
    atomic_store(&cq->signaled, 1);
    return cq->waitKind == RMRDMA_WAITKIND_NATIVE ? fi_cq_signal(cq->cq) : 0;
}

/* One non-blocking pass: real read when the caller has room, else a probe.
 * Returns 0 when something was read or is pending, -FI_EAGAIN when not. */
static int32_t progress_once(RmRdmaCq* cq, RmRdmaCompletion* entries, int32_t max,
                             int32_t* count)
{
    if (max == 0)
        return probe(cq);
    int32_t ret = RmRdma_CqRead(cq, entries, max, count);
    if (ret == 0 && *count == 0)
        return -FI_EAGAIN;
    return ret;
}

int32_t RmRdma_CqProgress(RmRdmaCq* cq, int32_t mode, int32_t timeoutMs,
                          RmRdmaCompletion* entries, int32_t max, int32_t* count)
{
    if (cq == NULL || count == NULL || max < 0 || (entries == NULL && max != 0) ||
        (mode != 0 && mode != 1))
        return -FI_EINVAL;
    *count = 0;

    if (mode == 1) {
        int32_t ret = RmRdma_CqWait(cq, timeoutMs);
        if (ret != 0)
            return ret;
        ret = progress_once(cq, entries, max, count);
        return ret == -FI_EAGAIN ? 0 : ret; /* spurious wake-up: not a timeout */
    }

    const int64_t deadline = rmrdma_deadline_ns(timeoutMs);
    for (;;) {
        int32_t ret = progress_once(cq, entries, max, count);
        if (ret != -FI_EAGAIN)
            return ret;
        if (atomic_exchange(&cq->signaled, 0) || rmrdma_now_ns() >= deadline)
            return -FI_EAGAIN;
    }
}

int32_t RmRdma_CqClose(RmRdmaCq* cq)
{
    if (cq == NULL)
        return 0;
    int ret = fi_close(&cq->cq->fid);
    if (ret == 0)
        free(cq);
    return ret;
}
