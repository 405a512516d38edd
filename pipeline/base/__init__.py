"""The shared base every layer may use: the settings module (`config`, every tuned constant with its unit
in the name), the exceptions and their exit codes (`errors`), plain page geometry in points (`geometry`)
and the bundled typeface (`typeface`). It imports nothing else of the project."""
