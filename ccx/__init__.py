"""The composition root: settings, the CLI, and the one place that wires ports to adapters."""
