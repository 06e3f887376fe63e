"""Instagram comments source (issue in progress)."""
