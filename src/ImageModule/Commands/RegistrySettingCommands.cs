using System.Linq;
using System.Management.Automation;
using ImageModule.Completion;
using ImageModule.References;
using ImageModule.Registry;

namespace ImageModule.Commands
{
    /// <summary>Shows the registry settings (mirrors, insecure registries, CA files) from the one settings file.</summary>
    [Cmdlet(VerbsCommon.Get, "ImageRegistrySetting")]
    [OutputType(typeof(RegistryHostSettings))]
    public sealed class GetImageRegistrySettingCommand : ImageCmdlet
    {
        /// <summary>Registries to show (wildcards); default all configured ones.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(RegistryCompleter))]
        public string[]? Registry { get; set; }

        protected override void ProcessRecord() => ForEachItem(RegistrySettings.DefaultPath, () =>
        {
            var settings = RegistrySettings.Load();
            if (Registry is null)
            {
                WriteObject(settings.Registries, enumerateCollection: true);
                return;
            }
            foreach (var name in Registry)
            {
                if (WildcardPattern.ContainsWildcardCharacters(name))
                {
                    var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                    WriteObject(settings.Registries.Where(r => pattern.IsMatch(r.Registry)), enumerateCollection: true);
                }
                else
                {
                    WriteObject(settings.For(RegistryName.Normalize(name)));
                }
            }
        });
    }

    /// <summary>
    /// Changes one registry's settings: mirrors tried first when pulling, insecure (HTTP, or HTTPS without
    /// verification), a CA certificate file to trust. -Reset removes the registry's entry.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "ImageRegistrySetting", SupportsShouldProcess = true)]
    [OutputType(typeof(RegistryHostSettings))]
    public sealed class SetImageRegistrySettingCommand : ImageCmdlet
    {
        /// <summary>Registry host[:port]; docker.io for Docker Hub.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(RegistryCompleter))]
        public string Registry { get; set; } = "";

        /// <summary>Mirrors (host[:port][/prefix]) in the order to try; an empty list removes them.</summary>
        [Parameter]
        [AllowEmptyCollection]
        public string[]? Mirror { get; set; }

        /// <summary>Allow plain HTTP or unverified TLS for this registry; -Insecure:$false turns it off again.</summary>
        [Parameter]
        public SwitchParameter Insecure { get; set; }

        /// <summary>A PEM file of CA certificates to trust for this registry; an empty string removes it.</summary>
        [Parameter]
        [AllowEmptyString]
        public string? CertificateAuthority { get; set; }

        /// <summary>Seconds to open a connection (TCP and TLS); 0 returns to the default (30).</summary>
        [Parameter]
        [ValidateRange(0, 3600)]
        public double ConnectTimeoutSeconds { get; set; }

        /// <summary>Seconds from a request to its response headers; 0 returns to the default (60).</summary>
        [Parameter]
        [ValidateRange(0, 3600)]
        public double ResponseTimeoutSeconds { get; set; }

        /// <summary>Seconds a download may receive nothing before it counts as dropped (and resumes); 0 returns to the default (60).</summary>
        [Parameter]
        [ValidateRange(0, 3600)]
        public double IdleTimeoutSeconds { get; set; }

        /// <summary>Forget every setting of this registry.</summary>
        [Parameter]
        public SwitchParameter Reset { get; set; }

        /// <summary>Output the registry's settings after the change.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            ForEachItem(Registry, () =>
            {
                var name = RegistryName.Normalize(Registry);
                var settings = RegistrySettings.Load();
                var current = settings.For(name);
                var updated = Reset ? new RegistryHostSettings(name) : current with
                {
                    Mirrors = Mirror?.Where(m => !string.IsNullOrWhiteSpace(m)).Select(m => m.Trim()).ToList() ?? current.Mirrors,
                    Insecure = MyInvocation.BoundParameters.ContainsKey(nameof(Insecure)) ? Insecure.IsPresent : current.Insecure,
                    CertificateAuthority = CertificateAuthority is null ? current.CertificateAuthority
                        : CertificateAuthority.Length == 0 ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(CertificateAuthority),
                    ConnectTimeout = Seconds(nameof(ConnectTimeoutSeconds), ConnectTimeoutSeconds, current.ConnectTimeout),
                    ResponseTimeout = Seconds(nameof(ResponseTimeoutSeconds), ResponseTimeoutSeconds, current.ResponseTimeout),
                    IdleTimeout = Seconds(nameof(IdleTimeoutSeconds), IdleTimeoutSeconds, current.IdleTimeout),
                };
                if (updated.CertificateAuthority != null && !System.IO.File.Exists(updated.CertificateAuthority))
                    throw new ImageModuleException("RegistryCertificateAuthorityUnreadable", ErrorKind.ObjectNotFound, $"The CA file {updated.CertificateAuthority} does not exist.", updated.CertificateAuthority);
                if (!ShouldProcess(name, $"Update registry settings in {settings.Path}")) return;
                var saved = settings.With(updated);
                if (PassThru) WriteObject(saved.For(name));
            });
        }

        /// <summary>A timeout given replaces the stored one (0: back to the default); one not given keeps it.</summary>
        private double? Seconds(string parameter, double given, double? current) =>
            !MyInvocation.BoundParameters.ContainsKey(parameter) ? current : given > 0 ? given : null;
    }

    internal static class RegistryName
    {
        /// <summary>"index.docker.io", "registry-1.docker.io", "https://host:5000/" → the registry as references name it.</summary>
        public static string Normalize(string text)
        {
            var trimmed = text.Trim().TrimEnd('/');
            var scheme = trimmed.IndexOf("://", System.StringComparison.Ordinal);
            if (scheme >= 0) trimmed = trimmed.Substring(scheme + 3);
            if (trimmed == "index.docker.io" || trimmed == "registry-1.docker.io") return ImageReference.DockerHub;
            return ImageReference.TryParse(trimmed + "/x", out var parsed, out _) ? parsed!.Registry : trimmed;
        }
    }
}
