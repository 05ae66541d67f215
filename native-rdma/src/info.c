/* fi_getinfo with RemoteMem's hints, and queries on the result. */
#include "internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define RMRDMA_CAPS (FI_RMA | FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE)
#define RMRDMA_MR_MODE_OFFERED \
    (FI_MR_LOCAL | FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY | FI_MR_ENDPOINT)

_Static_assert(sizeof(struct fi_context2) <= RMRDMA_CONTEXT_SIZE, "context too small");
_Static_assert(RMRDMA_MR_LOCAL == FI_MR_LOCAL && RMRDMA_MR_VIRT_ADDR == FI_MR_VIRT_ADDR &&
                   RMRDMA_MR_ALLOCATED == FI_MR_ALLOCATED &&
                   RMRDMA_MR_PROV_KEY == FI_MR_PROV_KEY && RMRDMA_MR_ENDPOINT == FI_MR_ENDPOINT,
               "mr_mode constants");
_Static_assert(RMRDMA_MODE_CONTEXT == FI_CONTEXT && RMRDMA_MODE_CONTEXT2 == FI_CONTEXT2,
               "mode constants");
_Static_assert(RMRDMA_PROGRESS_AUTO == FI_PROGRESS_AUTO &&
                   RMRDMA_PROGRESS_MANUAL == FI_PROGRESS_MANUAL,
               "progress constants");

/* tcp binds to the default interface unless node is an address literal with a
 * matching addr_format (trap 3); derive the format from the literal. */
static uint32_t addr_format_for(const char* node)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (node == NULL)
        return FI_FORMAT_UNSPEC;
    if (inet_pton(AF_INET, node, &a4) == 1)
        return FI_SOCKADDR_IN;
    if (inet_pton(AF_INET6, node, &a6) == 1)
        return FI_SOCKADDR_IN6;
    return FI_FORMAT_UNSPEC;
}

int32_t RmRdma_GetInfo(const char* provider, const char* node, const char* service,
                       int32_t isSource, RmRdmaInfo** out)
{
    if (out == NULL)
        return -FI_EINVAL;
    *out = NULL;

    struct fi_info* hints = fi_allocinfo();
    if (hints == NULL)
        return -FI_ENOMEM;

    hints->ep_attr->type = FI_EP_RDM;
    hints->caps = RMRDMA_CAPS;
    hints->mode = FI_CONTEXT | FI_CONTEXT2;
    hints->addr_format = addr_format_for(node);
    hints->domain_attr->mr_mode = RMRDMA_MR_MODE_OFFERED;
    hints->domain_attr->av_type = FI_AV_TABLE;
    hints->domain_attr->threading = FI_THREAD_SAFE;
    if (provider != NULL && provider[0] != '\0') {
        hints->fabric_attr->prov_name = strdup(provider); /* freed by fi_freeinfo */
        if (hints->fabric_attr->prov_name == NULL) {
            fi_freeinfo(hints);
            return -FI_ENOMEM;
        }
    }

    /* FI_RMA_EVENT where the provider has it (shm): a target can then count the remote accesses it
     * serves, which its emulated wait uses to stay responsive under traffic (cq.c). */
    struct fi_info* fi = NULL;
    hints->caps = RMRDMA_CAPS | FI_RMA_EVENT;
    int ret = fi_getinfo(RMRDMA_FI_API_VERSION, node, service, isSource ? FI_SOURCE : 0, hints,
                         &fi);
    if (ret == -FI_ENODATA) {
        hints->caps = RMRDMA_CAPS;
        ret = fi_getinfo(RMRDMA_FI_API_VERSION, node, service, isSource ? FI_SOURCE : 0, hints,
                         &fi);
    }
    fi_freeinfo(hints);
    if (ret != 0)
        return ret;
    if (fi == NULL)
        return -FI_ENODATA;

    RmRdmaInfo* info = calloc(1, sizeof(*info));
    if (info == NULL) {
        fi_freeinfo(fi);
        return -FI_ENOMEM;
    }
    info->fi = fi;
    *out = info;
    return 0;
}

int32_t RmRdma_InfoGetMrMode(const RmRdmaInfo* info, uint64_t* mrMode)
{
    if (info == NULL || mrMode == NULL)
        return -FI_EINVAL;
    *mrMode = (uint64_t)(unsigned int)info->fi->domain_attr->mr_mode;
    return 0;
}

int32_t RmRdma_InfoGetMode(const RmRdmaInfo* info, uint64_t* mode)
{
    if (info == NULL || mode == NULL)
        return -FI_EINVAL;
    *mode = info->fi->mode;
    return 0;
}

int32_t RmRdma_InfoGetDataProgress(const RmRdmaInfo* info, int32_t* progress)
{
    if (info == NULL || progress == NULL)
        return -FI_EINVAL;
    *progress = (int32_t)info->fi->domain_attr->data_progress;
    return 0;
}

int32_t RmRdma_InfoGetProvider(const RmRdmaInfo* info, char* buf, int32_t bufLen)
{
    if (info == NULL || buf == NULL || bufLen <= 0)
        return -FI_EINVAL;
    const char* name = info->fi->fabric_attr->prov_name ? info->fi->fabric_attr->prov_name : "";
    size_t needed = strlen(name) + 1;
    if (needed > (size_t)bufLen) {
        buf[0] = '\0';
        return -FI_ETOOSMALL;
    }
    memcpy(buf, name, needed);
    return 0;
}

int32_t RmRdma_GetVersion(int32_t* libMajor, int32_t* libMinor, int32_t* apiMajor,
                          int32_t* apiMinor)
{
    uint32_t v = fi_version();
    if (libMajor)
        *libMajor = (int32_t)FI_MAJOR(v);
    if (libMinor)
        *libMinor = (int32_t)FI_MINOR(v);
    if (apiMajor)
        *apiMajor = RMRDMA_FI_API_MAJOR;
    if (apiMinor)
        *apiMinor = RMRDMA_FI_API_MINOR;
    return 0;
}

int32_t RmRdma_FreeInfo(RmRdmaInfo* info)
{
    if (info == NULL)
        return 0;
    fi_freeinfo(info->fi);
    free(info);
    return 0;
}
