"""Small deterministic processors and scripts shared by the tests (importable as `helpers`)."""
