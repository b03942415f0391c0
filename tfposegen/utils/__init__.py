"""Small helpers shared by the systems: atomic file writes and progress display."""
