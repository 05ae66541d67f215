/* Fabric, domain, address vector and endpoint: open, query, close. */
#include "internal.h"

#include <stdlib.h>

int32_t RmRdma_FabricOpen(const RmRdmaInfo* info, RmRdmaFabric** out)
{
    if (info == NULL || out == NULL)
        return -FI_EINVAL;
    *out = NULL;
    RmRdmaFabric* f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -FI_ENOMEM;
    int ret = fi_fabric(info->fi->fabric_attr, &f->fabric, NULL);
    if (ret != 0) {
        free(f);
        return ret;
    }
    *out = f;
    return 0;
}

int32_t RmRdma_FabricClose(RmRdmaFabric* fabric)
{
    if (fabric == NULL)
        return 0;
    int ret = fi_close(&fabric->fabric->fid);
    if (ret == 0)
        free(fabric);
    return ret;
}

int32_t RmRdma_DomainOpen(RmRdmaFabric* fabric, const RmRdmaInfo* info, RmRdmaDomain** out)
{
    if (fabric == NULL || info == NULL || out == NULL)
        return -FI_EINVAL;
    *out = NULL;
    RmRdmaDomain* d = calloc(1, sizeof(*d));
    if (d == NULL)
        return -FI_ENOMEM;
    int ret = fi_domain(fabric->fabric, info->fi, &d->domain, NULL);
    if (ret != 0) {
        free(d);
        return ret;
    }
    d->mrMode = (uint64_t)(unsigned int)info->fi->domain_attr->mr_mode;
    *out = d;
    return 0;
}

int32_t RmRdma_DomainClose(RmRdmaDomain* domain)
{
    if (domain == NULL)
        return 0;
    int ret = fi_close(&domain->domain->fid);
    if (ret == 0)
        free(domain);
    return ret;
}

int32_t RmRdma_AvOpen(RmRdmaDomain* domain, int32_t count, RmRdmaAv** out)
{
    if (domain == NULL || out == NULL)
        return -FI_EINVAL;
    *out = NULL;
    RmRdmaAv* av = calloc(1, sizeof(*av));
    if (av == NULL)
        return -FI_ENOMEM;
    struct fi_av_attr attr = {0};
    attr.type = FI_AV_TABLE;
    attr.count = count > 0 ? (size_t)count : 0;
    int ret = fi_av_open(domain->domain, &attr, &av->av, NULL);
    if (ret != 0) {
        free(av);
        return ret;
    }
    *out = av;
    return 0;
}

int32_t RmRdma_AvInsert(RmRdmaAv* av, const void* name, uint64_t* fiAddr)
{
    if (av == NULL || name == NULL || fiAddr == NULL)
        return -FI_EINVAL;
    fi_addr_t addr = FI_ADDR_NOTAVAIL;
    int ret = fi_av_insert(av->av, name, 1, &addr, 0, NULL);
    if (ret < 0)
        return ret;
    if (ret != 1 || addr == FI_ADDR_NOTAVAIL)
        return -FI_EADDRNOTAVAIL;
    *fiAddr = addr;
    return 0;
}

int32_t RmRdma_AvRemove(RmRdmaAv* av, uint64_t fiAddr)
{
    if (av == NULL)
        return -FI_EINVAL;
    fi_addr_t addr = fiAddr;
    return fi_av_remove(av->av, &addr, 1, 0);
}

int32_t RmRdma_AvClose(RmRdmaAv* av)
{
    if (av == NULL)
        return 0;
    int ret = fi_close(&av->av->fid);
    if (ret == 0)
        free(av);
    return ret;
}

/* Best effort: a counter of the remote reads and writes this endpoint serves, for the emulated wait
 * of its CQ. Without it (open or bind refused) the wait behaves as before. */
static void bind_remote_access_counter(RmRdmaDomain* domain, RmRdmaEndpoint* e)
{
    struct fi_cntr_attr attr = {0};
    attr.events = FI_CNTR_EVENTS_COMP;
    attr.wait_obj = FI_WAIT_NONE;
    struct fid_cntr* cntr = NULL;
    if (fi_cntr_open(domain->domain, &attr, &cntr, NULL) != 0)
        return;
    if (fi_ep_bind(e->ep, &cntr->fid, FI_REMOTE_READ | FI_REMOTE_WRITE) != 0) {
        fi_close(&cntr->fid);
        return;
    }
    e->remoteAccess = cntr;
}

int32_t RmRdma_EndpointOpen(RmRdmaDomain* domain, const RmRdmaInfo* info, RmRdmaCq* cq,
                            RmRdmaAv* av, RmRdmaEndpoint** out)
{
    if (domain == NULL || info == NULL || cq == NULL || av == NULL || out == NULL)
        return -FI_EINVAL;
    *out = NULL;
    RmRdmaEndpoint* e = calloc(1, sizeof(*e));
    if (e == NULL)
        return -FI_ENOMEM;
    int ret = fi_endpoint(domain->domain, info->fi, &e->ep, NULL);
    if (ret != 0) {
        free(e);
        return ret;
    }
    ret = fi_ep_bind(e->ep, &cq->cq->fid, FI_TRANSMIT | FI_RECV);
    if (ret == 0)
        ret = fi_ep_bind(e->ep, &av->av->fid, 0);
    if (ret == 0 && cq->waitKind == RMRDMA_WAITKIND_EMULATED && (info->fi->caps & FI_RMA_EVENT))
        bind_remote_access_counter(domain, e);
    if (ret == 0)
        ret = fi_enable(e->ep);
    if (ret != 0) {
        fi_close(&e->ep->fid);
        if (e->remoteAccess != NULL)
            fi_close(&e->remoteAccess->fid);
        free(e);
        return ret;
    }
    if (e->remoteAccess != NULL) {
        e->cq = cq;
        atomic_store(&cq->remoteAccess, e->remoteAccess);
    }
    *out = e;
    return 0;
}

int32_t RmRdma_EndpointGetName(RmRdmaEndpoint* ep, void* buf, int32_t* len)
{
    if (ep == NULL || len == NULL || *len < 0 || (buf == NULL && *len != 0))
        return -FI_EINVAL;
    size_t size = (size_t)*len;
    int ret = fi_getname(&ep->ep->fid, buf, &size);
    if (ret == 0 || ret == -FI_ETOOSMALL)
        *len = size > INT32_MAX ? INT32_MAX : (int32_t)size;
    return ret;
}

int32_t RmRdma_EndpointGetRemoteAccesses(RmRdmaEndpoint* ep, uint64_t* count)
{
    if (ep == NULL || count == NULL)
        return -FI_EINVAL;
    if (ep->remoteAccess == NULL)
        return -FI_ENOSYS;
    *count = fi_cntr_read(ep->remoteAccess);
    return 0;
}

int32_t RmRdma_EndpointClose(RmRdmaEndpoint* ep)
{
    if (ep == NULL)
        return 0;
    if (ep->cq != NULL)
        atomic_store(&ep->cq->remoteAccess, NULL); /* the CQ's progress thread has stopped (managed side) */
    int ret = fi_close(&ep->ep->fid);
    if (ret != 0)
        return ret;
    if (ep->remoteAccess != NULL)
        fi_close(&ep->remoteAccess->fid);
    free(ep);
    return 0;
}
