"""tripdash: a keyboard-driven terminal dashboard for a delegation's trip programme."""

__version__ = "0.1.0"
