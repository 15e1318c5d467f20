"""Exciter models."""
