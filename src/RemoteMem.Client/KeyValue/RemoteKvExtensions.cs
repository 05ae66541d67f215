using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace RemoteMem.Client;

/// <summary>String keys (UTF-8) and unmanaged values for <see cref="RemoteKv"/>.</summary>
public static class RemoteKvExtensions
{
    public static ValueTask PutAsync(this RemoteKv kv, string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default) =>
        kv.PutAsync(Encoding.UTF8.GetBytes(key), value, cancellationToken);

    public static ValueTask PutAsync(this RemoteKv kv, string key, string value, CancellationToken cancellationToken = default) =>
        kv.PutAsync(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value), cancellationToken);

    /// <summary>Stores an unmanaged value by its bytes.</summary>
    public static ValueTask PutValueAsync<T>(this RemoteKv kv, string key, T value, CancellationToken cancellationToken = default) where T : unmanaged =>
        kv.PutAsync(Encoding.UTF8.GetBytes(key), MemoryMarshal.AsBytes(new[] { value }.AsSpan()).ToArray(), cancellationToken);

    /// <summary>The unmanaged value under <paramref name="key"/>, if present and of <typeparamref name="T"/>'s size.</summary>
    public static async ValueTask<(bool Found, T Value)> TryGetValueAsync<T>(this RemoteKv kv, string key, CancellationToken cancellationToken = default) where T : unmanaged
    {
        var buffer = new ArrayBufferWriter<byte>();
        if (!await kv.TryGetAsync(Encoding.UTF8.GetBytes(key), buffer, cancellationToken).ConfigureAwait(false)) return (false, default);
        if (buffer.WrittenCount != Marshal.SizeOf<T>())
            throw new InvalidOperationException($"The value under '{key}' has {buffer.WrittenCount} bytes; {typeof(T).Name} has {Marshal.SizeOf<T>()}.");
        return (true, MemoryMarshal.Read<T>(buffer.WrittenSpan));
    }

    /// <summary>The UTF-8 string under <paramref name="key"/>, or null.</summary>
    public static async ValueTask<string?> TryGetStringAsync(this RemoteKv kv, string key, CancellationToken cancellationToken = default)
    {
        var buffer = new ArrayBufferWriter<byte>();
        return await kv.TryGetAsync(Encoding.UTF8.GetBytes(key), buffer, cancellationToken).ConfigureAwait(false)
            ? Encoding.UTF8.GetString(buffer.WrittenSpan)
            : null;
    }

    public static ValueTask<bool> DeleteAsync(this RemoteKv kv, string key, CancellationToken cancellationToken = default) =>
        kv.DeleteAsync(Encoding.UTF8.GetBytes(key), cancellationToken);

    public static ValueTask<bool> ContainsKeyAsync(this RemoteKv kv, string key, CancellationToken cancellationToken = default) =>
        kv.ContainsKeyAsync(Encoding.UTF8.GetBytes(key), cancellationToken);
}
