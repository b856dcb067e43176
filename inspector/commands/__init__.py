"""One module per subcommand: argument wiring, running, and the command's own report."""
