"""Lesson 04's claims, held against the multi-seed record it reads (tests/conftest.py: `record`)."""
