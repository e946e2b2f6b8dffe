"""Monitoring domain logic, free of I/O: list diffs, the alert lifecycle, the delta re-screen and
the audit hash chain. The application services in `qalqan.service` persist what it decides."""
