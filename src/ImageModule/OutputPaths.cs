using System.IO;
using System.Management.Automation;

namespace ImageModule.Commands
{
    /// <summary>Files and directories a command writes: where they may go, and the objects that report them.</summary>
    internal static class OutputPaths
    {
        /// <summary>
        /// A file goes only into a directory that exists, as Out-File and Set-Content refuse a missing one: a typo in
        /// the directory must not silently create a tree somewhere else. Null when the parent exists.
        /// </summary>
        public static ImageModuleException? MissingParent(string path)
        {
            var parent = Path.GetDirectoryName(Path.GetFullPath(path));
            if (string.IsNullOrEmpty(parent) || Directory.Exists(parent)) return null;
            return new ImageModuleException("DirectoryNotFound", ErrorKind.ObjectNotFound,
                $"Cannot write '{path}': the directory '{parent}' does not exist. Create it first (New-Item -ItemType Directory).", path);
        }

        /// <summary>
        /// The written file or directory as Get-Item shows it: read now (after the write), through the provider, so
        /// it carries PSPath, PSProvider and the rest the file-system view needs for its Mode and Size columns; a bare
        /// FileInfo shows those blank.
        /// </summary>
        public static object Item(PSCmdlet cmdlet, string path)
        {
            var items = cmdlet.SessionState.InvokeProvider.Item.Get(new[] { path }, true, true);
            return items.Count == 1 ? items[0] : (object)(Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path));
        }
    }
}
