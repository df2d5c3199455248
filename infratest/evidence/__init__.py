"""Evidence bundles: one folder with a run's results, reports, inputs, environment and the
target's model lineage, under a SHA-256 manifest an auditor can check (`infratest verify`)."""
