using System;
using System.IO;

namespace ImageModule.EndToEnd
{
    /// <summary>Filesystem tarballs made with the system's tar from real files: busybox plus incompressible data.</summary>
    public static class Rootfs
    {
        public static string Create(string directory, string name, int randomMegabytes, int seed)
        {
            var root = Path.Combine(directory, name + "-rootfs");
            Directory.CreateDirectory(Path.Combine(root, "bin"));
            Directory.CreateDirectory(Path.Combine(root, "data"));
            if (File.Exists("/bin/busybox")) File.Copy("/bin/busybox", Path.Combine(root, "bin", "busybox"));
            var random = new Random(seed);
            using (var file = File.Create(Path.Combine(root, "data", "random.bin")))
            {
                var block = new byte[1 << 20];
                for (var i = 0; i < randomMegabytes; i++)
                {
                    random.NextBytes(block);
                    file.Write(block, 0, block.Length);
                }
            }
            File.WriteAllText(Path.Combine(root, "etc-hostname"), name + "\n");
            var tar = Path.Combine(directory, name + ".tar");
            ExternalTool.Run("tar", "-C", root, "-cf", tar, ".");
            Directory.Delete(root, recursive: true);
            return tar;
        }
    }
}
