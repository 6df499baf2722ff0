"""The spec quality gates on one API at one commit or on files: validation, governance lint, the pact-vs-spec
check and the breaking-change diff, with every finding located in the source file it comes from.

Plain Python: the `apiops` CLI and the Dagster assets call the same functions."""
