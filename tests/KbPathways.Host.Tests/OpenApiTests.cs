using System.Text.Json;
using KbPathways.Host.Api;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace KbPathways.Host.Tests;

/// <summary>The OpenAPI document is valid (read and validated by Microsoft.OpenApi) and describes every route with its statuses.</summary>
[Collection(HostCollection.Name)]
public class OpenApiTests(HostFixture host)
{
    private static readonly string[] Infrastructure = ["/health", "/openapi", "/api-docs"];

    private async Task<(string Json, OpenApiDocument Document)> Document()
    {
        var json = await (await host.Client("any").GetAsync("/openapi/v1.json")).Content.ReadAsStringAsync();
        var read = OpenApiDocument.Parse(json, "json");
        read.Diagnostic!.Errors.ShouldBeEmpty(string.Join(" | ", read.Diagnostic.Errors.Select(e => $"{e.Pointer}: {e.Message}")));
        return (json, read.Document!);
    }

    [Fact]
    public async Task Given_the_document_When_read_by_an_OpenAPI_reader_Then_it_validates_without_errors()
    {
        var (_, document) = await Document();

        var errors = document.Validate(ValidationRuleSet.GetDefaultRuleSet())?.ToList() ?? [];

        errors.ShouldBeEmpty(string.Join(" | ", errors.Select(e => $"{e.Pointer}: {e.Message}")));
        document.Components!.SecuritySchemes!.ShouldContainKey("Bearer");
    }

    [Fact]
    public async Task Given_the_live_route_table_Then_every_route_is_documented_with_a_readable_id_a_summary_and_every_status()
    {
        var (json, _) = await Document();
        var paths = JsonDocument.Parse(json).RootElement.GetProperty("paths");
        var live = host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (Method: m, Path: "/" + e.RoutePattern.RawText!.TrimStart('/'))))
            .Where(r => !Infrastructure.Any(r.Path.StartsWith))
            .ToList();
        live.Select(r => $"{r.Method} {r.Path}").Order().ShouldBe(ApiDescriptions.Routes.Select(r => $"{r.Method} {r.Path}").Order());

        foreach (var route in ApiDescriptions.Routes)
        {
            var operation = paths.GetProperty(route.Path).GetProperty(route.Method.ToLowerInvariant());
            operation.GetProperty("operationId").GetString().ShouldBe(route.OperationId);
            route.OperationId.ShouldMatch("^[a-z][A-Za-z]+$");
            operation.GetProperty("summary").GetString().ShouldNotBeNullOrWhiteSpace();
            var statuses = operation.GetProperty("responses").EnumerateObject().Select(r => int.Parse(r.Name)).Order().ToList();
            var expected = route.Errors.Concat(route.Path.StartsWith("/api/") ? ApiDescriptions.Always : []).Append(route.Success).Distinct().Order().ToList();
            statuses.ShouldBe(expected, $"{route.Method} {route.Path}");
            foreach (var error in route.Errors)
                operation.GetProperty("responses").GetProperty(error.ToString()).GetProperty("content").TryGetProperty("application/problem+json", out _)
                    .ShouldBeTrue($"{route.Method} {route.Path} {error}");
        }
        ApiDescriptions.Routes.Select(r => r.OperationId).ShouldBeUnique();
        var fire = paths.GetProperty("/api/trajectories/{id}/fire").GetProperty("post");
        fire.GetProperty("parameters").EnumerateArray().ShouldContain(p => p.GetProperty("name").GetString() == "Idempotency-Key" && p.GetProperty("in").GetString() == "header");
        // The answer is typed (the trajectory with its actions), not {} as before.
        fire.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema")
            .GetProperty("properties").TryGetProperty("actions", out _).ShouldBeTrue();
        paths.GetProperty("/api/trajectories").GetProperty("post").GetProperty("responses").TryGetProperty("201", out _).ShouldBeTrue();
    }
}
