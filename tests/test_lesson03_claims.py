"""Lesson 03's claims, held against the multi-seed record it reads (tests/conftest.py: `record`)."""
