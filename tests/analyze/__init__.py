"""Tests for relcrm.analyze."""
