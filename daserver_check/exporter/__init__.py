"""The Prometheus multi-target exporter: the HTTP server (`server`); `commands/exporter` is glue."""
