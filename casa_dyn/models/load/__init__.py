"""Load models."""
