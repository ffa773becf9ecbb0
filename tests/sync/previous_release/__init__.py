"""The previous release of the sync and the store, for compatibility tests."""
