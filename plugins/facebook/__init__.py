"""Facebook Page comments source (issue in progress)."""
