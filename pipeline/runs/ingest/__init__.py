"""The ingest run: scan files from the inbox (or named paths) → pages read in a pool of reader processes →
sheets collated → one transaction per file → the original archived, or quarantined with its reason.

In the order a file goes through it: `inbox` (the run's lock; which files are complete) → `filing.admit`
(readable? read before?) → `readers` (the pool: each page decoded, identified, registered, read, pictured) →
`collate` (pages → sheets, one transaction) → `filing.judge` and `filing.file_away` (archive, duplicate or
quarantine: decided and done in that one module). `batch` runs it all; `quarantine` retries or discards what
was not read; `uploads` takes scans uploaded in the browser.
"""
