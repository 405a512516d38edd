"""The frozen records that flow between stages, above `base` only: a form's layout as the office wrote it
(`layout`, validated against `schemas/layout.schema.json`), its frozen printed geometry (`form_geometry`),
what a page code says (`page_code`), what the reader learnt from a page (`reading`), the office's data
(`office`) and how box states and human verdicts become answers (`answers`)."""
