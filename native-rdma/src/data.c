/* One-sided reads and writes. -FI_EAGAIN is returned unchanged (trap 6). */
#include "internal.h"

#include <sys/uio.h>

int32_t RmRdma_Read(RmRdmaEndpoint* ep, void* localBuf, uint64_t len, void* desc, uint64_t peer,
                    uint64_t remoteAddr, uint64_t key, void* context)
{
    if (ep == NULL || context == NULL || (localBuf == NULL && len != 0))
        return -FI_EINVAL;
    ssize_t ret = fi_read(ep->ep, localBuf, (size_t)len, desc, (fi_addr_t)peer, remoteAddr, key,
                          context);
    return rmrdma_status(ret);
}

int32_t RmRdma_Write(RmRdmaEndpoint* ep, const void* localBuf, uint64_t len, void* desc,
                     uint64_t peer, uint64_t remoteAddr, uint64_t key, void* context,
                     int32_t flags)
{
    if (ep == NULL || context == NULL || (localBuf == NULL && len != 0))
        return -FI_EINVAL;
    if ((flags & ~RMRDMA_WRITE_DELIVERY_COMPLETE) != 0)
        return -FI_EBADFLAGS;

    if (!(flags & RMRDMA_WRITE_DELIVERY_COMPLETE)) {
        ssize_t ret = fi_write(ep->ep, localBuf, (size_t)len, desc, (fi_addr_t)peer, remoteAddr,
                               key, context);
        return rmrdma_status(ret);
    }

    /* A plain write completes when sent; delivery-complete when placed (trap 5). */
    struct iovec iov = {.iov_base = (void*)localBuf, .iov_len = (size_t)len};
    struct fi_rma_iov rma = {.addr = remoteAddr, .len = (size_t)len, .key = key};
    struct fi_msg_rma msg = {
        .msg_iov = &iov,
        .desc = &desc,
        .iov_count = 1,
        .addr = (fi_addr_t)peer,
        .rma_iov = &rma,
        .rma_iov_count = 1,
        .context = context,
        .data = 0,
    };
    ssize_t ret = fi_writemsg(ep->ep, &msg, FI_COMPLETION | FI_DELIVERY_COMPLETE);
    return rmrdma_status(ret);
}
