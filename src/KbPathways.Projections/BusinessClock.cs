namespace KbPathways.Projections;

/// <summary>
/// Business time for decisions and deadlines. Its own type (not the container's TimeProvider, which the web server
/// uses for its own timeouts) so that tests and replays can move it without moving the infrastructure's clock.
/// </summary>
public sealed class BusinessClock(TimeProvider time)
{
    public static readonly BusinessClock System = new(TimeProvider.System);

    public DateTimeOffset Now => time.GetUtcNow();
}
