"""The ingest run: scan files from the inbox (or named paths) → pages read in a pool of reader processes →
sheets collated → one transaction per file → the original archived, or quarantined with its reason
(`batch`, `collate`); retrying and discarding quarantined items (`quarantine`); scans uploaded in the
browser (`uploads`)."""
