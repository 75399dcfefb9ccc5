using System.Text.Json;
using KbPathways.Domain.Pathways;
using KbPathways.Domain.Pathways.Engine;
using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Domain.Tests;

/// <summary>Guards in three-valued logic: a comparison on data the step has yet to receive is unknown, not false.</summary>
public class GuardEvaluatorTests
{
    private static readonly SourceLocation Here = new("test.yaml", 1, 1);

    // ja = true, nee = false, open = unknown (the field is pending in this step)
    private static readonly GuardContext Context = new(
        new Dictionary<string, JsonElement> { ["ja"] = JsonSerializer.SerializeToElement(true), ["nee"] = JsonSerializer.SerializeToElement(true) },
        new Dictionary<string, InstrumentScore>(), new Dictionary<string, int>(), new HashSet<string> { "open" });

    private static Guard Part(string which) => which == "nee"
        ? new Guard.Compare(new Operand(OperandKind.Field, "nee", FieldType.Boolean), CompareOp.Eq, [false], Here)
        : new Guard.Compare(new Operand(OperandKind.Field, which, FieldType.Boolean), CompareOp.Eq, [true], Here);

    [Theory]
    [InlineData("ja,ja", true, true)]
    [InlineData("ja,nee", false, true)]
    [InlineData("nee,ja", false, true)]
    [InlineData("nee,nee", false, false)]
    [InlineData("ja,open", null, true)]
    [InlineData("open,ja", null, true)]
    [InlineData("nee,open", false, null)]
    [InlineData("open,nee", false, null)]
    [InlineData("open,open", null, null)]
    public void Given_parts_that_hold_fail_or_wait_When_combined_Then_and_and_or_follow_three_valued_logic(string parts, bool? and, bool? or)
    {
        var guards = parts.Split(',').Select(Part).ToList();

        new GuardEvaluator(Context).Evaluate(new Guard.All(guards, Here)).ShouldBe(and);
        new GuardEvaluator(Context).Evaluate(new Guard.Any(guards, Here)).ShouldBe(or);
        new GuardEvaluator(Context).Evaluate(new Guard.Not(new Guard.All(guards, Here), Here)).ShouldBe(!and);
    }

    [Fact]
    public void Given_an_evaluator_that_only_decides_When_it_evaluates_Then_it_keeps_no_traces_and_decides_the_same()
    {
        var guard = new Guard.Any([Part("nee"), Part("ja")], Here);
        var traced = new GuardEvaluator(Context);
        var untraced = new GuardEvaluator(Context, traced: false);

        untraced.Evaluate(guard).ShouldBe(traced.Evaluate(guard));
        traced.Traces.Select(t => t.Result).ShouldBe([false, true], "every part is evaluated and explained, in order");
        untraced.Traces.ShouldBeEmpty();
    }

    [Fact]
    public void Given_a_step_value_over_a_trajectory_value_When_guards_read_them_layered_Then_the_step_value_wins_and_nothing_is_counted_twice()
    {
        var below = new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 };
        var top = new Dictionary<string, int> { ["b"] = 20, ["c"] = 30 };

        var layered = Layered<int>.Over(top, below);

        layered["b"].ShouldBe(20);
        layered["a"].ShouldBe(1);
        layered.TryGetValue("d", out _).ShouldBeFalse();
        layered.Count.ShouldBe(3);
        layered.OrderBy(p => p.Key).ShouldBe([new("a", 1), new("b", 20), new("c", 30)]);
        layered.Keys.Order().ShouldBe(["a", "b", "c"]);
        Layered<int>.Over(new Dictionary<string, int>(), below).ShouldBeSameAs(below);
    }
}
