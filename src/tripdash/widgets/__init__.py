"""Widgets: the timeline, the details pane and the header."""
