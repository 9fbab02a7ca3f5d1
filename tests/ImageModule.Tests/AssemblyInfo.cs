using Xunit;

// Each session points $env:IMAGEMODULE_STORE at its own store, and the environment is per process.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
