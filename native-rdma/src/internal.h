/* Internal definitions shared by the shim's translation units. */
#ifndef REMOTEMEM_RDMA_INTERNAL_H
#define REMOTEMEM_RDMA_INTERNAL_H

#include "remotemem_rdma.h"

#include <rdma/fabric.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_eq.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_rma.h>

#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#define RMRDMA_FI_API_VERSION FI_VERSION(RMRDMA_FI_API_MAJOR, RMRDMA_FI_API_MINOR)

struct RmRdmaInfo {
    struct fi_info* fi; /* whole list from fi_getinfo; the head is used */
};

struct RmRdmaFabric {
    struct fid_fabric* fabric;
};

struct RmRdmaDomain {
    struct fid_domain* domain;
    uint64_t mrMode; /* granted domain_attr->mr_mode */
};

struct RmRdmaCq {
    struct fid_cq* cq;
    int32_t waitKind;     /* RMRDMA_WAITKIND_* */
    atomic_int signaled;  /* set by RmRdma_CqSignal, consumed by emulated waits */
    /* Remote reads and writes served by the endpoint on this CQ (FI_RMA_EVENT), when the provider
     * counts them: an emulated wait keeps yielding while it moves. Set and cleared by the endpoint. */
    _Atomic(struct fid_cntr*) remoteAccess;
};

struct RmRdmaAv {
    struct fid_av* av;
};

struct RmRdmaEndpoint {
    struct fid_ep* ep;
    RmRdmaCq* cq;                 /* the CQ it publishes remoteAccess to */
    struct fid_cntr* remoteAccess; /* NULL when not counted */
};

struct RmRdmaMr {
    struct fid_mr* mr;
    void* desc;
    uint64_t key;
    uint64_t remoteBase;
};

/* Monotonic clock in nanoseconds. */
static inline int64_t rmrdma_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Deadline for a timeout in ms; INT64_MAX when timeoutMs < 0 (infinite). */
static inline int64_t rmrdma_deadline_ns(int32_t timeoutMs)
{
    return timeoutMs < 0 ? INT64_MAX : rmrdma_now_ns() + (int64_t)timeoutMs * 1000000LL;
}

/* Status passthrough: libfabric returns int or ssize_t, both negative on error. */
static inline int32_t rmrdma_status(ssize_t ret)
{
    return ret < 0 ? (int32_t)ret : 0;
}

#endif
