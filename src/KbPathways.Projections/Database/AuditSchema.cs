namespace KbPathways.Projections.Database;

/// <summary>
/// The NEN 7513 access log's tables, in their own schema owned by a role nobody logs in as. The application's role
/// gets SELECT and INSERT only, so it cannot change or remove a record (and cannot drop or truncate the tables);
/// the seal chain (see the host's AccessLogStore) detects what a database administrator changes.
/// </summary>
public static class AuditSchema
{
    public const string Schema = "kbpathways_audit";
    public const string Owner = "kbpathways_audit";
    public const string Log = Schema + ".access_log";
    public const string Seal = Schema + ".access_log_seal";

    /// <summary>Creates the schema and tables (owned by whoever runs it). Idempotent.</summary>
    public const string CreateTables = $"""
        CREATE SCHEMA IF NOT EXISTS {Schema};
        CREATE TABLE IF NOT EXISTS {Log} (
          seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL, action char(1) NOT NULL,
          event_type text NOT NULL, patient text NULL, object text NULL, user_id text NULL, on_behalf_of text NULL,
          practice text NULL, access_point text NOT NULL, authorised boolean NOT NULL, treatment_relation boolean NULL,
          consent boolean NULL, emergency boolean NOT NULL, status int NOT NULL);
        -- a response may name thousands of patients (a dashboard): index each one, not the whole list
        CREATE INDEX IF NOT EXISTS access_log_patients ON {Log} USING gin (string_to_array(patient, ','));
        CREATE INDEX IF NOT EXISTS access_log_user ON {Log} (practice, user_id);
        CREATE TABLE IF NOT EXISTS {Seal} (
          position bigint PRIMARY KEY, seq bigint NOT NULL UNIQUE, prev_hash text NOT NULL, hash text NOT NULL,
          sealed_at timestamptz NOT NULL DEFAULT now(), mac text NULL);
        """;

    /// <summary>Brings a log made before seals were signed up to date (its owner or a superuser runs it). Idempotent.</summary>
    public const string AddSignatures = $"ALTER TABLE {Seal} ADD COLUMN IF NOT EXISTS mac text NULL;";

    /// <summary>
    /// Run by an administrator (superuser or CREATEROLE): creates the owner role and the tables, gives them to it,
    /// and lets <paramref name="appRole"/> read and append, nothing else.
    /// </summary>
    public static string Provision(string appRole) => $"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{Owner}') THEN CREATE ROLE {Owner} NOLOGIN; END IF;
        END $$;
        {CreateTables}
        {AddSignatures}
        ALTER SCHEMA {Schema} OWNER TO {Owner};
        ALTER TABLE {Log} OWNER TO {Owner};
        ALTER TABLE {Seal} OWNER TO {Owner};
        REVOKE ALL ON {Log}, {Seal} FROM PUBLIC;
        GRANT USAGE ON SCHEMA {Schema} TO "{appRole}";
        GRANT SELECT, INSERT ON {Log}, {Seal} TO "{appRole}";
        """;
}
