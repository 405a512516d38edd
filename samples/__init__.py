"""Test tooling: realistic filled-in scans of our forms, with ground truth.

Not part of the `pipeline` package and never imported by it. It reads only what a workspace publishes
(frozen geometry, resolved layout, printable PDF) plus the renderer, so the truth it writes always agrees
with the geometry the reader uses. Entry points: `samples.generate.generate_set` and
`python -m samples.generate`; see samples/README.md.
"""
