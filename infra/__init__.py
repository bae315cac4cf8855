"""Local real infrastructure for development and tests (see infra/kafka/README.md)."""
