namespace ImageModule.Store
{
    /// <summary>The error of a command that needs an image's blobs when the image is listed as Incomplete or Corrupt.</summary>
    public static class DamagedImage
    {
        public const string ErrorId = "ImageDamaged";

        public static ImageModuleException Error(string image, ImageStatus status, string? problem) =>
            new(ErrorId, ErrorKind.InvalidData,
                $"Image {image} is {status}: {problem}. Test-ImageStore lists what is wrong; Repair-ImageStore fetches missing or corrupt blobs again (-SourcePath for an archive that has them) or removes the name.",
                image);
    }
}
