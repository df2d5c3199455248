"""Run history: every run's verdicts and figures in a SQLite file, read back as tables,
regressions and trend plots."""
