"""Statistics that know nothing of the study: functions over numpy arrays and plain pandas frames."""
