/* Shared helpers for the two-process loopback test: checks, clocks, the data
 * pattern, the out-of-band control channel and the per-process object stack. */
#ifndef RMRDMA_TEST_HARNESS_H
#define RMRDMA_TEST_HARNESS_H

#include "remotemem_rdma.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Target buffer: room for 16 in-flight 4 MiB operations plus misalignment. */
#define REGION_SIZE ((uint64_t)64 * 1024 * 1024 + 64 * 1024)
#define MAX_NAME 256
#define TARGET_KEY 0x5a17ULL
#define LOCAL_KEY 0x10ca1ULL

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "[%s] FAIL %s:%d: ", g_role, __FILE__, __LINE__);             \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fputc('\n', stderr);                                                          \
            return -1;                                                                    \
        }                                                                                 \
    } while (0)

/* CHECK that a shim call returned 0, printing the status text otherwise. */
#define CHECK_OK(call)                                                                    \
    do {                                                                                  \
        int32_t st_ = (call);                                                             \
        if (st_ != 0) {                                                                   \
            char msg_[160];                                                               \
            RmRdma_StrError(st_, msg_, sizeof msg_);                                      \
            fprintf(stderr, "[%s] FAIL %s:%d: %s -> %d (%s)\n", g_role, __FILE__,         \
                    __LINE__, #call, st_, msg_);                                          \
            return -1;                                                                    \
        }                                                                                 \
    } while (0)

extern const char* g_role;

double now_ms(void);
void sleep_us(long us);

/* Byte i of the target's initial contents. */
uint8_t pattern_byte(uint64_t i);
void fill_pattern(uint8_t* buf, uint64_t len, uint64_t seed);

/* Control channel: whole-message send/receive with a timeout. */
int send_all(int fd, const void* buf, size_t len);
int recv_all(int fd, void* buf, size_t len, int timeoutMs);

/* What each side tells the other before any RMA. */
typedef struct Hello {
    int32_t nameLen;
    uint8_t name[MAX_NAME];
    uint64_t key;        /* target only */
    uint64_t remoteBase; /* target only */
    uint64_t size;       /* target only */
} Hello;

#define CMD_STOP 0x53544f50u /* initiator -> target: dump the buffer and exit */

/* One process's libfabric objects. */
typedef struct Stack {
    RmRdmaInfo* info;
    RmRdmaFabric* fabric;
    RmRdmaDomain* domain;
    RmRdmaCq* cq;
    RmRdmaAv* av;
    RmRdmaEndpoint* ep;
    uint64_t mrMode;
} Stack;

/* Opens info..endpoint for provider with a blocking CQ; prints attributes. */
int stack_open(Stack* s, const char* provider);
/* Closes in the documented order (MRs must be closed before). */
int stack_close(Stack* s);
int stack_hello(Stack* s, Hello* h);

int run_target(const char* provider, int fd);
int run_initiator(const char* provider, int fd);

#endif
