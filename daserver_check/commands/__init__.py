"""Orchestration: one module per subcommand, wiring stages, analysis and profile."""
