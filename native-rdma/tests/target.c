/* The donor side: registers a patterned buffer, publishes (name, key, base),
 * then only drives progress (blocking, trap 1) until told to stop, and finally
 * sends its whole buffer back so every byte written can be checked. */
#include "harness.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int stop_requested(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return poll(&pfd, 1, 0) > 0;
}

static int serve(Stack* s, int fd, long* loops, long* unexpected)
{
    RmRdmaCompletion entries[16];
    for (;;) {
        if (stop_requested(fd))
            return 0;
        int32_t n = 0;
        int32_t st = RmRdma_CqProgress(s->cq, 1, 20, entries, 16, &n);
        (*loops)++;
        *unexpected += n;
        if (st == RMRDMA_STATUS_EAVAIL) {
            RmRdmaCompletionError e;
            CHECK_OK(RmRdma_CqReadError(s->cq, &e));
            fprintf(stderr, "[target] completion error on target CQ: %d %s\n", e.err,
                    e.message);
            (*unexpected)++;
        } else if (st != 0 && st != RMRDMA_STATUS_EAGAIN) {
            CHECK_OK(st);
        }
    }
}

int run_target(const char* provider, int fd)
{
    g_role = "target";
    Stack s;
    if (stack_open(&s, provider) != 0)
        return -1;

    /* A blocking wait must honour its timeout (shm's native one does not). */
    double t0 = now_ms();
    CHECK(RmRdma_CqWait(s.cq, 30) == RMRDMA_STATUS_EAGAIN, "idle CqWait did not time out");
    double waited = now_ms() - t0;
    CHECK(waited >= 25 && waited < 1000, "CqWait(30 ms) took %.1f ms", waited);

    /* An inaccessible guard page right after the region makes "past the end"
     * fail deterministically even where the provider does not range-check
     * (shm copies with process_vm_readv from the initiator). */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t* buf = mmap(NULL, REGION_SIZE + page, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(buf != MAP_FAILED, "mmap");
    CHECK(mprotect(buf + REGION_SIZE, page, PROT_NONE) == 0, "guard page");
    for (uint64_t i = 0; i < REGION_SIZE; i++)
        buf[i] = pattern_byte(i);

    RmRdmaMr* mr = NULL;
    CHECK_OK(RmRdma_MrReg(s.domain, s.ep, buf, REGION_SIZE,
                          RMRDMA_ACCESS_REMOTE_READ | RMRDMA_ACCESS_REMOTE_WRITE, TARGET_KEY,
                          &mr));
    Hello mine, theirs;
    if (stack_hello(&s, &mine) != 0)
        return -1;
    CHECK_OK(RmRdma_MrGetKey(mr, &mine.key));
    CHECK_OK(RmRdma_MrGetRemoteBase(mr, &mine.remoteBase));
    mine.size = REGION_SIZE;
    CHECK(send_all(fd, &mine, sizeof mine) == 0, "send hello");
    CHECK(recv_all(fd, &theirs, sizeof theirs, 10000) == 0, "recv hello");
    uint64_t peer;
    CHECK_OK(RmRdma_AvInsert(s.av, theirs.name, &peer));
    printf("[target] key=0x%llx remote_base=0x%llx name_len=%d\n",
           (unsigned long long)mine.key, (unsigned long long)mine.remoteBase, mine.nameLen);
    fflush(stdout);

    long loops = 0, unexpected = 0;
    if (serve(&s, fd, &loops, &unexpected) != 0)
        return -1;
    uint32_t cmd = 0;
    CHECK(recv_all(fd, &cmd, sizeof cmd, 1000) == 0 && cmd == CMD_STOP, "bad command 0x%x",
          cmd);
    CHECK(send_all(fd, buf, REGION_SIZE) == 0, "send dump");
    printf("[target] served: %ld progress calls, %ld completions on the target CQ\n", loops,
           unexpected);
    /* shm counts the accesses it serves (FI_RMA_EVENT), which keeps its emulated wait responsive. */
    uint64_t accesses = 0;
    int32_t counted = RmRdma_EndpointGetRemoteAccesses(s.ep, &accesses);
    printf("[target] remote accesses counted: %s %llu\n", counted == 0 ? "yes" : "no",
           (unsigned long long)accesses);
    if (strcmp(provider, "shm") == 0)
        CHECK(counted == 0 && accesses > 0, "shm served no counted remote access (status %d)",
              counted);

    CHECK_OK(RmRdma_MrClose(mr));
    if (stack_close(&s) != 0)
        return -1;
    munmap(buf, REGION_SIZE + page);
    return 0;
}
