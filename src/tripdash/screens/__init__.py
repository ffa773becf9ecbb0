"""Screens: the dashboard, event details, the trip picker and help."""
