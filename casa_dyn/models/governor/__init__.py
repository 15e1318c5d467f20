"""Governor models."""
