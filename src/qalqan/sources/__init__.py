"""List readers. Each yields `qalqan.model.Entity` and reports bad records in a `Report`."""
