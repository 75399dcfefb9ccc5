using System.Runtime.CompilerServices;
using KbPathways.Testing;

namespace KbPathways.Host.Tests;

/// <summary>
/// Every in-process host of a test run signs and validates with one development key, kept in a scratch folder of the
/// run instead of the user's data folder and removed when the run ends. One for the whole process, because the
/// variable is process-wide: hosts of test classes running in parallel read it whenever they first need their key, so
/// a folder per class ended up holding another class's key after that class had removed its folder.
/// </summary>
internal static class DevelopmentKeyForTests
{
    [ModuleInitializer]
    internal static void Use()
    {
        var scratch = new ScratchDirectory("testkey").WithDevelopmentKey();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => scratch.Dispose();
    }
}
