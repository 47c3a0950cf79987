"""survival subpackage."""
