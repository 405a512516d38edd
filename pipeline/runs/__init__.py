"""The run layer: what a user's command or click sets going, over the workspace (`workspace`: the folders,
the database, published forms). It calls the stages and the store, and owns every side effect:

- `ingest/`: the nightly ingest (batch, collate into sheets, quarantine, browser uploads);
- `review`: the review queue and the human decisions; `responses`: online and hand-entered responses;
- `reporting` (a period's report, archived), `export`, `dashboard`;
- `editing` (the report-first rule), `survey_edit` (the survey editor), `accounts` (users and logins).

Entry points: the CLI (`pipeline.cli`) and the web app (`pipeline.web`) call these, never the stages' side
effects directly.
"""
