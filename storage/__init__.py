"""Persistence of the approval workflow: SQLModel tables, unit of work, audit chain, outbox."""
