/* Memory registration honouring the mr_mode the provider granted (trap 2). */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#define RMRDMA_ACCESS_ALL                                                             \
    (RMRDMA_ACCESS_READ | RMRDMA_ACCESS_WRITE | RMRDMA_ACCESS_REMOTE_READ | \
     RMRDMA_ACCESS_REMOTE_WRITE)

_Static_assert(RMRDMA_ACCESS_READ == FI_READ && RMRDMA_ACCESS_WRITE == FI_WRITE &&
                   RMRDMA_ACCESS_REMOTE_READ == FI_REMOTE_READ &&
                   RMRDMA_ACCESS_REMOTE_WRITE == FI_REMOTE_WRITE,
               "access constants");

/* Pinning providers fail with ENOMEM/EPERM/EFAULT when a non-root user's
 * RLIMIT_MEMLOCK is too small (trap 7): name the cause instead. */
static int32_t explain_reg_failure(int ret, uint64_t len)
{
    if (ret != -FI_ENOMEM && ret != -FI_EPERM && ret != -FI_EFAULT)
        return ret;
    struct rlimit rl;
    if (geteuid() == 0 || getrlimit(RLIMIT_MEMLOCK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return ret;
    return len > (uint64_t)rl.rlim_cur ? RMRDMA_E_MEMLOCK : ret;
}

int32_t RmRdma_MrReg(RmRdmaDomain* domain, RmRdmaEndpoint* ep, void* buf, uint64_t len,
                     uint64_t access, uint64_t requestedKey, RmRdmaMr** out)
{
    if (domain == NULL || out == NULL || (buf == NULL && len != 0) || access == 0 ||
        (access & ~(uint64_t)RMRDMA_ACCESS_ALL) != 0)
        return -FI_EINVAL;
    *out = NULL;
    const uint64_t mode = domain->mrMode;
    if ((mode & FI_MR_ENDPOINT) && ep == NULL)
        return RMRDMA_E_ENDPOINT_REQUIRED;

    RmRdmaMr* m = calloc(1, sizeof(*m));
    if (m == NULL)
        return -FI_ENOMEM;
    const uint64_t key = (mode & FI_MR_PROV_KEY) ? 0 : requestedKey;
    int ret = fi_mr_reg(domain->domain, buf, (size_t)len, access, 0, key, 0, &m->mr, NULL);
    if (ret != 0) {
        free(m);
        return explain_reg_failure(ret, len);
    }
    if (mode & FI_MR_ENDPOINT) {
        ret = fi_mr_bind(m->mr, &ep->ep->fid, 0);
        if (ret == 0)
            ret = fi_mr_enable(m->mr);
        if (ret != 0)
            goto fail;
    }
    m->key = fi_mr_key(m->mr); /* valid only after enable under FI_MR_ENDPOINT */
    if (m->key == FI_KEY_NOTAVAIL) {
        ret = RMRDMA_E_KEY_TOO_LARGE;
        goto fail;
    }
    m->desc = fi_mr_desc(m->mr);
    m->remoteBase = (mode & FI_MR_VIRT_ADDR) ? (uint64_t)(uintptr_t)buf : 0;
    *out = m;
    return 0;

fail:
    fi_close(&m->mr->fid);
    free(m);
    return ret;
}

int32_t RmRdma_MrGetKey(const RmRdmaMr* mr, uint64_t* key)
{
    if (mr == NULL || key == NULL)
        return -FI_EINVAL;
    *key = mr->key;
    return 0;
}

int32_t RmRdma_MrGetDesc(const RmRdmaMr* mr, void** desc)
{
    if (mr == NULL || desc == NULL)
        return -FI_EINVAL;
    *desc = mr->desc;
    return 0;
}

int32_t RmRdma_MrGetRemoteBase(const RmRdmaMr* mr, uint64_t* remoteBase)
{
    if (mr == NULL || remoteBase == NULL)
        return -FI_EINVAL;
    *remoteBase = mr->remoteBase;
    return 0;
}

int32_t RmRdma_MrClose(RmRdmaMr* mr)
{
    if (mr == NULL)
        return 0;
    int ret = fi_close(&mr->mr->fid);
    if (ret == 0)
        free(mr);
    return ret;
}
