using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;
using ImageModule.Store;

namespace ImageModule.Commands
{
    /// <summary>
    /// The one bridge between the async core and PowerShell's synchronous pipeline: runs core work on the thread pool,
    /// pumps its progress to WriteProgress on the pipeline thread, cancels it from StopProcessing (Ctrl+C), and maps
    /// core exceptions to ErrorRecords with stable ids.
    /// </summary>
    public abstract class ImageCmdlet : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource _cancellation = new();
        private readonly Dictionary<int, (Stopwatch Clock, int ActivityId)> _progressClocks = new();
        private static int _nextActivityId = 1000;

        protected CancellationToken CancellationToken => _cancellation.Token;

        /// <summary>
        /// What the command is doing and to what ("Pulling localhost:5000/app:1", "Loading into Docker"): the title of
        /// its progress bar, and the prefix of each item's bar ("… — layer 2/4"); the core's own wording otherwise.
        /// </summary>
        protected string? ProgressActivity { get; set; }

        protected override void StopProcessing() => _cancellation.Cancel();

        public void Dispose()
        {
            DisposeResources();
            _cancellation.Dispose();
            GC.SuppressFinalize(this);
        }

        /// <summary>Releases what a command opened (engine connections).</summary>
        protected virtual void DisposeResources() { }

        private Oci.Platform? _platform;
        private bool _platformParsed;

        /// <summary>A -Platform value is checked before any input is processed (see <see cref="PlatformParameter"/>).</summary>
        protected override void BeginProcessing()
        {
            if (MyInvocation.BoundParameters.TryGetValue("Platform", out var value) && value is string text) PlatformParameter(text);
        }

        /// <summary>
        /// The -Platform the command was given, parsed once. A value that is not os/arch[/variant] with known names stops
        /// the command as a wrong parameter does (terminating InvalidPlatform, InvalidArgument), before any item.
        /// <paramref name="orEnvironment"/>: without -Platform, DOCKER_DEFAULT_PLATFORM counts as given (docker pull and
        /// docker import read it as their --platform).
        /// </summary>
        protected Oci.Platform? PlatformParameter(string? text, bool orEnvironment = false)
        {
            if (text is null && !orEnvironment) return null;
            if (!_platformParsed)
            {
                try
                {
                    _platform = text is null ? Oci.Platform.FromEnvironment(Environment.GetEnvironmentVariable) : Oci.Platform.Parse(text);
                }
                catch (ImageModuleException e)
                {
                    ThrowTerminatingError(ToErrorRecord(e));
                }
                _platformParsed = true;
            }
            return _platform;
        }

        /// <summary>Runs core work to completion while writing its progress; rethrows its exception unwrapped.</summary>
        protected T Run<T>(Func<IProgress<OperationProgress>, CancellationToken, Task<T>> operation)
        {
            using var reports = new BlockingCollection<OperationProgress>();
            var progress = new QueueProgress(reports);
            // Narration deep in the core (retries, redirects, resumes) comes through the same queue, as verbose lines.
            var task = Task.Run(() =>
            {
                Narrator.Listen(message => progress.Report(new OperationProgress { Message = message }));
                return operation(progress, _cancellation.Token);
            });
            task.ContinueWith(_ => reports.CompleteAdding(), TaskScheduler.Default);
            try
            {
                foreach (var report in reports.GetConsumingEnumerable())
                {
                    if (report.Message != null) WriteVerbose(report.Message);
                    else WriteProgressReport(report);
                }
            }
            catch (ObjectDisposedException) { }
            finally
            {
                // WriteProgress throws PipelineStoppedException on Ctrl+C: the work must still end, and clean up
                // what it half-wrote, before the command returns.
                if (!task.IsCompleted)
                {
                    _cancellation.Cancel();
                    try { task.Wait(TimeSpan.FromSeconds(30)); } catch (AggregateException) { }
                }
            }
            CompleteAllProgress();
            try
            {
                return task.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
        }

        protected void Run(Func<IProgress<OperationProgress>, CancellationToken, Task> operation) =>
            Run<bool>(async (p, ct) => { await operation(p, ct).ConfigureAwait(false); return true; });

        private sealed class QueueProgress : IProgress<OperationProgress>
        {
            private readonly BlockingCollection<OperationProgress> _queue;
            public QueueProgress(BlockingCollection<OperationProgress> queue) => _queue = queue;

            public void Report(OperationProgress value)
            {
                try { _queue.TryAdd(value); }
                catch (InvalidOperationException) { } // completed or disposed: late reports after the task ended are dropped
            }
        }

        private void WriteProgressReport(OperationProgress report)
        {
            if (!_progressClocks.TryGetValue(report.Id, out var state))
            {
                state = (Stopwatch.StartNew(), Interlocked.Increment(ref _nextActivityId));
                _progressClocks[report.Id] = state;
            }
            var seconds = state.Clock.Elapsed.TotalSeconds;
            var rate = report.BytesDone > 0 && seconds > 0.5 ? report.BytesDone / seconds : 0;
            var activity = ProgressActivity is null ? report.Activity : report.ParentId < 0 || report.Activity.Length == 0 ? ProgressActivity : $"{ProgressActivity} — {report.Activity}";
            var record = new ProgressRecord(state.ActivityId, activity.Length > 0 ? activity : "Working", StatusText(report, rate));
            if (report.ParentId >= 0 && _progressClocks.TryGetValue(report.ParentId, out var parent)) record.ParentActivityId = parent.ActivityId;
            if (report.BytesTotal > 0)
            {
                record.PercentComplete = (int)Math.Min(100, report.BytesDone * 100 / report.BytesTotal);
                if (rate > 0) record.SecondsRemaining = (int)Math.Min(int.MaxValue, (report.BytesTotal - report.BytesDone) / rate);
            }
            if (report.Completed)
            {
                record.RecordType = ProgressRecordType.Completed;
                _progressClocks.Remove(report.Id);
            }
            WriteProgress(record);
        }

        private static string StatusText(OperationProgress report, double rate)
        {
            var status = report.Status.Length > 0 ? report.Status : "…";
            var speed = rate > 0 ? $" at {ByteSize.Format((long)rate)}/s" : "";
            if (report.BytesTotal > 0) return $"{status} {ByteSize.Format(report.BytesDone)} / {ByteSize.Format(report.BytesTotal)}{speed}";
            if (report.BytesDone > 0) return $"{status} {ByteSize.Format(report.BytesDone)}";
            return status;
        }

        private void CompleteAllProgress()
        {
            foreach (var state in _progressClocks.Values)
            {
                WriteProgress(new ProgressRecord(state.ActivityId, "Done", "Done") { RecordType = ProgressRecordType.Completed });
            }
            _progressClocks.Clear();
        }

        // ---- errors -------------------------------------------------------------------------------------------

        protected ErrorRecord ToErrorRecord(Exception exception, object? target = null)
        {
            if (exception is AggregateException { InnerExceptions.Count: 1 } aggregate) exception = aggregate.InnerException!;
            return exception switch
            {
                ImageModuleException e => new ErrorRecord(e, e.ErrorId, Category(e.Kind), target ?? e.Target),
                UnauthorizedAccessException e => new ErrorRecord(e, "AccessDenied", ErrorCategory.PermissionDenied, target),
                System.IO.IOException e => new ErrorRecord(e, "IOError", ErrorCategory.WriteError, target),
                _ => new ErrorRecord(exception, "UnexpectedError", ErrorCategory.NotSpecified, target),
            };
        }

        /// <summary>A per-item failure: reported, and the pipeline goes on.</summary>
        protected void WriteError(Exception exception, object? target = null) => WriteError(ToErrorRecord(exception, target));

        /// <summary>Runs one item's work; a core failure becomes a non-terminating error. Ctrl+C still stops everything.</summary>
        protected void ForEachItem(object? target, Action action)
        {
            try
            {
                action();
            }
            catch (Exception e) when (target != null && (e is DiskFullException || DiskFull.Is(e)))
            {
                WriteError(DiskFull.During(MyInvocation.MyCommand.Name, target, e), target);
            }
            catch (Exception e) when (e is ImageModuleException || e is System.IO.IOException || e is UnauthorizedAccessException)
            {
                WriteError(e, target);
            }
        }

        protected static ErrorCategory Category(ErrorKind kind) => kind switch
        {
            ErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
            ErrorKind.InvalidData => ErrorCategory.InvalidData,
            ErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
            ErrorKind.ResourceExists => ErrorCategory.ResourceExists,
            ErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
            ErrorKind.ConnectionError => ErrorCategory.ConnectionError,
            ErrorKind.AuthenticationError => ErrorCategory.AuthenticationError,
            ErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
            ErrorKind.QuotaExceeded => ErrorCategory.QuotaExceeded,
            ErrorKind.OperationStopped => ErrorCategory.OperationStopped,
            ErrorKind.WriteError => ErrorCategory.WriteError,
            ErrorKind.ReadError => ErrorCategory.ReadError,
            ErrorKind.InvalidOperation => ErrorCategory.InvalidOperation,
            ErrorKind.SecurityError => ErrorCategory.SecurityError,
            ErrorKind.OperationTimeout => ErrorCategory.OperationTimeout,
            _ => ErrorCategory.NotSpecified,
        };
    }
}
