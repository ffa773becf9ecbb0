"""Screens: dashboard, event box, counterparts, picker, changes, help; base: marking."""
