using System.Management.Automation;
using ImageModule.Store;

namespace ImageModule.Commands
{
    /// <summary>
    /// Checks the store (podman system check, ctr content verify): every blob hashes to its name, every name reaches a
    /// readable manifest, config and layers, the cache agrees with the blobs, no staging is left that no live process
    /// owns. Writes one StoreProblem per problem, nothing when the store is sound; changes nothing.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "ImageStore")]
    [OutputType(typeof(StoreProblem))]
    public sealed class TestImageStoreCommand : StoreCmdlet
    {
        protected override void EndProcessing()
        {
            var store = EmbeddedStoreOnly();
            var problems = Run((progress, ct) => StoreChecker.CheckAsync(store, progress, ct));
            WriteVerbose(problems.Count == 0 ? $"{store.Location}: no problems found" : $"{store.Location}: {problems.Count} problem(s); Repair-ImageStore repairs them");
            WriteObject(problems, enumerateCollection: true);
        }

    }
}
