"""Tests of the local CRM sandboxes."""
