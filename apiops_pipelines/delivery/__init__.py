"""What is deployed where: staging, the canary and production, the release ledger."""
