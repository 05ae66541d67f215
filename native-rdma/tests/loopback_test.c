/* Two-process loopback test: a forked target (donor) and an initiator talk
 * over the provider named in argv[1]; a socketpair carries names and keys. */
#include "harness.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int wait_child(pid_t pid, int timeoutMs)
{
    double deadline = now_ms() + timeoutMs;
    int status;
    while (now_ms() < deadline) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        sleep_us(2000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    fprintf(stderr, "[main] target did not exit in time: killed\n");
    return -1;
}

int main(int argc, char** argv)
{
    const char* provider = argc > 1 ? argv[1] : "tcp;ofi_rxm";
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        perror("socketpair");
        return 1;
    }
    double t0 = now_ms();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) { /* libfabric is initialised only after the fork, in each process */
        close(sv[0]);
        alarm(60);
        _exit(run_target(provider, sv[1]) == 0 ? 0 : 1);
    }
    close(sv[1]);
    alarm(90);
    int rc = run_initiator(provider, sv[0]);
    close(sv[0]);
    int child = wait_child(pid, rc == 0 ? 10000 : 1000);
    int ok = rc == 0 && child == 0;
    printf("[main] provider %s: %s in %.0f ms (initiator %s, target exit %d)\n", provider,
           ok ? "PASS" : "FAIL", now_ms() - t0, rc == 0 ? "ok" : "failed", child);
    return ok ? 0 : 1;
}
