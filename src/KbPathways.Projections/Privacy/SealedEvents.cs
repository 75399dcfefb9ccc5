using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
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
        private const string Envelope = "Sealed";
        private readonly JsonObject erasedValues = JsonNode.Parse(erased)!.AsObject();
        private readonly ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> plain = new();

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
        {
            var node = JsonSerializer.SerializeToNode(value, Plain(options))!.AsObject();
            var personal = new JsonObject();
            foreach (var (name, _) in erasedValues)
                if (node.Remove(name, out var field)) personal[name] = field;
            var key = keyFor(value, keys);
            var sealedBytes = key.Seal(JsonSerializer.SerializeToUtf8Bytes(personal), PatientKeyRing.Associated(typeof(T).Name, key.Pseudonym));
            node[Envelope] = new JsonObject { ["Key"] = key.Pseudonym, ["Data"] = Convert.ToBase64String(sealedBytes) };
            node.WriteTo(writer);
            opened?.Invoke(value, key, keys);
        }

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var node = JsonNode.Parse(ref reader)!.AsObject();
            PatientKey? key = null;
            if (node.Remove(Envelope, out var envelope) && envelope is JsonObject sealedPart) // events from before sealing are read as they are
            {
                var pseudonym = sealedPart["Key"]!.GetValue<Guid>();
                key = keys.ByPseudonym(pseudonym);
                var personal = key is null ? erasedValues
                    : JsonNode.Parse(key.Open(Convert.FromBase64String(sealedPart["Data"]!.GetValue<string>()),
                        PatientKeyRing.Associated(typeof(T).Name, pseudonym)))!.AsObject();
                foreach (var (name, value) in personal) node[name] = value?.DeepClone();
            }
            var result = node.Deserialize<T>(Plain(options))!;
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
