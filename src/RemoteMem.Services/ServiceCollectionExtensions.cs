using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RemoteMem.Services.Donor;
using RemoteMem.Services.Manager;
using RemoteMem.Transport;

namespace RemoteMem.Services;

/// <summary>Registers the RemoteMem services in a generic host; <c>TryAdd</c> throughout, so callers can override any piece.</summary>
public static class ServiceCollectionExtensions
{
    public static IServiceCollection AddRemoteMemManager(this IServiceCollection services, IConfiguration configuration)
    {
        AddCommon(services, configuration);
        services.AddOptions<ManagerOptions>().Bind(configuration.GetSection(ManagerOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ManagerOptions>, ManagerOptionsValidator>());
        services.TryAddSingleton<ManagerService>();
        services.AddHostedService(sp => sp.GetRequiredService<ManagerService>());
        return services;
    }

    public static IServiceCollection AddRemoteMemDonor(this IServiceCollection services, IConfiguration configuration)
    {
        AddCommon(services, configuration);
        services.AddOptions<DonorOptions>().Bind(configuration.GetSection(DonorOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DonorOptions>, DonorOptionsValidator>());
        services.TryAddSingleton<DonorService>();
        // A stop may first drain (move every segment elsewhere): give it that long before the host gives up.
        // Read from configuration directly: resolving the validated DonorOptions here would turn a bad
        // option into a crash while the host is built, instead of the one-line message at start.
        services.AddOptions<HostOptions>().Configure(host =>
        {
            var donor = new DonorOptions();
            try
            {
                configuration.GetSection(DonorOptions.Section).Bind(donor);
            }
            catch (InvalidOperationException)
            {
                // A malformed value: validation at start reports it; keep the defaults here.
            }

            host.ShutdownTimeout = donor.DrainGrace + donor.StopGrace + TimeSpan.FromSeconds(5);
        });
        services.AddHostedService(sp => sp.GetRequiredService<DonorService>());
        return services;
    }

    private static void AddCommon(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ClusterOptions>().Bind(configuration.GetSection(ClusterOptions.Section))
            .Validate(o =>
            {
                o.ResolveSecret();
                return true;
            })
            .ValidateOnStart();
        services.TryAddSingleton(sp =>
        {
            var options = new TransportOptions();
            configuration.GetSection("Transport").Bind(options);
            return options;
        });
    }
}
