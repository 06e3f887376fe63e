"""Shared Meta Graph API client used by the facebook and instagram plugins."""
