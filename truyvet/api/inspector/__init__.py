"""The inspector's page (``/inspector/``): a district inspection team's campaign queue, the
inspection form, campaigns and the report."""
