"""The watched repository and its API catalog: Git access, apiops.yaml, the estate index, commit and branch planning."""
