"""Pss models."""
