"""Reading progress: the coordinator's dashboard by reader, center, split and day."""
