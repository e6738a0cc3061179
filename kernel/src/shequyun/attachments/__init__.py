"""The attachment store: files checked at the door, kept once by content, read by scope."""
