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
        services.AddOptions<HostOptions>().Configure<IOptions<DonorOptions>>((host, donor) =>
            host.ShutdownTimeout = donor.Value.DrainGrace + donor.Value.StopGrace + TimeSpan.FromSeconds(5));
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
