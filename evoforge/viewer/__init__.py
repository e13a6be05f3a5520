"""See a run: one data extraction (SQLite -> plain data) shared by the static report and the live page."""
