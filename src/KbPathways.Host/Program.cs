using KbPathways.Host.Cli;

// The command line: README.md, 'Commands'; 'help' lists them.
return await KbCommandLine.RunAsync(args);
