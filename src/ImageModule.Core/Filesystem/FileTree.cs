using System;
using System.Collections.Generic;
using System.Linq;

namespace ImageModule.Filesystem
{
    /// <summary>
    /// The final file set of an image, computed from entry headers only: layers applied in order, each layer's whiteouts
    /// hitting only lower layers (image-spec layer.md). Holds which layer and which entry of it last wrote every path.
    /// </summary>
    internal sealed class FileTree
    {
        internal sealed record Node(TarHeader Header, int Layer, int Ordinal);

        private readonly Dictionary<string, Node> _nodes = new(StringComparer.Ordinal);
        private readonly Dictionary<string, HashSet<string>> _children = new(StringComparer.Ordinal);

        public IReadOnlyDictionary<string, Node> Nodes => _nodes;

        /// <summary>Applies one layer given as (normalised path, header, ordinal) in archive order.</summary>
        public void ApplyLayer(int layer, IReadOnlyList<(string Path, TarHeader Header, int Ordinal)> entries)
        {
            // Deletions first: a whiteout never removes what its own layer adds.
            foreach (var (path, _, _) in entries)
            {
                var victim = Whiteout.Target(path, out var opaque);
                if (victim == null) continue;
                if (opaque) RemoveChildren(victim);
                else Remove(victim);
            }
            foreach (var (path, header, ordinal) in entries)
            {
                if (path.Length == 0 || Whiteout.Target(path, out _) != null) continue;
                if (_nodes.TryGetValue(path, out var old) && old.Header.Type == TarEntryType.Directory && header.Type != TarEntryType.Directory)
                    RemoveChildren(path);
                _nodes[path] = new Node(header, layer, ordinal);
                var parent = EntryPath.Parent(path);
                if (!_children.TryGetValue(parent, out var set)) _children[parent] = set = new HashSet<string>(StringComparer.Ordinal);
                set.Add(path);
            }
        }

        private void Remove(string path)
        {
            RemoveChildren(path);
            _nodes.Remove(path);
            if (_children.TryGetValue(EntryPath.Parent(path), out var set)) set.Remove(path);
        }

        private void RemoveChildren(string path)
        {
            if (!_children.TryGetValue(path, out var set)) return;
            foreach (var child in set.ToList())
            {
                RemoveChildren(child);
                _nodes.Remove(child);
            }
            _children.Remove(path);
        }
    }
}
