"""Helpers for the browser tests: a waitress server in a thread and Debian's Chromium driven by Playwright."""
