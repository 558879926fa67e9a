"""Validation of the warehouse: pandera schemas of raw layouts (`schemas`), GX suites over the marts (`expectations`)."""
