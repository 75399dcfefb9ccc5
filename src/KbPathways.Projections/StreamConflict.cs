using JasperFx;
using Npgsql;

namespace KbPathways.Projections;

/// <summary>
/// Two writers appended to one stream at once. Marten reports a failed expected-version check as a
/// <see cref="ConcurrencyException"/>; in quick-append mode two appends without an expected version (two steps of one
/// patient recording observations on the patient's stream) collide on the events' or streams' primary key instead.
/// Both mean the same: nothing was written, decide again on the fresh state.
/// </summary>
public static class StreamConflict
{
    public static bool Is(Exception e)
    {
        for (var current = e; current is not null; current = current.InnerException)
            if (current is ConcurrencyException
                || current is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "pk_mt_events_stream_and_version" or "pkey_mt_streams_id" })
                return true;
        return false;
    }
}
