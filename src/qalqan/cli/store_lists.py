"""Placeholder: commands are added here."""
