"""cohorts subpackage."""
