/* Status codes to text. */
#include "internal.h"

#include <stdio.h>

static const char* shim_text(int32_t status)
{
    switch (status) {
    case RMRDMA_E_KEY_TOO_LARGE:
        return "memory registration key does not fit 64 bits (provider needs FI_MR_RAW, "
               "which the shim does not support)";
    case RMRDMA_E_MEMLOCK:
        return "memory registration failed: the buffer is larger than RLIMIT_MEMLOCK; "
               "raise 'ulimit -l' (memlock in /etc/security/limits.conf or the batch "
               "system's settings)";
    case RMRDMA_E_ENDPOINT_REQUIRED:
        return "the provider binds memory regions to an endpoint (FI_MR_ENDPOINT): "
               "pass the endpoint to RmRdma_MrReg";
    default:
        return NULL;
    }
}

int32_t RmRdma_StrError(int32_t status, char* buf, int32_t len)
{
    if (buf == NULL || len <= 0)
        return -FI_EINVAL;
    const char* text;
    if (status == 0)
        text = "Success";
    else if ((text = shim_text(status)) == NULL)
        text = fi_strerror(status < 0 ? -status : status);
    snprintf(buf, (size_t)len, "%s", text);
    return 0;
}
