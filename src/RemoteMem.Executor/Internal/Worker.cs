using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using RemoteMem.Transport;
using RemoteMem.Wire;

namespace RemoteMem.Executor.Internal;

/// <summary>
/// One worker thread serving one client connection, as in rFaaS: it reads an invocation, runs it and
/// answers, in order. Hot, it spins on the socket so a request is picked up within a microsecond or so;
/// after <see cref="ExecutorSettings.HotTimeoutMs"/> of idleness it goes warm and blocks in the kernel
/// (no CPU burned); the next request makes it hot again. -1 is always hot, 0 always warm.
/// </summary>
internal sealed class Worker
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private readonly ExecutorRuntime _runtime;
    private readonly FrameSocket _socket;
    private readonly int _number;
    private readonly ResponseBuffer _response;
    private readonly InvocationContext _context;
    private readonly long _hotTimeoutTicks;

    public Worker(ExecutorRuntime runtime, FrameSocket socket, int number)
    {
        _runtime = runtime;
        _socket = socket;
        _number = number;
        _response = new ResponseBuffer(socket.MaxFrameSize);
        _context = new InvocationContext(runtime);
        int hot = runtime.Settings.HotTimeoutMs;
        _hotTimeoutTicks = hot < 0 ? long.MaxValue : hot * Stopwatch.Frequency / 1000;
    }

    public InvocationContext Context => _context;

    public void Run()
    {
        try
        {
            long idleSince = Stopwatch.GetTimestamp();
            while (true)
            {
                bool hot = _hotTimeoutTicks > 0 && SpinUntilData(idleSince);
                if (!_socket.ReadFrame(out var header, out var payload)) return;
                Handle(header, payload, hot);
                idleSince = Stopwatch.GetTimestamp();
            }
        }
        catch (WireException ex)
        {
            ExecutorLog.BadFrame(_runtime.Logger, _number, ex.Message);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException or IOException)
        {
            // The client went away.
        }
        finally
        {
            _socket.Dispose();
        }
    }

    // Hot: spin on the socket until data arrives (true) or the hot timeout passes (false: block warm).
    private bool SpinUntilData(long idleSince)
    {
        while (!_socket.HasData)
        {
            if (Stopwatch.GetTimestamp() - idleSince > _hotTimeoutTicks || _runtime.IsStopping) return false;
            Thread.SpinWait(20);
        }

        return true;
    }

    private void Handle(in FrameHeader header, ReadOnlySpan<byte> payload, bool hot)
    {
        if (header.IsResponse || header.IsEvent)
        {
            Fail(header, ErrorCode.MalformedFrame, "An executor accepts requests only.");
            return;
        }

        if (header.Version != _socket.Version)
        {
            Fail(header, ErrorCode.UnsupportedVersion, $"Frame version {header.Version} differs from the agreed version {_socket.Version}.");
            return;
        }

        switch (header.Opcode)
        {
            case Opcode.Invoke:
                Invoke(header, payload, hot);
                break;
            case Opcode.FunctionResolve:
                Resolve(header, payload);
                break;
            case Opcode.ExecutorStats:
                _socket.Send(header.ToResponse(0), _runtime.Statistics().Encode(), default);
                break;
            default:
                Fail(header, ErrorCode.UnknownOpcode, $"An executor does not serve opcode 0x{(byte)header.Opcode:x2}.");
                break;
        }
    }

    private void Resolve(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        string name;
        try
        {
            name = StrictUtf8.GetString(payload);
        }
        catch (DecoderFallbackException)
        {
            Fail(header, ErrorCode.MalformedFrame, "A function name must be UTF-8.");
            return;
        }

        if (!_runtime.Catalog.TryResolve(name, out uint id))
        {
            Fail(header, ErrorCode.NameNotFound, $"No function '{name}' in this package; it has: {string.Join(", ", _runtime.Catalog.Names)}.");
            return;
        }

        Span<byte> answer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(answer, id);
        _socket.Send(header.ToResponse(0), answer, default);
    }

    private void Invoke(in FrameHeader header, ReadOnlySpan<byte> payload, bool hot)
    {
        if (payload.Length < Wire.Messages.InvokePrefix.Size)
        {
            Fail(header, ErrorCode.MalformedFrame, $"An invocation needs an {Wire.Messages.InvokePrefix.Size}-byte prefix (function id, timeout).");
            return;
        }

        uint id = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        uint timeoutMs = BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        var functions = _runtime.Catalog.Functions;
        if (id >= (uint)functions.Length)
        {
            Fail(header, ErrorCode.NameNotFound, $"No function with id {id}; resolve names with FunctionResolve.");
            return;
        }

        _runtime.Counters.Arrived(hot);
        _response.Reset();
        _context.Begin(timeoutMs);
        Exception? failure = null;
        try
        {
            functions[id].Invoke(payload[Wire.Messages.InvokePrefix.Size..], _response, _context);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        bool expired = _context.End();
        if (expired && (failure is null or OperationCanceledException))
        {
            _runtime.Counters.DeadlineExceeded();
            Fail(header, ErrorCode.DeadlineExceeded, $"Function '{_runtime.Catalog.Names[id]}' passed its deadline of {timeoutMs} ms.");
        }
        else if (failure is not null)
        {
            _runtime.Counters.Failed();
            Fail(header, ErrorCode.FunctionFailed, $"{failure.GetType().FullName}: {failure.Message}");
        }
        else
        {
            _socket.SendFramed(header.ToResponse(_response.PayloadLength), _response.Frame);
        }
    }

    private void Fail(in FrameHeader header, ErrorCode code, string message) =>
        _socket.Send(header.ToResponse(0, code), ErrorPayload.Encode(message), default);
}
