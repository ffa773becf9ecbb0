"""Widgets: the timeline, details pane, header, key bar and talking points list."""
