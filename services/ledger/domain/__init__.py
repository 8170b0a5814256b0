"""The ledger's rules: accounts, postings and what each mode posts. Standard library only."""
