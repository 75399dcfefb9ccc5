using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace KbPathways.Projections.Privacy;

/// <summary>
/// Listens on <see cref="PatientKeyRing.ErasureChannel"/> so a key erased on another host leaves this host's memory
/// as soon as the erasure commits. While the channel is down nothing cached is trusted: the ring is emptied when the
/// connection is lost and again when it is back (an erasure in between cannot have been heard). Every erasure also
/// empties the practices held in memory (<see cref="PracticeSnapshots"/>) and the trajectory states kept for the next
/// command (<see cref="TrajectoryStates"/>), so an erased patient's data does not stay there until it is next read.
/// </summary>
public sealed class ErasureListener(PatientKeyRing keys, PracticeSnapshots snapshots, TrajectoryStates states, ILogger<ErasureListener> logger) : BackgroundService
{
    private readonly TaskCompletionSource listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the channel is first listened to.</summary>
    public Task Listening => listening.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await keys.DataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) =>
                {
                    states.Clear();
                    if (Guid.TryParse(e.Payload, out var pseudonym)) keys.Forget(pseudonym);
                    snapshots.Clear();
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {PatientKeyRing.ErasureChannel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                states.Clear();
                keys.ForgetAll();
                snapshots.Clear();
                listening.TrySetResult();
                while (true) await connection.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or IOException or TimeoutException)
            {
                states.Clear();
                keys.ForgetAll();
                snapshots.Clear();
                logger.LogWarning("Erasure channel lost ({ExceptionType}); cached patient keys dropped, reconnecting", e.GetType().Name);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
