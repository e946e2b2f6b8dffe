"""The matching engine: candidate index, features, scorer, calibration."""
