"""synthetic subpackage."""
