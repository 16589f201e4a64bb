"""The command line: click commands, Rich output, one place that turns errors into exit codes."""
