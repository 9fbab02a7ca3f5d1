using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Oci;

namespace ImageModule.Filesystem
{
    /// <summary>One layer to apply: its descriptor and a way to open its (possibly compressed) blob, which may be called more than once.</summary>
    public sealed record LayerSource(Descriptor Descriptor, Func<CancellationToken, Task<Stream>> Open);
}
