"""pytest plugin: collects scenario files as test items (hooks only; state on the session)."""
