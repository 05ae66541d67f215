/*
 * remotemem_rdma.h - RemoteMem's C shim over libfabric (libremotemem_rdma.so).
 *
 * Why a shim: nearly every fi_* call (fi_read, fi_cq_read, fi_mr_reg, fi_domain,
 * ...) is a static inline in libfabric's headers, so managed code cannot
 * P/Invoke it. This library exports plain functions that wrap them, in the
 * style of dotnet/runtime's System.Native:
 *
 *   - every export is prefixed RmRdma_ and returns an int32_t status;
 *   - signatures use fixed-width types, const char*, void* and opaque struct
 *     pointers only; results come back through pointer parameters;
 *   - one opaque type per libfabric object, so that each can live in its own
 *     SafeHandle and a child handle can keep its parents alive.
 *
 * STATUS CODES
 *   0                     success.
 *   negative libfabric    passed through unchanged from the wrapped fi_* call
 *                         (e.g. -FI_EAGAIN = -11, -FI_EAVAIL = -259). Values
 *                         below are those of Linux (FI_E* = errno values, plus
 *                         libfabric's own codes from 256 up).
 *   RMRDMA_E_*            shim-specific codes, all <= -1000 so they never
 *                         collide with errno or libfabric values.
 *   RmRdma_StrError() turns any status into text.
 *   A NULL handle or output pointer, or an out-of-range argument, gives
 *   RMRDMA_STATUS_EINVAL (-FI_EINVAL).
 *
 * THREAD SAFETY
 *   RmRdma_GetInfo requests FI_THREAD_SAFE, so a fabric, domain, endpoint, AV
 *   and CQ may be used from several threads at once (e.g. many posting
 *   threads plus one progress thread on the CQ). Shim wrappers are immutable
 *   after their Open call. A Close must not race with any other use of the
 *   same object or of its children (the SafeHandle reference counts ensure
 *   that on the managed side).
 *
 * LIFETIME AND TEARDOWN ORDER
 *   Parents must outlive children. Close in this order:
 *     MR -> endpoint -> AV -> CQ -> domain -> fabric -> info.
 *   If libfabric refuses a close (e.g. -FI_EBUSY because children are still
 *   open) the wrapper stays valid and the status is returned; the call may be
 *   repeated later. Every Close accepts NULL and returns 0.
 *
 * API VERSION
 *   fi_getinfo is called with FI_VERSION(1, 15) (RMRDMA_FI_API_MAJOR/MINOR):
 *   - >= 1.5 for the mr_mode bits and FI_CONTEXT2, >= 1.7 for FI_MR_ENDPOINT;
 *   - <= the 1.17 headers we build against, and low enough that the
 *     libfabric 1.15.x shipped with HPE Slingshot (cxi) still serves it
 *     (a provider older than the requested version is skipped);
 *   - libfabric 2.x keeps serving 1.x API versions through the same
 *     libfabric.so.1 (old versioned symbols stay); the 2.0 removals
 *     (FI_AV_MAP, async AV insertion, FI_MR_BASIC/SCALABLE) are not used.
 *   The shim links fi_getinfo/fi_freeinfo/fi_dupinfo@FABRIC_1.3, so the
 *   libfabric loaded at run time must be >= 1.9.
 *
 * ERRORS ON THE WIRE (seen with libfabric 1.17)
 *   - tcp;ofi_rxm: a remote access error (bad key, out of range) makes the
 *     target drop the connection; later ops to that peer fail with
 *     err 107 (ENOTCONN, "Broken pipe") even after AvRemove + AvInsert.
 *     Recover by opening a new CQ, AV and endpoint (and re-registering
 *     FI_MR_ENDPOINT MRs). Re-binding a new endpoint to the old CQ crashed
 *     inside fi_cq_sread in 1 run of 4: close the CQ with its endpoint.
 *   - shm: small and plain RMA use a CMA fast path (process_vm_readv/writev
 *     by the initiator, no target involvement): keys are NOT checked there,
 *     and a failed copy is reported as a completion error whose context is
 *     NULL (not attributable; the operation itself never completes).
 *     Capabilities must be enforced by the control plane, and every
 *     operation needs a deadline on the caller's side.
 */
#ifndef REMOTEMEM_RDMA_H
#define REMOTEMEM_RDMA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define RMRDMA_EXPORT __attribute__((visibility("default")))
#else
#define RMRDMA_EXPORT
#endif

/* ---- constants ---------------------------------------------------------- */

/** libfabric API version passed to fi_getinfo (see header comment). */
#define RMRDMA_FI_API_MAJOR 1
#define RMRDMA_FI_API_MINOR 15

/** Bytes of caller-owned context per posted operation (>= struct fi_context2,
 *  8-byte aligned). It must stay valid and untouched until its completion
 *  (or completion error) has been read; the provider may use it as scratch
 *  space when FI_CONTEXT/FI_CONTEXT2 mode is in effect. */
#define RMRDMA_CONTEXT_SIZE 64

/** Memory access bits for RmRdma_MrReg (libfabric's values). */
#define RMRDMA_ACCESS_READ         (1ULL << 8)  /* FI_READ: local buffer of a read  */
#define RMRDMA_ACCESS_WRITE        (1ULL << 9)  /* FI_WRITE: local buffer of a write */
#define RMRDMA_ACCESS_REMOTE_READ  (1ULL << 12) /* FI_REMOTE_READ: peers may read    */
#define RMRDMA_ACCESS_REMOTE_WRITE (1ULL << 13) /* FI_REMOTE_WRITE: peers may write  */

/** mr_mode bits reported by RmRdma_InfoGetMrMode (libfabric's values). */
#define RMRDMA_MR_LOCAL     (1ULL << 2) /* FI_MR_LOCAL: local buffers need a desc  */
#define RMRDMA_MR_VIRT_ADDR (1ULL << 4) /* FI_MR_VIRT_ADDR: remote addr = target VA */
#define RMRDMA_MR_ALLOCATED (1ULL << 5) /* FI_MR_ALLOCATED: register backed pages  */
#define RMRDMA_MR_PROV_KEY  (1ULL << 6) /* FI_MR_PROV_KEY: provider picks the key  */
#define RMRDMA_MR_ENDPOINT  (1ULL << 9) /* FI_MR_ENDPOINT: MR bound to an endpoint */

/** Mode bits reported by RmRdma_InfoGetMode (libfabric's values). */
#define RMRDMA_MODE_CONTEXT  (1ULL << 59) /* FI_CONTEXT  */
#define RMRDMA_MODE_CONTEXT2 (1ULL << 52) /* FI_CONTEXT2 */

/** Data progress models reported by RmRdma_InfoGetDataProgress. */
#define RMRDMA_PROGRESS_UNSPEC 0
#define RMRDMA_PROGRESS_AUTO   1
#define RMRDMA_PROGRESS_MANUAL 2 /* the target must drive its CQ (progress thread) */

/** RmRdma_CqOpen waitMode values. */
#define RMRDMA_WAIT_SPIN  0 /* FI_WAIT_NONE */
#define RMRDMA_WAIT_BLOCK 1 /* FI_WAIT_UNSPEC, emulated where the provider's is unusable */

/** RmRdma_CqGetWaitKind results: how RmRdma_CqWait actually waits. */
#define RMRDMA_WAITKIND_NONE     0 /* opened spinning; waits are emulated too */
#define RMRDMA_WAITKIND_NATIVE   1 /* fi_cq_sread on the provider's wait object */
#define RMRDMA_WAITKIND_EMULATED 2 /* asked to block, provider's wait unusable:
                                      zero-count fi_cq_read + sched_yield/nanosleep */

/** RmRdma_Write flags. */
#define RMRDMA_WRITE_DELIVERY_COMPLETE 1 /* fi_writemsg(FI_DELIVERY_COMPLETE):
                                            completion means placed in target memory */

/** Common statuses (negated libfabric codes on Linux). */
#define RMRDMA_STATUS_OK         0
#define RMRDMA_STATUS_EAGAIN     (-11)  /* -FI_EAGAIN: retry / nothing yet / timeout */
#define RMRDMA_STATUS_EINVAL     (-22)  /* -FI_EINVAL: bad argument                  */
#define RMRDMA_STATUS_ENODATA    (-61)  /* -FI_ENODATA: no provider matches          */
#define RMRDMA_STATUS_ETOOSMALL  (-257) /* -FI_ETOOSMALL: caller's buffer too small  */
#define RMRDMA_STATUS_EAVAIL     (-259) /* -FI_EAVAIL: call RmRdma_CqReadError       */
#define RMRDMA_STATUS_EBADFLAGS  (-260) /* -FI_EBADFLAGS: unknown flag bits          */

/** Shim-specific statuses. */
#define RMRDMA_E_KEY_TOO_LARGE     (-1001) /* provider's MR key needs FI_MR_RAW (> 64 bits) */
#define RMRDMA_E_MEMLOCK           (-1002) /* registration failed and the buffer exceeds
                                              RLIMIT_MEMLOCK (ulimit -l) of a non-root user */
#define RMRDMA_E_ENDPOINT_REQUIRED (-1003) /* FI_MR_ENDPOINT in effect but ep was NULL */

/* ---- types -------------------------------------------------------------- */

typedef struct RmRdmaInfo RmRdmaInfo;         /* struct fi_info list      */
typedef struct RmRdmaFabric RmRdmaFabric;     /* struct fid_fabric        */
typedef struct RmRdmaDomain RmRdmaDomain;     /* struct fid_domain        */
typedef struct RmRdmaCq RmRdmaCq;             /* struct fid_cq            */
typedef struct RmRdmaAv RmRdmaAv;             /* struct fid_av            */
typedef struct RmRdmaEndpoint RmRdmaEndpoint; /* struct fid_ep            */
typedef struct RmRdmaMr RmRdmaMr;             /* struct fid_mr            */

/** One completion; identical to struct fi_cq_msg_entry on LP64.
 *  Layout: offset 0 context (8), 8 flags (8), 16 len (8); size 24. */
typedef struct RmRdmaCompletion {
    void* context;  /* the context pointer passed to RmRdma_Read/Write  */
    uint64_t flags; /* FI_RMA | FI_READ or FI_WRITE, ...               */
    uint64_t len;   /* bytes (provider-defined for RMA; often 0)       */
} RmRdmaCompletion;

/** One completion error (from fi_cq_readerr).
 *  Layout: 0 context (8), 8 flags (8), 16 len (8), 24 err (4),
 *  28 provErrno (4), 32 message (128); size 160. */
typedef struct RmRdmaCompletionError {
    void* context;     /* context of the failed operation              */
    uint64_t flags;
    uint64_t len;
    int32_t err;       /* positive FI_E* / errno value                  */
    int32_t provErrno; /* provider-specific code                         */
    char message[128]; /* fi_cq_strerror text, NUL-terminated, truncated */
} RmRdmaCompletionError;

/* ---- info (info.c) ------------------------------------------------------ */

/** fi_getinfo(FI_VERSION(1,15), node, service, isSource ? FI_SOURCE : 0).
 *  Hints: FI_EP_RDM; caps FI_RMA|FI_READ|FI_WRITE|FI_REMOTE_READ|FI_REMOTE_WRITE;
 *  mode FI_CONTEXT|FI_CONTEXT2 offered; mr_mode offers FI_MR_LOCAL|VIRT_ADDR|
 *  ALLOCATED|PROV_KEY|ENDPOINT; FI_AV_TABLE; FI_THREAD_SAFE.
 *  provider: fabric_attr->prov_name ("tcp;ofi_rxm", "shm", "verbs;ofi_rxm", ...),
 *  NULL or "" for any. node: if it is an IPv4 (IPv6) literal, addr_format is
 *  set to FI_SOCKADDR_IN (IN6); for tcp pass "127.0.0.1" (or the interface's
 *  address) with isSource = 1, otherwise tcp binds to the default interface.
 *  node/service may be NULL. *out receives a list owned by the caller
 *  (RmRdma_FreeInfo); the first entry is the one every other call uses.
 *  Returns -FI_ENODATA when no provider matches. Thread-safe. */
RMRDMA_EXPORT int32_t RmRdma_GetInfo(const char* provider, const char* node, const char* service,
                                     int32_t isSource, RmRdmaInfo** out);

/** domain_attr->mr_mode actually granted (RMRDMA_MR_* bits). */
RMRDMA_EXPORT int32_t RmRdma_InfoGetMrMode(const RmRdmaInfo* info, uint64_t* mrMode);

/** info->mode actually required (RMRDMA_MODE_* bits; the shim's contexts
 *  satisfy both, so this is informational). */
RMRDMA_EXPORT int32_t RmRdma_InfoGetMode(const RmRdmaInfo* info, uint64_t* mode);

/** domain_attr->data_progress (RMRDMA_PROGRESS_*). MANUAL means the target of
 *  RMA must keep driving its CQ (RmRdma_CqProgress) or remote ops hang. */
RMRDMA_EXPORT int32_t RmRdma_InfoGetDataProgress(const RmRdmaInfo* info, int32_t* progress);

/** Copies fabric_attr->prov_name (e.g. "tcp;ofi_rxm") NUL-terminated into buf.
 *  -FI_ETOOSMALL if it does not fit (64 bytes always suffice in practice). */
RMRDMA_EXPORT int32_t RmRdma_InfoGetProvider(const RmRdmaInfo* info, char* buf, int32_t bufLen);

/** fi_version() of the loaded libfabric, and the API version the shim
 *  requests. Each pointer may be NULL. Thread-safe. */
RMRDMA_EXPORT int32_t RmRdma_GetVersion(int32_t* libMajor, int32_t* libMinor,
                                        int32_t* apiMajor, int32_t* apiMinor);

/** fi_freeinfo. Call after every object opened from this info is closed. */
RMRDMA_EXPORT int32_t RmRdma_FreeInfo(RmRdmaInfo* info);

/* ---- fabric, domain, AV, endpoint (objects.c) -------------------------- */

/** fi_fabric(info->fabric_attr). Close with RmRdma_FabricClose. */
RMRDMA_EXPORT int32_t RmRdma_FabricOpen(const RmRdmaInfo* info, RmRdmaFabric** out);
RMRDMA_EXPORT int32_t RmRdma_FabricClose(RmRdmaFabric* fabric);

/** fi_domain(fabric, info). Remembers the granted mr_mode for RmRdma_MrReg. */
RMRDMA_EXPORT int32_t RmRdma_DomainOpen(RmRdmaFabric* fabric, const RmRdmaInfo* info,
                                        RmRdmaDomain** out);
RMRDMA_EXPORT int32_t RmRdma_DomainClose(RmRdmaDomain* domain);

/** fi_av_open(FI_AV_TABLE, count). count <= 0: provider default. */
RMRDMA_EXPORT int32_t RmRdma_AvOpen(RmRdmaDomain* domain, int32_t count, RmRdmaAv** out);

/** fi_av_insert of one name obtained from a peer's RmRdma_EndpointGetName.
 *  *fiAddr receives the fi_addr_t to pass as peer to Read/Write.
 *  -FI_EADDRNOTAVAIL if the provider inserted nothing without an error. */
RMRDMA_EXPORT int32_t RmRdma_AvInsert(RmRdmaAv* av, const void* name, uint64_t* fiAddr);

/** fi_av_remove of one address (e.g. when a donor goes away). */
RMRDMA_EXPORT int32_t RmRdma_AvRemove(RmRdmaAv* av, uint64_t fiAddr);
RMRDMA_EXPORT int32_t RmRdma_AvClose(RmRdmaAv* av);

/** fi_endpoint(domain, info); fi_ep_bind(cq, FI_TRANSMIT|FI_RECV);
 *  fi_ep_bind(av); fi_enable. All four objects must outlive the endpoint. */
RMRDMA_EXPORT int32_t RmRdma_EndpointOpen(RmRdmaDomain* domain, const RmRdmaInfo* info,
                                          RmRdmaCq* cq, RmRdmaAv* av, RmRdmaEndpoint** out);

/** fi_getname: the endpoint's address for out-of-band exchange (tcp: a
 *  sockaddr_in; shm: a short string). On entry *len is the size of buf; on
 *  return the name's length. If buf is too small: -FI_ETOOSMALL and *len set
 *  to the size needed (buf may be NULL with *len = 0 to query). */
RMRDMA_EXPORT int32_t RmRdma_EndpointGetName(RmRdmaEndpoint* ep, void* buf, int32_t* len);

/** Remote reads and writes this endpoint has served as a target, counted where the provider
 *  offers FI_RMA_EVENT and the CQ's wait is emulated (shm): the wait keeps yielding while the
 *  count moves. Accesses the initiator completes alone (cross-memory attach) are not seen.
 *  -FI_ENOSYS when not counted. */
RMRDMA_EXPORT int32_t RmRdma_EndpointGetRemoteAccesses(RmRdmaEndpoint* ep, uint64_t* count);
RMRDMA_EXPORT int32_t RmRdma_EndpointClose(RmRdmaEndpoint* ep);

/* ---- memory registration (mr.c) ---------------------------------------- */

/** fi_mr_reg(domain, buf, len, access, offset 0, key, flags 0) honouring the
 *  domain's mr_mode:
 *   FI_MR_PROV_KEY:  requestedKey is ignored, the provider picks the key;
 *                    otherwise requestedKey is used and must be unique in the
 *                    domain;
 *   FI_MR_ENDPOINT:  fi_mr_bind(mr, ep) then fi_mr_enable (ep required, else
 *                    RMRDMA_E_ENDPOINT_REQUIRED); ep may be NULL otherwise;
 *   FI_MR_VIRT_ADDR: remote base = (uint64_t)buf, else 0 (peers use offsets);
 *   FI_MR_LOCAL:     local buffers of Read/Write must be registered
 *                    (RMRDMA_ACCESS_READ/WRITE) and their desc passed;
 *   FI_MR_ALLOCATED: buf must be backed by allocated pages (any malloc/mmap).
 *  access: RMRDMA_ACCESS_* bits only (else -FI_EINVAL). The buffer is not
 *  owned and must outlive the MR. A failure of a non-root user whose len
 *  exceeds RLIMIT_MEMLOCK gives RMRDMA_E_MEMLOCK; a 64-bit key that is not
 *  available gives RMRDMA_E_KEY_TOO_LARGE. */
RMRDMA_EXPORT int32_t RmRdma_MrReg(RmRdmaDomain* domain, RmRdmaEndpoint* ep, void* buf,
                                   uint64_t len, uint64_t access, uint64_t requestedKey,
                                   RmRdmaMr** out);

/** fi_mr_key: the key a remote peer passes to Read/Write. */
RMRDMA_EXPORT int32_t RmRdma_MrGetKey(const RmRdmaMr* mr, uint64_t* key);

/** fi_mr_desc: local descriptor to pass for this buffer (may be NULL). */
RMRDMA_EXPORT int32_t RmRdma_MrGetDesc(const RmRdmaMr* mr, void** desc);

/** What a remote peer adds its byte offset to: the buffer's address under
 *  FI_MR_VIRT_ADDR, else 0. */
RMRDMA_EXPORT int32_t RmRdma_MrGetRemoteBase(const RmRdmaMr* mr, uint64_t* remoteBase);

/** fi_close of the MR. Close before its endpoint (FI_MR_ENDPOINT) and domain.
 *  The MR wrapper does not keep the buffer alive; unregister before freeing it. */
RMRDMA_EXPORT int32_t RmRdma_MrClose(RmRdmaMr* mr);

/* ---- data transfer (data.c) -------------------------------------------- */

/** fi_read: len bytes at remoteAddr (remote base + offset) under key, from
 *  peer (an fi_addr from RmRdma_AvInsert), into localBuf. desc: the local
 *  buffer's RmRdma_MrGetDesc, or NULL when mr_mode lacks FI_MR_LOCAL.
 *  context: RMRDMA_CONTEXT_SIZE bytes (required), returned in the completion.
 *  -FI_EAGAIN: out of resources: drive the CQ (RmRdma_CqRead) and retry.
 *  Thread-safe (FI_THREAD_SAFE). */
RMRDMA_EXPORT int32_t RmRdma_Read(RmRdmaEndpoint* ep, void* localBuf, uint64_t len, void* desc,
                                  uint64_t peer, uint64_t remoteAddr, uint64_t key,
                                  void* context);

/** fi_write (flags 0: completion means "sent", the source may be reused) or,
 *  with RMRDMA_WRITE_DELIVERY_COMPLETE, fi_writemsg(FI_COMPLETION |
 *  FI_DELIVERY_COMPLETE): completion means visible in the target's memory.
 *  Arguments and -FI_EAGAIN as RmRdma_Read; unknown flags: -FI_EBADFLAGS. */
RMRDMA_EXPORT int32_t RmRdma_Write(RmRdmaEndpoint* ep, const void* localBuf, uint64_t len,
                                   void* desc, uint64_t peer, uint64_t remoteAddr, uint64_t key,
                                   void* context, int32_t flags);

/* ---- completion queue (cq.c) -------------------------------------------- */

/** fi_cq_open(FI_CQ_FORMAT_MSG, size) (size <= 0: provider default).
 *  waitMode RMRDMA_WAIT_SPIN: FI_WAIT_NONE. RMRDMA_WAIT_BLOCK: FI_WAIT_UNSPEC,
 *  kept only if the provider gives a real wait object (FI_GETWAIT works and it
 *  is not FI_WAIT_YIELD, whose sread ignores the timeout, as shm's does);
 *  otherwise the CQ is reopened with FI_WAIT_NONE and waits are emulated
 *  (see RmRdma_CqGetWaitKind). */
RMRDMA_EXPORT int32_t RmRdma_CqOpen(RmRdmaDomain* domain, int32_t size, int32_t waitMode,
                                    RmRdmaCq** out);

/** How RmRdma_CqWait waits on this CQ (RMRDMA_WAITKIND_*). */
RMRDMA_EXPORT int32_t RmRdma_CqGetWaitKind(const RmRdmaCq* cq, int32_t* kind);

/** Non-blocking batched fi_cq_read of up to max entries (drives progress).
 *  Returns 0 with *count entries (0 if none yet), or -FI_EAVAIL when an
 *  error entry is at the head: call RmRdma_CqReadError, then read again.
 *  One reader at a time per CQ is advisable (entries are consumed). */
RMRDMA_EXPORT int32_t RmRdma_CqRead(RmRdmaCq* cq, RmRdmaCompletion* entries, int32_t max,
                                    int32_t* count);

/** fi_cq_readerr + fi_cq_strerror: takes the error entry at the head.
 *  -FI_EAGAIN if there is none. err is normalised to a positive value
 *  (shm 1.17 reports some negated). context may be NULL when the provider
 *  cannot attribute the error (shm's fast path, see header comment). */
RMRDMA_EXPORT int32_t RmRdma_CqReadError(RmRdmaCq* cq, RmRdmaCompletionError* out);

/** Blocks until a completion (or error) may be available, the timeout
 *  passes (-FI_EAGAIN), or RmRdma_CqSignal wakes it (-FI_EAGAIN).
 *  timeoutMs < 0: no timeout. Consumes nothing; returns 0 when something is
 *  there (spurious wake-ups are possible: read and wait again).
 *  Native wait: zero-count fi_cq_sread. Otherwise: zero-count fi_cq_read
 *  (drives progress) with sched_yield for the first 200 us, then 50 us
 *  nanosleeps. */
RMRDMA_EXPORT int32_t RmRdma_CqWait(RmRdmaCq* cq, int32_t timeoutMs);

/** Wakes a thread blocked in RmRdma_CqWait/CqProgress on this CQ (fi_cq_signal
 *  where native). With no waiter, the next wait may return early. Any thread. */
RMRDMA_EXPORT int32_t RmRdma_CqSignal(RmRdmaCq* cq);

/** Target-side progress helper (the donor's progress thread calls it in a
 *  loop). Drives the provider's progress until a completion is read, the
 *  timeout passes, or RmRdma_CqSignal. mode 0: spins on fi_cq_read for up to
 *  timeoutMs; mode 1: blocks as RmRdma_CqWait, then reads once.
 *  Completions read are never discarded: up to max land in entries (*count).
 *  With max == 0 (entries may be NULL) it uses zero-count reads, which on
 *  libfabric's util-based providers (tcp;ofi_rxm, shm, verbs;ofi_rxm) drive
 *  progress without consuming anything. A pure RMA target CQ normally
 *  yields no completions at all.
 *  Returns 0 (*count may be 0 if something is pending or the wake was
 *  spurious), -FI_EAGAIN on timeout/signal, -FI_EAVAIL (RmRdma_CqReadError),
 *  or another negative status. */
RMRDMA_EXPORT int32_t RmRdma_CqProgress(RmRdmaCq* cq, int32_t mode, int32_t timeoutMs,
                                        RmRdmaCompletion* entries, int32_t max, int32_t* count);

RMRDMA_EXPORT int32_t RmRdma_CqClose(RmRdmaCq* cq);

/* ---- errors (error.c) ---------------------------------------------------- */

/** Text for any status: fi_strerror for libfabric/errno codes, the shim's
 *  own text for RMRDMA_E_*. Always NUL-terminates (truncating) when
 *  len > 0; returns 0, or -FI_EINVAL if buf is NULL or len <= 0. */
RMRDMA_EXPORT int32_t RmRdma_StrError(int32_t status, char* buf, int32_t len);

#ifdef __cplusplus
}
#endif

#endif /* REMOTEMEM_RDMA_H */
