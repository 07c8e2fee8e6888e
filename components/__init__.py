"""webstack's ComponentResources, one per file."""
