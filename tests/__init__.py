"""Test suite: one file per module, plus end-to-end round trips."""
