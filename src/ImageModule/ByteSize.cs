using System.Globalization;

namespace ImageModule.Commands
{
    /// <summary>Human sizes the way docker prints them (decimal units: 7.8MB, 1.2GB).</summary>
    public static class ByteSize
    {
        private static readonly string[] Units = { "B", "kB", "MB", "GB", "TB", "PB" };

        public static string Format(long bytes)
        {
            double value = bytes;
            var unit = 0;
            while (value >= 1000 && unit < Units.Length - 1)
            {
                value /= 1000;
                unit++;
            }
            var text = unit == 0 ? value.ToString("0", CultureInfo.InvariantCulture)
                : value.ToString(value < 10 ? "0.##" : value < 100 ? "0.#" : "0", CultureInfo.InvariantCulture);
            return text + Units[unit];
        }
    }
}
