using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;
using Microsoft.Extensions.Logging;

namespace RemoteMem.Executor.Internal;

/// <summary>
/// The lease's accelerator, created on first use: the best CUDA or OpenCL device ILGPU finds, else its
/// CPU accelerator (said in the log). Compiled kernels are cached here for the executor's lifetime.
/// </summary>
internal sealed class GpuDevice(int gpus, ILogger logger) : IDisposable
{
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<string, object> _kernels = new(StringComparer.Ordinal);
    private Context? _context;
    private Accelerator? _accelerator;

    /// <summary>"none" until first use, then the device's name and type.</summary>
    public string Description { get; private set; } = "none";

    public Accelerator Accelerator
    {
        get
        {
            if (Volatile.Read(ref _accelerator) is { } ready) return ready;
            if (gpus == 0)
                throw new InvalidOperationException("This executor lease has no GPUs: lease it with Gpus = 1 (or more) to use an accelerator.");
            lock (_gate)
            {
                if (_accelerator is not null) return _accelerator;
                _context = Context.Create(builder => builder.Default());
                var device = _context.GetPreferredDevice(preferCPU: false);
                if (device.AcceleratorType == AcceleratorType.CPU)
                    ExecutorLog.CpuAccelerator(logger, device.Name);
                var accelerator = device.CreateAccelerator(_context);
                Description = $"{accelerator.AcceleratorType} {accelerator.Name}";
                ExecutorLog.AcceleratorReady(logger, Description);
                Volatile.Write(ref _accelerator, accelerator);
                return accelerator;
            }
        }
    }

    public TKernel GetKernel<TKernel>(string key, Func<Accelerator, TKernel> load) where TKernel : class
    {
        if (_kernels.TryGetValue(key, out var cached)) return (TKernel)cached;
        var accelerator = Accelerator;
        lock (_kernels)
        {
            if (_kernels.TryGetValue(key, out cached)) return (TKernel)cached;
            var kernel = load(accelerator);
            _kernels[key] = kernel;
            return kernel;
        }
    }

    public void Dispose()
    {
        _kernels.Clear();
        _accelerator?.Dispose();
        _context?.Dispose();
    }
}
