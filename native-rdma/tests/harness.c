#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char* g_role = "main";

double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void sleep_us(long us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

uint8_t pattern_byte(uint64_t i)
{
    return (uint8_t)((i * 131u) ^ (i >> 8) ^ (i >> 17) ^ 0x5a);
}

void fill_pattern(uint8_t* buf, uint64_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
    for (uint64_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
}

int send_all(int fd, const void* buf, size_t len)
{
    const uint8_t* p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int recv_all(int fd, void* buf, size_t len, int timeoutMs)
{
    uint8_t* p = buf;
    double deadline = now_ms() + timeoutMs;
    while (len > 0) {
        int left = (int)(deadline - now_ms());
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, left) <= 0)
            return -1;
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int stack_open(Stack* s, const char* provider)
{
    memset(s, 0, sizeof(*s));
    /* tcp must bind to loopback explicitly (trap 3); shm needs no node. */
    int isTcp = strncmp(provider, "tcp", 3) == 0;
    CHECK_OK(RmRdma_GetInfo(provider, isTcp ? "127.0.0.1" : NULL, NULL, isTcp, &s->info));

    char prov[64];
    uint64_t mode;
    int32_t progress, libMajor, libMinor, apiMajor, apiMinor;
    CHECK_OK(RmRdma_InfoGetProvider(s->info, prov, sizeof prov));
    CHECK_OK(RmRdma_InfoGetMrMode(s->info, &s->mrMode));
    CHECK_OK(RmRdma_InfoGetMode(s->info, &mode));
    CHECK_OK(RmRdma_InfoGetDataProgress(s->info, &progress));
    CHECK_OK(RmRdma_GetVersion(&libMajor, &libMinor, &apiMajor, &apiMinor));

    CHECK_OK(RmRdma_FabricOpen(s->info, &s->fabric));
    CHECK_OK(RmRdma_DomainOpen(s->fabric, s->info, &s->domain));
    CHECK_OK(RmRdma_CqOpen(s->domain, 256, RMRDMA_WAIT_BLOCK, &s->cq));
    CHECK_OK(RmRdma_AvOpen(s->domain, 4, &s->av));
    CHECK_OK(RmRdma_EndpointOpen(s->domain, s->info, s->cq, s->av, &s->ep));

    int32_t waitKind;
    CHECK_OK(RmRdma_CqGetWaitKind(s->cq, &waitKind));
    printf("[%s] libfabric %d.%d (api %d.%d) provider=%s mr_mode=0x%llx mode=0x%llx "
           "data_progress=%d cq_wait=%s\n",
           g_role, libMajor, libMinor, apiMajor, apiMinor, prov, (unsigned long long)s->mrMode,
           (unsigned long long)mode, progress,
           waitKind == RMRDMA_WAITKIND_NATIVE     ? "native"
           : waitKind == RMRDMA_WAITKIND_EMULATED ? "emulated"
                                                  : "none");
    return 0;
}

int stack_hello(Stack* s, Hello* h)
{
    memset(h, 0, sizeof(*h));
    h->nameLen = MAX_NAME;
    CHECK_OK(RmRdma_EndpointGetName(s->ep, h->name, &h->nameLen));
    return 0;
}

int stack_close(Stack* s)
{
    CHECK_OK(RmRdma_EndpointClose(s->ep));
    CHECK_OK(RmRdma_AvClose(s->av));
    CHECK_OK(RmRdma_CqClose(s->cq));
    CHECK_OK(RmRdma_DomainClose(s->domain));
    CHECK_OK(RmRdma_FabricClose(s->fabric));
    CHECK_OK(RmRdma_FreeInfo(s->info));
    memset(s, 0, sizeof(*s));
    return 0;
}
