"""The Textual terminal UI: `zaspot tui` and `zaspot demo`."""
