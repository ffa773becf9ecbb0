"""The domain: the trip model, loading and validation, time arithmetic, schedules.

Nothing in this package imports textual (a test enforces it), so the command
line verbs start fast and the logic is testable without a terminal.
"""
