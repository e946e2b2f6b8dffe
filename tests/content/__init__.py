"""Tests of qalqan.content."""
