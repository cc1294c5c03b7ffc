"""Utilities that belong to no app and import none: CSV export, phone numbers, rate limits.

Every app may import from here; nothing here imports an app (tests/test_layers.py checks it).
"""
