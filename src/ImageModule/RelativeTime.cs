using System;

namespace ImageModule.Commands
{
    /// <summary>"2 weeks ago", as docker images prints CREATED; never wider than 14 characters (the views' column).</summary>
    public static class RelativeTime
    {
        public static string Format(DateTimeOffset? time) => time is null ? "N/A" : Format(DateTimeOffset.UtcNow - time.Value);

        public static string Format(TimeSpan age)
        {
            // docker says "Less than a second ago"; too wide for the column, and "Just now" says the same.
            if (age.TotalSeconds < 1) return "Just now";
            if (age.TotalSeconds < 60) return Plural((int)age.TotalSeconds, "second");
            if (age.TotalMinutes < 60) return Plural((int)age.TotalMinutes, "minute");
            if (age.TotalHours < 48) return Plural((int)age.TotalHours, "hour");
            if (age.TotalDays < 14) return Plural((int)age.TotalDays, "day");
            if (age.TotalDays < 60) return Plural((int)(age.TotalDays / 7), "week");
            if (age.TotalDays < 730) return Plural((int)(age.TotalDays / 30), "month");
            return Plural((int)(age.TotalDays / 365), "year");
        }

        private static string Plural(int n, string unit) => n == 1
            ? (unit == "hour" ? "An hour ago" : $"1 {unit} ago")
            : $"{n} {unit}s ago";
    }
}
