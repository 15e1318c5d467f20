"""Generator models."""
