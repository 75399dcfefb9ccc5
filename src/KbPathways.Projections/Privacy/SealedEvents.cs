using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using KbPathways.Domain.Patients;
using KbPathways.Domain.Trajectories;

namespace KbPathways.Projections.Privacy;

/// <summary>
/// The events that carry personal data, and which of their fields are personal. In the store those fields travel
/// sealed with the patient's key, next to the pseudonym that names the key; everything else (ids, states, triggers,
/// times, actors) stays in clear so the quality cycle keeps working after an erasure. Read back without a key, the
/// personal fields come out empty (<see cref="ErasedPatientId"/> for the patient id).
/// </summary>
public static class SealedEvents
{
    public const string ErasedPatientId = "";

    /// <summary>The property that holds a sealed event's pseudonym (<c>Key</c>) and its sealed personal fields.</summary>
    public const string Envelope = "Sealed";

    public static IEnumerable<JsonConverter> Converters(PatientKeyRing keys) =>
    [
        new SealedConverter<TrajectoryStarted>(keys, """{"PatientId":"","Data":{}}""",
            (e, ring) => ring.GetOrCreate(e.Practice, e.PatientId), (e, key, ring) => ring.Bind(e.TrajectoryId, key.Pseudonym)),
        new SealedConverter<StepTaken>(keys, """{"Data":{},"Scores":{},"Decision":[],"Warnings":[]}""",
            (e, ring) => ring.ForTrajectory(e.TrajectoryId)),
        new SealedConverter<ObservationRecorded>(keys, """{"PatientId":"","Answers":null,"Score":null}""",
            (e, ring) => ring.GetOrCreate(e.Practice, e.PatientId)),
        new SealedConverter<KbMarkPlaced>(keys, """{"PatientId":"","Reason":""}""", (e, ring) => ring.GetOrCreate(e.Practice, e.PatientId)),
        new SealedConverter<KbMarkRemoved>(keys, """{"PatientId":"","Reason":""}""", (e, ring) => ring.GetOrCreate(e.Practice, e.PatientId)),
    ];

    private interface ISealedConverter;

    /// <param name="erased">The personal fields (by their stored names) with the values they read as once erased.</param>
    private sealed class SealedConverter<T>(PatientKeyRing keys, string erased, Func<T, PatientKeyRing, PatientKey> keyFor,
        Action<T, PatientKey, PatientKeyRing>? opened = null) : JsonConverter<T>, ISealedConverter
    {
        private readonly byte[] erasedValues = Encoding.UTF8.GetBytes(erased);
        private readonly HashSet<string> personal = [.. JsonDocument.Parse(erased).RootElement.EnumerateObject().Select(p => p.Name)];
        private readonly ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> plain = new();

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
        {
            using var whole = JsonSerializer.SerializeToDocument(value, Plain(options));
            var personalPart = new ArrayBufferWriter<byte>(256);
            using (var inner = new Utf8JsonWriter(personalPart))
            {
                inner.WriteStartObject();
                foreach (var property in whole.RootElement.EnumerateObject())
                    if (personal.Contains(property.Name)) property.WriteTo(inner);
                inner.WriteEndObject();
            }
            var key = keyFor(value, keys);
            var sealedBytes = key.Seal(personalPart.WrittenSpan, PatientKeyRing.Associated(typeof(T).Name, key.Pseudonym));
            writer.WriteStartObject();
            foreach (var property in whole.RootElement.EnumerateObject())
                if (!personal.Contains(property.Name)) property.WriteTo(writer);
            writer.WriteStartObject(Envelope);
            writer.WriteString("Key", key.Pseudonym);
            writer.WriteBase64String("Data", sealedBytes);
            writer.WriteEndObject();
            writer.WriteEndObject();
            opened?.Invoke(value, key, keys);
        }

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            using var stored = JsonDocument.ParseValue(ref reader);
            var root = stored.RootElement;
            if (!root.TryGetProperty(Envelope, out var envelope)) return root.Deserialize<T>(Plain(options))!; // from before sealing
            var pseudonym = envelope.GetProperty("Key").GetGuid();
            var key = keys.ByPseudonym(pseudonym);
            using var personalPart = JsonDocument.Parse(key is null ? erasedValues
                : key.Open(envelope.GetProperty("Data").GetBytesFromBase64(), PatientKeyRing.Associated(typeof(T).Name, pseudonym)));
            var merged = new ArrayBufferWriter<byte>(1024);
            using (var writer = new Utf8JsonWriter(merged))
            {
                writer.WriteStartObject();
                foreach (var property in root.EnumerateObject())
                    if (!property.NameEquals(Envelope)) property.WriteTo(writer);
                foreach (var property in personalPart.RootElement.EnumerateObject()) property.WriteTo(writer);
                writer.WriteEndObject();
            }
            var result = JsonSerializer.Deserialize<T>(merged.WrittenSpan, Plain(options))!;
            if (key is not null) opened?.Invoke(result, key, keys);
            return result;
        }

        /// <summary>The store's options without the sealing converters: how the event is written inside the envelope.</summary>
        private JsonSerializerOptions Plain(JsonSerializerOptions options) => plain.GetValue(options, o =>
        {
            var copy = new JsonSerializerOptions(o);
            foreach (var converter in copy.Converters.Where(c => c is ISealedConverter).ToList()) copy.Converters.Remove(converter);
            return copy;
        });
    }
}
